"""The oracle of the disclosure audit: the dense attacker the sparse one replaced.

`dense_recoverable_cells` is the audit as it was (ADR 7): a dense Gram matrix and its
eigendecomposition per year and product, cubic in the number of cells. It is kept here, and
only here, as the oracle: `assert_same_attack` demands that the sparse `recoverable_cells`
find the very same cells and recover the same volumes (tests/test_disclosure_audit.py runs it
on real-shaped tables; `benchmarks.disclosure_scale` times both). The hand-built tables here
pin the two basic cases: a cell its column frees, a square that frees nothing.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from core.config import DisclosureRules
from publication.cells import CELL_KEYS, NATIONAL, NATIONAL_CODE, TOTAL_SECTOR
from publication.disclosure import recoverable_cells, relations

_GROUP = ["year", "product"]
RULES = DisclosureRules()


def dense_recoverable_cells(published: pl.DataFrame, cells: pl.DataFrame, tolerance: float = 1e-9) -> pl.DataFrame:
    """The oracle: `publication.disclosure.recoverable_cells` as it was before it scaled."""
    table = (
        cells.select(*CELL_KEYS, "parent_code")
        .join(published.select(*CELL_KEYS, "suppressed", "volume"), on=CELL_KEYS)
        .with_row_index("cell")
    )
    members = relations(table.drop("cell")).join(table.select("cell", *_GROUP, "suppressed", "volume"), on="cell")
    members = members.with_columns(sign=pl.when(pl.col("is_total")).then(-1.0).otherwise(1.0))
    found = []
    for (_year, _product), group in members.group_by(_GROUP):
        hidden = group.filter(pl.col("suppressed"))
        if hidden.height == 0:
            continue
        rhs = group.filter(~pl.col("suppressed")).group_by("relation").agg(b=-(pl.col("sign") * pl.col("volume")).sum())
        rows = (
            hidden.select("relation")
            .unique()
            .join(rhs, on="relation", how="left")
            .with_columns(pl.col("b").fill_null(0.0))
            .with_row_index("row")
        )
        entries = hidden.join(rows.select("relation", "row"), on="relation").select("cell", "row", "sign")
        pairs = (
            entries.join(entries, on="cell", suffix="_q")
            .group_by("row", "row_q")
            .agg(g=(pl.col("sign") * pl.col("sign_q")).sum())
        )
        gram = np.zeros((rows.height, rows.height))
        gram[pairs["row"].to_numpy(), pairs["row_q"].to_numpy()] = pairs["g"].to_numpy()
        values, vectors = np.linalg.eigh(gram)
        keep = values > tolerance * max(values.max(), 1.0)
        pseudo_inverse = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
        weights = pseudo_inverse @ rows["b"].to_numpy()
        pair_terms = entries.join(entries, on="cell", suffix="_q")
        leverage_terms = (pair_terms["sign"] * pair_terms["sign_q"]).to_numpy() * pseudo_inverse[
            pair_terms["row"].to_numpy(), pair_terms["row_q"].to_numpy()
        ]
        per_cell = (
            pl.DataFrame({"cell": pair_terms["cell"], "leverage": leverage_terms})
            .group_by("cell")
            .agg(pl.col("leverage").sum())
        )
        value_terms = entries["sign"].to_numpy() * weights[entries["row"].to_numpy()]
        recovered = (
            pl.DataFrame({"cell": entries["cell"], "value": value_terms}).group_by("cell").agg(pl.col("value").sum())
        )
        determined = per_cell.filter(pl.col("leverage") > 1 - 1e-6).join(recovered, on="cell")
        found += [(cell, value) for cell, _, value in determined.iter_rows()]
    recovered = pl.DataFrame(found, schema={"cell": pl.UInt32, "recovered_volume": pl.Float64}, orient="row")
    return table.join(recovered, on="cell").select(*CELL_KEYS, "recovered_volume")


def published_table(cells: pl.DataFrame, suppressed: pl.Series | pl.Expr) -> pl.DataFrame:
    return cells.with_columns(suppressed=suppressed).with_columns(
        volume=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("volume"))
    )


def close_volumes(found: pl.Series, expected: pl.Series, cells: pl.DataFrame) -> bool:
    """Equal to a millionth, relative, or to 1e-12 of the table's largest volume: the rounding
    of either algebra grows with the volumes its sums pass through (the dense one is off by up
    to 4e-6 on a table whose national totaal is 1.3e9), not only with the cell's own."""
    rounding = 1e-12 * float(cells.select(pl.col("volume").abs().max()).item())
    return bool(((found - expected).abs() <= 1e-6 * expected.abs().clip(1.0) + rounding).all())


