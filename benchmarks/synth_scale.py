"""How `koppelwerk synth` scales to the national size: wall time and peak memory per size.

.venv/bin/python -m benchmarks.synth_scale --objects 1000000 10000000

Per size it runs `koppelwerk synth` in a process of its own, watched from outside as
benchmarks.scale does (resident memory of the process and its children read from /proc every
0.2 s), into a temporary folder that is removed afterwards (ten million objects take several GB
on disk). The generator writes a run larger than one chunk (`synth.chunks.CHUNK_OBJECTS`) a chunk
at a time, so its peak should stay that of one chunk however large the run.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from benchmarks.results import markdown_table, record_section
from benchmarks.scale import KOPPELWERK, _machine, watch
from synth.chunks import CHUNK_OBJECTS

# Measured on the same machine before chunking (whole dataset in memory), for comparison.
BEFORE = (
    ("1,000,000", "9.4", "1.65"),
    ("10,000,000", "134 (116 generate, 18 write; not run again)", "15.7"),
)


def measure(n_objects: int, seed: int, koppelwerk: Path, connections_format: str) -> list[str]:
    """One table row: objects, BAG rows, connections, wall s, peak GB, GB on disk, and the load
    average at the end (the machine is shared: a high load means a slower wall time)."""
    with tempfile.TemporaryDirectory(prefix="synth-scale-") as tmp:
        out = Path(tmp) / "delivery"
        command = [str(koppelwerk), "synth", "--objects", str(n_objects), "--seed", str(seed), "--out", str(out)]
        watched = watch([*command, "--connections-format", connections_format], dict(os.environ), Path(tmp))
        counts = json.loads((out / "manifest.json").read_text())["counts"]
        disk = sum(path.stat().st_size for path in out.rglob("*") if path.is_file()) / 1024**3
    row = [
        f"{n_objects:,}",
        f"{counts['bag_rows']:,}",
        f"{counts['connections']:,}",
        f"{watched.wall:.1f}",
        f"{watched.peak:.2f}",
        f"{disk:.2f}",
        f"{os.getloadavg()[0]:.1f}",
    ]
    print(" | ".join(row), flush=True)
    return row


def report(rows: list[list[str]], connections_format: str) -> str:
    header = ["objects", "BAG rows", "connections", "wall s", "peak GB", "on disk GB", "load (1 min)"]
    return "\n\n".join(
        [
            f"Machine: {_machine()}. `koppelwerk synth`, connections as {connections_format}, chunks of at most"
            f" {CHUNK_OBJECTS:,} objects, peak resident memory of the process and its children.",
            "After (written a chunk at a time, `synth.write_generated`):",
            markdown_table(header, rows),
            "Before (`synth.generate` + `synth.write`, the whole dataset in memory):",
            markdown_table(["objects", "wall s", "peak GB"], BEFORE),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--connections-format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--koppelwerk", type=Path, default=KOPPELWERK, help="the koppelwerk command to measure")
    args = parser.parse_args()
    rows = [measure(n, args.seed, args.koppelwerk, args.connections_format) for n in sorted(args.objects)]
    record_section("Synth at national size: wall time and peak memory", report(rows, args.connections_format))


if __name__ == "__main__":
    main()
