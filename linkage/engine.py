"""The staged linker: woonplaats variants resolved, residue evidence first, then deterministic
passes, building-wide connections, probabilistic scoring with assignment against the runner-up,
then the residue.

Every connection leaves here exactly once: as one or more links (shares summing to 1) or as
one residue row. `conservation_violations` checks that promise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from core.config import LinkageSettings, UseProfile
from core.progress import Progress, silent
from linkage.assign import assign, best_candidates, linkage_curve
from linkage.bag_status import is_under_construction
from linkage.collective import common_area_links, expand_collective_gas
from linkage.description import describe
from linkage.deterministic import LINK_COLUMNS, PASS_METHODS, exact_address_pass, registered_bag_id_pass
from linkage.partitions import region_partitions
from linkage.probabilistic import products_linked, score_candidates, term_frequencies, train_model
from linkage.residue import capacity_classes, pre_link_residue, unlinked_residue
from linkage.woonplaats import resolve_woonplaatsen, woonplaats_variants

RESIDUE_COLUMNS = ["ean", "residue_class", "reason", "netbeheerder"]
# The row order of every output: joins, group_bys and DuckDB return rows in any order, and the
# same inputs must give byte-identical files. (ean, object_id) is unique in links, ean in the others.
LINK_ORDER = ["ean", "object_id"]

# The columns of the normalised registers `link` reads: the comparison keys and what the residue,
# the scoring and collective gas look at, not the raw address fields the keys were made from. A
# caller holding a national register reads only these (`pipelines.linkage`).
BAG_INPUT_COLUMNS = [
    "object_id",
    "nummeraanduiding_id",
    "hoofdadres",
    "huisnummer",
    "gemeente_code",
    "gebruiksdoel",
    "oppervlakte",
    "status",
    "pand_id",
    "x",
    "y",
    "postcode_clean",
    "suffix_key",
    "street_key",
    "street_key24",
    "street_cut",
    "woonplaats_key",
]
CONNECTION_INPUT_COLUMNS = [
    "ean",
    "product",
    "netbeheerder",
    "straatnaam",
    "huisnummer",
    "locatieomschrijving",
    "x",
    "y",
    "fysieke_status",
    "aansluitcapaciteit",
    "postcode_clean",
    "suffix_key",
    "street_key",
    "street_key24",
    "street_cut",
    "woonplaats_key",
    "in_bedrijf",
    "capacity_key",
    "bag_id_clean",
]


@dataclass(frozen=True)
class LinkageResult:
    """`links` and `residue` as in the spec; `curve`: link rate vs estimated precision per
    threshold; `model`: the trained Splink settings; `unresolved_candidates`: the best candidate
    (`ean`, `object_id`, `match_probability`) of each connection the assignment did not link,
    for statistics at a looser threshold."""

    links: pl.DataFrame
    residue: pl.DataFrame
    curve: pl.DataFrame
    model: dict[str, Any]
    unresolved_candidates: pl.DataFrame


def link(
    bag: pl.DataFrame,
    connections: pl.DataFrame,
    profile: UseProfile,
    settings: LinkageSettings | None = None,
    duckdb_config: Mapping[str, str] | None = None,
    model: dict[str, Any] | None = None,
    relink: Relink | None = None,
    progress: Progress = silent,
    backend: str = "duckdb",
    spark: Any = None,
) -> LinkageResult:
    """Link normalised connections to normalised BAG rows under a use profile, with the tuning
    numbers of `settings` (by default `LinkageSettings()`, the documented defaults) and Splink's
    DuckDB connection configured by `duckdb_config` (memory limit, spill folder).

    What is learned from the whole delivery (woonplaats variants, the capacity classes, the
    model, which objects the deterministic passes gave a connection of each product) is learned
    nationally; the joins that pair connections with objects run region by region
    (`linkage.partitions`, regions of at most `settings.partition_max_objects` BAG rows), so
    their memory is bounded by a region's size. The links and residue do not depend on the cut.

    `model`, when given, is used instead of training one. A re-link of some records of a
    register the run has linked (`quality.fix_impact`) passes them as `relink` (`Relink`): the
    result then holds those records' links and residue only. `progress` hears of each phase. `backend` and
    `spark`: where the scoring predicts (`core.config.EngineSettings.linkage_backend`, "duckdb" or
    "spark"; `linkage.probabilistic.score_candidates`)."""
    settings = settings or LinkageSettings()
    n_connections = connections.height
    progress("woonplaatsen, descriptions and capacities", 0, n_connections)
    # learned from the whole delivery; what is learned reads none of the keys a woonplaats resolves
    variants = woonplaats_variants(connections, bag, settings)
    described = describe(connections, settings=settings)
    capacities = capacity_classes(connections, described, settings)
    if relink is None:
        connections = resolve_woonplaatsen(connections, bag, variants=variants)
        placed = connections
    else:  # it places and resolves only its own records: not a copy of a national register's keys
        placed = resolve_woonplaatsen(connections.filter(relink.selects()), bag, variants=variants)
        model = relink.model
    residue_parts = [pre_link_residue(placed, described, capacities)]
    n_linkable = placed.height - residue_parts[0].height
    progress("region partitions", n_connections - n_linkable, n_connections)
    # the linkable connections are the placed ones the partitioning keeps: not a national copy
    partitioning = region_partitions(bag, placed, settings.partition_max_objects).without(residue_parts[0]["ean"])

    passes = []
    for i, partition in enumerate(partitioning.order()):
        progress(
            f"common areas and deterministic passes, region {i + 1} of {len(partitioning.order())}",
            n_connections - n_linkable,
            n_connections,
        )
        region_bag = partitioning.bag(bag, partition)
        passes.append(
            (partition, _deterministic(partitioning.connections(placed, partition), region_bag, profile, settings))
        )
    deterministic = pl.concat([found.deterministic for _, found in passes])
    labelled = deterministic.select("ean", "object_id")

    objects_products = products_linked(
        labelled if relink is None else pl.concat([labelled, relink.others_deterministic()]), connections
    )
    if model is None:
        progress("Splink training", deterministic.height, n_connections)
        model = train_model(bag, connections, labelled, settings, duckdb_config, objects_products)
    frequencies = term_frequencies(bag, connections, model)
    # each region's scored pairs kept only as its connections' best candidates (a connection's
    # candidates all lie in its region): the national pairs are never held at once
    best_parts = []
    for i, (partition, found) in enumerate(passes):
        progress(f"Splink scoring, region {i + 1} of {len(passes)}", deterministic.height, n_connections)
        scored = score_candidates(
            partitioning.bag(bag, partition),
            found.remaining,
            labelled,
            to_score=found.remaining["ean"],
            settings=settings,
            duckdb_config=duckdb_config,
            model=model,
            objects_products=objects_products,
            frequencies=frequencies,
            backend=backend,
            spark=spark,
        )
        best_parts.append(best_candidates(scored.pairs))
    progress("assignment, collective gas and residue", deterministic.height, n_connections)
    best = pl.concat(best_parts).sort("ean")
    probabilistic, rejected = assign(best, profile)
    curve = linkage_curve(deterministic, best, n_linkable, profile.min_margin)

    unlinked = []
    for partition, found in passes:
        remaining = found.remaining.join(probabilistic.select("ean"), on="ean", how="anti")
        unlinked.append(unlinked_residue(remaining, partitioning.bag(bag, partition), rejected, capacities))
    if relink is None:
        links = expand_collective_gas(pl.concat([deterministic, probabilistic]), bag, connections, settings)
    else:  # whether a pand's gas meter is its only one depends on the other links in its pand too
        relinked = pl.concat([deterministic, probabilistic])
        # only a gas link can be collective: the others' links it looks at are those in its pand
        gas = relinked.join(placed.filter(pl.col("product") == "GAS").select("ean"), on="ean", how="semi")
        links = expand_collective_gas(
            pl.concat([relinked, relink.others_in_panden_of(gas, bag)]), bag, connections, settings
        ).filter(relink.selects())
    common_areas = pl.concat([found.common_areas for _, found in passes])
    links, construction = _split_under_construction(pl.concat([links, common_areas.lazy()]), bag)
    residue_parts += [construction, *unlinked]

    residue = pl.concat(residue_parts).join(connections.select("ean", "netbeheerder"), on="ean", how="left")
    unresolved_candidates = best.join(rejected.select("ean"), on="ean", how="semi").select(
        "ean", "object_id", "match_probability"
    )
    return LinkageResult(
        # the national links are copied once, here, as they are sorted: not at each step before
        links=links.select(LINK_COLUMNS).sort(LINK_ORDER).collect(engine="streaming"),
        residue=residue.select(RESIDUE_COLUMNS).sort("ean"),
        curve=curve,
        model=model,
        unresolved_candidates=unresolved_candidates.sort("ean"),
    )


@dataclass(frozen=True)
class Relink:
    """Some records of a register the run has linked, to link again (`quality.fix_impact`, after
    correcting them): `eans` those records, `model` the run's trained model, `links` the run's
    links.

    What is learned from the whole delivery (woonplaats variants, capacity classes, term
    frequencies) is learned again from the register as given, corrected records included, from
    the few columns each reads (at ten million objects about a minute of the re-link's six and
    a half). Only `eans` are resolved against the woonplaats variants, paired with objects and
    scored. What the other connections' links take part in is read from the run's `links`: the
    objects the deterministic passes gave a connection of each product (a scoring feature), and
    the gas meters of a pand (collective gas). One thing differs from linking the whole register
    again: a collective gas connection's object counts no gas connection of its own, since the
    run's links keep only the expanded links.
    """

    eans: pl.Series
    model: dict[str, Any]
    links: pl.DataFrame

    def selects(self) -> pl.Expr:
        return pl.col("ean").is_in(self.eans.implode())

    def others_in_panden_of(self, links: pl.DataFrame, bag: pl.DataFrame) -> pl.DataFrame:
        """The run's links of the other connections to objects in the panden `links` reach: all
        that collective gas looks at for these. One query, narrowed to those panden before it
        leaves out the records linked again: not a copy of the national links."""
        panden = bag.lazy().select("object_id", "pand_id").drop_nulls()
        reached = panden.join(links.lazy().select("object_id").unique(), on="object_id", how="semi").select("pand_id")
        objects = panden.join(reached.unique(), on="pand_id", how="semi").select("object_id")
        others = self.links.lazy().join(objects, on="object_id", how="semi").filter(~self.selects())
        return others.select(LINK_COLUMNS).collect()

    def others_deterministic(self) -> pl.DataFrame:
        """`ean` and `object_id` of the run's deterministic links of the other connections."""
        deterministic = pl.col("method").is_in(PASS_METHODS) & ~self.selects()
        return self.links.lazy().filter(deterministic).select("ean", "object_id").collect()


