"""Reads deliveries (Parquet, CSV, LVBAG XML), validates them against the contracts, quarantines bad rows."""

from __future__ import annotations

from data_contracts import validate_output
from ingestion.tabular import DeliveryKind, read_delivery
from ingestion.validate import IngestResult

__all__ = ["DeliveryKind", "IngestResult", "read_delivery", "validate_output"]
