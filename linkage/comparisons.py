"""Dutch address comparisons for the probabilistic stage (Splink 5, DuckDB SQL).

Each comparison is a list of levels, best first, written as plain level dicts so the SQL is in
sight. Both sides carry the same column names (see `linkage.probabilistic`), and every level is
symmetric in l and r, so it does not matter which register Splink puts on the left; where a
level depends on which side is the register (a suffix the register lost), the `is_register`
column tells.

Splink's built-in postcode comparison is for UK postcodes; Dutch ones (`1234AB`) get their own.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_library as cl

from core.config import LinkageSettings


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
            {"sql_condition": f"substr({l}, 1, 4) = substr({r}, 1, 4)", "label_for_charts": "same PC4"},
            _else(),
        ],
    )


def huisnummer_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="huisnummer",
        comparison_levels=[_null("huisnummer"), _exact("huisnummer"), _else()],
    )


def suffix_comparison() -> cl.CustomComparison:
    """Suffix keys are "" (not null) when there is none: both empty / exact / the register has
    none where BAG has one / BAG has none where the register has one / else.

    The two "one empty" directions are apart because they mean different things: a register
    that left out the suffix of 12-A is a common error, and lumping it with the reverse would
    halve its u and make the unit without a suffix look twice as likely as it is."""
    l, r = '"suffix_key_l"', '"suffix_key_r"'
    register_empty = f"({l} = '' AND \"is_register_l\") OR ({r} = '' AND \"is_register_r\")"
    return cl.CustomComparison(
        output_column_name="suffix_key",
        comparison_levels=[
            _null("suffix_key"),
            {"sql_condition": f"{l} = '' AND {r} = ''", "label_for_charts": "both empty"},
            _exact("suffix_key"),
            {"sql_condition": register_empty, "label_for_charts": "register has none, BAG has one"},
            {"sql_condition": f"{l} = '' OR {r} = ''", "label_for_charts": "BAG has none, register has one"},
            _else(),
        ],
    )


def street_comparison(settings: LinkageSettings) -> cl.CustomComparison:
    """Exact (term-frequency adjusted: `kerkstraat` is weak evidence) / the register's name was
    cut at 24 characters (`street_cut`) and agrees with the other's first 24, or its key of at
    least `street_prefix_min_length` characters is a prefix of the other's (a name abbreviated,
    then cut) / Jaro-Winkler >= `street_similarity_min` / else."""
    min_prefix, min_similarity = settings.street_prefix_min_length, settings.street_similarity_min
    l, r = '"street_key_l"', '"street_key_r"'
    l24, r24 = '"street_key24_l"', '"street_key24_r"'

    def cut_matches(cut: str, short: str, full: str) -> str:
        return f'("{cut}" AND ({l24} = {r24} OR (length({short}) >= {min_prefix} AND starts_with({full}, {short}))))'

    truncated = f"{cut_matches('street_cut_r', r, l)} OR {cut_matches('street_cut_l', l, r)}"
    return cl.CustomComparison(
        output_column_name="street_key",
        comparison_levels=[
            _null("street_key"),
            _exact("street_key", tf=True),
            {"sql_condition": truncated, "label_for_charts": "truncated at 24"},
            {
                "sql_condition": f"jaro_winkler_similarity({l}, {r}) >= {min_similarity}",
                "label_for_charts": f"Jaro-Winkler >= {min_similarity}",
            },
            _else(),
        ],
    )


def woonplaats_comparison() -> cl.CustomComparison:
    """Exact (after `linkage.woonplaats` resolved old spellings) / same gemeente (the register
    gave the gemeente's name, or another place of it) / else."""
    return cl.CustomComparison(
        output_column_name="woonplaats_key",
        comparison_levels=[
            _null("woonplaats_key"),
            _exact("woonplaats_key"),
            {"sql_condition": '"gemeente_code_l" = "gemeente_code_r"', "label_for_charts": "same gemeente"},
            _else(),
        ],
    )


def distance_comparison() -> cl.CustomComparison:
    """Euclidean distance in RD New metres; a null level when either side has no point."""
    dist = 'sqrt(power("x_l" - "x_r", 2) + power("y_l" - "y_r", 2))'
    return cl.CustomComparison(
        output_column_name="distance",
        comparison_levels=[
            {
                "sql_condition": '"x_l" IS NULL OR "x_r" IS NULL OR "y_l" IS NULL OR "y_r" IS NULL',
                "label_for_charts": "no point",
                "is_null_level": True,
            },
            {"sql_condition": f"{dist} < 10", "label_for_charts": "< 10 m"},
            {"sql_condition": f"{dist} < 50", "label_for_charts": "< 50 m"},
            {"sql_condition": f"{dist} < 250", "label_for_charts": "< 250 m"},
            _else(),
        ],
    )


def bag_ref_comparison() -> cl.CustomComparison:
    """The register's BAG id as evidence, not truth. `bag_ref` is the object id on the BAG side
    and the registered id on the register side; `pand_id` the object's pand, and on the register
    side the pand of the object its id names. Levels: missing / equal / another unit of this
    pand / another object elsewhere.

    "Another unit of this pand" is its own level because a wrong id most often names a sibling:
    against a random pair (what u measures) such an id is rare, so it is weak evidence against
    the candidate, where "the id is some other object" is none at all. Without it the sibling
    the id names would beat the unit the address names by the whole weight of an id match. The
    level is adjusted for the pand's size (term frequency of `pand_id`): in a pand of 3 units a
    wrong id names a given sibling 1 time in 2, in one of 100 units 1 time in 99."""
    return cl.CustomComparison(
        output_column_name="bag_ref",
        comparison_levels=[
            _null("bag_ref"),
            {"sql_condition": '"bag_ref_l" = "bag_ref_r"', "label_for_charts": "registered id is this object"},
            {
                "sql_condition": '"pand_id_l" = "pand_id_r"',
                "label_for_charts": "registered id is another unit of this pand",
                "tf_adjustment_column": "pand_id",
                "tf_adjustment_weight": 1.0,
            },
            {"sql_condition": "ELSE", "label_for_charts": "registered id is another object"},
        ],
    )


def product_taken_comparison() -> cl.CustomComparison:
    """Does the candidate already have a connection of this product from an unambiguous link?

    An object usually has one electricity and at most one gas connection, so a candidate whose
    meter of this product is already placed is an unlikely home for a second one; its sibling
    with no meter yet is the likely one. `n_elk` / `n_gas` count the object's deterministic links
    (null on the register side), `product` is the connection's (null on the BAG side). Large
    objects do have several: the weight is learned from the labels, not assumed."""

    def taken(bag: str, register: str) -> str:
        return (
            f'("product_{register}" = \'ELK\' AND "n_elk_{bag}" > 0)'
            f' OR ("product_{register}" = \'GAS\' AND "n_gas_{bag}" > 0)'
        )

    return cl.CustomComparison(
        output_column_name="product_taken",
        comparison_levels=[
            {
                "sql_condition": 'COALESCE("product_l", "product_r") IS NULL',
                "label_for_charts": "no product",
                "is_null_level": True,
            },
            {
                "sql_condition": f"{taken('l', 'r')} OR {taken('r', 'l')}",
                "label_for_charts": "object already has a linked connection of this product",
            },
            {"sql_condition": "ELSE", "label_for_charts": "object has none yet"},
        ],
    )


def comparisons(settings: LinkageSettings) -> list[cl.CustomComparison]:
    """The comparisons of the model, best level first, with the matching thresholds of `settings`."""
    return [
        postcode_comparison(),
        huisnummer_comparison(),
        suffix_comparison(),
        street_comparison(settings),
        woonplaats_comparison(),
        distance_comparison(),
        bag_ref_comparison(),
        product_taken_comparison(),
    ]
