"""The run summary: the figures an operator checks after every run, as JSON and a small HTML page."""

from __future__ import annotations

import html
from typing import Any

import polars as pl

from publication.allocation import NOT_IN_REGISTER
from publication.cells import stable_sum
from publication.residue_summary import residue_rollups


def run_summary(
    n_connections_read: int,
    links: pl.DataFrame,
    residue: pl.DataFrame,
    quarantine: pl.DataFrame,
    statistics: pl.DataFrame,
    allocation: pl.DataFrame,
    residue_summary: pl.DataFrame,
) -> dict[str, Any]:
    """Counts that show where every connection went, what fell out and why, and how much of the
    volume was published."""
    linked = links["ean"].n_unique()
    active_residue = residue.filter(pl.col("residue_class") != "inactive").height
    quarantined = quarantine.filter(pl.col("source") == "connections")["row_number"].n_unique()
    totals = allocation.group_by("unit").agg(stable_sum("volume")).sort("unit")
    return {
        "connections_read": n_connections_read,
        "connections_linked": linked,
        "connections_in_residue": residue.height,
        "connections_quarantined": quarantined,
        "link_rate_active": round(linked / max(linked + active_residue, 1), 4),
        "links_by_method": dict(links.group_by("method").len().sort("method").rows()),
        "quarantine_by_rule": dict(quarantine.group_by("rule").len().sort("rule").rows()),
        "consumption_rows_without_connection": allocation.filter(pl.col("sector") == NOT_IN_REGISTER).height,
        "statistics_cells": statistics.height,
        "statistics_cells_suppressed": int(statistics["suppressed"].sum()),
        "total_volume_by_unit": {unit: round(volume, 3) for unit, volume in totals.rows()},
        **residue_rollups(residue_summary),
    }


def _cell(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def summary_html(summary: dict[str, Any]) -> str:
    """A self-contained page: one table per figure group, no scripts, no external assets. A
    group is a mapping (one row per key) or a list of rows (one column per field)."""
    sections = []
    scalars = {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}
    for title, rows in [("Run", scalars), *((k, v) for k, v in summary.items() if isinstance(v, (dict, list)))]:
        if isinstance(rows, dict):
            body = "".join(f"<tr><th>{_cell(k)}</th><td>{_cell(v)}</td></tr>" for k, v in rows.items())
        else:
            fields = list(rows[0]) if rows else []
            body = (
                "<tr>"
                + "".join(f"<th>{_cell(f)}</th>" for f in fields)
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{_cell(row[f])}</td>" for f in fields) + "</tr>" for row in rows)
            )
        sections.append(f"<h2>{html.escape(title.replace('_', ' '))}</h2><table>{body}</table>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>koppelwerk run summary</title>"
        "<style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:2em}</style>"
        f"</head><body><h1>koppelwerk run summary</h1>{''.join(sections)}</body></html>"
    )
