"""Properties of the normalisers and checks, over inputs no YAML case list anticipates.

Street and woonplaats keys (`street_key`, `street_text`), the postcode cleaner
(`clean_postcode`), the suffix key (`suffix_key`, the register's one free field against BAG's
huisletter + huisnummertoevoeging) and the EAN check digit (`core.ean.is_valid`).
Each is a polars expression; a property feeds it a small frame and reads the column back.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.ean import is_valid as ean_is_valid
from linkage.normalise import (
    POSTCODE_PATTERN,
    clean_postcode,
    normalise_bag,
    normalise_connections,
    street_key,
    street_text,
    suffix_key,
)

FAST = settings(max_examples=200, deadline=None)

# Any text a delivery may hold: every code point but surrogates, NUL included.
ANY_TEXT = st.text()
LONG = "Burgemeester van der Plasstraat " * 320  # ~10k characters
NUL = "Kerk\x00straat"
# Whitespace a register's export may put anywhere: space, tab, newline, no-break and em space.
WHITESPACE = st.text(alphabet=" \t\n\u00a0\u2003", min_size=1, max_size=3)
# Letters whose upper and lower case are one letter each and map onto each other (ASCII and the
# Latin-1 letters of Dutch, French and German names; not ß, whose capital is "SS").
CASED_LETTERS = string.ascii_letters + "àáâäçèéêëìíîïñòóôöùúûüý" + "àáâäçèéêëìíîïñòóôöùúûüý".upper()
NAME_TEXT = st.text(alphabet=CASED_LETTERS + string.digits + " .-'/()", max_size=40)


def _apply(expression: Callable[[str], pl.Expr], values: list[str | None]) -> list[str | None]:
    """`expression` of the column `v` over `values`, as a list."""
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(expression("v")).to_series().to_list()


def _suffix(values: list[str | None]) -> list[str]:
    return _apply(lambda c: suffix_key(pl.col(c)), values)


# --- street and woonplaats keys -------------------------------------------------------------


@FAST
@given(ANY_TEXT)
@example(NUL)
@example(LONG)
def test_street_keys_are_idempotent_and_never_fail(text: str) -> None:
    for normaliser in (street_key, street_text):
        key = _apply(normaliser, [text])[0]
        assert _apply(normaliser, [key]) == [key]


@FAST
@given(NAME_TEXT)
def test_street_keys_ignore_case(name: str) -> None:
    for normaliser in (street_key, street_text):
        keys = _apply(normaliser, [name, name.upper(), name.lower(), name.swapcase()])
        assert len(set(keys)) == 1, keys


@FAST
@given(st.lists(NAME_TEXT.filter(str.strip), min_size=1, max_size=4), st.data())
def test_street_keys_ignore_how_words_are_spaced(words: list[str], data: st.DataObject) -> None:
    single = " ".join(words)
    gaps = [data.draw(WHITESPACE) for _ in range(len(words) + 1)]
    spaced = gaps[0] + "".join(w + g for w, g in zip(words, gaps[1:], strict=True))
    for normaliser in (street_key, street_text):
        assert _apply(normaliser, [single]) == _apply(normaliser, [spaced])


@FAST
@given(
    st.lists(st.text(alphabet=CASED_LETTERS, min_size=1, max_size=12), min_size=1, max_size=4),
    st.lists(st.sampled_from([" ", "-", "'", ".", " - ", "'-"]), min_size=4, max_size=4),
)
def test_woonplaats_keys_ignore_which_separator_joins_the_words(words: list[str], separators: list[str]) -> None:
    """`'s-Hertogenbosch`, `s Hertogenbosch` and `'s Hertogenbosch` are one place."""
    plain = " ".join(words)
    written = "".join(w + s for w, s in zip(words, separators, strict=False))
    assert _apply(street_text, [plain]) == _apply(street_text, [written])


# --- postcodes ------------------------------------------------------------------------------

VALID_POSTCODE = st.builds(
    lambda pc4, letters: f"{pc4}{letters}",
    st.integers(1000, 9999),
    st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2).filter(lambda s: s not in {"SA", "SD", "SS"}),
)


@FAST
@given(ANY_TEXT)
@example(NUL)
@example(LONG)
@example("1234SS")  # PostNL never issues SA, SD or SS: no such address exists
@example("1234ß")  # upper-cased, ß is "SS": a German letter must not make a postcode
@example("1234\ufb01")  # the ligature "ﬁ" upper-cases to "FI"
def test_a_cleaned_postcode_is_a_dutch_postcode_or_null(text: str) -> None:
    cleaned = _apply(clean_postcode, [text])[0]
    if cleaned is not None:
        assert pl.select(pl.lit(cleaned).str.contains(POSTCODE_PATTERN)).item()
        assert cleaned[4:] not in {"SA", "SD", "SS"}
        # it is the text itself, without whitespace, upper-cased: nothing was made up
        assert "".join(text.split()).upper() == cleaned and "".join(text.split()).isascii()
    assert _apply(clean_postcode, [cleaned]) == [cleaned]


@FAST
@given(VALID_POSTCODE, st.lists(WHITESPACE, min_size=7, max_size=7), st.lists(st.booleans(), min_size=6, max_size=6))
def test_valid_postcodes_survive_any_case_and_spacing(postcode: str, gaps: list[str], lower: list[bool]) -> None:
    cased = [c.lower() if low else c for c, low in zip(postcode, lower, strict=True)]
    written = gaps[0] + "".join(c + g for c, g in zip(cased, gaps[1:], strict=True))
    assert _apply(clean_postcode, [written]) == [postcode]


@FAST
@given(st.integers(0, 9999), st.sampled_from(["SA", "SD", "SS", "sa", "sd", "ss"]))
def test_letter_pairs_postnl_never_issues_are_no_postcode(number: int, letters: str) -> None:
    assert _apply(clean_postcode, [f"{number:04d}{letters}"]) == [None]


# --- suffixes -------------------------------------------------------------------------------

LETTER = st.sampled_from(string.ascii_uppercase)
TOEVOEGING = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=4)
SEPARATOR = st.sampled_from(["", " ", "-", "/", ".", "_", ",", " - "])
# Spellings of one suffix; each class must give one key, and no key is shared between classes.
FLOOR_SPELLINGS = ["{n}", "{n}e", "{n}E", "{n}de", "{n}ste", "{n}hg", "{n}HG", "{n} hoog", "{n}-hoog"]
EQUIVALENT = [
    ["H", "h", "HS", "hs", "huis", "Huis"],
    ["BIS", "bis", "BS", "bs"],
    ["I", "i", "1"],
    ["II", "ii", "2"],
    ["III", "3"],
    ["IV", "iv", "4"],
]


def _case(text: str, upper: bool) -> str:
    return text.upper() if upper else text.lower()


@FAST
@given(st.none() | LETTER, st.none() | TOEVOEGING, SEPARATOR, st.booleans(), st.booleans())
def test_the_register_field_matches_bag_parts_however_it_is_joined(
    huisletter: str | None, toevoeging: str | None, separator: str, upper_letter: bool, upper_rest: bool
) -> None:
    bag = (huisletter or "") + (toevoeging or "")
    register = _case(huisletter or "", upper_letter) + separator + _case(toevoeging or "", upper_rest)
    assert _suffix([register]) == _suffix([bag])


@FAST
@given(st.integers(1, 99), st.sampled_from(FLOOR_SPELLINGS), st.sampled_from(FLOOR_SPELLINGS), st.none() | LETTER)
def test_floor_spellings_are_equivalent_both_ways(n: int, register: str, bag: str, huisletter: str | None) -> None:
    """ "2 hoog" in the register finds BAG's 2, and BAG's "2HG" finds the register's "2e"."""
    prefix = huisletter or ""
    register_key, bag_key = _suffix([prefix + register.format(n=n), prefix + bag.format(n=n)])
    reverse_register, reverse_bag = _suffix([prefix + bag.format(n=n), prefix + register.format(n=n)])
    assert register_key == bag_key == reverse_register == reverse_bag == prefix + str(n)


