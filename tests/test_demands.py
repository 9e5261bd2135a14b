"""Cross-delivery demands: each row's result is its own, however the joins behind it order rows.

The frames here are built so that lining results up by position goes wrong: `rule_results`
arrives shuffled, the register repeats a connection (a join multiplies rows), many rows share
one key and some keys are null. The expected values are worked out by hand from the capacity
formulas in the contracts, not by the code under test.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

import synth
from ingestion.validate import validate_delivery
from linkage.bag_status import WITHDRAWN
from quality.demands import with_demands

# One electricity phase at 25 A for a year: 1 x 25 A x 230 V x 8,760 h = 50,370 kWh; three phases 151,110 kWh.
# Gas G4: 4 x 1.6 m3/h x 8,760 h = 56,064 m3; G6: 84,096 m3.
CONNECTIONS = pl.DataFrame(
    {
        "ean": ["E1", "E2", "E3", "E1", "E4", "E4", None],
        "product": ["ELK", "ELK", "GAS", "GAS", "ELK", "ELK", "ELK"],
        "netbeheerder": ["Net A", "Net B", "Net A", "Net C", "Net B", "Net C", "Net D"],
        "bag_id": ["O1", "O2", None, "O9", "O1", "O1", None],
        "aansluitcapaciteit": ["1x25A", "3x25A", "G4", "G6", "1x25A", "3x25A", "1x6A"],
    }
)
# O1 twice (a hoofdadres and a nevenadres), O2 withdrawn, O9 not in the BAG at all.
BAG = pl.DataFrame(
    {"object_id": ["O1", "O1", "O2"], "status": ["Verblijfsobject in gebruik"] * 2 + [sorted(WITHDRAWN)[0]]}
)

# (row_number, ean, product, volume, quarantined, holder, plausible) of a consumption delivery.
CONSUMPTION_ROWS = [
    (1, "E1", "ELK", 40_000.0, False, "Net A", True),  # under 1x25A
    (2, "E1", "ELK", 60_000.0, False, "Net A", False),  # over 1x25A
    (3, "E2", "ELK", 9e9, True, "Net B", True),  # quarantined: meets the demand, still Net B's row
    (4, "E2", "ELK", 100_000.0, False, "Net B", True),  # under 3x25A
    (5, "E3", "GAS", 10_000.0, False, "Net A", True),  # under G4
    (6, "E3", "GAS", 60_000.0, False, "Net A", False),  # over G4
    (7, "E4", "ELK", 100_000.0, False, "Net B", True),  # E4 registered twice: fits the larger, 3x25A
    (8, "E9", "ELK", 9e9, False, None, True),  # no such connection: capacity unknown, no holder
    (9, None, "ELK", 5.0, False, None, True),  # no EAN
    (10, "E1", "GAS", 90_000.0, False, "Net A", False),  # over G6; E1's first register row is Net A's
    (11, "E3", "GAS", 50_000.0, False, "Net A", True),  # under G4
]
# (row_number, ean, bag_id, quarantined, points at an active object) of a connection delivery.
CONNECTION_ROWS = [
    (1, "E1", "O1", False, True),
    (2, "E2", "O2", False, False),  # withdrawn
    (3, "E2", "O1", True, True),  # quarantined (a repeated EAN)
    (4, "E3", None, False, True),  # empty: the demand bag_id_filled
    (5, "E5", "O9", False, False),  # no such object
    (6, "E6", "O1", False, True),
    (7, "E7", "O2", False, False),
    (8, "E8", "O1", False, True),
]


def _shuffled(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    order = list(range(frame.height))
    random.Random(seed).shuffle(order)
    return frame[order]


def _rule_results(rows: list[tuple], seed: int) -> pl.DataFrame:
    """`rule_results` of the rows (record_id the EAN), in a shuffled order."""
    frame = pl.DataFrame(
        {"row_number": [r[0] for r in rows], "record_id": [r[1] for r in rows], "holder": [None] * len(rows)},
        schema={"row_number": pl.Int64, "record_id": pl.String, "holder": pl.String},
    )
    return _shuffled(frame, seed)


def _quarantine(rows: list[tuple], quarantined: int) -> pl.DataFrame:
    return pl.DataFrame({"row_number": [r[0] for r in rows if r[quarantined]]}, schema={"row_number": pl.Int64})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_consumption_row_gets_its_own_holder_and_capacity_verdict(seed: int) -> None:
    kept = [r for r in CONSUMPTION_ROWS if not r[4]]
    consumption = pl.DataFrame(
        {"ean": [r[1] for r in kept], "product": [r[2] for r in kept], "volume": [r[3] for r in kept]},
        schema={"ean": pl.String, "product": pl.String, "volume": pl.Float64},
    )
    rule_results = _rule_results(CONSUMPTION_ROWS, seed)
    result = with_demands("consumption", rule_results, _quarantine(CONSUMPTION_ROWS, 4), BAG, CONNECTIONS, consumption)
    assert result["row_number"].to_list() == rule_results["row_number"].to_list()
    got = {
        row: (holder, plausible)
        for row, holder, plausible in result.select("row_number", "holder", "volume_plausible_for_capacity").rows()
    }
    assert got == {r[0]: (r[5], r[6]) for r in CONSUMPTION_ROWS}


def test_a_caller_that_counts_rows_needs_no_record_ids_or_holders() -> None:
    """Validation reads the rule results without `record_id` and `holder` (most of their bytes
    at national size): the demands come out the same, row by row."""
    kept = [r for r in CONSUMPTION_ROWS if not r[4]]
    consumption = pl.DataFrame(
        {"ean": [r[1] for r in kept], "product": [r[2] for r in kept], "volume": [r[3] for r in kept]},
        schema={"ean": pl.String, "product": pl.String, "volume": pl.Float64},
    )
    rule_results = _rule_results(CONSUMPTION_ROWS, 1)
    quarantine = _quarantine(CONSUMPTION_ROWS, 4)
    full = with_demands("consumption", rule_results, quarantine, BAG, CONNECTIONS, consumption)
    counted = with_demands(
        "consumption",
        rule_results.drop("record_id", "holder"),
        quarantine,
        BAG,
        CONNECTIONS,
        consumption,
        holders=False,
    )
    assert "holder" not in counted.columns
    assert counted.equals(full.drop("record_id", "holder"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_connection_gets_the_verdict_on_its_own_bag_id(seed: int) -> None:
    kept = [r for r in CONNECTION_ROWS if not r[3]]
    connections = pl.DataFrame({"bag_id": [r[2] for r in kept]}, schema={"bag_id": pl.String})
    rule_results = _rule_results(CONNECTION_ROWS, seed)
    result = with_demands(
        "connections", rule_results, _quarantine(CONNECTION_ROWS, 3), BAG, connections, pl.DataFrame()
    )
    assert result["row_number"].to_list() == rule_results["row_number"].to_list()
    verdicts = dict(result.select("row_number", "bag_id_points_at_active_object").rows())
    assert verdicts == {r[0]: r[4] for r in CONNECTION_ROWS}


def test_a_frame_that_is_not_the_deliverys_kept_rows_is_refused() -> None:
    kept = [r for r in CONNECTION_ROWS if not r[3]]
    connections = pl.DataFrame({"bag_id": [r[2] for r in kept][:-1]}, schema={"bag_id": pl.String})
    rule_results, quarantine = _rule_results(CONNECTION_ROWS, 1), _quarantine(CONNECTION_ROWS, 3)
    with pytest.raises(ValueError, match="rows"):
        with_demands("connections", rule_results, quarantine, BAG, connections, pl.DataFrame())


def test_through_ingestion_every_row_is_judged_on_its_own_values() -> None:
    """A synth delivery with rows quarantined, its rule results shuffled: per row, the demands
    and holder follow from that row's delivered values alone."""
    data = synth.generate(400, seed=3)
    raw_connections = pl.concat([data.connections, data.connections.head(5)])  # repeated EANs: quarantined
    raw_consumption = data.consumption.with_columns(
        volume=pl.when(pl.int_range(pl.len()) % 7 == 0).then(pl.col("volume") * 1e6).otherwise(pl.col("volume"))
    )
    ingested = {
        kind: validate_delivery(kind, raw, Path(kind))
        for kind, raw in (("bag", data.bag), ("connections", raw_connections), ("consumption", raw_consumption))
    }
    frames = {kind: result.frame for kind, result in ingested.items()}
    assert ingested["connections"].quarantine.height >= 5
    active = set(data.bag.filter(~pl.col("status").is_in(list(WITHDRAWN)))["object_id"])
    owner = dict(reversed(data.connections.select("ean", "netbeheerder").rows()))  # the first row per EAN
    for kind, column in (
        ("connections", "bag_id_points_at_active_object"),
        ("consumption", "volume_plausible_for_capacity"),
    ):
        result = with_demands(
            kind,
            _shuffled(ingested[kind].rule_results, 5),
            ingested[kind].quarantine,
            frames["bag"],
            frames["connections"],
            frames["consumption"],
        )
        verdict = dict(result.select("row_number", column).rows())
        raw = raw_connections if kind == "connections" else raw_consumption
        rejected = set(ingested[kind].quarantine["row_number"])
        for row_number, row in enumerate(raw.iter_rows(named=True), start=1):
            if row_number in rejected:
                assert verdict[row_number] is True
            elif kind == "connections":
                assert verdict[row_number] is (row["bag_id"] is None or row["bag_id"] in active), row
        if kind == "consumption":
            holders = dict(result.select("row_number", "holder").rows())
            assert holders == {n: owner.get(row["ean"]) for n, row in enumerate(raw.iter_rows(named=True), start=1)}
            assert not all(verdict.values())  # some volumes were blown up past any capacity
