"""Each normalisation stage on its own, against the edge cases kept as YAML data."""

from pathlib import Path

import polars as pl
import pytest
import yaml

import synth
from linkage.normalise import (
    clean_postcode,
    normalise_bag,
    normalise_connections,
    street_key,
    street_key24,
    street_text,
    suffix_key,
)

CASES = Path(__file__).parent / "cases"


def _load(name: str) -> list[dict]:
    return yaml.safe_load((CASES / name).read_text())


@pytest.mark.parametrize("case", _load("suffix_equivalences.yaml"), ids=lambda c: f"{c['register']!r}")
def test_suffix_key_equivalences(case: dict) -> None:
    frame = pl.DataFrame(
        {"register": [case["register"]], "huisletter": [case["huisletter"]], "toevoeging": [case["toevoeging"]]},
        schema={"register": pl.String, "huisletter": pl.String, "toevoeging": pl.String},
    )
    keys = frame.select(
        register=suffix_key(pl.col("register")),
        bag=suffix_key(pl.col("huisletter").fill_null("") + pl.col("toevoeging").fill_null("")),
    ).row(0)
    assert (keys[0] == keys[1]) is case["same"], keys


@pytest.mark.parametrize("case", _load("postcodes.yaml"), ids=lambda c: f"{c['raw']!r}")
def test_clean_postcode(case: dict) -> None:
    frame = pl.DataFrame({"postcode": [case["raw"]]}, schema={"postcode": pl.String})
    assert frame.select(clean_postcode("postcode")).item() == case["clean"]


@pytest.mark.parametrize("case", _load("street_names.yaml"), ids=lambda c: c["register"])
def test_street_key_short_forms(case: dict) -> None:
    frame = pl.DataFrame({"register": [case["register"]], "bag": [case["bag"]]})
    keys = frame.select(street_key("register"), street_key("bag").alias("b")).row(0)
    assert (keys[0] == keys[1]) is case["same"], keys


def test_the_registers_keys_computed_per_distinct_name_equal_the_keys_of_each_row() -> None:
    """Normalisation computes the street and place keys once per distinct name and looks them
    up: on generated registers, with spellings repeated, missing and noisy, every row's keys
    are what its own name gives, in the register's order, and normalising twice changes nothing."""
    data = synth.generate(800, seed=5, noise=synth.NoiseConfig())
    connections = data.connections.with_columns(
        straatnaam=pl.when(pl.int_range(pl.len()) % 7 == 0).then(None).otherwise("straatnaam")
    )
    for frame, normalise, street, place in [
        (connections, normalise_connections, "straatnaam", "woonplaats"),
        (data.bag, normalise_bag, "openbare_ruimte_naam", "woonplaats_naam"),
    ]:
        normalised = normalise(frame)
        expected = frame.select(
            street_key=street_key(street), street_key24=street_key24(street), woonplaats_key=street_text(place)
        )
        assert normalised.select(expected.columns).equals(expected)
        assert normalised.select(frame.columns).equals(frame)
        assert normalise(normalised).equals(normalised)
