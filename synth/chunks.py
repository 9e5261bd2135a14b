"""How a run is split into chunks that are built one after another in bounded memory.

A chunk is a whole region: its own gemeenten, woonplaatsen, streets, objects and connections, so
that every cross-record phenomenon (a stale id of a predecessor, a wrong sibling, a neighbour's
address, a pand-wide meter) stays inside it. What must be unique across the run comes from the
chunk's share of the namespaces (synth.namespace) and, for EANs, from where the previous chunk's
sequence numbers ended. A run that fits in one chunk is the unchunked generator, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from synth import namespace, vocabulary
from synth.namespace import Namespace
from synth.register import EAN_FIRST
from synth.streams import Streams

# Objects per chunk by default: about 0.9 GB at the peak, and every size up to it (the accuracy
# benchmarks' 100,000 included) is written exactly as before chunking.
CHUNK_OBJECTS = 500_000


@dataclass(frozen=True)
class Chunk:
    """What one chunk of a run is built from besides the size and the rates."""

    streams: Streams
    namespace: Namespace
    ean_start: tuple[int, ...]  # per operator (vocabulary.NETBEHEERDERS order)


def chunk_sizes(n_objects: int, chunk_objects: int) -> list[int]:
    """Objects per chunk: as few chunks as hold at most chunk_objects each, sizes as equal as can be,
    so that no chunk is too small to hold every phenomenon."""
    n_chunks = -(-n_objects // chunk_objects)
    return [n_objects // n_chunks + (index < n_objects % n_chunks) for index in range(n_chunks)]


def single(seed: int) -> Chunk:
    """The one chunk of a run that is not split."""
    return Chunk(Streams(seed), namespace.whole(), (EAN_FIRST,) * len(vocabulary.NETBEHEERDERS))


def chunk(seed: int, index: int, n_chunks: int, ean_start: tuple[int, ...]) -> Chunk:
    """Chunk `index` of `n_chunks`; ean_start is where the previous chunk's EANs ended."""
    return Chunk(Streams(seed, index), namespace.share(seed, index, n_chunks), ean_start)
