"""How a grid operator's register departs from BAG: one function per noise kind (or group).

Every function takes the register columns it changes plus a random stream and returns the new
columns and, per kind, a boolean mask of the records it changed. A mask is drawn only over the
records the kind can apply to (its *eligible* records, documented in docs/synth.md); kinds that
exclude each other on one field share one uniform draw with fixed thresholds, so each hits its
eligible records at its own configured rate. Masks become the truth file's `noise` column.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from synth import vocabulary

Masks = dict[str, np.ndarray]
TRUNCATE_AT = 24
OFFSET_METRES = (50.0, 300.0)


def exclusive_draw(rng: np.random.Generator, eligible: dict[str, np.ndarray], rates: dict[str, float]) -> Masks:
    """Masks for mutually exclusive kinds: one uniform per record, consecutive rate intervals.

    A record not eligible for a kind whose interval its number falls in gets no noise, so each
    kind hits exactly its rate of its own eligible records.
    """
    draw = rng.random(len(next(iter(eligible.values()))))
    masks: Masks = {}
    low = 0.0
    for name, rate in rates.items():
        masks[name] = eligible[name] & (draw >= low) & (draw < low + rate)
        low += rate
    return masks


def nevenadres(
    address_row: np.ndarray, nevenadres_row: np.ndarray, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, Masks]:
    """Register the object's nevenadres instead of its hoofdadres (eligible: the object has one)."""
    n_units = len(nevenadres_row)
    own = (address_row >= 0) & (address_row < n_units)
    target = np.where(own, nevenadres_row[np.clip(address_row, 0, n_units - 1)], -1)
    mask = (target >= 0) & (rng.random(len(address_row)) < rate)
    return np.where(mask, target, address_row), {"nevenadres_used": mask}


def patch(values: pl.Series, mask: np.ndarray, transform: Callable[[pl.Series, np.ndarray], pl.Series]) -> pl.Series:
    """values with `transform(values[rows], rows)` written into the masked rows only.

    String work happens on the few noisy rows, never on the whole column: this is what keeps
    ten million connections fast.
    """
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return values
    result = values.clone()
    result.scatter(rows, transform(values.gather(rows), rows))
    return result


def _nulls(values: pl.Series, rows: np.ndarray) -> pl.Series:
    return pl.Series([None] * len(rows), dtype=values.dtype)


def suffix(
    huisletter: pl.Series, toevoeging: pl.Series, rates: dict[str, float], rng: np.random.Generator
) -> tuple[pl.Series, Masks]:
    """Fuse huisletter and toevoeging into the register's one field; drop it or respell it.

    Eligible: addresses with a huisletter or toevoeging. Clean form is the plain concatenation
    ("A", "1", "A1", "H", "3HG"); variants keep the meaning and change the spelling.
    """
    clean = pl.select(pl.concat_str([huisletter, toevoeging], ignore_nulls=True)).to_series()
    clean = pl.select(pl.when(clean != "").then(clean)).to_series().rename("huisnummertoevoeging")
    eligible = clean.is_not_null().to_numpy()
    masks = exclusive_draw(
        rng,
        {"suffix_missing": eligible, "suffix_variant": eligible},
        {"suffix_missing": rates["suffix_missing"], "suffix_variant": rates["suffix_variant"]},
    )
    draw = rng.random(len(clean))

    def respell(_: pl.Series, rows: np.ndarray) -> pl.Series:
        frame = pl.DataFrame({"L": huisletter.gather(rows), "T": toevoeging.gather(rows), "r": draw[rows]})
        return frame.select(_suffix_variant()).to_series()

    fused = patch(clean, masks["suffix_variant"], respell)
    return patch(fused, masks["suffix_missing"], _nulls), masks


