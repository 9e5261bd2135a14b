"""Evaluation metrics on hand-made frames with answers worked out by hand, and the peers as real,
fallible baselines on a small synth municipality."""

from __future__ import annotations

import polars as pl
import pytest

import linkage
import synth
from benchmarks.peers import PEER_LINK_COLUMNS, exact_join, plain_splink
from linkage.evaluation import addressless_metrics, best_links, connection_metrics, pair_metrics, residue_metrics

# Truth: E1..E4 truly linked (E4 a collective serving O5, O6, O7); E5..E7 truly residue.
TRUTH_LINKS = pl.DataFrame(
    {
        "ean": ["E1", "E2", "E3", "E4", "E4", "E4"],
        "object_id": ["O1", "O2", "O4", "O5", "O6", "O7"],
        "allocation_share": [1.0, 1.0, 1.0, 0.5, 0.3, 0.2],
    }
)
TRUTH_CONNECTIONS = pl.DataFrame(
    {
        "ean": ["E1", "E2", "E3", "E4", "E5", "E6", "E7"],
        "true_class": ["linked", "linked", "linked", "linked", "public_lighting", "inactive", "ev_charger"],
        "noise": ["", "suffix_missing", "postcode_typo", "", "opposite_address", "status_code", ""],
    }
)


def _links(rows: list[tuple[str, str, float, float]]) -> pl.DataFrame:
    ean, object_id, probability, share = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "ean": ean,
            "object_id": object_id,
            "match_probability": probability,
            "match_weight": [0.0] * len(rows),
            "method": ["test"] * len(rows),
            "allocation_share": share,
        }
    )


# E1 right (plus a weaker wrong candidate), E2 wrong, E3 missed, E4 collective with 2 of its 3
# objects, E5 (a lamp post) linked to a house.
LINKS = _links(
    [
        ("E1", "O1", 0.99, 1.0),
        ("E1", "O9", 0.50, 1.0),
        ("E2", "O3", 0.97, 1.0),
        ("E4", "O5", 0.95, 0.6),
        ("E4", "O6", 0.95, 0.4),
        ("E5", "O8", 0.99, 1.0),
    ]
)


def test_best_links_takes_highest_probability_then_share_then_object_id() -> None:
    links = _links(
        [
            ("A", "X2", 0.9, 0.3),
            ("A", "X1", 0.8, 0.7),
            ("A", "X3", 0.9, 0.7),  # probability, then share
            ("B", "Y2", 0.9, 0.5),
            ("B", "Y1", 0.9, 0.5),  # full tie: smallest object_id
        ]
    )
    best = best_links(links).sort("ean")
    assert best.select("ean", "object_id").rows() == [("A", "X3"), ("B", "Y1")]


