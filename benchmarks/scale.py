"""How koppelwerk scales: wall time and peak memory per stage, from 100k objects towards the country.

.venv/bin/python -m benchmarks.scale --objects 100000 1000000 --peers-at 1000000

Per size it generates a delivery (`koppelwerk synth`, timed) and runs `koppelwerk run` on it in a
process of its own, watched from outside: the run's stderr says when each asset step starts
(`koppelwerk: step NAME`), and its resident memory is read from /proc every 0.2 s. A step's time
is from its start to the next step's (the CLI runs the steps one after another in one process);
its peak is the largest resident set seen meanwhile. At `--peers-at` sizes the exact-join and
plain-Splink peers link the same delivery, each in a process of its own (reading the delivery
included), so their times compare with koppelwerk's as ratios within one benchmark run. The
growth exponent is fitted on the run's wall time between the smallest and the largest size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.results import markdown_table, record_section

KOPPELWERK = Path(sys.executable).parent / "koppelwerk"
STEP_PREFIX = "koppelwerk: step "
POLL_SECONDS = 0.2
PEERS = ("exact_join", "plain_splink")


def _rss_gb(pid: int) -> float:
    """Resident memory of `pid` and its descendants, GB (0 once it has gone)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total / 1024**2


@dataclass
class Watched:
    """One watched process: its wall time and peak memory, overall and per step; `code` is its
    exit code (a failed one's figures are until it ended)."""

    wall: float = 0.0
    peak: float = 0.0
    steps: list[tuple[str, float, float]] = field(default_factory=list)  # (step, seconds, peak GB)
    code: int = 0


class Failed(RuntimeError):
    """A watched process ended with a non-zero code (-9: killed, usually by the kernel when out of
    memory); `watched` holds its time, peak and code."""

    def __init__(self, message: str, watched: Watched) -> None:
        super().__init__(message)
        self.watched = watched


def watch(command: list[str], env: dict[str, str], cwd: Path | None = None) -> Watched:
    """Run `command` in `cwd`, sampling its memory and splitting its time by the step lines on stderr."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marks: list[tuple[str, float]] = [("start-up", 0.0)]
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter() - start, _rss_gb(process.pid)))
            done.wait(POLL_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tail: list[str] = []
    for line in process.stderr:  # type: ignore[union-attr]
        if line.startswith(STEP_PREFIX):
            marks.append((line[len(STEP_PREFIX) :].split(" (")[0].strip(), time.perf_counter() - start))
        tail = [*tail[-20:], line]
    code = process.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    bounds = [*[t for _, t in marks[1:]], wall]
    steps = []
    for (name, begin), end in zip(marks, bounds, strict=True):
        peak = max((gb for t, gb in samples if begin <= t <= end), default=0.0)
        steps.append((name, end - begin, peak))
    watched = Watched(wall, max((gb for _, gb in samples), default=0.0), steps, code)
    if code != 0:
        raise Failed(f"{command[0]} {command[1]} failed ({code}):\n{''.join(tail)}", watched)
    return watched


_PEER = """
import sys
from pathlib import Path
from benchmarks.peers import exact_join, plain_splink
from ingestion import read_delivery
import linkage
peer = {"exact_join": exact_join, "plain_splink": plain_splink}[sys.argv[1]]
folder = Path(sys.argv[2])
bag = linkage.normalise_bag(read_delivery("bag", folder / "bag.parquet").frame)
connections = linkage.normalise_connections(read_delivery("connections", folder / "connections.parquet").frame)
print(peer.link(bag, connections).height)
"""


@dataclass
class Measured:
    """One size: the delivery's generation, the run, and the peers where they ran."""

    objects: int
    connections: int
    synth: Watched
    run: Watched
    peers: dict[str, Watched] = field(default_factory=dict)


