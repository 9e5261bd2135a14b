"""The LVBAG 2.0 XML reader on real Kadaster extracts (Weesp 2021, NLExtract's Doesburg test data).

Expected figures are never taken from the reader: a small independent oracle below reads the same
zips with the standard library (nested zips into memory, regular expressions over each
`<sl:stand>` block) and applies the BAG history rule itself. The Weesp figures are also checked
against the ones measured when the file was fetched (its SOURCE.txt).
"""

from __future__ import annotations

import html
import io
import logging
import re
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from core.errors import InputError
from data_contracts import load_contract
from ingestion.lvbag import bag_schema, is_lvbag_extract, read_lvbag_extract

EXTRACT_DAY_WEESP = date(2021, 10, 15)
EARLIER_DAY = date(2015, 1, 1)
INTERFACE_COLUMNS = [
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
]
ACTIVE_VBO_STATUSES = {
    "Verblijfsobject in gebruik",
    "Verblijfsobject in gebruik (niet ingemeten)",
    "Verbouwing verblijfsobject",
    "Verblijfsobject buiten gebruik",
}
OBJECT_TYPE_OF = {"VBO": "verblijfsobject", "LIG": "ligplaats", "STA": "standplaats"}
TYPE_CODE_OF = {"verblijfsobject": "01", "ligplaats": "02", "standplaats": "03"}


# --- the independent oracle ----------------------------------------------------------------------


class Voorkomen:
    """One `<sl:stand>` block: an object as it was during one period of its history."""

    def __init__(self, block: str) -> None:
        self.block = block
        self.identificatie = _tag(block, "Objecten:identificatie")
        self.number = int(_tag(block, "Historie:voorkomenidentificatie"))
        self.begin = _tag(block, "Historie:beginGeldigheid")
        self.end = _tag(block, "Historie:eindGeldigheid")
        self.end_registration = _tag(block, "Historie:eindRegistratie")

    def valid_on(self, day: date) -> bool:
        iso = day.isoformat()
        if self.end is None:
            return self.end_registration is None and self.begin <= iso
        return self.begin <= iso < self.end

    def value(self, name: str) -> str | None:
        return _tag(self.block, f"Objecten:{name}")

    def refs(self, wrapper: str) -> list[str]:
        inner = re.findall(rf"<Objecten:{wrapper}>(.*?)</Objecten:{wrapper}>", self.block, re.S)
        return [ref for part in inner for ref in re.findall(r"Ref[^>]*>\s*([0-9]+)\s*<", part)]


def _tag(block: str, name: str) -> str | None:
    found = re.search(rf"<{name}(?:\s[^>]*)?>([^<]*)</{name}>", block)
    return html.unescape(found.group(1).strip()) if found else None


SKIPPED_PARTS = ("InOnderzoek", "Inactief", "NietBag", "PND")


