"""Label audit: which training labels are probably wrong?

1. :func:`out_of_fold_probabilities` — stratified K-fold cross-validation
   (``fmnist.training.cross_validate``): every training image is scored by the fold model that
   never saw it, so its predicted probabilities are honest.
2. :func:`find_label_issues` — confident learning (Northcutt, Jiang & Chuang, JAIR 2021) by
   cleanlab's ``cleanlab.filter.find_label_issues``: the images whose given label disagrees
   with a confidently predicted other class, ranked by the model's confidence in the given
   label (lowest first).
3. :func:`label_issue_table` / :func:`class_pair_counts` — the flagged images with given and
   predicted labels, and how often each (given, predicted) pair occurs.
4. :func:`without_flagged` — the training data with the top-k flagged images removed, and the
   removed indices returned next to it: nothing is dropped silently.

Example::

    probs, cv = out_of_fold_probabilities("cnn_small", x_train, y_train, k=5, epochs=5)
    flagged = find_label_issues(y_train, probs)
    label_issue_table(flagged[:20], y_train, probs, class_names)
    (x_clean, y_clean), dropped = without_flagged(x_train, y_train, flagged, k=500)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import cleanlab.filter
import keras
import numpy as np
import pandas as pd

from fmnist.calibration import check_probabilities
from fmnist.checks import check_int, check_labels, check_samples
from fmnist.training import CVResult, cross_validate

__all__ = [
    "class_pair_counts", "find_label_issues", "label_issue_table", "out_of_fold_probabilities",
    "without_flagged",
]  # fmt: skip


def out_of_fold_probabilities(
    build_fn: Callable[[], keras.Model] | str, x: Any, y: Any, k: int = 5, *, batch_size: int = 128,
    seed: int = 0, **cv_kwargs: Any,
) -> tuple[np.ndarray, CVResult]:  # fmt: skip
    """``(probs, cv)``: every sample's class probabilities from the fold model that did not
    train on it (``probs[i]`` is an ``(n_classes,)`` row), and the :class:`CVResult`."""
    x, y = check_samples(x, y, "out_of_fold_probabilities", numeric=True)
    y = check_labels(y, "y")
    cv = cross_validate(build_fn, x, y, k=k, task="classification", batch_size=batch_size,
                        seed=seed, **cv_kwargs)  # fmt: skip
    probs = None
    for model, (_, val_idx) in zip(cv.models, cv.folds):
        part = np.asarray(model.predict(x[val_idx], batch_size=1024, verbose=0), dtype=np.float64)
        if probs is None:
            probs = np.full((len(x), part.shape[1]), np.nan)
        probs[val_idx] = part
    if np.isnan(probs).any():  # the folds of cross_validate cover every sample exactly once
        raise RuntimeError("out_of_fold_probabilities: some samples were in no validation fold")
    return probs / probs.sum(axis=1, keepdims=True), cv


def _checked(labels: Any, pred_probs: Any) -> tuple[np.ndarray, np.ndarray]:
    pred_probs = check_probabilities(pred_probs, "pred_probs")
    labels = check_labels(labels, "labels", pred_probs.shape[1])
    if len(labels) != len(pred_probs):
        raise ValueError(f"labels has {len(labels)} samples but pred_probs has {len(pred_probs)}")
    return labels, pred_probs


def find_label_issues(labels: Any, pred_probs: Any) -> np.ndarray:
    """Indices of likely mislabelled samples, most suspicious first (cleanlab's confident
    learning, ranked by self-confidence: the predicted probability of the given label).

    ``pred_probs`` must be out-of-fold (:func:`out_of_fold_probabilities`): a model scoring
    its own training images has memorized their labels and flags almost nothing.
    """
    labels, pred_probs = _checked(labels, pred_probs)
    missing = sorted(set(range(pred_probs.shape[1])) - set(np.unique(labels).tolist()))
    if missing:
        raise ValueError(f"find_label_issues: classes {missing} never occur in labels; every class "
                         "needs examples for confident learning")  # fmt: skip
    return np.asarray(cleanlab.filter.find_label_issues(
        labels, pred_probs, return_indices_ranked_by="self_confidence"), dtype=np.int64)  # fmt: skip


def label_issue_table(indices: Sequence[int], labels: Any, pred_probs: Any,
                      class_names: Sequence[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per flagged index (in the given order): ``index``, ``given``, ``predicted``,
    ``p_given`` and ``p_predicted`` (class names when ``class_names`` is given)."""
    labels, pred_probs = _checked(labels, pred_probs)
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if indices.size and (indices.min() < 0 or indices.max() >= len(labels)):
        raise ValueError(f"indices must lie in [0, {len(labels)}), got values in [{indices.min()}, {indices.max()}]")
    if class_names is not None and len(class_names) != pred_probs.shape[1]:
        raise ValueError(f"class_names has {len(class_names)} names for {pred_probs.shape[1]} classes")
    predicted = pred_probs[indices].argmax(axis=1)
    name = (lambda c: class_names[c]) if class_names is not None else (lambda c: int(c))
    return pd.DataFrame({
        "index": indices,
        "given": [name(c) for c in labels[indices]],
        "predicted": [name(c) for c in predicted],
        "p_given": pred_probs[indices, labels[indices]],
        "p_predicted": pred_probs[indices, predicted],
    })  # fmt: skip


def class_pair_counts(table: pd.DataFrame) -> pd.DataFrame:
    """How often each (given, predicted) pair occurs among the flagged images, most first."""
    if not isinstance(table, pd.DataFrame) or not {"given", "predicted"} <= set(table.columns):
        raise ValueError("table must be a label_issue_table() with columns 'given' and 'predicted'")
    counts = table.groupby(["given", "predicted"]).size().rename("count").reset_index()
    return counts.sort_values("count", ascending=False, kind="stable", ignore_index=True)


def without_flagged(x: Any, y: Any, flagged: Sequence[int], k: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """``((x_kept, y_kept), dropped)``: the data without the first ``k`` flagged indices (in
    the order given, most suspicious first), and those indices, sorted."""
    x, y = check_samples(x, y, "without_flagged")
    k = check_int(k, "k", minimum=0)
    flagged = np.asarray(flagged, dtype=np.int64).reshape(-1)
    if k > len(flagged):
        raise ValueError(f"k={k} but only {len(flagged)} indices are flagged")
    if flagged.size and (flagged.min() < 0 or flagged.max() >= len(x)):
        raise ValueError(f"flagged indices must lie in [0, {len(x)}), got values in [{flagged.min()}, {flagged.max()}]")
    if len(np.unique(flagged)) != len(flagged):
        raise ValueError("flagged indices must be unique")
    dropped = np.sort(flagged[:k])
    keep = np.setdiff1d(np.arange(len(x)), dropped, assume_unique=True)
    return (x[keep], y[keep]), dropped
