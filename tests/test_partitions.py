"""Region partitions: a linkage cut into regions links exactly as one over the whole country."""

from pathlib import Path

import polars as pl
import pytest

import linkage
import synth
from core.config import PROFILES, LinkageSettings
from ingestion.validate import validate_delivery
from linkage.partitions import NATIONAL, region_partitions
from linkage.woonplaats import resolve_woonplaatsen


@pytest.fixture(scope="module", params=(11, 4), ids=lambda seed: f"seed{seed}")
def delivery(request: pytest.FixtureRequest) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A generated delivery whose BAG is cut into many gemeenten (by the postcode's PC4
    digits: borders run through streets and panden)."""
    dataset = synth.generate(6000, seed=request.param)
    bag = linkage.normalise_bag(validate_delivery("bag", dataset.bag, Path("bag.parquet")).frame)
    bag = bag.with_columns(gemeente_code=pl.col("postcode_clean").str.slice(0, 4))
    connections = linkage.normalise_connections(
        validate_delivery("connections", dataset.connections, Path("connections.parquet")).frame
    )
    return bag, connections


def test_a_linkage_cut_into_regions_or_given_only_its_input_columns_equals_the_uncut_one(
    delivery: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    bag, connections = delivery
    resolved = resolve_woonplaatsen(connections, bag)
    whole = linkage.link(bag, connections, PROFILES["statistical"], LinkageSettings(partition_max_objects=10**9))
    cut_settings = LinkageSettings(partition_max_objects=400)
    partitioning = region_partitions(bag, resolved, cut_settings.partition_max_objects)
    assert partitioning.n_partitions >= 3
    regional = partitioning.connection_partition.filter(pl.col("partition") != NATIONAL)
    assert regional.height > connections.height / 3  # regions do link (streets cross these borders)
    cut = linkage.link(bag, connections, PROFILES["statistical"], cut_settings)
    for name in ("links", "residue", "curve", "unresolved_candidates"):
        assert getattr(cut, name).equals(getattr(whole, name)), name
    assert cut.model == whole.model

    # the run reads only the input columns from the warehouse (`pipelines.linkage`)
    projected = linkage.link(
        bag.select(linkage.BAG_INPUT_COLUMNS),
        connections.select(linkage.CONNECTION_INPUT_COLUMNS),
        PROFILES["statistical"],
        cut_settings,
    )
    for name in ("links", "residue", "curve", "unresolved_candidates"):
        assert getattr(projected, name).equals(getattr(whole, name)), name


def test_a_connection_whose_keys_reach_two_regions_goes_to_the_national_pass(
    delivery: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    bag, connections = delivery
    connections = resolve_woonplaatsen(connections, bag)
    partitioning = region_partitions(bag, connections, 400)
    region_of = bag.select("object_id", region=partitioning.bag_partition).unique("object_id")
    one = connections.filter(pl.col("bag_id_clean").is_not_null() & pl.col("postcode_clean").is_not_null()).head(1)
    home = bag.with_columns(region=partitioning.bag_partition).filter(
        pl.col("postcode_clean") == one["postcode_clean"][0]
    )["region"][0]
    elsewhere = region_of.filter(pl.col("region") != home)["object_id"][0]
    # its registered id names an object of another region than its postcode's
    moved = one.with_columns(ean=pl.lit("moved"), bag_id_clean=pl.lit(elsewhere))
    placed = region_partitions(bag, pl.concat([connections, moved]), 400)
    assert placed.connection_partition.filter(pl.col("ean") == "moved")["partition"][0] == NATIONAL
    keys = ("postcode_clean", "huisnummer", "street_key", "street_key24", "bag_id_clean", "gemeente_code")
    addressless = connections.head(1).with_columns(
        ean=pl.lit("nowhere"), **{c: pl.lit(None, connections.schema[c]) for c in keys}
    )
    placed = region_partitions(bag, pl.concat([connections, addressless]), 400)
    assert placed.connection_partition.filter(pl.col("ean") == "nowhere")["partition"][0] == NATIONAL


def test_a_street_name_found_in_every_town_keeps_a_placed_record_in_its_region() -> None:
    """Street names recur across the country; street and number alone block only a record with
    no known place, so one that names its woonplaats links in its region however common its
    street is, and one that names none goes to the national pass."""
    dataset = synth.generate(6000, seed=5)
    bag = linkage.normalise_bag(validate_delivery("bag", dataset.bag, Path("bag.parquet")).frame)
    # two copies of the municipality in two gemeenten of other names: every street in both
    twin = bag.with_columns(
        object_id="9" + pl.col("object_id").str.slice(1),
        pand_id="9" + pl.col("pand_id").str.slice(1),
        postcode_clean="9" + pl.col("postcode_clean").str.slice(1),
        woonplaats_key=pl.col("woonplaats_key") + " twin",
        gemeente_code="9" + pl.col("gemeente_code").str.slice(1),
    )
    both = pl.concat([bag, twin])
    connections = linkage.normalise_connections(
        validate_delivery("connections", dataset.connections, Path("connections.parquet")).frame
    )
    connections = resolve_woonplaatsen(connections, both)
    partitioning = region_partitions(both, connections, bag.height)
    assert partitioning.n_partitions == 2
    placed = connections.join(partitioning.connection_partition, on="ean")
    with_place = placed.filter(pl.col("gemeente_code").is_not_null() & pl.col("street_key").is_not_null())
    assert with_place.height > connections.height / 2
    assert with_place.filter(pl.col("partition") == NATIONAL).height <= with_place.height / 100
    nowhere = placed.filter(
        pl.col("gemeente_code").is_null()
        & pl.col("postcode_clean").is_null()
        & pl.col("bag_id_clean").is_null()
        & pl.col("street_key").is_not_null()
        & pl.col("huisnummer").is_not_null()
    )
    assert nowhere.height > 0
    assert (nowhere["partition"] == NATIONAL).all()
