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
# Volumes to a billionth of a kWh or m3, up to 10^29: far finer and larger than any delivery.
VOLUME_DECIMAL = pl.Decimal(38, 9)


def stable_sum(column: str) -> pl.Expr:
    """The sum of a float column that is the same bits on every run, whatever the row order.

    A plain float `.sum()` in a group_by is not: polars may split a group over threads and add
    the partial sums (choosing that path from a random sample of the keys), and float addition
    is not associative, so the same rows could give cells that differ in their last bits. The
    values are added as fixed-point decimals (`VOLUME_DECIMAL`) instead, an exact integer sum,
    and only the total is turned back into a float. The values must be finite, as volumes are
    (ingestion quarantines NaN and inf): a NaN or inf raises rather than spreading silently."""
    return pl.col(column).cast(VOLUME_DECIMAL).sum().cast(pl.Float64)


def cell_keys_at(level: str, by_sector: bool) -> list[pl.Expr]:
    """`CELL_KEYS` of the cell a row (with the allocation's year, regions, sector and product)
    counts in at region level `level`, by its sector or (`by_sector` false) in `totaal`."""
    column = LEVELS[level]
    return [
        pl.col("year"),
        pl.lit(level).alias("region_level"),
        (pl.lit(NATIONAL_CODE) if column is None else pl.col(column).cast(pl.String)).alias("region_code"),
        (pl.col("sector").cast(pl.String) if by_sector else pl.lit(TOTAL_SECTOR)).alias("sector"),
        pl.col("product").cast(pl.String),
    ]


def _cells_at(rows: pl.DataFrame, level: str, by_sector: bool) -> pl.DataFrame:
    """The cells of one region level, per sector or (`by_sector` false) for the sector totaal."""
    column = LEVELS[level]
    region = [column] if column else []
    if level == "woonplaats":
        region.append("gemeente_code")  # its parent; one gemeente per woonplaats, so no extra cells
    keys = ["year", "product", "unit", *(["sector"] if by_sector else []), *region]
    per_connection = rows.group_by([*keys, "ean_code"]).agg(stable_sum("volume"), stable_sum("probabilistic"))
    cells = per_connection.group_by(keys).agg(
        volume=stable_sum("volume"),
        n_connections=pl.len().cast(pl.Int64),
        volume_probabilistic=stable_sum("probabilistic"),
        max_connection_volume=pl.col("volume").max(),
    )
    objects = (
        rows.drop_nulls("object_code").group_by(keys).agg(n_objects=pl.col("object_code").n_unique().cast(pl.Int64))
    )
    parent = pl.col("gemeente_code") if level == "woonplaats" else pl.lit(None if column is None else NATIONAL_CODE)
    return cells.join(objects, on=keys, how="left", nulls_equal=True).select(
        *cell_keys_at(level, by_sector),
        unit=pl.col("unit").cast(pl.String),
        parent_code=parent.cast(pl.String),
        volume="volume",
        n_connections="n_connections",
        n_objects=pl.col("n_objects").fill_null(0),
        volume_probabilistic="volume_probabilistic",
        max_connection_volume="max_connection_volume",
    )


def aggregate_cells(allocation: pl.DataFrame) -> pl.DataFrame:
    """Every cell, unsuppressed: `CELL_KEYS`, `unit`, `parent_code`, `volume`, `n_connections`,
    `n_objects`, `volume_probabilistic` and `max_connection_volume`.

    Connections and objects are counted by integer codes and the region and sector columns are
    categorical: a national allocation has tens of millions of rows, and eight passes over it
    (four levels, per sector and totaal) must not group on 18-digit strings."""
    categorical = ["product", "unit", "sector", "gemeente_code", "woonplaats", "postcode4"]
    rows = allocation.select(
        "year",
        *[pl.col(c).cast(pl.Categorical) for c in categorical],
        "volume",
        ean_code=pl.col("ean").rank("dense").cast(pl.UInt32),
        object_code=pl.col("object_id").rank("dense").cast(pl.UInt32),
        probabilistic=pl.when(pl.col("method") == "probabilistic").then(pl.col("volume")).otherwise(0.0),
    )
    cells = [_cells_at(rows, level, by_sector) for level in LEVELS for by_sector in (True, False)]
    return (
        pl.concat(cells)
        .select(
            *CELL_KEYS,
            "unit",
            "parent_code",
            "volume",
            "n_connections",
            "n_objects",
            "volume_probabilistic",
            "max_connection_volume",
        )
        .sort(CELL_KEYS)
    )
