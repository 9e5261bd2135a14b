"""The analyst report: one static HTML page in the public folder, charts included, no server.

Built only from what is published (the disclosure-controlled statistics, their uncertainty
figures as disclosure control left them, the linkage curve) and the previous run's published
statistics, so the report can be shared as freely as the tables themselves: every volume it
prints is a published figure, and so is every difference of two in a table row (except a
cell's change since the previous run: differencing across runs is not controlled yet). A volume is
printed with its unit, so that a reader (and `tests/leak_scan.py`) can tell it from a count.
Charts are inline SVG: no scripts, no external assets.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import polars as pl

from core.products import UNIT_OF_PRODUCT
from data_contracts import load_contract
from publication.allocation import NOT_IN_REGISTER
from publication.cells import NATIONAL, TOTAL_SECTOR


def residue_sectors() -> tuple[str, ...]:
    """The sectors of connections without a BAG object: the residue classes, and not in the register."""
    return (*load_contract("residue").column("residue_class").enum, NOT_IN_REGISTER)


WITHHELD = "withheld (disclosure control)"
PALETTE = [
    "#1b6ca8",
    "#e07b39",
    "#3a9d5d",
    "#c0392b",
    "#8e6bb8",
    "#8c564b",
    "#d673b4",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#2c3e50",
    "#f1c40f",
]
WITHHELD_COLOUR = "#d9d9d9"
OTHER_SECTORS = "other sectors"
MAX_SECTORS = 8


@dataclass(frozen=True)
class ReportInputs:
    """What the report shows. `previous` is the previous run's published statistics, if any."""

    statistics: pl.DataFrame
    uncertainty: pl.DataFrame
    curve: pl.DataFrame
    profile_threshold: float
    previous: pl.DataFrame | None = None


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _fmt(volume: float | None, unit: str) -> str:
    return "–" if volume is None else f"{volume:,.0f} {unit}"


def _withheld(volume: float | None, unit: str) -> str:
    """An uncertainty figure, or why there is none."""
    return "withheld" if volume is None else _fmt(volume, unit)


def _published(statistics: pl.DataFrame) -> pl.DataFrame:
    return statistics.filter(~pl.col("suppressed"))


def _table(header: list[str], rows: list[list[object]], caption: str = "") -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _legend(entries: list[tuple[str, str]]) -> str:
    items = "".join(
        f"<span class='key'><span class='swatch' style='background:{colour}'></span>{_esc(label)}</span>"
        for label, colour in entries
    )
    return f"<div class='legend'>{items}</div>"


def sector_shares(statistics: pl.DataFrame, product: str, level: str = "gemeente") -> pl.DataFrame:
    """Per region of `level`: each published sector's share of the region's published total,
    the largest sectors by name and the rest together, and the share disclosure control
    withholds (the total minus the published sectors). Regions whose total is suppressed are
    left out: their shares cannot be shown."""
    cells = statistics.filter((pl.col("region_level") == level) & (pl.col("product") == product))
    totals = _published(cells.filter(pl.col("sector") == TOTAL_SECTOR)).select("year", "region_code", total="volume")
    sectors = _published(cells.filter(pl.col("sector") != TOTAL_SECTOR))
    leading = (
        sectors.group_by("sector")
        .agg(pl.col("volume").sum())
        .sort("volume", descending=True)
        .head(MAX_SECTORS)["sector"]
    )
    named = (
        sectors.with_columns(
            sector=pl.when(pl.col("sector").is_in(leading.implode()))
            .then(pl.col("sector"))
            .otherwise(pl.lit(OTHER_SECTORS))
        )
        .group_by("year", "region_code", "sector")
        .agg(pl.col("volume").sum())
    )
    withheld = totals.join(
        named.group_by("year", "region_code").agg(shown=pl.col("volume").sum()), on=["year", "region_code"], how="left"
    ).select("year", "region_code", sector=pl.lit(WITHHELD), volume=pl.col("total") - pl.col("shown").fill_null(0.0))
    return (
        pl.concat([named, withheld])
        .join(totals, on=["year", "region_code"])
        .with_columns(share=pl.col("volume") / pl.col("total"))
        .filter(pl.col("share") > 1e-9)
        .sort("year", "region_code", "sector")
    )


