"""The leak scanner finds nothing in what a run really publishes, and finds each planted leak."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import link_synth
from leak_scan import ScanInputs, scan_public

from core.config import PROFILES, DisclosureRules, UncertaintyThresholds
from publication.allocation import allocate
from publication.cells import aggregate_cells
from publication.report import ReportInputs, analyst_report
from publication.statistics import sector_statistics
from publication.uncertainty import cell_uncertainty, connection_contributions, threshold_allocations

STATISTICS = "sector_energy_statistics.parquet"
UNCERTAINTY = "sector_energy_uncertainty.parquet"
REPORT = "analyst_report.html"


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScanInputs]:
    """The public folder of a linked synth delivery, and the scanner's inputs (with the run's links and residue)."""
    linked = link_synth(20_000, seed=7)
    data, result = linked.data, linked.result
    rules = DisclosureRules()
    allocation = allocate(data.consumption, result.links, result.residue, linked.connections, linked.bag)
    cells = aggregate_cells(allocation)
    statistics = sector_statistics(cells, rules)
    contributions = connection_contributions(
        allocation,
        *threshold_allocations(
            data.consumption,
            result.links,
            result.residue,
            result.unresolved_candidates,
            linked.connections,
            linked.bag,
            UncertaintyThresholds(),
        ),
        objects_cap=rules.min_dwellings,
    )
    uncertainty = cell_uncertainty(cells, statistics, contributions, rules)
    folder = tmp_path_factory.mktemp("public")
    statistics.write_parquet(folder / STATISTICS)
    uncertainty.write_parquet(folder / UNCERTAINTY)
    report = ReportInputs(statistics, uncertainty, result.curve, PROFILES["statistical"].min_match_probability)
    (folder / REPORT).write_text(analyst_report(report), encoding="utf-8")
    return folder, ScanInputs(data.bag, data.connections, data.consumption, result.links, result.residue)


@pytest.fixture
def planted(public: tuple[Path, ScanInputs], tmp_path: Path) -> Path:
    """An empty folder to plant one leaky file in."""
    return tmp_path / "planted"


def _plant(folder: Path, name: str, content: pl.DataFrame | str) -> Path:
    folder.mkdir(exist_ok=True)
    if isinstance(content, str):
        (folder / name).write_text(content, encoding="utf-8")
    else:
        content.write_parquet(folder / name)
    return folder


def _connection_in(inputs: ScanInputs, pc4: str, product: str) -> tuple[str, float]:
    """An EAN in postcode4 `pc4` with some consumption of `product`, and that consumption, the
    largest there (so that its printed form is not shared by chance)."""
    here = inputs.connections.filter(
        pl.col("postcode").str.to_uppercase().str.replace_all(" ", "").str.starts_with(pc4)
    )
    used = inputs.consumption.join(here.select("ean"), on="ean").filter(
        (pl.col("product") == product) & (pl.col("volume") > 0)
    )
    return used.sort("volume", descending=True).select("ean", "volume").row(0)


def _postcode4_totaal(public: tuple[Path, ScanInputs], name: str) -> tuple[pl.DataFrame, int]:
    """A published file and the row of its first published postcode4 totaal cell for electricity."""
    frame = pl.read_parquet(public[0] / name)
    index = frame.with_row_index().filter(
        (pl.col("region_level") == "postcode4")
        & (pl.col("sector") == "totaal")
        & (pl.col("product") == "ELK")
        & (pl.col("region_code") != "onbekend")
        & pl.col("volume").is_not_null()
    )["index"][0]
    return frame, index


def test_what_a_run_publishes_leaks_nothing(public: tuple[Path, ScanInputs]) -> None:
    folder, inputs = public
    assert sorted(p.name for p in folder.iterdir()) == [REPORT, STATISTICS, UNCERTAINTY]
    assert scan_public(folder, inputs) == []


def test_it_finds_an_ean_in_html(public: tuple[Path, ScanInputs], planted: Path) -> None:
    folder, inputs = public
    ean = inputs.connections["ean"][17]
    page = (folder / REPORT).read_text(encoding="utf-8").replace("</body>", f"<p>meter {ean}</p></body>")
    found = scan_public(_plant(planted, REPORT, page), inputs)
    assert len(found) == 1 and ean in found[0]


def test_it_finds_a_bag_id_in_parquet(public: tuple[Path, ScanInputs], planted: Path) -> None:
    folder, inputs = public
    frame = pl.read_parquet(folder / STATISTICS)
    object_id = inputs.bag["object_id"][3]
    leaky = frame.with_columns(
        region_code=pl.when(pl.int_range(pl.len()) == 5).then(pl.lit(object_id)).otherwise("region_code")
    )
    found = scan_public(_plant(planted, STATISTICS, leaky), inputs)
    assert len(found) == 1 and object_id in found[0] and "row 6" in found[0]


def test_it_finds_addresses(public: tuple[Path, ScanInputs], planted: Path) -> None:
    _, inputs = public
    address = inputs.bag.filter(pl.col("postcode").is_not_null()).row(0, named=True)
    street = f"{address['openbare_ruimte_naam']} {address['huisnummer']}"
    postcode = f"{address['postcode'][:4]} {address['postcode'][4:].lower()}, {address['huisnummer']}"
    page = f"<html><body><p>near {street}</p><table><tr><td>{postcode}</td></tr></table></body></html>"
    found = scan_public(_plant(planted, "notes.html", page), inputs)
    assert len(found) == 2 and street in found[0] and postcode in found[1]
    # a register address, in a parquet row split over columns
    register = inputs.connections.drop_nulls(["straatnaam", "huisnummer"]).row(0, named=True)
    row = pl.DataFrame({"where": [register["straatnaam"]], "number": [register["huisnummer"]]})
    assert len(scan_public(_plant(planted / "more", "rows.parquet", row), inputs)) == 1


def test_it_finds_one_connections_volume_in_a_cell(public: tuple[Path, ScanInputs], planted: Path) -> None:
    _, inputs = public
    frame, index = _postcode4_totaal(public, STATISTICS)
    ean, volume = _connection_in(inputs, frame["region_code"][index], "ELK")
    leaky = frame.with_columns(volume=pl.when(pl.int_range(pl.len()) == index).then(pl.lit(volume)).otherwise("volume"))
    found = scan_public(_plant(planted, STATISTICS, leaky), inputs)
    assert found == [f"{STATISTICS} row {index + 1}: volume = {volume!r} equals one connection's consumption"]
    # the same number in a cell of another region is chance, not that connection
    elsewhere = frame.with_row_index().filter(
        (pl.col("region_level") == "postcode4")
        & (pl.col("region_code") != frame["region_code"][index])
        & (pl.col("region_code") != "onbekend")
        & (pl.col("sector") == "totaal")
    )
    other = elsewhere.filter(
        ~pl.col("region_code").is_in(
            inputs.connections.filter(pl.col("ean") == ean)["postcode"].str.slice(0, 4).implode()
        )
    )["index"][0]
    moved = frame.with_columns(volume=pl.when(pl.int_range(pl.len()) == other).then(pl.lit(volume)).otherwise("volume"))
    assert scan_public(_plant(planted / "elsewhere", STATISTICS, moved), inputs) == []


def test_it_finds_two_figures_that_differ_by_one_connections_volume(
    public: tuple[Path, ScanInputs], planted: Path
) -> None:
    _, inputs = public
    frame, index = _postcode4_totaal(public, UNCERTAINTY)
    _ean, volume = _connection_in(inputs, frame["region_code"][index], "ELK")
    low = frame["volume"][index] - volume
    leaky = frame.with_columns(
        volume_low=pl.when(pl.int_range(pl.len()) == index).then(pl.lit(low)).otherwise("volume_low")
    )
    found = scan_public(_plant(planted, UNCERTAINTY, leaky), inputs)
    assert found and all(f.startswith(f"{UNCERTAINTY} row {index + 1}: volume") for f in found)
    assert (
        f"{UNCERTAINTY} row {index + 1}: volume - volume_low = {volume!r} equals one connection's consumption" in found
    )
    # and in a report row, printed as the report prints volumes
    region = frame["region_code"][index]
    printed = (
        f"<tr><td>{region}</td><td>totaal</td><td>ELK</td><td>{low + volume:,.0f} kWh</td><td>{low:,.0f} kWh</td></tr>"
    )
    found = scan_public(_plant(planted / "page", REPORT, f"<table>{printed}</table>"), inputs)
    assert len(found) == 1 and "differ by one connection's consumption" in found[0]


def test_what_is_not_a_consumption_figure_is_not_reported(public: tuple[Path, ScanInputs], planted: Path) -> None:
    """Counts, years and shares carry no unit; 0 is what a sum of no connection is."""
    _, inputs = public
    frame, index = _postcode4_totaal(public, STATISTICS)
    _, volume = _connection_in(inputs, frame["region_code"][index], "ELK")
    page = (
        f"<p>{volume:.0f} connections in {frame['region_code'][index]}</p><p>{volume:.0f} %</p>"
        f"<table><tr><td>{frame['region_code'][index]}</td><td>0 kWh</td><td>0 kWh</td></tr></table>"
    )
    assert scan_public(_plant(planted, REPORT, page), inputs) == []
    shutil.rmtree(planted)
    assert scan_public(_plant(planted, REPORT, page.replace(" connections", " kWh")), inputs) != []
