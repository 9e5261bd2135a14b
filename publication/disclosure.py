"""Disclosure control: which aggregated cells may be published.

Primary suppression: a cell is suppressed when it has fewer than `min_connections` connections,
when it is a dwelling cell with fewer than `min_dwellings` dwellings, or when one connection
delivers more than `dominance_share` of its volume. The same rules are stated in
data_contracts/sector_energy_statistics.yaml.

Secondary suppression: published cells add up. Every region's `totaal` is the sum of its
sectors, every national cell the sum of its gemeenten (and of its postcode4 areas), every
gemeente cell the sum of its woonplaatsen. In each such relation a suppressed cell must not be
alone, else it is the total minus the rest; and the suppressed parts together must pass the
primary rules themselves, else their sum discloses a small group. Cells are added, smallest
volume first, until every relation holds (`suppress`). `recoverable_cells` is the attacker's
side: it finds every suppressed cell that published cells determine exactly, through any
combination of relations.

Figures that share connections within one row (a cell's volume, the part of it through
probabilistic links, its volume at other linkage thresholds; `publication.uncertainty`) are
controlled part by part: `row_disclosures` lists every sum of connections the row's figures
give away exactly, and each must pass the same primary rules. Such part
figures add up over the relations as volumes do; `exposed_parts` finds the relations whose
published part figures give withheld ones away, `protect_parts` is their secondary suppression.
Relation by relation is not enough for parts (for one, an empty part may be withheld alone, as
it discloses nothing, but is then known to be 0 and counts as published in its other relations), so
`protect_parts` ends with the audit itself and withholds more until it recovers nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
import polars as pl
from scipy import sparse
from scipy.sparse.linalg import splu

from core.config import DisclosureRules
from publication.cells import CELL_KEYS, NATIONAL, TOTAL_SECTOR, VOLUME_DECIMAL, stable_sum

DWELLING_SECTOR = "woonfunctie"
MAX_ROUNDS = 100
# Above this many kinds of connection in one row, spans are not enumerated: every kind must pass.
MAX_ATOMS = 10
_EPS = 1e-9
# The audit (`recoverable_cells`). A cell counts as determined when 1 - its leverage (the squared
# distance of its unit vector from the row space) is below RECOVERY_TOLERANCE.
RECOVERY_TOLERANCE = 1e-6
_RIDGE = 1e-8  # the regularisation of A A', relative to its diagonal
_REFINED, _SETTLED = 1e-10, 1e-7  # relative change at which refinement stops; the most it may leave
_MAX_REFINEMENTS = 50
_PROBES, _PROBE_CUT, _PROBE_SEED = 4, 1e-2, 20261204
_BATCH = 256


def _primary_rule_breaks(rules: DisclosureRules) -> dict[str, pl.Expr]:
    """Per primary rule: true for a cell that breaks it."""
    return {
        "min_connections": pl.col("n_connections") < rules.min_connections,
        "min_dwellings": (pl.col("sector") == DWELLING_SECTOR) & (pl.col("n_objects") < rules.min_dwellings),
        "dominance": pl.col("max_connection_volume") > rules.dominance_share * pl.col("volume"),
    }


def primary_suppression(rules: DisclosureRules) -> pl.Expr:
    """True for a cell that may not be published on its own merits."""
    too_few, few_dwellings, dominated = _primary_rule_breaks(rules).values()
    return too_few | few_dwellings | dominated


def primary_rule_violations(published: pl.DataFrame, cells: pl.DataFrame, rules: DisclosureRules) -> pl.DataFrame:
    """Published cells that break a primary rule: `CELL_KEYS` and `rule` (`min_connections`,
    `min_dwellings` or `dominance`), one row per cell and broken rule.

    `published` is the published table (`suppressed`); `cells` the same cells before control,
    which alone know the largest connection's volume the dominance rule needs. A published cell
    missing from `cells` cannot be checked and breaks every rule that applies to it."""
    shown = (
        published.filter(~pl.col("suppressed"))
        .select(CELL_KEYS)
        .join(
            cells.select(*CELL_KEYS, "volume", "n_connections", "n_objects", "max_connection_volume"),
            on=CELL_KEYS,
            how="left",
        )
    )
    breaks = [
        shown.filter(broken.fill_null(True)).select(*CELL_KEYS, rule=pl.lit(rule))
        for rule, broken in _primary_rule_breaks(rules).items()
    ]
    return pl.concat(breaks).sort([*CELL_KEYS, "rule"])


def relations(cells: pl.DataFrame) -> pl.DataFrame:
    """The additive relations between cells: `relation` (an id), `cell` (the row index of
    `cells`), `is_total`. `cells` has `CELL_KEYS` and `parent_code` (see
    `publication.statistics.aggregate_cells`)."""
    indexed = cells.with_row_index("cell")
    # a region's totaal is the sum of its sectors
    by_sector = indexed.with_columns(
        relation=pl.concat_str(
            pl.lit("sectors"),
            *[pl.col(c).cast(pl.String) for c in ("year", "product", "region_level", "region_code")],
            separator="|",
        ),
        is_total=pl.col("sector") == TOTAL_SECTOR,
    )
    # a parent region's cell is the sum of its child regions' cells, sector by sector
    children = indexed.filter(pl.col("parent_code").is_not_null())
    child_relation = pl.concat_str(
        pl.lit("regions"),
        *[pl.col(c).cast(pl.String) for c in ("year", "product", "sector")],
        pl.col("region_level"),
        pl.col("parent_code"),
        separator="|",
    )
    parent_level = pl.when(pl.col("region_level") == "woonplaats").then(pl.lit("gemeente")).otherwise(pl.lit(NATIONAL))
    parents = (
        children.select(
            "year",
            "product",
            "sector",
            "region_level",
            "parent_code",
            relation=child_relation,
            parent_level=parent_level,
        )
        .unique("relation")
        .join(
            indexed.select(
                "year", "product", "sector", parent_level="region_level", parent_code="region_code", cell="cell"
            ),
            on=["year", "product", "sector", "parent_level", "parent_code"],
        )
    )
    return pl.concat(
        [
            by_sector.select("relation", "cell", "is_total"),
            children.select(relation=child_relation, cell="cell", is_total=pl.lit(False)),
            parents.select("relation", "cell", is_total=pl.lit(True)),
        ]
    )


def _unsafe_relations(members: pl.DataFrame, rules: DisclosureRules) -> pl.DataFrame:
    """Relations a published total or a lone suppressed total would betray, with the cell to
    suppress next: the published part with the smallest volume, else the total."""
    parts = pl.col("is_total").not_()
    hidden_parts = parts & pl.col("suppressed")
    per_relation = members.group_by("relation").agg(
        total_hidden=(pl.col("is_total") & pl.col("suppressed")).any(),
        has_total=pl.col("is_total").any(),
        n_hidden=hidden_parts.sum(),
        hidden_connections=pl.col("n_connections").filter(hidden_parts).sum(),
        hidden_objects=pl.col("n_objects").filter(hidden_parts).sum(),
        hidden_volume=pl.col("volume").filter(hidden_parts).cast(VOLUME_DECIMAL).sum().cast(pl.Float64),
        hidden_largest=pl.col("max_connection_volume").filter(hidden_parts).max(),
        dwellings=(pl.col("sector") == DWELLING_SECTOR).all(),
    )
    group_fails = (
        (pl.col("hidden_connections") < rules.min_connections)
        | (pl.col("dwellings") & (pl.col("hidden_objects") < rules.min_dwellings))
        | (pl.col("hidden_largest") > rules.dominance_share * pl.col("hidden_volume"))
    )
    betrayed = pl.col("has_total") & (
        (~pl.col("total_hidden") & (pl.col("n_hidden") >= 1) & ((pl.col("n_hidden") == 1) | group_fails))
        | (pl.col("total_hidden") & (pl.col("n_hidden") == 0))
    )
    unsafe = per_relation.filter(betrayed).select("relation")
    candidates = (
        members.join(unsafe, on="relation")
        .filter(~pl.col("suppressed"))
        .sort(["relation", "is_total", "volume", "n_connections", "cell"])
    )
    return candidates.unique("relation", keep="first").select("relation", "cell")


def suppress(cells: pl.DataFrame, rules: DisclosureRules) -> pl.DataFrame:
    """`cells` with `suppressed`: primary suppression, then secondary until every relation holds."""
    state = cells.with_row_index("cell").with_columns(suppressed=primary_suppression(rules).fill_null(True))
    links = relations(cells)
    for _ in range(MAX_ROUNDS):
        members = links.join(
            state.select(
                "cell", "suppressed", "volume", "n_connections", "n_objects", "max_connection_volume", "sector"
            ),
            on="cell",
        )
        fix = _unsafe_relations(members, rules)
        if fix.height == 0:
            break
        state = state.with_columns(suppressed=pl.col("suppressed") | pl.col("cell").is_in(fix["cell"].implode()))
    else:
        raise RuntimeError(f"secondary suppression did not settle in {MAX_ROUNDS} rounds")
    return state.drop("cell")


def _shield(
    cells: pl.DataFrame, links: pl.DataFrame, hidden: np.ndarray, matters: np.ndarray, cost: np.ndarray
) -> np.ndarray:
    """Cells to withhold besides `hidden` (a flag per row of `cells`) because the published ones
    determine hidden cells that `matters` through a combination of relations that no relation
    shows alone (`recoverable_cells`). Per such cell, one more unknown in its equations: the
    published cell of least `cost` among its relations' members, parts before totals, and not
    one that would be the only hidden member of a relation (determined at once, it frees
    nothing). Where its relations hold no published cell, the search goes one relation further,
    through the hidden members. The caller repeats until nothing is determined."""
    table = (
        cells.select(*CELL_KEYS, "parent_code")
        .with_row_index("cell")
        .with_columns(suppressed=pl.Series(hidden), volume=pl.lit(0.0))
    )
    determined = _determined(_hidden_system(table, links), RECOVERY_TOLERANCE)["cell"].to_numpy()
    targets = determined[matters[determined]]
    index = np.arange(hidden.size, dtype=np.uint32)
    # withheld, a cell that would be the only hidden member of a relation is determined at once
    alone = (
        links.join(pl.DataFrame({"cell": index, "hidden": hidden}), on="cell")
        .with_columns(pl.col("hidden").sum().over("relation").alias("n_hidden"))
        .group_by("cell")
        .agg(alone=(pl.col("n_hidden") == 0).any())
    )
    flags = pl.DataFrame({"cell": index, "published": ~hidden, "cost": cost}).join(alone, on="cell", how="left")
    reach = pl.DataFrame({"target": targets, "cell": targets})
    chosen = [np.empty(0, dtype=np.uint32)]
    while reach.height:
        members = (
            reach.join(links.select("relation", "cell"), on="cell")
            .select("target", "relation")
            .unique()
            .join(links, on="relation")
            .join(flags, on="cell")
        )
        found = (
            members.filter("published")
            .sort("target", "alone", "is_total", "cost", "cell")
            .unique("target", keep="first")
        )
        chosen.append(found["cell"].to_numpy())
        further = members.join(found.select("target"), on="target", how="anti").select("target", "cell").unique()
        if further.height and further.height == reach.join(found.select("target"), on="target", how="anti").height:
            stuck = table.filter(pl.col("cell").is_in(further["target"].unique().implode())).select(CELL_KEYS).row(0)
            raise RuntimeError(f"cell {'/'.join(map(str, stuck))} is determined by suppressed cells alone")
        reach = further
    return np.unique(np.concatenate(chosen))


def recoverable_cells(
    published: pl.DataFrame, cells: pl.DataFrame, tolerance: float = RECOVERY_TOLERANCE
) -> pl.DataFrame:
    """The attack: suppressed cells whose volume the published cells determine exactly.

    `published` is the published table (`suppressed`, volumes null where suppressed), `cells`
    the same cells with `parent_code` (the relations are public knowledge: they follow from the
    region hierarchy). Every relation is one linear equation A x = b in the suppressed volumes x
    (`_HiddenSystem`). A cell is determined exactly when its unit vector lies in the row space
    of A, i.e. when its leverage a_i' (A A')^+ a_i is 1 (a_i: its column of A); it counts as
    determined when the leverage falls short of 1 by less than `tolerance`. Returns the
    determined cells with the volume the attacker recovers, a_i' (A A')^+ b.

    A cell sits in at most three relations, so A and A A' are sparse, and A A' is block
    diagonal: a block per year and product, and within it per connected component of the
    relations that share suppressed cells (published cells are constants and link nothing). A
    dense pseudo-inverse of A A' is cubic in the relations (hours and gigabytes for a national
    table); its sparse factorisation (`_GramPseudoInverse`, with a fill-reducing ordering that
    keeps every component's fill inside it) grows with the table. Random probes of the null
    space of A (`_candidates`) rule out almost every cell at once; the leverage of the rest is
    computed exactly.
    """
    table = (
        cells.select(*CELL_KEYS, "parent_code")
        .join(published.select(*CELL_KEYS, "suppressed", "volume"), on=CELL_KEYS)
        .with_row_index("cell")
    )
    found = _determined(_hidden_system(table, relations(table.drop("cell"))), tolerance)
    return table.join(found, on="cell").select(*CELL_KEYS, "recovered_volume")


@dataclass(frozen=True)
class _HiddenSystem:
    """The attacker's equations A x = b: a row per relation with a suppressed member, a column
    per suppressed cell (`cells`: its row of the audited table), +1 for a part and -1 for the
    total; b is what the relation's published members leave for its suppressed ones."""

    matrix: sparse.csc_array
    rhs: np.ndarray
    cells: np.ndarray


def _hidden_system(table: pl.DataFrame, links: pl.DataFrame) -> _HiddenSystem:
    """The system of `table` (`cell`, `CELL_KEYS`, `parent_code`, `suppressed`, `volume`) and its
    `relations` (`links`, by the same row numbers: a caller that audits round after round has
    them). Relation ids carry year and product, so all of them make one block-diagonal system."""
    members = (
        links.filter(pl.col("is_total").any().over("relation"))  # without its total, no equation
        .join(table.select("cell", "suppressed", "volume"), on="cell")
        .with_columns(sign=pl.when(pl.col("is_total")).then(-1.0).otherwise(1.0))
    )
    hidden = members.filter(pl.col("suppressed"))
    rhs = members.filter(~pl.col("suppressed")).group_by("relation").agg(b=-(pl.col("sign") * pl.col("volume")).sum())
    rows = (
        hidden.select("relation")
        .unique()
        .sort("relation")
        .join(rhs, on="relation", how="left")
        .with_columns(pl.col("b").fill_null(0.0))
        .with_row_index("row")
    )
    columns = hidden.select("cell").unique().sort("cell").with_row_index("column")
    entries = hidden.join(rows.select("relation", "row"), on="relation").join(columns, on="cell")
    matrix = sparse.csc_array(
        (entries["sign"].to_numpy(), (entries["row"].to_numpy(), entries["column"].to_numpy())),
        shape=(rows.height, columns.height),
    )
    return _HiddenSystem(matrix, rows["b"].to_numpy(), columns["cell"].to_numpy())


class _GramPseudoInverse:
    """Readouts of y = (A A')^+ v for vectors v in the range of A, from one sparse factorisation.

    G = A A' is singular where relations depend on each other (a nation that is the sum of its
    gemeenten and of its postcode4 areas), so it is not inverted but regularised and refined
    (iterated Tikhonov): G + dD is factorised once (D the diagonal of G, d = `_RIDGE`, so the
    regularisation is relative to each relation's size, whatever the block), and each step
    y <- y + (G + dD)^-1 (v - G y) shrinks the error along every direction of the range of G by
    d / (mu + d) (mu its eigenvalue relative to D). What rounding puts in the null space of G
    grows there, but every readout the audit needs is a'y with a in the range of A, which the
    null space does not reach; so convergence is judged on the readout, not on y."""

    def __init__(self, matrix: sparse.csc_array) -> None:
        self.matrix = matrix
        self._gram = sparse.csc_array(matrix @ matrix.T)
        regularised = self._gram + sparse.diags_array(_RIDGE * self._gram.diagonal())
        # G + dD is symmetric positive definite: diagonal pivots are stable, and keep the ordering
        self._factor = splu(
            sparse.csc_matrix(regularised),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )

    def read(self, v: np.ndarray, readout: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """`readout(y)` (linear, one column of output per column of `v`) for y = G^+ v."""
        y = np.zeros_like(v)
        total = readout(y)
        for _ in range(_MAX_REFINEMENTS):
            step = self._factor.solve(np.ascontiguousarray(v - self._gram @ y))
            y += step
            change = readout(step)
            total += change
            if _settled(change, total, _REFINED):
                return total
        if _settled(change, total, _SETTLED):
            return total
        raise RuntimeError(f"the disclosure audit's algebra did not converge in {_MAX_REFINEMENTS} steps")

    def cell_values(self, v: np.ndarray) -> np.ndarray:
        """A' G^+ v: per suppressed cell (row) what the relations give it, per column of `v`."""
        return self.read(v, lambda y: self.matrix.T @ y)


def _settled(change: np.ndarray, total: np.ndarray, relative: float) -> bool:
    """Whether the last step changed every column of a readout by at most `relative` of it."""
    return bool((np.abs(change).max(axis=0) <= relative * np.abs(total).max(axis=0)).all())


def _candidates(system: _HiddenSystem, gram: _GramPseudoInverse) -> np.ndarray:
    """Columns of A that may be determined: the others have a nonzero entry in a random vector
    of the null space of A, (I - A' G^+ A) r, which a determined cell never has.

    With r standard normal, entry i of a probe is normal with variance 1 - h_i. A cell the
    exact test calls determined (1 - h_i below 1e-6, a standard deviation below 1e-3) reaches
    `_PROBE_CUT` in one of the `_PROBES` probes with probability below 1e-22, so the probes
    decide what is computed exactly, not the answer; an undetermined cell stays below it in all
    of them rarely (4e-9 for 1 - h_i = 1) and then costs one exact leverage. The seed is fixed:
    the audit of a table is the same every run."""
    probes = np.random.default_rng(_PROBE_SEED).standard_normal((system.matrix.shape[1], _PROBES))
    null_part = probes - gram.cell_values(system.matrix @ probes)
    return np.flatnonzero((np.abs(null_part) < _PROBE_CUT).all(axis=1))


def _leverages(gram: _GramPseudoInverse, columns: np.ndarray) -> np.ndarray:
    """The exact leverage a_i' G^+ a_i of each column in `columns`, `_BATCH` at a time (each
    holds a dense vector over the relations per cell)."""
    found = [np.empty(0)]
    for start in range(0, columns.size, _BATCH):
        units = gram.matrix[:, columns[start : start + _BATCH]]
        found.append(gram.read(units.toarray(), partial(_own_entries, units)).ravel())
    return np.concatenate(found)


def _own_entries(units: sparse.csc_array, y: np.ndarray) -> np.ndarray:
    """a_j' y_j for each column j: the leverage readout of a batch (row vector)."""
    return np.asarray(units.multiply(y).sum(axis=0)).reshape(1, -1)


def _determined(system: _HiddenSystem, tolerance: float) -> pl.DataFrame:
    """The determined cells of `system` (`cell`, `recovered_volume`)."""
    schema = {"cell": pl.UInt32, "recovered_volume": pl.Float64}
    if system.cells.size == 0:
        return pl.DataFrame(schema=schema)
    gram = _GramPseudoInverse(system.matrix)
    candidates = _candidates(system, gram)
    determined = candidates[_leverages(gram, candidates) > 1 - tolerance]
    values = gram.cell_values(system.rhs[:, None])[determined, 0]
    return pl.DataFrame({"cell": system.cells[determined], "recovered_volume": values}, schema=schema)


@dataclass(frozen=True)
class Atoms:
    """The connections behind one row of figures, grouped into atoms: connections that enter the
    figures alike. `pattern[d, f]` is what a connection of atom d adds to figure f per unit of
    its volume (its largest contribution to any figure); per atom, `n_connections`, `volume`
    (the sum of those units), `largest` (the largest one) and, for a dwelling row, the
    `objects` its connections reach (None for other rows: the dwelling rule does not apply)."""

    pattern: np.ndarray
    n_connections: np.ndarray
    volume: np.ndarray
    largest: np.ndarray
    objects: tuple[frozenset[str], ...] | None = None


@lru_cache(maxsize=4096)  # rows share few shapes: most have one to four atoms
def _disclosed_weights(coefficients: bytes, n_figures: int, n_atoms: int) -> np.ndarray:
    """Weights (part x atom) of every part that figures with these coefficients (figure x atom)
    give away: each figure, each difference of two, and every union of atoms in their span."""
    matrix = np.frombuffer(coefficients).reshape(n_figures, n_atoms)
    pairs = [matrix[i] - matrix[j] for i, j in itertools.combinations(range(n_figures), 2)]
    if n_atoms > MAX_ATOMS:  # every atom passing makes every sum of them pass: demand that instead
        unions = np.eye(n_atoms)
    else:
        _, singular, vt = np.linalg.svd(matrix)
        basis = vt[: int((singular > _EPS * max(singular.max(initial=0.0), 1.0)).sum())]
        subsets = np.array(list(itertools.product((0.0, 1.0), repeat=n_atoms))[1:])
        residual = subsets - subsets @ basis.T @ basis
        unions = subsets[np.linalg.norm(residual, axis=1) < 1e-7]
    weights = np.unique(np.round(np.vstack([matrix, *pairs, unions]), 9), axis=0)
    return weights[np.abs(weights).max(axis=1) > _EPS]


def _reach_fewer(objects: Iterable[frozenset[str]], limit: int) -> bool:
    """Whether atoms reaching these objects reach fewer than `limit` together. Counting stops at
    `limit`: a national dwelling row reaches millions of objects, and every part of it, for
    every choice of figures, would otherwise build their union."""
    reached: set[str] = set()
    for atom in objects:
        if len(atom) >= limit:
            return False
        reached |= atom
        if len(reached) >= limit:
            return False
    return True


def _part_breaks(atoms: Atoms, weights: np.ndarray, rules: DisclosureRules) -> list[str | None]:
    """Per part (row of `weights`, one weight per atom): the primary rule it breaks, as a
    reason, or None. A part of no connection is nothing and breaks nothing."""
    inside = np.abs(weights) > _EPS
    n = inside.astype(float) @ atoms.n_connections
    volume = np.abs(weights) @ atoms.volume
    largest = (np.abs(weights) * atoms.largest).max(axis=1, initial=0.0)
    reasons: list[str | None] = []
    for row, count, total, top in zip(inside, n, volume, largest, strict=True):
        if count == 0:
            reasons.append(None)
        elif count < rules.min_connections:
            reasons.append(
                f"a part of {count:.0f} connection{'' if count == 1 else 's'} (fewer than {rules.min_connections})"
            )
        elif atoms.objects is not None and _reach_fewer(itertools.compress(atoms.objects, row), rules.min_dwellings):
            reasons.append(f"a part of fewer than {rules.min_dwellings} dwellings")
        elif top > rules.dominance_share * total:
            reasons.append(f"a part one connection dominates (over {100 * rules.dominance_share:.0f} %)")
        else:
            reasons.append(None)
    return reasons


def _row_weights(atoms: Atoms, figures: list[int]) -> np.ndarray:
    coefficients = np.ascontiguousarray(atoms.pattern[:, figures].T, dtype=float)
    return _disclosed_weights(np.round(coefficients, 9).tobytes(), *coefficients.shape)


def row_disclosures(
    atoms: Atoms, figures: list[int], rules: DisclosureRules, given: list[int] | None = None
) -> list[str]:
    """Why publishing the figures `figures` (columns of `atoms.pattern`) of one row would
    disclose: the broken rule of every part they give away exactly that breaks one (empty: safe).

    The attacker's algebra within a row: any combination of its figures is a weighted sum over
    its connections, and a union of atoms whose indicator lies in the span of the figures is
    determined exactly. Beyond every figure and every difference of two (which the span holds
    only as weighted sums), every such union must pass the primary rules.

    `given`: figures published in any case, under rules of their own (a cell's volume, which
    the statistics table judges): a part they give away alone is theirs, not these figures'."""
    weights = _row_weights(atoms, figures)
    if given:
        # parts are rounded to 9 decimals on both sides, so a part the given figures hold is equal
        # to it (or to its negation: a difference taken the other way round) to the last bit
        held = _row_weights(atoms, given)
        same = (weights[:, None] == held[None]).all(axis=2)
        opposite = (weights[:, None] == -held[None]).all(axis=2)
        weights = weights[~(same | opposite).any(axis=1)]
    return sorted({reason for reason in _part_breaks(atoms, weights, rules) if reason is not None})


def exposed_parts(
    cells: pl.DataFrame, hidden: pl.Series, sensitive: pl.Series, weights: pl.DataFrame, rules: DisclosureRules
) -> pl.DataFrame:
    """Relations in which the published figures of some cells give away a part of hidden ones:
    `relation` and `reason`.

    A part figure of a cell (e.g. the volume through probabilistic links) is its cell's share of
    a sum over connections: `weights` holds per (`cell`: row of `cells`, `ean`) the connection's
    `weight` in it and the `objects` it reaches. Part figures add up over the relations of
    `relations` as volumes do. With the total known, the hidden parts of a relation sum to the
    total minus the rest: one hidden part is then given away exactly, several give away their
    sum, which must pass the primary rules. The sum is taken per connection, as signed parts
    (a connection leaving one cell for another) cancel. A hidden total whose parts are all known
    is given away. `sensitive` cells (their whole volume is suppressed) disclose in any case."""
    flags = pl.DataFrame(
        {
            "cell": np.arange(cells.height, dtype=np.uint32),
            "hidden": hidden,
            "sensitive": sensitive,
            "sector": cells["sector"],
        }
    )
    members = relations(cells).join(flags, on="cell")
    per_relation = (
        members.group_by("relation")
        .agg(
            has_total=pl.col("is_total").any(),
            total_hidden=(pl.col("is_total") & pl.col("hidden")).any(),
            n_hidden=(~pl.col("is_total") & pl.col("hidden")).sum(),
            any_sensitive=(pl.col("hidden") & pl.col("sensitive")).any(),
            dwellings=(pl.col("sector") == DWELLING_SECTOR).all(),
        )
        .filter(pl.col("has_total"))
    )
    given_away = members.join(per_relation, on="relation").filter(
        (~pl.col("total_hidden") & ~pl.col("is_total") & pl.col("hidden"))
        | (pl.col("total_hidden") & (pl.col("n_hidden") == 0) & pl.col("is_total"))
    )
    per_connection = (
        given_away.select("relation", "cell")
        .join(weights, on="cell")
        .group_by("relation", "ean")
        .agg(net=stable_sum("weight"), objects=pl.col("objects").explode().drop_nulls().unique())
        .filter(pl.col("net").abs() > _EPS)
    )
    sums = per_connection.group_by("relation").agg(
        n=pl.len(),
        volume=pl.col("net").abs().sum(),
        largest=pl.col("net").abs().max(),
        n_objects=pl.col("objects").explode().drop_nulls().n_unique(),
    )
    checked = per_relation.join(sums, on="relation", how="left").with_columns(
        pl.col("n", "n_objects").fill_null(0), pl.col("volume", "largest").fill_null(0.0)
    )
    alone = (~pl.col("total_hidden") & (pl.col("n_hidden") == 1)) | (pl.col("total_hidden") & (pl.col("n_hidden") == 0))
    together = ~pl.col("total_hidden") & (pl.col("n_hidden") >= 2) & (pl.col("n") > 0)
    reason = (
        pl.when(alone & ((pl.col("n") > 0) | pl.col("any_sensitive")))
        .then(pl.lit("a withheld figure is the total minus the rest"))
        .when(together & (pl.col("n") < rules.min_connections))
        .then(pl.format("withheld figures together give away a part of {} connections", pl.col("n")))
        .when(together & pl.col("dwellings") & (pl.col("n_objects") < rules.min_dwellings))
        .then(pl.format("withheld figures together give away a part of {} dwellings", pl.col("n_objects")))
        .when(together & (pl.col("largest") > rules.dominance_share * pl.col("volume")))
        .then(pl.lit("withheld figures together give away a part one connection dominates"))
    )
    return checked.select("relation", reason=reason).drop_nulls("reason").sort("relation")


def protect_parts(
    cells: pl.DataFrame, hidden: pl.Series, sensitive: pl.Series, weights: pl.DataFrame, rules: DisclosureRules
) -> pl.Series:
    """Secondary suppression for part figures (see `exposed_parts`): `hidden` and what must be
    withheld with it. One cell is added per exposed relation and round: the published part with
    the least in it that has anything in it, else the total, else an empty part. Then no hidden
    part that has anything in it, nor any `sensitive` cell, may follow from a combination of
    relations (`_shield`; an empty part, which costs nothing, comes first there)."""
    links = relations(cells)
    size = weights.filter(pl.col("weight").abs() > _EPS).group_by("cell").agg(part=pl.col("weight").abs().sum())
    index = np.arange(cells.height, dtype=np.uint32)
    part = pl.DataFrame({"cell": index}).join(size, on="cell", how="left")["part"].fill_null(0.0).to_numpy()
    matters = sensitive.to_numpy() | (part > 0)
    state = hidden.alias("hidden")
    for _ in range(MAX_ROUNDS):
        exposed = exposed_parts(cells, state, sensitive, weights, rules)
        if exposed.height == 0:
            shielded = _shield(cells, links, state.to_numpy(), matters, part)
            if shielded.size == 0:
                return state
            state = state | pl.Series(np.isin(index, shielded))
            continue
        rank = pl.when(pl.col("is_total")).then(1).when(pl.col("part").is_null()).then(2).otherwise(0)
        added = (
            links.join(exposed.select("relation"), on="relation")
            .join(pl.DataFrame({"cell": index, "hidden": state}), on="cell")
            .filter(~pl.col("hidden"))
            .join(size, on="cell", how="left")
            .sort([pl.col("relation"), rank, pl.col("part"), pl.col("cell")], nulls_last=True)
            .unique("relation", keep="first")
        )
        state = state | pl.Series(np.isin(index, added["cell"].to_numpy()))
    raise RuntimeError(f"secondary suppression of part figures did not settle in {MAX_ROUNDS} rounds")
