"""``fmnist speedrun``: a fixed-budget recipe (:mod:`fmnist.recipes`) over several seeds.

The recipe trains on train + dev and is scored once per seed on the test set; ``--split dev``
trains on the train split and scores on dev, which is how a recipe is chosen. Every run is
recorded (``fmnist results``): the model name is the recipe's, plus its epoch budget when
``--epochs`` changes it, plus the seed, so the five seeds of one recipe share a name up to
the seed (and a ``seed`` field).
"""

from __future__ import annotations

import statistics

from fmnist.backend import training_precision
from fmnist.checks import check_int
from fmnist.course.profiles import get_profile
from fmnist.course.report import record_result
from fmnist.data import load_splits
from fmnist.recipes import get_recipe, run_recipe

#: Where ``--split`` runs are recorded (the report's results table shows test results only).
NOTEBOOKS = {"test": "speedrun", "dev": "speedrun_dev"}


def run_name(recipe, epochs: int, seed: int) -> str:
    """``"speedrun seed 3"``, or ``"speedrun 4 epochs seed 0"`` for another epoch budget."""
    budget = "" if epochs == recipe.epochs else f" {epochs} epoch{'s' if epochs != 1 else ''}"
    return f"{recipe.name}{budget} seed {seed}"


def speedrun(args) -> int:
    profile = get_profile(args.profile)
    recipe = get_recipe(args.recipe)
    seeds = [check_int(seed, "--seeds entry", minimum=0) for seed in args.seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds must not repeat a seed, got {seeds}")
    # The quick profile is a smoke run: the profile's CNN subset and epochs.
    epochs = args.epochs if args.epochs is not None else (recipe.epochs if profile.name == "full" else profile.cnn_epochs)
    recipe_run = recipe.with_epochs(check_int(epochs, "--epochs"))
    splits = load_splits("fashion_mnist", layout="cnn", seed=0)
    if args.split == "test":
        train_data, eval_data = splits.all_training(profile.cnn_subset, seed=0), (splits.x_test, splits.y_test)
    else:
        train_data, eval_data = splits.train_subset(profile.cnn_subset, seed=0), (splits.x_dev, splits.y_dev)
    metric = f"{args.split}_accuracy"
    accuracies = []
    for seed in seeds:
        result = run_recipe(recipe_run, train_data, eval_data, seed=seed, verbose=args.verbose)
        fields = result.summary()
        fields.update({
            metric: fields.pop("accuracy"), f"{args.split}_loss": fields.pop("loss"),
            "train_images": len(train_data[0]), "precision": training_precision(),
        })  # fmt: skip
        accuracies.append(fields[metric])
        if not args.no_record:
            record_result(NOTEBOOKS[args.split], run_name(recipe, recipe_run.epochs, seed), profile=profile.name, **fields)
        print(f"{run_name(recipe, recipe_run.epochs, seed)}: {metric} {fields[metric]:.4f} "
              f"(single view {fields['single_view_accuracy']:.4f}), training {fields['train_time']:.1f} s "
              f"at {fields['images_per_sec']:,} img/s, {fields['params']:,} params, {fields['precision']}")  # fmt: skip
    if len(accuracies) > 1:
        print(f"{recipe.name}, {len(accuracies)} seeds: median {metric} {statistics.median(accuracies):.4f}, "
              f"lowest {min(accuracies):.4f}")  # fmt: skip
    return 0
