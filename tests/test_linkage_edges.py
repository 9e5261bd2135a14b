"""Deliveries at the edges still run to the end: linkage, allocation, cells and the residue
summary, with every connection accounted for once and every output in its usual shape.

Each case is cut from one small synth gemeente (or from its BAG turned into a harbour of
ligplaatsen), so the frames are realistic and the case says only what makes it an edge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import pytest

import linkage
import synth
from core.config import PROFILES
from data_contracts import validate_output
from linkage.deterministic import PASS_METHODS
from publication.allocation import NOT_IN_REGISTER, allocate
from publication.cells import TOTAL_SECTOR, aggregate_cells
from publication.residue_summary import residue_summary
from tests.targets import HARD_SUBSET

PROFILE = PROFILES["statistical"]
LIVE = "Verblijfsobject in gebruik"


@dataclass(frozen=True)
class Delivery:
    """The three inputs as a run receives them, after ingestion."""

    bag: pl.DataFrame
    connections: pl.DataFrame
    consumption: pl.DataFrame


@dataclass(frozen=True)
class Outcome:
    """A delivery, its normalised registers and everything the pipeline makes of them up to the
    cells."""

    delivery: Delivery
    bag: pl.DataFrame
    connections: pl.DataFrame
    result: linkage.LinkageResult
    allocation: pl.DataFrame
    cells: pl.DataFrame
    residue_summary: pl.DataFrame


def _run(delivery: Delivery) -> Outcome:
    bag, connections = linkage.normalise_bag(delivery.bag), linkage.normalise_connections(delivery.connections)
    result = linkage.link(bag, connections, PROFILE)
    allocation = allocate(delivery.consumption, result.links, result.residue, connections, bag)
    return Outcome(
        delivery,
        bag,
        connections,
        result,
        allocation,
        aggregate_cells(allocation),
        residue_summary(result.residue, connections, allocation),
    )


@pytest.fixture(scope="module")
def whole() -> Outcome:
    """A whole small gemeente: the reference for schemas, and the source the cases are cut from."""
    gemeente = synth.generate(300, seed=7)
    return _run(Delivery(gemeente.bag, gemeente.connections, gemeente.consumption))


def _with_connections(whole: Outcome, keep: pl.Expr) -> Delivery:
    d = whole.delivery
    return Delivery(d.bag, d.connections.filter(keep), d.consumption)


def _eans_linked_by(whole: Outcome, methods: list[str]) -> pl.Expr:
    eans = whole.result.links.filter(pl.col("method").is_in(methods))["ean"].unique()
    return pl.col("ean").is_in(eans.implode())


def _as_ligplaats(object_id: pl.Expr) -> pl.Expr:
    """The same BAG id with the ligplaats type code (02)."""
    return object_id.str.slice(0, 4) + "02" + object_id.str.slice(6)


def no_candidates(whole: Outcome) -> Delivery:
    """Every address moved to a place and number BAG does not have, and no registered ids."""
    d = whole.delivery
    nowhere = d.connections.with_columns(
        huisnummer=pl.col("huisnummer") + 50_000,
        postcode=pl.lit("9999ZZ"),
        bag_id=pl.lit(None, pl.String),
        straatnaam=pl.lit("Nergensstraat"),
        woonplaats=pl.lit("Nergenshuizen"),
    )
    return Delivery(d.bag, nowhere, d.consumption)


def empty_bag(whole: Outcome) -> Delivery:
    """Every BAG row quarantined: the register against nothing."""
    d = whole.delivery
    return Delivery(d.bag.clear(), d.connections, d.consumption)


def all_deterministic(whole: Outcome) -> Delivery:
    """Only connections the deterministic passes place: nothing is left to score."""
    return _with_connections(whole, _eans_linked_by(whole, list(PASS_METHODS)))


def no_residue(whole: Outcome) -> Delivery:
    """Only connections that got a link, probabilistic ones included."""
    return _with_connections(whole, pl.col("ean").is_in(whole.result.links["ean"].implode()))


def one_connection(whole: Outcome) -> Delivery:
    """A register of one connection that the deterministic passes place."""
    ean = whole.result.links.filter(pl.col("method") == "exact_address")["ean"].min()
    return _with_connections(whole, pl.col("ean") == ean)


def one_connection_scored(whole: Outcome) -> Delivery:
    """A register of one connection that only the model can place: training has no labels."""
    ean = whole.result.links.filter(pl.col("method") == "probabilistic")["ean"].min()
    return _with_connections(whole, pl.col("ean") == ean)


def one_bag_object(whole: Outcome) -> Delivery:
    """The whole register against a BAG of one live object (all its address rows)."""
    d = whole.delivery
    object_id = d.bag.filter(pl.col("status") == LIVE)["object_id"].min()
    return Delivery(d.bag.filter(pl.col("object_id") == object_id), d.connections, d.consumption)


def zero_connections(whole: Outcome) -> Delivery:
    """Every register row quarantined: an empty register, consumption still delivered."""
    return _with_connections(whole, pl.lit(False))


def all_inactive(whole: Outcome) -> Delivery:
    """Every connection out of operation."""
    d = whole.delivery
    return Delivery(d.bag, d.connections.with_columns(fysieke_status=pl.lit("uit bedrijf")), d.consumption)


def only_ligplaatsen(whole: Outcome) -> Delivery:
    """The gemeente's verblijfsobjecten as ligplaatsen (type code 02, no pand, gebruiksdoel or
    area), the register's ids renamed alike: a harbour."""
    d = whole.delivery
    bag = d.bag.filter(pl.col("object_type") == "verblijfsobject").with_columns(
        object_id=_as_ligplaats(pl.col("object_id")),
        object_type=pl.lit("ligplaats"),
        pand_id=pl.lit(None, pl.String),
        gebruiksdoel=pl.lit(None, pl.String),
        oppervlakte=pl.lit(None, d.bag.schema["oppervlakte"]),
        status=pl.when(pl.col("status").str.contains("ingetrokken|Niet gerealiseerd|ten onrechte"))
        .then(pl.lit("Plaats ingetrokken"))
        .otherwise(pl.lit("Plaats aangewezen")),
    )
    return Delivery(bag, d.connections.with_columns(bag_id=_as_ligplaats(pl.col("bag_id"))), d.consumption)