def _suffix_variant() -> pl.Expr:
    """A respelling of huisletter L + toevoeging T that means the same address."""
    L, T, r = pl.col("L"), pl.col("T"), pl.col("r")
    flipped = pl.when(L == L.str.to_uppercase()).then(L.str.to_lowercase()).otherwise(L.str.to_uppercase())
    digits = T.str.extract(r"^(\d+)", 1)
    roman_value = T.replace_strict(["I", "II", "III", "IV"], ["1", "2", "3", "4"], default=None)
    return (
        pl.when(T.is_null())
        .then(pl.when(r < 0.7).then(flipped).otherwise("-" + L))
        .when(L.is_not_null())
        .then(
            pl.when(r < 0.4)
            .then(L + "-" + T)
            .when(r < 0.7)
            .then(L + " " + T)
            .when(r < 0.85)
            .then(flipped + T)
            .otherwise(L + "/" + T)
        )
        .when(T == "H")
        .then(
            pl.when(r < 0.3)
            .then(pl.lit("hs"))
            .when(r < 0.55)
            .then(pl.lit("huis"))
            .when(r < 0.8)
            .then(pl.lit("h"))
            .otherwise(pl.lit("HS"))
        )
        .when(T == "BS")
        .then(pl.when(r < 0.4).then(pl.lit("bis")).when(r < 0.8).then(pl.lit("BIS")).otherwise(pl.lit("Bis")))
        .when(roman_value.is_not_null())
        .then(pl.when(r < 0.6).then(roman_value).otherwise(T.str.to_lowercase()))
        .when(T.str.ends_with("HG"))
        .then(pl.when(r < 0.5).then(digits + " hoog").otherwise(digits + "e"))
        .when(T.str.contains(r"^\d$"))
        .then(
            pl.when(r < 0.4)
            .then("-" + T)
            .when(r < 0.6)
            .then(T + " hoog")
            .when(r < 0.8)
            .then(T + "e")
            .otherwise(T + "HG")
        )
        .when(T.str.contains(r"^\d+$"))
        .then(pl.when(r < 0.6).then("-" + T).otherwise("/" + T))
        .otherwise("-" + T.str.to_lowercase())
        .alias("suffix")
    )


def postcode(values: pl.Series, rates: dict[str, float], rng: np.random.Generator) -> tuple[pl.Series, Masks]:
    """Drop the postcode, mistype it (swapped letters, a digit off by one) or respell it.

    Eligible: records with a postcode.
    """
    eligible = values.is_not_null().to_numpy()
    masks = exclusive_draw(rng, {name: eligible for name in rates}, rates)
    n = len(values)
    draws = pl.DataFrame({"r": rng.random(n), "k": rng.integers(0, 3, n), "up": rng.random(n) < 0.5})

    def mistype(subset: pl.Series, rows: np.ndarray) -> pl.Series:
        return draws[rows].with_columns(pc=subset).select(_postcode_typo()).to_series()

    def respell(subset: pl.Series, rows: np.ndarray) -> pl.Series:
        return draws[rows].with_columns(pc=subset).select(_postcode_spelling()).to_series()

    values = patch(values, masks["postcode_typo"], mistype)
    values = patch(values, masks["postcode_format"], respell)
    return patch(values, masks["postcode_missing"], _nulls).rename("postcode"), masks


