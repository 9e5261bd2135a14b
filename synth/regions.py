"""Gemeenten, woonplaatsen, streets and grid-operator areas: the geography the objects sit in.

Sizes follow the object count (about one gemeente per 25,000 objects), names are drawn from
composable Dutch word parts, and street names come from one shared pool so that the same name
("Kerkstraat") recurs in several woonplaatsen, as it does in the Netherlands: a street name alone
never identifies an address.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth import vocabulary
from synth.namespace import Namespace

OBJECTS_PER_GEMEENTE = 25_000
# RD New (EPSG:28992) box the municipalities are placed in, inside the Dutch land area.
RD_X = (25_000.0, 265_000.0)
RD_Y = (320_000.0, 600_000.0)
PANDEN_PER_STREET = 22
# Share of gemeenten with 1, 2, 3, 4 woonplaatsen: most are merged municipalities.
WOONPLAATSEN_PER_GEMEENTE = [0.15, 0.3, 0.3, 0.25]


@dataclass(frozen=True)
class Regions:
    """Per gemeente and per woonplaats arrays (index = position); names are plain lists."""

    gemeente_code: np.ndarray
    gemeente_name: list[str]
    woonplaats_gemeente: np.ndarray
    woonplaats_name: list[str]
    woonplaats_old_name: list[str]
    woonplaats_id_code: np.ndarray  # municipality code in ids created there (a former gemeente for some)
    woonplaats_weight: np.ndarray  # share of the panden
    woonplaats_x: np.ndarray
    woonplaats_y: np.ndarray
    woonplaats_elk_operator: np.ndarray
    woonplaats_gas_operator: np.ndarray
    pc4_codes: np.ndarray  # the PC4 codes the postcodes may use

    @property
    def n_woonplaatsen(self) -> int:
        return len(self.woonplaats_name)


@dataclass(frozen=True)
class Streets:
    """Streets sorted by woonplaats: woonplaats w owns the index range first[w]:first[w + 1]."""

    woonplaats: np.ndarray
    name_index: np.ndarray  # into `names`
    names: list[str]
    first: np.ndarray  # length n_woonplaatsen + 1
    weight: np.ndarray
    x: np.ndarray
    y: np.ndarray
    angle: np.ndarray  # direction of the street axis, radians
    step: np.ndarray  # 1, or 2 for streets numbered on one side only
    first_number: np.ndarray

    @property
    def n(self) -> int:
        return len(self.woonplaats)


def build_regions(n_objects: int, namespace: Namespace, rng: np.random.Generator) -> Regions:
    """Gemeenten with 1-4 woonplaatsen each, placed in RD space, with 2-3 grid operators by region;
    codes and names come from the namespace's pools."""
    n_gemeenten = max(1, round(n_objects / OBJECTS_PER_GEMEENTE))
    _check_pool("gemeente codes", namespace.gemeente_codes, n_gemeenten)
    codes = np.sort(rng.choice(namespace.gemeente_codes, size=n_gemeenten, replace=False))
    per_gemeente = rng.choice(np.arange(1, 5), size=n_gemeenten, p=WOONPLAATSEN_PER_GEMEENTE)
    n_woonplaatsen = int(per_gemeente.sum())
    woonplaats_gemeente = np.repeat(np.arange(n_gemeenten), per_gemeente)
    is_main = np.r_[True, woonplaats_gemeente[1:] != woonplaats_gemeente[:-1]]

    names, old_names = vocabulary.place_names()
    _check_pool("place names", namespace.place_names, n_woonplaatsen + n_gemeenten)
    chosen = rng.choice(namespace.place_names, size=n_woonplaatsen + n_gemeenten, replace=False)
    woonplaats_name = [names[i] for i in chosen[:n_woonplaatsen]]
    woonplaats_old = [old_names[i] for i in chosen[:n_woonplaatsen]]
    gemeente_name = _gemeente_names(
        rng, chosen[n_woonplaatsen:], names, woonplaats_name, is_main, per_gemeente, namespace.regional_names
    )
    _share_one_name_across_gemeenten(woonplaats_name, woonplaats_old, woonplaats_gemeente, is_main)

    gemeente_size = rng.lognormal(0.0, 0.35, size=n_gemeenten)
    within = np.where(is_main, rng.uniform(2.0, 5.0, size=n_woonplaatsen), rng.uniform(0.3, 1.0, size=n_woonplaatsen))
    within /= np.bincount(woonplaats_gemeente, weights=within)[woonplaats_gemeente]
    weight = gemeente_size[woonplaats_gemeente] / gemeente_size.sum() * within

    centre_x = rng.uniform(*RD_X, size=n_gemeenten)
    centre_y = rng.uniform(*RD_Y, size=n_gemeenten)
    distance = np.where(is_main, 0.0, rng.uniform(3_000, 8_000, size=n_woonplaatsen))
    bearing = rng.uniform(0, 2 * np.pi, size=n_woonplaatsen)
    x = centre_x[woonplaats_gemeente] + distance * np.cos(bearing)
    y = centre_y[woonplaats_gemeente] + distance * np.sin(bearing)

    # Some woonplaatsen were created under a former municipality, whose code their ids keep.
    former = ~is_main & (rng.random(n_woonplaatsen) < 0.15)
    unused_codes = np.setdiff1d(namespace.gemeente_codes, codes)
    _check_pool("gemeente codes", unused_codes, int(former.sum()))
    id_code = codes[woonplaats_gemeente].copy()
    id_code[former] = rng.choice(unused_codes, size=int(former.sum()), replace=False)

    elk_operator, gas_operator = _operators(x)
    return Regions(
        gemeente_code=codes,
        gemeente_name=gemeente_name,
        woonplaats_gemeente=woonplaats_gemeente,
        woonplaats_name=woonplaats_name,
        woonplaats_old_name=woonplaats_old,
        woonplaats_id_code=id_code,
        woonplaats_weight=weight,
        woonplaats_x=x,
        woonplaats_y=y,
        woonplaats_elk_operator=elk_operator,
        woonplaats_gas_operator=gas_operator,
        pc4_codes=namespace.pc4_codes,
    )


