"""The same inputs and configuration give byte-identical outputs, in any process.

The core is run in two fresh interpreters on one synth gemeente, with different hash seeds and
polars thread counts, and with polars told to take its sequential group_by path in one and its
partitioned one in the other (the `POLARS_NO_PARTITION` / `POLARS_FORCE_PARTITION` switches of
polars 2.1, which otherwise picks a path from a random sample): Splink's random ids, thread
scheduling, row order out of joins and the order floats are added in all differ between them,
and every file they write must be the same bytes.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publication.cells import stable_sum
from tests.paths import PROJECT_ROOT

# What the pipeline writes per run (links, residue, the model) and what the statistics are made
# of (allocation, cells, residue summary), from `synth.generate(2000, seed=5)`. Its volumes are
# whole numbers, which add up exactly in any order; a third of them, as metered volumes with
# decimals, do not.
RUN = """
import json, sys
from pathlib import Path

import polars as pl

import linkage, synth
from core.config import PROFILES
from publication.allocation import allocate
from publication.cells import aggregate_cells
from publication.residue_summary import residue_summary

out = Path(sys.argv[1])
data = synth.generate(2000, seed=5)
bag = linkage.normalise_bag(data.bag)
connections = linkage.normalise_connections(data.connections)
result = linkage.link(bag, connections, PROFILES["statistical"])
consumption = data.consumption.with_columns(volume=pl.col("volume") / 3)
allocation = allocate(consumption, result.links, result.residue, connections, bag)
frames = {
    "links": result.links, "residue": result.residue, "curve": result.curve,
    "unresolved_candidates": result.unresolved_candidates, "allocation": allocation,
    "cells": aggregate_cells(allocation), "residue_summary": residue_summary(result.residue, connections, allocation),
}
for name, frame in frames.items():
    frame.write_parquet(out / f"{name}.parquet")
(out / "linkage_model.json").write_text(json.dumps(result.model, indent=1))
"""
OUTPUTS = [
    "links.parquet",
    "residue.parquet",
    "curve.parquet",
    "unresolved_candidates.parquet",
    "allocation.parquet",
    "cells.parquet",
    "residue_summary.parquet",
    "linkage_model.json",
]


def _run_in_fresh_process(out: Path, env: dict[str, str]) -> None:
    out.mkdir()
    env = {**os.environ, **env}
    subprocess.run([sys.executable, "-c", RUN, str(out)], cwd=PROJECT_ROOT, env=env, check=True, timeout=300)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("determinism")
    first, second = root / "first", root / "second"
    _run_in_fresh_process(first, {"PYTHONHASHSEED": "1", "POLARS_MAX_THREADS": "1", "POLARS_NO_PARTITION": "1"})
    _run_in_fresh_process(second, {"PYTHONHASHSEED": "2", "POLARS_MAX_THREADS": "2", "POLARS_FORCE_PARTITION": "1"})
    return first, second


@pytest.mark.parametrize("name", OUTPUTS)
def test_two_processes_write_identical_bytes(two_runs: tuple[Path, Path], name: str) -> None:
    first, second = two_runs
    assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} differs between two runs"


def test_the_model_carries_no_random_linker_id(two_runs: tuple[Path, Path]) -> None:
    assert '"linker_uid"' not in (two_runs[0] / "linkage_model.json").read_text()


VOLUMES = st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=1, max_size=50)


@settings(max_examples=200, deadline=None)
@given(VOLUMES, st.randoms(use_true_random=False))
def test_a_group_sums_to_the_same_bits_in_any_row_order(volumes: list[float], rng: random.Random) -> None:
    """What the cells, the residue summary and the run summary add up with (`stable_sum`)."""
    shuffled = volumes.copy()
    rng.shuffle(shuffled)
    frames = [pl.DataFrame({"group": [1] * len(values), "volume": values}) for values in (volumes, shuffled)]
    sums = [frame.group_by("group").agg(stable_sum("volume"))["volume"].item() for frame in frames]
    assert sums[0].hex() == sums[1].hex()
