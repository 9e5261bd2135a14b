"""The scale benchmark reports a process that fails (killed when out of memory) with the stage it
ended in and its time until then, instead of losing the size or the peer from the table."""

from __future__ import annotations

import sys

import pytest

from benchmarks.scale import STEP_PREFIX, Failed, Measured, Watched, report, watch

_FAILS_IN_SECOND_STEP = f"""
import sys, time
print("{STEP_PREFIX}ingest_bag (0 s)", file=sys.stderr, flush=True)
time.sleep(0.3)
print("{STEP_PREFIX}link_connections (0 s)", file=sys.stderr, flush=True)
sys.exit(3)
"""


def test_a_failed_process_is_reported_with_its_steps_until_it_ended() -> None:
    with pytest.raises(Failed) as failure:
        watch([sys.executable, "-c", _FAILS_IN_SECOND_STEP], env={})
    watched = failure.value.watched
    assert watched.code == 3
    assert [name for name, _, _ in watched.steps] == ["start-up", "ingest_bag", "link_connections"]
    assert watched.steps[1][1] >= 0.25
    assert watched.wall >= sum(seconds for _, seconds, _ in watched.steps) - 1e-6


def test_the_report_says_which_size_and_peer_did_not_finish() -> None:
    small = Measured(100_000, 172_981, Watched(1.0, 0.3), Watched(20.0, 1.0, [("link_connections", 20.0, 1.0)]))
    middle = Measured(
        1_000_000,
        1_725_269,
        Watched(10.0, 1.0),
        Watched(100.0, 3.8, [("link_connections", 100.0, 3.8)]),
        {"plain_splink": Watched(250.0, 23.5, code=-9)},
    )
    large = Measured(
        10_000_000,
        17_000_000,
        Watched(120.0, 5.0),
        Watched(900.0, 21.7, [("link_connections", 800.0, 21.1), ("fix_impact", 100.0, 21.7)], code=-9),
    )
    text = report([small, middle, large])
    assert "900.0 (killed, out of memory in fix_impact)" in text
    assert "plain_splink (killed, out of memory) | 250.0 until it ended | 23.50 | > 2.50" in text
    # the growth exponent is fitted on the sizes that completed: 100k -> 1M, 5x in 10x the objects
    assert "objects^0.70 from 100,000 to 1,000,000 objects" in text
    assert "Stages of the run at 10,000,000 objects, until it ended (killed, out of memory)" in text
