"""Typed view of the ODCS v3.2.0 contracts in this folder.

The YAML files are the single source of what the pipeline accepts and writes (ADR 0002). This
module turns one into plain dataclasses: the columns with their polars dtypes, and the quality
rules that ingestion evaluates row by row. It reads the YAML with PyYAML only, so the pipeline
does not need datacontract-cli (a development tool) at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml

from core.errors import KoppelwerkError

INPUT_NAMES: tuple[str, ...] = ("bag", "connections", "consumption")
OUTPUT_NAMES: tuple[str, ...] = ("links", "residue", "sector_energy_statistics", "quarantine")
# Outputs beyond the spec's fixed edges, each with a contract of its own.
EXTRA_OUTPUT_NAMES: tuple[str, ...] = ("sector_energy_uncertainty",)
CONTRACT_NAMES: tuple[str, ...] = INPUT_NAMES + OUTPUT_NAMES + EXTRA_OUTPUT_NAMES

# ODCS logical type -> the one polars dtype the pipeline uses for it. One integer and one float
# width everywhere, so frames from different stages compare and concatenate without casts.
LOGICAL_DTYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "number": pl.Float64(),
    "boolean": pl.Boolean(),
}

RuleMetric = Literal["nullValues", "invalidValues", "duplicateValues", "sql", "custom"]
PROFILE_NAMES = ("statistical", "operational")
_LIBRARY_METRICS = ("nullValues", "invalidValues", "duplicateValues")


class ContractError(KoppelwerkError):
    """A contract file is malformed, or a frame does not have the shape its contract declares."""


@dataclass(frozen=True)
class Column:
    """One declared property.

    `required` answers "must a delivery carry this column?" (the input contracts' custom property
    `necessity`; every output column is required). `nullable` is the ODCS `required: false`:
    whether the column may hold empty values.
    """

    name: str
    dtype: pl.DataType
    required: bool
    nullable: bool
    description: str
    enum: tuple[Any, ...] = ()
    min_length: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class RowRule:
    """A named quality rule.

    `metric` is the ODCS library metric, or "sql" for a rule whose executable form is a DuckDB
    query counting the rows that break it. Ingestion evaluates an input contract's rules row by
    row (holding a polars equivalent of each sql rule under the same name); an output's rules are
    run by `datacontract test`. `column` is None for a rule declared on the table rather than a
    property; `key_columns` are the columns a duplicateValues rule treats as one key.
    `quarantine` says whether a breaking input row is rejected, or only flagged and kept.
    `blocking` whether missing the rule's threshold stops the run (the rule guards the
    statistics) or only warns (a reuse demand on the source holder); `thresholds` the share of
    rows that must pass it, per use profile. A "custom" rule is evaluated across deliveries by
    the pipeline (`implementation` names the function).
    """

    name: str
    column: str | None
    metric: RuleMetric
    quarantine: bool
    description: str
    valid_values: tuple[Any, ...] | None = None
    pattern: str | None = None
    key_columns: tuple[str, ...] = ()
    query: str | None = None
    blocking: bool = False
    thresholds: Mapping[str, float] = field(default_factory=dict)
    implementation: str | None = None

    def threshold(self, profile: str) -> float:
        return self.thresholds[profile]


@dataclass(frozen=True)
class Contract:
    """One dataset's contract: its columns in order, its row rules and the raw ODCS document."""

    name: str
    path: Path
    document: Mapping[str, Any]
    columns: tuple[Column, ...]
    row_rules: tuple[RowRule, ...]
    record_id_columns: tuple[str, ...]
    type_rule_blocking: bool = True
    type_rule_thresholds: Mapping[str, float] = field(default_factory=dict)

    def rule(self, name: str) -> RowRule:
        for rule in self.row_rules:
            if rule.name == name:
                return rule
        raise KeyError(f"{self.name} contract has no rule {name!r}")

    def blocking(self, rule: str) -> bool:
        """Whether missing `rule`'s threshold stops the run; parse failures (`type_*`) included."""
        return self.type_rule_blocking if rule.startswith("type_") else self.rule(rule).blocking

    def threshold(self, rule: str, profile: str) -> float:
        """Share of a delivery's rows that must pass `rule` under `profile`."""
        return self.type_rule_thresholds[profile] if rule.startswith("type_") else self.rule(rule).threshold(profile)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def polars_schema(self) -> pl.Schema:
        return pl.Schema({column.name: column.dtype for column in self.columns})

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} contract has no column {name!r}")


def contract_path(name: str) -> Path:
    """The YAML file of a contract, shipped beside this module as package data."""
    if name not in CONTRACT_NAMES:
        raise ContractError(f"unknown contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")
    return Path(__file__).with_name(f"{name}.yaml")


