"""Normalisation of both registers into comparable address keys.

Cleaning is a list of small named stages (polars expressions), each testable on its own: the
edge cases live as YAML data in `tests/cases/` and are asserted stage by stage.
"""

from __future__ import annotations

import polars as pl

from core.distinct import by_distinct

POSTCODE_PATTERN = r"^[1-9][0-9]{3}[A-Z]{2}$"
# Letter pairs PostNL never issues: a postcode with one of them is no address anywhere.
UNISSUED_LETTERS = ["SA", "SD", "SS"]

# Equivalent spellings of one suffix, applied to a suffix that has been upper-cased and stripped
# of separators. Order matters: longer forms first.
_SUFFIX_REWRITES: list[tuple[str, str]] = [
    (r"(\d+)(?:E|STE|DE|HG|HOOG)$", "${1}"),  # floor numbers: 2HG, 2 hoog, 1e, 3de -> 2, 1, 3
    (r"HUIS$|HS$", "H"),  # huis / hs / H: the ground-floor unit
    (r"^BS$", "BIS"),
    (r"^IV$", "4"),
    (r"^III$", "3"),
    (r"^II$", "2"),
    (r"^I$", "1"),  # on both sides, so a huisletter I still matches itself
]


def clean_postcode(column: str) -> pl.Expr:
    """`1234 ab`, ` 1234AB ` -> `1234AB`; anything not shaped like a Dutch postcode -> null,
    and so is one with letters PostNL never issues (`UNISSUED_LETTERS`).

    The shape is checked before upper-casing: Unicode upper case turns `ß` into `SS` and the
    ligature `ﬁ` into `FI`, which would make a postcode the register never wrote."""
    compact = pl.col(column).str.replace_all(r"\s+", "")
    cleaned = compact.str.to_uppercase()
    shaped = compact.str.contains(r"^[1-9][0-9]{3}[A-Za-z]{2}$") & ~cleaned.str.slice(4).is_in(UNISSUED_LETTERS)
    return pl.when(shaped).then(cleaned).otherwise(None)


def suffix_key(expr: pl.Expr) -> pl.Expr:
    """Canonical form of a house-number suffix, comparable across BAG and the register.

    BAG keeps huisletter and huisnummertoevoeging apart; the register fuses them in one free
    field. Both sides are reduced to one upper-case string without separators, with equivalent
    spellings rewritten the same way; an empty suffix becomes "" (not null) so it joins.
    """
    key = expr.fill_null("").str.to_uppercase().str.replace_all(r"[\s\-/._,]+", "")
    for pattern, replacement in _SUFFIX_REWRITES:
        key = key.str.replace(pattern, replacement)
    return key


# Titles and words that registers abbreviate, each mapped to ONE short form on both sides: the
# abbreviation is lossy ("Pr." is Prins or Prinses), so both names are reduced to it.
_STREET_SHORT_FORMS: list[tuple[str, str]] = [
    (r"\bburgemeester\b|\bburg\b", "burg"),
    (r"\bprinses\b|\bprins\b|\bpr\b", "pr"),
    (r"\bkoningin\b|\bkoning\b|\bkon\b", "kon"),
    (r"\bsint\b|\bst\b", "st"),
    (r"\bprofessor\b|\bprof\b", "prof"),
    (r"\bdokter\b|\bdoctor\b|\bdr\b", "dr"),
    (r"\bgeneraal\b|\bgen\b", "gen"),
    (r"\bpastoor\b|\bpast\b", "past"),
    (r"\bwethouder\b|\bweth\b", "weth"),
    (r"\bmeester\b|\bmr\b", "mr"),
    (r"\bdominee\b|\bds\b", "ds"),
    (r"\bvan de[nr]?\b|\bv d\b|\bvd\b", "vd"),
    (r"\bvan\b|\bv\b", "v"),
    (r"straat$|\bstr$|str$", "str"),
]


