"""What fixing a defect class would buy: the delivery re-linked with the defect corrected.

A defect can only be corrected where the right value can be told. For a linked connection it is
the object the run linked it to; for one left `unresolved` it is the model's best candidate, below
the threshold: the estimate then answers "if your correction confirmed our best guess". That
object's BAG id fills a missing or dead `bag_id`, its postcode a missing or malformed one. The
register is linked once more with every correctable defect corrected (one re-link, not one per
class), by the run's trained model: only the corrected records are paired with objects and
scored (`linkage.Relink`); every other record keeps its link. Each defect class is judged on its own records, per
netbeheerder: how many link that did not, how many move from the model to a
deterministic pass (a registered id the address confirms), and how much their match probability
rises. Records without a link or a candidate (most residue) are affected, not correctable.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import polars as pl

import linkage
from core.config import LinkageSettings, UseProfile
from core.progress import Progress, silent
from linkage.assign import UNRESOLVED
from linkage.bag_objects import Frame, one_row_per_object
from linkage.bag_status import is_withdrawn

FIX_IMPACT_COLUMNS = [
    "defect",
    "holder",
    "n_affected",
    "n_correctable",
    "n_newly_linked",
    "n_now_deterministic",
    "mean_probability_gain",
]
DETERMINISTIC = ("registered_bag_id", "exact_address", "collective")
# what fix impact reads of the normalised register: what the re-link reads, and the raw values a
# correction replaces
CONNECTION_COLUMNS = [*linkage.CONNECTION_INPUT_COLUMNS, "bag_id", "postcode"]
# what a record is judged on (its defects, its holder); the re-link reads the register as it is,
# with the corrected records' new keys written in (`_repaired`)
_JUDGED_COLUMNS = ("ean", "netbeheerder", "bag_id", "postcode", "postcode_clean", "huisnummer")


def _best_link(links: Frame) -> Frame:
    """Per connection its link of the largest share; of equal shares the first in `links`."""
    return (
        links.sort("allocation_share", descending=True, maintain_order=True)
        .unique("ean", keep="first", maintain_order=True)
        .select("ean", "object_id", "match_probability", "method")
    )


def _objects(bag: Frame) -> Frame:
    return one_row_per_object(bag.select("object_id", "hoofdadres", "nummeraanduiding_id", "postcode")).select(
        "object_id", bag_postcode="postcode"
    )


# defect class -> (which connections have it, the column it spoils, where the right value is)
DEFECTS: dict[str, tuple[pl.Expr, str, str]] = {
    "bag_id_filled": (pl.col("bag_id").is_null(), "bag_id", "corrected_object"),
    "bag_id_points_at_active_object": (
        pl.col("bag_id").is_not_null() & ~pl.col("bag_id_active"),
        "bag_id",
        "corrected_object",
    ),
    "postcode_missing_or_malformed": (
        pl.col("postcode_clean").is_null() & pl.col("huisnummer").is_not_null(),
        "postcode",
        "corrected_postcode",
    ),
}


def _repaired(connections: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """The register the re-link reads (`linkage.CONNECTION_INPUT_COLUMNS`), with the corrected
    records' keys (`keys`: `ean` and the keys a correction gives anew, `linkage.identifier_keys`).
    Only the columns a correction changed are replaced, at the corrected records' rows, so the
    rest of the register is shared, not copied: a national register would be held twice. The
    records are compared column by column at their rows, not joined: a join of the corrected
    records with their rows held both sides' columns at once (a quarter of a national register,
    twice)."""
    rows = (
        connections.select("ean")
        .with_row_index("row")
        .join(keys.select("ean"), on="ean", how="inner", maintain_order="right")["row"]
    )
    fresh = [c for c in keys.columns if c != "ean"]
    changed = [c for c in fresh if connections[c].gather(rows).ne_missing(keys[c]).any()]
    return connections.select(linkage.CONNECTION_INPUT_COLUMNS).with_columns(
        _chunked_as(connections[c].clone().scatter(rows, keys[c]), connections[c]) for c in changed
    )


def _chunked_as(column: pl.Series, like: pl.Series) -> pl.Series:
    """`column` cut into `like`'s chunks, as views of its one buffer. A scatter gives one chunk;
    a frame whose columns are chunked differently is copied into one chunk per column by each
    `select` that reads it (the register lookup of collective gas in the re-link: +2.9 GB at ten
    million objects)."""
    lengths = [chunk.len() for chunk in like.get_chunks()]
    starts = itertools.accumulate([0, *lengths[:-1]])
    return pl.concat([column.slice(start, n) for start, n in zip(starts, lengths, strict=True)], rechunk=False)


def _judged(
    connections: pl.DataFrame,
    bag: pl.DataFrame,
    corrections: pl.DataFrame | pl.LazyFrame,
    defects: tuple[str, ...],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The records with a defect (`ean`, `netbeheerder`, `corrected_object`, a flag `has_<defect>`
    per defect), and the corrected values (`ean` and the spoiled columns) of those a correction
    is known for. A record without a defect takes no part in the figures and is not carried.
    The corrections and the objects are looked up for those records only: a filter on `ean`
    reaches into `run_corrections`' query, before its sort of the national links."""
    active = bag.filter(~is_withdrawn(pl.col("status"))).select(bag_id="object_id").unique()
    defective = (
        connections.select(_JUDGED_COLUMNS)
        .with_columns(bag_id_active=pl.col("bag_id").is_in(active["bag_id"].implode()))
        .with_columns(**{f"has_{d}": DEFECTS[d][0].fill_null(False) for d in defects})
        .filter(pl.any_horizontal(pl.col(f"has_{d}") for d in defects))
    )
    corrected = (
        corrections.lazy()
        .filter(pl.col("ean").is_in(defective["ean"].implode()))
        .select("ean", corrected_object="object_id")
        .collect()
    )
    objects = bag.lazy().filter(pl.col("object_id").is_in(corrected["corrected_object"].implode()))
    frame = defective.join(corrected, on="ean", how="left", maintain_order="left").join(
        _objects(objects).rename({"object_id": "corrected_object", "bag_postcode": "corrected_postcode"}).collect(),
        on="corrected_object",
        how="left",
        maintain_order="left",
    )
    spoiled = sorted({column for _, column, _ in DEFECTS.values()})
    corrected_values = frame.filter(pl.col("corrected_object").is_not_null()).select(
        "ean",
        *[
            pl.coalesce(
                *[pl.when(pl.col(f"has_{d}")).then(pl.col(DEFECTS[d][2])) for d in defects if DEFECTS[d][1] == column],
                pl.col(column),
            ).alias(column)
            for column in spoiled
        ],
    )
    return frame.select("ean", "netbeheerder", "corrected_object", *[f"has_{d}" for d in defects]), corrected_values


