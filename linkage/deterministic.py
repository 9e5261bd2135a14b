"""Cheap deterministic passes for the links that are unambiguous.

Each pass takes the connections still unlinked and returns links for the ones it can place with
exactly one candidate object and nothing in the record against it; everything else falls
through to the probabilistic stage, which weighs the evidence instead of trusting one field.
"""

from __future__ import annotations

import math

import polars as pl

from core.config import LinkageSettings
from linkage.bag_status import is_withdrawn
from linkage.key_hash import key_hash

LINK_COLUMNS = ["ean", "object_id", "match_probability", "match_weight", "method", "allocation_share"]

# The deterministic passes, by the `method` their links carry.
PASS_METHODS = ("registered_bag_id", "exact_address")


def match_weight(probability: float) -> float:
    """The match weight (bits) of a prior match probability, as Splink states its own."""
    return math.log2(probability / (1 - probability))


def _as_links(pairs: pl.DataFrame, method: str, probability: float) -> pl.DataFrame:
    return pairs.select(
        "ean",
        "object_id",
        match_probability=pl.lit(probability),
        match_weight=pl.lit(match_weight(probability)),
        method=pl.lit(method),
        allocation_share=pl.lit(1.0),
    )


def _unique_candidates(pairs: pl.DataFrame) -> pl.DataFrame:
    """Keep the connections whose candidate set is exactly one object."""
    distinct = pairs.select("ean", "object_id").unique()
    return distinct.filter(pl.len().over("ean") == 1)


def _live(bag: pl.DataFrame, columns: list[str], where: pl.Expr) -> pl.DataFrame:
    """`columns` of the BAG rows not withdrawn where `where` holds: a copy of those only (a copy
    of the national BAG's every column and row held 2-3 GB more at ten million objects)."""
    return bag.lazy().filter(~is_withdrawn(pl.col("status")) & where).select(columns).collect()


def _street_agrees() -> pl.Expr:
    """The register's street is BAG's, or what a 24-character cut (after abbreviation) leaves
    of it; true when the register has no street. Typos disagree."""
    cut_agrees = pl.col("street_cut") & (
        (pl.col("street_key24") == pl.col("bag_street_key24"))
        | pl.col("bag_street_key").str.starts_with(pl.col("street_key"))
    )
    return (pl.col("street_key").is_null() | (pl.col("street_key") == pl.col("bag_street_key")) | cut_agrees).fill_null(
        False
    )


_POSTCODE_ADDRESS = ["postcode_clean", "huisnummer"]
_STREET_ADDRESS = ["street_key", "huisnummer", "woonplaats_key"]


def _with_route(connections: pl.DataFrame, live: pl.DataFrame) -> pl.DataFrame:
    """`by_postcode`: whether the register's postcode finds its number in BAG at all; where it
    does not (missing, malformed or a typo), the address is looked up by street and woonplaats."""
    numbers = live.select(_POSTCODE_ADDRESS).drop_nulls().unique().with_columns(by_postcode=pl.lit(True))
    return connections.join(numbers, on=_POSTCODE_ADDRESS, how="left").with_columns(
        by_postcode=pl.col("by_postcode").fill_null(False)
    )


# The address lookup narrows the BAG to the connections' addresses only when they are few beside
# it (the national pass, the residue, common areas): for a region's register the hashing costs
# more than the copy it saves (at a million objects the whole register took 1.97 s narrowed
# against 1.50 s not, 20,000 connections 0.05 against 0.16 s; even at about a third).
NARROW_BELOW = 0.25


def _at_addresses_of(connections: pl.DataFrame) -> pl.Expr:
    """BAG rows at one of the connections' addresses, by postcode or by street (a row or two
    more where hashes coincide): the national pass looks up a few connections in the whole BAG,
    and copies only the rows they can reach."""
    addresses = []
    for address in (_POSTCODE_ADDRESS, _STREET_ADDRESS):
        hashed = key_hash([pl.col(c) for c in address])
        addresses.append(hashed.is_in(connections.select(hashed).to_series().drop_nulls().unique().implode()))
    return pl.any_horizontal(addresses).fill_null(False)


