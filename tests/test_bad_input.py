"""The bad-input matrix: what careless or hostile senders deliver is refused, or read with every row accounted for.

Each case builds its file in tmp_path, from a small valid delivery with one thing wrong or from a
copy of a real LVBAG extract that is cut off, damaged or incomplete, and expects one of two
outcomes:

- `Refused`: `read_delivery` raises InputError with a one-line message that names the file and
  the problem;
- `Read`: it returns, every data row of the file is either valid or in the quarantine (counted by
  distinct row number), and the bad rows, only they, are quarantined under the expected rule, or
  kept and flagged by it.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from core.ean import with_check_digit
from core.errors import InputError
from data_contracts import load_contract
from ingestion import IngestResult, read_delivery
from ingestion.lvbag import read_lvbag_extract
from ingestion.validate import DETAIL_MAX_CHARS

if TYPE_CHECKING:
    from _pytest.mark import ParameterSet


def gs1(payload: str) -> str:
    """`payload` (17 digits) with its GS1 mod-10 check digit."""
    return with_check_digit(payload)


EAN = [gs1(f"87168712{n:09d}") for n in range(6)]
EAN_WITH_LEADING_ZERO = gs1("05412345000000123")
THIS_YEAR = date.today().year


# --- small valid deliveries, as text ---------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A delivery's content before it is written: a header and rows of text."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def with_cell(self, row: int, column: str, value: str) -> Table:
        """The table with data row `row` (1-based) holding `value` in `column`."""
        position = self.header.index(column)
        rows = [list(cells) for cells in self.rows]
        rows[row - 1][position] = value
        return replace(self, rows=tuple(map(tuple, rows)))

    def with_column(self, column: str, values: list[str]) -> Table:
        """The table with `column` holding `values`, one per row."""
        table = self
        for row, value in enumerate(values, start=1):
            table = table.with_cell(row, column, value)
        return table

    def with_row(self, cells: tuple[str, ...]) -> Table:
        return replace(self, rows=(*self.rows, cells))

    def csv(self, separator: str = ";") -> str:
        """The table as CSV text; a cell holding the separator, a quote or a line break is quoted."""

        def cell(value: str) -> str:
            special = separator in value or '"' in value or "\n" in value
            return '"' + value.replace('"', '""') + '"' if special else value

        return "".join(separator.join(map(cell, cells)) + "\n" for cells in (self.header, *self.rows))


CONSUMPTION = Table(
    ("ean", "year", "product", "volume", "unit"),
    (
        (EAN[0], "2024", "ELK", "3512.5", "kWh"),
        (EAN[1], "2024", "GAS", "1234.75", "m3"),
        (EAN[2], "2024", "ELK", "0", "kWh"),
        (EAN[3], "2023", "GAS", "812", "m3"),
    ),
)
CONNECTIONS = Table(
    (
        "ean",
        "product",
        "netbeheerder",
        "straatnaam",
        "huisnummer",
        "huisnummertoevoeging",
        "postcode",
        "woonplaats",
        "locatieomschrijving",
        "bag_id",
        "x",
        "y",
        "fysieke_status",
        "aansluitcapaciteit",
    ),
    (
        (
            EAN[0],
            "ELK",
            "Stedin",
            "Kerkstraat",
            "12",
            "A",
            "1381 ab",
            "Weesp",
            "",
            "0457010000000001",
            "129000.5",
            "481000.25",
            "IBD",
            "3x25A",
        ),
        (EAN[1], "GAS", "Stedin", "Kerkstraat", "12", "A", "1381AB", "Weesp", "", "", "", "", "in bedrijf", "G4"),
        (
            EAN[2],
            "ELK",
            "Liander",
            "",
            "",
            "",
            "",
            "",
            "OV lichtmast t.o. nr 3",
            "",
            "129010.75",
            "481010.5",
            "IBD",
            "1x6A",
        ),
    ),
)
BAG = Table(
    (
        "object_id",
        "object_type",
        "nummeraanduiding_id",
        "hoofdadres",
        "openbare_ruimte_naam",
        "huisnummer",
        "huisletter",
        "huisnummertoevoeging",
        "postcode",
        "woonplaats_naam",
        "gemeente_code",
        "gebruiksdoel",
        "oppervlakte",
        "status",
        "pand_id",
        "x",
        "y",
    ),
    (
        (
            "0457010000000001",
            "verblijfsobject",
            "0457200000000001",
            "true",
            "Kerkstraat",
            "12",
            "A",
            "",
            "1381AB",
            "Weesp",
            "0457",
            "woonfunctie",
            "85",
            "Verblijfsobject in gebruik",
            "0457100000000001",
            "129000.5",
            "481000.25",
        ),
        (
            "0457010000000001",
            "verblijfsobject",
            "0457200000000002",
            "false",
            "Kerkstraat",
            "14",
            "",
            "",
            "1381AB",
            "Weesp",
            "0457",
            "woonfunctie",
            "85",
            "Verblijfsobject in gebruik",
            "0457100000000001",
            "129000.5",
            "481000.25",
        ),
        (
            "0457020000000001",
            "ligplaats",
            "0457200000000003",
            "true",
            "Vecht",
            "1",
            "",
            "",
            "1381AC",
            "Weesp",
            "0457",
            "",
            "",
            "Plaats aangewezen",
            "",
            "129100.0",
            "481100.0",
        ),
    ),
)


# --- writing a delivery ------------------------------------------------------------------------------

Write = Callable[[Path], Path]


def as_csv(
    table: Table,
    *,
    name: str = "delivery.csv",
    separator: str = ";",
    encoding: str = "utf-8",
    line_end: str = "\n",
    prefix: bytes = b"",
) -> Write:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(prefix + table.csv(separator).replace("\n", line_end).encode(encoding))
        return path

    return write


def as_parquet(table: Table, **typed: pl.Series) -> Write:
    """The delivery as Parquet: every column as text, as many exports write it, but those given typed."""

    def write(folder: Path) -> Path:
        path = folder / "delivery.parquet"
        text = pl.DataFrame(list(zip(*table.rows, strict=True)), schema=list(table.header), orient="col")
        text.with_columns(**typed).write_parquet(path)
        return path

    return write


def cut_off(write: Write) -> Write:
    """The file `write` makes, cut off halfway, as an interrupted download leaves it."""

    def write_half(folder: Path) -> Path:
        path = write(folder)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return path

    return write_half


def as_bytes(content: bytes, name: str = "delivery.csv") -> Write:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return write


# --- what a case expects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """InputError on one line, naming the file and holding `problem`."""

    problem: str


@dataclass(frozen=True)
class Read:
    """Read with all `rows` accounted for; row number -> the rule it is quarantined or flagged by.

    `column`, when given, is a column name and the values the valid rows must hold there.
    """

    rows: int
    quarantined: dict[int, str] = field(default_factory=dict)
    flagged: dict[int, str] = field(default_factory=dict)
    column: tuple[str, list[object]] | None = None


def refused(case_id: str, kind: str, write: Write, problem: str) -> ParameterSet:
    return pytest.param(kind, write, Refused(problem), id=f"{kind}-{case_id}")


def read(
    case_id: str,
    kind: str,
    table: Table,
    write: Write | None = None,
    *,
    quarantined: dict[int, str] | None = None,
    flagged: dict[int, str] | None = None,
    column: tuple[str, list[object]] | None = None,
) -> ParameterSet:
    expected = Read(len(table.rows), quarantined or {}, flagged or {}, column)
    return pytest.param(kind, write or as_csv(table), expected, id=f"{kind}-{case_id}")


def volumes(*values: str) -> Table:
    """The consumption delivery with these volumes, one row each (EANs, years and units valid)."""
    rows = [(gs1(f"87168799{n:09d}"), "2024", "ELK", value, "kWh") for n, value in enumerate(values)]
    return Table(CONSUMPTION.header, tuple(rows))


# --- the matrix: files that cannot be read at all -----------------------------------------------------

C_HEADER = ";".join(CONSUMPTION.header).encode()
C_ROW = ";".join(CONSUMPTION.rows[0]).encode()

FILE_CASES = [
    refused("empty-file", "consumption", as_bytes(b""), "the file is empty"),
    refused("only-a-bom", "consumption", as_bytes(b"\xef\xbb\xbf"), "the file is empty"),
    refused("only-blank-lines", "connections", as_bytes(b"\r\n\r\n\n"), "the file is empty"),
    refused("header-only", "consumption", as_bytes(C_HEADER + b"\r\n"), "holds no data rows"),
    refused(
        "missing-required-column",
        "consumption",
        as_bytes(b"ean;year;product;unit\n" + EAN[0].encode() + b";2024;ELK;kWh\n"),
        "missing required column(s) volume",
    ),
    refused(
        "duplicate-header",
        "consumption",
        as_bytes(b"ean;ean;year;product;volume;unit\n1;1;2024;ELK;1;kWh\n"),
        "column(s) ean appear more than once",
    ),
    refused(
        "header-same-but-case",
        "bag",
        as_csv(Table(("OBJECT_ID", *BAG.header[1:], "object_id"), tuple((*row, row[0]) for row in BAG.rows))),
        "'OBJECT_ID' and 'object_id' are the same column",
    ),
    refused(
        "bytes-neither-utf8-nor-cp1252",
        "consumption",
        as_bytes(C_HEADER + b"\n\x81\x8d\x8f;2024\n"),
        "neither UTF-8 nor Windows-1252",
    ),
    refused(
        "nul-bytes",
        "consumption",
        as_bytes(C_HEADER + b"\n" + C_ROW[:5] + b"\x00" + C_ROW[5:] + b"\n"),
        "holds a NUL byte (at byte",
    ),
    refused(
        "utf16-excel-unicode-text",
        "connections",
        as_csv(CONNECTIONS, name="register.txt", separator="\t", encoding="utf-16"),
        "binary or UTF-16",
    ),
    refused(
        "ragged-row-too-many-fields",
        "consumption",
        as_bytes(C_HEADER + b"\n" + C_ROW + b"\n" + C_ROW + b";x\n"),
        "the header has 5 fields, row 2 has 6",
    ),
    refused(
        "ragged-row-too-few-fields",
        "connections",
        as_bytes(CONNECTIONS.csv().encode() + b";".join(c.encode() for c in CONNECTIONS.rows[0][:9]) + b"\n"),
        "the header has 14 fields, row 4 has 9",
    ),
    refused(
        "line-break-in-unquoted-value",
        "bag",
        as_bytes(BAG.csv().replace("Vecht", "Vecht\nachterzijde", 1).encode()),
        "the header has 17 fields, row 3 has 5, row 4 has 13",
    ),
    refused(
        "blank-line-between-rows",
        "consumption",
        as_bytes(C_HEADER + b"\n" + C_ROW + b"\n\n" + C_ROW + b"\n"),
        "row 2 has 0",
    ),
    refused(
        "unterminated-quote", "consumption", as_bytes(C_HEADER + b'\n"' + C_ROW + b"\n" + C_ROW + b"\n"), "row 1 has 1"
    ),
    refused("xlsx-suffix", "consumption", as_bytes(b"PK\x03\x04", "verbruik.xlsx"), "unsupported file type '.xlsx'"),
    refused(
        "parquet-of-garbage-bytes",
        "connections",
        as_bytes(b"PAR1 this is not parquet", "register.parquet"),
        "unreadable Parquet",
    ),
    refused("zero-byte-parquet", "bag", as_bytes(b"", "bag.parquet"), "unreadable Parquet"),
    refused("parquet-cut-off", "connections", cut_off(as_parquet(CONNECTIONS)), "unreadable Parquet"),
    refused("parquet-without-rows", "consumption", as_parquet(Table(CONSUMPTION.header, ())), "holds no data rows"),
    refused(
        "parquet-list-column",
        "consumption",
        as_parquet(CONSUMPTION, volume=pl.Series([[1.0], [2.0], [3.0], [4.0]])),
        "column 'volume' holds List(Float64) values",
    ),
    refused(
        "parquet-binary-column",
        "connections",
        as_parquet(CONNECTIONS, ean=pl.Series([e.encode() for e in EAN[:3]])),
        "column 'ean' holds Binary values",
    ),
    refused("file-name-with-a-line-break", "consumption", as_bytes(b"", "verbruik\nmaart.csv"), "the file is empty"),
]

# --- the matrix: the decimal mark of a number column, decided from all its values --------------------

DUTCH_COORDINATES = CONNECTIONS.with_column("x", ["129000,5", "", "129010,75"]).with_column(
    "y", ["481000,25", "", "481010,5"]
)

DECIMAL_CASES = [
    read(
        "decimal-points",
        "consumption",
        volumes("3512.5", "2.731", "0.5", "1e3"),
        column=("volume", [3512.5, 2.731, 0.5, 1000.0]),
    ),
    read(
        "only-three-decimal-values-are-decimal-points",
        "consumption",
        volumes("2.731", "12.345", "0.125"),
        column=("volume", [2.731, 12.345, 0.125]),
    ),
    read(
        "decimal-commas",
        "consumption",
        volumes("3512,5", "0,25", "12", "1,234"),
        column=("volume", [3512.5, 0.25, 12.0, 1.234]),
    ),
    read(
        "dutch-thousands-dots",
        "consumption",
        volumes("1.234,5", "12.345.678", "3,75", "1,5E+3"),
        column=("volume", [1234.5, 12345678.0, 3.75, 1500.0]),
    ),
    read(
        "decimal-commas-in-text-parquet",
        "connections",
        DUTCH_COORDINATES,
        as_parquet(DUTCH_COORDINATES),
        column=("x", [129000.5, None, 129010.75]),
    ),
    refused(
        "one-comma-among-three-decimal-points",
        "consumption",
        as_csv(volumes("2.731", "12.345", "1,5", "0.125")),
        "writes decimal commas (row 3 '1,5'), so the '.' in row 1 '2.731', row 2 '12.345', row 4 '0.125'",
    ),
    refused(
        "thousands-dots-beside-a-dot-that-may-be-decimal",
        "consumption",
        as_csv(volumes("1.234,5", "2.731")),
        "may be a thousands separator or a decimal point",
    ),
    refused(
        "millions-beside-a-dot-that-may-be-decimal",
        "consumption",
        as_csv(volumes("1.234.567", "2.731")),
        "the '.' in row 2 '2.731'",
    ),
    refused(
        "decimal-point-and-decimal-comma",
        "consumption",
        as_csv(volumes("3.5", "1,5", "7")),
        "column 'volume' mixes decimal marks: a decimal point in row 1 '3.5', a decimal comma in row 2 '1,5'",
    ),
    refused(
        "comma-that-may-be-a-thousands-comma",
        "consumption",
        as_csv(volumes("1,234", "12,500", "7")),
        "the ',' in row 1 '1,234', row 2 '12,500' may be a decimal comma or a thousands separator",
    ),
    refused(
        "ambiguous-in-text-parquet",
        "consumption",
        as_parquet(volumes("2.731", "1,5")),
        "column 'volume' writes decimal commas",
    ),
    refused(
        "ambiguous-coordinate",
        "bag",
        as_csv(BAG.with_column("x", ["129.000", "129000,5", "129100,0"])),
        "column 'x' writes decimal commas",
    ),
]

# --- the matrix: rows that are quarantined, or flagged and kept -----------------------------------------

ROW_CASES = [
    read("volume-1e309", "consumption", CONSUMPTION.with_cell(2, "volume", "1e309"), quarantined={2: "type_volume"}),
    read(
        "volume-minus-1e309",
        "consumption",
        CONSUMPTION.with_cell(1, "volume", "-1e309"),
        quarantined={1: "type_volume"},
    ),
    read(
        "volume-nan-inf-infinity",
        "consumption",
        CONSUMPTION.with_column("volume", ["nan", "inf", "-Infinity", "12"]),
        quarantined={1: "type_volume", 2: "type_volume", 3: "type_volume"},
    ),
    read(
        "volume-inf-and-nan-in-parquet",
        "consumption",
        CONSUMPTION,
        as_parquet(CONSUMPTION, volume=pl.Series([float("inf"), float("nan"), float("-inf"), 812.0])),
        quarantined={1: "type_volume", 2: "type_volume", 3: "type_volume"},
    ),
    read(
        "volume-negative",
        "consumption",
        CONSUMPTION.with_cell(3, "volume", "-0.5"),
        quarantined={3: "volume_non_negative"},
    ),
    read(
        "volume-absurd-1e15-kwh",
        "consumption",
        CONSUMPTION.with_cell(1, "volume", "1e15"),
        quarantined={1: "volume_below_absurd"},
    ),
    read(
        "volume-absurd-in-dutch-notation",
        "consumption",
        volumes("3,5", "1,5E+15"),
        quarantined={2: "volume_below_absurd"},
    ),
    read(
        "volume-absurd-typed-parquet",
        "consumption",
        CONSUMPTION,
        as_parquet(CONSUMPTION, volume=pl.Series([3512.5, 1e300, 0.0, 812.0])),
        quarantined={2: "volume_below_absurd"},
    ),
    read("volume-text", "consumption", CONSUMPTION.with_cell(4, "volume", "n.v.t."), quarantined={4: "type_volume"}),
    read(
        "year-out-of-range",
        "consumption",
        CONSUMPTION.with_cell(1, "year", "1999").with_cell(2, "year", str(THIS_YEAR + 1)).with_cell(3, "year", "0"),
        quarantined={1: "year_in_range", 2: "year_in_range", 3: "year_in_range"},
    ),
    read(
        "year-as-text-and-fraction",
        "consumption",
        CONSUMPTION.with_cell(1, "year", "2O24").with_cell(2, "year", "2024.0"),
        quarantined={1: "type_year", 2: "type_year"},
    ),
    read(
        "year-as-parquet-date",
        "consumption",
        CONSUMPTION,
        as_parquet(CONSUMPTION, year=pl.Series([date(2024, 1, 1)] * 4)),
        quarantined={1: "type_year", 2: "type_year", 3: "type_year", 4: "type_year"},
    ),
    read(
        "year-as-parquet-boolean",
        "consumption",
        CONSUMPTION,
        as_parquet(CONSUMPTION, year=pl.Series([True, False, True, True])),
        quarantined={1: "type_year", 2: "type_year", 3: "type_year", 4: "type_year"},
    ),
    read(
        "typed-parquet-with-other-widths",
        "consumption",
        CONSUMPTION,
        as_parquet(
            CONSUMPTION,
            year=pl.Series([2024, 2024, 2024, 2023], dtype=pl.Int16),
            volume=pl.Series(["3512.50", "1234.75", "0", "812"]).cast(pl.Decimal(12, 2)),
        ),
        column=("volume", [3512.5, 1234.75, 0.0, 812.0]),
    ),
    read(
        "unit-of-the-other-product",
        "consumption",
        CONSUMPTION.with_cell(2, "unit", "kWh"),
        quarantined={2: "unit_matches_product"},
    ),
    read(
        "ean-bad-check-digit",
        "consumption",
        CONSUMPTION.with_cell(1, "ean", EAN[0][:-1] + str((int(EAN[0][-1]) + 1) % 10)),
        quarantined={1: "ean_check_digit"},
    ),
    read(
        "ean-17-digits", "connections", CONNECTIONS.with_cell(2, "ean", EAN[1][:-1]), quarantined={2: "ean_check_digit"}
    ),
    read(
        "ean-with-letters",
        "connections",
        CONNECTIONS.with_cell(3, "ean", "87168712000000000X"),
        quarantined={3: "ean_check_digit"},
    ),
    read(
        "ean-of-10000-characters",
        "connections",
        CONNECTIONS.with_cell(1, "ean", "8" * 10_000),
        quarantined={1: "ean_check_digit"},
    ),
    read(
        "ean-as-parquet-integer-lost-its-leading-zero",
        "consumption",
        CONSUMPTION.with_cell(1, "ean", EAN_WITH_LEADING_ZERO),
        as_parquet(CONSUMPTION, ean=pl.Series([int(EAN_WITH_LEADING_ZERO), *map(int, EAN[1:4])])),
        column=("ean", [EAN_WITH_LEADING_ZERO, *EAN[1:4]]),
    ),
    read(
        "ean-as-parquet-float",
        "consumption",
        CONSUMPTION,
        as_parquet(CONSUMPTION, ean=pl.Series([float(e) for e in EAN[:4]])),
        quarantined={1: "ean_check_digit", 2: "ean_check_digit", 3: "ean_check_digit", 4: "ean_check_digit"},
    ),
    read("duplicate-ean", "connections", CONNECTIONS.with_cell(3, "ean", EAN[0]), quarantined={3: "ean_unique"}),
    read(
        "duplicate-consumption-key",
        "consumption",
        CONSUMPTION.with_row(CONSUMPTION.rows[1]),
        quarantined={5: "consumption_key_unique"},
    ),
    read(
        "huisnummer-0-and-100000",
        "bag",
        BAG.with_cell(1, "huisnummer", "0").with_cell(3, "huisnummer", "100000"),
        flagged={1: "huisnummer_range", 3: "huisnummer_range"},
    ),
    read(
        "huisnummer-text-and-float-text",
        "connections",
        CONNECTIONS.with_cell(1, "huisnummer", "twaalf").with_cell(2, "huisnummer", "12.0"),
        quarantined={1: "type_huisnummer", 2: "type_huisnummer"},
    ),
    read(
        "huisnummer-parquet-float",
        "bag",
        BAG,
        as_parquet(BAG, huisnummer=pl.Series([12.0, 14.5, 1.0])),
        quarantined={2: "type_huisnummer"},
    ),
    read(
        "huisnummer-parquet-boolean",
        "connections",
        CONNECTIONS,
        as_parquet(CONNECTIONS, huisnummer=pl.Series([True, True, None])),
        quarantined={1: "type_huisnummer", 2: "type_huisnummer"},
    ),
    read(
        "postcode-lowercase-space-invalid",
        "bag",
        BAG.with_cell(1, "postcode", "1381ab").with_cell(2, "postcode", "1381 AB").with_cell(3, "postcode", "0123AB"),
        flagged={1: "postcode_format", 2: "postcode_format", 3: "postcode_format"},
    ),
    read(
        "register-postcode-invalid",
        "connections",
        CONNECTIONS.with_cell(2, "postcode", "13812"),
        flagged={2: "postcode_format"},
    ),
    read(
        "bag-id-wrong-length",
        "connections",
        CONNECTIONS.with_cell(1, "bag_id", "457010000000001"),
        flagged={1: "bag_id_format"},
    ),
    read(
        "object-id-wrong-length",
        "bag",
        BAG.with_cell(3, "object_id", "045702000000001"),
        quarantined={3: "object_id_format"},
    ),
    read(
        "object-id-as-parquet-integer-lost-its-leading-zeros",
        "bag",
        BAG,
        as_parquet(BAG, object_id=pl.Series([457010000000001, 457010000000001, 457020000000001])),
        column=("object_id", ["0457010000000001", "0457010000000001", "0457020000000001"]),
    ),
    read(
        "object-id-as-parquet-float",
        "bag",
        BAG,
        as_parquet(BAG, object_id=pl.Series([457010000000001.0, 457010000000001.0, 457020000000001.0])),
        quarantined={1: "object_id_format", 2: "object_id_format", 3: "object_id_format"},
    ),
    read(
        "hoofdadres-as-parquet-integers",
        "bag",
        BAG,
        as_parquet(BAG, hoofdadres=pl.Series([1, 0, 2])),
        quarantined={3: "type_hoofdadres"},
        column=("hoofdadres", [True, False]),
    ),
    read(
        "coordinates-inf-nan-1e309",
        "connections",
        CONNECTIONS.with_cell(1, "x", "inf").with_cell(3, "y", "1e309"),
        quarantined={1: "type_x", 3: "type_y"},
    ),
    read(
        "coordinates-nan-in-parquet",
        "bag",
        BAG,
        as_parquet(
            BAG, x=pl.Series([float("nan"), 129000.5, 129100.0]), y=pl.Series([481000.25, 481000.25, float("inf")])
        ),
        quarantined={1: "type_x", 3: "type_y"},
    ),
    read("street-of-10000-characters", "connections", CONNECTIONS.with_cell(2, "straatnaam", "Kerkstraat" * 1_000)),
]

# --- the matrix: what grid operators really send, read alike ------------------------------------------

QUOTED = CONNECTIONS.with_cell(1, "straatnaam", 'Kerkstraat; "achter"').with_cell(
    3, "locatieomschrijving", "OV mast, t.o. nr 3;\nnaast de kerk"
)
NOT_ASCII = BAG.with_cell(3, "openbare_ruimte_naam", "Zoë’s Kade")
FORMAT_CASES = [
    read(
        "semicolons",
        "connections",
        CONNECTIONS,
        as_csv(CONNECTIONS, separator=";"),
        column=("straatnaam", ["Kerkstraat", "Kerkstraat", None]),
    ),
    read(
        "commas",
        "connections",
        CONNECTIONS,
        as_csv(CONNECTIONS, separator=","),
        column=("x", [129000.5, None, 129010.75]),
    ),
    read(
        "tabs-in-a-csv",
        "connections",
        CONNECTIONS,
        as_csv(CONNECTIONS, separator="\t"),
        column=("x", [129000.5, None, 129010.75]),
    ),
    read(
        "tabs-in-a-tsv",
        "consumption",
        CONSUMPTION,
        as_csv(CONSUMPTION, name="verbruik.tsv", separator="\t"),
        column=("volume", [3512.5, 1234.75, 0.0, 812.0]),
    ),
    read("semicolons-in-a-txt", "bag", BAG, as_csv(BAG, name="bag.TXT")),
    read(
        "quoted-separators-quotes-and-line-breaks",
        "connections",
        QUOTED,
        as_csv(QUOTED, separator=";"),
        column=("locatieomschrijving", [None, None, "OV mast, t.o. nr 3;\nnaast de kerk"]),
    ),
    read(
        "quoted-header-name-holding-the-other-separator",
        "consumption",
        CONSUMPTION,
        as_bytes(
            b'ean,year,product,volume,unit,"opm;erk;ing;en;;;"\n'
            + b"".join(",".join(r).encode() + b",\n" for r in CONSUMPTION.rows)
        ),
        column=("volume", [3512.5, 1234.75, 0.0, 812.0]),
    ),
    read(
        "utf8-bom-crlf",
        "connections",
        CONNECTIONS,
        as_csv(CONNECTIONS, prefix=b"\xef\xbb\xbf", line_end="\r\n"),
        column=("ean", EAN[:3]),
    ),
    read(
        "windows-1252",
        "bag",
        NOT_ASCII,
        as_csv(NOT_ASCII, encoding="cp1252"),
        column=("openbare_ruimte_naam", ["Kerkstraat", "Kerkstraat", "Zoë’s Kade"]),
    ),
    read("mac-cr-line-ends", "consumption", CONSUMPTION, as_csv(CONSUMPTION, line_end="\r"), column=("ean", EAN[:4])),
    read(
        "blank-lines-at-the-end",
        "consumption",
        CONSUMPTION,
        as_bytes(CONSUMPTION.csv().encode() + b"\n\r\n\n"),
        column=("ean", EAN[:4]),
    ),
]


# --- the test ------------------------------------------------------------------------------------------


def as_shown(path: Path) -> str:
    """The path as a one-line message shows it: a line break in a file name written `\\n`."""
    return str(path).replace("\n", "\\n")


def quarantine_rules(result: IngestResult) -> dict[int, set[str]]:
    grouped = result.quarantine.group_by("row_number").agg(pl.col("rule"))
    return {row: set(rules) for row, rules in grouped.iter_rows()}


def check_refused(kind: str, path: Path, expected: Refused) -> None:
    with pytest.raises(InputError) as caught:
        read_delivery(kind, path)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, message
    assert f"{kind} delivery {as_shown(path)}: " in message, message
    assert expected.problem in message, message


def check_read(kind: str, path: Path, expected: Read) -> None:
    result = read_delivery(kind, path)
    assert result.frame.height + result.quarantine["row_number"].n_unique() == expected.rows
    assert result.frame.schema == load_contract(kind).polars_schema
    rules = quarantine_rules(result)
    assert set(rules) == set(expected.quarantined), result.quarantine
    for row, rule in expected.quarantined.items():
        assert rule in rules[row], (row, rules[row])
    kept = result.rule_results.filter(~pl.col("row_number").is_in(list(rules)))
    for row, rule in expected.flagged.items():
        assert not kept.filter(pl.col("row_number") == row)[rule].item(), (row, rule)
    assert (result.quarantine["detail"].str.len_chars().max() or 0) <= DETAIL_MAX_CHARS
    if expected.column is not None:
        name, values = expected.column
        assert result.frame[name].to_list() == values


@pytest.mark.parametrize(("kind", "write", "expected"), FILE_CASES + DECIMAL_CASES + ROW_CASES + FORMAT_CASES)
def test_delivery(kind: str, write: Write, expected: Refused | Read, tmp_path: Path) -> None:
    path = write(tmp_path)
    if isinstance(expected, Refused):
        check_refused(kind, path, expected)
    else:
        check_read(kind, path, expected)


# --- the LVBAG extract: cut off, damaged, incomplete, hostile ------------------------------------------

SMALL = "nlextract-testdata/BAGNLDL-15092020-small.zip"  # national layout: '9999' per-type zips at the top
WEESP = "weesp-0457-2021/BAGGEM0457L-15102021.zip"  # gemeente layout: a bundle zip of per-type zips
BUNDLE = "0457GEM15102021.zip"

Damage = Callable[[bytes], bytes]
Change = Callable[[bytes], bytes | None]


def rezip(data: bytes, edit: Callable[[str, bytes], bytes | None]) -> bytes:
    """A copy of a zip with every member's bytes passed through `edit`; None leaves the member out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = edit(info.filename, source.read(info))
            if content is not None:
                target.writestr(info, content)
    return buffer.getvalue()