@FAST
@given(st.sampled_from(EQUIVALENT), st.data())
def test_equivalent_spellings_share_one_key_both_ways(spellings: list[str], data: st.DataObject) -> None:
    register, bag = data.draw(st.sampled_from(spellings)), data.draw(st.sampled_from(spellings))
    assert _suffix([register]) == _suffix([bag])
    others = [s for group in EQUIVALENT if group is not spellings for s in group]
    assert set(_suffix(spellings)).isdisjoint(_suffix(others))


@FAST
@given(
    st.tuples(st.none() | LETTER.filter(lambda c: c != "I"), st.none() | st.integers(1, 999)),
    st.tuples(st.none() | LETTER.filter(lambda c: c != "I"), st.none() | st.integers(1, 999)),
)
def test_different_suffixes_keep_different_keys(first: tuple, second: tuple) -> None:
    """A letter and a number, as BAG has them: 12-A is not 12-B, 3-1 not 3-2, and 12 not 12-A
    (the roman I, which is 1, aside)."""

    def written(letter: str | None, number: int | None) -> str:
        return (letter or "") + ("" if number is None else str(number))

    keys = _suffix([written(*first), written(*second)])
    assert (keys[0] == keys[1]) is (first == second)


@FAST
@given(st.none() | ANY_TEXT)
@example(NUL)
@example(LONG)
@example("\x00" * 10_000)
def test_suffix_key_never_fails_and_is_idempotent(text: str | None) -> None:
    key = _suffix([text])[0]
    assert key is not None
    assert _suffix([key]) == [key]


