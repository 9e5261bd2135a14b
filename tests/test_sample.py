"""The bundled sample is what `make sample` generates: reproducible, not hand-edited."""

from pathlib import Path

import synth
from tests.paths import SAMPLE_DIR

SAMPLE_OBJECTS, SAMPLE_SEED = 5000, 2026  # as in the Makefile's `sample` target


def test_bundled_sample_equals_a_fresh_generation(tmp_path: Path) -> None:
    written = synth.write(synth.generate(SAMPLE_OBJECTS, SAMPLE_SEED), tmp_path, connections_format="csv")
    for path in written.values():
        bundled = SAMPLE_DIR / path.relative_to(tmp_path)
        assert bundled.read_bytes() == path.read_bytes(), f"{bundled} differs: run `make sample`"
