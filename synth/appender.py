"""A run's files written a chunk at a time, each in the order a file of one piece has.

BAG rows go straight to `bag.parquet`: every chunk's gemeente codes lie above the previous
chunk's (synth.namespace), so its object ids do too. The EAN-keyed frames (connections,
consumption and both truth files) cannot be appended that way: an EAN starts with its operator's
code, and every chunk has connections of every operator. Within one operator, though, a chunk's
EANs lie above the previous chunk's (synth.chunks). So each chunk's rows are parked in one part
file per operator prefix, and at the end the parts are copied into the final file prefix by
prefix, a row group at a time: the file comes out sorted by EAN without ever being in memory.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import TracebackType

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from synth.dataset import SynthDataset
from synth.writer import append_operator_csv

EAN_FRAMES = ("connections", "consumption", "truth_links", "truth_connections")
EAN_PREFIX_DIGITS = 6  # 871 and the operator's 3-digit company code
COMPRESSION = "zstd"


class ChunkedFiles:
    """The five data files of a run (paths as synth.writer.output_paths gives), appended to per
    chunk; `close` (or leaving the `with` block) completes them and removes the parts folder."""

    def __init__(self, paths: dict[str, Path], parts_dir: Path) -> None:
        self._paths = paths
        self._parts_dir = parts_dir
        self._bag: pq.ParquetWriter | None = None
        self._parts: dict[tuple[str, str], pq.ParquetWriter] = {}

    def __enter__(self) -> ChunkedFiles:
        self._parts_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:  # the manifest is written only after a complete close, so a failed run has none
            self._close_writers()
            shutil.rmtree(self._parts_dir, ignore_errors=True)

    def append(self, dataset: SynthDataset) -> None:
        """Add one chunk's rows; chunks must come in order."""
        bag = dataset.bag.to_arrow()
        if self._bag is None:
            self._bag = pq.ParquetWriter(self._paths["bag"], bag.schema, compression=COMPRESSION)
        self._bag.write_table(bag)
        for name in EAN_FRAMES:
            frame = dataset.frames[name]
            prefix = frame["ean"].str.slice(0, EAN_PREFIX_DIGITS)
            for value in sorted(prefix.unique().to_list()):
                self._part(name, value, frame).write_table(frame.filter(prefix == value).to_arrow())

    def close(self) -> None:
        """Copy the parts into the final files in EAN order, then remove them."""
        self._close_writers()
        for name in EAN_FRAMES:
            parts = [self._part_path(name, prefix) for prefix in sorted(p for n, p in self._parts if n == name)]
            if self._paths[name].suffix == ".csv":
                _concatenate_csv(parts, self._paths[name])
            else:
                _concatenate_parquet(parts, self._paths[name])
        shutil.rmtree(self._parts_dir)

    def _part(self, name: str, prefix: str, frame: pl.DataFrame) -> pq.ParquetWriter:
        if (name, prefix) not in self._parts:
            schema = frame.head(0).to_arrow().schema
            self._parts[name, prefix] = pq.ParquetWriter(self._part_path(name, prefix), schema, compression=COMPRESSION)
        return self._parts[name, prefix]

    def _part_path(self, name: str, prefix: str) -> Path:
        return self._parts_dir / f"{name}-{prefix}.parquet"

    def _close_writers(self) -> None:
        for writer in [self._bag, *self._parts.values()]:
            if writer is not None:
                writer.close()


def _row_groups(parts: list[Path]) -> list[tuple[pq.ParquetFile, int]]:
    """Every row group of the parts, in order."""
    files = [pq.ParquetFile(path) for path in parts]
    return [(file, index) for file in files for index in range(file.num_row_groups)]


def _concatenate_parquet(parts: list[Path], path: Path) -> None:
    schema: pa.Schema = pq.read_schema(parts[0])
    with pq.ParquetWriter(path, schema, compression=COMPRESSION) as writer:
        for file, index in _row_groups(parts):
            writer.write_table(file.read_row_group(index))


def _concatenate_csv(parts: list[Path], path: Path) -> None:
    with path.open("wb") as handle:
        for position, (file, index) in enumerate(_row_groups(parts)):
            append_operator_csv(pl.DataFrame(file.read_row_group(index)), handle, include_header=position == 0)
