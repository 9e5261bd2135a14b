"""Allocation conserves volume and splits it as the spec says; small cells are suppressed."""

import polars as pl
import pytest

from core.config import DisclosureRules
from linkage.normalise import normalise_bag, normalise_connections
from publication.allocation import allocate
from publication.cells import aggregate_cells
from publication.statistics import sector_statistics

BAG = normalise_bag(
    pl.DataFrame(
        {
            "object_id": ["0999010000000001", "0999010000000002", "0999020000000001"],
            "object_type": ["verblijfsobject", "verblijfsobject", "ligplaats"],
            "nummeraanduiding_id": ["0999200000000001", "0999200000000002", "0999200000000003"],
            "hoofdadres": [True, True, True],
            "openbare_ruimte_naam": ["Dorpsstraat", "Dorpsstraat", "Kade"],
            "huisnummer": [1, 3, 5],
            "huisletter": [None, None, None],
            "huisnummertoevoeging": [None, None, None],
            "postcode": ["1234AB", "1234AB", "1234AC"],
            "woonplaats_naam": ["Ons Dorp"] * 3,
            "gemeente_code": ["0999"] * 3,
            "gebruiksdoel": ["woonfunctie", "winkelfunctie;woonfunctie", None],
            "oppervlakte": [80, 120, None],
            "status": ["Verblijfsobject in gebruik"] * 2 + ["Plaats aangewezen"],
            "pand_id": ["0999100000000001"] * 2 + [None],
            "x": [1.0, 2.0, 3.0],
            "y": [1.0, 2.0, 3.0],
        },
        schema_overrides={
            "huisnummer": pl.Int32,
            "oppervlakte": pl.Int32,
            "huisletter": pl.String,
            "huisnummertoevoeging": pl.String,
        },
    )
)
CONNECTIONS = normalise_connections(
    pl.DataFrame(
        {
            "ean": ["871000000000000011", "871000000000000012", "871000000000000013", "871000000000000014"],
            "netbeheerder": ["Netbeheer Noord"] * 4,
            "postcode": ["1234AB", "1234AB", "1234 ab", None],
            "huisnummer": [1, 3, 12, None],
            "huisnummertoevoeging": [None] * 4,
            "straatnaam": ["Dorpsstraat"] * 3 + [None],
            "woonplaats": ["Ons Dorp"] * 3 + [None],
            "bag_id": [None] * 4,
            "fysieke_status": ["IBD"] * 4,
            "aansluitcapaciteit": ["3x25A", "3x25A", "1x35A", "1x6A"],
        },
        schema_overrides={"huisnummer": pl.Int32, "bag_id": pl.String, "huisnummertoevoeging": pl.String},
    )
)
LINKS = pl.DataFrame(
    {
        "ean": ["871000000000000011", "871000000000000012", "871000000000000012"],
        "object_id": ["0999010000000001", "0999010000000002", "0999020000000001"],
        "allocation_share": [1.0, 0.75, 0.25],
        "method": ["exact_address", "collective", "collective"],
    }
)
RESIDUE = pl.DataFrame({"ean": ["871000000000000013"], "residue_class": ["public_lighting"]})
CONSUMPTION = pl.DataFrame(
    {
        "ean": ["871000000000000011", "871000000000000012", "871000000000000013", "871000000000000014"],
        "year": [2025] * 4,
        "product": ["ELK"] * 4,
        "volume": [1000.0, 800.0, 50.0, 7.0],
        "unit": ["kWh"] * 4,
    },
    schema_overrides={"year": pl.Int32},
)


def test_allocation_follows_shares_and_gebruiksdoelen_and_keeps_every_kwh() -> None:
    allocated = allocate(CONSUMPTION, LINKS, RESIDUE, CONNECTIONS, BAG)
    by_sector = dict(allocated.group_by("sector").agg(pl.col("volume").sum()).rows())
    # 1000 to a dwelling; 800 * 0.75 split over winkel + woon; 800 * 0.25 to the ligplaats.
    assert by_sector["woonfunctie"] == pytest.approx(1000 + 300)
    assert by_sector["winkelfunctie"] == pytest.approx(300)
    assert by_sector["ligplaats"] == pytest.approx(200)
    assert by_sector["public_lighting"] == pytest.approx(50)
    # the connection in neither links nor residue (quarantined upstream) still counts
    assert by_sector["not_in_register"] == pytest.approx(7)
    assert allocated["volume"].sum() == pytest.approx(CONSUMPTION["volume"].sum())
    # street furniture gets the gemeente, woonplaats and postcode4 of its PC4
    lighting = allocated.filter(pl.col("sector") == "public_lighting")
    assert lighting.select("gemeente_code", "woonplaats", "postcode4").rows() == [("0999", "Ons Dorp (0999)", "1234")]
    assert allocated.filter(pl.col("sector") == "ligplaats")["postcode4"].to_list() == ["1234"]


def test_cells_below_thresholds_carry_no_volume() -> None:
    cells = aggregate_cells(allocate(CONSUMPTION, LINKS, RESIDUE, CONNECTIONS, BAG))
    strict = sector_statistics(cells, DisclosureRules())
    assert strict["suppressed"].all()
    assert strict["volume"].null_count() == strict.height
    lenient = sector_statistics(cells, DisclosureRules(min_connections=1, min_dwellings=1, dominance_share=1.0))
    assert not lenient["suppressed"].any()
    national = lenient.filter((pl.col("region_level") == "nationaal") & (pl.col("sector") == "totaal"))
    assert national["volume"].item() == pytest.approx(CONSUMPTION["volume"].sum())
    assert set(lenient["region_level"]) == {"nationaal", "gemeente", "woonplaats", "postcode4"}
    # every level holds every kWh once
    totals = lenient.filter(pl.col("sector") == "totaal").group_by("region_level").agg(pl.col("volume").sum())
    assert totals["volume"].to_list() == pytest.approx([CONSUMPTION["volume"].sum()] * 4)
