"""Bad and odd deliveries through the whole `koppelwerk run`: refused with one line and no
traceback, or run to the end with every connection linked, in the residue or in quarantine.
(The matrix of what ingestion alone refuses or quarantines is tests/test_bad_input.py.)"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import polars as pl
import pytest

import synth
from koppelwerk.cli import main

WEESP = "weesp-0457-2021/BAGGEM0457L-15102021.zip"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small_delivery")
    synth.write(synth.generate(300, seed=909), out)
    return out


def _run(
    bag: Path, connections: Path, consumption: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    code = main(
        [
            "run",
            "--bag",
            str(bag),
            "--connections",
            str(connections),
            "--consumption",
            str(consumption),
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _refused(code: int, err: str, *words: str) -> None:
    last = err.strip().splitlines()[-1]
    assert code != 0 and last.startswith("koppelwerk: error: ")
    for word in words:
        assert word in last, last


def _accounted_for(connections: pl.DataFrame, out: Path) -> None:
    """Every connection row is linked, in the residue or quarantined, and only once."""
    links, residue = pl.read_parquet(out / "links.parquet"), pl.read_parquet(out / "residue.parquet")
    quarantine = pl.read_parquet(out / "quarantine.parquet").filter(pl.col("source") == "connections")
    linked, unlinked = set(links["ean"]), set(residue["ean"])
    assert not linked & unlinked
    assert len(linked) + len(unlinked) + quarantine["row_number"].n_unique() == connections.height
    shares = links.group_by("ean").agg(pl.col("allocation_share").sum())["allocation_share"]
    assert shares.is_empty() or (shares - 1.0).abs().max() < 1e-9


def test_connections_without_any_bag_candidate_run_to_the_end(
    small: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every address moved to a postcode, street and woonplaats no BAG object has, no bag_id."""
    connections = pl.read_parquet(small / "connections.parquet").with_columns(
        postcode=pl.lit("9999ZZ"),
        straatnaam=pl.lit("Nergensstraat"),
        woonplaats=pl.lit("Nergenshuizen"),
        bag_id=pl.lit(None, pl.String),
    )
    connections.write_parquet(path := tmp_path / "connections.parquet")
    code, err = _run(small / "bag.parquet", path, small / "consumption.parquet", out := tmp_path / "out", capsys)
    assert code == 0, err
    _accounted_for(connections, out)
    assert pl.read_parquet(out / "links.parquet").filter(pl.col("method") != "collective").height == 0
    assert (out / "public" / "sector_energy_statistics.parquet").exists()


def test_one_connection_and_one_object_run_to_the_end(
    small: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connections = pl.read_parquet(small / "connections.parquet")
    linked = pl.read_parquet(small / "truth" / "links.parquet").head(1)
    one = connections.join(linked.select("ean"), on="ean")
    bag = pl.read_parquet(small / "bag.parquet").join(linked.select("object_id"), on="object_id")
    consumption = pl.read_parquet(small / "consumption.parquet").join(linked.select("ean"), on="ean")
    for name, frame in (("connections", one), ("bag", bag), ("consumption", consumption)):
        frame.write_parquet(tmp_path / f"{name}.parquet")
    code, err = _run(
        tmp_path / "bag.parquet",
        tmp_path / "connections.parquet",
        tmp_path / "consumption.parquet",
        out := tmp_path / "out",
        capsys,
    )
    assert code == 0, err
    _accounted_for(one, out)
    statistics = pl.read_parquet(out / "public" / "sector_energy_statistics.parquet")
    assert statistics["suppressed"].all()  # one connection: nothing may be published


def test_an_infinite_volume_is_quarantined_and_never_published(
    small: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumption = pl.read_parquet(small / "consumption.parquet")
    text = consumption.with_columns(pl.col("volume").cast(pl.String)).with_columns(
        volume=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("1e309")).otherwise(pl.col("volume"))
    )
    text.write_csv(path := tmp_path / "consumption.csv", separator=";")
    code, err = _run(small / "bag.parquet", small / "connections.parquet", path, out := tmp_path / "out", capsys)
    assert code == 0, err
    quarantine = pl.read_parquet(out / "quarantine.parquet").filter(pl.col("source") == "consumption")
    assert quarantine.filter(pl.col("row_number") == 1)["rule"].to_list() == ["type_volume"]
    statistics = pl.read_parquet(out / "public" / "sector_energy_statistics.parquet")
    assert statistics["volume"].drop_nulls().is_finite().all()


def test_holders_named_alike_long_or_blank_each_get_their_own_report(
    small: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["Noordernet Netbeheer", "noordernet netbeheer ", "Noordernet\x00Netbeheer", "N" * 400, "../../etc", " "]
    connections = pl.read_parquet(small / "connections.parquet")
    connections = connections.with_columns(
        netbeheerder=pl.Series([names[i % len(names)] for i in range(connections.height)])
    )
    connections.write_parquet(path := tmp_path / "connections.parquet")
    code, err = _run(small / "bag.parquet", path, small / "consumption.parquet", out := tmp_path / "out", capsys)
    assert code == 0, err
    index = json.loads((out / "reports" / "index.json").read_text())["reports"]
    operators = [row for row in index if row["holder_type"] == "netbeheerder"]
    # ingestion trims the spaces around a value; case, NULs and length stay as sent
    assert sorted(row["holder"] for row in operators if row["holder"] is not None) == sorted(
        n.strip() for n in names[:-1]
    )
    assert any(row["holder"] is None for row in operators)  # the blank one: the operator's report
    files = [out / "reports" / row["json"] for row in operators]
    assert len(set(files)) == len(operators)
    for row, file in zip(operators, files, strict=False):
        assert file.resolve().is_relative_to((out / "reports").resolve())
        assert json.loads(file.read_text())["holder"] == row["holder"]
    assert not (tmp_path / "etc").exists()


def test_a_file_whose_decimal_mark_is_in_doubt_is_refused(
    small: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumption = (
        pl.read_parquet(small / "consumption.parquet").head(3).with_columns(volume=pl.Series(["2.731", "1,5", "3.120"]))
    )
    consumption.write_csv(path := tmp_path / "consumption.csv", separator=";")
    code, err = _run(small / "bag.parquet", small / "connections.parquet", path, out := tmp_path / "out", capsys)
    _refused(code, err, "consumption.csv", "volume")
    assert not out.exists() or not any(out.iterdir())


def test_a_cut_off_lvbag_extract_is_refused(
    small: Path, lvbag_dir: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cut at the end of its first member: the rest of the extract (its other chunk types) is gone."""
    extract = (lvbag_dir / WEESP).read_bytes()
    with zipfile.ZipFile(lvbag_dir / WEESP) as archive:
        first = archive.infolist()[0]
    end_of_first = first.header_offset + 30 + len(first.orig_filename.encode()) + len(first.extra) + first.compress_size
    (path := tmp_path / "BAGGEM0457L-15102021.zip").write_bytes(extract[:end_of_first])
    code, err = _run(path, small / "connections.parquet", small / "consumption.parquet", tmp_path / "out", capsys)
    _refused(code, err, path.name)
