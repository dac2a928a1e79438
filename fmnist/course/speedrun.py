"""The course's speedrun: a recipe of :mod:`fmnist.recipes` on the course's data, recorded.

The recipe trains on train + dev and is scored once per seed on the test set (``split="test"``);
``split="dev"`` trains on the train split and scores dev, which is how a recipe is chosen.
Every run is recorded (``fmnist results``) under the recipe's name, plus its epoch budget
when that differs from the recipe's, plus the seed: the seeds of one recipe share a name up
to the seed (and a ``seed`` field). ``fmnist speedrun`` and notebook 11 both run through here.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from fmnist.backend import choose_precision, training_precision
from fmnist.checks import check_int
from fmnist.course.model_cache import ModelCache, resolve_cache
from fmnist.course.profiles import Profile, get_profile
from fmnist.course.report import load_results, record_result
from fmnist.data import load_splits
from fmnist.recipes import Recipe, RecipeResult, get_recipe, score_recipe, train_recipe
from fmnist.training import array_fingerprint

__all__ = ["NOTEBOOKS", "SPLITS", "load_speedrun_runs", "run_and_record", "run_name", "speedrun_data"]

SPLITS = ("test", "dev")
#: The "notebook" each split's runs are recorded under (the results table shows test runs).
NOTEBOOKS = {"test": "speedrun", "dev": "speedrun_dev"}


def run_name(recipe: Recipe, epochs: int, seed: int, precision: str | None = None) -> str:
    """``"speedrun seed 3"``, ``"speedrun 4 epochs seed 0"`` for another epoch budget, and
    ``"... seed 0, float32"`` for a run in another precision than the machine's default
    (``FMNIST_PRECISION`` set: the comparison of precisions on the dev split)."""
    budget = "" if epochs == recipe.epochs else f" {epochs} epoch{'s' if epochs != 1 else ''}"
    other = precision is not None and precision != choose_precision("auto")
    return f"{recipe.name}{budget} seed {seed}" + (f", {precision}" if other else "")


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    return split


def speedrun_data(split: str = "test", profile: Profile | str | None = None):
    """``(train, eval)`` pairs: train + dev and the test set, or train and dev (``"dev"``);
    the training part is the profile's ``cnn_subset`` (all images in the full profile)."""
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    splits = load_splits("fashion_mnist", layout="cnn", seed=0)
    if _check_split(split) == "test":
        return splits.all_training(profile.cnn_subset, seed=0), (splits.x_test, splits.y_test)
    return splits.train_subset(profile.cnn_subset, seed=0), (splits.x_dev, splits.y_dev)


def run_and_record(
    recipe: Recipe, seed: int = 0, split: str = "test", profile: Profile | str | None = None,
    epochs: int | None = None, record: bool = True, verbose: int = 0, cache: ModelCache | bool | None = None,
) -> tuple[RecipeResult, dict]:
    """Run ``recipe`` once with ``seed`` and record it; returns the result and the record's fields.

    ``epochs`` default: the recipe's in the full profile, the profile's ``cnn_epochs`` in the
    quick one (a smoke run on its CNN subset). Train once: a run trained before with the same
    recipe, data, seed, backend, precision and code is loaded from the course's model cache
    (``cache=None``; False always trains) with its measured training time, and scored again;
    its record says ``from_cache``.
    """
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    split = _check_split(split)
    if epochs is None:
        epochs = recipe.epochs if profile.name == "full" else profile.cnn_epochs
    recipe_run = recipe.with_epochs(check_int(epochs, "epochs"))
    train_data, eval_data = speedrun_data(split, profile)
    cache = resolve_cache(cache)
    parts = cached = None
    if cache is not None:
        parts = cache.key_parts(recipe=dataclasses.asdict(recipe_run), seed=seed,
                                data=array_fingerprint(*train_data))  # fmt: skip
        cached = cache.load(parts)
    if cached is not None:
        fit = cached[0]
    else:
        fit = train_recipe(recipe_run, train_data, seed=seed, verbose=verbose)
        if cache is not None:
            cache.store(parts, fit, {})  # no initial kernels: nothing here plots them
    result = score_recipe(recipe_run, fit, eval_data, seed=seed)
    fields = result.summary()
    fields.update({
        f"{split}_accuracy": fields.pop("accuracy"), f"{split}_loss": fields.pop("loss"),
        "train_images": len(train_data[0]), "precision": training_precision(), "from_cache": cached is not None,
    })  # fmt: skip
    if record:
        name = run_name(recipe, recipe_run.epochs, seed, fields["precision"])
        record_result(NOTEBOOKS[split], name, profile=profile.name, **fields)
    return result, fields


def load_speedrun_runs(profile: str | None = None, split: str = "test", recipe: str | None = None) -> pd.DataFrame:
    """The recorded speedrun runs of ``profile`` (default: the active one) on ``split``, of
    every recipe or of the recipe named ``recipe`` only (a name of ``fmnist.recipes.RECIPES``)."""
    split = _check_split(split)
    if recipe is not None:
        recipe = get_recipe(recipe).name  # raises listing the recipes
    results = load_results(profile=get_profile(profile).name)
    if results.empty or "notebook" not in results:
        return results
    runs = results[results["notebook"] == NOTEBOOKS[split]]
    if recipe is not None:
        runs = runs[runs["recipe"] == recipe] if "recipe" in runs else runs.iloc[:0]
    return runs.reset_index(drop=True)
