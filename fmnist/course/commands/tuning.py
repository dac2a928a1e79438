"""``fmnist tune`` and ``fmnist tune-seeds``."""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path

import pandas as pd

from fmnist.atomic import atomic_write_text
from fmnist.course.commands import default
from fmnist.course.commands.subsets import notebook_subsets
from fmnist.course.paths import reports_dir
from fmnist.course.profiles import get_profile
from fmnist.course.report import machine_summary
from fmnist.data import load_regression
from fmnist.tuning import get_space, run_search
from fmnist.tuning.results import check_tolerance
from fmnist.tuning.seeds import _check_searches, check_goal, compare_over_seeds, repeat_searches, summarize_over_seeds


def tuning_data(space, profile, subset_n: int | None, seed: int):
    """``(x, y, x_val, y_val)`` of a search as notebooks 04/06/07 take them: a stratified
    training subset of the profile's size and the profile's dev subset (regression: the
    generator's training points, scored by cross-validation, so no dev data)."""
    if space.layout == "regression":
        (x, y), _ = load_regression()
        return x, y, None, None
    n = default(subset_n, profile.tuning_budget(space.layout)[2])
    _, (x, y), (x_val, y_val) = notebook_subsets(space.layout, profile, n, seed, split_seed=seed)
    return x, y, x_val, y_val


def tune(args) -> int:
    profile = get_profile(args.profile)
    space = get_space(args.space)
    trials, epochs, _ = profile.tuning_budget(space.layout)
    x, y, x_val, y_val = tuning_data(space, profile, args.subset, args.seed)
    result = run_search(
        space, args.engine, x, y, x_val, y_val,
        max_trials=default(args.max_trials, trials),
        epochs=default(args.epochs, epochs), directory=args.directory,
        project_name=args.project_name, tuner=args.tuner, fraction_limit=args.fraction_limit,
        cv_folds=default(args.cv_folds, profile.cv_folds), seed=args.seed,
        distributed=args.distributed, overwrite=args.overwrite,
        quiet=not sys.stdout.isatty(),
    )  # fmt: skip
    with pd.option_context("display.width", 160, "display.max_columns", 30):
        print(result.results.drop(columns=["param_hash"], errors="ignore").to_string(index=False))
    print(f"role: {result.role}; run directory: {result.run_dir}")
    print(f"budget: {result.budget()}")
    if result.best is not None:
        print(f"best ({result.objective}, {result.mode}): {result.best}")
    return 0


def tune_seeds(args) -> int:
    profile = get_profile(args.profile)
    space = get_space(args.space)
    searches = {f"{e}:{t}": (e, t) for e, t in args.searches}
    reference = "{}:{}".format(*args.reference) if args.reference else list(searches)[-1]
    if reference not in searches:
        raise ValueError(f"--reference {reference} is not one of --searches: {', '.join(searches)}")
    # The checks compare_over_seeds/summarize_over_seeds apply after the searches, made before
    # them (and before loading the data) so a typo does not cost hours of tuning.
    _check_searches(searches)
    check_tolerance(args.tolerance)
    check_goal(args.goal)
    trials, epochs, _ = profile.tuning_budget(space.layout)
    x, y, x_val, y_val = tuning_data(space, profile, args.subset, args.data_seed)
    out = Path(args.out or reports_dir() / "tuning" / f"{args.space}_seeds__{profile.name}.json")
    started, clock = datetime.datetime.now(datetime.timezone.utc), time.perf_counter()

    def progress(seed, name, result):
        print(f"seed {seed} {name}: {result.budget()}", flush=True)

    runs = repeat_searches(
        space, searches, x, y, x_val, y_val, seeds=args.seeds,
        project_name=args.project_name, max_trials=default(args.max_trials, trials),
        epochs=default(args.epochs, epochs), directory=args.directory,
        cv_folds=profile.cv_folds, quiet=True, on_search_end=progress,
    )  # fmt: skip
    table = compare_over_seeds(runs, reference=reference, tolerance=args.tolerance)
    summary = summarize_over_seeds(table, goal=args.goal)
    # Shares are kept unrounded (goals are compared on them); 3 decimals are for reading.
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.precision", 3):
        print(table.to_string(index=False))
        print(summary.to_string())
    record = {
        "schema": "fmnist-tuning-seeds/1", "command": ["fmnist", *sys.argv[1:]],
        "started": started.isoformat(timespec="seconds"), "duration_s": round(time.perf_counter() - clock, 1),
        "machine": machine_summary(), "profile": profile.name, "space": args.space,
        "data": {"train": len(y), "dev": None if y_val is None else len(y_val), "seed": args.data_seed},
        "searches": searches, "reference": reference, "tolerance": args.tolerance,
        "goal": args.goal, "seeds": list(runs),
        "per_seed": json.loads(table.to_json(orient="records")),
        "summary": json.loads(summary.reset_index().to_json(orient="records")),
    }  # fmt: skip
    atomic_write_text(out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")
    return 0
