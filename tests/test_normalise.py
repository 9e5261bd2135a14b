"""Each normalisation stage on its own, against the edge cases kept as YAML data."""

from pathlib import Path

import polars as pl
import pytest
import yaml

from linkage.normalise import clean_postcode, street_key, suffix_key

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
