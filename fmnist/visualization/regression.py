"""The 1-D regression task: data, fits and what the hidden units do."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fmnist.data import DOMAIN, GAPS, true_function
from fmnist.visualization._common import (
    DIVERGING_CMAP,
    GAP_COLOR,
    figure_title,
    new_figure,
    palette,
    single_axes,
    styled,
)

#: Sentinel for "use the project default from fmnist.data" (None means "do not draw").
DEFAULT = "default"


def _is_default(value) -> bool:
    return isinstance(value, str) and value == DEFAULT


def _regression_defaults():
    return DOMAIN, GAPS, true_function


def _shade_gaps(ax: Axes, gaps, label: bool = True) -> None:
    for i, (low, high) in enumerate(gaps or ()):
        ax.axvspan(low, high, color=GAP_COLOR, alpha=0.6, zorder=0, linewidth=0,
                   label="gap (no training data)" if label and i == 0 else None)


def _predict(model_or_values, x_grid: np.ndarray) -> np.ndarray:
    if hasattr(model_or_values, "predict"):
        values = model_or_values(x_grid.reshape(-1, 1).astype(np.float32), training=False)
    else:
        values = model_or_values
    values = np.asarray(values, dtype=float).reshape(-1)
    if values.shape != x_grid.shape:
        raise ValueError(f"predictions have {values.size} values but x_grid has {x_grid.size}")
    return values


def _is_ensemble(value) -> bool:
    """A list of models or of prediction arrays (not a plain list of numbers)."""
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(
        hasattr(v, "predict") or np.ndim(v) >= 1 for v in value)


def _xy(pair, what: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        x, y = pair
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be an (x, y) pair") from None
    x, y = np.asarray(x, dtype=float).reshape(-1), np.asarray(y, dtype=float).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"{what}: x has {x.size} values, y has {y.size}")
    return x, y


@styled
def plot_regression(train=None, test=None, predictions: Mapping | None = None, x_grid=None,
                    true_function: Callable | str | None = DEFAULT, gaps=DEFAULT,
                    ax: Axes | None = None, title: str | None = None) -> Figure:
    """Training/test points, the gap regions, the true function and model predictions.

    Args:
        train, test: ``(x, y)`` pairs (e.g. from ``fmnist.data.load_regression()``).
        predictions: ``{label: p}`` where ``p`` is a model, an array of predictions on
            ``x_grid``, or a list of models/arrays (an ensemble: drawn as the mean with a
            band spanning the members), e.g. ``{"single model": m, "CV ensemble": cv.models}``.
        x_grid: where predictions are evaluated (default 400 points over the domain).
        true_function: callable; default ``fmnist.data.true_function``; None hides it.
        gaps: ``((low, high), ...)`` shaded; default ``fmnist.data.GAPS``; None hides them.
    """
    if _is_default(true_function) or _is_default(gaps) or x_grid is None:
        domain, default_gaps, default_truth = _regression_defaults()
        true_function = default_truth if _is_default(true_function) else true_function
        gaps = default_gaps if _is_default(gaps) else gaps
        x_grid = np.linspace(*domain, 400) if x_grid is None else x_grid
    x_grid = np.asarray(x_grid, dtype=float).reshape(-1)
    fig, ax = single_axes(ax, figsize=(10, 5))
    colors = palette()
    _shade_gaps(ax, gaps)
    if true_function is not None:
        ax.plot(x_grid, true_function(x_grid), color="black", linewidth=2, label="true function")
    if train is not None:
        x, y = _xy(train, "train")
        ax.scatter(x, y, s=18, color=colors[0], alpha=0.8, label=f"train ({x.size})")
    if test is not None:
        x, y = _xy(test, "test")
        ax.scatter(x, y, s=22, facecolors="none", edgecolors=colors[1], label=f"test ({x.size})")
    for i, (label, value) in enumerate((predictions or {}).items()):
        color = colors[(i + 2) % len(colors)]
        if _is_ensemble(value):
            members = np.stack([_predict(v, x_grid) for v in value])
            ax.fill_between(x_grid, members.min(axis=0), members.max(axis=0), color=color,
                            alpha=0.2, linewidth=0, label=f"{label}: member range")
            ax.plot(x_grid, members.mean(axis=0), color=color, linewidth=2,
                    label=f"{label} (mean of {len(members)})")
        else:
            ax.plot(x_grid, _predict(value, x_grid), color=color, linewidth=2, label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or "Regression: data, gaps and fits")
    ax.legend(fontsize="small", loc="best")
    return fig


def _check_layers(values: Mapping[str, np.ndarray], what: str) -> dict[str, np.ndarray]:
    if not isinstance(values, Mapping) or not values:
        raise TypeError(f"{what} must be a non-empty {{layer name: array}} dict "
                        "(from fmnist.interpret)")
    out = {name: np.asarray(a, dtype=float) for name, a in values.items()}
    for name, array in out.items():
        if array.ndim != 2:
            raise ValueError(f"{what}[{name!r}] must be (inputs, units), got {array.shape}")
    return out


@styled
def plot_activation_profiles(profiles: Mapping[str, np.ndarray], x_grid=None, gaps=DEFAULT,
                             title: str | None = None) -> Figure:
    """Activation of every hidden unit over x, one panel per layer.

    Args:
        profiles: ``fmnist.interpret.activation_profiles(model, x_grid)``.
        x_grid: the inputs used (default: 201 points on [-5, 5], the interpret default).
        gaps: shaded x ranges (default ``fmnist.data.GAPS``, None for none).
    """
    profiles = _check_layers(profiles, "profiles")
    n = next(iter(profiles.values())).shape[0]
    x = np.linspace(-5.0, 5.0, n) if x_grid is None else np.asarray(x_grid, float).reshape(-1)
    if _is_default(gaps):
        gaps = _regression_defaults()[1]
    fig, axes = new_figure(1, len(profiles), figsize=(4.6 * len(profiles), 3.8), sharex=True)
    for panel, (name, values) in zip(axes[0], profiles.items()):
        if values.shape[0] != x.size:
            raise ValueError(f"profiles[{name!r}] has {values.shape[0]} rows, x_grid {x.size}")
        _shade_gaps(panel, gaps, label=False)
        colors = sns.color_palette("husl", values.shape[1])
        for unit in range(values.shape[1]):
            panel.plot(x, values[:, unit], color=colors[unit], linewidth=1.2)
        panel.set_title(f"{name} ({values.shape[1]} units)")
        panel.set_xlabel("x")
        panel.set_ylabel("activation")
    figure_title(fig, title or "Hidden-unit activations over the input (gaps shaded)")
    return fig


@styled
def plot_activation_patterns(patterns: Mapping[str, np.ndarray], inputs: Sequence[float],
                             annotate: bool | None = None, title: str | None = None) -> Figure:
    """Heatmap per layer: which units fire (red +, blue -) for each given input.

    Args:
        patterns: ``fmnist.interpret.activation_patterns(model, inputs)``.
        inputs: the inputs, used as row labels (``x = -4`` ...).
        annotate: write the values in the cells (default when a layer has <= 16 units).
    """
    patterns = _check_layers(patterns, "patterns")
    inputs = np.asarray(inputs).reshape(len(inputs), -1)
    labels = [f"x = {v[0]:g}" if v.size == 1 else f"input {i}" for i, v in enumerate(inputs)]
    heights = [max(1.6, 0.38 * len(labels) + 0.9) for _ in patterns]
    widest = max(a.shape[1] for a in patterns.values())
    fig, axes = new_figure(len(patterns), 1, figsize=(max(6.0, 0.45 * widest + 2.5),
                                                       sum(heights)))
    for panel, (name, values) in zip(axes[:, 0], patterns.items()):
        if values.shape[0] != len(labels):
            raise ValueError(f"patterns[{name!r}] has {values.shape[0]} rows for "
                             f"{len(labels)} inputs")
        limit = float(np.abs(values).max()) or 1.0
        show = values.shape[1] <= 16 if annotate is None else annotate
        # Symmetric limits center the diverging map at 0 (seaborn's center= is not needed).
        sns.heatmap(values, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, ax=panel,
                    annot=show, fmt=".2f", annot_kws={"size": 7}, yticklabels=labels,
                    xticklabels=[str(u + 1) for u in range(values.shape[1])],
                    cbar_kws={"label": "activation"})
        panel.set_title(name)
        panel.set_xlabel("unit")
        panel.set_ylabel("input")
        panel.tick_params(axis="y", rotation=0)
    figure_title(fig, title or "Activation patterns per layer")
    return fig
