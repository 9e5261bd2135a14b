"""Connections that serve no BAG object: street furniture, and addresses BAG does not know.

Street furniture (lights, clocks, shelters, traffic lights, cabinets, chargers, pumps, building
sites, markets) is described only by free text, with at most a partial address; a share is
registered on the address of the house opposite ("t.o. nr 12"), carrying that house's full BAG
address and id, and a share has lost the word that says what it is. `not_in_bag` connections
carry a plausible address (a number past the end of a real street, or a street the woonplaats
does not have) that no BAG object holds.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synth import buildings as bld
from synth import ids, vocabulary
from synth.columns import replace_each
from synth.config import NoiseConfig, at_least_one
from synth.connections import ELK, GAS, INFRASTRUCTURE, NOT_IN_BAG, plan_part
from synth.places import World

# Shares of the partial addresses of furniture not registered opposite a house.
PARTIAL_NONE, PARTIAL_WOONPLAATS, PARTIAL_STREET, PARTIAL_POSTCODE = range(4)
PARTIAL_SHARE = [0.3, 0.25, 0.3, 0.15]
NOT_IN_BAG_UNKNOWN_STREET = 0.3


def infrastructure_connections(world: World, noise: NoiseConfig, rng: np.random.Generator) -> pl.DataFrame:
    """Plan rows for street furniture, per class at its configured count per 1,000 objects."""
    counts = [
        at_least_one(getattr(noise, f"{name}_per_1000") * world.n_objects / 1000, getattr(noise, f"{name}_per_1000"))
        for name in vocabulary.INFRA_CLASSES
    ]
    infra_class = np.repeat(np.arange(len(counts)), counts)
    n = len(infra_class)
    anchor = _anchors(world, n, rng, dwellings_only=True)  # "the house opposite"
    opposite = rng.random(n) < noise.opposite_address
    vague = rng.random(n) < noise.description_vague
    address = world.addresses.gather(pl.Series(anchor))

    own_words = _fill(
        _pick(rng, [vocabulary.INFRA_DESCRIPTIONS[c] for c in vocabulary.INFRA_CLASSES], infra_class),
        rng,
        address["straatnaam"],
    )
    phrase = _fill(
        _pick(rng, [vocabulary.OPPOSITE_PHRASES], np.zeros(n, dtype=np.int64)),
        rng,
        _side_street(world, anchor),
        number=address["huisnummer"].cast(pl.String),
    )
    vague_words = _fill(
        _pick(rng, [vocabulary.VAGUE_DESCRIPTIONS], np.zeros(n, dtype=np.int64)), rng, address["straatnaam"]
    )
    description = pl.select(
        pl.when(pl.Series(opposite & ~vague))
        .then(own_words + " " + phrase)
        .when(pl.Series(opposite))
        .then(phrase)
        .when(pl.Series(vague))
        .then(vague_words)
        .otherwise(own_words)
    ).to_series()

    mode = rng.choice(len(PARTIAL_SHARE), size=n, p=PARTIAL_SHARE)
    x, y = _placement(world, anchor, opposite, rng)
    units = world.buildings
    return plan_part(
        n,
        kind=INFRASTRUCTURE,
        product=ELK,
        infra_class=infra_class.astype(np.int8),
        unit=np.where(opposite, anchor, -1),
        bag_unit=np.where(opposite, anchor, -1),
        address_row=np.where(opposite, anchor, -1),
        woonplaats=units.streets.woonplaats[units.street[anchor]],
        x=x,
        y=y,
        description=description,
        straatnaam=pl.select(
            pl.when(pl.Series(~opposite & (mode == PARTIAL_STREET))).then(address["straatnaam"])
        ).to_series(),
        postcode=pl.select(
            pl.when(pl.Series(~opposite & (mode == PARTIAL_POSTCODE))).then(address["postcode"])
        ).to_series(),
        woonplaats_known=opposite | (mode != PARTIAL_NONE),
        opposite_address=opposite,
        description_vague=vague,
    )


def not_in_bag_connections(world: World, noise: NoiseConfig, rng: np.random.Generator) -> pl.DataFrame:
    """Plan rows for connections whose address no BAG object carries."""
    n = at_least_one(noise.not_in_bag_per_1000 * world.n_objects / 1000, noise.not_in_bag_per_1000)
    units, streets = world.buildings, world.buildings.streets
    anchor = _anchors(world, n, rng)
    street = units.street[anchor]
    woonplaats = streets.woonplaats[street]
    unknown_name = _unknown_street_names(world, woonplaats, rng)
    unknown = (rng.random(n) < NOT_IN_BAG_UNKNOWN_STREET) & (unknown_name >= 0)
    beyond_end = world.street_top[street] + streets.step[street] * rng.integers(1, 31, n)
    address = world.addresses.gather(pl.Series(anchor))
    names = pl.Series(streets.names, dtype=pl.String)
    templates = np.array(vocabulary.NOT_IN_BAG_DESCRIPTIONS)
    radius, bearing = rng.uniform(30, 150, n), rng.uniform(0, 2 * np.pi, n)
    return plan_part(
        n,
        kind=NOT_IN_BAG,
        product=np.where(rng.random(n) < 0.15, GAS, ELK).astype(np.int8),
        woonplaats=woonplaats,
        x=units.x[anchor] + radius * np.cos(bearing),
        y=units.y[anchor] + radius * np.sin(bearing),
        description=pl.select(
            pl.when(pl.Series(rng.random(n) < 0.3)).then(pl.Series(templates[rng.integers(0, len(templates), n)]))
        ).to_series(),
        straatnaam=pl.select(
            pl.when(pl.Series(unknown))
            .then(names.gather(pl.Series(np.maximum(unknown_name, 0))))
            .otherwise(address["straatnaam"])
        ).to_series(),
        huisnummer=np.where(unknown, rng.integers(1, 80, n), beyond_end),
        huisnummertoevoeging=pl.select(pl.when(pl.Series(rng.random(n) < 0.1)).then(pl.lit("A"))).to_series(),
        postcode=address["postcode"],
    )


def _anchors(world: World, n: int, rng: np.random.Generator, dwellings_only: bool = False) -> np.ndarray:
    """Random live verblijfsobjecten (or only dwellings) near which a connection is placed."""
    units = world.buildings
    candidates = np.flatnonzero(
        units.live & (units.object_type == ids.VERBLIJFSOBJECT) & (units.dwelling | (not dwellings_only))
    )
    return candidates[rng.integers(0, len(candidates), n)]


def _pick(rng: np.random.Generator, vocabularies: list[tuple[str, ...]], which: np.ndarray) -> pl.Series:
    """A random template per row from the vocabulary `which` selects."""
    sizes = np.array([len(v) for v in vocabularies])
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    flat = np.array([text for v in vocabularies for text in v])
    choice = offsets[which] + (rng.random(len(which)) * sizes[which]).astype(np.int64)
    return pl.Series(flat[choice], dtype=pl.String)


def _fill(
    templates: pl.Series, rng: np.random.Generator, street: pl.Series, number: pl.Series | None = None
) -> pl.Series:
    """Fill `{n}` (a number, random unless given) and `{street}` in templates."""
    if number is None:
        number = pl.Series(rng.integers(1, 100, len(templates)).astype(str), dtype=pl.String)
    return replace_each(replace_each(templates, "{n}", number), "{street}", street.fill_null(""))


def _side_street(world: World, anchor: np.ndarray) -> pl.Series:
    """Name of another street in the anchor's woonplaats, for "hoek <street>"."""
    streets = world.buildings.streets
    own = world.buildings.street[anchor]
    woonplaats = streets.woonplaats[own]
    first, count = streets.first[woonplaats], streets.first[woonplaats + 1] - streets.first[woonplaats]
    other = first + (own - first + 1) % count
    return pl.Series(streets.names, dtype=pl.String).gather(pl.Series(streets.name_index[other]))


