"""Run configuration: the one place where paths, profiles and thresholds get their defaults.

Every default runs the bundled sample, so `koppelwerk run` with no delivery paths, the Dagster
UI's "Materialize all" and `make run` all do the same thing.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_type_hints

from core.errors import KoppelwerkError
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


# What a setting's value may be, by the `check` of its field; see `_setting`.
_CHECKS: dict[str, tuple[str, Any]] = {
    "probability": ("strictly between 0 and 1", lambda v: 0 < v < 1),
    "share": ("between 0 and 1", lambda v: 0 <= v <= 1),
    "positive": ("greater than 0", lambda v: v > 0),
    "non_negative": ("0 or more", lambda v: v >= 0),
    "linkage_backend": ("one of duckdb, spark", lambda v: v in ("duckdb", "spark")),
}


def _setting(default: Any, check: str, doc: str) -> Any:
    """A tunable field: its default, what values it accepts (a `_CHECKS` key) and what it does
    and why its default, shown by `koppelwerk settings` and on the Dagster launchpad."""
    return field(default=default, metadata={"check": check, "doc": " ".join(doc.split())})


def _check_values(section: object) -> None:
    """Raise a one-line KoppelwerkError for a setting outside what its field accepts."""
    for f in fields(section):  # type: ignore[arg-type]
        value = getattr(section, f.name)
        words, accepts = _CHECKS[f.metadata["check"]]
        if not accepts(value):
            raise KoppelwerkError(f"{type(section).__name__}.{f.name} must be {words}, got {value!r}")


@dataclass(frozen=True)
class LinkageSettings:
    """The tuning numbers of `linkage.link`: model training, the deterministic passes' prior
    precision, the street and description matching, the residue's capacity rule, the woonplaats
    variants and the collective-gas rule. The defaults are the tested behaviour."""

    m_floor: float = _setting(
        0.002,
        "probability",
        """Lowest m probability of any comparison level before renormalising (linkage.probabilistic):
        labels drawn from clean records under-represent rare noise, so a disagreement never seen
        in the labels must cost a large but finite weight, not rule a link out.""",
    )
    u_sample_pairs: int = _setting(
        2_000_000,
        "positive",
        """Random (BAG row, connection) pairs sampled to estimate u; a level no sampled pair hits gets
        u = 0.5 / this. Enough pairs to settle u of the common levels, in seconds.""",
    )
    u_sample_records: int = _setting(
        2_000_000,
        "positive",
        """The `u_sample_pairs` random pairs of u are drawn from at most this many BAG rows and as
        many register records (each side drawn with `seed`): they settle u as well, and Splink
        holding a national register whole would not fit beside it. A smaller side is used whole.""",
    )
    m_sample_connections: int = _setting(
        250_000,
        "positive",
        """m is estimated on the training pool of at most this many connections (drawn with `seed`):
        the proportions are settled long before, and a national register would not fit in memory
        twice.""",
    )
    seed: int = _setting(
        42,
        "non_negative",
        """Seed of the u sampling and of the m training-pool draw: the same delivery gives the same
        model and the same links every run.""",
    )
    threads: int = _setting(
        2,
        "positive",
        """DuckDB threads of Splink's training and scoring connection; kept small so the run's memory
        stays bounded next to polars.""",
    )
    registered_bag_id_probability: float = _setting(
        0.999,
        "probability",
        """Match probability a link of the registered-id pass gets (linkage.deterministic): the prior
        precision of an id that names a live object at the register's address. A profile whose
        `min_match_probability` is above it sends these cases to the model.""",
    )
    exact_address_probability: float = _setting(
        0.995,
        "probability",
        """Match probability a link of the exact-address pass (and a common-area link,
        linkage.collective) gets: the prior precision of one live object at exactly the register's
        address with nothing in the record against it.""",
    )
    street_prefix_min_length: int = _setting(
        8,
        "positive",
        """Street comparison (linkage.comparisons): a street name cut at 24 characters agrees with a
        longer one by prefix only when its key has at least this many characters; "burg" is a
        prefix of every mayor's street.""",
    )
    street_similarity_min: float = _setting(
        0.9,
        "probability",
        """Street comparison: the Jaro-Winkler similarity from which two street keys that are not equal
        count as a near match (a typo or a spelling variant) rather than a disagreement.""",
    )
    description_typo_min_length: int = _setting(
        5,
        "positive",
        """Description (linkage.description): a word of the locatieomschrijving matches a vocabulary
        word at one typo only when it has at least this many letters; shorter words ("kast",
        "mast") are one edit from too many others.""",
    )
    capacity_min_share: float = _setting(
        0.5,
        "share",
        """Residue rule 6 (linkage.residue): a capacity gives an undescribed connection the class that
        at least this share of the described connections with that capacity have (a majority).""",
    )
    capacity_min_support: int = _setting(
        10,
        "non_negative",
        """Residue rule 6: a capacity decides a class only when at least this many described
        connections have it, so that a handful of lamp posts does not classify a whole capacity.""",
    )
    woonplaats_min_support: int = _setting(
        3,
        "non_negative",
        """A register woonplaats name BAG does not know (linkage.woonplaats) is resolved only from at
        least this many postcoded records, so one mistyped record is no variant.""",
    )
    woonplaats_min_share: float = _setting(
        0.9,
        "share",
        """A register woonplaats name BAG does not know is resolved only if at least this share of its
        records' postcodes lie in one woonplaats (or gemeente): a real variant rarely disagrees.""",
    )
    collective_min_dwellings: int = _setting(
        3,
        "non_negative",
        """Collective gas (linkage.collective): only a pand with at least this many live dwellings has
        a block-heating connection spread over its dwellings; smaller ones are houses.""",
    )
    collective_min_meter: int = _setting(
        10,
        "non_negative",
        """Collective gas: a pand's only gas connection counts as collective from this G-rating up
        (G10); households have G4 or G6. An unknown capacity counts as larger.""",
    )
    partition_max_objects: int = _setting(
        500_000,
        "positive",
        """Largest region the address joins and the scoring take at once, in BAG address rows
        (linkage.partitions): whole gemeenten are packed up to this, so a linkage's memory is
        bounded by a region's, not the country's. The links do not depend on it.""",
    )

    def __post_init__(self) -> None:
        _check_values(self)


