"""Predictions and test metrics of trained models: the layer that training (cross-validation
scores) and evaluation (tables, comparisons) both stand on.

    from fmnist.prediction import ensemble_predict, evaluate, predict_classes

    evaluate(model, s.x_test, s.y_test)          # {'loss': ..., 'accuracy': ...}
    predict_classes(model, s.x_test)             # argmax of the class probabilities
    ensemble_predict(cv.models, x_test)          # mean prediction of several models
    predict_flip_averaged(model, s.x_test)       # mean over each image and its mirror image
    predict_augmented(model, s.x_test, shift=1)  # ... and over 1-pixel shifts of both (10 views)

``fmnist.evaluation`` re-exports all three.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from fmnist.checks import check_finite, check_int, check_labels, check_samples
from fmnist.model import check_input_shape, check_task, infer_task

__all__ = [
    "check_regressor", "check_view_shift", "ensemble_predict", "evaluate", "evaluate_probabilities",
    "predict_augmented", "predict_classes", "predict_flip_averaged", "predict_views",
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


def _shifted(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images ``(N, H, W, C)`` moved ``dy`` pixels down and ``dx`` right, edges repeated."""
    h, w = x.shape[1:3]
    pad = max(abs(dy), abs(dx))
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    return padded[:, pad - dy : pad - dy + h, pad - dx : pad - dx + w]


def check_view_shift(shift: Any, height: int, width: int, name: str = "shift") -> int:
    """``shift`` if it is a valid test-time shift for ``height x width`` images: an int
    ``>= 0`` and smaller than the images."""
    shift = check_int(shift, name, minimum=0)
    if shift >= min(height, width):
        raise ValueError(f"{name} must be smaller than the images ({height}x{width}), got {shift}")
    return shift


def predict_views(
    model: keras.Model, x: Any, flip: bool = True, shift: int = 0, batch_size: int = 1024
) -> np.ndarray:
    """The predictions of test-time views of images ``(N, H, W, C)``, shaped ``(views, N, ...)``.

    The views are the images themselves (always the first), with ``shift > 0`` also the
    images moved ``shift`` pixels up, down, left and right (edge pixels repeated), and with
    ``flip`` the mirror image (left-right, as ``RandomFlip("horizontal")`` trains) of each of
    those: 1, 2, 5 or 10 views. Keras has no test-time augmentation, hence these few lines.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"test-time augmentation needs images shaped (N, height, width, channels), got {x.shape}")
    shift = check_view_shift(shift, *x.shape[1:3])
    offsets = [(0, 0)] + ([(-shift, 0), (shift, 0), (0, -shift), (0, shift)] if shift else [])
    views = [_shifted(x, dy, dx) if (dy, dx) != (0, 0) else x for dy, dx in offsets]
    if flip:
        views += [view[:, :, ::-1] for view in views]
    return np.stack([_predict(model, view, batch_size) for view in views])


def predict_augmented(
    model: keras.Model, x: Any, flip: bool = True, shift: int = 0, batch_size: int = 1024
) -> np.ndarray:
    """Test-time augmentation: the mean prediction over the views of :func:`predict_views`."""
    return predict_views(model, x, flip=flip, shift=shift, batch_size=batch_size).mean(axis=0)


def predict_flip_averaged(model: keras.Model, x: Any, batch_size: int = 1024) -> np.ndarray:
    """The mean of the predictions of images ``(N, H, W, C)`` and of their mirror images
    (:func:`predict_augmented` with ``flip=True``, no shifts)."""
    return predict_augmented(model, x, flip=True, shift=0, batch_size=batch_size)


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
