"""fmnist.calibration: ECE, reliability bins, NLL and temperature scaling."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy.special import softmax

from fmnist import calibration as cal

pytestmark = pytest.mark.portable  # NumPy/SciPy only: the same on every backend


def _overconfident(n=3000, classes=10, sharpen=2.5, seed=0):
    """Softmax outputs of noisy logits, sharpened: accuracy well below the confidence."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes))
    logits[np.arange(n), y] += 1.5
    return softmax(logits * sharpen, axis=1), y


def test_docstrings_hold():
    failed, attempted = doctest.testmod(cal, report=False)
    assert attempted and not failed


def test_ece_is_zero_when_confidence_equals_accuracy():
    # 10 samples at confidence 0.7, 7 of them right: perfectly calibrated.
    probs = np.tile([0.7, 0.3], (10, 1))
    labels = np.array([0] * 7 + [1] * 3)
    assert cal.expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-12)


def test_ece_by_hand_with_two_bins():
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.55, 0.45]])
    labels = np.array([0, 0, 1, 1])  # bin (14/15, 1]: conf .95, acc 1; bin (8/15, 9/15]: .55, 0
    expected = 0.5 * 0.05 + 0.5 * 0.55
    assert cal.expected_calibration_error(probs, labels) == pytest.approx(expected)
    table = cal.reliability_table(probs, labels)
    assert len(table) == cal.DEFAULT_BINS == 15
    assert table["count"].sum() == 4
    assert table.loc[table["count"] > 0, "accuracy"].tolist() == [0.0, 1.0]
    np.testing.assert_allclose(table["high"] - table["low"], 1 / 15)


def test_temperature_scaling_keeps_accuracy_and_improves_calibration():
    probs, y = _overconfident()
    dev, test = slice(0, 1500), slice(1500, None)
    summary = cal.calibration_summary(probs[dev], y[dev], probs[test], y[test])
    assert summary["temperature"] > 1.5  # overconfident logits are softened
    assert summary["accuracy_scaled"] == summary["accuracy"]
    np.testing.assert_array_equal(cal.apply_temperature(probs, 3.0).argmax(1), probs.argmax(1))
    assert summary["ece_scaled"] < summary["ece"] / 3
    assert summary["nll_scaled"] < summary["nll"]


def test_temperature_one_is_the_identity_and_the_fit_finds_the_sharpening():
    probs, y = _overconfident(n=20000, sharpen=1.0, seed=1)
    np.testing.assert_allclose(cal.apply_temperature(probs, 1.0), probs, atol=1e-9)
    sharpened = softmax(np.log(probs) * 3.0, axis=1)  # the same model, logits x3
    assert cal.fit_temperature(sharpened, y) == pytest.approx(3.0 * cal.fit_temperature(probs, y), rel=1e-3)


def test_nll_by_hand_and_a_confident_miss_is_finite():
    assert cal.negative_log_likelihood([[0.5, 0.5], [0.2, 0.8]], [0, 1]) == pytest.approx(
        -(np.log(0.5) + np.log(0.8)) / 2)
    assert np.isfinite(cal.negative_log_likelihood([[1.0, 0.0]], [1]))


@pytest.mark.parametrize("probs, labels, error, match", [
    (np.zeros((0, 3)), [], ValueError, "at least one sample"),
    ([[0.2, 0.7]], [0], ValueError, "sum to 1 per row; row 0 sums to 0.9"),
    ([[1.2, -0.2]], [0], ValueError, r"in \[0, 1\]"),
    ([[np.nan, 1.0]], [0], ValueError, "NaN"),
    ([0.2, 0.8], [0, 1], ValueError, r"shape \(N, n_classes\)"),
    ([[0.2, 0.8], [0.5, 0.5]], [0], ValueError, "2 samples but labels has 1"),
    ([[0.2, 0.8]], [2], ValueError, r"labels must be integer class labels in \[0, 2\)"),
    ([[0.2, 0.8]], [0.5], TypeError, "integer class labels"),
])  # fmt: skip
def test_bad_inputs_get_clear_errors(probs, labels, error, match):
    for call in (cal.expected_calibration_error, cal.negative_log_likelihood, cal.fit_temperature):
        with pytest.raises(error, match=match):
            call(probs, labels)


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), "2"])
def test_bad_temperatures_and_bins(value):
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        cal.apply_temperature([[0.5, 0.5]], value)
    with pytest.raises(ValueError, match="n_bins must be an int >= 1"):
        cal.expected_calibration_error([[0.5, 0.5]], [0], n_bins=0)
