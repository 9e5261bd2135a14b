"""The uncertainty figures pass disclosure control: no published figure, no difference of two in
a row and no sum over cells gives away a part of too few connections.

The checks here are written apart from `publication.uncertainty`: from the per-connection
contributions alone they recompute what each published figure and difference is made of.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from conftest import link_synth
from test_statistics import difference_attack

import publication.disclosure as disclosure
from core.config import DisclosureRules, UncertaintyThresholds
from publication.allocation import allocate
from publication.cells import CELL_KEYS, aggregate_cells
from publication.disclosure import Atoms, exposed_parts, protect_parts, recoverable_cells, row_disclosures
from publication.statistics import sector_statistics
from publication.uncertainty import (
    LOOSE,
    STRICT,
    SUPPRESSED_CELL,
    _choose,
    cell_uncertainty,
    connection_contributions,
    threshold_allocations,
    uncertainty_violations,
)

RULES = DisclosureRules()
FIGURES = ["volume", "volume_probabilistic", "volume_low", "volume_high"]


@pytest.fixture(scope="module")
def delivery() -> dict[str, pl.DataFrame]:
    """The audit's case: one municipality of 20,000 objects, linked, published and controlled."""
    linked = link_synth(20_000, seed=11)
    data, result = linked.data, linked.result
    allocation = allocate(data.consumption, result.links, result.residue, linked.connections, linked.bag)
    cells = aggregate_cells(allocation)
    statistics = sector_statistics(cells, RULES)
    strict, loose = threshold_allocations(
        data.consumption,
        result.links,
        result.residue,
        result.unresolved_candidates,
        linked.connections,
        linked.bag,
        UncertaintyThresholds(),
    )
    contributions = connection_contributions(allocation, strict, loose, objects_cap=RULES.min_dwellings)
    return {
        "cells": cells,
        "statistics": statistics,
        "contributions": contributions,
        "uncertainty": cell_uncertainty(cells, statistics, contributions, RULES),
    }


def uncontrolled(cells: pl.DataFrame, statistics: pl.DataFrame, contributions: pl.DataFrame) -> pl.DataFrame:
    """The table as it was before disclosure control of its figures: every figure of every
    published cell."""
    totals = contributions.group_by(CELL_KEYS).agg(pl.col("probabilistic", "strict", "loose").sum())
    table = (
        statistics.select(*CELL_KEYS, "unit", "suppressed", "volume")
        .join(totals, on=CELL_KEYS, how="left")
        .with_columns(pl.col("probabilistic", "strict", "loose").fill_null(0.0))
    )
    shown = ~pl.col("suppressed")
    return table.select(
        *CELL_KEYS,
        "unit",
        "volume",
        volume_probabilistic=pl.when(shown).then("probabilistic"),
        volume_low=pl.when(shown).then(pl.min_horizontal("volume", "strict", "loose")),
        volume_high=pl.when(shown).then(pl.max_horizontal("volume", "strict", "loose")),
        withheld=pl.when(~shown).then(pl.lit(SUPPRESSED_CELL)),
    )


def _parts(table: pl.DataFrame, contributions: pl.DataFrame) -> pl.DataFrame:
    """Per published row and each published figure, difference of two, and the probabilistic
    links kept at the low end (volume_probabilistic - volume + volume_low): how many
    connections add to it, how many dwellings they reach, its size and its largest connection."""
    totals = contributions.group_by(CELL_KEYS).agg(pl.col("volume", "strict", "loose").sum().name.prefix("total_"))
    rows = (
        table.filter(pl.col("volume").is_not_null())
        .join(totals, on=CELL_KEYS, how="left")
        .with_columns(pl.col("^total_.*$").fill_null(0.0))
    )

    def scenario(end: str) -> pl.Expr:  # the per-connection column the published end stands for
        close = [
            (pl.col(end) - pl.col(f"total_{c}")).abs() <= 1e-6 * pl.col(end).abs().clip(1.0)
            for c in ("volume", "strict", "loose")
        ]
        return (
            pl.when(close[0])
            .then(pl.col("volume"))
            .when(close[1])
            .then(pl.col("strict"))
            .when(close[2])
            .then(pl.col("loose"))
        )

    per_connection = contributions.join(
        rows.select(
            *CELL_KEYS,
            *[pl.col(f).alias(f"shown_{f}") for f in FIGURES],
            *[f"total_{c}" for c in ("volume", "strict", "loose")],
        ),
        on=CELL_KEYS,
    )
    weights = {
        "volume": pl.col("volume"),
        "volume_probabilistic": pl.col("probabilistic"),
        "volume_low": scenario("shown_volume_low"),
        "volume_high": scenario("shown_volume_high"),
    }
    combos = {f: weights[f] for f in FIGURES}
    combos |= {f"{a} - {b}": weights[a] - weights[b] for i, a in enumerate(FIGURES) for b in FIGURES[i + 1 :]}
    combos["volume_probabilistic - volume + volume_low"] = (
        weights["volume_probabilistic"] - weights["volume"] + weights["volume_low"]
    )
    needed = {name: [f for f in FIGURES if f in name] for name in combos}
    frames = []
    for name, weight in combos.items():
        published = pl.all_horizontal([pl.col(f"shown_{f}").is_not_null() for f in needed[name]])
        part = per_connection.filter(published).with_columns(w=weight).filter(pl.col("w").abs() > 1e-9)
        # a row without an EAN holds n_connections that add alike to every figure: its largest
        # connection adds `largest` times the share of the row's unit that this part takes
        unit = pl.max_horizontal(pl.col("volume", "probabilistic", "strict", "loose").abs())
        frames.append(
            part.group_by(CELL_KEYS).agg(
                part=pl.lit(name),
                n=pl.col("n_connections").sum(),
                dwellings=pl.col("objects").explode().drop_nulls().n_unique(),
                size=pl.col("w").abs().sum(),
                largest=(pl.col("largest") * pl.col("w").abs() / unit).max(),
            )
        )
    return pl.concat(frames)


