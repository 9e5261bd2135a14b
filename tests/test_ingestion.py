"""Deliveries as grid operators and BAG exports really send them end up in the frame or in quarantine."""

from __future__ import annotations

import csv
import io
import sys
import types
from pathlib import Path

import polars as pl
import pytest
import yaml

from core.ean import with_check_digit
from core.errors import InputError
from data_contracts import load_contract, validate_output
from ingestion import IngestResult, read_delivery


def gs1(payload: str) -> str:
    """`payload` (17 digits) with its GS1 mod-10 check digit."""
    return with_check_digit(payload)


EAN = [gs1(f"87168712{n:09d}") for n in range(10)]
BAD_CHECK_DIGIT = EAN[9][:-1] + str((int(EAN[9][-1]) + 1) % 10)

CONNECTIONS_HEADER = [
    "EAN",
    " Product ",
    "NETBEHEERDER",
    "Straatnaam",
    "Huisnummer",
    "HuisnummerToevoeging",
    "Postcode",
    "Woonplaats",
    "Locatieomschrijving",
    "BAG_ID",
    "X",
    "Y",
    "Fysieke_Status",
    "Aansluitcapaciteit",
    "Klantnaam",
    "Telefoon",
]
STREET = "Tweede Kamerstraat ‘s-Gravenweg"
CONNECTIONS_ROWS = [
    # 1 valid electricity, Dutch decimal comma coordinates, the register's one toevoeging field
    [
        EAN[0],
        "ELK",
        "Stedin",
        STREET,
        "12",
        "A-1",
        "1234 ab",
        "Zoë’s Dorp",
        "",
        "0457010000000001",
        "155000,5",
        "463000,25",
        "IBD",
        "3x25A",
        "Jansen",
        "0612345678",
    ],
    # 2 valid gas at the same address
    [
        EAN[1],
        "GAS",
        "Stedin",
        STREET,
        "12",
        "A-1",
        "1234AB",
        "Zoë’s Dorp",
        "",
        "",
        "",
        "",
        "in bedrijf",
        "G4",
        "Jansen",
        "",
    ],
    # 3 the EAN of row 1 again
    [EAN[0], "ELK", "Stedin", "Kerkstraat", "1", "", "1234AB", "Weesp", "", "", "", "", "IBD", "", "Pietersen", ""],
    # 4 check digit wrong
    [BAD_CHECK_DIGIT, "ELK", "Stedin", "Kerkstraat", "2", "", "1234AB", "Weesp", "", "", "", "", "IBD", "", "", ""],
    # 5 no EAN at all
    ["", "ELK", "Stedin", "Kerkstraat", "3", "", "1234AB", "Weesp", "", "", "", "", "IBD", "", "", ""],
    # 6 huisnummer that is not a number
    [EAN[2], "ELK", "Stedin", "Kerkstraat", "12a", "", "1234AB", "Weesp", "", "", "", "", "IBD", "", "", ""],
    # 7 unknown product and an unparseable x: two findings for one row
    [EAN[3], "WATER", "Stedin", "Kerkstraat", "5", "", "1234AB", "Weesp", "", "", "abc", "", "IBD", "", "", ""],
    # 8 messy but usable: lower-case product, odd postcode, odd status, huisnummer 0 (flags only)
    [EAN[4], "gas", "Stedin", "Kerkstr.", "0", "hs", "1234-AB", "WEESP", "", "", "", "", "In Bedrijf", "", "", ""],
    # 9 street light: no address, only a description
    [
        EAN[5],
        "ELK",
        "Stedin",
        "",
        "",
        "",
        "",
        "",
        "OV lichtmast t.o. nr 12, Café ‘t Hoekje",
        "",
        "",
        "",
        "IBD",
        "1x6",
        "",
        "",
    ],
    # 10 whitespace-only values count as empty
    [EAN[6], " ELK ", "Stedin", "  ", " 7 ", "  ", "", "Weesp", "", "", "", "", "UBD", "", "", ""],
]
CONNECTIONS_QUARANTINE = {
    3: ["ean_unique"],
    4: ["ean_check_digit"],
    5: ["ean_required"],
    6: ["type_huisnummer"],
    7: ["type_x", "product_enum"],
}


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    *,
    separator: str = ";",
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_text_parquet(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """The same delivery as Parquet with every column as text, as many exports write it."""
    pl.DataFrame([list(column) for column in zip(*rows, strict=True)], schema=header, orient="col").write_parquet(path)
    return path


def check_accounted(kind: str, result: IngestResult) -> None:
    """Every row read is in the frame or in quarantine, and both have their contract's shape."""
    assert result.n_rows_read == result.frame.height + result.quarantine["row_number"].n_unique()
    assert result.frame.schema == load_contract(kind).polars_schema
    validate_output("quarantine", result.quarantine)
    assert set(result.quarantine["source"]) <= {kind}


def findings(result: IngestResult) -> dict[int, list[str]]:
    grouped = result.quarantine.group_by("row_number", maintain_order=True).agg(pl.col("rule"))
    return dict(zip(grouped["row_number"], grouped["rule"].to_list(), strict=True))


@pytest.fixture
def connections_cp1252(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "register.csv",
        CONNECTIONS_HEADER,
        CONNECTIONS_ROWS,
        separator=";",
        encoding="cp1252",
        newline="\r\n",
    )


def test_connections_csv_cp1252_semicolon(connections_cp1252: Path) -> None:
    assert "‘".encode("cp1252") in connections_cp1252.read_bytes()  # really Windows-1252 bytes
    result = read_delivery("connections", connections_cp1252)
    check_accounted("connections", result)
    assert result.n_rows_read == 10
    assert findings(result) == CONNECTIONS_QUARANTINE
    assert result.dropped_columns == ["Klantnaam", "Telefoon"]

    frame = result.frame
    assert frame["ean"].to_list() == [EAN[0], EAN[1], EAN[4], EAN[5], EAN[6]]
    first = frame.row(0, named=True)
    assert first["straatnaam"] == STREET and first["woonplaats"] == "Zoë’s Dorp"
    assert (first["x"], first["y"], first["huisnummer"]) == (155000.5, 463000.25, 12)
    assert first["bag_id"] == "0457010000000001" and first["huisnummertoevoeging"] == "A-1"
    assert frame["product"].to_list() == ["ELK", "GAS", "GAS", "ELK", "ELK"]
    assert (
        frame.filter(pl.col("ean") == EAN[5])["locatieomschrijving"].item() == "OV lichtmast t.o. nr 12, Café ‘t Hoekje"
    )
    blank = frame.filter(pl.col("ean") == EAN[6]).row(0, named=True)
    assert (blank["straatnaam"], blank["huisnummertoevoeging"], blank["huisnummer"]) == (None, None, 7)
    assert result.flagged == {
        "netbeheerder_required": 0,
        "huisnummer_range": 1,
        "postcode_format": 1,
        "bag_id_format": 0,
        "bag_id_filled": 4,
        "fysieke_status_known": 1,
        "address_or_description_present": 1,
    }
    # per row and rule, quarantined rows included, with the netbeheerder as holder
    results = result.rule_results
    assert results.height == result.n_rows_read and results["holder"].null_count() < results.height
    assert (
        not results.filter(pl.col("row_number").is_in(result.quarantine["row_number"].implode()))[
            [r for r in results.columns if r.startswith(("ean_", "product_", "type_"))]
        ]
        .select(pl.all_horizontal(pl.all()))
        .to_series()
        .all()
    )


def test_quarantine_rows_say_what_is_wrong(connections_cp1252: Path) -> None:
    quarantine = read_delivery("connections", connections_cp1252).quarantine
    by_rule = {row["rule"]: row for row in quarantine.iter_rows(named=True)}
    assert by_rule["ean_unique"]["record_id"] == EAN[0]
    assert "repeats row 1" in by_rule["ean_unique"]["detail"]
    assert BAD_CHECK_DIGIT in by_rule["ean_check_digit"]["detail"]
    assert by_rule["ean_required"]["record_id"] is None
    assert by_rule["type_huisnummer"]["detail"] == "huisnummer = '12a' is not an integer"
    assert by_rule["product_enum"]["detail"] == "product = 'WATER' is not one of ELK, GAS"
    assert by_rule["type_x"]["detail"] == "x = 'abc' is not a finite number"


def test_comma_utf8_bom_and_parquet_read_the_same(connections_cp1252: Path, tmp_path: Path) -> None:
    reference = read_delivery("connections", connections_cp1252)
    comma = write_csv(
        tmp_path / "register_comma.csv", CONNECTIONS_HEADER, CONNECTIONS_ROWS, separator=",", encoding="utf-8-sig"
    )
    assert comma.read_bytes().startswith(b"\xef\xbb\xbf")
    parquet = write_text_parquet(tmp_path / "register.parquet", CONNECTIONS_HEADER, CONNECTIONS_ROWS)
    for path in (comma, parquet):
        result = read_delivery("connections", path)
        check_accounted("connections", result)
        assert result.frame.equals(reference.frame), path
        assert result.quarantine.equals(reference.quarantine), path
        assert result.dropped_columns == reference.dropped_columns
        assert result.flagged == reference.flagged


def test_typed_parquet_reads_like_its_csv(connections_cp1252: Path, tmp_path: Path) -> None:
    frame = read_delivery("connections", connections_cp1252).frame
    typed = tmp_path / "typed.parquet"
    frame.write_parquet(typed)
    result = read_delivery("connections", typed)
    check_accounted("connections", result)
    assert result.frame.equals(frame) and result.quarantine.is_empty() and result.dropped_columns == []


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    header = [
        "ean",
        "product",
        "netbeheerder",
        "straatnaam",
        "huisnummer",
        "huisnummertoevoeging",
        "postcode",
        "woonplaats",
        "fysieke_status",
    ]
    path = write_csv(
        tmp_path / "minimal.csv", header, [[EAN[0], "ELK", "Enexis", "Markt", "1", "", "1381AA", "Weesp", "IBD"]]
    )
    result = read_delivery("connections", path)
    check_accounted("connections", result)
    row = result.frame.row(0, named=True)
    assert row["x"] is None and row["bag_id"] is None and row["aansluitcapaciteit"] is None
    assert result.frame.schema == load_contract("connections").polars_schema


BAG_HEADER = [
    "Object_ID",
    "object_type",
    "nummeraanduiding_id",
    "HOOFDADRES",
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
    "eigenaar",
]


def bag_row(
    object_id: str,
    nummeraanduiding_id: str,
    *,
    object_type: str = "verblijfsobject",
    hoofdadres: str = "J",
    huisnummer: str = "1",
    gebruiksdoel: str = "woonfunctie",
    oppervlakte: str = "85",
    status: str = "Verblijfsobject in gebruik",
) -> list[str]:
    return [
        object_id,
        object_type,
        nummeraanduiding_id,
        hoofdadres,
        "Slijkstraat",
        huisnummer,
        "",
        "",
        "1381AA",
        "Weesp",
        "0457",
        gebruiksdoel,
        oppervlakte,
        status,
        "0457100000000001",
        "129000.5",
        "481000.25",
        "Visser",
    ]


BAG_ROWS = [
    bag_row("0457010000000001", "0457200000000001", gebruiksdoel="woonfunctie;kantoorfunctie"),  # 1
    bag_row("0457010000000001", "0457200000000002", hoofdadres="n", huisnummer="3"),  # 2 nevenadres
    bag_row("0457010000000001", "0457200000000001"),  # 3 repeated pair
    bag_row("0457010000000002", "0457200000000003", huisnummer="twaalf"),  # 4
    bag_row("457010000000003", "0457200000000004"),  # 5 lost its zero
    bag_row("0457010000000004", "", object_type="woonboot"),  # 6
    bag_row(
        "0457020000000001",
        "0457200000000005",
        object_type="ligplaats",
        hoofdadres="true",
        gebruiksdoel="",
        oppervlakte="",
        status="Plaats aangewezen",
    ),  # 7
    bag_row("0457010000000005", "0457200000000006", hoofdadres="misschien"),  # 8
]


def test_bag_csv(tmp_path: Path) -> None:
    result = read_delivery("bag", write_csv(tmp_path / "bag.csv", BAG_HEADER, BAG_ROWS, separator=","))
    check_accounted("bag", result)
    assert findings(result) == {
        3: ["object_address_unique"],
        4: ["type_huisnummer"],
        5: ["object_id_format"],
        6: ["object_type_enum", "nummeraanduiding_id_required"],
        8: ["type_hoofdadres"],
    }
    assert result.dropped_columns == ["eigenaar"]
    frame = result.frame
    assert frame["object_id"].to_list() == ["0457010000000001", "0457010000000001", "0457020000000001"]
    assert frame["hoofdadres"].to_list() == [True, False, True]
    assert frame["oppervlakte"].to_list() == [85, 85, None]
    assert frame["gebruiksdoel"].to_list() == ["woonfunctie;kantoorfunctie", "woonfunctie", None]
    record_ids = dict(zip(result.quarantine["rule"], result.quarantine["record_id"], strict=True))
    assert record_ids["object_address_unique"] == "0457010000000001/0457200000000001"
    assert record_ids["object_type_enum"] == "0457010000000004/"


def test_bag_parquet_with_numeric_ids_keeps_leading_zeros(tmp_path: Path) -> None:
    """An export that stored ids as integers lost the zeros; their width is known, so they come back."""
    path = tmp_path / "bag.parquet"
    pl.DataFrame(
        {
            "object_id": [457010000000001, 457010000000002],
            "object_type": ["verblijfsobject", "verblijfsobject"],
            "nummeraanduiding_id": [457200000000001, 457200000000002],
            "hoofdadres": [True, True],
            "openbare_ruimte_naam": ["Slijkstraat", "Slijkstraat"],
            "huisnummer": pl.Series([1, 2], dtype=pl.Int32),
            "huisletter": [None, "b"],
            "huisnummertoevoeging": [None, None],
            "postcode": ["1381AA", "1381AA"],
            "woonplaats_naam": ["Weesp", "Weesp"],
            "gemeente_code": ["0457", "0457"],
            "gebruiksdoel": ["woonfunctie", "woonfunctie"],
            "oppervlakte": [80.0, 80.5],
        }
    ).with_columns(status=pl.lit("Verblijfsobject in gebruik")).write_parquet(path)
    result = read_delivery("bag", path)
    check_accounted("bag", result)
    assert result.frame["object_id"].to_list() == ["0457010000000001"]
    assert result.frame["nummeraanduiding_id"].to_list() == ["0457200000000001"]
    assert result.frame["oppervlakte"].to_list() == [80]
    assert findings(result) == {2: ["type_oppervlakte"]}
    assert result.quarantine["detail"].item() == "oppervlakte = '80.5' is not an integer"


CONSUMPTION_HEADER = ["EAN", "Year", "Product", "Volume", "Unit"]
CONSUMPTION_ROWS = [
    [EAN[0], "2024", "ELK", "3512,5", "kWh"],  # 1 decimal comma
    [EAN[1], "2024", "GAS", "1.234,5", "M3"],  # 2 Dutch thousands; unit in another case
    [EAN[0], "2024", "ELK", "12", "kWh"],  # 3 same (ean, year, product) as row 1
    [EAN[2], "2O24", "ELK", "10", "kWh"],  # 4 letter O in the year
    [EAN[3], "2024", "ELK", "-3", "kWh"],  # 5 negative
    [EAN[4], "2024", "ELK", "10", "MWh"],  # 6 unknown unit
    [EAN[5], "2024", "GAS", "10", "kWh"],  # 7 unit of the other product
    [EAN[6], "2024", "GAS", "", "m3"],  # 8 no volume
    [EAN[7], "2024", "GAS", "n.v.t.", "m3"],  # 9 text in a number column
    [EAN[8], "2023", "ELK", "0", "kwh"],  # 10 zero is fine
]


def test_consumption_csv(tmp_path: Path) -> None:
    result = read_delivery("consumption", write_csv(tmp_path / "verbruik.csv", CONSUMPTION_HEADER, CONSUMPTION_ROWS))
    check_accounted("consumption", result)
    assert findings(result) == {
        3: ["consumption_key_unique"],
        4: ["type_year"],
        5: ["volume_non_negative"],
        6: ["unit_matches_product", "unit_enum"],
        7: ["unit_matches_product"],
        8: ["volume_required"],
        9: ["type_volume"],
    }
    assert result.frame.rows() == [
        (EAN[0], 2024, "ELK", 3512.5, "kWh"),
        (EAN[1], 2024, "GAS", 1234.5, "m3"),
        (EAN[8], 2023, "ELK", 0.0, "kWh"),
    ]


def test_decimal_point_column(tmp_path: Path) -> None:
    rows = [[EAN[0], "2024", "ELK", "3512.5", "kWh"], [EAN[1], "2024", "GAS", "1e3", "m3"]]
    result = read_delivery("consumption", write_csv(tmp_path / "c.csv", CONSUMPTION_HEADER, rows))
    assert result.frame["volume"].to_list() == [3512.5, 1000.0]


def test_what_ingestion_lets_through_passes_the_contract_in_datacontract_cli(tmp_path: Path) -> None:
    """The rows kept from messy deliveries pass every check datacontract-cli derives from the contracts."""
    from datacontract.data_contract import DataContract

    deliveries = {
        "consumption": write_csv(tmp_path / "verbruik.csv", CONSUMPTION_HEADER, CONSUMPTION_ROWS),
        "bag": write_csv(tmp_path / "bag.csv", BAG_HEADER, BAG_ROWS),
    }
    for kind, path in deliveries.items():
        result = read_delivery(kind, path)
        assert result.quarantine.height and not any(result.flagged.values())
        result.frame.write_parquet(tmp_path / f"{kind}.parquet")
        document = dict(load_contract(kind).document)
        document["servers"] = [
            {"server": "local", "type": "local", "path": str(tmp_path / f"{kind}.parquet"), "format": "parquet"}
        ]
        run = DataContract(data_contract_str=yaml.safe_dump(document)).test()
        assert not [c.name for c in run.checks if c.result in ("failed", "error")], run.pretty()


# --- files that cannot be used at all -----------------------------------------------------------


def test_missing_required_columns_name_file_and_columns(tmp_path: Path) -> None:
    header = [name for name in CONNECTIONS_HEADER if name not in (" Product ", "Fysieke_Status")]
    rows = [row[:1] + row[2:12] + row[13:] for row in CONNECTIONS_ROWS]
    path = write_csv(tmp_path / "no_product.csv", header, rows)
    with pytest.raises(InputError) as caught:
        read_delivery("connections", path)
    message = str(caught.value)
    assert str(path) in message and "missing required column(s) product, fysieke_status" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.csv", b"", "empty"),
        ("bom_only.csv", b"\xef\xbb\xbf", "empty"),
        ("header_only.csv", b"ean;year;product;volume;unit\r\n", "no data rows"),
        ("not_text.csv", b"ean;year\n\x81\x8d\x8f;2024\n", "neither UTF-8 nor Windows-1252"),
        ("ragged.csv", b"ean;year;product;volume;unit\n1;2;3;4;5;6;7\n", "the header has 5 fields, row 1 has 7"),
        ("broken.parquet", b"PAR1 this is not parquet", "unreadable Parquet"),
        ("verbruik.xlsx", b"PK\x03\x04", "unsupported file type '.xlsx'"),
        ("twice.csv", b"EAN;ean;year;product;volume;unit\n1;1;2024;ELK;1;kWh\n", "'EAN' and 'ean' are the same column"),
        ("repeated.csv", b"ean;ean;year;product;volume;unit\n1;1;2024;ELK;1;kWh\n", "ean appear more than once"),
    ],
)
def test_unusable_files_raise_input_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_delivery("consumption", path)
    message = str(caught.value)
    assert message.startswith(f"consumption delivery {path}: ") and problem in message and "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"connections delivery .*nowhere\.csv: file not found"):
        read_delivery("connections", tmp_path / "nowhere.csv")


