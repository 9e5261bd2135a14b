"""Cheap checks on the valid rows of the deliveries, run at ingestion so that a run that cannot
succeed stops before anything is linked (and long before it could replace a good run)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from core.errors import InputError


def require_rows(kind: str, path: Path, valid: pl.DataFrame, n_rows_read: int) -> None:
    """A delivery with no valid row would publish statistics of nothing."""
    if valid.height == 0:
        detail = "it is empty" if n_rows_read == 0 else f"all {n_rows_read} rows are in quarantine"
        raise InputError(f"{kind} delivery {path}: no valid rows ({detail})")


def select_year(consumption: pl.DataFrame, year: int | None, path: Path | None = None) -> pl.DataFrame:
    """The consumption of the requested year, or of every delivered year when none is asked."""
    where = f"consumption delivery {path}" if path else "consumption"
    years = sorted(consumption["year"].unique().drop_nulls().to_list())
    if not years:
        raise InputError(f"{where}: no valid rows")
    if year is None:
        return consumption
    if year not in years:
        raise InputError(f"{where}: --year {year} is not in the delivery (years present: {', '.join(map(str, years))})")
    return consumption.filter(pl.col("year") == year)
