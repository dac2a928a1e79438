"""The ``fmnist`` command line: the package's jobs without a notebook.

Examples::

    fmnist data info                 # where the data is, checksums, shapes, class counts
    fmnist data fetch                # obtain it (verified download into Keras's cache)
    fmnist train cnn_medium --epochs 5 --run-dir runs/cnn_medium
    fmnist train cnn_large --profile full --record   # the default recipe, recorded
    fmnist train cnn_best --recipe plain --epochs 20 --lr-schedule cosine
    fmnist train cnn_best --recipe plain --epochs 20 --lr-schedule cosine --resume runs/cnn_best-...
    fmnist evaluate runs/cnn_medium/model.keras
    fmnist tune --space mlp --engine talos --max-trials 4
    fmnist tune-seeds --space cnn --seeds 0 1 2 --goal 0.4   # Hyperband vs Talos, per seed
    fmnist report --profile quick    # execute the notebooks, export HTML to reports/
    fmnist report --profile full --resume   # go on after an interrupted run
    fmnist report --profile full --no-execute   # the committed full-profile outputs as HTML
    fmnist report --profile full --no-execute --screenshot docs/index.png   # the README's picture
    fmnist benchmark --tiny
    fmnist benchmark --backends tensorflow jax torch --presets cnn_medium cnn_best
    fmnist --backend jax train regression_2layer --epochs 20   # another Keras backend

Errors exit with status 2 and a one-line message (no traceback).

This module builds the parser from cheap imports only (no Keras, no TensorFlow): each
subcommand names its implementation as ``"module:function"`` (``handler``), and
:func:`main` imports that one module, in one place (:func:`dispatch`). So ``fmnist --help``
and ``fmnist data info`` answer without importing TensorFlow, and ``--backend`` can still set
``KERAS_BACKEND`` before anything imports Keras.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from fmnist.course.benchmark.options import add_benchmark_parser
from fmnist.course.commands import BACKENDS, DEFAULT_LEARNING_RATE, DEFAULT_OPTIMIZER, EXIT_ERROR
from fmnist.course.profiles import PROFILES

__all__ = ["BACKENDS", "DEFAULT_LEARNING_RATE", "DEFAULT_OPTIMIZER", "EXIT_ERROR", "RECIPES",
           "SPEEDRUN_RECIPES", "build_parser", "dispatch", "main", "select_backend"]  # fmt: skip

#: ``fmnist.course.experiments.RECIPES`` (that module imports Keras; tests/test_cli.py checks
#: that the two agree).
RECIPES = ("default", "plain")
#: The names of ``fmnist.recipes.RECIPES`` (``fmnist speedrun --recipe``), copied for the same
#: reason and checked the same way.
SPEEDRUN_RECIPES = ("speedrun", "long")


def _engine_tuner(text: str) -> tuple[str, str]:
    engine, sep, tuner = text.partition(":")
    if not sep or not engine or not tuner:
        raise argparse.ArgumentTypeError(f"expected ENGINE:TUNER such as kerastuner:hyperband or "
                                         f"talos:random, got {text!r}")  # fmt: skip
    return engine, tuner


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fmnist", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="the Keras backend of this run (sets KERAS_BACKEND before Keras is "
                             "imported; default: $KERAS_BACKEND or ~/.keras/keras.json)")
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
    data.set_defaults(handler="fmnist.course.commands.data:data", needs_backend=False)

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
    train.add_argument("--resume", default=None, metavar="RUN_DIR",
                       help="continue the interrupted run in RUN_DIR from its last epoch "
                            "checkpoint (RUN_DIR/backup/, deleted when training completes): give "
                            "the preset and options it was started with (RUN_DIR/run.json); it "
                            "ends as the uninterrupted run would have (without augmentation)")
    train.add_argument("--record", action="store_true",
                       help="record the test result for the results table (fmnist results) as "
                            "'<preset> (<recipe> recipe)', plus the options that depart from the "
                            "recipe ('; epochs 5, subset 1000'), so variants never overwrite it")
    train.set_defaults(handler="fmnist.course.commands.training:train")

    evaluate = sub.add_parser("evaluate", help="evaluate a saved .keras model")
    evaluate.add_argument("model", help="path to a .keras file")
    evaluate.add_argument("--dataset", default="fashion_mnist", choices=("fashion_mnist", "mnist"))
    evaluate.add_argument("--split", default="test", choices=("test", "dev"))
    evaluate.add_argument("--per-class", action="store_true", help="precision/recall/F1 table")
    evaluate.set_defaults(handler="fmnist.course.commands.training:evaluate")

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
    tune.set_defaults(handler="fmnist.course.commands.tuning:tune")

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
    seeds.set_defaults(handler="fmnist.course.commands.tuning:tune_seeds")

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
    report.add_argument("--resume", action="store_true",
                        help="skip notebooks whose report in reports/ is current (same profile, "
                             "notebook and package code): continue an interrupted run")
    report.add_argument("--screenshot", default=None, metavar="PNG",
                        help="then write a picture of index.html in headless Chromium to PNG "
                             "(the README's docs/index.png; needs chromium, chromium-driver, selenium)")
    report.set_defaults(handler="fmnist.course.commands.reports:report")

    results = sub.add_parser("results", help="the recorded results as a markdown table")
    results.add_argument("--dir", default=None, help="results directory (default reports/results)")
    results.add_argument("--profile", choices=sorted(PROFILES), default=None,
                         help="only results recorded under this profile")
    results.add_argument("--readme", default=None, metavar="PATH",
                         help="write the table into PATH's results block instead of printing it")
    results.set_defaults(handler="fmnist.course.commands.reports:results")

    speed = sub.add_parser("speedrun", help="train a fixed-budget recipe over seeds and record each run")
    speed.add_argument("--recipe", default="speedrun", choices=SPEEDRUN_RECIPES,
                       help="fmnist.recipes.RECIPES (default speedrun)")
    speed.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    speed.add_argument("--epochs", type=int, default=None,
                       help="another epoch budget (the schedule stretches with it; recorded "
                            "under its own name); default: the recipe's (full profile) or the "
                            "profile's cnn_epochs (quick)")
    speed.add_argument("--split", default="test", choices=("test", "dev"),
                       help="test: train on train + dev, score the test set once per seed; dev: "
                            "train on train, score dev (to choose a recipe)")
    speed.add_argument("--profile", choices=sorted(PROFILES), default=None,
                       help="quick: the profile's CNN subset and epochs (a smoke run)")
    speed.add_argument("--no-record", action="store_true", help="do not record the runs")
    speed.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2))
    speed.set_defaults(handler="fmnist.course.commands.speedrun:speedrun")

    add_benchmark_parser(sub)
    return parser


def select_backend(name: str | None) -> None:
    """Make ``name`` the Keras backend of this process (``KERAS_BACKEND``), before Keras loads.

    Raises:
        RuntimeError: Keras is already imported with another backend (it is fixed at the
            first ``import keras``).
    """
    if name is None:
        return
    keras = sys.modules.get("keras")
    if keras is not None:
        active = keras.backend.backend()
        if active != name:
            raise RuntimeError(
                f"--backend {name}: Keras is already imported with the {active} backend in this "
                f"process (the backend is fixed at the first `import keras`); run fmnist in a new "
                f"process, or set KERAS_BACKEND={name} before Keras is imported"
            )
    os.environ["KERAS_BACKEND"] = name


def dispatch(args: argparse.Namespace) -> int:
    """Run the subcommand ``args.handler`` (``"module:function"``) names; return its status.

    The one place where the CLI imports the implementation of a command: lazily, so that the
    parser and ``fmnist data`` need neither Keras nor TensorFlow. Commands that use Keras load
    ``fmnist.backend`` first, whose import keeps TensorFlow's C++ start-up lines off the terminal.
    """
    module_name, _, function = args.handler.partition(":")
    # fmnist.backend first (quietly) when the command imports Keras; then the command itself.
    for name in (["fmnist.backend"] if getattr(args, "needs_backend", True) else []) + [module_name]:
        module = importlib.import_module(name)  # the CLI's one lazy import (see above)
    return getattr(module, function)(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        select_backend(args.backend)
        return dispatch(args)
    except (ValueError, TypeError, KeyError, RuntimeError, OSError) as exc:
        # Library errors already say what was wrong and what is valid.
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"fmnist {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
