"""The grid operator's register: EANs, operators, and the (noisy) record of every planned connection.

The plan says what each connection is; this module writes it down the way an operator does: its
own EAN range per operator, the BAG address copied into free-text fields (then distorted by
`synth.noise`), the status in words or codes, a capacity, and sometimes a point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from synth import connections as conn
from synth import ids, noise, vocabulary
from synth.capacity import capacities, profiles
from synth.columns import lookup, nullable
from synth.config import EXCLUSIVE_GROUPS, NoiseConfig
from synth.places import World

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

CONNECTIONS_SCHEMA: dict[str, PolarsDataType] = {
    "ean": pl.String,
    "product": pl.String,
    "netbeheerder": pl.String,
    "straatnaam": pl.String,
    "huisnummer": pl.Int32,
    "huisnummertoevoeging": pl.String,
    "postcode": pl.String,
    "woonplaats": pl.String,
    "locatieomschrijving": pl.String,
    "bag_id": pl.String,
    "x": pl.Float64,
    "y": pl.Float64,
    "fysieke_status": pl.String,
    "aansluitcapaciteit": pl.String,
}

# Sequence numbers of a run's EANs start above this, per operator (11 digits leave ample room).
EAN_FIRST = 10**9
# The parts of a BAG address the register copies (then distorts).
ADDRESS_FIELDS = ("straatnaam", "huisnummer", "huisletter", "huisnummertoevoeging", "postcode")


@dataclass(frozen=True)
class Register:
    """The register frame (in EAN order), the plan in the same order, and the noise masks."""

    connections: pl.DataFrame
    plan: pl.DataFrame
    ean: np.ndarray  # int64
    masks: noise.Masks
    ean_next: tuple[int, ...]  # per operator: the last sequence number handed out (or the start)


def order_by_ean(
    plan: pl.DataFrame, world: World, ean_start: tuple[int, ...], rng: np.random.Generator
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, tuple[int, ...]]:
    """Give every connection an EAN from its operator's range, above `ean_start` per operator, and
    sort by it.

    Sequence numbers are handed out in a random order, so EAN order says nothing about the
    address. Returns the sorted plan, its EANs (int64), its operators and, per operator, the last
    sequence number handed out: where the next chunk of a run starts, so EANs never repeat.
    """
    woonplaats = plan["woonplaats"].to_numpy()
    gas = plan["product"].to_numpy() == conn.GAS
    operator = np.where(
        gas, world.regions.woonplaats_gas_operator[woonplaats], world.regions.woonplaats_elk_operator[woonplaats]
    )
    company = np.array([code for _, code in vocabulary.NETBEHEERDERS])
    shuffled = rng.permutation(len(plan))
    seq = np.empty(len(plan), dtype=np.int64)
    ean_next = []
    for index in range(len(company)):
        rows = shuffled[operator[shuffled] == index]
        seq[rows] = ids.sequence(rng, len(rows), start=ean_start[index])
        ean_next.append(int(seq[rows].max()) if len(rows) else ean_start[index])
    ean = ids.eans(company[operator], seq)
    order = np.argsort(ean, kind="stable")
    return plan[order], ean[order], operator[order], tuple(ean_next)


def build_register(
    plan: pl.DataFrame, world: World, config: NoiseConfig, ean_start: tuple[int, ...], rng: np.random.Generator
) -> Register:
    """The noisy register for an already planned set of connections, its EANs above `ean_start`."""
    plan, ean, operator, ean_next = order_by_ean(plan, world, ean_start, rng)
    rates = config.as_dict()
    masks: noise.Masks = {}
    units = world.buildings

    address_row, found = noise.nevenadres(
        plan["address_row"].to_numpy(), world.nevenadres_row, config.nevenadres_used, rng
    )
    masks.update(found)
    address = world.addresses.select(ADDRESS_FIELDS).gather(nullable(address_row, address_row >= 0, pl.Int64))
    keep_suffix = plan["keep_suffix"]
    suffix, found = noise.suffix(
        pl.select(pl.when(keep_suffix).then(address["huisletter"])).to_series(),
        pl.select(
            pl.when(keep_suffix).then(pl.coalesce(address["huisnummertoevoeging"], plan["huisnummertoevoeging"]))
        ).to_series(),
        _group(rates, "suffix"),
        rng,
    )
    masks.update(found)
    postcode, found = noise.postcode(
        pl.select(pl.coalesce(address["postcode"], plan["postcode"])).to_series(), _group(rates, "postcode"), rng
    )
    masks.update(found)
    street, found = noise.street(
        pl.select(pl.coalesce(address["straatnaam"], plan["straatnaam"])).to_series(), rates, rng
    )
    masks.update(found)
    regions = world.regions
    place, found = noise.woonplaats(
        plan["woonplaats_known"].to_numpy(),
        plan["woonplaats"].to_numpy(),
        regions.woonplaats_name,
        [regions.gemeente_name[g] for g in regions.woonplaats_gemeente],
        regions.woonplaats_old_name,
        _group(rates, "woonplaats"),
        rng,
    )
    masks.update(found)

    bag_object, absent, found = noise.bag_id(
        plan["bag_unit"].to_numpy(),
        world.predecessor,
        units.pand_first,
        units.pand_units,
        units.unit_pand,
        units.n_units,
        _group(rates, "bag_id"),
        rng,
    )
    masks.update(found)
    bag_id_int = np.where(bag_object >= 0, world.object_id[np.maximum(bag_object, 0)], -1)
    bag_id_int = np.where(absent, noise.absent_ids(np.maximum(bag_id_int, 0), rng), bag_id_int)

    x, y, found = noise.coordinates(plan["x"].to_numpy(), plan["y"].to_numpy(), rates, config.coordinate_jitter_m, rng)
    masks.update(found)
    masks.update(noise.status_code(len(plan), config.status_code, rng))
    status = plan["status"].to_numpy() + np.where(masks["status_code"], len(conn.STATUS_WORDS), 0)

    frame = pl.DataFrame(
        {
            "ean": ids.id_strings(ean, 18),
            "product": pl.Series(conn.PRODUCTS).gather(pl.Series(plan["product"].to_numpy())),
            "netbeheerder": pl.Series([name for name, _ in vocabulary.NETBEHEERDERS]).gather(pl.Series(operator)),
            "straatnaam": street,
            "huisnummer": pl.select(pl.coalesce(address["huisnummer"], plan["huisnummer"])).to_series(),
            "huisnummertoevoeging": suffix,
            "postcode": postcode,
            "woonplaats": place,
            "locatieomschrijving": plan["description"],
            "bag_id": ids.id_strings(bag_id_int, 16),
            "x": x,
            "y": y,
            "fysieke_status": lookup(conn.STATUS_WORDS + conn.STATUS_CODES, status),
            "aansluitcapaciteit": capacities(profiles(plan, world), rng),
        },
        schema=CONNECTIONS_SCHEMA,
    )
    masks["opposite_address"] = plan["opposite_address"].to_numpy()
    masks["description_vague"] = plan["description_vague"].to_numpy()
    return Register(connections=frame, plan=plan, ean=ean, masks=masks, ean_next=ean_next)


def _group(rates: dict[str, float], group: str) -> dict[str, float]:
    return {name: rates[name] for name in EXCLUSIVE_GROUPS[group]}
