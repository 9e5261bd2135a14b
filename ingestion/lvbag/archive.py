"""Find and open the XML chunks of an LVBAG 2.0 extract without unpacking anything to disk.

Kadaster ships the extract as zips of zips of XML chunks (10,000 objects each), in more than one
layout:

- gemeente extract: `BAGGEM0457L-15102021.zip` > `0457GEM15102021.zip` > `0457VBO15102021.zip`
  > `0457VBO15102021-000001.xml`;
- national extract: `lvbag-extract-nl.zip` > `9999VBO08112021.zip` > `9999VBO08112021-000001.xml`;
- a bare per-type zip such as `0221PND15092020.zip` > `0221PND15092020-000001.xml`.

Members are therefore routed by their *names*, never by their depth: a gemeente bundle, a
per-type zip of a wanted type and the GEM-WPL-RELATIE zip are descended into; the in-onderzoek,
inactief and niet-BAG side files, the panden (the reader needs no pand geometry) and junk such as
`.DS_Store`, `__MACOSX/` or a README are skipped without being opened.

Python 3.11's `ZipExtFile` restarts a member from its first byte on every backward seek, and a
zip opened inside another seeks backwards several times (end-of-central-directory search, central
directory, first member). With two levels of `ZipExtFile` every such seek in the inner zip re-reads
the outer member from its start, which on a large gemeente bundle means gigabytes per per-type zip.
A *stored* inner zip is therefore read through a window on its parent stream, where seeking is
free: Kadaster stores the gemeente bundle in the outer zip and, in the '9999' layout, the per-type
zips. A deflated inner zip (the per-type zips inside a gemeente bundle) goes through `ZipExtFile`:
a few extra decompression passes over that one zip, then sequential reading.

A zip is found from its end, so a download cut off just after a stored inner zip still opens:
as that inner zip, with the bytes before it taken for a prefix. Every zip here must therefore
start with its first member, and a broken one is named by its trail (`0457GEM15102021.zip/
0457VBO15102021.zip: ...`). XML is parsed without DTDs, entities or network access: an extract
has none, and a hostile file must not make the reader expand or fetch anything.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from lxml import etree

log = logging.getLogger("koppelwerk.ingestion.lvbag")

LEVERINGSDOCUMENT = "Leveringsdocument-BAG-Extract.xml"
ADDRESSABLE_KINDS = ("VBO", "LIG", "STA")
WANTED_KINDS = frozenset({*ADDRESSABLE_KINDS, "NUM", "OPR", "WPL", "GWR"})

_TYPE_MEMBER = re.compile(r"^\d{4}(?P<kind>VBO|LIG|STA|NUM|OPR|WPL|PND)(?P<date>\d{8})(?:-\d+)?\.(?P<ext>zip|xml)$")
_GWR_MEMBER = re.compile(r"^GEM-WPL-RELATIE-(?P<date>\d{8})(?:-\d+)?\.(?P<ext>zip|xml)$")
_BUNDLE_MEMBER = re.compile(r"^\d{4}GEM\d{8}\.zip$")
_EXTRACT_NAME = re.compile(r"^(BAGGEM\d{4}L-\d{8}|BAGNLDL-\d{8}.*|lvbag-extract-nl)\.zip$", re.IGNORECASE)
_LOCAL_FILE_HEADER = struct.Struct("<4s5H3L2H")
# No DTD, no entity expansion, no network: see the module docstring.
XML_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False}


@dataclass(frozen=True)
class Member:
    """One XML chunk: its object kind (VBO, NUM, ..., GWR) and the member names leading to it."""

    kind: str
    trail: tuple[str, ...]
    stand: date

    @property
    def name(self) -> str:
        return "/".join(self.trail)


@dataclass(frozen=True)
class Leveringsdocument:
    """What the delivery note says: the extract date and, for a gemeente extract, the gemeente."""

    stand: date | None
    gemeente_code: str | None


def looks_like_extract(path: Path) -> bool:
    """True for a file named like a Kadaster extract, or a zip whose top level holds LVBAG members.

    A truncated download of `BAGGEM0457L-15102021.zip` still counts, so that the reader, not the
    generic "unknown file type" message, tells the operator the zip is broken.
    """
    if _EXTRACT_NAME.match(path.name):
        return True
    try:
        with zipfile.ZipFile(path) as zf:
            names = [PurePosixPath(name).name for name in zf.namelist()]
    except (OSError, zipfile.BadZipFile, EOFError):
        return False
    return any(name == LEVERINGSDOCUMENT or _is_lvbag_member(name) for name in names)


def read_leveringsdocument(fp: BinaryIO) -> Leveringsdocument:
    """Parse Leveringsdocument-BAG-Extract.xml at the top of the extract, if it has one."""
    with open_zip(fp, ()) as zf:
        if LEVERINGSDOCUMENT not in zf.namelist():
            return Leveringsdocument(stand=None, gemeente_code=None)
        root = etree.fromstring(zf.read(LEVERINGSDOCUMENT), etree.XMLParser(**XML_PARSER_OPTIONS))
    stand = root.findtext(".//{*}StandTechnischeDatum")
    gemeenten = [code.strip() for code in root.xpath(".//*[local-name()='GemeenteIdentificatie']/text()")]
    return Leveringsdocument(
        stand=date.fromisoformat(stand.strip()) if stand else None,
        gemeente_code=gemeenten[0] if len(gemeenten) == 1 else None,
    )


def walk(fp: BinaryIO, trail: tuple[str, ...] = ()) -> Iterator[tuple[Member, zipfile.ZipFile, zipfile.ZipInfo]]:
    """Yield every wanted XML chunk with the open zip holding it, descending into nested zips.

    The caller opens the chunk with `zf.open(info)` while the generator waits at it; the nested
    zips stay open until the walk moves past them.
    """
    with open_zip(fp, trail) as zf:
        for info in zf.infolist():
            route = _route(PurePosixPath(info.filename).name)
            if route is None:
                log.debug("skipping %s", "/".join((*trail, info.filename)))
                continue
            kind, stand, is_zip = route
            here = (*trail, info.filename)
            if is_zip:
                with _open_inner_zip(fp, zf, info, here) as inner:
                    yield from walk(inner, here)
            else:
                yield Member(kind=kind, trail=here, stand=stand), zf, info


@contextmanager
def open_zip(fp: BinaryIO, trail: tuple[str, ...]) -> Iterator[zipfile.ZipFile]:
    """The zip in `fp`; BadZipFile naming the trail when it is broken or does not start at its first member."""
    where = "/".join(trail) or "the zip"
    try:
        zf = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise zipfile.BadZipFile(f"{where} is cut off, damaged or no zip at all: {exc}") from exc
    with zf:
        start = min((info.header_offset for info in zf.infolist()), default=0)
        if start:
            raise zipfile.BadZipFile(
                f"{where} is cut off or damaged: its central directory puts the first member at byte {start}, "
                "not at the start of the file (is the end found that of an inner zip?)"
            )
        yield zf


def _is_lvbag_member(name: str) -> bool:
    """Any LVBAG member, panden included (a panden-only zip is LVBAG, if of no use to the reader)."""
    return any(pattern.match(name) for pattern in (_TYPE_MEMBER, _GWR_MEMBER, _BUNDLE_MEMBER))


def _route(name: str) -> tuple[str, date, bool] | None:
    """(kind, date in the name, is a zip) for a member worth opening, None for one to skip."""
    if _BUNDLE_MEMBER.match(name):
        return "bundle", _ddmmyyyy(name[7:15]), True
    match = _TYPE_MEMBER.match(name) or _GWR_MEMBER.match(name)
    if match is None:
        return None
    kind = match.groupdict().get("kind", "GWR")
    if kind not in WANTED_KINDS:
        return None
    return kind, _ddmmyyyy(match["date"]), match["ext"] == "zip"


def _ddmmyyyy(text: str) -> date:
    return datetime.strptime(text, "%d%m%Y").date()


def _open_inner_zip(
    fp: BinaryIO, zf: zipfile.ZipFile, info: zipfile.ZipInfo, trail: tuple[str, ...]
) -> AbstractContextManager[BinaryIO]:
    """A seekable stream over a zip member that is itself a zip (see the module docstring)."""
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        log.debug("%s is compressed inside its parent zip: opened through ZipExtFile", "/".join(trail))
        return zf.open(info)  # type: ignore[return-value]  # a ZipExtFile: a binary stream
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_FILE_HEADER.size)
    if len(header) != _LOCAL_FILE_HEADER.size or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{'/'.join(trail)}: bad local file header")
    *_, name_length, extra_length = _LOCAL_FILE_HEADER.unpack(header)
    start = info.header_offset + _LOCAL_FILE_HEADER.size + name_length + extra_length
    return _Window(fp, start, info.file_size)  # type: ignore[return-value]  # a raw binary stream


class _Window(io.RawIOBase):
    """Read-only view on bytes [start, start + size) of a seekable parent stream.

    The parent is shared with the zipfile reading it, so every read seeks first.
    """

    def __init__(self, parent: BinaryIO, start: int, size: int) -> None:
        super().__init__()
        self._parent, self._start, self._size, self._pos = parent, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = min(max(base + offset, 0), self._size)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._size - self._pos)
        if wanted <= 0:
            return 0
        self._parent.seek(self._start + self._pos)
        data = self._parent.read(wanted)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)