# --- whole registers ------------------------------------------------------------------------

TEXT_OR_NULL = st.none() | ANY_TEXT


@FAST
@given(
    st.fixed_dictionaries(
        {
            c: TEXT_OR_NULL
            for c in (
                "straatnaam",
                "huisnummertoevoeging",
                "postcode",
                "woonplaats",
                "fysieke_status",
                "aansluitcapaciteit",
                "bag_id",
            )
        }
    )
)
@example(
    {
        c: LONG
        for c in (
            "straatnaam",
            "huisnummertoevoeging",
            "postcode",
            "woonplaats",
            "fysieke_status",
            "aansluitcapaciteit",
            "bag_id",
        )
    }
)
def test_normalising_a_register_row_of_arbitrary_text_never_fails(row: dict[str, str | None]) -> None:
    frame = pl.DataFrame([row], schema={c: pl.String for c in row})
    assert normalise_connections(frame).height == 1


@FAST
@given(
    st.fixed_dictionaries(
        {
            c: TEXT_OR_NULL
            for c in ("openbare_ruimte_naam", "huisletter", "huisnummertoevoeging", "postcode", "woonplaats_naam")
        }
    )
)
def test_normalising_a_bag_row_of_arbitrary_text_never_fails(row: dict[str, str | None]) -> None:
    frame = pl.DataFrame([row], schema={c: pl.String for c in row})
    assert normalise_bag(frame).height == 1


# --- EAN check digit ------------------------------------------------------------------------

EAN_BODY = st.text(alphabet=string.digits, min_size=17, max_size=17)


def _valid(eans: list[str]) -> list[bool]:
    return _apply(lambda c: ean_is_valid(pl.col(c)), eans)


@FAST
@given(EAN_BODY)
def test_every_ean_body_has_exactly_one_check_digit(body: str) -> None:
    assert sum(_valid([body + digit for digit in string.digits])) == 1


@FAST
@given(EAN_BODY, st.integers(0, 17), st.integers(1, 9))
def test_changing_any_one_digit_breaks_the_check(body: str, position: int, shift: int) -> None:
    ean = next(body + d for d in string.digits if _valid([body + d])[0])
    changed = ean[:position] + str((int(ean[position]) + shift) % 10) + ean[position + 1 :]
    assert _valid([changed]) == [False]


@FAST
@given(ANY_TEXT.filter(lambda s: not (len(s) == 18 and s.isascii() and s.isdigit())))
@example("８７１６８７０１００００００００１５")  # full-width digits are no EAN
@example(NUL)
def test_anything_but_eighteen_ascii_digits_is_no_ean(text: str) -> None:
    assert _valid([text]) == [False]
