"""The ``fmnist`` command line: the package's jobs without a notebook.

Examples::

    fmnist data info                 # where the data is, checksums, shapes, class counts
    fmnist data fetch                # obtain it (verified download into Keras's cache)
    fmnist train cnn_medium --epochs 5 --run-dir runs/cnn_medium
    fmnist train cnn_large --profile full --record   # the default recipe, recorded
    fmnist train cnn_best --recipe plain --epochs 20 --lr-schedule cosine
    fmnist evaluate runs/cnn_medium/model.keras
    fmnist tune --space mlp --engine talos --max-trials 4
    fmnist tune-seeds --space cnn --seeds 0 1 2 --goal 0.4   # Hyperband vs Talos, per seed
    fmnist report --profile quick    # execute the notebooks, export HTML to reports/
    fmnist report --profile full --no-execute   # the committed full-profile outputs as HTML
    fmnist benchmark --tiny

Errors exit with status 2 and a one-line message (no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_ERROR = 2
#: ``fmnist train``'s optimizer defaults; options that differ name a recorded variant.
DEFAULT_OPTIMIZER, DEFAULT_LEARNING_RATE = "adam", 1e-3


def _cmd_data(args) -> int:
    from fmnist.data import dataset_info, fetch, find_dataset

    if args.action == "fetch":
        try:
            where = find_dataset(args.name, args.data_dir)
            print(f"{args.name}: already present in {where}")
        except FileNotFoundError:  # a --data-dir that lacks files gets them downloaded into it
            where = fetch(args.name, args.data_dir)
            print(f"{args.name}: downloaded and verified into {where}")
        info = dataset_info(args.name, where)
        return 0 if info.get("verified") else EXIT_ERROR
    info = dataset_info(args.name, args.data_dir)
    if args.quiet:
        return 0 if info.get("verified") else 1
    if args.json:
        print(json.dumps(info, indent=2))
        return 0 if info.get("verified") else 1
    print(f"dataset:   {info['name']}")
    if not info["found"]:
        print(info["error"])
        return 1
    print(f"found in:  {info['directory']}")
    print(f"checksums: {'OK (SHA-256 verified)' if info['verified'] else 'FAILED'}")
    if not info["verified"]:
        print(info["error"])
        return 1
    for role, shape in info["shapes"].items():
        print(f"{role:13s} {tuple(shape)}")
    print(f"{'class':13s} {'train':>6s} {'test':>6s}")
    for cls, n in info["train_class_counts"].items():
        print(f"{cls:13s} {n:6d} {info['test_class_counts'][cls]:6d}")
    return 0


def _notebook_subsets(layout: str, profile, n: int | None, seed: int, split_seed: int):
    """``(splits, train, dev)`` as the notebooks take them: the train/dev split drawn with
    ``split_seed``, a stratified training subset of ``n`` images and the profile's dev subset,
    both drawn with ``seed``."""
    from fmnist.data import load_splits

    splits = load_splits("fashion_mnist", layout=layout, seed=split_seed)
    return splits, splits.train_subset(n, seed=seed), splits.dev_subset(profile.dev_subset, seed=seed)


def _training_data(layout: str, profile, subset_n: int | None, seed: int):
    """(train, dev, test) arrays for a preset layout, taken as the notebooks take them.

    The train/dev split is the project's fixed one (split seed 0, whatever ``--seed`` says,
    so no seed trains on the dev images the notebooks select on); the training and dev parts
    are the profile's stratified subsets (``cnn_subset`` for CNNs), drawn with ``seed``.
    """
    from fmnist.data import load_regression

    if layout == "regression":
        (x, y), test = load_regression()
        return (x, y), None, test
    n = _default(subset_n, profile.cnn_subset if layout == "cnn" else profile.train_subset)
    splits, train, dev = _notebook_subsets(layout, profile, n, seed, split_seed=0)
    return train, dev, (splits.x_test, splits.y_test)


def _departures(args, plan: dict, epochs: int, batch_size: int, profile) -> list[str]:
    """The options of a ``fmnist train`` run that depart from its recipe and profile.

    They become part of the recorded model name, so a record of a run with other settings
    never replaces the record of the recipe itself (nor another variant).
    """
    given = {
        "epochs": (epochs, plan["epochs"]),
        "batch size": (batch_size, profile.batch_size),
        "subset": (args.subset, None),
        "patience": (args.patience, None),
        "optimizer": (args.optimizer, DEFAULT_OPTIMIZER),
        "learning rate": (args.learning_rate, DEFAULT_LEARNING_RATE),
        "seed": (args.seed, 0),
    }  # fmt: skip
    out = [f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
           for name, (value, usual) in given.items() if value != usual]  # fmt: skip
    if args.lr_schedule is not None and args.lr_schedule != (plan["lr_schedule"] or "constant"):
        out.append(f"{args.lr_schedule} rate")
    if args.augment:
        out.append("flip+rotate+erase+noise")
    return out


def _cmd_train(args) -> int:
    import datetime as dt
    from pathlib import Path

    from fmnist.course.paths import runs_dir
    from fmnist.course.profiles import get_profile
    from fmnist.evaluation import evaluate
    from fmnist.course.experiments import recipe
    from fmnist.atomic import atomic_write_text
    from fmnist.checks import check_int
    from fmnist.model import build_model, compile_model, get_preset, make_optimizer, save_model
    from fmnist.training import set_seed, train

    profile = get_profile(args.profile)
    preset = get_preset(args.preset)
    # Everything is checked before the run directory is created or the data loaded.
    if args.augment and preset.layout == "regression":
        raise ValueError(f"--augment transforms images; {args.preset!r} is a regression preset")
    set_seed(args.seed)
    plan = recipe(args.recipe, preset.layout, profile, seed=args.seed)
    epochs = check_int(_default(args.epochs, plan["epochs"]), "epochs")
    batch_size = check_int(_default(args.batch_size, profile.batch_size), "batch_size")
    check_int(args.subset, "subset", allow_none=True, note=" (training images)")
    check_int(args.patience, "patience", minimum=0, allow_none=True)
    make_optimizer(args.optimizer, args.learning_rate)  # validates the name and the rate
    departures = _departures(args, plan, epochs, batch_size, profile)
    if args.lr_schedule is not None:  # options given win over the recipe
        plan["lr_schedule"] = None if args.lr_schedule == "constant" else args.lr_schedule
    if args.augment:
        from fmnist.data import build_augmentation

        plan["augment"] = build_augmentation(seed=args.seed)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = Path(args.run_dir or runs_dir() / f"{args.preset}-{stamp}")
    run_dir.mkdir(parents=True, exist_ok=True)
    train_xy, dev_xy, test_xy = _training_data(preset.layout, profile, args.subset, args.seed)
    model = compile_model(
        build_model(args.preset), optimizer=args.optimizer, learning_rate=args.learning_rate,
        task=preset.task,
    )  # fmt: skip
    print(f"training {args.preset} ({model.count_params():,} params) on {len(train_xy[1]):,} "
          f"samples for up to {epochs} epochs [profile {profile.name}, {args.recipe} recipe] "
          f"-> {run_dir}")  # fmt: skip
    result = train(
        model, train_xy, dev_xy, epochs=epochs, batch_size=batch_size,
        patience=args.patience, checkpoint_path=run_dir / "best.keras",
        csv_path=run_dir / "history.csv", seed=args.seed, augment=plan["augment"],
        lr_schedule=plan["lr_schedule"], verbose=1 if sys.stdout.isatty() else 2,
    )  # fmt: skip
    save_model(result.model, run_dir / "model.keras")
    metrics = evaluate(result.model, *test_xy)
    options = {"recipe": args.recipe, "lr_schedule": plan["lr_schedule"] or "constant",
               "augment": None if plan["augment"] is None else "+".join(
                   layer.name for layer in plan["augment"].layers),
               "train_samples": len(train_xy[1]), "batch_size": batch_size,
               "optimizer": args.optimizer, "learning_rate": args.learning_rate,
               "patience": args.patience, "seed": args.seed}  # fmt: skip
    summary = {"preset": args.preset, "profile": profile.name, **options, **result.summary(),
               **{f"test_{k}": v for k, v in metrics.items()}}  # fmt: skip
    atomic_write_text(run_dir / "result.json", json.dumps(summary, indent=2, default=float))
    shown = ", ".join(f"test {k} {v:.4f}" for k, v in metrics.items())
    print(f"{args.preset}: {shown}; {result.epochs_run} epochs in {result.wall_time:.1f} s "
          f"({result.images_per_sec:,.0f} img/s)")  # fmt: skip
    if args.record:
        from fmnist.course.report import record_training

        name = f"{args.preset} ({args.recipe} recipe{''.join('; ' + d for d in departures)})"
        path = record_training("fmnist train", name, result, metrics, profile=profile.name, **options)
        print(f"recorded in {path}")
    return 0


def _cmd_evaluate(args) -> int:
    from pathlib import Path

    from fmnist.data import load_regression, load_splits
    from fmnist.evaluation import classification_summary, evaluate
    from fmnist.model import infer_task, load_model

    path = Path(args.model)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist (a .keras file from `fmnist train`)")
    model = load_model(path)
    task = infer_task(model)
    if task == "regression":
        (x_train, y_train), (x, y) = load_regression()
        if args.split == "dev":
            raise ValueError("the regression data has no dev split; use --split test")
    else:
        layout = "mlp" if len(model.input_shape) == 2 else "cnn"
        splits = load_splits(args.dataset, layout=layout)
        x, y = (splits.x_test, splits.y_test) if args.split == "test" else (splits.x_dev, splits.y_dev)
    metrics = evaluate(model, x, y)
    for key, value in metrics.items():
        print(f"{args.split} {key}: {value:.4f}")
    if task != "regression" and args.per_class:
        pred = model.predict(x, verbose=0).argmax(axis=1)
        print(classification_summary(y, pred, splits.class_names).round(3).to_string())
    return 0


def _default(value, fallback):
    """The option's value unless it was not given (0 is a value, and gets validated)."""
    return fallback if value is None else value


