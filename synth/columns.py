"""Small bridges from numpy index arrays to typed polars columns.

The generator works on integer codes in numpy (cheap at ten million rows) and only turns them
into strings at the edge: a code table gathered by index, where a negative index means null.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


def nullable(values: np.ndarray, valid: np.ndarray, dtype: pl.DataType) -> pl.Series:
    """values as a polars column of dtype, null where `valid` is false."""
    series = pl.Series(values).cast(dtype)
    return pl.select(pl.when(pl.Series(valid)).then(series)).to_series().rename("")


def lookup(table: Sequence[str] | pl.Series, index: np.ndarray) -> pl.Series:
    """table[index] as a string column; a negative index gives null."""
    series = table if isinstance(table, pl.Series) else pl.Series(list(table), dtype=pl.String)
    return series.gather(nullable(index, index >= 0, pl.Int64)).rename("")
