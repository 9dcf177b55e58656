"""The pipeline's layering is a contract (pyproject.toml [tool.importlinter]):
a stage may import earlier stages, never later ones."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def lint_imports(root: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "lint-imports")]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, env=env)


def test_stages_only_import_forward():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_the_contract_catches_a_stage_reaching_back(tmp_path):
    """The contract is not vacuous: a model that imports render breaks it."""
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "sitegen", copy / "sitegen", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    model = copy / "sitegen" / "model" / "__init__.py"
    model.write_text(model.read_text() + "\nimport sitegen.render  # reaching back up\n")
    # PYTHONPATH puts the altered copy ahead of the installed package.
    result = lint_imports(copy, env={**os.environ, "PYTHONPATH": str(copy)})
    assert result.returncode != 0
    assert "sitegen.model -> sitegen.render" in result.stdout