def _xml_members(data: bytes) -> dict[str, bytes]:
    """Every XML file inside nested zips, by base name (side files and panden left out)."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            base = name.rsplit("/", 1)[-1]
            if base.startswith("._") or any(part in base for part in SKIPPED_PARTS):
                continue
            if base.endswith(".zip"):
                found.update(_xml_members(zf.read(name)))
            elif base.endswith(".xml"):
                found[base] = zf.read(name)
    return found


class Oracle:
    """All voorkomens of an extract, and each object's state on a day by the BAG history rule."""

    def __init__(self, path: Path) -> None:
        self.voorkomens: dict[str, list[Voorkomen]] = {}
        self.members = _xml_members(path.read_bytes())
        for name, data in self.members.items():
            kind = re.search(r"(VBO|LIG|STA|NUM|OPR|WPL)\d{8}-\d+\.xml$", name)
            if kind:
                # NLExtract's test data comments out a nevenadres: comments are no data.
                text = re.sub(r"<!--.*?-->", "", data.decode("utf-8"), flags=re.S)
                blocks = re.findall(r"<sl:stand>(.*?)</sl:stand>", text, re.S)
                self.voorkomens.setdefault(kind.group(1), []).extend(Voorkomen(b) for b in blocks)

    def state_on(self, kind: str, day: date) -> dict[str, Voorkomen]:
        chosen: dict[str, Voorkomen] = {}
        for voorkomen in self.voorkomens.get(kind, []):
            if voorkomen.valid_on(day):
                held = chosen.get(voorkomen.identificatie)
                if held is None or (voorkomen.begin, voorkomen.number) > (held.begin, held.number):
                    chosen[voorkomen.identificatie] = voorkomen
        return chosen

    def expected_rows(self, day: date) -> pl.DataFrame:
        """(object, nummeraanduiding) pairs with street, woonplaats id and status, built by hand."""
        nums, oprs = self.state_on("NUM", day), self.state_on("OPR", day)
        wpls = self.state_on("WPL", day)
        rows = []
        for kind, object_type in OBJECT_TYPE_OF.items():
            for object_id, voorkomen in self.state_on(kind, day).items():
                addresses = [(ref, True) for ref in voorkomen.refs("heeftAlsHoofdadres")[:1]]
                addresses += [(ref, False) for ref in voorkomen.refs("heeftAlsNevenadres")]
                for num_id, main in addresses:
                    num = nums.get(num_id)
                    opr = oprs.get(num.refs("ligtAan")[0]) if num and num.refs("ligtAan") else None
                    wpl_id = (num.refs("ligtIn") if num else []) or (opr.refs("ligtIn") if opr else [None])
                    wpl = wpls.get(wpl_id[0]) if wpl_id[0] else None
                    rows.append(
                        {
                            "object_id": object_id,
                            "object_type": object_type,
                            "nummeraanduiding_id": num_id,
                            "hoofdadres": main,
                            "openbare_ruimte_naam": opr.value("naam") if opr else None,
                            "huisnummer": int(num.value("huisnummer")) if num else None,
                            "huisletter": num.value("huisletter") if num else None,
                            "huisnummertoevoeging": num.value("huisnummertoevoeging") if num else None,
                            "postcode": num.value("postcode") if num else None,
                            "woonplaats_naam": wpl.value("naam") if wpl else None,
                            "status": voorkomen.value("status"),
                        }
                    )
        schema = {name: bag_schema()[name] for name in rows[0]}
        return pl.DataFrame(rows, schema=schema).sort("object_id", "nummeraanduiding_id")


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weesp_path(lvbag_dir: Path) -> Path:
    return lvbag_dir / "weesp-0457-2021" / "BAGGEM0457L-15102021.zip"


@pytest.fixture(scope="module")
def small_path(lvbag_dir: Path) -> Path:
    return lvbag_dir / "nlextract-testdata" / "BAGNLDL-15092020-small.zip"


@pytest.fixture(scope="module")
def weesp_oracle(weesp_path: Path) -> Oracle:
    return Oracle(weesp_path)


@pytest.fixture(scope="module")
def weesp(weesp_path: Path) -> pl.DataFrame:
    return read_lvbag_extract(weesp_path)


@pytest.fixture(scope="module")
def weesp_earlier(weesp_path: Path) -> pl.DataFrame:
    return read_lvbag_extract(weesp_path, peildatum=EARLIER_DAY)


def _objects(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("hoofdadres"))


def _status_counts(frame: pl.DataFrame) -> Counter[tuple[str, str]]:
    return Counter(_objects(frame).select("object_type", "status").iter_rows())


def _oracle_status_counts(oracle: Oracle, day: date) -> Counter[tuple[str, str]]:
    return Counter(
        (object_type, voorkomen.value("status"))
        for kind, object_type in OBJECT_TYPE_OF.items()
        for voorkomen in oracle.state_on(kind, day).values()
    )


# --- Weesp on the extract date -------------------------------------------------------------------


