"""The contracts' rules as Great Expectations suites, generated, never written a second time.

Every rule of an input contract becomes one expectation on the delivery's per-row results
(`ingestion.IngestResult.rule_results` plus the cross-delivery demands of `quality.demands`):
the rule's column must be true for at least the rule's threshold under the run's use profile
(`mostly`). The expectation's `meta` carries whether the rule is blocking. GX runs on a pandas
frame of those boolean columns only (GX 1.24 has no polars engine), and writes its Data Docs into
the run folder for data engineers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from data_contracts import load_contract

VALIDATION_COLUMNS = ["source", "rule", "blocking", "threshold", "n_rows", "n_failed", "compliance", "passed"]


def rule_summary(row: dict) -> str:
    """One line on one validated rule (a row of `validate_deliveries`)."""
    return (
        f"{row['source']}: {100 * (1 - row['compliance']):.2f} % of {row['n_rows']:,} rows fail {row['rule']}, "
        f"the contract tolerates {100 * (1 - row['threshold']):.2f} %"
    )


def rule_columns(kind: str, results: pl.DataFrame) -> list[str]:
    """The rules of `kind`'s contract that `results` holds a column for, parse rules included."""
    names = {rule.name for rule in load_contract(kind).row_rules}
    return [c for c in results.columns if c in names or c.startswith("type_")]


def validate_deliveries(results: dict[str, pl.DataFrame], profile: str, docs_dir: Path | None = None) -> pl.DataFrame:
    """Run the generated suite of each delivery (`kind -> per-row results`) and return one row per
    delivery and rule (`VALIDATION_COLUMNS`). `docs_dir`, when given, receives one Data Docs site
    with every delivery's validation."""
    import great_expectations as gx  # its import costs seconds: only where it runs

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}  # type: ignore[assignment]
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="koppelwerk",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    source = context.data_sources.add_pandas(name="deliveries")
    definitions, frames = [], {}
    for kind, frame in results.items():
        contract = load_contract(kind)
        columns = rule_columns(kind, frame)
        suite = context.suites.add(gx.ExpectationSuite(name=f"{kind}_{profile}"))
        for column in columns:
            suite.add_expectation(
                gx.expectations.ExpectColumnValuesToBeInSet(
                    column=column,
                    value_set=[True],
                    mostly=contract.threshold(column, profile),
                    meta={"blocking": contract.blocking(column), "contract": kind, "profile": profile},
                )
            )
        batch = source.add_dataframe_asset(name=kind).add_batch_definition_whole_dataframe(name=f"{kind} this run")
        definitions.append(
            context.validation_definitions.add(gx.ValidationDefinition(name=kind, data=batch, suite=suite))
        )
        frames[kind] = frame.select(columns).to_pandas()
    rows = []
    for definition in definitions:
        kind = definition.name
        contract = load_contract(kind)
        actions: list[Any] = [gx.checkpoint.UpdateDataDocsAction(name="data docs")] if docs_dir is not None else []
        # BASIC: counts only; the examples per holder come from `quality.holder_reports`
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"{kind}_checkpoint",
                validation_definitions=[definition],
                actions=actions,
                result_format="BASIC",
            )
        )
        outcome = checkpoint.run(batch_parameters={"dataframe": frames[kind]})
        for validation in outcome.run_results.values():
            for result in validation.results:
                assert result.expectation_config is not None  # every result of a checkpoint has its expectation
                column = result.expectation_config.kwargs["column"]
                n_rows = int(result.result.get("element_count", len(frames[kind])))
                n_failed = int(result.result.get("unexpected_count", 0))
                rows.append(
                    {
                        "source": kind,
                        "rule": column,
                        "blocking": contract.blocking(column),
                        "threshold": contract.threshold(column, profile),
                        "n_rows": n_rows,
                        "n_failed": n_failed,
                        "compliance": 1.0 - n_failed / n_rows if n_rows else 1.0,
                        "passed": bool(result.success),
                    }
                )
    schema = {
        "source": pl.String,
        "rule": pl.String,
        "blocking": pl.Boolean,
        "threshold": pl.Float64,
        "n_rows": pl.Int64,
        "n_failed": pl.Int64,
        "compliance": pl.Float64,
        "passed": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema).sort("source", "rule")
