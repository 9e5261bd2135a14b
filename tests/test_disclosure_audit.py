"""The disclosure audit at scale is the same attacker as the dense one it replaced, on
real-shaped tables: synth deliveries as the pipeline aggregates them, the benchmark's national
shape, random suppression patterns, and a controlled table opened up at one place."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from test_disclosure_oracle import assert_same_attack, published_table
from test_statistics import difference_attack

from benchmarks.disclosure_scale import national_cells, synth_cells
from core.config import DisclosureRules
from publication.cells import CELL_KEYS, TOTAL_SECTOR
from publication.disclosure import primary_suppression, suppress

RULES = DisclosureRules()


@pytest.fixture(scope="module")
def deliveries() -> dict[str, pl.DataFrame]:
    """The cells of two synth deliveries, allocated by their true links (linking would change
    the volumes, not the shape of the table): one municipality of 20,000 objects and five
    gemeenten of 100,000."""
    return {"20k": synth_cells(20_000, seed=11), "100k": synth_cells(100_000, seed=1)}


@pytest.mark.parametrize("name", ["20k", "100k"])
def test_controlled_tables_give_nothing_away_to_either_audit(deliveries, name: str) -> None:
    cells = deliveries[name]
    published = published_table(cells, suppress(cells, RULES)["suppressed"])
    assert published["suppressed"].sum() > 100
    assert assert_same_attack(published, cells).height == 0


@pytest.mark.parametrize("name", ["20k", "100k"])
def test_primary_suppression_alone_gives_the_same_cells_away_to_both(deliveries, name: str) -> None:
    cells = deliveries[name]
    assert assert_same_attack(published_table(cells, primary_suppression(RULES)), cells).height > 10


@pytest.mark.parametrize("share", [0.05, 0.2, 0.4, 0.7, 0.95, 1.0])
def test_random_suppression_patterns_give_the_same_cells_away(deliveries, share: float) -> None:
    """Random suppression, from a few cells to all of them: systems full of dependent
    relations (all suppressed: the nation is the sum of its gemeenten and of its postcode4
    areas, nothing is determined) and of cells only a combination of relations determines."""
    cells = deliveries["100k"]
    for seed in range(3):
        hidden = pl.Series(np.random.default_rng(seed).random(cells.height) < share)
        found = assert_same_attack(published_table(cells, hidden), cells)
        if share == 1.0:
            assert found.height == 0


def test_combinations_of_relations_find_more_than_differencing(deliveries) -> None:
    """The audits agree where "total minus the rest" is not enough: cells that follow only
    from several relations at once."""
    cells = deliveries["100k"]
    beyond = 0
    for seed in range(5):
        published = published_table(cells, pl.Series(np.random.default_rng(seed).random(cells.height) < 0.3))
        beyond += assert_same_attack(published, cells).height - len(difference_attack(published))
    assert beyond > 0


def test_a_total_with_one_suppressed_member_gives_it_away(deliveries) -> None:
    """The controlled table with the company of one suppressed cell published again: its
    region's totaal minus the published rest is that cell."""
    cells = deliveries["20k"]
    controlled = suppress(cells, RULES).with_row_index("cell")
    region = ["year", "region_level", "region_code", "product"]
    published_totals = controlled.filter(~pl.col("suppressed") & (pl.col("sector") == TOTAL_SECTOR)).select(region)
    lone = (
        controlled.filter(pl.col("suppressed") & (pl.col("sector") != TOTAL_SECTOR))
        .join(published_totals, on=region)
        .filter(pl.len().over(region) >= 2)
        .sort("cell")
        .head(1)
    )
    company = controlled.join(lone.select(region), on=region).filter(
        pl.col("suppressed") & (pl.col("sector") != TOTAL_SECTOR) & ~pl.col("cell").is_in(lone["cell"].implode())
    )
    suppressed = controlled["suppressed"] & ~controlled["cell"].is_in(company["cell"].implode())
    found = assert_same_attack(published_table(cells, suppressed), cells)
    assert lone.select(CELL_KEYS).join(found, on=CELL_KEYS).height == 1


def test_a_national_shaped_table_gives_the_same_cells_away() -> None:
    """The benchmark's national shape (gemeenten, woonplaatsen in them, postcode4 areas across
    them, 24 sectors), at ten gemeenten so that the dense oracle still runs."""
    cells, _ = national_cells(10, seed=3)
    assert assert_same_attack(published_table(cells, primary_suppression(RULES)), cells).height > 10
    assert assert_same_attack(published_table(cells, suppress(cells, RULES)["suppressed"]), cells).height == 0