@cache
def load_contract(name: str) -> Contract:
    """Parse and check one contract; cached, as the files do not change while a run lasts."""
    path = contract_path(name)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    schema_objects = document.get("schema") or []
    if len(schema_objects) != 1:
        raise ContractError(f"{path}: expected exactly one schema object, found {len(schema_objects)}")
    schema_object = schema_objects[0]
    is_input = name in INPUT_NAMES
    columns = tuple(_column(path, prop, is_input) for prop in schema_object.get("properties") or [])
    names = [column.name for column in columns]
    rules = [_rule(path, quality, None, is_input) for quality in schema_object.get("quality") or []]
    for prop in schema_object.get("properties") or []:
        rules += [_rule(path, quality, prop["name"], is_input) for quality in prop.get("quality") or []]
    _check_rules(path, rules, set(names))
    record_id = tuple(_custom(schema_object, "recordId") or ())
    if not set(record_id) <= set(names):
        raise ContractError(f"{path}: recordId names undeclared columns {sorted(set(record_id) - set(names))}")
    type_rules = _custom(schema_object, "typeRules") or {}
    if is_input:
        _check_thresholds(path, "typeRules", type_rules.get("thresholds"))
    return Contract(
        name,
        path,
        document,
        columns,
        tuple(rules),
        record_id,
        type_rule_blocking=bool(type_rules.get("blocking", True)),
        type_rule_thresholds=dict(type_rules.get("thresholds") or {}),
    )


def _check_thresholds(path: Path, owner: str, thresholds: Any) -> None:
    if (
        not isinstance(thresholds, Mapping)
        or set(thresholds) != set(PROFILE_NAMES)
        or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in thresholds.values())
    ):
        raise ContractError(f"{path}: {owner} needs thresholds for {', '.join(PROFILE_NAMES)}, each a share in [0, 1]")


def _custom(node: Mapping[str, Any], key: str) -> Any:
    for entry in node.get("customProperties") or []:
        if entry.get("property") == key:
            return entry.get("value")
    return None


def _column(path: Path, prop: Mapping[str, Any], is_input: bool) -> Column:
    name = prop["name"]
    logical = prop.get("logicalType")
    if logical not in LOGICAL_DTYPES:
        raise ContractError(f"{path}: property {name!r} has unsupported logicalType {logical!r}")
    necessity = _custom(prop, "necessity")
    if is_input and necessity not in ("required", "optional"):
        raise ContractError(f"{path}: input property {name!r} needs customProperty necessity: required|optional")
    options = prop.get("logicalTypeOptions") or {}
    return Column(
        name=name,
        dtype=LOGICAL_DTYPES[logical],
        required=necessity != "optional",
        nullable=not prop.get("required", False),
        description=" ".join(str(prop.get("description", "")).split()),
        enum=tuple(entry["value"] for entry in prop.get("enum") or []),
        min_length=options.get("minLength"),
        max_length=options.get("maxLength"),
    )


def _rule(path: Path, quality: Mapping[str, Any], column: str | None, is_input: bool) -> RowRule:
    name = quality.get("name")
    if not name:
        raise ContractError(f"{path}: a quality rule on {column or 'the table'} has no name")
    metric = quality.get("type") if quality.get("type") in ("sql", "custom") else quality.get("metric")
    if metric not in (*_LIBRARY_METRICS, "sql", "custom"):
        raise ContractError(f"{path}: rule {name!r} uses {metric!r}; row rules are sql, custom or {_LIBRARY_METRICS}")
    if quality.get("mustBe") != 0:
        raise ContractError(f"{path}: rule {name!r} must count breaking rows with mustBe: 0")
    quarantine = _custom(quality, "quarantine")
    if is_input and not isinstance(quarantine, bool):
        raise ContractError(f"{path}: input rule {name!r} needs customProperty quarantine: true|false")
    blocking = _custom(quality, "blocking")
    thresholds = _custom(quality, "thresholds")
    if is_input:
        if not isinstance(blocking, bool):
            raise ContractError(f"{path}: input rule {name!r} needs customProperty blocking: true|false")
        _check_thresholds(path, f"rule {name!r}", thresholds)
    arguments = quality.get("arguments") or {}
    valid_values = arguments.get("validValues")
    keys = arguments.get("properties") or ([column] if column else [])
    return RowRule(
        name=name,
        column=column,
        metric=metric,
        quarantine=bool(quarantine),
        description=" ".join(str(quality.get("description", "")).split()),
        valid_values=tuple(valid_values) if valid_values is not None else None,
        pattern=arguments.get("pattern"),
        key_columns=tuple(keys) if metric == "duplicateValues" else (),
        query=quality.get("query"),
        blocking=bool(blocking),
        thresholds=dict(thresholds or {}),
        implementation=quality.get("implementation"),
    )


def _check_rules(path: Path, rules: list[RowRule], columns: set[str]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ContractError(f"{path}: rule name {rule.name!r} is used twice")
        seen.add(rule.name)
        if rule.name.startswith("type_"):
            raise ContractError(f"{path}: rule {rule.name!r}: the prefix type_ is reserved for parse failures")
        if rule.metric in ("nullValues", "invalidValues") and rule.column is None:
            raise ContractError(f"{path}: rule {rule.name!r} ({rule.metric}) belongs on a property")
        if rule.metric == "invalidValues" and (rule.valid_values is None) == (rule.pattern is None):
            raise ContractError(f"{path}: rule {rule.name!r} needs exactly one of validValues or pattern")
        if rule.metric == "duplicateValues" and not rule.key_columns:
            raise ContractError(f"{path}: table rule {rule.name!r} needs arguments.properties")
        if rule.metric == "sql" and not rule.query:
            raise ContractError(f"{path}: sql rule {rule.name!r} has no query")
        if rule.metric == "custom" and (not rule.implementation or rule.quarantine):
            raise ContractError(f"{path}: custom rule {rule.name!r} needs an implementation and cannot quarantine")
        if not set(rule.key_columns) <= columns:
            raise ContractError(f"{path}: rule {rule.name!r} names undeclared columns")
