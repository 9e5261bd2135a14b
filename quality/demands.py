"""Reuse demands that need more than one delivery: the contract rules of type `custom`.

Each function takes the ingested frames and returns, per row of its delivery frame and in that
frame's order, whether the row meets the demand. Rows quarantined at ingestion are not in the
frames and count as meeting it (their defect is reported already).

Polars joins keep no row order unless asked to (`maintain_order`), and a join on a key that
repeats on the right multiplies rows; so every result here is lined up with its row by key or
by an explicit row index, never by where a join happened to leave it.
"""

from __future__ import annotations

import polars as pl

from core.distinct import by_distinct
from data_contracts import load_contract
from linkage.bag_status import is_withdrawn

HOURS_PER_YEAR = 8760
VOLTS = 230
# Gas meter G rating -> nominal flow in m3/h is about 1.6 x the rating (G4: 6 m3/h).
GAS_FLOW_PER_G = 1.6

# The columns of each ingested delivery that the demands read, so a caller can load only those.
DEMAND_COLUMNS: dict[str, tuple[str, ...]] = {
    "bag": ("object_id", "status"),
    "connections": ("ean", "product", "bag_id", "aansluitcapaciteit", "netbeheerder"),
    "consumption": ("ean", "product", "volume"),
}


def bag_id_points_at_active_object(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.Series:
    """Per connection (in the order of `connections`): false where a registered bag_id names no
    BAG object, or a withdrawn one; true where it names an active object or is empty (an empty
    id is the demand `bag_id_filled`). A membership test, not a join, so it keeps the rows as
    they are however often an object repeats in `bag` (one row per address)."""
    active = bag.filter(~is_withdrawn(pl.col("status")))["object_id"].implode()
    return connections.select(
        (pl.col("bag_id").is_null() | pl.col("bag_id").is_in(active)).alias("bag_id_points_at_active_object")
    ).to_series()


def max_annual_volume(capacity: pl.Expr) -> pl.Expr:
    """The most a connection of this capacity can take in a year: electricity phases x amperes x
    230 V x 8,760 h (kWh), kVA x 8,760 h; gas G rating x 1.6 m3/h x 8,760 h; null if unreadable."""
    text = capacity.str.to_uppercase().str.replace_all(r"\s+", "")
    phases = text.str.extract(r"^(\d)X\d+A$", 1).cast(pl.Float64, strict=False)
    amps = text.str.extract(r"^\dX(\d+)A$", 1).cast(pl.Float64, strict=False)
    kva = text.str.extract(r"^(\d+)KVA$", 1).cast(pl.Float64, strict=False)
    g = text.str.extract(r"^G(\d+)$", 1).cast(pl.Float64, strict=False)
    return (
        pl.when(phases.is_not_null())
        .then(phases * amps * VOLTS * HOURS_PER_YEAR / 1000)
        .when(kva.is_not_null())
        .then(kva * HOURS_PER_YEAR)
        .when(g.is_not_null())
        .then(g * GAS_FLOW_PER_G * HOURS_PER_YEAR)
    )


def volume_plausible_for_capacity(consumption: pl.DataFrame, connections: pl.DataFrame) -> pl.Series:
    """Per consumption row (in order): false where the year's volume exceeds what the
    connection's capacity can deliver; true where it fits, or where the capacity is unknown.

    The limits are taken one per (ean, product), the largest readable one where the register
    repeats a connection, so the join cannot multiply a consumption row, and the row is called
    implausible only if no capacity registered for it could deliver the volume. A capacity's
    limit is read once per distinct text: a register of millions of rows writes a few dozen."""
    limits = (
        by_distinct(connections, "aansluitcapaciteit", limit=max_annual_volume(pl.col("aansluitcapaciteit")))
        .group_by("ean", "product")
        .agg(pl.col("limit").max())
    )
    joined = consumption.select("ean", "product", "volume").join(
        limits, on=["ean", "product"], how="left", maintain_order="left", validate="m:1"
    )
    return (joined["limit"].is_null() | (joined["volume"] <= joined["limit"])).alias("volume_plausible_for_capacity")


def _with_connection_holder(rule_results: pl.DataFrame, connections: pl.DataFrame) -> pl.DataFrame:
    """Consumption `rule_results` with `holder` the netbeheerder of the row's connection.

    Looked up by key: a consumption row's `record_id` is its EAN (the contract's recordId), so
    quarantined rows get their holder too and show in that holder's report. Where the register
    repeats an EAN its first row counts, as at ingestion; an EAN no connection has gets none.
    """
    if load_contract("consumption").record_id_columns != ("ean",):
        raise ValueError("consumption rows are given their netbeheerder by record_id, which must be the EAN alone")
    owners = (
        connections.select(record_id="ean", holder="netbeheerder")
        .filter(pl.col("record_id").is_not_null())
        .unique("record_id", keep="first", maintain_order=True)
    )
    return (
        rule_results.drop("holder")
        .join(owners, on="record_id", how="left", maintain_order="left", validate="m:1")
        .select(rule_results.columns)
    )


def _kept_row_numbers(rule_results: pl.DataFrame, quarantine: pl.DataFrame, frame_height: int) -> pl.Series:
    """The `row_number`s of the rows ingestion kept, ascending: the row index of an ingested frame.

    An ingested frame carries no row number; it holds the kept rows in delivery order, so its
    i-th row is the i-th smallest kept row number, whatever order `rule_results` arrives in.
    A frame of another height is not that delivery's, and lining it up would mislabel rows.
    """
    rejected = quarantine["row_number"].unique().implode()
    kept = rule_results.filter(~pl.col("row_number").is_in(rejected))["row_number"].sort()
    if kept.len() != frame_height:
        raise ValueError(f"the ingested frame has {frame_height} rows, but {kept.len()} rows of its delivery were kept")
    return kept


def _demands(
    kind: str, bag: pl.DataFrame, connections: pl.DataFrame, consumption: pl.DataFrame
) -> dict[str, pl.Series]:
    """The cross-delivery demands of one delivery, each per row of its ingested frame."""
    if kind == "connections":
        return {"bag_id_points_at_active_object": bag_id_points_at_active_object(connections, bag)}
    if kind == "consumption":
        return {"volume_plausible_for_capacity": volume_plausible_for_capacity(consumption, connections)}
    return {}


def with_demands(
    kind: str,
    rule_results: pl.DataFrame,
    quarantine: pl.DataFrame,
    bag: pl.DataFrame,
    connections: pl.DataFrame,
    consumption: pl.DataFrame,
    holders: bool = True,
) -> pl.DataFrame:
    """`rule_results` of one delivery, in its order, with its cross-delivery demands added as
    columns, and, for consumption, the holder filled in from the connection register (the
    netbeheerder of the EAN). Each demand is joined to its row by `row_number`
    (`_kept_row_numbers`); a quarantined row meets every demand here.

    `holders=False` is for a caller that counts rows only (the validation): its rule results
    may come without `record_id` and `holder`, which at national size are most of their bytes,
    and consumption gets no holder.
    """
    if kind == "consumption" and holders:
        rule_results = _with_connection_holder(rule_results, connections)
    demands = _demands(kind, bag, connections, consumption)
    if not demands:
        return rule_results
    frame_height = next(iter(demands.values())).len()
    per_row = pl.DataFrame(demands).with_columns(row_number=_kept_row_numbers(rule_results, quarantine, frame_height))
    return rule_results.join(per_row, on="row_number", how="left", maintain_order="left", validate="1:1").with_columns(
        pl.col(name).fill_null(True) for name in demands
    )
