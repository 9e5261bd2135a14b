"""Linkage uncertainty in the statistics, published only where it discloses no connection.

Per published cell: `volume_probabilistic`, the part of its volume that came through
probabilistic links, and `volume_low` and `volume_high`, the least and most volume it has at the
run's linkage threshold and at a stricter and a looser one (`core.config.
UncertaintyThresholds`). Stricter: links whose probability is below the threshold are dropped,
and their connections count as `unresolved`. Looser: the best candidate of every `unresolved`
connection whose probability reaches the threshold is linked (to that one object; a collective
meter found this way is not spread over its pand).

Disclosure control. Each of these figures is a sum over a few of the cell's connections, and so
is every difference of two in the row: `volume - volume_low` is what leaves the cell at the strict
threshold, `volume_high - volume` what the loose one brings, `volume - volume_probabilistic` the
deterministic part. A cell of 400 connections with one probabilistic link would publish that
link's consumption exactly. So the parts are controlled as cells are:
- per cell and connection, `connection_contributions` holds the connection's volume in the cell
  at each threshold and through probabilistic links; connections that enter the figures alike
  form one atom (the deterministic ones that never move, the probabilistic links kept at the
  strict threshold, those dropped, those the loose threshold adds, ...);
- within a row, every sum of connections the published figures give away exactly, beyond what
  the volume alone gives away (the statistics table's, under its own rules), must pass the
  primary rules, the dwelling rule in dwelling cells included (`publication.disclosure.
  row_disclosures`): each figure, each difference of two, and every union of atoms their span
  determines, such as `volume_probabilistic - volume + volume_low`, the probabilistic links that
  survive the strict threshold. A part of no connection is 0 and discloses nothing: "no
  probabilistic link", "nothing moves" are published. Of the row's three figures the largest
  set that passes is published, the rest is null and `withheld` says why;
- across rows the figures add up as volumes do (a region's totaal over its sectors, a parent
  region over its children), so a withheld figure could be the total minus the rest: each kind
  (the probabilistic part, the volume at the strict and at the loose threshold) gets secondary
  suppression of its own (`publication.disclosure.protect_parts`), relation by relation and
  then against the audit of several relations at once. Where both `volume_low` and
  `volume_high` are published the third volume, which lies between them, counts as known.

Why exact figures and not bands. A band of the probabilistic share (0-5 %, 5-10 %, ...) times the
published volume bounds the part from both sides: for a part of one connection the band 20-25 %
pins it to within 11 %, which the p% rule counts as disclosure; only the lowest band bounds it
from one side only. So a band is safe only where the part passes the primary rules, and there
the exact figure is safe too and tells more. Bands would spare the secondary suppression (they
do not add up exactly), but the bounds they give across additive relations are the interval
disclosure the project's audit does not cover (ADR 0007); exact figures keep every disclosure
question one the audit answers.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import polars as pl

from core.config import DisclosureRules, UncertaintyThresholds
from linkage.assign import UNRESOLVED
from publication.allocation import allocate
from publication.cells import CELL_KEYS, LEVELS, VOLUME_DECIMAL, cell_keys_at, stable_sum
from publication.disclosure import (
    DWELLING_SECTOR,
    Atoms,
    exposed_parts,
    protect_parts,
    recoverable_cells,
    row_disclosures,
)
from publication.regions import REGION_COLUMNS

UNCERTAINTY_COLUMNS = [*CELL_KEYS, "unit", "volume", "volume_probabilistic", "volume_low", "volume_high", "withheld"]
# The columns of an atom's pattern: what a connection adds to the cell's volume, to its
# probabilistic part, and to its volume at the strict and at the loose threshold.
VOLUME, PROBABILISTIC, STRICT, LOOSE = range(4)
_PATTERN = ["u_volume", "u_probabilistic", "u_strict", "u_loose"]
_SCENARIO_NAMES = {STRICT: "strict", LOOSE: "loose"}
_SYSTEM_FIGURE = {
    PROBABILISTIC: "probabilistic part",
    STRICT: "volume at the strict threshold",
    LOOSE: "volume at the loose threshold",
}
# A row publishes some of these, in this order of preference: the most figures first.
_CHOICES = [
    (True, True, True),
    (False, True, True),
    (True, True, False),
    (True, False, True),
    (True, False, False),
    (False, True, False),
    (False, False, True),
    (False, False, False),
]
_FIGURES = ("volume_probabilistic", "volume_low", "volume_high")
SUPPRESSED_CELL = "the cell is suppressed"
SECONDARY = "secondary suppression: with the other cells of a sum it would give a withheld figure away"
_EPS = 1e-9


def links_at_threshold(
    links: pl.DataFrame, residue: pl.DataFrame, candidates: pl.DataFrame, threshold: float
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """`links` and `residue` (ean, residue_class) had the linkage threshold been `threshold`,
    and the connections that moves (`ean`): links dropped, candidates linked.

    `candidates` holds the best candidate (`ean`, `object_id`, `match_probability`) of each
    connection the assignment left unresolved."""
    dropped = links.filter(pl.col("match_probability") < threshold).select("ean").unique()
    kept = links.join(dropped, on="ean", how="anti")
    unresolved = residue.filter(pl.col("residue_class") == UNRESOLVED).select("ean")
    added = candidates.join(unresolved, on="ean", how="semi").filter(pl.col("match_probability") >= threshold)
    scenario_links = pl.concat(
        [
            kept.select("ean", "object_id", "allocation_share", "method"),
            added.select("ean", "object_id", allocation_share=pl.lit(1.0), method=pl.lit("probabilistic")),
        ]
    )
    scenario_residue = pl.concat(
        [
            residue.join(added.select("ean"), on="ean", how="anti").select("ean", "residue_class"),
            dropped.with_columns(residue_class=pl.lit(UNRESOLVED)),
        ]
    )
    return scenario_links, scenario_residue, pl.concat([dropped, added.select("ean")]).unique()


def threshold_allocations(
    consumption: pl.DataFrame,
    links: pl.DataFrame,
    residue: pl.DataFrame,
    candidates: pl.DataFrame,
    connections: pl.DataFrame,
    bag: pl.DataFrame,
    thresholds: UncertaintyThresholds,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The allocation rows (see `publication.allocation.allocate`) of the connections the linkage
    threshold moves, had it been `thresholds.strict`, and had it been `thresholds.loose`.
    Allocation is per connection, so every other one is allocated there as in the run; only the
    few a threshold moves are allocated again, not the whole register twice."""

    allocations = []
    for threshold in (thresholds.strict, thresholds.loose):
        scenario_links, scenario_residue, moved = links_at_threshold(links, residue, candidates, threshold)
        of_moved = (
            frame.join(moved, on="ean", how="semi") for frame in (consumption, scenario_links, scenario_residue)
        )
        moved_consumption, moved_links, moved_residue = of_moved
        allocations.append(
            allocate(moved_consumption, moved_links, moved_residue, connections.join(moved, on="ean", how="semi"), bag)
        )
    return allocations[0], allocations[1]