# --- the LVBAG extract path --------------------------------------------------------------------


def test_bag_extract_goes_through_the_lvbag_reader_and_the_same_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A BAG delivery that is not CSV or Parquet is handed to ingestion.lvbag; its frame is validated alike."""
    extract = tmp_path / "BAGGEM0457L-15112026.zip"
    extract.write_bytes(b"PK\x03\x04")
    typed = pl.DataFrame([list(column) for column in zip(*BAG_ROWS, strict=True)], schema=BAG_HEADER, orient="col")
    calls: list[Path] = []
    fake = types.ModuleType("ingestion.lvbag")
    fake.is_lvbag_extract = lambda path: path.suffix == ".zip"  # type: ignore[attr-defined]
    fake.read_lvbag_extract = lambda path, peildatum=None: calls.append(path) or typed  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ingestion.lvbag", fake)

    result = read_delivery("bag", extract)
    assert calls == [extract]
    check_accounted("bag", result)
    csv_result = read_delivery("bag", write_csv(tmp_path / "bag.csv", BAG_HEADER, BAG_ROWS))
    assert result.frame.equals(csv_result.frame) and result.quarantine.equals(csv_result.quarantine)

    other = tmp_path / "notes.zip"
    other.write_bytes(b"")
    fake.is_lvbag_extract = lambda path: False  # type: ignore[attr-defined]
    with pytest.raises(InputError, match="neither CSV, Parquet nor an LVBAG extract"):
        read_delivery("bag", other)
