"""Candidate pairs (blocking) for the probabilistic stage.

A connection is compared only with the BAG address rows that share something exact with it. Each
rule is an equi-join in polars; their union, one row per (connection, BAG row), is what Splink
scores. The rules are chosen to catch the register's noise kinds (docs/synth.md):

| rule | catches |
|---|---|
| `postcode_huisnummer` | suffix missing or misspelt, street and woonplaats noise |
| `pc4_huisnummer` | same PC4, the same two letters in either order, same huisnummer: swapped letters |
| `street_huisnummer_woonplaats` | a missing or mistyped postcode (a digit off changes the PC4) |
| `street24_huisnummer_gemeente` | a street cut at 24 characters (same first 24 characters), or a wrong woonplaats of the gemeente, together with a postcode problem |
| `street24_huisnummer_nowhere` | street and number of a record with no known place (no woonplaats, or one neither BAG nor `linkage.woonplaats` knows) |
| `street3_huisnummer_woonplaats` | a street typo together with a missing postcode (the first 3 letters survive most typos) |
| `registered_bag_id` | anything else, when the register's id is right (nevenadres used, ...) |

Every rule but `street24_huisnummer_nowhere` stays inside a gemeente, a woonplaats or a
postcode, so a connection's candidates lie in one region (`linkage.partitions`). Street and
number alone match across the country (every town has a Kerkstraat 1), so they block only a
record that says nothing about where it is: those few link in the national pass.

Withdrawn objects are never candidates: a stale id points at them and they must not be linked.
"""

from __future__ import annotations

import polars as pl

from linkage.bag_status import is_withdrawn

# PC4 with the two letters in sorted order: `1234BA` and `1234AB` share it. A plain PC4 +
# huisnummer join is too wide (every street of the PC4 has a number 1: 32 pairs per connection at
# 100k objects); with the letter set it still catches swapped letters.
_pc4_letter_set = pl.concat_str(
    pl.col("postcode_clean").str.slice(0, 4),
    pl.min_horizontal(pl.col("postcode_clean").str.slice(4, 1), pl.col("postcode_clean").str.slice(5, 1)),
    pl.max_horizontal(pl.col("postcode_clean").str.slice(4, 1), pl.col("postcode_clean").str.slice(5, 1)),
)

# (name, connection expressions, BAG expressions), joined pairwise on equality; first rule wins
# the match_key of a pair found by several.
_RULES: list[tuple[str, list[pl.Expr], list[pl.Expr]]] = [
    ("registered_bag_id", [pl.col("bag_id_clean")], [pl.col("object_id")]),
    (
        "postcode_huisnummer",
        [pl.col("postcode_clean"), pl.col("huisnummer")],
        [pl.col("postcode_clean"), pl.col("huisnummer")],
    ),
    ("pc4_huisnummer", [_pc4_letter_set, pl.col("huisnummer")], [_pc4_letter_set, pl.col("huisnummer")]),
    (
        "street_huisnummer_woonplaats",
        [pl.col("street_key"), pl.col("huisnummer"), pl.col("woonplaats_key")],
        [pl.col("street_key"), pl.col("huisnummer"), pl.col("woonplaats_key")],
    ),
    (
        "street24_huisnummer_gemeente",
        [pl.col("street_key24"), pl.col("huisnummer"), pl.col("gemeente_code")],
        [pl.col("street_key24"), pl.col("huisnummer"), pl.col("gemeente_code")],
    ),
    (
        "street24_huisnummer_nowhere",
        [pl.when(pl.col("gemeente_code").is_null()).then(pl.col("street_key24")), pl.col("huisnummer")],
        [pl.col("street_key24"), pl.col("huisnummer")],
    ),
    (
        "street3_huisnummer_woonplaats",
        [pl.col("street_key").str.slice(0, 3), pl.col("huisnummer"), pl.col("woonplaats_key")],
        [pl.col("street_key").str.slice(0, 3), pl.col("huisnummer"), pl.col("woonplaats_key")],
    ),
]

RULE_NAMES = [name for name, _, _ in _RULES]
# (connection expressions, BAG expressions) of each rule, for `linkage.partitions`.
RULE_KEYS = [(conn_keys, bag_keys) for _, conn_keys, bag_keys in _RULES]
CANDIDATE_COLUMNS = ["ean", "bag_row", "object_id", "match_key"]


def candidate_bag_rows(bag: pl.DataFrame, rows: pl.Series | None = None) -> pl.DataFrame:
    """BAG address rows that may be linked (not withdrawn), each with its row number `bag_row`;
    only those numbered `rows`, where given (a copy of the rows a step uses, not of the BAG)."""
    keep = ~is_withdrawn(pl.col("status"))
    if rows is not None:
        keep &= pl.col("bag_row").is_in(rows.implode())
    return bag.with_row_index("bag_row").filter(keep)


def candidate_row_ids(bag: pl.DataFrame) -> pl.DataFrame:
    """`bag_row` and `object_id` of the rows `candidate_bag_rows` keeps, to sample or count."""
    return candidate_bag_rows(bag.select("object_id", "status")).select("bag_row", "object_id")


def candidate_pairs(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.DataFrame:
    """One row per (ean, bag_row) found by any blocking rule: `ean`, `bag_row` (of
    `candidate_bag_rows(bag)`), `object_id`, and `match_key`, the first rule (in `RULE_NAMES`
    order) that found the pair.

    `connections` come from `linkage.woonplaats.resolve_woonplaatsen` (their `gemeente_code`).
    Null keys never join. Each rule copies only its keys of the BAG: the national pass pairs a
    few connections with the whole of it.
    """
    parts = []
    for rank, (_, conn_keys, bag_keys) in enumerate(_RULES):
        names = [f"k{i}" for i in range(len(conn_keys))]
        left = connections.select("ean", *[e.alias(n) for e, n in zip(conn_keys, names, strict=True)]).drop_nulls()
        keys = bag.select("object_id", "status", *[e.alias(n) for e, n in zip(bag_keys, names, strict=True)])
        right = candidate_bag_rows(keys).select("bag_row", "object_id", *names).drop_nulls()
        parts.append(
            left.join(right, on=names, how="inner").select(
                "ean", "bag_row", "object_id", match_key=pl.lit(rank, dtype=pl.UInt8)
            )
        )
    pairs = pl.concat(parts)
    return pairs.group_by("ean", "bag_row", "object_id").agg(pl.col("match_key").min())
