"""What the free-text `locatieomschrijving` says: the residue class it names, and whether it
places the connection near an address rather than at it.

The vocabulary is data (`linkage/vocabulary.yaml`), so a reviewer reads and extends it without
touching code. Matching is by rules a reviewer can follow, tried in this order for each word of
the text: exact word or abbreviation, prefix, compound head, and one typo (optimal string
alignment distance 1, for words of `description_typo_min_length` letters or more, 5 by default). The first word of the text that names a class
decides, and the result says which word matched and how ("lichmast" ~ "lichtmast", typo).

Words are classified once per distinct word, not once per connection: a national register has
millions of descriptions but only tens of thousands of distinct words.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from core.config import LinkageSettings

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.yaml")
DESCRIPTION_COLUMNS = ["ean", "described_class", "matched_word", "match_kind", "near_address"]


@dataclass(frozen=True)
class Vocabulary:
    """Per class its words, abbreviations, prefixes, compound heads and two-word phrases."""

    classes: dict[str, dict[str, tuple[str, ...]]]
    near_address: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = VOCABULARY_FILE) -> Vocabulary:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        kinds = ("words", "abbreviations", "prefixes", "heads", "phrases")
        classes = {name: {kind: tuple(entry.get(kind, ())) for kind in kinds} for name, entry in raw["classes"].items()}
        return cls(classes=classes, near_address=tuple(raw["near_address"]))


@cache
def vocabulary() -> Vocabulary:
    return Vocabulary.load()


def one_typo_apart(a: str, b: str) -> bool:
    """Whether one typo turns `a` into `b`: a letter inserted, deleted or replaced, or two
    neighbouring letters swapped (optimal string alignment distance 1). Checked in one pass from
    the first difference, not by filling the distance table: the classifier asks it for every
    distinct word of a register against every vocabulary word (3.5 s of a 1M-object linkage)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = next((k for k, (ca, cb) in enumerate(zip(a, b, strict=False)) if ca != cb), min(len(a), len(b)))
    if len(a) == len(b):
        swapped = a[i + 1 : i + 2] == b[i : i + 1] and a[i : i + 1] == b[i + 1 : i + 2] and a[i + 2 :] == b[i + 2 :]
        return a[i + 1 :] == b[i + 1 :] or swapped
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return shorter[i:] == longer[i + 1 :]


def classify_word(
    word: str, vocab: Vocabulary | None = None, settings: LinkageSettings | None = None
) -> tuple[str, str, str] | None:
    """(class, vocabulary entry, how) for one lower-case word or two-word phrase, or None.

    A phrase (it has a space) matches only a phrase of the vocabulary, exactly. For a word, the
    strictest kind of match over all classes wins: an exact word of one class beats a prefix of
    another.
    """
    vocab = vocab or vocabulary()
    min_typo_length = (settings or LinkageSettings()).description_typo_min_length
    if " " in word:
        return next(
            ((name, word, "phrase") for name, entries in vocab.classes.items() if word in entries["phrases"]), None
        )
    tests = [
        ("word", lambda entry: word == entry, ("words", "abbreviations")),
        ("prefix", lambda entry: word.startswith(entry), ("prefixes",)),
        ("compound", lambda entry: word.endswith(entry) and len(word) > len(entry), ("heads",)),
        ("typo", lambda entry: len(word) >= min_typo_length and one_typo_apart(word, entry), ("words",)),
    ]
    for how, matches, kinds in tests:
        for residue_class, entries in vocab.classes.items():
            for kind in kinds:
                for entry in entries[kind]:
                    if matches(entry):
                        return residue_class, entry, how
    return None


def _words(description: pl.Expr) -> pl.Expr:
    """Lower-case words of a text, letters and digits apart ("LP36" -> "lp", "36")."""
    return (
        description.str.to_lowercase()
        .str.replace_all(r"([a-z])([0-9])", "$1 $2")
        .str.replace_all(r"([0-9])([a-z])", "$1 $2")
        .str.replace_all(r"[^0-9a-z\u00e0-\u00ff]+", " ")
        .str.strip_chars()
        .str.split(" ")
    )


def describe(
    connections: pl.DataFrame, vocab: Vocabulary | None = None, settings: LinkageSettings | None = None
) -> pl.DataFrame:
    """One row per connection whose text says something: `described_class` (null when the text
    names none), the `matched_word` and `match_kind` behind it, and `near_address` (the text
    places it near an address: "t.o. nr 12", "naast 7", "hoek Kerkstraat"). A connection not in
    the result has no class and is not near an address: most of a register has no text, and a
    row for each would hold a national register's size for nothing."""
    vocab = vocab or vocabulary()
    text = connections.select("ean", text="locatieomschrijving").drop_nulls("text")
    words = (
        text.select("ean", word=_words(pl.col("text")))
        .with_columns(position=pl.int_ranges(pl.col("word").list.len()))
        .explode("word", "position")
        .filter(pl.col("word").str.contains("[a-z]"))
    )
    # two-word phrases ("openbare verlichting") at the position of their first word
    phrases = words.with_columns(
        word=pl.col("word") + " " + pl.col("word").shift(-1).over("ean", order_by="position")
    ).drop_nulls("word")
    candidates = pl.concat([words, phrases])
    distinct = candidates["word"].unique().to_list()
    classified = [(w, *hit) for w in distinct if (hit := classify_word(w, vocab, settings))]
    known = pl.DataFrame(
        classified,
        schema={c: pl.String for c in ("word", "described_class", "matched_word", "match_kind")},
        orient="row",
    )
    first = (
        candidates.join(known, on="word")
        .sort("ean", "position", pl.col("word").str.len_chars(), descending=[False, False, True])
        .unique("ean", keep="first")
        .select("ean", "described_class", "matched_word", "match_kind", written=pl.col("word"))
    )
    near = pl.any_horizontal(pl.col("text").str.to_lowercase().str.contains(p) for p in vocab.near_address)
    return (
        text.with_columns(near_address=near)
        .join(first, on="ean", how="left")
        .select(
            "ean",
            "described_class",
            matched_word=pl.when(pl.col("written") == pl.col("matched_word"))
            .then(pl.col("matched_word"))
            .otherwise(pl.format("{} ~ {}", pl.col("written"), pl.col("matched_word"))),
            match_kind="match_kind",
            near_address="near_address",
        )
        .filter(pl.col("described_class").is_not_null() | pl.col("near_address"))
    )
