"""What a BAG status means for linkage: can the object hold a connection in operation?"""

from __future__ import annotations

import polars as pl

UNDER_CONSTRUCTION = frozenset({"Verblijfsobject gevormd", "Bouw gestart", "Bouwvergunning verleend"})
WITHDRAWN = frozenset(
    {
        "Verblijfsobject ingetrokken",
        "Niet gerealiseerd verblijfsobject",
        "Verblijfsobject ten onrechte opgevoerd",
        "Plaats ingetrokken",
    }
)


def is_withdrawn(status: pl.Expr) -> pl.Expr:
    return status.is_in(list(WITHDRAWN))


def is_under_construction(status: pl.Expr) -> pl.Expr:
    return status.is_in(list(UNDER_CONSTRUCTION))


# Objects that are really there and in use: the ones a building-wide connection serves.
LIVE = frozenset(
    {
        "Verblijfsobject in gebruik",
        "Verblijfsobject in gebruik (niet ingemeten)",
        "Verbouwing verblijfsobject",
        "Plaats aangewezen",
    }
)


def is_live(status: pl.Expr) -> pl.Expr:
    return status.is_in(list(LIVE))
