"""Where long work is: a callback the core calls, which the orchestration shows.

The linkage and output functions know no logger and no terminal. They take a `Progress` and
call it at each phase, with rows done of total where there are rows to count; `pipelines`
passes one that logs to Dagster (and repeats the latest phase while it lasts), tests and
benchmarks pass nothing.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, phase: str, done: int | None = None, total: int | None = None) -> None: ...


def silent(phase: str, done: int | None = None, total: int | None = None) -> None:
    """The `Progress` of a caller that does not watch."""
