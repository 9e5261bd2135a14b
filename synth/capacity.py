"""Connection capacity as the register states it: `1x35A`, `3x25A`, `3x80A`, kVA, `G4`..`G100`.

Capacity follows what the connection feeds: street furniture is `1x6A`, a dwelling `1x35A` or
`3x25A` with `G4`/`G6` gas, larger objects climb with their floor area to the large-consumer
kVA range, a collective gas meter with the number of dwellings behind it. It is one of the few
hints a linker has about an undescribed connection registered at a house's address.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synth import buildings as bld
from synth import connections as conn
from synth import ids, vocabulary
from synth.places import World

# name -> ((capacity, probability), ...)
PROFILES: dict[str, tuple[tuple[str, float], ...]] = {
    "dwelling_elk": (("1x25A", 0.1), ("1x35A", 0.35), ("1x40A", 0.05), ("3x25A", 0.45), ("3x35A", 0.05)),
    "dwelling_gas": (("G4", 0.85), ("G6", 0.15)),
    "small_elk": (("1x35A", 0.3), ("3x25A", 0.7)),
    "medium_elk": (("3x35A", 0.5), ("3x50A", 0.5)),
    "large_elk": (("3x63A", 0.5), ("3x80A", 0.5)),
    "bulk_elk": (("100kVA", 0.5), ("250kVA", 0.35), ("630kVA", 0.15)),
    "small_gas": (("G4", 0.6), ("G6", 0.4)),
    "medium_gas": (("G10", 0.5), ("G16", 0.5)),
    "large_gas": (("G25", 0.6), ("G40", 0.4)),
    "bulk_gas": (("G65", 0.6), ("G100", 0.4)),
    "overige_elk": (("1x6A", 0.3), ("1x25A", 0.7)),
    "common_elk": (("3x25A", 0.7), ("3x35A", 0.3)),
    "public_lighting": (("1x6A", 0.7), ("1x10A", 0.2), ("3x25A", 0.1)),
    "street_clock": (("1x6A", 1.0),),
    "bus_shelter": (("1x6A", 0.9), ("1x10A", 0.1)),
    "traffic_signal": (("1x10A", 0.4), ("3x25A", 0.6)),
    "telecom_cabinet": (("1x6A", 0.5), ("1x10A", 0.3), ("1x25A", 0.2)),
    "ev_charger": (("3x25A", 0.6), ("3x35A", 0.4)),
    "pumping_station": (("3x35A", 0.4), ("3x63A", 0.4), ("3x80A", 0.2)),
    "construction_site": (("3x25A", 0.4), ("3x35A", 0.3), ("3x63A", 0.3)),
    "market_event": (("3x35A", 0.5), ("3x63A", 0.5)),
    "G16": (("G16", 1.0),),
    "G25": (("G25", 1.0),),
    "G40": (("G40", 1.0),),
    "G65": (("G65", 1.0),),
}
PROFILE_NAMES = tuple(PROFILES)
# Floor-area limits (m2) between the small, medium, large and bulk profiles of non-dwellings.
AREA_STEPS = (150, 500, conn.LARGE_OBJECT_M2)


def profiles(plan: pl.DataFrame, world: World) -> np.ndarray:
    """The capacity profile (index into PROFILE_NAMES) of every planned connection."""
    units = world.buildings
    kind = plan["kind"].to_numpy()
    gas = plan["product"].to_numpy() == conn.GAS
    unit = np.maximum(plan["unit"].to_numpy(), 0)
    primary = units.primary[unit]
    area = units.oppervlakte[unit]
    size = np.digitize(area, AREA_STEPS)  # 0 small .. 3 bulk
    dwelling_like = (primary == bld.WOON) | (units.object_type[unit] != ids.VERBLIJFSOBJECT)
    served = np.maximum(plan["served_pand"].to_numpy(), 0)
    dwellings = units.pand_units[served]
    infra = plan["infra_class"].to_numpy()

    index = {name: i for i, name in enumerate(PROFILE_NAMES)}
    sized_elk = np.array([index[name] for name in ("small_elk", "medium_elk", "large_elk", "bulk_elk")])
    sized_gas = np.array([index[name] for name in ("small_gas", "medium_gas", "large_gas", "bulk_gas")])
    infra_profile = np.array([index[name] for name in vocabulary.INFRA_CLASSES])
    collective = np.select(
        [dwellings <= 8, dwellings <= 20, dwellings <= 40], [index["G16"], index["G25"], index["G40"]], index["G65"]
    )
    return np.select(
        [
            kind == conn.INFRASTRUCTURE,
            kind == conn.BOUWSTROOM,
            kind == conn.COMMON_AREA,
            kind == conn.COLLECTIVE_GAS,
            (kind == conn.NOT_IN_BAG) & gas,
            kind == conn.NOT_IN_BAG,
            dwelling_like & gas,
            dwelling_like,
            (primary == bld.OVERIGE) & ~gas,
            gas,
        ],
        [
            infra_profile[np.maximum(infra, 0)],
            index["construction_site"],
            index["common_elk"],
            collective,
            index["small_gas"],
            index["small_elk"],
            index["dwelling_gas"],
            index["dwelling_elk"],
            index["overige_elk"],
            sized_gas[size],
        ],
        sized_elk[size],
    )


def capacities(profile: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """A capacity string per connection, drawn from its profile's distribution."""
    labels: list[str] = []
    offsets, cumulative = [], []
    for name in PROFILE_NAMES:
        offsets.append(len(labels))
        options = PROFILES[name]
        labels += [label for label, _ in options]
        cumulative.append(np.cumsum([p for _, p in options]))
    draw = rng.random(len(profile))
    choice = np.empty(len(profile), dtype=np.int64)
    for i, cum in enumerate(cumulative):
        rows = profile == i
        choice[rows] = offsets[i] + np.minimum(np.searchsorted(cum, draw[rows], side="right"), len(cum) - 1)
    return pl.Series(labels, dtype=pl.String).gather(pl.Series(choice)).rename("aansluitcapaciteit")
