"""Independent, named random streams derived from the one seed.

Each part of the generator draws from its own stream, so adding a draw to one part never shifts
the numbers another part sees: a change to the noise model leaves the BAG side byte-identical.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for one named part; the name is hashed stably (crc32, not Python's hash)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])
