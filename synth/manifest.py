"""`manifest.json`: what produced a run's files and how many of what they hold.

The counts are taken per dataset and summed, so that a run written a chunk at a time
(synth.chunked) describes itself exactly as a run written in one piece. No timestamps: the same
arguments give a byte-identical manifest.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from synth.config import NoiseConfig
from synth.dataset import SynthDataset


@dataclass(frozen=True)
class Counts:
    """Row counts and breakdowns of the files; the sum of two is the count of both."""

    bag_rows: int
    objects: int  # distinct object ids; chunks never share one, so these add up
    connections: int
    connections_by_product: Counter[str]
    consumption_rows: int
    truth_links: int
    true_class: Counter[str]
    noise: Counter[str]

    @classmethod
    def of(cls, dataset: SynthDataset) -> Counts:
        noise: Counter[str] = Counter()
        for combination, count in dataset.truth_connections["noise"].value_counts().iter_rows():
            for kind in filter(None, combination.split(";")):
                noise[kind] += count
        return cls(
            bag_rows=dataset.bag.height,
            objects=dataset.bag["object_id"].n_unique(),
            connections=dataset.connections.height,
            connections_by_product=_counter(dataset.connections["product"]),
            consumption_rows=dataset.consumption.height,
            truth_links=dataset.truth_links.height,
            true_class=_counter(dataset.truth_connections["true_class"]),
            noise=noise,
        )

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            bag_rows=self.bag_rows + other.bag_rows,
            objects=self.objects + other.objects,
            connections=self.connections + other.connections,
            connections_by_product=self.connections_by_product + other.connections_by_product,
            consumption_rows=self.consumption_rows + other.consumption_rows,
            truth_links=self.truth_links + other.truth_links,
            true_class=self.true_class + other.true_class,
            noise=self.noise + other.noise,
        )

    def as_dict(self) -> dict[str, object]:
        """The manifest's `counts`, breakdowns sorted by key."""
        return {
            "bag_rows": self.bag_rows,
            "objects": self.objects,
            "connections": self.connections,
            "connections_by_product": dict(sorted(self.connections_by_product.items())),
            "consumption_rows": self.consumption_rows,
            "truth_links": self.truth_links,
            "true_class": dict(sorted(self.true_class.items())),
            "noise": dict(sorted(self.noise.items())),
        }


@dataclass(frozen=True)
class Run:
    """The arguments a run was generated with."""

    n_objects: int
    seed: int
    year: int
    noise: NoiseConfig


def write_manifest(
    path: Path, run: Run, files: dict[str, str], counts: Counts, gemeenten: list[dict[str, object]]
) -> None:
    """The manifest of a run: its arguments, its files, and the counts and gemeenten of all its chunks."""
    manifest = {
        "n_objects": run.n_objects,
        "seed": run.seed,
        "year": run.year,
        "noise": run.noise.as_dict(),
        "files": files,
        "counts": counts.as_dict(),
        "gemeenten": gemeenten,
    }
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _counter(series: pl.Series) -> Counter[str]:
    return Counter(dict(series.value_counts().iter_rows()))
