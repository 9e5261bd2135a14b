"""What falls out of the linkage, quantified: the residue per class, grid operator and gemeente.

Policy readers need the share of energy that sits outside the BAG (lamp posts, chargers,
pumps, construction); source holders need to see which of their records could not be placed.
This table is for the run's operators and the source holders' reports, not for publication: it
is per connection group, without disclosure control.
"""

from __future__ import annotations

import polars as pl

from core.products import UNIT_OF_PRODUCT
from publication.cells import stable_sum
from publication.regions import UNKNOWN_REGION

RESIDUE_SUMMARY_COLUMNS = [
    "residue_class",
    "netbeheerder",
    "gemeente_code",
    "product",
    "unit",
    "n_connections",
    "volume",
    "share_of_total",
]


def residue_summary(residue: pl.DataFrame, connections: pl.DataFrame, allocation: pl.DataFrame) -> pl.DataFrame:
    """One row per (residue class, netbeheerder, gemeente, product): residue connections, their
    volume in the allocated year, and that volume's share of the year's total for the unit.

    Every residue connection counts, with volume 0 where no consumption was delivered for it;
    its gemeente is the one allocation gave it (from its postcode or woonplaats).
    """
    per_ean = (
        allocation.filter(pl.col("object_id").is_null())
        .group_by("ean")
        .agg(stable_sum("volume"), pl.col("gemeente_code").first())
    )
    totals = allocation.group_by("unit").agg(total=stable_sum("volume"))
    return (
        residue.select("ean", "residue_class", "netbeheerder")
        .join(connections.select("ean", "product"), on="ean", how="left")
        .join(per_ean, on="ean", how="left")
        .with_columns(
            unit=pl.col("product").replace_strict(UNIT_OF_PRODUCT, default=None),
            gemeente_code=pl.col("gemeente_code").fill_null(UNKNOWN_REGION),
            volume=pl.col("volume").fill_null(0.0),
        )
        .group_by("residue_class", "netbeheerder", "gemeente_code", "product", "unit")
        .agg(n_connections=pl.len().cast(pl.Int64), volume=stable_sum("volume"))
        .join(totals, on="unit", how="left")
        .with_columns(
            share_of_total=pl.when(pl.col("total") > 0).then(pl.col("volume") / pl.col("total")).otherwise(0.0)
        )
        .select(RESIDUE_SUMMARY_COLUMNS)
        .sort("residue_class", "netbeheerder", "gemeente_code", "product")
    )


def residue_rollups(summary: pl.DataFrame) -> dict[str, list[dict[str, object]]]:
    """The summary rolled up by class, by netbeheerder and by gemeente, and the residue's share
    of the total volume per unit: the tables a report shows."""

    def rollup(by: str) -> list[dict[str, object]]:
        keys = list(dict.fromkeys([by, "unit"]))
        return (
            summary.group_by(keys)
            .agg(pl.col("n_connections").sum(), stable_sum("volume").round(1), stable_sum("share_of_total").round(5))
            .sort(keys, nulls_last=True)
            .to_dicts()
        )

    return {
        "residue_by_class": rollup("residue_class"),
        "residue_by_netbeheerder": rollup("netbeheerder"),
        "residue_by_gemeente": rollup("gemeente_code"),
        "residue_share_of_total": rollup("unit"),
    }
