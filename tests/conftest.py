"""Shared fixtures: the ../shared folder beside the repo, and generated deliveries."""

from __future__ import annotations

from pathlib import Path

import pytest

from koppelwerk.config import PROJECT_ROOT

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
