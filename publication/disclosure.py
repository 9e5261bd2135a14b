"""Disclosure control: which aggregated cells may be published.

A cell is suppressed when it has fewer than `min_connections` connections, when it is a dwelling
cell with fewer than `min_dwellings` dwellings, or when one connection delivers more than
`dominance_share` of its volume. The same rules are stated in data_contracts/
sector_energy_statistics.yaml. Only one region level (gemeente) is published for now, so no
published total exists that a suppressed cell could be recovered from by subtraction.
"""

from __future__ import annotations

import polars as pl

from koppelwerk.config import DisclosureRules

DWELLING_SECTOR = "woonfunctie"


def primary_suppression(rules: DisclosureRules) -> pl.Expr:
    """True for a cell that may not be published on its own merits."""
    too_few = pl.col("n_connections") < rules.min_connections
    few_dwellings = (pl.col("sector") == DWELLING_SECTOR) & (pl.col("n_objects") < rules.min_dwellings)
    dominated = pl.col("max_connection_volume") > rules.dominance_share * pl.col("volume")
    return too_few | few_dwellings | dominated
