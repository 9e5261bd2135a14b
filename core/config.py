"""Run configuration: the one place where paths, profiles and thresholds get their defaults.

Every default runs the bundled sample, so `koppelwerk run` with no delivery paths, the Dagster
UI's "Materialize all" and `make run` all do the same thing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.run_folder import RunFolder

# Relative to the working directory, not to the code: `make run` and `make dev` start in the
# checkout, where the sample lies; an installed wheel has no sample and is given its inputs.
SAMPLE_DIR = Path("sample")
DEFAULT_OUT_DIR = Path("out")
DATA_DIR_VARIABLE = "KOPPELWERK_DATA_DIR"


def default_data_dir() -> Path:
    """The operator's data folder for warehouses and run logs: `$KOPPELWERK_DATA_DIR`, else
    `./.koppelwerk` (beside `./.dagster`, the run history). Never inside an output folder: the
    warehouse holds per-connection data."""
    return Path(os.environ.get(DATA_DIR_VARIABLE) or Path.cwd() / ".koppelwerk").resolve()


def _here(path: Path) -> Path:
    return (Path.cwd() / path).resolve()


ProfileName = Literal["statistical", "operational"]


@dataclass(frozen=True)
class UseProfile:
    """How strict linkage is: the trade-off between link rate and precision, made explicit.

    `min_match_probability` is the lowest probability a link may have; `min_margin` is how far the
    best candidate must lead the runner-up (in match weight, bits) to be chosen at all.
    """

    name: ProfileName
    min_match_probability: float
    min_margin: float


PROFILES: dict[str, UseProfile] = {
    "statistical": UseProfile("statistical", min_match_probability=0.90, min_margin=2.0),
    "operational": UseProfile("operational", min_match_probability=0.995, min_margin=5.0),
}


@dataclass(frozen=True)
class DisclosureRules:
    """Publication thresholds, stated in the output contract too (sector_energy_statistics.yaml)."""

    min_connections: int = 10
    min_dwellings: int = 6
    dominance_share: float = 0.5


@dataclass(frozen=True)
class UncertaintyThresholds:
    """The linkage thresholds whose statistics bound each published cell (`volume_low`/`volume_high`)."""

    strict: float = 0.99
    loose: float = 0.5


@dataclass(frozen=True)
class RunConfig:
    """Everything one linkage run needs to know."""

    bag: Path = field(default_factory=lambda: _here(SAMPLE_DIR / "bag.parquet"))
    connections: Path = field(default_factory=lambda: _here(SAMPLE_DIR / "connections.csv"))
    consumption: Path = field(default_factory=lambda: _here(SAMPLE_DIR / "consumption.parquet"))
    out_dir: Path = field(default_factory=lambda: _here(DEFAULT_OUT_DIR))
    data_dir: Path = field(default_factory=default_data_dir)
    year: int | None = None
    profile: ProfileName = "statistical"
    disclosure: DisclosureRules = field(default_factory=DisclosureRules)
    uncertainty: UncertaintyThresholds = field(default_factory=UncertaintyThresholds)

    def run_folder(self, run_id: str) -> RunFolder:
        """Where run `run_id` stages its outputs, and where its warehouse and log live."""
        return RunFolder(self.out_dir, self.data_dir, run_id)

    @property
    def use_profile(self) -> UseProfile:
        return PROFILES[self.profile]

    def inputs(self) -> dict[str, Path]:
        """The three deliveries of the run, by kind."""
        return {"bag": self.bag, "connections": self.connections, "consumption": self.consumption}

    def as_record(self) -> dict[str, Any]:
        """The configuration as plain JSON values, for the run's manifest."""
        return json.loads(json.dumps(asdict(self), default=str))
