"""Loggers for runs started from the command line: every event to the run's log file, and on
stderr one short line per step and per phase of a long step (a progress bar on a terminal).
(Runs launched from the UI keep Dagster's console logger; the UI shows their events.)"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

import dagster as dg
from dagster._core.definitions.dependency import NodeHandle
from tqdm import tqdm

from pipelines.progress import PROGRESS_MARK

PROGRESS_PREFIX = "koppelwerk: step "
PHASE_PREFIX = "koppelwerk:   "


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
    """On stderr: `koppelwerk: step <name> (<elapsed> s)` when one of `steps` starts, and
    `koppelwerk:   <name>: <phase>` for each progress message of a long step
    (`pipelines.progress`). On a terminal the same as one progress bar over the steps, the
    phase beside it. Nothing else (tracebacks included) reaches the terminal."""

    def __init__(self, steps: list[str], stream: TextIO | None = None) -> None:
        super().__init__(logging.DEBUG)
        self.steps = frozenset(steps)
        self.started = time.monotonic()
        self.stream = stream or sys.stderr
        self.bar = (
            tqdm(total=len(steps), file=self.stream, unit="step", dynamic_ncols=True) if self.stream.isatty() else None
        )

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {})
        event = meta.get("dagster_event")
        if event is not None and event.event_type_value == "STEP_START" and event.step_key in self.steps:
            self._step(event.step_key)
        elif event is None and str(meta.get("orig_message", "")).startswith(PROGRESS_MARK):
            self._phase(str(meta.get("step_key")), meta["orig_message"][len(PROGRESS_MARK) :])
        elif event is not None and event.event_type_value in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE") and self.bar:
            self.bar.close()

    def _step(self, step: str) -> None:
        if self.bar is None:
            print(f"{PROGRESS_PREFIX}{step} ({time.monotonic() - self.started:.0f} s)", file=self.stream, flush=True)
            return
        self.bar.set_description_str(step)
        self.bar.set_postfix_str("")
        self.bar.update(1)

    def _phase(self, step: str, text: str) -> None:
        if self.bar is None:
            print(f"{PHASE_PREFIX}{step}: {text}", file=self.stream, flush=True)
        else:
            self.bar.set_postfix_str(text)


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
