"""Predictions and test metrics of trained models: the layer that training (cross-validation
scores) and evaluation (tables, comparisons) both stand on.

    from fmnist.prediction import ensemble_predict, evaluate, predict_classes

    evaluate(model, s.x_test, s.y_test)          # {'loss': ..., 'accuracy': ...}
    predict_classes(model, s.x_test)             # argmax of the class probabilities
    ensemble_predict(cv.models, x_test)          # mean prediction of several models
    predict_flip_averaged(model, s.x_test)       # mean over each image and its mirror image

``fmnist.evaluation`` re-exports all three.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from fmnist.checks import check_finite, check_labels, check_samples
from fmnist.model import check_input_shape, check_task, infer_task

__all__ = [
    "check_regressor", "ensemble_predict", "evaluate", "evaluate_probabilities", "predict_classes",
    "predict_flip_averaged",
]  # fmt: skip

_EPS = 1e-7  # keras.backend.epsilon(): the clip Keras applies to probabilities in the loss


def _check_x(model: keras.Model, x: Any) -> np.ndarray:
    """``x`` as an array ``model`` can predict on: its input shape, N >= 1 samples, finite."""
    x = np.asarray(x)
    check_input_shape(model, x)
    return check_finite(check_samples(x)[0], "x")


def _predict(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    return np.asarray(model.predict(_check_x(model, x), batch_size=batch_size, verbose=0))


def predict_classes(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Predicted class index of every sample (argmax of the model's class probabilities)."""
    pred = _predict(model, np.asarray(x), batch_size)
    if pred.ndim != 2 or pred.shape[1] < 2:
        raise ValueError(f"predict_classes needs a classifier, the model outputs shape {pred.shape}")
    return pred.argmax(axis=1)


def _labels(y: Any, what: str, n_classes: int | None = None, note: str = "") -> np.ndarray:
    """Labels from labels ``(N,)``/``(N, 1)`` (:func:`fmnist.checks.check_labels`: integers or
    integer-valued floats, below ``n_classes`` when given) or probabilities ``(N, C)`` (argmax)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = check_finite(y, what).argmax(axis=1)
    return check_labels(y, what, n_classes, note=note)


def evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, task: str | None = None, batch_size: int = 1024
) -> dict[str, float]:
    """Test metrics of ``model`` on ``(x, y)`` computed from its predictions.

    Classification: ``{"loss": mean cross-entropy, "accuracy"}``; regression:
    ``{"loss": mse, "mse", "mae"}``. ``task=None`` infers it from the model. The loss is the
    data loss only (no L2 penalty) and does not depend on the model being compiled. Raises
    ValueError for an empty or non-finite ``x`` (or regression ``y``) and mismatched shapes.
    """
    task = check_task(task) if task is not None else infer_task(model)
    x, y = _check_x(model, x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    if task == "regression":
        y = check_finite(y, "y").reshape(len(y), -1).astype(np.float64)
        pred = _predict(model, x, batch_size).reshape(len(y), -1)
        if pred.shape[1] != y.shape[1]:
            raise ValueError(
                f"y has {y.shape[1]} targets per sample but model {model.name!r} predicts {pred.shape[1]}"
            )
        err = pred - y
        mse = float(np.mean(err**2))
        return {"loss": mse, "mse": mse, "mae": float(np.mean(np.abs(err)))}
    labels = _labels(y, "y", model.output_shape[-1], note=f" for model {model.name!r}")
    return evaluate_probabilities(_predict(model, x, batch_size), labels)


def evaluate_probabilities(probs: Any, y: Any) -> dict[str, float]:
    """``{"loss": mean cross-entropy, "accuracy"}`` of class probabilities ``(N, C)`` against
    labels ``y`` (as :func:`evaluate` scores a classifier's predictions)."""
    probs = check_finite(np.asarray(probs, dtype=np.float64), "probs")
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"probs must be class probabilities shaped (N, classes >= 2), got {probs.shape}")
    labels = _labels(y, "y", probs.shape[1])
    if len(labels) != len(probs):
        raise ValueError(f"probs has {len(probs)} rows but y has {len(labels)} labels")
    probs = probs / probs.sum(axis=1, keepdims=True)  # as Keras does for from_logits=False
    picked = np.clip(probs[np.arange(len(labels)), labels], _EPS, 1 - _EPS)
    accuracy = float(np.mean(probs.argmax(1) == labels))
    return {"loss": float(-np.mean(np.log(picked))), "accuracy": accuracy}


def predict_flip_averaged(model: keras.Model, x: Any, batch_size: int = 1024) -> np.ndarray:
    """Test-time augmentation: the mean of the predictions of images ``(N, H, W, C)`` and of
    their mirror images (flipped left-right, as ``RandomFlip("horizontal")`` trains)."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"predict_flip_averaged needs images shaped (N, height, width, channels), got {x.shape}")
    return (_predict(model, x, batch_size) + _predict(model, x[:, :, ::-1], batch_size)) / 2


def ensemble_predict(
    models: list[keras.Model], x: np.ndarray, batch_size: int = 1024
) -> np.ndarray:
    """Average the predictions (probabilities or regression outputs) of ``models`` on ``x``."""
    models = list(models)
    if not models:
        raise ValueError("ensemble_predict needs at least one model")
    x = np.asarray(x)
    preds = []
    for model in models:
        check_input_shape(model, x)
        preds.append(model.predict(x, batch_size=batch_size, verbose=0))
    shapes = {p.shape for p in preds}
    if len(shapes) != 1:
        raise ValueError(f"ensemble members disagree on output shape: {sorted(shapes)}")
    return np.mean(preds, axis=0)


def check_regressor(model: keras.Model, caller: str) -> keras.Model:
    """``model`` if it is a regressor (one output unit), else a ValueError naming ``caller``."""
    units = model.output_shape[-1]
    if units != 1:
        raise ValueError(
            f"{caller} needs regression models (1 output unit), model {model.name!r} has {units}"
        )
    return model
