"""The README's layout table matches the tree and the import contract's layers."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests belong to
PACKAGE = REPO_ROOT / "fmnist"


def _table() -> dict[str, str]:
    """``{module: layer}`` from the README's layout table."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Layout"):readme.index("## Command line")]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in ("backend", "core", "plotting", "course"):
            for module in re.findall(r"`(fmnist[\w.]*)`", cells[1]):
                rows[module] = cells[0]
    return rows


def _modules_in_tree() -> set[str]:
    """Top-level modules and packages of fmnist, and those of fmnist.course."""
    found = set()
    for parent, prefix in ((PACKAGE, "fmnist"), (PACKAGE / "course", "fmnist.course")):
        for path in parent.iterdir():
            if path.name.startswith(("_", ".")) or path.name == "course":
                continue
            if path.suffix == ".py" or (path / "__init__.py").is_file():
                found.add(f"{prefix}.{path.stem}")
    return found


def test_every_module_is_in_the_table_and_every_row_exists():
    table = set(_table())
    tree = _modules_in_tree()
    assert tree - table == set(), "modules missing from the README's layout table"
    assert table - tree == set(), "README layout rows naming modules that do not exist"


def test_the_table_puts_each_module_in_its_contract_layer():
    cfg = configparser.ConfigParser()
    cfg.read(REPO_ROOT / "setup.cfg")
    layers = [line.strip() for line in cfg["importlinter:contract:layers"]["layers"].splitlines() if line.strip()]
    named = {"course": {"fmnist.course"}, "plotting": {"fmnist.visualization"}, "backend": {"fmnist.backend"}}
    core = {m.strip() for layer in layers for m in re.split(r"[|:]", layer)} - set().union(*named.values())
    named["core"] = core
    for module, layer in _table().items():
        top = ".".join(module.split(".")[:2])
        assert top in named[layer], f"{module} is in the README's {layer} layer but not in its contract layer"