def _check_pool(what: str, pool: np.ndarray, needed: int) -> None:
    """A clear error instead of numpy's when a chunk's share of a namespace is too small."""
    if len(pool) < needed:
        raise ValueError(
            f"{needed} {what} needed but only {len(pool)} available in this chunk's share: use fewer objects or larger chunks"
        )


def _gemeente_names(
    rng: np.random.Generator,
    spare: np.ndarray,
    names: list[str],
    woonplaats_name: list[str],
    is_main: np.ndarray,
    per_gemeente: np.ndarray,
    regional_names: tuple[str, ...],
) -> list[str]:
    """Half the gemeenten are named after their main woonplaats; the rest (merged ones) are not."""
    main_names = [name for name, main in zip(woonplaats_name, is_main, strict=False) if main]
    regional = list(regional_names)
    result = []
    for g, main_name in enumerate(main_names):
        if per_gemeente[g] == 1 or rng.random() < 0.5:
            result.append(main_name)
        elif regional:
            result.append(regional.pop(int(rng.integers(len(regional)))))
        else:
            result.append(names[spare[g]])
    return result


def _share_one_name_across_gemeenten(
    names: list[str],
    old_names: list[str],
    gemeente: np.ndarray,
    is_main: np.ndarray,
) -> None:
    """Two woonplaatsen in different gemeenten share a name (as the two Hengelos do)."""
    minor = np.flatnonzero(~is_main)
    if len(minor) >= 2 and gemeente[minor[0]] != gemeente[minor[-1]]:
        names[minor[-1]] = names[minor[0]]
        old_names[minor[-1]] = old_names[minor[0]]


def _operators(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Operator areas are west-to-east bands; where there is only one band, gas has its own operator."""
    n_operators = len(vocabulary.NETBEHEERDERS)
    n_bands = min(n_operators, len(x))
    band = np.argsort(np.argsort(x, kind="stable"), kind="stable") * n_bands // len(x)
    gas = band if n_bands > 1 else np.ones_like(band)
    return band, gas


def build_streets(regions: Regions, panden_per_woonplaats: np.ndarray, rng: np.random.Generator) -> Streets:
    """Streets for each woonplaats, enough for its panden, with names unique within the woonplaats."""
    pool = vocabulary.street_names()
    n_streets = np.minimum(np.maximum(1, np.round(panden_per_woonplaats / PANDEN_PER_STREET)), len(pool)).astype(
        np.int64
    )
    first = np.r_[0, np.cumsum(n_streets)]
    woonplaats = np.repeat(np.arange(regions.n_woonplaatsen), n_streets)
    name_index = np.concatenate([rng.choice(len(pool), size=k, replace=False) for k in n_streets])
    total = int(first[-1])

    spread = 150.0 + 5.0 * np.sqrt(panden_per_woonplaats.astype(np.float64))
    return Streets(
        woonplaats=woonplaats,
        name_index=name_index,
        names=pool,
        first=first,
        weight=rng.lognormal(0.0, 0.8, size=total),
        x=regions.woonplaats_x[woonplaats] + rng.normal(0.0, 1.0, size=total) * spread[woonplaats],
        y=regions.woonplaats_y[woonplaats] + rng.normal(0.0, 1.0, size=total) * spread[woonplaats],
        angle=rng.uniform(0.0, np.pi, size=total),
        step=np.where(rng.random(total) < 0.3, 2, 1),
        first_number=np.where(rng.random(total) < 0.1, rng.integers(2, 40, size=total), 1),
    )
