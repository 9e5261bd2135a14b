"""When the job runs by itself: weekly, off until an operator switches it on in the UI."""

import dagster as dg

from pipelines.jobs import koppelwerk_job

weekly_linkage = dg.ScheduleDefinition(
    name="weekly_linkage",
    job=koppelwerk_job,
    cron_schedule="0 6 * * 1",
    execution_timezone="Europe/Amsterdam",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Monday 06:00: re-link the deliveries configured in the settings resource.",
)
