"""The Dagster code location: every asset, check, resource and job of koppelwerk.

`build_definitions` takes a run configuration so that `koppelwerk run` and the UI execute the
same assets and checks; `defs` (the UI's code location) runs the bundled sample by default.
"""

from __future__ import annotations

import dagster as dg

from core.config import RunConfig
from pipelines.ingestion import assets as ingestion_assets
from pipelines.jobs import koppelwerk_job
from pipelines.linkage import assets as linkage_assets
from pipelines.linkage import checks as linkage_checks
from pipelines.loggers import LOGGERS
from pipelines.publication import assets as publication_assets
from pipelines.publication import checks as publication_checks
from pipelines.quality import assets as quality_assets
from pipelines.quality import checks as quality_checks
from pipelines.resources import KoppelwerkSettings, WarehouseIOManager
from pipelines.schedules import weekly_linkage


def build_definitions(config: RunConfig | None = None) -> dg.Definitions:
    """Every definition, its settings from `config` (the CLI) or the launchpad's defaults (the sample)."""
    settings = KoppelwerkSettings.from_config(config) if config else KoppelwerkSettings()
    return dg.Definitions(
        assets=dg.load_assets_from_modules([ingestion_assets, linkage_assets, publication_assets, quality_assets]),
        asset_checks=dg.load_asset_checks_from_modules([linkage_checks, publication_checks, quality_checks]),
        jobs=[koppelwerk_job],
        schedules=[weekly_linkage],
        resources={"settings": settings, "io_manager": WarehouseIOManager(settings=settings)},
        loggers=LOGGERS,
        executor=dg.in_process_executor,
    )


defs = build_definitions()