CASES: dict[str, Callable[[Outcome], Delivery]] = {
    case.__name__: case
    for case in (
        no_candidates,
        empty_bag,
        all_deterministic,
        no_residue,
        one_connection,
        one_connection_scored,
        one_bag_object,
        zero_connections,
        all_inactive,
        only_ligplaatsen,
    )
}


@pytest.fixture(scope="module")
def outcome_of(whole: Outcome) -> Callable[[str], Outcome]:
    """Each case run once per module, shared by the general tests and the case's own."""
    outcomes: dict[str, Outcome] = {}

    def get(name: str) -> Outcome:
        if name not in outcomes:
            outcomes[name] = _run(CASES[name](whole))
        return outcomes[name]

    return get


@pytest.fixture(params=list(CASES))
def edge(request: pytest.FixtureRequest, outcome_of: Callable[[str], Outcome]) -> Outcome:
    return outcome_of(request.param)


def test_every_connection_is_in_links_or_residue_exactly_once(edge: Outcome) -> None:
    connections, result = edge.connections, edge.result
    assert linkage.conservation_violations(connections, result.links, result.residue).is_empty()
    placed = pl.concat([result.links.select("ean").unique(), result.residue.select("ean")])
    assert placed["ean"].sort().to_list() == connections["ean"].sort().to_list()


def test_outputs_keep_their_schemas(edge: Outcome, whole: Outcome) -> None:
    validate_output("links", edge.result.links)
    validate_output("residue", edge.result.residue)
    pairs = [
        (edge.result.curve, whole.result.curve),
        (edge.result.unresolved_candidates, whole.result.unresolved_candidates),
        (edge.allocation, whole.allocation),
        (edge.cells, whole.cells),
        (edge.residue_summary, whole.residue_summary),
    ]
    for frame, reference in pairs:
        assert frame.schema == reference.schema


def test_allocation_and_national_cells_hold_every_unit_of_consumption(edge: Outcome) -> None:
    delivered = dict(edge.delivery.consumption.group_by("product").agg(pl.col("volume").sum()).rows())
    allocated = dict(edge.allocation.group_by("product").agg(pl.col("volume").sum()).rows())
    national = edge.cells.filter((pl.col("region_level") == "nationaal") & (pl.col("sector") == TOTAL_SECTOR))
    published = dict(national.select("product", "volume").rows())
    for product, volume in delivered.items():
        assert allocated[product] == pytest.approx(volume, rel=1e-12)
        assert published[product] == pytest.approx(volume, rel=1e-12)


def test_residue_summary_counts_every_residue_connection(edge: Outcome) -> None:
    assert edge.residue_summary["n_connections"].sum() == edge.result.residue.height


@pytest.mark.parametrize("case", ["no_candidates", "empty_bag"])
def test_without_candidates_every_addressed_connection_is_not_in_bag(
    case: str, whole: Outcome, outcome_of: Callable[[str], Outcome]
) -> None:
    result = outcome_of(case).result
    assert result.links.is_empty() and result.unresolved_candidates.is_empty()
    # what the whole gemeente linked has an address, which now no BAG object carries
    was_linked = result.residue.join(whole.result.links.select("ean").unique(), on="ean", how="semi")
    assert was_linked.height == whole.result.links["ean"].n_unique()
    assert set(was_linked["residue_class"]) == {"not_in_bag"}


