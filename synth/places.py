"""The BAG side of the world: every addressable object with its ids and addresses, as one frame.

On top of the buildings this adds what makes BAG hard to link against: nevenadressen (an object
reachable by a second address on a side street) and withdrawn predecessors (an ingetrokken
object that shares its address with the live object that replaced it, so that a register still
pointing at the old id holds a stale but existing id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from synth import buildings as bld
from synth import ids
from synth.buildings import Buildings
from synth.columns import lookup, nullable
from synth.config import NoiseConfig, at_least_one
from synth.namespace import Namespace
from synth.regions import Regions, build_regions
from synth.streams import Streams

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

BAG_SCHEMA: dict[str, PolarsDataType] = {
    "object_id": pl.String,
    "object_type": pl.String,
    "nummeraanduiding_id": pl.String,
    "hoofdadres": pl.Boolean,
    "openbare_ruimte_naam": pl.String,
    "huisnummer": pl.Int32,
    "huisletter": pl.String,
    "huisnummertoevoeging": pl.String,
    "postcode": pl.String,
    "woonplaats_naam": pl.String,
    "gemeente_code": pl.String,
    "gebruiksdoel": pl.String,
    "oppervlakte": pl.Int32,
    "status": pl.String,
    "pand_id": pl.String,
    "x": pl.Float64,
    "y": pl.Float64,
}
OBJECT_TYPES = ("", "verblijfsobject", "ligplaats", "standplaats")
NONRESIDENTIAL_NEVENADRES_WEIGHT = 5.0


@dataclass(frozen=True)
class World:
    """Regions, buildings and the address table; objects are the units then the predecessors.

    Address rows 0..n_units-1 are the units' hoofdadressen; nevenadres rows follow.
    """

    regions: Regions
    buildings: Buildings
    object_id: np.ndarray  # int64 per object
    predecessor: np.ndarray  # per unit: object index of its withdrawn predecessor, -1 none
    nevenadres_row: np.ndarray  # per unit: address row of its (first) nevenadres, -1 none
    addresses: pl.DataFrame  # per address row: nummeraanduiding_id, the address fields, woonplaats and street codes
    street_top: np.ndarray  # highest house number per street in BAG, nevenadressen included
    bag: pl.DataFrame

    @property
    def n_objects(self) -> int:
        return len(self.object_id)

    def object_id_strings(self, index: np.ndarray) -> pl.Series:
        """BAG id strings for object indices (negative: null)."""
        return ids.id_strings(np.where(index >= 0, self.object_id[np.maximum(index, 0)], -1), 16)


def build_world(n_objects: int, noise: NoiseConfig, streams: Streams, namespace: Namespace) -> World:
    """n_objects addressable objects (withdrawn ones included) with their BAG rows, their ids and
    names from the namespace's pools."""
    n_predecessors = at_least_one(noise.withdrawn_predecessor * n_objects, noise.withdrawn_predecessor)
    regions = build_regions(n_objects, namespace, streams("regions"))
    units = bld.build(n_objects - n_predecessors, regions, noise, streams("buildings"))
    rng = streams("bag")

    successor = _choose_successors(units, n_predecessors, rng)
    if len(successor) < n_predecessors:
        raise ValueError(
            f"withdrawn_predecessor={noise.withdrawn_predecessor} needs {n_predecessors} objects in use to have replaced "
            f"a withdrawn one, but only {len(successor)} are in use (lower under_construction or demolished)"
        )
    predecessor = np.full(units.n_units, -1, dtype=np.int64)
    predecessor[successor] = units.n_units + np.arange(n_predecessors)
    neven_unit, neven_street, neven_number = _nevenadressen(units, regions, noise, rng)
    nevenadres_row = np.full(units.n_units, -1, dtype=np.int64)
    first_neven = np.r_[True, neven_unit[1:] != neven_unit[:-1]] if len(neven_unit) else np.zeros(0, dtype=bool)
    nevenadres_row[neven_unit[first_neven]] = units.n_units + np.flatnonzero(first_neven)

    # Per object: the unit it describes (predecessors describe their successor's place).
    object_unit = np.r_[np.arange(units.n_units), successor]
    id_code = regions.woonplaats_id_code[units.streets.woonplaats[units.street]]
    seq = ids.sequence(rng, len(object_unit))
    seq = np.r_[seq[n_predecessors:], seq[:n_predecessors]]  # predecessors are older: lower numbers
    object_id = ids.bag_ids(id_code[object_unit], units.object_type[object_unit].astype(np.int64), seq)

    street = np.r_[units.street, neven_street]
    addresses = _address_table(units, regions, street, neven_unit, neven_number, rng)
    street_top = units.street_top.copy()
    np.maximum.at(street_top, neven_street, neven_number)

    bag = _bag_frame(units, regions, object_unit, object_id, successor, neven_unit, addresses, rng)
    return World(
        regions=regions,
        buildings=units,
        object_id=object_id,
        predecessor=predecessor,
        nevenadres_row=nevenadres_row,
        addresses=addresses,
        street_top=street_top,
        bag=bag,
    )


