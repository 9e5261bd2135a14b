"""Allocation, statistics and the files a run publishes into its output folder."""

import json

import dagster as dg
import polars as pl

from core.run_folder import PUBLIC, RunFolder, promote, run_manifest
from data_contracts import validate_output
from ingestion.preflight import select_year
from pipelines.progress import reporting
from pipelines.resources import KoppelwerkSettings, columns
from publication import uncertainty
from publication.allocation import BAG_COLUMNS, CONNECTION_COLUMNS, allocate
from publication.cells import aggregate_cells
from publication.report import ReportInputs, analyst_report
from publication.residue_summary import residue_summary as summarise_residue
from publication.statistics import sector_statistics
from publication.summary import run_summary, summary_html
from publication.uncertainty import cell_uncertainty, connection_contributions

GROUP = "publication"
# the `threshold` of a `threshold_allocations` row
STRICT, LOOSE = "strict", "loose"
# allocation reads a few columns of the normalised registers (at a million objects the whole
# frames are 1.5 GB once loaded)
_REGISTERS = {
    "normalised_connections": dg.AssetIn("normalised_connections", metadata=columns(*CONNECTION_COLUMNS)),
    "normalised_bag": dg.AssetIn("normalised_bag", metadata=columns(*BAG_COLUMNS)),
}


@dg.asset(
    group_name=GROUP, ins=_REGISTERS, description="Each connection's volume spread over regions, sectors and objects."
)
def allocation(
    settings: KoppelwerkSettings,
    consumption: pl.DataFrame,
    links: pl.DataFrame,
    residue: pl.DataFrame,
    normalised_connections: pl.DataFrame,
    normalised_bag: pl.DataFrame,
) -> pl.DataFrame:
    return allocate(select_year(consumption, settings.year), links, residue, normalised_connections, normalised_bag)


@dg.asset(group_name=GROUP, description="Every statistics cell before disclosure control (internal, never published).")
def statistics_cells(allocation: pl.DataFrame) -> pl.DataFrame:
    return aggregate_cells(allocation)


@dg.asset(group_name=GROUP, description="Aggregated, disclosure-controlled energy use per region and sector.")
def sector_energy_statistics(settings: KoppelwerkSettings, statistics_cells: pl.DataFrame) -> pl.DataFrame:
    return sector_statistics(statistics_cells, settings.run_config().disclosure)


@dg.asset(
    group_name=GROUP,
    ins=_REGISTERS,
    description="The allocation rows of the connections the strict and the loose linkage threshold "
    "would move, by `threshold` (internal, never published).",
)
def threshold_allocations(
    context: dg.AssetExecutionContext,
    settings: KoppelwerkSettings,
    consumption: pl.DataFrame,
    links: pl.DataFrame,
    residue: pl.DataFrame,
    unresolved_candidates: pl.DataFrame,
    normalised_connections: pl.DataFrame,
    normalised_bag: pl.DataFrame,
) -> pl.DataFrame:
    """A step of its own: the registers and links it reads are let go before the contributions
    are summed (at 10 M objects the two together passed 22 GB, 11 of them these inputs)."""
    config = settings.run_config()
    with reporting(context) as progress:
        progress("allocation at the strict and loose thresholds")
        strict, loose = uncertainty.threshold_allocations(
            select_year(consumption, config.year),
            links,
            residue,
            unresolved_candidates,
            normalised_connections,
            normalised_bag,
            config.uncertainty,
        )
    return pl.concat([strict.with_columns(threshold=pl.lit(STRICT)), loose.with_columns(threshold=pl.lit(LOOSE))])


@dg.asset(
    group_name=GROUP,
    description="Per cell and connection: its volume at the run's, the strict and the loose "
    "threshold, and its part through probabilistic links (internal, never published).",
)
def uncertainty_contributions(
    context: dg.AssetExecutionContext,
    settings: KoppelwerkSettings,
    allocation: pl.DataFrame,
    threshold_allocations: pl.DataFrame,
) -> pl.DataFrame:
    strict, loose = (
        threshold_allocations.filter(pl.col("threshold") == name).drop("threshold") for name in (STRICT, LOOSE)
    )
    with reporting(context) as progress:
        progress("contributions per cell and connection", 0, allocation.height)
        return connection_contributions(
            allocation, strict, loose, objects_cap=settings.run_config().disclosure.min_dwellings
        )


