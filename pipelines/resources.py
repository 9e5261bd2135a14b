"""Resources: where a run reads its deliveries and writes its outputs, and the DuckDB warehouse."""

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pyarrow as pa
from pydantic import Field

from core.config import (
    DEFAULT_OUT_DIR,
    SAMPLE_DIR,
    SETTING_SECTIONS,
    RunConfig,
    Setting,
    all_settings,
    default_data_dir,
)
from core.run_folder import RunFolder

# Rows per Arrow batch the warehouse writes (DuckDB's row group) and reads (a few hundred MB at most).
WRITE_BATCH_ROWS = 122_880
READ_BATCH_ROWS = 1_000_000

_SETTINGS: dict[str, Setting] = {f"{s.section}_{s.name}": s for s in all_settings()}


def _tunable(field_name: str) -> Any:
    """The launchpad field of setting `section.name` (named `section_name`): its default and
    documentation come from `core.config`, so no number is written twice."""
    setting = _SETTINGS[field_name]
    return Field(default=setting.default, description=f"{setting.key}: {setting.doc}")


class KoppelwerkSettings(dg.ConfigurableResource):
    """Delivery paths, output folder, data folder, spill folder, year and use profile of a run
    (defaults: the sample; the data folder defaults to `core.config.default_data_dir()` at run
    time, the spill folder to its `spill/`), and every
    tuning setting of `core.config.SETTING_SECTIONS` as a field `section_name` (`koppelwerk
    settings` lists them)."""

    bag: str = str(SAMPLE_DIR / "bag.parquet")
    connections: str = str(SAMPLE_DIR / "connections.csv")
    consumption: str = str(SAMPLE_DIR / "consumption.parquet")
    out_dir: str = str(DEFAULT_OUT_DIR)
    data_dir: str | None = None
    spill_dir: str | None = None
    year: int | None = None
    profile: str = "statistical"

    # core.config.LinkageSettings
    linkage_m_floor: float = _tunable("linkage_m_floor")
    linkage_u_sample_pairs: int = _tunable("linkage_u_sample_pairs")
    linkage_u_sample_records: int = _tunable("linkage_u_sample_records")
    linkage_m_sample_connections: int = _tunable("linkage_m_sample_connections")
    linkage_seed: int = _tunable("linkage_seed")
    linkage_threads: int = _tunable("linkage_threads")
    linkage_registered_bag_id_probability: float = _tunable("linkage_registered_bag_id_probability")
    linkage_exact_address_probability: float = _tunable("linkage_exact_address_probability")
    linkage_street_prefix_min_length: int = _tunable("linkage_street_prefix_min_length")
    linkage_street_similarity_min: float = _tunable("linkage_street_similarity_min")
    linkage_description_typo_min_length: int = _tunable("linkage_description_typo_min_length")
    linkage_capacity_min_share: float = _tunable("linkage_capacity_min_share")
    linkage_capacity_min_support: int = _tunable("linkage_capacity_min_support")
    linkage_woonplaats_min_support: int = _tunable("linkage_woonplaats_min_support")
    linkage_woonplaats_min_share: float = _tunable("linkage_woonplaats_min_share")
    linkage_collective_min_dwellings: int = _tunable("linkage_collective_min_dwellings")
    linkage_collective_min_meter: int = _tunable("linkage_collective_min_meter")
    linkage_partition_max_objects: int = _tunable("linkage_partition_max_objects")
    # core.config.DisclosureRules
    disclosure_min_connections: int = _tunable("disclosure_min_connections")
    disclosure_min_dwellings: int = _tunable("disclosure_min_dwellings")
    disclosure_dominance_share: float = _tunable("disclosure_dominance_share")
    # core.config.UncertaintyThresholds
    uncertainty_strict: float = _tunable("uncertainty_strict")
    uncertainty_loose: float = _tunable("uncertainty_loose")
    # core.config.EngineSettings
    engine_duckdb_memory_gb: float = _tunable("engine_duckdb_memory_gb")
    engine_duckdb_threads: int = _tunable("engine_duckdb_threads")
    engine_linkage_backend: str = _tunable("engine_linkage_backend")
    engine_isolate_steps_from_mb: float = _tunable("engine_isolate_steps_from_mb")

    @classmethod
    def from_config(cls, config: RunConfig) -> "KoppelwerkSettings":
        return cls(
            bag=str(config.bag),
            connections=str(config.connections),
            consumption=str(config.consumption),
            out_dir=str(config.out_dir),
            data_dir=str(config.data_dir),
            spill_dir=str(config.spill_dir) if config.spill_dir else None,
            year=config.year,
            profile=config.profile,
            **{name: getattr(getattr(config, s.section), s.name) for name, s in _SETTINGS.items()},
        )

    def run_config(self) -> RunConfig:
        sections = {
            section: cls(**{s.name: getattr(self, name) for name, s in _SETTINGS.items() if s.section == section})
            for section, cls in SETTING_SECTIONS.items()
        }
        return RunConfig(
            bag=Path(self.bag).resolve(),
            connections=Path(self.connections).resolve(),
            consumption=Path(self.consumption).resolve(),
            out_dir=Path(self.out_dir).resolve(),
            data_dir=Path(self.data_dir).resolve() if self.data_dir else default_data_dir(),
            spill_dir=Path(self.spill_dir).resolve() if self.spill_dir else None,
            year=self.year,
            profile=self.profile,  # type: ignore[arg-type]
            **sections,
        )

    def run_folder(self, context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> RunFolder:
        """The staging folder of the running run, created on first use."""
        folder = self.run_config().run_folder(context.run.run_id)
        folder.open()
        return folder


def columns(*names: str) -> dict[str, list[str]]:
    """The metadata of an `AssetIn` that reads only `names` of its table (`WarehouseIOManager`)."""
    return {"columns": list(names)}


def all_but(*names: str) -> dict[str, list[str]]:
    """The metadata of an `AssetIn` that reads every column of its table but `names`."""
    return {"exclude": list(names)}


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores every asset's polars frame as a table of the same name in the run's DuckDB file.

    A run writes its own staging warehouse, which replaces the output folder's warehouse when
    the run is promoted (`core.run_folder`); an input this run did not produce (a partial
    materialisation from the UI) is read from the last good run's warehouse. Analysts can open
    the one `.duckdb` file in the data folder after a run to query every stage.
    """

    settings: dg.ResourceDependency[KoppelwerkSettings]

    def _folder(self, run_id: str) -> RunFolder:
        return self.settings.run_config().run_folder(run_id)

    def _connect(self, path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection under the run's memory limit, threads and spill folder."""
        return duckdb.connect(str(path), read_only=read_only, config=self.settings.run_config().duckdb_config())

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | None) -> None:
        if obj is None:
            return
        table = context.asset_key.path[-1]
        path = self._folder(context.run_id).staging_warehouse
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect(path) as con:
            con.register("frame", _batches(obj))
            con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM frame')
        context.add_output_metadata({"rows": obj.height, "table": table})
        _release(context)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        """The asset's table, or only the columns the input asks for (`dg.AssetIn(...,
        metadata={"columns": [...]})`, the convention of Dagster's database IO managers, or
        `{"exclude": [...]}` for all but those): a consumer that reads four columns of the
        national register does not hold its twenty."""
        table = context.asset_key.path[-1]
        metadata = context.definition_metadata or {}
        projection = "*"
        if metadata.get("columns"):
            projection = ", ".join(f'"{c}"' for c in metadata["columns"])
        elif metadata.get("exclude"):
            projection = "* EXCLUDE (" + ", ".join(f'"{c}"' for c in metadata["exclude"]) + ")"
        folder = self._folder(context.step_context.run_id)
        for path in (folder.staging_warehouse, folder.warehouse):
            if path.exists():
                with self._connect(path, read_only=True) as con:
                    # strings as Arrow string views, the layout polars holds them in: taken over
                    # as they are, not copied beside DuckDB's buffers
                    con.execute("SET produce_arrow_string_view = true; SET arrow_output_version = '1.5'")
                    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()
                    if found and found[0]:
                        # as a stream of Arrow batches: `.pl()` held the whole result twice
                        query = con.sql(f'SELECT {projection} FROM "{table}"')
                        return pl.from_arrow(query.to_arrow_reader(READ_BATCH_ROWS).read_all())  # type: ignore[return-value]
        raise dg.DagsterInvariantViolationError(
            f"table {table!r} is in neither this run's warehouse nor the last good run's ({folder.warehouse})"
        )


def _batches(frame: pl.DataFrame) -> pa.RecordBatchReader:
    """`frame` as a stream DuckDB pulls one row group at a time. A whole national frame handed
    over at once was held twice over; inserted in slices of 500,000 rows it took twice as long
    (27 s of the million-object run's 130 s) as one statement over this stream."""
    schema = frame.head(0).to_arrow().schema
    batches = (batch for part in frame.iter_slices(WRITE_BATCH_ROWS) for batch in part.to_arrow().to_batches())
    return pa.RecordBatchReader.from_batches(schema, batches)


def _release(context: dg.OutputContext) -> None:
    """Let go of the frame just stored. `execute_in_process` (the CLI's run) keeps every step's
    output in memory until the run ends, for `output_for_node`; the warehouse holds them, and
    nothing reads them back from the result. Kept, they added up to 5-6 GB at a million objects
    after linking. A run the UI launches keeps none (no capture): then this does nothing."""
    capture = context.step_context.output_capture
    if capture is not None:
        for handle in [h for h in capture if h.step_key == context.step_key and h.output_name == context.name]:
            del capture[handle]
