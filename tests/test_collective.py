"""Building-wide connections: found by readable rules, spread over the units by floor area."""

from pathlib import Path

import polars as pl
import pytest

import linkage
import synth
from core.config import PROFILES
from ingestion.validate import validate_delivery
from tests.targets import CONNECTION_PRECISION, HARD_SUBSET


@pytest.fixture(scope="module", params=(77, 5), ids=lambda seed: f"seed{seed}")
def linked(request: pytest.FixtureRequest) -> tuple[linkage.LinkageResult, pl.DataFrame]:
    dataset = synth.generate(8000, seed=request.param)
    bag = linkage.normalise_bag(validate_delivery("bag", dataset.bag, Path("bag.parquet")).frame)
    connections = linkage.normalise_connections(
        validate_delivery("connections", dataset.connections, Path("connections.parquet")).frame
    )
    return linkage.link(bag, connections, PROFILES["statistical"]), dataset.truth_links


def test_collective_links_serve_exactly_the_true_units(linked: tuple[linkage.LinkageResult, pl.DataFrame]) -> None:
    result, truth = linked
    collective = result.links.filter(pl.col("method") == "collective")
    true_sets = truth.group_by("ean").agg(true=pl.col("object_id").sort(), n=pl.len()).filter(pl.col("n") > 1)
    predicted = collective.group_by("ean").agg(predicted=pl.col("object_id").sort())
    compared = predicted.join(true_sets, on="ean", how="left")
    assert compared.height >= HARD_SUBSET * true_sets.height
    exact = compared.filter(pl.col("predicted") == pl.col("true")).height
    assert exact >= CONNECTION_PRECISION * compared.height


def test_collective_shares_follow_floor_area_and_sum_to_one(linked: tuple[linkage.LinkageResult, pl.DataFrame]) -> None:
    result, truth = linked
    collective = result.links.filter(pl.col("method") == "collective")
    sums = collective.group_by("ean").agg(pl.col("allocation_share").sum())["allocation_share"]
    assert (sums - 1.0).abs().max() < 1e-9
    shares = collective.join(truth, on=["ean", "object_id"], suffix="_true")
    assert (shares["allocation_share"] - shares["allocation_share_true"]).abs().max() < 1e-6


@pytest.mark.parametrize("seed", [77, 5])
def test_a_common_area_meter_without_postcode_is_placed_by_its_street(seed: int) -> None:
    dataset = synth.generate(8000, seed=seed, noise=synth.NoiseConfig().with_overrides({"postcode_missing": 0.5}))
    bag = linkage.normalise_bag(dataset.bag)
    connections = linkage.normalise_connections(dataset.connections)
    no_postcode = connections.filter(
        pl.col("postcode").is_null()
        & pl.col("locatieomschrijving").str.contains("(?i)vve|algemene ruimte|lift|trappenhuis")
    )
    served = (
        dataset.truth_links.join(no_postcode.select("ean"), on="ean")
        .group_by("ean")
        .agg(true=pl.col("object_id").sort())
    )
    assert served.height >= 5
    links = linkage.link(bag, connections, PROFILES["statistical"]).links
    predicted = links.join(served.select("ean"), on="ean").group_by("ean").agg(predicted=pl.col("object_id").sort())
    compared = served.join(predicted, on="ean", how="left")
    assert (compared["predicted"] == compared["true"]).mean() >= HARD_SUBSET
