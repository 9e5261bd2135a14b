"""The residue vocabulary, case by case, and the pre-link rules on a register-shaped frame."""

from pathlib import Path

import polars as pl
import pytest
import yaml

from linkage.normalise import normalise_connections
from linkage.residue import infrastructure_class, pre_link_residue

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "locatieomschrijving.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['text']!r}")
def test_description_vocabulary(case: dict) -> None:
    frame = pl.DataFrame({"text": [case["text"]]}, schema={"text": pl.String})
    assert frame.select(infrastructure_class(pl.col("text"))).item() == case["class"]


def test_inactive_wins_over_description_and_active_addresses_pass_through() -> None:
    register = pl.DataFrame(
        {
            "ean": ["871000000000000001", "871000000000000002", "871000000000000003"],
            "postcode": ["1234AB", "1234AB", "1234AB"],
            "huisnummer": [12, 12, 14],
            "huisnummertoevoeging": [None, None, None],
            "straatnaam": ["Dorpsstraat"] * 3,
            "woonplaats": ["Ons Dorp"] * 3,
            "bag_id": [None, None, None],
            "locatieomschrijving": ["OV mast t.o. nr 12", "OV mast", None],
            "fysieke_status": ["IBD", "UBD", "in bedrijf"],
        },
        schema_overrides={"huisnummer": pl.Int32, "bag_id": pl.String, "huisnummertoevoeging": pl.String},
    )
    residue = pre_link_residue(normalise_connections(register)).sort("ean")
    assert residue["ean"].to_list() == ["871000000000000001", "871000000000000002"]
    assert residue["residue_class"].to_list() == ["public_lighting", "inactive"]
    assert "UBD" in residue["reason"][1]
