"""Sector energy statistics: aggregation of allocated volumes per region and sector."""

from __future__ import annotations

import polars as pl

from koppelwerk.config import DisclosureRules
from publication.disclosure import primary_suppression

STATISTICS_COLUMNS = [
    "year", "region_level", "region_code", "sector", "product", "unit",
    "volume", "n_connections", "n_objects", "suppressed",
]


def sector_statistics(allocation: pl.DataFrame, rules: DisclosureRules) -> pl.DataFrame:
    """Gemeente-level cells with volume, counts and the suppression flag applied."""
    keys = ["year", "gemeente_code", "sector", "product", "unit"]
    per_connection = allocation.group_by([*keys, "ean"]).agg(volume=pl.col("volume").sum())
    largest = per_connection.group_by(keys).agg(max_connection_volume=pl.col("volume").max())
    cells = allocation.group_by(keys).agg(
        volume=pl.col("volume").sum(),
        n_connections=pl.col("ean").n_unique().cast(pl.Int64),
        n_objects=pl.col("object_id").drop_nulls().n_unique().cast(pl.Int64),
    ).join(largest, on=keys, how="left", nulls_equal=True)
    suppressed = primary_suppression(rules)
    return (
        cells.with_columns(suppressed=suppressed)
        .with_columns(
            volume=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("volume")),
            region_level=pl.lit("gemeente"),
            region_code=pl.col("gemeente_code"),
        )
        .select(STATISTICS_COLUMNS)
        .sort(["year", "region_code", "sector", "product"])
    )
