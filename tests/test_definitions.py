"""Every Dagster definition loads, and the job covers the whole flow."""

import dagster as dg

from pipelines.definitions import defs
from pipelines.jobs import JOB_NAME


def test_definitions_load_and_validate() -> None:
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def(JOB_NAME)
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    expected = {
        "bag",
        "connections",
        "consumption",
        "quarantine",
        "normalised_bag",
        "normalised_connections",
        "links",
        "residue",
        "linkage_curve",
        "complexes",
        "allocation",
        "sector_energy_statistics",
        "published_outputs",
    }
    assert expected <= keys
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {"every_connection_accounted_for", "no_small_cells_published", "allocation_conserves_volume"} <= checks
    assert defs.resolve_schedule_def("weekly_linkage").job_name == JOB_NAME
