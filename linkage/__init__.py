"""Linkage of grid connections to BAG objects: the public API is `link` and its result."""

from linkage.engine import LinkageResult, Relink, conservation_violations, link
from linkage.normalise import normalise_bag, normalise_connections

__all__ = ["LinkageResult", "Relink", "conservation_violations", "link", "normalise_bag", "normalise_connections"]
