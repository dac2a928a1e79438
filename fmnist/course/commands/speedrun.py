"""``fmnist speedrun``: a fixed-budget recipe over several seeds, each run recorded
(:mod:`fmnist.course.speedrun`)."""

from __future__ import annotations

import statistics

from fmnist.checks import check_int
from fmnist.course.speedrun import run_and_record, run_name
from fmnist.recipes import get_recipe


def speedrun(args) -> int:
    recipe = get_recipe(args.recipe)
    seeds = [check_int(seed, "--seeds entry", minimum=0) for seed in args.seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds must not repeat a seed, got {seeds}")
    metric = f"{args.split}_accuracy"
    accuracies = []
    for seed in seeds:
        _, fields = run_and_record(recipe, seed, args.split, args.profile, epochs=args.epochs,
                                   record=not args.no_record, verbose=args.verbose)  # fmt: skip
        accuracies.append(fields[metric])
        print(f"{run_name(recipe, fields['epochs'], seed, fields['precision'])}: {metric} {fields[metric]:.4f} "
              f"(single view {fields['single_view_accuracy']:.4f}), training {fields['train_time']:.1f} s "
              f"at {fields['images_per_sec']:,} img/s, {fields['params']:,} params, {fields['precision']}")  # fmt: skip
    if len(accuracies) > 1:
        print(f"{recipe.name}, {len(accuracies)} seeds: median {metric} {statistics.median(accuracies):.4f}, "
              f"lowest {min(accuracies):.4f}")  # fmt: skip
    return 0
