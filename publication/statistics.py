"""Sector energy statistics: the published table, cells (`publication.cells`) under disclosure
control (`publication.disclosure`), in the columns of the spec."""

from __future__ import annotations

import polars as pl

from core.config import DisclosureRules
from publication.cells import CELL_KEYS
from publication.disclosure import suppress

STATISTICS_COLUMNS = [
    "year",
    "region_level",
    "region_code",
    "sector",
    "product",
    "unit",
    "volume",
    "n_connections",
    "n_objects",
    "suppressed",
]


def sector_statistics(cells: pl.DataFrame, rules: DisclosureRules) -> pl.DataFrame:
    """The publishable table from `publication.cells.aggregate_cells`: a suppressed cell
    carries no volume."""
    return (
        suppress(cells, rules)
        .with_columns(volume=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("volume")))
        .select(STATISTICS_COLUMNS)
        .sort(CELL_KEYS)
    )