@dataclass(frozen=True)
class _Placed:
    """What the address passes made of one region's linkable connections: common-area links,
    deterministic links, and the connections left for the model."""

    common_areas: pl.DataFrame
    deterministic: pl.DataFrame
    remaining: pl.DataFrame


def _deterministic(
    linkable: pl.DataFrame, bag: pl.DataFrame, profile: UseProfile, settings: LinkageSettings
) -> _Placed:
    """Common areas, then the deterministic passes, each taking what the ones before left."""
    common_areas = common_area_links(linkable, bag, settings)
    remaining = linkable.join(common_areas.select("ean"), on="ean", how="anti")
    link_parts: list[pl.DataFrame] = []
    for linkage_pass in (registered_bag_id_pass, exact_address_pass):
        links = linkage_pass(remaining, bag, settings)
        links = links.filter(pl.col("match_probability") >= profile.min_match_probability)
        link_parts.append(links)
        remaining = remaining.join(links.select("ean"), on="ean", how="anti")
    return _Placed(common_areas, pl.concat(link_parts), remaining)


def _split_under_construction(links: pl.LazyFrame, bag: pl.DataFrame) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """A connection whose only objects are still being built is a construction connection.
    `links` stay a query: only the few connections with an object being built are collected."""
    status = bag.select("object_id", "status").unique("object_id")
    # only a connection with an object being built can have nothing else: the rest is not looked at
    building = status.filter(is_under_construction(pl.col("status"))).select("object_id")
    maybe = links.join(building.lazy(), on="object_id", how="semi").select("ean").unique()
    flagged = (
        links.join(maybe, on="ean", how="semi")
        .join(status.lazy(), on="object_id", how="left")
        .with_columns(building=is_under_construction(pl.col("status")).fill_null(False))
        .collect(engine="streaming")
    )
    # of several objects' statuses the reason names the first in sort order, not whichever object
    # the join happened to put first (a `.min()` here trips a polars 2.1 panic in the format below)
    all_building = (
        flagged.sort("ean", "status", nulls_last=True)
        .group_by("ean", maintain_order=True)
        .agg(pl.col("building").all(), pl.col("status").first())
    )
    construction_eans = all_building.filter(pl.col("building"))
    residue = construction_eans.select(
        "ean",
        residue_class=pl.lit("construction_site"),
        reason=pl.format("the BAG object at its address has status '{}'", pl.col("status")),
    )
    return links.join(construction_eans.select("ean").lazy(), on="ean", how="anti"), residue


def conservation_violations(connections: pl.DataFrame, links: pl.DataFrame, residue: pl.DataFrame) -> pl.DataFrame:
    """Connections that are not in exactly one of links and residue, or whose shares do not sum
    to 1. Empty when every connection is accounted for exactly once."""
    share_sums = links.group_by("ean").agg(share=pl.col("allocation_share").sum())
    placed = pl.concat(
        [
            share_sums.select("ean", where=pl.lit("links"), share="share"),
            residue.select("ean", where=pl.lit("residue"), share=pl.lit(1.0)),
        ]
    )
    tally = connections.select("ean").join(placed, on="ean", how="full", coalesce=True)
    per_ean = tally.group_by("ean").agg(n_places=pl.col("where").drop_nulls().len(), share=pl.col("share").sum())
    return per_ean.filter((pl.col("n_places") != 1) | ((pl.col("share") - 1.0).abs() > 1e-9))
