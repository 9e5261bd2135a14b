"""The Dagster code location: every asset, check, resource and job of koppelwerk.

`build_definitions` takes a run configuration so that `koppelwerk run` and the UI execute the
same assets and checks; `defs` (the UI's code location) runs the bundled sample by default.
`isolated_job` is the same job with every step in a process of its own, for large deliveries.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableJob

from core.config import RunConfig
from pipelines.ingestion import assets as ingestion_assets
from pipelines.jobs import JOB_NAME, koppelwerk_job
from pipelines.linkage import assets as linkage_assets
from pipelines.linkage import checks as linkage_checks
from pipelines.loggers import LOGGERS
from pipelines.publication import assets as publication_assets
from pipelines.publication import checks as publication_checks
from pipelines.quality import assets as quality_assets
from pipelines.quality import checks as quality_checks
from pipelines.resources import KoppelwerkSettings, WarehouseIOManager
from pipelines.schedules import weekly_linkage


def build_definitions(
    config: RunConfig | None = None, executor: dg.ExecutorDefinition = dg.in_process_executor
) -> dg.Definitions:
    """Every definition, its settings from `config` (the CLI) or the launchpad's defaults (the sample)."""
    settings = KoppelwerkSettings.from_config(config) if config else KoppelwerkSettings()
    return dg.Definitions(
        assets=dg.load_assets_from_modules([ingestion_assets, linkage_assets, publication_assets, quality_assets]),
        asset_checks=dg.load_asset_checks_from_modules([linkage_checks, publication_checks, quality_checks]),
        jobs=[koppelwerk_job],
        schedules=[weekly_linkage],
        resources={"settings": settings, "io_manager": WarehouseIOManager(settings=settings)},
        loggers=LOGGERS,
        executor=executor,
    )


# One step at a time, each in a fresh process forked from a server that has imported this module
# (and with it polars, DuckDB, Splink and GX) and the local instance's SQLite storage once:
# without them every step's process spent 3 s importing before its step began.
_STEP_PROCESS_IMPORTS = [
    __name__,
    "dagster._core.storage.runs.sqlite",
    "dagster._core.storage.event_log.sqlite",
    "dagster._core.storage.schedules.sqlite",
]
ISOLATED_STEPS = dg.multiprocess_executor.configured(
    {"max_concurrent": 1, "start_method": {"forkserver": {"preload_modules": _STEP_PROCESS_IMPORTS}}},
    name="isolated_steps",
)


def isolated_job(**settings: Any) -> dg.JobDefinition:
    """The job with `settings` (the fields of `KoppelwerkSettings`), every step in a process of its
    own. Each step's process rebuilds the job from this function and these plain values
    (`reconstructable_job`)."""
    config = KoppelwerkSettings(**settings).run_config()
    return build_definitions(config, executor=ISOLATED_STEPS).resolve_job_def(JOB_NAME)


def reconstructable_job(config: RunConfig) -> ReconstructableJob:
    """`isolated_job` of `config`, as a pointer a step's process can rebuild it from."""
    settings = KoppelwerkSettings.from_config(config)
    values = {name: getattr(settings, name) for name in KoppelwerkSettings.model_fields}
    return dg.build_reconstructable_job(__name__, isolated_job.__name__, reconstructable_kwargs=values)


defs = build_definitions()