def same_attack(sparse: pl.DataFrame, dense: pl.DataFrame, cells: pl.DataFrame) -> bool:
    """Whether both audits' findings (`recoverable_cells` frames) are the same cells with close
    volumes."""
    sparse, dense = sparse.sort(CELL_KEYS), dense.sort(CELL_KEYS)
    same_cells = sparse.select(CELL_KEYS).equals(dense.select(CELL_KEYS))
    return same_cells and close_volumes(sparse["recovered_volume"], dense["recovered_volume"], cells)


def assert_same_attack(published: pl.DataFrame, cells: pl.DataFrame) -> pl.DataFrame:
    """Both audits find the same cells with the same volumes, and the volumes are the cells'
    true ones. Returns what they found, with the truth."""
    sparse = recoverable_cells(published, cells)
    assert same_attack(sparse, dense_recoverable_cells(published, cells), cells)
    found = sparse.join(cells.select(*CELL_KEYS, "volume"), on=CELL_KEYS)
    assert close_volumes(found["recovered_volume"], found["volume"], cells)
    return found


def _two_gemeenten(hidden: set[tuple[str, str]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A nation of two gemeenten with two sectors and their totaal, `hidden` (region, sector)
    suppressed: the cells and the published table."""
    volume = {("g1", "a"): 10.0, ("g1", "b"): 20.0, ("g2", "a"): 30.0, ("g2", "b"): 40.0}
    for region in ("g1", "g2"):
        volume[(region, TOTAL_SECTOR)] = volume[(region, "a")] + volume[(region, "b")]
    for sector in ("a", "b", TOTAL_SECTOR):
        volume[(NATIONAL_CODE, sector)] = volume[("g1", sector)] + volume[("g2", sector)]
    cells = pl.DataFrame(
        [
            (
                2025,
                NATIONAL if region == NATIONAL_CODE else "gemeente",
                region,
                sector,
                "ELK",
                None if region == NATIONAL_CODE else NATIONAL_CODE,
                value,
            )
            for (region, sector), value in sorted(volume.items())
        ],
        schema={**dict.fromkeys(CELL_KEYS, pl.String), "parent_code": pl.String, "volume": pl.Float64},
        orient="row",
    ).with_columns(pl.col("year").cast(pl.Int32))
    suppressed = pl.Series([key in hidden for key in sorted(volume)])
    return cells, published_table(cells, suppressed)


def test_a_cell_pinned_by_its_column_frees_its_row_partner() -> None:
    """g1's two sectors suppressed: their row gives only their sum, but the nation's sector a
    minus g2's is g1's a, and then g1's totaal minus it is g1's b."""
    cells, published = _two_gemeenten({("g1", "a"), ("g1", "b")})
    found = assert_same_attack(published, cells)
    assert sorted(found["region_code"] + "/" + found["sector"]) == ["g1/a", "g1/b"]


def test_a_square_of_suppressed_cells_gives_nothing_away() -> None:
    """Both gemeenten's two sectors suppressed: any of them can move by some d if the other
    three move by -d, d and -d, so no relation or combination pins one."""
    cells, published = _two_gemeenten({(g, s) for g in ("g1", "g2") for s in ("a", "b")})
    assert assert_same_attack(published, cells).height == 0