def run_corrections(links: pl.DataFrame, residue: pl.DataFrame, unresolved_candidates: pl.DataFrame) -> pl.LazyFrame:
    """Per connection (`ean`, `object_id`) the object a correction of its defects is taken from:
    its best link, else, for a connection the residue calls `unresolved`, its best candidate (a
    lamp post's nearest dwelling is no correction). A query: fix impact collects it for the
    records with a defect only, so a row per connection of a national register is not held
    through the re-link."""
    unresolved = residue.lazy().filter(pl.col("residue_class") == UNRESOLVED)
    return pl.concat(
        [
            _best_link(links.lazy()).select("ean", "object_id"),
            unresolved_candidates.lazy().join(unresolved, on="ean", how="semi").select("ean", "object_id"),
        ]
    ).unique("ean", keep="first", maintain_order=True)


def fix_impact(
    connections: pl.DataFrame,
    bag: pl.DataFrame,
    links: pl.DataFrame,
    corrections: pl.DataFrame | pl.LazyFrame,
    profile: UseProfile,
    defects: tuple[str, ...] = tuple(DEFECTS),
    settings: LinkageSettings | None = None,
    duckdb_config: Mapping[str, str] | None = None,
    model: dict[str, Any] | None = None,
    progress: Progress = silent,
    backend: str = "duckdb",
    spark: Any = None,
) -> pl.DataFrame:
    """Per defect class and netbeheerder, the gain of correcting it (`FIX_IMPACT_COLUMNS`).

    `connections` and `bag` are the normalised registers (`linkage.normalise_connections`,
    `linkage.normalise_bag`: the run's, so that only the corrected records' postcode and id keys
    are made again; of the register, `CONNECTION_COLUMNS` are read). `links` are the run's, and
    `corrections` the object each connection's right values come from (`run_corrections`; a
    benchmark passes the truth instead, to see how far the estimate is off). `settings` are the
    run's linkage tuning numbers, for the re-linkage (by default `LinkageSettings()`), and
    `duckdb_config` its Splink connection's configuration (`linkage.link`). With the run's
    trained `model`, only the corrected records are linked again, with that model (`linkage.Relink`):
    the re-link costs what those records cost, not a second linkage of the whole register
    (without it, as a benchmark's truth-corrected re-link does, the register is trained on and
    linked again). `backend` and `spark`: where the re-link scores, as the run's
    linkage does (`linkage.link`).
    """
    # one linkage with every correctable defect corrected; each class is judged on its own records
    judged, corrected_values = _judged(connections, bag, corrections, defects)
    progress("corrected records", corrected_values.height, judged.height)
    relinked = None
    if corrected_values.height:
        # a correction changes a record's postcode and registered id, so those keys are made anew
        relinked = _best_link(
            linkage.link(
                bag,
                _repaired(connections, corrected_values.select("ean", **linkage.identifier_keys())),
                profile,
                settings,
                duckdb_config,
                relink=linkage.Relink(corrected_values["ean"], model, links) if model is not None else None,
                progress=lambda phase, done=None, total=None: progress(f"re-link: {phase}", done, total),
                backend=backend,
                spark=spark,
            ).links
        )
    # the run's best links are taken after the re-link, not held through it, and of the judged
    # records only (a connection's best link is its own rows'); a record not corrected keeps its
    # link (a full re-link gives it the same one)
    before = _best_link(links.lazy().filter(pl.col("ean").is_in(judged["ean"].implode()))).collect()
    after = before
    if relinked is not None and model is not None:
        after = pl.concat([before.join(corrected_values.select("ean"), on="ean", how="anti"), relinked])
    elif relinked is not None:
        after = relinked
    compared = judged.join(
        before.select("ean", p_before="match_probability", m_before="method"), on="ean", how="left"
    ).join(after.select("ean", p_after="match_probability", m_after="method"), on="ean", how="left")
    rows = [
        compared.filter(pl.col(f"has_{defect}"))
        .group_by(holder="netbeheerder")
        .agg(
            n_affected=pl.len(),
            n_correctable=pl.col("corrected_object").is_not_null().sum(),
            n_newly_linked=(pl.col("p_before").is_null() & pl.col("p_after").is_not_null()).sum(),
            n_now_deterministic=(
                ~pl.col("m_before").is_in(DETERMINISTIC) & pl.col("m_after").is_in(DETERMINISTIC)
            ).sum(),
            mean_probability_gain=(pl.col("p_after").fill_null(0.0) - pl.col("p_before").fill_null(0.0)).mean(),
        )
        .with_columns(defect=pl.lit(defect))
        for defect in defects
    ]
    schema = {
        "defect": pl.String,
        "holder": pl.String,
        "n_affected": pl.Int64,
        "n_correctable": pl.Int64,
        "n_newly_linked": pl.Int64,
        "n_now_deterministic": pl.Int64,
        "mean_probability_gain": pl.Float64,
    }
    return pl.concat(
        [r.select(pl.col(c).cast(t) for c, t in schema.items()) for r in rows] or [pl.DataFrame(schema=schema)]
    ).sort("defect", "holder")