def test_columns_and_types_are_the_interface(weesp: pl.DataFrame) -> None:
    assert weesp.columns == INTERFACE_COLUMNS
    assert weesp.schema == load_contract("bag").polars_schema
    assert weesp.schema["huisnummer"].is_integer() and weesp.schema["oppervlakte"].is_integer()
    assert weesp.schema["hoofdadres"] == pl.Boolean and weesp.schema["x"] == pl.Float64


def test_counts_per_type_and_status_agree_with_the_xml(weesp: pl.DataFrame, weesp_oracle: Oracle) -> None:
    assert _status_counts(weesp) == _oracle_status_counts(weesp_oracle, EXTRACT_DAY_WEESP)
    per_type = Counter(_objects(weesp)["object_type"])
    assert per_type == {"verblijfsobject": 12_509, "ligplaats": 167, "standplaats": 13}  # SOURCE.txt
    vbo_status = _objects(weesp).filter(pl.col("object_type") == "verblijfsobject")["status"]
    assert vbo_status.is_in(list(ACTIVE_VBO_STATUSES)).sum() == 11_046  # SOURCE.txt


def test_on_the_extract_date_the_reader_takes_the_plain_current_voorkomen(
    weesp: pl.DataFrame, weesp_oracle: Oracle
) -> None:
    """On the extract date the reader's choice of voorkomen is the simplest one there is: the one
    with neither eindGeldigheid nor eindRegistratie. Checked object by object (status) and
    address by address (postcode, number, letter, street), against the raw blocks."""
    current = {
        kind: {v.identificatie: v for v in voorkomens if v.end is None and v.end_registration is None}
        for kind, voorkomens in weesp_oracle.voorkomens.items()
    }
    for kind, object_type in OBJECT_TYPE_OF.items():
        read = _objects(weesp).filter(pl.col("object_type") == object_type)
        assert dict(read.select("object_id", "status").iter_rows()) == {
            object_id: voorkomen.value("status") for object_id, voorkomen in current[kind].items()
        }, kind
    streets = {opr_id: opr.value("naam") for opr_id, opr in current["OPR"].items()}
    addresses = weesp.select(
        "nummeraanduiding_id", "postcode", "huisnummer", "huisletter", "openbare_ruimte_naam"
    ).unique()
    assert addresses.height == len(current["NUM"])
    for num_id, postcode, huisnummer, huisletter, street in addresses.iter_rows():
        num = current["NUM"][num_id]
        assert (postcode, huisnummer, huisletter) == (
            num.value("postcode"),
            int(num.value("huisnummer")),
            num.value("huisletter"),
        ), num_id
        assert street == streets[num.refs("ligtAan")[0]], num_id


def test_one_row_per_object_address_and_one_hoofdadres(weesp: pl.DataFrame, weesp_oracle: Oracle) -> None:
    assert weesp.select("object_id", "nummeraanduiding_id").is_duplicated().sum() == 0
    assert weesp["nummeraanduiding_id"].null_count() == 0
    per_object = weesp.group_by("object_id").agg(pl.col("hoofdadres").sum())
    assert (per_object["hoofdadres"] == 1).all()
    nevenadressen = sum(
        len(v.refs("heeftAlsNevenadres"))
        for kind in OBJECT_TYPE_OF
        for v in weesp_oracle.state_on(kind, EXTRACT_DAY_WEESP).values()
    )
    assert nevenadressen > 0
    assert (~weesp["hoofdadres"]).sum() == nevenadressen
    assert weesp.height == per_object.height + nevenadressen


def test_addresses_resolve_as_the_xml_says(weesp: pl.DataFrame, weesp_oracle: Oracle) -> None:
    expected = weesp_oracle.expected_rows(EXTRACT_DAY_WEESP)
    got = weesp.select(expected.columns).sort("object_id", "nummeraanduiding_id")
    assert got.equals(expected)
    # SOURCE.txt's nummeraanduiding figures: every current one is the address of some object here.
    nums = weesp_oracle.state_on("NUM", EXTRACT_DAY_WEESP)
    assert len(nums) == 12_694 and set(weesp["nummeraanduiding_id"]) == set(nums)
    assert weesp["postcode"].null_count() == 162
    assert weesp["huisletter"].is_not_null().sum() == 1_620
    assert weesp["huisnummertoevoeging"].is_not_null().sum() == 393
    assert weesp["openbare_ruimte_naam"].null_count() == 0


