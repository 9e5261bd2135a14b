"""What fixing a defect class would buy: the delivery re-linked with the defect corrected.

A defect can only be corrected where the right value is known. Here it is the object the run
linked the connection to: its BAG id fills a missing or dead `bag_id`, its postcode a missing
or malformed one. The whole register is linked again with those records corrected, and the
connections of each netbeheerder are compared before and after: how many link that did not,
how many move from the model to a deterministic pass (a registered id the address confirms),
and how much their match probability rises. Records the run could not link have no known
correction and are counted apart.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

import linkage
from koppelwerk.config import UseProfile
from linkage.bag_status import is_withdrawn

FIX_IMPACT_COLUMNS = [
    "defect", "holder", "n_affected", "n_correctable", "n_newly_linked", "n_now_deterministic", "mean_probability_gain",
]
DETERMINISTIC = ("registered_bag_id", "exact_address", "collective")


def _best_link(links: pl.DataFrame) -> pl.DataFrame:
    return links.sort("allocation_share", descending=True).unique("ean", keep="first").select(
        "ean", "object_id", "match_probability", "method"
    )


def _objects(bag: pl.DataFrame) -> pl.DataFrame:
    return bag.sort("hoofdadres", descending=True).unique("object_id", keep="first").select(
        "object_id", bag_postcode="postcode"
    )


# defect class -> (which connections have it, how the linked object corrects it)
DEFECTS: dict[str, tuple[pl.Expr, Callable[[pl.DataFrame], pl.DataFrame]]] = {
    "bag_id_filled": (pl.col("bag_id").is_null(), lambda f: f.with_columns(bag_id=pl.col("linked_object"))),
    "bag_id_points_at_active_object": (
        pl.col("bag_id").is_not_null() & ~pl.col("bag_id_active"),
        lambda f: f.with_columns(bag_id=pl.col("linked_object")),
    ),
    "postcode_missing_or_malformed": (
        pl.col("postcode_clean").is_null() & pl.col("huisnummer").is_not_null(),
        lambda f: f.with_columns(postcode=pl.col("linked_postcode")),
    ),
}


def fix_impact(
    connections: pl.DataFrame, bag: pl.DataFrame, links: pl.DataFrame, profile: UseProfile,
    defects: tuple[str, ...] = tuple(DEFECTS),
) -> pl.DataFrame:
    """Per defect class and netbeheerder, the gain of correcting it (`FIX_IMPACT_COLUMNS`).

    `connections` and `bag` are the ingested (not normalised) deliveries, `links` the run's.
    """
    normalised_bag = linkage.normalise_bag(bag)
    active = bag.filter(~is_withdrawn(pl.col("status"))).select(bag_id="object_id").unique()
    before = _best_link(links)
    frame = (
        linkage.normalise_connections(connections)
        .join(before.select("ean", linked_object="object_id"), on="ean", how="left")
        .join(_objects(bag).rename({"object_id": "linked_object", "bag_postcode": "linked_postcode"}), on="linked_object", how="left")
        .with_columns(bag_id_active=pl.col("bag_id").is_in(active["bag_id"].implode()))
    )
    rows = []
    for defect in defects:
        affected, correct = DEFECTS[defect]
        has_defect = frame.filter(affected)
        correctable = has_defect.filter(pl.col("linked_object").is_not_null())
        counts = has_defect.group_by(holder="netbeheerder").agg(
            n_affected=pl.len(), n_correctable=pl.col("linked_object").is_not_null().sum()
        )
        if correctable.height == 0:
            rows.append(counts.with_columns(defect=pl.lit(defect), n_newly_linked=0, n_now_deterministic=0,
                                            mean_probability_gain=0.0))
            continue
        fixed = correct(correctable).select(connections.columns)
        corrected = pl.concat([connections.join(fixed.select("ean"), on="ean", how="anti"), fixed])
        after = _best_link(linkage.link(normalised_bag, linkage.normalise_connections(corrected), profile).links)
        compared = (
            has_defect.select("ean", holder="netbeheerder")
            .join(before.select("ean", p_before="match_probability", m_before="method"), on="ean", how="left")
            .join(after.select("ean", p_after="match_probability", m_after="method"), on="ean", how="left")
        )
        gains = compared.group_by("holder").agg(
            n_newly_linked=(pl.col("p_before").is_null() & pl.col("p_after").is_not_null()).sum(),
            n_now_deterministic=(~pl.col("m_before").is_in(DETERMINISTIC) & pl.col("m_after").is_in(DETERMINISTIC)).sum(),
            mean_probability_gain=(pl.col("p_after").fill_null(0.0) - pl.col("p_before").fill_null(0.0)).mean(),
        )
        rows.append(counts.join(gains, on="holder", how="left").with_columns(defect=pl.lit(defect)))
    schema = {"defect": pl.String, "holder": pl.String, "n_affected": pl.Int64, "n_correctable": pl.Int64,
              "n_newly_linked": pl.Int64, "n_now_deterministic": pl.Int64, "mean_probability_gain": pl.Float64}
    return pl.concat(
        [r.select(pl.col(c).cast(t) for c, t in schema.items()) for r in rows] or [pl.DataFrame(schema=schema)]
    ).sort("defect", "holder")

