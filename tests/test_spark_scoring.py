"""The Spark backend of the probabilistic scoring (linkage.spark_scoring) gives the DuckDB path's
pairs, weights, links and residue, in pyspark local mode (needs Java 17: `make java`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import duckdb
import polars as pl
import pytest
from splink import DuckDBAPI, Linker

import linkage
from core.config import PROFILES, EngineSettings, LinkageSettings, RunConfig, with_settings
from core.errors import KoppelwerkError
from ingestion import read_delivery
from linkage import probabilistic, spark_scoring
from linkage.candidates import candidate_bag_rows, candidate_pairs
from linkage.deterministic import exact_address_pass, registered_bag_id_pass
from linkage.spark_scoring import ModelMismatchError, local_spark_session, predict_on_spark, spark_sql
from linkage.woonplaats import resolve_woonplaatsen
from quality.fix_impact import fix_impact, run_corrections
from tests.paths import SAMPLE_DIR

pytestmark = pytest.mark.spark

# Weights and probabilities agree to rounding: the two engines sum the same per-level weights in
# another order (measured on the sample: 7e-15 in weight, 4e-16 in probability).
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    session = local_spark_session("koppelwerk-tests", local_dir=str(tmp_path_factory.mktemp("spark")))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def sample() -> tuple[pl.DataFrame, pl.DataFrame]:
    bag = linkage.normalise_bag(read_delivery("bag", SAMPLE_DIR / "bag.parquet").frame)
    connections = linkage.normalise_connections(read_delivery("connections", SAMPLE_DIR / "connections.csv").frame)
    return bag, connections


@pytest.fixture(scope="module")
def blocked(sample):
    """The sample prepared as `score_candidates` prepares it: model, Splink's records, pairs."""
    bag, connections = sample
    connections = resolve_woonplaatsen(connections, bag)
    by_id = registered_bag_id_pass(connections, bag)
    by_address = exact_address_pass(connections.join(by_id, on="ean", how="anti"), bag)
    labels = pl.concat([by_id, by_address]).select("ean", "object_id")
    model = probabilistic.train_model(bag, connections, labels)
    bag_rows = candidate_bag_rows(bag)
    records = probabilistic._records(bag_rows, bag, connections, probabilistic.products_linked(labels, connections))
    pairs = candidate_pairs(connections.join(labels, on="ean", how="anti"), bag)
    return model, records, pairs


def _weights_differ(duck: pl.DataFrame, spark: pl.DataFrame) -> pl.DataFrame:
    joined = duck.join(spark, on=["bag_row", "ean"], how="full", coalesce=True, suffix="_spark")
    return joined.select(
        missing=(pl.col("match_weight").is_null() | pl.col("match_weight_spark").is_null()).sum(),
        weight=(pl.col("match_weight") - pl.col("match_weight_spark")).abs().max(),
        probability=(pl.col("match_probability") - pl.col("match_probability_spark")).abs().max(),
    )


def test_the_per_pair_weights_agree_with_duckdb(blocked, spark) -> None:
    model, (bag_records, conn_records), pairs = blocked
    assert pairs.height > 1000
    db_api = DuckDBAPI()
    tables = probabilistic._register(db_api, (bag_records, conn_records))
    scorer = probabilistic._quiet(Linker(tables, json.loads(json.dumps(model))))
    duck = probabilistic._predict(scorer, db_api, pairs)
    on_spark = predict_on_spark(model, bag_records, conn_records, pairs, spark)

    assert on_spark.schema == duck.schema
    assert on_spark.height == duck.height == pairs.height
    differ = _weights_differ(duck, on_spark).row(0, named=True)
    assert differ["missing"] == 0
    assert differ["weight"] < TOLERANCE and differ["probability"] < TOLERANCE


