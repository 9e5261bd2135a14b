"""The probabilistic stage on a synthetic gemeente: candidates, trained model, scores."""

from __future__ import annotations

import json

import polars as pl
import pytest
from splink import DuckDBAPI, Linker

import synth
from linkage import normalise_bag, normalise_connections
from linkage.candidates import RULE_NAMES, candidate_bag_rows, candidate_pairs
from linkage.deterministic import exact_address_pass, registered_bag_id_pass
from linkage.probabilistic import score_candidates, summarise_model
from linkage.woonplaats import resolve_woonplaatsen

SEED = 11
# The default rates give ~90 deterministic misses at 5,000 objects; raise the hard kinds so the
# misses are numerous enough to measure (still every kind well below half the records).
NOISE = synth.NoiseConfig().with_overrides(
    {"postcode_typo": 0.08, "postcode_missing": 0.06, "street_typo": 0.05, "bag_id_wrong_sibling": 0.05}
)


def _scored(noise: synth.NoiseConfig):
    """A synth gemeente prepared and scored as the engine does: woonplaatsen resolved, the
    deterministic passes' links as labels, every other connection scored."""
    data = synth.generate(5000, seed=SEED, noise=noise)
    bag = normalise_bag(data.bag)
    connections = resolve_woonplaatsen(normalise_connections(data.connections), bag)
    by_id = registered_bag_id_pass(connections, bag)
    by_address = exact_address_pass(connections.join(by_id, on="ean", how="anti"), bag)
    labels = pl.concat([by_id, by_address]).select("ean", "object_id")
    return data, bag, connections, labels, score_candidates(bag, connections, labels)


@pytest.fixture(scope="module")
def world():
    return _scored(NOISE)


@pytest.fixture(scope="module")
def misses(world):
    """Single-object truth links the deterministic passes missed, with the top candidate."""
    data, _, _, labels, scored = world
    single = data.truth_links.filter(pl.len().over("ean") == 1).select("ean", "object_id")
    missed = single.join(labels, on="ean", how="anti")
    top = scored.pairs.filter(pl.col("rank") == 1).select("ean", predicted="object_id")
    return (
        missed.join(top, on="ean", how="left")
        .join(data.truth_connections, on="ean")
        .with_columns(correct=(pl.col("predicted") == pl.col("object_id")).fill_null(False))
    )


def test_top_candidate_is_the_true_object_for_deterministic_misses(misses):
    assert misses.height >= 100
    # A suffix left out ("12" for "12A") with no usable id is a tie between siblings: no
    # address model can break it. Everything else must be placed.
    resolvable = misses.filter(~pl.col("noise").str.contains("suffix_missing"))
    assert resolvable["correct"].mean() >= 0.9  # measured 0.95 (seed 11)
    assert misses["correct"].mean() >= 0.65  # measured 0.76 / 0.74 (seeds 1 / 11)


def test_true_object_beats_sibling_at_same_number_despite_postcode_typo(world, misses):
    _, bag, _, _, scored = world
    typo = misses.filter(
        pl.col("noise").str.contains("postcode_typo")
        # a suffix left out ties the siblings; an id naming the sibling is evidence for it
        & ~pl.col("noise").str.contains("suffix_missing|bag_id_wrong")
    )
    numbers = bag.select("object_id", "pand_id", "huisnummer").unique("object_id")
    pairs = scored.pairs.join(typo.select("ean", true_id="object_id"), on="ean").join(numbers, on="object_id")
    truth = pairs.filter(pl.col("object_id") == pl.col("true_id")).select(
        "ean", "pand_id", "huisnummer", true_weight="match_weight"
    )
    siblings = pairs.filter(pl.col("object_id") != pl.col("true_id")).join(truth, on=["ean", "pand_id", "huisnummer"])
    assert siblings["ean"].n_unique() >= 3, "no typo'd postcode with a sibling unit to test"
    assert (siblings["true_weight"] > siblings["match_weight"]).all()


def test_probabilities_are_bounded_and_monotone_in_weight(world):
    pairs = world[4].pairs.sort("match_weight")
    p = pairs["match_probability"]
    assert p.is_between(0.0, 1.0).all()
    assert (p.diff().drop_nulls() >= -1e-12).all()
    assert pairs.select(pl.struct("ean", "object_id").is_unique().all()).item()
    ranks = pairs.filter(pl.col("rank") == 1)
    assert ranks["ean"].is_unique().all() and ranks.height == pairs["ean"].n_unique()


