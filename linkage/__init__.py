"""Linkage of grid connections to BAG objects: the public API is `link` and its result."""

from linkage.engine import (
    BAG_INPUT_COLUMNS,
    CONNECTION_INPUT_COLUMNS,
    LinkageResult,
    Relink,
    conservation_violations,
    link,
)
from linkage.normalise import identifier_keys, normalise_bag, normalise_connections

__all__ = [
    "BAG_INPUT_COLUMNS",
    "CONNECTION_INPUT_COLUMNS",
    "LinkageResult",
    "Relink",
    "conservation_violations",
    "identifier_keys",
    "link",
    "normalise_bag",
    "normalise_connections",
]
