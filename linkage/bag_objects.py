"""One row per BAG object out of the BAG frame's rows per (object, address)."""

from __future__ import annotations

from typing import TypeVar

import polars as pl

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def one_row_per_object(bag: Frame) -> Frame:
    """Per object its hoofdadres row, in `object_id` order; a query where `bag` is one.

    Sorted on a unique key first, so that an object without exactly one hoofdadres row takes
    the same row every run: the first by `nummeraanduiding_id` (an empty one first).
    """
    return bag.sort(["object_id", "hoofdadres", "nummeraanduiding_id"], descending=[False, True, False]).unique(
        "object_id", keep="first", maintain_order=True
    )