def _breaking(parts: pl.DataFrame) -> pl.DataFrame:
    return parts.filter(
        (pl.col("n") < RULES.min_connections)
        | ((pl.col("sector") == "woonfunctie") & (pl.col("dwellings") < RULES.min_dwellings))
        | (pl.col("largest") > RULES.dominance_share * pl.col("size"))
    )


def test_before_control_figures_gave_single_connections_away(delivery) -> None:
    """The audit finding, reproduced: uncontrolled, a cell's probabilistic part can be one
    link's consumption, and so can what moves between thresholds."""
    before = uncontrolled(delivery["cells"], delivery["statistics"], delivery["contributions"])
    broken = _breaking(_parts(before, delivery["contributions"]))
    single = broken.filter(pl.col("n") == 1)
    assert single.filter(pl.col("part") == "volume_probabilistic").height > 5
    assert single.filter(pl.col("part").is_in(["volume - volume_low", "volume_high - volume"])).height > 5
    # and the check sees it
    assert (
        uncertainty_violations(before, delivery["cells"], delivery["contributions"], RULES).height >= broken.height / 2
    )


def test_no_published_figure_or_difference_breaks_a_primary_rule(delivery) -> None:
    parts = _parts(delivery["uncertainty"], delivery["contributions"])
    assert parts.filter(pl.col("part") == "volume_probabilistic").height > 20  # real parts are published
    assert _breaking(parts).height == 0
    assert (
        uncertainty_violations(delivery["uncertainty"], delivery["cells"], delivery["contributions"], RULES).height == 0
    )


def _withheld_sector_sums(table: pl.DataFrame, contributions: pl.DataFrame) -> pl.DataFrame:
    """The attacker's sum over one region's sectors: where the totaal's probabilistic part is
    published, the withheld ones of its sectors add up to it minus the published rest. Per
    region: that sum as the attacker computes it, the truth, and the connections in it."""
    keys = ["year", "region_level", "region_code", "product"]
    sectors = table.filter(pl.col("sector") != "totaal")
    totals = table.filter((pl.col("sector") == "totaal") & pl.col("volume_probabilistic").is_not_null()).select(
        *keys, total="volume_probabilistic"
    )
    shown = sectors.group_by(keys).agg(
        shown=pl.col("volume_probabilistic").sum(), n_hidden=pl.col("volume_probabilistic").null_count()
    )
    hidden = sectors.filter(pl.col("volume_probabilistic").is_null()).select(CELL_KEYS)
    inside = (
        contributions.join(hidden, on=CELL_KEYS)
        .filter(pl.col("probabilistic") > 0)
        .group_by(keys)
        .agg(truth=pl.col("probabilistic").sum(), connections=pl.col("ean").n_unique())
    )
    return (
        totals.join(shown, on=keys)
        .filter(pl.col("n_hidden") > 0)
        .join(inside, on=keys, how="left")
        .select(
            *keys,
            attacked=pl.col("total") - pl.col("shown"),
            truth=pl.col("truth").fill_null(0.0),
            connections=pl.col("connections").fill_null(0),
        )
    )


