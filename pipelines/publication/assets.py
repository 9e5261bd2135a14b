"""Allocation, statistics and the files a run publishes into its output folder."""


import json
from pathlib import Path

import dagster as dg
import polars as pl

from data_contracts import validate_output
from koppelwerk.errors import InputError
from publication.allocation import allocate
from publication.report import ReportInputs, analyst_report
from publication.residue_summary import residue_summary as summarise_residue
from publication.cells import aggregate_cells
from publication.statistics import sector_statistics
from publication.uncertainty import cell_uncertainty, links_at_threshold
from publication.summary import run_summary, summary_html
from pipelines.resources import KoppelwerkSettings

GROUP = "publication"


def _select_years(consumption: pl.DataFrame, year: int | None) -> pl.DataFrame:
    """The requested year, or every year in the delivery."""
    years = sorted(consumption["year"].unique().to_list())
    if not years:
        raise InputError("consumption: the delivery holds no valid rows")
    if year is None:
        return consumption
    if year not in years:
        raise InputError(f"consumption: no rows for year {year} (years present: {', '.join(map(str, years))})")
    return consumption.filter(pl.col("year") == year)


@dg.asset(group_name=GROUP, description="Each connection's volume spread over regions, sectors and objects.")
def allocation(
    settings: KoppelwerkSettings,
    consumption: pl.DataFrame,
    links: pl.DataFrame,
    residue: pl.DataFrame,
    normalised_connections: pl.DataFrame,
    normalised_bag: pl.DataFrame,
) -> pl.DataFrame:
    return allocate(_select_years(consumption, settings.year), links, residue, normalised_connections, normalised_bag)


@dg.asset(group_name=GROUP, description="Every statistics cell before disclosure control (internal, never published).")
def statistics_cells(allocation: pl.DataFrame) -> pl.DataFrame:
    return aggregate_cells(allocation)


@dg.asset(group_name=GROUP, description="Aggregated, disclosure-controlled energy use per region and sector.")
def sector_energy_statistics(settings: KoppelwerkSettings, statistics_cells: pl.DataFrame) -> pl.DataFrame:
    return sector_statistics(statistics_cells, settings.run_config().disclosure)


@dg.asset(group_name=GROUP, description="Per published cell: volume through probabilistic links, and its range over thresholds.")
def sector_energy_uncertainty(
    settings: KoppelwerkSettings,
    statistics_cells: pl.DataFrame,
    sector_energy_statistics: pl.DataFrame,
    consumption: pl.DataFrame,
    links: pl.DataFrame,
    residue: pl.DataFrame,
    unresolved_candidates: pl.DataFrame,
    normalised_connections: pl.DataFrame,
    normalised_bag: pl.DataFrame,
) -> pl.DataFrame:
    thresholds = settings.run_config().uncertainty
    delivered = _select_years(consumption, settings.year)
    scenarios = [
        aggregate_cells(allocate(delivered, *links_at_threshold(links, residue, unresolved_candidates, threshold),
                                 normalised_connections, normalised_bag))
        for threshold in (thresholds.strict, thresholds.loose)
    ]
    return cell_uncertainty(statistics_cells, sector_energy_statistics, scenarios)


@dg.asset(group_name=GROUP, description="Residue connections and volume per class, netbeheerder and gemeente.")
def residue_summary(residue: pl.DataFrame, normalised_connections: pl.DataFrame, allocation: pl.DataFrame) -> pl.DataFrame:
    return summarise_residue(residue, normalised_connections, allocation)


def _keep_previous(out_dir: Path) -> pl.DataFrame | None:
    """Move the previous run's published statistics to `previous/` and return them, so the
    report can say what changed (None on a first run)."""
    current = out_dir / "sector_energy_statistics.parquet"
    if not current.exists():
        return None
    kept = out_dir / "previous" / current.name
    kept.parent.mkdir(exist_ok=True)
    current.replace(kept)
    return pl.read_parquet(kept)


@dg.asset(
    group_name=GROUP,
    description="Writes the output tables, the quarantine, the run summary and the analyst report to the output folder.",
)
def published_outputs(
    context: dg.AssetExecutionContext,
    settings: KoppelwerkSettings,
    links: pl.DataFrame,
    residue: pl.DataFrame,
    quarantine: pl.DataFrame,
    sector_energy_statistics: pl.DataFrame,
    sector_energy_uncertainty: pl.DataFrame,
    allocation: pl.DataFrame,
    linkage_curve: pl.DataFrame,
    residue_summary: pl.DataFrame,
    connections: pl.DataFrame,
    connections_quarantine: pl.DataFrame,
) -> None:
    config = settings.run_config()
    out_dir = config.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = _keep_previous(out_dir)
    tables = {
        "links": links,
        "residue": residue,
        "sector_energy_statistics": sector_energy_statistics,
        "sector_energy_uncertainty": sector_energy_uncertainty,
        "quarantine": quarantine,
    }
    for name, frame in tables.items():
        validate_output(name, frame)
        frame.write_parquet(out_dir / f"{name}.parquet")
    linkage_curve.write_parquet(out_dir / "linkage_curve.parquet")
    residue_summary.write_parquet(out_dir / "residue_summary.parquet")
    n_read = connections.height + connections_quarantine["row_number"].n_unique()
    summary = run_summary(n_read, links, residue, quarantine, sector_energy_statistics, allocation, residue_summary)
    (out_dir / "run_summary.json").write_text(json.dumps(summary, indent=2))
    (out_dir / "run_summary.html").write_text(summary_html(summary))
    report = ReportInputs(
        statistics=sector_energy_statistics, uncertainty=sector_energy_uncertainty, curve=linkage_curve,
        profile_threshold=config.use_profile.min_match_probability, previous=previous,
    )
    (out_dir / "analyst_report.html").write_text(analyst_report(report), encoding="utf-8")
    context.add_output_metadata(
        {"out_dir": str(out_dir), **{k: v for k, v in summary.items() if not isinstance(v, (dict, list))}}
    )
