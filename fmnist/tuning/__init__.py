"""Hyperparameter tuning: one search space, two engines (Talos, KerasTuner), one results table.

* :mod:`~fmnist.tuning.space` — :class:`SearchSpace` of :class:`Choice`/:class:`Range`/
  :class:`LogRange`/:class:`Boolean` domains; ``grid_size()`` for the notebooks.
* :mod:`~fmnist.tuning.spaces` — ready spaces "mlp", "cnn", "regression" (:func:`get_space`)
  and their builders over :mod:`fmnist.model`.
* :mod:`~fmnist.tuning.search` — :func:`run_search` (validation, resume, budget).
* :mod:`~fmnist.tuning.talos_engine` — ``talos.Scan`` with ``fraction_limit`` + our ledger.
* :mod:`~fmnist.tuning.kerastuner_engine` — RandomSearch / Hyperband / BayesianOptimization.
* :mod:`~fmnist.tuning.distributed` — KerasTuner chief/worker mode (KERASTUNER_* variables).
* :mod:`~fmnist.tuning.results` — :func:`best_config`, :func:`budget`, :func:`refit_best`,
  :func:`load_results`; :func:`compare_searches` and :func:`anytime_curve` (best score against
  epochs spent) to compare tuners on one space.
* :mod:`~fmnist.tuning.seeds` — :func:`repeat_searches`, :func:`compare_over_seeds`,
  :func:`summarize_over_seeds`: the same comparison once per seed (is one seed's verdict luck?).

Example::

    >>> from fmnist.tuning import get_space, run_search, best_config, refit_best
    >>> get_space("mlp").grid_size()
    324
    >>> out = run_search("mlp", "talos", x, y, x_dev, y_dev, fraction_limit=0.1, max_trials=4,
    ...                  epochs=2, directory="runs/tuning")
    >>> out.results[["trial_id", "units_1", "val_accuracy", "epochs", "wall_time"]]
    >>> final = refit_best("mlp", out.results, x_full, y_full, x_test, y_test, epochs=10)
    >>> final.test_metrics                                  # {'loss': ..., 'accuracy': ...}

Importing this package imports TensorFlow (through :mod:`fmnist.model`); Talos and
KerasTuner are imported only when their engine runs.
"""

from fmnist.tuning.distributed import (
    DistributedConfigError,
    DistributedRole,
    cluster_env,
    distributed_role,
    free_port,
)
from fmnist.tuning.kerastuner_engine import read_executions
from fmnist.tuning.results import (
    BASE_COLUMNS,
    RefitResult,
    SearchResult,
    anytime_curve,
    best_config,
    budget,
    compare_searches,
    epochs_to_reach,
    hyperparameter_columns,
    load_results,
    metric_columns,
    refit_best,
)
from fmnist.tuning.search import ENGINES, TUNERS, SearchSettings, run_search
from fmnist.tuning.seeds import compare_over_seeds, repeat_searches, summarize_over_seeds
from fmnist.tuning.space import (
    Boolean,
    Choice,
    LogRange,
    Param,
    Range,
    SearchSpace,
    SearchSpaceError,
    param_hash,
)
from fmnist.tuning.spaces import CNN_LAYOUTS, SPACES, get_space, space_for_data
from fmnist.tuning.trials import Objective, ObjectiveError, make_objective


__all__ = [
    "BASE_COLUMNS", "CNN_LAYOUTS", "ENGINES", "SPACES", "TUNERS", "Boolean", "Choice", "anytime_curve",
    "compare_over_seeds", "compare_searches", "epochs_to_reach", "repeat_searches",
    "summarize_over_seeds",
    "DistributedConfigError", "DistributedRole", "LogRange", "Objective", "ObjectiveError",
    "Param", "Range", "RefitResult", "SearchResult", "SearchSettings", "SearchSpace",
    "SearchSpaceError", "best_config", "budget", "cluster_env", "distributed_role", "free_port",
    "get_space", "hyperparameter_columns", "load_results", "make_objective", "metric_columns",
    "param_hash", "read_executions", "refit_best", "run_search", "space_for_data",
]  # fmt: skip
