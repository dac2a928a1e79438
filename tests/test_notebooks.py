"""The committed notebooks: nbval markers live in cell tags, and nbval compares enough cells.

Reads the notebook files only (no kernel, no Keras).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: The tags nbval 0.11 reads (nbval.plugin.metadata_tags).
NBVAL_TAGS = {"nbval-ignore-output", "nbval-check-output", "nbval-raises-exception", "nbval-skip",
              "raises-exception"}
NOT_COMPARED = {"nbval-ignore-output", "nbval-skip"}
#: Compared cells over all notebooks: never fewer than when the markers moved into tags (75),
#: plus the cells added since (notebook 03's two gradient-ascent figures, 07's curves).
MIN_COMPARED = 78


def _code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]


def _compared(path: Path) -> int:
    return sum(not NOT_COMPARED & set(c["metadata"].get("tags", [])) for c in _code_cells(path))


def test_the_notebooks_are_there():
    assert [p.stem[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, len(NOTEBOOKS) + 1)]
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_nbval_comments_in_front_of_readers(path):
    for index, cell in enumerate(_code_cells(path)):
        source = "".join(cell["source"])
        assert not re.search(r"#\s*(NBVAL|PYTEST_VALIDATE)_", source), f"code cell {index}: use a cell tag"
        unknown = {t for t in cell["metadata"].get("tags", []) if t.startswith(("nbval", "raises"))} - NBVAL_TAGS
        assert not unknown, f"code cell {index}: tags nbval does not know: {sorted(unknown)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_cell_starts_the_notebook_and_prints_one_line(path):
    first = "".join(_code_cells(path)[0]["source"])
    assert "start_notebook(" in first
    # The profile is printed by start_notebook (Profile.summary), not displayed as a repr.
    assert first.rstrip().splitlines()[-1].startswith("profile = start_notebook(")


def test_nbval_compares_enough_cells():
    per_notebook = {p.stem: _compared(p) for p in NOTEBOOKS}
    assert sum(per_notebook.values()) >= MIN_COMPARED, per_notebook
    assert per_notebook["10_trust"] >= 5  # issue I: at least 5 compared cells in the quick profile
    assert per_notebook["11_speedrun"] >= 5
