"""Sample data generator: fictional gemeenten as BAG, a grid operator's register, consumption
and the truth, in the canonical input formats, with a documented noise model (docs/synth.md).

    dataset = synth.generate(10_000, seed=7, noise=synth.NoiseConfig().with_overrides({"postcode_missing": 0.1}))
    synth.write(dataset, Path("out/gemeente"), connections_format="csv")
"""

from synth.config import NoiseConfig
from synth.dataset import MIN_OBJECTS, SynthDataset, generate
from synth.writer import write

__all__ = ["MIN_OBJECTS", "NoiseConfig", "SynthDataset", "generate", "write"]
