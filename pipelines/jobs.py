"""The one job: every asset from raw deliveries to published outputs, with all checks."""

import dagster as dg

JOB_NAME = "koppelwerk_job"

koppelwerk_job = dg.define_asset_job(
    JOB_NAME, selection=dg.AssetSelection.all(), description="From raw deliveries to published outputs."
)