def _environment(work: Path) -> dict[str, str]:
    """Every process works in `work` (DuckDB spills beside its working directory when it has no
    folder of its own), with the checkout importable for the peers."""
    return {
        **os.environ,
        "DAGSTER_HOME": str(work / "dagster"),
        "KOPPELWERK_DATA_DIR": str(work / "data"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }


def measure(n_objects: int, seed: int, peers: bool) -> Measured:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = _environment(work)
        inputs = work / "in"
        synth_cmd = [str(KOPPELWERK), "synth", "--objects", str(n_objects), "--seed", str(seed), "--out", str(inputs)]
        synth = watch(synth_cmd, env, work)
        print(f"{n_objects:,} objects: synth {synth.wall:.1f} s, {synth.peak:.2f} GB", flush=True)
        n_connections = json.loads((inputs / "manifest.json").read_text())["counts"]["connections"]
        run_cmd = [str(KOPPELWERK), "run"]
        for kind in ("bag", "connections", "consumption"):
            run_cmd += [f"--{kind}", str(inputs / f"{kind}.parquet")]
        try:
            run = watch([*run_cmd, "--out", str(work / "out")], env, work)
            print(f"  run {run.wall:.1f} s, {run.peak:.2f} GB", flush=True)
        except Failed as failure:
            # a size the run does not get through (killed out of memory) is reported with the stage it ended in
            print(f"  run: {str(failure).splitlines()[0]}", flush=True)
            run = failure.watched
        measured = Measured(n_objects, n_connections, synth, run)
        print(_stages(measured), flush=True)
        if run.code:
            return measured  # the peers are compared with a run that finished
        for peer in PEERS if peers else ():
            try:
                result = watch([sys.executable, "-c", _PEER, peer, str(inputs)], env, work)
            except Failed as failure:
                # a peer that fails (killed when out of memory) is a result too: reported as such
                print(f"  {peer}: {str(failure).splitlines()[0]}", flush=True)
                measured.peers[peer] = failure.watched
                continue
            print(f"  {peer} {result.wall:.1f} s, {result.peak:.2f} GB", flush=True)
            measured.peers[peer] = result
        return measured


def _machine() -> str:
    memory = next(
        int(line.split()[1]) / 1024**2
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return f"{os.cpu_count()} cores, {memory:.0f} GB, {platform.processor() or platform.machine()}, Python {platform.python_version()}"


def _figures(watched: Watched) -> list[str]:
    return [f"{watched.wall:.1f}", f"{watched.peak:.2f}"]


def _stages(r: Measured) -> str:
    stage_rows = [
        [name, f"{seconds:.1f}", f"{100 * seconds / r.run.wall:.0f} %", f"{peak:.2f}"]
        for name, seconds, peak in sorted(r.run.steps, key=lambda step: -step[1])
    ]
    table = markdown_table(["stage", "s", "share", "peak GB"], stage_rows)
    ended = f", until it ended ({_ended(r.run)})" if r.run.code else ""
    return f"Stages of the run at {r.objects:,} objects{ended}, longest first:\n\n{table}"


def _ended(watched: Watched) -> str:
    return "killed, out of memory" if watched.code == -9 else f"exit code {watched.code}"


def _run_figures(run: Watched) -> list[str]:
    """A run's time and peak; one that failed says so, and in which stage."""
    if run.code == 0:
        return _figures(run)
    stage = run.steps[-1][0] if run.steps else "start-up"
    return [f"{run.wall:.1f} ({_ended(run)} in {stage})", f"{run.peak:.2f}"]


def _peer_row(name: str, peer: Watched, run: Watched) -> list[str]:
    if peer.code == 0:
        return [name, *_figures(peer), f"{peer.wall / run.wall:.2f}"]
    return [
        f"{name} ({_ended(peer)})",
        f"{peer.wall:.1f} until it ended",
        f"{peer.peak:.2f}",
        f"> {peer.wall / run.wall:.2f}",
    ]


def report(results: list[Measured]) -> str:
    rows = [[f"{r.objects:,}", f"{r.connections:,}", *_figures(r.synth), *_run_figures(r.run)] for r in results]
    parts = [
        f"Machine: {_machine()}.",
        markdown_table(["objects", "connections", "synth s", "synth peak GB", "run s", "run peak GB"], rows),
    ]
    completed = [r for r in results if r.run.code == 0]
    if len(completed) >= 2:
        small, large = completed[0], completed[-1]
        exponent = math.log(large.run.wall / small.run.wall) / math.log(large.objects / small.objects)
        parts.append(f"Run time grows as objects^{exponent:.2f} from {small.objects:,} to {large.objects:,} objects.")
    for r in results:
        parts.append(_stages(r))
        if r.peers:
            peer_rows = [["koppelwerk run", *_figures(r.run), "1.00"]]
            peer_rows += [_peer_row(name, peer, r.run) for name, peer in r.peers.items()]
            parts.append(f"Peers at {r.objects:,} objects, in the same benchmark run (time / koppelwerk's):")
            parts.append(markdown_table(["system", "wall s", "peak GB", "time ratio"], peer_rows))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--peers-at", type=int, nargs="*", default=[1_000_000], help="sizes to run the peers at")
    args = parser.parse_args()
    results = [measure(n, args.seed, n in args.peers_at) for n in sorted(args.objects)]
    record_section("Scale: wall time and peak memory per stage", report(results))


if __name__ == "__main__":
    main()
