"""The residue vocabulary case by case, and the residue rules on register-shaped frames."""

import random
from pathlib import Path

import polars as pl
import pytest
import yaml

from linkage import normalise_bag, normalise_connections
from linkage.description import classify_word, describe, one_typo_apart
from linkage.residue import capacity_classes, pre_link_residue, unlinked_residue

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "locatieomschrijving.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['text']!r}")
def test_description_vocabulary(case: dict) -> None:
    frame = pl.DataFrame(
        {"ean": ["1"], "locatieomschrijving": [case["text"]]},
        schema={"ean": pl.String, "locatieomschrijving": pl.String},
    )
    described = describe(frame)
    if case["class"] is None and not case.get("near", False):
        assert described.is_empty()  # a text that says nothing gets no row
    else:
        row = described.row(0, named=True)
        assert row["described_class"] == case["class"]
        assert row["near_address"] is case.get("near", False)


def _osa_distance(a: str, b: str) -> int:
    """The optimal string alignment distance by its table, as the textbook defines it."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        for j in range(len(b) + 1):
            if min(i, j) == 0:
                table[i][j] = max(i, j)
                continue
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
    return table[-1][-1]


def test_one_typo_counts_a_swap_as_one() -> None:
    assert one_typo_apart("lichmast", "lichtmast")
    assert one_typo_apart("abri", "arbi")
    assert not one_typo_apart("kermis", "kerk")
    assert not one_typo_apart("abri", "abri")
    assert classify_word("lichmast") == ("public_lighting", "lichtmast", "typo")
    assert classify_word("kast") is None


def test_one_typo_apart_is_distance_one_on_random_words() -> None:
    """Against the distance table on words of a small alphabet, where every kind of edit, and
    edits that look like one but are two, occur often."""
    rng = random.Random(13)
    pairs = [
        ("".join(rng.choices("abc", k=rng.randint(0, 6))), "".join(rng.choices("abc", k=rng.randint(0, 6))))
        for _ in range(20_000)
    ]
    for word in ["lantaarnpaal", "abri", "verlichting"]:
        for i in range(len(word)):
            pairs += [
                (word, word[:i] + word[i + 1 :]),
                (word, word[:i] + "x" + word[i + 1 :]),
                (word, word[:i] + word[i + 2 : i + 3] + word[i + 1 : i + 2] + word[i + 3 :]),
            ]
    assert sum(_osa_distance(a, b) == 1 for a, b in pairs) > 2_000
    assert [(a, b) for a, b in pairs if one_typo_apart(a, b) != (_osa_distance(a, b) == 1)] == []


def _register(rows: list[tuple]) -> pl.DataFrame:
    """(ean, postcode, huisnummer, straatnaam, locatieomschrijving, fysieke_status, capacity)."""
    frame = pl.DataFrame(
        rows,
        schema={
            "ean": pl.String,
            "postcode": pl.String,
            "huisnummer": pl.Int32,
            "straatnaam": pl.String,
            "locatieomschrijving": pl.String,
            "fysieke_status": pl.String,
            "aansluitcapaciteit": pl.String,
        },
        orient="row",
    )
    return normalise_connections(
        frame.with_columns(
            huisnummertoevoeging=pl.lit(None, pl.String), woonplaats=pl.lit("Ons Dorp"), bag_id=pl.lit(None, pl.String)
        )
    )


# Twelve described lamp posts teach the capacity rule that 1x6A is public lighting here.
LAMP_POSTS = [(f"8710000000000001{i:02d}", None, None, None, "OV mast", "IBD", "1x6A") for i in range(12)]


def test_inactive_wins_over_description_and_a_lamp_post_at_a_house_is_a_lamp_post() -> None:
    register = _register(
        [
            ("871000000000000001", "1234AB", 12, "Dorpsstraat", "OV mast t.o. nr 12", "IBD", "1x6A"),
            ("871000000000000002", "1234AB", 12, "Dorpsstraat", "OV mast", "UBD", "1x6A"),
            ("871000000000000003", "1234AB", 14, "Dorpsstraat", None, "in bedrijf", "3x25A"),
            ("871000000000000004", "1234AB", 16, "Dorpsstraat", "t.o. nr 16", "IBD", "1x6A"),
            ("871000000000000005", "1234AB", 18, "Dorpsstraat", "naast 18", "IBD", "3x63A"),
            *LAMP_POSTS,
        ]
    )
    described = describe(register)
    residue = pre_link_residue(register, described, capacity_classes(register, described))
    by_ean = {ean: (cls, reason) for ean, cls, reason in residue.rows()}
    assert "871000000000000003" not in by_ean  # a plain address goes on to be linked
    assert by_ean["871000000000000001"][0] == "public_lighting"
    assert by_ean["871000000000000002"][0] == "inactive" and "UBD" in by_ean["871000000000000002"][1]
    assert by_ean["871000000000000004"][0] == "public_lighting"
    assert "near the address" in by_ean["871000000000000004"][1] and "1x6A" in by_ean["871000000000000004"][1]
    assert by_ean["871000000000000005"][0] == "unresolved"  # near an address, but 3x63A says nothing


def test_unlinked_connections_get_not_in_bag_capacity_class_or_unresolved() -> None:
    bag = normalise_bag(
        pl.DataFrame(
            {
                "object_id": ["0001010000000001"],
                "postcode": ["1234AB"],
                "huisnummer": [12],
                "huisletter": [None],
                "huisnummertoevoeging": ["A"],
                "openbare_ruimte_naam": ["Dorpsstraat"],
                "woonplaats_naam": ["Ons Dorp"],
                "status": ["Verblijfsobject in gebruik"],
            },
            schema_overrides={"huisnummer": pl.Int32, "huisletter": pl.String},
        )
    )
    register = _register(
        [
            ("871000000000000011", "1234AB", 99, "Dorpsstraat", None, "IBD", "3x25A"),  # past the end of the street
            ("871000000000000012", None, 99, "Dorpsstraat", None, "IBD", "3x25A"),  # the same, by street
            ("871000000000000013", "9999ZZ", 1, None, None, "IBD", "3x25A"),  # a postcode BAG does not know
            ("871000000000000014", None, None, None, "kast 12", "IBD", "1x6A"),  # addressless, lamp-post sized
            ("871000000000000015", None, None, None, "zie tekening", "IBD", "3x35A"),
            ("871000000000000016", "1234AB", 12, "Dorpsstraat", None, "IBD", "3x25A"),  # 12 without the A
            *LAMP_POSTS,
        ]
    )
    described = describe(register)
    rejected = pl.DataFrame({"ean": ["871000000000000016"], "reason": ["best candidate has match probability 0.5"]})
    remaining = register.filter(pl.col("ean").str.starts_with("87100000000000001"))
    residue = unlinked_residue(remaining, bag, rejected, capacity_classes(register, described))
    assert residue.height == remaining.height
    by_ean = {ean: (cls, reason) for ean, cls, reason in residue.rows()}
    assert by_ean["871000000000000011"][0] == by_ean["871000000000000012"][0] == "not_in_bag"
    assert by_ean["871000000000000013"][0] == "not_in_bag" and "pseudo postcode" in by_ean["871000000000000013"][1]
    assert (
        by_ean["871000000000000014"][0] == "public_lighting"
        and "100 % are public lighting" in by_ean["871000000000000014"][1]
    )
    assert by_ean["871000000000000015"][0] == "unresolved"
    assert by_ean["871000000000000016"] == ("unresolved", "best candidate has match probability 0.5")
