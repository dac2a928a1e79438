"""Images, predictions and class distributions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fmnist.checks import check_int
from fmnist.visualization._common import (
    CORRECT_COLOR,
    IMAGE_CMAP,
    MISTAKE_COLOR,
    class_names as _class_names,
    figure_title,
    grid_shape,
    hide_unused,
    image_axes,
    new_figure,
    single_axes,
    styled,
    to_images,
    to_labels,
)


def _check_lengths(**arrays) -> int:
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs have different lengths: {lengths}")
    return next(iter(lengths.values()))


@styled
def plot_images(x, y=None, class_names: Sequence[str] | None = None, n: int = 25,
                per_class: int | None = None, ncols: int | None = None,
                title: str | None = None, cmap: str = IMAGE_CMAP) -> Figure:
    """Grid of images with their class names.

    Args:
        x: images, ``(N, 28, 28)``, ``(N, 28, 28, 1)`` or ``(N, 784)``.
        y: integer labels (optional; titles are the class names).
        n: number of images (the first ``n``) when ``per_class`` is None.
        per_class: show the first ``per_class`` images of every class instead, one row per
            class labeled with its name (needs ``y``).
        ncols: columns of the grid (default: square-ish).
    """
    images = to_images(x)
    if y is not None:
        y = to_labels(y)
        _check_lengths(x=images, y=y)
        names = _class_names(class_names, y)
    if per_class is not None:
        if y is None:
            raise ValueError("per_class needs the labels y")
        per_class = check_int(per_class, "per_class", allow_none=True)
        classes = np.unique(y)
        fig, axes = new_figure(len(classes), per_class,
                               figsize=(1.1 * per_class + 1.2, 1.1 * len(classes)))
        for row, cls in zip(axes, classes):
            picked = np.flatnonzero(y == cls)[:per_class]
            for ax in row:
                image_axes(ax)
            for ax, index in zip(row, picked):
                ax.imshow(images[index], cmap=cmap)
            row[0].set_ylabel(names[cls], rotation=0, ha="right", va="center")
        figure_title(fig, title or f"First {per_class} images of each class")
        return fig
    count = min(n, len(images))
    nrows, ncols = grid_shape(count, ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(1.5 * ncols, 1.6 * nrows))
    for ax, index in zip(axes.ravel(), range(count)):
        ax.imshow(images[index], cmap=cmap)
        image_axes(ax)
        if y is not None:
            ax.set_title(names[y[index]], fontsize="small", fontweight="normal")
    hide_unused(axes, count)
    figure_title(fig, title or f"First {count} images")
    return fig


@styled
def plot_predictions(x, y_true, y_pred, class_names: Sequence[str] | None = None, n: int = 25,
                     only_mistakes: bool = False, ncols: int | None = None,
                     title: str | None = None) -> Figure:
    """Images titled with predicted and true class; mistakes in red, correct in green.

    Args:
        y_pred: predicted labels ``(N,)`` or probabilities ``(N, classes)`` (then the
            confidence of the prediction is shown too).
        only_mistakes: show the first ``n`` misclassified images only.
    """
    images = to_images(x)
    y_true = to_labels(y_true, "y_true")
    probs = np.asarray(y_pred) if np.ndim(y_pred) == 2 and np.shape(y_pred)[1] > 1 else None
    y_pred = to_labels(y_pred, "y_pred")
    _check_lengths(x=images, y_true=y_true, y_pred=y_pred)
    names = _class_names(class_names, np.concatenate([y_true, y_pred]))
    indices = np.flatnonzero(y_true != y_pred) if only_mistakes else np.arange(len(images))
    indices = indices[:n]
    if len(indices) == 0:
        raise ValueError("no images to show" + (" (there are no mistakes)" if only_mistakes
                                                else ""))
    nrows, ncols = grid_shape(len(indices), ncols or 5)
    fig, axes = new_figure(nrows, ncols, figsize=(2.1 * ncols, 2.3 * nrows))
    for ax, index in zip(axes.ravel(), indices):
        ok = y_true[index] == y_pred[index]
        color = CORRECT_COLOR if ok else MISTAKE_COLOR
        ax.imshow(images[index], cmap=IMAGE_CMAP)
        image_axes(ax)
        confidence = f" ({probs[index, y_pred[index]]:.0%})" if probs is not None else ""
        ax.set_title(f"pred: {names[y_pred[index]]}{confidence}\ntrue: {names[y_true[index]]}",
                     color=color, fontsize="small", fontweight="normal")
        for spine in ax.spines.values():  # a colored frame is visible even at thumbnail size
            spine.set_visible(True)
            spine.set_edgecolor(color)
            spine.set_linewidth(1.5 if ok else 3)
    hide_unused(axes, len(indices))
    wrong = int(np.sum(y_true[indices] != y_pred[indices]))
    figure_title(fig, title or f"Predictions: {wrong} of {len(indices)} shown are wrong (red)")
    return fig


def _split_labels(labels) -> dict[str, np.ndarray]:
    if isinstance(labels, Mapping):
        splits = dict(labels)
    elif all(hasattr(labels, f"y_{s}") for s in ("train", "dev", "test")):  # fmnist Splits
        splits = {s: getattr(labels, f"y_{s}") for s in ("train", "dev", "test")}
    else:
        raise TypeError("labels must be a mapping such as {'train': y_train, 'dev': y_dev, "
                        "'test': y_test} or an object with y_train/y_dev/y_test "
                        f"(fmnist.data.Splits), got {type(labels).__name__}")
    if not splits:
        raise ValueError("labels is empty")
    return {name: to_labels(y, f"labels[{name!r}]") for name, y in splits.items()}


@styled
def plot_class_distribution(labels, class_names: Sequence[str] | None = None,
                            normalize: bool = True, ax: Axes | None = None,
                            title: str | None = None) -> Figure:
    """Grouped bars of the class counts (or fractions) of each split, side by side.

    Args:
        labels: ``{"train": y_train, "dev": y_dev, "test": y_test}`` or a
            ``fmnist.data.Splits`` object.
        normalize: fractions of each split (comparable across split sizes) instead of counts.
    """
    splits = _split_labels(labels)
    names = _class_names(class_names, np.concatenate(list(splits.values())))
    fig, ax = single_axes(ax, figsize=(10, 4))
    width = 0.8 / len(splits)
    positions = np.arange(len(names))
    for i, (split, y) in enumerate(splits.items()):
        counts = np.bincount(y, minlength=len(names)).astype(float)
        values = counts / counts.sum() if normalize else counts
        ax.bar(positions + (i - (len(splits) - 1) / 2) * width, values, width,
               label=f"{split} (n={len(y):,})")
    ax.set_xticks(positions, names, rotation=30, ha="right")
    ax.set_xlabel("class")
    ax.set_ylabel("fraction of the split" if normalize else "images")
    ax.set_title(title or "Class distribution per split")
    ax.margins(y=0.18)  # headroom for the legend above the bars
    ax.legend(loc="upper center", ncols=len(splits))
    return fig