def objects_at_address(connections: pl.DataFrame, bag: pl.DataFrame, also_on: tuple[str, ...] = ()) -> pl.DataFrame:
    """Live objects at each connection's address: by postcode and huisnummer, or, where the
    postcode finds no such number, by street, huisnummer and woonplaats; `also_on` adds keys to
    match (the suffix), which keeps a pand of 150 units at one number from pairing every
    connection there with every unit.

    Returns `ean`, `object_id`, `bag_suffix` (the object's suffix key) and `street_agrees` (see
    `_street_agrees`; always true on the street route).
    """
    keys = list(dict.fromkeys(["object_id", *_POSTCODE_ADDRESS, *_STREET_ADDRESS, *also_on]))
    at_addresses = _at_addresses_of(connections) if connections.height < NARROW_BELOW * bag.height else pl.lit(True)
    live = _live(bag, list(dict.fromkeys([*keys, "suffix_key", "street_key24"])), at_addresses)
    objects = live.select(
        *keys,
        bag_suffix="suffix_key",
        bag_street_key="street_key",
        bag_street_key24="street_key24",
    )
    register = _with_route(
        connections.select(
            "ean", *_POSTCODE_ADDRESS, "woonplaats_key", "street_key", "street_key24", "street_cut", *also_on
        ),
        live,
    )
    by_postcode = register.filter(pl.col("by_postcode")).join(
        objects.drop("woonplaats_key", "street_key"), on=[*_POSTCODE_ADDRESS, *also_on]
    )
    by_street = register.filter(~pl.col("by_postcode")).join(
        objects.drop("postcode_clean"), on=[*_STREET_ADDRESS, *also_on]
    )
    columns = ["ean", "object_id", "bag_suffix", "street_agrees"]
    return pl.concat(
        [
            by_postcode.with_columns(street_agrees=_street_agrees()).select(columns),
            by_street.with_columns(street_agrees=pl.lit(True)).select(columns),
        ]
    )


def _suffix_possibly_lost(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.DataFrame:
    """Connections registered without a suffix at an address where BAG also has units with one.

    "12" then matches the unit 12 exactly, but is as likely 12-A with its suffix dropped by the
    register; such a match is not unambiguous and is left to the probabilistic stage.
    """
    no_suffix = connections.filter(pl.col("suffix_key") == "")
    at_address = objects_at_address(no_suffix, bag)
    return at_address.filter(pl.col("bag_suffix") != "").select("ean").unique()


def registered_bag_id_pass(
    connections: pl.DataFrame, bag: pl.DataFrame, settings: LinkageSettings | None = None
) -> pl.DataFrame:
    """Trust the registered BAG id only when the object exists, is not withdrawn, and lies at the
    register's address with the same suffix (or the register has no address at all).

    A differing suffix is not enough: a wrong id most often names a sibling unit at the same
    house number. Nor is a missing one: "12" with the id of 12-A may be a lost suffix or a wrong
    id for the unit 12, and the model weighs the two.
    """
    register = connections.filter(pl.col("bag_id_clean").is_not_null())
    named = objects_at_address(register.rename({"bag_id_clean": "object_id"}), bag, also_on=("object_id", "suffix_key"))
    no_address = register.filter(pl.col("postcode_clean").is_null() & pl.col("huisnummer").is_null())
    id_only = no_address.join(
        _live(bag, ["object_id"], pl.col("object_id").is_in(no_address["bag_id_clean"].implode())).unique(),
        left_on="bag_id_clean",
        right_on="object_id",
    )
    pairs = pl.concat([named.select("ean", "object_id"), id_only.select("ean", object_id="bag_id_clean")])
    probability = (settings or LinkageSettings()).registered_bag_id_probability
    return _as_links(_unique_candidates(pairs), "registered_bag_id", probability)


def exact_address_pass(
    connections: pl.DataFrame, bag: pl.DataFrame, settings: LinkageSettings | None = None
) -> pl.DataFrame:
    """One object carries exactly the register's address (suffix equivalences included), the
    suffix cannot have been lost, and the record does not contradict it: a postcode match on
    another street whose registered id names another BAG object (even a withdrawn predecessor,
    which stands at the true address) is a typo'd postcode more often than not, and goes to the
    model."""
    exact = objects_at_address(connections, bag, also_on=("suffix_key",))
    known_ids = bag.select(bag_id_clean="object_id").unique().with_columns(id_known=pl.lit(True))
    contradicted = (
        exact.join(connections.select("ean", "bag_id_clean"), on="ean")
        .join(known_ids, on="bag_id_clean", how="left")
        .filter(
            ~pl.col("street_agrees")
            & pl.col("id_known").fill_null(False)
            & (pl.col("bag_id_clean") != pl.col("object_id"))
        )
        .select("ean")
    )
    unique = _unique_candidates(exact)
    doubtful = pl.concat([_suffix_possibly_lost(connections, bag), contradicted])
    probability = (settings or LinkageSettings()).exact_address_probability
    return _as_links(unique.join(doubtful, on="ean", how="anti"), "exact_address", probability)