def test_link_gives_the_same_links_and_residue_on_spark(sample, spark, monkeypatch) -> None:
    bag, connections = sample
    profile = PROFILES["statistical"]
    duck = linkage.link(bag, connections, profile)
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[3].height)  # the pairs scored
        return predict_on_spark(*args, **kwargs)

    monkeypatch.setattr(spark_scoring, "predict_on_spark", counted)
    on_spark = linkage.link(bag, connections, profile, backend="spark", spark=spark)
    assert calls and sum(calls) > 1000  # every region's pairs went to Spark

    assert duck.links.height > 0 and on_spark.links.height == duck.links.height
    exact = ["ean", "object_id", "method", "allocation_share"]
    assert on_spark.links.select(exact).equals(duck.links.select(exact))
    for column in ("match_probability", "match_weight"):
        gap = (on_spark.links[column] - duck.links[column]).abs().max()
        assert gap is None or gap < TOLERANCE, column  # type: ignore[operator]
    assert on_spark.residue.equals(duck.residue)
    assert on_spark.unresolved_candidates.select("ean", "object_id").equals(
        duck.unresolved_candidates.select("ean", "object_id")
    )
    assert on_spark.model == duck.model  # trained on DuckDB either way


def test_fix_impact_re_links_on_spark_as_on_duckdb(sample, spark, monkeypatch) -> None:
    """The re-link of fix impact scores where the run does, with the same gains."""
    bag, connections = sample
    profile = PROFILES["statistical"]
    linked = linkage.link(bag, connections, profile)
    corrections = run_corrections(linked.links, linked.residue, linked.unresolved_candidates)
    duck = fix_impact(connections, bag, linked.links, corrections, profile, model=linked.model)
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[3].height)
        return predict_on_spark(*args, **kwargs)

    monkeypatch.setattr(spark_scoring, "predict_on_spark", counted)
    on_spark = fix_impact(
        connections, bag, linked.links, corrections, profile, model=linked.model, backend="spark", spark=spark
    )
    assert calls and sum(calls) > 0
    assert duck["n_correctable"].sum() > 0
    exact = ["defect", "holder", "n_affected", "n_correctable", "n_newly_linked", "n_now_deterministic"]
    assert on_spark.select(exact).equals(duck.select(exact))
    assert on_spark["mean_probability_gain"].to_list() == pytest.approx(
        duck["mean_probability_gain"].to_list(), abs=1e-9
    )


def test_hamming_and_jaro_winkler_mean_the_same_on_spark(spark) -> None:
    # DuckDB's hamming refuses empty strings
    words = [("1234", "1234"), ("1234", "1244"), ("1234", "4321"), ("12", "13"), (None, "1234")]
    streets = [("kerkstraat", "kerkstraaat"), ("dorpsstraat", "dorpstraat"), ("markt", "plein"), ("a", "")]
    con = duckdb.connect()
    for (left, right), sql in [(pair, 'hamming("a", "b")') for pair in words] + [
        (pair, 'jaro_winkler_similarity("a", "b") >= 0.9') for pair in streets
    ]:
        expected = con.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS a, ?::VARCHAR AS b)", [left, right]).fetchone()
        frame = spark.createDataFrame([(left, right)], "a string, b string")
        frame.createOrReplaceTempView("koppelwerk_words")
        got = spark.sql(f"SELECT {spark_sql(sql)} FROM koppelwerk_words").collect()[0][0]
        assert expected is not None and got == expected[0], (sql, left, right)


def test_a_model_trained_with_other_comparison_settings_is_refused(blocked, spark) -> None:
    model, (bag_records, conn_records), pairs = blocked
    other = LinkageSettings(street_similarity_min=0.8)
    with pytest.raises(ModelMismatchError, match="street_key"):
        predict_on_spark(model, bag_records, conn_records, pairs.head(10), spark, other)


def test_the_backend_is_a_setting() -> None:
    assert EngineSettings().linkage_backend == "duckdb"
    assert with_settings(RunConfig(), ["engine.linkage_backend=spark"]).engine.linkage_backend == "spark"
    with pytest.raises(KoppelwerkError, match="must be one of duckdb, spark"):
        with_settings(RunConfig(), ["engine.linkage_backend=polars"])
    with pytest.raises(ValueError, match="backend must be one of"):
        probabilistic.score_candidates(pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), backend="polars")
