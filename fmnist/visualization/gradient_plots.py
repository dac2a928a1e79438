"""Vanishing/exploding-gradient figures (tables from :mod:`fmnist.gradients`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fmnist.visualization._common import (
    figure_title,
    integer_epochs,
    new_figure,
    palette,
    panel_row,
    single_axes,
    styled,
)

INIT_LABELS = {
    "uniform_small": "uniform [0, 0.1]",
    "uniform_large": "uniform [0, 10]",
    "glorot": "Glorot",
    "he": "He",
}
_LONG_COLUMNS = {"config", "epoch", "layer", "norm"}


def _require_columns(frame, columns: set[str], what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = columns - set(frame.columns)
    if missing:
        raise ValueError(f"{what} lacks columns {sorted(missing)}; it has {list(frame.columns)}")
    return frame


@styled
def plot_matrix_products(table: pd.DataFrame, stats: Sequence[str] = ("mean", "std"),
                         ax: Axes | None = None, title: str | None = None) -> Figure:
    """``|mean|`` and std of the vector per depth on a log axis, one line per init.

    ``table`` is ``fmnist.gradients.matrix_product_demo()``. Log axes cannot show 0 or inf,
    so the depth where a line vanishes to exactly 0 (v) or overflows to inf/nan (^) is
    marked at the bottom/top edge.
    """
    _require_columns(table, {"init", "depth", *stats}, "table")
    fig, axes = panel_row(ax, len(stats), "plot_matrix_products", (6, 4.3))
    colors = palette()
    for stat, panel in zip(stats, axes):
        for i, (init, group) in enumerate(table.groupby("init", sort=False)):
            color = colors[i % len(colors)]
            values = group[stat].abs().to_numpy(dtype=float)
            depth = group["depth"].to_numpy()
            finite = np.isfinite(values) & (values > 0)
            label = INIT_LABELS.get(init, init)
            panel.plot(depth[finite], values[finite], color=color, label=label)
            overflow = np.flatnonzero(~np.isfinite(values))
            vanished = np.flatnonzero(values == 0)
            if overflow.size:
                panel.plot(depth[overflow[0]], 0.97, marker="^", markersize=10, color=color,
                           transform=panel.get_xaxis_transform(), clip_on=False)
                panel.annotate(f"inf/nan from depth {depth[overflow[0]]}",
                               (depth[overflow[0]], 0.97), xycoords=panel.get_xaxis_transform(),
                               xytext=(6, -4), textcoords="offset points", fontsize="x-small",
                               color=color, va="top")
            if vanished.size:
                panel.plot(depth[vanished[0]], 0.03, marker="v", markersize=10, color=color,
                           transform=panel.get_xaxis_transform(), clip_on=False)
                panel.annotate(f"exactly 0 from depth {depth[vanished[0]]}",
                               (depth[vanished[0]], 0.03), xycoords=panel.get_xaxis_transform(),
                               xytext=(-6, 4), textcoords="offset points", fontsize="x-small",
                               color=color, ha="right")
        panel.set_yscale("log")
        panel.set_xlabel("depth (number of matrix products)")
        panel.set_ylabel(f"|{stat}| of the vector (log)" if stat == "mean"
                         else f"{stat} of the vector (log)")
        panel.set_title(f"{stat.capitalize()} per depth")
        panel.legend(fontsize="small")
    figure_title(fig, title or ("Random matrix products: vanishing and exploding"
                                if len(axes) > 1 else None))
    return fig


def _norms_at(norms: pd.DataFrame, epoch: int) -> pd.DataFrame:
    """Wide ``layer x config`` table from any of the gradient-norm tables."""
    if not isinstance(norms, pd.DataFrame):
        raise TypeError(f"norms must be a pandas DataFrame, got {type(norms).__name__}")
    if _LONG_COLUMNS <= set(norms.columns):
        chosen = norms[norms["epoch"] == epoch]
        if chosen.empty:
            raise ValueError(f"no norms for epoch {epoch}; epochs: "
                             f"{sorted(norms['epoch'].unique())}")
        layer_order = chosen["layer"].drop_duplicates()
        wide = chosen.pivot(index="layer", columns="config", values="norm")
        return wide.loc[layer_order, chosen["config"].drop_duplicates()]
    if "kernel" in norms.columns:  # fmnist.gradients.gradient_norms of one model
        return norms[["kernel"]].rename(columns={"kernel": "kernel gradient"})
    return norms


@styled
def plot_gradient_norms(norms: pd.DataFrame, epoch: int = 0, ax: Axes | None = None,
                        title: str | None = None) -> Figure:
    """Kernel-gradient norm per layer (input to output) on a log axis, bars per config.

    Args:
        norms: ``DeepThinResult.norms`` (long; ``epoch`` selects the row, 0 =
            initialization), ``DeepThinResult.at_init()`` (layers x configs) or
            ``fmnist.gradients.gradient_norms(model, x, y)`` (one model).
    """
    wide = _norms_at(norms, epoch)
    fig, ax = single_axes(ax, figsize=(max(6.0, 1.1 * len(wide) + 2), 4.3))
    width = 0.8 / wide.shape[1]
    positions = np.arange(len(wide))
    for i, config in enumerate(wide.columns):
        values = wide[config].to_numpy(dtype=float)
        ax.bar(positions + (i - (wide.shape[1] - 1) / 2) * width, values, width,
               label=str(config))
    ax.set_yscale("log")
    ax.set_xticks(positions, [str(name) for name in wide.index], rotation=30, ha="right")
    ax.set_xlabel("layer (input -> output)")
    ax.set_ylabel("gradient L2 norm (log)")
    when = "at initialization" if epoch == 0 else f"after epoch {epoch}"
    ax.set_title(title or f"Gradient norm per layer {when}")
    if wide.shape[1] > 1:
        ax.legend(fontsize="small")
    return fig


@styled
def plot_gradient_norm_history(norms: pd.DataFrame, title: str | None = None) -> Figure:
    """Kernel-gradient norm of every layer per epoch, one panel per configuration.

    ``norms`` is ``DeepThinResult.norms`` (columns ``config, epoch, layer, norm``).
    """
    _require_columns(norms, _LONG_COLUMNS, "norms")
    configs = list(norms["config"].drop_duplicates())
    layers = list(norms["layer"].drop_duplicates())
    colors = dict(zip(layers, sns.color_palette("viridis", len(layers))))
    fig, axes = new_figure(1, len(configs), figsize=(4.3 * len(configs), 4), sharey=True)
    for panel, config in zip(axes[0], configs):
        chosen = norms[norms["config"] == config]
        for layer, group in chosen.groupby("layer", sort=False):
            panel.plot(group["epoch"], group["norm"], marker="o", markersize=3,
                       color=colors[layer], label=layer)
        panel.set_yscale("log")
        panel.set_title(str(config))
        panel.set_xlabel("epoch (0 = initialization)")
        integer_epochs(panel)
    axes[0, 0].set_ylabel("gradient L2 norm (log)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize="small", title="layer")
    figure_title(fig, title or "Gradient norms during training")
    return fig
