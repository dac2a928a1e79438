"""Robustness: accuracy of trained classifiers on corrupted test images.

    table = corruption_accuracy({"MLP": mlp, "CNN": cnn}, x_test, y_test)   # long table
    mean_corruption_accuracy(table)          # one row per model: clean and mean corrupted accuracy

The corruptions and severities are ``fmnist.data.corruptions``'s (seeded, so every model sees
the same damaged images).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from fmnist.checks import check_labels
from fmnist.data.corruptions import CORRUPTIONS, SEVERITIES, corrupt, corruption_parameter
from fmnist.prediction import predict_classes

__all__ = ["corruption_accuracy", "mean_corruption_accuracy"]


def _models(models: Any) -> dict[str, keras.Model]:
    if isinstance(models, keras.Model):
        models = {models.name: models}
    if not isinstance(models, Mapping) or not models:
        raise TypeError("models must be a keras.Model or a non-empty {name: keras.Model} mapping")
    for name, model in models.items():
        if not isinstance(model, keras.Model):
            raise TypeError(f"model {name!r} must be a keras.Model, got {type(model).__name__}")
    return dict(models)


def corruption_accuracy(
    models: Mapping[str, keras.Model] | keras.Model, x: Any, y: Any,
    corruptions: Sequence[str] = CORRUPTIONS, severities: Sequence[int] = SEVERITIES, seed: int = 0,
) -> pd.DataFrame:  # fmt: skip
    """Accuracy of every model on ``x`` under every corruption and severity.

    ``x`` holds images in [0, 1] in any layout ``corrupt`` takes; each model gets them reshaped
    to its own input shape. Returns a long table with columns ``model``, ``corruption``,
    ``severity``, ``parameter``, ``accuracy``; severity 0 (the clean images) is included once
    per corruption when asked for, so curves start at the clean accuracy.
    """
    models = _models(models)
    for name in corruptions:
        corruption_parameter(name, 0)  # unknown names fail before any prediction
    for severity in severities:
        corruption_parameter(CORRUPTIONS[0], severity)  # so do severities out of range
    if not len(corruptions) or not len(severities):
        raise ValueError("corruptions and severities must each name at least one value")
    x = np.asarray(x)
    y = check_labels(y, "y")
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    rows = []
    for name in corruptions:
        for severity in severities:
            damaged = corrupt(x, name, severity, seed=seed)
            for label, model in models.items():
                shaped = damaged.reshape((len(damaged),) + tuple(model.input_shape[1:]))
                accuracy = float(np.mean(predict_classes(model, shaped) == y))
                rows.append({"model": label, "corruption": name, "severity": int(severity),
                             "parameter": corruption_parameter(name, severity), "accuracy": accuracy})  # fmt: skip
    return pd.DataFrame(rows)


def mean_corruption_accuracy(table: pd.DataFrame) -> pd.DataFrame:
    """Per model: ``clean`` accuracy (severity 0, if measured) and ``mean corrupted`` accuracy
    (over every corruption at severities >= 1), plus the mean per corruption as columns."""
    needed = {"model", "corruption", "severity", "accuracy"}
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
        raise ValueError(f"table must be a corruption_accuracy() table with columns {sorted(needed)}")
    damaged = table[table["severity"] > 0]
    if damaged.empty:
        raise ValueError("table has no corrupted rows (severity >= 1)")
    out = damaged.pivot_table(index="model", columns="corruption", values="accuracy", aggfunc="mean")
    out.insert(0, "mean corrupted", damaged.groupby("model")["accuracy"].mean())
    clean = table[table["severity"] == 0].groupby("model")["accuracy"].mean()
    if len(clean):
        out.insert(0, "clean", clean)
    out.columns.name = None
    return out.sort_values("mean corrupted", ascending=False)
