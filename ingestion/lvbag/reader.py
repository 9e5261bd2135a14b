"""Map an LVBAG 2.0 extract onto the `bag` input: one row per (object, nummeraanduiding).

The pipeline links grid connections to addresses, so every verblijfsobject, ligplaats and
standplaats valid on the peildatum yields its hoofdadres row and one row per nevenadres, whatever
its status (downstream rules decide what an ingetrokken object means). Its address is resolved as
BAG defines it: nummeraanduiding -> openbare ruimte (street name) -> woonplaats, where the
nummeraanduiding's own `ligtIn` woonplaats wins over the openbare ruimte's; every link is taken
as it stands on the same peildatum. The gemeente comes from GEM-WPL-RELATIE (woonplaats ->
gemeente on the peildatum), else from the gemeente the extract was made for, else from the first
four digits of the object id (where the object was created, which can be a former gemeente).

An object whose address does not resolve is kept with empty address parts, never dropped: the
contract validation downstream quarantines it with a reason, and the log counts such rows. An
extract that lacks a whole kind of chunk is refused instead: every Kadaster extract holds each
kind (an empty chunk where a gemeente has none), so a missing kind means a cut-off download or
members left out, and reading on would resolve no address at all.
"""

from __future__ import annotations

import logging
import time
import zipfile
import zlib
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl
from lxml import etree

from core.errors import InputError
from data_contracts import load_contract
from ingestion.lvbag import archive, chunks
from ingestion.lvbag.archive import ADDRESSABLE_KINDS, Leveringsdocument, Member
from ingestion.validate import printable

log = logging.getLogger("koppelwerk.ingestion.lvbag")

OBJECT_TYPES = {"VBO": "verblijfsobject", "LIG": "ligplaats", "STA": "standplaats"}
# The chunk kinds an address is resolved from; GEM-WPL-RELATIE (GWR) as well unless the
# Leveringsdocument names the one gemeente the extract is of.
REQUIRED_KINDS = (*ADDRESSABLE_KINDS, "NUM", "OPR", "WPL")
# The canonical BAG columns, as the contract declares them: the reader maps the XML onto exactly these.


def bag_schema() -> pl.Schema:
    """The columns and types every BAG reader returns, from the BAG input contract."""
    return load_contract("bag").polars_schema


# What a broken zip, a truncated deflate stream or malformed XML raise while streaming.
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, etree.XMLSyntaxError, ValueError)


def is_lvbag_extract(path: Path) -> bool:
    """Cheap sniff, without parsing XML: named like a Kadaster extract, or a zip of LVBAG members."""
    return archive.looks_like_extract(Path(path))


def read_lvbag_extract(path: Path, peildatum: date | None = None) -> pl.DataFrame:
    """Read an LVBAG 2.0 extract zip into the `bag` columns, as the objects stand on `peildatum`.

    `peildatum` defaults to the extract date (StandTechnischeDatum in
    Leveringsdocument-BAG-Extract.xml, else the date in the member names). Raises InputError,
    naming the file, when it is missing, not a readable zip (cut off, damaged), holds malformed
    XML, or lacks a kind of chunk the reader needs (`REQUIRED_KINDS`).
    """
    path = Path(path)
    where = f"LVBAG extract {printable(str(path))}"
    if not path.is_file():
        raise InputError(f"{where}: file not found")
    started = time.perf_counter()
    try:
        with path.open("rb") as fp:
            levering = archive.read_leveringsdocument(fp)
            members = [member for member, _, _ in archive.walk(fp)]
            _require_chunk_kinds(where, members, levering)
            day = _peildatum(where, peildatum, levering, members)
            tables = _read_tables(where, fp, members, day)
    except _UNREADABLE as exc:
        raise InputError(f"{where}: not a readable LVBAG extract: {_one_line(exc)}") from exc
    frame = _resolve_addresses(tables, levering.gemeente_code)
    _log_summary(frame, day, time.perf_counter() - started)
    return frame


def _require_chunk_kinds(where: str, members: Sequence[Member], levering: Leveringsdocument) -> None:
    """Fail on an extract without every kind of chunk the addresses are resolved from.

    Without GEM-WPL-RELATIE the gemeente falls back to the one the Leveringsdocument names, which
    is right for a gemeente extract; without that either, it would be the first four digits of
    each object id, wrong for every object a former gemeente created.
    """
    kinds = {member.kind for member in members}
    needed = [*REQUIRED_KINDS, *(["GWR"] if levering.gemeente_code is None else [])]
    missing = [kind for kind in needed if kind not in kinds]
    if missing:
        found = f"only {', '.join(sorted(kinds))}" if kinds else "none the reader reads"
        raise InputError(
            f"{where}: incomplete LVBAG extract: no {', '.join(missing)} chunks, which the reader "
            f"needs (chunks found: {found})"
        )
    if "GWR" not in kinds:
        log.warning("%s: no GWR chunks; the gemeente of every object is %s", where, levering.gemeente_code)


def _peildatum(where: str, peildatum: date | None, levering: Leveringsdocument, members: Sequence[Member]) -> date:
    """The day to take objects on: as asked, else the extract date."""
    if peildatum is not None:
        return peildatum.date() if isinstance(peildatum, datetime) else peildatum
    if levering.stand is not None:
        return levering.stand
    stands = {member.stand for member in members}
    if len(stands) == 1:
        return stands.pop()
    raise InputError(
        f"{where}: cannot tell the extract date (no Leveringsdocument, member dates differ); pass a peildatum"
    )


