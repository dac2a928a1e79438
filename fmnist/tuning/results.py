"""The tidy results table shared by every engine, atomic files, best config, budget, refit.

One row per finished trial, columns in this order:

``trial_id, engine, tuner, <every hyperparameter>, <objective>, <other val_*/cv_* metrics>,
epochs, wall_time, param_hash``

``epochs`` counts every epoch trained in the trial (all folds for CV; only the new epochs for
a Hyperband continuation), ``wall_time`` is build + train + score in seconds, ``param_hash``
identifies the configuration across engines and sessions. The table is saved as
``results.csv`` in the run directory (temp file + ``os.replace``, so a reader or a crash never
sees half a file).

Example::

    >>> from fmnist.tuning import best_config, budget, load_results
    >>> results = load_results("runs/tuning/mlp_talos_random")
    >>> best_config(results)                       # metric/mode from the run's search.json
    {'batch_size': 32, 'learning_rate': 0.001, ...}
    >>> budget(results)                            # trials, epochs, wall time per engine
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fmnist.atomic import atomic_write_text
from fmnist.checks import check_real
from fmnist.evaluation import evaluate
from fmnist.training import set_seed, train
from fmnist.tuning.spaces import space_for_data
from fmnist.tuning.trials import build_compiled, make_objective

__all__ = [
    "BASE_COLUMNS", "RESULTS_FILE", "SHARE_COLUMN", "SPEC_FILE", "RefitResult", "SearchResult", "anytime_curve",
    "atomic_write_csv", "atomic_write_json", "best_config", "budget", "compare_searches",
    "epochs_to_reach", "hyperparameter_columns", "load_results", "metric_columns", "order_columns",
    "read_json", "refit_best",
]  # fmt: skip

#: :func:`compare_searches`' column: epochs to target over the reference's total epochs.
SHARE_COLUMN = "to target / reference"

#: Columns present in every results table (hyperparameters and metrics come in between).
BASE_COLUMNS = ("trial_id", "engine", "tuner", "epochs", "wall_time", "param_hash")
RESULTS_FILE = "results.csv"
SPEC_FILE = "search.json"
_METRIC_PREFIXES = ("val_", "cv_")


# ------------------------------------------------------------------------------ files
def atomic_write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` to ``path`` as CSV via a temporary file and ``os.replace``."""
    path = Path(path)
    atomic_write_text(path, frame.to_csv(index=False))
    return path


