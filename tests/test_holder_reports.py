"""Source-holder reports: each holder sees its own records only, and the figures are its own."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import synth
from ingestion.validate import validate_delivery
from koppelwerk.config import PROFILES
from linkage import link, normalise_bag, normalise_connections
from quality.demands import with_demands
from quality.fix_impact import fix_impact, run_corrections
from quality.holder_reports import build_reports, holder_compliance, read_previous, report_html, write_reports


@pytest.fixture(scope="module")
def delivery() -> dict[str, Any]:
    """Two gemeenten and three netbeheerders, through the real ingestion."""
    data = synth.generate(50_000, seed=21)
    ingested = {kind: validate_delivery(kind, getattr(data, kind), Path(f"{kind}.parquet"))
                for kind in ("bag", "connections", "consumption")}
    frames = {kind: result.frame for kind, result in ingested.items()}
    results = {kind: with_demands(kind, result.rule_results, result.quarantine, frames["bag"], frames["connections"],
                                  frames["consumption"]) for kind, result in ingested.items()}
    linked = link(normalise_bag(frames["bag"]), normalise_connections(frames["connections"]), PROFILES["statistical"])
    compliance = pl.concat([holder_compliance(kind, frame) for kind, frame in results.items()])
    corrections = run_corrections(linked.links, linked.residue, linked.unresolved_candidates)
    impact = fix_impact(frames["connections"], frames["bag"], linked.links, corrections, PROFILES["statistical"])
    deliveries = pl.DataFrame({"source": ["bag", "connections", "consumption"], "path": ["b", "c", "v"],
                               "dropped_columns": [[], ["klantnaam"], []]})
    return {"frames": frames, "results": results, "compliance": compliance, "impact": impact,
            "reports": build_reports(compliance, impact, deliveries, "statistical"), "deliveries": deliveries}


def test_one_report_per_holder(delivery: dict[str, Any]) -> None:
    frames = delivery["frames"]
    by_type = {(r.holder_type, r.holder) for r in delivery["reports"]}
    assert {h for t, h in by_type if t == "netbeheerder"} == set(frames["connections"]["netbeheerder"].unique())
    assert {h for t, h in by_type if t == "gemeente"} == set(frames["bag"]["gemeente_code"].unique())
    assert len({h for t, h in by_type if t == "netbeheerder"}) >= 2 and len({h for t, h in by_type if t == "gemeente"}) >= 2


def test_each_report_leaks_nothing_about_other_holders(delivery: dict[str, Any]) -> None:
    frames = delivery["frames"]
    owner = {
        **dict(frames["connections"].select("ean", "netbeheerder").rows()),
        **dict(frames["bag"].select(pl.concat_str("object_id", "nummeraanduiding_id", separator="/"), "gemeente_code").rows()),
    }
    holders = {r.holder for r in delivery["reports"]}
    for report in delivery["reports"]:
        page = report_html(report) + json.dumps(report.document)
        others = holders - {report.holder}
        assert not [h for h in others if h in page], report.holder
        for demand in report.document["demands"]:
            assert all(owner.get(example, report.holder) == report.holder for example in demand["examples"])
        # every EAN in the page is the holder's own
        for found in set(re.findall(r"\b871\d{15}\b", page)):
            assert owner[found] == report.holder, (report.holder, found)


def test_compliance_is_the_holders_own_share(delivery: dict[str, Any]) -> None:
    connections = delivery["frames"]["connections"]
    report = next(r for r in delivery["reports"] if r.holder_type == "netbeheerder")
    own = connections.filter(pl.col("netbeheerder") == report.holder)
    filled = next(d for d in report.document["demands"] if d["rule"] == "bag_id_filled")
    assert filled["n_failed"] == own["bag_id"].null_count()
    assert filled["compliance"] == pytest.approx(1 - own["bag_id"].null_count() / filled["n_rows"])
    assert filled["meets"] is (filled["compliance"] >= filled["threshold"])
    assert report.document["columns_sent_but_not_needed"][0]["columns"] == ["klantnaam"]


def test_fixing_missing_ids_moves_links_to_the_deterministic_passes(delivery: dict[str, Any]) -> None:
    impact = delivery["impact"].filter(pl.col("defect") == "bag_id_filled")
    assert impact.height >= 2
    assert (impact["n_correctable"] <= impact["n_affected"]).all()
    assert impact["n_now_deterministic"].sum() > 0
    assert (impact["mean_probability_gain"] >= 0).all()


def test_fixing_a_defect_on_an_unresolved_connection_can_link_it(delivery: dict[str, Any]) -> None:
    """Corrected from the model's best candidate, some connections the run left unresolved link."""
    impact = delivery["impact"]
    assert impact["n_newly_linked"].sum() > 0
    assert (impact["n_newly_linked"] <= impact["n_correctable"]).all()


def test_the_trend_compares_with_the_previous_run(delivery: dict[str, Any], tmp_path: Path) -> None:
    write_reports(delivery["reports"], tmp_path)
    previous = read_previous(tmp_path)
    worse = delivery["compliance"].with_columns(
        n_failed=pl.when(pl.col("rule") == "bag_id_filled").then(pl.col("n_rows")).otherwise(pl.col("n_failed")),
        compliance=pl.when(pl.col("rule") == "bag_id_filled").then(0.0).otherwise(pl.col("compliance")),
    )
    again = build_reports(worse, delivery["impact"], delivery["deliveries"], "statistical", previous)
    demand = next(d for r in again if r.holder_type == "netbeheerder" for d in r.document["demands"] if d["rule"] == "bag_id_filled")
    assert demand["trend"] == pytest.approx(-demand["previous_compliance"])
    first = next(d for r in delivery["reports"] for d in r.document["demands"])
    assert first["trend"] is None


def test_a_holder_report_renders_in_headless_chromium(delivery: dict[str, Any], tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    index = write_reports(delivery["reports"], tmp_path)
    page = Path(index.filter(pl.col("holder_type") == "netbeheerder")["html"][0])
    browser.get(page.as_uri())
    assert browser.title.startswith("koppelwerk quality report: ")
    tables = browser.find_elements(By.TAG_NAME, "table")
    assert len(tables) == 2 and all(t.size["height"] > 50 for t in tables)
    rows = browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
    assert len(rows) > 20
    assert "shows only your own records" in browser.find_element(By.TAG_NAME, "body").text
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