def _read_tables(where: str, fp: BinaryIO, members: Sequence[Member], day: date) -> dict[str, pl.DataFrame]:
    """Stream every chunk; per kind, one row per object as it stands on `day`."""
    parts: dict[str, list[pl.DataFrame]] = {kind: [] for kind in chunks.SCHEMAS}
    for index, (member, zf, info) in enumerate(archive.walk(fp), start=1):
        started = time.perf_counter()
        try:
            with zf.open(info) as stream:
                frame, seen = chunks.parse_chunk(member.kind, stream, day)  # type: ignore[arg-type]  # ZipExtFile
        except _UNREADABLE as exc:
            raise InputError(f"{where}: {printable(member.name)}: {_one_line(exc)}") from exc
        parts[member.kind].append(frame)
        log.info(
            "chunk %d/%d %s: %d of %d voorkomens valid on %s (%.1f s)",
            index,
            len(members),
            member.name,
            frame.height,
            seen,
            day,
            time.perf_counter() - started,
        )
    return {kind: _latest_per_object(kind, frames) for kind, frames in parts.items()}


def _latest_per_object(kind: str, frames: list[pl.DataFrame]) -> pl.DataFrame:
    """One row per id: of several valid voorkomens the latest (beginGeldigheid, voorkomen)."""
    schema = chunks.SCHEMAS[kind]
    key = next(iter(schema))
    frame = pl.concat(frames) if frames else schema.to_frame()
    latest = frame.sort([key, "begin", "voorkomen"]).unique(subset=key, keep="last", maintain_order=True)
    return latest.drop("begin", "voorkomen")


def _resolve_addresses(tables: dict[str, pl.DataFrame], extract_gemeente: str | None) -> pl.DataFrame:
    """Join each (object, nummeraanduiding) to its address parts and gemeente."""
    objects = pl.concat(
        [tables[kind].with_columns(object_type=pl.lit(OBJECT_TYPES[kind])) for kind in ADDRESSABLE_KINDS]
    )
    resolved = (
        _address_rows(objects)
        .join(tables["NUM"], on="nummeraanduiding_id", how="left", validate="m:1")
        .join(tables["OPR"], on="openbare_ruimte_id", how="left", validate="m:1")
        .with_columns(woonplaats_id=pl.coalesce("num_woonplaats_id", "opr_woonplaats_id"))
        .join(tables["WPL"], on="woonplaats_id", how="left", validate="m:1")
        .join(tables["GWR"], on="woonplaats_id", how="left", validate="m:1")
        .with_columns(
            gemeente_code=pl.coalesce(
                "gemeente_code", pl.lit(extract_gemeente, dtype=pl.Utf8), pl.col("object_id").str.slice(0, 4)
            )
        )
    )
    return resolved.select(pl.col(name).cast(dtype) for name, dtype in bag_schema().items()).sort(
        ["object_id", "hoofdadres", "nummeraanduiding_id"], descending=[False, True, False], nulls_last=True
    )


def _address_rows(objects: pl.DataFrame) -> pl.DataFrame:
    """The hoofdadres row of every object, then a row per nevenadres; a pair is kept once.

    An object without a hoofdadres reference still gets its row (nummeraanduiding_id empty), so
    that validation reports it instead of it vanishing here.
    """
    main = objects.rename({"hoofdadres_id": "nummeraanduiding_id"}).with_columns(hoofdadres=pl.lit(True))
    side = (
        objects.explode("nevenadres_ids")
        .drop_nulls("nevenadres_ids")
        .drop("hoofdadres_id")
        .rename({"nevenadres_ids": "nummeraanduiding_id"})
        .with_columns(hoofdadres=pl.lit(False))
    )
    rows = pl.concat([main.drop("nevenadres_ids"), side.select(main.drop("nevenadres_ids").columns)])
    return rows.unique(subset=["object_id", "nummeraanduiding_id"], keep="first", maintain_order=True)


def _log_summary(frame: pl.DataFrame, day: date, seconds: float) -> None:
    """Counts per object type, including rows whose address did not resolve."""
    summary = frame.group_by("object_type").agg(
        objects=pl.col("object_id").n_unique(),
        nevenadressen=(~pl.col("hoofdadres")).sum(),
        no_nummeraanduiding=pl.col("huisnummer").is_null().sum(),
        no_openbare_ruimte=pl.col("openbare_ruimte_naam").is_null().sum(),
        no_woonplaats=pl.col("woonplaats_naam").is_null().sum(),
    )
    for row in summary.sort("object_type").iter_rows(named=True):
        log.info(
            "%s on %s: %d objects, %d nevenadressen; "
            "unresolved: %d nummeraanduiding, %d openbare ruimte, %d woonplaats",
            row["object_type"],
            day,
            row["objects"],
            row["nevenadressen"],
            row["no_nummeraanduiding"],
            row["no_openbare_ruimte"],
            row["no_woonplaats"],
        )
    log.info("LVBAG extract read: %d rows in %.1f s", frame.height, seconds)


def _one_line(exc: BaseException) -> str:
    return printable(" ".join(str(exc).split())) or type(exc).__name__
