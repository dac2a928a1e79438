"""The data of ``fmnist train`` / ``fmnist tune``, taken as the notebooks take it."""

from __future__ import annotations

from fmnist.data import load_splits


def notebook_subsets(layout: str, profile, n: int | None, seed: int, split_seed: int):
    """``(splits, train, dev)`` as the notebooks take them: the train/dev split drawn with
    ``split_seed``, a stratified training subset of ``n`` images and the profile's dev subset,
    both drawn with ``seed``."""
    splits = load_splits("fashion_mnist", layout=layout, seed=split_seed)
    return splits, splits.train_subset(n, seed=seed), splits.dev_subset(profile.dev_subset, seed=seed)
