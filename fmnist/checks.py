"""Argument checks shared by the whole package.

Counts, sizes, seeds and timeouts used to be validated inline in each module, with slightly
different wording and behaviour (some accepted ``True`` as 1 or rejected NumPy integers).
:func:`check_int` gives every integer argument error one wording and one behaviour;
:func:`check_finite` and :func:`check_labels` do the same for input arrays and class labels,
:func:`check_real` for real-valued arguments (rates, penalties) and :func:`check_bool` for
switches.

Pure Python + NumPy: importing this module must stay cheap (no TensorFlow/Keras).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["check_bool", "check_finite", "check_int", "check_labels", "check_real", "check_samples"]


def check_int(
    value: Any, name: str, minimum: int = 1, *, allow_none: bool = False, note: str = ""
) -> int | None:
    """Return ``int(value)`` (or None when allowed); raise ValueError naming the valid values.

    bools are rejected (``True`` is an int in Python, but never a meaningful count); Python
    and NumPy integers are accepted. ``note`` is extra text for the message, such as
    ``" (number of folds)"`` or ``" (seconds)"``.

    >>> check_int(5, "epochs")
    5
    >>> check_int(np.int64(3), "k", minimum=2)
    3
    >>> check_int(None, "patience", minimum=0, allow_none=True) is None
    True
    >>> check_int(1, "k", minimum=2, note=" (number of folds)")
    Traceback (most recent call last):
        ...
    ValueError: k must be an int >= 2 (number of folds), got 1
    >>> check_int(True, "batch_size")
    Traceback (most recent call last):
        ...
    ValueError: batch_size must be an int >= 1, got True
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        or_none = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an int >= {minimum}{note}{or_none}, got {value!r}")
    return int(value)


def check_finite(array: Any, name: str) -> np.ndarray:
    """Return ``np.asarray(array)``; raise ValueError if a float array holds NaN or inf.

    The message names the first bad sample (index along axis 0). Non-float arrays pass as
    they are: integers cannot be NaN.

    >>> check_finite([[0.0, 1.0], [np.nan, 2.0]], "x")
    Traceback (most recent call last):
        ...
    ValueError: x contains NaN/inf (first at sample 1); values must be finite
    """
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.inexact) and not np.isfinite(array).all():
        rows = array.reshape(len(array) if array.ndim else 1, -1)
        first = int(np.flatnonzero(~np.isfinite(rows).all(axis=1))[0])
        raise ValueError(f"{name} contains NaN/inf (first at sample {first}); values must be finite")
    return array