def test_ids_codes_and_values_look_like_bag(weesp: pl.DataFrame) -> None:
    assert weesp["object_id"].str.contains(r"^[0-9]{4}0[123][0-9]{10}$").all()
    assert weesp["nummeraanduiding_id"].str.contains(r"^[0-9]{4}20[0-9]{10}$").all()
    type_codes = pl.col("object_type").replace_strict(TYPE_CODE_OF)
    assert weesp.select(pl.col("object_id").str.slice(4, 2) == type_codes).to_series().all()
    # Some objects were created by Muiden (0424) and lie in Weesp: the id keeps its origin, the gemeente is Weesp.
    assert weesp["object_id"].str.starts_with("0424").any()
    assert set(weesp["gemeente_code"]) == {"0457"}
    assert set(weesp["woonplaats_naam"]) == {"Weesp"}
    assert weesp["postcode"].drop_nulls().str.contains(r"^[1-9][0-9]{3}[A-Z]{2}$").all()
    assert set(weesp["postcode"].drop_nulls().str.slice(0, 4)) == {"1381", "1382", "1383", "1384"}
    assert weesp["postcode"].drop_nulls().n_unique() == 634  # SOURCE.txt


def test_verblijfsobject_fields(weesp: pl.DataFrame, weesp_oracle: Oracle) -> None:
    vbo = _objects(weesp).filter(pl.col("object_type") == "verblijfsobject")
    others = _objects(weesp).filter(pl.col("object_type") != "verblijfsobject")
    assert others.select("gebruiksdoel", "oppervlakte", "pand_id").null_count().row(0) == (others.height,) * 3
    assert vbo["pand_id"].str.contains(r"^[0-9]{4}10[0-9]{10}$").all()
    state = weesp_oracle.state_on("VBO", EXTRACT_DAY_WEESP)
    for row in vbo.sample(300, seed=1).iter_rows(named=True):
        voorkomen = state[row["object_id"]]
        doelen = re.findall(r"<Objecten:gebruiksdoel>([^<]*)<", voorkomen.block)
        assert row["gebruiksdoel"] == ";".join(sorted(doelen))
        assert row["oppervlakte"] == int(voorkomen.value("oppervlakte"))
        assert row["pand_id"] == voorkomen.refs("maaktDeelUitVan")[0]
        x, y = re.search(r"<gml:pos>([^<]*)</gml:pos>", voorkomen.block).group(1).split()[:2]
        assert (row["x"], row["y"]) == (float(x), float(y))
    assert vbo.filter(pl.col("gebruiksdoel").str.contains(";")).height > 0


def test_ligplaats_and_standplaats_points_are_polygon_centroids(weesp: pl.DataFrame, weesp_oracle: Oracle) -> None:
    places = _objects(weesp).filter(pl.col("object_type") != "verblijfsobject")
    for row in places.iter_rows(named=True):
        kind = "LIG" if row["object_type"] == "ligplaats" else "STA"
        block = weesp_oracle.state_on(kind, EXTRACT_DAY_WEESP)[row["object_id"]].block
        ring = re.search(r"<gml:posList[^>]*>([^<]*)<", block)
        values = [float(v) for v in ring.group(1).split()]
        xs, ys = values[0::2], values[1::2]
        assert min(xs) < row["x"] < max(xs) and min(ys) < row["y"] < max(ys)
    # This berth is a rectangle up to its millimetre-rounded corners: its centroid is its centre.
    first = places.filter(pl.col("object_id") == "0457020000000001").row(0, named=True)
    assert first["x"] == pytest.approx((133449.866 + 133447.119) / 2, abs=0.005)
    assert first["y"] == pytest.approx((477876.017 + 477858.604) / 2, abs=0.005)


