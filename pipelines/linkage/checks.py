"""Checks beside the linkage assets: nothing lost, nothing counted twice."""

import dagster as dg
import polars as pl

import linkage
from pipelines.resources import columns


@dg.asset_check(
    asset="residue",
    blocking=True,
    additional_ins={"links": dg.AssetIn("links"), "connections": dg.AssetIn("connections", metadata=columns("ean"))},
    description="Every valid connection is in exactly one of links (shares summing to 1) and residue.",
)
def every_connection_accounted_for(
    residue: pl.DataFrame, links: pl.DataFrame, connections: pl.DataFrame
) -> dg.AssetCheckResult:
    violations = linkage.conservation_violations(connections, links, residue)
    return dg.AssetCheckResult(
        passed=violations.height == 0,
        metadata={"violations": violations.height, "examples": ", ".join(violations["ean"].head(5).to_list())},
    )