def test_withheld_figures_cannot_be_recovered_by_differencing(delivery) -> None:
    table, contributions = delivery["uncertainty"], delivery["contributions"]
    assert difference_attack(table.with_columns(volume=pl.col("volume_probabilistic"))) == {}
    sums = _withheld_sector_sums(table, contributions)
    assert ((sums["connections"] == 0) | (sums["connections"] >= RULES.min_connections)).all()
    # without secondary suppression the withheld parts of a region's sectors add up to a few links
    secondary = pl.col("withheld").str.contains("volume_probabilistic: secondary").fill_null(False)
    truth = table.join(contributions.group_by(CELL_KEYS).agg(pl.col("probabilistic").sum()), on=CELL_KEYS)
    primary_only = truth.with_columns(
        volume_probabilistic=pl.when(secondary).then("probabilistic").otherwise("volume_probabilistic")
    ).drop("probabilistic")
    leaking = _withheld_sector_sums(primary_only, contributions).filter(
        pl.col("connections").is_between(1, RULES.min_connections - 1)
    )
    assert leaking.height > 0
    assert (leaking["attacked"] - leaking["truth"]).abs().max() < 1e-6


def _recovered_parts(cells: pl.DataFrame, weights: pl.DataFrame) -> list[int]:
    """Per random withheld pattern of the probabilistic parts (10 %, 50 % and 90 % of the cells,
    three seeds each) and its secondary suppression: how many withheld parts that have anything
    in them the attacker recovers exactly."""
    nobody = pl.Series([False] * cells.height)
    with_part = np.isin(np.arange(cells.height), weights["cell"].to_numpy())
    found = []
    for share, seed in itertools.product((0.1, 0.5, 0.9), range(3)):
        hidden = pl.Series(np.random.default_rng(seed).random(cells.height) < share)
        protected = protect_parts(cells, hidden, nobody, weights, RULES)
        published = cells.select(*CELL_KEYS, "volume").with_columns(suppressed=protected)
        recovered = (
            cells.select(CELL_KEYS).with_row_index("cell").join(recoverable_cells(published, cells), on=CELL_KEYS)
        )
        found.append(int(with_part[recovered["cell"].to_numpy()].sum()))
    return found


def test_no_withheld_part_follows_from_several_relations_at_once(delivery, monkeypatch) -> None:
    """Each relation holding is not enough: at 1M objects (seed 1) the volume at the strict
    threshold of seven gemeenten's totaal followed from several relations together, though no
    relation gave it away (one way: an empty part may be withheld alone, is then known to be 0
    and counts as published in its other relations). On a real table, whatever is withheld to begin with,
    secondary suppression leaves no part with anything in it recoverable; relation by relation
    alone it leaves some."""
    cells = delivery["cells"].sort(CELL_KEYS)
    weights = (
        cells.select(CELL_KEYS)
        .with_row_index("cell")
        .join(delivery["contributions"], on=CELL_KEYS)
        .select("cell", "ean", "objects", weight="probabilistic")
        .filter(pl.col("weight") != 0)
    )
    assert sum(_recovered_parts(cells, weights)) == 0
    monkeypatch.setattr(disclosure, "_shield", lambda *_: np.empty(0, dtype=np.uint32))
    assert sum(_recovered_parts(cells, weights)) > 0


def test_empty_parts_are_published_and_withheld_figures_say_why(delivery) -> None:
    table = (
        delivery["uncertainty"]
        .join(
            delivery["contributions"]
            .group_by(CELL_KEYS)
            .agg(
                probabilistic=pl.col("probabilistic").abs().sum(),
                moves=((pl.col("strict") - pl.col("volume")).abs() + (pl.col("loose") - pl.col("volume")).abs()).sum(),
            ),
            on=CELL_KEYS,
            how="left",
        )
        .with_columns(pl.col("probabilistic", "moves").fill_null(0.0))
    )
    shown = table.filter(pl.col("volume").is_not_null())
    quiet = shown.filter(pl.col("probabilistic") == 0)
    assert quiet.height > 20 and (quiet["volume_probabilistic"] == 0).all()
    still = shown.filter(pl.col("moves") == 0)
    assert still.height > 20
    assert (still["volume_low"] == still["volume"]).all() and (still["volume_high"] == still["volume"]).all()
    for row in shown.filter(pl.any_horizontal(pl.col(FIGURES[1:]).is_null())).iter_rows(named=True):
        for figure in FIGURES[1:]:
            assert (row[figure] is None) == (f"{figure}: " in row["withheld"]), row
    assert (table.filter(pl.col("volume").is_null())["withheld"] == SUPPRESSED_CELL).all()
    assert shown.filter(pl.all_horizontal(pl.col(FIGURES).is_not_null()))["withheld"].null_count() > 0


