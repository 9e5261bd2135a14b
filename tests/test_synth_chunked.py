"""A run written in chunks (`synth.write_generated`): the same files as in one piece when it fits
in one chunk, and above that deterministic, with ids unique across chunks and a complete,
consistent truth. Chunks are made small here (2,000 objects, one gemeente each) so that a run of
five chunks takes a second; the national-size memory is measured by benchmarks/synth_scale.py.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import synth
from core.ean import is_valid
from synth import chunks, namespace
from synth.chunks import chunk_sizes
from synth.dataset import generate_chunk

N_OBJECTS = 9_000
CHUNK_OBJECTS = 2_000  # five chunks of 1,800 objects
SEED = 7
FILES = {
    "bag": "bag.parquet",
    "consumption": "consumption.parquet",
    "truth_links": "truth/links.parquet",
    "truth_connections": "truth/connections.parquet",
}


def _hashes(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chunked")
    synth.write_generated(N_OBJECTS, SEED, out, chunk_objects=CHUNK_OBJECTS)
    return out


@pytest.fixture(scope="module")
def frames(run: Path) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(run / path) for name, path in {**FILES, "connections": "connections.parquet"}.items()}


@pytest.fixture(scope="module")
def manifest(run: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("connections_format", ["parquet", "csv"])
def test_a_run_within_one_chunk_is_written_as_in_one_piece(tmp_path: Path, connections_format: str) -> None:
    synth.write(synth.generate(3000, 5), tmp_path / "whole", connections_format)
    synth.write_generated(3000, 5, tmp_path / "chunked", connections_format=connections_format, chunk_objects=3000)
    assert _hashes(tmp_path / "whole") == _hashes(tmp_path / "chunked")


@pytest.mark.parametrize("connections_format", ["parquet", "csv"])
def test_the_same_arguments_give_the_same_bytes_over_chunks(tmp_path: Path, connections_format: str) -> None:
    for name in ("a", "b"):
        synth.write_generated(
            N_OBJECTS, SEED, tmp_path / name, connections_format=connections_format, chunk_objects=CHUNK_OBJECTS
        )
    first = _hashes(tmp_path / "a")
    assert set(first) == {*FILES.values(), f"connections.{connections_format}", "manifest.json"}  # no parts left
    assert first == _hashes(tmp_path / "b")


def test_chunks_are_separate_regions(frames: dict[str, pl.DataFrame], manifest: dict[str, object]) -> None:
    bag = frames["bag"]
    gemeenten = manifest["gemeenten"]
    assert isinstance(gemeenten, list)
    assert len(gemeenten) == len(chunk_sizes(N_OBJECTS, CHUNK_OBJECTS)) == 5  # one gemeente per chunk
    assert [g["code"] for g in gemeenten] == bag["gemeente_code"].unique().sort().to_list()
    names = [g["name"] for g in gemeenten] + [w for g in gemeenten for w in g["woonplaatsen"]]
    assert len(set(names)) == len(names) - sum(g["name"] in g["woonplaatsen"] for g in gemeenten)
    per_postcode = bag.drop_nulls("postcode").group_by("postcode").agg(pl.col("woonplaats_naam").n_unique())
    assert per_postcode["woonplaats_naam"].max() == 1


def test_ids_are_unique_across_chunks(frames: dict[str, pl.DataFrame], manifest: dict[str, object]) -> None:
    bag, connections = frames["bag"], frames["connections"]
    assert bag["object_id"].n_unique() == N_OBJECTS
    assert bag.select(pl.struct("object_id", "nummeraanduiding_id").is_unique().all()).item()
    # An id handed out in two chunks would name two places: two gemeenten, or two addresses.
    address = ["openbare_ruimte_naam", "huisnummer", "huisletter", "huisnummertoevoeging", "woonplaats_naam"]
    for key, fields in {
        "object_id": ["gemeente_code"],
        "pand_id": ["gemeente_code"],
        "nummeraanduiding_id": address,
    }.items():
        spread = bag.drop_nulls(key).group_by(key).agg(pl.struct(fields).n_unique().alias("places"))
        assert spread["places"].max() == 1, key
    assert connections["ean"].n_unique() == connections.height
    assert connections.select(is_valid(pl.col("ean")).all()).item()


def test_files_are_sorted_as_one_piece_would_be(frames: dict[str, pl.DataFrame]) -> None:
    assert frames["bag"]["object_id"].is_sorted()
    for name in ("connections", "consumption", "truth_connections"):
        assert frames[name]["ean"].is_sorted(), name
    links = frames["truth_links"]
    assert links.equals(links.sort(["ean", "object_id"]))


def test_truth_is_complete_and_points_at_what_exists(frames: dict[str, pl.DataFrame]) -> None:
    bag, connections, links = frames["bag"], frames["connections"], frames["truth_links"]
    assert frames["truth_connections"]["ean"].equals(connections["ean"])
    assert frames["consumption"]["ean"].is_in(connections["ean"].implode()).all()
    assert links["object_id"].is_in(bag["object_id"].implode()).all()
    assert links["ean"].is_in(connections["ean"].implode()).all()
    shares = links.group_by("ean").agg(pl.col("allocation_share").sum())["allocation_share"].to_numpy()
    assert np.allclose(shares, 1.0)
    linked = frames["truth_connections"].filter(pl.col("true_class") == "linked")["ean"]
    assert set(links["ean"]) == set(linked)


def test_noise_never_points_into_another_chunk(frames: dict[str, pl.DataFrame]) -> None:
    """A wrong, stale or sibling bag_id names an object of the connection's own region."""
    gemeente = frames["bag"].unique("object_id").select("object_id", "gemeente_code")
    served = frames["truth_links"].join(gemeente, on="object_id").select("ean", served="gemeente_code")
    registered = frames["connections"].join(gemeente, left_on="bag_id", right_on="object_id")
    pairs = registered.join(served, on="ean").select("gemeente_code", "served")
    assert pairs.height > 1000
    assert (pairs["gemeente_code"] == pairs["served"]).all()


