"""Identifiers as the registers write them: BAG ids and EANs, built from integers in bulk.

Ids are computed as int64 (a 16-digit BAG id and an 18-digit EAN both fit) and only turned into
zero-padded strings at the end, because leading zeros are part of the id and must never be lost.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from core.ean import check_digits

# BAG object type codes inside a 16-digit id.
VERBLIJFSOBJECT, LIGPLAATS, STANDPLAATS, PAND, NUMMERAANDUIDING = 1, 2, 3, 10, 20

EAN_PREFIX = 871


def sequence(rng: np.random.Generator, n: int, start: int = 100_000) -> np.ndarray:
    """n increasing, unique 10-digit sequence numbers with small random gaps, as ids really have."""
    return start + np.cumsum(rng.integers(1, 4, size=n, dtype=np.int64))


def bag_ids(code: np.ndarray, object_type: int | np.ndarray, seq: np.ndarray) -> np.ndarray:
    """int64 form of gggg tt ssssssssss (municipality code, object type, sequence)."""
    return code.astype(np.int64) * 10**12 + object_type * 10**10 + seq.astype(np.int64)


def id_strings(ids: np.ndarray | pl.Series, width: int) -> pl.Series:
    """Integer ids as zero-padded strings; negative ids (meaning "none") become null."""
    series = pl.Series(ids, dtype=pl.Int64)
    return pl.select(pl.when(series >= 0).then(series.cast(pl.String).str.zfill(width))).to_series().rename("")


def eans(company: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """int64 EANs: 871, a 3-digit company code, an 11-digit sequence, the GS1 check digit (`core.ean`)."""
    body = (EAN_PREFIX * 1000 + company.astype(np.int64)) * 10**11 + seq.astype(np.int64)
    return body * 10 + check_digits(body)
