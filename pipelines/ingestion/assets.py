"""Raw deliveries, validated against their contracts; rejected rows go to quarantine."""

from pathlib import Path

import dagster as dg
import polars as pl

from ingestion import read_delivery
from ingestion.preflight import require_rows, select_year
from pipelines.resources import KoppelwerkSettings

GROUP = "ingestion"


def _delivery_asset(kind: str) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=f"ingest_{kind}",
        group_name=GROUP,
        outs={
            kind: dg.AssetOut(description=f"The {kind} delivery: declared columns, valid rows."),
            f"{kind}_quarantine": dg.AssetOut(description=f"Rows of the {kind} delivery that broke a contract rule."),
            f"{kind}_rule_results": dg.AssetOut(
                description=f"Per row of the {kind} delivery: which contract rules it passes."
            ),
            f"{kind}_delivery": dg.AssetOut(description=f"What the {kind} delivery was: file, rows, columns dropped."),
        },
    )
    def _ingest(context: dg.AssetExecutionContext, settings: KoppelwerkSettings):
        path = Path(getattr(settings, kind))
        result = read_delivery(kind, path)  # type: ignore[arg-type]
        require_rows(kind, path, result.frame, result.n_rows_read)
        if kind == "consumption":
            select_year(result.frame, settings.year, path)  # a --year not delivered stops the run here
        context.log.info(
            f"{kind}: read {result.n_rows_read} rows from {path}, {result.frame.height} valid, "
            f"{result.quarantine.height} quarantine findings; dropped columns: {result.dropped_columns or 'none'}"
        )
        yield dg.Output(
            result.frame,
            output_name=kind,
            metadata={
                "source": str(path),
                "rows_read": result.n_rows_read,
                "dropped_columns": ", ".join(result.dropped_columns),
            },
        )
        yield dg.Output(result.quarantine, output_name=f"{kind}_quarantine")
        yield dg.Output(result.rule_results, output_name=f"{kind}_rule_results")
        yield dg.Output(
            pl.DataFrame(
                {
                    "source": [kind],
                    "path": [str(path)],
                    "n_rows_read": [result.n_rows_read],
                    "n_valid": [result.frame.height],
                    "dropped_columns": [result.dropped_columns],
                },
                schema_overrides={"dropped_columns": pl.List(pl.String)},
            ),
            output_name=f"{kind}_delivery",
        )

    return _ingest


delivery_assets = [_delivery_asset(kind) for kind in ("bag", "connections", "consumption")]


@dg.asset(group_name=GROUP, description="Every rejected input row with the contract rule it broke.")
def quarantine(
    bag_quarantine: pl.DataFrame,
    connections_quarantine: pl.DataFrame,
    consumption_quarantine: pl.DataFrame,
) -> pl.DataFrame:
    return pl.concat([bag_quarantine, connections_quarantine, consumption_quarantine])
