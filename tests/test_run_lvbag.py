"""`koppelwerk run --bag <real LVBAG gemeente extract>`: Weesp's BAG with a register made from it."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from core.ean import with_check_digit
from ingestion.lvbag import read_lvbag_extract
from koppelwerk.cli import main

WEESP = "weesp-0457-2021/BAGGEM0457L-15102021.zip"
ACTIVE = ["Verblijfsobject in gebruik", "Verblijfsobject in gebruik (niet ingemeten)", "Plaats aangewezen"]


def _ean(sequence: int) -> str:
    return with_check_digit(f"87160000{sequence:09d}")


def _register_from_bag(bag: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A grid operator's register for 400 real Weesp addresses, written the way registers write
    them (fused suffix, lower-case spaced postcode, no BAG id on half), plus street furniture and
    an address no BAG object carries. Returns (connections, the object each EAN truly serves)."""
    served = (
        bag.filter(pl.col("hoofdadres") & pl.col("status").is_in(ACTIVE) & pl.col("postcode").is_not_null())
        .sort("object_id")
        .gather_every(25)
        .head(400)
    )
    n = served.height
    fused = pl.concat_str(
        [
            pl.col("huisletter").fill_null(""),
            pl.when(pl.col("huisnummertoevoeging").is_not_null())
            .then(pl.lit("-") + pl.col("huisnummertoevoeging"))
            .otherwise(pl.lit("")),
        ]
    )
    addressed = served.select(
        ean=pl.Series([_ean(i) for i in range(n)]),
        product=pl.lit("ELK"),
        netbeheerder=pl.lit("Netbeheer Amstelland"),
        straatnaam="openbare_ruimte_naam",
        huisnummer="huisnummer",
        huisnummertoevoeging=pl.when(fused == "").then(None).otherwise(fused),
        postcode=pl.col("postcode").str.slice(0, 4) + " " + pl.col("postcode").str.slice(4).str.to_lowercase(),
        woonplaats=pl.col("woonplaats_naam").str.to_uppercase(),
        locatieomschrijving=pl.lit(None, dtype=pl.String),
        bag_id=pl.when(pl.int_range(pl.len()) % 2 == 0).then(pl.col("object_id")).otherwise(None),
        fysieke_status=pl.lit("IBD"),
    )
    first = served.row(0, named=True)
    extra = pl.DataFrame(
        {
            "ean": [_ean(n), _ean(n + 1), _ean(n + 2)],
            "product": ["ELK"] * 3,
            "netbeheerder": ["Netbeheer Amstelland"] * 3,
            "straatnaam": [first["openbare_ruimte_naam"], None, first["openbare_ruimte_naam"]],
            "huisnummer": [first["huisnummer"], None, 99999],
            "huisnummertoevoeging": [None, None, None],
            "postcode": [first["postcode"], None, first["postcode"]],
            "woonplaats": ["Weesp", "Weesp", "Weesp"],
            "locatieomschrijving": [f"OVL mast t.o. nr {first['huisnummer']}", "straatklok Nieuwstad", None],
            "bag_id": [None, None, None],
            "fysieke_status": ["in bedrijf"] * 3,
        },
        schema=addressed.schema,
    )
    truth = addressed.select("ean", object_id=served["object_id"])
    return pl.concat([addressed, extra]), truth


def test_run_on_a_real_lvbag_extract(lvbag_dir: Path, tmp_path: Path, dagster_home: Path) -> None:
    extract = lvbag_dir / WEESP
    bag = read_lvbag_extract(extract)
    connections, truth = _register_from_bag(bag)
    connections.write_csv(tmp_path / "connections.csv", separator=",")
    connections.select(
        "ean", year=pl.lit(2021), product="product", volume=pl.lit(2500.0), unit=pl.lit("kWh")
    ).write_parquet(tmp_path / "consumption.parquet")

    assert (
        main(
            [
                "run",
                "--bag",
                str(extract),
                "--connections",
                str(tmp_path / "connections.csv"),
                "--consumption",
                str(tmp_path / "consumption.parquet"),
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )

    links = pl.read_parquet(tmp_path / "out" / "links.parquet")
    residue = pl.read_parquet(tmp_path / "out" / "residue.parquet")
    assert links["ean"].n_unique() + residue.height == connections.height
    # no address the register took from BAG links to another object; those with the registered id
    # all link, and of the rest only numbers where BAG also has suffixed units may stay ambiguous
    assert links.join(truth, on="ean").filter(pl.col("object_id") != pl.col("object_id_right")).height == 0
    correct = links.join(truth, on=["ean", "object_id"], how="inner")
    with_id = connections.filter(pl.col("bag_id").is_not_null())
    assert with_id.join(correct, on="ean", how="anti").height == 0
    missed = truth.join(correct, on="ean", how="anti")
    suffixed_numbers = bag.filter(pl.col("huisletter").is_not_null() | pl.col("huisnummertoevoeging").is_not_null())
    ambiguous = (
        missed.join(connections, on="ean")
        .filter(pl.col("bag_id").is_null() & pl.col("huisnummertoevoeging").is_null())
        .join(bag.select("object_id", "postcode", "huisnummer"), on="object_id")
        .join(suffixed_numbers.select("postcode", "huisnummer").unique(), on=["postcode", "huisnummer"], how="semi")
    )
    assert ambiguous["ean"].sort().to_list() == missed["ean"].sort().to_list()
    classes = dict(residue.select("ean", "residue_class").rows())
    assert classes[connections["ean"][-3]] == "public_lighting"
    assert classes[connections["ean"][-2]] == "street_clock"
    assert classes[connections["ean"][-1]] == "not_in_bag"
    statistics = pl.read_parquet(tmp_path / "out" / "public" / "sector_energy_statistics.parquet")
    gemeenten = statistics.filter(pl.col("region_level") == "gemeente")["region_code"]
    assert set(gemeenten) <= {"0457", "onbekend"} and "0457" in set(gemeenten)
    woonplaatsen = set(statistics.filter(pl.col("region_level") == "woonplaats")["region_code"])
    assert "Weesp (0457)" in woonplaatsen
