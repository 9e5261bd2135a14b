"""Linkage uncertainty in the statistics: the links as they would be at another threshold, and
per published cell the range its volume spans.

A cell's `volume_low` and `volume_high` span its volume at the run's threshold and at a stricter
and a looser one (`koppelwerk.config.UncertaintyThresholds`). Stricter: links whose probability
is below the threshold are dropped, and their connections count as `unresolved`. Looser: the best
candidate of every `unresolved` connection whose probability reaches the threshold is linked
(to that one object; a collective meter found this way is not spread over its pand).
"""

from __future__ import annotations

import polars as pl

from linkage.assign import UNRESOLVED

UNCERTAINTY_COLUMNS = ["year", "region_level", "region_code", "sector", "product", "unit",
                       "volume_probabilistic", "volume_low", "volume_high"]


def links_at_threshold(
    links: pl.DataFrame, residue: pl.DataFrame, candidates: pl.DataFrame, threshold: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`links` and `residue` (ean, residue_class) had the linkage threshold been `threshold`.

    `candidates` holds the best candidate (`ean`, `object_id`, `match_probability`) of each
    connection the assignment left unresolved."""
    dropped = links.filter(pl.col("match_probability") < threshold).select("ean").unique()
    kept = links.join(dropped, on="ean", how="anti")
    unresolved = residue.filter(pl.col("residue_class") == UNRESOLVED).select("ean")
    added = candidates.join(unresolved, on="ean", how="semi").filter(pl.col("match_probability") >= threshold)
    scenario_links = pl.concat([
        kept.select("ean", "object_id", "allocation_share", "method"),
        added.select("ean", "object_id", allocation_share=pl.lit(1.0), method=pl.lit("probabilistic")),
    ])
    scenario_residue = pl.concat([
        residue.join(added.select("ean"), on="ean", how="anti").select("ean", "residue_class"),
        dropped.with_columns(residue_class=pl.lit(UNRESOLVED)),
    ])
    return scenario_links, scenario_residue



def cell_uncertainty(cells: pl.DataFrame, statistics: pl.DataFrame, scenario_cells: list[pl.DataFrame]) -> pl.DataFrame:
    """Per published cell: the volume that came through probabilistic links, and the least and
    most volume it has in `cells` and in each of `scenario_cells` (the cells of the same
    consumption allocated at other thresholds; a cell absent from a scenario has 0 there).
    Everything is empty for a suppressed cell: its range would give its volume away."""
    keys = ["year", "region_level", "region_code", "sector", "product"]
    spans = [cells.select(*keys, "volume")] + [
        cells.select(keys).join(other.select(*keys, "volume"), on=keys, how="left").with_columns(pl.col("volume").fill_null(0.0))
        for other in scenario_cells
    ]
    span = pl.concat(spans).group_by(keys).agg(volume_low=pl.col("volume").min(), volume_high=pl.col("volume").max())
    hidden = pl.col("suppressed")
    return (
        statistics.select(*keys, "unit", "suppressed")
        .join(cells.select(*keys, "volume_probabilistic"), on=keys, how="left")
        .join(span, on=keys, how="left")
        .with_columns(**{c: pl.when(hidden).then(None).otherwise(pl.col(c)) for c in UNCERTAINTY_COLUMNS[6:]})
        .select(UNCERTAINTY_COLUMNS)
        .sort(keys)
    )
