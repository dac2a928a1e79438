"""Objectives and the training of one trial, shared by the Talos and KerasTuner engines.

Two objective kinds:

* ``val_<metric>`` — train on ``(x, y)``, score on a dev set ``(x_val, y_val)``; the metrics of
  a trial are those of its best epoch (KerasTuner's convention, applied to Talos too so the
  tables of both engines mean the same thing).
* ``cv_<metric>`` — K-fold cross-validation on ``(x, y)`` with
  :func:`fmnist.training.cross_validate`; ``cv_<metric>`` is the mean over the folds of each
  fold's validation ``<metric>`` (``cv_<metric>_std`` its spread).

Example::

    >>> from fmnist.tuning.trials import make_objective
    >>> make_objective("cv_mse")
    Objective(name='cv_mse', mode='min')
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from fmnist.evaluation import evaluate
from fmnist.model import check_input_shape, compile_model
from fmnist.training import cross_validate, set_seed, train

__all__ = [
    "Objective", "ObjectiveError", "TrialOutcome", "build_compiled", "check_objective", "make_objective",
    "metrics_at_best_epoch", "run_cv_trial", "run_validation_trial",
]  # fmt: skip

_MIN_WORDS = ("loss", "mse", "mae", "error", "crossentropy")


class ObjectiveError(ValueError):
    """An objective that is malformed or that the model does not log."""


@dataclasses.dataclass(frozen=True)
class Objective:
    """What a search optimizes: ``name`` ("val_accuracy", "cv_mse", ...) and ``mode``."""

    name: str
    mode: str

    @property
    def kind(self) -> str:
        """"cv" (K-fold cross-validation) or "validation" (dev set)."""
        return "cv" if self.name.startswith("cv_") else "validation"

    @property
    def metric(self) -> str:
        """The logged metric behind the objective ("accuracy" for "val_accuracy")."""
        return self.name.split("_", 1)[1]

    def best_index(self, values: Sequence[float]) -> int:
        """Index of the best finite value (the last one if none is finite)."""
        arr = np.asarray(values, dtype=float)
        if not np.isfinite(arr).any():
            return len(arr) - 1
        arr = np.where(np.isfinite(arr), arr, np.inf if self.mode == "min" else -np.inf)
        return int(np.argmin(arr) if self.mode == "min" else np.argmax(arr))


def make_objective(name: str | Objective, mode: str | None = None) -> Objective:
    """Parse ``name`` ("val_<metric>" or "cv_<metric>"); ``mode`` defaults from the metric."""
    if isinstance(name, Objective):
        return name if mode is None else Objective(name.name, make_objective(name.name, mode).mode)
    if not isinstance(name, str) or not name.startswith(("val_", "cv_")) or name in ("val_", "cv_"):
        raise ObjectiveError(
            f"objective must be 'val_<metric>' (dev-set score, e.g. val_accuracy, val_loss) or "
            f"'cv_<metric>' (K-fold cross-validation, e.g. cv_mse, cv_accuracy); got {name!r}"
        )
    metric = name.split("_", 1)[1]
    if mode is None:
        mode = "min" if any(word in metric for word in _MIN_WORDS) else "max"
    if mode not in ("min", "max"):
        raise ObjectiveError(f"objective mode must be 'min' or 'max', got {mode!r}")
    return Objective(name, mode)


def build_compiled(space, config: Mapping[str, Any]):
    """``space.build(config)``, checked to be a Keras model and compiled if the builder did not."""

    model = space.build(config)
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"the builder of space {space.name!r} must return a keras.Model, got {type(model).__name__}"
        )
    if not model.compiled:  # custom builders may leave compiling to us
        compile_model(model, task=space.task)
    return model


def check_objective(space, objective: Objective, x: np.ndarray, y: np.ndarray) -> list[str]:
    """Build one model of ``space`` and check that it logs ``objective``'s metric.

    Also catches data that does not fit the model's input before any trial runs. Returns the
    objective names the model supports.
    """
    # free_memory=False: one small probe model is not worth a gc.collect() (0.3 s each here).
    keras.backend.clear_session(free_memory=False)
    model = build_compiled(space, space.defaults())
    check_input_shape(model, x, "x")
    n = min(len(x), 4)
    if objective.kind == "cv":
        logged = list(evaluate(model, x[:n], y[:n], task=space.task))
    else:
        logged = list(model.evaluate(x[:n], y[:n], verbose=0, return_dict=True))
    prefix = "cv_" if objective.kind == "cv" else "val_"
    valid = [prefix + m for m in logged]
    if objective.name not in valid:
        raise ObjectiveError(
            f"objective {objective.name!r} is not logged by the models of space {space.name!r}; "
            f"valid objectives for this space: {', '.join(valid)} (and the "
            f"{'val_' if prefix == 'cv_' else 'cv_'} variants)"
        )
    keras.backend.clear_session(free_memory=False)
    return valid


@dataclasses.dataclass
class TrialOutcome:
    """Result of one trial: ``metrics`` (objective and the other val_*/cv_* values), the
    per-epoch ``history`` (validation objective only), ``epochs`` trained in total (all folds),
    ``wall_time`` in seconds (build + train + score) and the last trained ``model``."""

    metrics: dict[str, float]
    history: dict[str, list[float]]
    epochs: int
    wall_time: float
    model: Any = None


def metrics_at_best_epoch(history: Mapping[str, Sequence[float]], objective: Objective) -> dict[str, float]:
    """The ``val_*`` metrics of the epoch where ``objective`` was best."""
    if objective.name not in history:
        raise ObjectiveError(
            f"objective {objective.name!r} was not logged; logged: {', '.join(history)}"
        )
    i = objective.best_index(history[objective.name])
    return {k: float(v[i]) for k, v in history.items() if k.startswith("val_") and len(v) > i}


def run_validation_trial(
    space, config: Mapping[str, Any], x, y, x_val, y_val, objective: Objective, *, epochs: int,
    batch_size: int = 128, patience: int | None = None, verbose: int = 0, seed: int = 0,
    callbacks: list | None = None, model=None,
) -> TrialOutcome:  # fmt: skip
    """Train one configuration on ``(x, y)`` and score it on the dev set."""

    start = time.perf_counter()
    if model is None:
        set_seed(seed)
        model = build_compiled(space, config)
    result = train(
        model, (x, y), (x_val, y_val), epochs=epochs, batch_size=int(config.get("batch_size", batch_size)),
        patience=patience, verbose=verbose, seed=seed, on_nan="return", callbacks=callbacks,
    )  # fmt: skip
    history = {k: [float(v) for v in result.history[k]] for k in result.history.columns if k != "epoch_time"}
    return TrialOutcome(
        metrics=metrics_at_best_epoch(history, objective),
        history=history,
        epochs=result.epochs_run,
        wall_time=time.perf_counter() - start,
        model=model,
    )


def run_cv_trial(
    space, config: Mapping[str, Any], x, y, objective: Objective, *, epochs: int, folds: int = 5,
    batch_size: int = 128, patience: int | None = None, verbose: int = 0, seed: int = 0,
) -> TrialOutcome:  # fmt: skip
    """K-fold cross-validate one configuration on ``(x, y)`` (fresh model per fold)."""

    start = time.perf_counter()
    set_seed(seed)
    cv = cross_validate(
        lambda: build_compiled(space, config), x, y, k=folds, task=space.task, epochs=epochs,
        batch_size=int(config.get("batch_size", batch_size)), patience=patience, seed=seed,
        verbose=verbose, on_nan="return",
    )  # fmt: skip
    metrics: dict[str, float] = {}
    for column in cv.scores.columns:
        if column.startswith("val_"):
            values = cv.scores[column].astype(float)
            metrics["cv_" + column[4:]] = float(values.mean())
            metrics["cv_" + column[4:] + "_std"] = float(values.std(ddof=0))
    if objective.name not in metrics:
        raise ObjectiveError(f"objective {objective.name!r} not computed; available: {', '.join(metrics)}")
    return TrialOutcome(
        metrics=metrics,
        history={objective.name: [metrics[objective.name]]},
        epochs=int(cv.scores["epochs_run"].sum()),
        wall_time=time.perf_counter() - start,
        model=cv.models[-1],
    )
