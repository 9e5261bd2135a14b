"""The deliveries' quality: contract rules as Great Expectations suites, results kept per run."""

import json

import dagster as dg
import polars as pl

import linkage
from pipelines.progress import reporting
from pipelines.resources import KoppelwerkSettings, all_but, columns
from quality.demands import DEMAND_COLUMNS, with_demands
from quality.expectations import validate_deliveries
from quality.fix_impact import CONNECTION_COLUMNS, fix_impact, run_corrections
from quality.holder_reports import build_reports, holder_compliance, read_previous, write_reports

GROUP = "quality"
KINDS = ("bag", "connections", "consumption")


def delivery_results(frames: dict[str, pl.DataFrame], holders: bool = True) -> dict[str, pl.DataFrame]:
    """Per delivery its per-row rule results with the cross-delivery demands, from the assets
    `<kind>`, `<kind>_rule_results` and `<kind>_quarantine` in `frames` (`holders`: as for
    `quality.demands.with_demands`)."""
    return {
        kind: with_demands(
            kind,
            frames[f"{kind}_rule_results"],
            frames[f"{kind}_quarantine"],
            frames["bag"],
            frames["connections"],
            frames["consumption"],
            holders=holders,
        )
        for kind in KINDS
    }


_INS = {name: dg.AssetIn(name) for kind in KINDS for name in (kind, f"{kind}_rule_results", f"{kind}_quarantine")}
# validation and the reports read of each delivery only what its demands need (at national size the full
# deliveries alone are 20 GB once loaded)
_DEMAND_INS = {**_INS, **{kind: dg.AssetIn(kind, metadata=columns(*DEMAND_COLUMNS[kind])) for kind in KINDS}}
# validation counts rows: it needs neither which record a row is nor its holder
_VALIDATION_INS = {
    **_DEMAND_INS,
    **{
        f"{kind}_rule_results": dg.AssetIn(f"{kind}_rule_results", metadata=all_but("record_id", "holder"))
        for kind in KINDS
    },
}


@dg.asset(
    group_name=GROUP,
    ins=_VALIDATION_INS,
    description="Every contract rule of every delivery, as Great Expectations ran it under the run's profile.",
)
def delivery_validation(
    context: dg.AssetExecutionContext, settings: KoppelwerkSettings, **frames: pl.DataFrame
) -> pl.DataFrame:
    config = settings.run_config()
    folder = settings.run_folder(context).staging / "quality"
    folder.mkdir(exist_ok=True)
    with reporting(context) as progress:
        progress("Great Expectations suites of the three deliveries")
        validation = validate_deliveries(
            delivery_results(frames, holders=False), config.profile, docs_dir=folder / "data_docs"
        )
    (folder / "validation.json").write_text(json.dumps(validation.to_dicts(), indent=1))
    missed = validation.filter(~pl.col("passed"))
    context.log.info(
        f"{validation.height} rules checked under profile '{config.profile}'; missed: "
        + (", ".join(f"{s}.{r}" for s, r in missed.select("source", "rule").rows()) or "none")
    )
    return validation


@dg.asset(
    name="fix_impact",
    group_name=GROUP,
    ins={
        # the normalised registers: the comparison keys the re-link needs
        "bag": dg.AssetIn("normalised_bag", metadata=columns(*linkage.BAG_INPUT_COLUMNS, "postcode")),
        "connections": dg.AssetIn("normalised_connections", metadata=columns(*CONNECTION_COLUMNS)),
        **{name: dg.AssetIn(name) for name in ("links", "residue", "unresolved_candidates", "linkage_model")},
    },
    description="Per defect class and netbeheerder, what correcting it would buy: the corrected records "
    "linked again with the run's model (internal; the holder reports show it).",
)
def fix_impact_estimates(
    context: dg.AssetExecutionContext, settings: KoppelwerkSettings, **frames: pl.DataFrame
) -> pl.DataFrame:
    config = settings.run_config()
    corrections = run_corrections(frames["links"], frames["residue"], frames["unresolved_candidates"])
    with reporting(context) as progress:
        return fix_impact(
            frames["connections"],
            frames["bag"],
            frames["links"],
            corrections,
            config.use_profile,
            settings=config.linkage,
            duckdb_config=config.duckdb_config(),
            model=json.loads(frames["linkage_model"]["model"].item()),
            progress=progress,
            backend=config.engine.linkage_backend,
        )


@dg.asset(
    group_name=GROUP,
    ins={
        **_DEMAND_INS,
        **{f"{kind}_delivery": dg.AssetIn(f"{kind}_delivery") for kind in KINDS},
        "fix_impact": dg.AssetIn("fix_impact"),
    },
    description="One quality report (HTML and JSON) per netbeheerder and per gemeente, on its own records only.",
)
def source_holder_reports(
    context: dg.AssetExecutionContext, settings: KoppelwerkSettings, **frames: pl.DataFrame
) -> pl.DataFrame:
    config = settings.run_config()
    run_folder = settings.run_folder(context)
    compliance = pl.concat([holder_compliance(kind, frame) for kind, frame in delivery_results(frames).items()])
    deliveries = pl.concat([frames[f"{kind}_delivery"] for kind in KINDS])
    previous = read_previous(run_folder.current("reports"))
    reports = build_reports(compliance, frames["fix_impact"], deliveries, config.profile, previous)
    return write_reports(reports, run_folder.staging / "reports")
