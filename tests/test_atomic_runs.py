"""A run that fails, or is killed in any stage, leaves the last good run's outputs byte for byte
as they were; the next run into the folder then works as if nothing had happened.

Each kill is a real signal to a real `koppelwerk run` process, sent when the run reports (on its
stderr progress line) that it started the stage."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import synth
from core.run_folder import folder_key
from pipelines.loggers import PROGRESS_PREFIX
from tests.paths import PROJECT_ROOT

# Deterministic outputs: the same delivery run twice gives these files byte for byte. (The
# manifest, run summary and HTML reports name the run and its time.)
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


def _tree(root: Path) -> dict[str, str]:
    """Every output file with a hash of its bytes; a killed run's `.staging/` (which marks the
    folder as holding an incomplete run, set aside by the next run) is not an output."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != ".staging"
    }


def _command(delivery: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "koppelwerk.cli",
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


def _environment(data_dir: Path, dagster_home: Path) -> dict[str, str]:
    return {**os.environ, "KOPPELWERK_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(dagster_home)}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A delivery and one good, uninterrupted run of it."""
    root = tmp_path_factory.mktemp("atomic")
    delivery = root / "delivery"
    synth.write(synth.generate(800, seed=77), delivery, connections_format="csv")
    paths = {"delivery": delivery, "out": root / "good", "data": root / "data", "home": root / "dagster_home"}
    subprocess.run(
        _command(delivery, paths["out"]),
        env=_environment(paths["data"], paths["home"]),
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    return paths


def _copy_of_good_run(good_run: dict[str, Path], out: Path) -> None:
    """The good run's folder at another place, with its warehouse where that folder keeps it."""
    shutil.copytree(good_run["out"], out)
    warehouses = good_run["data"] / "warehouses"
    shutil.copy(warehouses / f"{folder_key(good_run['out'])}.duckdb", warehouses / f"{folder_key(out)}.duckdb")


def _warehouse(good_run: dict[str, Path], out: Path) -> str:
    return hashlib.sha256((good_run["data"] / "warehouses" / f"{folder_key(out)}.duckdb").read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("stage", "sig"),
    [
        ("ingest_connections", signal.SIGKILL),
        ("delivery_validation", signal.SIGKILL),
        ("link_connections", signal.SIGTERM),
        ("sector_energy_statistics", signal.SIGKILL),
        ("source_holder_reports", signal.SIGINT),
        ("promoted_outputs", signal.SIGKILL),
    ],
)
def test_a_run_killed_in_any_stage_leaves_the_good_run_untouched(
    good_run: dict[str, Path], tmp_path: Path, stage: str, sig: signal.Signals
) -> None:
    out = tmp_path / "out"
    _copy_of_good_run(good_run, out)
    before, warehouse_before = _tree(out), _warehouse(good_run, out)
    process = subprocess.Popen(
        _command(good_run["delivery"], out),
        env=_environment(good_run["data"], good_run["home"]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        for line in process.stderr:  # type: ignore[union-attr]
            if line.startswith(f"{PROGRESS_PREFIX}{stage} "):
                process.send_signal(sig)
                break
        else:
            pytest.fail(f"the run ended (exit {process.wait()}) before stage {stage}")
        code = process.wait(timeout=120)
    finally:
        process.kill()
    assert code != 0
    assert _tree(out) == before
    assert _warehouse(good_run, out) == warehouse_before


def test_after_a_kill_the_next_run_gives_what_an_uninterrupted_run_gives(
    good_run: dict[str, Path], tmp_path: Path
) -> None:
    """Killed as it starts writing its outputs, then run again."""
    out = tmp_path / "out"
    _copy_of_good_run(good_run, out)
    before = _tree(out)
    env = _environment(good_run["data"], good_run["home"])
    process = subprocess.Popen(
        _command(good_run["delivery"], out),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    for line in process.stderr:  # type: ignore[union-attr]
        if line.startswith(f"{PROGRESS_PREFIX}published_outputs "):
            process.kill()
            break
    process.wait(timeout=60)
    assert (out / ".staging").exists()  # what the killed run staged
    assert _tree(out) == before

    subprocess.run(
        _command(good_run["delivery"], out), env=env, check=True, capture_output=True, cwd=PROJECT_ROOT, timeout=300
    )
    assert not (out / ".staging").exists()
    good, again = _tree(good_run["out"]), _tree(out)
    for name in DETERMINISTIC:
        assert again[name] == good[name], name
    # the good run became previous/, whole
    assert {f"previous/{name}": digest for name, digest in good.items()} == {
        name: digest for name, digest in again.items() if name.startswith("previous/")
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["outputs"]["links.parquet"] == again["links.parquet"]
    assert (
        manifest["inputs"]["connections"]["sha256"]
        == hashlib.sha256((good_run["delivery"] / "connections.csv").read_bytes()).hexdigest()
    )


def test_a_failing_run_leaves_the_good_run_untouched(good_run: dict[str, Path], tmp_path: Path) -> None:
    """A delivery that breaks a blocking contract rule (every huisnummer unparseable)."""
    out = tmp_path / "out"
    _copy_of_good_run(good_run, out)
    before = _tree(out)
    delivery = tmp_path / "delivery"
    shutil.copytree(good_run["delivery"], delivery)
    connections = pl.read_csv(delivery / "connections.csv", separator=";", encoding="cp1252", infer_schema=False)
    connections.with_columns(HUISNUMMER="nr. " + pl.col("HUISNUMMER")).write_csv(
        delivery / "connections.csv", separator=";"
    )
    result = subprocess.run(
        _command(delivery, out),
        env=_environment(good_run["data"], good_run["home"]),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("koppelwerk: error: ") and "connections_type_huisnummer" in last
    assert "Traceback" not in result.stderr
    assert _tree(out) == before
