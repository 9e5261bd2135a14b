"""Cheap deterministic passes for the links that are unambiguous.

Each pass takes the connections still unlinked and returns links for the ones it can place with
exactly one candidate object; everything else falls through to the next pass.
"""

from __future__ import annotations

import math

import polars as pl

from linkage.bag_status import is_withdrawn

LINK_COLUMNS = ["ean", "object_id", "match_probability", "match_weight", "method", "allocation_share"]

# Prior precision of each pass, used until the probabilistic model calibrates them (issue 3).
PASS_PROBABILITY = {"registered_bag_id": 0.999, "exact_address": 0.995}


def _as_links(pairs: pl.DataFrame, method: str) -> pl.DataFrame:
    probability = PASS_PROBABILITY[method]
    return pairs.select(
        "ean",
        "object_id",
        match_probability=pl.lit(probability),
        match_weight=pl.lit(math.log2(probability / (1 - probability))),
        method=pl.lit(method),
        allocation_share=pl.lit(1.0),
    )


def _unique_candidates(pairs: pl.DataFrame) -> pl.DataFrame:
    """Keep the connections whose candidate set is exactly one object."""
    distinct = pairs.select("ean", "object_id").unique()
    return distinct.filter(pl.len().over("ean") == 1)


def registered_bag_id_pass(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.DataFrame:
    """Trust the registered BAG id only when the object exists, is not withdrawn, and one of its
    addresses agrees with the register's postcode, huisnummer and suffix (or the register has no
    address). A differing suffix is not enough: a wrong id most often points at a sibling unit
    at the same house number. A missing suffix is: the id then supplies what the register lost."""
    objects = bag.filter(~is_withdrawn(pl.col("status"))).select(
        object_id="object_id", bag_postcode="postcode_clean", bag_huisnummer="huisnummer",
        bag_suffix="suffix_key",
    )
    pairs = connections.join(objects, left_on="bag_id_clean", right_on="object_id", how="inner")
    pairs = pairs.with_columns(object_id=pl.col("bag_id_clean"))
    no_address = pl.col("postcode_clean").is_null() & pl.col("huisnummer").is_null()
    agrees = (
        (pl.col("postcode_clean") == pl.col("bag_postcode"))
        & (pl.col("huisnummer") == pl.col("bag_huisnummer"))
        & ((pl.col("suffix_key") == pl.col("bag_suffix")) | (pl.col("suffix_key") == ""))
    )
    accepted = pairs.filter(no_address | agrees.fill_null(False))
    return _as_links(_unique_candidates(accepted), "registered_bag_id")


def exact_address_pass(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.DataFrame:
    """One object carries exactly the register's address: by postcode, huisnummer and suffix, or
    (where the postcode finds no such number) by street, huisnummer, suffix and woonplaats."""
    live = bag.filter(~is_withdrawn(pl.col("status")))
    by_postcode = connections.join(
        live.select("postcode_clean", "huisnummer", "suffix_key", "object_id"),
        on=["postcode_clean", "huisnummer", "suffix_key"],
        how="inner",
    )
    # A postcode that is missing, malformed or points at a number BAG does not have there (a
    # typo) gives way to street + woonplaats.
    no_postcode_match = connections.join(
        live.select("postcode_clean", "huisnummer").unique(), on=["postcode_clean", "huisnummer"], how="anti"
    )
    by_street = no_postcode_match.join(
        live.select("street_key", "huisnummer", "suffix_key", "woonplaats_key", "object_id"),
        on=["street_key", "huisnummer", "suffix_key", "woonplaats_key"],
        how="inner",
    )
    pairs = pl.concat([by_postcode.select("ean", "object_id"), by_street.select("ean", "object_id")])
    return _as_links(_unique_candidates(pairs).join(_suffix_possibly_lost(connections, live), on="ean", how="anti"),
                     "exact_address")


def _suffix_possibly_lost(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.DataFrame:
    """Connections registered without a suffix at a number where BAG also has units with one.

    "12" then matches the unit 12 exactly, but is as likely 12-A with its suffix dropped by the
    register; such a match is not unambiguous and is left to the probabilistic stage.
    """
    with_suffix = bag.filter(pl.col("suffix_key") != "").select("postcode_clean", "huisnummer").unique()
    return (
        connections.filter(pl.col("suffix_key") == "")
        .join(with_suffix, on=["postcode_clean", "huisnummer"], how="inner")
        .select("ean")
    )


def address_candidates(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.DataFrame:
    """Number of BAG objects at each connection's postcode + huisnummer (suffix ignored)."""
    at_address = connections.join(
        bag.select("postcode_clean", "huisnummer", "object_id"),
        on=["postcode_clean", "huisnummer"],
        how="left",
    )
    return at_address.group_by("ean").agg(n_candidates=pl.col("object_id").drop_nulls().n_unique())
