"""Residue classes for connections without a link, each with a reason a reviewer can read.

The rules, in the order they are applied:

Before any link is made (`pre_link_residue`), because the address must not win over them:
1. `inactive`: the physical status is not in operation.
2. the class the description names (`linkage.description`): "lichtmast t.o. nr 12" is a lamp
   post whatever address it was registered on.
3. registered *near* an address ("t.o. nr 12", "naast 7") without a word that says what it is:
   not the object at that address; its class comes from its capacity (rule 6) or it is
   `unresolved`.

After linking (`unlinked_residue`), for what found no object:
4. `construction_site` for links to objects still being built (in `linkage.engine`).
5. `not_in_bag`: the register gives an address (postcode or street, and number) that no BAG
   object carries, whatever near-misses the model scored.
6. no address and no class word, but a capacity that described street furniture has: the class
   most connections of that capacity have among the ones whose description names their class
   in this delivery (`capacity_classes`), when that is a clear majority.
7. `unresolved`, with the reason: the model's verdict, or what is missing.
"""

from __future__ import annotations

import polars as pl

from core.config import LinkageSettings
from linkage.assign import UNRESOLVED
from linkage.deterministic import objects_at_address

RESIDUE_REASON_COLUMNS = ["ean", "residue_class", "reason"]


def _class_words(residue_class: pl.Expr) -> pl.Expr:
    return residue_class.str.replace_all("_", " ")


def capacity_classes(
    connections: pl.DataFrame, described: pl.DataFrame, settings: LinkageSettings | None = None
) -> pl.DataFrame:
    """Per capacity (`capacity_key`) the class most described street furniture with that
    capacity has, its share and support, where the share and support are high enough
    (`capacity_min_share`, `capacity_min_support` of `settings`)."""
    settings = settings or LinkageSettings()
    counts = (
        connections.select("ean", "capacity_key")
        .join(described.filter(pl.col("described_class").is_not_null()), on="ean")
        .drop_nulls("capacity_key")
        .group_by("capacity_key", "described_class")
        .len()
    )
    return (
        counts.with_columns(support=pl.col("len").sum().over("capacity_key"))
        .with_columns(share=pl.col("len") / pl.col("support"))
        .sort(["capacity_key", "len", "described_class"], descending=[False, True, False])
        .unique("capacity_key", keep="first")
        .filter((pl.col("share") >= settings.capacity_min_share) & (pl.col("support") >= settings.capacity_min_support))
        .select("capacity_key", capacity_class="described_class", capacity_share="share", capacity_support="support")
    )


def _by_capacity(frame: pl.DataFrame, capacities: pl.DataFrame, why: pl.Expr) -> pl.DataFrame:
    """Residue rows for `frame` from its capacity (rule 6), `unresolved` where it tells nothing;
    `why` says what made the connection street furniture in the first place."""
    joined = frame.join(capacities, on="capacity_key", how="left")
    share = (pl.col("capacity_share") * 100).round(0).cast(pl.Int64)
    return joined.select(
        "ean",
        residue_class=pl.coalesce("capacity_class", pl.lit(UNRESOLVED)),
        reason=pl.when(pl.col("capacity_class").is_not_null())
        .then(
            pl.format(
                "{}; of the {} described connections with capacity {}, {} % are {}",
                why,
                pl.col("capacity_support"),
                pl.col("capacity_key"),
                share,
                _class_words(pl.col("capacity_class")),
            )
        )
        .otherwise(
            pl.format(
                "{}; its capacity ({}) does not tell what it is", why, pl.col("capacity_key").fill_null("unknown")
            )
        ),
    )


