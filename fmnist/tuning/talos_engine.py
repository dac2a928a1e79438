"""Talos engine: ``talos.Scan`` samples ``fraction_limit`` of the grid; our ledger makes it resumable.

Resuming: Talos 2.0.10 has a resume mode (``Scan(..., resume=True, experiment_dir=...)``), but
its runner refuses to continue as soon as the recorded environment (library versions), the
hashes of the caller's source modules or the data fingerprint differ ("Environment changed
since checkpoint", "Caller source module graph changed since checkpoint" in
``talos/experiment/runner.py``) — i.e. after any edit of this package or a library upgrade,
which is exactly when a course run gets restarted. So we keep our own trial ledger instead:

1. the planned trials are Talos' own sample of the grid (``ParamSpace`` with the same
   ``fraction_limit`` and ``seed``: a deterministic shuffle), cut to ``max_trials``;
2. every finished trial is appended to ``results.csv`` (atomically) with the hash of its
   parameters, from inside the Talos model function;
3. a restarted search passes Talos a ``boolean_limit`` that keeps only planned, unfinished
   configurations, so finished trials are never run again.

Each session gets its own Talos experiment directory (``talos/session_NNN``) because Talos
refuses to write into a non-empty one.

Example::

    >>> from fmnist.tuning import run_search
    >>> out = run_search("mlp", "talos", x, y, x_val, y_val, fraction_limit=0.1, epochs=2,
    ...                  directory="runs/tuning", project_name="mlp_talos")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import talos
from talos.parameters.ParamSpace import ParamSpace

from fmnist.tuning.results import RESULTS_FILE, atomic_write_csv, order_columns
from fmnist.tuning.space import _plain, param_hash
from fmnist.tuning.trials import run_cv_trial, run_validation_trial

__all__ = ["planned_configs", "run_talos"]


def planned_configs(space, fraction_limit: float, seed: int, max_trials: int | None = None) -> list[dict]:
    """The configurations a Talos search will run, in order (Talos' sample of the grid)."""
    sample = ParamSpace(space.grid(), space.names, fraction_limit=float(fraction_limit), seed=seed)
    configs = [{n: _plain(v) for n, v in zip(space.names, row)} for row in sample.param_space]
    return configs[:max_trials] if max_trials else configs


def read_ledger(run_dir: Path) -> pd.DataFrame:
    """Finished trials of earlier sessions (empty table if none)."""
    path = Path(run_dir) / RESULTS_FILE
    if not path.exists():
        return pd.DataFrame()
    return pd.read_csv(path, dtype={"trial_id": str, "param_hash": str})


def _next_session_dir(run_dir: Path) -> Path:
    root = run_dir / "talos"
    root.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name.split("_")[1]) for p in root.glob("session_*") if p.name.split("_")[1].isdigit()]
    return root / f"session_{max(taken, default=0) + 1:03d}"


def run_talos(settings) -> int:
    """Run (or continue) a Talos search described by ``settings``; return trials run now.

    ``settings`` is the :class:`fmnist.tuning.search.SearchSettings` built by ``run_search``.
    """
    s = settings
    space, objective = s.space, s.objective
    ledger = read_ledger(s.run_dir)
    rows: list[dict[str, Any]] = ledger.to_dict("records")
    done = set(ledger["param_hash"]) if "param_hash" in ledger else set()
    planned = planned_configs(space, s.fraction_limit, s.seed, s.max_trials)
    todo = {param_hash(c) for c in planned} - done
    if not todo:
        return 0
    width = len(str(len(planned)))
    ran = 0

    def model_fn(x_train, y_train, x_val, y_val, params):
        # Talos' split arrays are ignored: the closure holds the exact arrays of the search
        # (the full (x, y) for cross-validation).
        nonlocal ran
        config = space.check_config({n: params[n] for n in space.names})
        index = len(rows)
        trial_seed = s.seed + index
        if objective.kind == "cv":
            outcome = run_cv_trial(
                space, config, s.x, s.y, objective, epochs=s.epochs, folds=s.cv_folds,
                batch_size=s.batch_size, patience=s.patience, verbose=s.fit_verbose, seed=trial_seed,
            )  # fmt: skip
        else:
            outcome = run_validation_trial(
                space, config, s.x, s.y, s.x_val, s.y_val, objective, epochs=s.epochs,
                batch_size=s.batch_size, patience=s.patience, verbose=s.fit_verbose, seed=trial_seed,
            )  # fmt: skip
        row = {
            "trial_id": f"{index:0{width}d}", "engine": "talos", "tuner": s.tuner, **config,
            **outcome.metrics, "epochs": outcome.epochs, "wall_time": outcome.wall_time,
            "param_hash": param_hash(config),
        }  # fmt: skip
        rows.append(row)
        atomic_write_csv(order_columns(pd.DataFrame(rows), space.names, objective.name), s.run_dir / RESULTS_FILE)
        ran += 1
        if s.on_trial_end is not None:
            s.on_trial_end(dict(row))
        return outcome.history, outcome.model

    x_val, y_val = (s.x_val, s.y_val) if objective.kind == "validation" else (s.x[:2], s.y[:2])
    scan = talos.Scan(
        x=s.x, y=s.y, x_val=x_val, y_val=y_val, params=space.grid(), model=model_fn,
        experiment_name=space.name, experiment_dir=str(_next_session_dir(s.run_dir)),
        fraction_limit=float(s.fraction_limit), seed=s.seed,
        boolean_limit=lambda p: param_hash({n: p[n] for n in space.names}) in todo,
        reduction_metric=objective.name, minimize_loss=objective.mode == "min",
        disable_progress_bar=s.quiet, print_params=False,
        save_weights=False, save_models=False, clear_session=True,
    )  # fmt: skip
    if getattr(scan, "status", "complete") == "paused":
        # Talos turns Ctrl-C/SIGTERM into a "paused" status and returns; re-raise so callers
        # (and the CLI) see the interruption. Finished trials are in the ledger already.
        raise KeyboardInterrupt(f"Talos search interrupted after {ran} new trial(s); rerun to resume")
    return ran
