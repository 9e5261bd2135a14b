"""The probabilistic stage on a synthetic gemeente: candidates, trained model, scores."""

from __future__ import annotations

import json
import math
from collections import Counter

import polars as pl
import pytest
from splink import DuckDBAPI, Linker

import synth
from core.config import LinkageSettings
from linkage import normalise_bag, normalise_connections, probabilistic
from linkage.candidates import RULE_NAMES, candidate_bag_rows, candidate_pairs
from linkage.deterministic import exact_address_pass, registered_bag_id_pass
from linkage.probabilistic import (
    _bag_records,
    _connection_records,
    _predict,
    products_linked,
    score_candidates,
    summarise_model,
    train_model,
)
from linkage.woonplaats import resolve_woonplaatsen
from tests.targets import HARD_SUBSET as TARGET

# Every accuracy assertion below states its target and holds on each of these gemeenten, none of
# which the thresholds were read from.
SEEDS = (1, 11, 23)
M_FLOOR = LinkageSettings().m_floor  # the floor of the default settings
# The default rates give ~90 deterministic misses at 5,000 objects; raise the hard kinds so the
# misses are numerous enough to measure (still every kind well below half the records).
NOISE = synth.NoiseConfig().with_overrides(
    {"postcode_typo": 0.08, "postcode_missing": 0.06, "street_typo": 0.05, "bag_id_wrong_sibling": 0.05}
)


def _scored(noise: synth.NoiseConfig, seed: int):
    """A synth gemeente prepared and scored as the engine does: woonplaatsen resolved, the
    deterministic passes' links as labels, every other connection scored."""
    data = synth.generate(5000, seed=seed, noise=noise)
    bag = normalise_bag(data.bag)
    connections = resolve_woonplaatsen(normalise_connections(data.connections), bag)
    by_id = registered_bag_id_pass(connections, bag)
    by_address = exact_address_pass(connections.join(by_id, on="ean", how="anti"), bag)
    labels = pl.concat([by_id, by_address]).select("ean", "object_id")
    return data, bag, connections, labels, score_candidates(bag, connections, labels)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed{seed}")
def world(request):
    return _scored(NOISE, request.param)


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
    tie = pl.col("noise").str.contains("suffix_missing")
    resolvable = misses.filter(~tie)
    assert resolvable["correct"].mean() >= TARGET
    # the ties at least as well as a coin between two siblings, the rest at the target
    tie_share = misses.filter(tie).height / misses.height
    assert misses["correct"].mean() >= TARGET * (1 - tie_share) + 0.5 * tie_share


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


def test_m_respects_the_floor_and_every_distribution_sums_to_one(world):
    """Each raw m is max(observed share, M_FLOOR) and the shares sum to 1, so after renormalising
    over n levels every m is at least M_FLOOR / (1 + n * M_FLOOR): no disagreement is impossible."""
    levels = summarise_model(world[4].model)
    assert levels["m"].is_not_null().all() and levels["u"].is_not_null().all()
    per_comparison = levels.group_by("comparison").agg(n=pl.len(), m=pl.col("m").sum(), u=pl.col("u").sum())
    assert per_comparison["m"].to_list() == pytest.approx([1.0] * per_comparison.height, abs=1e-12)
    assert per_comparison["u"].to_list() == pytest.approx([1.0] * per_comparison.height, abs=1e-12)
    floors = levels.join(per_comparison.select("comparison", "n"), on="comparison").with_columns(
        floor=M_FLOOR / (1 + pl.col("n") * M_FLOOR)
    )
    assert (floors["m"] >= floors["floor"] - 1e-15).all(), floors.filter(pl.col("m") < pl.col("floor"))
    assert (floors["u"] > 0).all()


def test_u_is_drawn_from_at_most_u_sample_records_a_side(world, monkeypatch):
    """Splink gets at most `u_sample_records` records a side for u's random pairs (a national
    register is not copied into it whole); m, counted on the training pool, is unchanged, and the
    u of every level that random pairs hit often stays close."""
    _, bag, connections, labels, scored = world
    cap = connections.height // 2
    registered: list[list[int]] = []
    register = probabilistic._register

    def counting(db_api, records):
        registered.append([r.height for r in records])
        return register(db_api, records)

    monkeypatch.setattr(probabilistic, "_register", counting)
    capped = train_model(bag, connections, labels, LinkageSettings(u_sample_records=cap))
    assert registered == [[cap, cap]]
    both = summarise_model(scored.model).join(summarise_model(capped), on=["comparison", "level"], suffix="_capped")
    assert both.height == summarise_model(scored.model).height
    assert both["m"].to_list() == both["m_capped"].to_list()
    common = both.filter(pl.col("u") > 0.05)
    assert common.height >= 10
    assert ((common["u_capped"] - common["u"]).abs() <= 0.05).all(), common


