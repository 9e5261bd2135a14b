"""Linkage of grid connections to BAG objects: the public API is `link` and its result."""

from linkage.engine import LinkageResult, conservation_violations, link
from linkage.normalise import normalise_bag, normalise_connections

__all__ = ["LinkageResult", "conservation_violations", "link", "normalise_bag", "normalise_connections"]
