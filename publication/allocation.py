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

from linkage.bag_objects import Frame, one_row_per_object
from publication.regions import REGION_COLUMNS, UNKNOWN_REGION, connection_regions, object_regions

NOT_IN_REGISTER = "not_in_register"
# `method` is how the volume's link was made (null for residue and unregistered consumption).
ALLOCATION_COLUMNS = ["year", *REGION_COLUMNS, "sector", "product", "unit", "ean", "object_id", "method", "volume"]
# The columns of the normalised registers that allocation reads (`one_row_per_object`, the
# sectors, `publication.regions`), so a caller can load only those.
BAG_COLUMNS = (
    "object_id",
    "hoofdadres",
    "nummeraanduiding_id",
    "object_type",
    "gebruiksdoel",
    "gemeente_code",
    "woonplaats_naam",
    "woonplaats_key",
    "postcode_clean",
)
CONNECTION_COLUMNS = ("ean", "postcode_clean", "woonplaats_key")
# The row order: joins return rows in any order, and the cells sum these volumes in row order,
# so without it the same inputs could give cells that differ in the last bits. Unique, because
# consumption is unique on (ean, year, product) and links on (ean, object_id).
ALLOCATION_ORDER = ["year", "ean", "product", "object_id", "sector"]


def object_sectors(bag: Frame) -> Frame:
    """One row per (object, sector) with the share of the object's volume that sector gets."""
    objects = one_row_per_object(bag)
    sector = (
        pl.when(pl.col("object_type") == "verblijfsobject")
        .then(pl.col("gebruiksdoel").fill_null("gebruiksdoel onbekend").str.split(";"))
        .otherwise(pl.concat_list(pl.col("object_type")))
    )
    return (
        objects.select("object_id", sector=sector)
        .explode("sector")
        .with_columns(sector=pl.col("sector").str.strip_chars())
        .with_columns(sector_share=1.0 / pl.len().over("object_id"))
    )


def allocate(
    consumption: pl.DataFrame,
    links: pl.DataFrame,
    residue: pl.DataFrame,
    connections: pl.DataFrame,
    bag: pl.DataFrame,
) -> pl.DataFrame:
    """Consumption rows spread over (regions, sector, object); volume is conserved exactly.

    `links` needs `ean`, `object_id`, `allocation_share`, `method`; `residue` needs `ean`,
    `residue_class`; `connections` and `bag` are the normalised registers. Built as one query
    and collected once, sorted: each eager join of a national register copied every column
    it carried.
    """
    volumes = consumption.lazy()
    bag_rows = bag.lazy()
    linked = (
        volumes.join(links.lazy().select("ean", "object_id", "allocation_share", "method"), on="ean", how="inner")
        .join(object_sectors(bag_rows), on="object_id", how="left")
        .join(object_regions(bag_rows), on="object_id", how="left")
        .with_columns(
            volume=pl.col("volume") * pl.col("allocation_share") * pl.col("sector_share").fill_null(1.0),
            sector=pl.col("sector").fill_null("object onbekend"),
            *[pl.col(c).fill_null(UNKNOWN_REGION) for c in REGION_COLUMNS],
        )
    )
    in_residue = (
        volumes.join(residue.lazy().select("ean", sector="residue_class"), on="ean", how="inner")
        .join(connection_regions(connections.lazy(), bag_rows), on="ean", how="left")
        .with_columns(object_id=pl.lit(None, dtype=pl.String), method=pl.lit(None, dtype=pl.String))
    )
    placed = pl.concat([links.lazy().select("ean"), residue.lazy().select("ean")]).unique()
    not_in_register = volumes.join(placed, on="ean", how="anti").with_columns(
        sector=pl.lit(NOT_IN_REGISTER),
        object_id=pl.lit(None, dtype=pl.String),
        method=pl.lit(None, dtype=pl.String),
        **{c: pl.lit(UNKNOWN_REGION) for c in REGION_COLUMNS},
    )
    allocated = pl.concat([part.select(ALLOCATION_COLUMNS) for part in (linked, in_residue, not_in_register)])
    return allocated.sort(ALLOCATION_ORDER, nulls_last=True).collect(engine="streaming")