def _stacked_bars(shares: pl.DataFrame, colours: dict[str, str], title: str) -> str:
    regions = shares.select("year", "region_code").unique().sort("year", "region_code").rows()
    width, bar, gap, label_width = 720, 22, 8, 150
    height = len(regions) * (bar + gap) + 30
    parts = [
        f"<svg class='chart' role='img' aria-label='{_esc(title)}' width='{width + label_width}' height='{height}' "
        f"viewBox='0 0 {width + label_width} {height}'>",
        f"<title>{_esc(title)}</title>",
    ]
    for i, (year, region) in enumerate(regions):
        y = i * (bar + gap) + 10
        parts.append(f"<text x='{label_width - 6}' y='{y + bar * 0.7}' text-anchor='end'>{_esc(region)} {year}</text>")
        x = float(label_width)
        rows = shares.filter((pl.col("year") == year) & (pl.col("region_code") == region)).sort("sector")
        for sector, share in rows.select("sector", "share").rows():
            w = share * width
            parts.append(
                f"<rect x='{x:.1f}' y='{y}' width='{w:.1f}' height='{bar}' fill='{colours[sector]}'>"
                f"<title>{_esc(sector)}: {100 * share:.1f} %</title></rect>"
            )
            x += w
    parts.append("</svg>")
    return "".join(parts)


def _sector_section(statistics: pl.DataFrame) -> str:
    out = [
        "<h2>Sector breakdown per gemeente</h2>",
        "<p>Share of each gemeente's energy use per sector (BAG gebruiksdoel, ligplaats, standplaats, or the "
        "class of connections without an object). Grey is what disclosure control withholds.</p>",
    ]
    for product, unit in UNIT_OF_PRODUCT.items():
        shares = sector_shares(statistics, product)
        if shares.height == 0:
            continue
        sectors = sorted(set(shares["sector"]) - {WITHHELD})
        colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(sectors)} | {WITHHELD: WITHHELD_COLOUR}
        out.append(f"<h3>{'Electricity' if product == 'ELK' else 'Gas'} ({unit})</h3>")
        out.append(_stacked_bars(shares, colours, f"sector shares per gemeente, {product}"))
        out.append(_legend([(s, colours[s]) for s in [*sectors, WITHHELD]]))
    return "".join(out)


def _residue_section(statistics: pl.DataFrame) -> str:
    national = _published(statistics.filter(pl.col("region_level") == NATIONAL))
    totals = dict(national.filter(pl.col("sector") == TOTAL_SECTOR).select("product", "volume").rows())
    residue = (
        national.filter(pl.col("sector").is_in(residue_sectors()))
        .with_columns(share=pl.col("volume") / pl.col("product").replace_strict(totals, default=None))
        .sort("product", "share", descending=[False, True])
    )
    rows = [
        [p, s, _fmt(v, u), "–" if sh is None else f"{100 * sh:.2f} %"]
        for p, s, u, v, sh in residue.select("product", "sector", "unit", "volume", "share").rows()
    ]
    residue = residue.drop_nulls("share")
    share_by_product = residue.group_by("product").agg(pl.col("share").sum()).sort("product")
    bars = []
    width = 560
    top = max(residue["share"].max() or 0.0, 1e-9)
    elk = residue.filter(pl.col("product") == "ELK")
    for i, (sector, share) in enumerate(elk.select("sector", "share").rows()):
        w = share / top * width
        y = i * 26 + 6
        bars.append(
            f"<text x='150' y='{y + 15}' text-anchor='end'>{_esc(sector)}</text>"
            f"<rect x='156' y='{y}' width='{w:.1f}' height='20' fill='{PALETTE[0]}'><title>{100 * share:.2f} %</title></rect>"
            f"<text x='{160 + w:.1f}' y='{y + 15}'>{100 * share:.2f} %</text>"
        )
    chart = (
        (
            f"<svg class='chart' role='img' aria-label='residue share of electricity' width='{width + 240}' "
            f"height='{len(bars) * 26 + 12}'><title>residue share of electricity</title>{''.join(bars)}</svg>"
        )
        if bars
        else ""
    )
    summary = ", ".join(
        f"{100 * share:.2f} % of {'electricity' if p == 'ELK' else 'gas'}" for p, share in share_by_product.rows()
    )
    return (
        "<h2>Energy outside the BAG</h2>"
        f"<p>Connections without a BAG object (street furniture, construction, addresses BAG lacks, inactive and "
        f"unresolved connections) use {summary or 'nothing published'} nationally.</p>"
        + chart
        + _table(["product", "class", "volume", "share of total"], rows)
    )


