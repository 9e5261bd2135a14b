"""Reuse demands that need more than one delivery: the contract rules of type `custom`.

Each function takes the ingested frames and returns, per row of its delivery (by `row_number`
in the delivery's `rule_results`), whether the row meets the demand. Rows quarantined at
ingestion are not in the frames and count as meeting it (their defect is reported already).
"""

from __future__ import annotations

import polars as pl

from linkage.bag_status import is_withdrawn

HOURS_PER_YEAR = 8760
VOLTS = 230
# Gas meter G rating -> nominal flow in m3/h is about 1.6 x the rating (G4: 6 m3/h).
GAS_FLOW_PER_G = 1.6


def bag_id_points_at_active_object(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.Series:
    """Per connection (in the order of `connections`): false where a registered bag_id names no
    BAG object, or a withdrawn one; true where it names an active object or is empty (an empty
    id is the demand `bag_id_filled`)."""
    active = bag.filter(~is_withdrawn(pl.col("status"))).select(bag_id="object_id").unique().with_columns(active=pl.lit(True))
    joined = connections.select("bag_id").with_row_index("order").join(active, on="bag_id", how="left").sort("order")
    return (joined["bag_id"].is_null() | joined["active"].fill_null(False)).alias("bag_id_points_at_active_object")


def max_annual_volume(capacity: pl.Expr) -> pl.Expr:
    """The most a connection of this capacity can take in a year: electricity phases x amperes x
    230 V x 8,760 h (kWh), kVA x 8,760 h; gas G rating x 1.6 m3/h x 8,760 h; null if unreadable."""
    text = capacity.str.to_uppercase().str.replace_all(r"\s+", "")
    phases = text.str.extract(r"^(\d)X\d+A$", 1).cast(pl.Float64, strict=False)
    amps = text.str.extract(r"^\dX(\d+)A$", 1).cast(pl.Float64, strict=False)
    kva = text.str.extract(r"^(\d+)KVA$", 1).cast(pl.Float64, strict=False)
    g = text.str.extract(r"^G(\d+)$", 1).cast(pl.Float64, strict=False)
    return (
        pl.when(phases.is_not_null()).then(phases * amps * VOLTS * HOURS_PER_YEAR / 1000)
        .when(kva.is_not_null()).then(kva * HOURS_PER_YEAR)
        .when(g.is_not_null()).then(g * GAS_FLOW_PER_G * HOURS_PER_YEAR)
    )


def volume_plausible_for_capacity(consumption: pl.DataFrame, connections: pl.DataFrame) -> pl.Series:
    """Per consumption row (in order): false where the year's volume exceeds what the
    connection's capacity can deliver; true where it fits, or where the capacity is unknown."""
    limits = connections.select("ean", "product", limit=max_annual_volume(pl.col("aansluitcapaciteit")))
    joined = (
        consumption.select("ean", "product", "volume").with_row_index("order")
        .join(limits, on=["ean", "product"], how="left")
        .sort("order")
    )
    return (joined["limit"].is_null() | (joined["volume"] <= joined["limit"])).alias("volume_plausible_for_capacity")


def with_demands(
    kind: str,
    rule_results: pl.DataFrame,
    quarantine: pl.DataFrame,
    bag: pl.DataFrame,
    connections: pl.DataFrame,
    consumption: pl.DataFrame,
) -> pl.DataFrame:
    """`rule_results` of one delivery with its cross-delivery demands added as columns, and, for
    consumption, the holder filled in from the connection register (the netbeheerder of the EAN).

    The ingested frames hold the kept rows in delivery order, so they line up with the rows of
    `rule_results` that are not in `quarantine`; a quarantined row meets every demand here.
    """
    rejected = quarantine.select("row_number").unique()
    kept = rule_results.join(rejected, on="row_number", how="anti").select("row_number")
    demands: dict[str, pl.Series] = {}
    if kind == "connections":
        demands["bag_id_points_at_active_object"] = bag_id_points_at_active_object(connections, bag)
    if kind == "consumption":
        demands["volume_plausible_for_capacity"] = volume_plausible_for_capacity(consumption, connections)
        holders = consumption.select("ean").join(connections.select("ean", holder="netbeheerder"), on="ean", how="left")
        rule_results = rule_results.drop("holder").join(
            kept.with_columns(holder=holders["holder"]), on="row_number", how="left"
        ).select(rule_results.columns)
    if not demands:
        return rule_results
    per_row = kept.with_columns(**demands)
    return rule_results.join(per_row, on="row_number", how="left").with_columns(
        pl.col(name).fill_null(True) for name in demands
    )
