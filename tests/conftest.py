"""Shared fixtures: the ../shared folder beside the repo, and generated deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

import linkage
import synth
from koppelwerk.config import PROFILES, PROJECT_ROOT

SHARED = PROJECT_ROOT.parent / "shared"
LVBAG_DIR = SHARED / "data" / "lvbag"


@pytest.fixture(scope="session")
def lvbag_dir() -> Path:
    if not LVBAG_DIR.exists():
        pytest.fail(f"the real LVBAG extracts are expected in {LVBAG_DIR}")
    return LVBAG_DIR


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh local Dagster instance per test, so run history can be asserted."""
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@dataclass(frozen=True)
class LinkedDelivery:
    """A synth delivery, normalised and linked as the pipeline links it."""

    data: synth.SynthDataset
    bag: pl.DataFrame
    connections: pl.DataFrame
    result: linkage.LinkageResult


def link_synth(objects: int, seed: int, noise: synth.NoiseConfig | None = None) -> LinkedDelivery:
    data = synth.generate(objects, seed=seed, noise=noise or synth.NoiseConfig())
    bag = linkage.normalise_bag(data.bag)
    connections = linkage.normalise_connections(data.connections)
    return LinkedDelivery(data, bag, connections, linkage.link(bag, connections, PROFILES["statistical"]))