# --- peildatum -----------------------------------------------------------------------------------


def test_earlier_peildatum_gives_the_historical_state(
    weesp: pl.DataFrame, weesp_earlier: pl.DataFrame, weesp_oracle: Oracle
) -> None:
    assert _status_counts(weesp_earlier) == _oracle_status_counts(weesp_oracle, EARLIER_DAY)
    expected = weesp_oracle.expected_rows(EARLIER_DAY)
    assert weesp_earlier.select(expected.columns).sort("object_id", "nummeraanduiding_id").equals(expected)
    assert _objects(weesp_earlier).height < _objects(weesp).height
    # Found in the file: this Muiden-made dwelling was in use on 2015-01-01 and is withdrawn since.
    assert _status_of(weesp_earlier, "0424010000001635") == "Verblijfsobject in gebruik"
    assert _status_of(weesp, "0424010000001635") == "Verblijfsobject ingetrokken"
    # Woonplaats 1012 "Weesp" was replaced by 3631 "Weesp" on 2016-01-01: addresses of both periods resolve ...
    assert weesp_earlier["woonplaats_naam"].drop_nulls().unique().to_list() == ["Weesp"]
    # ... except that in 2015 some Muiden-made objects still had Muiden addresses (postcode 1398, streets
    # of gemeente 0424 that a Weesp extract does not hold): kept, with the parts that are known.
    unresolved = weesp_earlier.filter(pl.col("woonplaats_naam").is_null())
    assert unresolved.height > 0
    assert unresolved["object_id"].str.starts_with("0424").all() and unresolved["openbare_ruimte_naam"].is_null().all()
    assert unresolved["postcode"].str.starts_with("1398").all() and unresolved["huisnummer"].is_not_null().all()


def test_peildatum_before_an_object_existed_leaves_it_out(weesp_path: Path, weesp_oracle: Oracle) -> None:
    day = date(2010, 1, 1)
    frame = read_lvbag_extract(weesp_path, peildatum=day)
    assert set(frame["object_id"]) == {
        object_id for kind in OBJECT_TYPE_OF for object_id in weesp_oracle.state_on(kind, day)
    }


def _status_of(frame: pl.DataFrame, object_id: str) -> str:
    return _objects(frame).filter(pl.col("object_id") == object_id)["status"].item()


# --- the national layout ('9999' per-type zips at the top) ---------------------------------------


def test_national_layout_reads_and_skips_junk(small_path: Path) -> None:
    with zipfile.ZipFile(small_path) as zf:
        top = zf.namelist()
    assert ".DS_Store" in top and any("NietBag" in name for name in top)
    oracle = Oracle(small_path)
    day = date(2020, 9, 15)
    frame = read_lvbag_extract(small_path)
    assert frame.schema == bag_schema()
    assert _status_counts(frame) == _oracle_status_counts(oracle, day)
    expected = oracle.expected_rows(day)
    assert frame.select(expected.columns).sort("object_id", "nummeraanduiding_id").equals(expected)
    assert set(frame["gemeente_code"]) == {"0221"} and set(frame["woonplaats_naam"]) == {"Doesburg"}
    # The test data holds a nummeraanduiding with two open voorkomens: the latest one is taken.
    open_ones = [v for v in oracle.voorkomens["NUM"] if v.identificatie == "0221200000330998" and v.valid_on(day)]
    assert sorted(v.number for v in open_ones) == [1, 3]
    # Nevenadressen of standplaatsen count too; the one NLExtract commented out in a ligplaats does not.
    assert (~frame.filter(pl.col("object_type") == "standplaats")["hoofdadres"]).sum() == 2
    assert frame.filter(pl.col("object_type") == "ligplaats")["hoofdadres"].all()


