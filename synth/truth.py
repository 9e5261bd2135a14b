"""The answers the linker is scored against: true links and the true class of every connection.

`links`: every active connection that truly serves objects, one row per object served, shares
summing to 1 per EAN. A connection on one object serves it alone; a collective gas connection
serves the live dwellings of its pand, a common-area connection all live units of its pand, in
both cases split by floor area. `connections`: the true class of every EAN and the `;`-joined
noise kinds applied to its record (empty string when none), in NoiseConfig declaration order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from synth import connections as conn
from synth.columns import lookup
from synth.config import NoiseConfig
from synth.noise import Masks
from synth.places import World

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

LINKS_SCHEMA: dict[str, PolarsDataType] = {"ean": pl.String, "object_id": pl.String, "allocation_share": pl.Float64}
TRUTH_SCHEMA: dict[str, PolarsDataType] = {"ean": pl.String, "true_class": pl.String, "noise": pl.String}


def truth_connections(ean: pl.Series, true_class: np.ndarray, masks: Masks) -> pl.DataFrame:
    """One row per connection: its class and the noise kinds its record carries.

    The kinds are packed into one integer per record first, so that the `;`-joined text is built
    once per distinct combination (a few thousand) instead of once per record.
    """
    kinds = [kind for kind in NoiseConfig.noise_kinds() if kind in masks]
    packed = np.zeros(len(ean), dtype=np.int64)
    for bit, kind in enumerate(kinds):
        packed |= masks[kind].astype(np.int64) << bit
    combinations, index = np.unique(packed, return_inverse=True)
    labels = [";".join(kind for bit, kind in enumerate(kinds) if combo >> bit & 1) for combo in combinations.tolist()]
    return pl.DataFrame(
        {
            "ean": ean,
            "true_class": lookup(conn.TRUE_CLASSES, true_class),
            "noise": lookup(labels, index),
        },
        schema=TRUTH_SCHEMA,
    )


def truth_links(ean: pl.Series, plan: pl.DataFrame, true_class: np.ndarray, world: World) -> pl.DataFrame:
    """One row per (linked connection, object served), with floor-area shares for pand-wide ones."""
    units = world.buildings
    linked = true_class == conn.LINKED
    kind = plan["kind"].to_numpy()
    single = np.flatnonzero(linked & (kind == conn.OBJECT))
    shared = np.flatnonzero(linked & np.isin(kind, (conn.COLLECTIVE_GAS, conn.COMMON_AREA)))

    pand = plan["served_pand"].to_numpy()[shared]
    row = np.repeat(shared, units.pand_units[pand])
    unit = units.pand_first[pand].repeat(units.pand_units[pand]) + _ranks(units.pand_units[pand])
    serves = units.live[unit] & ((kind[row] == conn.COMMON_AREA) | units.dwelling[unit])
    row, unit = row[serves], unit[serves]
    area = np.maximum(units.oppervlakte[unit], 1).astype(np.float64)
    share = area / np.bincount(row, weights=area, minlength=len(plan))[row]

    all_rows = np.r_[single, row]
    frame = pl.DataFrame(
        {
            "ean": ean.gather(pl.Series(all_rows)),
            "object_id": world.object_id_strings(np.r_[plan["unit"].to_numpy()[single], unit]),
            "allocation_share": np.r_[np.ones(len(single)), share],
        },
        schema=LINKS_SCHEMA,
    )
    return frame.sort(["ean", "object_id"], maintain_order=True)


def _ranks(sizes: np.ndarray) -> np.ndarray:
    """0..size-1 for each size, concatenated."""
    return np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
