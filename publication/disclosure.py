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
"""

from __future__ import annotations

import numpy as np
import polars as pl

from koppelwerk.config import DisclosureRules
from publication.cells import CELL_KEYS, NATIONAL, TOTAL_SECTOR

DWELLING_SECTOR = "woonfunctie"
_GROUP = ["year", "product"]
MAX_ROUNDS = 100


def primary_suppression(rules: DisclosureRules) -> pl.Expr:
    """True for a cell that may not be published on its own merits."""
    too_few = pl.col("n_connections") < rules.min_connections
    few_dwellings = (pl.col("sector") == DWELLING_SECTOR) & (pl.col("n_objects") < rules.min_dwellings)
    dominated = pl.col("max_connection_volume") > rules.dominance_share * pl.col("volume")
    return too_few | few_dwellings | dominated


def relations(cells: pl.DataFrame) -> pl.DataFrame:
    """The additive relations between cells: `relation` (an id), `cell` (the row index of
    `cells`), `is_total`. `cells` has `CELL_KEYS` and `parent_code` (see
    `publication.statistics.aggregate_cells`)."""
    indexed = cells.with_row_index("cell")
    # a region's totaal is the sum of its sectors
    by_sector = indexed.with_columns(
        relation=pl.concat_str(pl.lit("sectors"), *[pl.col(c).cast(pl.String) for c in ("year", "product", "region_level", "region_code")], separator="|"),
        is_total=pl.col("sector") == TOTAL_SECTOR,
    )
    # a parent region's cell is the sum of its child regions' cells, sector by sector
    children = indexed.filter(pl.col("parent_code").is_not_null())
    child_relation = pl.concat_str(
        pl.lit("regions"), *[pl.col(c).cast(pl.String) for c in ("year", "product", "sector")],
        pl.col("region_level"), pl.col("parent_code"), separator="|",
    )
    parent_level = pl.when(pl.col("region_level") == "woonplaats").then(pl.lit("gemeente")).otherwise(pl.lit(NATIONAL))
    parents = (
        children.select("year", "product", "sector", "region_level", "parent_code", relation=child_relation, parent_level=parent_level)
        .unique("relation")
        .join(indexed.select("year", "product", "sector", parent_level="region_level", parent_code="region_code", cell="cell"),
              on=["year", "product", "sector", "parent_level", "parent_code"])
    )
    return pl.concat([
        by_sector.select("relation", "cell", "is_total"),
        children.select(relation=child_relation, cell="cell", is_total=pl.lit(False)),
        parents.select("relation", "cell", is_total=pl.lit(True)),
    ])


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
        hidden_volume=pl.col("volume").filter(hidden_parts).sum(),
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
            state.select("cell", "suppressed", "volume", "n_connections", "n_objects", "max_connection_volume", "sector"),
            on="cell",
        )
        fix = _unsafe_relations(members, rules)
        if fix.height == 0:
            break
        state = state.with_columns(suppressed=pl.col("suppressed") | pl.col("cell").is_in(fix["cell"].implode()))
    else:
        raise RuntimeError(f"secondary suppression did not settle in {MAX_ROUNDS} rounds")
    return state.drop("cell")


def recoverable_cells(published: pl.DataFrame, cells: pl.DataFrame, tolerance: float = 1e-9) -> pl.DataFrame:
    """The attack: suppressed cells whose volume the published cells determine exactly.

    `published` is the published table (`suppressed`, volumes null where suppressed), `cells`
    the same cells with `parent_code` (the relations are public knowledge: they follow from the
    region hierarchy). For each year and product every relation is one linear equation A x = b in
    the suppressed volumes x. A cell is determined exactly when its unit vector lies in the row
    space of A, i.e. when its leverage a_i' (A A')^+ a_i is 1 (a_i: its column of A). A cell
    sits in at most three relations, so A is sparse and only the small matrix A A' (one row per
    relation) is inverted. Returns the determined cells with the volume the attacker recovers.
    """
    table = cells.select(*CELL_KEYS, "parent_code").join(
        published.select(*CELL_KEYS, "suppressed", "volume"), on=CELL_KEYS
    ).with_row_index("cell")
    members = relations(table.drop("cell")).join(table.select("cell", *_GROUP, "suppressed", "volume"), on="cell")
    members = members.with_columns(sign=pl.when(pl.col("is_total")).then(-1.0).otherwise(1.0))
    found = []
    for (year, product), group in members.group_by(_GROUP):
        hidden = group.filter(pl.col("suppressed"))
        if hidden.height == 0:
            continue
        # b: what the published members of each relation say about its hidden ones
        rhs = group.filter(~pl.col("suppressed")).group_by("relation").agg(b=-(pl.col("sign") * pl.col("volume")).sum())
        rows = hidden.select("relation").unique().join(rhs, on="relation", how="left").with_columns(
            pl.col("b").fill_null(0.0)
        ).with_row_index("row")
        entries = hidden.join(rows.select("relation", "row"), on="relation").select("cell", "row", "sign")
        pairs = entries.join(entries, on="cell", suffix="_q").group_by("row", "row_q").agg(
            g=(pl.col("sign") * pl.col("sign_q")).sum()
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
        per_cell = pl.DataFrame({"cell": pair_terms["cell"], "leverage": leverage_terms}).group_by("cell").agg(
            pl.col("leverage").sum()
        )
        value_terms = entries["sign"].to_numpy() * weights[entries["row"].to_numpy()]
        recovered = pl.DataFrame({"cell": entries["cell"], "value": value_terms}).group_by("cell").agg(pl.col("value").sum())
        determined = per_cell.filter(pl.col("leverage") > 1 - 1e-6).join(recovered, on="cell")
        found += [(cell, value) for cell, _, value in determined.iter_rows()]
    recovered = pl.DataFrame(found, schema={"cell": pl.UInt32, "recovered_volume": pl.Float64}, orient="row")
    return table.join(recovered, on="cell").select(*CELL_KEYS, "recovered_volume")
