"""``fmnist train`` and ``fmnist evaluate``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from fmnist.atomic import atomic_write_text
from fmnist.backend import backend_name
from fmnist.checks import check_int
from fmnist.course.commands import DEFAULT_LEARNING_RATE, DEFAULT_OPTIMIZER, default
from fmnist.course.commands.subsets import notebook_subsets
from fmnist.course.experiments import recipe
from fmnist.course.paths import runs_dir
from fmnist.course.profiles import get_profile
from fmnist.course.report import record_training
from fmnist.data import build_augmentation, load_regression, load_splits
from fmnist.evaluation import classification_summary, evaluate as evaluate_model
from fmnist.model import build_model, compile_model, get_preset, infer_task, load_model, make_optimizer, save_model
from fmnist.training import backup_epochs, set_seed, train as train_model

#: In a run directory: the run's settings (written when it starts) and its epoch checkpoints.
RUN_FILE, BACKUP_DIR = "run.json", "backup"


def training_data(layout: str, profile, subset_n: int | None, seed: int):
    """(train, dev, test) arrays for a preset layout, taken as the notebooks take them.

    The train/dev split is the project's fixed one (split seed 0, whatever ``--seed`` says,
    so no seed trains on the dev images the notebooks select on); the training and dev parts
    are the profile's stratified subsets (``cnn_subset`` for CNNs), drawn with ``seed``.
    """
    if layout == "regression":
        (x, y), test = load_regression()
        return (x, y), None, test
    n = default(subset_n, profile.cnn_subset if layout == "cnn" else profile.train_subset)
    splits, train, dev = notebook_subsets(layout, profile, n, seed, split_seed=0)
    return train, dev, (splits.x_test, splits.y_test)


def departures(args, plan: dict, epochs: int, batch_size: int, profile) -> list[str]:
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


def run_settings(args, profile, plan: dict, epochs: int, batch_size: int) -> dict:
    """What a resumed run must repeat: every option that shapes the training, as resolved."""
    return {
        "preset": args.preset, "profile": profile.name, "recipe": args.recipe, "epochs": epochs,
        "batch_size": batch_size, "subset": args.subset, "patience": args.patience,
        "optimizer": args.optimizer, "learning_rate": args.learning_rate,
        "lr_schedule": plan["lr_schedule"] or "constant", "augment": args.augment, "seed": args.seed,
        "backend": backend_name(),
    }  # fmt: skip


def resume_point(run_dir: Path, settings: dict) -> int:
    """Epochs done in the interrupted run in ``run_dir``, after checking it is this run.

    Raises:
        ValueError: ``run_dir`` is no run of ``fmnist train``, has no checkpoint, or was
            started with other settings.
    """
    stored = run_dir / RUN_FILE
    if not stored.is_file():
        raise ValueError(f"--resume {run_dir}: not a run directory of `fmnist train` (no {RUN_FILE})")
    done = backup_epochs(run_dir / BACKUP_DIR)
    if done is None:
        why = ("the run has completed (result.json)" if (run_dir / "result.json").is_file() else
               "training stopped before its first epoch ended, or after training and before result.json")
        raise ValueError(f"--resume {run_dir}: no checkpoint to resume ({why}); "
                         "start a new run without --resume")  # fmt: skip
    before = json.loads(stored.read_text(encoding="utf-8"))["settings"]
    if before != settings:
        diff = "; ".join(f"{key} {before.get(key)!r} there, {settings.get(key)!r} here"
                         for key in sorted(set(before) | set(settings)) if before.get(key) != settings.get(key))
        raise ValueError(f"--resume {run_dir}: the run was started with other settings ({diff}); "
                         f"repeat the command it was started with (see {stored}) and add --resume")  # fmt: skip
    return done


def train(args) -> int:
    profile = get_profile(args.profile)
    preset = get_preset(args.preset)
    # Everything is checked before the run directory is created or the data loaded.
    if args.augment and preset.layout == "regression":
        raise ValueError(f"--augment transforms images; {args.preset!r} is a regression preset")
    set_seed(args.seed)
    plan = recipe(args.recipe, preset.layout, profile, seed=args.seed)
    epochs = check_int(default(args.epochs, plan["epochs"]), "epochs")
    batch_size = check_int(default(args.batch_size, profile.batch_size), "batch_size")
    check_int(args.subset, "subset", allow_none=True, note=" (training images)")
    check_int(args.patience, "patience", minimum=0, allow_none=True)
    make_optimizer(args.optimizer, args.learning_rate)  # validates the name and the rate
    variant = departures(args, plan, epochs, batch_size, profile)
    if args.lr_schedule is not None:  # options given win over the recipe
        plan["lr_schedule"] = None if args.lr_schedule == "constant" else args.lr_schedule
    if args.augment:
        plan["augment"] = build_augmentation(seed=args.seed)
    settings = run_settings(args, profile, plan, epochs, batch_size)
    if args.resume is not None:
        if args.run_dir is not None and Path(args.run_dir).resolve() != Path(args.resume).resolve():
            raise ValueError(f"--resume {args.resume} continues the run in that directory; "
                             f"drop --run-dir {args.run_dir}")  # fmt: skip
        run_dir = Path(args.resume)
        done = resume_point(run_dir, settings)
    else:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir = Path(args.run_dir or runs_dir() / f"{args.preset}-{stamp}")
        done = backup_epochs(run_dir / BACKUP_DIR)
        if done is not None:  # train() would resume it: say so instead of starting over
            raise ValueError(f"{run_dir} holds an interrupted run (checkpoint after epoch {done}): "
                             f"continue it with --resume {run_dir}, or choose another --run-dir")  # fmt: skip
        run_dir.mkdir(parents=True, exist_ok=True)
        record = {"command": "fmnist train", "started": dt.datetime.now().isoformat(timespec="seconds"),
                  "settings": settings}  # only the settings are checked on --resume
        atomic_write_text(run_dir / RUN_FILE, json.dumps(record, indent=2) + "\n")
    train_xy, dev_xy, test_xy = training_data(preset.layout, profile, args.subset, args.seed)
    model = compile_model(
        build_model(args.preset), optimizer=args.optimizer, learning_rate=args.learning_rate,
        task=preset.task,
    )  # fmt: skip
    start = f"resuming after epoch {done} of {epochs}" if args.resume else f"for up to {epochs} epochs"
    print(f"training {args.preset} ({model.count_params():,} params) on {len(train_xy[1]):,} "
          f"samples {start} [profile {profile.name}, {args.recipe} recipe, "
          f"{backend_name()} backend] -> {run_dir}")  # fmt: skip
    result = train_model(
        model, train_xy, dev_xy, epochs=epochs, batch_size=batch_size,
        patience=args.patience, checkpoint_path=run_dir / "best.keras",
        csv_path=run_dir / "history.csv", seed=args.seed, augment=plan["augment"],
        lr_schedule=plan["lr_schedule"], verbose=1 if sys.stdout.isatty() else 2,
        backup_dir=run_dir / BACKUP_DIR,
    )  # fmt: skip
    save_model(result.model, run_dir / "model.keras")
    metrics = evaluate_model(result.model, *test_xy)
    options = {"recipe": args.recipe, "lr_schedule": plan["lr_schedule"] or "constant",
               "augment": None if plan["augment"] is None else "+".join(
                   layer.name for layer in plan["augment"].layers),
               "train_samples": len(train_xy[1]), "batch_size": batch_size,
               "optimizer": args.optimizer, "learning_rate": args.learning_rate,
               "patience": args.patience, "seed": args.seed}  # fmt: skip
    summary = {"preset": args.preset, "profile": profile.name, "backend": backend_name(), **options,
               **result.summary(), **{f"test_{k}": v for k, v in metrics.items()}}  # fmt: skip
    atomic_write_text(run_dir / "result.json", json.dumps(summary, indent=2, default=float))
    shown = ", ".join(f"test {k} {v:.4f}" for k, v in metrics.items())
    print(f"{args.preset}: {shown}; {result.epochs_run} epochs in {result.wall_time:.1f} s "
          f"({result.images_per_sec:,.0f} img/s)")  # fmt: skip
    if args.record:
        name = f"{args.preset} ({args.recipe} recipe{''.join('; ' + d for d in variant)})"
        path = record_training("fmnist train", name, result, metrics, profile=profile.name, **options)
        print(f"recorded in {path}")
    return 0


def evaluate(args) -> int:
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
    metrics = evaluate_model(model, x, y)
    for key, value in metrics.items():
        print(f"{args.split} {key}: {value:.4f}")
    if task != "regression" and args.per_class:
        pred = model.predict(x, verbose=0).argmax(axis=1)
        print(classification_summary(y, pred, splits.class_names).round(3).to_string())
    return 0