def test_better_agreeing_levels_weigh_more(world):
    """Along an ordinal comparison each step away from agreement is weaker evidence; the
    registered id naming this object outweighs any single address field. A street cut at 24
    characters that agrees is agreement, not a step away: rarer long names may weigh more than
    the average exact name (seed 1), so it is only required to be evidence for the link."""
    levels = summarise_model(world[4].model)
    cut = pl.col("level") == "truncated at 24"
    for comparison in ("postcode_clean", "huisnummer", "street_key", "distance", "bag_ref"):
        weights = levels.filter((pl.col("comparison") == comparison) & ~cut)["weight"].to_list()
        assert weights == sorted(weights, reverse=True) and weights[0] > 0 > weights[-1], comparison
    assert levels.filter(cut)["weight"].item() > 0
    weight = dict(zip(levels["level"], levels["weight"], strict=True))
    exact_fields = ("postcode_clean exact", "huisnummer exact", "suffix_key exact", "street_key exact")
    assert weight["registered id is this object"] > max(weight[level] for level in exact_fields)


def _records(bag_postcodes: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One register record at 1234AB and one BAG row per postcode, alike in every other field."""
    base = {
        "huisnummer": 1,
        "suffix_key": "",
        "street_key": "dorpsstraat",
        "street_key24": "dorpsstraat",
        "street_cut": False,
        "woonplaats_key": "weesp",
        "gemeente_code": "0457",
        "x": 1.0,
        "y": 1.0,
        "pand_id": "0457100000000001",
    }
    bag = pl.DataFrame(
        [
            base
            | {
                "unique_id": str(row),
                "postcode_clean": postcode,
                "bag_ref": f"04570100000000{row:02d}",
                "is_register": False,
                "product": None,
                "n_elk": 0,
                "n_gas": 0,
            }
            for row, postcode in enumerate(bag_postcodes)
        ],
        schema_overrides={"product": pl.String, "n_elk": pl.Int32, "n_gas": pl.Int32},
    )
    register = pl.DataFrame(
        [
            base
            | {
                "unique_id": "871687120000000011",
                "postcode_clean": "1234AB",
                "bag_ref": None,
                "is_register": True,
                "product": "ELK",
                "n_elk": None,
                "n_gas": None,
            }
        ],
        schema=bag.schema,
    )
    return bag, register


def test_trained_model_weighs_a_constructed_pair_by_its_own_levels(world):
    """Loaded into a new Splink linker from its JSON form, the model scores four BAG rows that
    differ from the register record only in the postcode: in the order of agreement, and each
    weight apart by exactly the difference of the two postcode levels' log2(m/u)."""
    model = world[4].model
    postcodes = {
        "postcode_clean exact": "1234AB",
        "letters swapped or one digit off": "1234BA",
        "same PC4": "1234XY",
        "all other": "9876ZZ",
    }
    bag, register = _records(list(postcodes.values()))
    db_api = DuckDBAPI()
    sdfs = [
        db_api.register(bag, dataset_display_name="bag"),
        db_api.register(register, dataset_display_name="connections"),
    ]
    linker = Linker(sdfs, json.loads(json.dumps(model)))
    pairs = pl.DataFrame({"bag_row": list(range(bag.height)), "ean": register["unique_id"].to_list() * bag.height})
    scored = _predict(linker, db_api, pairs.with_columns(pl.col("bag_row").cast(pl.UInt32))).sort("bag_row")
    weights = scored["match_weight"].to_list()
    assert weights == sorted(weights, reverse=True) and len(set(weights)) == len(weights)
    level_weight = dict(
        summarise_model(model).filter(pl.col("comparison") == "postcode_clean").select("level", "weight").iter_rows()
    )
    for (level, _), got in zip(postcodes.items(), weights, strict=True):
        assert got - weights[0] == pytest.approx(level_weight[level] - level_weight["postcode_clean exact"], abs=1e-9)
    prior = math.log2(
        model["probability_two_random_records_match"] / (1 - model["probability_two_random_records_match"])
    )
    assert scored["match_probability"].to_list() == pytest.approx([1 / (1 + 2**-w) for w in weights], rel=1e-9)
    assert weights[0] - prior > 0  # full agreement (no id) is evidence for the link


def test_the_saved_model_reproduces_the_run_scores(world):
    """The model as the run writes it (JSON), loaded into a fresh linker on the same records,
    scores a sample of the candidate pairs to the run's own weights and probabilities."""
    _, bag, connections, labels, scored = world
    bag_rows = candidate_bag_rows(bag)
    bag_records = _bag_records(bag_rows, products_linked(labels, connections))
    db_api = DuckDBAPI()
    sdfs = [
        db_api.register(bag_records, dataset_display_name="bag"),
        db_api.register(_connection_records(connections, bag), dataset_display_name="connections"),
    ]
    linker = Linker(sdfs, json.loads(json.dumps(scored.model)))
    sample = scored.pairs.sample(400, seed=3).select("ean", "object_id", "match_weight", "match_probability")
    pairs = candidate_pairs(connections.filter(pl.col("ean").is_in(sample["ean"].implode())), bag).join(
        sample.select("ean", "object_id"), on=["ean", "object_id"]
    )
    rescored = (
        _predict(linker, db_api, pairs)
        .join(pairs.select("ean", "bag_row", "object_id"), on=["ean", "bag_row"])
        .group_by("ean", "object_id")
        .agg(pl.col("match_weight").max(), pl.col("match_probability").max())
    )
    both = sample.join(rescored, on=["ean", "object_id"], how="left", suffix="_again")
    assert both["match_weight_again"].null_count() == 0
    assert both["match_weight_again"].to_list() == pytest.approx(both["match_weight"].to_list(), abs=1e-9)
    assert both["match_probability_again"].to_list() == pytest.approx(both["match_probability"].to_list(), abs=1e-12)


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
    assert candidate_pairs(nowhere, bag).height == 0
    scored = score_candidates(bag, pl.concat([connections, nowhere]), labels, to_score=nowhere["ean"])
    assert scored.pairs.height == 0
    # the empty result has the columns and dtypes of a real one, for the stages after it
    assert scored.pairs.schema == world[4].pairs.schema
    # m comes from the same labels: a connection nothing can be compared with changes none
    assert summarise_model(scored.model)["m"].to_list() == summarise_model(world[4].model)["m"].to_list()


def test_candidates_are_bounded_and_use_every_rule(world):
    _, bag, connections, _, _ = world
    pairs = candidate_pairs(connections, bag)
    assert pairs.height / connections.height < 15
    assert set(pairs["match_key"].unique().to_list()) == set(range(len(RULE_NAMES)))


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed{seed}")
def lost_suffixes(request):
    """A register that often drops suffixes and ids, scored as the engine scores it."""
    return _scored(
        synth.NoiseConfig().with_overrides({"suffix_missing": 0.3, "suffix_variant": 0.3, "bag_id_missing": 0.4}),
        request.param,
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
    assert (judged["top"] == judged["object_id"]).mean() >= TARGET  # 0.24 without the comparison


def test_products_linked_counts_each_objects_connections_by_product(world):
    """Per object, its deterministically linked connections of each product, counted from the
    links (each pair once, as the passes give them)."""
    _, _, connections, labels, _ = world
    assert not labels.select("ean", "object_id").is_duplicated().any()
    product_of = dict(zip(connections["ean"], connections["product"], strict=True))
    expected = Counter((object_id, product_of[ean]) for ean, object_id in labels.select("ean", "object_id").iter_rows())
    products = products_linked(labels, connections)
    assert products["object_id"].is_unique().all()
    assert {(o, "ELK"): n for o, n in products.select("object_id", "n_elk").iter_rows() if n} | {
        (o, "GAS"): n for o, n in products.select("object_id", "n_gas").iter_rows() if n
    } == {key: n for key, n in expected.items() if key[1] in ("ELK", "GAS")}
    assert products.schema["n_elk"] == products.schema["n_gas"] == pl.Int32


def test_records_of_a_few_pairs_carry_what_the_whole_delivery_says_of_their_objects(world):
    """Splink's records of a few pairs take the products linked to their objects and the pand of
    the object each registered id names (withdrawn ones too) from the national tables, whatever
    else those hold."""
    _, bag, connections, labels, _ = world
    products = products_linked(labels, connections)
    pairs = candidate_pairs(connections.join(labels, on="ean", how="anti").head(30), bag).select("ean", "bag_row")
    bag_records, conn_records = probabilistic._records_of_pairs(pairs, bag, connections, products)

    rows = candidate_bag_rows(bag).join(pairs.select("bag_row").unique(), on="bag_row", how="semi")
    expected = rows.join(products, on="object_id", how="left").select(
        unique_id=pl.col("bag_row").cast(pl.String), n_elk=pl.col("n_elk").fill_null(0)
    )
    assert bag_records.select("unique_id", "n_elk").sort("unique_id").equals(expected.sort("unique_id"))
    assert bag_records["n_elk"].sum() > 0  # some of the objects have a deterministic link

    pand_of = bag.select(bag_ref="object_id", expected_pand="pand_id").unique("bag_ref")
    named = conn_records.filter(pl.col("bag_ref").is_not_null()).join(pand_of, on="bag_ref", how="left")
    assert named.height > 0
    assert named["pand_id"].eq_missing(named["expected_pand"]).all()
    assert set(conn_records["unique_id"]) == set(pairs["ean"])
