"""A large delivery runs each step in a process of its own (`engine.isolate_steps_from_mb`): the
same outputs as a run in one process, the same terminal, and a failure that leaves the last good
run as it was. Here forced with the threshold at 0 on a small delivery."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.config import RunConfig, with_settings
from tests.paths import PROJECT_ROOT
from tests.runs import GoodRun, command, tree

ISOLATED = ("--set", "engine.isolate_steps_from_mb=0")

# The public tables and per-connection outputs both runs must agree on.
COMPARED = (
    "links.parquet",
    "residue.parquet",
    "quarantine.parquet",
    "public/sector_energy_statistics.parquet",
    "public/sector_energy_uncertainty.parquet",
)


def _isolated_run(good: GoodRun, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(good.delivery, out, *ISOLATED, *extra),
        env=good.environment(),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=900,
    )


def test_a_run_of_isolated_steps_gives_the_outputs_of_a_run_in_one_process(
    good_small_run: GoodRun, tmp_path: Path
) -> None:
    out = tmp_path / "isolated"
    done = _isolated_run(good_small_run, out)
    assert done.returncode == 0, done.stderr
    for name in COMPARED:
        assert_frame_equal(pl.read_parquet(out / name), pl.read_parquet(good_small_run.out / name))
    # the terminal: one line per asset step, as a run in one process prints, and no Dagster debug lines
    steps = re.findall(r"^koppelwerk: step (\w+) \(", done.stderr, flags=re.MULTILINE)
    assert len(steps) == len(set(steps)) and {"link_connections", "fix_impact", "promoted_outputs"} <= set(steps)
    assert " - DEBUG - " not in done.stderr
    assert "koppelwerk:   link_connections: Splink scoring" in done.stderr  # phases from the step's process
    # every step ran in a process of its own, and logged to the run's one log
    (log,) = (good_small_run.data / "logs").glob(f"{_run_id(done.stderr)}.log")
    started = re.findall(r" - (\d+) - (\w+) - STEP_START - ", log.read_text())
    assert len({pid for pid, _ in started}) == len(started) >= len(steps)


def test_a_failing_isolated_step_is_one_line_and_leaves_the_last_good_run(
    good_small_run: GoodRun, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(good_small_run.out, out)
    before = tree(out)
    done = _isolated_run(good_small_run, out, "--year", "1999")  # raised in the ingestion step's process
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("koppelwerk: error: ") and "1999" in last and "Traceback" not in done.stderr
    assert tree(out) == before
    assert not (out / ".staging").exists()


def _run_id(stderr: str) -> str:
    found = re.search(r"^koppelwerk: run ([0-9a-f-]{36}), log ", stderr, flags=re.MULTILINE)
    assert found, stderr
    return found.group(1)


@pytest.mark.parametrize(("threshold_mb", "isolated"), [(0.0, True), (1.0, True), (1e6, False)])
def test_steps_are_isolated_from_a_delivery_size_on(tmp_path: Path, threshold_mb: float, isolated: bool) -> None:
    paths = {name: tmp_path / f"{name}.parquet" for name in ("bag", "connections", "consumption")}
    for path in paths.values():
        path.write_bytes(b"x" * 400_000)  # 1.2 MB together
    config = with_settings(
        RunConfig(**paths, out_dir=tmp_path / "out"), [f"engine.isolate_steps_from_mb={threshold_mb}"]
    )
    assert config.isolates_steps is isolated
