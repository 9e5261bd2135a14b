"""Splink 5's standard unsupervised recipe on the address fields, as its tutorials teach it.

Records: one per BAG (object, nummeraanduiding) row and one per connection, with the normalised
address keys (postcode, huisnummer, suffix, street, woonplaats) that koppelwerk's normaliser
gives both sides, so the comparison is about the model, not about cleaning. The recipe:

- predictions blocked on postcode, and on street + huisnummer;
- `estimate_probability_two_random_records_match` from a deterministic full-address rule;
- `estimate_u_using_random_sampling`;
- EM (`estimate_parameters_using_expectation_maximisation`) on two blocking rules, each leaving
  the other fields to be trained;
- predict, then per connection the best pair above 0.5.

No registered bag_id, no residue logic, no collectives: this is the off-the-shelf tool used as
documented, which the domain notes expect to train badly on correlated address fields.
"""

from __future__ import annotations

import logging

import polars as pl

from benchmarks.peers import PEER_LINK_COLUMNS

THRESHOLD = 0.5
_FIELDS = {
    "postcode": "postcode_clean",
    "huisnummer": "huisnummer",
    "suffix": "suffix_key",
    "street": "street_key",
    "woonplaats": "woonplaats_key",
}


def _records(frame: pl.DataFrame, unique_id: pl.Expr) -> pl.DataFrame:
    return frame.select(
        unique_id=unique_id,
        **{name: pl.col(column) for name, column in _FIELDS.items()},
    ).with_columns(
        huisnummer=pl.col("huisnummer").cast(pl.Int64),
        # No suffix is a missing value to Splink, not the value "": otherwise "" == "" is the
        # commonest agreement of all and EM learns that agreeing on the suffix means nothing.
        suffix=pl.when(pl.col("suffix") == "").then(None).otherwise(pl.col("suffix")),
    )


def link(bag: pl.DataFrame, connections: pl.DataFrame, seed: int = 1) -> pl.DataFrame:
    """Links of the plain Splink model: at most one object per connection, p > 0.5."""
    # Imported here so that importing the peers package does not pull in Splink and DuckDB.
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    bag_rows = bag.with_row_index("bag_row").with_columns(unique_id=pl.format("b{}", pl.col("bag_row")))
    bag_records = _records(bag_rows, pl.col("unique_id"))
    conn_records = _records(connections, pl.col("ean"))

    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.ExactMatch("postcode"),
            cl.ExactMatch("huisnummer"),
            cl.ExactMatch("suffix"),
            cl.JaroWinklerAtThresholds("street", [0.95, 0.88]),
            cl.ExactMatch("woonplaats"),
        ],
        blocking_rules_to_generate_predictions=[block_on("postcode"), block_on("street", "huisnummer")],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    bag_sdf = db_api.register(bag_records.to_arrow(), dataset_display_name="bag")
    conn_sdf = db_api.register(conn_records.to_arrow(), dataset_display_name="connections")
    linker = Linker([bag_sdf, conn_sdf], settings, log_level=logging.WARNING)

    training = linker.training
    training.estimate_probability_two_random_records_match([block_on("postcode", "huisnummer", "suffix")], recall=0.8)
    training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    training.estimate_parameters_using_expectation_maximisation(block_on("postcode"), record_sample_proportion=1.0)
    training.estimate_parameters_using_expectation_maximisation(
        block_on("street", "huisnummer"), record_sample_proportion=1.0
    )
    scored = pl.from_arrow(linker.inference.predict(threshold_match_probability=THRESHOLD).as_pyarrow_table())
    assert isinstance(scored, pl.DataFrame)

    bag_on_left = pl.col("source_dataset_l") == "bag"
    pairs = scored.select(
        bag_uid=pl.when(bag_on_left).then(pl.col("unique_id_l")).otherwise(pl.col("unique_id_r")),
        ean=pl.when(bag_on_left).then(pl.col("unique_id_r")).otherwise(pl.col("unique_id_l")),
        match_probability="match_probability",
        match_weight="match_weight",
    ).join(bag_rows.select(bag_uid="unique_id", object_id="object_id"), on="bag_uid", how="inner")
    best = pairs.sort(["ean", "match_probability", "object_id"], descending=[False, True, False]).unique(
        "ean", keep="first", maintain_order=True
    )
    return (
        best.filter(pl.col("match_probability") > THRESHOLD)
        .select(
            "ean",
            "object_id",
            "match_probability",
            "match_weight",
            method=pl.lit("splink"),
            allocation_share=pl.lit(1.0),
        )
        .select(PEER_LINK_COLUMNS)
    )
