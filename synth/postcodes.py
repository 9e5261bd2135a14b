"""Dutch postcodes for street segments: `[1-9][0-9]{3}[A-Z]{2}`, never SA, SD or SS.

One postcode covers a run of consecutive house numbers on one street (a segment). The four digits
(PC4) are a contiguous area per woonplaats, as they are in reality, and consecutive segments get
consecutive letter pairs within their PC4.
"""

from __future__ import annotations

import itertools
import string

import numpy as np
import polars as pl

LETTER_PAIRS: tuple[str, ...] = tuple(
    a + b for a, b in itertools.product(string.ascii_uppercase, repeat=2) if a + b not in {"SA", "SD", "SS"}
)
MIN_SEGMENTS_PER_PC4 = 120
PC4_CODES = np.arange(1000, 10000)


def segment_postcodes(
    segment_woonplaats: np.ndarray, n_woonplaatsen: int, pc4_codes: np.ndarray, rng: np.random.Generator
) -> pl.Series:
    """The postcode of each segment; segments must be sorted by woonplaats.

    Each woonplaats gets its own PC4 codes from `pc4_codes` (ascending in woonplaats order), each
    PC4 holding up to `per_pc4` segments, so no postcode is shared by two woonplaatsen and none
    repeats.
    """
    n_segments = len(segment_woonplaats)
    spare = len(pc4_codes) - n_woonplaatsen
    if spare <= 0:
        raise ValueError(f"{len(pc4_codes)} PC4 codes cannot serve {n_woonplaatsen} woonplaatsen: use larger chunks")
    per_pc4 = min(len(LETTER_PAIRS), max(MIN_SEGMENTS_PER_PC4, -(-n_segments // spare)))
    counts = np.bincount(segment_woonplaats, minlength=n_woonplaatsen)
    first_segment = np.r_[0, np.cumsum(counts)][:-1]
    pc4_per_woonplaats = -(-counts // per_pc4)
    first_pc4 = np.r_[0, np.cumsum(pc4_per_woonplaats)][:-1]
    codes = _pc4_block(pc4_codes, int(pc4_per_woonplaats.sum()), rng)

    local = np.arange(n_segments) - first_segment[segment_woonplaats]
    pc4_index = first_pc4[segment_woonplaats] + local // per_pc4
    rotation = rng.integers(0, len(LETTER_PAIRS), size=len(codes))
    pair = (rotation[pc4_index] + local % per_pc4) % len(LETTER_PAIRS)
    return (pl.Series(codes[pc4_index]).cast(pl.String) + pl.Series(LETTER_PAIRS).gather(pl.Series(pair))).rename(
        "postcode"
    )


def _pc4_block(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n ascending PC4 codes of the pool from one window about three times as wide: an area's codes
    lie close."""
    if n > len(pool):
        raise ValueError(
            f"{n} PC4 codes needed but only {len(pool)} available in this chunk's share: use larger chunks"
        )
    window = min(len(pool), 3 * n)
    start = int(rng.integers(0, len(pool) - window + 1))
    return np.sort(rng.choice(pool[start : start + window], size=n, replace=False))
