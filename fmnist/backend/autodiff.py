"""Gradients on every Keras backend: one small function per backend behind one name.

Keras 3.15 has no ``keras.ops.grad``, so, as in Deep Learning with Python (3rd ed., chapter
10, "interpreting what convnets learn"), each backend's own autodiff is used:
``tf.GradientTape`` on tensorflow, ``torch.autograd.grad`` on torch and
``jax.value_and_grad`` (with ``model.stateless_call`` for weights) on jax.

* :func:`input_gradient` -- value and gradient of a scalar function of one array: saliency,
  activation maximization, Grad-CAM (there ``x`` is the feature map and ``fn`` the rest of the
  network).
* :func:`weight_gradients` -- a model's mean loss on one batch and its gradient with respect
  to every trainable weight: per-layer gradient norms.

Both take and return NumPy arrays (float32 for float32 inputs and weights); ``fn`` and the
model are called on the backend's tensors and must use ``keras.ops`` (or Keras layers and
models) only.

Example::

    >>> import numpy as np, keras
    >>> value, grad = input_gradient(lambda t: keras.ops.sum(t ** 2), np.ones(3, "float32"))
    >>> float(value), grad
    (3.0, array([2., 2., 2.], dtype=float32))
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from fmnist.backend.quiet import import_backend_quietly
from fmnist.backend.runtime import backend_name

__all__ = ["input_gradient", "weight_gradients"]


def _to_numpy(value) -> np.ndarray:
    """A backend tensor as a NumPy array (torch tensors are detached first)."""
    if isinstance(value, keras.Variable):  # its __array__ detaches on torch
        return np.asarray(value)
    if hasattr(value, "detach"):  # torch: a tensor that requires grad cannot become NumPy
        value = value.detach()
    return np.asarray(keras.ops.convert_to_numpy(value))


def _scalar(value, what: str):
    shape = tuple(keras.ops.shape(value))
    if shape not in ((), (1,)):
        raise ValueError(f"{what} must return a scalar (shape ()), got shape {shape}; "
                         "reduce it first, e.g. with keras.ops.mean")
    return keras.ops.reshape(value, ())


def _float_array(x, what: str) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype.kind != "f":
        raise TypeError(f"{what} must be a floating-point array to differentiate against, got "
                        f"dtype {array.dtype}")
    return array


# --------------------------------------------------------------------------------------------
# input gradients
# --------------------------------------------------------------------------------------------
def _input_gradient_tensorflow(fn, x):
    # TensorFlow is a hard dependency, already imported by Keras on this backend; fetched
    # through the quiet importer so no other backend pays for importing it here.
    tf = import_backend_quietly()
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = fn(x)
    grad = tape.gradient(value, x)
    return value, tf.zeros_like(x) if grad is None else grad  # None: fn does not read x


def _input_gradient_torch(fn, x):
    import torch  # optional dependency (the torch backend); only imported on that backend

    x = keras.ops.convert_to_tensor(x).detach().clone().requires_grad_(True)
    value = fn(x)
    if not value.requires_grad:  # fn does not depend on x at all
        return value, torch.zeros_like(x)
    (grad,) = torch.autograd.grad(value, x, allow_unused=True)
    return value, torch.zeros_like(x) if grad is None else grad


def _input_gradient_jax(fn, x):
    import jax  # optional dependency (the jax backend); only imported on that backend

    return jax.value_and_grad(fn)(jax.numpy.asarray(x))


_INPUT_GRADIENT = {"tensorflow": _input_gradient_tensorflow, "torch": _input_gradient_torch,
                   "jax": _input_gradient_jax}


def input_gradient(fn: Callable, x) -> tuple[np.ndarray, np.ndarray]:
    """Value and gradient of the scalar ``fn(x)`` with respect to the array ``x``.

    Args:
        fn: maps a backend tensor shaped like ``x`` to a scalar tensor (shape ``()`` or
            ``(1,)``), using ``keras.ops`` and Keras models/layers only. Model weights it
            reads are constants here.
        x: a floating-point array (NumPy or backend tensor).

    Returns:
        ``(value, grad)`` as NumPy arrays: ``value`` of shape ``()``, ``grad`` shaped like
        ``x``. Parts of ``x`` that ``fn`` does not depend on get a zero gradient.

    Raises:
        TypeError: ``x`` is not floating point.
        ValueError: ``fn`` does not return a scalar.
    """
    x = _float_array(keras.ops.convert_to_numpy(x), "x")
    value, grad = _INPUT_GRADIENT[backend_name()](lambda t: _scalar(fn(t), "fn"), x)
    return _to_numpy(value), _to_numpy(grad)


# --------------------------------------------------------------------------------------------
# weight gradients
# --------------------------------------------------------------------------------------------
def _weight_gradients_tensorflow(model, objective, x, y):
    tf = import_backend_quietly()  # hard dependency, already imported on this backend (above)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        value = objective(model(x, training=False), y)
    grads = tape.gradient(value, variables)
    return value, [tf.zeros_like(v) if g is None else g for v, g in zip(variables, grads)]


def _weight_gradients_torch(model, objective, x, y):
    import torch  # optional dependency (the torch backend); only imported on that backend

    variables = model.trainable_variables
    value = objective(model(x, training=False), y)
    if not value.requires_grad:  # the loss does not depend on any weight
        return value, [torch.zeros_like(v.value) for v in variables]
    # autograd.grad instead of .backward(): nothing accumulates in the parameters' .grad
    grads = torch.autograd.grad(value, [v.value for v in variables], allow_unused=True)
    return value, [torch.zeros_like(v.value) if g is None else g
                   for v, g in zip(variables, grads)]


def _weight_gradients_jax(model, objective, x, y):
    import jax  # optional dependency (the jax backend); only imported on that backend

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss(trainable_values):
        y_pred, _ = model.stateless_call(trainable_values, non_trainable, x, training=False)
        return objective(y_pred, y)

    return jax.value_and_grad(loss)(trainable)


_WEIGHT_GRADIENTS = {"tensorflow": _weight_gradients_tensorflow,
                     "torch": _weight_gradients_torch, "jax": _weight_gradients_jax}


def weight_gradients(model: keras.Model, loss_fn: Callable, x, y
                     ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Mean loss of ``model`` on one batch and its gradient w.r.t. each trainable weight.

    The model runs in inference mode (``training=False``: dropout off, batch norm with its
    moving statistics, which are not updated).

    Args:
        model: a built Keras model.
        loss_fn: ``loss_fn(y_true, y_pred)``, e.g. ``keras.losses.get("mse")`` or a
            ``keras.losses.Loss``; per-sample values are averaged to one scalar.
        x, y: one batch (arrays the model and the loss accept).

    Returns:
        ``(loss, grads)``: the mean loss (NumPy, shape ``()``) and one NumPy array per
        ``model.trainable_variables``, in that order and with the same shapes (zeros for a
        weight the loss does not depend on).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
    x = keras.ops.convert_to_tensor(x)
    y = keras.ops.convert_to_tensor(y)

    def objective(y_pred, y_true):
        return _scalar(keras.ops.mean(loss_fn(y_true, y_pred)), "loss_fn")

    value, grads = _WEIGHT_GRADIENTS[backend_name()](model, objective, x, y)
    return _to_numpy(value), [_to_numpy(g) for g in grads]
