"""`generate`: one call from (size, seed, rates) to the five frames of a fictional delivery.

Every step draws from its own named random stream (synth.streams), so the same arguments give
the same frames, and the BAG side does not move when only a noise rate changes. `generate_chunk`
builds one chunk of a run too large for memory (synth.chunks); `generate` is the run of one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synth import connections as conn
from synth import vocabulary
from synth.chunks import Chunk, single
from synth.config import NoiseConfig
from synth.consumption import consumption_frame, volumes
from synth.infrastructure import infrastructure_connections, not_in_bag_connections
from synth.places import World, build_world
from synth.register import build_register
from synth.streams import Streams
from synth.truth import truth_connections, truth_links

MIN_OBJECTS = 100


@dataclass(frozen=True)
class SynthDataset:
    """The three canonical inputs, the two truth frames, and what produced them."""

    bag: pl.DataFrame
    connections: pl.DataFrame
    consumption: pl.DataFrame
    truth_links: pl.DataFrame
    truth_connections: pl.DataFrame
    n_objects: int
    seed: int
    year: int
    noise: NoiseConfig
    gemeenten: list[dict[str, object]]

    @property
    def frames(self) -> dict[str, pl.DataFrame]:
        return {
            "bag": self.bag,
            "connections": self.connections,
            "consumption": self.consumption,
            "truth_links": self.truth_links,
            "truth_connections": self.truth_connections,
        }


def generate(n_objects: int, seed: int, noise: NoiseConfig = NoiseConfig(), year: int = 2025) -> SynthDataset:
    """A fictional set of gemeenten with n_objects BAG objects, its connection register,
    a year of consumption, and the truth.

    n_objects counts distinct BAG objects, withdrawn ones included; it must be at least 100 so
    that every phenomenon can occur. The seed must be a non-negative integer.
    """
    check_arguments(n_objects, seed)
    return generate_chunk(n_objects, noise, year, single(seed))[0]


def check_arguments(n_objects: int, seed: int) -> None:
    """Raise ValueError for a size or seed the generator does not take."""
    if n_objects < MIN_OBJECTS:
        raise ValueError(f"--objects must be at least {MIN_OBJECTS}, got {n_objects}")
    if seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {seed}")


def generate_chunk(n_objects: int, noise: NoiseConfig, year: int, chunk: Chunk) -> tuple[SynthDataset, tuple[int, ...]]:
    """One chunk of a run: its dataset, and per operator the last EAN sequence number it used
    (where the next chunk's EANs start). Arguments are not validated here: see `generate`."""
    streams = chunk.streams
    world = build_world(n_objects, noise, streams, chunk.namespace)
    # The unsorted plan is not kept by name here, so it is freed once the register has sorted it.
    register = build_register(_plan(world, noise, streams), world, noise, chunk.ean_start, streams("register"))
    plan, ean = register.plan, register.connections["ean"]
    true_class = conn.true_class(plan, world)
    missing = streams("consumption_missing").random(len(plan)) < noise.consumption_missing
    volume = volumes(plan, world, streams("consumption"))
    dataset = SynthDataset(
        bag=world.bag,
        connections=register.connections,
        consumption=consumption_frame(ean, plan, volume, missing, year),
        truth_links=truth_links(ean, plan, true_class, world),
        truth_connections=truth_connections(ean, true_class, {**register.masks, "consumption_missing": missing}),
        n_objects=n_objects,
        seed=streams.seed,
        year=year,
        noise=noise,
        gemeenten=_gemeenten(world),
    )
    return dataset, register.ean_next


def _plan(world: World, noise: NoiseConfig, streams: Streams) -> pl.DataFrame:
    """Every connection that exists, with what it truly is (see synth.connections)."""
    plan = pl.concat(
        [
            conn.object_connections(world, noise, streams("objects")),
            infrastructure_connections(world, noise, streams("infrastructure")),
            not_in_bag_connections(world, noise, streams("not_in_bag")),
        ]
    )
    return conn.apply_inactive(plan, noise, streams("inactive"))


def _gemeenten(world: World) -> list[dict[str, object]]:
    """Names the linker may meet in the register's woonplaats field, per gemeente."""
    regions = world.regions
    return [
        {
            "code": f"{code:04d}",
            "name": regions.gemeente_name[g],
            "woonplaatsen": [regions.woonplaats_name[w] for w in np.flatnonzero(regions.woonplaats_gemeente == g)],
            "netbeheerders": sorted(
                {
                    vocabulary.NETBEHEERDERS[o][0]
                    for o in np.r_[
                        regions.woonplaats_elk_operator[regions.woonplaats_gemeente == g],
                        regions.woonplaats_gas_operator[regions.woonplaats_gemeente == g],
                    ]
                }
            ),
        }
        for g, code in enumerate(regions.gemeente_code)
    ]
