"""Progress a person can follow: long steps report their phases, and repeat the latest while it
lasts; the CLI prints lines, or one bar on a terminal."""

from __future__ import annotations

import io
import logging
import time
from types import SimpleNamespace
from typing import Any

import linkage
import synth
from core.config import PROFILES
from pipelines.loggers import PHASE_PREFIX, PROGRESS_PREFIX, _StepProgress
from pipelines.progress import PROGRESS_MARK, reporting


def _context() -> tuple[Any, list[str]]:
    said: list[str] = []
    return SimpleNamespace(log=SimpleNamespace(info=said.append)), said


def test_a_phase_is_repeated_with_its_elapsed_time_while_it_lasts() -> None:
    context, said = _context()
    with reporting(context, every=0.05) as progress:
        progress("scoring", 10, 400)
        time.sleep(0.3)
    assert said[0].startswith(f"{PROGRESS_MARK}scoring: 10 of 400 (")
    beats = [line for line in said[1:] if "scoring: 10 of 400, still running" in line]
    assert len(beats) >= 3
    count = len(said)
    time.sleep(0.15)
    assert len(said) == count  # the beat stops with the block


def test_the_linker_reports_its_phases_in_order_with_rows_of_the_total() -> None:
    data = synth.generate(1500, seed=2)
    heard: list[tuple[str, int | None, int | None]] = []
    linkage.link(
        linkage.normalise_bag(data.bag),
        linkage.normalise_connections(data.connections),
        PROFILES["statistical"],
        progress=lambda phase, done=None, total=None: heard.append((phase, done, total)),
    )
    assert [phase for phase, _, _ in heard] == [
        "woonplaatsen, descriptions and capacities",
        "region partitions",
        # one region and the national pass
        "common areas and deterministic passes, region 1 of 2",
        "common areas and deterministic passes, region 2 of 2",
        "Splink training",
        "Splink scoring, region 1 of 2",
        "Splink scoring, region 2 of 2",
        "assignment, collective gas and residue",
    ]
    done = [d for _, d, _ in heard]
    assert done == sorted(done) and all(total == data.connections.height for _, _, total in heard)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_a_terminal_steps_and_phases_are_plain_lines() -> None:
    stream = io.StringIO()
    progress = _StepProgress(["a", "b"], stream)
    progress._step("a")
    progress._phase("a", "scoring: 1 of 2 (3 s)")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith(f"{PROGRESS_PREFIX}a (")
    assert lines[1] == f"{PHASE_PREFIX}a: scoring: 1 of 2 (3 s)"


def test_on_a_terminal_one_bar_counts_the_steps_and_shows_the_phase() -> None:
    stream = _Terminal()
    progress = _StepProgress(["a", "b", "c"], stream)
    progress._step("a")
    progress._step("b")
    progress._phase("b", "scoring: 1 of 2 (3 s)")
    shown = stream.getvalue().split("\r")[-1]
    assert "2/3" in shown and "scoring: 1 of 2" in shown and shown.startswith("b:")
    assert PROGRESS_PREFIX not in stream.getvalue()


def _record(event_type: str | None = None, step: str = "a", message: str = "") -> logging.LogRecord:
    """A log record as Dagster hands it to a logger: an event's, or a step's message."""
    record = logging.LogRecord("dagster", logging.DEBUG, __file__, 0, message, None, None)
    event = SimpleNamespace(event_type_value=event_type, step_key=step) if event_type else None
    record.dagster_meta = {"dagster_event": event, "orig_message": message, "step_key": step}  # type: ignore[attr-defined]
    return record


def test_a_step_launched_in_a_process_of_its_own_is_reported_once() -> None:
    """An isolated run's orchestrating process sees the step launched; a run in one process sees
    it start; where it sees both, one line."""
    stream = io.StringIO()
    progress = _StepProgress(["a", "b"], stream)
    for record in (_record("STEP_WORKER_STARTING"), _record("STEP_START"), _record("STEP_START", "b")):
        progress.emit(record)
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [f"{PROGRESS_PREFIX}a", f"{PROGRESS_PREFIX}b"]


def test_a_step_process_reports_its_phases_only_and_draws_no_bar() -> None:
    stream = _Terminal()
    progress = _StepProgress(["a"], stream, phases_only=True)
    progress.emit(_record("STEP_START"))
    progress.emit(_record(message=f"{PROGRESS_MARK}scoring: 1 of 2 (3 s)"))
    assert progress.bar is None
    # the line the orchestrating process's bar is on is cleared first
    assert stream.getvalue() == f"\r\x1b[K{PHASE_PREFIX}a: scoring: 1 of 2 (3 s)\n"
