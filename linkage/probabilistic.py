"""Probabilistic scoring of the connections the deterministic passes could not place.

Splink 5 (DuckDB) scores candidate pairs from `linkage.candidates` with the Dutch comparisons
of `linkage.comparisons`. The model is trained from what the data itself provides, not by EM:

- **u** by random sampling of (BAG row, connection) pairs: almost all random pairs are non-links.
  The pairs are drawn from at most `LinkageSettings.u_sample_records` records a side, so a
  national register is not copied into Splink whole.
- **m** from labelled pairs, level by level. Deterministic labels were selected *because* their
  postcode, huisnummer and suffix agree exactly, so counting those comparisons on them would give
  m(exact) = 1 and infinite penalties for disagreement. Each comparison is therefore counted
  only on labels whose selection did not look at it:
  - street, woonplaats and distance: on all labels (selected on postcode + huisnummer + suffix);
  - registered BAG id: on all labels too (the union of the two passes is "exactly one object
    at exactly this address", whatever the id says);
  - product taken (the object has another deterministic link of this product): on all labels,
    not counting the label itself;
  - postcode, huisnummer and suffix: on *id-anchored* pairs, where the register's BAG id names a
    live object and the other address fields agree (e.g. for the postcode: huisnummer, suffix
    and street agree, postcode free). A wrong-sibling id makes these slightly pessimistic, which
    is the safe side.
  Every m is then floored at `LinkageSettings.m_floor` and renormalised: labels drawn from clean
  records still under-represent rare noise.
- **probability_two_random_records_match** (lambda): each connection truly serves about one
  object, so lambda = expected links / (BAG objects x connections) = 1 / objects. It is the prior
  over *all* pairs, as u is estimated over all pairs; the blocking evidence is already in the
  comparisons (a candidate pair agrees on the blocking keys), so using links / candidate pairs
  would count it twice. `ScoredPairs.model` records it with the number of candidate pairs.

Scores are per (ean, object_id): an object with a nevenadres has several BAG rows and keeps its
best-scoring one. Read the result per connection, best against runner-up (`rank`, `margin`):
sibling units at one house number all score high.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
from splink import DuckDBAPI, Linker, SettingsCreator

from core.config import LinkageSettings
from linkage.candidates import candidate_bag_rows, candidate_pairs, candidate_row_ids
from linkage.comparisons import comparisons

# Columns both sides carry as they are; the others (`bag_ref`, `pand_id`, `is_register`, `product`,
# `n_elk`, `n_gas`) are set per side in `_bag_records` and `_connection_records`.
_SHARED_COLUMNS = [
    "postcode_clean",
    "huisnummer",
    "suffix_key",
    "street_key",
    "street_key24",
    "street_cut",
    "woonplaats_key",
    "gemeente_code",
    "x",
    "y",
]
# Which other comparisons must be at their exact level for a pair to count towards a
# comparison's m on the id-anchored pairs (`None`: count it on the deterministic labels).
_ANCHORS: dict[str, list[str] | None] = {
    "postcode_clean": ["huisnummer", "suffix_key", "street_key"],
    "huisnummer": ["postcode_clean", "suffix_key", "street_key"],
    "suffix_key": ["postcode_clean", "huisnummer", "street_key"],
    "street_key": None,
    "woonplaats_key": None,
    "distance": None,
    "bag_ref": None,
    "product_taken": None,
}
# Where `score_candidates` predicts (`core.config.EngineSettings.linkage_backend`).
BACKENDS = ("duckdb", "spark")
SCORE_COLUMNS = ["ean", "object_id", "match_weight", "match_probability", "rank", "margin", "match_key"]


@dataclass(frozen=True)
class ScoredPairs:
    """`pairs`: one row per (ean, object_id) candidate, `match_weight` (log2 Bayes factor with
    the prior), `match_probability`, `rank` within the connection (1 = best), `margin` (match
    weight of the best minus the runner-up, on rank 1 only; null if there is no runner-up) and
    `match_key` (first blocking rule that found the pair, see `linkage.candidates.RULE_NAMES`).
    `model`: the trained Splink settings (JSON-serialisable), loadable with `Linker(..., model)`."""

    pairs: pl.DataFrame
    model: dict[str, Any]


def train_model(
    bag: pl.DataFrame,
    connections: pl.DataFrame,
    labelled_pairs: pl.DataFrame,
    settings: LinkageSettings | None = None,
    duckdb_config: Mapping[str, str] | None = None,
    objects_products: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """The model of a register (u by random sampling, m from the labels: see the module
    docstring), JSON-serialisable, for `score_candidates`.

    Args:
        bag: normalised BAG rows, nevenadressen included: the whole BAG.
        connections: the WHOLE normalised register (training uses the labelled rows in it).
        labelled_pairs: `ean`, `object_id` of unambiguous deterministic links (all passes).
        settings: the tuning numbers (`m_floor`, `u_sample_pairs`, `m_sample_connections`, `seed`,
            `threads`); by default `LinkageSettings()`.
        duckdb_config: the `config` of Splink's DuckDB connection (memory limit, spill folder:
            `core.config.RunConfig.duckdb_config`); its threads are `settings.threads`.
        objects_products: `products_linked(labelled_pairs, connections)`, where the caller has it.
    """
    settings = settings or LinkageSettings()
    if objects_products is None:
        objects_products = products_linked(labelled_pairs, connections)
    row_ids = candidate_row_ids(bag)
    pool = _training_pool(connections, row_ids, labelled_pairs, settings)
    # u's random pairs come from at most `u_sample_records` records a side, m's from the pool's:
    # neither register is copied whole into Splink's records
    u_records = _records(
        candidate_bag_rows(bag, _at_most(row_ids, settings)["bag_row"]),
        bag,
        _at_most(connections, settings),
        objects_products,
    )
    pool_records = _records_of_pairs(pool, bag, connections, objects_products)
    con = _connect(duckdb_config, settings)
    try:
        db_api = DuckDBAPI(connection=con)
        tables = _register(db_api, u_records)
        n_objects = max(row_ids["object_id"].n_unique(), 1)
        return _trained_model(con, tables, n_objects, u_records, pool, pool_records, settings)
    finally:
        con.close()


def _at_most(records: pl.DataFrame, settings: LinkageSettings) -> pl.DataFrame:
    """All `records`, or a sample of `settings.u_sample_records` of them (drawn with `seed`)."""
    if records.height <= settings.u_sample_records:
        return records
    return records.sample(n=settings.u_sample_records, seed=settings.seed)


def score_candidates(
    bag: pl.DataFrame,
    connections: pl.DataFrame,
    labelled_pairs: pl.DataFrame,
    to_score: pl.Series | None = None,
    settings: LinkageSettings | None = None,
    duckdb_config: Mapping[str, str] | None = None,
    model: dict[str, Any] | None = None,
    objects_products: pl.DataFrame | None = None,
    frequencies: dict[str, pl.DataFrame] | None = None,
    backend: str = "duckdb",
    spark: Any = None,
) -> ScoredPairs:
    """Score the candidates of the connections in `to_score` with `model` (by default one
    trained here: `train_model` of the same arguments).

    Args:
        bag: normalised BAG rows, nevenadressen included: all the candidates of `to_score`.
        connections: normalised register rows, those of `to_score` among them.
        labelled_pairs: `ean`, `object_id` of unambiguous deterministic links (all passes).
        to_score: EANs to score; by default every connection not in `labelled_pairs`.
        settings, duckdb_config: as for `train_model`.
        model: a model trained on the register (`train_model`, or `ScoredPairs.model` of an
            earlier call): a re-link of a few corrected records, or one region of a
            partitioned linkage, costs their scoring only.
        objects_products: per object its deterministic links by product (`products_linked` of
            the whole register), where `connections` is only part of it.
        frequencies: the term frequencies of the whole delivery (`term_frequencies`), where
            `bag` and `connections` are only part of it; by default those of `bag` and
            `connections`.
        backend: where the prediction runs (`core.config.EngineSettings.linkage_backend`):
            "duckdb", or "spark" (`linkage.spark_scoring`, on `spark`, a `SparkSession`; by default
            the active one or a local one). Training, when done here, stays on DuckDB.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    settings = settings or LinkageSettings()
    if model is None:
        model = train_model(bag, connections, labelled_pairs, settings, duckdb_config)
    if to_score is None:
        to_score = connections.join(labelled_pairs.select("ean"), on="ean", how="anti")["ean"]
    pairs = candidate_pairs(connections.filter(pl.col("ean").is_in(to_score.implode())), bag)
    if pairs.height == 0:
        return ScoredPairs(pairs=_empty_scores(), model=model)
    if objects_products is None:
        objects_products = products_linked(labelled_pairs, connections)
    if frequencies is None:
        frequencies = term_frequencies(bag, connections, model)
    # Splink gets the records of the pairs only: the national pass scores a few connections
    # against the whole BAG, whose every row would otherwise be copied into Splink's table
    records = _records_of_pairs(pairs, bag, connections, objects_products)
    if backend == "spark":
        from linkage.spark_scoring import predict_on_spark  # pyspark: the optional extra `spark`

        scored = predict_on_spark(model, *records, pairs, spark, settings, frequencies)
        return ScoredPairs(pairs=_per_object(scored, pairs), model=model)
    con = _connect(duckdb_config, settings)
    try:
        db_api = DuckDBAPI(connection=con)
        tables = _register(db_api, records)
        scorer = _quiet(Linker(tables, json.loads(json.dumps(model))))
        for column, frequency in frequencies.items():
            scorer.table_management.register_term_frequency_lookup(db_api.register(frequency), column)
        scored = _predict(scorer, db_api, pairs)
    finally:
        con.close()
    return ScoredPairs(pairs=_per_object(scored, pairs), model=model)


