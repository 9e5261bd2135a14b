"""The analyst report: built from published figures only, and rendered in a real headless browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import link_synth

from core.config import PROFILES, DisclosureRules, UncertaintyThresholds
from publication.allocation import allocate
from publication.cells import aggregate_cells
from publication.report import ReportInputs, analyst_report, changes_since, sector_shares
from publication.statistics import sector_statistics
from publication.uncertainty import cell_uncertainty, connection_contributions, threshold_allocations


@pytest.fixture(scope="module")
def built() -> tuple[ReportInputs, pl.DataFrame]:
    """The report's inputs, and the cells before disclosure control (what must not leak)."""
    linked = link_synth(50_000, seed=12)  # two gemeenten
    data, bag, connections, result = linked.data, linked.bag, linked.connections, linked.result
    profile = PROFILES["statistical"]
    allocation = allocate(data.consumption, result.links, result.residue, connections, bag)
    cells = aggregate_cells(allocation)
    statistics = sector_statistics(cells, DisclosureRules())
    contributions = connection_contributions(
        allocation,
        *threshold_allocations(
            data.consumption,
            result.links,
            result.residue,
            result.unresolved_candidates,
            connections,
            bag,
            UncertaintyThresholds(),
        ),
        objects_cap=DisclosureRules().min_dwellings,
    )
    # the previous run: one published gemeente cell 10 % lower
    first = statistics.filter((pl.col("region_level") == "gemeente") & ~pl.col("suppressed")).head(1)
    previous = (
        statistics.join(
            first.select("region_code", "sector", "product", marked=pl.lit(True)),
            on=["region_code", "sector", "product"],
            how="left",
        )
        .with_columns(
            volume=pl.when(pl.col("marked") & (pl.col("region_level") == "gemeente"))
            .then(pl.col("volume") * 0.9)
            .otherwise(pl.col("volume"))
        )
        .drop("marked")
    )
    report = ReportInputs(
        statistics=statistics,
        uncertainty=cell_uncertainty(cells, statistics, contributions, DisclosureRules()),
        curve=result.curve,
        profile_threshold=profile.min_match_probability,
        previous=previous,
    )
    return report, cells


@pytest.fixture(scope="module")
def inputs(built: tuple[ReportInputs, pl.DataFrame]) -> ReportInputs:
    return built[0]


def test_sector_shares_add_up_to_the_published_total(inputs: ReportInputs) -> None:
    shares = sector_shares(inputs.statistics, "ELK")
    assert shares.height > 0
    sums = shares.group_by("year", "region_code").agg(pl.col("share").sum())
    assert (sums["share"] - 1.0).abs().max() < 1e-9


def test_changes_name_the_cell_that_moved(inputs: ReportInputs) -> None:
    changes = changes_since(inputs.previous, inputs.statistics)
    assert changes is not None
    moved = changes.filter(pl.col("change") == "volume changed")
    assert moved.height == 1 and moved["relative"].item() == pytest.approx(1 / 0.9 - 1)
    assert changes_since(None, inputs.statistics) is None


def test_changes_leave_out_cells_no_longer_published(inputs: ReportInputs) -> None:
    keys = ["year", "region_level", "region_code", "sector", "product"]
    hidden = inputs.statistics.filter(pl.col("suppressed")).head(3).select(keys)
    assert hidden.height == 3
    # the previous run published them, with some volume
    previous = (
        inputs.statistics.join(hidden.with_columns(was=pl.lit(True)), on=keys, how="left")
        .with_columns(
            suppressed=pl.col("suppressed") & pl.col("was").is_null(),
            volume=pl.when(pl.col("was")).then(pl.lit(12_345.0)).otherwise(pl.col("volume")),
        )
        .drop("was")
    )
    changes = changes_since(previous, inputs.statistics)
    assert changes is not None and changes.join(hidden, on=keys).height == 0
    assert changes.height == 0  # nothing else changed
    before_all_hidden = inputs.statistics.with_columns(suppressed=pl.lit(True), volume=pl.lit(None, pl.Float64))
    assert changes_since(before_all_hidden, inputs.statistics)["change"].unique().to_list() == ["now published"]


def _section(page: str, heading: str) -> str:
    return page[page.index(f"<h2>{heading}</h2>") :].split("<h2>")[1]


def test_the_uncertainty_section_prints_only_controlled_figures(inputs: ReportInputs) -> None:
    """Each row prints the figures of the companion table as disclosure control left them:
    the rounded published value, or "withheld" where the table has none."""
    table = inputs.uncertainty
    assert table.filter(pl.col("volume").is_not_null())["volume_probabilistic"].null_count() > 0
    section = _section(analyst_report(inputs), "Where the linkage decides the figure")
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr><td>.*?</tr>", section)]
    assert len(rows) == 10
    for gemeente, sector, product, *figures in rows:
        row = table.filter(
            (pl.col("region_level") == "gemeente")
            & (pl.col("region_code") == gemeente)
            & (pl.col("sector") == sector)
            & (pl.col("product") == product)
        )
        unit = row["unit"].item()
        assert figures == [
            "withheld" if value is None else f"{value:,.0f} {unit}"
            for value in row.select("volume", "volume_probabilistic", "volume_low", "volume_high").row(0)
        ]
    assert any("withheld" in row for row in rows)


def test_the_report_shows_no_suppressed_volume(built: tuple[ReportInputs, pl.DataFrame]) -> None:
    inputs, cells = built
    page = analyst_report(inputs)
    keys = ["year", "region_level", "region_code", "sector", "product"]
    hidden = cells.join(inputs.statistics.filter(pl.col("suppressed")).select(keys), on=keys)
    secrets = {f"{volume:,.0f}" for volume in hidden["volume"] if volume >= 1000}
    assert len(secrets) > 20
    # as a number of its own: "7,177" inside an SVG coordinate pair "578.7,177.1" is no leak
    assert [secret for secret in secrets if re.search(rf"(?<![\d.,]){re.escape(secret)}(?![\d.,])", page)] == []
    assert "<script" not in page and "http" not in page


def test_the_report_renders_in_headless_chromium(inputs: ReportInputs, tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    page = tmp_path / "analyst_report.html"
    page.write_text(analyst_report(inputs), encoding="utf-8")

    driver = browser
    driver.get(page.as_uri())
    assert driver.title == "koppelwerk: energy use per sector"
    headings = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    assert headings == [
        "Sector breakdown per gemeente",
        "Energy outside the BAG",
        "How many connections link, and how good the links are",
        "Where the linkage decides the figure",
        "What changed since the previous run",
    ]
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 4
    for chart in charts:
        size = chart.size
        assert size["width"] > 200 and size["height"] > 40, chart.get_attribute("aria-label")
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.chart rect")
    assert sum(1 for bar in bars if bar.size["width"] > 0) > 10
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart circle")) == inputs.curve.height
    problems = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert problems == []
    assert "1 cells volume changed" in driver.find_element(By.TAG_NAME, "body").text