def _atoms(*atoms: tuple[tuple[float, float, float, float], int, float]) -> Atoms:
    """Atoms of (pattern over volume, probabilistic, strict, loose; connections; units each)."""
    return Atoms(
        pattern=np.array([a[0] for a in atoms], dtype=float),
        n_connections=np.array([a[1] for a in atoms], dtype=float),
        volume=np.array([a[1] * a[2] for a in atoms]),
        largest=np.array([a[2] for a in atoms]),
    )


def test_the_span_of_a_row_gives_away_more_than_its_differences() -> None:
    """20 deterministic connections, 12 probabilistic links the strict threshold drops and one
    it keeps: volume, probabilistic part and strict volume each pass, and so does every
    difference of two, but probabilistic - volume + strict is the one kept link."""
    row = _atoms(((1, 0, 1, 1), 20, 1000.0), ((1, 1, 1, 1), 1, 800.0), ((1, 1, 0, 1), 12, 900.0))
    assert row_disclosures(row, [0, 1], RULES) == []
    assert row_disclosures(row, [0, 2], RULES) == []
    assert row_disclosures(row, [0, 1, 2], RULES) == ["a part of 1 connection (fewer than 10)"]
    dominated = _atoms(((1, 0, 1, 1), 20, 1000.0), ((1, 1, 1, 1), 10, 10.0), ((1, 1, 1, 1), 1, 5000.0))
    assert row_disclosures(dominated, [0], RULES) == []
    assert row_disclosures(dominated, [0, 1], RULES) == ["a part one connection dominates (over 50 %)"]


def test_a_volume_of_few_contributing_connections_withholds_only_what_adds_to_it() -> None:
    """A published cell of ten connections, three without consumption: its volume is a sum of
    seven (a 100,000-object delivery has such cells), which the statistics table's rules allow.
    The row's figures are judged by what they give away beyond that volume: a run stopped here
    when every choice, even no figure at all, broke the rule."""
    row = _atoms(((0, 0, 1, 0), 1, 2022.0), ((1, 0, 1, 0), 1, 3572.0), ((1, 0, 1, 1), 6, 900.0))
    assert row_disclosures(row, [0], RULES) == ["a part of 7 connections (fewer than 10)"]
    assert row_disclosures(row, [0], RULES, given=[0]) == []
    # the strict volume adds the connection only it holds, alone
    assert row_disclosures(row, [0, 2], RULES, given=[0]) == [
        "a part of 1 connection (fewer than 10)",
        "a part of 8 connections (fewer than 10)",
    ]
    choice, withheld = _choose(row, LOOSE, STRICT, RULES)  # its low end loose, its high end strict
    assert choice == (True, False, False)  # the probabilistic part: 0, nothing beyond the volume
    assert set(withheld) == {"volume_low", "volume_high"}


def test_a_lone_withheld_part_gets_company() -> None:
    """A region's totaal and three sectors: one sector's part withheld alone is the totaal minus
    the rest; secondary suppression withholds the smallest other part that has anything in it,
    and the two together pass the (here lenient) rules."""
    rules = DisclosureRules(min_connections=3, min_dwellings=1, dominance_share=0.9)
    cells = pl.DataFrame(
        {
            "year": [2025] * 4,
            "region_level": ["gemeente"] * 4,
            "region_code": ["0999"] * 4,
            "sector": ["kantoorfunctie", "totaal", "winkelfunctie", "woonfunctie"],
            "product": ["ELK"] * 4,
            "parent_code": ["NL"] * 4,
        }
    )
    parts = {0: {"a": 500.0}, 2: {"b": 300.0, "c": 200.0}, 3: {"d": 400.0, "e": 300.0}}
    parts[1] = {ean: weight for part in parts.values() for ean, weight in part.items()}
    weights = pl.DataFrame(
        [(cell, ean, weight, []) for cell, part in parts.items() for ean, weight in part.items()],
        schema={"cell": pl.UInt32, "ean": pl.String, "weight": pl.Float64, "objects": pl.List(pl.String)},
        orient="row",
    )
    alone = pl.Series([True, False, False, False])
    nobody = pl.Series([False] * 4)
    assert exposed_parts(cells, alone, nobody, weights, rules)["reason"].to_list() == [
        "a withheld figure is the total minus the rest"
    ]
    protected = protect_parts(cells, alone, nobody, weights, rules)
    assert protected.to_list() == [True, False, True, False]
    assert exposed_parts(cells, protected, nobody, weights, rules).height == 0
    # with the default rules three connections are too few together, and the totaal goes too
    assert exposed_parts(cells, protected, nobody, weights, RULES)["reason"].to_list() == [
        "withheld figures together give away a part of 3 connections"
    ]
    assert protect_parts(cells, alone, nobody, weights, RULES)[1]
