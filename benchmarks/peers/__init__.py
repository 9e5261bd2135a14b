"""Peer linkers the accuracy benchmark compares koppelwerk against.

Each module has `link(bag_normalised, connections_normalised) -> pl.DataFrame` returning links in
the output contract's columns (`PEER_LINK_COLUMNS`). Peers have no residue logic: a connection
they do not link is simply absent from their links.
"""

from __future__ import annotations

PEER_LINK_COLUMNS = ["ean", "object_id", "match_probability", "match_weight", "method", "allocation_share"]

__all__ = ["PEER_LINK_COLUMNS"]