def _as_expr(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def street_text(column: str | pl.Expr) -> pl.Expr:
    """Street or place name for comparison: lower case, letters and digits only, single spaces."""
    return (
        _as_expr(column)
        .str.to_lowercase()
        .str.replace_all(r"[^0-9a-z\u00e0-\u00ff ]+", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def street_key(column: str | pl.Expr) -> pl.Expr:
    """Street name with titles and `straat` reduced to their short forms, so "Burg. v.d. Plasstr."
    and "Burgemeester van der Plasstraat" get one key."""
    key = street_text(column)
    for pattern, short in _STREET_SHORT_FORMS:
        key = key.str.replace_all(pattern, short)
    return key.str.replace_all(r"\s+", " ")


# Some registers cut street names at 24 characters (BAG's own `verkorteNaam` has that length).
STREET_CUT_LENGTH = 24


def street_key24(column: str) -> pl.Expr:
    """Street key of the name's first 24 characters: a name cut by the register and the full BAG
    name then share it, whatever the cut did to the short forms ("Burgemeester Schaepmanla")."""
    return street_key(pl.col(column).str.slice(0, STREET_CUT_LENGTH))


def street_cut(column: str) -> pl.Expr:
    """The register's name is as long as a cut leaves it (23 after a trailing space is lost)."""
    return pl.col(column).str.strip_chars().str.len_chars() >= STREET_CUT_LENGTH - 1


# The columns normalisation adds, in their order (a frame normalised again gets them anew).
BAG_KEY_COLUMNS = ["postcode_clean", "suffix_key", "street_key", "street_key24", "street_cut", "woonplaats_key"]
CONNECTION_KEY_COLUMNS = [*BAG_KEY_COLUMNS, "in_bedrijf", "capacity_key", "bag_id_clean"]


def _with_name_keys(frame: pl.DataFrame, street: str, place: str) -> pl.DataFrame:
    """`frame` with the street keys of its column `street` and the woonplaats key of `place`."""
    streets = by_distinct(frame, street, street_key=street_key(street), street_key24=street_key24(street))
    return by_distinct(streets, place, woonplaats_key=street_text(place))


def normalise_bag(bag: pl.DataFrame) -> pl.DataFrame:
    """Add the comparison keys to the BAG rows (one row per object and nummeraanduiding)."""
    given = [c for c in bag.columns if c not in BAG_KEY_COLUMNS]
    return (
        _with_name_keys(bag, "openbare_ruimte_naam", "woonplaats_naam")
        .with_columns(
            postcode_clean=clean_postcode("postcode"),
            suffix_key=suffix_key(pl.col("huisletter").fill_null("") + pl.col("huisnummertoevoeging").fill_null("")),
            street_cut=pl.lit(False),
        )
        .select(*given, *BAG_KEY_COLUMNS)
    )


def identifier_keys() -> dict[str, pl.Expr]:
    """The keys of a register record's postcode and registered BAG id, which depend on those two
    columns alone: a record with a corrected postcode or id (`quality.fix_impact`) gets its new
    keys from these, without the rest of its row."""
    return {
        "postcode_clean": clean_postcode("postcode"),
        "bag_id_clean": pl.col("bag_id").str.strip_chars().str.zfill(16),
    }


def normalise_connections(connections: pl.DataFrame) -> pl.DataFrame:
    """Add the comparison keys and an in-operation flag to the register rows."""
    status = pl.col("fysieke_status").str.strip_chars().str.to_lowercase()
    given = [c for c in connections.columns if c not in CONNECTION_KEY_COLUMNS]
    return (
        _with_name_keys(connections, "straatnaam", "woonplaats")
        .with_columns(
            **identifier_keys(),
            suffix_key=suffix_key(pl.col("huisnummertoevoeging")),
            street_cut=street_cut("straatnaam").fill_null(False),
            in_bedrijf=status.is_in(["in bedrijf", "ibd"]),
            capacity_key=pl.col("aansluitcapaciteit")
            .str.to_uppercase()
            .str.replace_all(r"\s+", "")
            .str.replace_all("X", "x"),
        )
        .select(*given, *CONNECTION_KEY_COLUMNS)
    )