def _in_cells(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Each row of `frame` (with the allocation's year, regions, sector and product) once per
    cell it counts in (`publication.cells.aggregate_cells`: every level, by sector and in
    `totaal`), with `CELL_KEYS` and `columns`; a column `objects` or `object_id` only in the
    cells by sector (null or empty in `totaal`: only the dwelling rule counts objects)."""

    def carried(column: str, by_sector: bool) -> pl.Expr:
        if by_sector or column not in ("objects", "object_id"):
            return pl.col(column)
        return (
            pl.lit([], pl.List(pl.String)).alias(column)
            if column == "objects"
            else pl.lit(None, pl.String).alias(column)
        )

    return pl.concat(
        [
            frame.select(*cell_keys_at(level, by_sector), *[carried(c, by_sector) for c in columns])
            for level in LEVELS
            for by_sector in (True, False)
        ]
    )


def _dwelling_objects() -> pl.Expr:
    return pl.when(pl.col("sector") == DWELLING_SECTOR).then(pl.col("object_id")).alias("object_id")


def _per_connection(allocation: pl.DataFrame) -> pl.DataFrame:
    """Per (cell, connection): the connection's volume in the cell, the part through
    probabilistic links, and the objects it reaches there if it is a dwelling cell."""
    rows = allocation.with_columns(
        _dwelling_objects(),
        probabilistic=pl.when(pl.col("method") == "probabilistic").then(pl.col("volume")).otherwise(0.0),
    )
    return (
        _in_cells(rows, "ean", "object_id", "volume", "probabilistic")
        .group_by([*CELL_KEYS, "ean"])
        .agg(
            volume=stable_sum("volume"),
            probabilistic=stable_sum("probabilistic"),
            objects=pl.col("object_id").drop_nulls().unique().sort(),
        )
    )


def _fixed_per_cell(allocation: pl.DataFrame, objects_cap: int) -> pl.DataFrame:
    """The connections of `allocation` that add the same to every figure of their cells, one
    row per cell (`ean` null): their volume (at every threshold; none probabilistic), how many
    they are (`n_connections`, those with any volume there), the `largest` one's volume in the
    cell, and the first `objects_cap` of the objects they reach (dwelling cells). Only whether a
    sum of connections reaches fewer objects than the dwelling rule asks is ever decided, and a
    set of that many objects decides it alone, so more need not be kept.

    Most connections have one allocation row, and so the same volume in each of their cells:
    those are summed at the finest grain (postcode4 and sector) first and rolled up from there.
    Only connections spread over several rows (a collective meter, an object of several
    gebruiksdoelen) are summed per cell and connection."""
    exact = pl.col("volume").cast(VOLUME_DECIMAL)
    single = allocation.filter((pl.len().over("ean") == 1) & (pl.col("volume").abs() > _EPS))
    finest = (
        single.with_columns(_dwelling_objects())
        .group_by("year", *REGION_COLUMNS, "sector", "product")
        .agg(
            volume=exact.sum(),
            n_connections=pl.len().cast(pl.UInt32),
            largest=exact.cast(pl.Float64).abs().max(),
            objects=pl.col("object_id").drop_nulls().unique().sort().head(objects_cap),
        )
    )
    spread = allocation.join(single.select("ean"), on="ean", how="anti").with_columns(_dwelling_objects())
    spread_rows = _in_cells(spread, "ean", "object_id", "volume")
    per_connection = (
        spread_rows.group_by([*CELL_KEYS, "ean"]).agg(volume=stable_sum("volume")).filter(pl.col("volume").abs() > _EPS)
    )
    spread_objects = (
        spread_rows.filter(pl.col("object_id").is_not_null())
        .join(per_connection, on=[*CELL_KEYS, "ean"], how="semi")
        .group_by(CELL_KEYS)
        .agg(objects=pl.col("object_id").unique())
    )
    spread_cells = (
        per_connection.group_by(CELL_KEYS)
        .agg(volume=exact.sum(), n_connections=pl.len().cast(pl.UInt32), largest=pl.col("volume").abs().max())
        .join(spread_objects, on=CELL_KEYS, how="left", nulls_equal=True)
    )
    columns = ["volume", "n_connections", "largest", "objects"]
    return (
        pl.concat([_in_cells(finest, *columns), spread_cells.select(*CELL_KEYS, *columns)])
        .group_by(CELL_KEYS)
        .agg(
            volume=pl.col("volume").sum().cast(pl.Float64),
            n_connections=pl.col("n_connections").sum(),
            largest=pl.col("largest").max(),
            objects=pl.col("objects").explode().drop_nulls().unique().sort().head(objects_cap),
        )
        .select(
            *CELL_KEYS,
            ean=pl.lit(None, pl.String),
            volume="volume",
            probabilistic=pl.lit(0.0),
            strict="volume",
            loose="volume",
            n_connections="n_connections",
            largest="largest",
            objects="objects",
        )
    )


CONTRIBUTION_COLUMNS = [
    *CELL_KEYS,
    "ean",
    "volume",
    "probabilistic",
    "strict",
    "loose",
    "n_connections",
    "largest",
    "objects",
]


def connection_contributions(
    run: pl.DataFrame, strict: pl.DataFrame, loose: pl.DataFrame, *, objects_cap: int
) -> pl.DataFrame:
    """What the connections add to each cell (`CONTRIBUTION_COLUMNS`): `volume` (at the run's
    threshold), `probabilistic` (of that, through probabilistic links), `strict` and `loose`
    (the volume at the other thresholds), `n_connections`, the `largest` connection's share in
    any of these, and the `objects` reached in the cell at any threshold (dwelling cells only).
    `run` is the run's allocation (`publication.allocation.allocate`); `strict` and `loose` hold
    the allocation rows of the connections each other threshold moves (`threshold_allocations`);
    `objects_cap` is the dwelling rule's number of dwellings (`DisclosureRules.min_dwellings`).

    A connection that some figure tells apart (a probabilistic link, or one a threshold
    moves) has a row per cell (`ean` set, `n_connections` 1). The others, about
    98 % at a million objects, are deterministic links no threshold moves: they add their volume
    to every figure but the probabilistic part alike, so for disclosure control each cell's are
    one group, and they get one row per cell (`ean` null; `_fixed_per_cell`). Before, a row per
    cell and connection made 14 million rows at a million objects, the run's largest
    intermediate."""
    keys = [*CELL_KEYS, "ean"]
    strict, loose = strict.select(run.columns), loose.select(run.columns)
    told_apart = pl.concat(
        [strict.select("ean"), loose.select("ean"), run.filter(pl.col("method") == "probabilistic").select("ean")]
    ).unique()
    fixed = _fixed_per_cell(run.join(told_apart, on="ean", how="anti"), objects_cap)
    run = run.join(told_apart, on="ean", how="semi")
    # at a threshold, a told-apart connection it does not move is allocated as in the run
    strict, loose = (
        pl.concat([moved, run.join(moved.select("ean").unique(), on="ean", how="anti")]) for moved in (strict, loose)
    )
    at_run = _per_connection(run)
    at_strict = _per_connection(strict).select(*keys, strict="volume", objects_strict="objects")
    at_loose = _per_connection(loose).select(*keys, loose="volume", objects_loose="objects")
    figures = ["volume", "probabilistic", "strict", "loose"]
    apart = (
        at_run.join(at_strict, on=keys, how="full", coalesce=True)
        .join(at_loose, on=keys, how="full", coalesce=True)
        .with_columns(pl.col(figures).fill_null(0.0))
        .with_columns(
            n_connections=pl.lit(1, pl.UInt32),
            largest=pl.max_horizontal(pl.col(figures).abs()),
            objects=pl.concat_list(pl.col("objects", "objects_strict", "objects_loose").fill_null([]))
            .list.unique()
            .list.sort(),
        )
    )
    return _sorted_by_cell(pl.concat([fixed.select(CONTRIBUTION_COLUMNS), apart.select(CONTRIBUTION_COLUMNS)]))


def _codes(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """Per row of `frame`, the rank (from 0) of its values of `columns` among their distinct
    combinations, in the order `sort(columns)` gives them (nulls first)."""
    distinct = frame.select(columns).unique().sort(columns).with_row_index("code")
    return frame.select(columns).join(distinct, on=columns, how="left", maintain_order="left", nulls_equal=True)["code"]


def _sorted_by_cell(contributions: pl.DataFrame) -> pl.DataFrame:
    """`contributions` in the order of `sort([*CELL_KEYS, "ean"])`, which is unique on them.

    Sorting millions of rows on six string columns was most of `connection_contributions`'s
    time (it compares encoded rows of all six). Each connection is in a dozen cells at most, so
    there are far fewer distinct cells and connections than rows: those are sorted instead, and
    the rows by one integer, cell code times the number of connections plus connection code."""
    cell = _codes(contributions, CELL_KEYS).cast(pl.UInt64)
    ean = _codes(contributions, ["ean"]).cast(pl.UInt64)
    order = (cell * (cast(int, ean.max()) + 1) + ean).arg_sort()
    return contributions[order]


def _indexed(contributions: pl.DataFrame, cells: pl.DataFrame) -> pl.DataFrame:
    """`contributions` of the cells of `cells`, with `cell`, the row of `cells`.

    Only the first row of each run of equal `CELL_KEYS` is looked up in `cells`, and its cell
    is given to the whole run: a national table has millions of contributions but some ten
    thousand cells, and contributions come grouped by cell (`connection_contributions` sorts
    them), so this joins a few thousand rows instead of hashing five string keys per row and
    copying every `objects` list into the join's output. Any row order gives the same result,
    at worst with as many runs as rows."""
    index = cells.select(CELL_KEYS).with_row_index("cell")
    run = contributions.select(pl.struct(CELL_KEYS).rle_id()).to_series()
    starts = contributions.select(CELL_KEYS).filter(run.is_first_distinct())
    cell = starts.join(index, on=CELL_KEYS, how="left", maintain_order="left")["cell"].gather(run)
    indexed = contributions.with_columns(cell=cell)
    # filtering copies every column, lists included: only when a contribution has no cell
    return indexed.filter(pl.col("cell").is_not_null()) if cell.null_count() else indexed


def _atoms(contributions: pl.DataFrame) -> pl.DataFrame:
    """Per cell and pattern (what a connection adds to each figure per unit of its volume): the
    atom's connections (a row of a cell's fixed connections counts as `n_connections`), the sum
    and the largest of their units, and their objects. A connection that adds nothing to any
    figure hides nobody and is left out. Lazy, so that the filter and
    the new columns run in one pass instead of copying every connection's `objects` twice."""
    amounts = pl.col("volume", "probabilistic", "strict", "loose").abs()
    unit = pl.max_horizontal(amounts)
    figures = [pl.col(c) for c in ("volume", "probabilistic", "strict", "loose")]
    return (
        contributions.lazy()
        .with_columns(unit=unit)
        .filter(pl.col("unit") > _EPS)
        .with_columns(
            **{name: (figure / pl.col("unit")).round(6) for name, figure in zip(_PATTERN, figures, strict=True)}
        )
        .group_by("cell", *_PATTERN)
        .agg(
            n=pl.col("n_connections").sum(),
            volume=stable_sum("unit"),
            largest=pl.col("largest").max(),
            objects=pl.col("objects").explode().drop_nulls().unique(),
        )
        .sort("cell", *_PATTERN)
        .collect()
    )


def _cell_atoms(atoms: pl.DataFrame, cells: pl.DataFrame) -> dict[int, Atoms]:
    """`publication.disclosure.Atoms` per cell (row of `cells`) that has any."""
    dwelling = (cells["sector"] == DWELLING_SECTOR).to_numpy()
    cell = atoms["cell"].to_numpy()
    pattern = atoms.select(_PATTERN).to_numpy()
    n, volume, largest = (atoms[c].to_numpy().astype(float) for c in ("n", "volume", "largest"))
    objects = atoms["objects"].to_list()
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if len(cell) else np.array([], dtype=int)
    bounds = zip(starts, [*starts[1:], len(cell)], strict=True)
    return {
        int(cell[a]): Atoms(
            pattern[a:b],
            n[a:b],
            volume[a:b],
            largest[a:b],
            tuple(frozenset(o) for o in objects[a:b]) if dwelling[cell[a]] else None,
        )
        for a, b in bounds
    }


def _scenarios(contributions: pl.DataFrame, cells: pl.DataFrame) -> pl.DataFrame:
    """Per cell (row of `cells`): its volume at each threshold, as the run's volume plus what
    moves (so a threshold where nothing moves gives the very same number), and the scenario
    (`VOLUME`, `STRICT`, `LOOSE`) with the least and the most of it; ties go to the run."""
    moves = contributions.group_by("cell").agg(
        probabilistic=stable_sum("probabilistic"),
        to_strict=(pl.col("strict") - pl.col("volume")).sort().sum(),
        to_loose=(pl.col("loose") - pl.col("volume")).sort().sum(),
    )
    table = (
        cells.select("volume")
        .with_row_index("cell")
        .join(moves, on="cell", how="left")
        .with_columns(pl.col("probabilistic", "to_strict", "to_loose").fill_null(0.0))
        .sort("cell")
    )
    shifts = table.select(pl.lit(0.0), "to_strict", "to_loose").to_numpy()
    order = np.array([VOLUME, STRICT, LOOSE])
    # argmin / argmax return the first of equals: the run, then strict, then loose
    return table.select(
        "cell",
        "volume",
        "probabilistic",
        strict=pl.col("volume") + pl.col("to_strict"),
        loose=pl.col("volume") + pl.col("to_loose"),
        low_scenario=pl.Series(order[shifts.argmin(axis=1)]),
        high_scenario=pl.Series(order[shifts.argmax(axis=1)]),
    )


def _known(published: tuple[bool, bool, bool], low: int, high: int) -> list[int]:
    """The pattern columns an attacker knows from a row that publishes the volume and
    `published` (probabilistic part, low, high): with both ends of the range, all three
    volumes, as the middle one lies between them."""
    with_p, with_low, with_high = published
    scenarios = {VOLUME} | ({low} if with_low else set()) | ({high} if with_high else set())
    if with_low and with_high:
        scenarios = {VOLUME, STRICT, LOOSE}
    return sorted(scenarios | ({PROBABILISTIC} if with_p else set()))


def _choose(
    atoms: Atoms | None, low: int, high: int, rules: DisclosureRules
) -> tuple[tuple[bool, bool, bool], dict[str, str]]:
    """The figures one published row may carry, and why each other one is withheld: the first
    choice that discloses nothing beyond what the row's volume gives away; a figure it leaves
    out breaks a rule together with it (the choice with that figure added comes earlier, so it
    was tried and failed). The volume is the statistics table's, published under its rules,
    which count a connection without consumption as one of the cell's: a cell of ten
    connections, three of them without consumption, publishes a sum of seven. So the volume
    alone may break a rule of the atoms, and the last choice (no figure) always passes."""
    if atoms is None:
        return _CHOICES[0], {}
    failures: dict[tuple[bool, bool, bool], list[str]] = {}

    def fails(choice: tuple[bool, bool, bool]) -> list[str]:
        if choice not in failures:
            failures[choice] = row_disclosures(atoms, _known(choice, low, high), rules, given=[VOLUME])
        return failures[choice]

    chosen = next(choice for choice in _CHOICES if not fails(choice))
    reasons = {
        figure: "; ".join(fails(cast(tuple[bool, bool, bool], tuple(flag or j == i for j, flag in enumerate(chosen)))))
        for i, figure in enumerate(_FIGURES)
        if not chosen[i]
    }
    return chosen, reasons


def _system_weights(contributions: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """Per kind of figure that adds up over cells (the probabilistic part, the volume at the
    strict and at the loose threshold): each connection's weight in each cell's sensitive part:
    the part itself or, for a volume at another threshold, what moves (the volume is published)."""
    weights = {
        PROBABILISTIC: pl.col("probabilistic"),
        STRICT: pl.col("strict") - pl.col("volume"),
        LOOSE: pl.col("loose") - pl.col("volume"),
    }
    return {
        kind: contributions.select("cell", "ean", "objects", weight=weight).filter(pl.col("weight").abs() > _EPS)
        for kind, weight in weights.items()
    }


def _known_in_system(kind: int) -> pl.Expr:
    """True where a row's published figures give its figure of `kind` away."""
    if kind == PROBABILISTIC:
        return pl.col("shown") & pl.col("with_p")
    stands_for = (pl.col("with_low") & (pl.col("low_scenario") == kind)) | (
        pl.col("with_high") & (pl.col("high_scenario") == kind)
    )
    return pl.col("shown") & (stands_for | (pl.col("with_low") & pl.col("with_high")))


def _withhold(published: pl.DataFrame, kind: int, hide: pl.Series) -> pl.DataFrame:
    """`published` with the figures that give its figure of `kind` away withheld where `hide`:
    the probabilistic part, or the end of the range that stands for the volume of `kind`, or, if
    that volume is the middle one, the high end, so that the range no longer brackets it."""
    if kind == PROBABILISTIC:
        return published.with_columns(with_p=pl.col("with_p") & ~hide)
    low = published["with_low"] & ~(hide & (published["low_scenario"] == kind))
    high = published["with_high"] & ~(hide & (published["high_scenario"] == kind))
    return published.with_columns(with_low=low, with_high=high & ~(hide & low & high))


def _secondary(
    published: pl.DataFrame, cells: pl.DataFrame, weights: dict[int, pl.DataFrame], rules: DisclosureRules
) -> pl.DataFrame:
    """`published` (per cell: `shown`, `with_p`, `with_low`, `with_high`, the scenarios) with
    what secondary suppression withholds besides. Each kind of figure is protected on its own;
    withholding an end of a range can hide the volume of another kind, so the kinds are gone
    through again until nothing changes."""
    sensitive = ~published["shown"]
    flags = ["with_p", "with_low", "with_high"]
    for _ in range(2 * len(weights) + 1):
        before = published.select(flags)
        for kind, weight in weights.items():
            hidden = ~published.select(_known_in_system(kind)).to_series()
            hide = protect_parts(cells, hidden, sensitive, weight, rules) & ~hidden
            published = _withhold(published, kind, hide)
        if published.select(flags).equals(before):
            return published
    raise RuntimeError("secondary suppression of the uncertainty figures did not settle")


def _reason(visible: bool, flags: tuple[bool, bool, bool], row_reasons: dict[str, str]) -> str | None:
    """The `withheld` text of a row: each withheld figure with why."""
    if not visible:
        return SUPPRESSED_CELL
    withheld = [
        f"{figure}: {row_reasons.get(figure, SECONDARY)}"
        for figure, flag in zip(_FIGURES, flags, strict=True)
        if not flag
    ]
    return "; ".join(withheld) or None


def _volume_at(scenario: str) -> pl.Expr:
    """The cell's volume at the scenario the column `scenario` names."""
    return (
        pl.when(pl.col(scenario) == STRICT)
        .then(pl.col("strict"))
        .when(pl.col(scenario) == LOOSE)
        .then(pl.col("loose"))
        .otherwise(pl.col("volume"))
    )


def _published_figures(
    cells: pl.DataFrame, statistics: pl.DataFrame, contributions: pl.DataFrame, rules: DisclosureRules
) -> pl.DataFrame:
    """Per cell of `cells` (sorted by `CELL_KEYS`; row i is `cell` i): its volumes at the three
    thresholds, the scenarios of its low and high end, whether it is `shown` (published in
    `statistics`), which figures it may publish (`with_p`, `with_low`, `with_high`) and
    `withheld`, why not the others."""
    shown = cells.select(CELL_KEYS).join(statistics.select(*CELL_KEYS, "suppressed"), on=CELL_KEYS, how="left")
    indexed = _indexed(contributions, cells)
    scenarios = _scenarios(indexed, cells).with_columns(shown=~shown["suppressed"].fill_null(True))
    per_cell = _cell_atoms(_atoms(indexed), cells)
    choices = [
        _choose(per_cell.get(cell), low, high, rules) if visible else ((False, False, False), {})
        for cell, low, high, visible in scenarios.select("cell", "low_scenario", "high_scenario", "shown").iter_rows()
    ]
    published = scenarios.with_columns(
        **{
            flag: pl.Series([choice[i] for choice, _ in choices], dtype=pl.Boolean)
            for i, flag in enumerate(("with_p", "with_low", "with_high"))
        }
    )
    published = _secondary(published, cells, _system_weights(indexed), rules)
    reasons = [
        _reason(visible, flags, row_reasons)
        for (_, row_reasons), visible, flags in zip(
            choices, published["shown"], published.select("with_p", "with_low", "with_high").iter_rows(), strict=True
        )
    ]
    return published.with_columns(withheld=pl.Series(reasons, dtype=pl.String))


def cell_uncertainty(
    cells: pl.DataFrame, statistics: pl.DataFrame, contributions: pl.DataFrame, rules: DisclosureRules
) -> pl.DataFrame:
    """The companion table: per cell of `statistics` (the published table of `cells`)
    `UNCERTAINTY_COLUMNS`, each figure null where it would disclose, `withheld` saying why (null
    where nothing is). `contributions` is `connection_contributions`."""
    cells = cells.sort(CELL_KEYS)
    figures = _published_figures(cells, statistics, contributions, rules)
    return pl.concat([cells.select(*CELL_KEYS, "unit"), figures], how="horizontal").select(
        *CELL_KEYS,
        "unit",
        volume=pl.when(pl.col("shown")).then(pl.col("volume")),
        volume_probabilistic=pl.when(pl.col("with_p")).then(pl.col("probabilistic")),
        volume_low=pl.when(pl.col("with_low")).then(_volume_at("low_scenario")),
        volume_high=pl.when(pl.col("with_high")).then(_volume_at("high_scenario")),
        withheld="withheld",
    )


def uncertainty_violations(
    uncertainty: pl.DataFrame, cells: pl.DataFrame, contributions: pl.DataFrame, rules: DisclosureRules
) -> pl.DataFrame:
    """Every way the published `uncertainty` table discloses, one row each (`where`, `reason`;
    empty: none). The attacker's view, from the table alone: a row whose published figures
    give away a part of its connections that breaks a primary rule (every figure, every
    difference of two, every part their span determines); a sum of cells whose published
    figures give away withheld parts (`publication.disclosure.exposed_parts`); and a withheld
    figure that published ones of other cells determine exactly through any combination of sums
    (`publication.disclosure.recoverable_cells`)."""
    cells = cells.sort(CELL_KEYS)
    table = cells.select(CELL_KEYS).join(uncertainty, on=CELL_KEYS, how="left")
    indexed = _indexed(contributions, cells)
    published = _scenarios(indexed, cells).with_columns(
        shown=table["volume"].is_not_null(),
        with_p=table["volume_probabilistic"].is_not_null(),
        with_low=table["volume_low"].is_not_null(),
        with_high=table["volume_high"].is_not_null(),
    )
    names = cells.select(pl.concat_str(pl.col(CELL_KEYS).cast(pl.String), separator="/")).to_series()
    per_cell = _cell_atoms(_atoms(indexed), cells)
    found = [
        (names[cell], reason)
        for cell, low, high, visible, *flags in published.select(
            "cell", "low_scenario", "high_scenario", "shown", "with_p", "with_low", "with_high"
        ).iter_rows()
        if visible and cell in per_cell
        for reason in row_disclosures(per_cell[cell], _known(tuple(flags), low, high), rules, given=[VOLUME])
    ]
    sensitive = ~published["shown"]
    for kind, weight in _system_weights(indexed).items():
        hidden = ~published.select(_known_in_system(kind)).to_series()
        found += [
            (relation, reason)
            for relation, reason in exposed_parts(cells, hidden, sensitive, weight, rules).iter_rows()
        ]
        values = published.select(pl.col("probabilistic" if kind == PROBABILISTIC else _SCENARIO_NAMES[kind]))
        attacked = cells.select(*CELL_KEYS).with_columns(suppressed=hidden, volume=values.to_series())
        with_part = sensitive | pl.Series(np.isin(np.arange(cells.height), weight["cell"].to_numpy()))
        exposed = (
            cells.select(CELL_KEYS)
            .with_columns(matters=with_part)
            .join(recoverable_cells(attacked, cells), on=CELL_KEYS)
            .filter(pl.col("matters"))
        )
        found += [
            (name, f"a withheld {_SYSTEM_FIGURE[kind]} follows from published cells")
            for name in exposed.select(pl.concat_str(pl.col(CELL_KEYS).cast(pl.String), separator="/")).to_series()
        ]
    return pl.DataFrame(found, schema={"where": pl.String, "reason": pl.String}, orient="row")
