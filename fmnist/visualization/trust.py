"""Can the models be trusted: reliability diagrams and accuracy under corruption."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fmnist.data import GAPS
from fmnist.visualization._common import figure_title, new_figure, palette, panel_row, single_axes, styled
from fmnist.visualization.regression import _shade_gaps

_RELIABILITY_COLUMNS = {"low", "high", "count", "confidence", "accuracy"}
_CORRUPTION_COLUMNS = {"model", "corruption", "severity", "accuracy"}


def _frame(table, needed: set[str], what: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
        raise ValueError(f"{what} must be a DataFrame with columns {sorted(needed)}")
    return table


@styled
def plot_reliability_diagram(tables: Mapping[str, pd.DataFrame], ax: Axes | None = None,
                             title: str | None = None) -> Figure:  # fmt: skip
    """One panel per table (``fmnist.calibration.reliability_table``): accuracy per confidence
    bin as bars against the diagonal of perfect calibration, with each bin's share of samples.

    ``tables`` maps a label (e.g. ``"CNN, before"``, ``"CNN, T = 1.6"``) to a table; bars below
    the diagonal mean overconfident predictions.
    """
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError("tables must be a non-empty {label: reliability_table} mapping")
    fig, axes = panel_row(ax, len(tables), "plot_reliability_diagram", (3.8, 3.8))
    for panel, (label, table) in zip(axes, tables.items()):
        table = _frame(table, _RELIABILITY_COLUMNS, f"table {label!r}")
        width = (table["high"] - table["low"]).to_numpy()
        centres = ((table["low"] + table["high"]) / 2).to_numpy()
        used = table["count"].to_numpy() > 0
        panel.bar(centres[used], table["accuracy"].to_numpy()[used], width=width[used] * 0.95,
                  color=palette(1)[0], edgecolor="white", label="accuracy")  # fmt: skip
        panel.plot([0, 1], [0, 1], color="0.3", linestyle="--", linewidth=1, label="perfect calibration")
        share = table["count"].to_numpy() / max(int(table["count"].sum()), 1)
        panel.bar(centres, share, width=width * 0.95, bottom=0, color="0.75", alpha=0.7,
                  label="share of samples")  # fmt: skip
        panel.set_xlim(0, 1)
        panel.set_ylim(0, 1)
        panel.set_xlabel("confidence (top-class probability)")
        panel.set_ylabel("accuracy in the bin")
        panel.set_title(str(label))
    axes[0].legend(loc="upper left", fontsize="small")
    figure_title(fig, title)
    return fig


@styled
def plot_corruption_accuracy(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Accuracy against severity, one panel per corruption, one line per model
    (``fmnist.robustness.corruption_accuracy`` output)."""
    table = _frame(table, _CORRUPTION_COLUMNS, "table")
    if table.empty:
        raise ValueError("table has no rows")
    names = list(dict.fromkeys(table["corruption"]))
    models = list(dict.fromkeys(table["model"]))
    ncols = min(len(names), 3)
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = new_figure(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), sharey=True)
    colors = dict(zip(models, palette(len(models))))
    for panel, name in zip(axes.flat, names):
        chosen = table[table["corruption"] == name]
        for model in models:
            rows = chosen[chosen["model"] == model].sort_values("severity")
            panel.plot(rows["severity"], rows["accuracy"], marker="o", color=colors[model], label=str(model))
        panel.set_title(name)
        panel.set_xlabel("severity")
        panel.set_xticks(sorted(chosen["severity"].unique()))
    for panel in axes[:, 0]:
        panel.set_ylabel("test accuracy")
    for panel in axes.flat[len(names):]:
        panel.set_visible(False)
    axes.flat[0].legend(fontsize="small")
    figure_title(fig, title or "Accuracy under corruption")
    return fig


@styled
def plot_mean_corruption_accuracy(summary: pd.DataFrame, ax: Axes | None = None,
                                  title: str | None = None) -> Figure:  # fmt: skip
    """Clean vs mean corrupted accuracy per model (``fmnist.robustness.mean_corruption_accuracy``)."""
    if not isinstance(summary, pd.DataFrame) or "mean corrupted" not in summary.columns:
        raise ValueError("summary must be a mean_corruption_accuracy() table")
    fig, ax = single_axes(ax, figsize=(6, 0.5 * len(summary) + 1.8))
    columns = [c for c in ("clean", "mean corrupted") if c in summary.columns]
    y = np.arange(len(summary))
    height = 0.8 / len(columns)
    for i, (column, color) in enumerate(zip(columns, palette(len(columns)))):
        values = summary[column].to_numpy(dtype=float)
        ax.barh(y + i * height, values, height=height, color=color, label=column)
        for yy, value in zip(y + i * height, values):
            ax.annotate(f"{value:.1%}", (value, yy), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize="small")  # fmt: skip
    ax.set_yticks(y + height * (len(columns) - 1) / 2, [str(m) for m in summary.index])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("test accuracy")
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title(title or "Clean vs corrupted accuracy")
    return fig


@styled
def plot_uncertainty(x_grid, bands: Mapping[str, tuple], train=None, test=None, z: float = 2.0,
                     gaps=GAPS, title: str | None = None) -> Figure:  # fmt: skip
    """One panel per band: the mean and ``mean +- z * std`` over ``x_grid``, with the data and
    the gaps (``bands`` maps a label to ``(mean, std)``, e.g. from ``fmnist.uncertainty``)."""
    if not isinstance(bands, Mapping) or not bands:
        raise ValueError("bands must be a non-empty {label: (mean, std)} mapping")
    x_grid = np.asarray(x_grid, dtype=float).reshape(-1)
    fig, axes = new_figure(1, len(bands), figsize=(5.2 * len(bands), 4), sharey=True)
    colors = palette(3)
    for panel, (label, band) in zip(axes[0], bands.items()):
        mean, std = (np.asarray(a, dtype=float).reshape(-1) for a in band)
        if mean.shape != x_grid.shape or std.shape != x_grid.shape:
            raise ValueError(f"band {label!r}: mean and std need {x_grid.size} values (one per x_grid point)")
        _shade_gaps(panel, gaps)
        panel.fill_between(x_grid, mean - z * std, mean + z * std, color=colors[2], alpha=0.3,
                           linewidth=0, label=f"mean +- {z:g} sigma")  # fmt: skip
        panel.plot(x_grid, mean, color=colors[2], linewidth=2, label="mean")
        for pair, style, what in ((train, {"s": 14, "color": colors[0]}, "train"),
                                  (test, {"s": 18, "facecolors": "none",
                                          "edgecolors": colors[1]}, "test")):  # fmt: skip
            if pair is not None:
                panel.scatter(np.ravel(pair[0]), np.ravel(pair[1]), label=what, **style)
        panel.set_title(str(label))
        panel.set_xlabel("x")
    axes[0, 0].set_ylabel("y")
    axes[0, 0].legend(fontsize="small", loc="upper left")
    figure_title(fig, title)
    return fig