def _tuning_data(space, profile, subset_n: int | None, seed: int):
    """``(x, y, x_val, y_val)`` of a search as notebooks 04/06/07 take them: a stratified
    training subset of the profile's size and the profile's dev subset (regression: the
    generator's training points, scored by cross-validation, so no dev data)."""
    from fmnist.data import load_regression

    if space.layout == "regression":
        (x, y), _ = load_regression()
        return x, y, None, None
    n = _default(subset_n, profile.tuning_budget(space.layout)[2])
    _, (x, y), (x_val, y_val) = _notebook_subsets(space.layout, profile, n, seed, split_seed=seed)
    return x, y, x_val, y_val


def _cmd_tune(args) -> int:
    import pandas as pd

    from fmnist.course.profiles import get_profile
    from fmnist.tuning import get_space, run_search

    profile = get_profile(args.profile)
    space = get_space(args.space)
    trials, epochs, _ = profile.tuning_budget(space.layout)
    x, y, x_val, y_val = _tuning_data(space, profile, args.subset, args.seed)
    result = run_search(
        space, args.engine, x, y, x_val, y_val,
        max_trials=_default(args.max_trials, trials),
        epochs=_default(args.epochs, epochs), directory=args.directory,
        project_name=args.project_name, tuner=args.tuner, fraction_limit=args.fraction_limit,
        cv_folds=_default(args.cv_folds, profile.cv_folds), seed=args.seed,
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


def _engine_tuner(text: str) -> tuple[str, str]:
    engine, sep, tuner = text.partition(":")
    if not sep or not engine or not tuner:
        raise argparse.ArgumentTypeError(f"expected ENGINE:TUNER such as kerastuner:hyperband or "
                                         f"talos:random, got {text!r}")  # fmt: skip
    return engine, tuner


def _cmd_tune_seeds(args) -> int:
    import datetime
    import time
    from pathlib import Path

    import pandas as pd

    from fmnist.atomic import atomic_write_text
    from fmnist.course.paths import reports_dir
    from fmnist.course.profiles import get_profile
    from fmnist.course.report import machine_summary
    from fmnist.tuning import get_space
    from fmnist.tuning.results import check_tolerance
    from fmnist.tuning.seeds import (
        _check_searches, check_goal, compare_over_seeds, repeat_searches, summarize_over_seeds,
    )  # fmt: skip

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
    x, y, x_val, y_val = _tuning_data(space, profile, args.subset, args.data_seed)
    out = Path(args.out or reports_dir() / "tuning" / f"{args.space}_seeds__{profile.name}.json")
    started, clock = datetime.datetime.now(datetime.timezone.utc), time.perf_counter()

    def progress(seed, name, result):
        print(f"seed {seed} {name}: {result.budget()}", flush=True)

    runs = repeat_searches(
        space, searches, x, y, x_val, y_val, seeds=args.seeds,
        project_name=args.project_name, max_trials=_default(args.max_trials, trials),
        epochs=_default(args.epochs, epochs), directory=args.directory,
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


def _cmd_report(args) -> int:
    from fmnist.course.report import CELL_TIMEOUT, build_reports

    index = build_reports(
        profile=args.profile, notebooks=args.notebooks or None,
        write_notebooks=args.write_notebooks, timeout=_default(args.cell_timeout, CELL_TIMEOUT),
        execute=not args.no_execute,
    )  # fmt: skip
    print(f"wrote {index}")
    return 0


def _cmd_results(args) -> int:
    from fmnist.course.report import load_results, results_dir, results_markdown, update_readme

    results = load_results(args.dir or results_dir(), profile=args.profile)
    if args.readme:
        print(f"wrote {update_readme(args.readme, results)} ({len(results)} results)")
    else:
        print(results_markdown(results), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fmnist", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = sub.add_parser("data", help="dataset info / fetch")
    data.add_argument("action", choices=("info", "fetch"))
    data.add_argument("name", nargs="?", default="fashion_mnist", choices=("fashion_mnist", "mnist"))
    data.add_argument("--data-dir", default=None,
                      help="the directory holding the four IDX files (fetch downloads missing "
                           "ones into it); default: search $FMNIST_DATA_DIR, data/<name>/, "
                           "Debian's package, Keras's cache")
    data.add_argument("--json", action="store_true", help="print machine-readable JSON")
    data.add_argument("--quiet", action="store_true", help="no output; exit 0 iff verified")
    data.set_defaults(func=_cmd_data)

    from fmnist.course.profiles import PROFILES
    from fmnist.course.experiments import RECIPES

    train = sub.add_parser("train", help="train a preset and write model + history to a run dir")
    train.add_argument("preset", help="preset name, e.g. mlp_medium or cnn_medium")
    train.add_argument("--epochs", type=int, default=None, help="default: from the profile")
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--profile", choices=sorted(PROFILES), default=None)
    train.add_argument("--subset", type=int, default=None, help="training images (stratified)")
    train.add_argument("--patience", type=int, default=None, help="early-stopping patience")
    train.add_argument("--optimizer", default=DEFAULT_OPTIMIZER)
    train.add_argument("--learning-rate", type=float, default=DEFAULT_LEARNING_RATE)
    train.add_argument("--recipe", choices=RECIPES, default="default",
                       help="default: for CNNs cosine decay + flips and 2-pixel shifts over the "
                            "profile's cnn_best_epochs; plain: constant rate, no augmentation "
                            "(fmnist.course.experiments.recipe)")
    train.add_argument("--lr-schedule", choices=("constant", "cosine"), default=None,
                       help="cosine: decay the learning rate to ~0 over the epochs "
                            "(default: the recipe's)")
    train.add_argument("--augment", action="store_true",
                       help="random flips, rotations, erasing and noise "
                            "(fmnist.data.build_augmentation), instead of the recipe's")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--run-dir", default=None, help="default: runs/<preset>-<time>")
    train.add_argument("--record", action="store_true",
                       help="record the test result for the results table (fmnist results) as "
                            "'<preset> (<recipe> recipe)', plus the options that depart from the "
                            "recipe ('; epochs 5, subset 1000'), so variants never overwrite it")
    train.set_defaults(func=_cmd_train)

    evaluate = sub.add_parser("evaluate", help="evaluate a saved .keras model")
    evaluate.add_argument("model", help="path to a .keras file")
    evaluate.add_argument("--dataset", default="fashion_mnist", choices=("fashion_mnist", "mnist"))
    evaluate.add_argument("--split", default="test", choices=("test", "dev"))
    evaluate.add_argument("--per-class", action="store_true", help="precision/recall/F1 table")
    evaluate.set_defaults(func=_cmd_evaluate)

    tune = sub.add_parser("tune", help="hyperparameter search with Talos or KerasTuner")
    tune.add_argument("--space", default="mlp", choices=("mlp", "cnn", "regression"))
    tune.add_argument("--engine", default="kerastuner", choices=("kerastuner", "talos"))
    tune.add_argument("--tuner", default=None, choices=("random", "hyperband", "bayesian"),
                      help="KerasTuner algorithm (default random)")
    tune.add_argument("--max-trials", type=int, default=None, help="default: from the profile")
    tune.add_argument("--epochs", type=int, default=None, help="epochs per trial")
    tune.add_argument("--subset", type=int, default=None, help="training images per trial")
    tune.add_argument("--fraction-limit", type=float, default=None, help="Talos grid fraction")
    tune.add_argument("--cv-folds", type=int, default=None, help="folds of cv_* objectives")
    tune.add_argument("--directory", default=None, help="default: runs/tuning")
    tune.add_argument("--project-name", default=None)
    tune.add_argument("--profile", choices=sorted(PROFILES), default=None)
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--overwrite", action="store_true", help="restart instead of resuming")
    tune.add_argument("--distributed", action="store_true",
                      help="KerasTuner chief/worker mode from KERASTUNER_TUNER_ID, "
                           "KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT")
    tune.set_defaults(func=_cmd_tune)

    seeds = sub.add_parser("tune-seeds", help="repeat a comparison of searches over seeds")
    seeds.add_argument("--space", default="cnn", choices=("mlp", "cnn", "regression"))
    seeds.add_argument("--searches", nargs="+", type=_engine_tuner, metavar="ENGINE:TUNER",
                       default=[("kerastuner", "hyperband"), ("talos", "random")],
                       help="default: kerastuner:hyperband talos:random")
    seeds.add_argument("--reference", type=_engine_tuner, metavar="ENGINE:TUNER",
                       help="the search the others are measured against (default: the last)")
    seeds.add_argument("--tolerance", type=float, default=0.005,
                       help="target = reference's best - tolerance (default 0.005: half a point)")
    seeds.add_argument("--goal", type=float, default=None,
                       help="count the seeds whose share of the reference's epochs is <= GOAL")
    seeds.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    seeds.add_argument("--data-seed", type=int, default=0, help="split and subset seed (fixed)")
    seeds.add_argument("--max-trials", type=int, default=None, help="default: from the profile")
    seeds.add_argument("--epochs", type=int, default=None, help="epochs per trial")
    seeds.add_argument("--subset", type=int, default=None, help="training images per trial")
    seeds.add_argument("--directory", default=None, help="default: runs/tuning")
    seeds.add_argument("--project-name", default="{engine}_{tuner}_seed{seed}",
                       help="run directory name per search and seed (default %(default)s)")
    seeds.add_argument("--profile", choices=sorted(PROFILES), default=None)
    seeds.add_argument("--out", default=None,
                       help="JSON record (default reports/tuning/<space>_seeds__<profile>.json)")
    seeds.set_defaults(func=_cmd_tune_seeds)

    report = sub.add_parser("report", help="execute the notebooks and export HTML reports")
    report.add_argument("--profile", choices=sorted(PROFILES), default=None)
    report.add_argument("--notebooks", nargs="*", help="a subset, e.g. 01_data 03_mlp")
    report.add_argument("--write-notebooks", action="store_true",
                        help="save the executed notebooks back (refresh committed outputs)")
    report.add_argument("--no-execute", action="store_true",
                        help="export the notebooks as stored, without running them (the committed "
                             "ones hold the last full-profile run: use with --profile full)")
    report.add_argument("--cell-timeout", type=int, default=None, metavar="SECONDS",
                        help="seconds one notebook cell may run (default 4 hours)")
    report.set_defaults(func=_cmd_report)

    results = sub.add_parser("results", help="the recorded results as a markdown table")
    results.add_argument("--dir", default=None, help="results directory (default reports/results)")
    results.add_argument("--profile", choices=sorted(PROFILES), default=None,
                         help="only results recorded under this profile")
    results.add_argument("--readme", default=None, metavar="PATH",
                         help="write the table into PATH's results block instead of printing it")
    results.set_defaults(func=_cmd_results)

    from fmnist.course.benchmark import add_benchmark_parser

    add_benchmark_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "data":  # the data commands do not need TensorFlow
        from fmnist.backend import import_backend_quietly

        import_backend_quietly()
    try:
        return args.func(args)
    except (ValueError, TypeError, KeyError, RuntimeError, OSError) as exc:
        # Library errors already say what was wrong and what is valid.
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"fmnist {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