@dataclass(frozen=True)
class DisclosureRules:
    """Publication thresholds, stated in the output contract too (sector_energy_statistics.yaml)."""

    min_connections: int = _setting(
        10, "positive", "A published cell aggregates at least this many connections, else it is suppressed."
    )
    min_dwellings: int = _setting(
        6, "positive", "A dwelling cell aggregates at least this many dwellings, else it is suppressed."
    )
    dominance_share: float = _setting(
        0.5,
        "share",
        "No single connection may contribute more than this share of a cell's volume, else it is suppressed.",
    )

    def __post_init__(self) -> None:
        _check_values(self)


@dataclass(frozen=True)
class UncertaintyThresholds:
    """The linkage thresholds whose statistics bound each published cell (`volume_low`/`volume_high`)."""

    strict: float = _setting(
        0.99,
        "share",
        "The stricter linkage threshold of `volume_low`/`volume_high`: each cell as it would be with the links "
        "below this match probability dropped.",
    )
    loose: float = _setting(
        0.5,
        "share",
        "The looser linkage threshold: each cell as it would be with the best candidate of every unresolved "
        "connection linked where its match probability reaches this.",
    )

    def __post_init__(self) -> None:
        _check_values(self)


@dataclass(frozen=True)
class EngineSettings:
    """How much of the machine DuckDB may take: every connection the run opens (the warehouse's
    and Splink's) gets this memory limit and threads, and spills beyond it to the run's spill
    folder (`RunConfig.spill_folder`). DuckDB's own default, 80 % of the machine's memory per
    connection, let a 1M-object run grow to 22 GB on 24."""

    duckdb_memory_gb: float = _setting(
        2.0,
        "positive",
        """Memory limit of each DuckDB connection, GB; above it DuckDB spills to the spill folder.
        Two connections are open at most (the warehouse's and Splink's), next to polars.""",
    )
    duckdb_threads: int = _setting(
        2,
        "positive",
        """Threads of each DuckDB connection of the warehouse (Splink's: `linkage.threads`).""",
    )
    linkage_backend: str = _setting(
        "duckdb",
        "linkage_backend",
        """Where Splink predicts the candidate pairs' scores: "duckdb" (in process) or "spark"
        (linkage.spark_scoring, on the active SparkSession or a local one; needs the `spark` extra
        and Java 17; docs/spark.md). Training stays on DuckDB; both give the same links.""",
    )
    isolate_steps_from_mb: float = _setting(
        200.0,
        "non_negative",
        """Deliveries of at least this many MB together (on disk) run each step of `koppelwerk run`
        in a process of its own, one after the other: memory a step has freed but its allocators
        keep then goes back to the system before the next starts (at 10 M objects a step began 3-7 GB
        above what it needs alone). Smaller runs stay in one process, which starts faster; 0 isolates
        every run.""",
    )

    def __post_init__(self) -> None:
        _check_values(self)

    def duckdb_config(self, spill_folder: Path) -> dict[str, Any]:
        """The `config` of `duckdb.connect`: memory limit, threads, spill folder."""
        return {
            "memory_limit": f"{self.duckdb_memory_gb}GB",
            "threads": str(self.duckdb_threads),
            "temp_directory": str(spill_folder),
        }


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
    linkage: LinkageSettings = field(default_factory=LinkageSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    # where DuckDB spills what does not fit its memory limit; by default `data_dir / "spill"`
    spill_dir: Path | None = None

    @property
    def spill_folder(self) -> Path:
        return self.spill_dir or self.data_dir / "spill"

    def duckdb_config(self) -> dict[str, Any]:
        """`EngineSettings.duckdb_config` with this run's spill folder."""
        return self.engine.duckdb_config(self.spill_folder)

    def run_folder(self, run_id: str) -> RunFolder:
        """Where run `run_id` stages its outputs, and where its warehouse and log live."""
        return RunFolder(self.out_dir, self.data_dir, run_id)

    @property
    def use_profile(self) -> UseProfile:
        return PROFILES[self.profile]

    def inputs(self) -> dict[str, Path]:
        """The three deliveries of the run, by kind."""
        return {"bag": self.bag, "connections": self.connections, "consumption": self.consumption}

    @property
    def isolates_steps(self) -> bool:
        """Whether the deliveries are large enough to run each step in a process of its own
        (`EngineSettings.isolate_steps_from_mb`)."""
        size = sum(path.stat().st_size for path in self.inputs().values() if path.is_file())
        return size >= self.engine.isolate_steps_from_mb * 1e6

    def as_record(self) -> dict[str, Any]:
        """The configuration as plain JSON values, for the run's manifest."""
        return json.loads(json.dumps(asdict(self), default=str))


# The RunConfig fields whose dataclasses hold tunable settings, by section name.
SETTING_SECTIONS: dict[str, type[Any]] = {
    "linkage": LinkageSettings,
    "disclosure": DisclosureRules,
    "uncertainty": UncertaintyThresholds,
    "engine": EngineSettings,
}


@dataclass(frozen=True)
class Setting:
    """One tunable setting: `section.name`, its type, default and documentation."""

    section: str
    name: str
    kind: type[Any]
    default: Any
    check: str
    doc: str

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"


def all_settings() -> list[Setting]:
    """Every setting of every section, in the order the dataclasses declare them."""
    found = []
    for section, cls in SETTING_SECTIONS.items():
        hints = get_type_hints(cls)
        for f in fields(cls):
            found.append(Setting(section, f.name, hints[f.name], f.default, f.metadata["check"], f.metadata["doc"]))
    return found


def _value(setting: Setting, text: str) -> Any:
    kind = "an integer" if setting.kind is int else "a number"
    try:
        value = setting.kind(text.strip())
    except ValueError:
        raise KoppelwerkError(f"setting {setting.key}: expected {kind}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise KoppelwerkError(f"setting {setting.key}: expected a finite number, got {text!r}")
    words, accepts = _CHECKS[setting.check]
    if not accepts(value):
        raise KoppelwerkError(f"setting {setting.key} must be {words}, got {text!r}")
    return value


def parse_setting(text: str) -> tuple[str, str, Any]:
    """`section.name=value` (as `koppelwerk run --set` takes it) -> (section, name, typed value);
    a KoppelwerkError with one line for a malformed assignment, an unknown name or a bad value."""
    key, equals, text_value = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise KoppelwerkError(f"--set expects SECTION.NAME=VALUE, got {text!r}")
    known = {setting.key: setting for setting in all_settings()}
    if key not in known:
        sections = ", ".join(SETTING_SECTIONS)
        raise KoppelwerkError(f"unknown setting {key!r} (sections: {sections}; `koppelwerk settings` lists every name)")
    setting = known[key]
    return setting.section, setting.name, _value(setting, text_value)


def with_settings(config: RunConfig, assignments: Iterable[str]) -> RunConfig:
    """`config` with each `section.name=value` assignment applied, later ones winning."""
    changes: dict[str, dict[str, Any]] = {}
    for text in assignments:
        section, name, value = parse_setting(text)
        changes.setdefault(section, {})[name] = value
    return replace(config, **{s: replace(getattr(config, s), **values) for s, values in changes.items()})