@dg.asset(
    group_name=GROUP,
    description="Per published cell: volume through probabilistic links, and its range over "
    "thresholds, each figure under the primary rules.",
)
def sector_energy_uncertainty(
    settings: KoppelwerkSettings,
    statistics_cells: pl.DataFrame,
    sector_energy_statistics: pl.DataFrame,
    uncertainty_contributions: pl.DataFrame,
) -> pl.DataFrame:
    return cell_uncertainty(
        statistics_cells, sector_energy_statistics, uncertainty_contributions, settings.run_config().disclosure
    )


@dg.asset(
    group_name=GROUP,
    ins={
        "normalised_connections": dg.AssetIn("normalised_connections", metadata=columns("ean", "product")),
        "allocation": dg.AssetIn("allocation", metadata=columns("ean", "object_id", "gemeente_code", "unit", "volume")),
    },
    description="Residue connections and volume per class, netbeheerder and gemeente.",
)
def residue_summary(
    residue: pl.DataFrame, normalised_connections: pl.DataFrame, allocation: pl.DataFrame
) -> pl.DataFrame:
    return summarise_residue(residue, normalised_connections, allocation)


def _previous_statistics(run_folder: RunFolder) -> pl.DataFrame | None:
    """The last good run's published statistics, so the report can say what changed (None on a
    first run)."""
    path = run_folder.current(PUBLIC, "sector_energy_statistics.parquet")
    return pl.read_parquet(path) if path.exists() else None


@dg.asset(
    group_name=GROUP,
    ins={
        "connections": dg.AssetIn("connections", metadata=columns("ean")),  # counted only
        # the run summary totals the volume per unit and counts the rows of one sector
        "allocation": dg.AssetIn("allocation", metadata=columns("sector", "unit", "volume")),
    },
    description="Writes the run's tables, quarantine, run summary and analyst report into its staging folder: "
    "per-connection tables at the top, only what may leave the organisation in public/.",
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
    run_folder = settings.run_folder(context)
    internal, public = run_folder.staging, run_folder.public
    public.mkdir(exist_ok=True)
    for name, frame, folder in [
        ("links", links, internal),
        ("residue", residue, internal),
        ("quarantine", quarantine, internal),
        ("sector_energy_statistics", sector_energy_statistics, public),
        ("sector_energy_uncertainty", sector_energy_uncertainty, public),
    ]:
        validate_output(name, frame)
        frame.write_parquet(folder / f"{name}.parquet")
    linkage_curve.write_parquet(internal / "linkage_curve.parquet")
    residue_summary.write_parquet(internal / "residue_summary.parquet")
    n_read = connections.height + connections_quarantine["row_number"].n_unique()
    summary = run_summary(n_read, links, residue, quarantine, sector_energy_statistics, allocation, residue_summary)
    (internal / "run_summary.json").write_text(json.dumps(summary, indent=2))
    (internal / "run_summary.html").write_text(summary_html(summary))
    report = ReportInputs(
        statistics=sector_energy_statistics,
        uncertainty=sector_energy_uncertainty,
        curve=linkage_curve,
        profile_threshold=config.use_profile.min_match_probability,
        previous=_previous_statistics(run_folder),
    )
    (public / "analyst_report.html").write_text(analyst_report(report), encoding="utf-8")
    context.add_output_metadata(
        {"out_dir": str(config.out_dir), **{k: v for k, v in summary.items() if not isinstance(v, (dict, list))}}
    )


@dg.asset(
    group_name=GROUP,
    deps=["published_outputs", "source_holder_reports", "complexes"],
    description="Moves the run's staged outputs and warehouse into place, with a manifest, once every blocking "
    "check has passed; the last good run becomes previous/. A run that stops earlier changes nothing.",
)
def promoted_outputs(context: dg.AssetExecutionContext, settings: KoppelwerkSettings) -> dg.MaterializeResult:
    config = settings.run_config()
    run_folder = settings.run_folder(context)
    manifest = run_manifest(run_folder, config.as_record(), config.inputs())
    promote(run_folder, manifest)
    return dg.MaterializeResult(
        metadata={
            "out_dir": dg.MetadataValue.path(str(config.out_dir)),
            "warehouse": dg.MetadataValue.path(str(run_folder.warehouse)),
            "files": len(manifest["outputs"]),
        }
    )
