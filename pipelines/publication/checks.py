"""Checks beside the published statistics: nothing traceable, nothing lost.

The logic lives in `publication` as pure functions; these are the wiring."""

import dagster as dg
import polars as pl

from pipelines.resources import KoppelwerkSettings, columns
from publication.cells import CELL_KEYS
from publication.disclosure import primary_rule_violations, recoverable_cells
from publication.uncertainty import uncertainty_violations

_CELLS = {"cells": dg.AssetIn("statistics_cells")}
_EXAMPLES = 5


def _cell_names(frame: pl.DataFrame) -> list[str]:
    return (
        frame.head(_EXAMPLES)
        .select(pl.concat_str(pl.col(CELL_KEYS).cast(pl.String), separator="/"))
        .to_series()
        .to_list()
    )


def _primary_rule_check(name: str, rule: str, description: str) -> dg.AssetChecksDefinition:
    """A blocking check that passes when no published cell breaks the primary rule `rule`."""

    @dg.asset_check(
        name=name, asset="sector_energy_statistics", blocking=True, additional_ins=_CELLS, description=description
    )
    def _check(
        settings: KoppelwerkSettings, sector_energy_statistics: pl.DataFrame, cells: pl.DataFrame
    ) -> dg.AssetCheckResult:
        rules = settings.run_config().disclosure
        broken = primary_rule_violations(sector_energy_statistics, cells, rules).filter(pl.col("rule") == rule)
        return dg.AssetCheckResult(
            passed=broken.height == 0,
            metadata={
                "published_cells_breaking_the_rule": broken.height,
                "examples": ", ".join(_cell_names(broken)),
                "summary": f"{broken.height} published cells break {rule}",
            },
        )

    return _check


no_small_cells_published = _primary_rule_check(
    "no_small_cells_published", "min_connections", "No published cell has fewer connections than the minimum."
)
no_dwelling_cell_below_min_dwellings = _primary_rule_check(
    "no_dwelling_cell_below_min_dwellings",
    "min_dwellings",
    "No published woonfunctie cell has fewer dwellings than the minimum.",
)
no_dominated_cell_published = _primary_rule_check(
    "no_dominated_cell_published",
    "dominance",
    "No published cell has one connection delivering more than the dominance share of it.",
)


@dg.asset_check(
    asset="allocation",
    blocking=True,
    additional_ins={"consumption": dg.AssetIn("consumption", metadata=columns("year", "unit", "volume"))},
    description="The allocated volume per unit equals the consumption delivered for the year.",
)
def allocation_conserves_volume(allocation: pl.DataFrame, consumption: pl.DataFrame) -> dg.AssetCheckResult:
    years = allocation["year"].unique().to_list()
    delivered = consumption.filter(pl.col("year").is_in(years)).group_by("unit").agg(pl.col("volume").sum())
    allocated = allocation.group_by("unit").agg(pl.col("volume").sum())
    compared = delivered.join(allocated, on="unit", how="full", suffix="_allocated", coalesce=True).fill_null(0.0)
    worst = compared.select(
        ((pl.col("volume") - pl.col("volume_allocated")).abs() / pl.col("volume").abs().clip(1.0)).max()
    ).item()
    return dg.AssetCheckResult(passed=(worst or 0.0) < 1e-9, metadata={"max_relative_difference": float(worst or 0.0)})


@dg.asset_check(
    asset="sector_energy_statistics",
    blocking=True,
    additional_ins=_CELLS,
    description="No suppressed volume can be recovered from published cells by any combination of sums.",
)
def no_suppressed_cell_recoverable(sector_energy_statistics: pl.DataFrame, cells: pl.DataFrame) -> dg.AssetCheckResult:
    recovered = recoverable_cells(sector_energy_statistics, cells)
    return dg.AssetCheckResult(
        passed=recovered.height == 0,
        metadata={"recoverable_cells": recovered.height, "examples": ", ".join(_cell_names(recovered))},
    )


@dg.asset_check(
    asset="sector_energy_uncertainty",
    blocking=True,
    additional_ins={name: dg.AssetIn(name) for name in ("statistics_cells", "uncertainty_contributions")},
    description="No published uncertainty figure, difference of figures in a row or sum over cells gives away a "
    "part of the connections that breaks a primary rule, and none that is withheld can be recovered.",
)
def no_uncertainty_figure_discloses(
    settings: KoppelwerkSettings,
    sector_energy_uncertainty: pl.DataFrame,
    statistics_cells: pl.DataFrame,
    uncertainty_contributions: pl.DataFrame,
) -> dg.AssetCheckResult:
    found = uncertainty_violations(
        sector_energy_uncertainty, statistics_cells, uncertainty_contributions, settings.run_config().disclosure
    )
    examples = found.head(_EXAMPLES).select(pl.format("{}: {}", "where", "reason")).to_series().to_list()
    return dg.AssetCheckResult(
        passed=found.height == 0,
        metadata={
            "disclosures": found.height,
            "examples": " | ".join(examples),
            "summary": f"{found.height} disclosing uncertainty figures",
        },
    )
