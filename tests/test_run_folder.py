"""The run folder's promotion: staged outputs replace the last good run's only as a whole, and a
kill between any two of its renames is finished by the next run, never left half-done."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from core.run_folder import RunFolder, discard, folder_key, promote, recover


def _tree(root: Path) -> dict[str, str]:
    """Every file under `root` with a hash of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _stage(folder: RunFolder, label: str) -> None:
    """A run's outputs as the job stages them, and its warehouse."""
    folder.open()
    (folder.staging / "links.parquet").write_text(f"links of {label}")
    (folder.public).mkdir()
    (folder.public / "sector_energy_statistics.parquet").write_text(f"statistics of {label}")
    (folder.staging / "reports" / "netbeheerder").mkdir(parents=True)
    (folder.staging / "reports" / "netbeheerder" / "a.json").write_text(f"report of {label}")
    folder.staging_warehouse.parent.mkdir(parents=True, exist_ok=True)
    folder.staging_warehouse.write_text(f"warehouse of {label}")


def _good_run(out: Path, data: Path, run_id: str) -> RunFolder:
    folder = RunFolder(out, data, run_id)
    _stage(folder, run_id)
    promote(folder, {"run_id": run_id})
    return folder


def test_promotion_replaces_the_outputs_and_keeps_the_last_good_run_as_previous(tmp_path: Path) -> None:
    out, data = tmp_path / "out", tmp_path / "data"
    first = _good_run(out, data, "run-1")
    assert (out / "links.parquet").read_text() == "links of run-1"
    assert not (out / "previous").exists() and not (out / ".staging").exists()
    assert first.warehouse.read_text() == "warehouse of run-1"

    _good_run(out, data, "run-2")
    assert (out / "public" / "sector_energy_statistics.parquet").read_text() == "statistics of run-2"
    assert (out / "previous" / "public" / "sector_energy_statistics.parquet").read_text() == "statistics of run-1"
    assert json.loads((out / "previous" / "manifest.json").read_text())["run_id"] == "run-1"
    assert not (out / "previous" / "previous").exists()  # one generation only

    _good_run(out, data, "run-3")
    assert (out / "previous" / "links.parquet").read_text() == "links of run-2"
    assert first.warehouse.read_text() == "warehouse of run-3"


class _Killed(Exception):
    pass


@pytest.mark.parametrize("renames_before_kill", range(12))
def test_a_kill_between_any_two_renames_of_a_promotion_is_finished_by_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, renames_before_kill: int
) -> None:
    """Promote run-2 over run-1 uninterrupted in one folder; in another, stop the promotion after
    `renames_before_kill` renames, then recover: both folders end up the same."""
    expected_out, data = tmp_path / "expected", tmp_path / "data"
    _good_run(expected_out, data, "run-1")
    _good_run(expected_out, data, "run-2")

    out = tmp_path / "out"
    _good_run(out, data, "run-1")
    interrupted = RunFolder(out, data, "run-2")
    _stage(interrupted, "run-2")
    real_replace, calls = Path.replace, []

    def replace(self: Path, target: Path) -> Path:
        if len(calls) == renames_before_kill:
            raise _Killed
        calls.append(self)
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    try:
        promote(interrupted, {"run_id": "run-2"})
        completed = True
    except _Killed:
        completed = False
    monkeypatch.setattr(Path, "replace", real_replace)

    recover(out, data)
    assert _tree(out) == _tree(expected_out)
    assert interrupted.warehouse.read_text() == "warehouse of run-2"
    if completed:  # the promotion needed fewer renames than this
        assert len(calls) <= renames_before_kill


def test_recovery_sets_aside_a_killed_runs_staging_and_leaves_a_live_one(tmp_path: Path) -> None:
    out, data = tmp_path / "out", tmp_path / "data"
    _good_run(out, data, "run-1")
    before = _tree(out)
    killed = RunFolder(out, data, "killed")
    _stage(killed, "killed")
    (killed.staging / ".owner.json").write_text(json.dumps({"pid": 2**22 + 12345, "run_id": "killed"}))
    live = RunFolder(out, data, "live")
    _stage(live, "live")  # owned by this (living) process

    assert recover(out, data) == ["killed"]
    assert not killed.staging.exists() and not killed.staging_warehouse.exists()
    assert (killed.failed / "links.parquet").read_text() == "links of killed"
    assert live.staging.exists()
    discard(live)
    assert _tree(out) == before


def test_folder_keys_are_readable_and_never_shared(tmp_path: Path) -> None:
    a, b = tmp_path / "x" / "out", tmp_path / "y" / "out"
    assert folder_key(a).startswith("out-") and folder_key(a) != folder_key(b)
    assert folder_key(a) == folder_key(a)
    odd = tmp_path / ("Énergie uitvoer " * 10)
    assert len(folder_key(odd)) <= 51 and os.sep not in folder_key(odd)
