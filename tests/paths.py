"""Where the tests find the checkout, its bundled sample and `../shared` beside it."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = PROJECT_ROOT / "sample"
SHARED = PROJECT_ROOT.parent / "shared"
