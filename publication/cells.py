"""Cells: allocated volumes aggregated per year, region, sector and product, not yet controlled.

Cells are made at four region levels (`nationaal`, `gemeente`, `woonplaats`, `postcode4`), for
every sector and for the sector `totaal` (all sectors of the region, so that the national
`totaal` holds every kWh and m3 of the input). Each cell carries what disclosure control needs
(`n_connections`, `n_objects`, the largest single connection's volume, its parent region) and
the volume that came through probabilistic links.
"""

from __future__ import annotations

import polars as pl

NATIONAL = "nationaal"
NATIONAL_CODE = "NL"
TOTAL_SECTOR = "totaal"
# region level -> the allocation column holding its code
LEVELS = {NATIONAL: None, "gemeente": "gemeente_code", "woonplaats": "woonplaats", "postcode4": "postcode4"}
CELL_KEYS = ["year", "region_level", "region_code", "sector", "product"]


def _at_level(allocation: pl.DataFrame, level: str) -> pl.DataFrame:
    """The allocation rows with `region_level`, `region_code` and `parent_code` (the gemeente of
    a woonplaats, the nation of a gemeente or postcode4) for one level."""
    column = LEVELS[level]
    code = pl.lit(NATIONAL_CODE) if column is None else pl.col(column)
    parent = pl.col("gemeente_code") if level == "woonplaats" else pl.lit(None if column is None else NATIONAL_CODE)
    return allocation.with_columns(region_level=pl.lit(level), region_code=code, parent_code=parent.cast(pl.String))


def aggregate_cells(allocation: pl.DataFrame) -> pl.DataFrame:
    """Every cell, unsuppressed: `CELL_KEYS`, `unit`, `parent_code`, `volume`, `n_connections`,
    `n_objects`, `max_connection_volume` and `volume_probabilistic`."""
    by_level = pl.concat([_at_level(allocation, level) for level in LEVELS])
    rows = pl.concat([by_level, by_level.with_columns(sector=pl.lit(TOTAL_SECTOR))])
    keys = [*CELL_KEYS, "unit", "parent_code"]
    largest = (
        rows.group_by([*keys, "ean"]).agg(pl.col("volume").sum())
        .group_by(keys).agg(max_connection_volume=pl.col("volume").max())
    )
    cells = rows.group_by(keys).agg(
        volume=pl.col("volume").sum(),
        n_connections=pl.col("ean").n_unique().cast(pl.Int64),
        n_objects=pl.col("object_id").drop_nulls().n_unique().cast(pl.Int64),
        volume_probabilistic=pl.col("volume").filter(pl.col("method") == "probabilistic").sum(),
    )
    return cells.join(largest, on=keys, how="left", nulls_equal=True).sort(CELL_KEYS)
