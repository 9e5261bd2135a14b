"""The deterministic passes link only what nothing in the record contradicts."""

from __future__ import annotations

import math

import polars as pl
import pytest

from core.config import LinkageSettings
from linkage import normalise_bag, normalise_connections
from linkage.deterministic import exact_address_pass, registered_bag_id_pass

IN_USE = "Verblijfsobject in gebruik"


def _bag(rows: list[tuple]) -> pl.DataFrame:
    """(object_id, street, huisnummer, huisletter, toevoeging, postcode, pand_id) rows in one place."""
    frame = pl.DataFrame(
        rows,
        schema={
            "object_id": pl.String,
            "openbare_ruimte_naam": pl.String,
            "huisnummer": pl.Int32,
            "huisletter": pl.String,
            "huisnummertoevoeging": pl.String,
            "postcode": pl.String,
            "pand_id": pl.String,
        },
        orient="row",
    )
    return normalise_bag(frame.with_columns(woonplaats_naam=pl.lit("Nieuw-Beverhoven"), status=pl.lit(IN_USE)))


def _register(rows: list[tuple]) -> pl.DataFrame:
    """(ean, street, huisnummer, toevoeging, postcode, bag_id) rows, electricity, in operation."""
    frame = pl.DataFrame(
        rows,
        schema={
            "ean": pl.String,
            "straatnaam": pl.String,
            "huisnummer": pl.Int32,
            "huisnummertoevoeging": pl.String,
            "postcode": pl.String,
            "bag_id": pl.String,
        },
        orient="row",
    )
    return normalise_connections(
        frame.with_columns(
            woonplaats=pl.lit("Nieuw-Beverhoven"),
            fysieke_status=pl.lit("in bedrijf"),
            aansluitcapaciteit=pl.lit("1x35A"),
        )
    )


# A shop at 3 with flats 3-1 and 3-2 above it; a house at 5; Kerkstraat 11 in 6567AB, and a
# Ijzerweg 11 elsewhere whose postcode differs from 6567AB in one digit.
BAG = _bag(
    [
        ("0878010000000003", "Lindelaan", 3, None, None, "6567AB", "0878100000000001"),
        ("0878010000000004", "Lindelaan", 3, None, "1", "6567AB", "0878100000000001"),
        ("0878010000000005", "Lindelaan", 3, None, "2", "6567AB", "0878100000000001"),
        ("0878010000000006", "Lindelaan", 5, None, None, "6567AB", "0878100000000002"),
        ("0878010000000011", "Kerkstraat", 11, None, None, "6567AC", "0878100000000003"),
        ("0878010000000021", "Ijzerweg", 11, None, None, "6667AC", "0878100000000004"),
        ("0878010000000010", "Kerkstraat", 11, None, None, "6567AC", "0878100000000003"),  # withdrawn predecessor
    ]
).with_columns(
    status=pl.when(pl.col("object_id") == "0878010000000010")
    .then(pl.lit("Verblijfsobject ingetrokken"))
    .otherwise("status")
)


def _linked(links: pl.DataFrame) -> dict[str, str]:
    return dict(links.select("ean", "object_id").rows())


def test_registered_id_is_trusted_where_the_address_confirms_it() -> None:
    register = _register(
        [
            ("871687000000000001", "Lindelaan", 3, "1", "6567AB", "0878010000000004"),
            ("871687000000000002", "Lindelaan", 3, "2", "6567AB", "0878010000000004"),  # id names the sibling
            ("871687000000000003", "Lindelaan", 5, None, None, "0878010000000006"),  # no postcode: street route
        ]
    )
    assert _linked(registered_bag_id_pass(register, BAG)) == {
        "871687000000000001": "0878010000000004",
        "871687000000000003": "0878010000000006",
    }


def test_a_lost_suffix_is_not_filled_in_by_the_registered_id() -> None:
    # "3" with the id of 3-1: the suffix lost, or a wrong id for the shop at 3; the model decides
    register = _register([("871687000000000004", "Lindelaan", 3, None, "6567AB", "0878010000000004")])
    assert registered_bag_id_pass(register, BAG).height == 0
    assert exact_address_pass(register, BAG).height == 0


def test_exact_address_with_suffix_equivalents_links_the_unit() -> None:
    register = _register(
        [
            ("871687000000000005", "Lindelaan", 3, "-2", "6567 ab", None),
            ("871687000000000006", "Lindelaan", 5, None, "6567AB", None),
        ]
    )
    assert _linked(exact_address_pass(register, BAG)) == {
        "871687000000000005": "0878010000000005",
        "871687000000000006": "0878010000000006",
    }


def test_a_number_without_suffix_where_units_have_one_is_left_to_the_model() -> None:
    register = _register(
        [
            ("871687000000000007", "Lindelaan", 3, None, "6567AB", None),
            ("871687000000000008", "Lindelaan", 3, None, None, None),  # same, found by street
        ]
    )
    assert exact_address_pass(register, BAG).height == 0


def test_a_postcode_typo_onto_another_street_contradicted_by_the_id_is_not_exact() -> None:
    # 6667AC is a typo of 6567AC: BAG has an 11 there, but on Ijzerweg, and the id names Kerkstraat 11
    register = _register(
        [
            ("871687000000000009", "Kerkstraat", 11, None, "6667AC", "0878010000000011"),
            ("871687000000000010", "Kerkstrat", 11, None, "6567AC", None),  # a street typo alone is no contradiction
            (
                "871687000000000011",
                "Kerkstraat",
                11,
                None,
                "6667AC",
                "0878010000000010",
            ),  # a stale id still points home
        ]
    )
    assert _linked(exact_address_pass(register, BAG)) == {"871687000000000010": "0878010000000011"}


def test_the_pass_probabilities_are_the_settings() -> None:
    register = _register(
        [
            ("871687000000000001", "Lindelaan", 3, "1", "6567AB", "0878010000000004"),
            ("871687000000000006", "Lindelaan", 5, None, "6567AB", None),
        ]
    )
    settings = LinkageSettings(registered_bag_id_probability=0.98, exact_address_probability=0.9)
    by_id = registered_bag_id_pass(register, BAG, settings)
    by_address = exact_address_pass(register.filter(pl.col("bag_id_clean").is_null()), BAG, settings)
    assert by_id.select("match_probability", "match_weight").row(0) == pytest.approx((0.98, math.log2(0.98 / 0.02)))
    assert by_address.select("match_probability", "match_weight").row(0) == pytest.approx((0.9, math.log2(9)))
    assert registered_bag_id_pass(register, BAG)["match_probability"].to_list() == [0.999]
