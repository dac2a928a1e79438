"""``run_search``: one entry point for every engine, with validation, resume and budget.

Example::

    >>> from fmnist.data import load_splits, subset
    >>> from fmnist.tuning import run_search
    >>> s = load_splits(layout="mlp")
    >>> x, y = subset(s.x_train, s.y_train, 2048)
    >>> out = run_search("mlp", "kerastuner", x, y, s.x_dev, s.y_dev, max_trials=4, epochs=2,
    ...                  tuner="hyperband", directory="runs/tuning")
    >>> out.results            # trial_id, engine, tuner, hyperparameters, val_accuracy, ...
    >>> out.best, out.budget()

Calling it again with the same arguments continues the search (finished trials are skipped);
``overwrite=True`` starts over. The run directory is ``<directory>/<project_name>`` and holds
``results.csv``, ``search.json`` (settings, grid size, budget of each session) and the
engine's own files.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from fmnist.checks import check_int
from fmnist.model.errors import UnknownNameError
from fmnist.tuning.distributed import DistributedConfigError, distributed_role
from fmnist.tuning.kerastuner_engine import MAX_SEED, RESERVED_TUNER_KWARGS, run_kerastuner
from fmnist.tuning.results import (
    SPEC_FILE,
    SearchResult,
    _json_default,
    atomic_write_json,
    best_config,
    load_results,
    order_columns,
    read_json,
)
from fmnist.tuning.space import SearchSpace
from fmnist.tuning.spaces import space_for_data
from fmnist.tuning.talos_engine import run_talos
from fmnist.tuning.trials import Objective, check_objective, make_objective

__all__ = ["ENGINES", "TUNERS", "SearchSettings", "run_search"]

ENGINES = ("talos", "kerastuner")
TUNERS = ("random", "hyperband", "bayesian")
# search.json keys that must not change when a run is resumed (max_trials may grow).
_IDENTITY_KEYS = ("space", "engine", "tuner", "objective", "mode", "seed", "epochs", "fraction_limit",
                  "cv_folds", "batch_size", "patience", "n_train", "n_val", "tuner_kwargs")  # fmt: skip
# Identity keys that older search.json files lack, with the value then in effect: tuner_kwargs
# was recorded last, and fmnist's notebooks and CLI never pass any. A record that lacks a key
# is compared with this default rather than skipped, so a changed setting cannot slip through.
_UNRECORDED_DEFAULTS: dict[str, Any] = {"tuner_kwargs": {}}


@dataclasses.dataclass
class SearchSettings:
    """Everything an engine needs (built and validated by :func:`run_search`)."""

    space: SearchSpace
    objective: Objective
    engine: str
    tuner: str
    x: Any
    y: Any
    x_val: Any
    y_val: Any
    run_dir: Path
    max_trials: int | None
    epochs: int
    fraction_limit: float | None
    cv_folds: int
    batch_size: int
    patience: int | None
    seed: int
    quiet: bool
    role: str  # "single", "chief" or the worker's tuner id
    on_trial_end: Callable[[dict], None] | None
    tuner_kwargs: dict[str, Any]

    @property
    def fit_verbose(self) -> int:
        """Keras verbosity: silent in quiet mode, progress bars otherwise."""
        return 0 if self.quiet else 1


def _check_engine(engine: str, tuner: str | None) -> tuple[str, str]:
    if engine not in ENGINES:
        raise UnknownNameError(f"unknown tuning engine {engine!r}; valid engines: {', '.join(ENGINES)}")
    tuner = "random" if tuner is None else tuner
    if tuner not in TUNERS:
        raise UnknownNameError(f"unknown tuner {tuner!r}; valid tuners: {', '.join(TUNERS)}")
    if engine == "talos" and tuner != "random":
        raise UnknownNameError(
            f"engine 'talos' only samples the grid at random (tuner='random'), got tuner={tuner!r}; "
            "use engine='kerastuner' for hyperband/bayesian"
        )
    return engine, tuner


def _check_seed(seed: Any, engine: str) -> int:
    """``seed`` as an int >= 0; for KerasTuner also below the seed fmnist seed 0 is mapped to."""
    seed = check_int(seed, "seed", minimum=0)
    if engine == "kerastuner":
        if seed >= MAX_SEED:
            raise ValueError(
                f"seed must be an int in [0, {MAX_SEED - 1}] for engine 'kerastuner' (KerasTuner "
                f"gets seed 0 as {MAX_SEED}, the largest seed NumPy accepts), got {seed}"
            )
    return seed


def _check_tuner_kwargs(engine: str, tuner_kwargs: Any) -> dict[str, Any]:
    """A copy of ``tuner_kwargs``: KerasTuner arguments that run_search does not set itself."""
    if tuner_kwargs is None:
        return {}
    if not isinstance(tuner_kwargs, Mapping) or not all(isinstance(k, str) for k in tuner_kwargs):
        raise TypeError(f"tuner_kwargs must be a dict of KerasTuner argument names to values, got {tuner_kwargs!r}")
    if tuner_kwargs and engine != "kerastuner":
        raise ValueError(f"tuner_kwargs is for engine 'kerastuner' (extra arguments of its tuner); "
                         f"engine {engine!r} takes none, got {sorted(tuner_kwargs)}")  # fmt: skip
    if tuner_kwargs:
        reserved = [k for k in tuner_kwargs if k in RESERVED_TUNER_KWARGS]
        if reserved:
            raise ValueError(
                f"tuner_kwargs may not set {', '.join(reserved)}: run_search sets "
                f"{', '.join(RESERVED_TUNER_KWARGS)} itself (pass seed=, max_trials=, epochs= for "
                "max_epochs, objective=, directory=, project_name=, overwrite= to run_search)"
            )
    return dict(tuner_kwargs)


def _canonical(value: Any) -> Any:
    """``value`` as search.json stores it (sorted keys, tuples as lists, repr of objects), so a
    live setting and one read back from the file compare equal when they are the same."""
    return json.loads(json.dumps(value, sort_keys=True, default=_json_default))


def _check_data(x, y, name: str) -> None:
    if x is None or y is None:
        raise ValueError(f"{name} data missing: pass both x and y arrays")
    if len(x) != len(y):
        raise ValueError(f"{name}: x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise ValueError(f"{name} data is empty")


def _spec(settings: SearchSettings, grid_size: int) -> dict[str, Any]:
    s = settings
    return {
        "space": s.space.describe(),
        "engine": s.engine,
        "tuner": s.tuner,
        "objective": s.objective.name,
        "mode": s.objective.mode,
        "hyperparameters": s.space.names,
        "seed": s.seed,
        "epochs": s.epochs,
        "max_trials": s.max_trials,
        "fraction_limit": s.fraction_limit,
        "cv_folds": s.cv_folds if s.objective.kind == "cv" else None,
        "batch_size": s.batch_size,
        "patience": s.patience,
        "grid_size": grid_size,
        "n_train": int(len(s.x)),
        "n_val": None if s.x_val is None else int(len(s.x_val)),
        "tuner_kwargs": _canonical(s.tuner_kwargs),
        "sessions": [],
    }


def _check_resume(previous: Mapping[str, Any], spec: Mapping[str, Any], run_dir: Path) -> None:
    for key in _IDENTITY_KEYS:
        if key in previous:
            old, note = previous[key], ""
        elif key in _UNRECORDED_DEFAULTS:
            old, note = _UNRECORDED_DEFAULTS[key], f" assumed (an older record without {key})"
        else:  # unknown value and no default to assume: nothing to compare
            continue
        new = spec.get(key)
        if json.dumps(old, sort_keys=True, default=str) != json.dumps(new, sort_keys=True, default=str):
            raise ValueError(
                f"{run_dir} holds a search with a different {key} ({old!r} there{note}, {new!r} now); "
                "resume with the same settings, pick another project_name, or pass overwrite=True"
            )


def run_search(
    space: str | SearchSpace = "mlp",
    engine: str = "kerastuner",
    x: Any = None,
    y: Any = None,
    x_val: Any = None,
    y_val: Any = None,
    max_trials: int | None = None,
    epochs: int = 1,
    directory: str | Path | None = None,
    project_name: str | None = None,
    *,
    tuner: str | None = None,
    objective: str | None = None,
    mode: str | None = None,
    fraction_limit: float | None = None,
    cv_folds: int = 5,
    batch_size: int = 128,
    patience: int | None = None,
    seed: int = 0,
    distributed: bool = False,
    overwrite: bool = False,
    quiet: bool = True,
    on_trial_end: Callable[[dict], None] | None = None,
    tuner_kwargs: Mapping[str, Any] | None = None,
) -> SearchResult:
    """Run (or resume) a hyperparameter search and return its tidy results.

    Args:
        space: a ready-made space name ("mlp", "cnn", "regression": shaped for ``x``/``y``)
            or a :class:`SearchSpace`.
        engine: "talos" or "kerastuner".
        x, y: training data; ``x_val``, ``y_val``: dev set for ``val_*`` objectives.
        max_trials: trials to run in total (>= 1). Required for KerasTuner random/bayesian;
            caps Hyperband; for Talos it caps the ``fraction_limit`` sample.
        epochs: epochs per trial (Hyperband: ``max_epochs``).
        directory, project_name: the run directory is ``directory/project_name``
            (defaults: ``tuning`` under the current directory and ``<space>_<engine>_<tuner>``).
        tuner: "random" (default), "hyperband" or "bayesian" (KerasTuner only).
        objective: "val_<metric>" or "cv_<metric>"; default the space's ("val_accuracy",
            regression "cv_mse"). ``mode``: "min"/"max", inferred by default.
        fraction_limit: Talos only; fraction of the grid to sample, in (0, 1] (default 1.0,
            i.e. a random order of the whole grid cut at ``max_trials``).
        cv_folds: folds of the ``cv_*`` objectives.
        batch_size: used when the space does not tune ``batch_size``.
        patience: early-stopping patience inside each trial (None: off).
        distributed: KerasTuner chief/worker mode from the KERASTUNER_* environment variables
            (see :mod:`fmnist.tuning.distributed`).
        overwrite: delete an existing run directory instead of resuming it.
        quiet: no progress bars or per-trial printing (notebooks, CI).
        on_trial_end: called with each finished trial's result row (a dict).
        tuner_kwargs: extra arguments of the KerasTuner tuner (e.g. ``{"factor": 2}``); not
            the ones run_search sets itself (seed, max_trials, max_epochs, directory, ...).
        seed: >= 0; below 2**32 - 1 for KerasTuner (see ``kerastuner_seed``).

    Raises:
        UnknownNameError: unknown space, engine or tuner.
        SearchSpaceError: empty space or a hyperparameter the builder does not accept.
        ObjectiveError: an objective the models do not log.
        ValueError: bad numbers (max_trials < 1, fraction_limit outside (0, 1], ...), missing
            data, or a run directory holding a different search.
    """
    start = time.perf_counter()
    engine, tuner = _check_engine(engine, tuner)
    max_trials = check_int(max_trials, "max_trials", allow_none=True)
    epochs = check_int(epochs, "epochs")
    cv_folds = check_int(cv_folds, "cv_folds", minimum=2)
    batch_size = check_int(batch_size, "batch_size")
    patience = check_int(patience, "patience", minimum=0, allow_none=True)
    seed = _check_seed(seed, engine)
    tuner_kwargs = _check_tuner_kwargs(engine, tuner_kwargs)
    if fraction_limit is not None:
        if engine != "talos":
            raise ValueError("fraction_limit applies to engine='talos' only; use max_trials for KerasTuner")
        is_number = isinstance(fraction_limit, (int, float)) and not isinstance(fraction_limit, bool)
        if not is_number or not 0 < fraction_limit <= 1:
            raise ValueError(f"fraction_limit must be a fraction of the grid in (0, 1], got {fraction_limit!r}")
    if engine == "kerastuner" and tuner != "hyperband" and max_trials is None:
        raise ValueError(f"KerasTuner {tuner} search needs max_trials (an int >= 1)")
    if engine == "talos" and max_trials is None and fraction_limit is None:
        raise ValueError("Talos needs fraction_limit (share of the grid) and/or max_trials")
    if on_trial_end is not None and not callable(on_trial_end):
        raise TypeError(f"on_trial_end must be callable, got {on_trial_end!r}")

    # KerasTuner reads the KERASTUNER_* variables itself, so they matter for it only.
    role = distributed_role() if distributed or engine == "kerastuner" else None
    if distributed:
        if engine != "kerastuner":
            raise ValueError("distributed=True needs engine='kerastuner' (Talos has no chief/worker mode)")
        if role is None:
            raise DistributedConfigError(
                "distributed=True but KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and "
                "KERASTUNER_ORACLE_PORT are not set (see fmnist.tuning.distributed)"
            )
        if overwrite:
            raise ValueError("overwrite=True is not allowed in distributed mode (workers share the directory)")
    elif role is not None:  # KerasTuner would silently become a chief/worker
        raise DistributedConfigError(
            "KERASTUNER_* environment variables are set: pass distributed=True, or unset them"
        )
    role_name = role.name if distributed else "single"

    _check_data(x, y, "training")
    space = space_for_data(space, x, y)
    objective_ = make_objective(objective or space.objective, mode)
    if objective_.kind == "validation":
        if x_val is None or y_val is None:
            raise ValueError(
                f"objective {objective_.name!r} scores a dev set: pass x_val and y_val "
                "(e.g. from fmnist.data.stratified_split), or use a cv_* objective"
            )
        _check_data(x_val, y_val, "validation")
    grid_size = space.grid_size()
    if engine == "talos":
        fraction_limit = 1.0 if fraction_limit is None else float(fraction_limit)
        if int(grid_size * fraction_limit) < 1:
            raise ValueError(
                f"fraction_limit={fraction_limit} of a {grid_size}-combination grid samples no "
                f"trial; use at least {1 / grid_size:.3g}"
            )
    check_objective(space, objective_, x, y)

    directory = Path(directory) if directory is not None else Path("tuning")
    project_name = project_name or f"{space.name}_{engine}_{tuner}"
    run_dir = (directory / project_name).resolve()
    if overwrite and run_dir.exists():
        shutil.rmtree(run_dir)
    finished: list[str] = []  # trial ids run by this call, counted even if it is interrupted

    def _on_trial_end(row: dict) -> None:
        finished.append(row["trial_id"])
        if on_trial_end is not None:
            on_trial_end(row)

    settings = SearchSettings(
        space=space, objective=objective_, engine=engine, tuner=tuner, x=x, y=y, x_val=x_val,
        y_val=y_val, run_dir=run_dir, max_trials=max_trials, epochs=epochs,
        fraction_limit=fraction_limit, cv_folds=cv_folds, batch_size=batch_size, patience=patience,
        seed=int(seed), quiet=bool(quiet), role=role_name, on_trial_end=_on_trial_end,
        tuner_kwargs=tuner_kwargs,
    )  # fmt: skip
    spec = _spec(settings, grid_size)
    previous = read_json(run_dir / SPEC_FILE)
    if previous is not None:
        _check_resume(previous, spec, run_dir)
        spec["sessions"] = previous.get("sessions", [])
    writer = role_name in ("single", "chief")  # workers leave the shared files to the chief
    if writer:
        atomic_write_json(spec, run_dir / SPEC_FILE)
    else:
        run_dir.mkdir(parents=True, exist_ok=True)

    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    status, results = "interrupted", None
    try:
        if engine == "talos":
            run_talos(settings)
            results = load_results(run_dir) if (run_dir / "results.csv").exists() else None
        else:
            _, results = run_kerastuner(settings)
        status = "complete"
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"failed: {type(exc).__name__}"
        raise
    finally:
        if writer:
            spec["sessions"].append({
                "started": started, "status": status, "trials_run": len(finished), "role": role_name,
                "search_time": round(time.perf_counter() - start, 3),
            })  # fmt: skip
            atomic_write_json(spec, run_dir / SPEC_FILE)

    if results is None:
        results = pd.DataFrame(columns=["trial_id", "engine", "tuner", *space.names, objective_.name,
                                        "epochs", "wall_time", "param_hash"])  # fmt: skip
    results = order_columns(results, space.names, objective_.name)
    results.attrs["mode"] = objective_.mode
    best = best_config(results, objective_.name, objective_.mode) if len(results) else None
    return SearchResult(
        results=results, best=best, objective=objective_.name, mode=objective_.mode, run_dir=run_dir,
        engine=engine, tuner=tuner, grid_size=grid_size, trials_run=len(finished),
        search_time=time.perf_counter() - start, role=role_name,
    )  # fmt: skip
