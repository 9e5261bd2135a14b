"""Scores a linker's output against the synth truth (`truth/links.parquet`, `truth/connections.parquet`).

Three views, because each answers a different question:

- per connection (`connection_metrics`): does each connection that truly serves objects end up
  at one of them? This is what a user of a single connection's link cares about, and it is the
  figure issue 3 sets targets for. A connection is judged by its *best* link only, so a linker
  is not rewarded for spraying many low-share links.
- per pair (`pair_metrics`): are the (connection, object) pairs right, including all the objects
  of a collective connection? This is what allocation of consumption to objects depends on.
- the residue (`residue_metrics`, `addressless_metrics`): do the connections that should not be
  linked land in the right residue class? This feeds the residue-class sectors of the statistics.

All functions are pure: polars frames in, plain numbers or small frames out.
"""

from __future__ import annotations

import itertools

import polars as pl

from linkage.assign import UNRESOLVED

LINKED = "linked"


def _ratio(numerator: int, denominator: int) -> float:
    """A share that is 0.0, not a ZeroDivisionError, when nothing was there to count."""
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def best_links(links: pl.DataFrame) -> pl.DataFrame:
    """Per ean the one link with the highest match_probability.

    Ties go to the highest allocation_share (the object that gets most of the consumption is the
    connection's main object), then to the smallest object_id, so the result never depends on
    row order and two runs score identically.
    """
    return links.sort(
        ["ean", "match_probability", "allocation_share", "object_id"],
        descending=[False, True, True, False],
        nulls_last=True,
    ).unique("ean", keep="first", maintain_order=True)


def _truly_linked(truth_connections: pl.DataFrame) -> pl.DataFrame:
    return truth_connections.filter(pl.col("true_class") == LINKED).select("ean")


def judge_connections(links: pl.DataFrame, truth_links: pl.DataFrame, truth_connections: pl.DataFrame) -> pl.DataFrame:
    """One row per truly linked connection: `predicted_object` (its best link, null when it got
    none), `outcome` (`correct`, `wrong` or `missed`) and the truth's `noise` kinds.

    Kept public so that a benchmark can break the errors down by what caused them.
    """
    best = best_links(links).select("ean", predicted_object="object_id")
    true_pairs = truth_links.select("ean", predicted_object="object_id", is_true=pl.lit(True)).unique(
        ["ean", "predicted_object"]
    )
    judged = (
        truth_connections.filter(pl.col("true_class") == LINKED)
        .select("ean", "noise")
        .join(best, on="ean", how="left")
        .join(true_pairs, on=["ean", "predicted_object"], how="left")
    )
    return judged.select(
        "ean",
        "predicted_object",
        outcome=pl.when(pl.col("predicted_object").is_null())
        .then(pl.lit("missed"))
        .when(pl.col("is_true").fill_null(False))
        .then(pl.lit("correct"))
        .otherwise(pl.lit("wrong")),
        noise="noise",
    )


def connection_metrics(
    links: pl.DataFrame, truth_links: pl.DataFrame, truth_connections: pl.DataFrame
) -> dict[str, float | int]:
    """Per-connection precision and recall over the active addressable connections.

    The population is the connections whose true class is `linked` (active and serving BAG
    objects). Of those, `n_predicted` got at least one link, and `n_correct` have a best link
    that is one of the objects they truly serve (for a collective connection any of its
    dwellings counts). precision = n_correct / n_predicted, recall = n_correct / n_truth.

    Connections that should have no link at all cannot be wrong in that population, so their
    links are counted apart as `false_links_on_residue` (a lamp post linked to a house): a linker
    that links everything must not look better than one that keeps its residue apart.
    """
    judged = judge_connections(links, truth_links, truth_connections)
    counts = judged["outcome"].value_counts()
    by_outcome = dict(zip(counts["outcome"].to_list(), counts["count"].to_list(), strict=True))
    n_truth = judged.height
    n_correct = by_outcome.get("correct", 0)
    n_wrong = by_outcome.get("wrong", 0)
    n_predicted = n_correct + n_wrong
    linked_eans = links.select("ean").unique()
    residue_truth = truth_connections.filter(pl.col("true_class") != LINKED)
    false_links = residue_truth.join(linked_eans, on="ean", how="semi").height
    precision, recall = _ratio(n_correct, n_predicted), _ratio(n_correct, n_truth)
    return {
        "n_truth": n_truth,
        "n_predicted": n_predicted,
        "n_correct": n_correct,
        "n_wrong": n_wrong,
        "n_missed": by_outcome.get("missed", 0),
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "n_truth_residue": residue_truth.height,
        "false_links_on_residue": false_links,
    }


