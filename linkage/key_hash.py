"""Several join keys as one 64-bit hash, to find which rows of a national frame a few keys reach."""

from __future__ import annotations

import polars as pl


def key_hash(keys: list[pl.Expr]) -> pl.Expr:
    """A row's keys as one 64-bit hash, null where a key is null (a null key joins nothing).

    Grouping, joining or looking up on it instead of the keys themselves (strings) copies eight
    bytes a row, not the key columns. Two different keys may share a hash, so a lookup by hash
    can find a row too many, never one too few: it narrows what a join on the real keys reads.
    """
    fields = [key.alias(f"k{i}") for i, key in enumerate(keys)]
    return pl.when(pl.all_horizontal(key.is_not_null() for key in keys)).then(pl.struct(fields).hash(seed=0))
