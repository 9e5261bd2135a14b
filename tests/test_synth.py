"""The sample data generator: deterministic, in the canonical formats, and hard in the documented ways.

The expected schemas are written out here from ../shared/spec/interfaces.md (not imported from
synth), so a drift on either side fails. Noise rates are checked against the records each kind is
eligible for, recomputed here from BAG and the truth files.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import polars as pl
import pytest
import yaml

import synth
from synth.vocabulary import ABBREVIABLE_PATTERN

DOCS = Path(__file__).resolve().parents[1] / "docs" / "synth.md"
N_OBJECTS = 40_000  # two gemeenten; about 70,000 connections
SEED = 11

BAG_SCHEMA = {
    "object_id": pl.String,
    "object_type": pl.String,
    "nummeraanduiding_id": pl.String,
    "hoofdadres": pl.Boolean,
    "openbare_ruimte_naam": pl.String,
    "huisnummer": pl.Int32,
    "huisletter": pl.String,
    "huisnummertoevoeging": pl.String,
    "postcode": pl.String,
    "woonplaats_naam": pl.String,
    "gemeente_code": pl.String,
    "gebruiksdoel": pl.String,
    "oppervlakte": pl.Int32,
    "status": pl.String,
    "pand_id": pl.String,
    "x": pl.Float64,
    "y": pl.Float64,
}
CONNECTIONS_SCHEMA = {
    "ean": pl.String,
    "product": pl.String,
    "netbeheerder": pl.String,
    "straatnaam": pl.String,
    "huisnummer": pl.Int32,
    "huisnummertoevoeging": pl.String,
    "postcode": pl.String,
    "woonplaats": pl.String,
    "locatieomschrijving": pl.String,
    "bag_id": pl.String,
    "x": pl.Float64,
    "y": pl.Float64,
    "fysieke_status": pl.String,
    "aansluitcapaciteit": pl.String,
}
CONSUMPTION_SCHEMA = {"ean": pl.String, "year": pl.Int32, "product": pl.String, "volume": pl.Float64, "unit": pl.String}
LINKS_SCHEMA = {"ean": pl.String, "object_id": pl.String, "allocation_share": pl.Float64}
TRUTH_SCHEMA = {"ean": pl.String, "true_class": pl.String, "noise": pl.String}
RESIDUE_CLASSES = {
    "public_lighting",
    "street_clock",
    "bus_shelter",
    "traffic_signal",
    "telecom_cabinet",
    "ev_charger",
    "pumping_station",
    "construction_site",
    "market_event",
    "inactive",
    "not_in_bag",
    "unresolved",
}
INFRA_CLASSES = RESIDUE_CLASSES - {"inactive", "not_in_bag", "unresolved"}
WITHDRAWN = "Verblijfsobject ingetrokken"
UNDER_CONSTRUCTION = "Verblijfsobject gevormd"
ADDRESS_NOISE = (
    "nevenadres_used",
    "suffix_missing",
    "suffix_variant",
    "postcode_missing",
    "postcode_typo",
    "postcode_format",
    "street_abbreviation",
    "street_truncated",
    "street_typo",
    "woonplaats_missing",
    "woonplaats_gemeente",
    "woonplaats_old_spelling",
    "woonplaats_upper",
)
BAG_ID_NOISE = (
    "bag_id_missing",
    "bag_id_stale_withdrawn",
    "bag_id_stale_absent",
    "bag_id_wrong_sibling",
    "bag_id_wrong_random",
)


@pytest.fixture(scope="module")
def dataset() -> synth.SynthDataset:
    return synth.generate(N_OBJECTS, SEED)


@pytest.fixture(scope="module")
def register(dataset: synth.SynthDataset) -> pl.DataFrame:
    """Connections with their truth class and noise kinds."""
    return dataset.connections.join(dataset.truth_connections, on="ean", how="left", validate="1:1")


@pytest.fixture(scope="module")
def single(dataset: synth.SynthDataset, register: pl.DataFrame) -> pl.DataFrame:
    """Linked connections that serve one object, beside the facts about that object in BAG that
    decide which noise kinds can apply (its hoofdadres, nevenadres, predecessor, siblings)."""
    bag = dataset.bag
    hoofd = bag.filter("hoofdadres")
    predecessor_addresses = hoofd.filter(pl.col("status") == WITHDRAWN).select("nummeraanduiding_id")
    shared = hoofd.group_by("nummeraanduiding_id").agg(n=pl.len()).filter(pl.col("n") > 1).select("nummeraanduiding_id")
    predecessors = hoofd.join(shared, on="nummeraanduiding_id").filter(pl.col("status") == WITHDRAWN)
    units_per_pand = (
        hoofd.join(predecessors.select("object_id"), on="object_id", how="anti")
        .filter(pl.col("pand_id").is_not_null())
        .group_by("pand_id")
        .agg(pand_units=pl.len())
    )
    facts = (
        hoofd.select(
            "object_id",
            "pand_id",
            "nummeraanduiding_id",
            bag_street="openbare_ruimte_naam",
            bag_huisnummer="huisnummer",
            bag_letter="huisletter",
            bag_toevoeging="huisnummertoevoeging",
            bag_postcode="postcode",
            bag_woonplaats="woonplaats_naam",
        )
        .with_columns(
            has_predecessor=pl.col("nummeraanduiding_id").is_in(predecessor_addresses["nummeraanduiding_id"].implode())
            & ~pl.col("object_id").is_in(predecessors["object_id"].implode())
        )
        .join(units_per_pand, on="pand_id", how="left")
        .with_columns(
            has_nevenadres=pl.col("object_id").is_in(bag.filter(~pl.col("hoofdadres"))["object_id"].implode()),
            pand_units=pl.col("pand_units").fill_null(1),
        )
    )
    served = dataset.truth_links.group_by("ean").agg(pl.len(), pl.col("object_id").first())
    return (
        register.join(served.filter(pl.col("len") == 1).drop("len"), on="ean")
        .join(facts, on="object_id", how="left", validate="m:1")
        .with_columns(kinds=pl.col("noise").str.split(";"))
    )


def has(kind: str) -> pl.Expr:
    return pl.col("kinds").list.contains(kind)


def assert_rate(frame: pl.DataFrame, kind: str, expected: float) -> None:
    """Observed share of `kind` in frame within 4 standard errors (plus a little) of expected."""
    n = frame.height
    assert n >= 200, f"too few eligible records for {kind}: {n}"
    observed = frame.filter(has(kind)).height / n
    tolerance = 4 * math.sqrt(max(expected * (1 - expected), 1e-4) / n) + 0.005
    assert abs(observed - expected) <= tolerance, f"{kind}: {observed:.4f} observed, {expected} configured (n={n})"


# ---- determinism ---------------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


@pytest.mark.parametrize("connections_format", ["parquet", "csv"])
def test_same_seed_gives_byte_identical_files(tmp_path: Path, connections_format: str) -> None:
    for name in ("a", "b"):
        synth.write(synth.generate(3000, 5), tmp_path / name, connections_format=connections_format)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert set(first) == {
        "bag.parquet",
        f"connections.{connections_format}",
        "consumption.parquet",
        "truth/links.parquet",
        "truth/connections.parquet",
        "manifest.json",
    }
    assert first == second


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    one, other = synth.generate(3000, 5), synth.generate(3000, 6)
    for name in ("bag", "connections", "consumption", "truth_links"):
        assert not getattr(one, name).equals(getattr(other, name)), name


def test_changing_a_noise_rate_leaves_bag_alone() -> None:
    base = synth.generate(2000, 3)
    noisier = synth.generate(2000, 3, synth.NoiseConfig().with_overrides({"postcode_typo": 0.2}))
    assert base.bag.equals(noisier.bag)
    assert not base.connections.equals(noisier.connections)


# ---- shapes --------------------------------------------------------------------------------------


def test_frames_match_the_canonical_schemas(dataset: synth.SynthDataset) -> None:
    assert dataset.bag.schema == pl.Schema(BAG_SCHEMA)
    assert dataset.connections.schema == pl.Schema(CONNECTIONS_SCHEMA)
    assert dataset.consumption.schema == pl.Schema(CONSUMPTION_SCHEMA)
    assert dataset.truth_links.schema == pl.Schema(LINKS_SCHEMA)
    assert dataset.truth_connections.schema == pl.Schema(TRUTH_SCHEMA)


def test_bag_ids_and_address_parts_are_well_formed(dataset: synth.SynthDataset) -> None:
    bag = dataset.bag
    type_code = {"verblijfsobject": "01", "ligplaats": "02", "standplaats": "03"}
    assert bag["object_id"].n_unique() == N_OBJECTS
    assert (
        bag.select(pl.col("object_id").str.slice(4, 2) == pl.col("object_type").replace_strict(type_code))
        .to_series()
        .all()
    )
    checks = {
        "object_id": r"^[0-9]{4}0[123][0-9]{10}$",
        "nummeraanduiding_id": r"^[0-9]{4}20[0-9]{10}$",
        "pand_id": r"^[0-9]{4}10[0-9]{10}$",
        "gemeente_code": r"^[0-9]{4}$",
        "postcode": r"^[1-9][0-9]{3}[A-Z]{2}$",
        "huisletter": r"^[A-Za-z]$",
        "huisnummertoevoeging": r"^[A-Za-z0-9]{1,4}$",
    }
    for column, pattern in checks.items():
        values = bag[column].drop_nulls()
        assert values.len() > 0 and values.str.contains(pattern).all(), column
    assert not bag["postcode"].drop_nulls().str.slice(4, 2).is_in(["SA", "SD", "SS"]).any()
    assert bag["huisnummer"].is_between(1, 99_999).all()
    assert bag["x"].is_between(10_000, 280_000).all() and bag["y"].is_between(300_000, 620_000).all()
    assert bag.select(pl.struct("object_id", "nummeraanduiding_id").is_unique().all()).item()
    assert (bag.filter("hoofdadres").group_by("object_id").len()["len"] == 1).all()
    assert bag.filter("hoofdadres")["object_id"].n_unique() == N_OBJECTS
    # one address, one nummeraanduiding: the same street, number and suffix never get two ids
    address = [
        "openbare_ruimte_naam",
        "huisnummer",
        "huisletter",
        "huisnummertoevoeging",
        "woonplaats_naam",
        "gemeente_code",
    ]
    assert (bag.group_by(address).agg(pl.col("nummeraanduiding_id").n_unique())["nummeraanduiding_id"] == 1).all()
    placed = bag.filter(pl.col("object_type") != "verblijfsobject")
    assert (
        placed["gebruiksdoel"].is_null().all()
        and placed["oppervlakte"].is_null().all()
        and placed["pand_id"].is_null().all()
    )


def test_bag_holds_the_hard_cases(dataset: synth.SynthDataset) -> None:
    bag = dataset.bag
    statuses = set(bag["status"])
    assert {"Verblijfsobject in gebruik", UNDER_CONSTRUCTION, WITHDRAWN, "Plaats aangewezen"} <= statuses
    assert bag.filter(pl.col("status") == "Verblijfsobject in gebruik").height > 0.9 * bag.height
    assert set(bag["object_type"]) == {"verblijfsobject", "ligplaats", "standplaats"}
    uses = bag["gebruiksdoel"].drop_nulls()
    assert (uses == "woonfunctie").mean() > 0.75
    assert uses.str.contains(";").any()
    assert {
        "winkelfunctie",
        "kantoorfunctie",
        "onderwijsfunctie",
        "gezondheidszorgfunctie",
        "industriefunctie",
        "logiesfunctie",
        "sportfunctie",
        "bijeenkomstfunctie",
        "overige gebruiksfunctie",
    } <= set(uses.str.split(";").explode())
    assert bag.filter(~pl.col("hoofdadres")).height > 0.01 * N_OBJECTS  # nevenadressen
    assert bag["huisletter"].drop_nulls().str.contains("^[a-z]$").any()  # lower-case letters
    toevoeging = set(bag["huisnummertoevoeging"].drop_nulls())
    assert {"H", "BS", "II", "1", "2"} <= toevoeging and any(re.fullmatch(r"\d+HG", t) for t in toevoeging)
    assert bag.filter(pl.col("huisletter").is_not_null() & pl.col("huisnummertoevoeging").is_not_null()).height > 0
    assert (bag["openbare_ruimte_naam"].str.len_chars() > 24).any()
    assert bag.filter(pl.col("gebruiksdoel") == "overige gebruiksfunctie")["postcode"].null_count() > 0
    # postcodes cover a street segment: several addresses each
    assert bag.group_by("postcode").len()["len"].median() >= 5
    # withdrawn predecessors share their address with the live object that replaced them
    hoofd = bag.filter("hoofdadres")
    shared = hoofd.group_by("nummeraanduiding_id").agg(pl.col("status")).filter(pl.col("status").list.len() > 1)
    assert shared.height > 0 and shared["status"].list.contains(WITHDRAWN).all()


def test_places_scale_with_size(dataset: synth.SynthDataset) -> None:
    assert [len(gemeente["woonplaatsen"]) >= 1 for gemeente in dataset.gemeenten] == [True, True]
    assert all(1 <= len(gemeente["woonplaatsen"]) <= 4 for gemeente in dataset.gemeenten)
    assert dataset.bag["gemeente_code"].n_unique() == 2
    assert len(synth.generate(100, 1).gemeenten) == 1


def test_eans_are_valid_unique_and_dutch(dataset: synth.SynthDataset) -> None:
    eans = dataset.connections["ean"]
    assert eans.n_unique() == eans.len()
    for ean in eans:
        assert len(ean) == 18 and ean.isdigit() and ean.startswith("871")
        weighted = sum(
            int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(ean[:17]))
        )
        assert int(ean[17]) == (10 - weighted % 10) % 10, ean


def test_register_values_look_like_a_register(register: pl.DataFrame) -> None:
    assert 2 <= register["netbeheerder"].n_unique() <= 3
    assert {"in bedrijf", "IBD", "uit bedrijf", "UBD", "afgesloten", "SLP", "in aanleg", "IAL"} == set(
        register["fysieke_status"]
    )
    capacity = register.group_by("product").agg(pl.col("aansluitcapaciteit").unique())
    by_product = {row[0]: set(row[1]) for row in capacity.iter_rows()}
    assert all(value.startswith("G") for value in by_product["GAS"])
    assert {"1x6A", "3x25A", "1x35A", "3x80A"} <= by_product["ELK"]
    assert {"G4", "G6", "G10", "G25", "G40"} <= by_product["GAS"]
    assert (
        register.filter(pl.col("true_class").is_in(["public_lighting", "street_clock"]))["aansluitcapaciteit"]
        .is_in(["1x6A", "1x10A", "3x25A"])
        .all()
    )
    assert (register["straatnaam"].str.len_chars() == 24).any()


# ---- truth ---------------------------------------------------------------------------------------


def test_every_connection_has_exactly_one_truth_row(dataset: synth.SynthDataset) -> None:
    truth = dataset.truth_connections
    assert truth["ean"].is_unique().all()
    assert truth["ean"].sort().equals(dataset.connections["ean"].sort())
    assert set(truth["true_class"]) <= {"linked"} | RESIDUE_CLASSES


def test_every_residue_class_but_unresolved_occurs(dataset: synth.SynthDataset) -> None:
    assert set(dataset.truth_connections["true_class"]) == {"linked"} | (RESIDUE_CLASSES - {"unresolved"})
    small = synth.generate(100, 2)  # counts per 1,000 objects never round to zero
    assert set(small.truth_connections["true_class"]) >= INFRA_CLASSES | {"not_in_bag"}


def test_truth_links_sum_to_one_and_point_at_live_objects(dataset: synth.SynthDataset) -> None:
    links = dataset.truth_links
    assert links.select(pl.struct("ean", "object_id").is_unique().all()).item()
    shares = links.group_by("ean").agg(pl.col("allocation_share").sum())
    assert (shares["allocation_share"] - 1).abs().max() < 1e-9
    assert links["allocation_share"].is_between(0, 1, closed="right").all()
    objects = dataset.bag.filter("hoofdadres").select("object_id", "status")
    linked = links.join(objects, on="object_id", how="left")
    assert linked["status"].null_count() == 0
    assert not linked["status"].is_in([WITHDRAWN, UNDER_CONSTRUCTION, "Verblijfsobject buiten gebruik"]).any()
    linked_eans = set(dataset.truth_connections.filter(pl.col("true_class") == "linked")["ean"])
    assert set(links["ean"]) == linked_eans


def test_collective_connections_serve_the_dwellings_of_one_pand(dataset: synth.SynthDataset) -> None:
    bag = dataset.bag.filter("hoofdadres")
    links = dataset.truth_links.join(dataset.connections.select("ean", "product"), on="ean").join(
        bag.select("object_id", "pand_id", "gebruiksdoel", "oppervlakte"), on="object_id"
    )
    served = links.group_by("ean").agg(
        pl.first("product"),
        pl.len(),
        pl.col("pand_id").n_unique().alias("panden"),
        pl.col("gebruiksdoel").str.contains("woonfunctie").all().alias("dwellings"),
        ((pl.col("allocation_share") - pl.col("oppervlakte") / pl.col("oppervlakte").sum()).abs().max() < 1e-9).alias(
            "by_area"
        ),
    )
    collective = served.filter((pl.col("product") == "GAS") & (pl.col("len") > 1))
    assert collective.height > 0
    assert (collective["panden"] == 1).all() and collective["dwellings"].all() and collective["by_area"].all()
    assert collective["len"].min() >= 3
    # about the configured share of live dwellings is heated collectively, and has no gas of its own
    dwellings = bag.filter(
        (pl.col("gebruiksdoel") == "woonfunctie") & (pl.col("status") == "Verblijfsobject in gebruik")
    )
    block = links.join(collective.select("ean"), on="ean")
    assert block.height / dwellings.height == pytest.approx(synth.NoiseConfig().collective_gas, abs=0.02)
    own_gas = links.join(served.filter((pl.col("product") == "GAS") & (pl.col("len") == 1)).select("ean"), on="ean")
    assert not set(own_gas["object_id"]) & set(block["object_id"])
    # a large object may have several connections of its own
    per_object = (
        links.join(served.filter(pl.col("len") == 1).select("ean"), on="ean").group_by("object_id", "product").len()
    )
    assert per_object["len"].max() >= 3


def test_opposite_infrastructure_carries_a_real_bag_address(
    dataset: synth.SynthDataset, register: pl.DataFrame
) -> None:
    opposite = register.filter(pl.col("noise").str.contains("opposite_address"))
    assert opposite.height > 0 and opposite["true_class"].is_in(INFRA_CLASSES | {"inactive"}).all()
    assert opposite["locatieomschrijving"].str.contains(r"t\.o\.|tegenover|tgo|nabij|naast|hoek").all()
    untouched = opposite.filter(~pl.col("noise").str.contains("|".join(ADDRESS_NOISE + BAG_ID_NOISE)))
    bag = dataset.bag.filter("hoofdadres")
    matched = untouched.join(
        bag,
        left_on=["straatnaam", "huisnummer", "postcode", "woonplaats", "bag_id"],
        right_on=["openbare_ruimte_naam", "huisnummer", "postcode", "woonplaats_naam", "object_id"],
        nulls_equal=True,
    )
    assert untouched.height > 0 and matched.height == untouched.height


def test_residue_classes_carry_their_evidence(dataset: synth.SynthDataset, register: pl.DataFrame) -> None:
    inactive = register.filter(pl.col("true_class") == "inactive")
    assert not inactive["fysieke_status"].is_in(["in bedrijf", "IBD"]).any()
    active = register.filter(pl.col("true_class") != "inactive")
    assert active["fysieke_status"].is_in(["in bedrijf", "IBD"]).all()
    furniture = register.filter(
        pl.col("true_class").is_in(INFRA_CLASSES - {"construction_site"})
        & ~pl.col("noise").str.contains("opposite_address")
    )
    assert furniture["huisnummer"].is_null().all() and furniture["bag_id"].is_null().all()
    missing_in_bag = register.filter(pl.col("true_class") == "not_in_bag")
    assert missing_in_bag["straatnaam"].is_not_null().all() and missing_in_bag["huisnummer"].is_not_null().all()
    clean = missing_in_bag.filter(~pl.col("noise").str.contains("street_|woonplaats_"))
    address = ["openbare_ruimte_naam", "huisnummer", "woonplaats_naam"]
    assert clean.join(dataset.bag, left_on=["straatnaam", "huisnummer", "woonplaats"], right_on=address).height == 0
    on_new_builds = register.filter(pl.col("true_class") == "construction_site").join(
        dataset.bag.filter("hoofdadres").select("object_id", "status"), left_on="bag_id", right_on="object_id"
    )
    assert (on_new_builds["status"] == UNDER_CONSTRUCTION).any()


# ---- noise ---------------------------------------------------------------------------------------


def test_noise_kinds_are_known_and_documented(register: pl.DataFrame) -> None:
    kinds = set(register["noise"].str.split(";").explode()) - {""}
    assert kinds == set(synth.NoiseConfig.noise_kinds())
    documented = DOCS.read_text(encoding="utf-8")
    for name in synth.NoiseConfig.field_names():
        assert f"`{name}`" in documented, f"{name} is not documented in docs/synth.md"


def test_noise_kinds_occur_at_their_configured_rates(
    dataset: synth.SynthDataset, register: pl.DataFrame, single: pl.DataFrame
) -> None:
    rates = synth.NoiseConfig()
    at_hoofdadres = single.filter(~has("nevenadres_used"))
    assert_rate(single.filter("has_nevenadres"), "nevenadres_used", rates.nevenadres_used)
    with_suffix = at_hoofdadres.filter(pl.col("bag_letter").is_not_null() | pl.col("bag_toevoeging").is_not_null())
    for kind in ("suffix_missing", "suffix_variant"):
        assert_rate(with_suffix, kind, getattr(rates, kind))
    with_postcode = at_hoofdadres.filter(pl.col("bag_postcode").is_not_null())
    for kind in ("postcode_missing", "postcode_typo", "postcode_format"):
        assert_rate(with_postcode, kind, getattr(rates, kind))
    assert_rate(
        at_hoofdadres.filter(pl.col("bag_street").str.contains(ABBREVIABLE_PATTERN)),
        "street_abbreviation",
        rates.street_abbreviation,
    )
    long = at_hoofdadres.filter(~has("street_abbreviation") & (pl.col("bag_street").str.len_chars() > 24))
    assert_rate(long, "street_truncated", rates.street_truncated)
    assert_rate(single, "street_typo", rates.street_typo)
    gemeente_of = {place: gemeente["name"] for gemeente in dataset.gemeenten for place in gemeente["woonplaatsen"]}
    for kind in ("woonplaats_missing", "woonplaats_old_spelling", "woonplaats_upper"):
        assert_rate(single, kind, getattr(rates, kind))
    named_otherwise = single.filter(pl.col("bag_woonplaats").replace_strict(gemeente_of) != pl.col("bag_woonplaats"))
    assert_rate(named_otherwise, "woonplaats_gemeente", rates.woonplaats_gemeente)
    for kind in ("bag_id_missing", "bag_id_stale_absent", "bag_id_wrong_random"):
        assert_rate(single, kind, getattr(rates, kind))
    assert_rate(single.filter("has_predecessor"), "bag_id_stale_withdrawn", rates.bag_id_stale_withdrawn)
    assert_rate(single.filter(pl.col("pand_units") > 1), "bag_id_wrong_sibling", rates.bag_id_wrong_sibling)
    # construction_site also holds meters on new builds, which are not street furniture
    furniture = register.filter(pl.col("true_class").is_in(INFRA_CLASSES - {"construction_site"})).with_columns(
        kinds=pl.col("noise").str.split(";")
    )
    for kind in ("opposite_address", "description_vague"):
        assert_rate(furniture, kind, getattr(rates, kind))
    everything = register.with_columns(kinds=pl.col("noise").str.split(";"))
    for kind in ("coordinates_missing", "status_code", "consumption_missing"):
        assert_rate(everything, kind, getattr(rates, kind))
    assert_rate(everything.filter(~has("coordinates_missing")), "coordinates_offset", rates.coordinates_offset)


def test_each_noise_kind_changes_what_it_says(
    dataset: synth.SynthDataset, register: pl.DataFrame, single: pl.DataFrame
) -> None:
    clean_suffix = pl.concat_str([pl.col("bag_letter"), pl.col("bag_toevoeging")], ignore_nulls=True)
    at_hoofdadres = single.filter(~has("nevenadres_used"))
    expectations = {
        "nevenadres_used": pl.struct("object_id", "huisnummer").is_in(
            dataset.bag.filter(~pl.col("hoofdadres")).select(pl.struct("object_id", "huisnummer")).to_series().implode()
        ),
        "suffix_missing": pl.col("huisnummertoevoeging").is_null(),
        "suffix_variant": pl.col("huisnummertoevoeging") != clean_suffix,
        "postcode_missing": pl.col("postcode").is_null(),
        "postcode_typo": pl.col("postcode").str.contains(r"^[1-9][0-9]{3}[A-Z]{2}$")
        & (pl.col("postcode") != pl.col("bag_postcode")),
        "postcode_format": (pl.col("postcode") != pl.col("bag_postcode"))
        & (pl.col("postcode").str.to_uppercase().str.replace_all(" ", "") == pl.col("bag_postcode")),
        "street_abbreviation": pl.col("straatnaam").str.contains(r"\.")
        & (pl.col("straatnaam") != pl.col("bag_street")),
        "street_truncated": pl.col("straatnaam").str.len_chars() <= 24,
        "street_typo": pl.col("straatnaam") != pl.col("bag_street"),
        "woonplaats_missing": pl.col("woonplaats").is_null(),
        "woonplaats_old_spelling": pl.col("woonplaats") != pl.col("bag_woonplaats"),
        "woonplaats_upper": pl.col("woonplaats") == pl.col("bag_woonplaats").str.to_uppercase(),
        "bag_id_missing": pl.col("bag_id").is_null(),
        "bag_id_stale_absent": ~pl.col("bag_id").is_in(dataset.bag["object_id"].implode()),
        "bag_id_stale_withdrawn": pl.col("bag_id").is_in(
            dataset.bag.filter(pl.col("status") == WITHDRAWN)["object_id"].implode()
        ),
        "bag_id_wrong_sibling": pl.col("bag_id") != pl.col("object_id"),
    }
    for kind, expectation in expectations.items():
        frame = (single if kind == "nevenadres_used" or kind.startswith("bag_id") else at_hoofdadres).filter(has(kind))
        # street kinds apply in turn (abbreviate, cut, mistype): look at each where the others kept out
        if kind.startswith("street_"):
            others = [other for other in ("street_abbreviation", "street_truncated", "street_typo") if other != kind]
            frame = frame.filter(~has(others[0]) & ~has(others[1]))
        assert frame.height > 0 and frame.select(expectation.all()).item(), kind
    consumption_missing = register.filter(pl.col("noise").str.contains("consumption_missing"))
    assert not set(consumption_missing["ean"]) & set(dataset.consumption["ean"])
    assert register.filter(pl.col("noise").str.contains("coordinates_missing"))["x"].is_null().all()


@pytest.mark.parametrize("kind", synth.NoiseConfig.noise_kinds())
def test_a_zero_rate_removes_its_noise_kind(kind: str) -> None:
    dataset = synth.generate(3000, 4, synth.NoiseConfig().with_overrides({kind: 0.0}))
    kinds = set(dataset.truth_connections["noise"].str.split(";").explode())
    assert kind not in kinds


def test_without_noise_the_register_copies_bag() -> None:
    quiet = synth.NoiseConfig().with_overrides({kind: 0.0 for kind in synth.NoiseConfig.noise_kinds()})
    dataset = synth.generate(3000, 4, quiet)
    assert (dataset.truth_connections["noise"] == "").all()
    bag = dataset.bag.filter("hoofdadres")
    served = dataset.truth_links.group_by("ean").agg(pl.len(), pl.first("object_id")).filter(pl.col("len") == 1)
    own = dataset.connections.join(served, on="ean").join(bag, on="object_id")
    assert own.height > 0
    assert (own["bag_id"] == own["object_id"]).all()
    assert own.select(
        (pl.col("straatnaam") == pl.col("openbare_ruimte_naam")).all(),
        (pl.col("postcode").eq_missing(pl.col("postcode_right"))).all(),
        (pl.col("woonplaats") == pl.col("woonplaats_naam")).all(),
        pl.col("huisnummertoevoeging")
        .eq_missing(pl.concat_str(["huisletter", "huisnummertoevoeging_right"], ignore_nulls=True).replace("", None))
        .all(),
    ).row(0) == (True, True, True, True)


# ---- consumption ---------------------------------------------------------------------------------


def test_consumption_is_plausible(dataset: synth.SynthDataset, register: pl.DataFrame) -> None:
    consumption = dataset.consumption
    assert consumption.select(pl.struct("ean", "year", "product").is_unique().all()).item()
    assert (consumption["year"] == 2025).all() and (consumption["volume"] >= 0).all()
    assert consumption.select(((pl.col("product") == "ELK") == (pl.col("unit") == "kWh")).all()).item()
    assert consumption.height == register.filter(~pl.col("noise").str.contains("consumption_missing")).height
    rows = consumption.join(register.select("ean", "true_class"), on="ean")
    assert (rows.filter(pl.col("true_class") == "inactive")["volume"] == 0).all()
    objects = dataset.bag.filter("hoofdadres").select("object_id", "gebruiksdoel", "pand_id")
    served = dataset.truth_links.group_by("ean").agg(pl.len(), pl.first("object_id"))
    per_object = rows.join(served, on="ean").join(objects, on="object_id")
    dwellings = per_object.filter((pl.col("gebruiksdoel") == "woonfunctie") & (pl.col("len") == 1))
    median = dwellings.group_by("product").agg(pl.col("volume").median())
    medians = dict(median.iter_rows())
    assert 2_000 <= medians["ELK"] <= 3_200 and 850 <= medians["GAS"] <= 1_400
    collective = per_object.filter((pl.col("product") == "GAS") & (pl.col("len") > 1))["volume"]
    assert collective.median() > 3 * medians["GAS"]
    street_lights = rows.filter(pl.col("true_class") == "public_lighting")["volume"].median()
    assert street_lights < medians["ELK"] * 2
    assert rows.filter(pl.col("true_class") == "street_clock")["volume"].max() < 1_500
    assert per_object.filter(pl.col("product") == "ELK")["volume"].max() > 1_000_000  # a heavy industrial user


# ---- files ---------------------------------------------------------------------------------------


def test_csv_is_an_operators_export_and_round_trips(dataset: synth.SynthDataset, tmp_path: Path) -> None:
    paths = synth.write(dataset, tmp_path, connections_format="csv")
    raw = paths["connections"].read_bytes()
    assert paths["connections"].name == "connections.csv" and not (tmp_path / "connections.parquet").exists()
    text = raw.decode("cp1252")
    header = text.split("\r\n", 1)[0]
    assert header == ";".join(name.upper() for name in CONNECTIONS_SCHEMA)
    non_ascii = {char for char in text if ord(char) > 127}
    assert non_ascii, "expected names with diacritics in the sample"
    for char in non_ascii:
        assert char.encode("cp1252") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    back = pl.read_csv(
        io.BytesIO(text.encode("utf-8")),
        separator=";",
        schema={name.upper(): dtype for name, dtype in CONNECTIONS_SCHEMA.items()},
    ).rename(str.lower)
    assert back.equals(dataset.connections)


def test_written_files_and_manifest(dataset: synth.SynthDataset, tmp_path: Path) -> None:
    paths = synth.write(dataset, tmp_path)
    for name in ("bag", "connections", "consumption", "truth_links", "truth_connections"):
        assert pl.read_parquet(paths[name]).equals(dataset.frames[name]), name
    assert paths["truth_links"] == tmp_path / "truth" / "links.parquet"
    manifest = yaml.safe_load(paths["manifest"].read_text(encoding="utf-8"))  # JSON is YAML
    assert (manifest["n_objects"], manifest["seed"], manifest["year"]) == (N_OBJECTS, SEED, 2025)
    assert manifest["noise"] == synth.NoiseConfig().as_dict()
    counts = manifest["counts"]
    assert counts["objects"] == N_OBJECTS and counts["connections"] == dataset.connections.height
    assert sum(counts["true_class"].values()) == dataset.connections.height
    assert set(counts["noise"]) == set(synth.NoiseConfig.noise_kinds())


def test_write_rejects_an_unknown_format(dataset: synth.SynthDataset, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="connections_format"):
        synth.write(dataset, tmp_path, connections_format="xlsx")


# ---- configuration and guards --------------------------------------------------------------------


def test_noise_config_from_yaml_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "noise.yaml"
    path.write_text("postcode_missing: 0.1\nstreet_typo: 0\n", encoding="utf-8")
    config = synth.NoiseConfig.from_yaml(path)
    assert (config.postcode_missing, config.street_typo) == (0.1, 0.0)
    assert config.with_overrides({"status_code": 1}).status_code == 1.0
    with pytest.raises(ValueError, match="unknown noise rate"):
        config.with_overrides({"postcode_mising": 0.1})
    path.write_text("no_such_rate: 0.1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no_such_rate"):
        synth.NoiseConfig.from_yaml(path)


@pytest.mark.parametrize(
    "overrides",
    [
        {"postcode_typo": 1.5},
        {"street_typo": -0.1},
        {"ev_charger_per_1000": -1},
        {"withdrawn_predecessor": 0.5},
        {"bag_id_missing": 0.7, "bag_id_stale_withdrawn": 0.7},
        {"status_code": "often"},
    ],
)
def test_noise_config_rejects_impossible_rates(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        synth.NoiseConfig().with_overrides(overrides)


def test_too_few_objects_or_a_negative_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 100"):
        synth.generate(99, 1)
    with pytest.raises(ValueError, match="seed"):
        synth.generate(1000, -1)
