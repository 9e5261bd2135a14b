"""The layering of docs/architecture.md holds: `lint-imports` keeps the contracts of pyproject.toml,
and those contracts break on an import that goes the wrong way."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.paths import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_project_keeps_its_import_contracts() -> None:
    result = _lint(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_against_the_layers_breaks_the_contract(tmp_path: Path) -> None:
    """The same contracts over a tree where the core imports the linkage layer and linkage imports
    the Dagster wiring: both contracts must report it."""
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "core" / "config.py").write_text("import linkage\n")
    (tmp_path / "linkage" / "engine.py").write_text("import pipelines\n")
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "__init__.py").write_text("")
    contracts = "\n".join(
        f"[[tool.importlinter.contracts]]\nname = {c['name']!r}\ntype = {c['type']!r}\n"
        + "\n".join(f"{key} = {value!r}" for key, value in c.items() if key not in ("name", "type"))
        for c in config["contracts"]
    )
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.importlinter]\nroot_packages = {config['root_packages']!r}\ninclude_external_packages = true\n\n"
        + contracts
        + "\n"
    )
    result = _lint(tmp_path)
    assert result.returncode == 1
    assert "2 broken" in result.stdout
    assert "core.config -> linkage" in result.stdout
    assert "linkage.engine -> pipelines" in result.stdout
