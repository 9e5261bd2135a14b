"""Stream one LVBAG XML chunk into a small frame of the objects as they stand on one day.

Every object comes with its whole history: one `sl:stand` element per voorkomen, each carrying
the full object as it was in that period. Only voorkomens valid on the day are kept while
streaming, so a chunk shrinks to about one row per object before it reaches polars; when an
object still has two valid voorkomens (a correction), the reader keeps the latest.

Elements are matched on their local names (`{*}Verblijfsobject`), not on the namespace URIs,
which carry a schema version (`.../v20200601`) that Kadaster bumps between releases.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from datetime import date
from typing import Any, BinaryIO

import polars as pl
from lxml import etree

from ingestion.lvbag.archive import XML_PARSER_OPTIONS
from ingestion.lvbag.geometry import representative_point

Fields = dict[str, list[etree._Element]]
Row = tuple[object, ...]

OBJECT_ELEMENTS = {
    "VBO": "Verblijfsobject",
    "LIG": "Ligplaats",
    "STA": "Standplaats",
    "NUM": "Nummeraanduiding",
    "OPR": "OpenbareRuimte",
    "WPL": "Woonplaats",
    "GWR": "GemeenteWoonplaatsRelatie",
}

_VALIDITY: dict[str, Any] = {"begin": pl.Utf8, "voorkomen": pl.Int32}
ADDRESSABLE_SCHEMA = pl.Schema(
    {
        "object_id": pl.Utf8,
        **_VALIDITY,
        "hoofdadres_id": pl.Utf8,
        "nevenadres_ids": pl.List(pl.Utf8),
        "gebruiksdoel": pl.Utf8,
        "oppervlakte": pl.Int32,
        "status": pl.Utf8,
        "pand_id": pl.Utf8,
        "x": pl.Float64,
        "y": pl.Float64,
    }
)
SCHEMAS = {
    "VBO": ADDRESSABLE_SCHEMA,
    "LIG": ADDRESSABLE_SCHEMA,
    "STA": ADDRESSABLE_SCHEMA,
    "NUM": pl.Schema(
        {
            "nummeraanduiding_id": pl.Utf8,
            **_VALIDITY,
            "huisnummer": pl.Int32,
            "huisletter": pl.Utf8,
            "huisnummertoevoeging": pl.Utf8,
            "postcode": pl.Utf8,
            "openbare_ruimte_id": pl.Utf8,
            "num_woonplaats_id": pl.Utf8,
        }
    ),
    "OPR": pl.Schema(
        {"openbare_ruimte_id": pl.Utf8, **_VALIDITY, "openbare_ruimte_naam": pl.Utf8, "opr_woonplaats_id": pl.Utf8}
    ),
    "WPL": pl.Schema({"woonplaats_id": pl.Utf8, **_VALIDITY, "woonplaats_naam": pl.Utf8}),
    # GEM-WPL-RELATIE has no voorkomens; `voorkomen` ranks a definitive relation above a provisional one.
    "GWR": pl.Schema({"woonplaats_id": pl.Utf8, **_VALIDITY, "gemeente_code": pl.Utf8}),
}


def parse_chunk(kind: str, stream: BinaryIO, day: date) -> tuple[pl.DataFrame, int]:
    """Rows of the chunk's objects valid on `day`, and how many object elements the chunk held.

    Each object element is cleared once read, and the elements before it dropped, so memory
    stays at one object however large the chunk.
    """
    extract = _EXTRACTORS[kind]
    on_day = day.isoformat()
    rows: list[Row] = []
    seen = 0
    for _, element in etree.iterparse(
        stream,
        events=("end",),
        tag="{*}" + OBJECT_ELEMENTS[kind],
        remove_comments=True,
        remove_pis=True,
        huge_tree=True,  # lift libxml2's 10 MB text-node cap: a detailed woonplaats ring is one text node
        **XML_PARSER_OPTIONS,
    ):
        seen += 1
        row = extract(element, on_day)
        if row is not None:
            rows.append(row)
        _release(element)
    return pl.DataFrame(rows, schema=SCHEMAS[kind], orient="row"), seen


def is_valid_on(begin: str, end: str | None, end_registration: str | None, day: str) -> bool:
    """Is a voorkomen the object's state on `day` (ISO dates, compared as text)?

    Valid when beginGeldigheid <= day < eindGeldigheid (or no end). eindRegistratie does not
    disqualify a voorkomen whose validity has ended: LVBAG sets it on every voorkomen that a later
    one succeeded (it is the moment the end was registered, equal to the successor's
    tijdstipRegistratie), so excluding those would leave no history to read at an earlier
    peildatum. It does disqualify a voorkomen still open in validity: that one was withdrawn from
    the registration without an end, i.e. replaced by a correction.
    """
    if end is None:
        return end_registration is None and begin[:10] <= day
    return begin[:10] <= day < end[:10]


@functools.cache
def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _fields(element: etree._Element) -> Fields:
    """The element's children by local name (several for repeated ones such as gebruiksdoel)."""
    fields: Fields = {}
    for child in element:
        fields.setdefault(_local(child.tag), []).append(child)
    return fields


