"""Which connections exist, what each one truly is, and where the register says it is.

The result is a *plan*: one row per connection with integer codes for what it is (its kind, the
unit it sits on, the BAG address row the register copies, the pand it serves collectively) and
its true class. The register frame, the noise and the truth files are all derived from it.

Object connections follow the object's state: dwellings and most other objects in use have
electricity and usually gas; collectively heated apartment buildings have one gas connection for
the whole pand; some have a common-area (VvE) electricity connection serving every unit; large
non-residential objects have several; new builds have a construction connection and meters still
"in aanleg"; objects out of use or demolished keep connections that are not in operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from synth import buildings as bld
from synth import ids, vocabulary
from synth.columns import replace_each
from synth.config import NoiseConfig
from synth.places import World

if TYPE_CHECKING:
    from polars._typing import IntoExpr, PolarsDataType

# Connection kinds.
OBJECT, COLLECTIVE_GAS, COMMON_AREA, BOUWSTROOM, INFRASTRUCTURE, NOT_IN_BAG = range(6)
ELK, GAS = 0, 1
PRODUCTS = ("ELK", "GAS")
# Physical status: words, and the register's codes for the same.
IN_BEDRIJF, UIT_BEDRIJF, AFGESLOTEN, IN_AANLEG = range(4)
STATUS_WORDS = ("in bedrijf", "uit bedrijf", "afgesloten", "in aanleg")
STATUS_CODES = ("IBD", "UBD", "SLP", "IAL")
TRUE_CLASSES: tuple[str, ...] = ("linked", *vocabulary.INFRA_CLASSES, "inactive", "not_in_bag")
LINKED, INACTIVE, NOT_IN_BAG_CLASS = 0, TRUE_CLASSES.index("inactive"), TRUE_CLASSES.index("not_in_bag")
CONSTRUCTION_SITE = TRUE_CLASSES.index("construction_site")
LARGE_OBJECT_M2 = 2_000

PLAN_SCHEMA: dict[str, PolarsDataType] = {
    "kind": pl.Int8,
    "product": pl.Int8,
    "unit": pl.Int64,
    "bag_unit": pl.Int64,
    "address_row": pl.Int64,
    "served_pand": pl.Int64,
    "status": pl.Int8,
    "infra_class": pl.Int8,
    "woonplaats": pl.Int32,
    "x": pl.Float64,
    "y": pl.Float64,
    "description": pl.String,
    "keep_suffix": pl.Boolean,
    # explicit address, for connections that do not copy a BAG address row
    "straatnaam": pl.String,
    "huisnummer": pl.Int32,
    "huisnummertoevoeging": pl.String,
    "postcode": pl.String,
    "woonplaats_known": pl.Boolean,
    # noise drawn while planning (the record's structure, not its spelling)
    "opposite_address": pl.Boolean,
    "description_vague": pl.Boolean,
}


def plan_part(n: int, **columns: IntoExpr) -> pl.DataFrame:
    """A block of plan rows: given columns, every other column at its 'none' value."""
    defaults: dict[str, IntoExpr] = {
        "unit": -1,
        "bag_unit": -1,
        "address_row": -1,
        "served_pand": -1,
        "status": IN_BEDRIJF,
        "infra_class": -1,
        "keep_suffix": True,
        "woonplaats_known": True,
        "opposite_address": False,
        "description_vague": False,
    }
    data = {}
    for name, dtype in PLAN_SCHEMA.items():
        value = columns.get(name, defaults.get(name))
        data[name] = (
            pl.Series(name, value, dtype=dtype)
            if isinstance(value, (np.ndarray, pl.Series, list))
            else pl.repeat(value, n, dtype=dtype, eager=True).rename(name)
        )
    return pl.DataFrame(data)


def object_connections(world: World, noise: NoiseConfig, rng: np.random.Generator) -> pl.DataFrame:
    """Plan rows for connections on objects: own meters, collective gas, common areas, bouwstroom."""
    units = world.buildings
    collective = _collective_panden(units, noise, rng)
    common = _common_area_panden(units, noise, rng)
    n_elk, n_gas = _meter_counts(units, collective, noise, rng)
    parts = [
        _own_meters(world, np.repeat(np.arange(units.n_units), n_elk), ELK, rng),
        _own_meters(world, np.repeat(np.arange(units.n_units), n_gas), GAS, rng),
        _pand_wide(world, collective, GAS, COLLECTIVE_GAS, rng),
        _pand_wide(world, common, ELK, COMMON_AREA, rng),
        _bouwstroom(world, rng),
    ]
    return pl.concat(parts)


def _meter_counts(
    units: bld.Buildings,
    collective: np.ndarray,
    noise: NoiseConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Electricity and gas connections per unit."""
    n = units.n_units
    alive = units.live
    dwelling = units.dwelling
    overige = units.primary == bld.OVERIGE
    nonres = (units.primary >= 0) & ~dwelling & ~overige
    large = nonres & (units.oppervlakte >= LARGE_OBJECT_M2) & (rng.random(n) < noise.multi_connection_large)
    draw = rng.random(n)
    elk = np.select(
        [~alive, dwelling, overige, large],
        [1, (draw < 0.997).astype(np.int64), (draw < 0.25).astype(np.int64), 2 + np.minimum(rng.poisson(1.0, n), 3)],
        1,
    )
    gas_draw = rng.random(n)
    has_gas = np.select(
        [
            units.status == bld.FORMED,
            dwelling,
            overige,
            nonres,
            units.object_type == ids.LIGPLAATS,
            units.object_type == ids.STANDPLAATS,
        ],
        [
            False,
            gas_draw < noise.gas_dwelling,
            gas_draw < 0.03,
            gas_draw < noise.gas_nonresidential,
            gas_draw < 0.25,
            gas_draw < 0.7,
        ],
        False,
    )
    has_gas &= ~(collective[units.unit_pand] & dwelling & alive)
    gas = has_gas.astype(np.int64) + (has_gas & large & (rng.random(n) < 0.3))
    return elk, gas


