"""Training results: learning curves, confusion matrices, model comparison, weights, tuning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fmnist.evaluation import confusion
from fmnist.interpret import layer_weights
from fmnist.visualization._common import (
    BEST_COLOR,
    figure_title,
    grid_shape,
    hide_unused,
    integer_epochs,
    new_figure,
    palette,
    panel_row,
    single_axes,
    styled,
    to_labels,
)
from fmnist.visualization._common import (
    class_names as _class_names,
)

_METRIC_LABELS = {"loss": "loss", "accuracy": "accuracy", "mse": "MSE", "mae": "MAE"}


# --------------------------------------------------------------------------------------------
# learning curves
# --------------------------------------------------------------------------------------------
def history_frame(run) -> pd.DataFrame:
    """A per-epoch DataFrame (index = epoch, from 1) from any kind of training record.

    Accepts a DataFrame, a ``TrainResult``-like object with a ``history`` DataFrame, a Keras
    ``History`` (``.history`` dict) or a dict of per-epoch lists.
    """
    record = getattr(run, "history", run)
    if isinstance(record, dict):
        record = pd.DataFrame(record)
    if not isinstance(record, pd.DataFrame):
        raise TypeError("expected a history DataFrame, a dict of per-epoch lists, a Keras "
                        f"History or an object with a .history DataFrame; got {type(run).__name__}")
    frame = record.copy()
    if "epoch" in frame.columns:
        frame = frame.set_index("epoch")
    elif frame.index.name != "epoch":  # Keras/CSV histories count from 0 by position
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
    if frame.empty:
        raise ValueError("the history is empty (no epochs)")
    return frame


def _runs(runs) -> dict[str, object]:
    if isinstance(runs, Mapping) and not all(isinstance(v, (list, np.ndarray))
                                             for v in runs.values()):
        return {str(name): run for name, run in runs.items()}
    if isinstance(runs, (list, tuple)):
        return {f"run {i + 1}": run for i, run in enumerate(runs)}
    return {"": runs}


@styled
def plot_learning_curves(runs, metrics: Sequence[str] = ("loss", "accuracy"),
                         monitor: str = "val_loss", ax: Axes | None = None,
                         title: str | None = None) -> Figure:
    """Training (solid) and validation (dashed) curves, one panel per metric.

    Args:
        runs: one run or ``{name: run}`` / a list of runs to overlay (same color per run).
            A run is a history DataFrame (columns ``loss``, ``val_loss``, ``accuracy``,
            ``val_accuracy``...), a ``TrainResult``-like object with ``.history``, or a
            Keras ``History``.
        metrics: metrics to draw; those missing from every run are skipped.
        monitor: the best epoch (dotted line and star) is where this column is lowest
            (highest for accuracy-like columns); falls back to the training column.
        ax: an Axes to draw into when exactly one metric is drawn.
    """
    records = _runs(runs)
    frames = {name: history_frame(run) for name, run in records.items()}
    shown = [m for m in metrics if any(m in f.columns for f in frames.values())]
    if not shown:
        columns = sorted({c for f in frames.values() for c in f.columns})
        raise ValueError(f"none of the metrics {list(metrics)} is in the history; "
                         f"available columns: {', '.join(columns)}")
    fig, axes = panel_row(ax, len(shown), "plot_learning_curves", (5.5, 4))
    for color, (name, frame) in zip(palette(len(frames)), frames.items()):
        best = _best_epoch(frame, monitor, records[name])
        for metric, panel in zip(shown, axes):
            prefix = f"{name} " if name else ""
            if metric in frame:
                panel.plot(frame.index, frame[metric], color=color, label=f"{prefix}train")
            if f"val_{metric}" in frame:
                panel.plot(frame.index, frame[f"val_{metric}"], color=color, linestyle="--",
                           label=f"{prefix}validation")
            if best is not None:
                column = f"val_{metric}" if f"val_{metric}" in frame else metric
                if column in frame:
                    panel.axvline(best, color=color, linestyle=":", linewidth=1)
                    panel.plot([best], [frame.loc[best, column]], marker="*", markersize=14,
                               color=color, markeredgecolor="black", linestyle="none",
                               label=f"{prefix}best epoch ({best})")
    for metric, panel in zip(shown, axes):
        panel.set_xlabel("epoch")
        integer_epochs(panel)
        panel.set_ylabel(_METRIC_LABELS.get(metric, metric))
        panel.set_title(_METRIC_LABELS.get(metric, metric).capitalize())
        panel.legend(fontsize="small")
    figure_title(fig, title or ("Learning curves" if len(shown) > 1 else None))
    return fig


def _best_epoch(frame: pd.DataFrame, monitor: str, run=None):
    # A TrainResult knows its best epoch (the one early stopping restored): trust it when it
    # monitored the same quantity.
    if getattr(run, "best_epoch", None) is not None and getattr(run, "monitor", monitor) == monitor:
        return run.best_epoch
    column = monitor if monitor in frame else monitor.removeprefix("val_")
    if column not in frame or frame[column].isna().all():
        return None
    higher_is_better = "acc" in column
    return frame[column].idxmax() if higher_is_better else frame[column].idxmin()


# --------------------------------------------------------------------------------------------
# confusion matrix
# --------------------------------------------------------------------------------------------
@styled
def plot_confusion_matrix(y_true=None, y_pred=None, cm=None,
                          class_names: Sequence[str] | None = None,
                          normalize: bool | str = False, ax: Axes | None = None,
                          title: str | None = None) -> Figure:
    """Confusion-matrix heatmap with class names (rows: true class, columns: predicted).

    Args:
        y_true, y_pred: labels (``y_pred`` may be probabilities), or give ``cm`` instead.
        cm: a precomputed count matrix.
        normalize: False = counts; True = each row divided by its total (per-class recall
            on the diagonal); "both" = the two side by side.
    """
    if normalize not in (False, True, "both"):
        raise ValueError(f"normalize must be False, True or 'both', got {normalize!r}")
    if cm is None:
        if y_true is None or y_pred is None:
            raise ValueError("pass y_true and y_pred, or a confusion matrix cm")

        y_true, y_pred = to_labels(y_true, "y_true"), to_labels(y_pred, "y_pred")
        names = _class_names(class_names, np.concatenate([y_true, y_pred]))
        cm = confusion(y_true, y_pred, n_classes=len(names))
    else:
        cm = np.asarray(cm)
        names = _class_names(class_names)
        if cm.shape != (len(names), len(names)):
            raise ValueError(f"cm has shape {cm.shape} but there are {len(names)} class names")
    modes = [False, True] if normalize == "both" else [normalize]
    fig, axes = panel_row(ax, len(modes), "plot_confusion_matrix(normalize='both')", (7.5, 6.5))
    for mode, panel in zip(modes, axes):
        totals = cm.sum(axis=1, keepdims=True)
        data = np.divide(cm, totals, out=np.zeros(cm.shape), where=totals > 0) if mode else cm
        count_fmt = "d" if np.issubdtype(cm.dtype, np.integer) else ".0f"
        sns.heatmap(data, annot=True, fmt=".2f" if mode else count_fmt, cmap="Blues", square=True,
                    xticklabels=names, yticklabels=names, ax=panel, annot_kws={"size": 8},
                    vmin=0, vmax=1 if mode else None,
                    cbar_kws={"label": "fraction of the true class" if mode else "images",
                              "shrink": 0.8})
        panel.set_xlabel("predicted class")
        panel.set_ylabel("true class")
        panel.tick_params(axis="x", rotation=45)
        panel.set_title(title if title and len(modes) == 1 else
                        ("Row-normalized" if mode else "Counts"))
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    if len(modes) > 1:
        figure_title(fig, title or f"Confusion matrix (accuracy {accuracy:.1%})")
    return fig


# --------------------------------------------------------------------------------------------
# comparison, weights, tuning
# --------------------------------------------------------------------------------------------
@styled
def plot_model_comparison(table, metrics: Sequence[str] = ("Test accuracy", "Params",
                                                           "Train time (s)"),
                          name_column: str = "Architecture", title: str | None = None
                          ) -> Figure:
    """Horizontal bars per model for each metric (``fmnist.evaluation.compare`` output).

    Args:
        table: DataFrame with a ``name_column`` (or models as the index) and the metric
            columns; or ``{model name: {metric: value}}``.
        metrics: columns to draw, one panel each; the best model of each is highlighted
            (highest accuracy, lowest everything else).
    """
    frame = pd.DataFrame(table).T if isinstance(table, Mapping) else pd.DataFrame(table)
    if name_column in frame.columns:
        frame = frame.set_index(name_column)
    missing = [m for m in metrics if m not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} not in the table; columns: {list(frame.columns)}")
    fig, axes = new_figure(1, len(metrics), figsize=(4.2 * len(metrics), 0.45 * len(frame) + 1.8),
                           sharey=True)
    names = [str(n) for n in frame.index]
    for metric, panel in zip(metrics, axes[0]):
        values = pd.to_numeric(frame[metric], errors="raise").to_numpy(dtype=float)
        best = np.nanargmax(values) if "acc" in metric.lower() else np.nanargmin(values)
        colors = ["0.6"] * len(values)
        colors[best] = BEST_COLOR
        panel.barh(names, values, color=colors)
        for y, value in enumerate(values):
            if "acc" in metric.lower():
                label = f"{value:.1%}"
            else:
                label = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
            panel.annotate(label, (value, y), xytext=(3, 0), textcoords="offset points",
                           va="center", fontsize="small")
        panel.set_xlabel(metric)
        panel.set_title(metric)
        panel.margins(x=0.25)
    axes[0, 0].set_ylabel("model")
    axes[0, 0].invert_yaxis()  # first model on top, as in the table
    figure_title(fig, title or "Model comparison (best in red)")
    return fig


@styled
def plot_weight_histograms(before, after=None, layers: Sequence[str] | None = None,
                           bins: int = 50, ncols: int = 3, title: str | None = None) -> Figure:
    """Kernel-weight histograms per layer, before vs after training overlaid.

    Args:
        before, after: ``{layer: weights}`` from ``fmnist.interpret.layer_weights`` (take
            the "before" snapshot before ``fit``) or models (their current weights).
        layers: layers to show (default every layer with a kernel).
    """
    def as_weights(source) -> dict:
        if hasattr(source, "layers"):  # a model: import TensorFlow only when needed
            return layer_weights(source)
        if not isinstance(source, Mapping):
            raise TypeError("weights must be a model or a {layer: array} dict, got "
                            f"{type(source).__name__}")
        return dict(source)

    snapshots = [(label, as_weights(w)) for label, w in
                 (("before training", before), ("after training", after)) if w is not None]
    names = list(layers) if layers is not None else list(snapshots[0][1])
    for label, weights in snapshots:
        unknown = [n for n in names if n not in weights]
        if unknown:
            raise ValueError(f"layers {unknown} not in the {label} weights; "
                             f"available: {', '.join(weights)}")
    nrows, ncols = grid_shape(len(names), ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(4.2 * ncols, 3 * nrows))
    for name, panel in zip(names, axes.ravel()):
        values = [np.asarray(w[name]).ravel() for _, w in snapshots]
        edges = np.histogram_bin_edges(np.concatenate(values), bins=bins)
        for (label, _), data in zip(snapshots, values):
            panel.hist(data, bins=edges, alpha=0.55, label=label, density=True)
        panel.set_title(name)
        panel.set_xlabel("weight value")
        panel.set_ylabel("density")
    axes.ravel()[0].legend(fontsize="small")
    hide_unused(axes, len(names))
    figure_title(fig, title or "Kernel weights per layer")
    return fig


# Bookkeeping columns of fmnist.tuning results tables (and Talos/KerasTuner exports).
_NOT_PARAMS = {"trial", "trial_id", "engine", "tuner", "param_hash", "status", "score",
               "best_epoch", "epochs", "epochs_run", "round_epochs", "time", "wall_time",
               "train_time", "params", "start", "end", "duration"}
_METRIC_LIKE = {"loss", "accuracy", "acc", "mse", "mae"}


def _param_columns(frame: pd.DataFrame, score: str) -> list[str]:
    declared = frame.attrs.get("hyperparameters")  # set by fmnist.tuning.load_results
    if declared:
        return [c for c in declared if c in frame.columns]
    return [c for c in frame.columns if c != score and str(c).lower() not in _NOT_PARAMS
            and not str(c).startswith(("val_", "cv_")) and str(c).lower() not in _METRIC_LIKE]


@styled
def plot_tuning_results(results, score: str = "val_accuracy",
                        params: Sequence[str] | None = None, maximize: bool | None = None,
                        ncols: int = 3, title: str | None = None) -> Figure:
    """Score against each hyperparameter, one point per trial, best trial as a red star.

    Args:
        results: DataFrame with one row per trial, a ``score`` column and one column per
            hyperparameter (or a list of dicts).
        params: hyperparameter columns (default: every column that is not the score or a
            metric/bookkeeping column).
        maximize: whether higher is better (default: True unless the score is a loss/error).
    """
    frame = pd.DataFrame(results).reset_index(drop=True)
    frame.attrs = dict(getattr(results, "attrs", {}))  # keeps the declared hyperparameters
    if score not in frame.columns:
        raise ValueError(f"score column {score!r} not in the results; columns: "
                         f"{', '.join(map(str, frame.columns))}")
    params = list(params) if params is not None else _param_columns(frame, score)
    missing = [p for p in params if p not in frame.columns]
    if missing or not params:
        raise ValueError(f"hyperparameter columns {missing or params} not usable; columns: "
                         f"{', '.join(map(str, frame.columns))}")
    if maximize is None:
        maximize = not any(k in score.lower() for k in ("loss", "mse", "mae", "error"))
    scores = frame[score].astype(float)
    best = scores.idxmax() if maximize else scores.idxmin()
    nrows, ncols = grid_shape(len(params), ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), sharey=True)
    rng = np.random.default_rng(0)  # jitter of categorical values, fixed for reproducibility
    for param, panel in zip(params, axes.ravel()):
        values = frame[param]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric:
            xs = values.astype(float)
            present = xs.dropna()  # conditional hyperparameters are NaN when unused
            if len(present) and (present > 0).all() and present.max() / present.min() >= 100:
                panel.set_xscale("log")  # learning rates and the like span decades
        else:
            categories = sorted(values.astype(str).unique())
            xs = values.astype(str).map(categories.index) + rng.uniform(-0.15, 0.15, len(values))
            panel.set_xticks(range(len(categories)), categories, rotation=30, ha="right")
        panel.scatter(xs, scores, alpha=0.7, label="trial")
        panel.scatter([xs[best]], [scores[best]], marker="*", s=250, color=BEST_COLOR,
                      zorder=3, label=f"best ({scores[best]:.4g})")
        panel.set_xlabel(param)
        panel.set_ylabel(score)
        panel.set_title(param)
    axes.ravel()[0].legend(fontsize="small")
    hide_unused(axes, len(params))
    figure_title(fig, title or f"Tuning: {score} per hyperparameter ({len(frame)} trials)")
    return fig


@styled
def plot_search_progress(curves: Mapping[str, object], target: float | None = None,
                         budget: tuple[float, str] | None = None, ax: Axes | None = None,
                         title: str | None = None) -> Figure:
    """Best score so far against epochs spent so far, one step line per search.

    Args:
        curves: name -> the table of ``fmnist.tuning.anytime_curve`` (columns ``epochs``,
            ``best``; ``attrs["metric"]`` names the axis), or anything with an ``anytime()``
            method returning one (a ``fmnist.tuning.SearchResult``).
        target: a score to reach (e.g. ``compare_searches(...).attrs["target"]``), drawn as a
            dashed horizontal line.
        budget: ``(epochs, label)`` drawn as a dotted vertical line, e.g. an epoch allowance.

    Each trial is a dot at the epochs spent when it finished; the line steps up when a trial
    beats the best so far.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty mapping name -> anytime curve (or search result)")
    tables = {name: c.anytime() if hasattr(c, "anytime") else c if isinstance(c, pd.DataFrame)
              else pd.DataFrame(c) for name, c in curves.items()}  # fmt: skip
    for name, table in tables.items():
        missing = {"epochs", "best"} - set(table.columns)
        if missing:
            raise ValueError(f"curve {name!r} lacks columns {sorted(missing)}; "
                             "pass fmnist.tuning.anytime_curve(results) or a SearchResult")  # fmt: skip
    metrics = {t.attrs["metric"] for t in tables.values() if "metric" in t.attrs} or {"score"}
    fig, ax = single_axes(ax, figsize=(7.5, 4.2))
    for (name, table), color in zip(tables.items(), palette(len(tables))):
        # a step line starting at the first finished trial; dots mark every trial
        ax.step(table["epochs"], table["best"], where="post", color=color, label=name)
        ax.scatter(table["epochs"], table["best"], color=color, s=14)
    if target is not None:
        ax.axhline(target, color=BEST_COLOR, linestyle="--", linewidth=1, label=f"target ({target:.4g})")
    if budget is not None:
        epochs, label = budget
        ax.axvline(epochs, color="0.3", linestyle=":", linewidth=1.2, label=label)
    ax.set_xlabel("epochs spent (all trials so far)")
    ax.set_ylabel(f"best {' / '.join(sorted(metrics))} so far")
    ax.set_xlim(left=0)
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title(title or "Search progress: best score against epochs spent")
    return fig


