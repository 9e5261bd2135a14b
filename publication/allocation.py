"""Allocation of each connection's consumption to sectors and regions.

A linked connection's volume goes to its objects by `allocation_share`; an object with several
gebruiksdoelen splits its part equally over them; ligplaatsen and standplaatsen are sectors of
their own; residue connections count in a sector named by their residue class. Consumption of a
connection that is not among the register's valid connections (quarantined at ingestion, or
never delivered) is kept too, in sector `not_in_register`, so that every kWh and m3 of the input
is in the totals.
"""

from __future__ import annotations

import polars as pl

UNKNOWN_REGION = "onbekend"
NOT_IN_REGISTER = "not_in_register"
ALLOCATION_COLUMNS = ["year", "gemeente_code", "sector", "product", "unit", "ean", "object_id", "volume"]


def object_sectors(bag: pl.DataFrame) -> pl.DataFrame:
    """One row per (object, sector) with the share of the object's volume that sector gets."""
    objects = bag.sort("hoofdadres", descending=True).unique("object_id", keep="first")
    sector = (
        pl.when(pl.col("object_type") == "verblijfsobject")
        .then(pl.col("gebruiksdoel").fill_null("gebruiksdoel onbekend").str.split(";"))
        .otherwise(pl.concat_list(pl.col("object_type")))
    )
    return (
        objects.select("object_id", "gemeente_code", sector=sector)
        .explode("sector")
        .with_columns(sector=pl.col("sector").str.strip_chars())
        .with_columns(sector_share=1.0 / pl.len().over("object_id"))
    )


def _most_common_gemeente(bag: pl.DataFrame, key: pl.Expr, name: str) -> pl.DataFrame:
    """For each value of `key` over the BAG addresses, the gemeente most of them lie in."""
    return (
        bag.select(key.alias(name), "gemeente_code")
        .drop_nulls(name)
        .group_by(name, "gemeente_code")
        .len()
        .sort([name, "len", "gemeente_code"], descending=[False, True, False])
        .unique(name, keep="first")
        .select(name, pl.col("gemeente_code").alias(f"gemeente_by_{name}"))
    )


def connection_regions(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.DataFrame:
    """Gemeente of a connection without an object: where most BAG addresses in its PC4 lie, else
    where its woonplaats lies. Street furniture has no object, but it has a neighbourhood."""
    pc4 = pl.col("postcode_clean").str.slice(0, 4)
    return (
        connections.with_columns(pc4=pc4)
        .join(_most_common_gemeente(bag, pc4, "pc4"), on="pc4", how="left")
        .join(_most_common_gemeente(bag, pl.col("woonplaats_key"), "woonplaats_key"), on="woonplaats_key", how="left")
        .select(
            "ean",
            gemeente_code=pl.coalesce("gemeente_by_pc4", "gemeente_by_woonplaats_key", pl.lit(UNKNOWN_REGION)),
        )
    )


def allocate(
    consumption: pl.DataFrame,
    links: pl.DataFrame,
    residue: pl.DataFrame,
    connections: pl.DataFrame,
    bag: pl.DataFrame,
) -> pl.DataFrame:
    """Consumption rows spread over (gemeente, sector, object); volume is conserved exactly."""
    linked = (
        consumption.join(links.select("ean", "object_id", "allocation_share"), on="ean", how="inner")
        .join(object_sectors(bag), on="object_id", how="left")
        .with_columns(
            volume=pl.col("volume") * pl.col("allocation_share") * pl.col("sector_share").fill_null(1.0),
            sector=pl.col("sector").fill_null("object onbekend"),
            gemeente_code=pl.col("gemeente_code").fill_null(UNKNOWN_REGION),
        )
    )
    in_residue = (
        consumption.join(residue.select("ean", sector="residue_class"), on="ean", how="inner")
        .join(connection_regions(connections, bag), on="ean", how="left")
        .with_columns(object_id=pl.lit(None, dtype=pl.String))
    )
    placed = pl.concat([links.select("ean"), residue.select("ean")]).unique()
    not_in_register = consumption.join(placed, on="ean", how="anti").with_columns(
        sector=pl.lit(NOT_IN_REGISTER),
        gemeente_code=pl.lit(UNKNOWN_REGION),
        object_id=pl.lit(None, dtype=pl.String),
    )
    return pl.concat(
        [part.select(ALLOCATION_COLUMNS) for part in (linked, in_residue, not_in_register)]
    )
