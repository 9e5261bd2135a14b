"""Every blocking check can fail: fed a violating frame inside a real run, it stops the run,
the error names it, and the output folder keeps the last good run."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from test_uncertainty_disclosure import uncontrolled

import linkage
import publication.disclosure
from core.config import DisclosureRules
from koppelwerk.cli import main
from pipelines.publication import assets as publication_assets
from tests.runs import GoodRun, run_arguments, tree


def _drop_a_residue_row(monkeypatch: pytest.MonkeyPatch) -> None:
    real = linkage.link

    def link(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        return dataclasses.replace(result, residue=result.residue.slice(1))

    monkeypatch.setattr(linkage, "link", link)


def _lose_an_allocated_row(monkeypatch: pytest.MonkeyPatch) -> None:
    real = publication_assets.allocate
    monkeypatch.setattr(publication_assets, "allocate", lambda *args: real(*args).slice(1))


def _publish_with(rules: DisclosureRules) -> Callable[[pytest.MonkeyPatch], None]:
    def patch(monkeypatch: pytest.MonkeyPatch) -> None:
        real = publication_assets.sector_statistics
        monkeypatch.setattr(publication_assets, "sector_statistics", lambda cells, _rules: real(cells, rules))

    return patch


def _no_secondary_suppression(monkeypatch: pytest.MonkeyPatch) -> None:
    empty = pl.DataFrame(schema={"relation": pl.String, "cell": pl.UInt32})
    monkeypatch.setattr(publication.disclosure, "_unsafe_relations", lambda members, rules: empty)


def _publish_cells_where(condition: pl.Expr) -> Callable[[pytest.MonkeyPatch], None]:
    """Publish, besides what disclosure control allows, the cells meeting `condition`."""

    def patch(monkeypatch: pytest.MonkeyPatch) -> None:
        real = publication_assets.sector_statistics

        def statistics(cells: pl.DataFrame, rules: DisclosureRules) -> pl.DataFrame:
            published = real(cells, rules)
            keys = ["year", "region_level", "region_code", "sector", "product"]
            leak = cells.filter(condition).select(*keys, leaked="volume")
            assert leak.height, "the delivery has no such cell to leak"
            return (
                published.join(leak, on=keys, how="left")
                .with_columns(
                    volume=pl.coalesce("leaked", "volume"),
                    suppressed=pl.col("suppressed") & pl.col("leaked").is_null(),
                )
                .drop("leaked")
            )

        monkeypatch.setattr(publication_assets, "sector_statistics", statistics)

    return patch


def _few_dwellings_published(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dwelling cells of 3 dwellings (a delivery this small has none: every one is made so),
    published under a rule of 1 dwelling."""
    real_cells, real_statistics = publication_assets.aggregate_cells, publication_assets.sector_statistics
    few = (pl.col("sector") == "woonfunctie") & (pl.col("region_level") == "postcode4")
    monkeypatch.setattr(
        publication_assets,
        "aggregate_cells",
        lambda allocation: real_cells(allocation).with_columns(
            n_objects=pl.when(few).then(3).otherwise(pl.col("n_objects"))
        ),
    )
    monkeypatch.setattr(
        publication_assets,
        "sector_statistics",
        lambda cells, rules: real_statistics(cells, dataclasses.replace(rules, min_dwellings=1)),
    )


def _uncontrolled_uncertainty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every uncertainty figure of every published cell, as before issue 11."""
    monkeypatch.setattr(
        publication_assets,
        "cell_uncertainty",
        lambda cells, statistics, contributions, rules: uncontrolled(cells, statistics, contributions),
    )


@pytest.mark.parametrize(
    ("violation", "check"),
    [
        (_drop_a_residue_row, "every_connection_accounted_for"),
        (_lose_an_allocated_row, "allocation_conserves_volume"),
        (
            _publish_with(DisclosureRules(min_connections=1, min_dwellings=1, dominance_share=1.0)),
            "no_small_cells_published",
        ),
        (_no_secondary_suppression, "no_suppressed_cell_recoverable"),
        (_few_dwellings_published, "no_dwelling_cell_below_min_dwellings"),
        (_publish_cells_where(pl.col("max_connection_volume") > 0.5 * pl.col("volume")), "no_dominated_cell_published"),
        (_uncontrolled_uncertainty, "no_uncertainty_figure_discloses"),
    ],
)
def test_a_violating_frame_stops_the_run_naming_the_check(
    good_small_run: GoodRun,
    tmp_path: Path,
    dagster_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    violation: Callable[[pytest.MonkeyPatch], None],
    check: str,
) -> None:
    out = tmp_path / "out"
    shutil.copytree(good_small_run.out, out)
    before = tree(out)
    capsys.readouterr()

    violation(monkeypatch)
    assert main(run_arguments(good_small_run.delivery, out)) != 0
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("koppelwerk: error: ") and check in error
    assert tree(out) == before
    # the run log it points to holds the check's metadata, its examples among them
    log = Path(error.rsplit("details in ", 1)[1].rstrip(")")).read_text(encoding="utf-8")
    details = next(line for line in log.splitlines() if f".{check} failed: " in line)
    assert "ERROR" in details and len(details.split(f".{check} failed: ", 1)[1]) > 0
