"""Scaling, standardization, reshaping and stratified splits.

Example::

    >>> from fmnist.data import load_splits, split_report
    >>> splits = load_splits("fashion_mnist", layout="cnn", dev_fraction=0.2, seed=0)
    >>> splits.x_train.shape, splits.x_dev.shape, splits.x_test.shape
    ((48000, 28, 28, 1), (12000, 28, 28, 1), (10000, 28, 28, 1))
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from fmnist import checks
from fmnist.checks import check_int
from fmnist.data.sources import CLASS_NAMES, load_dataset

IMAGE_SHAPE = (28, 28)
LAYOUTS = {"mlp": (784,), "cnn": (28, 28, 1)}
#: Sample shapes :func:`reshape_for` accepts.
IMAGE_LAYOUTS = (IMAGE_SHAPE, (784,), (28, 28, 1))


def to_float(x: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels to float32 in [0, 1]."""
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(f"to_float expects uint8 pixels in [0, 255], got dtype {x.dtype}")
    return x.astype(np.float32) / np.float32(255.0)


def reshape_for(x: np.ndarray, layout: str) -> np.ndarray:
    """Shape images for an MLP ``(N, 784)`` or a CNN ``(N, 28, 28, 1)``.

    Accepts any of ``(N, 28, 28)``, ``(N, 784)`` or ``(N, 28, 28, 1)``.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; valid layouts: {', '.join(LAYOUTS)}")
    x = np.asarray(x)
    # The three image layouts only: any other shape of 784 values, e.g. (N, 392, 2), is not
    # a 28x28 image and reshaping it would scramble the pixels.
    if x.ndim < 2 or x.shape[1:] not in IMAGE_LAYOUTS:
        raise ValueError(
            f"wrong image shape {x.shape}: expected (N, 28, 28), (N, 784) or (N, 28, 28, 1)"
        )
    return x.reshape((len(x),) + LAYOUTS[layout])


class Standardizer:
    """Scalar standardization ``(x - mean) / std`` with statistics from the training split only.

    A single mean/std over all pixels (not per pixel): per-pixel statistics would divide by
    ~0 on the always-black border pixels.
    """

    def __init__(self):
        self.mean: float | None = None
        self.std: float | None = None

    def fit(self, x_train: np.ndarray) -> "Standardizer":
        # NaN/inf would make mean and std NaN and every transformed value with them
        x_train = checks.check_finite(x_train, "x_train")
        if x_train.size == 0:
            raise ValueError(f"cannot standardize: x_train has shape {x_train.shape}, no values")
        x_train = np.asarray(x_train, dtype=np.float64)
        self.mean, self.std = float(x_train.mean()), float(x_train.std())
        if self.std == 0.0:
            raise ValueError("cannot standardize: the training data has zero variance")
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if self.mean is None:
            raise RuntimeError("Standardizer.transform called before fit(x_train)")
        return ((np.asarray(x, dtype=np.float32) - self.mean) / self.std).astype(np.float32)


def check_labels(y: np.ndarray, n: int | None = None) -> np.ndarray:
    """``y`` as 1-D integer labels (the rule of :func:`fmnist.checks.check_labels`), ``n`` of
    them when ``n`` is given."""
    y = checks.check_labels(y)
    if n is not None and len(y) != n:
        raise ValueError(f"got {n} samples but {len(y)} labels")
    return y


def split_indices(y: np.ndarray, dev_fraction: float = 0.2, seed: int = 0):
    """Stratified ``(train_idx, dev_idx)`` indices (scikit-learn ``train_test_split``)."""
    if not 0.0 < dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must be in (0, 1), got {dev_fraction}")
    seed = check_int(seed, "seed", minimum=0)  # scikit-learn's own message names random_state
    y = check_labels(y)
    idx = np.arange(len(y))
    train_idx, dev_idx = train_test_split(
        idx, test_size=dev_fraction, stratify=y, random_state=seed, shuffle=True
    )
    return np.sort(train_idx), np.sort(dev_idx)


def stratified_split(x, y, dev_fraction: float = 0.2, seed: int = 0):
    """Split the official training set into stratified train and dev parts.

    Returns:
        ``(x_train, y_train), (x_dev, y_dev)``; with the defaults on Fashion-MNIST
        48,000 / 12,000 images, 4,800 / 1,200 per class.
    """
    y = check_labels(y, len(x))
    train_idx, dev_idx = split_indices(y, dev_fraction, seed)
    return (x[train_idx], y[train_idx]), (x[dev_idx], y[dev_idx])


def subset(x, y, n: int, seed: int = 0):
    """A stratified random subset of ``n`` samples (for fast searches and the quick profile)."""
    y = check_labels(y, len(x))
    n = check_int(n, "subset size n")
    seed = check_int(seed, "seed", minimum=0)
    if n > len(y):
        raise ValueError(f"subset size n={n} is larger than the data ({len(y)} samples)")
    if n == len(y):
        return x, y
    keep, _ = train_test_split(
        np.arange(len(y)), train_size=n, stratify=y, random_state=seed, shuffle=True
    )
    keep = np.sort(keep)
    return x[keep], y[keep]


def split_report(splits: dict[str, np.ndarray], class_names=None) -> pd.DataFrame:
    """Class counts per split: one row per class, one column per split, plus a total row.

    Args:
        splits: e.g. ``{"train": y_train, "dev": y_dev, "test": y_test}``.
    """
    n_classes = max(int(check_labels(y).max()) + 1 for y in splits.values())
    if class_names is not None:
        if len(class_names) < n_classes:
            raise ValueError(f"{len(class_names)} class names for {n_classes} classes")
        n_classes = len(class_names)
    names = list(class_names) if class_names is not None else list(range(n_classes))
    table = pd.DataFrame(
        {k: np.bincount(check_labels(y), minlength=n_classes) for k, y in splits.items()},
        index=pd.Index(names, name="class"),
    )
    table.loc["total"] = table.sum()
    return table


def _at_most(x, y, n: int | None, seed: int):
    """All of ``(x, y)``, or a stratified subset of ``n`` when ``n`` is given and smaller."""
    if n is None or n >= len(y):
        return x, y
    return subset(x, y, n, seed=seed)


@dataclasses.dataclass
class Splits:
    """Preprocessed train/dev/test arrays of one dataset for one layout."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_dev: np.ndarray
    y_dev: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    layout: str
    standardizer: Standardizer | None = None

    def train_subset(self, n: int | None, seed: int = 0):
        """``(x, y)`` of the training split, a stratified subset of ``n`` images when ``n`` is
        given and smaller than the split (the quick profile), else the whole split."""
        return _at_most(self.x_train, self.y_train, n, seed)

    def dev_subset(self, n: int | None, seed: int = 0):
        """``(x, y)`` of the dev split, stratified down to ``n`` images when ``n`` is smaller
        (the quick profile validates on fewer images), else the whole split."""
        return _at_most(self.x_dev, self.y_dev, n, seed)

    def all_training(self, n: int | None = None, seed: int = 0):
        """``(x, y)`` of train and dev together: the whole official training set, for the
        final refit of a configuration already selected on dev (nothing is left to select
        on). A stratified subset of ``n`` images when ``n`` is given and smaller."""
        x = np.concatenate([self.x_train, self.x_dev])
        y = np.concatenate([self.y_train, self.y_dev])
        return _at_most(x, y, n, seed)

    def report(self) -> pd.DataFrame:
        """Class counts per split (see :func:`split_report`)."""
        return split_report(
            {"train": self.y_train, "dev": self.y_dev, "test": self.y_test}, self.class_names
        )


def load_splits(
    name: str = "fashion_mnist",
    layout: str = "cnn",
    dev_fraction: float = 0.2,
    seed: int = 0,
    standardize: bool = False,
    data_dir=None,
) -> Splits:
    """Load, scale to [0, 1], split (stratified) and reshape a dataset in one call.

    The official test set is never touched by the split. With ``standardize=True`` the
    mean/std come from the training part only and are applied to all three splits.
    """

    (x, y), (x_test, y_test) = load_dataset(name, data_dir=data_dir)
    (x_tr, y_tr), (x_dev, y_dev) = stratified_split(x, y, dev_fraction, seed)
    arrays = [reshape_for(to_float(a), layout) for a in (x_tr, x_dev, x_test)]
    standardizer = None
    if standardize:
        standardizer = Standardizer().fit(arrays[0])
        arrays = [standardizer.transform(a) for a in arrays]
    as_int = lambda a: a.astype(np.int32)  # noqa: E731 - Keras wants integer labels
    return Splits(
        arrays[0], as_int(y_tr), arrays[1], as_int(y_dev), arrays[2], as_int(y_test),
        class_names=CLASS_NAMES[name], layout=layout, standardizer=standardizer,
    )  # fmt: skip
