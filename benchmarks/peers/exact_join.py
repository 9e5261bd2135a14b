"""The baseline a data engineer writes first: trust the registered id, else join on the address.

1. The register's `bag_id`, when an object with that id exists in BAG (any status: this peer
   does not know that ids go stale or point at a sibling).
2. Otherwise the cleaned postcode + huisnummer + suffix, where the register's one fused suffix
   field is compared, upper-cased and stripped, to BAG's huisletter + huisnummertoevoeging
   concatenated. No equivalence rewriting (`2HG` is not `2`, `hs` is not `H`), no street or
   woonplaats, and when several BAG rows match the first one in BAG order wins.

Every connection is a candidate, whatever its status or description: there is no residue logic,
so street furniture registered on a house is linked to that house.
"""

from __future__ import annotations

import polars as pl

from benchmarks.peers import PEER_LINK_COLUMNS


def _plain_suffix(expr: pl.Expr) -> pl.Expr:
    return expr.fill_null("").str.strip_chars().str.to_uppercase()


def link(bag: pl.DataFrame, connections: pl.DataFrame) -> pl.DataFrame:
    """Links of the naive two-step join; one object per linked connection."""
    bag_ids = bag.select(object_id="object_id").unique()
    registered = connections.select("ean", object_id=pl.col("bag_id").str.strip_chars()).join(
        bag_ids, on="object_id", how="inner"
    )

    bag_addresses = (
        bag.with_row_index("bag_row")
        .select(
            "bag_row",
            "object_id",
            postcode_key="postcode_clean",
            huisnummer_key="huisnummer",
            suffix_plain=_plain_suffix(
                pl.col("huisletter").fill_null("") + pl.col("huisnummertoevoeging").fill_null("")
            ),
        )
        .drop_nulls(["postcode_key", "huisnummer_key"])
    )
    rest = (
        connections.join(registered.select("ean"), on="ean", how="anti")
        .select(
            "ean",
            postcode_key="postcode_clean",
            huisnummer_key="huisnummer",
            suffix_plain=_plain_suffix(pl.col("huisnummertoevoeging")),
        )
        .drop_nulls(["postcode_key", "huisnummer_key"])
    )
    by_address = (
        rest.join(bag_addresses, on=["postcode_key", "huisnummer_key", "suffix_plain"], how="inner")
        .sort("ean", "bag_row")
        .unique("ean", keep="first", maintain_order=True)
        .select("ean", "object_id")
    )

    return (
        pl.concat(
            [
                registered.with_columns(method=pl.lit("registered_bag_id")),
                by_address.with_columns(method=pl.lit("exact_address")),
            ]
        )
        .select(
            "ean",
            "object_id",
            match_probability=pl.lit(1.0),
            match_weight=pl.lit(None, dtype=pl.Float64),
            method="method",
            allocation_share=pl.lit(1.0),
        )
        .select(PEER_LINK_COLUMNS)
    )
