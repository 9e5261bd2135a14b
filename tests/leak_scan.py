"""A leak scanner for the public folder: does anything there identify a connection or give away
one connection's consumption? Written apart from `publication`, from the inputs and the files
alone, as an outsider would read them.

It reports (`scan_public`):
- an input EAN, BAG object id, pand id or nummeraanduiding id anywhere in a file;
- an input address: a postcode followed by a house number (`1234AB 12`, `1234 ab, 12`) or a street
  name followed by a house number, as the inputs spell them, for addresses the inputs hold;
- a figure, or the difference of two figures of one record, that equals the annual consumption
  of one connection to the precision it is printed with.

What counts as a figure. In Parquet, a float column (the contracts type every volume DOUBLE and
every count and year BIGINT); a record is a row. In HTML a record is a table row or a block of
text, in other text files a line; a figure is a number followed by its unit (`12,345 kWh`,
`1.5 m3`), as `publication.report` prints every volume. A number without a unit is a count, a
year, a share, a code or a coordinate: comparing those with consumption would only find chance.
A figure is compared with the connections that can be in it: of its product (from the row's
`product`/`unit`, or from the unit after it), in the record's region (from the row's
`region_code`, or from region codes in the record; none: every connection) and, with the run's
links and residue at hand, able to reach the record's sector (`ScanInputs.sector_of`). Volumes
are whole kWh and m3, and at that precision most numbers between 100 and 5,000 are some
connection's consumption: without these restrictions a published cell of 62 garages that
happens to equal what one household elsewhere used would count as a leak. A connection lies in
a region when its postcode, its linked (or else registered) BAG object or a BAG object at its
address does. What remains is chance only where a figure is a sum of connections near one that
is unresolved (the loose threshold may link it to any object): a finding is a lead, to be
confirmed against `publication.uncertainty.uncertainty_violations`.

Tolerance: half a unit of the last printed digit for text (twice that for a difference of two
printed numbers); 1e-9 of the larger operand for Parquet floats, which is far below any
consumption and far above the rounding of summing a cell. A figure that is 0 within that
tolerance is not reported: 0 is what a sum of no connection is (no probabilistic link, nothing
that moves), and what every connection out of use consumed; it says nothing about anyone.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl

ALL_REGIONS = ("all",)
ALL_SECTORS = "*"  # every connection, whatever its sector
ANY_SECTOR = "?"  # a connection whose volume may reach any sector
OPEN_SECTORS = frozenset({"totaal", "unresolved"})
ANYWHERE = "anywhere"  # the region of a connection with neither postcode nor known object
UNKNOWN = "onbekend"  # the pipeline's region code where the region is not known
_NUMBER = r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
_FIGURE = re.compile(_NUMBER + r"\s*(kWh|m3|m³)(?![\w])")
_ID = re.compile(r"(?<!\d)\d{16,18}(?!\d)")
_POSTCODE_NUMBER = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{3}) ?([A-Za-z]{2})(?![A-Za-z])[ ,]*(\d{1,5})(?!\d)")
_CODE = re.compile(r"(?<![\d.,])(\d{4})(?![\d.,]|\s*(?:kWh|m3|m³|%))")
_WOONPLAATS_CODE = re.compile(r"\((\d{4}|onbekend)\)")
_PARQUET_TOLERANCE = 1e-9
_INLINE = {"td", "th", "span", "code", "b", "i", "em", "strong", "a", "small", "sub", "sup"}


@dataclass(frozen=True)
class ScanInputs:
    """The pipeline's three inputs as delivered (the columns of the spec) and, if at hand, the
    run's `links.parquet` and `residue.parquet`: they tell which objects, and so which regions
    and sectors, a connection's consumption went to. Without links a connection lies where its
    postcode and address say, in any sector, and a figure of the region `onbekend` (objects
    without a postcode, which a probabilistic link can reach from anywhere) is compared with
    every connection; without the residue a connection that is not linked may be in any sector."""

    bag: pl.DataFrame
    connections: pl.DataFrame
    consumption: pl.DataFrame
    links: pl.DataFrame | None = None
    residue: pl.DataFrame | None = None

    @cached_property
    def identifiers(self) -> frozenset[str]:
        ids = [
            self.connections["ean"],
            self.consumption["ean"],
            self.bag["object_id"],
            self.bag["nummeraanduiding_id"],
            self.bag["pand_id"],
            self.connections["bag_id"],
        ]
        return frozenset(pl.concat([s.cast(pl.String) for s in ids]).drop_nulls().to_list())

    @cached_property
    def postcode_numbers(self) -> frozenset[tuple[str, int]]:
        pairs = pl.concat(
            [
                frame.select(postcode=_postcode(pl.col("postcode")), huisnummer=pl.col("huisnummer").cast(pl.Int64))
                for frame in (self.bag, self.connections)
            ]
        ).drop_nulls()
        return frozenset(pairs.iter_rows())

    @cached_property
    def street_numbers(self) -> frozenset[tuple[str, int]]:
        pairs = pl.concat(
            [
                frame.select(street=pl.col(street).str.to_lowercase(), huisnummer=pl.col("huisnummer").cast(pl.Int64))
                for frame, street in ((self.bag, "openbare_ruimte_naam"), (self.connections, "straatnaam"))
            ]
        ).drop_nulls()
        return frozenset(pairs.iter_rows())

    @cached_property
    def street_pattern(self) -> re.Pattern[str]:
        names = sorted({street for street, _ in self.street_numbers if street.strip()}, key=len, reverse=True)
        return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, names)) + r")\s+(\d{1,5})(?!\d)", re.IGNORECASE)

    @cached_property
    def products_of_units(self) -> dict[str, str]:
        pairs = dict(self.consumption.select("unit", "product").unique().iter_rows())
        return pairs | ({"m³": pairs["m3"]} if "m3" in pairs else {})

    @cached_property
    def region_codes(self) -> frozenset[str]:
        codes = self.bag.select(
            gemeente=pl.col("gemeente_code").cast(pl.String), pc4=_postcode(pl.col("postcode")).str.slice(0, 4)
        )
        return frozenset(pl.concat([codes["gemeente"], codes["pc4"]]).drop_nulls().to_list())

    @cached_property
    def _connection_regions(self) -> pl.DataFrame:
        """(ean, region): region `pc4:1234` or `gemeente:0457` (or `pc4:onbekend`: an object
        without a postcode) where the connection may lie, or `anywhere` for a connection that
        has neither a postcode nor a known object."""
        bag = self.bag.select(
            "object_id",
            pc=_postcode(pl.col("postcode")).fill_null(UNKNOWN),
            street=pl.col("openbare_ruimte_naam").str.to_lowercase(),
            huisnummer=pl.col("huisnummer").cast(pl.Int64),
            gemeente=pl.col("gemeente_code").cast(pl.String).fill_null(UNKNOWN),
        )
        connections = self.connections.select(
            "ean",
            pc=_postcode(pl.col("postcode")),
            street=pl.col("straatnaam").str.to_lowercase(),
            huisnummer=pl.col("huisnummer").cast(pl.Int64),
            object_id=pl.col("bag_id").cast(pl.String),
        )
        linked = (
            self.links.select("ean", "object_id") if self.links is not None else connections.select("ean", "object_id")
        )
        objects = pl.concat(
            [
                linked.join(bag, on="object_id").select("ean", "pc", "gemeente"),
                connections.join(bag, on=["pc", "huisnummer"]).select("ean", "pc", "gemeente"),
                connections.join(bag, on=["street", "huisnummer"]).select("ean", pc="pc_right", gemeente="gemeente"),
            ],
            how="vertical_relaxed",
        )
        own_pc4 = connections.select("ean", pc4=pl.col("pc").str.slice(0, 4)).drop_nulls()
        pc4_gemeenten = bag.select(pc4=pl.col("pc").str.slice(0, 4), gemeente="gemeente").unique()
        regions = (
            pl.concat(
                [
                    own_pc4.select("ean", region=pl.lit("pc4:") + pl.col("pc4")),
                    own_pc4.join(pc4_gemeenten, on="pc4").select(
                        "ean", region=pl.lit("gemeente:") + pl.col("gemeente")
                    ),
                    objects.select(
                        "ean",
                        region=pl.lit("pc4:")
                        + pl.when(pl.col("pc") == UNKNOWN).then(pl.col("pc")).otherwise(pl.col("pc").str.slice(0, 4)),
                    ),
                    objects.select("ean", region=pl.lit("gemeente:") + pl.col("gemeente")),
                ]
            )
            .drop_nulls()
            .unique()
        )
        # placed: a known gemeente; any other connection may be counted anywhere (a register
        # woonplaats can name the gemeente of a postcode the BAG does not know)
        placed = regions.filter(pl.col("region").str.starts_with("gemeente:")).select("ean").unique()
        regions = regions.join(placed, on="ean", how="semi")
        anywhere = (
            self.consumption.select("ean")
            .unique()
            .join(placed, on="ean", how="anti")
            .with_columns(region=pl.lit(ANYWHERE))
        )
        return pl.concat([regions, anywhere])

    @cached_property
    def object_sectors(self) -> frozenset[str]:
        """The sectors a BAG object gives the volume linked to it: gebruiksdoelen, ligplaats, standplaats."""
        return frozenset(self._object_sectors["sector"].to_list())

    @cached_property
    def _object_sectors(self) -> pl.DataFrame:
        sector = (
            pl.when(pl.col("object_type") == "verblijfsobject")
            .then(pl.col("gebruiksdoel").str.split(";"))
            .otherwise(pl.concat_list(pl.col("object_type")))
        )
        return (
            self.bag.select("object_id", sector=sector)
            .explode("sector")
            .with_columns(pl.col("sector").str.strip_chars())
            .drop_nulls()
            .unique()
        )

    @cached_property
    def residue_classes(self) -> frozenset[str]:
        return frozenset() if self.residue is None else frozenset(self.residue["residue_class"].unique().to_list())

    @cached_property
    def _connection_sectors(self) -> pl.DataFrame:
        """(ean, sector) a connection's volume goes to: the sectors of its linked objects, its
        residue class; `ANY_SECTOR` for an `unresolved` one (the loose threshold may link it to
        any object), one whose object the BAG does not describe, any other, and every one when
        no links are at hand."""
        eans = self.consumption.select("ean").unique()
        if self.links is None:
            return eans.with_columns(sector=pl.lit(ANY_SECTOR))
        known = self.links.select("ean", "object_id").join(self._object_sectors, on="object_id", how="left")
        vague = known.filter(pl.col("sector").is_null()).select("ean").unique()
        sectors = known.drop_nulls("sector").join(vague, on="ean", how="anti").select("ean", "sector").unique()
        if self.residue is not None:
            classes = self.residue.filter(~pl.col("residue_class").is_in(list(OPEN_SECTORS))).select(
                "ean", sector="residue_class"
            )
            sectors = pl.concat([sectors, classes])
        return pl.concat(
            [
                sectors,
                eans.join(sectors.select("ean").unique(), on="ean", how="anti").with_columns(sector=pl.lit(ANY_SECTOR)),
            ]
        )

    @cached_property
    def _volumes(self) -> dict[tuple[str, str, str], np.ndarray]:
        """Per (product, region, sector): the sorted absolute annual volumes of the connections
        there; region `all` and sector `ALL_SECTORS` hold every connection."""
        volumes = self.consumption.select("ean", "product", volume=pl.col("volume").abs())
        regions = pl.concat([self._connection_regions, volumes.select("ean", region=pl.lit(ALL_REGIONS[0]))]).unique()
        sectors = pl.concat([self._connection_sectors, volumes.select("ean", sector=pl.lit(ALL_SECTORS))]).unique()
        table = (
            volumes.join(regions, on="ean")
            .join(sectors, on="ean")
            .group_by("product", "region", "sector")
            .agg("volume")
        )
        return {(p, r, sector): np.sort(np.asarray(v, dtype=float)) for p, r, sector, v in table.iter_rows()}

    def volumes(self, product: str | None, regions: tuple[str, ...], sector: str | None) -> np.ndarray:
        """The consumption of the connections of `product` (None: any) in any of `regions`
        whose volume can reach `sector` (None: any sector)."""
        products = [product] if product else sorted({key[0] for key in self._volumes})
        places = ALL_REGIONS if ALL_REGIONS[0] in regions else (*regions, ANYWHERE)
        kinds = (ALL_SECTORS,) if sector is None else (sector, ANY_SECTOR)
        found = [self._volumes[key] for key in itertools.product(products, places, kinds) if key in self._volumes]
        return np.sort(np.concatenate(found)) if found else np.array([])

    def sector_of(self, value: object) -> str | None:
        """The sector a record's `value` restricts its figures to (only with links at hand): an
        object's sector or a residue class, `ANY_SECTOR` for another named sector (such as
        consumption outside the register), or None: all sectors (`totaal`; `unresolved`, where
        the strict threshold sends linked connections; or no sector named)."""
        if self.links is None or not isinstance(value, str) or value in OPEN_SECTORS:
            return None
        return value if value in self.object_sectors | self.residue_classes else ANY_SECTOR


def _postcode(postcode: pl.Expr | pl.Series) -> pl.Expr | pl.Series:
    """`1234AB` from any case and spacing; null where it is no postcode."""
    clean = postcode.cast(pl.String).str.replace_all(r"\s", "").str.to_uppercase()
    return clean.str.extract(r"^([1-9][0-9]{3}[A-Z]{2})$")


def _equals_a_volume(volumes: np.ndarray, value: float, tolerance: float) -> bool:
    value = abs(value)
    if value <= tolerance or volumes.size == 0:
        return False
    i = int(np.searchsorted(volumes, value - tolerance))
    return i < volumes.size and volumes[i] <= value + tolerance


def _text_findings(where: str, text: str, inputs: ScanInputs) -> list[str]:
    """Identifiers and addresses in `text`."""
    found = [f"{where}: identifier {m.group()}" for m in _ID.finditer(text) if m.group() in inputs.identifiers]
    found += [
        f"{where}: address {m.group()}"
        for m in _POSTCODE_NUMBER.finditer(text)
        if (f"{m.group(1)}{m.group(2).upper()}", int(m.group(3))) in inputs.postcode_numbers
    ]
    found += [
        f"{where}: address {m.group()}"
        for m in inputs.street_pattern.finditer(text)
        if (m.group(1).lower(), int(m.group(2))) in inputs.street_numbers
    ]
    return found


def _regions_in_text(text: str, inputs: ScanInputs) -> tuple[str, ...]:
    """The regions a text record names: 4-digit region codes of the BAG and woonplaats codes."""
    codes = {m.group(1) for m in _CODE.finditer(text) if m.group(1) in inputs.region_codes}
    regions = {f"{kind}:{code}" for code in codes for kind in ("pc4", "gemeente")}
    regions |= {f"gemeente:{m.group(1)}" for m in _WOONPLAATS_CODE.finditer(text)}
    return tuple(sorted(regions)) or ALL_REGIONS


def _record_figures(where: str, text: str, inputs: ScanInputs) -> list[str]:
    """Figures (numbers with a unit) of one text record, and differences of two with one unit,
    that equal one connection's consumption at their printed precision."""
    regions = _regions_in_text(text, inputs)
    named = {sector for sector in inputs.object_sectors if re.search(rf"(?<!\w){re.escape(sector)}(?!\w)", text)}
    sector = inputs.sector_of(named.pop()) if len(named) == 1 else None
    figures = []
    for m in _FIGURE.finditer(text):
        decimals = m.group(2) or ""
        value = float(m.group(1).replace(",", "") + (f".{decimals}" if decimals else ""))
        figures.append((m.group(), value, 0.5 * 10.0 ** -len(decimals), inputs.products_of_units.get(m.group(3))))
    found = [
        f"{where}: {shown} equals one connection's consumption"
        for shown, value, tolerance, product in figures
        if _equals_a_volume(inputs.volumes(product, regions, sector), value, tolerance)
    ]
    found += [
        f"{where}: {a_shown} and {b_shown} differ by one connection's consumption"
        for (a_shown, a, a_tol, product), (b_shown, b, b_tol, other) in itertools.combinations(figures, 2)
        if product == other and _equals_a_volume(inputs.volumes(product, regions, sector), a - b, a_tol + b_tol)
    ]
    return found


