"""Read a delivery (Parquet, CSV, or for BAG the LVBAG XML extract) and validate it.

Grid operators send what their systems export: `;` or `,` separated, UTF-8 with or without a
byte-order mark or Windows-1252, header names in any case. CSV values are read as text and
parsed against the contract afterwards, so ids keep their leading zeros and a value that does
not parse becomes a quarantine finding instead of failing the whole file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import polars as pl

from data_contracts import INPUT_NAMES
from ingestion.validate import IngestResult, validate_delivery
from koppelwerk.errors import InputError

DeliveryKind = Literal["bag", "connections", "consumption"]

CSV_SUFFIXES = frozenset({".csv"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
_UTF8_BOM = b"\xef\xbb\xbf"


def read_delivery(kind: DeliveryKind, path: Path) -> IngestResult:
    """Read one delivery and split it into valid rows (canonical columns) and quarantine.

    Raises InputError, naming the file, when it is missing, unreadable, empty, of an unknown
    kind, or lacks a column its contract requires.
    """
    if kind not in INPUT_NAMES:
        raise ValueError(f"{kind!r} is not a delivery kind; expected one of {', '.join(INPUT_NAMES)}")
    path = Path(path)
    where = f"{kind} delivery {path}"
    if not path.exists():
        raise InputError(f"{where}: file not found")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        raw = _read_csv(path, where)
    elif suffix in PARQUET_SUFFIXES:
        raw = _read_parquet(path, where)
    elif kind == "bag":
        # Imported here: only BAG deliveries can be XML, and the XML reader pulls in lxml.
        from ingestion.lvbag import is_lvbag_extract, read_lvbag_extract

        if not is_lvbag_extract(path):
            raise InputError(f"{where}: neither CSV, Parquet nor an LVBAG extract")
        raw = read_lvbag_extract(path)
    else:
        raise InputError(f"{where}: unsupported file type {suffix or '(none)'!r}; expected CSV or Parquet")
    return validate_delivery(kind, raw, path)


def _read_csv(path: Path, where: str) -> pl.DataFrame:
    """Every column as text, named exactly as in the header; a name that appears twice is an error."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{where}: unreadable: {error.strerror or error}") from error
    data = _as_utf8(data.removeprefix(_UTF8_BOM), where)
    end_of_header = data.find(b"\n")
    header = (data if end_of_header < 0 else data[:end_of_header]).decode("utf-8")
    if not header.strip():
        raise InputError(f"{where}: the file is empty or has no header row")
    separator = ";" if header.count(";") > header.count(",") else ","
    try:
        table = pl.read_csv(io.BytesIO(data), has_header=False, separator=separator, infer_schema=False, quote_char='"')
    except (pl.exceptions.PolarsError, ValueError) as error:
        raise InputError(f"{where}: unreadable CSV: {_first_line(error)}") from error
    # Read headerless so that the names come through verbatim: polars would rename a repeated one.
    names = [name or f"column_{position}" for position, name in enumerate(table.row(0), start=1)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(f"{where}: column(s) {', '.join(repeated)} appear more than once in the header")
    return table.slice(1).rename(dict(zip(table.columns, names, strict=True)))


def _as_utf8(data: bytes, where: str) -> bytes:
    """The file's bytes as UTF-8: unchanged when they are UTF-8, else decoded as Windows-1252."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252").encode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{where}: unreadable: neither UTF-8 nor Windows-1252 (byte {error.start})") from error


def _read_parquet(path: Path, where: str) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise InputError(f"{where}: unreadable Parquet: {_first_line(error)}") from error


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
