"""The run folder: where a run writes, and how its outputs replace the previous good run's.

A run never writes into its output folder `DIR` directly. It writes into a staging folder
`DIR/.staging/<run id>/` (and its warehouse into the operator's data folder, never into `DIR`),
and only the last step of the job, which runs once every blocking check has passed, moves the
staged files into place (`promote`). So a run that fails, or is killed at any moment before
that step, leaves what an earlier successful run wrote exactly as it was; `previous/` turns over
only on success.

    DIR/
      manifest.json            run id, code version, configuration, checksums of inputs and outputs
      links.parquet, residue.parquet, quarantine.parquet, ...   per connection: internal
      quality/, reports/       validation results, Data Docs, one report per source holder
      public/                  only what may leave the organisation
      previous/                the previous good run, in the same layout
      .staging/<run id>/       a run in progress (or one that was killed: set aside by the next run)

Promotion is a handful of renames on one file system. A kill in the middle of them leaves a
`.promoting` marker in the staging folder; the next run into `DIR` (or a reader calling
`recover`) finishes the promotion before anything else, so `DIR` is never left half-replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

STAGING = ".staging"
PUBLIC = "public"
PREVIOUS = "previous"
MANIFEST = "manifest.json"
_OWNER = ".owner.json"
_PROMOTING = ".promoting"
_PREVIOUS_STAGED = ".previous"
_BOOKKEEPING = frozenset({_OWNER, _PROMOTING, _PREVIOUS_STAGED})
# Entries of DIR that belong to the folder itself, not to one run's outputs.
_FOLDER_ENTRIES = frozenset({STAGING, PREVIOUS})


def folder_key(path: Path) -> str:
    """A readable, unique name for an output folder: its name as ASCII plus a hash of its full
    path, so two folders called `out` in different places never share a warehouse."""
    resolved = str(path.resolve())
    name = unicodedata.normalize("NFKD", path.resolve().name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:40] or "out"
    return f"{slug}-{hashlib.sha256(resolved.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class RunFolder:
    """The paths of one run into `out_dir`, with its warehouse in `data_dir`."""

    out_dir: Path
    data_dir: Path
    run_id: str

    @property
    def staging(self) -> Path:
        """Where this run writes its output files until they are promoted."""
        return self.out_dir / STAGING / self.run_id

    @property
    def public(self) -> Path:
        """The staged `public/` folder: only what may leave the organisation."""
        return self.staging / PUBLIC

    @property
    def warehouse(self) -> Path:
        """The output folder's DuckDB warehouse, as the last good run left it."""
        return self.data_dir / "warehouses" / f"{folder_key(self.out_dir)}.duckdb"

    @property
    def staging_warehouse(self) -> Path:
        """This run's warehouse until promotion."""
        return self.data_dir / "warehouses" / STAGING / f"{self.run_id}.duckdb"

    @property
    def failed(self) -> Path:
        """Where the staged files of this run are kept if it fails or is killed."""
        return self.data_dir / "failed" / self.run_id

    @property
    def log(self) -> Path:
        """The run's full log: tracebacks and every Dagster event, kept off the terminal."""
        return self.data_dir / "logs" / f"{self.run_id}.log"

    def current(self, *parts: str) -> Path:
        """A path in the output folder as the last good run left it (e.g. its reports, to
        compare with)."""
        return self.out_dir.joinpath(*parts)

    def open(self) -> Path:
        """Create the staging folder (idempotent) and record which process owns it."""
        if not self.staging.exists():
            self.staging.mkdir(parents=True)
            (self.staging / _OWNER).write_text(json.dumps({"pid": os.getpid(), "run_id": self.run_id}))
        return self.staging


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _move(source: Path, target: Path) -> None:
    """Replace `target` by `source` (file or folder) with renames on one file system."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    source.replace(target)


def _run_entries(folder: Path) -> list[Path]:
    """A folder's entries that belong to one run (not `previous/`, not staging bookkeeping)."""
    return sorted(p for p in folder.iterdir() if p.name not in _FOLDER_ENTRIES | _BOOKKEEPING)