class _Records(HTMLParser):
    """An HTML page as records: a table row, or a block between other tags; and each attribute
    value and comment, where an identifier could hide too (not scanned for figures)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.records: list[str] = []
        self.hidden: list[str] = []
        self._current: list[str] = []

    def _flush(self) -> None:
        text = " ".join(part.strip() for part in self._current if part.strip())
        if text:
            self.records.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += [value for _, value in attrs if value]
        if tag not in _INLINE:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag not in _INLINE:
            self._flush()

    def handle_data(self, data: str) -> None:
        self._current.append(data)

    def handle_comment(self, data: str) -> None:
        self.hidden.append(data)


def _scan_text(name: str, text: str, inputs: ScanInputs, html: bool) -> list[str]:
    if html:
        parser = _Records()
        parser.feed(text)
        parser.close()
        records, hidden = parser.records, parser.hidden
    else:
        records, hidden = text.splitlines(), []
    found = [
        finding
        for i, value in enumerate(hidden, 1)
        for finding in _text_findings(f"{name} attribute {i}", value, inputs)
    ]
    for i, record in enumerate(records, 1):
        where = f"{name} record {i}"
        found += _text_findings(where, record, inputs) + _record_figures(where, record, inputs)
    return found


def _row_regions(row: dict[str, object], inputs: ScanInputs) -> tuple[str, ...]:
    """The regions a Parquet row is about, from its `region_level` and `region_code`."""
    code, level = row.get("region_code"), row.get("region_level")
    if not isinstance(code, str):
        return ALL_REGIONS
    if match := _WOONPLAATS_CODE.search(code):
        code, level = match.group(1), "gemeente"
    if (code == UNKNOWN and inputs.links is None) or not re.fullmatch(rf"\d{{4}}|{UNKNOWN}", code):
        return ALL_REGIONS
    kinds = {"gemeente": ("gemeente",), "postcode4": ("pc4",)}.get(str(level), ("gemeente", "pc4"))
    return tuple(f"{kind}:{code}" for kind in kinds)


def _row_product(row: dict[str, object], inputs: ScanInputs) -> str | None:
    products = set(inputs.products_of_units.values())
    for value in row.values():
        if value in products:
            return str(value)
        if isinstance(value, str) and value in inputs.products_of_units:
            return inputs.products_of_units[value]
    return None


def _scan_parquet(name: str, frame: pl.DataFrame, inputs: ScanInputs) -> list[str]:
    found = []
    floats = [c for c, dtype in frame.schema.items() if dtype.is_float()]
    integers = [c for c, dtype in frame.schema.items() if dtype.is_integer()]
    for i, row in enumerate(frame.iter_rows(named=True), 1):
        where = f"{name} row {i}"
        text = " ".join("" if value is None else str(value) for value in row.values())
        padded = " ".join(str(row[c]).zfill(16) for c in integers if row[c] is not None)
        found += _text_findings(where, f"{text} {padded}", inputs)
        volumes = inputs.volumes(
            _row_product(row, inputs), _row_regions(row, inputs), inputs.sector_of(row.get("sector"))
        )
        values = [(c, row[c]) for c in floats if row[c] is not None]
        found += [
            f"{where}: {c} = {v!r} equals one connection's consumption"
            for c, v in values
            if _equals_a_volume(volumes, v, _PARQUET_TOLERANCE * max(1.0, abs(v)))
        ]
        found += [
            f"{where}: {a} - {b} = {va - vb!r} equals one connection's consumption"
            for (a, va), (b, vb) in itertools.combinations(values, 2)
            if _equals_a_volume(volumes, va - vb, _PARQUET_TOLERANCE * max(1.0, abs(va), abs(vb)))
        ]
    return found


def scan_public(folder: Path, inputs: ScanInputs) -> list[str]:
    """Every finding in every file under `folder` (empty: nothing leaks)."""
    found: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        if path.suffix == ".parquet":
            found += _scan_parquet(name, pl.read_parquet(path), inputs)
        else:
            found += _scan_text(
                name, path.read_text(encoding="utf-8", errors="replace"), inputs, html=path.suffix in (".html", ".htm")
            )
    return found
