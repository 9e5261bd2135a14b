"""Region partitions: a linkage cut into regions links exactly as one over the whole country."""

from pathlib import Path

import polars as pl
import pytest

import linkage
import synth
from core.config import PROFILES, LinkageSettings
from ingestion.validate import validate_delivery
from linkage.partitions import NATIONAL, region_partitions


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


def test_a_linkage_cut_into_regions_equals_the_uncut_one(delivery: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    bag, connections = delivery
    whole = linkage.link(bag, connections, PROFILES["statistical"], LinkageSettings(partition_max_objects=10**9))
    cut_settings = LinkageSettings(partition_max_objects=400)
    partitioning = region_partitions(bag, connections, cut_settings.partition_max_objects)
    assert partitioning.n_partitions >= 3
    regional = partitioning.connection_partition.filter(pl.col("partition") != NATIONAL)
    assert regional.height > connections.height / 3  # regions do link (streets cross these borders)
    cut = linkage.link(bag, connections, PROFILES["statistical"], cut_settings)
    for name in ("links", "residue", "curve", "unresolved_candidates"):
        assert getattr(cut, name).equals(getattr(whole, name)), name
    assert cut.model == whole.model


def test_a_connection_whose_keys_reach_two_regions_goes_to_the_national_pass(
    delivery: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    bag, connections = delivery
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
    keys = ("postcode_clean", "huisnummer", "street_key", "street_key24", "bag_id_clean")
    addressless = connections.head(1).with_columns(
        ean=pl.lit("nowhere"), **{c: pl.lit(None, connections.schema[c]) for c in keys}
    )
    placed = region_partitions(bag, pl.concat([connections, addressless]), 400)
    assert placed.connection_partition.filter(pl.col("ean") == "nowhere")["partition"][0] == NATIONAL
