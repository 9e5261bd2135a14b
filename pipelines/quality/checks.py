"""One asset check per contract rule, generated from the contracts: blocking where a failing
delivery would corrupt the statistics, a warning where it misses a reuse demand.

The checks sit on `delivery_validation`, which linkage waits for: a blocking check that fails
stops the run before anything is linked or published. They are evaluated in one step that reads
the validation table once (one step per check cost 55 warehouse reads, 3 s of a run); each is
still a check of its own in the UI, with its own result and severity."""

from dataclasses import dataclass

import dagster as dg
import polars as pl

from data_contracts import load_contract
from pipelines.quality.assets import KINDS
from quality.expectations import rule_summary


@dataclass(frozen=True)
class _Rule:
    kind: str
    rule: str
    description: str
    blocking: bool

    @property
    def name(self) -> str:
        return f"{self.kind}_{self.rule}"


def _rules() -> list[_Rule]:
    rules = []
    for kind in KINDS:
        contract = load_contract(kind)
        rules += [_Rule(kind, rule.name, rule.description, rule.blocking) for rule in contract.row_rules]
        rules += [
            _Rule(kind, f"type_{column.name}", f"{column.name} values are {column.dtype}.", contract.type_rule_blocking)
            for column in contract.columns
            if column.dtype != pl.String()
        ]
    return rules


def _result(rule: _Rule, validation: pl.DataFrame) -> dg.AssetCheckResult:
    row = validation.filter((pl.col("source") == rule.kind) & (pl.col("rule") == rule.rule))
    if row.height == 0:  # a parse rule for a column this delivery cannot fail
        return dg.AssetCheckResult(
            asset_key="delivery_validation", check_name=rule.name, passed=True, metadata={"checked": False}
        )
    result = row.row(0, named=True)
    return dg.AssetCheckResult(
        asset_key="delivery_validation",
        check_name=rule.name,
        passed=bool(result["passed"]),
        severity=dg.AssetCheckSeverity.ERROR if rule.blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "summary": rule_summary(result),
            "compliance": result["compliance"],
            "threshold": result["threshold"],
            "failing_rows": result["n_failed"],
        },
    )


_RULES = _rules()


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(rule.name, asset="delivery_validation", description=rule.description, blocking=rule.blocking)
        for rule in _RULES
    ],
    ins={"delivery_validation": dg.AssetIn("delivery_validation")},
)
def contract_rule_checks(delivery_validation: pl.DataFrame):
    for rule in _RULES:
        yield _result(rule, delivery_validation)