def _collective_panden(units: bld.Buildings, noise: NoiseConfig, rng: np.random.Generator) -> np.ndarray:
    """Apartment buildings with block heating, until they hold the configured share of dwellings."""
    live_dwellings = np.bincount(units.unit_pand, weights=units.dwelling & units.live, minlength=len(units.pand_type))
    eligible = np.isin(units.pand_type, (bld.SMALL_APARTMENT, bld.LARGE_APARTMENT)) & (live_dwellings >= 3)
    candidates = rng.permutation(np.flatnonzero(eligible))
    target = noise.collective_gas * live_dwellings.sum()
    taken = np.searchsorted(np.cumsum(live_dwellings[candidates]), target) + (1 if target > 0 else 0)
    flag = np.zeros(len(units.pand_type), dtype=bool)
    flag[candidates[: min(taken, len(candidates))]] = True
    return flag


def _common_area_panden(units: bld.Buildings, noise: NoiseConfig, rng: np.random.Generator) -> np.ndarray:
    """Apartment buildings of 6 or more units with a VvE connection for lift, stairs and hall."""
    live_units = np.bincount(units.unit_pand, weights=units.live, minlength=len(units.pand_type))
    eligible = np.isin(units.pand_type, (bld.SMALL_APARTMENT, bld.LARGE_APARTMENT)) & (live_units >= 6)
    return eligible & (rng.random(len(eligible)) < noise.common_area_elk)


def _own_meters(world: World, unit: np.ndarray, product: int, rng: np.random.Generator) -> pl.DataFrame:
    """One plan row per (unit, meter); the second and later meters of a large object are described."""
    units = world.buildings
    n = len(unit)
    later = np.r_[False, unit[1:] == unit[:-1]] if n else np.zeros(0, dtype=bool)
    # Meters of a new build are mostly still being laid; those of objects out of use are off.
    status = np.select(
        [units.status[unit] == bld.FORMED, np.isin(units.status[unit], (bld.OUT_OF_USE, bld.WITHDRAWN))],
        [np.where(rng.random(n) < 0.6, IN_AANLEG, IN_BEDRIJF), np.where(rng.random(n) < 0.5, UIT_BEDRIJF, AFGESLOTEN)],
        IN_BEDRIJF,
    )
    templates = vocabulary.LARGE_OBJECT_DESCRIPTIONS
    description = replace_each(
        pl.Series(np.array(templates)[rng.integers(0, len(templates), n)], dtype=pl.String),
        "{n}",
        pl.Series((rng.integers(1, 6, n)).astype(str)),
    )
    return plan_part(
        n,
        kind=OBJECT,
        product=product,
        unit=unit,
        bag_unit=unit,
        address_row=unit,
        status=status.astype(np.int8),
        woonplaats=units.streets.woonplaats[units.street[unit]],
        x=units.x[unit],
        y=units.y[unit],
        description=pl.select(pl.when(pl.Series(later)).then(description)).to_series(),
    )


