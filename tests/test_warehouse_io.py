"""The warehouse IO manager: a frame it has stored is not held in memory for the rest of the run.

`execute_in_process`, which `koppelwerk run` uses, keeps every step's output until the run ends;
at a million objects that was 5-6 GB carried from stage to stage. Run here as the CLI runs: a
frame made by one asset must be gone (garbage) by the time a later asset runs."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from core.config import RunConfig
from pipelines.resources import KoppelwerkSettings, WarehouseIOManager, all_but, columns


def _run(tmp_path: Path) -> tuple[dg.ExecuteInProcessResult, dict[str, bool]]:
    made: list[weakref.ref[pl.DataFrame]] = []
    seen: dict[str, bool] = {}

    @dg.asset
    def upstream() -> pl.DataFrame:
        frame = pl.DataFrame({"ean": [f"8716{i:014d}" for i in range(1000)]})
        made.append(weakref.ref(frame))
        return frame

    @dg.asset
    def downstream(upstream: pl.DataFrame) -> pl.DataFrame:
        return upstream.head(3)

    @dg.asset(deps=[downstream])
    def later() -> pl.DataFrame:
        gc.collect()
        seen["upstream alive"] = made[0]() is not None
        return pl.DataFrame({"n": [1]})

    settings = KoppelwerkSettings.from_config(RunConfig(out_dir=tmp_path / "out", data_dir=tmp_path / "data"))
    definitions = dg.Definitions(
        assets=[upstream, downstream, later],
        resources={"settings": settings, "io_manager": WarehouseIOManager(settings=settings)},
    )
    result = dg.materialize([upstream, downstream, later], resources=definitions.resources)
    return result, seen


def test_a_stored_frame_is_not_kept_for_the_rest_of_the_run(tmp_path: Path) -> None:
    result, seen = _run(tmp_path)
    assert result.success
    assert seen == {"upstream alive": False}
    # what later steps read comes from the warehouse
    warehouse = next((tmp_path / "data").rglob("*.duckdb"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM downstream").fetchone() == (3,)


def test_an_input_that_names_its_columns_reads_only_those(tmp_path: Path) -> None:
    seen: dict[str, list[str]] = {}

    @dg.asset
    def register() -> pl.DataFrame:
        return pl.DataFrame({"ean": ["871600000000000001"], "bag_id": ["0363010000000001"], "straat": ["Dam"]})

    @dg.asset(ins={"register": dg.AssetIn("register", metadata=columns("bag_id", "ean"))})
    def reader(register: pl.DataFrame) -> pl.DataFrame:
        seen["columns"] = register.columns
        return register

    @dg.asset(ins={"register": dg.AssetIn("register", metadata=all_but("straat"))})
    def other_reader(register: pl.DataFrame) -> pl.DataFrame:
        seen["all but"] = register.columns
        return register

    settings = KoppelwerkSettings.from_config(RunConfig(out_dir=tmp_path / "out", data_dir=tmp_path / "data"))
    result = dg.materialize(
        [register, reader, other_reader],
        resources={"settings": settings, "io_manager": WarehouseIOManager(settings=settings)},
    )
    assert result.success
    assert seen == {"columns": ["bag_id", "ean"], "all but": ["ean", "bag_id"]}


def test_a_frame_larger_than_a_slice_comes_back_whole_in_order(tmp_path: Path, monkeypatch) -> None:
    """Frames are written and read back as streams of batches (the national registers do not fit
    twice in memory): rows, order, types and an empty frame survive both."""
    monkeypatch.setattr("pipelines.resources.WRITE_BATCH_ROWS", 7)
    monkeypatch.setattr("pipelines.resources.READ_BATCH_ROWS", 5)
    stored = pl.DataFrame(
        {
            "ean": [f"8716{i:014d}" for i in range(100, 0, -1)],
            "share": [i / 3 for i in range(100)],
            "huisnummer": pl.Series(range(100), dtype=pl.Int32),
            "linked": [i % 3 == 0 for i in range(100)],
            "note": [None if i % 4 else "x" for i in range(100)],
        }
    )
    seen: dict[str, pl.DataFrame] = {}

    @dg.asset
    def register() -> pl.DataFrame:
        return stored

    @dg.asset
    def nothing() -> pl.DataFrame:
        return stored.head(0)

    @dg.asset
    def reader(register: pl.DataFrame, nothing: pl.DataFrame) -> pl.DataFrame:
        seen["register"], seen["nothing"] = register, nothing
        return register.head(1)

    settings = KoppelwerkSettings.from_config(RunConfig(out_dir=tmp_path / "out", data_dir=tmp_path / "data"))
    result = dg.materialize(
        [register, nothing, reader],
        resources={"settings": settings, "io_manager": WarehouseIOManager(settings=settings)},
    )
    assert result.success
    assert seen["register"].equals(stored)
    assert seen["register"].schema == stored.schema
    assert seen["nothing"].height == 0
    assert seen["nothing"].schema == stored.schema