def at(*trail: str, change: Change) -> Damage:
    """Apply `change` to the member reached by `trail`, member names through the nested zips."""
    first, *rest = trail
    inner = at(*rest, change=change) if rest else change
    return lambda data: rezip(data, lambda name, content: inner(content) if name == first else content)


def leave_out(content: bytes) -> None:
    return None


def halve(content: bytes) -> bytes:
    return content[: len(content) // 2]


def cut_after(member: str) -> Damage:
    """The file cut off right after `member`'s data: the last bytes are then that member's own."""

    def damage(data: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo(member)
        local_header = data[info.header_offset : info.header_offset + 30]
        name_length = int.from_bytes(local_header[26:28], "little")
        extra_length = int.from_bytes(local_header[28:30], "little")
        return data[: info.header_offset + 30 + name_length + extra_length + info.compress_size]

    return damage


def overwrite_central_directory(offset: int, replacement: bytes) -> Damage:
    """`replacement` written over the central directory, `offset` bytes into it."""

    def damage(data: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            start = zf.start_dir + offset
        return data[:start] + replacement + data[start + len(replacement) :]

    return damage


def damaged(case_id: str, extract: str, damage: Damage, problem: str, name: str | None = None) -> ParameterSet:
    return pytest.param(extract, damage, problem, name, id=case_id)


LVBAG_CASES = [
    damaged("cut-in-the-middle", SMALL, halve, "the zip is cut off, damaged or no zip at all"),
    damaged(
        "cut-after-a-per-type-zip",
        SMALL,
        cut_after("9999VBO15092020.zip"),
        "the zip is cut off or damaged: its central directory puts the first member at byte",
    ),
    damaged("cut-after-the-gemeente-bundle", WEESP, cut_after(BUNDLE), "the zip is cut off or damaged"),
    damaged("cut-in-the-central-directory", SMALL, lambda data: data[:-200], "the zip is cut off"),
    damaged("end-of-central-directory-cut", SMALL, lambda data: data[:-10], "the zip is cut off"),
    damaged(
        "central-directory-signature-broken",
        SMALL,
        overwrite_central_directory(0, b"XXXX"),
        "Bad magic number for central directory",
    ),
    damaged(
        "central-directory-member-offset-wrong",
        SMALL,
        overwrite_central_directory(42, (5).to_bytes(4, "little")),
        "puts the first member at byte 5",
    ),
    damaged("central-directory-zeroed", SMALL, overwrite_central_directory(100, bytes(100)), "Bad magic number"),
    damaged("not-a-zip", WEESP, lambda data: b"<html>404 Not Found</html>", "no zip at all"),
    damaged("zero-bytes", WEESP, lambda data: b"", "no zip at all"),
    damaged("no-nummeraanduidingen", SMALL, at("9999NUM15092020.zip", change=leave_out), "no NUM chunks"),
    damaged("no-openbare-ruimten", SMALL, at("9999OPR15092020.zip", change=leave_out), "no OPR chunks"),
    damaged("no-woonplaatsen", SMALL, at("9999WPL15092020.zip", change=leave_out), "no WPL chunks"),
    damaged("no-verblijfsobjecten", SMALL, at("9999VBO15092020.zip", change=leave_out), "no VBO chunks"),
    damaged(
        "no-ligplaatsen-standplaatsen",
        SMALL,
        lambda data: at("9999STA15092020.zip", change=leave_out)(at("9999LIG15092020.zip", change=leave_out)(data)),
        "no LIG, STA chunks",
    ),
    damaged(
        "no-gemeente-woonplaats-relation-nor-leveringsdocument",
        SMALL,
        lambda data: at("GEM-WPL-RELATIE-15092020.zip", change=leave_out)(
            at("Leveringsdocument-BAG-Extract.xml", change=leave_out)(data)
        ),
        "no GWR chunks",
    ),
    damaged("nested-bundle-missing", WEESP, at(BUNDLE, change=leave_out), "no VBO, LIG, STA, NUM, OPR, WPL chunks"),
    damaged("nested-per-type-zip-missing", WEESP, at(BUNDLE, "0457NUM15102021.zip", change=leave_out), "no NUM chunks"),
    damaged(
        "nested-per-type-zip-cut",
        WEESP,
        at(BUNDLE, "0457VBO15102021.zip", change=halve),
        f"{BUNDLE}/0457VBO15102021.zip is cut off",
    ),
    damaged(
        "xml-chunk-cut",
        SMALL,
        at("9999VBO15092020.zip", "0221VBO15092020-000001.xml", change=halve),
        "9999VBO15092020.zip/0221VBO15092020-000001.xml:",
    ),
    damaged(
        "xml-chunk-not-xml",
        SMALL,
        at("9999NUM15092020.zip", "0221NUM15092020-000001.xml", change=lambda content: b"\x89PNG\r\n\x1a\n"),
        "9999NUM15092020.zip/0221NUM15092020-000001.xml:",
    ),
    damaged(
        "file-name-with-a-line-break",
        SMALL,
        at("9999OPR15092020.zip", change=leave_out),
        "no OPR chunks",
        name="extract\nkopie.zip",
    ),
]


@pytest.mark.parametrize(("extract", "damage", "problem", "name"), LVBAG_CASES)
def test_damaged_lvbag_extract(
    extract: str, damage: Damage, problem: str, name: str | None, lvbag_dir: Path, tmp_path: Path
) -> None:
    source = lvbag_dir / extract
    path = tmp_path / (name or source.name)
    path.write_bytes(damage(source.read_bytes()))
    with pytest.raises(InputError) as caught:
        read_delivery("bag", path)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, message
    assert f"LVBAG extract {as_shown(path)}: " in message, message
    assert problem in message, message


WPL_CHUNK = ("9999WPL15092020.zip", "0221WPL15092020-000001.xml")


def with_entities(doctype: str, naam: str) -> Change:
    """The woonplaats chunk with a DOCTYPE declaring entities and its name replaced by `naam`."""

    def change(content: bytes) -> bytes:
        declaration, _, rest = content.partition(b"?>")
        name = f"<Objecten:naam>{naam}</Objecten:naam>".encode()
        body = rest.replace(b"<Objecten:naam>Doesburg</Objecten:naam>", name)
        return declaration + b"?>\n" + doctype.encode() + body

    return change


def test_an_external_entity_is_not_resolved(lvbag_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-FROM-THE-SERVER")
    doctype = f'<!DOCTYPE sl-bag-extract:bagStand [<!ENTITY secret SYSTEM "file://{secret}">]>'
    path = tmp_path / "BAGNLDL-15092020-xxe.zip"
    path.write_bytes(at(*WPL_CHUNK, change=with_entities(doctype, "&secret;"))((lvbag_dir / SMALL).read_bytes()))
    try:
        frame = read_lvbag_extract(path)
    except InputError as refusal:  # refusing the file is as safe as not resolving
        assert "SECRET" not in str(refusal)
        return
    texts = frame.select(pl.col(pl.String)).unpivot()["value"].drop_nulls()
    assert not texts.str.contains("SECRET").any()


def test_an_entity_expansion_bomb_is_not_expanded(lvbag_dir: Path, tmp_path: Path) -> None:
    levels = ['<!ENTITY lol0 "lollollollollollollollollollol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    doctype = f"<!DOCTYPE sl-bag-extract:bagStand [{''.join(levels)}]>"
    path = tmp_path / "BAGNLDL-15092020-lol.zip"
    path.write_bytes(at(*WPL_CHUNK, change=with_entities(doctype, "&lol9;"))((lvbag_dir / SMALL).read_bytes()))
    started = time.perf_counter()
    try:
        frame = read_lvbag_extract(path)
    except InputError:  # refusing the file is as safe as not expanding
        return
    assert time.perf_counter() - started < 10
    longest = frame.select(pl.col(pl.String).str.len_chars().max()).max_horizontal().item()
    assert longest < 1_000


def test_a_gemeente_extract_without_gemeente_woonplaats_relation_takes_its_gemeente(
    lvbag_dir: Path, tmp_path: Path
) -> None:
    """The Leveringsdocument names the one gemeente the extract is of: that is every object's gemeente."""
    path = tmp_path / "BAGNLDL-15092020-no-gwr.zip"
    path.write_bytes(at("GEM-WPL-RELATIE-15092020.zip", change=leave_out)((lvbag_dir / SMALL).read_bytes()))
    result = read_delivery("bag", path)
    assert result.frame.height > 0 and set(result.frame["gemeente_code"]) == {"0221"}
