"""Packaging: setup.cfg and environment.yml declare the same requirements."""

from __future__ import annotations

import configparser
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests belong to


def _setup_cfg_requirements() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO_ROOT / "setup.cfg")
    lines = cfg["options"]["install_requires"].splitlines()
    lines += cfg["options.extras_require"]["dev"].splitlines()
    return {line.strip() for line in lines if line.strip()}


def _environment_requirements() -> set[str]:
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    return {req for req in pip if not req.startswith("-e")}


def test_environment_yml_matches_setup_cfg():
    assert _environment_requirements() == _setup_cfg_requirements()


def test_required_stack_is_declared():
    names = {req.split(">")[0].split("=")[0] for req in _setup_cfg_requirements()}
    for name in ("tensorflow", "keras", "keras-tuner", "talos", "tensorboard", "nbval"):
        assert name in names
    talos = next(r for r in _setup_cfg_requirements() if r.startswith("talos"))
    assert talos == "talos>=2.0.10"  # talos 1.x pins TensorFlow 2.14


def test_no_generated_files_tracked():
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    bad = [f for f in tracked if f.endswith((".gz", ".keras", ".pyc")) or f.startswith(".venv")]
    assert bad == []
