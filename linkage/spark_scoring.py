"""Probabilistic scoring on Spark: the prediction step of `linkage.probabilistic` on Splink's
`SparkAPI`, for registers too large for one machine's DuckDB.

Only the prediction runs here. The model is trained on DuckDB (`linkage.probabilistic.train_model`:
random sampling and labelled pairs, cheap) and the candidate pairs are blocked in polars
(`linkage.candidates`), exactly as for the DuckDB path; Spark scores the given pairs.

A model saved from the DuckDB backend does not load on Spark unchanged: its SQL is DuckDB's
(double-quoted identifiers, `hamming`, `jaro_winkler_similarity`). So the Spark settings are built
from the same Python comparisons (`linkage.comparisons.comparisons(settings)`), their SQL
translated to Spark with sqlglot, and the trained m and u probabilities and the prior
(`probability_two_random_records_match`) are copied across level by level. The comparisons are
first rebuilt in DuckDB's dialect and checked against the model's SQL, so a model trained with
other comparison settings is refused instead of scored with the wrong levels.

Functions the two engines spell differently:
- `hamming(a, b)` (DuckDB) has no Spark built-in: it is written as a count of the positions where
  the characters differ (same result for strings of equal length; DuckDB refuses others).
- `jaro_winkler_similarity` (DuckDB) is `jaro_winkler` on Spark, a UDF from the jar Splink ships
  (`splink.backends.spark.similarity_jar_location()`), which the Spark session must load
  (`spark.jars`); `local_spark_session` does.

Nothing here imports Dagster or the CLI; `pyspark` is an optional dependency (extra `spark`),
imported only when this module is.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Mapping
from typing import Any

import polars as pl
import pyarrow as pa
import splink.comparison_library as cl
import sqlglot
from pyspark.sql import SparkSession
from splink import Linker, SettingsCreator
from splink.backends.spark import SparkAPI, similarity_jar_location
from sqlglot import exp

from core.config import LinkageSettings
from linkage.comparisons import comparisons

# Splink's separator of source dataset and unique id in a blocked pair's join keys, and the
# dataset names the DuckDB path registers (`linkage.probabilistic._register`).
_JOIN_KEY_SEPARATOR = "-__-"
_DATASETS = ("bag", "connections")
# The top-level settings copied from the trained model to the Spark settings.
_MODEL_SETTINGS = (
    "link_type",
    "probability_two_random_records_match",
    "em_convergence",
    "max_iterations",
    "retain_matching_columns",
    "retain_intermediate_calculation_columns",
    "additional_columns_to_retain",
    "unique_id_column_name",
    "source_dataset_column_name",
    "match_weight_column_prefix",
    "term_frequency_adjustment_column_prefix",
    "comparison_vector_value_column_prefix",
)
_TRAINED = ("m_probability", "u_probability")


class ModelMismatchError(ValueError):
    """The model's comparison levels are not those `comparisons(settings)` builds."""


def local_spark_session(
    app_name: str = "koppelwerk",
    *,
    cores: int = 2,
    driver_memory: str = "2g",
    shuffle_partitions: int = 4,
    local_dir: str | None = None,
) -> SparkSession:
    """A local Spark session for tests and small runs: `local[cores]`, few shuffle partitions,
    no web UI or console progress bar, the driver bound to 127.0.0.1 (no network), modest driver
    memory, and Splink's similarity jar loaded. Returns the active session if there is one (its
    configuration then stays as it is: Spark keeps one context per process)."""
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(cores))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.jars", similarity_jar_location())
        .config("spark.local.dir", local_dir or tempfile.gettempdir())
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def default_spark_session() -> SparkSession:
    """The session to score on when the caller gives none: the active one (a Databricks job's
    `spark`, or one the entry point built), else one configured by `spark-submit` (the Python
    driver then runs under a JVM that set `PYSPARK_GATEWAY_PORT`), else `local_spark_session()`."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if "PYSPARK_GATEWAY_PORT" in os.environ:
        return SparkSession.builder.getOrCreate()
    return local_spark_session()


def spark_sql(duckdb_sql: str) -> str:
    """A comparison level's DuckDB condition in Spark SQL (see the module docstring)."""
    if duckdb_sql.strip().upper() == "ELSE":
        return duckdb_sql

    def translate(node: Any) -> Any:
        if isinstance(node, exp.JarowinklerSimilarity):
            return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "hamming":
            left, right = (arg.sql(dialect="spark") for arg in node.expressions)
            width = f"greatest(length({left}), length({right}))"
            count = (
                f"aggregate(sequence(1, {width}), 0, (acc, i) -> acc + "
                f"IF(substr({left}, i, 1) = substr({right}, i, 1), 0, 1))"
            )
            # null as in DuckDB (Spark's greatest skips nulls); sequence(1, 0) would count down
            return sqlglot.parse_one(
                f"(CASE WHEN ({left}) IS NULL OR ({right}) IS NULL THEN NULL WHEN {width} = 0 THEN 0 ELSE {count} END)",
                read="spark",
            )
        return node

    tree = sqlglot.parse_one(duckdb_sql, read="duckdb").transform(translate)
    return tree.sql(dialect="spark")


