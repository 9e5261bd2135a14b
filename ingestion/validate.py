"""Validate a raw delivery frame against its input contract.

The contract decides everything here (ADR 0002): which columns are kept, their dtypes, and the
row rules. Values are parsed into the contract dtype; a value that does not parse is a finding
of rule `type_<column>`, and so is a number that is not finite (`inf`, `nan`, `1e309`): no
measurement or coordinate is infinite, and one such value would turn every sum it enters into
`inf`. A number column delivered as text is read with the decimal mark its values show, decided
from all of them (`_decimal_mark`); a column whose mark is in doubt refuses the file. The
contract's library rules (nullValues, invalidValues, duplicateValues) are interpreted
generically; a rule whose executable form is SQL has its polars equivalent in `SQL_RULES` under
the same name, and tests check the two agree. Rows that break a rule with `quarantine: true` go
to the quarantine, one finding per broken rule; every other row goes on, and breaks of flag
rules are only counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import polars as pl

import core.ean
from core.errors import InputError
from core.products import UNIT_OF_PRODUCT
from data_contracts import Column, Contract, ContractError, RowRule, load_contract

ROW = "__row"

# Spellings of a boolean in registers and spreadsheets (compared lower-cased).
BOOLEAN_WORDS: dict[str, bool] = {
    "true": True,
    "t": True,
    "1": True,
    "j": True,
    "ja": True,
    "y": True,
    "yes": True,
    "false": False,
    "f": False,
    "0": False,
    "n": False,
    "nee": False,
    "no": False,
}
_INTEGER = r"^[+-]?[0-9]+$"
_EXPONENT = r"([eE][+-]?[0-9]+)?"
_DECIMAL_POINT = rf"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+){_EXPONENT}$"
# Dutch notation: comma for decimals, optionally dots between groups of three digits.
_DECIMAL_COMMA = rf"^[+-]?([0-9]+|[0-9]{{1,3}}(\.[0-9]{{3}})+)(,[0-9]+)?{_EXPONENT}$"
# The two kinds of value that read differently with either decimal mark.
_DOT_EITHER = rf"^[+-]?[0-9]{{1,3}}\.[0-9]{{3}}{_EXPONENT}$"  # 2.731: a decimal point, or a thousands dot (2731)
_COMMA_EITHER = r"^[+-]?[0-9]{1,3},[0-9]{3}$"  # 1,234: a decimal comma, or a thousands comma (1234)
_TYPE_NAMES = {pl.Int64(): "an integer", pl.Float64(): "a finite number", pl.Boolean(): "a boolean"}
# Parquet types whose values have no text or number form to parse: the column cannot be read.
_UNREADABLE_DTYPES = (pl.List, pl.Array, pl.Struct, pl.Binary, pl.Object)
# A quarantine detail quotes the offending value; a 10,000-character one is cut to this length.
DETAIL_MAX_CHARS = 200

# Bounds of the consumption contract's sql rules `volume_below_absurd` and `year_in_range`
# (the contract says why); the contract's queries hold the same numbers.
ABSURD_VOLUME = 1e11
FIRST_YEAR = 2000


# The column that names a delivery's source holder: the grid operator of a connection, the
# gemeente of a BAG object. Consumption rows belong to the holder of their connection.
HOLDER_COLUMNS: dict[str, str | None] = {"connections": "netbeheerder", "bag": "gemeente_code", "consumption": None}


@dataclass
class IngestResult:
    """One delivery after validation.

    `frame` holds the contract's columns and dtypes and only the rows that passed every
    quarantine rule; `quarantine` has one row per rejected row and broken rule (the quarantine
    contract's shape). `dropped_columns` are the delivery's undeclared columns as they were
    named there. `rule_results` has one row per row read (quarantined ones included):
    `row_number`, `record_id`, `holder` (see `HOLDER_COLUMNS`; null where the delivery names
    none) and, per rule evaluated here, a boolean column named after the rule: true where the
    row passes it. Custom (cross-delivery) rules are evaluated later, by `quality.demands`.
    """

    kind: str
    frame: pl.DataFrame
    quarantine: pl.DataFrame
    dropped_columns: list[str]
    source_path: Path
    n_rows_read: int
    rule_results: pl.DataFrame

    @property
    def flagged(self) -> dict[str, int]:
        """Per flag rule (`quarantine: false`), the kept rows that break it."""
        kept = self.rule_results.join(self.quarantine.select("row_number").unique(), on="row_number", how="anti")
        names = [
            rule.name
            for rule in load_contract(self.kind).row_rules
            if not rule.quarantine and rule.name in kept.columns
        ]
        return {name: int((~kept[name]).sum()) for name in names}


@dataclass(frozen=True)
class Finding:
    """A rule as polars expressions: which rows break it and how to describe one.

    `breaks` and `helpers` see every row; `detail` is evaluated on the breaking rows only, so
    anything it needs from the whole frame (a duplicate's first row) comes in as a helper column.
    """

    rule: str
    breaks: pl.Expr
    detail: pl.Expr
    quarantine: bool
    helpers: tuple[pl.Expr, ...] = ()


def printable(text: str) -> str:
    """`text` with line breaks and other control characters escaped (`\\n`), so that a message
    naming a file, a header cell or a zip member stays on one line."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda control: repr(control.group())[1:-1], text)


def _value(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String)


_OBJECT_TYPE_CODES = {"verblijfsobject": "01", "ligplaats": "02", "standplaats": "03"}

# Polars form of each input rule whose contract form is SQL: (breaks the rule, detail).
SQL_RULES: dict[str, Callable[[], tuple[pl.Expr, pl.Expr]]] = {
    "ean_check_digit": lambda: (
        pl.col("ean").is_not_null() & ~core.ean.is_valid(pl.col("ean")),
        pl.format("ean = '{}' is not 18 digits ending in a valid GS1 check digit", pl.col("ean")),
    ),
    "huisnummer_range": lambda: (
        ~pl.col("huisnummer").is_between(1, 99999),
        pl.format("huisnummer = {} is outside 1..99999", _value("huisnummer")),
    ),
    "object_type_matches_id": lambda: (
        pl.col("object_id").str.slice(4, 2)
        != pl.col("object_type").replace_strict(_OBJECT_TYPE_CODES, default=None, return_dtype=pl.String),
        pl.format(
            "object_id = '{}' has another type code than object_type '{}'", pl.col("object_id"), pl.col("object_type")
        ),
    ),
    "unit_matches_product": lambda: (
        pl.col("unit") != pl.col("product").replace_strict(UNIT_OF_PRODUCT, default=None, return_dtype=pl.String),
        pl.format("unit = '{}' does not belong to product '{}'", pl.col("unit"), pl.col("product")),
    ),
    "address_or_description_present": lambda: (
        ~(
            (
                pl.col("huisnummer").is_not_null()
                & (pl.col("postcode").is_not_null() | pl.col("straatnaam").is_not_null())
            )
            | pl.col("locatieomschrijving").is_not_null()
        ),
        pl.lit("no huisnummer with a postcode or street, and no locatieomschrijving"),
    ),
    "volume_non_negative": lambda: (
        pl.col("volume") < 0,
        pl.format("volume = {} is negative", _value("volume")),
    ),
    "volume_below_absurd": lambda: (
        pl.col("volume") >= ABSURD_VOLUME,
        pl.format(
            f"volume = {{}} {{}} is not below {ABSURD_VOLUME:.0e}, more than any connection delivers in a year",
            _value("volume"),
            pl.col("unit"),
        ),
    ),
    "year_in_range": lambda: (
        ~pl.col("year").is_between(FIRST_YEAR, date.today().year),
        pl.format("year = {} is outside {}..{}", _value("year"), pl.lit(FIRST_YEAR), pl.lit(date.today().year)),
    ),
}


def validate_delivery(kind: str, raw: pl.DataFrame, source_path: Path) -> IngestResult:
    """Keep the declared columns of `raw`, parse them, apply the row rules, split off the quarantine."""
    contract = load_contract(kind)
    where = f"{kind} delivery {printable(str(source_path))}"
    if raw.height == 0:
        raise InputError(f"{where}: the file holds no data rows")
    by_name = _declared_columns(contract, raw.columns, where)
    dropped = [name for name in raw.columns if name not in by_name.values()]

    parsed: list[pl.Expr] = [pl.int_range(1, raw.height + 1, dtype=pl.Int64).alias(ROW)]
    for column in contract.columns:
        source = by_name.get(column.name)
        if source is None:
            parsed += [
                pl.lit(None, dtype=column.dtype).alias(column.name),
                pl.lit(None, dtype=pl.String).alias(_failed(column.name)),
            ]
        else:
            parsed += _parse(raw, source, column, where)
    work = raw.select(parsed).with_columns(_canonical_enum(column) for column in contract.columns if column.enum)

    findings = [_type_finding(column) for column in contract.columns if column.dtype != pl.String()]
    findings += [_rule_finding(contract, rule) for rule in contract.row_rules if rule.metric != "custom"]
    work = work.with_columns(
        *(finding.breaks.fill_null(False).alias(_mask(finding.rule)) for finding in findings),
        *(helper for finding in findings for helper in finding.helpers),
    )
    # polars 2.1.0 can panic ("binview ... i < self.len()") formatting the detail of filtered rows
    # of this many-column frame; one contiguous chunk avoids it.
    work = work.rechunk()
    quarantined = [finding for finding in findings if finding.quarantine]
    rejected = pl.any_horizontal([pl.col(_mask(finding.rule)) for finding in quarantined] or [pl.lit(False)])
    record_id = _record_id(contract)
    quarantine_schema = load_contract("quarantine").polars_schema
    pieces = [
        work.filter(pl.col(_mask(finding.rule))).select(
            source=pl.lit(kind),
            row_number=pl.col(ROW),
            record_id=record_id,
            rule=pl.lit(finding.rule),
            detail=_clipped(finding.detail),
        )
        for finding in quarantined
    ]
    quarantine_frame = pl.concat([pl.DataFrame(schema=quarantine_schema), *pieces]).sort(
        "row_number", maintain_order=True
    )

    holder = HOLDER_COLUMNS[kind]
    rule_results = work.select(
        row_number=pl.col(ROW),
        record_id=record_id,
        holder=pl.col(holder).cast(pl.String) if holder else pl.lit(None, dtype=pl.String),
        *(~pl.col(_mask(finding.rule)).alias(finding.rule) for finding in findings),
    )
    return IngestResult(
        kind=kind,
        frame=work.filter(~rejected).select(contract.column_names),
        quarantine=quarantine_frame,
        dropped_columns=dropped,
        source_path=source_path,
        n_rows_read=raw.height,
        rule_results=rule_results,
    )


def _declared_columns(contract: Contract, names: list[str], where: str) -> dict[str, str]:
    """Contract column -> the delivery's column, matching names case-insensitively and stripped."""
    declared = set(contract.column_names)
    by_normal: dict[str, str] = {}
    for name in names:
        normal = name.strip().lstrip("\ufeff").lower()
        if normal in by_normal:
            raise InputError(f"{where}: columns {by_normal[normal]!r} and {name!r} are the same column")
        if normal in declared:
            by_normal[normal] = name
    missing = [column.name for column in contract.columns if column.required and column.name not in by_normal]
    if missing:
        raise InputError(f"{where}: missing required column(s) {', '.join(missing)}")
    return {column.name: by_normal[column.name] for column in contract.columns if column.name in by_normal}


def _failed(name: str) -> str:
    return f"__failed_{name}"


def _mask(rule: str) -> str:
    return f"__rule_{rule}"


def _parse(raw: pl.DataFrame, source: str, column: Column, where: str) -> list[pl.Expr]:
    """The column in its contract dtype, and beside it the delivered text of values that failed to parse.

    Text is stripped and an empty value is null, so a CSV and a Parquet file with the same
    content give the same result. Parquet dates and categories are read through their text.
    """
    dtype = raw.schema[source]
    if isinstance(dtype, _UNREADABLE_DTYPES):
        raise InputError(f"{where}: column {source!r} holds {dtype} values; expected text or {column.dtype}")
    value = pl.col(source)
    if dtype.is_decimal():
        value, dtype = value.cast(pl.Float64), pl.Float64()
    if not (dtype.is_numeric() or dtype in (pl.Boolean(), pl.Null())):
        text = value.cast(pl.String).str.strip_chars()
        text = pl.when(text != "").then(text)
        decimal_comma = column.dtype == pl.Float64() and _decimal_mark(raw[source], source, where) == ","
        typed = _from_text(text, column.dtype, decimal_comma)
    elif column.dtype == pl.String():
        text = value.cast(pl.String)
        fixed_width = column.max_length if column.min_length == column.max_length else None
        # An id stored as a number has lost its leading zeros; its width is known, so restore them.
        typed = text.str.zfill(fixed_width) if dtype.is_integer() and fixed_width else text
    else:
        text = value.cast(pl.String)
        typed = _from_number(value, dtype, column.dtype)
    if column.dtype == pl.Float64():
        typed = pl.when(typed.is_finite()).then(typed)
    return [
        typed.alias(column.name),
        pl.when(text.is_not_null() & typed.is_null()).then(text).alias(_failed(column.name)),
    ]


def _decimal_mark(values: pl.Series, name: str, where: str) -> Literal[".", ","]:
    """The decimal mark of a number column delivered as text, decided from all its values.

    A value that only one mark reads (`3512.5`; `3512,5`, `1.234,5`, `1.234.567`) shows the
    file's mark; a value without either (`12`, `1e3`) shows nothing. The mark is `,` when some
    value shows it, else `.`, the normal case. A value that the other mark would read differently, by
    making its separator a thousands separator (`2.731` beside decimal commas, `1,234` without
    them), cannot be read either way without guessing by a factor of 1,000: the file is refused,
    naming the column and rows, and so is a column that shows both marks.
    """
    value = pl.col("value")
    readings = (
        pl.DataFrame({"value": values.cast(pl.String).str.strip_chars()})
        .with_row_index("row", offset=1)
        .filter(value.str.contains_any([".", ","]))
        .with_columns(
            kind=pl.when(value.str.contains(_DOT_EITHER))
            .then(pl.lit("dot_either"))
            .when(value.str.contains(_COMMA_EITHER))
            .then(pl.lit("comma_either"))
            .when(value.str.contains(_DECIMAL_POINT))
            .then(pl.lit("point"))
            .when(value.str.contains(_DECIMAL_COMMA))
            .then(pl.lit("comma"))
        )
        .drop_nulls("kind")
    )
    cited = {
        kind: _cite(rows, cells, total)
        for kind, rows, cells, total in readings.group_by("kind")
        .agg(pl.col("row").head(3), pl.col("value").head(3), pl.len())
        .iter_rows()
    }
    column = f"{where}: column {name!r}"
    if "point" in cited and "comma" in cited:
        raise InputError(
            f"{column} mixes decimal marks: a decimal point in {cited['point']}, a decimal comma in {cited['comma']}"
        )
    if "comma" in cited:
        if "dot_either" in cited:
            raise InputError(
                f"{column} writes decimal commas ({cited['comma']}), so the '.' in {cited['dot_either']} "
                "may be a thousands separator or a decimal point: refused rather than guessed"
            )
        return ","
    if "comma_either" in cited:
        raise InputError(
            f"{column}: the ',' in {cited['comma_either']} may be a decimal comma or a thousands "
            "separator: refused rather than guessed"
        )
    return "."


def _cite(rows: list[int], values: list[str], total: int) -> str:
    """`row 3 '2.731', row 8 '12.345' and 40 more`: where in the file a kind of value occurs."""
    shown = ", ".join(f"row {row} {value!r}" for row, value in zip(rows, values, strict=True))
    return shown + (f" and {total - len(rows)} more" if total > len(rows) else "")


def _from_text(text: pl.Expr, dtype: pl.DataType, decimal_comma: bool) -> pl.Expr:
    if dtype == pl.String():
        return text
    if dtype == pl.Int64():
        return pl.when(text.str.contains(_INTEGER)).then(text.str.to_integer(strict=False))
    if dtype == pl.Float64():
        if decimal_comma:
            english = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
            return pl.when(text.str.contains(_DECIMAL_COMMA)).then(english.cast(pl.Float64, strict=False))
        return pl.when(text.str.contains(_DECIMAL_POINT)).then(text.cast(pl.Float64, strict=False))
    if dtype == pl.Boolean():
        return text.str.to_lowercase().replace_strict(BOOLEAN_WORDS, default=None, return_dtype=pl.Boolean)
    raise ContractError(f"no text parser for dtype {dtype}")


def _from_number(value: pl.Expr, source: pl.DataType, dtype: pl.DataType) -> pl.Expr:
    """Cast an already typed column; a fraction for an integer, a boolean for a number, or anything
    but 0/1 for a boolean, fails."""
    if dtype == pl.Int64() and source.is_float():
        return pl.when(value == value.floor()).then(value.cast(pl.Int64, strict=False))
    if dtype == pl.Boolean() and source.is_numeric():
        return pl.when(value == 1).then(True).when(value == 0).then(False)
    if dtype != pl.Boolean() and source == pl.Boolean():
        return pl.lit(None, dtype=dtype)
    return value.cast(dtype, strict=False)


def _clipped(detail: pl.Expr) -> pl.Expr:
    """A detail cut to `DETAIL_MAX_CHARS`, so a 10,000-character value does not fill the holder's report."""
    cut = detail.str.slice(0, DETAIL_MAX_CHARS - 1) + pl.lit("…")
    return pl.when(detail.str.len_chars() > DETAIL_MAX_CHARS).then(cut).otherwise(detail)


def _canonical_enum(column: Column) -> pl.Expr:
    """Enum values matched case-insensitively, stored in the contract's spelling (`elk` -> `ELK`)."""
    spelling = {str(value).lower(): value for value in column.enum}
    value = pl.col(column.name)
    canonical = value.str.to_lowercase().replace_strict(spelling, default=None, return_dtype=pl.String)
    return pl.coalesce(canonical, value).alias(column.name)


def _type_finding(column: Column) -> Finding:
    failed = pl.col(_failed(column.name))
    detail = pl.format("{} = '{}' is not {}", pl.lit(column.name), failed, pl.lit(_TYPE_NAMES[column.dtype]))
    return Finding(f"type_{column.name}", failed.is_not_null(), detail, quarantine=True)


def _rule_finding(contract: Contract, rule: RowRule) -> Finding:
    if rule.metric == "sql":
        if rule.name not in SQL_RULES:
            raise ContractError(f"{contract.path}: sql rule {rule.name!r} has no polars implementation in ingestion")
        breaks, detail = SQL_RULES[rule.name]()
        return Finding(rule.name, breaks, detail, rule.quarantine)
    if rule.metric == "duplicateValues":
        keys = list(rule.key_columns)
        label = keys[0] if len(keys) == 1 else f"({', '.join(keys)})"
        values = pl.concat_str([_value(key) for key in keys], separator=", ")
        breaks = pl.all_horizontal(pl.col(key).is_not_null() for key in keys) & ~pl.struct(keys).is_first_distinct()
        first = f"__first_{rule.name}"
        detail = pl.format("{} = '{}' repeats row {}", pl.lit(label), values, pl.col(first))
        return Finding(rule.name, breaks, detail, rule.quarantine, helpers=(pl.col(ROW).min().over(keys).alias(first),))
    name = rule.column
    assert name is not None  # the contract loader puts nullValues and invalidValues on a property
    if rule.metric == "nullValues":
        # A value that failed to parse is null too, but it is reported as type_<column>.
        breaks = pl.col(name).is_null() & pl.col(_failed(name)).is_null()
        return Finding(rule.name, breaks, pl.lit(f"{name} is empty"), rule.quarantine)
    if rule.valid_values is not None:
        expected = ", ".join(map(str, rule.valid_values))
        breaks = ~pl.col(name).is_in(list(rule.valid_values))
        detail = pl.format("{} = '{}' is not one of {}", pl.lit(name), _value(name), pl.lit(expected))
    else:
        breaks = ~_value(name).str.contains(str(rule.pattern))
        detail = pl.format("{} = '{}', expected: {}", pl.lit(name), _value(name), pl.lit(rule.description))
    return Finding(rule.name, pl.col(name).is_not_null() & breaks, detail, rule.quarantine)


def _record_id(contract: Contract) -> pl.Expr:
    """The row's identifiers as delivered, joined by '/'; null when none is readable."""
    parts = [pl.col(name) for name in contract.record_id_columns]
    if not parts:
        return pl.lit(None, dtype=pl.String)
    joined = pl.concat_str([part.fill_null("") for part in parts], separator="/")
    return pl.when(pl.any_horizontal(part.is_not_null() for part in parts)).then(joined)