def weighted_sample(weight: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k distinct indices drawn with probability proportional to weight (Efraimidis-Spirakis), sorted."""
    k = min(k, int((weight > 0).sum()))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.where(weight > 0, np.log(rng.random(len(weight))) / np.where(weight > 0, weight, 1), -np.inf)
    return np.sort(np.argpartition(-keys, k - 1)[:k])


def _choose_successors(units: Buildings, n: int, rng: np.random.Generator) -> np.ndarray:
    """Live verblijfsobjecten that replaced a now withdrawn object at the same address."""
    eligible = (units.object_type == ids.VERBLIJFSOBJECT) & np.isin(
        units.status, (bld.IN_USE, bld.IN_USE_NOT_MEASURED, bld.RENOVATION)
    )
    return weighted_sample(eligible.astype(np.float64), n, rng)


def _nevenadressen(
    units: Buildings,
    regions: Regions,
    noise: NoiseConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nevenadressen on another street of the same woonplaats, numbered after that street's end.

    Returns per nevenadres (sorted by unit) the unit, the street and the house number.
    """
    streets = units.streets
    candidate = (units.object_type == ids.VERBLIJFSOBJECT) & (units.status != bld.WITHDRAWN)
    weight = candidate * np.where(units.dwelling, 1.0, NONRESIDENTIAL_NEVENADRES_WEIGHT)
    chosen = weighted_sample(weight, round(noise.nevenadres * int(candidate.sum())), rng)
    second = chosen[rng.random(len(chosen)) < 0.1]
    neven_unit = np.sort(np.r_[chosen, second])

    own = units.street[neven_unit]
    woonplaats = streets.woonplaats[own]
    first, count = streets.first[woonplaats], streets.first[woonplaats + 1] - streets.first[woonplaats]
    other = first + (own - first + 1 + (rng.random(len(own)) * np.maximum(count - 1, 1)).astype(np.int64)) % count
    order = np.argsort(other, kind="stable")
    rank = np.empty(len(other), dtype=np.int64)
    starts = np.r_[True, other[order][1:] != other[order][:-1]] if len(other) else np.zeros(0, dtype=bool)
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(other)), 0)) if len(other) else starts
    rank[order] = np.arange(len(other)) - run_start
    number = units.street_top[other] + (rank + 1) * streets.step[other]
    return neven_unit, other, number


