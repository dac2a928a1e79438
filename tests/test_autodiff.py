"""fmnist.backend.autodiff: input and weight gradients on every Keras backend (portable)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fmnist.backend import input_gradient, weight_gradients

pytestmark = pytest.mark.portable


def test_gradient_of_the_sum_of_squares_is_twice_x():
    x = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    value, grad = input_gradient(lambda t: keras.ops.sum(t ** 2), x)
    assert isinstance(value, np.ndarray) and value.shape == ()
    assert float(value) == pytest.approx(14.25)
    assert isinstance(grad, np.ndarray) and grad.dtype == np.float32 and grad.shape == x.shape
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-6)


def test_input_gradient_through_a_model_and_unused_inputs():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1, use_bias=False)(inputs))
    model.layers[-1].kernel.assign(np.array([[1.0], [0.0], [-3.0]], np.float32))
    x = np.ones((1, 3), np.float32)
    value, grad = input_gradient(lambda t: model(t, training=False)[0, 0], x)
    assert float(value) == pytest.approx(-2.0)
    np.testing.assert_allclose(grad, [[1.0, 0.0, -3.0]])
    # fn ignores part of x, or all of it: a zero gradient there, not None or an error
    _, grad = input_gradient(lambda t: keras.ops.sum(t[0, :1]), x)
    np.testing.assert_array_equal(grad, [[1.0, 0.0, 0.0]])
    value, grad = input_gradient(lambda t: keras.ops.convert_to_tensor(4.0), x)
    assert float(value) == 4.0
    np.testing.assert_array_equal(grad, np.zeros_like(x))


def test_input_gradient_accepts_a_one_element_value():
    value, grad = input_gradient(lambda t: keras.ops.sum(t, keepdims=True), np.ones(2, np.float32))
    assert value.shape == () and float(value) == 2.0
    np.testing.assert_array_equal(grad, [1.0, 1.0])


def test_non_scalar_fn_is_a_clear_error():
    with pytest.raises(ValueError, match=r"fn must return a scalar \(shape \(\)\), got shape \(3,\)"):
        input_gradient(lambda t: t * 2.0, np.ones(3, np.float32))


def test_integer_input_is_a_clear_error():
    with pytest.raises(TypeError, match="x must be a floating-point array.*int64"):
        input_gradient(lambda t: keras.ops.sum(t), np.arange(3, dtype=np.int64))


def _dense_model():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="dense")(inputs))
    dense = model.get_layer("dense")
    dense.kernel.assign(np.array([[1.0, 0.0], [2.0, -1.0], [0.0, 0.5]], np.float32))
    dense.bias.assign(np.array([0.1, -0.2], np.float32))
    return model


def test_weight_gradients_of_a_dense_layer_match_a_hand_computation():
    model = _dense_model()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    y = rng.normal(size=(5, 2)).astype(np.float32)
    loss, grads = weight_gradients(model, keras.losses.get("mse"), x, y)
    kernel = np.asarray(model.get_layer("dense").kernel)
    bias = np.asarray(model.get_layer("dense").bias)
    error = x @ kernel + bias - y  # mse = mean over samples and outputs of error**2
    n = error.size
    assert float(loss) == pytest.approx(float(np.mean(error ** 2)), rel=1e-5)
    assert [g.shape for g in grads] == [(3, 2), (2,)]
    assert all(isinstance(g, np.ndarray) for g in grads)
    np.testing.assert_allclose(grads[0], 2 * x.T @ error / n, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grads[1], 2 * error.sum(axis=0) / n, rtol=1e-4, atol=1e-6)


def test_weight_gradients_follow_trainable_variables_and_skip_frozen_ones():
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, name="frozen", trainable=False)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(hidden))
    x = np.ones((2, 3), np.float32)
    y = np.array([0, 1])
    loss, grads = weight_gradients(model, keras.losses.SparseCategoricalCrossentropy(), x, y)
    assert np.isfinite(loss)
    assert [g.shape for g in grads] == [tuple(v.shape) for v in model.trainable_variables]
    assert [g.shape for g in grads] == [(4, 2), (2,)]
    # the loss does not depend on the weights: the gradient is zero, not an error
    zero = keras.Model(inputs, keras.layers.Dense(1, name="unused")(inputs))
    _, grads = weight_gradients(zero, lambda y_true, y_pred: keras.ops.sum(y_true), x, y)
    assert all(np.array_equal(g, np.zeros_like(g)) for g in grads)


def test_weight_gradients_leave_the_model_unchanged():
    model = _dense_model()
    before = [w.copy() for w in model.get_weights()]
    x, y = np.ones((2, 3), np.float32), np.zeros((2, 2), np.float32)
    weight_gradients(model, keras.losses.get("mse"), x, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_weight_gradients_errors():
    with pytest.raises(TypeError, match="expected a keras.Model"):
        weight_gradients(keras.layers.Dense(2), keras.losses.get("mse"), np.ones((1, 3)),
                         np.ones((1, 2)))
