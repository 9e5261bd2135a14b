"""Benchmarks print their figures and keep them in docs/benchmarks.md, one section per benchmark."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
_HEADER = (
    "# Benchmarks\n\nWritten by the scripts in `benchmarks/` on a 2-core, 24 GB machine; each section is"
    " replaced when its script runs again.\n"
)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def record_section(title: str, body: str) -> None:
    """Replace (or append) the `## title` section of docs/benchmarks.md and print it."""
    section = f"## {title}\n\n_{date.today().isoformat()}_\n\n{body.strip()}\n"
    print(section)
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else _HEADER
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    BENCHMARKS_MD.write_text(text)
