"""Sector energy statistics on a synth delivery: every kWh counted, nothing recoverable.

The attacker here is written apart from `publication.disclosure`: it knows only the published
table and the region hierarchy (a woonplaats code names its gemeente), and subtracts published
cells from published totals until nothing more comes out.
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from conftest import link_synth

from core.config import DisclosureRules, UncertaintyThresholds
from publication.allocation import allocate
from publication.cells import CELL_KEYS, aggregate_cells, stable_sum
from publication.disclosure import primary_suppression, recoverable_cells
from publication.statistics import sector_statistics
from publication.uncertainty import (
    CONTRIBUTION_COLUMNS,
    _per_connection,
    cell_uncertainty,
    connection_contributions,
    links_at_threshold,
    threshold_allocations,
    uncertainty_violations,
)

RULES = DisclosureRules()


@pytest.fixture(scope="module")
def delivery():
    """Two gemeenten, linked as the pipeline links them."""
    linked = link_synth(50_000, seed=8)
    data, bag, connections, result = linked.data, linked.bag, linked.connections, linked.result
    allocation = allocate(data.consumption, result.links, result.residue, connections, bag)
    cells = aggregate_cells(allocation)
    statistics = sector_statistics(cells, RULES)
    strict, loose = threshold_allocations(
        data.consumption,
        result.links,
        result.residue,
        result.unresolved_candidates,
        connections,
        bag,
        UncertaintyThresholds(),
    )
    contributions = connection_contributions(allocation, strict, loose, objects_cap=RULES.min_dwellings)
    return data, allocation, statistics, cell_uncertainty(cells, statistics, contributions, RULES), contributions


def _contributions_by_three_joins(run: pl.DataFrame, strict: pl.DataFrame, loose: pl.DataFrame) -> pl.DataFrame:
    """The reference: every threshold's allocation aggregated in full and joined (what
    `connection_contributions` did before it aggregated connections allocated alike once)."""
    keys = [*CELL_KEYS, "ean"]
    at_run = _per_connection(run)
    at_strict = _per_connection(strict).select(*keys, strict="volume", objects_strict="objects")
    at_loose = _per_connection(loose).select(*keys, loose="volume", objects_loose="objects")
    return (
        at_run.join(at_strict, on=keys, how="full", coalesce=True)
        .join(at_loose, on=keys, how="full", coalesce=True)
        .with_columns(pl.col("volume", "probabilistic", "strict", "loose").fill_null(0.0))
        .select(
            *keys,
            "volume",
            "probabilistic",
            "strict",
            "loose",
            objects=pl.concat_list(pl.col("objects", "objects_strict", "objects_loose").fill_null([]))
            .list.unique()
            .list.sort(),
        )
        .sort(keys)
    )


def _compacted(reference: pl.DataFrame, objects_cap: int) -> pl.DataFrame:
    """The reference in the form `connection_contributions` gives: a connection no figure tells
    apart in any cell (no probabilistic part, the same volume at every threshold) is summed with
    the others of its cell into one row without an EAN; every other keeps its rows."""
    figures = ["volume", "probabilistic", "strict", "loose"]
    alike = (
        (pl.col("probabilistic") == 0) & (pl.col("strict") == pl.col("volume")) & (pl.col("loose") == pl.col("volume"))
    )
    rows = reference.join(reference.group_by("ean").agg(fixed=alike.all()), on="ean")
    fixed = (
        rows.filter(pl.col("fixed") & (pl.col("volume").abs() > 1e-9))
        .group_by(CELL_KEYS)
        .agg(
            volume=stable_sum("volume"),
            n_connections=pl.len().cast(pl.UInt32),
            largest=pl.col("volume").abs().max(),
            objects=pl.col("objects").explode().drop_nulls().unique().sort().head(objects_cap),
        )
        .with_columns(ean=pl.lit(None, pl.String), probabilistic=pl.lit(0.0), strict="volume", loose="volume")
    )
    apart = rows.filter(~pl.col("fixed")).with_columns(
        n_connections=pl.lit(1, pl.UInt32), largest=pl.max_horizontal(pl.col(figures).abs())
    )
    return pl.concat([part.select(CONTRIBUTION_COLUMNS) for part in (fixed, apart)]).sort([*CELL_KEYS, "ean"])


@pytest.mark.parametrize("thresholds", [UncertaintyThresholds(), UncertaintyThresholds(strict=0.9999, loose=0.05)])
def test_contributions_equal_aggregating_every_threshold_in_full(thresholds: UncertaintyThresholds) -> None:
    """Allocating again only the connections a threshold moves, and aggregating those allocated
    alike at every threshold once, changes nothing: the same rows, bit for bit, as allocating the
    whole register at each threshold, aggregating each and joining them (compacted as
    `connection_contributions` keeps them), also at thresholds where many more connections move."""
    linked = link_synth(8_000, seed=12)
    data, bag, connections, result = linked.data, linked.bag, linked.connections, linked.result
    run = allocate(data.consumption, result.links, result.residue, connections, bag)
    strict, loose = threshold_allocations(
        data.consumption, result.links, result.residue, result.unresolved_candidates, connections, bag, thresholds
    )
    ours = connection_contributions(run, strict, loose, objects_cap=RULES.min_dwellings)
    # the reference allocates the whole register at each threshold
    in_full = [
        allocate(
            data.consumption,
            *links_at_threshold(result.links, result.residue, result.unresolved_candidates, threshold)[:2],
            connections,
            bag,
        )
        for threshold in (thresholds.strict, thresholds.loose)
    ]
    assert strict.height < in_full[0].height and loose.height < in_full[1].height
    reference = _compacted(_contributions_by_three_joins(run, *in_full), RULES.min_dwellings)
    assert (ours["strict"] != ours["volume"]).sum() > 0
    assert ours["ean"].null_count() > 0
    assert ours.equals(reference)


def difference_attack(published: pl.DataFrame) -> dict[tuple, float]:
    """Every unknown cell (`volume` null) a chain of "total minus the published rest" recovers.
    It knows only the table and the region hierarchy, so it attacks any figure that adds up
    over cells as volumes do."""
    known = {tuple(row[:5]): row[5] for row in published.select(*CELL_KEYS, "volume").iter_rows() if row[5] is not None}
    cells = [tuple(row) for row in published.select(CELL_KEYS).iter_rows()]
    sums: dict[tuple, tuple[tuple, list[tuple]]] = {}
    for cell in cells:
        year, level, code, sector, product = cell
        if sector != "totaal":
            sums.setdefault(("sectors", year, level, code, product), ((year, level, code, "totaal", product), []))[
                1
            ].append(cell)
        if level in ("gemeente", "postcode4"):
            sums.setdefault((level, year, sector, product), ((year, "nationaal", "NL", sector, product), []))[1].append(
                cell
            )
        if level == "woonplaats" and (match := re.search(r"\((\w+)\)$", code)):
            parent = (year, "gemeente", match.group(1), sector, product)
            sums.setdefault(("woonplaats", year, parent), (parent, []))[1].append(cell)
    recovered: dict[tuple, float] = {}
    progress = True
    while progress:
        progress = False
        for total, parts in sums.values():
            members = [total, *parts]
            unknown = [m for m in members if m not in known]
            if len(unknown) != 1:
                continue
            cell = unknown[0]
            value = sum(known[p] for p in parts if p != cell)
            value = known[total] - value if cell != total else value
            known[cell] = recovered[cell] = value
            progress = True
    return recovered


def test_every_kwh_and_m3_is_in_the_national_total(delivery) -> None:
    data, allocation, statistics, *_ = delivery
    national = statistics.filter((pl.col("region_level") == "nationaal") & (pl.col("sector") == "totaal"))
    delivered = data.consumption.group_by("year", "product").agg(pl.col("volume").sum())
    compared = national.join(delivered, on=["year", "product"], suffix="_delivered")
    assert compared.height == delivered.height and not compared["suppressed"].any()
    assert (compared["volume"] - compared["volume_delivered"]).abs().max() < 1e-6
    # and at every other level the regions add up to the same total
    for level in ("gemeente", "woonplaats", "postcode4"):
        cells = aggregate_cells(allocation).filter((pl.col("region_level") == level) & (pl.col("sector") == "totaal"))
        assert abs(cells["volume"].sum() - data.consumption["volume"].sum()) < 1e-3


def test_published_cells_pass_the_primary_rules(delivery) -> None:
    _, allocation, statistics, *_ = delivery
    cells = aggregate_cells(allocation).with_columns(primary=primary_suppression(RULES))
    published = statistics.filter(~pl.col("suppressed")).join(cells, on=CELL_KEYS)
    assert published.height > 100
    assert not published["primary"].any()
    assert (published["n_connections"] >= RULES.min_connections).all()
    assert statistics.filter(pl.col("suppressed"))["volume"].null_count() == statistics["suppressed"].sum()
    assert set(statistics["region_level"]) == {"nationaal", "gemeente", "woonplaats", "postcode4"}


def test_differencing_recovers_nothing(delivery) -> None:
    _, allocation, statistics, *_ = delivery
    assert statistics["suppressed"].sum() > 50
    assert difference_attack(statistics) == {}
    assert recoverable_cells(statistics, aggregate_cells(allocation)).height == 0


def test_without_secondary_suppression_the_attacks_succeed(delivery) -> None:
    """The attacks are real: on primary suppression alone they recover true volumes."""
    _, allocation, *_ = delivery
    cells = aggregate_cells(allocation)
    primary_only = cells.with_columns(suppressed=primary_suppression(RULES)).with_columns(
        volume=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("volume"))
    )
    truth = {tuple(row[:5]): row[5] for row in cells.select(*CELL_KEYS, "volume").iter_rows()}
    recovered = difference_attack(primary_only)
    assert recovered
    assert all(abs(value - truth[cell]) < 1e-3 for cell, value in recovered.items())
    by_rank = recoverable_cells(primary_only, cells).join(cells.select(*CELL_KEYS, "volume"), on=CELL_KEYS)
    assert by_rank.height >= len(recovered)
    assert (by_rank["recovered_volume"] - by_rank["volume"]).abs().max() < 1e-3


def test_uncertainty_brackets_the_published_volume(delivery) -> None:
    _, allocation, statistics, uncertainty, contributions = delivery
    assert uncertainty.select(CELL_KEYS).equals(statistics.select(CELL_KEYS))
    assert uncertainty["volume"].equals(statistics["volume"])
    hidden = uncertainty.filter(statistics["suppressed"])
    assert (
        hidden.select("volume_probabilistic", "volume_low", "volume_high").null_count().row(0) == (hidden.height,) * 3
    )
    published = uncertainty.filter(~statistics["suppressed"])
    assert (published["volume_low"] <= published["volume"] + 1e-6).all()
    assert (published["volume"] <= published["volume_high"] + 1e-6).all()
    assert (
        (published["volume_probabilistic"] >= 0) & (published["volume_probabilistic"] <= published["volume"] + 1e-6)
    ).all()
    dwellings = published.filter((pl.col("sector") == "woonfunctie") & (pl.col("region_level") == "nationaal"))
    assert (dwellings["volume_probabilistic"] > 0).all()  # some dwellings are linked probabilistically
    assert (dwellings["volume_high"] > dwellings["volume_low"]).all()
    # and what is published gives no connection away, across both gemeenten and every level
    assert uncertainty_violations(uncertainty, aggregate_cells(allocation), contributions, RULES).height == 0
