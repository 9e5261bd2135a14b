"""`write`: a dataset to disk as a delivery plus truth, deterministic to the byte.

The inputs go to `bag.parquet`, `connections.parquet` or `connections.csv`, `consumption.parquet`;
the truth to `truth/links.parquet` and `truth/connections.parquet`; what made them to
`manifest.json`. The CSV imitates a grid operator's export on purpose, so that ingestion is
exercised on it: `;`-separated, Windows-1252, CRLF line ends, UPPER-CASE headers.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from synth.dataset import SynthDataset

CSV_ENCODING = "cp1252"
CSV_CHUNK_ROWS = 500_000
FORMATS = ("parquet", "csv")


def write(dataset: SynthDataset, out_dir: Path, connections_format: str = "parquet") -> dict[str, Path]:
    """Write all files into out_dir (created if missing); returns name -> path of every file."""
    if connections_format not in FORMATS:
        raise ValueError(f"connections_format must be one of {', '.join(FORMATS)}, got {connections_format!r}")
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    paths = {
        "bag": out_dir / "bag.parquet",
        "connections": out_dir / f"connections.{connections_format}",
        "consumption": out_dir / "consumption.parquet",
        "truth_links": out_dir / "truth" / "links.parquet",
        "truth_connections": out_dir / "truth" / "connections.parquet",
    }
    for name, frame in dataset.frames.items():
        if paths[name].suffix == ".csv":
            write_operator_csv(frame, paths[name])
        else:
            frame.write_parquet(paths[name], compression="zstd", statistics=True)
    paths["manifest"] = out_dir / "manifest.json"
    manifest = _manifest(dataset, {name: path.relative_to(out_dir).as_posix() for name, path in paths.items()})
    paths["manifest"].write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


def write_operator_csv(frame: pl.DataFrame, path: Path) -> None:
    """A grid operator's export: `;`, Windows-1252, CRLF, upper-case headers; written in chunks
    so that ten million rows never sit in memory as one string. Raises UnicodeEncodeError if a
    value cannot be written in Windows-1252 (the generator's vocabulary never produces one)."""
    upper = frame.rename({name: name.upper() for name in frame.columns})
    with path.open("wb") as handle:
        for start in range(0, max(upper.height, 1), CSV_CHUNK_ROWS):
            text = upper.slice(start, CSV_CHUNK_ROWS).write_csv(
                separator=";",
                include_header=start == 0,
                line_terminator="\r\n",
            )
            handle.write(text.encode(CSV_ENCODING))


def _manifest(dataset: SynthDataset, files: dict[str, str]) -> dict[str, object]:
    """What produced the files and how many of what they hold (no timestamps: byte-identical)."""
    truth = dataset.truth_connections
    noise_counts: dict[str, int] = {}
    for combination, count in truth["noise"].value_counts().iter_rows():
        for kind in filter(None, combination.split(";")):
            noise_counts[kind] = noise_counts.get(kind, 0) + count
    return {
        "n_objects": dataset.n_objects,
        "seed": dataset.seed,
        "year": dataset.year,
        "noise": dataset.noise.as_dict(),
        "files": files,
        "counts": {
            "bag_rows": dataset.bag.height,
            "objects": dataset.bag["object_id"].n_unique(),
            "connections": dataset.connections.height,
            "connections_by_product": _counts(dataset.connections["product"]),
            "consumption_rows": dataset.consumption.height,
            "truth_links": dataset.truth_links.height,
            "true_class": _counts(truth["true_class"]),
            "noise": dict(sorted(noise_counts.items())),
        },
        "gemeenten": dataset.gemeenten,
    }


def _counts(series: pl.Series) -> dict[str, int]:
    counts = series.value_counts()
    return {row[0]: row[1] for row in counts.sort(counts.columns[0]).iter_rows()}
