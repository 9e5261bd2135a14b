"""Panden and the units in them: use, floor area, status, and the address each unit gets.

A pand is a single house, a two-unit house, an apartment building, a shop with flats above,
a non-residential building, an office block, a row of garage boxes, or (as a stand-in with no
pand id) a ligplaats or standplaats. Units of one pand are contiguous, so "the siblings of a unit"
is an index range. Multi-unit panden either give every unit its own house number or share one
number and tell units apart by huisletter and/or huisnummertoevoeging, in the schemes BAG really
holds (12A, 12a, 12-1, 12-H, 12-II, 12-3HG, 12-BS, 12A1, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synth import ids
from synth.config import NoiseConfig, at_least_one
from synth.postcodes import segment_postcodes
from synth.regions import Regions, Streets, build_streets

# ---- pand types ---------------------------------------------------------------------------------
(
    HOUSE,
    DUPLEX,
    SMALL_APARTMENT,
    LARGE_APARTMENT,
    SHOP_WITH_FLATS,
    NONRES,
    OFFICE_BLOCK,
    GARAGE_BOXES,
    LIGPLAATS,
    STANDPLAATS,
) = range(10)
REGULAR_TYPE_SHARE = np.array([0.72, 0.035, 0.04, 0.004, 0.03, 0.11, 0.005, 0.006])
APARTMENT_TYPES = (DUPLEX, SMALL_APARTMENT, LARGE_APARTMENT, SHOP_WITH_FLATS)
LIGPLAATS_SHARE, STANDPLAATS_SHARE = 0.001, 0.003
STREET_HALF_WIDTH = 10.0  # metres from the street axis to the facades

# ---- gebruiksdoelen: (BAG value, primary function that drives area and consumption) --------------
GEBRUIKSDOELEN: tuple[tuple[str, str], ...] = (
    ("woonfunctie", "woon"),
    ("winkelfunctie", "winkel"),
    ("kantoorfunctie", "kantoor"),
    ("industriefunctie", "industrie"),
    ("overige gebruiksfunctie", "overige"),
    ("bijeenkomstfunctie", "bijeenkomst"),
    ("logiesfunctie", "logies"),
    ("gezondheidszorgfunctie", "gezondheidszorg"),
    ("onderwijsfunctie", "onderwijs"),
    ("sportfunctie", "sport"),
    ("celfunctie", "cel"),
    ("kantoorfunctie;winkelfunctie", "kantoor"),
    ("industriefunctie;kantoorfunctie", "industrie"),
    ("bijeenkomstfunctie;sportfunctie", "sport"),
    ("gezondheidszorgfunctie;woonfunctie", "gezondheidszorg"),
    ("bijeenkomstfunctie;onderwijsfunctie", "onderwijs"),
    ("winkelfunctie;woonfunctie", "woon"),
    ("kantoorfunctie;woonfunctie", "woon"),
)
PRIMARY_FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(primary for _, primary in GEBRUIKSDOELEN))
GEBRUIKSDOEL_PRIMARY = np.array([PRIMARY_FUNCTIONS.index(primary) for _, primary in GEBRUIKSDOELEN])
WOON, OVERIGE = PRIMARY_FUNCTIONS.index("woon"), PRIMARY_FUNCTIONS.index("overige")
NO_GEBRUIKSDOEL = -1
# Use of a stand-alone non-residential pand (index into GEBRUIKSDOELEN).
NONRES_SHARE = np.array(
    [0, 0.22, 0.18, 0.2, 0.08, 0.07, 0.05, 0.05, 0.035, 0.035, 0.003, 0.02, 0.02, 0.008, 0.006, 0.005, 0, 0]
)
# (median m2, log-sigma) of floor area by primary function; dwellings split house / apartment.
AREA_BY_PRIMARY = {
    "woon": (115, 0.35),
    "winkel": (140, 0.9),
    "kantoor": (300, 1.1),
    "industrie": (900, 1.3),
    "overige": (20, 0.6),
    "bijeenkomst": (450, 0.9),
    "logies": (800, 1.0),
    "gezondheidszorg": (500, 1.1),
    "onderwijs": (2200, 0.8),
    "sport": (1100, 0.9),
    "cel": (8000, 0.5),
}
APARTMENT_AREA = (75, 0.35)

# ---- statuses -----------------------------------------------------------------------------------
STATUSES: tuple[str, ...] = (
    "Verblijfsobject in gebruik",
    "Verblijfsobject in gebruik (niet ingemeten)",
    "Verbouwing verblijfsobject",
    "Verblijfsobject gevormd",
    "Verblijfsobject buiten gebruik",
    "Verblijfsobject ingetrokken",
    "Plaats aangewezen",
)
IN_USE, IN_USE_NOT_MEASURED, RENOVATION, FORMED, OUT_OF_USE, WITHDRAWN, PLACE = range(7)
LIVE_STATUSES = (IN_USE, IN_USE_NOT_MEASURED, RENOVATION, PLACE)
REGULAR_STATUS_SHARE = np.array([0.965, 0.02, 0.007, 0, 0.008])

# ---- suffix schemes of multi-unit panden --------------------------------------------------------
(OWN_NUMBERS, LETTERS, BASE_LETTERS, NUMBERED, FLOORS, ROMAN, FLOORS_HG, LETTER_NUMBER, BIS, BASE_NUMBERED) = range(10)
# Per pand type, probabilities over the ten schemes above (single-unit types never look at them).
SCHEME_SHARE = {
    DUPLEX: [0.1, 0.3, 0.25, 0, 0.2, 0.05, 0, 0, 0.1, 0],
    SMALL_APARTMENT: [0.35, 0.15, 0.05, 0.2, 0.1, 0.05, 0.05, 0.05, 0, 0],
    LARGE_APARTMENT: [0.3, 0, 0, 0.5, 0, 0, 0, 0.2, 0, 0],
    SHOP_WITH_FLATS: [0.2, 0, 0.5, 0, 0, 0, 0, 0, 0, 0.3],
    OFFICE_BLOCK: [0.4, 0.3, 0, 0.3, 0, 0, 0, 0, 0, 0],
    GARAGE_BOXES: [0.4, 0.3, 0, 0.3, 0, 0, 0, 0, 0, 0],
}
# Toevoeging kinds, rendered by `toevoeging_strings`.
NO_TOEVOEGING, TOEV_NUMBER, TOEV_H, TOEV_ROMAN, TOEV_HG, TOEV_BS = range(6)
ROMAN_NUMERALS = ("", "I", "II", "III", "IV")
LETTER_TABLE = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Buildings:
    """Per unit (a BAG object in a pand, or a ligplaats/standplaats) and per pand arrays."""

    streets: Streets
    pand_type: np.ndarray
    pand_first: np.ndarray  # first unit of each pand
    pand_units: np.ndarray
    pand_new: np.ndarray  # new build: units under construction
    unit_pand: np.ndarray
    object_type: np.ndarray  # 1 verblijfsobject, 2 ligplaats, 3 standplaats
    gebruiksdoel: np.ndarray  # index into GEBRUIKSDOELEN, -1 none
    oppervlakte: np.ndarray  # m2, -1 none
    status: np.ndarray  # index into STATUSES
    street: np.ndarray
    huisnummer: np.ndarray
    letter: np.ndarray  # index into LETTER_TABLE, -1 none
    toevoeging_kind: np.ndarray
    toevoeging_number: np.ndarray
    segment: np.ndarray  # postcode segment, -1 for no postcode
    x: np.ndarray
    y: np.ndarray
    street_top: np.ndarray  # highest house number per street (first number - step if none)
    street_last_segment: np.ndarray
    segment_postcode: pl.Series

    @property
    def n_units(self) -> int:
        return len(self.unit_pand)

    @property
    def primary(self) -> np.ndarray:
        """Primary function per unit (index into PRIMARY_FUNCTIONS), -1 for ligplaats/standplaats."""
        return np.where(self.gebruiksdoel >= 0, GEBRUIKSDOEL_PRIMARY[self.gebruiksdoel], -1)

    @property
    def dwelling(self) -> np.ndarray:
        return self.primary == WOON

    @property
    def live(self) -> np.ndarray:
        """Units in use (or a ligplaats/standplaats): those that can hold a connection in operation."""
        return np.isin(self.status, LIVE_STATUSES)


def build(n_units: int, regions: Regions, noise: NoiseConfig, rng: np.random.Generator) -> Buildings:
    """Exactly n_units units in panden spread over the regions, with addresses and coordinates."""
    pand_type, units = _panden(n_units, rng)
    n_panden = len(pand_type)
    pand_first = np.r_[0, np.cumsum(units)[:-1]]
    unit_pand = np.repeat(np.arange(n_panden), units)
    position = np.arange(n_units) - pand_first[unit_pand]
    regular = pand_type < LIGPLAATS
    new, demolished = _pand_lifecycle(regular, noise, rng)

    pand_woonplaats = rng.choice(regions.n_woonplaatsen, size=n_panden, p=regions.woonplaats_weight)
    streets = build_streets(regions, np.bincount(pand_woonplaats, minlength=regions.n_woonplaatsen), rng)
    scheme = _schemes(pand_type, units, rng)
    numbers_used = np.where(scheme == OWN_NUMBERS, units, 1)
    pand_street, pand_offset, street_numbers = _place_on_streets(pand_woonplaats, numbers_used, streets, rng)

    gebruiksdoel = _gebruiksdoel(pand_type[unit_pand], position, rng)
    primary = np.where(gebruiksdoel >= 0, GEBRUIKSDOEL_PRIMARY[np.maximum(gebruiksdoel, 0)], -1)
    status = np.where(
        regular[unit_pand], rng.choice(len(REGULAR_STATUS_SHARE), size=n_units, p=REGULAR_STATUS_SHARE), PLACE
    )
    status[new[unit_pand]] = FORMED
    status[demolished[unit_pand]] = WITHDRAWN
    letter, toevoeging_kind, toevoeging_number = _suffixes(scheme[unit_pand], position, units[unit_pand], rng)

    street = pand_street[unit_pand]
    number_index = pand_offset[unit_pand] + np.where(scheme[unit_pand] == OWN_NUMBERS, position, 0)
    huisnummer = streets.first_number[street] + number_index * streets.step[street]

    segment, segment_woonplaats, street_last_segment = _segments(
        street, pand_offset[unit_pand], street_numbers, streets, rng
    )
    no_postcode = (primary == OVERIGE) & (rng.random(n_units) < 0.8)
    x, y = _coordinates(
        pand_street, pand_offset, numbers_used, street_numbers, streets, unit_pand, huisnummer[pand_first], rng
    )
    return Buildings(
        streets=streets,
        pand_type=pand_type,
        pand_first=pand_first,
        pand_units=units,
        pand_new=new,
        unit_pand=unit_pand,
        object_type=np.select(
            [pand_type[unit_pand] == LIGPLAATS, pand_type[unit_pand] == STANDPLAATS],
            [ids.LIGPLAATS, ids.STANDPLAATS],
            ids.VERBLIJFSOBJECT,
        ),
        gebruiksdoel=gebruiksdoel,
        oppervlakte=_oppervlakte(primary, pand_type[unit_pand], rng),
        status=status,
        street=street,
        huisnummer=huisnummer,
        letter=letter,
        toevoeging_kind=toevoeging_kind,
        toevoeging_number=toevoeging_number,
        segment=np.where(no_postcode, -1, segment),
        x=x,
        y=y,
        street_top=streets.first_number + (street_numbers - 1) * streets.step,
        street_last_segment=street_last_segment,
        segment_postcode=segment_postcodes(segment_woonplaats, regions.n_woonplaatsen, regions.pc4_codes, rng),
    )


def _panden(n_units: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pand types and unit counts adding up to exactly n_units, in random order."""
    n_ligplaats = max(1, round(n_units * LIGPLAATS_SHARE))
    n_standplaats = max(1, round(n_units * STANDPLAATS_SHARE))
    regular_units = n_units - n_ligplaats - n_standplaats
    share = REGULAR_TYPE_SHARE / REGULAR_TYPE_SHARE.sum()
    estimate = int(regular_units / 1.2) + 50  # panden average ~1.7 units: ample
    pand_type = rng.choice(len(share), size=estimate, p=share)
    size = np.select(
        [
            pand_type == DUPLEX,
            pand_type == SMALL_APARTMENT,
            pand_type == LARGE_APARTMENT,
            pand_type == SHOP_WITH_FLATS,
            pand_type == OFFICE_BLOCK,
            pand_type == GARAGE_BOXES,
        ],
        [
            2,
            rng.integers(3, 13, size=estimate),
            np.minimum(150, 12 + rng.geometric(1 / 35, size=estimate)),
            rng.integers(2, 6, size=estimate),
            rng.integers(2, 17, size=estimate),
            rng.integers(3, 21, size=estimate),
        ],
        1,
    )
    total = np.cumsum(size)
    last = int(np.searchsorted(total, regular_units))
    pand_type, size = pand_type[: last + 1], size[: last + 1].copy()
    size[-1] -= total[last] - regular_units
    pand_type = np.r_[pand_type, np.full(n_ligplaats, LIGPLAATS), np.full(n_standplaats, STANDPLAATS)]
    size = np.r_[size, np.ones(n_ligplaats + n_standplaats, dtype=size.dtype)]
    order = rng.permutation(len(pand_type))
    return pand_type[order], size[order]


