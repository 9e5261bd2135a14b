"""Loggers for runs started from the command line: every event to the run's log file, and one
short progress line per step on stderr. (Runs launched from the UI keep Dagster's console
logger; the UI shows their events.)"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg
from dagster._core.definitions.dependency import NodeHandle

PROGRESS_PREFIX = "koppelwerk: step "


def asset_steps(job: dg.JobDefinition) -> list[str]:
    """The steps of `job` that materialise assets (its asset checks are steps too: dozens of
    them, too many to print one by one)."""
    layer = job.asset_layer
    return sorted(
        node.name
        for node in job.graph.nodes
        if (assets := layer.get_assets_def_for_node(NodeHandle(node.name, None))) is not None and assets.keys
    )


class _StepProgress(logging.Handler):
    """Writes `koppelwerk: step <name> (<elapsed> s)` when one of `steps` starts: a long run
    shows where it is, and nothing else (tracebacks included) reaches the terminal."""

    def __init__(self, steps: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.steps = frozenset(steps)
        self.started = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is not None and event.event_type_value == "STEP_START" and event.step_key in self.steps:
            print(
                f"{PROGRESS_PREFIX}{event.step_key} ({time.monotonic() - self.started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )


@dg.logger(
    config_schema={"steps": dg.Field([str], description="The steps to report (see `asset_steps`).")},
    description="One progress line per asset step on stderr.",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    # A logger of its own, outside the logging tree: Dagster owns it for the run.
    logger = logging.Logger("koppelwerk.progress", logging.DEBUG)  # noqa: LOG001 (step events are DEBUG)
    logger.addHandler(_StepProgress(init_context.logger_config["steps"]))
    return logger


@dg.logger(
    config_schema={"path": dg.Field(str, description="The run's log file.")},
    description="Every event of the run, errors with their tracebacks, to the run's log file.",
)
def run_log_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("koppelwerk.run_log", logging.DEBUG)  # noqa: LOG001 (Dagster owns it)
    handler = logging.FileHandler(init_context.logger_config["path"], encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


LOGGERS = {"console": dg.colored_console_logger, "progress": progress_logger, "run_log": run_log_logger}
