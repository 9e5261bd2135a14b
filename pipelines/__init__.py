"""Dagster definitions: thin assets and checks over ingestion, linkage and publication."""