def _finish_promotion(folder: RunFolder) -> None:
    """Steps 2-4 of `promote`. The marker holds the phase reached, so that after a kill at any
    point the steps can be repeated: in phase `aside` every run entry of `out_dir` is still the
    old run's; in phase `in` every old entry has been set aside."""
    staging, out_dir = folder.staging, folder.out_dir
    marker, kept = staging / _PROMOTING, staging / _PREVIOUS_STAGED
    if marker.read_text() == "aside":
        kept.mkdir(exist_ok=True)
        for entry in _run_entries(out_dir):
            entry.replace(kept / entry.name)
        marker.write_text("in")
    for entry in _run_entries(staging):
        entry.replace(out_dir / entry.name)
    if folder.staging_warehouse.exists():
        folder.warehouse.parent.mkdir(parents=True, exist_ok=True)
        folder.staging_warehouse.replace(folder.warehouse)
    if kept.exists() and any(kept.iterdir()):
        _move(kept, out_dir / PREVIOUS)
    shutil.rmtree(staging)
    if not any(staging.parent.iterdir()):
        staging.parent.rmdir()


def promote(folder: RunFolder, manifest: dict[str, Any]) -> None:
    """Move the staged outputs into `out_dir`: 1. write the manifest and the `.promoting` marker;
    2. set the last good run's outputs aside; 3. move the staged ones in, and the warehouse into
    place; 4. the outputs set aside become `previous/`."""
    (folder.staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    (folder.staging / _PROMOTING).write_text("aside")
    _finish_promotion(folder)


def recover(out_dir: Path, data_dir: Path) -> list[str]:
    """Finish a promotion a kill interrupted, and set aside the staging folders of runs whose
    process is gone (killed runs: they never touched the outputs). Returns the run
    ids whose folders were set aside (`RunFolder.failed`)."""
    root = out_dir / STAGING
    if not root.is_dir():
        return []
    removed = []
    for staging in sorted(root.iterdir()):
        folder = RunFolder(out_dir, data_dir, staging.name)
        if (staging / _PROMOTING).exists():
            _finish_promotion(folder)
            continue
        try:
            owner = json.loads((staging / _OWNER).read_text())["pid"]
        except (OSError, ValueError, KeyError):
            owner = None
        if owner is not None and _alive(owner):
            continue  # a run in progress
        discard(folder)
        removed.append(staging.name)
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()
    return removed


def discard(folder: RunFolder) -> None:
    """Set a failed run's staged files aside in the data folder (`failed`), for diagnosis: the
    validation results and Data Docs of a delivery that broke a blocking rule are there. Its
    staging warehouse is removed."""
    if folder.staging.exists() and not (folder.staging / _PROMOTING).exists():
        folder.failed.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder.staging, folder.failed)
        parent = folder.staging.parent
        if parent.exists() and not any(parent.iterdir()):
            parent.rmdir()
    folder.staging_warehouse.unlink(missing_ok=True)


def sha256(path: Path) -> str:
    """Checksum of a file, read in blocks (inputs can be many GB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path -> sha256), folder bookkeeping left out."""
    return {
        str(path.relative_to(root)): sha256(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != MANIFEST and not _BOOKKEEPING & set(path.relative_to(root).parts)
    }


# The checkout this code runs from, if it does: an installed wheel has no `.git` beside it.
SOURCE_ROOT = Path(__file__).resolve().parents[1]


def code_version(project_root: Path = SOURCE_ROOT) -> str:
    """The package version, and the git commit when the code runs from a checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version("koppelwerk")
    except PackageNotFoundError:
        text = "unknown"
    head = project_root / ".git" / "HEAD"
    if head.is_file():
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref_file = project_root / ".git" / ref[5:]
            ref = ref_file.read_text().strip() if ref_file.is_file() else _packed_ref(project_root, ref[5:])
        text += f"+git.{ref[:12]}" if ref else ""
    return text


def _packed_ref(project_root: Path, name: str) -> str:
    packed = project_root / ".git" / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + name):
                return line.split(" ", 1)[0]
    return ""


def run_manifest(folder: RunFolder, configuration: dict[str, Any], inputs: dict[str, Path]) -> dict[str, Any]:
    """What an output folder holds and how it was made: run id, code version, configuration, a
    checksum of each input and of each output file."""
    from datetime import datetime

    return {
        "run_id": folder.run_id,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "configuration": configuration,
        "inputs": {
            kind: {"path": str(path), "bytes": path.stat().st_size, "sha256": sha256(path)}
            for kind, path in inputs.items()
        },
        "warehouse": str(folder.warehouse),
        "outputs": file_checksums(folder.staging),
    }
