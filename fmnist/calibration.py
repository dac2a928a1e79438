"""Calibration: does a classifier's confidence mean what it says?

* :func:`expected_calibration_error` — ECE with equal-width confidence bins (15 by default,
  as Guo et al., "On Calibration of Modern Neural Networks", 2017): the share-weighted mean
  of ``|accuracy - mean confidence|`` over the bins of the top-class probability. Bins are
  ``[0, 1/15], (1/15, 2/15], ..., (14/15, 1]``; empty bins contribute nothing.
* :func:`reliability_table` — the per-bin numbers behind a reliability diagram.
* :func:`fit_temperature` / :func:`apply_temperature` — temperature scaling: one scalar ``T``
  divides the logits (here ``log p``, which softmax maps back to ``p``), fitted by minimizing
  the negative log-likelihood on held-out data (the dev split, never the test set). It cannot
  change any argmax, so accuracy is unchanged.

Example::

    probs_dev, probs_test = model.predict(x_dev), model.predict(x_test)
    t = fit_temperature(probs_dev, y_dev)
    expected_calibration_error(probs_test, y_test), expected_calibration_error(
        apply_temperature(probs_test, t), y_test)

Written with NumPy/SciPy: the metrics are a few lines, and netcal's equal-width ECE is the same
formula (shared notes); SciPy's bounded scalar minimizer does the one-parameter fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from fmnist.checks import check_finite, check_int, check_labels, check_real, check_samples

__all__ = [
    "DEFAULT_BINS", "TEMPERATURE_RANGE", "apply_temperature", "calibration_summary",
    "check_probabilities", "expected_calibration_error", "fit_temperature", "negative_log_likelihood",
    "reliability_table",
]  # fmt: skip

#: Equal-width confidence bins of the ECE (Guo et al. 2017 use 15).
DEFAULT_BINS = 15
#: The temperatures :func:`fit_temperature` searches (a bounded search: a T at a bound means
#: the data wants something more extreme than any sensible scaling).
TEMPERATURE_RANGE = (0.05, 20.0)
_SUM_TOLERANCE = 1e-3  # float32 softmax rows sum to 1 within ~1e-6; 1e-3 catches real mistakes
_TINY = 1e-12  # log(0) guard: a probability of exactly 0 becomes a very negative logit


def check_probabilities(probs: Any, name: str = "probs") -> np.ndarray:
    """``probs`` as a float64 ``(N, C)`` array of class probabilities; raise naming the problem.

    Rows must hold C >= 2 finite values in [0, 1] that sum to 1 (within 1e-3).

    >>> check_probabilities([[0.2, 0.7]])
    Traceback (most recent call last):
        ...
    ValueError: probs must be probabilities that sum to 1 per row; row 0 sums to 0.9
    """
    probs = check_finite(check_samples(np.asarray(probs, dtype=np.float64), caller="")[0], name)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"{name} must have shape (N, n_classes) with n_classes >= 2, got {probs.shape}")
    if probs.min() < 0 or probs.max() > 1:
        raise ValueError(f"{name} must be probabilities in [0, 1], got values in [{probs.min():g}, {probs.max():g}]")
    sums = probs.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > _SUM_TOLERANCE)
    if bad.size:
        raise ValueError(
            f"{name} must be probabilities that sum to 1 per row; row {bad[0]} sums to {sums[bad[0]]:.6g}"
        )
    return probs


def _checked(probs: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    probs = check_probabilities(probs)
    labels = check_labels(labels, "labels", probs.shape[1])
    if len(labels) != len(probs):
        raise ValueError(f"probs has {len(probs)} samples but labels has {len(labels)}")
    return probs, labels


def reliability_table(probs: Any, labels: Any, n_bins: int = DEFAULT_BINS) -> pd.DataFrame:
    """One row per equal-width confidence bin: ``low``, ``high``, ``count``, ``confidence``
    (mean top-class probability), ``accuracy`` (NaN for empty bins) and ``gap``
    (accuracy - confidence; negative means overconfident)."""
    probs, labels = _checked(probs, labels)
    n_bins = check_int(n_bins, "n_bins")
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bin b holds (edges[b], edges[b+1]]; a confidence of exactly 0 cannot occur for C >= 2.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        chosen = index == b
        count = int(chosen.sum())
        conf = float(confidence[chosen].mean()) if count else np.nan
        acc = float(correct[chosen].mean()) if count else np.nan
        rows.append({"low": edges[b], "high": edges[b + 1], "count": count,
                     "confidence": conf, "accuracy": acc, "gap": acc - conf})  # fmt: skip
    return pd.DataFrame(rows)


def expected_calibration_error(probs: Any, labels: Any, n_bins: int = DEFAULT_BINS) -> float:
    """ECE: ``sum_b (n_b / N) |accuracy_b - confidence_b|`` over equal-width bins (0 is perfect).

    >>> expected_calibration_error([[0.9, 0.1], [0.9, 0.1]], [0, 1])   # 90 % sure, 50 % right
    0.4
    """
    table = reliability_table(probs, labels, n_bins)
    used = table[table["count"] > 0]
    return float(round((used["count"] / used["count"].sum() * used["gap"].abs()).sum(), 12))


def negative_log_likelihood(probs: Any, labels: Any) -> float:
    """Mean ``-log p(true class)`` (probabilities clipped at 1e-12 so a confident miss is finite)."""
    probs, labels = _checked(probs, labels)
    return float(-np.mean(np.log(np.maximum(probs[np.arange(len(labels)), labels], _TINY))))


def _scaled_log_probs(probs: np.ndarray, temperature: float) -> np.ndarray:
    return log_softmax(np.log(np.maximum(probs, _TINY)) / temperature, axis=1)


def apply_temperature(probs: Any, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / T)``: T > 1 softens, T < 1 sharpens; the argmax never changes."""
    probs = check_probabilities(probs)
    temperature = check_real(temperature, "temperature", 0, low_open=True)
    return np.exp(_scaled_log_probs(probs, temperature))


def fit_temperature(probs: Any, labels: Any) -> float:
    """The temperature in :data:`TEMPERATURE_RANGE` that minimizes the NLL of ``labels``.

    Fit it on held-out data (the dev split) and apply it to the test predictions.
    """
    probs, labels = _checked(probs, labels)
    rows = np.arange(len(labels))

    def nll(log_t: float) -> float:
        return float(-_scaled_log_probs(probs, float(np.exp(log_t)))[rows, labels].mean())

    low, high = np.log(TEMPERATURE_RANGE)
    found = minimize_scalar(nll, bounds=(low, high), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(found.x))


def calibration_summary(probs_dev: Any, y_dev: Any, probs_test: Any, y_test: Any,
                        n_bins: int = DEFAULT_BINS) -> dict[str, float]:  # fmt: skip
    """Temperature fitted on dev, then test accuracy, ECE and NLL before and after scaling."""
    t = fit_temperature(probs_dev, y_dev)
    probs_test, y_test = _checked(probs_test, y_test)
    scaled = apply_temperature(probs_test, t)
    return {
        "temperature": t,
        "accuracy": float(np.mean(probs_test.argmax(1) == y_test)),
        "accuracy_scaled": float(np.mean(scaled.argmax(1) == y_test)),
        "ece": expected_calibration_error(probs_test, y_test, n_bins),
        "ece_scaled": expected_calibration_error(scaled, y_test, n_bins),
        "nll": negative_log_likelihood(probs_test, y_test),
        "nll_scaled": negative_log_likelihood(scaled, y_test),
    }
