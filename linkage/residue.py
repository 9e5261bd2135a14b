"""Residue classes for connections that are not linked, each with a reason a reviewer can read.

The rules here are deliberately plain: a vocabulary per class over the free-text
`locatieomschrijving`, the physical status, and what the address search found.
"""

from __future__ import annotations

import polars as pl

# Ordered: the first class whose pattern matches wins. Patterns run on the lower-cased text.
INFRASTRUCTURE_VOCABULARY: list[tuple[str, str]] = [
    ("street_clock", r"\b(straat)?klok\b|uurwerk"),
    ("bus_shelter", r"\babri\b|wachthuisje|bushokje|bushalte"),
    ("traffic_signal", r"\bvri\b|verkeerslicht|verkeersregel"),
    ("public_lighting", r"\bovl?\b|openbare verlichting|lichtmast|lantaarn|\bmast\b.*\bov\b|verlichting"),
    ("ev_charger", r"laadpaal|laadpunt|\blp[\s\-]?\d*\b|oplaad|laadstation"),
    ("telecom_cabinet", r"telecom|glasvezel|\bkpn\b|zendmast|antenne|\bgsm\b"),
    ("pumping_station", r"gemaal|pomp|rioolpomp"),
    ("construction_site", r"bouwstroom|bouwaansluiting|bouwkeet|bouwplaats"),
    ("market_event", r"\bmarkt|kermis|evenement|festival"),
]

INACTIVE_STATUS_LABELS = {
    "ubd": "uit bedrijf",
    "slp": "afgesloten (verwijderd)",
    "ial": "in aanleg",
}


def infrastructure_class(description: pl.Expr) -> pl.Expr:
    """The residue class its free-text description places a connection in, or null."""
    text = description.fill_null("").str.to_lowercase()
    result = pl.lit(None, dtype=pl.String)
    for residue_class, pattern in reversed(INFRASTRUCTURE_VOCABULARY):
        result = pl.when(text.str.contains(pattern)).then(pl.lit(residue_class)).otherwise(result)
    return result


def pre_link_residue(connections: pl.DataFrame) -> pl.DataFrame:
    """Connections that must not be linked whatever their address says.

    A connection out of operation is `inactive`; one whose description names street furniture is
    that furniture even when it is registered on a house's address (e.g. "t.o. nr 12").
    Returns `ean`, `residue_class`, `reason` for those connections only.
    """
    described = infrastructure_class(pl.col("locatieomschrijving"))
    return (
        connections.with_columns(described_class=described)
        .filter(~pl.col("in_bedrijf") | pl.col("described_class").is_not_null())
        .select(
            "ean",
            residue_class=pl.when(~pl.col("in_bedrijf"))
            .then(pl.lit("inactive"))
            .otherwise(pl.col("described_class")),
            reason=pl.when(~pl.col("in_bedrijf"))
            .then(pl.format("fysieke_status '{}' is not in operation", pl.col("fysieke_status")))
            .otherwise(
                pl.format("locatieomschrijving '{}' describes {}", pl.col("locatieomschrijving"),
                          pl.col("described_class").str.replace_all("_", " "))
            ),
        )
    )