def test_all_deterministic_scores_nothing_and_still_trains_the_model(outcome_of: Callable[[str], Outcome]) -> None:
    outcome = outcome_of("all_deterministic")
    assert set(outcome.result.links["method"]) <= set(PASS_METHODS) | {"collective"}
    assert outcome.result.unresolved_candidates.is_empty()
    postcode = next(c for c in outcome.result.model["comparisons"] if c["output_column_name"] == "postcode_clean")
    exact = next(lv for lv in postcode["comparison_levels"] if lv["label_for_charts"] == "postcode_clean exact")
    assert exact["m_probability"] > 0.5  # trained from the labels the passes made


def test_no_residue_case_has_an_empty_residue_and_summary(outcome_of: Callable[[str], Outcome]) -> None:
    outcome = outcome_of("no_residue")
    assert outcome.result.residue.is_empty()
    assert outcome.residue_summary.is_empty()
    assert outcome.allocation.filter(pl.col("object_id").is_null() & (pl.col("sector") != NOT_IN_REGISTER)).is_empty()


@pytest.mark.parametrize("case", ["one_connection", "one_connection_scored"])
def test_a_register_of_one_connection_links_it(case: str, whole: Outcome, outcome_of: Callable[[str], Outcome]) -> None:
    outcome = outcome_of(case)
    ean = outcome.connections["ean"].item()
    expected = whole.result.links.filter(pl.col("ean") == ean).select("object_id", "method")
    assert outcome.result.links.select("object_id", "method").rows() == expected.rows()


def test_one_bag_object_links_only_to_that_object(outcome_of: Callable[[str], Outcome]) -> None:
    outcome = outcome_of("one_bag_object")
    object_id = outcome.bag["object_id"].unique().item()
    assert outcome.result.links.height > 0
    assert set(outcome.result.links["object_id"]) == {object_id}


def test_zero_connections_puts_all_consumption_outside_the_register(outcome_of: Callable[[str], Outcome]) -> None:
    outcome = outcome_of("zero_connections")
    assert outcome.result.links.is_empty() and outcome.result.residue.is_empty()
    assert outcome.result.curve["n_linked"].sum() == 0
    assert set(outcome.allocation["sector"]) == {NOT_IN_REGISTER}


def test_all_inactive_connections_are_in_the_inactive_class(outcome_of: Callable[[str], Outcome]) -> None:
    outcome = outcome_of("all_inactive")
    assert outcome.result.links.is_empty()
    assert set(outcome.result.residue["residue_class"]) == {"inactive"}


def test_a_harbour_of_ligplaatsen_links_into_the_ligplaats_sector(
    whole: Outcome, outcome_of: Callable[[str], Outcome]
) -> None:
    outcome = outcome_of("only_ligplaatsen")
    assert (outcome.result.links["object_id"].str.slice(4, 2) == "02").all()
    # the connections the whole gemeente linked to one object find that place, now a ligplaats
    single = whole.result.links.filter(pl.len().over("ean") == 1).select(
        "ean", object_id=_as_ligplaats(pl.col("object_id"))
    )
    found = single.join(outcome.result.links.select("ean", "object_id"), on=["ean", "object_id"], how="semi")
    assert found.height >= HARD_SUBSET * single.height
    sectors = outcome.allocation.filter(pl.col("object_id").is_not_null())["sector"].unique()
    assert sectors.to_list() == ["ligplaats"]


def test_a_connection_whose_only_objects_are_being_built_is_a_construction_site() -> None:
    """One with every object being built goes to the residue (its reason names the first status
    in sort order); one that also serves a live object, or only live ones, stays linked."""
    from linkage.engine import _split_under_construction

    bag = pl.DataFrame(
        {
            "object_id": ["o1", "o2", "o3", "o4"],
            "status": ["Bouw gestart", "Bouwvergunning verleend", LIVE, LIVE],
        }
    )
    links = pl.DataFrame(
        {
            "ean": ["e_building", "e_building", "e_mixed", "e_mixed", "e_live"],
            "object_id": ["o1", "o2", "o1", "o3", "o4"],
        }
    )
    query, residue = _split_under_construction(links.lazy(), bag)
    kept = query.collect()
    assert sorted(kept["ean"].unique().to_list()) == ["e_live", "e_mixed"]
    assert kept.filter(pl.col("ean") == "e_mixed").height == 2
    assert residue.rows() == [
        ("e_building", "construction_site", "the BAG object at its address has status 'Bouw gestart'")
    ]
