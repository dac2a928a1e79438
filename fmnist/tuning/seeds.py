"""The same comparison of searches, repeated over seeds: is one seed's ordering luck?

A single run of "Hyperband vs random search" depends on the seed twice over: it decides
which configurations each tuner draws and how every trial's weights start. Notebook 06
compares the tuners once; this module repeats that comparison for several seeds, with
the data fixed, and summarizes how stable the answer is.

* :func:`repeat_searches` runs (or resumes) every search once per seed, each in its own
  run directory (``project_name`` must contain ``{seed}``);
* :func:`compare_over_seeds` is :func:`~fmnist.tuning.compare_searches` per seed, stacked;
* :func:`summarize_over_seeds` gives, per search, the median and range over seeds of the
  share of the reference's epochs needed to come within ``tolerance`` of its best, and in
  how many seeds that share met a goal.

Example::

    >>> runs = repeat_searches("cnn", {"hyperband": ("kerastuner", "hyperband"),
    ...                                "random (Talos)": ("talos", "random")},
    ...                        x, y, x_dev, y_dev, seeds=(0, 1, 2), max_trials=12, epochs=6,
    ...                        directory="runs/tuning")
    >>> table = compare_over_seeds(runs, reference="random (Talos)", tolerance=0.005)
    >>> summarize_over_seeds(table, goal=0.4)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from fmnist.checks import check_real
from fmnist.tuning.results import SHARE_COLUMN as SHARE
from fmnist.tuning.results import SearchResult, check_tolerance, compare_searches
from fmnist.tuning.search import _check_engine, _check_seed, _check_tuner_kwargs, run_search


def _check_seeds(seeds: Iterable[int]) -> tuple[int, ...]:
    seeds = tuple(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of integers >= 0, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}")
    return tuple(int(s) for s in seeds)


def _check_searches(searches: Mapping[str, tuple[str, str]]) -> None:
    if not isinstance(searches, Mapping) or not searches:
        raise ValueError("searches must be a non-empty mapping of name -> (engine, tuner), "
                         "e.g. {'hyperband': ('kerastuner', 'hyperband')}")  # fmt: skip
    pairs = list(searches.values())
    if any(not isinstance(p, tuple) or len(p) != 2 for p in pairs):
        raise ValueError(f"every search must be an (engine, tuner) pair, got {pairs!r}")
    for engine, tuner in pairs:  # all names up front, not when that search's turn comes
        _check_engine(engine, tuner)
    if len(set(pairs)) != len(pairs):
        # Two searches with one engine and tuner would share a run directory.
        raise ValueError(f"each (engine, tuner) pair may appear once, got {pairs!r}")


def check_goal(goal: Any) -> float | None:
    """:func:`summarize_over_seeds`' ``goal``: None or a finite share of the reference's epochs > 0."""
    return check_real(goal, "goal", low=0, low_open=True, allow_none=True,
                      note=" (a share of the reference's epochs, e.g. 0.4)")  # fmt: skip


def repeat_searches(
    space: Any,
    searches: Mapping[str, tuple[str, str]],
    x: Any,
    y: Any,
    x_val: Any = None,
    y_val: Any = None,
    *,
    seeds: Iterable[int],
    project_name: str = "{engine}_{tuner}_seed{seed}",
    on_search_end: Callable[[int, str, SearchResult], None] | None = None,
    **search_kwargs: Any,
) -> dict[int, dict[str, SearchResult]]:
    """Run every search of ``searches`` once per seed: ``{seed: {name: SearchResult}}``.

    Each run is :func:`~fmnist.tuning.run_search` with ``seed=seed`` and the run directory
    ``directory / project_name.format(engine=, tuner=, seed=)``; finished runs are resumed,
    not repeated. ``search_kwargs`` (``max_trials``, ``epochs``, ``directory``, ...) go to
    every run unchanged, so the seed is the only thing that differs between repetitions.
    ``on_search_end(seed, name, result)`` is called after each run (progress, logging).
    """

    seeds = _check_seeds(seeds)
    _check_searches(searches)
    for engine, _ in searches.values():  # what run_search checks per engine, before any run
        for seed in seeds:
            _check_seed(seed, engine)
        _check_tuner_kwargs(engine, search_kwargs.get("tuner_kwargs"))
    if "{seed}" not in project_name or "{engine}" not in project_name or "{tuner}" not in project_name:
        raise ValueError(f"project_name must contain {{engine}}, {{tuner}} and {{seed}} so that every "
                         f"run has its own directory, got {project_name!r}")  # fmt: skip
    if "seed" in search_kwargs or "tuner" in search_kwargs:
        raise ValueError("pass the seeds as seeds=... and the tuners in searches, not as seed=/tuner=")
    runs: dict[int, dict[str, SearchResult]] = {}
    for seed in seeds:
        runs[seed] = {}
        for name, (engine, tuner) in searches.items():
            result = run_search(space, engine, x, y, x_val, y_val, tuner=tuner, seed=seed,
                                project_name=project_name.format(engine=engine, tuner=tuner, seed=seed),
                                **search_kwargs)  # fmt: skip
            runs[seed][name] = result
            if on_search_end is not None:
                on_search_end(seed, name, result)
    return runs


def compare_over_seeds(runs: Mapping[int, Mapping[str, SearchResult]], reference: str,
                       tolerance: float) -> pd.DataFrame:
    """:func:`~fmnist.tuning.compare_searches` for each seed, as one long table.

    Columns: ``seed``, ``search``, ``target`` (that seed's reference best minus
    ``tolerance``), then compare_searches' columns (cost, best, ``epochs to target``,
    ``to target / reference``). Each seed's searches are related to that seed's reference.
    """
    if not runs:
        raise ValueError("runs is empty: nothing to compare")
    tolerance = check_tolerance(tolerance)
    frames = []
    for seed, searches in runs.items():
        table = compare_searches(searches, reference=reference, tolerance=tolerance)
        target = table.attrs["target"]
        table = table.reset_index()
        table.insert(0, "seed", seed)
        table.insert(2, "target", target)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def summarize_over_seeds(table: pd.DataFrame, goal: float | None = None) -> pd.DataFrame:
    """Per search: how its share of the reference's epochs to target varies over the seeds.

    Columns: ``seeds``; ``best`` median of the best objective; ``reached`` (seeds in which
    the search came within tolerance of the reference's best at all); ``share median``,
    ``share min``, ``share max`` of ``to target / reference`` over the seeds that reached
    it; with ``goal`` (e.g. 0.4), ``within goal``: seeds whose share was <= ``goal``.
    """
    needed = {"seed", "search", SHARE}
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
        raise ValueError(f"table must be compare_over_seeds' output with columns {sorted(needed)}")
    goal = check_goal(goal)
    best = next(c for c in table.columns if c.startswith("best ") and c != "best - reference")
    rows = []
    for search, group in table.groupby("search", sort=False):
        share = pd.to_numeric(group[SHARE], errors="coerce").astype(float).dropna()
        row = {"search": search, "seeds": int(group["seed"].nunique()),
               "best median": float(group[best].median()), "reached": len(share),
               # an empty Series (no seed reached the target) gives NaN here
               "share median": float(share.median()), "share min": float(share.min()),
               "share max": float(share.max())}  # fmt: skip
        if goal is not None:
            row["within goal"] = int((share <= goal).sum())
        rows.append(row)
    return pd.DataFrame(rows).set_index("search")