def check_labels(
    y: Any, name: str = "labels", n_classes: int | None = None, *, note: str = ""
) -> np.ndarray:
    """Return class labels ``y`` as a 1-D integer array; raise naming the valid labels.

    The one rule for class labels (training, evaluation and the data splits): shape ``(N,)``
    or ``(N, 1)``; an integer dtype, or floats with integer values (``2.0``, as Keras casts
    them; returned as int64); values ``>= 0`` and below ``n_classes`` when it is given.
    One-hot rows, fractions, NaN, bools and strings are rejected: TypeError for values that
    are not integers, ValueError for a wrong shape or range. ``note`` is extra text for the
    range message, such as ``" for model 'mlp'"``.

    >>> check_labels(np.array([[0.0], [2.0]]), "y")
    array([0, 2])
    >>> check_labels([0, 3], "y", n_classes=3)
    Traceback (most recent call last):
        ...
    ValueError: y must be integer class labels in [0, 3), got values in [0, 3]
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        raise ValueError(f"{name} has shape {y.shape}: pass integer class labels (N,), not one-hot vectors")
    if y.ndim not in (1, 2) or y.shape[1:] not in ((), (1,)):
        raise ValueError(f"{name} must be integer class labels of shape (N,) or (N, 1), got shape {y.shape}")
    y = y.reshape(-1)
    if np.issubdtype(y.dtype, np.floating):
        with np.errstate(invalid="ignore"):
            fractional = np.mod(y, 1) != 0  # also NaN and inf
        if fractional.any():
            raise TypeError(
                f"{name} must be integer class labels (integer-valued floats such as 2.0 are "
                f"accepted), got {y[fractional][0]}"
            )
        y = y.astype(np.int64)
    elif not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must be integer class labels, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or (n_classes is not None and y.max() >= n_classes)):
        valid = f"in [0, {n_classes})" if n_classes is not None else ">= 0"
        raise ValueError(
            f"{name} must be integer class labels {valid}{note}, got values in [{y.min()}, {y.max()}]"
        )
    return y


def _bound(value: float) -> str:
    return f"{value:g}"


def check_real(
    value: Any,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
    note: str = "",
) -> float | None:
    """Return ``float(value)`` (or None when allowed); raise ValueError naming the valid range.

    The rule for rates, penalties and strengths: a finite real number (Python or NumPy, so
    ``np.float32(0.2)`` passes) within ``[low, high]``; ``low_open``/``high_open`` exclude
    the bound. bools, strings, NaN and inf are rejected (NaN would slip through every range
    comparison). One wording and one exception type, like :func:`check_int`.

    >>> check_real(np.float32(0.5), "dropout", 0, 1, high_open=True)
    0.5
    >>> check_real("0.9", "momentum", 0, 1, high_open=True)
    Traceback (most recent call last):
        ...
    ValueError: momentum must be a finite number in [0, 1), got '0.9'
    >>> check_real(float("nan"), "l2", low=0)
    Traceback (most recent call last):
        ...
    ValueError: l2 must be a finite number >= 0, got nan
    """
    if value is None and allow_none:
        return None
    ok = (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
          and math.isfinite(value))  # fmt: skip
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if ok:
        return float(value)
    if low is not None and high is not None:
        valid = f" in {'(' if low_open else '['}{_bound(low)}, {_bound(high)}{')' if high_open else ']'}"
    elif low is not None:
        valid = f" {'>' if low_open else '>='} {_bound(low)}"
    elif high is not None:
        valid = f" {'<' if high_open else '<='} {_bound(high)}"
    else:
        valid = ""
    or_none = " or None" if allow_none else ""
    raise ValueError(f"{name} must be a finite number{valid}{note}{or_none}, got {value!r}")


def check_bool(value: Any, name: str, *, allow_none: bool = False) -> bool | None:
    """Return ``bool(value)`` for a real bool (Python or NumPy), else raise TypeError.

    Truthiness is not enough: ``batch_norm="no"`` or ``nesterov=0.5`` are mistakes, not
    switches.

    >>> check_bool(np.bool_(True), "batch_norm")
    True
    >>> check_bool("no", "batch_norm")
    Traceback (most recent call last):
        ...
    TypeError: batch_norm must be True or False, got 'no'
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        or_none = " or None" if allow_none else ""
        raise TypeError(f"{name} must be True or False{or_none}, got {value!r}")
    return bool(value)


def check_samples(
    x: Any, y: Any = None, caller: str = "", *, numeric: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``x`` (and ``y``) as arrays of N >= 1 samples with one target per sample.

    The rule every function that takes a batch applies first (training, the tf.data
    pipeline, evaluation, the gradient demos). ``caller`` starts the messages;
    ``numeric`` also requires number dtypes (strings or objects fail deep inside TensorFlow).

    >>> check_samples(np.zeros((2, 3)), [0, 1])[1]
    array([0, 1])
    >>> check_samples(np.zeros((0, 3)), caller="make_dataset")
    Traceback (most recent call last):
        ...
    ValueError: make_dataset: x has shape (0, 3): need at least one sample (N >= 1)
    >>> check_samples(np.zeros((4, 3)), np.zeros(3))
    Traceback (most recent call last):
        ...
    ValueError: x has 4 samples but y has 3
    """
    prefix = f"{caller}: " if caller else ""
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{prefix}x has shape {x.shape}: need at least one sample (N >= 1)")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != len(x):
            raise ValueError(f"{prefix}x has {len(x)} samples but y has {len(y) if y.ndim else 'a scalar'}")
    if numeric:
        for label, array in (("x", x), ("y", y)):
            if array is not None and not np.issubdtype(array.dtype, np.number):
                raise TypeError(f"{prefix}{label} must hold numbers, got dtype {array.dtype}")
    return x, y
