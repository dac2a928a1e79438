"""KerasTuner engine: RandomSearch, Hyperband and BayesianOptimization over a SearchSpace.

:class:`SpaceHyperModel` maps the space onto ``hp.Choice``/``hp.Int``/``hp.Float``/
``hp.Boolean`` and trains with :func:`fmnist.training.train` (batch size is a hyperparameter,
hence the ``fit`` override). A mixin adds to every tuner what the project needs:

* the trial's metrics (objective at the best epoch, other ``val_*``/``cv_*`` values), plus
  ``epochs`` and ``wall_time`` for the budget, are returned to the oracle so they travel to
  the chief in distributed mode and are saved in each ``trial.json``;
* ``results.csv`` is rewritten (atomically) after every trial from the oracle's trials;
* every process logs the trials it executed in ``executions/<tuner_id>.csv`` (this is how the
  distributed test proves no trial ran twice);
* the ``cv_*`` objectives replace ``run_trial`` by K-fold cross-validation (Hyperband then
  trains each configuration from scratch for its ``tuner/epochs``).

Resuming is KerasTuner's own: ``overwrite=False`` reloads the oracle from the project
directory; finished trials stay finished, an interrupted one is run again.

``max_trials`` also caps Hyperband, whose own budget is ``max_epochs`` (= ``epochs``) and
``factor``; pass ``tuner_kwargs={"factor": 2}`` etc. to change it.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import pandas as pd

from fmnist.training import set_seed
from fmnist.tuning.results import RESULTS_FILE, atomic_write_csv, order_columns
from fmnist.tuning.space import _plain, param_hash
from fmnist.tuning.trials import build_compiled, run_cv_trial, run_validation_trial

__all__ = [
    "KT_TUNERS", "MAX_SEED", "RESERVED_TUNER_KWARGS", "SpaceHyperModel", "bayesian_initial_points",
    "kerastuner_seed", "make_tuner", "oracle_rows", "read_executions", "run_kerastuner",
]  # fmt: skip

#: ``tuner`` name -> KerasTuner class.
KT_TUNERS = {"random": kt.RandomSearch, "hyperband": kt.Hyperband, "bayesian": kt.BayesianOptimization}
EXECUTIONS_DIR = "executions"
_EXECUTION_COLUMNS = ("trial_id", "param_hash", "tuner_id", "pid", "epochs", "wall_time", "finished")
_ID_DTYPES = {"trial_id": str, "param_hash": str}  # keep "01" and hex hashes as text
#: The largest seed NumPy's RandomState accepts; KerasTuner's Bayesian oracle seeds one with
#: the oracle's seed. fmnist seed 0 is mapped to it, so fmnist seeds must stay below it.
MAX_SEED = 2**32 - 1
#: Tuner arguments :func:`make_tuner` sets from run_search's own settings: ``tuner_kwargs``
#: may not override them (search.json, the run directory and the budget would no longer
#: describe the search that ran).
RESERVED_TUNER_KWARGS = ("hypermodel", "objective", "directory", "project_name", "overwrite", "seed",
                         "max_trials", "max_epochs", "max_retries_per_trial")  # fmt: skip


def kerastuner_seed(seed: int) -> int:
    """The oracle seed for fmnist's ``seed``.

    KerasTuner's Oracle does ``self.seed = seed or random.randint(1, 10000)``, so seed 0 (the
    fmnist default) would give an unseeded search. Seeds >= 1 pass unchanged, so earlier runs
    with seeds 1, 2, ... stay reproducible; 0 becomes :data:`MAX_SEED`.
    """
    return seed if seed else MAX_SEED


class SpaceHyperModel(kt.HyperModel):
    """A KerasTuner HyperModel for a :class:`~fmnist.tuning.SearchSpace`."""

    def __init__(self, space, settings):
        super().__init__(name=space.name)
        self.space, self.settings = space, settings
        self.trial_seed = settings.seed
        self.last_outcome = None

    def config(self, hp) -> dict[str, Any]:
        """The space's hyperparameters of ``hp`` (Hyperband's ``tuner/*`` keys left out)."""
        return {n: _plain(hp.values[n]) for n in self.space.names}

    def build(self, hp):
        values = {n: p.to_kerastuner(hp, n) for n, p in self.space.params.items()}
        set_seed(self.trial_seed)  # after the tuner's clear_session: same init for the same trial
        return build_compiled(self.space, values)

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, initial_epoch=0, callbacks=None,
            verbose=0, **kwargs):  # fmt: skip
        s = self.settings
        x_val, y_val = validation_data
        outcome = run_validation_trial(
            self.space, self.config(hp), x, y, x_val, y_val, s.objective,
            epochs=max(1, epochs - initial_epoch), batch_size=s.batch_size, patience=s.patience,
            verbose=verbose, seed=self.trial_seed, callbacks=callbacks, model=model,
        )  # fmt: skip
        self.last_outcome = outcome
        history = keras.callbacks.History()
        history.history = outcome.history
        history.epoch = list(range(initial_epoch, initial_epoch + outcome.epochs))
        return history


class _FmnistTunerMixin:
    """Metrics/budget reporting, results file and execution log for any KerasTuner tuner."""

    fmnist_settings = None

    def run_trial(self, trial, *args, **kwargs):
        s, hm = self.fmnist_settings, self.hypermodel
        self._fmnist_last_row = None
        hp = trial.hyperparameters
        index = int(trial.trial_id) if str(trial.trial_id).isdigit() else 0
        hm.trial_seed = s.seed + index
        start = time.perf_counter()
        if s.objective.kind == "cv":
            keras.backend.clear_session()
            outcome = run_cv_trial(
                s.space, hm.config(hp), s.x, s.y, s.objective,
                epochs=int(hp.values.get("tuner/epochs", s.epochs)), folds=s.cv_folds,
                batch_size=s.batch_size, patience=s.patience, verbose=s.fit_verbose, seed=hm.trial_seed,
            )  # fmt: skip
        else:
            hm.last_outcome = None
            with warnings.catch_warnings():
                # Hyperband continuations load the parent's checkpoint into a freshly compiled
                # model; Keras warns that the (unused) optimizer state is skipped. Harmless.
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                super().run_trial(trial, *args, **kwargs)
            outcome = hm.last_outcome
        metrics = {**outcome.metrics, "epochs": float(outcome.epochs), "wall_time": time.perf_counter() - start}
        config = hm.config(hp)
        row = {"trial_id": str(trial.trial_id), "engine": "kerastuner", "tuner": s.tuner, **config,
               **metrics, "epochs": outcome.epochs, "param_hash": param_hash(config)}  # fmt: skip
        self._fmnist_last_row = row
        self._fmnist_rows = [*getattr(self, "_fmnist_rows", []), row]
        _record_execution(s.run_dir, self.tuner_id, row)
        return metrics

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        s = self.fmnist_settings
        if trial.status in ("FAILED", "INVALID"):
            # KerasTuner records the failure and moves on (it raises only after 3 consecutive
            # failures); say so even in quiet mode, with the error's last line.
            reason = (trial.message or "").strip().splitlines()[-1:] or ["unknown error"]
            warnings.warn(f"KerasTuner trial {trial.trial_id} failed: {reason[0]}", RuntimeWarning, stacklevel=2)
        if s.role == "single":  # workers cannot list the chief's trials; the chief writes at the end
            write_results(self.oracle, s)
        row = getattr(self, "_fmnist_last_row", None)
        if row is not None and s.on_trial_end is not None:
            s.on_trial_end(dict(row))


def _record_execution(run_dir: Path, tuner_id: str, row: dict[str, Any]) -> None:
    path = Path(run_dir) / EXECUTIONS_DIR / f"{tuner_id}.csv"
    entry = {"trial_id": row["trial_id"], "param_hash": row["param_hash"], "tuner_id": tuner_id,
             "pid": os.getpid(), "epochs": row["epochs"], "wall_time": row["wall_time"],
             "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}  # fmt: skip
    old = pd.read_csv(path, dtype=_ID_DTYPES) if path.exists() else pd.DataFrame()
    atomic_write_csv(pd.concat([old, pd.DataFrame([entry])], ignore_index=True), path)


def read_executions(run_dir: str | os.PathLike) -> pd.DataFrame:
    """Every trial execution logged by every process (chief, workers, earlier sessions)."""
    files = sorted((Path(run_dir) / EXECUTIONS_DIR).glob("*.csv"))
    if not files:
        return pd.DataFrame(columns=list(_EXECUTION_COLUMNS))
    return pd.concat([pd.read_csv(f, dtype=_ID_DTYPES) for f in files], ignore_index=True)


def oracle_rows(oracle, settings) -> pd.DataFrame:
    """The results table built from an oracle's completed trials (in start order)."""
    s = settings
    rows = []
    order = list(getattr(oracle, "start_order", [])) or sorted(oracle.trials)
    for trial_id in order:
        trial = oracle.trials[trial_id]
        if trial.status != "COMPLETED":
            continue
        config = {n: _plain(trial.hyperparameters.values[n]) for n in s.space.names}
        metrics = {name: trial.metrics.get_last_value(name) for name in trial.metrics.metrics}
        row = {"trial_id": str(trial_id), "engine": "kerastuner", "tuner": s.tuner, **config}
        row.update({k: float(v) for k, v in metrics.items() if k.startswith(("val_", "cv_"))})
        row.update(epochs=int(metrics.get("epochs", 0)), wall_time=float(metrics.get("wall_time", float("nan"))),
                   param_hash=param_hash(config))  # fmt: skip
        rows.append(row)
    return order_columns(pd.DataFrame(rows), s.space.names, s.objective.name)


def write_results(oracle, settings) -> pd.DataFrame:
    """Rewrite ``results.csv`` from the oracle and return the table."""
    frame = oracle_rows(oracle, settings)
    atomic_write_csv(frame, Path(settings.run_dir) / RESULTS_FILE)
    return frame


def bayesian_initial_points(dimensions: int, max_trials: int | None) -> int:
    """Random trials a Bayesian search runs before its Gaussian process proposes any.

    KerasTuner's default is 3 x the number of hyperparameters: 24 for the 8-dimensional CNN
    space, so a 12-trial "Bayesian" search would never leave its random start. With a trial
    budget we keep a third of it random (at least 2 points to fit the process to) and give
    the rest to the model; without one, KerasTuner's default.
    """
    default = max(3 * dimensions, 3)
    return default if not max_trials else min(default, max(2, max_trials // 3))


def make_tuner(settings):
    """The KerasTuner tuner for ``settings`` (reloads an existing project: ``overwrite=False``)."""
    s = settings
    base = KT_TUNERS[s.tuner]
    cls = type(f"Fmnist{base.__name__}", (_FmnistTunerMixin, base), {})
    kwargs: dict[str, Any] = {
        "hypermodel": SpaceHyperModel(s.space, s),
        "objective": kt.Objective(s.objective.name, s.objective.mode),
        "directory": str(s.run_dir.parent),
        "project_name": s.run_dir.name,
        "overwrite": False,
        "seed": kerastuner_seed(s.seed),
        "max_retries_per_trial": 0,
    }
    if s.tuner == "hyperband":
        kwargs.update(max_epochs=s.epochs, factor=3, hyperband_iterations=1)
    else:
        kwargs["max_trials"] = s.max_trials
    if s.tuner == "bayesian":
        kwargs["num_initial_points"] = bayesian_initial_points(len(s.space.names), s.max_trials)
    kwargs.update(s.tuner_kwargs)
    # KerasTuner prints "Reloading Tuner from ..." unconditionally; keep quiet mode quiet.
    with contextlib.redirect_stdout(io.StringIO()) if s.quiet else contextlib.nullcontext():
        tuner = cls(**kwargs)
    tuner.fmnist_settings = s
    if s.tuner == "hyperband" and s.max_trials and isinstance(tuner.oracle, kt.Oracle):
        tuner.oracle.max_trials = s.max_trials  # create_trial stops at max_trials
    return tuner


def run_kerastuner(settings) -> tuple[int, pd.DataFrame]:
    """Run (or continue) the search; return (trials run by this process, results table).

    On a distributed worker the table holds only the trials this worker ran.
    """
    s = settings
    tuner = make_tuner(s)
    fit_kwargs: dict[str, Any] = {"epochs": s.epochs, "verbose": s.fit_verbose}
    if s.objective.kind == "validation":
        fit_kwargs["validation_data"] = (s.x_val, s.y_val)
    tuner.search(s.x, s.y, **fit_kwargs)
    mine = getattr(tuner, "_fmnist_rows", [])
    if s.role in ("single", "chief"):
        return len(mine), write_results(tuner.oracle, s)
    return len(mine), order_columns(pd.DataFrame(mine), s.space.names, s.objective.name)
