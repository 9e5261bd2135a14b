"""Source-holder reports: each holder sees its own records only, and the figures are its own."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import linkage
import synth
from core.config import PROFILES
from ingestion.validate import validate_delivery
from linkage import Relink, link, normalise_bag, normalise_connections
from quality.demands import with_demands
from quality.fix_impact import _repaired, fix_impact, run_corrections
from quality.holder_reports import build_reports, holder_compliance, read_previous, report_html, write_reports


@pytest.fixture(scope="module")
def delivery() -> dict[str, Any]:
    """Two gemeenten and three netbeheerders, through the real ingestion."""
    data = synth.generate(50_000, seed=21)
    ingested = {
        kind: validate_delivery(kind, getattr(data, kind), Path(f"{kind}.parquet"))
        for kind in ("bag", "connections", "consumption")
    }
    frames = {kind: result.frame for kind, result in ingested.items()}
    results = {
        kind: with_demands(
            kind, result.rule_results, result.quarantine, frames["bag"], frames["connections"], frames["consumption"]
        )
        for kind, result in ingested.items()
    }
    normalised = {"bag": normalise_bag(frames["bag"]), "connections": normalise_connections(frames["connections"])}
    linked = link(normalised["bag"], normalised["connections"], PROFILES["statistical"])
    compliance = pl.concat([holder_compliance(kind, frame) for kind, frame in results.items()])
    corrections = run_corrections(linked.links, linked.residue, linked.unresolved_candidates).collect()
    impact = fix_impact(
        normalised["connections"],
        normalised["bag"],
        linked.links,
        corrections,
        PROFILES["statistical"],
        model=linked.model,
    )
    deliveries = pl.DataFrame(
        {
            "source": ["bag", "connections", "consumption"],
            "path": ["b", "c", "v"],
            "dropped_columns": [[], ["klantnaam"], []],
        }
    )
    return {
        "frames": frames,
        "normalised": normalised,
        "results": results,
        "compliance": compliance,
        "impact": impact,
        "linked": linked,
        "corrections": corrections,
        "reports": build_reports(compliance, impact, deliveries, "statistical"),
        "deliveries": deliveries,
    }


def test_one_report_per_holder(delivery: dict[str, Any]) -> None:
    frames = delivery["frames"]
    by_type = {(r.holder_type, r.holder) for r in delivery["reports"]}
    assert {h for t, h in by_type if t == "netbeheerder"} == set(frames["connections"]["netbeheerder"].unique())
    assert {h for t, h in by_type if t == "gemeente"} == set(frames["bag"]["gemeente_code"].unique())
    assert (
        len({h for t, h in by_type if t == "netbeheerder"}) >= 2
        and len({h for t, h in by_type if t == "gemeente"}) >= 2
    )


def test_each_report_leaks_nothing_about_other_holders(delivery: dict[str, Any]) -> None:
    frames = delivery["frames"]
    owner = {
        **dict(frames["connections"].select("ean", "netbeheerder").rows()),
        **dict(
            frames["bag"]
            .select(pl.concat_str("object_id", "nummeraanduiding_id", separator="/"), "gemeente_code")
            .rows()
        ),
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


def test_the_runs_model_scores_the_corrected_records_as_a_retrained_relink_does(delivery: dict[str, Any]) -> None:
    """The pipeline re-links with the run's model, scoring only the corrected records; training a
    model on the whole corrected register again and scoring all of it gives the same gains: the
    deterministic passes do not depend on the model, and one delivery's corrections move its
    m and u by far less than a decision needs."""
    linked, normalised = delivery["linked"], delivery["normalised"]
    retrained = fix_impact(
        normalised["connections"], normalised["bag"], linked.links, delivery["corrections"], PROFILES["statistical"]
    )
    keys = ["defect", "holder"]
    ours = delivery["impact"].sort(keys)
    assert ours.select(keys, "n_affected", "n_correctable", "n_now_deterministic").equals(
        retrained.sort(keys).select(keys, "n_affected", "n_correctable", "n_now_deterministic")
    )
    newly, newly_retrained = ours["n_newly_linked"].sum(), retrained["n_newly_linked"].sum()
    assert abs(newly - newly_retrained) <= max(1, 0.05 * newly_retrained)
    assert ours["mean_probability_gain"].to_list() == pytest.approx(
        retrained.sort(keys)["mean_probability_gain"].to_list(), abs=0.01
    )


def test_relinking_some_records_links_them_as_linking_the_whole_register_again(delivery: dict[str, Any]) -> None:
    """Fix impact links only the corrected records again (`linkage.Relink`), reading what the
    other connections take part in from the run's links: those records get the links and residue
    a re-link of the whole corrected register with the same model gives them."""
    linked, normalised = delivery["linked"], delivery["normalised"]
    connections, bag = normalised["connections"], normalised["bag"]
    missing = connections.filter(pl.col("bag_id").is_null()).join(delivery["corrections"], on="ean")
    corrected = normalise_connections(missing.with_columns(bag_id=pl.col("object_id")).select(connections.columns))
    repaired = pl.concat([connections.join(corrected.select("ean"), on="ean", how="anti"), corrected])
    assert corrected.height > 100
    whole = link(bag, repaired, PROFILES["statistical"], model=linked.model)
    part = link(bag, repaired, PROFILES["statistical"], relink=Relink(corrected["ean"], linked.model, linked.links))
    again = pl.col("ean").is_in(corrected["ean"].implode())
    # a probability is the same to 1e-10: Splink's SQL sums in another order over other rows
    assert_frame_equal(part.links, whole.links.filter(again), check_exact=False, abs_tol=1e-10)
    assert part.residue.equals(whole.residue.filter(again))
    assert part.links["ean"].n_unique() + part.residue.height == corrected.height
    assert (part.links["method"] == "collective").any()  # collective gas, looked up in its panden only


def test_the_repaired_register_holds_the_corrected_values_in_the_registers_order(delivery: dict[str, Any]) -> None:
    """What fix impact re-links: the register with the corrected records' postcode and id keys,
    which replace the changed columns only (the rest is shared with the run's register), as
    normalising the corrected records whole gives them."""
    connections = delivery["normalised"]["connections"]
    some = connections.filter(pl.col("bag_id").is_null()).join(delivery["corrections"], on="ean").head(200)
    fixed = some.with_columns(bag_id=pl.col("object_id"), postcode=pl.lit("9999 zz")).select(connections.columns)
    repaired = _repaired(connections, fixed.select("ean", **linkage.identifier_keys()))
    inputs = linkage.CONNECTION_INPUT_COLUMNS
    corrected = normalise_connections(fixed).select(inputs)
    expected = pl.concat([connections.select(inputs).join(corrected, on="ean", how="anti"), corrected])
    assert repaired["ean"].equals(connections["ean"])
    assert_frame_equal(repaired.sort("ean"), expected.sort("ean"))
    assert repaired.filter(pl.col("ean").is_in(corrected["ean"].implode()))["postcode_clean"].unique().to_list() == [
        "9999ZZ"
    ]


def test_the_repaired_register_is_chunked_as_the_register_it_was_read_as(delivery: dict[str, Any]) -> None:
    """A register read from the warehouse comes in chunks (one per Arrow batch). The corrected
    columns keep that layout, so a `select` of the repaired register reads its columns as they
    are instead of copying them into one chunk each."""
    register = delivery["normalised"]["connections"]
    half = register.height // 2
    connections = pl.concat([register.slice(0, half), register.slice(half)], rechunk=False)
    some = connections.filter(pl.col("bag_id").is_null()).join(delivery["corrections"], on="ean").head(200)
    fixed = some.with_columns(bag_id=pl.col("object_id")).select(connections.columns)
    repaired = _repaired(connections, fixed.select("ean", **linkage.identifier_keys()))
    assert repaired.n_chunks("all") == [2] * repaired.width
    assert_frame_equal(repaired, _repaired(register, fixed.select("ean", **linkage.identifier_keys())))
    assert repaired["bag_id_clean"].ne_missing(connections["bag_id_clean"]).sum() == some.height


def test_a_model_passed_in_links_as_the_model_trained_in_the_call(delivery: dict[str, Any]) -> None:
    frames, linked = delivery["frames"], delivery["linked"]
    bag, connections = normalise_bag(frames["bag"]), normalise_connections(frames["connections"])
    again = link(bag, connections, PROFILES["statistical"], model=linked.model)
    assert again.links.equals(linked.links)
    assert again.residue.equals(linked.residue)


def test_the_trend_compares_with_the_previous_run(delivery: dict[str, Any], tmp_path: Path) -> None:
    write_reports(delivery["reports"], tmp_path)
    previous = read_previous(tmp_path)
    worse = delivery["compliance"].with_columns(
        n_failed=pl.when(pl.col("rule") == "bag_id_filled").then(pl.col("n_rows")).otherwise(pl.col("n_failed")),
        compliance=pl.when(pl.col("rule") == "bag_id_filled").then(0.0).otherwise(pl.col("compliance")),
    )
    again = build_reports(worse, delivery["impact"], delivery["deliveries"], "statistical", previous)
    demand = next(
        d
        for r in again
        if r.holder_type == "netbeheerder"
        for d in r.document["demands"]
        if d["rule"] == "bag_id_filled"
    )
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


# Names that slug alike, that carry a NUL or no ASCII at all, that look like paths, that are
# markup, that mimic the report of rows naming no holder, or that no file system takes as a name.
TRICKY_NAMES = [
    "Noordernet Netbeheer",
    "noordernet netbeheer ",
    "Noordernet\x00Netbeheer",
    "Énergie Zuid",
    "Netbeheer Ü",
    "Δίκτυο Διανομής",
    "配电网络有限公司",
    "../../etc/passwd",
    "a/b",
    "C:\\x",
    ".",
    "<b>Net</b> & 'Co'",
    "(netbeheerder niet ingevuld)",
    ("Netbeheer Ω " * 40)[:400],
]
TRICKY_GEMEENTEN = ["0363", "0363 ", "0363\x00"]
NO_IMPACT = pl.DataFrame(
    schema={
        "defect": pl.String,
        "holder": pl.String,
        **dict.fromkeys(["n_affected", "n_correctable", "n_newly_linked", "n_now_deterministic"], pl.Int64),
        "mean_probability_gain": pl.Float64,
    }
)
DELIVERIES = pl.DataFrame({"source": ["bag", "connections"], "path": ["b", "c"], "dropped_columns": [[], []]})


def _tricky_rows(names: list[str | None], rule: str, flip: bool = False) -> pl.DataFrame:
    """Rule results with holder i owning i + 1 rows (so no two holders have the same figures)
    and failing `rule` on every other one of them; `flip` inverts every result."""
    holders = [name for i, name in enumerate(names) for _ in range(i + 1)]
    failing = [j % 2 == 0 for i in range(len(names)) for j in range(i + 1)]
    return pl.DataFrame(
        {
            "row_number": range(1, len(holders) + 1),
            "record_id": [f"871{n:015d}" for n in range(1, len(holders) + 1)],
            "holder": holders,
            rule: [f == flip for f in failing],
        }
    )


# per holder type: the delivery, the names, and the rule their rows fail on every other row
TRICKY = {
    "netbeheerder": ("connections", TRICKY_NAMES, "bag_id_filled"),
    "gemeente": ("bag", TRICKY_GEMEENTEN, "gemeente_code_format"),
}


def _tricky_compliance(flip: bool = False) -> pl.DataFrame:
    return pl.concat(
        [holder_compliance(kind, _tricky_rows(names, rule, flip)) for kind, names, rule in TRICKY.values()]
    )


def _owners() -> dict[tuple[str, str | None], set[str]]:
    """The record ids each (holder type, exact name) owns in `_tricky_compliance`."""
    owners: dict[tuple[str, str | None], set[str]] = {}
    for holder_type, (_, names, rule) in TRICKY.items():
        for holder, record in _tricky_rows(names, rule).select("holder", "record_id").rows():
            owners.setdefault((holder_type, holder), set()).add(record)
    return owners


@pytest.fixture
def tricky(tmp_path: Path) -> tuple[list[Any], Path]:
    reports = build_reports(_tricky_compliance(), NO_IMPACT, DELIVERIES, "statistical")
    folder = tmp_path / "reports"
    write_reports(reports, folder)
    return reports, folder


def test_every_exact_name_gets_its_own_file_inside_the_folder(tricky: tuple[list[Any], Path]) -> None:
    _reports, folder = tricky
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))["reports"]
    assert {(e["holder_type"], e["holder"]) for e in index} == set(_owners())
    files = [folder / e[suffix] for e in index for suffix in ("json", "html")]
    assert len(set(files)) == len(files) == 2 * len(_owners())
    for path in files:
        assert path.resolve().parent.parent == folder.resolve() and path.is_file()
        assert re.fullmatch(r"[a-z0-9-]{0,40}-?[0-9a-f]{10}\.(json|html)", path.name), path.name
    for entry in index:
        document = json.loads((folder / entry["json"]).read_text(encoding="utf-8"))
        assert (document["holder_type"], document["holder"]) == (entry["holder_type"], entry["holder"])
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == sorted(
        ["index.json", "index.html", "netbeheerder", "gemeente", *(e[s] for e in index for s in ("json", "html"))]
    )


def test_the_same_name_gets_the_same_file_in_every_run(tricky: tuple[list[Any], Path], tmp_path: Path) -> None:
    """The key ends in the first 10 hex digits of the SHA-256 of the exact name, not in
    anything that changes between runs or processes."""
    _reports, folder = tricky
    again = write_reports(
        build_reports(_tricky_compliance(flip=True), NO_IMPACT, DELIVERIES, "statistical"), tmp_path / "again"
    )
    first = json.loads((folder / "index.json").read_text(encoding="utf-8"))["reports"]
    assert sorted(Path(p).relative_to(tmp_path / "again").as_posix() for p in again["html"]) == sorted(
        e["html"] for e in first
    )
    for entry in first:
        assert entry["key"].endswith(hashlib.sha256(entry["holder"].encode("utf-8")).hexdigest()[:10])


def test_each_report_holds_only_its_holders_records(tricky: tuple[list[Any], Path]) -> None:
    reports, folder = tricky
    owners = _owners()
    for report in reports:
        own = owners[(report.holder_type, report.holder)]
        for demand in report.document["demands"]:
            assert demand["n_rows"] == len(own), report.holder
            assert demand["n_failed"] == (len(own) + 1) // 2
            assert set(demand["examples"]) <= own
        page = (folder / report.holder_type / f"{report.key}.html").read_text(encoding="utf-8")
        document = (folder / report.holder_type / f"{report.key}.json").read_text(encoding="utf-8")
        assert set(re.findall(r"871\d{15}", page + document)) <= own, report.holder


def test_the_page_shows_the_exact_name_escaped(tricky: tuple[list[Any], Path]) -> None:
    reports, folder = tricky
    index_page = (folder / "index.html").read_text(encoding="utf-8")
    for report in reports:
        page = (folder / report.holder_type / f"{report.key}.html").read_text(encoding="utf-8")
        shown = html.escape(report.holder.replace("\x00", "\\x00"))
        assert f"<span class='holder-name'>{shown}</span>" in page
        assert f"<span class='holder-name'>{shown}</span>" in index_page
        assert f"href='{report.holder_type}/{report.key}.html'" in index_page
        assert "\x00" not in page and "<b>" not in page
    assert "\x00" not in index_page and "<b>" not in index_page


def test_the_trend_compares_each_exact_name_with_itself(tricky: tuple[list[Any], Path]) -> None:
    _, folder = tricky
    previous = read_previous(folder)
    assert set(previous) == set(_owners())
    before = {
        (r.holder_type, r.holder): r.document["demands"][0]["compliance"]
        for r in build_reports(_tricky_compliance(), NO_IMPACT, DELIVERIES, "statistical")
    }
    again = build_reports(_tricky_compliance(flip=True), NO_IMPACT, DELIVERIES, "statistical", previous)
    for report in again:
        demand = report.document["demands"][0]
        assert demand["previous_compliance"] == before[(report.holder_type, report.holder)]
        assert demand["trend"] == pytest.approx(demand["compliance"] - before[(report.holder_type, report.holder)])


def test_a_folder_written_before_the_index_gives_no_previous_run(tmp_path: Path) -> None:
    """The old layout, `<type>/<slug>.json` without an index, where holders overwrote each other."""
    (tmp_path / "netbeheerder").mkdir()
    old = {
        "holder_type": "netbeheerder",
        "holder": "noordernet netbeheer ",
        "demands": [{"source": "connections", "rule": "bag_id_filled", "compliance": 0.5}],
    }
    (tmp_path / "netbeheerder" / "noordernet-netbeheer.json").write_text(json.dumps(old), encoding="utf-8")
    assert read_previous(tmp_path) == {}
    assert read_previous(tmp_path / "never-written") == {}


def test_two_reports_for_one_file_are_refused(tmp_path: Path) -> None:
    report = build_reports(_tricky_compliance(), NO_IMPACT, DELIVERIES, "statistical")[0]
    with pytest.raises(ValueError, match="share a file"):
        write_reports([report, report], tmp_path)
    assert not list(tmp_path.iterdir())


def _blank_delivery() -> dict[str, pl.DataFrame]:
    """A synth delivery whose register leaves some netbeheerders empty or blank (and names one
    holder like the report of those), whose BAG leaves some gemeente codes empty, and whose
    consumption has an unknown EAN and a row quarantined for its volume."""
    data = synth.generate(300, seed=8)
    blanks = {0: None, 1: "", 2: "   ", 3: "(netbeheerder niet ingevuld)"}
    names = [blanks.get(i % 9, name) for i, name in enumerate(data.connections["netbeheerder"])]
    codes = [{0: None, 1: "  "}.get(i % 11, code) for i, code in enumerate(data.bag["gemeente_code"])]
    connections = data.connections.with_columns(netbeheerder=pl.Series(names, dtype=pl.String))
    bag = data.bag.with_columns(gemeente_code=pl.Series(codes, dtype=pl.String))
    consumption = data.consumption.with_columns(pl.col("volume").cast(pl.String))
    unknown = consumption.head(1).with_columns(ean=pl.lit("871999999999999999"))
    unreadable = consumption.slice(4, 1).with_columns(volume=pl.lit("veel"))
    return {"bag": bag, "connections": connections, "consumption": pl.concat([consumption, unknown, unreadable])}


def _named(value: str | None) -> str | None:
    """The holder a delivered name makes (ingestion strips it; a blank one names no holder)."""
    return None if value is None else value.strip() or None


def test_rows_naming_no_holder_get_a_report_of_their_own(tmp_path: Path) -> None:
    raw = _blank_delivery()
    ingested = {kind: validate_delivery(kind, frame, Path(kind)) for kind, frame in raw.items()}
    frames = {kind: result.frame for kind, result in ingested.items()}
    results = {
        kind: with_demands(
            kind, r.rule_results, r.quarantine, frames["bag"], frames["connections"], frames["consumption"]
        )
        for kind, r in ingested.items()
    }
    compliance = pl.concat([holder_compliance(kind, frame) for kind, frame in results.items()])
    reports = build_reports(compliance, NO_IMPACT, DELIVERIES, "statistical")

    owner = {ean: _named(name) for ean, name in raw["connections"].select("ean", "netbeheerder").rows()}
    expected = {
        "connections": Counter(_named(name) for name in raw["connections"]["netbeheerder"]),
        "consumption": Counter(owner.get(ean) for ean in raw["consumption"]["ean"]),
        "bag": Counter(_named(code) for code in raw["bag"]["gemeente_code"]),
    }
    assert None in expected["connections"] and None in expected["consumption"] and None in expected["bag"]
    for source, counts in expected.items():
        for rule in compliance.filter(pl.col("source") == source)["rule"].unique():
            got = {
                r.holder: d["n_rows"]
                for r in reports
                for d in r.document["demands"]
                if d["source"] == source and d["rule"] == rule
            }
            assert got == counts, (source, rule)

    folder = tmp_path / "reports"
    write_reports(reports, folder)
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))["reports"]
    unassigned = {e["holder_type"]: e for e in index if e["holder"] is None}
    assert {t: e["label"] for t, e in unassigned.items()} == {
        "netbeheerder": "(netbeheerder niet ingevuld)",
        "gemeente": "(gemeente niet ingevuld)",
    }
    lookalike = next(e for e in index if e["holder"] == "(netbeheerder niet ingevuld)")
    assert lookalike["json"] != unassigned["netbeheerder"]["json"]
    page = (folder / unassigned["netbeheerder"]["html"]).read_text(encoding="utf-8")
    assert "<title>koppelwerk quality report: (netbeheerder niet ingevuld)</title>" in page
    assert "For the operator of this run" in page and "shows only your own records" not in page
    assert set(read_previous(folder)) == {(r.holder_type, r.holder) for r in reports}


def test_the_blank_names_fix_impact_is_summed_into_one_report() -> None:
    impact = pl.DataFrame(
        {
            "defect": ["bag_id_filled"] * 4,
            "holder": [None, "", "  ", "Net A"],
            "n_affected": [1, 2, 3, 4],
            "n_correctable": [1, 1, 1, 4],
            "n_newly_linked": [0, 1, 0, 2],
            "n_now_deterministic": [1, 0, 0, 3],
            "mean_probability_gain": [0.6, 0.3, 0.0, 0.1],
        }
    )
    compliance = holder_compliance("connections", _tricky_rows([None, "", "  ", "Net A"], "bag_id_filled"))
    reports = {r.holder: r.document["fix_impact"] for r in build_reports(compliance, impact, DELIVERIES, "statistical")}
    assert set(reports) == {None, "Net A"}
    (blank,) = reports[None]
    assert (blank["n_affected"], blank["n_correctable"], blank["n_newly_linked"], blank["n_now_deterministic"]) == (
        6,
        3,
        1,
        1,
    )
    assert blank["mean_probability_gain"] == pytest.approx((1 * 0.6 + 2 * 0.3 + 3 * 0.0) / 6)
    assert reports["Net A"] == [
        {
            "defect": "bag_id_filled",
            "n_affected": 4,
            "n_correctable": 4,
            "n_newly_linked": 2,
            "n_now_deterministic": 3,
            "mean_probability_gain": pytest.approx(0.1),
        }
    ]
