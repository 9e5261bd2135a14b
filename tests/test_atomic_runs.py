"""A run that fails, or is killed in any stage, leaves the last good run's outputs byte for byte
as they were; the next run into the folder then works as if nothing had happened.

Each kill is a real signal to a real `koppelwerk run` process, sent when the run reports (on its
stderr progress line) that it started the stage."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
from pathlib import Path

import polars as pl
import pytest

from core.run_folder import folder_key
from pipelines.loggers import PROGRESS_PREFIX
from tests.paths import PROJECT_ROOT
from tests.runs import GoodRun, command, tree

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


def _copy_of_good_small_run(good_small_run: GoodRun, out: Path) -> None:
    """The good run's folder at another place, with its warehouse where that folder keeps it."""
    shutil.copytree(good_small_run.out, out)
    warehouses = good_small_run.data / "warehouses"
    shutil.copy(warehouses / f"{folder_key(good_small_run.out)}.duckdb", warehouses / f"{folder_key(out)}.duckdb")


def _warehouse(good_small_run: GoodRun, out: Path) -> str:
    return hashlib.sha256((good_small_run.data / "warehouses" / f"{folder_key(out)}.duckdb").read_bytes()).hexdigest()


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
def test_a_run_killed_in_any_stage_leaves_the_good_small_run_untouched(
    good_small_run: GoodRun, tmp_path: Path, stage: str, sig: signal.Signals
) -> None:
    out = tmp_path / "out"
    _copy_of_good_small_run(good_small_run, out)
    before, warehouse_before = tree(out), _warehouse(good_small_run, out)
    process = subprocess.Popen(
        command(good_small_run.delivery, out),
        env=good_small_run.environment(),
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
    assert tree(out) == before
    assert _warehouse(good_small_run, out) == warehouse_before


def test_after_a_kill_the_next_run_gives_what_an_uninterrupted_run_gives(
    good_small_run: GoodRun, tmp_path: Path
) -> None:
    """Killed as it starts writing its outputs, then run again."""
    out = tmp_path / "out"
    _copy_of_good_small_run(good_small_run, out)
    before = tree(out)
    env = good_small_run.environment()
    process = subprocess.Popen(
        command(good_small_run.delivery, out),
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
    assert tree(out) == before

    subprocess.run(
        command(good_small_run.delivery, out), env=env, check=True, capture_output=True, cwd=PROJECT_ROOT, timeout=300
    )
    assert not (out / ".staging").exists()
    good, again = tree(good_small_run.out), tree(out)
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
        == hashlib.sha256((good_small_run.delivery / "connections.csv").read_bytes()).hexdigest()
    )


def test_a_failing_run_leaves_the_good_small_run_untouched(good_small_run: GoodRun, tmp_path: Path) -> None:
    """A delivery that breaks a blocking contract rule (every huisnummer unparseable)."""
    out = tmp_path / "out"
    _copy_of_good_small_run(good_small_run, out)
    before = tree(out)
    delivery = tmp_path / "delivery"
    shutil.copytree(good_small_run.delivery, delivery)
    connections = pl.read_csv(delivery / "connections.csv", separator=";", encoding="cp1252", infer_schema=False)
    connections.with_columns(HUISNUMMER="nr. " + pl.col("HUISNUMMER")).write_csv(
        delivery / "connections.csv", separator=";"
    )
    result = subprocess.run(
        command(delivery, out),
        env=good_small_run.environment(),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("koppelwerk: error: ") and "connections_type_huisnummer" in last
    assert "Traceback" not in result.stderr
    assert tree(out) == before