def _address_table(
    units: Buildings,
    regions: Regions,
    street: np.ndarray,
    neven_unit: np.ndarray,
    neven_number: np.ndarray,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """One row per nummeraanduiding: the units' hoofdadressen, then the nevenadressen."""
    streets = units.streets
    segment = np.r_[
        units.segment, np.where(units.segment[neven_unit] >= 0, units.street_last_segment[street[units.n_units :]], -1)
    ]
    letter = np.r_[units.letter, np.full(len(neven_unit), -1)]
    n_rows = len(street)
    woonplaats = streets.woonplaats[street]
    number_id = ids.bag_ids(regions.woonplaats_id_code[woonplaats], ids.NUMMERAANDUIDING, ids.sequence(rng, n_rows))
    return pl.DataFrame(
        {
            "nummeraanduiding_id": ids.id_strings(number_id, 16),
            "straatnaam": lookup(streets.names, streets.name_index[street]),
            "huisnummer": pl.Series(np.r_[units.huisnummer, neven_number]).cast(pl.Int32),
            "huisletter": lookup(bld.LETTER_TABLE, letter),
            "huisnummertoevoeging": bld.toevoeging_strings(
                pl.Series(np.r_[units.toevoeging_kind, np.zeros(len(neven_unit), dtype=np.int64)]),
                pl.Series(np.r_[units.toevoeging_number, np.zeros(len(neven_unit), dtype=np.int64)]),
            ),
            "postcode": lookup(units.segment_postcode, segment),
            "woonplaats_naam": lookup(regions.woonplaats_name, woonplaats),
            "woonplaats": pl.Series(woonplaats, dtype=pl.Int32),
            "street": pl.Series(street, dtype=pl.Int32),
        }
    )


def _bag_frame(
    units: Buildings,
    regions: Regions,
    object_unit: np.ndarray,
    object_id: np.ndarray,
    successor: np.ndarray,
    neven_unit: np.ndarray,
    addresses: pl.DataFrame,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """The canonical `bag` input: one row per (object, nummeraanduiding), sorted by object id,
    hoofdadres first. Rows are put in order as integers, before any string column exists."""
    n_units = units.n_units
    row_object = np.r_[np.arange(len(object_unit)), neven_unit]
    row_address = np.r_[np.arange(n_units), successor, n_units + np.arange(len(neven_unit))]
    hoofdadres = np.arange(len(row_address)) < len(object_unit)
    area_factor = rng.uniform(0.6, 1.4, size=len(row_object))
    jitter_x, jitter_y = rng.normal(0, 2, size=len(row_object)), rng.normal(0, 2, size=len(row_object))
    pand_code = regions.woonplaats_id_code[units.streets.woonplaats[units.street[units.pand_first]]]
    pand_id = ids.bag_ids(pand_code, ids.PAND, ids.sequence(rng, len(units.pand_type)))

    order = np.lexsort((row_address, ~hoofdadres, object_id[row_object]))
    row_object, row_address, hoofdadres = row_object[order], row_address[order], hoofdadres[order]
    row_unit = object_unit[row_object]
    predecessor = row_object >= n_units  # a withdrawn predecessor: same place, own area, a little apart
    status = np.where(predecessor, bld.WITHDRAWN, units.status[row_unit])
    area = units.oppervlakte[row_unit].astype(np.float64)
    area = np.where(predecessor, np.round(area * area_factor[order]), area).astype(np.int64)
    in_pand = units.object_type[row_unit] == ids.VERBLIJFSOBJECT
    gemeente = regions.gemeente_code[regions.woonplaats_gemeente[units.streets.woonplaats[units.street[row_unit]]]]

    address = addresses.gather(pl.Series(row_address))
    return pl.DataFrame(
        {
            "object_id": ids.id_strings(object_id[row_object], 16),
            "object_type": lookup(OBJECT_TYPES, units.object_type[row_unit]),
            "nummeraanduiding_id": address["nummeraanduiding_id"],
            "hoofdadres": pl.Series(hoofdadres),
            "openbare_ruimte_naam": address["straatnaam"],
            "huisnummer": address["huisnummer"],
            "huisletter": address["huisletter"],
            "huisnummertoevoeging": address["huisnummertoevoeging"],
            "postcode": address["postcode"],
            "woonplaats_naam": address["woonplaats_naam"],
            "gemeente_code": ids.id_strings(gemeente, 4),
            "gebruiksdoel": lookup([name for name, _ in bld.GEBRUIKSDOELEN], units.gebruiksdoel[row_unit]),
            "oppervlakte": nullable(area, area >= 0, pl.Int32),
            "status": lookup(bld.STATUSES, status),
            "pand_id": ids.id_strings(np.where(in_pand, pand_id[units.unit_pand[row_unit]], -1), 16),
            "x": (units.x[row_unit] + np.where(predecessor, jitter_x[order], 0.0)).round(3),
            "y": (units.y[row_unit] + np.where(predecessor, jitter_y[order], 0.0)).round(3),
        },
        schema=BAG_SCHEMA,
    )
