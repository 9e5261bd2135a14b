"""Assignment takes the best candidate only when it is good enough and clearly ahead.

Every expected figure below is worked out by hand from SCORED: a candidate's probability against
its connection's own candidates is 2^w / (1 + sum of 2^w over the candidates).
"""

import polars as pl
import pytest

from core.config import PROFILES, UseProfile
from linkage.assign import CURVE_THRESHOLDS, UNRESOLVED, assign, best_candidates, linkage_curve

SCORED = pl.DataFrame(
    {
        "ean": ["clear", "clear", "alone", "siblings", "siblings", "weak", "medium", "medium"],
        "object_id": ["A", "B", "C", "D", "E", "F", "G", "H"],
        "match_weight": [14.0, 2.0, 9.0, 11.0, 10.5, 1.0, 6.0, 1.0],
        "match_probability": [0.9999, 0.8, 0.998, 0.9995, 0.9993, 0.67, 0.98, 0.67],  # Splink's, per pair
    }
)
# (best object, its probability among the connection's candidates, margin in bits)
EXPECTED = {
    "clear": ("A", 2**14 / (1 + 2**14 + 2**2), 12.0),
    "alone": ("C", 2**9 / (1 + 2**9), float("inf")),
    "siblings": ("D", 2**11 / (1 + 2**11 + 2**10.5), 0.5),
    "weak": ("F", 2**1 / (1 + 2**1), float("inf")),
    "medium": ("G", 2**6 / (1 + 2**6 + 2**1), 5.0),
}


def test_best_against_runner_up() -> None:
    best = best_candidates(SCORED).sort("ean")
    assert best.select("ean", "object_id", "runner_up").rows() == [
        ("alone", "C", None),
        ("clear", "A", "B"),
        ("medium", "G", "H"),
        ("siblings", "D", "E"),
        ("weak", "F", None),
    ]
    margins = dict(best.select("ean", "margin").rows())
    assert margins == {ean: margin for ean, (_, _, margin) in EXPECTED.items()}
    weights = dict(best.select("ean", "match_weight").rows())
    assert weights == {"alone": 9.0, "clear": 14.0, "medium": 6.0, "siblings": 11.0, "weak": 1.0}


def test_the_best_is_chosen_by_weight_not_by_input_order() -> None:
    reversed_input = best_candidates(SCORED.reverse()).sort("ean")
    assert reversed_input.equals(best_candidates(SCORED).sort("ean"))


def test_siblings_share_the_probability_mass() -> None:
    best = best_candidates(SCORED)
    probability = dict(best.select("ean", "match_probability").rows())
    # two siblings at 2^11 and 2^10.5 odds: the best gets 2048 / (1 + 2048 + 1448), not 0.9995
    for ean, (_, expected, _) in EXPECTED.items():
        assert probability[ean] == pytest.approx(expected, abs=1e-12), ean
    assert probability["siblings"] < 0.6 and probability["medium"] == pytest.approx(64 / 67, abs=1e-12)


def test_profiles_trade_link_rate_for_precision() -> None:
    statistical, unresolved = assign(best_candidates(SCORED), PROFILES["statistical"])
    # statistical (p >= 0.90, margin >= 2): clear 0.9997, alone 0.998 and medium 0.955 pass
    rows = statistical.sort("ean").rows()
    assert [row[:2] + row[3:] for row in rows] == [
        ("alone", "C", 9.0, "probabilistic", 1.0),
        ("clear", "A", 14.0, "probabilistic", 1.0),
        ("medium", "G", 6.0, "probabilistic", 1.0),
    ]
    # the link carries the probability against its siblings, not Splink's per-pair one
    assert [row[2] for row in rows] == pytest.approx([EXPECTED[ean][1] for ean in ("alone", "clear", "medium")])
    assert unresolved.sort("ean").rows() == [
        (
            "siblings",
            UNRESOLVED,
            "best candidate D has match probability 0.586, below the profile's 0.9",
        ),
        ("weak", UNRESOLVED, "best candidate F has match probability 0.667, below the profile's 0.9"),
    ]
    # operational (p >= 0.995, margin >= 5): medium's 0.955 is no longer enough
    operational, unresolved = assign(best_candidates(SCORED), PROFILES["operational"])
    assert sorted(operational["ean"]) == ["alone", "clear"]
    assert dict(unresolved.select("ean", "reason").rows())["medium"] == (
        "best candidate G has match probability 0.955, below the profile's 0.995"
    )


def test_a_close_runner_up_blocks_a_probable_link() -> None:
    """With the probability bar at 0.5, the siblings' 0.586 passes; their 0.5-bit lead does not."""
    links, unresolved = assign(
        best_candidates(SCORED), UseProfile("lenient", min_match_probability=0.5, min_margin=2.0)
    )
    assert sorted(links["ean"]) == ["alone", "clear", "medium", "weak"]
    assert unresolved.rows() == [
        ("siblings", UNRESOLVED, "best candidate D leads runner-up E by 0.5 bits, less than the profile's 2.0")
    ]


def test_thresholds_are_inclusive() -> None:
    """A link exactly at the profile's probability and margin is made."""
    medium_p = EXPECTED["medium"][1]
    links, _ = assign(best_candidates(SCORED), UseProfile("edge", min_match_probability=medium_p, min_margin=5.0))
    assert sorted(links["ean"]) == ["alone", "clear", "medium"]
    links, _ = assign(best_candidates(SCORED), UseProfile("edge", min_match_probability=medium_p, min_margin=5.01))
    assert sorted(links["ean"]) == ["alone", "clear"]


def test_curve_counts_links_per_threshold() -> None:
    deterministic = pl.DataFrame({"ean": ["x", "y"], "match_probability": [0.999, 0.995]})
    curve = linkage_curve(deterministic, best_candidates(SCORED), n_linkable=7, min_margin=2.0)
    # the siblings' 0.5-bit lead keeps them out at every threshold; the others, by probability
    kept = [0.999, 0.995] + [EXPECTED[ean][1] for ean in ("clear", "alone", "weak", "medium")]
    assert curve["threshold"].to_list() == CURVE_THRESHOLDS
    n_linked = [sum(p >= threshold for p in kept) for threshold in CURVE_THRESHOLDS]
    assert n_linked == [6, 6, 5, 5, 5, 5, 4, 4, 4, 2]
    assert curve["n_linked"].to_list() == n_linked
    assert curve["link_rate"].to_list() == pytest.approx([n / 7 for n in n_linked], abs=1e-12)
    precision = [sum(p for p in kept if p >= t) / n for t, n in zip(CURVE_THRESHOLDS, n_linked, strict=True)]
    assert curve["estimated_precision"].to_list() == pytest.approx(precision, abs=1e-12)


def test_curve_with_nothing_to_link() -> None:
    curve = linkage_curve(
        pl.DataFrame(schema={"ean": pl.String, "match_probability": pl.Float64}),
        best_candidates(SCORED.filter(pl.col("ean") == "siblings")),
        n_linkable=0,
        min_margin=2.0,
    )
    assert curve["n_linked"].to_list() == [0] * len(CURVE_THRESHOLDS)
    assert curve["link_rate"].to_list() == [0.0] * len(CURVE_THRESHOLDS)
    assert curve["estimated_precision"].null_count() == len(CURVE_THRESHOLDS)
