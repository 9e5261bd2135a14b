"""Checks beside the published statistics: nothing traceable, nothing lost."""


import dagster as dg
import polars as pl

from publication.disclosure import recoverable_cells
from pipelines.resources import KoppelwerkSettings


@dg.asset_check(asset="sector_energy_statistics", blocking=True,
                description="No published cell breaks the minimum-count rules.")
def no_small_cells_published(
    settings: KoppelwerkSettings, sector_energy_statistics: pl.DataFrame
) -> dg.AssetCheckResult:
    rules = settings.run_config().disclosure
    published = sector_energy_statistics.filter(~pl.col("suppressed"))
    small = published.filter(pl.col("n_connections") < rules.min_connections)
    return dg.AssetCheckResult(passed=small.height == 0, metadata={"small_published_cells": small.height})


@dg.asset_check(asset="allocation", blocking=True, additional_ins={"consumption": dg.AssetIn("consumption")},
                description="The allocated volume per unit equals the consumption delivered for the year.")
def allocation_conserves_volume(allocation: pl.DataFrame, consumption: pl.DataFrame) -> dg.AssetCheckResult:
    years = allocation["year"].unique().to_list()
    delivered = consumption.filter(pl.col("year").is_in(years)).group_by("unit").agg(pl.col("volume").sum())
    allocated = allocation.group_by("unit").agg(pl.col("volume").sum())
    compared = delivered.join(allocated, on="unit", how="full", suffix="_allocated", coalesce=True).fill_null(0.0)
    worst = compared.select(((pl.col("volume") - pl.col("volume_allocated")).abs() / pl.col("volume").abs().clip(1.0)).max()).item()
    return dg.AssetCheckResult(passed=(worst or 0.0) < 1e-9, metadata={"max_relative_difference": float(worst or 0.0)})


@dg.asset_check(asset="sector_energy_statistics", blocking=True, additional_ins={"cells": dg.AssetIn("statistics_cells")},
                description="No suppressed volume can be recovered from published cells by any combination of sums.")
def no_suppressed_cell_recoverable(sector_energy_statistics: pl.DataFrame, cells: pl.DataFrame) -> dg.AssetCheckResult:
    recovered = recoverable_cells(sector_energy_statistics, cells)
    examples = recovered.head(5).select(pl.concat_str("region_level", "region_code", "sector", "product", separator="/"))
    return dg.AssetCheckResult(
        passed=recovered.height == 0,
        metadata={"recoverable_cells": recovered.height, "examples": ", ".join(examples.to_series().to_list())},
    )