def test_manifest_counts_add_up_over_chunks(frames: dict[str, pl.DataFrame], manifest: dict[str, object]) -> None:
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    assert manifest["n_objects"] == counts["objects"] == N_OBJECTS
    assert counts["bag_rows"] == frames["bag"].height
    assert counts["connections"] == frames["connections"].height == sum(counts["true_class"].values())
    assert counts["connections_by_product"] == dict(
        frames["connections"]["product"].value_counts().sort("product").iter_rows()
    )
    assert counts["consumption_rows"] == frames["consumption"].height
    assert counts["truth_links"] == frames["truth_links"].height
    assert counts["true_class"] == dict(
        frames["truth_connections"]["true_class"].value_counts().sort("true_class").iter_rows()
    )


def test_the_csv_of_a_chunked_run_holds_the_same_connections(tmp_path: Path, frames: dict[str, pl.DataFrame]) -> None:
    paths = synth.write_generated(N_OBJECTS, SEED, tmp_path, connections_format="csv", chunk_objects=CHUNK_OBJECTS)
    text = paths["connections"].read_bytes().decode("cp1252")
    assert text.count("\r\n") == frames["connections"].height + 1  # one header
    schema = {name.upper(): dtype for name, dtype in frames["connections"].schema.items()}
    back = pl.read_csv(text.encode("utf-8"), separator=";", schema=schema).rename(str.lower)
    assert back.equals(frames["connections"])


def test_namespace_shares_are_disjoint_and_whole() -> None:
    whole = namespace.whole()
    shares = [namespace.share(SEED, index, 7) for index in range(7)]
    for field in ("gemeente_codes", "place_names", "pc4_codes"):
        parts = [getattr(share, field) for share in shares]
        assert np.array_equal(np.sort(np.concatenate(parts)), np.sort(getattr(whole, field))), field
    assert sorted(name for share in shares for name in share.regional_names) == sorted(whole.regional_names)
    codes = [share.gemeente_codes for share in shares]
    assert all(earlier.max() < later.min() for earlier, later in itertools.pairwise(codes))


def test_chunk_sizes_add_up_and_stay_below_the_chunk() -> None:
    for n_objects, chunk_objects in [(9_000, 2_000), (10_000_000, 500_000), (1_000_001, 500_000), (500, 500)]:
        sizes = chunk_sizes(n_objects, chunk_objects)
        assert sum(sizes) == n_objects and max(sizes) <= chunk_objects and max(sizes) - min(sizes) <= 1


def test_too_small_chunks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunk_objects"):
        synth.write_generated(1000, 1, tmp_path, chunk_objects=150)
    too_few_codes = chunks.chunk(1, 0, len(namespace.GEMEENTE_CODES), chunks.single(1).ean_start)  # one code
    with pytest.raises(ValueError, match="gemeente codes"):
        generate_chunk(60_000, synth.NoiseConfig(), 2025, too_few_codes)  # two gemeenten


def test_a_failed_chunked_run_leaves_no_manifest_and_no_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synth.write(synth.generate(300, 1), tmp_path)  # an earlier run's manifest
    built = [0]

    def fail_on_the_second(*args: object) -> object:
        built[0] += 1
        if built[0] == 2:
            raise MemoryError("chunk two")
        return generate_chunk(*args)  # type: ignore[arg-type]

    monkeypatch.setattr("synth.chunked.generate_chunk", fail_on_the_second)
    with pytest.raises(MemoryError):
        synth.write_generated(N_OBJECTS, SEED, tmp_path, chunk_objects=CHUNK_OBJECTS)
    assert not (tmp_path / "manifest.json").exists() and not (tmp_path / ".parts").exists()
