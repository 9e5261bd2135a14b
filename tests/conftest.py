"""Shared fixtures: the ../shared folder beside the repo, and generated deliveries."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

import linkage
import synth
from core.config import DATA_DIR_VARIABLE, PROFILES
from tests.paths import SHARED
from tests.runs import GoodRun, make_good_run

LVBAG_DIR = SHARED / "data" / "lvbag"

# pyspark takes a main module without `__spec__` or `__file__` (a pytest-xdist worker's) for its
# own doctest runner, and exits from the import of its Connect client (`sys.exit(0)` in
# `pyspark.sql.connect.utils.check_dependencies`), which Great Expectations imports: a run in a
# worker's process failed in delivery validation with `SystemExit: 0`. The worker's main module
# is named as a file, as a script's is.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "pytest-xdist-worker"

# The slow tier: modules that run the whole Dagster job (in process or through the CLI). `make
# test` runs both tiers; `make test-fast` (`pytest -m "not e2e"`) only the unit tests.
E2E_MODULES = {
    "test_atomic_runs",
    "test_blocking_checks",
    "test_dagster_ui",
    "test_determinism",
    "test_run_bad_input",
    "test_run_e2e",
    "test_run_lvbag",
    "test_sample_run",
    "test_wheel",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in E2E_MODULES:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def lvbag_dir() -> Path:
    if not LVBAG_DIR.exists():
        pytest.fail(f"the real LVBAG extracts are expected in {LVBAG_DIR}")
    return LVBAG_DIR


@pytest.fixture(scope="session")
def good_small_run(tmp_path_factory: pytest.TempPathFactory) -> GoodRun:
    """One good `koppelwerk run` of a small synth delivery, for every test that needs a last good
    run to break, copy or compare with (tests/runs.py)."""
    return make_good_run(tmp_path_factory.mktemp("good_small_run"))


@pytest.fixture(scope="session", autouse=True)
def session_dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A run that names no Dagster home of its own records its history in this session's, never
    in the project's `.dagster`: the test processes `make test` runs side by side (pytest-xdist
    workers) each have their own instance."""
    home = tmp_path_factory.mktemp("session_dagster_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        yield home


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test's warehouses and run logs in its own operator data folder, never in the repo."""
    folder = tmp_path / "koppelwerk_data"
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(folder))
    return folder


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


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def browser(tmp_path: Path):
    """Headless Chromium driven by ChromeDriver (Debian's packages, installed by `make test`)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("make test installs Chromium and ChromeDriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1200,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
