"""Small bridges from numpy index arrays to typed polars columns.

The generator works on integer codes in numpy (cheap at ten million rows) and only turns them
into strings at the edge: a code table gathered by index, where a negative index means null.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from polars._typing import PolarsDataType


def nullable(values: np.ndarray, valid: np.ndarray, dtype: PolarsDataType) -> pl.Series:
    """values as a polars column of dtype, null where `valid` is false."""
    series = pl.Series(values).cast(dtype)
    return pl.select(pl.when(pl.Series(valid)).then(series)).to_series().rename("")


def lookup(table: Sequence[str] | pl.Series, index: np.ndarray) -> pl.Series:
    """table[index] as a string column; a negative index gives null."""
    series = table if isinstance(table, pl.Series) else pl.Series(list(table), dtype=pl.String)
    return series.gather(nullable(index, index >= 0, pl.Int64)).rename("")


def replace_each(templates: pl.Series, placeholder: str, values: pl.Series) -> pl.Series:
    """templates with the first `placeholder` in each row replaced, literally, by that row's value."""
    # polars' Series.str.replace stub admits only a str value; at run time it takes a Series too.
    return templates.str.replace(placeholder, values, literal=True)  # type: ignore[arg-type]