def pair_metrics(links: pl.DataFrame, truth_links: pl.DataFrame) -> dict[str, float | int]:
    """Pair-level precision, recall and F1 over (ean, object_id) pairs.

    Only the predicted pairs of connections that truly serve objects (those with rows in
    `truth_links`) are scored: links on residue connections are `false_links_on_residue` in
    `connection_metrics`, not counted twice here. A collective gas connection serving 12
    dwellings is 12 true pairs, so a linker that links it to one dwelling gets 1 of 12 right;
    this is the view allocation of consumption depends on.
    """
    true_pairs = truth_links.select("ean", "object_id").unique()
    predicted = links.select("ean", "object_id").unique().join(true_pairs.select("ean").unique(), on="ean", how="semi")
    n_correct = predicted.join(true_pairs, on=["ean", "object_id"], how="semi").height
    precision, recall = _ratio(n_correct, predicted.height), _ratio(n_correct, true_pairs.height)
    return {
        "n_truth_pairs": true_pairs.height,
        "n_predicted_pairs": predicted.height,
        "n_correct_pairs": n_correct,
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
    }


def residue_metrics(residue: pl.DataFrame, truth_connections: pl.DataFrame) -> dict[str, object]:
    """How well the connections that should not be linked are classified.

    `class_accuracy` is the share of truly-residue connections (true class other than `linked`)
    whose residue_class equals their true class; `in_residue` the share that landed in the
    residue at all, whatever the class. `confusion` counts every truth connection by true class
    and predicted residue class (`-` when it is not in the residue, i.e. linked or quarantined),
    so a truly linked connection in `unresolved` shows there too.
    """
    predicted = residue.select("ean", "residue_class").unique("ean")
    joined = truth_connections.select("ean", "true_class").join(predicted, on="ean", how="left")
    truly_residue = joined.filter(pl.col("true_class") != LINKED)
    n_truth = truly_residue.height
    n_in_residue = truly_residue["residue_class"].is_not_null().sum()
    n_correct = truly_residue.filter(pl.col("residue_class") == pl.col("true_class")).height
    confusion = (
        joined.with_columns(predicted_class=pl.col("residue_class").fill_null("-"))
        .group_by("true_class", "predicted_class")
        .agg(n=pl.len())
        .sort(["true_class", "n"], descending=[False, True])
    )
    return {
        "n_truth_residue": n_truth,
        "n_in_residue": int(n_in_residue),
        "n_correct_class": n_correct,
        "in_residue": _ratio(int(n_in_residue), n_truth),
        "class_accuracy": _ratio(n_correct, n_truth),
        "confusion": confusion,
    }


# Connections that serve no BAG object because they have no address of their own: street
# furniture. (`construction_site` is left out: a meter on an object still being built has one.)
ADDRESSLESS_CLASSES = (
    "public_lighting",
    "street_clock",
    "bus_shelter",
    "traffic_signal",
    "telecom_cabinet",
    "ev_charger",
    "pumping_station",
    "market_event",
)


def addressless_metrics(
    links: pl.DataFrame, residue: pl.DataFrame, truth_connections: pl.DataFrame
) -> dict[str, float | int]:
    """Issue 4's view: of the truly addressless connections (`ADDRESSLESS_CLASSES`), the share
    that got their true class and the share that were linked to a BAG object anyway; and the
    share of *all* connections left `unresolved`."""
    addressless = truth_connections.filter(pl.col("true_class").is_in(ADDRESSLESS_CLASSES)).select("ean", "true_class")
    classified = addressless.join(residue.select("ean", "residue_class"), on="ean", how="left")
    n_right = classified.filter(pl.col("residue_class") == pl.col("true_class")).height
    n_linked = addressless.join(links.select("ean").unique(), on="ean", how="semi").height
    n_unresolved = residue.filter(pl.col("residue_class") == UNRESOLVED).height
    return {
        "n_addressless": addressless.height,
        "n_true_class": n_right,
        "n_linked": n_linked,
        "true_class_share": _ratio(n_right, addressless.height),
        "linked_share": _ratio(n_linked, addressless.height),
        "n_unresolved": n_unresolved,
        "unresolved_share": _ratio(n_unresolved, truth_connections.height),
    }


CALIBRATION_BINS = [0.9, 0.95, 0.99, 0.999]
_EDGES = ["-inf", *map(str, CALIBRATION_BINS), "inf"]
CALIBRATION_BANDS = [f"({low}, {high}]" for low, high in itertools.pairwise(_EDGES)]


def calibration(links: pl.DataFrame, truth_links: pl.DataFrame) -> pl.DataFrame:
    """Predicted against observed precision of links, per method and match-probability band.

    A calibrated linker's links at probability p are right a share p of the time; this is how a
    reader checks that the `match_probability` column means what it says.
    """
    judged = links.join(
        truth_links.select("ean", "object_id", correct=pl.lit(True)), on=["ean", "object_id"], how="left"
    ).with_columns(correct=pl.col("correct").fill_null(False))
    return (
        judged.with_columns(
            band=pl.col("match_probability")
            .bin_intervals(CALIBRATION_BINS, labels=CALIBRATION_BANDS, right_closed=True)
            .cast(pl.String)
        )
        .group_by("method", "band")
        .agg(
            n_links=pl.len(),
            predicted=pl.col("match_probability").mean(),
            observed=pl.col("correct").mean(),
        )
        .sort("method", "predicted")
    )
