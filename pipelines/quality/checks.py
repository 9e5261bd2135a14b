"""One asset check per contract rule, generated from the contracts: blocking where a failing
delivery would corrupt the statistics, a warning where it misses a reuse demand.

The checks sit on `delivery_validation`, which linkage waits for: a blocking check that fails
stops the run before anything is linked or published."""

import dagster as dg
import polars as pl

from data_contracts import load_contract
from pipelines.quality.assets import KINDS
from quality.expectations import rule_summary


def _rule_check(kind: str, rule: str, description: str, blocking: bool) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset="delivery_validation", name=f"{kind}_{rule}", blocking=blocking, description=description)
    def _check(delivery_validation: pl.DataFrame) -> dg.AssetCheckResult:
        validation = delivery_validation
        row = validation.filter((pl.col("source") == kind) & (pl.col("rule") == rule))
        if row.height == 0:  # a parse rule for a column this delivery cannot fail
            return dg.AssetCheckResult(passed=True, metadata={"checked": False})
        result = row.row(0, named=True)
        summary = rule_summary(result)
        return dg.AssetCheckResult(
            passed=bool(result["passed"]),
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "summary": summary,
                "compliance": result["compliance"],
                "threshold": result["threshold"],
                "failing_rows": result["n_failed"],
            },
        )

    return _check


def _checks() -> list[dg.AssetChecksDefinition]:
    checks = []
    for kind in KINDS:
        contract = load_contract(kind)
        for rule in contract.row_rules:
            checks.append(_rule_check(kind, rule.name, rule.description, rule.blocking))
        for column in contract.columns:
            if column.dtype != pl.String():
                checks.append(
                    _rule_check(
                        kind,
                        f"type_{column.name}",
                        f"{column.name} values are {column.dtype}.",
                        contract.type_rule_blocking,
                    )
                )
    return checks


rule_checks = _checks()
