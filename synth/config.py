"""Every rate of the generator in one frozen dataclass, so a benchmark run is fully described by it.

Two kinds of field live here. *World* rates shape the municipality itself (how many dwellings have
collective gas, how many street lights there are); *noise* rates say how often the grid operator's
register departs from BAG, and each of those is a named noise kind that the truth file records
per connection. docs/synth.md explains every field, its default and what it imitates.

A noise rate is a probability per *eligible* record (e.g. `street_truncated` only applies to street
names longer than 24 characters). Kinds that cannot co-occur on one field form a group drawn from
one uniform number with fixed thresholds, so each kind hits its eligible records at exactly its own
rate; the rates of a group must therefore sum to at most 1.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

# Noise kinds drawn from one uniform number per record; their rates must sum to <= 1.
EXCLUSIVE_GROUPS: dict[str, tuple[str, ...]] = {
    "suffix": ("suffix_missing", "suffix_variant"),
    "postcode": ("postcode_missing", "postcode_typo", "postcode_format"),
    "woonplaats": ("woonplaats_missing", "woonplaats_gemeente", "woonplaats_old_spelling", "woonplaats_upper"),
    "bag_id": (
        "bag_id_missing",
        "bag_id_stale_withdrawn",
        "bag_id_stale_absent",
        "bag_id_wrong_sibling",
        "bag_id_wrong_random",
    ),
}

# Fields that are not probabilities: counts per 1,000 objects and a distance in metres.
_UNBOUNDED_SUFFIXES = ("_per_1000", "_m")
# Rates with a lower ceiling than 1: predecessors need enough live objects to have replaced.
_CEILINGS = {"withdrawn_predecessor": 0.3}


@dataclass(frozen=True)
class NoiseConfig:
    """All rates of the generator; see docs/synth.md for what each one imitates."""

    # --- world: how the municipality and its connections are built ---
    gas_dwelling: float = 0.85
    gas_nonresidential: float = 0.55
    collective_gas: float = 0.05
    common_area_elk: float = 0.25
    multi_connection_large: float = 0.5
    nevenadres: float = 0.03
    withdrawn_predecessor: float = 0.01
    demolished: float = 0.003
    under_construction: float = 0.015
    inactive: float = 0.02
    not_in_bag_per_1000: float = 3.0
    public_lighting_per_1000: float = 8.0
    street_clock_per_1000: float = 0.15
    bus_shelter_per_1000: float = 1.0
    traffic_signal_per_1000: float = 0.6
    telecom_cabinet_per_1000: float = 2.0
    ev_charger_per_1000: float = 6.0
    pumping_station_per_1000: float = 0.8
    construction_site_per_1000: float = 0.8
    market_event_per_1000: float = 0.4

    # --- noise: how the register's record departs from BAG (each a kind in truth `noise`) ---
    nevenadres_used: float = 0.3
    suffix_missing: float = 0.06
    suffix_variant: float = 0.35
    postcode_missing: float = 0.03
    postcode_typo: float = 0.01
    postcode_format: float = 0.25
    street_abbreviation: float = 0.3
    street_truncated: float = 0.4
    street_typo: float = 0.02
    woonplaats_missing: float = 0.02
    woonplaats_gemeente: float = 0.04
    woonplaats_old_spelling: float = 0.02
    woonplaats_upper: float = 0.15
    bag_id_missing: float = 0.2
    bag_id_stale_withdrawn: float = 0.4
    bag_id_stale_absent: float = 0.01
    bag_id_wrong_sibling: float = 0.02
    bag_id_wrong_random: float = 0.005
    coordinates_missing: float = 0.6
    coordinates_offset: float = 0.02
    coordinate_jitter_m: float = 3.0
    status_code: float = 0.3
    opposite_address: float = 0.15
    description_vague: float = 0.05
    consumption_missing: float = 0.002

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"noise rate {item.name} must be a number, got {value!r}")
            object.__setattr__(self, item.name, float(value))
            ceiling = float("inf") if item.name.endswith(_UNBOUNDED_SUFFIXES) else _CEILINGS.get(item.name, 1.0)
            if not 0 <= value <= ceiling:
                bounds = ">= 0" if ceiling == float("inf") else f"in [0, {ceiling:g}]"
                raise ValueError(f"noise rate {item.name}={value} must be {bounds}")
        for group, names in EXCLUSIVE_GROUPS.items():
            total = sum(getattr(self, name) for name in names)
            if total > 1 + 1e-12:
                raise ValueError(f"the {group} rates ({', '.join(names)}) sum to {total:g}, more than 1")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(item.name for item in fields(cls))

    @classmethod
    def noise_kinds(cls) -> tuple[str, ...]:
        """The fields that are noise kinds (recorded in truth `noise`), in declaration order."""
        names = cls.field_names()
        return tuple(name for name in names[names.index("nevenadres_used") :] if not name.endswith("_m"))

    @classmethod
    def from_yaml(cls, path: Path | str) -> NoiseConfig:
        """Defaults overridden by a flat YAML mapping `name: value`; unknown names are an error."""
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        if loaded is None:
            return cls()
        if not isinstance(loaded, Mapping):
            raise ValueError(f"{path}: expected a mapping of noise rate names to numbers")
        return cls().with_overrides(loaded)

    def with_overrides(self, overrides: Mapping[str, Any]) -> NoiseConfig:
        """A copy with some rates replaced; an unknown name raises ValueError listing the known ones."""
        unknown = sorted(set(overrides) - set(self.field_names()))
        if unknown:
            raise ValueError(f"unknown noise rate(s) {', '.join(unknown)}; known: {', '.join(self.field_names())}")
        return dataclasses.replace(self, **dict(overrides))

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def at_least_one(expected: float, rate: float) -> int:
    """A count from a rate that is never zero for a non-zero rate, so every phenomenon shows in
    small samples too."""
    return max(1, round(expected)) if rate > 0 else 0
