"""`write`: a dataset to disk as a delivery plus truth, deterministic to the byte.

The inputs go to `bag.parquet`, `connections.parquet` or `connections.csv`, `consumption.parquet`;
the truth to `truth/links.parquet` and `truth/connections.parquet`; what made them to
`manifest.json`. The CSV imitates a grid operator's export on purpose, so that ingestion is
exercised on it: `;`-separated, Windows-1252, CRLF line ends, UPPER-CASE headers.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import polars as pl

from synth.dataset import SynthDataset
from synth.manifest import Counts, Run, write_manifest

CSV_ENCODING = "cp1252"
CSV_CHUNK_ROWS = 500_000
FORMATS = ("parquet", "csv")


def output_paths(out_dir: Path, connections_format: str) -> dict[str, Path]:
    """Where each frame of a run goes (folders created); the manifest is `manifest.json` beside them."""
    if connections_format not in FORMATS:
        raise ValueError(f"connections_format must be one of {', '.join(FORMATS)}, got {connections_format!r}")
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    return {
        "bag": out_dir / "bag.parquet",
        "connections": out_dir / f"connections.{connections_format}",
        "consumption": out_dir / "consumption.parquet",
        "truth_links": out_dir / "truth" / "links.parquet",
        "truth_connections": out_dir / "truth" / "connections.parquet",
    }


def write(dataset: SynthDataset, out_dir: Path, connections_format: str = "parquet") -> dict[str, Path]:
    """Write all files into out_dir (created if missing); returns name -> path of every file."""
    paths = output_paths(out_dir, connections_format)
    for name, frame in dataset.frames.items():
        if paths[name].suffix == ".csv":
            write_operator_csv(frame, paths[name])
        else:
            frame.write_parquet(paths[name], compression="zstd", statistics=True)
    run = Run(dataset.n_objects, dataset.seed, dataset.year, dataset.noise)
    return finish(paths, Path(out_dir), run, Counts.of(dataset), dataset.gemeenten)


def finish(
    paths: dict[str, Path], out_dir: Path, run: Run, counts: Counts, gemeenten: list[dict[str, object]]
) -> dict[str, Path]:
    """Write the manifest of the files in `paths`; returns `paths` with the manifest added."""
    paths = {**paths, "manifest": out_dir / "manifest.json"}
    files = {name: path.relative_to(out_dir).as_posix() for name, path in paths.items()}
    write_manifest(paths["manifest"], run, files, counts, gemeenten)
    return paths


def write_operator_csv(frame: pl.DataFrame, path: Path) -> None:
    """A grid operator's export: `;`, Windows-1252, CRLF, upper-case headers. Raises
    UnicodeEncodeError if a value cannot be written in Windows-1252 (the generator's vocabulary
    never produces one)."""
    with path.open("wb") as handle:
        append_operator_csv(frame, handle, include_header=True)


def append_operator_csv(frame: pl.DataFrame, handle: BinaryIO, include_header: bool) -> None:
    """Rows of the operator's export, written in slices so that ten million rows never sit in
    memory as one string; the header only if asked (the first part of a file)."""
    upper = frame.rename({name: name.upper() for name in frame.columns})
    for start in range(0, max(upper.height, 1), CSV_CHUNK_ROWS):
        text = upper.slice(start, CSV_CHUNK_ROWS).write_csv(
            separator=";",
            include_header=include_header and start == 0,
            line_terminator="\r\n",
        )
        handle.write(text.encode(CSV_ENCODING))
