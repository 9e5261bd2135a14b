"""One pipeline run per configuration, shared by the end-to-end tests that need a good run.

`good_small_run` (a session fixture in conftest) runs `koppelwerk run` once, in its own process,
on a small synthetic delivery; every test that needs "the last good run" of that configuration
(the atomic-run and blocking-check tests) copies it instead of running the pipeline again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import synth
from core.config import DATA_DIR_VARIABLE
from tests.paths import PROJECT_ROOT

SMALL_OBJECTS, SMALL_SEED = 800, 77


@dataclass(frozen=True)
class GoodRun:
    """A delivery folder, the output folder of one good run of it, and the operator data folder
    (warehouses, run logs) and Dagster home that run used."""

    delivery: Path
    out: Path
    data: Path
    home: Path

    def environment(self) -> dict[str, str]:
        return {**os.environ, DATA_DIR_VARIABLE: str(self.data), "DAGSTER_HOME": str(self.home)}


def run_arguments(delivery: Path, out: Path, *extra: str) -> list[str]:
    """`koppelwerk run`'s arguments for a delivery folder as `synth.write` lays it out (CSV register)."""
    return [
        "run",
        "--bag",
        str(delivery / "bag.parquet"),
        "--connections",
        str(delivery / "connections.csv"),
        "--consumption",
        str(delivery / "consumption.parquet"),
        "--out",
        str(out),
        *extra,
    ]


def command(delivery: Path, out: Path, *extra: str) -> list[str]:
    """The same run as a command for a process of its own."""
    return [sys.executable, "-m", "koppelwerk.cli", *run_arguments(delivery, out, *extra)]


def make_good_run(root: Path) -> GoodRun:
    delivery = root / "delivery"
    synth.write(synth.generate(SMALL_OBJECTS, seed=SMALL_SEED), delivery, connections_format="csv")
    run = GoodRun(delivery, root / "good", root / "data", root / "dagster_home")
    subprocess.run(
        command(delivery, run.out),
        env=run.environment(),
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=600,
    )
    return run


def tree(root: Path) -> dict[str, str]:
    """Every output file with a hash of its bytes; a killed or failed run's `.staging/` (which
    marks the folder as holding an incomplete run, set aside by the next run) is not an output."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != ".staging"
    }