def term_frequencies(bag: pl.DataFrame, connections: pl.DataFrame, model: dict[str, Any]) -> dict[str, pl.DataFrame]:
    """Per column a `model` level adjusts for its term frequency (`tf_adjustment_column`), how often
    each value occurs among the BAG rows and register records together: `column`, `tf_column`.

    Splink computes these itself from the tables it is given; computed once for the whole
    delivery, they stay the same when a region or a few corrected records are scored alone.
    The SQL is Splink's own (`splink.internals.term_frequencies`), run on DuckDB, so the values
    are Splink's to the last bit (polars' division differs in the last bits).
    """
    columns = sorted(
        {
            level["tf_adjustment_column"]
            for comparison in model["comparisons"]
            for level in comparison["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    )
    # the register's records with the counted columns only: the national register is not copied whole
    register = connections.select("bag_id_clean", *(c for c in columns if c != "pand_id"))
    register = register.join(_pand_of_id(bag), on="bag_id_clean", how="left").select(columns)
    records = pl.concat([candidate_bag_rows(bag.select("status", *columns)).select(columns), register])
    with duckdb.connect() as con:
        con.register("records", records.to_arrow())
        return {
            column: con.sql(
                f'SELECT "{column}", CAST(count(*) AS float8) / (SELECT count("{column}") FROM records) '
                f'AS "tf_{column}" FROM records WHERE "{column}" IS NOT NULL GROUP BY "{column}"'
            ).pl()
            for column in columns
        }


def _connect(duckdb_config: Mapping[str, str] | None, settings: LinkageSettings) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config=dict(duckdb_config or {}))
    con.execute(f"SET threads = {settings.threads}")
    return con


def _records(
    bag_rows: pl.DataFrame, bag: pl.DataFrame, connections: pl.DataFrame, objects_products: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Splink's two input tables: BAG rows and register records."""
    return _bag_records(bag_rows, objects_products), _connection_records(connections, bag)


def _records_of_pairs(
    pairs: pl.DataFrame, bag: pl.DataFrame, connections: pl.DataFrame, objects_products: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Splink's two input tables holding only the BAG rows and connections of `pairs` (`ean`,
    `bag_row`)."""
    return _records(
        candidate_bag_rows(bag, pairs["bag_row"].unique()),
        bag,
        connections.join(pairs.select("ean").unique(), on="ean", how="semi", maintain_order="left"),
        objects_products,
    )


def _register(db_api: DuckDBAPI, records: tuple[pl.DataFrame, pl.DataFrame]) -> list[Any]:
    bag_records, conn_records = records
    return [
        db_api.register(bag_records, dataset_display_name="bag"),
        db_api.register(conn_records, dataset_display_name="connections"),
    ]


def _trained_model(
    con: duckdb.DuckDBPyConnection,
    tables: list[Any],
    n_objects: int,
    u_records: tuple[pl.DataFrame, pl.DataFrame],
    pool: pl.DataFrame,
    pool_records: tuple[pl.DataFrame, pl.DataFrame],
    settings: LinkageSettings,
) -> dict[str, Any]:
    """u by random sampling, m from the labels (see the module docstring). `tables` are the
    registered Splink tables of the BAG and register `u_records`; `pool_records` hold the
    records of the training `pool`'s pairs."""
    splink_settings = SettingsCreator(
        link_type="link_only",
        comparisons=[*comparisons(settings)],
        blocking_rules_to_generate_predictions=[],
        unique_id_column_name="unique_id",
        probability_two_random_records_match=1.0 / n_objects,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    trainer = _quiet(Linker(tables, splink_settings))
    _estimate_u(trainer, u_records[0].height, u_records[1].height, settings)
    model = _saved_model(trainer)
    gammas = _gammas(trainer, con, pool, *pool_records)
    m_estimates = _m_from_labels(gammas, model)
    return _apply_parameters(model, m_estimates, n_pairs_sampled=settings.u_sample_pairs, m_floor=settings.m_floor)


def _estimate_u(linker: Linker, n_bag: int, n_connections: int, settings: LinkageSettings) -> None:
    """u by random sampling. With no records on one side there is no pair to sample (Splink
    would divide by zero) and nothing to score either: the levels keep no u, and
    `_apply_parameters` gives them all the floor."""
    if n_bag and n_connections:
        linker.training.estimate_u_using_random_sampling(max_pairs=settings.u_sample_pairs, seed=settings.seed)


def _saved_model(linker: Linker) -> dict[str, Any]:
    """The linker's settings without its `linker_uid`: Splink draws that id at random for each
    Linker, so keeping it would make two runs on the same data give different models. It names
    no trained parameter; a Linker loading the model draws a fresh one."""
    model = linker.misc.save_model_to_json()
    model.pop("linker_uid", None)
    return model


def _quiet(linker: Linker) -> Linker:
    """Linker() turns Splink's INFO logging on; keep a pipeline run's log to warnings."""
    logging.getLogger("splink").setLevel(logging.WARNING)
    return linker


def products_linked(labelled_pairs: pl.DataFrame, connections: pl.DataFrame) -> pl.DataFrame:
    """Per object the number of electricity and gas connections the deterministic passes gave it.
    `labelled_pairs` are links: each (`ean`, `object_id`) once, so they are not made unique first
    (at ten million objects a `unique` took half of this function's time and 1.3 GB of its 3.4 GB)."""
    products = (
        labelled_pairs.lazy().select("ean", "object_id").join(connections.lazy().select("ean", "product"), on="ean")
    )
    return (
        products.group_by("object_id")
        .agg(
            n_elk=(pl.col("product") == "ELK").sum().cast(pl.Int32),
            n_gas=(pl.col("product") == "GAS").sum().cast(pl.Int32),
        )
        .collect()
    )


def _bag_records(bag_rows: pl.DataFrame, products_linked: pl.DataFrame) -> pl.DataFrame:
    """BAG records; `n_elk`, `n_gas` from `products_linked` (national), narrowed to the objects of
    `bag_rows` first: a left join would hash the whole national table for a region's few rows."""
    products_linked = products_linked.filter(pl.col("object_id").is_in(bag_rows["object_id"].implode()))
    return bag_rows.join(products_linked, on="object_id", how="left").select(
        unique_id=pl.col("bag_row").cast(pl.String),
        *_SHARED_COLUMNS,
        bag_ref=pl.col("object_id"),
        pand_id=pl.col("pand_id"),
        is_register=pl.lit(False),
        product=pl.lit(None, pl.String),
        n_elk=pl.col("n_elk").fill_null(0),
        n_gas=pl.col("n_gas").fill_null(0),
    )


def _connection_records(connections: pl.DataFrame, bag: pl.DataFrame) -> pl.DataFrame:
    """Register records; `pand_id` is the pand of the object the registered id names (withdrawn
    objects included: a stale id names the predecessor in the same pand). Only the objects the
    records name are looked up: the national pass passes the whole BAG for a few records."""
    named = bag.filter(pl.col("object_id").is_in(connections["bag_id_clean"].drop_nulls().implode()))
    return connections.join(_pand_of_id(named), on="bag_id_clean", how="left").select(
        unique_id=pl.col("ean"),
        *_SHARED_COLUMNS,
        bag_ref=pl.col("bag_id_clean"),
        pand_id=pl.col("pand_id"),
        is_register=pl.lit(True),
        product=pl.col("product"),
        n_elk=pl.lit(None, pl.Int32),
        n_gas=pl.lit(None, pl.Int32),
    )


def _pand_of_id(bag: pl.DataFrame) -> pl.DataFrame:
    """`bag_id_clean` -> the `pand_id` of the object that id names."""
    return bag.select(bag_id_clean="object_id", pand_id="pand_id").unique("bag_id_clean")


def _training_pool(
    connections: pl.DataFrame, row_ids: pl.DataFrame, labelled_pairs: pl.DataFrame, settings: LinkageSettings
) -> pl.DataFrame:
    """Labelled pairs (every address row of the object) plus id-anchored pairs: the register's
    id names a live object, at any of its address rows. `labelled` tells them apart; a labelled
    pair whose id is right is id-anchored too (see `_m_from_labels`). Drawn from a sample of
    `settings.m_sample_connections` connections (drawn with `settings.seed`)."""
    if connections.height > settings.m_sample_connections:
        connections = connections.sample(n=settings.m_sample_connections, seed=settings.seed)
        labelled_pairs = labelled_pairs.join(connections.select("ean"), on="ean", how="semi")
    labelled = labelled_pairs.select("ean", "object_id").unique().join(row_ids, on="object_id")
    anchored = (
        connections.select("ean", object_id="bag_id_clean")
        .drop_nulls()
        .join(row_ids, on="object_id")
        .join(labelled, on=["ean", "object_id"], how="anti")
    )
    return pl.concat(
        [labelled.with_columns(labelled=pl.lit(True)), anchored.with_columns(labelled=pl.lit(False))],
        how="diagonal",
    ).select("ean", "bag_row", "object_id", "labelled")


def _register_pairs(linker: Linker, db_api: DuckDBAPI, pairs: pl.DataFrame) -> None:
    sep = "-__-"
    blocked = pairs.select(
        match_key=pl.lit("0"),
        join_key_l=pl.lit(f"bag{sep}") + pl.col("bag_row").cast(pl.String),
        join_key_r=pl.lit(f"connections{sep}") + pl.col("ean"),
    )
    sdf = db_api.register(blocked)
    linker.table_management.register_blocked_pairs_for_predict(sdf)


def _gammas(
    linker: Linker,
    con: duckdb.DuckDBPyConnection,
    pool: pl.DataFrame,
    bag_records: pl.DataFrame,
    conn_records: pl.DataFrame,
) -> pl.DataFrame:
    """Comparison levels (gamma_*) of the pool pairs, from the model's own CASE statements
    (Splink 5's predict output has the mw_* columns but no gammas). Of an object's address
    rows the one with the most agreement counts."""
    left = bag_records.rename({c: f"{c}_l" for c in bag_records.columns}).with_columns(
        bag_row=pl.col("unique_id_l").cast(pl.UInt32)
    )
    right = conn_records.rename({c: f"{c}_r" for c in conn_records.columns})
    pairs = pool.join(left, on="bag_row").join(right, left_on="ean", right_on="unique_id_r")
    # a labelled pair's own link is not another connection of its product on the object
    own = pl.col("labelled").cast(pl.Int32)
    pairs = pairs.with_columns(
        n_elk_l=pl.col("n_elk_l") - own * (pl.col("product_r") == "ELK").cast(pl.Int32),
        n_gas_l=pl.col("n_gas_l") - own * (pl.col("product_r") == "GAS").cast(pl.Int32),
    )
    cases = ",\n".join(c._case_statement for c in linker._settings_obj.comparisons)
    con.register("koppelwerk_pool_pairs", pairs.to_arrow())
    try:
        # `.pl()`, not `.arrow()`: an empty result still carries its schema
        out = con.sql(f"SELECT ean, bag_row, object_id, labelled, {cases} FROM koppelwerk_pool_pairs").pl()
    finally:
        con.unregister("koppelwerk_pool_pairs")
    gamma_cols = [c for c in out.columns if c.startswith("gamma_")]
    # DuckDB returns rows in any order: ties in agreement go to the first address row
    return (
        out.with_columns(agreement=pl.sum_horizontal(gamma_cols))
        .sort(["ean", "object_id", "agreement", "bag_row"], descending=[False, False, True, False])
        .unique(["ean", "object_id"], keep="first", maintain_order=True)
    )


def _levels(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null levels, best first: level i of n has gamma n - 1 - i (the null level -1)."""
    return [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]


def _m_from_labels(gammas: pl.DataFrame, model: dict[str, Any]) -> dict[str, dict[int, float]]:
    """Proportion of the relevant labelled pairs in each non-null level of each comparison."""
    # the gamma value of each comparison's best (first non-null) level; for the suffix, "both
    # empty" (top) and "exact" (top - 1) both agree
    top = {c["output_column_name"]: len(_levels(c)) - 1 for c in model["comparisons"]}
    estimates: dict[str, dict[int, float]] = {}
    for name, anchors in _ANCHORS.items():
        col = f"gamma_{name}"
        if gammas.height == 0:
            continue
        if anchors is None:
            subset = gammas.filter(pl.col("labelled"))
        else:  # the register's id names this object and the other address fields agree
            subset = gammas.filter(
                pl.col("gamma_bag_ref") == top["bag_ref"],
                *[pl.col(f"gamma_{a}") >= top[a] - (a == "suffix_key") for a in anchors],
            )
        counts = subset.filter(pl.col(col) >= 0).group_by(col).len()
        total = counts["len"].sum()
        if total:
            estimates[name] = {int(g): n / total for g, n in counts.iter_rows()}
    return estimates


def _apply_parameters(
    model: dict[str, Any], m_estimates: dict[str, dict[int, float]], n_pairs_sampled: float, m_floor: float
) -> dict[str, Any]:
    """Set the m floored at `m_floor` and renormalised; give levels random sampling never hit a u of half a
    sampled pair."""
    model = json.loads(json.dumps(model))
    u_floor = 0.5 / n_pairs_sampled
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        levels = _levels(comparison)
        observed = m_estimates.get(name, {})
        gamma = {id(lv): len(levels) - 1 - i for i, lv in enumerate(levels)}
        raw = {id(lv): max(observed.get(gamma[id(lv)], 0.0), m_floor) for lv in levels}
        total = sum(raw.values())
        for lv in levels:
            if observed:
                lv["m_probability"] = raw[id(lv)] / total
            u = lv.get("u_probability")
            if u is None or u <= 0:
                lv["u_probability"] = u_floor
        u_total = sum(lv["u_probability"] for lv in levels)
        for lv in levels:
            lv["u_probability"] = lv["u_probability"] / u_total
    return model


def _predict(linker: Linker, db_api: DuckDBAPI, pairs: pl.DataFrame) -> pl.DataFrame:
    _register_pairs(linker, db_api, pairs)
    rel = linker.inference.predict(warning_mode="never").as_duckdbpyrelation()
    out = rel.select("unique_id_l, unique_id_r, match_weight, match_probability").pl()
    return out.select(
        bag_row=pl.col("unique_id_l").cast(pl.UInt32),
        ean="unique_id_r",
        match_weight="match_weight",
        match_probability="match_probability",
    )


def _per_object(scored: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Each object's best address row, ranked within the connection. Siblings often score
    exactly alike, and DuckDB and the blocking return pairs in any order, so ties in weight are
    broken by object_id (then bag_row): the ranks, margins and match keys are the same every run."""
    best = (
        scored.join(pairs.select("ean", "bag_row", "object_id", "match_key"), on=["ean", "bag_row"])
        .sort(["ean", "match_weight", "object_id", "bag_row"], descending=[False, True, False, False])
        .unique(["ean", "object_id"], keep="first", maintain_order=True)
    )
    ranked = best.with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("ean"))
    runner_up = ranked.filter(pl.col("rank") == 2).select("ean", second="match_weight")
    return (
        ranked.join(runner_up, on="ean", how="left")
        .with_columns(margin=pl.when(pl.col("rank") == 1).then(pl.col("match_weight") - pl.col("second")))
        .select(SCORE_COLUMNS)
        .sort("ean", "rank")
    )


def _empty_scores() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "ean": pl.String,
            "object_id": pl.String,
            "match_weight": pl.Float64,
            "match_probability": pl.Float64,
            "rank": pl.UInt32,
            "margin": pl.Float64,
            "match_key": pl.UInt8,
        }
    )


def summarise_model(model: dict[str, Any]) -> pl.DataFrame:
    """One row per comparison level: m, u and the match weight log2(m/u) — for reports."""
    rows = []
    for comparison in model["comparisons"]:
        for lv in comparison["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            rows.append(
                {
                    "comparison": comparison["output_column_name"],
                    "level": lv.get("label_for_charts", lv["sql_condition"]),
                    "m": m,
                    "u": u,
                    "weight": math.log2(m / u) if m and u else None,
                }
            )
    return pl.DataFrame(rows)
