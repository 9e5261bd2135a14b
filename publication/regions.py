"""The regions a volume is counted in: gemeente, woonplaats and postcode4, nested so that every
woonplaats lies in one gemeente (disclosure control relies on it).

A BAG object's regions are those of its hoofdadres. A connection without an object (the
residue) has a neighbourhood, not an address: it takes the woonplaats and gemeente most BAG
addresses in its PC4 have, else the BAG woonplaats its register names, else only the gemeente
that name stands for. Where nothing is known the region is `onbekend`.
"""

from __future__ import annotations

import polars as pl

from linkage.bag_objects import Frame, one_row_per_object

UNKNOWN_REGION = "onbekend"
REGION_COLUMNS = ["gemeente_code", "woonplaats", "postcode4"]


def woonplaats_code(name: pl.Expr, gemeente: pl.Expr) -> pl.Expr:
    """`Naam (gemeente)`: woonplaats names are not unique across gemeenten (the two Hengelos)."""
    return (
        pl.when(name.is_null() & gemeente.is_null())
        .then(pl.lit(UNKNOWN_REGION))
        .otherwise(pl.format("{} ({})", name.fill_null(UNKNOWN_REGION), gemeente.fill_null(UNKNOWN_REGION)))
    )


def _postcode4(postcode: pl.Expr) -> pl.Expr:
    return postcode.str.slice(0, 4).fill_null(UNKNOWN_REGION)


def object_regions(bag: Frame) -> Frame:
    """One row per object: its gemeente, woonplaats and postcode4 by its hoofdadres."""
    return one_row_per_object(bag).select(
        "object_id",
        gemeente_code=pl.col("gemeente_code").fill_null(UNKNOWN_REGION),
        woonplaats=woonplaats_code(pl.col("woonplaats_naam"), pl.col("gemeente_code")),
        postcode4=_postcode4(pl.col("postcode_clean")),
    )


def _most_common(bag: Frame, key: str) -> Frame:
    """Per value of `key` the (woonplaats, gemeente) most BAG addresses with it have."""
    return (
        bag.select(key, "woonplaats_naam", "gemeente_code")
        .drop_nulls(key)
        .group_by(key, "woonplaats_naam", "gemeente_code")
        .len()
        .sort([key, "len", "gemeente_code", "woonplaats_naam"], descending=[False, True, False, False])
        .unique(key, keep="first")
        .drop("len")
    )


def connection_regions(connections: Frame, bag: Frame) -> Frame:
    """One row per connection: the regions of its neighbourhood (for connections without an
    object). `connections` carries `gemeente_code` from `linkage.woonplaats` where the register's
    woonplaats names a gemeente."""
    pc4 = pl.col("postcode_clean").str.slice(0, 4)
    by_pc4 = _most_common(bag.with_columns(pc4=pc4), "pc4").rename(
        {"woonplaats_naam": "pc4_woonplaats", "gemeente_code": "pc4_gemeente"}
    )
    by_name = _most_common(bag, "woonplaats_key").rename(
        {"woonplaats_naam": "name_woonplaats", "gemeente_code": "name_gemeente"}
    )
    has_gemeente = "gemeente_code" in connections.collect_schema().names()
    named_gemeente = pl.col("gemeente_code") if has_gemeente else pl.lit(None, pl.String)
    joined = (
        connections.select("ean", "postcode_clean", "woonplaats_key", register_gemeente=named_gemeente)
        .with_columns(pc4=pc4)
        .join(by_pc4, on="pc4", how="left")
        .join(by_name, on="woonplaats_key", how="left")
    )
    from_pc4 = pl.col("pc4_gemeente").is_not_null()
    gemeente = pl.coalesce("pc4_gemeente", "name_gemeente", "register_gemeente")
    woonplaats = (
        pl.when(from_pc4)
        .then(pl.col("pc4_woonplaats"))
        .otherwise(pl.when(pl.col("name_gemeente").is_not_null()).then(pl.col("name_woonplaats")))
    )
    return joined.select(
        "ean",
        gemeente_code=gemeente.fill_null(UNKNOWN_REGION),
        woonplaats=woonplaats_code(woonplaats, gemeente),
        postcode4=_postcode4(pl.col("postcode_clean")),
    )
