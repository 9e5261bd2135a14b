"""How far the source-holder reports' fix-impact estimate is from what fixing would really buy.

    .venv/bin/python -m benchmarks.fix_impact --objects 100000 --seed 1

The report corrects a defect from the run's own evidence (`quality.fix_impact.run_corrections`:
the object a connection was linked to, else its best unresolved candidate). On a synth delivery
the right value is known, so the same re-link is done a second time with the truth's object as
the correction. Per defect class (all netbeheerders together): the estimate, the truth-corrected
outcome, how often the estimate's correction is the true object, and the time of each re-link.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

import linkage
import synth
from benchmarks.results import markdown_table, record_section
from core.config import PROFILES
from ingestion.validate import validate_delivery
from quality.fix_impact import fix_impact, run_corrections

SUMMED = ["n_affected", "n_correctable", "n_newly_linked", "n_now_deterministic"]


def _by_defect(impact: pl.DataFrame) -> pl.DataFrame:
    return impact.group_by("defect").agg(pl.col(SUMMED).sum()).sort("defect")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    profile = PROFILES["statistical"]

    dataset = synth.generate(args.objects, seed=args.seed)
    bag = validate_delivery("bag", dataset.bag, Path("bag.parquet")).frame
    connections = validate_delivery("connections", dataset.connections, Path("connections.parquet")).frame
    bag, connections = linkage.normalise_bag(bag), linkage.normalise_connections(connections)
    result = linkage.link(bag, connections, profile)

    estimated_corrections = run_corrections(result.links, result.residue, result.unresolved_candidates).collect()
    # a collective connection truly serves several objects; any one of them corrects its id
    true_corrections = dataset.truth_links.sort("object_id").unique("ean", keep="first").select("ean", "object_id")

    start = time.perf_counter()
    estimate = _by_defect(fix_impact(connections, bag, result.links, estimated_corrections, profile))
    estimate_s = time.perf_counter() - start
    start = time.perf_counter()
    truth = _by_defect(fix_impact(connections, bag, result.links, true_corrections, profile))
    truth_s = time.perf_counter() - start

    truly_served = dataset.truth_links.select("ean", "object_id").unique()
    agreement = estimated_corrections.join(truly_served, on=["ean", "object_id"], how="semi").height / max(
        estimated_corrections.join(truly_served.select("ean").unique(), on="ean", how="semi").height, 1
    )
    rows = [
        [
            e["defect"],
            f"{e['n_affected']:,}",
            f"{e['n_correctable']:,}",
            f"{t['n_correctable']:,}",
            f"{e['n_newly_linked']:,}",
            f"{t['n_newly_linked']:,}",
            f"{e['n_now_deterministic']:,}",
            f"{t['n_now_deterministic']:,}",
        ]
        for e, t in zip(estimate.to_dicts(), truth.to_dicts(), strict=True)
    ]
    body = (
        f"`python -m benchmarks.fix_impact --objects {args.objects} --seed {args.seed}`: {connections.height:,} "
        "connections, statistical profile. Each pair of columns is the report's estimate (corrections from "
        "the run's links and best unresolved candidates) against the same re-link corrected from the truth.\n\n"
        + markdown_table(
            [
                "defect",
                "affected",
                "correctable (estimate)",
                "correctable (truth)",
                "newly linked (estimate)",
                "newly linked (truth)",
                "now deterministic (estimate)",
                "now deterministic (truth)",
            ],
            rows,
        )
        + f"\n\nThe estimate's correction is a true object of the connection for {agreement:.2%} of the truly "
        f"linked connections it corrects. Re-link time: {estimate_s:.1f} s (estimate), {truth_s:.1f} s (truth)."
    )
    record_section("Fix impact: the reports' estimate against the truth", body)


if __name__ == "__main__":
    main()