def _curve_section(curve: pl.DataFrame, threshold: float) -> str:
    width, height, pad = 640, 300, 48
    xs = curve["link_rate"].to_list()
    ys = [p if p is not None else 0.0 for p in curve["estimated_precision"].to_list()]
    x_min, x_max = min(xs) - 0.002, max(xs) + 0.002
    y_min, y_max = min(ys) - 0.0005, max(max(ys) + 0.0005, min(ys) + 0.001)

    def sx(v: float) -> float:
        return pad + (v - x_min) / (x_max - x_min) * (width - 2 * pad)

    def sy(v: float) -> float:
        return height - pad - (v - y_min) / (y_max - y_min) * (height - 2 * pad)

    points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys, strict=True))
    dots = "".join(
        f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='{6 if abs(t - threshold) < 1e-9 else 4}' "
        f"fill='{PALETTE[1] if abs(t - threshold) < 1e-9 else PALETTE[0]}'><title>threshold {t}: link rate "
        f"{100 * x:.2f} %, estimated precision {100 * y:.2f} %</title></circle>"
        for t, x, y in zip(curve["threshold"].to_list(), xs, ys, strict=True)
    )
    axes = (
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' stroke='#333'/>"
        f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='#333'/>"
        f"<text x='{width / 2}' y='{height - 10}' text-anchor='middle'>link rate (connections in operation)</text>"
        f"<text x='14' y='{height / 2}' transform='rotate(-90 14 {height / 2})' text-anchor='middle'>estimated precision</text>"
        f"<text x='{pad}' y='{height - pad + 16}'>{100 * x_min:.1f} %</text>"
        f"<text x='{width - pad}' y='{height - pad + 16}' text-anchor='end'>{100 * x_max:.1f} %</text>"
        f"<text x='{pad - 4}' y='{pad}' text-anchor='end'>{100 * y_max:.2f} %</text>"
        f"<text x='{pad - 4}' y='{height - pad}' text-anchor='end'>{100 * y_min:.2f} %</text>"
    )
    svg = (
        f"<svg class='chart' role='img' aria-label='link rate against estimated precision' width='{width}' "
        f"height='{height}'><title>link rate against estimated precision</title>{axes}"
        f"<polyline points='{points}' fill='none' stroke='{PALETTE[0]}' stroke-width='2'/>{dots}</svg>"
    )
    rows = [
        [t, f"{100 * r:.2f} %", "–" if p is None else f"{100 * p:.3f} %", f"{n:,}"]
        for t, n, r, p in curve.select("threshold", "n_linked", "link_rate", "estimated_precision").rows()
    ]
    return (
        "<h2>How many connections link, and how good the links are</h2>"
        f"<p>Each point is a match-probability threshold; the run used {threshold} (orange). A stricter threshold "
        "links fewer connections with more certainty.</p>"
        + svg
        + _table(["threshold", "link rate", "estimated precision", "connections linked"], rows)
    )


def _uncertainty_section(uncertainty: pl.DataFrame) -> str:
    """The published gemeente cells whose published range is widest against their volume, and
    how many cells have their uncertainty figures published at all."""
    shown = uncertainty.filter(pl.col("volume").is_not_null())
    gemeente = shown.filter(
        (pl.col("region_level") == "gemeente") & (pl.col("sector") != TOTAL_SECTOR) & (pl.col("volume") > 0)
    )
    widest = (
        gemeente.with_columns(
            spread=(pl.coalesce("volume_high", "volume") - pl.coalesce("volume_low", "volume")) / pl.col("volume")
        )
        .sort("spread", "region_code", "sector", "product", descending=[True, False, False, False])
        .head(10)
    )
    rows = [
        [r, s, p, _fmt(v, u), _withheld(vp, u), _withheld(lo, u), _withheld(hi, u)]
        for r, s, p, u, v, vp, lo, hi in widest.select(
            "region_code", "sector", "product", "unit", "volume", "volume_probabilistic", "volume_low", "volume_high"
        ).rows()
    ]
    n_probabilistic = shown["volume_probabilistic"].is_not_null().sum()
    n_range = (shown["volume_low"].is_not_null() & shown["volume_high"].is_not_null()).sum()
    return (
        "<h2>Where the linkage decides the figure</h2>"
        "<p>Published gemeente cells whose volume moves most between a stricter and a looser linkage threshold "
        "(full table: <code>sector_energy_uncertainty.parquet</code>). A figure is withheld where it, or its "
        "difference with another figure of the row, would come from too few connections.</p>"
        f"<p>Of {shown.height:,} published cells, {n_probabilistic:,} have their probabilistic part published "
        f"and {n_range:,} their whole range.</p>"
        + _table(["gemeente", "sector", "product", "volume", "of which probabilistic", "low", "high"], rows)
    )


