"""Resources: where a run reads its deliveries and writes its outputs, and the DuckDB warehouse."""


from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from koppelwerk.config import RunConfig


class KoppelwerkSettings(dg.ConfigurableResource):
    """Delivery paths, output folder, year and use profile of a run (defaults: the sample)."""

    bag: str = str(RunConfig.bag)
    connections: str = str(RunConfig.connections)
    consumption: str = str(RunConfig.consumption)
    out_dir: str = str(RunConfig.out_dir)
    year: int | None = None
    profile: str = RunConfig.profile

    @classmethod
    def from_config(cls, config: RunConfig) -> "KoppelwerkSettings":
        return cls(
            bag=str(config.bag),
            connections=str(config.connections),
            consumption=str(config.consumption),
            out_dir=str(config.out_dir),
            year=config.year,
            profile=config.profile,
        )

    def run_config(self) -> RunConfig:
        return RunConfig(
            bag=Path(self.bag),
            connections=Path(self.connections),
            consumption=Path(self.consumption),
            out_dir=Path(self.out_dir),
            year=self.year,
            profile=self.profile,  # type: ignore[arg-type]
        )


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores every asset's polars frame as a table of the same name in the run's DuckDB file.

    Downstream assets read the tables back, and analysts can open the one `.duckdb` file after
    the run to query every stage.
    """

    settings: dg.ResourceDependency[KoppelwerkSettings]

    def _connect(self) -> duckdb.DuckDBPyConnection:
        path = self.settings.run_config().warehouse
        path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(path))

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | None) -> None:
        if obj is None:
            return
        table = context.asset_key.path[-1]
        with self._connect() as con:
            con.register("frame", obj.to_arrow())
            con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM frame')
        context.add_output_metadata({"rows": obj.height, "table": table})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        table = context.asset_key.path[-1]
        with self._connect() as con:
            return con.sql(f'SELECT * FROM "{table}"').pl()
