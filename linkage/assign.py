"""Assignment: per connection, the best candidate against the runner-up.

Sibling units at one house number all score high against a connection; a threshold on the best
pair alone would then link to whichever happens to win. A link is made only when the best
candidate is good enough (`min_match_probability`) AND clearly better than the next object
(`min_margin` bits of match weight). The link-rate / estimated-precision curve over thresholds
makes the trade-off visible in every run.
"""

from __future__ import annotations

import math

import polars as pl

from core.config import UseProfile
from linkage.deterministic import LINK_COLUMNS

# the residue class of a connection no pass or rule could place; named once, read by many
UNRESOLVED = "unresolved"
CURVE_THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999]


def candidate_probabilities(scored: pl.DataFrame) -> pl.DataFrame:
    """Re-express each pair's probability against the connection's own candidate set.

    Splink's probability weighs a pair against a random record; but the alternatives that matter
    are the other candidates of the same connection (sibling units at one number). Assuming a
    connection serves at most one of its candidates, the posterior of candidate i is
    odds_i / (1 + sum of all candidates' odds), with odds = 2^match_weight; siblings that score
    almost as well take their share of the probability instead of each claiming nearly 1.
    """
    log_odds = pl.col("match_weight") * math.log(2)
    top = log_odds.max().over("ean")
    # log(1 + sum exp(log_odds)) computed stably around the connection's best score
    log_norm = top + ((-top).exp() + (log_odds - top).exp().sum().over("ean")).log()
    return scored.with_columns(match_probability=(log_odds - log_norm).exp())


def best_candidates(scored: pl.DataFrame) -> pl.DataFrame:
    """Per ean: the best object, its weight and calibrated probability, and its margin over the
    runner-up (infinite when there is no other candidate)."""
    ranked = candidate_probabilities(scored).sort(["ean", "match_weight", "object_id"], descending=[False, True, False])
    return ranked.group_by("ean", maintain_order=True).agg(
        object_id=pl.col("object_id").first(),
        match_weight=pl.col("match_weight").first(),
        match_probability=pl.col("match_probability").first(),
        runner_up=pl.col("object_id").get(1, null_on_oob=True),
        margin=(pl.col("match_weight").first() - pl.col("match_weight").get(1, null_on_oob=True)).fill_null(
            float("inf")
        ),
    )


def assign(best: pl.DataFrame, profile: UseProfile) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Links for the connections whose best candidate (from `best_candidates`) passes the
    profile, and `unresolved` residue rows (ean, residue_class, reason) for the others."""
    good = pl.col("match_probability") >= profile.min_match_probability
    clear = pl.col("margin") >= profile.min_margin
    links = best.filter(good & clear).select(
        "ean",
        "object_id",
        "match_probability",
        "match_weight",
        method=pl.lit("probabilistic"),
        allocation_share=pl.lit(1.0),
    )
    unresolved = best.filter(~(good & clear)).select(
        "ean",
        residue_class=pl.lit(UNRESOLVED),
        reason=pl.when(~good)
        .then(
            pl.format(
                "best candidate {} has match probability {}, below the profile's {}",
                pl.col("object_id"),
                pl.col("match_probability").round(3),
                pl.lit(profile.min_match_probability),
            )
        )
        .otherwise(
            pl.format(
                "best candidate {} leads runner-up {} by {} bits, less than the profile's {}",
                pl.col("object_id"),
                pl.col("runner_up"),
                pl.col("margin").round(1),
                pl.lit(profile.min_margin),
            )
        ),
    )
    return links.select(LINK_COLUMNS), unresolved


def linkage_curve(deterministic: pl.DataFrame, best: pl.DataFrame, n_linkable: int, min_margin: float) -> pl.DataFrame:
    """Link rate and estimated precision (mean match probability of the links) per threshold.

    `deterministic`: best link per ean from the deterministic passes; `best`: the probabilistic
    best candidates; `n_linkable`: connections in operation that were not set aside as street
    furniture, the denominator of the link rate.
    """
    rows = []
    clear = best.filter(pl.col("margin") >= min_margin).select("ean", "match_probability")
    candidates = pl.concat([deterministic.select("ean", "match_probability"), clear])
    for threshold in CURVE_THRESHOLDS:
        kept = candidates.filter(pl.col("match_probability") >= threshold)
        rows.append(
            {
                "threshold": threshold,
                "n_linked": kept.height,
                "link_rate": kept.height / n_linkable if n_linkable else 0.0,
                # in sorted order: the passes return their links in any order, and a float mean
                # taken in another order differs in its last bits
                "estimated_precision": kept["match_probability"].sort().mean() if kept.height else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "threshold": pl.Float64,
            "n_linked": pl.Int64,
            "link_rate": pl.Float64,
            "estimated_precision": pl.Float64,
        },
    )