def _pand_lifecycle(regular: np.ndarray, noise: NoiseConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Flag exact shares of the regular panden as new builds and as demolished (disjoint)."""
    candidates = rng.permutation(np.flatnonzero(regular))
    n_new = at_least_one(noise.under_construction * len(candidates), noise.under_construction)
    n_demolished = at_least_one(noise.demolished * len(candidates), noise.demolished)
    new = np.zeros(len(regular), dtype=bool)
    demolished = np.zeros(len(regular), dtype=bool)
    new[candidates[:n_new]] = True
    demolished[candidates[n_new : n_new + n_demolished]] = True
    return new, demolished


def _schemes(pand_type: np.ndarray, units: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Suffix scheme per pand, drawn by type, then fitted to the pand's size."""
    scheme = np.full(len(pand_type), OWN_NUMBERS)
    for kind, share in SCHEME_SHARE.items():
        chosen = pand_type == kind
        scheme[chosen] = rng.choice(len(share), size=int(chosen.sum()), p=share)
    scheme[(scheme == LETTERS) & (units > 26)] = NUMBERED
    scheme[(scheme == BASE_LETTERS) & (units > 27)] = BASE_NUMBERED
    scheme[np.isin(scheme, (ROMAN, FLOORS_HG)) & (units > 4)] = FLOORS
    scheme[(scheme == FLOORS) & (units > 9)] = NUMBERED
    scheme[(scheme == LETTER_NUMBER) & (units > 52)] = NUMBERED
    scheme[(scheme == BIS) & (units != 2)] = BASE_LETTERS
    scheme[units == 1] = OWN_NUMBERS
    return scheme


def _suffixes(
    scheme: np.ndarray,
    position: np.ndarray,
    units: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """huisletter (index, -1 none) and toevoeging (kind, number) per unit from its pand's scheme."""
    per_letter = -(-units // 2)
    letter = np.select(
        [scheme == LETTERS, (scheme == BASE_LETTERS) & (position > 0), scheme == LETTER_NUMBER],
        [position, position - 1, position // per_letter],
        -1,
    )
    # A tenth of lettered buildings use lower-case letters (officially a different address).
    lower = rng.random(len(scheme)) < 0.1
    letter = np.where((letter >= 0) & lower, letter + 26, letter)
    kind = np.select(
        [
            scheme == NUMBERED,
            (scheme == FLOORS) & (position == 0),
            scheme == FLOORS,
            scheme == ROMAN,
            (scheme == FLOORS_HG) & (position == 0),
            scheme == FLOORS_HG,
            scheme == LETTER_NUMBER,
            (scheme == BIS) & (position == 1),
            (scheme == BASE_NUMBERED) & (position > 0),
        ],
        [TOEV_NUMBER, TOEV_H, TOEV_NUMBER, TOEV_ROMAN, TOEV_H, TOEV_HG, TOEV_NUMBER, TOEV_BS, TOEV_NUMBER],
        NO_TOEVOEGING,
    )
    number = np.select(
        [scheme == NUMBERED, scheme == ROMAN, scheme == LETTER_NUMBER],
        [position + 1, position + 1, position % per_letter + 1],
        position,
    )
    return letter, kind, np.where(kind == NO_TOEVOEGING, 0, number)


def toevoeging_strings(kind: pl.Series, number: pl.Series) -> pl.Series:
    """Render toevoeging kinds and numbers to BAG strings (null where there is none)."""
    frame = pl.DataFrame({"kind": kind, "number": number})
    digits = pl.col("number").cast(pl.String)
    return frame.select(
        pl.when(pl.col("kind") == TOEV_NUMBER)
        .then(digits)
        .when(pl.col("kind") == TOEV_H)
        .then(pl.lit("H"))
        .when(pl.col("kind") == TOEV_ROMAN)
        .then(
            pl.col("number").replace_strict(
                list(range(len(ROMAN_NUMERALS))), list(ROMAN_NUMERALS), default="", return_dtype=pl.String
            )
        )
        .when(pl.col("kind") == TOEV_HG)
        .then(digits + "HG")
        .when(pl.col("kind") == TOEV_BS)
        .then(pl.lit("BS"))
        .otherwise(None)
        .alias("huisnummertoevoeging")
    ).to_series()


def _place_on_streets(
    pand_woonplaats: np.ndarray,
    numbers_used: np.ndarray,
    streets: Streets,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street of each pand (weighted within its woonplaats) and its first house-number index.

    Returns per pand the street and the offset of its first number on that street, and per
    street how many numbers are used.
    """
    weight_total = np.bincount(streets.woonplaats, weights=streets.weight)
    cumulative = np.cumsum(streets.weight)
    before = np.r_[0.0, cumulative][streets.first[:-1]]
    share = (cumulative - before[streets.woonplaats]) / weight_total[streets.woonplaats]
    share[streets.first[1:] - 1] = 1.0
    keys = streets.woonplaats + share
    query = pand_woonplaats + rng.random(len(pand_woonplaats)) * (1 - 1e-9)
    street = np.minimum(np.searchsorted(keys, query, side="right"), streets.first[pand_woonplaats + 1] - 1)

    order = np.lexsort((rng.random(len(street)), street))
    used_sorted = numbers_used[order]
    running = np.cumsum(used_sorted) - used_sorted
    street_numbers = np.bincount(street, weights=numbers_used, minlength=streets.n).astype(np.int64)
    street_start = np.r_[0, np.cumsum(street_numbers)][:-1]
    offset = np.empty(len(street), dtype=np.int64)
    offset[order] = running - street_start[street[order]]
    return street, offset, street_numbers


def _gebruiksdoel(pand_type: np.ndarray, position: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Use per unit: dwellings, a shop under flats, mixed non-residential, garage boxes."""
    n = len(pand_type)
    residential = np.isin(pand_type, (HOUSE, *APARTMENT_TYPES))
    draw = rng.random(n)
    use = {name: index for index, (name, _) in enumerate(GEBRUIKSDOELEN)}
    dwelling_kind = np.select(
        [draw < 0.004, draw < 0.007],
        [use["winkelfunctie;woonfunctie"], use["kantoorfunctie;woonfunctie"]],
        use["woonfunctie"],
    )
    nonres = rng.choice(len(NONRES_SHARE), size=n, p=NONRES_SHARE / NONRES_SHARE.sum())
    office = np.where(draw < 0.1, use["kantoorfunctie;winkelfunctie"], use["kantoorfunctie"])
    return np.select(
        [
            pand_type >= LIGPLAATS,
            (pand_type == SHOP_WITH_FLATS) & (position == 0),
            residential,
            pand_type == OFFICE_BLOCK,
            pand_type == GARAGE_BOXES,
        ],
        [NO_GEBRUIKSDOEL, use["winkelfunctie"], dwelling_kind, office, use["overige gebruiksfunctie"]],
        nonres,
    )


def _oppervlakte(primary: np.ndarray, pand_type: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Floor area (m2) by primary function, log-normal; apartments smaller than houses."""
    median = np.ones(len(primary))
    sigma = np.zeros(len(primary))
    for index, name in enumerate(PRIMARY_FUNCTIONS):
        chosen = primary == index
        median[chosen], sigma[chosen] = AREA_BY_PRIMARY[name]
    apartment = (primary == WOON) & np.isin(pand_type, APARTMENT_TYPES)
    median[apartment], sigma[apartment] = APARTMENT_AREA
    garage = pand_type == GARAGE_BOXES
    median[garage], sigma[garage] = 16, 0.3
    area = np.clip(np.round(median * rng.lognormal(0.0, 1.0, size=len(primary)) ** sigma), 6, 150_000)
    return np.where(primary >= 0, area, -1).astype(np.int64)


def _segments(
    street: np.ndarray,
    pand_offset: np.ndarray,
    street_numbers: np.ndarray,
    streets: Streets,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Postcode segment per unit: runs of 10-30 consecutive numbers on one street share a postcode.

    Returns the global segment per unit, the woonplaats per segment and the last segment per street.
    """
    size = rng.integers(10, 31, size=streets.n)
    per_street = np.maximum(1, -(-street_numbers // size))
    base = np.r_[0, np.cumsum(per_street)]
    segment_woonplaats = np.repeat(streets.woonplaats, per_street)
    return base[street] + pand_offset // size[street], segment_woonplaats, base[1:] - 1


def _coordinates(
    pand_street: np.ndarray,
    pand_offset: np.ndarray,
    numbers_used: np.ndarray,
    street_numbers: np.ndarray,
    streets: Streets,
    unit_pand: np.ndarray,
    pand_huisnummer: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """RD points: panden along their street's axis, odd and even numbers on opposite sides."""
    numbers = np.maximum(street_numbers[pand_street], 1)
    along = ((pand_offset + numbers_used / 2) / numbers - 0.5) * (40 + 7 * numbers)
    angle = streets.angle[pand_street]
    side = np.where(pand_huisnummer % 2 == 0, 1.0, -1.0)
    pand_x = streets.x[pand_street] + along * np.cos(angle) - side * STREET_HALF_WIDTH * np.sin(angle)
    pand_y = streets.y[pand_street] + along * np.sin(angle) + side * STREET_HALF_WIDTH * np.cos(angle)
    x = np.clip(pand_x[unit_pand] + rng.normal(0, 1.5, size=len(unit_pand)), 10_000, 280_000).round(3)
    y = np.clip(pand_y[unit_pand] + rng.normal(0, 1.5, size=len(unit_pand)), 300_000, 620_000).round(3)
    return x, y