def spark_settings(model: dict[str, Any], settings: LinkageSettings | None = None) -> SettingsCreator:
    """Splink settings for Spark with the comparisons of `settings` (by default
    `LinkageSettings()`) and the trained parameters of `model` (`ScoredPairs.model`, trained on
    DuckDB). Raises `ModelMismatchError` if the model's levels are not those comparisons'."""
    settings = settings or LinkageSettings()
    # the same comparisons the model was trained with, in DuckDB's SQL: checked against the model's
    fresh = SettingsCreator(link_type="link_only", comparisons=[*comparisons(settings)])
    duckdb_levels = fresh.create_settings_dict("duckdb")
    built, trained = duckdb_levels["comparisons"], model["comparisons"]
    names = [c["output_column_name"] for c in built]
    if names != [c["output_column_name"] for c in trained]:
        raise ModelMismatchError(f"the model's comparisons are not {names}")
    spark_comparisons: list[Any] = []
    for fresh, saved in zip(built, trained, strict=True):
        name = fresh["output_column_name"]
        levels_fresh, levels_saved = fresh["comparison_levels"], saved["comparison_levels"]
        if [lv["sql_condition"] for lv in levels_fresh] != [lv["sql_condition"] for lv in levels_saved]:
            raise ModelMismatchError(
                f"comparison {name!r}: the model's levels differ from those of these settings "
                "(trained with other comparison settings?)"
            )
        levels: list[Any] = []
        for level, saved_level in zip(levels_fresh, levels_saved, strict=True):
            level = {**level, "sql_condition": spark_sql(level["sql_condition"])}
            for key in _TRAINED:
                if saved_level.get(key) is not None:
                    level[key] = saved_level[key]
            levels.append(level)
        spark_comparisons.append(
            cl.CustomComparison(
                output_column_name=name,
                comparison_levels=levels,
                comparison_description=fresh.get("comparison_description"),
            )
        )
    top = {key: model[key] for key in _MODEL_SETTINGS if key in model}
    return SettingsCreator(comparisons=spark_comparisons, blocking_rules_to_generate_predictions=[], **top)


def predict_on_spark(
    model: dict[str, Any],
    bag_records: pl.DataFrame,
    conn_records: pl.DataFrame,
    pairs: pl.DataFrame,
    spark: SparkSession | None = None,
    settings: LinkageSettings | None = None,
    frequencies: Mapping[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Score the blocked `pairs` (`ean`, `bag_row`) with `model` on Spark: what
    `linkage.probabilistic._predict` returns on DuckDB (`bag_row` UInt32, `ean`, `match_weight`,
    `match_probability`), in no particular order.

    Args:
        model: the trained model (`train_model`, `ScoredPairs.model`); its comparisons must be
            those of `settings`.
        bag_records, conn_records: Splink's two input tables, as the DuckDB path builds them
            (`linkage.probabilistic._records`).
        pairs: the candidate pairs (`linkage.candidates.candidate_pairs`).
        spark: the session to run on; by default `default_spark_session()`.
        settings: the settings the model was trained with (the street thresholds are in its SQL).
        frequencies: term-frequency lookups by column (`linkage.probabilistic.term_frequencies`:
            `column`, `tf_column`); by default Splink computes them from the two tables.
    """
    spark = spark or default_spark_session()
    creator = spark_settings(model, settings)
    run = uuid.uuid4().hex[:12]
    db_api = SparkAPI(spark_session=spark, break_lineage_method="persist")
    frequencies = dict(frequencies or {})
    views = [f"__koppelwerk_{name}_{run}" for name in (*_DATASETS, "pairs", *(f"tf_{c}" for c in frequencies))]
    linker: Linker | None = None
    try:
        tables = [
            db_api.register(_to_arrow(records), dataset_display_name=name, table_name=view)
            for records, name, view in zip((bag_records, conn_records), _DATASETS, views[:2], strict=True)
        ]
        linker = Linker(tables, creator)
        logging.getLogger("splink").setLevel(logging.WARNING)  # Linker() turns Splink's INFO on
        for (column, frequency), view in zip(frequencies.items(), views[3:], strict=True):
            sdf = db_api.register(_to_arrow(frequency), table_name=view)
            linker.table_management.register_term_frequency_lookup(sdf, column)
        sep = _JOIN_KEY_SEPARATOR
        blocked = pairs.select(
            match_key=pl.lit("0"),
            join_key_l=pl.lit(f"{_DATASETS[0]}{sep}") + pl.col("bag_row").cast(pl.String),
            join_key_r=pl.lit(f"{_DATASETS[1]}{sep}") + pl.col("ean"),
        )
        linker.table_management.register_blocked_pairs_for_predict(
            db_api.register(_to_arrow(blocked), table_name=views[2])
        )
        predictions = linker.inference.predict(warning_mode="never")
        selected = predictions.as_spark_dataframe().select(
            "unique_id_l", "unique_id_r", "match_weight", "match_probability"
        )
        out = pl.from_arrow(selected.toArrow())
    finally:
        if linker is not None:  # Splink's persisted intermediate tables
            linker.table_management.delete_tables_created_by_splink_from_db()
        for view in views:
            spark.catalog.dropTempView(view)
    assert isinstance(out, pl.DataFrame)
    return out.select(
        bag_row=pl.col("unique_id_l").cast(pl.UInt32),
        ean=pl.col("unique_id_r").cast(pl.String),
        match_weight=pl.col("match_weight").cast(pl.Float64),
        match_probability=pl.col("match_probability").cast(pl.Float64),
    )


def _to_arrow(frame: pl.DataFrame) -> pa.Table:
    """A polars frame as Spark's `createDataFrame` takes it: Arrow's classic string and list
    types, and no unsigned integers (Spark has none)."""
    frame = frame.with_columns(
        pl.col(name).cast(pl.Int64) for name, dtype in frame.schema.items() if dtype.is_unsigned_integer()
    )
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())
