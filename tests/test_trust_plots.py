"""Plots of fmnist.visualization.trust: reliability diagrams and corruption curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from fmnist.calibration import reliability_table
from fmnist.visualization import (
    plot_corruption_accuracy,
    plot_mean_corruption_accuracy,
    plot_reliability_diagram,
    plot_uncertainty,
)


def _table():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10) * 0.3, 200)
    return reliability_table(probs, rng.integers(0, 10, 200))


def _corruption_table():
    rows = [{"model": m, "corruption": c, "severity": s, "accuracy": 0.9 - 0.1 * s - (m == "MLP") * 0.05}
            for m in ("MLP", "CNN") for c in ("shift", "rotation") for s in range(6)]  # fmt: skip
    return pd.DataFrame(rows)


def test_reliability_diagram_one_panel_per_table():
    fig = plot_reliability_diagram({"before": _table(), "after": _table()})
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["before", "after"]
    assert fig.axes[0].get_xlabel().startswith("confidence")


def test_corruption_plots():
    table = _corruption_table()
    fig = plot_corruption_accuracy(table)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["shift", "rotation"]
    assert len(fig.axes[0].get_lines()) == 2
    summary = pd.DataFrame({"clean": [0.9, 0.85], "mean corrupted": [0.6, 0.55]}, index=["CNN", "MLP"])
    fig = plot_mean_corruption_accuracy(summary)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["CNN", "MLP"]


def test_uncertainty_bands():
    grid = np.linspace(-5, 5, 50)
    fig = plot_uncertainty(grid, {"5-fold": (np.sin(grid), np.full(50, 0.1)), "seeds": (grid * 0, grid * 0 + 0.2)},
                           train=(grid[::5], np.sin(grid[::5])))  # fmt: skip
    assert [ax.get_title() for ax in fig.axes] == ["5-fold", "seeds"]
    with pytest.raises(ValueError, match="need 50 values"):
        plot_uncertainty(grid, {"bad": (np.zeros(3), np.zeros(3))})


@pytest.mark.parametrize("call, match", [
    (lambda: plot_reliability_diagram({}), "non-empty"),
    (lambda: plot_reliability_diagram({"x": pd.DataFrame({"a": [1]})}), "table 'x' must be a DataFrame"),
    (lambda: plot_corruption_accuracy(pd.DataFrame({"model": []})), "columns"),
    (lambda: plot_mean_corruption_accuracy(pd.DataFrame({"clean": [1.0]})), "mean_corruption_accuracy"),
])  # fmt: skip
def test_bad_tables(call, match):
    with pytest.raises(ValueError, match=match):
        call()
