"""Annual delivered volume per connection: kWh for electricity, m3 for gas.

Volumes follow what the connection truly feeds, so that allocation errors show in the statistics:
a dwelling uses about 2,500 kWh and 1,100 m3 (more with more floor area), a collective gas meter
the sum of its dwellings, non-residential objects a use-specific amount per m2 with a few very
heavy industrial users, street furniture little. A connection not in operation has a row with
volume 0 (it delivered nothing that year); a small configured share of connections
(`consumption_missing`) has no row at all, as when a meter reading never arrived.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from synth import buildings as bld
from synth import connections as conn
from synth import ids, vocabulary
from synth.places import World

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

CONSUMPTION_SCHEMA: dict[str, PolarsDataType] = {
    "ean": pl.String,
    "year": pl.Int32,
    "product": pl.String,
    "volume": pl.Float64,
    "unit": pl.String,
}
# Per primary function (buildings.PRIMARY_FUNCTIONS order): kWh per m2 and m3 gas per m2.
KWH_PER_M2 = {
    "winkel": 150,
    "kantoor": 90,
    "industrie": 80,
    "overige": 15,
    "bijeenkomst": 70,
    "logies": 110,
    "gezondheidszorg": 120,
    "onderwijs": 40,
    "sport": 80,
    "cel": 100,
}
M3_PER_M2 = {
    "winkel": 8,
    "kantoor": 9,
    "industrie": 8,
    "overige": 2,
    "bijeenkomst": 12,
    "logies": 14,
    "gezondheidszorg": 15,
    "onderwijs": 10,
    "sport": 14,
    "cel": 15,
}
# (median kWh, log-sigma) per residue class of street furniture.
INFRA_KWH = {
    "public_lighting": (2500, 0.8),
    "street_clock": (250, 0.4),
    "bus_shelter": (800, 0.5),
    "traffic_signal": (4500, 0.5),
    "telecom_cabinet": (6000, 0.8),
    "ev_charger": (9000, 0.7),
    "pumping_station": (25000, 1.0),
    "construction_site": (8000, 0.6),
    "market_event": (2500, 1.0),
}
DWELLING_KWH, DWELLING_M3 = 2500.0, 1100.0
HEAVY_USER_SHARE, HEAVY_USER_FACTOR = 0.15, 10.0


def volumes(plan: pl.DataFrame, world: World, rng: np.random.Generator) -> np.ndarray:
    """The delivered volume of every planned connection (0 for those not in operation).

    Each kind of connection is computed on its own rows only, so no full-length temporary is
    made per alternative (this matters at ten million objects).
    """
    units = world.buildings
    n = len(plan)
    kind = plan["kind"].to_numpy()
    gas = plan["product"].to_numpy() == conn.GAS
    unit = plan["unit"].to_numpy()
    spread = rng.lognormal(0.0, 1.0, n)  # one draw per connection: its deviation from the median
    heavy_draw = rng.random(n)
    formed_draw = rng.random(n)
    volume = np.zeros(n)

    rows = np.flatnonzero(kind == conn.OBJECT)
    volume[rows] = (
        _object_volume(units, unit[rows], gas[rows], spread[rows], heavy_draw[rows]) / _meters_per_object(plan)[rows]
    )
    formed = rows[units.status[unit[rows]] == bld.FORMED]
    volume[formed] = 300 + 1700 * formed_draw[formed]

    rows = np.flatnonzero(kind == conn.INFRASTRUCTURE)
    infra = plan["infra_class"].to_numpy()[rows]
    median = np.array([INFRA_KWH[name][0] for name in vocabulary.INFRA_CLASSES])[infra]
    sigma = np.array([INFRA_KWH[name][1] for name in vocabulary.INFRA_CLASSES])[infra]
    volume[rows] = median * spread[rows] ** sigma

    rows = np.flatnonzero(kind == conn.BOUWSTROOM)
    volume[rows] = INFRA_KWH["construction_site"][0] * spread[rows] ** 0.6
    rows = np.flatnonzero(kind == conn.COMMON_AREA)
    volume[rows] = (2000 + 400 * units.pand_units[plan["served_pand"].to_numpy()[rows]]) * spread[rows] ** 0.3
    rows = np.flatnonzero(kind == conn.COLLECTIVE_GAS)
    volume[rows] = _collective_gas(world, rng)[plan["served_pand"].to_numpy()[rows]]
    rows = np.flatnonzero(kind == conn.NOT_IN_BAG)
    volume[rows] = np.where(gas[rows], 500.0, 1200.0) * spread[rows] ** 0.8
    return np.where(plan["status"].to_numpy() == conn.IN_BEDRIJF, np.round(volume), 0.0)


def _object_volume(
    units: bld.Buildings, unit: np.ndarray, gas: np.ndarray, spread: np.ndarray, heavy_draw: np.ndarray
) -> np.ndarray:
    """Yearly use of the object behind each connection: dwellings by floor area, other uses per
    m2 of their primary function (a few very heavy industrial users), ligplaatsen/standplaatsen flat."""
    area = np.maximum(units.oppervlakte[unit], 1).astype(np.float64)
    primary = units.primary[unit]
    per_m2 = np.zeros((2, len(bld.PRIMARY_FUNCTIONS)))
    for index, name in enumerate(bld.PRIMARY_FUNCTIONS):
        per_m2[:, index] = (KWH_PER_M2.get(name, 0), M3_PER_M2.get(name, 0))
    volume = area * per_m2[gas.astype(np.int64), np.maximum(primary, 0)] * spread**0.6
    heavy = (primary == bld.PRIMARY_FUNCTIONS.index("industrie")) & (area >= conn.LARGE_OBJECT_M2) & ~gas
    volume[heavy & (heavy_draw < HEAVY_USER_SHARE)] *= HEAVY_USER_FACTOR
    dwelling = primary == bld.WOON
    volume[dwelling] = np.where(
        gas[dwelling],
        DWELLING_M3 * (area[dwelling] / 100) ** 0.7 * spread[dwelling] ** 0.35,
        DWELLING_KWH * (area[dwelling] / 100) ** 0.4 * spread[dwelling] ** 0.4,
    )
    place = units.object_type[unit] != ids.VERBLIJFSOBJECT
    ligplaats = units.object_type[unit[place]] == ids.LIGPLAATS
    volume[place] = (
        np.where(gas[place], np.where(ligplaats, 900, 1300), np.where(ligplaats, 2800, 3200)) * spread[place] ** 0.4
    )
    return volume


def _meters_per_object(plan: pl.DataFrame) -> np.ndarray:
    """How many connections of the same product sit on each connection's object (1 if none)."""
    key = plan.select(
        unit=pl.when(pl.col("kind") == conn.OBJECT).then(pl.col("unit")).otherwise(-1 - pl.int_range(pl.len())),
        product=pl.col("product"),
    )
    return key.select(pl.len().over("unit", "product")).to_series().to_numpy().astype(np.float64)


