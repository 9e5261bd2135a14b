"""Assignment takes the best candidate only when it is good enough and clearly ahead."""

import polars as pl

from core.config import PROFILES
from linkage.assign import assign, best_candidates, linkage_curve

SCORED = pl.DataFrame(
    {
        "ean": ["clear", "clear", "alone", "siblings", "siblings", "weak", "medium", "medium"],
        "object_id": ["A", "B", "C", "D", "E", "F", "G", "H"],
        "match_weight": [14.0, 2.0, 9.0, 11.0, 10.5, 1.0, 6.0, 1.0],
        "match_probability": [0.9999, 0.8, 0.998, 0.9995, 0.9993, 0.67, 0.98, 0.67],  # Splink's, per pair
    }
)


def test_best_against_runner_up() -> None:
    best = best_candidates(SCORED).sort("ean")
    assert best.select("ean", "object_id", "runner_up").rows() == [
        ("alone", "C", None),
        ("clear", "A", "B"),
        ("medium", "G", "H"),
        ("siblings", "D", "E"),
        ("weak", "F", None),
    ]
    assert best.filter(pl.col("ean") == "alone")["margin"].item() == float("inf")


def test_siblings_share_the_probability_mass() -> None:
    best = best_candidates(SCORED)
    probability = dict(best.select("ean", "match_probability").rows())
    # two siblings at 2^11 and 2^10.5 odds: the best gets 2048 / (1 + 2048 + 1448), not 0.9995
    assert abs(probability["siblings"] - 2**11 / (1 + 2**11 + 2**10.5)) < 1e-9
    assert abs(probability["alone"] - 2**9 / (1 + 2**9)) < 1e-9
    assert probability["medium"] < 0.98


def test_profiles_trade_link_rate_for_precision() -> None:
    statistical, unresolved = assign(best_candidates(SCORED), PROFILES["statistical"])
    assert sorted(statistical["ean"]) == ["alone", "clear", "medium"]
    reasons = dict(unresolved.select("ean", "reason").rows())
    assert "D has match probability 0.586" in reasons["siblings"] and "0.667" in reasons["weak"]
    operational, _ = assign(best_candidates(SCORED), PROFILES["operational"])
    assert sorted(operational["ean"]) == ["alone", "clear"]
    # a link carries the probability against its siblings, not Splink's per-pair 0.98
    assert statistical.filter(pl.col("ean") == "medium")["match_probability"].item() < 0.98
    for links, profile in ((statistical, PROFILES["statistical"]), (operational, PROFILES["operational"])):
        assert (links["match_probability"] >= profile.min_match_probability).all()


def test_curve_link_rate_falls_as_threshold_rises() -> None:
    deterministic = pl.DataFrame({"ean": ["x", "y"], "match_probability": [0.999, 0.995]})
    curve = linkage_curve(deterministic, best_candidates(SCORED), n_linkable=7, min_margin=2.0)
    rates = curve["link_rate"].to_list()
    assert rates == sorted(rates, reverse=True)
    assert curve.filter(pl.col("threshold") == 0.5)["n_linked"].item() == 6  # all but the siblings
    assert curve.filter(pl.col("threshold") == 0.9)["n_linked"].item() == 5  # and not the weak one
    assert curve.filter(pl.col("threshold") == 0.999)["n_linked"].item() == 2