def _postcode_typo() -> pl.Expr:
    """Letters swapped (when they differ, half the time), else one of the last three digits off
    by one: the first digit never changes, so the result still looks like a postcode."""
    pc = pl.col("pc")
    number, letters = pc.str.slice(0, 4).cast(pl.Int32), pc.str.slice(4, 2)
    place = pl.lit(10) ** (2 - pl.col("k"))
    digit = (number // place) % 10
    shifted = number + (pl.when(pl.col("up")).then((digit + 1) % 10).otherwise((digit + 9) % 10) - digit) * place
    swapped = pc.str.slice(0, 4) + pc.str.slice(5, 1) + pc.str.slice(4, 1)
    return (
        pl.when((pc.str.slice(4, 1) != pc.str.slice(5, 1)) & (pl.col("r") < 0.5))
        .then(swapped)
        .otherwise(shifted.cast(pl.String) + letters)
        .alias("postcode")
    )


def _postcode_spelling() -> pl.Expr:
    """The same postcode with a space, in lower case, or with a trailing blank."""
    pc = pl.col("pc")
    digits, letters = pc.str.slice(0, 4), pc.str.slice(4, 2)
    return (
        pl.when(pl.col("r") < 0.4)
        .then(digits + " " + letters)
        .when(pl.col("r") < 0.65)
        .then(pc.str.to_lowercase())
        .when(pl.col("r") < 0.85)
        .then(digits + " " + letters.str.to_lowercase())
        .otherwise(pc + " ")
        .alias("postcode")
    )


def street(values: pl.Series, rates: dict[str, float], rng: np.random.Generator) -> tuple[pl.Series, Masks]:
    """Abbreviate (Burg., Pr., v., str.), cut at 24 characters, mistype one character.

    Eligible: abbreviation, names containing an abbreviable word; truncation, names still longer
    than 24 characters; typo, names of four or more characters. Applied in that order.
    """
    n = len(values)
    abbreviable = values.str.contains(vocabulary.ABBREVIABLE_PATTERN).fill_null(False).to_numpy()
    abbreviated = abbreviable & (rng.random(n) < rates["street_abbreviation"])
    values = patch(values, abbreviated, lambda subset, _: _abbreviate(subset))

    long = (values.str.len_chars() > TRUNCATE_AT).fill_null(False).to_numpy()
    truncated = long & (rng.random(n) < rates["street_truncated"])
    values = patch(values, truncated, lambda subset, _: subset.str.slice(0, TRUNCATE_AT))

    length = values.str.len_chars().fill_null(0).to_numpy()
    mistyped = (length >= 4) & (rng.random(n) < rates["street_typo"])
    positions = (1 + rng.random(n) * np.maximum(length - 2, 1)).astype(np.int64)
    operations = rng.integers(0, 3, n)
    values = patch(values, mistyped, lambda subset, rows: _typo(subset, positions[rows], operations[rows]))
    masks = {"street_abbreviation": abbreviated, "street_truncated": truncated, "street_typo": mistyped}
    return values.rename("straatnaam"), masks


def _abbreviate(names: pl.Series) -> pl.Series:
    for pattern, replacement in vocabulary.STREET_ABBREVIATIONS:
        names = names.str.replace_all(pattern, replacement)
    return names


def _typo(values: pl.Series, position: np.ndarray, operation: np.ndarray) -> pl.Series:
    """One keystroke error inside the word (never the first or last character): a character
    dropped, doubled, or swapped with the next (dropped when both are the same)."""
    frame = pl.DataFrame({"s": values, "p": position, "op": operation})
    s, p = pl.col("s"), pl.col("p")
    head, here, after, rest = s.str.slice(0, p), s.str.slice(p, 1), s.str.slice(p + 1, 1), s.str.slice(p + 2)
    dropped = head + s.str.slice(p + 1)
    return frame.select(
        pl.when(pl.col("op") == 0)
        .then(dropped)
        .when(pl.col("op") == 1)
        .then(head + here + here + s.str.slice(p + 1))
        .when(here != after)
        .then(head + after + here + rest)
        .otherwise(dropped)
    ).to_series()


def woonplaats(
    known: np.ndarray,
    woonplaats_index: np.ndarray,
    names: list[str],
    gemeente_names: list[str],
    old_names: list[str],
    rates: dict[str, float],
    rng: np.random.Generator,
) -> tuple[pl.Series, Masks]:
    """Leave the woonplaats out, or write the gemeente's name, an old spelling, or capitals.

    `names`, `gemeente_names` and `old_names` are per woonplaats; a record names woonplaats
    `woonplaats_index` where `known`. Eligible: records with a woonplaats; for the gemeente kind
    only where the gemeente's name differs from the woonplaats's.
    """
    differs = np.array([gemeente != name for gemeente, name in zip(gemeente_names, names, strict=False)])
    eligible = {kind: known for kind in rates}
    eligible["woonplaats_gemeente"] = known & differs[woonplaats_index]
    masks = exclusive_draw(rng, eligible, rates)
    result = pl.select(pl.when(pl.Series(known)).then(pl.Series(names).gather(woonplaats_index))).to_series()
    result = patch(
        result, masks["woonplaats_gemeente"], lambda _, rows: pl.Series(gemeente_names).gather(woonplaats_index[rows])
    )
    result = patch(
        result, masks["woonplaats_old_spelling"], lambda _, rows: pl.Series(old_names).gather(woonplaats_index[rows])
    )
    result = patch(result, masks["woonplaats_upper"], lambda subset, _: subset.str.to_uppercase())
    return patch(result, masks["woonplaats_missing"], _nulls).rename("woonplaats"), masks


def bag_id(
    unit: np.ndarray,
    predecessor: np.ndarray,
    pand_first: np.ndarray,
    pand_units: np.ndarray,
    unit_pand: np.ndarray,
    n_units: int,
    rates: dict[str, float],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, Masks]:
    """The object index the register names, or a marker for an id BAG does not have.

    Eligible: records with a registered BAG object; stale-withdrawn only where that object has
    a withdrawn predecessor, wrong-sibling only where its pand holds other units. Returns
    (object index or -1, absent-id flag, masks); an absent id is the right id moved to an unused
    sequence range, so it has a valid shape and the right municipality code.
    """
    registered = unit >= 0
    safe = np.maximum(unit, 0)
    pand = unit_pand[safe]
    eligible = {
        "bag_id_missing": registered,
        "bag_id_stale_withdrawn": registered & (predecessor[safe] >= 0),
        "bag_id_stale_absent": registered,
        "bag_id_wrong_sibling": registered & (pand_units[pand] > 1),
        "bag_id_wrong_random": registered,
    }
    masks = exclusive_draw(rng, eligible, rates)
    size = pand_units[pand]
    position = safe - pand_first[pand]
    sibling = (
        pand_first[pand] + (position + 1 + (rng.random(len(unit)) * np.maximum(size - 1, 1)).astype(np.int64)) % size
    )
    result = np.select(
        [
            masks["bag_id_missing"],
            masks["bag_id_stale_withdrawn"],
            masks["bag_id_wrong_sibling"],
            masks["bag_id_wrong_random"],
        ],
        [-1, predecessor[safe], sibling, rng.integers(0, n_units, len(unit))],
        unit,
    )
    return result, masks["bag_id_stale_absent"], masks


def absent_ids(real: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ids in the right municipality and type but a sequence range no object uses (>= 1e9)."""
    return real - real % 10**10 + rng.integers(10**9, 9 * 10**9, len(real))


def coordinates(
    x: np.ndarray,
    y: np.ndarray,
    rates: dict[str, float],
    jitter_m: float,
    rng: np.random.Generator,
) -> tuple[pl.Series, pl.Series, Masks]:
    """Only some operators record a point: drop it, or displace it 50-300 m; always a few metres off.

    Eligible: missing, every record; offset, records that keep a point.
    """
    n = len(x)
    missing = rng.random(n) < rates["coordinates_missing"]
    offset = ~missing & (rng.random(n) < rates["coordinates_offset"])
    distance = np.where(offset, rng.uniform(*OFFSET_METRES, n), 0.0)
    bearing = rng.uniform(0, 2 * np.pi, n)
    noisy_x = (x + rng.normal(0, 1, n) * jitter_m + distance * np.cos(bearing)).round(2)
    noisy_y = (y + rng.normal(0, 1, n) * jitter_m + distance * np.sin(bearing)).round(2)
    return (
        pl.select(pl.when(pl.Series(~missing)).then(pl.Series(noisy_x))).to_series().rename("x"),
        pl.select(pl.when(pl.Series(~missing)).then(pl.Series(noisy_y))).to_series().rename("y"),
        {"coordinates_missing": missing, "coordinates_offset": offset},
    )


def status_code(n: int, rate: float, rng: np.random.Generator) -> Masks:
    """Which records write the status as a register code (IBD) rather than words (in bedrijf)."""
    return {"status_code": rng.random(n) < rate}