def _text(fields: Fields, name: str) -> str | None:
    """Text of the first child called `name`; None when absent or empty."""
    found = fields.get(name)
    text = found[0].text.strip() if found and found[0].text else ""
    return text or None


def _refs(fields: Fields, name: str) -> list[str]:
    """Ids inside every `name` wrapper, e.g. each NummeraanduidingRef under heeftAlsNevenadres."""
    return [ref.text.strip() for wrapper in fields.get(name, ()) for ref in wrapper if ref.text]


def _int(text: str | None) -> int | None:
    return int(text) if text is not None else None


def _descendant_texts(wrapper: etree._Element) -> dict[str, str | None]:
    """Texts below a wrapper by local name, at any depth (Historie:Voorkomen nests BeschikbaarLV)."""
    return {_local(node.tag): (node.text or "").strip() or None for node in wrapper.iter()}


def _validity(fields: Fields, day: str) -> tuple[str, int] | None:
    """(beginGeldigheid, voorkomenidentificatie) of the object's voorkomen when valid on `day`."""
    wrappers = fields.get("voorkomen")
    if not wrappers:
        return None
    history = _descendant_texts(wrappers[0])
    begin = history.get("beginGeldigheid")
    if begin is None or not is_valid_on(begin, history.get("eindGeldigheid"), history.get("eindRegistratie"), day):
        return None
    return begin[:10], int(history.get("voorkomenidentificatie") or 0)


def _addressable(element: etree._Element, day: str) -> Row | None:
    """Verblijfsobject, ligplaats or standplaats; the vbo-only fields are simply absent on the others."""
    fields = _fields(element)
    validity = _validity(fields, day)
    if validity is None:
        return None
    geometrie = fields.get("geometrie")
    point = representative_point(geometrie[0] if geometrie else None)
    hoofdadres = _refs(fields, "heeftAlsHoofdadres")
    panden = _refs(fields, "maaktDeelUitVan")
    doelen = sorted({doel.text.strip() for doel in fields.get("gebruiksdoel", ()) if doel.text})
    return (
        _text(fields, "identificatie"),
        *validity,
        hoofdadres[0] if hoofdadres else None,
        _refs(fields, "heeftAlsNevenadres"),
        ";".join(doelen) or None,
        _int(_text(fields, "oppervlakte")),
        _text(fields, "status"),
        panden[0] if panden else None,
        *(point or (None, None)),
    )


def _nummeraanduiding(element: etree._Element, day: str) -> Row | None:
    fields = _fields(element)
    validity = _validity(fields, day)
    if validity is None:
        return None
    openbare_ruimte = _refs(fields, "ligtAan")
    woonplaats = _refs(fields, "ligtIn")
    return (
        _text(fields, "identificatie"),
        *validity,
        _int(_text(fields, "huisnummer")),
        _text(fields, "huisletter"),
        _text(fields, "huisnummertoevoeging"),
        _text(fields, "postcode"),
        openbare_ruimte[0] if openbare_ruimte else None,
        woonplaats[0] if woonplaats else None,
    )


def _openbare_ruimte(element: etree._Element, day: str) -> Row | None:
    fields = _fields(element)
    validity = _validity(fields, day)
    if validity is None:
        return None
    woonplaats = _refs(fields, "ligtIn")
    return (_text(fields, "identificatie"), *validity, _text(fields, "naam"), woonplaats[0] if woonplaats else None)


def _woonplaats(element: etree._Element, day: str) -> Row | None:
    fields = _fields(element)
    validity = _validity(fields, day)
    if validity is None:
        return None
    return (_text(fields, "identificatie"), *validity, _text(fields, "naam"))


def _gemeente_woonplaats(element: etree._Element, day: str) -> Row | None:
    """A woonplaats-to-gemeente relation whose tijdvak (end exclusive) covers `day`."""
    fields = _fields(element)
    tijdvak = fields.get("tijdvakgeldigheid")
    period = _descendant_texts(tijdvak[0]) if tijdvak else {}
    begin = period.get("begindatumTijdvakGeldigheid")
    if begin is None or not is_valid_on(begin, period.get("einddatumTijdvakGeldigheid"), None, day):
        return None
    woonplaats = _nested_text(fields, "gerelateerdeWoonplaats")
    gemeente = _nested_text(fields, "gerelateerdeGemeente")
    return woonplaats, begin[:10], int(_text(fields, "status") == "definitief"), gemeente


def _nested_text(fields: Fields, name: str) -> str | None:
    """Text of the `identificatie` inside the first `name` wrapper."""
    wrappers = fields.get(name)
    return _text(_fields(wrappers[0]), "identificatie") if wrappers else None


def _release(element: etree._Element) -> None:
    """Free a processed object: clear it and drop every element parsed before it."""
    element.clear()
    for node in itertools.chain((element,), element.iterancestors()):
        while node.getprevious() is not None:
            del node.getparent()[0]


_EXTRACTORS: dict[str, Callable[[etree._Element, str], Row | None]] = {
    "VBO": _addressable,
    "LIG": _addressable,
    "STA": _addressable,
    "NUM": _nummeraanduiding,
    "OPR": _openbare_ruimte,
    "WPL": _woonplaats,
    "GWR": _gemeente_woonplaats,
}