def test_model_loads_into_splink_with_every_trained_parameter(world):
    model = world[4].model
    levels = summarise_model(model)
    assert levels["m"].is_not_null().all() and levels["u"].is_not_null().all()
    # m was trained from labels: exact postcode and registered id are strong evidence
    weight = dict(zip(levels["level"], levels["weight"], strict=True))
    assert weight["postcode_clean exact"] > 5 and weight["registered id is this object"] > 8
    records = pl.DataFrame(
        {
            "unique_id": ["1"],
            "postcode_clean": ["1234AB"],
            "huisnummer": [1],
            "suffix_key": [""],
            "street_key": ["a"],
            "street_key24": ["a"],
            "street_cut": [False],
            "woonplaats_key": ["b"],
            "gemeente_code": ["0001"],
            "x": [1.0],
            "y": [1.0],
            "bag_ref": ["1"],
            "pand_id": ["2"],
            "is_register": [False],
            "product": ["ELK"],
            "n_elk": [0],
            "n_gas": [0],
        }
    )
    db_api = DuckDBAPI()
    sdfs = [db_api.register(records, dataset_display_name=n) for n in ("bag", "connections")]
    # from its JSON form, as the run writes it: Splink keeps every m and u, defaults none
    loaded = Linker(sdfs, json.loads(json.dumps(model))).misc.save_model_to_json()
    del loaded["linker_uid"]  # Splink draws a new one for each Linker; the model carries none
    assert loaded == model


def test_connection_without_candidates_yields_no_pairs(world):
    _, bag, connections, labels, _ = world
    nowhere = connections.head(1).with_columns(
        ean=pl.lit("871999999999999999"),
        postcode_clean=pl.lit("9999ZZ"),
        huisnummer=pl.lit(99999, pl.Int32),
        street_key=pl.lit("nergensstraat"),
        woonplaats_key=pl.lit("nergenshuizen"),
        bag_id_clean=pl.lit(None, pl.String),
    )
    assert candidate_pairs(nowhere, candidate_bag_rows(bag)).height == 0
    scored = score_candidates(bag, pl.concat([connections, nowhere]), labels, to_score=nowhere["ean"])
    assert scored.pairs.height == 0
    # the empty result has the columns and dtypes of a real one, for the stages after it
    assert scored.pairs.schema == world[4].pairs.schema
    # m comes from the same labels: a connection nothing can be compared with changes none
    assert summarise_model(scored.model)["m"].to_list() == summarise_model(world[4].model)["m"].to_list()


def test_candidates_are_bounded_and_use_every_rule(world):
    _, bag, connections, _, _ = world
    pairs = candidate_pairs(connections, candidate_bag_rows(bag))
    assert pairs.height / connections.height < 15
    assert set(pairs["match_key"].unique().to_list()) == set(range(len(RULE_NAMES)))


@pytest.fixture(scope="module")
def lost_suffixes():
    """A register that often drops suffixes and ids, scored as the engine scores it."""
    return _scored(
        synth.NoiseConfig().with_overrides({"suffix_missing": 0.3, "suffix_variant": 0.3, "bag_id_missing": 0.4})
    )


def test_a_lost_suffix_goes_to_the_unit_whose_meter_is_not_yet_placed(lost_suffixes):
    """ "12" for one of 12, 12-A, 12-B with no id: the units whose meter of this product is
    already linked are unlikely homes for a second one, so the free unit wins."""
    data, _, connections, labels, scored = lost_suffixes
    products = connections.select("ean", "product")
    taken = labels.join(products, on="ean").select("object_id", "product").unique().with_columns(taken=pl.lit(True))
    lost = (
        data.truth_connections.filter(
            pl.col("noise").str.contains("suffix_missing") & pl.col("noise").str.contains("bag_id_missing")
        )
        .join(data.truth_links.filter(pl.len().over("ean") == 1), on="ean")
        .join(labels, on="ean", how="anti")
    )
    candidates = (
        scored.pairs.join(lost.select("ean"), on="ean")
        .join(products, on="ean")
        .join(taken, on=["object_id", "product"], how="left")
        .with_columns(taken=pl.col("taken").fill_null(False))
    )
    one_free = (
        candidates.group_by("ean")
        .agg(n=pl.len(), free=(~pl.col("taken")).sum(), top=pl.col("object_id").sort_by("rank").first())
        .filter((pl.col("n") >= 2) & (pl.col("free") == 1))
    )
    judged = lost.join(one_free, on="ean")
    assert judged.height >= 30
    assert (judged["top"] == judged["object_id"]).mean() >= 0.9  # measured 1.0; 0.24 without the comparison