def _collective_gas(world: World, rng: np.random.Generator) -> np.ndarray:
    """Per pand, the summed gas use of its live dwellings: what a block-heating meter delivers
    (a little less than individual boilers would)."""
    units = world.buildings
    live_dwelling = units.dwelling & units.live
    area = np.maximum(units.oppervlakte, 1).astype(np.float64)
    use = np.where(live_dwelling, 0.9 * DWELLING_M3 * (area / 100) ** 0.7 * rng.lognormal(0, 0.15, units.n_units), 0.0)
    return np.bincount(units.unit_pand, weights=use, minlength=len(units.pand_type))


def consumption_frame(
    ean: pl.Series, plan: pl.DataFrame, volume: np.ndarray, missing: np.ndarray, year: int
) -> pl.DataFrame:
    """The canonical `consumption` input: one row per connection and year, except the missing."""
    gas = plan["product"].to_numpy() == conn.GAS
    keep = pl.Series(~missing)
    return pl.DataFrame(
        {
            "ean": ean,
            "year": pl.repeat(year, len(plan), dtype=pl.Int32, eager=True),
            "product": pl.Series(np.where(gas, "GAS", "ELK")),
            "volume": pl.Series(volume, dtype=pl.Float64),
            "unit": pl.Series(np.where(gas, "m3", "kWh")),
        },
        schema=CONSUMPTION_SCHEMA,
    ).filter(keep)
