"""The residue summary accounts for every residue connection and its volume."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import link_synth

from publication.allocation import allocate
from publication.residue_summary import residue_rollups, residue_summary


@pytest.fixture(scope="module")
def summarised():
    linked = link_synth(6000, seed=31)
    result, connections = linked.result, linked.connections
    allocation = allocate(linked.data.consumption, result.links, result.residue, connections, linked.bag)
    return result.residue, allocation, residue_summary(result.residue, connections, allocation)


def test_every_residue_connection_and_its_volume_is_counted_once(summarised) -> None:
    residue, allocation, summary = summarised
    assert summary["n_connections"].sum() == residue.height
    by_class = summary.group_by("residue_class").agg(pl.col("n_connections").sum())
    assert dict(by_class.rows()) == dict(residue.group_by("residue_class").len().rows())
    in_residue = allocation.filter(pl.col("sector").is_in(residue["residue_class"].unique().implode()))
    assert abs(summary["volume"].sum() - in_residue["volume"].sum()) < 1e-6
    assert summary["netbeheerder"].null_count() == 0
    assert set(summary["unit"].unique()) <= {"kWh", "m3"}


def test_shares_are_of_the_unit_total_and_roll_up(summarised) -> None:
    residue, allocation, summary = summarised
    totals = dict(allocation.group_by("unit").agg(pl.col("volume").sum()).rows())
    check = summary.with_columns(expected=pl.col("volume") / pl.col("unit").replace_strict(totals))
    assert (check["share_of_total"] - check["expected"]).abs().max() < 1e-12
    rollups = residue_rollups(summary)
    kwh = next(row for row in rollups["residue_share_of_total"] if row["unit"] == "kWh")
    # the share is the residue's kWh over ALL kWh (not over the residue, nor per gemeente), rounded to 5 places
    kwh_rows = allocation.filter(pl.col("unit") == "kWh")
    in_residue = kwh_rows.filter(pl.col("sector").is_in(residue["residue_class"].unique().implode()))
    expected = in_residue["volume"].sum() / kwh_rows["volume"].sum()
    assert 0 < expected < 1
    assert abs(kwh["share_of_total"] - expected) <= 5e-6
    by_class = [row["share_of_total"] for row in rollups["residue_by_class"] if row["unit"] == "kWh"]
    assert abs(sum(by_class) - expected) <= 5e-6 * len(by_class)
    assert {row["residue_class"] for row in rollups["residue_by_class"]} >= {
        "public_lighting",
        "ev_charger",
        "inactive",
    }
