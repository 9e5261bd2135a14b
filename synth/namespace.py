"""The identifiers a chunk may hand out, disjoint from every other chunk's.

A national-size run is built in chunks (synth.chunks), each with gemeenten of its own. What must
not repeat across the country is split up front into one share per chunk: gemeente codes (and so
every BAG id, which starts with one), woonplaats and gemeente names, and PC4 codes (so that no
postcode is shared by two woonplaatsen). Codes are split into contiguous ranges in chunk order,
so that BAG ids, which start with the code, come out sorted when the chunks are appended in order.
Names are split at random, so that no chunk gets a recognisable style of name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth import vocabulary
from synth.postcodes import PC4_CODES
from synth.streams import Streams

GEMEENTE_CODES = np.arange(3, 2000)


@dataclass(frozen=True)
class Namespace:
    """Pools a chunk draws its codes and names from."""

    gemeente_codes: np.ndarray  # ascending
    place_names: np.ndarray  # indices into vocabulary.place_names()
    regional_names: tuple[str, ...]
    pc4_codes: np.ndarray  # ascending


def whole() -> Namespace:
    """Everything: the share of a run that is a single chunk."""
    return Namespace(
        gemeente_codes=GEMEENTE_CODES,
        place_names=np.arange(len(vocabulary.place_names()[0])),
        regional_names=vocabulary.REGIONAL_GEMEENTE_NAMES,
        pc4_codes=PC4_CODES,
    )


def share(seed: int, index: int, n_chunks: int) -> Namespace:
    """Chunk `index` of `n_chunks`' share; the shares of one run are disjoint and together whole."""
    if n_chunks == 1:
        return whole()
    everything = whole()
    rng = Streams(seed)("namespace")  # the same split for every chunk of the run
    names = np.sort(np.array_split(rng.permutation(everything.place_names), n_chunks)[index])
    regional = np.array_split(rng.permutation(len(everything.regional_names)), n_chunks)[index]
    return Namespace(
        gemeente_codes=np.array_split(everything.gemeente_codes, n_chunks)[index],
        place_names=names,
        regional_names=tuple(everything.regional_names[i] for i in np.sort(regional)),
        pc4_codes=np.array_split(everything.pc4_codes, n_chunks)[index],
    )