def test_inner_zips_read_the_same_stored_or_deflated(small_path: Path, tmp_path: Path) -> None:
    """Kadaster stores inner zips (read through a window); a re-packed, deflated copy must read alike."""
    repacked = tmp_path / "BAGNLDL-15092020-repacked.zip"
    with zipfile.ZipFile(small_path) as source, zipfile.ZipFile(repacked, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    with zipfile.ZipFile(repacked) as zf:
        assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_DEFLATED}
    assert read_lvbag_extract(repacked).equals(read_lvbag_extract(small_path))


def test_without_leveringsdocument_the_date_comes_from_the_member_names(small_path: Path, tmp_path: Path) -> None:
    bare = tmp_path / "extract.zip"
    with zipfile.ZipFile(small_path) as source, zipfile.ZipFile(bare, "w") as target:
        for info in source.infolist():
            if info.filename != "Leveringsdocument-BAG-Extract.xml":
                target.writestr(info, source.read(info))
    assert is_lvbag_extract(bare)
    assert read_lvbag_extract(bare).equals(read_lvbag_extract(small_path, peildatum=date(2020, 9, 15)))


def test_progress_and_counts_are_logged(small_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="koppelwerk.ingestion.lvbag"):
        read_lvbag_extract(small_path)
    messages = [r.getMessage() for r in caplog.records if r.name == "koppelwerk.ingestion.lvbag"]
    assert any(m.startswith("chunk 1/7 ") and "valid on 2020-09-15" in m for m in messages)
    assert any(m.startswith("verblijfsobject on 2020-09-15: 2 objects, 2 nevenadressen") for m in messages)


# --- what is not an extract ----------------------------------------------------------------------


def test_sniff(weesp_path: Path, small_path: Path, lvbag_dir: Path, tmp_path: Path) -> None:
    assert is_lvbag_extract(weesp_path) and is_lvbag_extract(small_path)
    assert is_lvbag_extract(lvbag_dir / "nlextract-testdata" / "0221PND15092020.zip")
    other = tmp_path / "notes.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("README.md", "not BAG")
        zf.writestr("data.csv", "a;b\n1;2\n")
    text = tmp_path / "bag.txt"
    text.write_text("hello")
    assert not is_lvbag_extract(other) and not is_lvbag_extract(text) and not is_lvbag_extract(tmp_path / "none.zip")


def _raises_naming(path: Path, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        read_lvbag_extract(path)
    message = str(caught.value)
    assert str(path) in message and fragment in message and "\n" not in message


def test_a_zip_that_is_not_an_extract(tmp_path: Path, lvbag_dir: Path) -> None:
    other = tmp_path / "notes.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("README.md", "not BAG")
    _raises_naming(other, "incomplete LVBAG extract: no VBO, LIG, STA, NUM, OPR, WPL, GWR chunks")
    _raises_naming(lvbag_dir / "nlextract-testdata" / "0221PND15092020.zip", "chunks found: none the reader reads")
    _raises_naming(tmp_path / "absent.zip", "file not found")


def test_corrupt_files(tmp_path: Path, weesp_path: Path, small_path: Path) -> None:
    truncated = tmp_path / weesp_path.name
    truncated.write_bytes(weesp_path.read_bytes()[:200_000])
    assert is_lvbag_extract(truncated)
    _raises_naming(truncated, "not a readable LVBAG extract")
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 10)
    _raises_naming(garbage, "not a readable LVBAG extract")

    broken_xml = tmp_path / "BAGNLDL-15092020-broken.zip"
    with zipfile.ZipFile(small_path) as source, zipfile.ZipFile(broken_xml, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "9999VBO15092020.zip":
                data = _with_truncated_member(data, "0221VBO15092020-000001.xml")
            target.writestr(info, data)
    _raises_naming(broken_xml, "9999VBO15092020.zip/0221VBO15092020-000001.xml")


def _with_truncated_member(zip_bytes: bytes, member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data[: len(data) // 2] if info.filename == member else data)
    return buffer.getvalue()
