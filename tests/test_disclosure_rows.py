"""The dwelling rule within a row counts the objects a part reaches as their union does, though
it stops counting once the part reaches enough (a national dwelling row reaches millions)."""

from __future__ import annotations

import numpy as np

from core.config import DisclosureRules
from publication.disclosure import Atoms, row_disclosures

RULES = DisclosureRules()
FEW = f"a part of fewer than {RULES.min_dwellings} dwellings"


def _dwelling_row(*objects: set[str]) -> Atoms:
    """A dwelling row of one figure over atoms of 20 connections each, reaching `objects`."""
    n = len(objects)
    return Atoms(
        pattern=np.ones((n, 1)),
        n_connections=np.full(n, 20.0),
        volume=np.full(n, 1000.0),
        largest=np.full(n, 10.0),
        objects=tuple(frozenset(o) for o in objects),
    )


def test_shared_objects_count_once() -> None:
    assert row_disclosures(_dwelling_row({"a", "b", "c"}, {"c", "d", "e"}), [0], RULES) == [FEW]
    assert row_disclosures(_dwelling_row({"a", "b", "c"}, {"c", "d", "e", "f"}), [0], RULES) == []


def test_one_atom_with_enough_objects_is_enough() -> None:
    many = {f"o{i}" for i in range(100_000)}
    assert row_disclosures(_dwelling_row({"a"}, many), [0], RULES) == []
    assert row_disclosures(_dwelling_row({"a"}, {"b"}), [0], RULES) == [FEW]
