"""The bundled sample, run as `make run` runs it: twice, in two processes, the same bytes; and
nothing in `public/` that identifies a connection or gives its consumption away."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from koppelwerk.config import DATA_DIR_VARIABLE, PROJECT_ROOT, SAMPLE_DIR

# What the same inputs and configuration must reproduce byte for byte (the manifest, run
# summary and HTML pages name the run and its time).
DETERMINISTIC = ("links.parquet", "residue.parquet", "quarantine.parquet", "linkage_curve.parquet",
                 "residue_summary.parquet", "linkage_model.json", "public/sector_energy_statistics.parquet",
                 "public/sector_energy_uncertainty.parquet")
SAMPLE_ARGS = ["--bag", str(SAMPLE_DIR / "bag.parquet"), "--connections", str(SAMPLE_DIR / "connections.csv"),
               "--consumption", str(SAMPLE_DIR / "consumption.parquet")]


def _sample_run(out: Path, data: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, DATA_DIR_VARIABLE: str(data), "DAGSTER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "koppelwerk.cli", "run", *SAMPLE_ARGS, "--out", str(out)], env=env,
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("sample_runs")
    first = _sample_run(root / "first", root / "data_1", root / "home_1")
    second = _sample_run(root / "second", root / "data_2", root / "home_2")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    return root / "first", root / "second", first.stderr + second.stderr


def test_the_same_inputs_give_byte_identical_outputs(two_runs: tuple[Path, Path, str]) -> None:
    first, second, _ = two_runs
    for name in DETERMINISTIC:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_the_terminal_gets_progress_and_warnings_only(two_runs: tuple[Path, Path, str]) -> None:
    _, _, stderr = two_runs
    assert "Traceback" not in stderr
    for line in stderr.splitlines():
        assert line.startswith("koppelwerk: "), line
