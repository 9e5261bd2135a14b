"""The bundled sample, run as `make run` runs it: twice, in two processes, the same bytes; and
nothing in `public/` that identifies a connection or gives its consumption away."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from leak_scan import ScanInputs, scan_public

from core.config import DATA_DIR_VARIABLE
from ingestion import read_delivery
from tests.paths import PROJECT_ROOT, SAMPLE_DIR

# What the same inputs and configuration must reproduce byte for byte (the manifest, run
# summary and HTML pages name the run and its time).
DETERMINISTIC = (
    "links.parquet",
    "residue.parquet",
    "quarantine.parquet",
    "linkage_curve.parquet",
    "residue_summary.parquet",
    "linkage_model.json",
    "public/sector_energy_statistics.parquet",
    "public/sector_energy_uncertainty.parquet",
)
SAMPLE_ARGS = [
    "--bag",
    str(SAMPLE_DIR / "bag.parquet"),
    "--connections",
    str(SAMPLE_DIR / "connections.csv"),
    "--consumption",
    str(SAMPLE_DIR / "consumption.parquet"),
]


def _sample_run(out: Path, data: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, DATA_DIR_VARIABLE: str(data), "DAGSTER_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "koppelwerk.cli", "run", *SAMPLE_ARGS, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=600,
    )


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


def test_nothing_in_public_identifies_a_connection_or_gives_its_consumption_away(
    two_runs: tuple[Path, Path, str],
) -> None:
    first, _, _ = two_runs
    assert sorted(p.name for p in (first / "public").iterdir()) == [
        "analyst_report.html",
        "sector_energy_statistics.parquet",
        "sector_energy_uncertainty.parquet",
    ]
    inputs = ScanInputs(
        bag=read_delivery("bag", SAMPLE_DIR / "bag.parquet").frame,
        connections=read_delivery("connections", SAMPLE_DIR / "connections.csv").frame,
        consumption=read_delivery("consumption", SAMPLE_DIR / "consumption.parquet").frame,
        links=pl.read_parquet(first / "links.parquet"),
        residue=pl.read_parquet(first / "residue.parquet"),
    )
    assert scan_public(first / "public", inputs) == []
    # the scanner does see a leak planted in the same folder
    planted = first.parent / "planted"
    shutil.copytree(first / "public", planted)
    one = inputs.consumption.row(0, named=True)
    page = planted / "analyst_report.html"
    page.write_text(
        page.read_text(encoding="utf-8").replace("</body>", f"<p>{one['ean']}</p></body>"), encoding="utf-8"
    )
    assert any(one["ean"] in finding for finding in scan_public(planted, inputs))
