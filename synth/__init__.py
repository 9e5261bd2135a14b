"""Sample data generator: fictional gemeenten as BAG, a grid operator's register, consumption
and the truth, in the canonical input formats, with a documented noise model (docs/synth.md).

    dataset = synth.generate(10_000, seed=7, noise=synth.NoiseConfig().with_overrides({"postcode_missing": 0.1}))
    synth.write(dataset, Path("out/gemeente"), connections_format="csv")
    synth.write_generated(10_000_000, seed=7, out_dir=Path("out/national"))  # in chunks: bounded memory
"""

from synth.chunked import write_generated
from synth.config import NoiseConfig
from synth.dataset import MIN_OBJECTS, SynthDataset, generate
from synth.writer import write

__all__ = ["MIN_OBJECTS", "NoiseConfig", "SynthDataset", "generate", "write", "write_generated"]