def plot_time_to_accuracy(runs, target: float | None = None, budget_minutes: float | None = None,
                          accuracy_column: str = "test_accuracy", ax: Axes | None = None,
                          title: str | None = None, group: str = "recipe") -> Figure:  # fmt: skip
    """Accuracy against training minutes: one dot per run, the best-so-far front as a step line,
    one colour (and legend prefix) per value of the ``group`` column (the recipe) when the runs
    have more than one.

    Args:
        runs: records with ``train_time`` (s), ``accuracy_column`` and ``model`` (e.g.
            ``fmnist.course.speedrun.load_speedrun_runs()``).
        target: an accuracy to reach, drawn as a dashed horizontal line.
        budget_minutes: a time allowance, drawn as a dotted vertical line.
        group: the column whose values each get a colour and a front (ignored when missing
            or incomplete).
    """
    runs = pd.DataFrame(runs)
    missing = {"train_time", accuracy_column} - set(runs.columns)
    if runs.empty or missing:
        raise ValueError(f"runs must be a non-empty table with train_time and {accuracy_column}"
                         + (f"; missing {sorted(missing)}" if missing else ""))  # fmt: skip
    groups = list(runs.groupby(group, sort=True)) if group in runs and runs[group].notna().all() else [(None, runs)]
    fig, ax = single_axes(ax, figsize=(7.5, 4.2))
    for (name, part), color in zip(groups, palette(len(groups))):
        part = part.sort_values("train_time")
        minutes = part["train_time"].to_numpy(float) / 60
        accuracy = part[accuracy_column].to_numpy(float)
        prefix = f"{name}: " if len(groups) > 1 else ""
        ax.scatter(minutes, accuracy, color=color, s=22, zorder=3, label=f"{prefix}one run (fixed epoch budget)")
        ax.step(minutes, np.maximum.accumulate(accuracy), where="post", color=color, alpha=0.6,
                label=f"{prefix}best within the time")  # fmt: skip
    if target is not None:
        ax.axhline(target, color=BEST_COLOR, linestyle="--", linewidth=1, label=f"target {target:.1%}")
    if budget_minutes is not None:
        ax.axvline(budget_minutes, color="0.3", linestyle=":", linewidth=1.2, label=f"{budget_minutes:g} min")
    ax.set_xlabel("training time (minutes, tracing included)")
    ax.set_ylabel(accuracy_column.replace("_", " "))
    ax.set_xlim(left=0)
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title(title or "Time to accuracy")
    return fig
