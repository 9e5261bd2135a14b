"""Wall time and peak memory of generating a municipality and running the whole job on it.

.venv/bin/python -m benchmarks.pipeline --objects 100000 200000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.results import markdown_table, record_section

KOPPELWERK = Path(sys.executable).parent / "koppelwerk"


_MEASURE = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _timed(command: list[str], work: Path) -> tuple[float, float]:
    """Seconds and peak RSS (GB) of one command, measured in a fresh parent of its own; its
    Dagster instance and data folder (warehouse, logs) in `work`."""
    start = time.perf_counter()
    env = {**os.environ, "DAGSTER_HOME": str(work / "dagster"), "KOPPELWERK_DATA_DIR": str(work / "data")}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], check=True, capture_output=True, text=True, env=env
    )
    return time.perf_counter() - start, int(done.stdout.split()[-1]) / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for n_objects in args.objects:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            synth_s, synth_gb = _timed(
                [
                    str(KOPPELWERK),
                    "synth",
                    "--objects",
                    str(n_objects),
                    "--seed",
                    str(args.seed),
                    "--out",
                    str(work / "in"),
                ],
                work,
            )
            run_s, run_gb = _timed(
                [
                    str(KOPPELWERK),
                    "run",
                    "--bag",
                    str(work / "in" / "bag.parquet"),
                    "--connections",
                    str(work / "in" / "connections.parquet"),
                    "--consumption",
                    str(work / "in" / "consumption.parquet"),
                    "--out",
                    str(work / "out"),
                ],
                work,
            )
            summary = json.loads((work / "out" / "run_summary.json").read_text())
        rows.append(
            [
                f"{n_objects:,}",
                f"{summary['connections_read']:,}",
                f"{synth_s:.1f}",
                f"{synth_gb:.2f}",
                f"{run_s:.1f}",
                f"{run_gb:.2f}",
                f"{summary['link_rate_active']:.4f}",
            ]
        )
        print(rows[-1], flush=True)
    body = markdown_table(
        ["objects", "connections", "synth s", "synth peak GB", "run s", "run peak GB", "link rate (active)"], rows
    )
    record_section("Pipeline: synth + koppelwerk run", body)


if __name__ == "__main__":
    main()
