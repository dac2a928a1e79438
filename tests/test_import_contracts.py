"""The layering contract (setup.cfg, import-linter): kept by the tree, broken by a violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests belong to
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")

pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter not installed (pip install -e '.[dev]')")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}  # this copy of fmnist; no wrapped lines
    return subprocess.run([LINT_IMPORTS, str(root / "setup.cfg"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip


def _copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    shutil.copytree(REPO_ROOT / "fmnist", root / "fmnist", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "setup.cfg", root / "setup.cfg")
    return root


def test_the_tree_keeps_every_contract():
    run = _lint(REPO_ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_a_core_module_importing_the_course_layer_breaks_the_layers_contract(tmp_path):
    root = _copy_tree(tmp_path)
    assert "imports point down only KEPT" in _lint(root).stdout  # the copy itself is layered
    module = root / "fmnist" / "data" / "idx.py"
    module.write_text(module.read_text() + "\nfrom fmnist.course.paths import home  # a violation\n")
    run = _lint(root)
    assert run.returncode != 0
    assert "imports point down only BROKEN" in run.stdout
    assert "fmnist.data.idx -> fmnist.course.paths" in run.stdout


def test_a_core_module_importing_tensorflow_breaks_the_frameworks_contract(tmp_path):
    root = _copy_tree(tmp_path)
    module = root / "fmnist" / "evaluation.py"
    module.write_text(module.read_text() + "\nimport tensorflow  # a violation\n")
    run = _lint(root)
    assert run.returncode != 0
    assert "only fmnist.backend imports tensorflow/jax/torch (benchmark baselines aside) BROKEN" in run.stdout
    assert "fmnist.evaluation -> tensorflow" in run.stdout
