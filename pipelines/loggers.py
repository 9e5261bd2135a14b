"""Loggers for runs started from the command line: every event to the run's log file, and on
stderr one short line per step and per phase of a long step (a progress bar on a terminal).
(Runs launched from the UI keep Dagster's console logger; the UI shows their events.)

A run whose steps are isolated (`pipelines.definitions.isolated_job`) builds these loggers in
the orchestrating process and again in every step's process: the first reports the steps as it
launches them, the others the phases of their step."""

from __future__ import annotations

import logging
import multiprocessing
import sys
import time
from pathlib import Path
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


def python_logging_to(path: Path) -> logging.Handler:
    """Send Python's logging and warnings (Splink, GX, DuckDB, ...) to the run's log file:
    the terminal gets progress, warnings about the delivery and one line on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("koppelwerk").setLevel(logging.INFO)
    logging.captureWarnings(True)
    return handler


def _in_step_process() -> bool:
    """Whether this is the process of one isolated step (started by the orchestrating one)."""
    return multiprocessing.parent_process() is not None


# A step begins: in the orchestrating process of an isolated run it is launched (its STEP_START
# happens in its own process), in a run in one process it starts.
_STEP_BEGINS = frozenset({"STEP_WORKER_STARTING", "STEP_START"})


class _StepProgress(logging.Handler):
    """On stderr: `koppelwerk: step <name> (<elapsed> s)` when one of `steps` starts, and
    `koppelwerk:   <name>: <phase>` for each progress message of a long step
    (`pipelines.progress`). On a terminal the same as one progress bar over the steps, the
    phase beside it; in a step's own process (`phases_only`) only the phases, as lines.
    Nothing else (tracebacks included) reaches the terminal."""

    def __init__(self, steps: list[str], stream: TextIO | None = None, phases_only: bool = False) -> None:
        super().__init__(logging.DEBUG)
        self.steps = frozenset(steps)
        self.begun: set[str] = set()
        self.phases_only = phases_only
        self.started = time.monotonic()
        self.stream = stream or sys.stderr
        self.bar = (
            tqdm(total=len(steps), file=self.stream, unit="step", dynamic_ncols=True)
            if self.stream.isatty() and not phases_only
            else None
        )

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {})
        event = meta.get("dagster_event")
        if event is not None and event.event_type_value in _STEP_BEGINS and event.step_key in self.steps:
            if not self.phases_only and event.step_key not in self.begun:
                self.begun.add(event.step_key)
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
            # a step's own process clears the line the orchestrating one's bar is drawn on
            clear = "\r\x1b[K" if self.phases_only and self.stream.isatty() else ""
            print(f"{clear}{PHASE_PREFIX}{step}: {text}", file=self.stream, flush=True)
        else:
            self.bar.set_postfix_str(text)


@dg.logger(
    config_schema={"steps": dg.Field([str], description="The steps to report (see `asset_steps`).")},
    description="One progress line per asset step on stderr.",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    # A logger of its own, outside the logging tree: Dagster owns it for the run.
    logger = logging.Logger("koppelwerk.progress", logging.DEBUG)  # noqa: LOG001 (step events are DEBUG)
    logger.addHandler(_StepProgress(init_context.logger_config["steps"], phases_only=_in_step_process()))
    return logger


@dg.logger(
    config_schema={"path": dg.Field(str, description="The run's log file.")},
    description="Every event of the run, errors with their tracebacks, to the run's log file.",
)
def run_log_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    path = Path(init_context.logger_config["path"])
    if _in_step_process():  # the orchestrating process's Python logging stays there
        python_logging_to(path)
    logger = logging.Logger("koppelwerk.run_log", logging.DEBUG)  # noqa: LOG001 (Dagster owns it)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


LOGGERS = {"console": dg.colored_console_logger, "progress": progress_logger, "run_log": run_log_logger}
