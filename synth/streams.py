"""Independent, named random streams derived from the one seed, per chunk of a run.

Each part of the generator draws from its own stream, so adding a draw to one part never shifts
the numbers another part sees: a change to the noise model leaves the BAG side byte-identical.
A run too large to hold in memory is built in chunks (synth.chunks); every chunk has streams of
its own, so a chunk's numbers depend only on the seed and its index, not on the chunks before it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Streams:
    """The named streams of one chunk. Chunk 0 draws exactly what the unchunked generator drew,
    so a run that fits in one chunk writes the same bytes as before chunking existed."""

    seed: int
    chunk: int = 0

    def __call__(self, name: str) -> np.random.Generator:
        """The generator for one named part; the name is hashed stably (crc32, not Python's hash)."""
        entropy = [self.seed, zlib.crc32(name.encode("utf-8"))]
        return np.random.default_rng([*entropy, self.chunk] if self.chunk else entropy)
