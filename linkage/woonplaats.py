"""Woonplaats names as a register writes them, resolved against BAG's woonplaatsen.

Registers write the place in capitals (normalised away by `street_text`), in an old spelling
(`Ysselhooven`, `-broeck`), or as the gemeente's name (`Oostelijke Polders` for any of its
places). No list of such variants is complete, so they are learned from the delivery itself:
a name BAG does not know is looked up through the postcodes it is written with. A postcode lies
in one woonplaats, so a name whose postcodes fall (almost) all in one woonplaats is that
woonplaats; one whose postcodes fall in several places of one gemeente names the gemeente.
"""

from __future__ import annotations

import polars as pl

from core.config import LinkageSettings


def _places(bag: pl.DataFrame) -> pl.DataFrame:
    """Each BAG woonplaats key with its gemeente; a name used in two gemeenten (the two Hengelos)
    gets none, because the name alone cannot tell which."""
    places = bag.select("woonplaats_key", "gemeente_code").drop_nulls().unique()
    return places.group_by("woonplaats_key").agg(
        gemeente_code=pl.when(pl.col("gemeente_code").n_unique() == 1).then(pl.col("gemeente_code").first())
    )


def _top(evidence: pl.DataFrame, key: str, settings: LinkageSettings) -> pl.DataFrame:
    """Per register name the most frequent `key`, where it has enough records
    (`woonplaats_min_support`) and enough of their share (`woonplaats_min_share`) to be trusted."""
    counts = evidence.group_by("register_name", key).len()
    return (
        counts.with_columns(
            share=pl.col("len") / pl.col("len").sum().over("register_name"),
            support=pl.col("len").sum().over("register_name"),
        )
        .sort("len", descending=True)
        .unique("register_name", keep="first")
        .filter(
            (pl.col("support") >= settings.woonplaats_min_support) & (pl.col("share") >= settings.woonplaats_min_share)
        )
        .select("register_name", key)
    )


def woonplaats_variants(
    connections: pl.DataFrame, bag: pl.DataFrame, settings: LinkageSettings | None = None
) -> pl.DataFrame:
    """`register_name` (a register woonplaats key BAG does not have) -> `woonplaats_key` (the BAG
    place it stands for, null for a gemeente's name) and `gemeente_code`."""
    settings = settings or LinkageSettings()
    places = _places(bag)
    # a postcode on a woonplaats border has addresses in both: take the first name, not any
    postcode_place = (
        bag.select("postcode_clean", bag_woonplaats="woonplaats_key", bag_gemeente="gemeente_code")
        .drop_nulls("postcode_clean")
        .sort("postcode_clean", "bag_woonplaats", "bag_gemeente", nulls_last=True)
        .unique("postcode_clean", keep="first")
    )
    evidence = (
        connections.select(register_name="woonplaats_key", postcode_clean="postcode_clean")
        .drop_nulls()
        .join(places.select(register_name="woonplaats_key"), on="register_name", how="anti")
        .join(postcode_place, on="postcode_clean")
    )
    as_place = _top(evidence, "bag_woonplaats", settings).join(
        places.select(bag_woonplaats="woonplaats_key", gemeente_code="gemeente_code"), on="bag_woonplaats"
    )
    as_gemeente = _top(evidence, "bag_gemeente", settings).join(as_place, on="register_name", how="anti")
    return pl.concat(
        [
            as_place.select("register_name", woonplaats_key="bag_woonplaats", gemeente_code="gemeente_code"),
            as_gemeente.select("register_name", woonplaats_key=pl.lit(None, pl.String), gemeente_code="bag_gemeente"),
        ]
    )


def resolve_woonplaatsen(
    connections: pl.DataFrame,
    bag: pl.DataFrame,
    settings: LinkageSettings | None = None,
    variants: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Rewrite each register woonplaats key to the BAG place it stands for, where known, and add
    its `gemeente_code`. A gemeente's name keeps its own key (it is no woonplaats) but gets the
    gemeente, so it still agrees with every place of that gemeente at a weaker level.

    The variants are learned from `connections` unless given (`woonplaats_variants` of the whole
    delivery, when only some of its records are resolved)."""
    if variants is None:
        variants = woonplaats_variants(connections, bag, settings)
    places = variants.filter(pl.col("woonplaats_key").is_not_null())
    known = _places(bag)
    # looked up per key, not joined: a join would copy every column of the national register
    written = pl.col("woonplaats_key")
    resolved = written.replace(places["register_name"], places["woonplaats_key"])
    return connections.with_columns(
        woonplaats_key=resolved,
        gemeente_code=pl.coalesce(
            resolved.replace_strict(known["woonplaats_key"], known["gemeente_code"], default=None),
            written.replace_strict(variants["register_name"], variants["gemeente_code"], default=None),
        ),
    )
