"""The blocking checks on what is published can fail: each is fed a frame that breaks its rule
and one that does not, as a pure function and as the asset check invoked directly."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import link_synth
from test_uncertainty_disclosure import uncontrolled

from core.config import DisclosureRules, UncertaintyThresholds
from pipelines.publication import checks
from pipelines.resources import KoppelwerkSettings
from publication.allocation import allocate
from publication.cells import CELL_KEYS, aggregate_cells
from publication.disclosure import primary_rule_violations
from publication.statistics import sector_statistics
from publication.uncertainty import cell_uncertainty, connection_contributions, threshold_allocations

RULES = DisclosureRules()
# (sector, region, connections, dwellings, volume, largest connection, the rule it breaks)
CASES = [
    ("woonfunctie", "7001", 40, 38, 100_000.0, 5_000.0, None),
    ("kantoorfunctie", "7002", 4, 4, 9_000.0, 3_000.0, "min_connections"),
    ("woonfunctie", "7003", 12, 4, 30_000.0, 6_000.0, "min_dwellings"),
    ("industriefunctie", "7004", 15, 15, 100_000.0, 80_000.0, "dominance"),
]
CELLS = pl.DataFrame(
    [
        (2025, "postcode4", region, sector, "ELK", "kWh", "NL", volume, n, objects, 0.0, largest)
        for sector, region, n, objects, volume, largest, _ in CASES
    ],
    schema=[
        *CELL_KEYS,
        "unit",
        "parent_code",
        "volume",
        "n_connections",
        "n_objects",
        "volume_probabilistic",
        "max_connection_volume",
    ],
    orient="row",
)
BREAKS = {(region, rule) for _, region, *_, rule in CASES if rule}


def _published(suppressed: list[bool]) -> pl.DataFrame:
    return CELLS.select(
        *CELL_KEYS, "unit", "n_connections", "n_objects", suppressed=pl.Series(suppressed)
    ).with_columns(volume=pl.when(pl.col("suppressed")).then(None).otherwise(CELLS["volume"]))


LEAKY = _published([False] * len(CASES))
CLEAN = _published([rule is not None for *_, rule in CASES])


def test_primary_rule_violations_name_each_broken_rule() -> None:
    found = primary_rule_violations(LEAKY, CELLS, RULES)
    assert set(found.select("region_code", "rule").iter_rows()) == BREAKS
    assert primary_rule_violations(CLEAN, CELLS, RULES).height == 0


def test_a_published_cell_without_its_detail_breaks_every_rule() -> None:
    found = primary_rule_violations(LEAKY, CELLS.slice(1), RULES)
    assert found.filter(pl.col("region_code") == "7001")["rule"].to_list() == [
        "dominance",
        "min_connections",
        "min_dwellings",
    ]


@pytest.mark.parametrize(
    ("check", "rule"),
    [
        (checks.no_small_cells_published, "min_connections"),
        (checks.no_dwelling_cell_below_min_dwellings, "min_dwellings"),
        (checks.no_dominated_cell_published, "dominance"),
    ],
)
def test_each_primary_rule_check_fails_on_its_violation(check, rule: str) -> None:
    settings = KoppelwerkSettings()
    leaky = check(settings=settings, sector_energy_statistics=LEAKY, cells=CELLS)
    assert not leaky.passed and leaky.metadata["published_cells_breaking_the_rule"].value == 1
    # only its own rule: with the other two cells published, it passes
    others = LEAKY.with_columns(suppressed=pl.Series([r == rule for *_, r in CASES]))
    assert check(settings=settings, sector_energy_statistics=others, cells=CELLS).passed
    assert check(settings=settings, sector_energy_statistics=CLEAN, cells=CELLS).passed


@pytest.fixture(scope="module")
def small_run() -> dict[str, pl.DataFrame]:
    """A small delivery with every input of the uncertainty check."""
    linked = link_synth(3_000, seed=5)
    data, result = linked.data, linked.result
    allocation = allocate(data.consumption, result.links, result.residue, linked.connections, linked.bag)
    cells = aggregate_cells(allocation)
    statistics = sector_statistics(cells, RULES)
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
        objects_cap=RULES.min_dwellings,
    )
    inputs = {"statistics_cells": cells, "uncertainty_contributions": contributions}
    return {
        "inputs": inputs,
        "controlled": cell_uncertainty(cells, statistics, contributions, RULES),
        "uncontrolled": uncontrolled(cells, statistics, contributions),
    }


def test_the_uncertainty_check_fails_on_uncontrolled_figures(small_run) -> None:
    settings = KoppelwerkSettings()
    leaky = checks.no_uncertainty_figure_discloses(
        settings=settings, sector_energy_uncertainty=small_run["uncontrolled"], **small_run["inputs"]
    )
    assert not leaky.passed and leaky.metadata["disclosures"].value > 0
    assert "a part of 1 connection" in leaky.metadata["examples"].value
    clean = checks.no_uncertainty_figure_discloses(
        settings=settings, sector_energy_uncertainty=small_run["controlled"], **small_run["inputs"]
    )
    assert clean.passed, clean.metadata["examples"].value


def test_the_uncertainty_check_fails_on_a_single_leaked_figure(small_run) -> None:
    """One withheld probabilistic part put back is enough."""
    controlled = small_run["controlled"]
    withheld = controlled.filter(pl.col("withheld").str.starts_with("volume_probabilistic: a part of 1 connection"))
    assert withheld.height > 0
    cell = withheld.head(1).select(CELL_KEYS)
    truth = small_run["uncontrolled"].join(cell, on=CELL_KEYS)["volume_probabilistic"].item()
    leaked = (
        controlled.join(cell.with_columns(leak=pl.lit(truth)), on=CELL_KEYS, how="left")
        .with_columns(volume_probabilistic=pl.coalesce("leak", "volume_probabilistic"))
        .drop("leak")
    )
    result = checks.no_uncertainty_figure_discloses(
        settings=KoppelwerkSettings(), sector_energy_uncertainty=leaked, **small_run["inputs"]
    )
    assert not result.passed