def pre_link_residue(connections: pl.DataFrame, described: pl.DataFrame, capacities: pl.DataFrame) -> pl.DataFrame:
    """Rules 1-3: connections that must not be linked whatever their address says.

    `described` is `linkage.description.describe(connections)` (the connections whose text says
    something); `capacities` comes from `capacity_classes`. Returns `ean`, `residue_class`,
    `reason` for those connections only.
    """
    inactive = (
        connections.select("ean", "in_bedrijf", "fysieke_status")
        .filter(~pl.col("in_bedrijf"))
        .select(
            "ean",
            residue_class=pl.lit("inactive"),
            reason=pl.format("fysieke_status '{}' is not in operation", pl.col("fysieke_status")),
        )
    )
    # the described connections only: the rest of the register has nothing rules 2-3 read
    active = described.join(
        connections.select("ean", "in_bedrijf", "locatieomschrijving", "capacity_key"), on="ean"
    ).filter(pl.col("in_bedrijf"))
    named = active.filter(pl.col("described_class").is_not_null()).select(
        "ean",
        residue_class="described_class",
        reason=pl.format(
            "locatieomschrijving '{}' names {} ({}: {})",
            pl.col("locatieomschrijving"),
            _class_words(pl.col("described_class")),
            pl.col("match_kind"),
            pl.col("matched_word"),
        ),
    )
    near = active.filter(pl.col("described_class").is_null() & pl.col("near_address"))
    near_why = pl.format(
        "locatieomschrijving '{}' places it near the address, not at it", pl.col("locatieomschrijving")
    )
    return pl.concat([inactive, named, _by_capacity(near, capacities, near_why)])


def unlinked_residue(
    remaining: pl.DataFrame, bag: pl.DataFrame, rejected: pl.DataFrame, capacities: pl.DataFrame
) -> pl.DataFrame:
    """Rules 5-7 for connections in operation that got no link.

    `rejected` holds the assignment's `unresolved` rows (ean, reason) for connections whose
    candidates were scored but not good or clear enough.
    """
    has_number = pl.col("huisnummer").is_not_null()
    has_address = has_number & (pl.col("postcode_clean").is_not_null() | pl.col("street_key").is_not_null())
    carried = objects_at_address(remaining.filter(has_address), bag).select("ean").unique()
    known_postcodes = bag.select("postcode_clean").drop_nulls().unique().with_columns(postcode_known=pl.lit(True))
    frame = (
        remaining.join(rejected.select("ean", scored_reason="reason"), on="ean", how="left")
        .join(known_postcodes, on="postcode_clean", how="left")
        .with_columns(
            has_address=has_address,
            carried=pl.col("ean").is_in(carried["ean"].implode()),
            address=pl.format("{} {}", pl.coalesce("postcode_clean", "straatnaam"), pl.col("huisnummer")),
        )
    )
    not_in_bag = frame.filter(pl.col("has_address") & ~pl.col("carried")).select(
        "ean",
        residue_class=pl.lit("not_in_bag"),
        reason=pl.when(pl.col("postcode_clean").is_not_null() & pl.col("postcode_known").is_null())
        .then(
            pl.format(
                "no BAG object carries {}; BAG has no address in postcode {} at all (a pseudo postcode?)",
                pl.col("address"),
                pl.col("postcode_clean"),
            )
        )
        .otherwise(pl.format("no BAG object carries {}", pl.col("address"))),
    )
    addressless = frame.filter(~has_number & pl.col("scored_reason").is_null())
    by_capacity = _by_capacity(addressless, capacities, pl.lit("no house number and no word that says what it is"))
    unresolved = frame.filter(
        pl.col("carried")
        | (has_number & ~pl.col("has_address"))
        | (~has_number & pl.col("scored_reason").is_not_null())
    ).select(
        "ean",
        residue_class=pl.lit(UNRESOLVED),
        reason=pl.coalesce(
            "scored_reason",
            pl.when(pl.col("carried"))
            .then(pl.format("BAG objects carry {}, but none matches the register's suffix", pl.col("address")))
            .otherwise(pl.lit("a house number without postcode or street")),
        ),
    )
    return pl.concat([not_in_bag, by_capacity, unresolved]).select(RESIDUE_REASON_COLUMNS)