def changes_since(previous: pl.DataFrame | None, statistics: pl.DataFrame) -> pl.DataFrame | None:
    """Cells published now whose volume changed, that are new or were suppressed before; None
    for a first run. A cell no longer published is left out: the page shows published cells."""
    if previous is None:
        return None
    keys = ["year", "region_level", "region_code", "sector", "product"]
    joined = (
        _published(statistics)
        .select(*keys, "unit", "volume")
        .join(previous.select(*keys, "volume", "suppressed"), on=keys, how="left", suffix="_before")
    )
    return joined.with_columns(
        change=pl.when(pl.col("suppressed").is_null())
        .then(pl.lit("new"))
        .when(pl.col("suppressed"))
        .then(pl.lit("now published"))
        .when((pl.col("volume") - pl.col("volume_before")).abs() > 1e-6 * pl.col("volume_before").abs().clip(1.0))
        .then(pl.lit("volume changed")),
        relative=(pl.col("volume") - pl.col("volume_before")) / pl.col("volume_before").abs(),
    ).filter(pl.col("change").is_not_null())


def _changes_section(previous: pl.DataFrame | None, statistics: pl.DataFrame) -> str:
    changes = changes_since(previous, statistics)
    if changes is None:
        return "<h2>What changed since the previous run</h2><p>This is the first run in this output folder.</p>"
    counts = changes.group_by("change").len().sort("change").rows()
    national = changes.filter((pl.col("region_level") == NATIONAL) & (pl.col("sector") == TOTAL_SECTOR))
    largest = (
        changes.filter(pl.col("change") == "volume changed").sort(pl.col("relative").abs(), descending=True).head(10)
    )
    rows = [
        [lvl, r, s, p, _fmt(b, u), _fmt(v, u), f"{100 * rel:+.2f} %"]
        for lvl, r, s, p, u, b, v, rel in largest.select(
            "region_level", "region_code", "sector", "product", "unit", "volume_before", "volume", "relative"
        ).rows()
    ]
    summary = ", ".join(f"{n:,} cells {change}" for change, n in counts) or "no published figure changed"
    totals = "".join(
        f"<li>{_esc(p)} national total: {_fmt(b, u)} → {_fmt(v, u)}</li>"
        for p, u, b, v in national.select("product", "unit", "volume_before", "volume").rows()
    )
    return (
        "<h2>What changed since the previous run</h2>"
        f"<p>{_esc(summary)}.</p>"
        + (f"<ul>{totals}</ul>" if totals else "")
        + (
            _table(
                ["level", "region", "sector", "product", "before", "now", "change"],
                rows,
                "largest relative changes of published cells",
            )
            if rows
            else ""
        )
    )


def _headline(statistics: pl.DataFrame) -> str:
    national = statistics.filter((pl.col("region_level") == NATIONAL) & (pl.col("sector") == TOTAL_SECTOR)).sort(
        "year", "product"
    )
    rows = [
        [y, p, u, _fmt(v, u), f"{n:,}", f"{o:,}"]
        for y, p, u, v, n, o in national.select(
            "year", "product", "unit", "volume", "n_connections", "n_objects"
        ).rows()
    ]
    suppressed = float(statistics["suppressed"].cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]
    return (
        _table(["year", "product", "unit", "total volume", "connections", "BAG objects"], rows, "national totals")
        + f"<p>{statistics.height:,} cells at the levels nationaal, gemeente, woonplaats and postcode4; "
        f"{100 * suppressed:.0f} % are suppressed by disclosure control (no volume published).</p>"
    )


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}"
    "caption{text-align:left;font-weight:bold}svg.chart{display:block;margin:1em 0;font-size:12px}"
    ".legend{display:flex;flex-wrap:wrap;gap:12px;font-size:12px}.swatch{display:inline-block;width:12px;height:12px;"
    "margin-right:4px;vertical-align:middle}"
)


def analyst_report(inputs: ReportInputs) -> str:
    """The whole page."""
    sections = [
        _headline(inputs.statistics),
        _sector_section(inputs.statistics),
        _residue_section(inputs.statistics),
        _curve_section(inputs.curve, inputs.profile_threshold),
        _uncertainty_section(inputs.uncertainty),
        _changes_section(inputs.previous, inputs.statistics),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>koppelwerk: energy use per sector</title>"
        f"<style>{STYLE}</style></head><body><h1>Energy use per sector</h1>"
        "<p>Aggregated from grid connections linked to BAG objects; every figure has passed disclosure control.</p>"
        + "".join(sections)
        + "</body></html>"
    )
