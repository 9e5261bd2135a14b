"""Dutch address comparisons for the probabilistic stage (Splink 5, DuckDB SQL).

Each comparison is a list of levels, best first, written as plain level dicts so the SQL is in
sight. Both sides carry the same column names (see `linkage.probabilistic._records`), and every
level is symmetric in l and r, so it does not matter which register Splink puts on the left.

Splink's built-in postcode comparison is for UK postcodes; Dutch ones (`1234AB`) get their own.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_library as cl

# Street names cut at 24 characters by a register: the cleaned key may lose a trailing space or
# dot, so a cut name is recognised as a prefix of at least this many characters.
TRUNCATION_LENGTH = 24
MIN_PREFIX_LENGTH = 20


def _null(column: str) -> dict[str, Any]:
    return {
        "sql_condition": f'"{column}_l" IS NULL OR "{column}_r" IS NULL',
        "label_for_charts": f"{column} missing",
        "is_null_level": True,
    }


def _exact(column: str, *, tf: bool = False) -> dict[str, Any]:
    level: dict[str, Any] = {
        "sql_condition": f'"{column}_l" = "{column}_r"',
        "label_for_charts": f"{column} exact",
    }
    if tf:
        level |= {"tf_adjustment_column": column, "tf_adjustment_weight": 1.0}
    return level


def _else() -> dict[str, Any]:
    return {"sql_condition": "ELSE", "label_for_charts": "all other"}


def postcode_comparison() -> cl.CustomComparison:
    """Exact / typo / same PC4 / else. A typo is the two letters swapped (`1234BA`) or one digit
    changed with the letters kept (`1235AB`). One letter changed is *not* a typo level: within a
    PC4 neighbouring postcodes differ in one letter all the time (1 in 10 random pairs in a
    gemeente), so it is no evidence; it falls to "same PC4"."""
    l, r = '"postcode_clean_l"', '"postcode_clean_r"'
    swapped = f"(substr({l}, 1, 4) = substr({r}, 1, 4) AND substr({l}, 5, 1) = substr({r}, 6, 1) AND substr({l}, 6, 1) = substr({r}, 5, 1))"
    digit = f"(substr({l}, 5, 2) = substr({r}, 5, 2) AND hamming(substr({l}, 1, 4), substr({r}, 1, 4)) = 1)"
    return cl.CustomComparison(
        output_column_name="postcode_clean",
        comparison_levels=[
            _null("postcode_clean"),
            _exact("postcode_clean"),
            {"sql_condition": f"{swapped} OR {digit}", "label_for_charts": "letters swapped or one digit off"},
            {"sql_condition": f"substr({l}, 1, 4) = substr({r}, 1, 4)",
             "label_for_charts": "same PC4"},
            _else(),
        ],
    )


def huisnummer_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="huisnummer",
        comparison_levels=[_null("huisnummer"), _exact("huisnummer"), _else()],
    )


def suffix_comparison() -> cl.CustomComparison:
    """Suffix keys are "" (not null) when there is none: both empty / exact / one empty / else."""
    l, r = '"suffix_key_l"', '"suffix_key_r"'
    return cl.CustomComparison(
        output_column_name="suffix_key",
        comparison_levels=[
            _null("suffix_key"),
            {"sql_condition": f"{l} = '' AND {r} = ''", "label_for_charts": "both empty"},
            _exact("suffix_key"),
            {"sql_condition": f"{l} = '' OR {r} = ''", "label_for_charts": "one empty"},
            _else(),
        ],
    )


def street_comparison() -> cl.CustomComparison:
    """Exact (term-frequency adjusted: `kerkstraat` is weak evidence) / same 24-character prefix
    or one a truncation of the other / Jaro-Winkler >= 0.9 / else."""
    l, r = '"street_key_l"', '"street_key_r"'
    n, m = TRUNCATION_LENGTH, MIN_PREFIX_LENGTH
    truncated = (
        f"(substr({l}, 1, {n}) = substr({r}, 1, {n}) AND length({l}) >= {n} AND length({r}) >= {n})"
        f" OR (length({l}) >= {m} AND length({l}) <= {n} AND starts_with({r}, {l}))"
        f" OR (length({r}) >= {m} AND length({r}) <= {n} AND starts_with({l}, {r}))"
    )
    return cl.CustomComparison(
        output_column_name="street_key",
        comparison_levels=[
            _null("street_key"),
            _exact("street_key", tf=True),
            {"sql_condition": truncated, "label_for_charts": "truncated at 24"},
            {"sql_condition": f"jaro_winkler_similarity({l}, {r}) >= 0.9",
             "label_for_charts": "Jaro-Winkler >= 0.9"},
            _else(),
        ],
    )


def woonplaats_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="woonplaats_key",
        comparison_levels=[_null("woonplaats_key"), _exact("woonplaats_key"), _else()],
    )


def distance_comparison() -> cl.CustomComparison:
    """Euclidean distance in RD New metres; a null level when either side has no point."""
    dist = 'sqrt(power("x_l" - "x_r", 2) + power("y_l" - "y_r", 2))'
    return cl.CustomComparison(
        output_column_name="distance",
        comparison_levels=[
            {"sql_condition": '"x_l" IS NULL OR "x_r" IS NULL OR "y_l" IS NULL OR "y_r" IS NULL',
             "label_for_charts": "no point", "is_null_level": True},
            {"sql_condition": f"{dist} < 10", "label_for_charts": "< 10 m"},
            {"sql_condition": f"{dist} < 50", "label_for_charts": "< 50 m"},
            {"sql_condition": f"{dist} < 250", "label_for_charts": "< 250 m"},
            _else(),
        ],
    )


def bag_ref_comparison() -> cl.CustomComparison:
    """The register's BAG id as evidence, not truth. `bag_ref` is the object id on the BAG side
    and the registered id on the register side: equal / points to another object / missing."""
    return cl.CustomComparison(
        output_column_name="bag_ref",
        comparison_levels=[
            _null("bag_ref"),
            {"sql_condition": '"bag_ref_l" = "bag_ref_r"', "label_for_charts": "registered id is this object"},
            {"sql_condition": "ELSE", "label_for_charts": "registered id is another object"},
        ],
    )


def comparisons() -> list[cl.CustomComparison]:
    return [
        postcode_comparison(),
        huisnummer_comparison(),
        suffix_comparison(),
        street_comparison(),
        woonplaats_comparison(),
        distance_comparison(),
        bag_ref_comparison(),
    ]
