"""`write_generated`: generate and write a run of any size, up to the national ~10 million objects,
in the memory of one chunk.

`generate` + `write` hold the whole dataset (about 1.6 GB per million objects). Here a run larger
than one chunk is built chunk by chunk (synth.chunks), each chunk appended to the files as soon as
it exists (synth.appender) and then dropped; only the manifest's counts and gemeenten are kept
across chunks. A run that fits in one chunk is exactly `write(generate(...))`.
"""

from __future__ import annotations

from functools import reduce
from operator import add
from pathlib import Path

from synth.appender import ChunkedFiles
from synth.chunks import CHUNK_OBJECTS, Chunk, chunk, chunk_sizes, single
from synth.config import NoiseConfig
from synth.dataset import MIN_OBJECTS, check_arguments, generate, generate_chunk
from synth.manifest import Counts, Run
from synth.writer import finish, output_paths, write

PARTS_FOLDER = ".parts"


def write_generated(
    n_objects: int,
    seed: int,
    out_dir: Path,
    noise: NoiseConfig = NoiseConfig(),
    year: int = 2025,
    connections_format: str = "parquet",
    chunk_objects: int = CHUNK_OBJECTS,
) -> dict[str, Path]:
    """The files `write(generate(n_objects, seed, noise, year), out_dir, connections_format)`
    would write, in chunks of at most chunk_objects objects; returns name -> path of every file.

    Up to chunk_objects objects the bytes are those of `write(generate(...))`; above it they
    differ (the regions are split into chunks), but the same arguments still give the same bytes.
    """
    check_arguments(n_objects, seed)
    if chunk_objects < 2 * MIN_OBJECTS:  # chunks of equal size then hold at least MIN_OBJECTS
        raise ValueError(f"chunk_objects must be at least {2 * MIN_OBJECTS}, got {chunk_objects}")
    if n_objects <= chunk_objects:
        return write(generate(n_objects, seed, noise, year), out_dir, connections_format)
    out_dir = Path(out_dir)
    paths = output_paths(out_dir, connections_format)
    sizes = chunk_sizes(n_objects, chunk_objects)
    # A manifest left by an earlier run must not describe files this run has only half written.
    (out_dir / "manifest.json").unlink(missing_ok=True)
    ean_start = single(seed).ean_start
    counts: list[Counts] = []
    gemeenten: list[dict[str, object]] = []
    with ChunkedFiles(paths, out_dir / PARTS_FOLDER) as files:
        for index, size in enumerate(sizes):
            chunk_counts, chunk_gemeenten, ean_start = _append_chunk(
                files, size, noise, year, chunk(seed, index, len(sizes), ean_start)
            )
            counts.append(chunk_counts)
            gemeenten += chunk_gemeenten
    return finish(paths, out_dir, Run(n_objects, seed, year, noise), reduce(add, counts), gemeenten)


def _append_chunk(
    files: ChunkedFiles, n_objects: int, noise: NoiseConfig, year: int, spec: Chunk
) -> tuple[Counts, list[dict[str, object]], tuple[int, ...]]:
    """Build and append one chunk; its dataset lives only in this call, so it is freed before
    the next chunk is built. Returns its counts, its gemeenten and where its EANs ended."""
    dataset, ean_next = generate_chunk(n_objects, noise, year, spec)
    files.append(dataset)
    return Counts.of(dataset), dataset.gemeenten, ean_next