def test_connection_metrics_by_hand() -> None:
    metrics = connection_metrics(LINKS, TRUTH_LINKS, TRUTH_CONNECTIONS)
    # 4 truly linked; E1, E2, E4 predicted; E1 and E4 (best O5 is one of its objects) correct.
    n_truth, n_predicted, n_correct = 4, 3, 2
    precision, recall = n_correct / n_predicted, n_correct / n_truth
    assert metrics["n_truth"] == n_truth
    assert metrics["n_predicted"] == n_predicted
    assert metrics["n_correct"] == n_correct
    assert (metrics["n_wrong"], metrics["n_missed"]) == (1, 1)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(0.5)
    assert metrics["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
    assert metrics["f1"] == pytest.approx(4 / 7)
    assert metrics["n_truth_residue"] == 3
    assert metrics["false_links_on_residue"] == 1  # E5, the lamp post on a house


def test_pair_metrics_by_hand() -> None:
    metrics = pair_metrics(LINKS, TRUTH_LINKS)
    # True pairs: E1-O1, E2-O2, E3-O4, E4-O5, E4-O6, E4-O7 (6). Predicted pairs of truly linked
    # connections: E1-O1, E1-O9, E2-O3, E4-O5, E4-O6 (5; E5-O8 is a residue connection's link).
    # Correct: E1-O1, E4-O5, E4-O6 (3).
    assert (metrics["n_truth_pairs"], metrics["n_predicted_pairs"], metrics["n_correct_pairs"]) == (6, 5, 3)
    assert metrics["precision"] == pytest.approx(3 / 5)
    assert metrics["recall"] == pytest.approx(3 / 6)
    assert metrics["f1"] == pytest.approx(6 / 11)


def test_pair_metrics_perfect_collective() -> None:
    links = _links([(ean, obj, 0.99, share) for ean, obj, share in TRUTH_LINKS.iter_rows()])
    metrics = pair_metrics(links, TRUTH_LINKS)
    assert metrics["precision"] == metrics["recall"] == metrics["f1"] == pytest.approx(1.0)


def test_residue_metrics_by_hand() -> None:
    residue = pl.DataFrame(
        {
            "ean": ["E3", "E6", "E7"],
            "residue_class": ["unresolved", "inactive", "unresolved"],
            "reason": ["", "", ""],
            "netbeheerder": ["N", "N", "N"],
        }
    )
    metrics = residue_metrics(residue, TRUTH_CONNECTIONS)
    # Truly residue: E5 (linked instead), E6 (right class), E7 (wrong class).
    assert (metrics["n_truth_residue"], metrics["n_in_residue"], metrics["n_correct_class"]) == (3, 2, 1)
    assert metrics["in_residue"] == pytest.approx(2 / 3)
    assert metrics["class_accuracy"] == pytest.approx(1 / 3)
    confusion = {(t, p): n for t, p, n in metrics["confusion"].iter_rows()}
    assert confusion == {
        ("linked", "-"): 3,
        ("linked", "unresolved"): 1,
        ("public_lighting", "-"): 1,
        ("inactive", "inactive"): 1,
        ("ev_charger", "unresolved"): 1,
    }


def test_addressless_metrics_by_hand() -> None:
    # E5 (a lamp post) is linked to a house, E7 (a charger) lands in unresolved; E3 is unresolved too
    residue = pl.DataFrame({"ean": ["E3", "E6", "E7"], "residue_class": ["unresolved", "inactive", "unresolved"]})
    links = _links([("E5", "O9", 0.99, 1.0), ("E1", "O1", 0.99, 1.0)])
    metrics = addressless_metrics(links, residue, TRUTH_CONNECTIONS)
    assert (metrics["n_addressless"], metrics["n_true_class"], metrics["n_linked"]) == (2, 0, 1)
    assert metrics["linked_share"] == pytest.approx(0.5)
    assert metrics["unresolved_share"] == pytest.approx(2 / 7)
    right = residue.with_columns(
        residue_class=pl.when(pl.col("ean") == "E7").then(pl.lit("ev_charger")).otherwise("residue_class")
    )
    assert addressless_metrics(links, right, TRUTH_CONNECTIONS)["true_class_share"] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def small_municipality() -> tuple[synth.SynthDataset, pl.DataFrame, pl.DataFrame]:
    dataset = synth.generate(2000, seed=5)
    return dataset, linkage.normalise_bag(dataset.bag), linkage.normalise_connections(dataset.connections)


def test_exact_join_peer_is_a_real_fallible_baseline(small_municipality) -> None:
    dataset, bag, connections = small_municipality
    links = exact_join.link(bag, connections)
    assert links.columns == PEER_LINK_COLUMNS
    assert links["ean"].is_unique().all()
    metrics = connection_metrics(links, dataset.truth_links, dataset.truth_connections)
    assert metrics["precision"] < 1.0
    assert metrics["recall"] > 0.5
    assert metrics["false_links_on_residue"] > 0  # no residue logic: furniture on a house is linked


def test_plain_splink_peer_links_most_but_not_all(small_municipality) -> None:
    dataset, bag, connections = small_municipality
    links = plain_splink.link(bag, connections)
    assert links.columns == PEER_LINK_COLUMNS
    assert links["ean"].is_unique().all()
    assert (links["match_probability"] > plain_splink.THRESHOLD).all()
    metrics = connection_metrics(links, dataset.truth_links, dataset.truth_connections)
    assert 0.5 < metrics["recall"] and metrics["precision"] < 1.0


def test_calibration_compares_predicted_with_observed_per_band() -> None:
    from linkage.evaluation import calibration

    links = pl.DataFrame(
        {
            "ean": ["a", "b", "c", "d"],
            "object_id": ["A", "X", "C", "D"],
            "match_probability": [0.999, 0.97, 0.97, 0.97],
            "method": ["exact_address"] + ["probabilistic"] * 3,
        }
    )
    truth = pl.DataFrame({"ean": ["a", "b", "c", "d"], "object_id": ["A", "B", "C", "D"]})
    table = calibration(links, truth)
    probabilistic = table.filter(pl.col("method") == "probabilistic").row(0, named=True)
    assert probabilistic["n_links"] == 3 and abs(probabilistic["observed"] - 2 / 3) < 1e-9
    assert abs(probabilistic["predicted"] - 0.97) < 1e-9