def _pand_wide(world: World, panden: np.ndarray, product: int, kind: int, rng: np.random.Generator) -> pl.DataFrame:
    """One connection per flagged pand, registered at one unit's address, serving the pand.

    Collective gas sits at the address of one dwelling (usually the first); a common-area
    connection at the building's shared number without a suffix and with no BAG id.
    """
    units = world.buildings
    pand = np.flatnonzero(panden)
    first, size = units.pand_first[pand], units.pand_units[pand]
    at = np.where(rng.random(len(pand)) < 0.7, 0, (rng.random(len(pand)) * size).astype(np.int64))
    unit = first + at
    common = kind == COMMON_AREA
    templates = np.array(vocabulary.COMMON_AREA_DESCRIPTIONS if common else vocabulary.COLLECTIVE_GAS_DESCRIPTIONS)
    # Common areas are always described; a block-heating meter only sometimes.
    described = pl.Series(rng.random(len(pand)) < (1.0 if common else 0.3))
    text = pl.Series(templates[rng.integers(0, len(templates), len(pand))], dtype=pl.String)
    return plan_part(
        len(pand),
        kind=kind,
        product=product,
        unit=unit,
        bag_unit=np.full(len(pand), -1) if common else unit,
        address_row=unit,
        served_pand=pand,
        woonplaats=units.streets.woonplaats[units.street[unit]],
        x=units.x[unit],
        y=units.y[unit],
        keep_suffix=not common,
        description=pl.select(pl.when(described).then(text)).to_series(),
    )


def _bouwstroom(world: World, rng: np.random.Generator) -> pl.DataFrame:
    """A construction connection per new-build pand, at its first unit's address, often undescribed."""
    units = world.buildings
    pand = np.flatnonzero(units.pand_new)
    unit = units.pand_first[pand]
    templates = np.array(vocabulary.INFRA_DESCRIPTIONS["construction_site"])
    text = pl.Series(templates[rng.integers(0, len(templates), len(pand))], dtype=pl.String)
    text = replace_each(text, "{n}", pl.Series(rng.integers(1, 9, len(pand)).astype(str)))
    text = replace_each(text, "{street}", world.addresses["straatnaam"].gather(pl.Series(unit)))
    described = pl.Series(rng.random(len(pand)) < 0.5)
    return plan_part(
        len(pand),
        kind=BOUWSTROOM,
        product=ELK,
        unit=unit,
        bag_unit=unit,
        address_row=unit,
        woonplaats=units.streets.woonplaats[units.street[unit]],
        x=units.x[unit] + 8,
        y=units.y[unit] + 8,
        description=pl.select(pl.when(described).then(text)).to_series(),
    )


def true_class(plan: pl.DataFrame, world: World) -> np.ndarray:
    """The class a perfect linker would give: inactive first, then what the connection is."""
    units = world.buildings
    status = plan["status"].to_numpy()
    kind = plan["kind"].to_numpy()
    unit = plan["unit"].to_numpy()
    infra = plan["infra_class"].to_numpy()
    on_formed = (unit >= 0) & (units.status[np.maximum(unit, 0)] == bld.FORMED)
    return np.select(
        [status != IN_BEDRIJF, kind == INFRASTRUCTURE, (kind == BOUWSTROOM) | on_formed, kind == NOT_IN_BAG],
        [INACTIVE, 1 + infra, CONSTRUCTION_SITE, NOT_IN_BAG_CLASS],
        LINKED,
    )


def apply_inactive(plan: pl.DataFrame, noise: NoiseConfig, rng: np.random.Generator) -> pl.DataFrame:
    """Take a share of the connections in operation out of it: removed, switched off, not yet built."""
    status = plan["status"].to_numpy().copy()
    hit = (status == IN_BEDRIJF) & (rng.random(len(status)) < noise.inactive)
    status[hit] = rng.choice([UIT_BEDRIJF, AFGESLOTEN, IN_AANLEG], size=int(hit.sum()), p=[0.5, 0.4, 0.1])
    return plan.with_columns(status=pl.Series(status, dtype=pl.Int8))
