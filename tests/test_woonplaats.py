"""Woonplaats variants are learned from the delivery's own postcodes."""

from __future__ import annotations

import polars as pl
import pytest

import synth
from linkage import normalise_bag, normalise_connections
from linkage.woonplaats import resolve_woonplaatsen, woonplaats_variants

NOISE = synth.NoiseConfig().with_overrides({"woonplaats_old_spelling": 0.1, "woonplaats_gemeente": 0.1})


@pytest.fixture(scope="module")
def resolved():
    data = synth.generate(20_000, seed=5, noise=NOISE)
    bag = normalise_bag(data.bag)
    connections = resolve_woonplaatsen(normalise_connections(data.connections), bag)
    truth_object = data.truth_links.unique("ean").select("ean", "object_id")
    places = bag.unique("object_id").select(
        "object_id", true_woonplaats="woonplaats_key", true_gemeente="gemeente_code"
    )
    return connections.join(data.truth_connections, on="ean").join(truth_object, on="ean").join(places, on="object_id")


def test_old_spellings_resolve_to_the_bag_woonplaats(resolved) -> None:
    old = resolved.filter(pl.col("noise").str.contains("woonplaats_old_spelling"))
    assert old.height > 200
    assert (old["woonplaats_key"] == old["true_woonplaats"]).mean() > 0.99


def test_a_gemeente_name_gets_its_gemeente(resolved) -> None:
    gemeente = resolved.filter(pl.col("noise").str.contains("woonplaats_gemeente"))
    assert gemeente.height > 100
    assert (gemeente["gemeente_code"] == gemeente["true_gemeente"]).mean() > 0.99


def test_clean_names_are_left_alone(resolved) -> None:
    clean = resolved.filter(~pl.col("noise").str.contains("woonplaats") & pl.col("woonplaats").is_not_null())
    assert (clean["woonplaats_key"] == clean["true_woonplaats"]).all()


def test_a_name_spread_over_gemeenten_or_seen_too_rarely_is_not_resolved() -> None:
    bag = normalise_bag(
        pl.DataFrame(
            {
                "postcode": ["1111AA", "2222BB", "3333CC"],
                "woonplaats_naam": ["Aadorp", "Beedorp", "Ceedorp"],
                "gemeente_code": ["0001", "0002", "0003"],
                "huisletter": [None, None, None],
                "huisnummertoevoeging": [None, None, None],
                "openbare_ruimte_naam": ["Dorpsstraat"] * 3,
            },
            schema_overrides={"huisletter": pl.String, "huisnummertoevoeging": pl.String},
        )
    )
    register = normalise_connections(
        pl.DataFrame(
            {
                "postcode": ["1111AA", "1111AA", "2222BB", "2222BB", "3333CC", "3333CC"],
                "woonplaats": ["Overal", "Overal", "Overal", "Overal", "Ceedorpe", "Ceedorpe"],
                "huisnummertoevoeging": [None] * 6,
                "straatnaam": ["Dorpsstraat"] * 6,
                "fysieke_status": ["IBD"] * 6,
                "bag_id": [None] * 6,
                "aansluitcapaciteit": ["1x35A"] * 6,
            },
            schema_overrides={"huisnummertoevoeging": pl.String, "bag_id": pl.String},
        )
    )
    assert woonplaats_variants(register, bag).height == 0  # "Overal" spans gemeenten, "Ceedorpe" has 2 records
    more = pl.concat([register, register.tail(1)])
    assert woonplaats_variants(more, bag).rows() == [("ceedorpe", "ceedorp", "0003")]
