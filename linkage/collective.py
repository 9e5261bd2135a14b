"""Connections that serve a whole building: collective (block-heating) gas and common areas.

CBS's unit is the complex: objects that share connections. Two building-wide patterns are
recognised with rules a reviewer can read, and their consumption is spread over the units they
serve by floor area (`allocation_share`):

- collective gas: a gas connection on a dwelling in a pand of 3+ live dwellings whose
  description names block heating, or which is the pand's only gas connection and has a meter
  larger than a household's (G10 and up; capacity unknown counts as larger; both numbers are
  `core.config.LinkageSettings`);
- common area: an electricity connection whose description names a common area (VvE, lift,
  stairwell, hall) at an address (postcode or street, and number) whose BAG units all lie in
  one pand. Without the
  description a meter at a unit's address is that unit's own (or lost its suffix).
"""

from __future__ import annotations

import polars as pl

from core.config import LinkageSettings
from linkage.bag_status import is_live
from linkage.deterministic import LINK_COLUMNS, match_weight, objects_at_address

_BLOCK_HEATING = r"ketelhuis|blokverwarming|cv-ruimte|collectieve|stookruimte"
_COMMON_AREA = r"algemene ruimte|\bvve\b|lift|trappenhuis|gemeensch|centrale hal"


def _objects(bag: pl.DataFrame) -> pl.DataFrame:
    """One row per object with what building-wide allocation needs."""
    # the columns first: a unique over the national BAG's every column copied all of them
    return (
        bag.select("object_id", "pand_id", "oppervlakte", "status", "gebruiksdoel")
        .unique("object_id", keep="first")
        .select(
            "object_id",
            "pand_id",
            "oppervlakte",
            live=is_live(pl.col("status")),
            dwelling=pl.col("gebruiksdoel").fill_null("").str.contains("woonfunctie"),
        )
    )


def _served_links(served: pl.DataFrame) -> pl.DataFrame:
    """Links from (ean, object_id, oppervlakte, match_probability, match_weight) rows, shares by
    floor area (equal when unknown). Probability and weight are those of placing the connection
    in its pand."""
    area = pl.col("oppervlakte").cast(pl.Float64)
    weight = pl.when(area.is_null().any().over("ean") | (area.sum().over("ean") <= 0)).then(1.0).otherwise(area)
    return served.with_columns(weight=weight).select(
        "ean",
        "object_id",
        "match_probability",
        "match_weight",
        method=pl.lit("collective"),
        allocation_share=pl.col("weight") / pl.col("weight").sum().over("ean"),
    )


def expand_collective_gas(
    links: pl.DataFrame, bag: pl.DataFrame, connections: pl.DataFrame, settings: LinkageSettings | None = None
) -> pl.LazyFrame:
    """Replace the single link of each collective gas connection by links to every live
    dwelling of its pand (`collective_min_dwellings`, `collective_min_meter` of `settings`).
    The result is a query over `links`, not a copy of a national frame."""
    settings = settings or LinkageSettings()
    objects = _objects(bag)
    dwellings = objects.filter(pl.col("dwelling") & pl.col("live") & pl.col("pand_id").is_not_null())
    pand_size = (
        dwellings.group_by("pand_id")
        .agg(n_dwellings=pl.len())
        .filter(pl.col("n_dwellings") >= settings.collective_min_dwellings)
    )
    # only the gas links into panden of enough dwellings can be collective: the rest of the
    # national links (most dwellings are houses of their own) are not copied
    in_large_panden = (
        objects.filter(pl.col("dwelling")).select("object_id", "pand_id").join(pand_size, on="pand_id", how="semi")
    )
    in_panden = links.select("ean", "object_id", "match_probability", "match_weight").join(
        in_large_panden, on="object_id"
    )
    # the register's gas connections linked into such panden only, not a copy of its gas half
    gas_connections = (
        connections.select("ean", "product", "locatieomschrijving", "aansluitcapaciteit")
        .join(in_panden.select("ean"), on="ean", how="semi")
        .filter(pl.col("product") == "GAS")
        .drop("product")
    )
    gas = in_panden.join(gas_connections, on="ean")
    gas_per_pand = gas.group_by("pand_id").agg(n_gas=pl.col("ean").n_unique())
    described = pl.col("locatieomschrijving").fill_null("").str.to_lowercase().str.contains(_BLOCK_HEATING)
    meter = pl.col("aansluitcapaciteit").str.extract(r"(?i)^\s*G\s*(\d+)", 1).cast(pl.Int64, strict=False)
    large_meter = meter.is_null() | (meter >= settings.collective_min_meter)
    collective = (
        gas.join(gas_per_pand, on="pand_id")
        .filter(described | ((pl.col("n_gas") == 1) & large_meter))
        .select("ean", "pand_id", "match_probability", "match_weight")
    )
    served = collective.join(dwellings.select("pand_id", "object_id", "oppervlakte"), on="pand_id")
    kept = links.lazy().join(collective.select("ean").lazy(), on="ean", how="anti")
    return pl.concat([kept, _served_links(served).lazy()]).select(LINK_COLUMNS)


def common_area_links(
    remaining: pl.DataFrame, bag: pl.DataFrame, settings: LinkageSettings | None = None
) -> pl.DataFrame:
    """Links for unlinked electricity connections that serve the common areas of one pand. Such a
    meter is placed by its exact address at one pand, so its links get the exact-address prior."""
    probability = (settings or LinkageSettings()).exact_address_probability
    objects = _objects(bag)
    described = remaining.filter(
        (pl.col("product") == "ELK")
        & pl.col("locatieomschrijving").fill_null("").str.to_lowercase().str.contains(_COMMON_AREA)
    )
    at_address = objects_at_address(described, bag).join(objects.select("object_id", "pand_id"), on="object_id")
    per_ean = at_address.group_by("ean").agg(n_panden=pl.col("pand_id").n_unique(), pand_id=pl.col("pand_id").first())
    common = per_ean.filter(pl.col("n_panden") == 1)
    units = objects.filter(pl.col("live") & pl.col("pand_id").is_not_null())
    served = common.select(
        "ean",
        "pand_id",
        match_probability=pl.lit(probability),
        match_weight=pl.lit(match_weight(probability)),
    ).join(units.select("pand_id", "object_id", "oppervlakte"), on="pand_id")
    return _served_links(served).select(LINK_COLUMNS)
