"""The scaling shortcuts of `publication.uncertainty` against the plain operations they replace:
a join on the cell keys (`_indexed`) and a sort on the cell keys and EAN (`_sorted_by_cell`), on
rows in no particular order, with cells missing and null keys."""

import polars as pl

from publication.cells import CELL_KEYS
from publication.uncertainty import _indexed, _sorted_by_cell


def _contributions(n: int, seed: int) -> pl.DataFrame:
    """Contributions in random order over a few cells, some region codes null."""
    frame = pl.DataFrame(
        {
            "year": [2024 + i % 2 for i in range(n)],
            "region_level": [["gemeente", "nationaal", "postcode4"][i % 3] for i in range(n)],
            "region_code": [None if i % 7 == 0 else f"GM{i % 5}" for i in range(n)],
            "sector": [["woonfunctie", "totaal"][i % 2 == 0 and i % 3 == 1] for i in range(n)],
            "product": [["elektriciteit", "gas"][i % 4 == 0] for i in range(n)],
            "ean": [f"8716{(i * 37) % 101:014d}" for i in range(n)],
            "volume": [float(i) for i in range(n)],
            "objects": [[f"o{i}"] if i % 2 else [] for i in range(n)],
        }
    )
    return frame.unique([*CELL_KEYS, "ean"], keep="first").sample(fraction=1.0, shuffle=True, seed=seed)


def test_indexed_equals_a_join_on_the_cell_keys() -> None:
    contributions = _contributions(400, seed=1)
    cells = contributions.select(CELL_KEYS).unique().sort(CELL_KEYS).head(5)
    expected = contributions.join(cells.with_row_index("cell"), on=CELL_KEYS)
    found = _indexed(contributions, cells)
    assert found.height == expected.height < contributions.height
    assert found.sort("cell", "ean").equals(expected.sort("cell", "ean"))


def test_indexed_keeps_every_row_when_every_cell_is_known() -> None:
    contributions = _contributions(400, seed=2)
    cells = contributions.select(CELL_KEYS).unique().drop_nulls().sort(CELL_KEYS)
    expected = contributions.join(cells.with_row_index("cell"), on=CELL_KEYS)
    assert (
        _indexed(contributions.drop_nulls("region_code"), cells)
        .sort("cell", "ean")
        .equals(expected.sort("cell", "ean"))
    )


def test_sorted_by_cell_equals_the_sort_on_the_keys() -> None:
    for seed in (3, 4):
        contributions = _contributions(500, seed=seed)
        assert _sorted_by_cell(contributions).equals(contributions.sort([*CELL_KEYS, "ean"]))
