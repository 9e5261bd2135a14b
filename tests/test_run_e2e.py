"""`koppelwerk run` end to end: a municipality the pipeline has never seen, bad rows injected,
and the promise that every input connection ends up linked, in the residue or in quarantine."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from dagster import DagsterInstance, DagsterRunStatus

import synth
from core.ean import with_check_digit
from data_contracts import load_contract
from koppelwerk.cli import main

OUTPUTS = {"links": "", "residue": "", "quarantine": "", "sector_energy_statistics": "public"}


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh municipality (other seed and noise than the bundled sample) as a grid operator's
    CSV export, with rows that must be quarantined appended."""
    out = tmp_path_factory.mktemp("delivery")
    noise = synth.NoiseConfig().with_overrides({"postcode_missing": 0.08})
    synth.write(synth.generate(3000, seed=424242, noise=noise), out, connections_format="csv")
    _inject_bad_rows(out / "connections.csv")
    return out


def _inject_bad_rows(path: Path) -> None:
    with path.open(encoding="cp1252", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header, first = rows[0], rows[1]
    column = {name.lower(): i for i, name in enumerate(header)}

    def variant(**changes: str) -> list[str]:
        row = list(first)
        for name, value in changes.items():
            row[column[name]] = value
        return row

    bad = [
        variant(ean=first[column["ean"]][:-1] + str((int(first[column["ean"]][-1]) + 1) % 10)),  # check digit
        variant(),  # duplicate EAN
        variant(ean="87100000000000000X"),  # not 18 digits
        variant(ean=with_check_digit("87100000000000001"), huisnummer="twaalf"),  # unparseable number
        variant(ean=with_check_digit("87100000000000002"), product="WATER"),  # unknown product
    ]
    with path.open("a", encoding="cp1252", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(bad)


def _run(delivery: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "run",
            "--bag",
            str(delivery / "bag.parquet"),
            "--connections",
            str(delivery / "connections.csv"),
            "--consumption",
            str(delivery / "consumption.parquet"),
            "--out",
            str(out),
            *extra,
        ]
    )


def test_run_accounts_for_every_connection(delivery: Path, tmp_path: Path, dagster_home: Path) -> None:
    out = tmp_path / "out"
    assert _run(delivery, out) == 0

    frames = {name: pl.read_parquet(out / folder / f"{name}.parquet") for name, folder in OUTPUTS.items()}
    for name, frame in frames.items():
        assert frame.columns == [column.name for column in load_contract(name).columns], name

    with (delivery / "connections.csv").open(encoding="cp1252") as handle:
        n_rows = sum(1 for _ in handle) - 1
    links, residue, quarantine = frames["links"], frames["residue"], frames["quarantine"]
    rejected = quarantine.filter(pl.col("source") == "connections")["row_number"].unique()
    linked, unlinked = set(links["ean"]), set(residue["ean"])
    assert not linked & unlinked
    assert len(linked) + len(unlinked) + rejected.len() == n_rows
    assert rejected.len() == 5
    shares = links.group_by("ean").agg(pl.col("allocation_share").sum())
    assert (shares["allocation_share"] - 1.0).abs().max() < 1e-9
    assert {"ean_check_digit", "ean_unique", "product_enum", "type_huisnummer"} <= set(quarantine["rule"])

    curve = pl.read_parquet(out / "linkage_curve.parquet")
    assert curve["link_rate"].to_list() == sorted(curve["link_rate"].to_list(), reverse=True)
    model = json.loads((out / "linkage_model.json").read_text())
    assert {c["output_column_name"] for c in model["comparisons"]} >= {"postcode_clean", "huisnummer", "suffix_key"}

    runs = DagsterInstance.from_config(str(dagster_home)).get_runs()
    assert [run.status for run in runs] == [DagsterRunStatus.SUCCESS]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run_id"] == runs[0].run_id
    assert not list(out.rglob("*.duckdb"))  # the warehouse is the operator's, outside the output folder
    with duckdb.connect(manifest["warehouse"], read_only=True) as con:
        tables = {row[0] for row in con.sql("SHOW TABLES").fetchall()}
        warehouse_residue = con.sql("SELECT sum(n_connections) FROM residue_summary").fetchone()[0]
    assert set(OUTPUTS) | {"residue_summary"} <= tables

    # the residue summary counts every residue connection once, and the reports show its share
    residue_summary = pl.read_parquet(out / "residue_summary.parquet")
    assert residue_summary["n_connections"].sum() == warehouse_residue == residue.height
    summary = json.loads((out / "run_summary.json").read_text())
    shares = {row["unit"]: row["share_of_total"] for row in summary["residue_share_of_total"]}
    # worked out from the delivery: the residue connections' share of the delivered electricity
    kwh = pl.read_parquet(delivery / "consumption.parquet").filter(pl.col("unit") == "kWh")
    in_residue = kwh.join(residue.select("ean"), on="ean", how="semi")["volume"].sum()
    assert in_residue > 0
    assert shares["kWh"] == pytest.approx(in_residue / kwh["volume"].sum(), abs=5e-6)  # the summary rounds
    assert "residue by netbeheerder" in (out / "run_summary.html").read_text()

    # the data engineers' Data Docs and one report per source holder, on its own records
    assert (out / "quality" / "data_docs" / "index.html").exists()
    netbeheerders = set(
        pl.read_csv(delivery / "connections.csv", separator=";", encoding="cp1252", infer_schema=False)["NETBEHEERDER"]
    )
    reports = {json.loads(p.read_text())["holder"] for p in (out / "reports" / "netbeheerder").glob("*.json")}
    assert reports == netbeheerders
    assert list((out / "reports" / "gemeente").glob("*.html"))

    # the analyst report; a second run of the same delivery keeps the first's figures and finds no change
    assert "This is the first run in this output folder" in (out / "public" / "analyst_report.html").read_text()
    assert _run(delivery, out) == 0
    assert (out / "previous" / "public" / "sector_energy_statistics.parquet").exists()
    assert json.loads((out / "previous" / "manifest.json").read_text())["run_id"] == manifest["run_id"]
    assert "no published figure changed" in (out / "public" / "analyst_report.html").read_text()


def test_missing_required_column_stops_with_one_line(
    delivery: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "consumption.csv"
    pl.read_parquet(delivery / "consumption.parquet").drop("volume").write_csv(broken, separator=";")
    code = main(
        [
            "run",
            "--bag",
            str(delivery / "bag.parquet"),
            "--connections",
            str(delivery / "connections.csv"),
            "--consumption",
            str(broken),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert code != 0
    assert "consumption.csv" in error and "volume" in error


def test_unknown_year_is_a_clear_error(
    delivery: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(delivery, tmp_path / "out", "--year", "1999") != 0
    assert "1999" in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--objects", "50"], "at least 100"),
        (["--objects", "500", "--set", "no_such_rate=0.1"], "no_such_rate"),
    ],
)
def test_synth_command_rejects_bad_settings_in_one_line(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["synth", "--out", str(tmp_path), *arguments]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and message in error[0]


def test_a_delivery_past_a_blocking_rules_tolerance_stops_before_linking(
    delivery: Path, tmp_path: Path, dagster_home: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """3 % of the EANs with a wrong check digit is more than the 1 % the contract tolerates."""
    connections = pl.read_csv(delivery / "connections.csv", separator=";", encoding="cp1252", infer_schema=False)
    broken = connections.with_columns(
        EAN=pl.when(pl.int_range(pl.len()) % 33 == 0)
        .then(
            pl.col("EAN").str.slice(0, 17) + ((pl.col("EAN").str.slice(17, 1).cast(pl.Int64) + 1) % 10).cast(pl.String)
        )
        .otherwise(pl.col("EAN"))
    )
    path = tmp_path / "connections.csv"
    broken.write_csv(path, separator=";")
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--bag",
            str(delivery / "bag.parquet"),
            "--connections",
            str(path),
            "--consumption",
            str(delivery / "consumption.parquet"),
            "--out",
            str(out),
        ]
    )
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert code != 0
    assert "connections_ean_check_digit" in error and "tolerates 1.00 %" in error
    assert not out.exists() or not any(out.iterdir())
    # the failed run's validation is kept in the operator's data folder, for diagnosis
    (validation_path,) = (data_dir / "failed").glob("*/quality/validation.json")
    validation = json.loads(validation_path.read_text())
    failed = {row["rule"] for row in validation if not row["passed"] and row["source"] == "connections"}
    assert "ean_check_digit" in failed


def test_a_delivery_whose_types_are_broken_stops_naming_the_type_rule(
    delivery: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An export that writes huisnummer as 'nr. 12' breaks the schema for every row: far past the
    1 % of parse failures the contract tolerates, so nothing is linked."""
    connections = pl.read_csv(delivery / "connections.csv", separator=";", encoding="cp1252", infer_schema=False)
    path = tmp_path / "connections.csv"
    connections.with_columns(HUISNUMMER="nr. " + pl.col("HUISNUMMER")).write_csv(path, separator=";")
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--bag",
            str(delivery / "bag.parquet"),
            "--connections",
            str(path),
            "--consumption",
            str(delivery / "consumption.parquet"),
            "--out",
            str(out),
        ]
    )
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert code != 0
    assert "connections_type_huisnummer" in error
    assert not (out / "links.parquet").exists()


def test_missed_reuse_demands_warn_and_the_run_goes_on(
    delivery: Path, tmp_path: Path, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without any registered bag_id the delivery misses a reuse demand; the statistics are not
    at risk, so the run completes and says so."""
    connections = pl.read_csv(delivery / "connections.csv", separator=";", encoding="cp1252", infer_schema=False)
    path = tmp_path / "connections.csv"
    connections.with_columns(BAG_ID=pl.lit(None, pl.String)).write_csv(path, separator=";")
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--bag",
            str(delivery / "bag.parquet"),
            "--connections",
            str(path),
            "--consumption",
            str(delivery / "consumption.parquet"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "warning: connections_bag_id_filled" in capsys.readouterr().err
    assert (out / "links.parquet").exists()
    for path in (out / "reports" / "netbeheerder").glob("*.json"):
        report = json.loads(path.read_text())
        filled = next(d for d in report["demands"] if d["rule"] == "bag_id_filled")
        assert filled["compliance"] == 0.0 and not filled["meets"] and not filled["blocking"]
        assert report["summary"]["missed"] >= 1 and report["summary"]["missed_blocking"] == 0


def test_an_unexpected_failure_is_one_line_and_its_traceback_goes_to_the_log(
    delivery: Path,
    tmp_path: Path,
    dagster_home: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bug in a stage (here: complexes) stops the run; the terminal gets one line naming the
    step and the log, the log gets the stack."""
    from pipelines.linkage import assets as linkage_assets

    def broken(links: pl.DataFrame) -> pl.DataFrame:
        raise RuntimeError("a planted bug")

    monkeypatch.setattr(linkage_assets, "build_complexes", broken)
    assert _run(delivery, tmp_path / "out") != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("koppelwerk: error: step 'complexes' failed: RuntimeError: a planted bug")
    (log,) = (data_dir / "logs").glob("*.log")
    assert str(log) in last
    assert 'raise RuntimeError("a planted bug")' in log.read_text()  # the stack of the failure
    assert not (tmp_path / "out" / "links.parquet").exists()
