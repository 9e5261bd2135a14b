"""Read a delivery (Parquet, CSV, or for BAG the LVBAG XML extract) and validate it.

Grid operators send what their systems export: `;`, `,` or tab separated (as `.csv`, `.tsv` or
`.txt`), UTF-8 with or without a byte-order mark or Windows-1252, header names in any case, line
ends of any platform. CSV values are read as text and parsed against the contract afterwards, so
ids keep their leading zeros and a value that does not parse becomes a quarantine finding instead
of failing the whole file. What cannot be a delivery at all (binary or UTF-16 bytes, rows with
another number of fields than the header) is refused with one line naming the file.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Literal

import polars as pl

from core.errors import InputError
from data_contracts import INPUT_NAMES
from ingestion.validate import IngestResult, printable, validate_delivery

DeliveryKind = Literal["bag", "connections", "consumption"]

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
# Field separators a header may use; on a tie the first wins.
SEPARATORS = (",", ";", "\t")
_UTF8_BOM = b"\xef\xbb\xbf"
_QUOTED = re.compile(r'"[^"]*"')


def read_delivery(kind: DeliveryKind, path: Path) -> IngestResult:
    """Read one delivery and split it into valid rows (canonical columns) and quarantine.

    Raises InputError, naming the file, when it is missing, unreadable, empty, of an unknown
    kind, or lacks a column its contract requires.
    """
    if kind not in INPUT_NAMES:
        raise ValueError(f"{kind!r} is not a delivery kind; expected one of {', '.join(INPUT_NAMES)}")
    path = Path(path)
    where = f"{kind} delivery {printable(str(path))}"
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
    text = _line_feeds(_decoded(data.removeprefix(_UTF8_BOM), where))
    header = text.partition("\n")[0]
    if not header.strip():
        raise InputError(f"{where}: the file is empty or has no header row")
    separator = _separator(header)
    _require_rows_as_wide_as_the_header(text, separator, where)
    try:
        table = pl.read_csv(
            io.BytesIO(text.encode("utf-8")), has_header=False, separator=separator, infer_schema=False, quote_char='"'
        )
    except (pl.exceptions.PolarsError, ValueError) as error:
        raise InputError(f"{where}: unreadable CSV: {_first_line(error)}") from error
    # Read headerless so that the names come through verbatim: polars would rename a repeated one.
    names = [name or f"column_{position}" for position, name in enumerate(table.row(0), start=1)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(f"{where}: column(s) {printable(', '.join(repeated))} appear more than once in the header")
    return table.slice(1).rename(dict(zip(table.columns, names, strict=True)))


def _decoded(data: bytes, where: str) -> str:
    """The file's text: UTF-8 when its bytes are, else Windows-1252.

    A NUL byte never occurs in either: the file is binary, or UTF-16 (Excel's "Unicode text"),
    whose every other byte is NUL. Read on, it would give a header no column matches.
    """
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputError(f"{where}: holds a NUL byte (at byte {nul}): binary or UTF-16, not UTF-8 or Windows-1252 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise InputError(f"{where}: unreadable: neither UTF-8 nor Windows-1252 (byte {error.start})") from error


def _line_feeds(text: str) -> str:
    """Lines ended by LF (or CRLF, which the CSV reader takes as well), without trailing blank lines.

    A file with CR alone between its lines (Excel's "CSV (Macintosh)") would read as one row; the
    blank lines an editor leaves at the end would read as empty records.
    """
    if "\n" not in text:
        text = text.replace("\r", "\n")
    return text.rstrip("\r\n") + "\n"


def _separator(header: str) -> str:
    """The separator the header uses most, outside quoted names."""
    unquoted = _QUOTED.sub("", header)
    return max(SEPARATORS, key=unquoted.count)


def _require_rows_as_wide_as_the_header(text: str, separator: str, where: str) -> None:
    """Refuse a file with a row of more or fewer fields than the header.

    polars fills a short row with nulls, so a row broken by an unquoted line break would be read
    as two half rows with their values under the wrong columns. The standard library's reader
    counts fields by the same quoting rules (a pass of 2 to 3 s per million rows).
    """
    # A value may be as long as the file (a geometry in an undeclared column); the default cap is 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    records = csv.reader(io.StringIO(text), delimiter=separator, quotechar='"')
    width = len(next(records))
    ragged = [(row, len(fields)) for row, fields in enumerate(records, start=1) if len(fields) != width]
    if ragged:
        shown = ", ".join(f"row {row} has {count}" for row, count in ragged[:3])
        more = f" and {len(ragged) - 3} more rows differ" if len(ragged) > 3 else ""
        raise InputError(
            f"{where}: the header has {width} fields, {shown}{more} "
            "(a separator or line break inside an unquoted value?)"
        )


def _read_parquet(path: Path, where: str) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise InputError(f"{where}: unreadable Parquet: {_first_line(error)}") from error


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return printable(lines[0]) if lines else type(error).__name__
