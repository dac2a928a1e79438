"""fmnist.uncertainty: ensemble spread, MC dropout and coverage of the regression net."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fmnist.model import build_regression_net
from fmnist.uncertainty import coverage_table, ensemble_spread, mc_dropout

pytestmark = pytest.mark.portable


def _constant(value, name):
    inputs = keras.Input((1,))
    out = keras.layers.Dense(1, kernel_initializer="zeros",
                             bias_initializer=keras.initializers.Constant(value))(inputs)  # fmt: skip
    return keras.Model(inputs, out, name=name)


def test_ensemble_spread_of_constant_models():
    mean, std = ensemble_spread([_constant(1.0, "a"), _constant(3.0, "b")], np.linspace(-1, 1, 5))
    np.testing.assert_allclose(mean, 2.0)
    np.testing.assert_allclose(std, np.sqrt(2.0))
    with pytest.raises(ValueError, match="at least 2 models"):
        ensemble_spread([_constant(1.0, "a")], [0.0])
    with pytest.raises(ValueError, match="at least one sample"):
        ensemble_spread([_constant(1.0, "a"), _constant(2.0, "b")], np.zeros((0, 1)))
    inputs = keras.Input((1,))
    two_outputs = keras.Model(inputs, keras.layers.Dense(2)(inputs), name="two")
    with pytest.raises(ValueError, match="ensemble_spread needs regression models .* 'two' has 2"):
        ensemble_spread([_constant(1.0, "a"), two_outputs], [0.0])


def test_mc_dropout_varies_with_dropout_and_is_seeded():
    keras.utils.set_random_seed(0)
    model = build_regression_net(dropout=0.3)
    x = np.linspace(-5, 5, 20)
    mean, std = mc_dropout(model, x, samples=20, seed=1)
    assert mean.shape == std.shape == (20,) and (std > 0).all()
    again = mc_dropout(model, x, samples=20, seed=1)
    np.testing.assert_allclose(again[0], mean, rtol=1e-5)
    with pytest.raises(ValueError, match="needs a model with Dropout layers"):
        mc_dropout(_constant(0.0, "c"), x)
    with pytest.raises(ValueError, match="samples must be an int >= 2"):
        mc_dropout(model, x, samples=1)


def test_coverage_inside_and_outside_the_gaps():
    x = np.array([-4.0, -2.0, 0.0, 2.5, 4.0])  # -2 and 2.5 are in the gaps
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    table = coverage_table(np.zeros(5), np.full(5, 0.25), x, y, z=2.0)
    assert table.loc["all", "points"] == 5 and table.loc["inside gaps", "points"] == 2
    assert table.loc["outside gaps", "coverage"] == 1.0
    assert table.loc["inside gaps", "coverage"] == 0.0  # |1 - 0| > 2 * 0.25: overconfident there
    assert table.loc["all", "coverage"] == pytest.approx(0.6)
    wider = coverage_table(np.zeros(5), np.full(5, 0.25), x, y, noise_std=0.5)
    assert wider.loc["inside gaps", "coverage"] == 1.0  # sqrt(.25^2 + .5^2) * 2 > 1
    assert table.loc["inside gaps", "mse"] == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"std": np.full(4, 0.1)}, "same N >= 1 points"),
    ({"std": np.full(5, -0.1)}, "std must be >= 0"),
    ({"z": 0}, "z must be a finite number > 0"),
    ({"y": np.full(5, np.nan)}, "NaN"),
])  # fmt: skip
def test_coverage_bad_inputs(kwargs, match):
    args = {"mean": np.zeros(5), "std": np.full(5, 0.1), "x": np.zeros(5), "y": np.zeros(5), **kwargs}
    with pytest.raises(ValueError, match=match):
        coverage_table(**args)