def atomic_write_json(data: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write ``data`` as indented JSON via a temporary file and ``os.replace``."""
    path = Path(path)
    atomic_write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def read_json(path: str | os.PathLike) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None if the file does not exist."""
    path = Path(path)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def load_results(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The results table of a run directory (``<directory>/<project_name>``).

    ``attrs`` carries the objective, mode and hyperparameter names from ``search.json``.
    """
    run_dir = Path(run_dir)
    path = run_dir / RESULTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"no {RESULTS_FILE} in {run_dir}: is it a tuning run directory?")
    frame = pd.read_csv(path, dtype={"trial_id": str, "param_hash": str})
    spec = read_json(run_dir / SPEC_FILE) or {}
    frame.attrs.update({k: spec[k] for k in ("objective", "mode", "hyperparameters") if k in spec})
    return frame


# ------------------------------------------------------------------------------ columns
def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The val_*/cv_* metric columns of a results table."""
    return [c for c in frame.columns if c.startswith(_METRIC_PREFIXES)]


def hyperparameter_columns(frame: pd.DataFrame) -> list[str]:
    """Hyperparameter columns: from ``attrs`` if known, else every non-base, non-metric column."""
    names = frame.attrs.get("hyperparameters")
    if names:
        return [c for c in names if c in frame.columns]
    return [c for c in frame.columns if c not in BASE_COLUMNS and not c.startswith(_METRIC_PREFIXES)]


def order_columns(frame: pd.DataFrame, hyperparameters: list[str], objective: str) -> pd.DataFrame:
    """Put the columns in the documented order (missing base columns are an error)."""
    missing = [c for c in BASE_COLUMNS if c not in frame.columns]
    if missing and len(frame):
        raise KeyError(f"results table lacks columns {missing}")
    metrics = [c for c in frame.columns if c.startswith(_METRIC_PREFIXES) and c != objective]
    head = ["trial_id", "engine", "tuner", *hyperparameters]
    head += [objective] if objective in frame.columns else []
    order = head + sorted(metrics) + ["epochs", "wall_time", "param_hash"]
    order = [c for c in order if c in frame.columns]
    order += [c for c in frame.columns if c not in order]
    out = frame[order].reset_index(drop=True)
    out.attrs.update(objective=objective, hyperparameters=list(hyperparameters))
    return out


# ------------------------------------------------------------------------------ checks
def check_tolerance(tolerance: Any) -> float:
    """:func:`compare_searches`' ``tolerance``: a finite number >= 0 in objective units."""
    return check_real(tolerance, "tolerance", low=0, note=" (in objective units, e.g. 0.005)")


# ------------------------------------------------------------------------- selection
def _metric_and_mode(results: pd.DataFrame, metric: str | None, mode: str | None) -> tuple[str, str]:
    metric = metric or results.attrs.get("objective")
    if metric is None:
        candidates = metric_columns(results)
        preferred = [m for m in ("val_accuracy", "cv_mse", "cv_accuracy", "val_loss") if m in candidates]
        if not preferred:
            raise KeyError(f"cannot tell the objective: pass metric= (metric columns: {candidates})")
        metric = preferred[0]
    if metric not in results.columns:
        raise KeyError(
            f"metric {metric!r} is not a column of the results; metric columns: "
            f"{', '.join(metric_columns(results)) or '(none)'}"
        )
    if mode is None and metric == results.attrs.get("objective"):
        mode = results.attrs.get("mode")
    if mode is None:
        mode = make_objective(metric).mode if metric.startswith(_METRIC_PREFIXES) else "max"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    return metric, mode


def best_config(results: pd.DataFrame, metric: str | None = None, mode: str | None = None) -> dict[str, Any]:
    """Hyperparameters of the best row (plain Python values, ready for ``space.build``).

    Args:
        results: a results table (from a search or :func:`load_results`).
        metric: column to rank by; default the search objective (``attrs``), else
            val_accuracy / cv_mse / cv_accuracy / val_loss, whichever is present.
        mode: "max" or "min"; default inferred (losses and errors are minimized).
    """
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame, got {type(results).__name__}")
    if results.empty:
        raise ValueError("results table is empty: no finished trials to choose from")
    metric, mode = _metric_and_mode(results, metric, mode)
    values = pd.to_numeric(results[metric], errors="coerce")
    if values.notna().sum() == 0:
        raise ValueError(f"every value of {metric!r} is NaN: no trial can be called best")
    row = results.loc[values.idxmax() if mode == "max" else values.idxmin()]
    return {c: _python(row[c]) for c in hyperparameter_columns(results)}


def _python(value: Any) -> Any:
    """NumPy scalars (as read back from CSV) -> plain Python values."""
    return value.item() if isinstance(value, np.generic) else value


def budget(results: pd.DataFrame) -> pd.DataFrame:
    """Trials, epochs and summed trial wall time per (engine, tuner): the cost of a search."""
    if results.empty:
        return pd.DataFrame(columns=["engine", "tuner", "trials", "epochs", "wall_time"])
    grouped = results.groupby(["engine", "tuner"], sort=False)
    out = grouped.agg(trials=("trial_id", "count"), epochs=("epochs", "sum"), wall_time=("wall_time", "sum"))
    return out.reset_index()


def anytime_curve(results: pd.DataFrame, metric: str | None = None, mode: str | None = None) -> pd.DataFrame:
    """The best objective found so far against the epochs spent so far, trial by trial.

    Rows follow the results table, which lists trials in the order they ran. Columns:
    ``trial_id``, ``epochs`` (cumulative, after the trial), ``score`` (the trial's) and
    ``best`` (best so far; NaN until a trial scores). A search that stops trials early
    (Hyperband) and one that does not (random search) are compared fairly on this curve:
    read off how many epochs each needed to reach a given score.

    Example::

        >>> anytime_curve(search.results).tail(1)          # all epochs, best of the search
    """
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame, got {type(results).__name__}")
    if results.empty:
        return pd.DataFrame(columns=["trial_id", "epochs", "score", "best"])
    metric, mode = _metric_and_mode(results, metric, mode)
    score = pd.to_numeric(results[metric], errors="coerce").reset_index(drop=True)
    # cummax/cummin leave NaN where a trial has no score (failed): carry the best forward
    best = (score.cummax() if mode == "max" else score.cummin()).ffill()
    curve = pd.DataFrame({"trial_id": results["trial_id"].reset_index(drop=True),
                          "epochs": pd.to_numeric(results["epochs"]).reset_index(drop=True).cumsum(),
                          "score": score, "best": best})  # fmt: skip
    curve.attrs.update(metric=metric, mode=mode)
    return curve


def epochs_to_reach(results: pd.DataFrame, target: float, metric: str | None = None,
                    mode: str | None = None) -> int | None:
    """Epochs a search had spent when it first reached ``target`` (None if it never did).

    "Reached" means a trial scored ``>= target`` when the objective is maximized, ``<=``
    when it is minimized.
    """
    target = check_real(target, "target", note=" (a score of the objective)")
    curve = anytime_curve(results, metric, mode)
    reached = curve["best"] >= target if curve.attrs.get("mode") == "max" else curve["best"] <= target
    return int(curve.loc[reached.idxmax(), "epochs"]) if reached.any() else None


def compare_searches(searches: Mapping[str, "SearchResult"], reference: str | None = None,
                     tolerance: float | None = None) -> pd.DataFrame:
    """One row per search: its cost (trials, epochs, trial time) and the best objective value.

    This is how engines and tuners are compared on the same space: the accuracy reached
    against the epochs spent. With ``reference`` (the name of one search, e.g. a random
    search) two more columns relate every search to it: ``epochs / reference`` and
    ``best - reference`` (the difference of the best objective values).

    With ``tolerance`` as well (in objective units: 0.005 is half a point of accuracy), the
    target is the reference's best minus the tolerance (plus, for a minimized objective) and
    two more columns say how soon each search got there (:func:`epochs_to_reach`):
    ``epochs to target`` and ``to target / reference`` (that, over the reference's *total*
    epochs). The target is in ``table.attrs["target"]``.
    """
    if not searches:
        raise ValueError("compare_searches needs at least one search")
    if reference is not None and reference not in searches:
        raise ValueError(f"reference {reference!r} is not one of the searches: {', '.join(searches)}")
    if tolerance is not None:
        if reference is None:
            raise ValueError(f"tolerance needs a reference search, got tolerance={tolerance!r} with reference=None")
        tolerance = check_tolerance(tolerance)
    rows = []
    for name, search in searches.items():
        values = pd.to_numeric(search.results.get(search.objective), errors="coerce")
        best = (values.max() if search.mode == "max" else values.min()) if len(search.results) else float("nan")
        rows.append({"search": name, "engine": search.engine, "tuner": search.tuner,
                     "trials": len(search.results), "epochs": search.total_epochs,
                     "trial_time": round(search.total_wall_time, 1),
                     f"best {search.objective}": best})  # fmt: skip
    table = pd.DataFrame(rows).set_index("search")
    if reference is not None:
        objectives = {s.objective for s in searches.values()}
        if len(objectives) != 1:
            raise ValueError(f"searches optimize different objectives {sorted(objectives)}; "
                             "a reference comparison needs one")  # fmt: skip
        best = f"best {objectives.pop()}"
        table["epochs / reference"] = (table["epochs"] / table.loc[reference, "epochs"]).round(3)
        table["best - reference"] = table[best] - table.loc[reference, best]
        if tolerance is not None:
            sign = -1 if searches[reference].mode == "max" else 1
            target = float(table.loc[reference, best]) + sign * tolerance
            reach = {name: epochs_to_reach(s.results, target, s.objective, s.mode)
                     for name, s in searches.items()}  # fmt: skip
            table["epochs to target"] = pd.Series(reach, dtype="Float64")
            total = table.loc[reference, "epochs"]
            # Not rounded: goals are compared and medians taken on it; round for display only.
            table[SHARE_COLUMN] = table["epochs to target"] / total
            table.attrs["target"] = target
    return table


# ----------------------------------------------------------------------------- outcomes
@dataclasses.dataclass
class SearchResult:
    """What :func:`fmnist.tuning.run_search` returns.

    Attributes:
        results: the tidy table (all finished trials of the run, earlier sessions included).
        best: :func:`best_config` of ``results`` (None when no trial finished).
        objective, mode: what was optimized.
        run_dir: ``<directory>/<project_name>`` holding results.csv and search.json.
        engine, tuner: e.g. ("talos", "random") or ("kerastuner", "hyperband").
        grid_size: combinations in the space's grid.
        trials_run: trials run by this call (0 when everything was already done).
        search_time: wall-clock seconds of this call (including overheads between trials).
        role: "single", "chief" or the worker's tuner id in distributed mode.
    """

    results: pd.DataFrame
    best: dict[str, Any] | None
    objective: str
    mode: str
    run_dir: Path
    engine: str
    tuner: str
    grid_size: int
    trials_run: int
    search_time: float
    role: str = "single"

    @property
    def total_epochs(self) -> int:
        """Epochs trained over all trials of the run."""
        return int(self.results["epochs"].sum()) if len(self.results) else 0

    @property
    def total_wall_time(self) -> float:
        """Summed trial wall time (seconds) over all trials of the run."""
        return float(self.results["wall_time"].sum()) if len(self.results) else 0.0

    def anytime(self) -> pd.DataFrame:
        """Best objective so far against epochs so far (:func:`anytime_curve` of the run)."""
        return anytime_curve(self.results, self.objective, self.mode)

    def budget(self) -> dict[str, Any]:
        """Scalars for reports: trials, epochs, trial time, this call's search time."""
        return {
            "trials": len(self.results),
            "trials_run": self.trials_run,
            "epochs": self.total_epochs,
            "trial_time": round(self.total_wall_time, 3),
            "search_time": round(self.search_time, 3),
        }


@dataclasses.dataclass
class RefitResult:
    """The best configuration retrained on the full training set and scored on the test set."""

    config: dict[str, Any]
    train: Any  # fmnist.training.TrainResult
    test_metrics: dict[str, float]

    @property
    def model(self):
        return self.train.model


def refit_best(
    space, config_or_results, x_train, y_train, x_test, y_test, *, epochs: int,
    batch_size: int = 128, metric: str | None = None, patience: int | None = None,
    validation_data=None, verbose: int = 0, seed: int = 0,
) -> RefitResult:  # fmt: skip
    """Retrain the best configuration on ``(x_train, y_train)`` and evaluate on the test set.

    Args:
        space: the :class:`~fmnist.tuning.SearchSpace` (or its name) that was searched.
        config_or_results: a configuration dict, or a results table (its :func:`best_config`
            by ``metric`` is used).
        epochs: training epochs (e.g. the search's epochs, or more for the final model).
        batch_size: used when the configuration has no ``batch_size``.
    """

    space = space_for_data(space, x_train, y_train)
    if isinstance(config_or_results, pd.DataFrame):
        config = best_config(config_or_results, metric)
    elif isinstance(config_or_results, Mapping):
        config = dict(config_or_results)
    else:
        raise TypeError("config_or_results must be a configuration dict or a results DataFrame")
    config = space.check_config(config)
    set_seed(seed)
    model = build_compiled(space, config)
    result = train(
        model, (x_train, y_train), validation_data, epochs=epochs,
        batch_size=int(config.get("batch_size", batch_size)), patience=patience, verbose=verbose, seed=seed,
    )  # fmt: skip
    return RefitResult(config, result, evaluate(model, x_test, y_test, task=space.task))
