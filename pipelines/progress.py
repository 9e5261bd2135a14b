"""Progress of a long asset in the Dagster log: each phase the core reports, and while a phase
lasts, the same line again every `PROGRESS_SECONDS` with the time elapsed, so no stage is silent
for longer (the CLI shows these lines too, see `pipelines.loggers`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from core.progress import Progress

PROGRESS_SECONDS = 30.0
# Log messages that carry progress start with this, so the CLI can pick them out.
PROGRESS_MARK = "progress: "


@contextmanager
def reporting(context: dg.AssetExecutionContext, every: float = PROGRESS_SECONDS) -> Iterator[Progress]:
    """A `Progress` that logs to `context`, and a beat that repeats its last line every `every`
    seconds until the block ends."""
    started = time.monotonic()
    latest: list[str] = ["started"]
    lock = threading.Lock()
    stop = threading.Event()

    def say(text: str) -> None:
        context.log.info(f"{PROGRESS_MARK}{text} ({time.monotonic() - started:.0f} s)")

    def report(phase: str, done: int | None = None, total: int | None = None) -> None:
        counted = f": {done:,} of {total:,}" if done is not None and total is not None else ""
        with lock:
            latest[0] = f"{phase}{counted}"
        say(latest[0])

    def beat() -> None:
        while not stop.wait(every):
            with lock:
                text = latest[0]
            say(f"{text}, still running")

    beater = threading.Thread(target=beat, name="koppelwerk-progress", daemon=True)
    beater.start()
    try:
        yield report
    finally:
        stop.set()
        beater.join()