def _placement(
    world: World, anchor: np.ndarray, opposite: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Opposite furniture stands across the street from its anchor house; the rest 15-80 m away."""
    units, streets = world.buildings, world.buildings.streets
    angle = streets.angle[units.street[anchor]]
    side = np.where(units.huisnummer[anchor] % 2 == 0, 1.0, -1.0)
    across = 2 * bld.STREET_HALF_WIDTH * side
    along = rng.normal(0, 4, len(anchor))
    radius, bearing = rng.uniform(15, 80, len(anchor)), rng.uniform(0, 2 * np.pi, len(anchor))
    x = units.x[anchor] + np.where(opposite, across * np.sin(angle) + along * np.cos(angle), radius * np.cos(bearing))
    y = units.y[anchor] + np.where(opposite, -across * np.cos(angle) + along * np.sin(angle), radius * np.sin(bearing))
    return x, y


def _unknown_street_names(world: World, woonplaats: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A pool street name that the woonplaats does not have, per row (-1 if none was found)."""
    streets = world.buildings.streets
    pool = len(streets.names)
    taken = np.unique(streets.woonplaats.astype(np.int64) * pool + streets.name_index)
    result = np.full(len(woonplaats), -1, dtype=np.int64)
    for _ in range(20):
        open_rows = np.flatnonzero(result < 0)
        if len(open_rows) == 0:
            break
        draw = rng.integers(0, pool, len(open_rows))
        free = ~np.isin(woonplaats[open_rows].astype(np.int64) * pool + draw, taken)
        result[open_rows[free]] = draw[free]
    return result
