"""Interpretability: what the trained networks look at, as plain NumPy arrays.

This module only *computes*; :mod:`fmnist.visualization` draws the results. It runs on every
Keras backend: the gradients come from :func:`fmnist.backend.input_gradient`, the rest is
``keras.ops`` and NumPy. All functions work on functional Keras models (built with an explicit
``keras.Input``, as every builder in :mod:`fmnist.model` does) and use the layer names of the
contract (``hidden_i``, ``conv_i``, ``pool_i``, ``output``).

Example::

    >>> from fmnist.model import build_cnn, build_mlp
    >>> from fmnist import interpret
    >>> mlp = build_mlp(hidden_units=(16,))
    >>> interpret.receptive_fields(mlp, "hidden_1").shape
    (16, 28, 28)
    >>> cnn = build_cnn()
    >>> heatmap = interpret.grad_cam(cnn, x_test[0])  # (28, 28), values in [0, 1]
    >>> result = interpret.maximize_activation(cnn, "output", index=7, steps=50)
    >>> result.image.shape, result.trace[-1] > result.trace[0]
    ((28, 28, 1), True)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import keras
import numpy as np

from fmnist.backend import input_gradient
from fmnist.checks import check_int, check_real
from fmnist.model import layer_weights  # re-exported: interpretation snapshots weights too

__all__ = [
    "ActivationMaximum",
    "FieldComparison",
    "activation_patterns",
    "activation_profiles",
    "compare_with_receptive_fields",
    "conv_filters",
    "conv_layers",
    "feature_maps",
    "get_layer",
    "grad_cam",
    "layer_weights",
    "maximize_activation",
    "pattern_correlation",
    "receptive_fields",
    "saliency",
]

_CONV_TYPES = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)
# Per-position layers that may sit between a conv layer and what the rest of the net reads.
_ELEMENTWISE_TYPES = (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.ReLU,
                      keras.layers.LeakyReLU)
# Layers that do not change the mapping from input pixels to units of a Dense chain.
_PASS_THROUGH = (keras.layers.InputLayer, keras.layers.Dropout, keras.layers.Flatten,
                 keras.layers.Reshape, keras.layers.Activation)


class ActivationMaximum(NamedTuple):
    """Result of :func:`maximize_activation`.

    Attributes:
        image: the optimized input, shaped like one model input (e.g. ``(28, 28, 1)``).
        trace: the target activation before the first step and after every step,
            shape ``(steps + 1,)``.
    """

    image: np.ndarray
    trace: np.ndarray


class FieldComparison(NamedTuple):
    """Result of :func:`compare_with_receptive_fields`.

    Attributes:
        units: the compared unit indices.
        images: gradient-ascent images, shape ``(units, 28, 28)``.
        fields: receptive fields of the same units, shape ``(units, 28, 28)``.
        correlation: Pearson correlation of each image with its field, shape ``(units,)``.
    """

    units: list[int]
    images: np.ndarray
    fields: np.ndarray
    correlation: np.ndarray


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------
def _check_model(model) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
    try:
        model.inputs  # noqa: B018 - subclassed or never-built models have no symbolic inputs
    except (AttributeError, ValueError) as err:
        raise TypeError(
            "this function needs a functional model with an explicit keras.Input "
            f"(subclassed or unbuilt models have no symbolic graph): {err}"
        ) from err
    if len(model.inputs) != 1:
        raise ValueError(f"expected a model with one input, got {len(model.inputs)}")


def get_layer(model: keras.Model, name: str):
    """Return the layer called ``name``; the error lists the valid layer names."""
    _check_model(model)
    names = [layer.name for layer in model.layers]
    if not isinstance(name, str) or name not in names:
        raise ValueError(
            f"model {model.name!r} has no layer {name!r}; layer names: {', '.join(names)}"
        )
    return model.get_layer(name)


def conv_layers(model: keras.Model) -> list:
    """The 2-D convolution layers of ``model`` in input-to-output order."""
    _check_model(model)
    return [layer for layer in model.layers if isinstance(layer, _CONV_TYPES)]


def _input_shape(model) -> tuple[int, ...]:
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def _image_hw(shape: tuple[int, ...]) -> tuple[int, int] | None:
    """Height and width of an image-like input shape (flat square vectors count too)."""
    if len(shape) in (2, 3):
        return shape[0], shape[1]
    if len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0]:
        side = math.isqrt(shape[0])
        return side, side
    return None


def _prepare_image(model, image) -> np.ndarray:
    """One image as a batch of one shaped for ``model``; singleton axes are ignored.

    So a ``(28, 28)`` image is accepted by a ``(28, 28, 1)`` input, but not by a ``(784,)``
    one: silently flattening would hide layout mistakes (see ``fmnist.data.reshape_for``).
    """
    expected = _input_shape(model)
    array = np.asarray(image, dtype=np.float32)
    squeeze = tuple(d for d in array.shape if d != 1)
    if squeeze != tuple(d for d in expected if d != 1):
        raise ValueError(
            f"image of shape {array.shape} does not fit the model input {expected} "
            f"(pass one image, shaped {expected} or (1, *{expected}))"
        )
    return array.reshape((1,) + expected)


def _check_index(index, size: int, what: str) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{what} must be an int, got {type(index).__name__}")
    if not 0 <= index < size:
        raise ValueError(f"{what} {index} is out of range: valid indices are 0..{size - 1}")
    return int(index)


def _units(tensor) -> int:
    return int(tensor.shape[-1])


def _numpy(value) -> np.ndarray:
    """A backend tensor or Keras variable as NumPy (``np.asarray`` refuses torch tensors that
    require grad; ``convert_to_numpy`` detaches them). Variables go through their own
    ``__array__`` (it detaches on torch; ``convert_to_numpy`` of a variable makes TF warn)."""
    if isinstance(value, keras.Variable):
        return np.asarray(value)
    return np.asarray(keras.ops.convert_to_numpy(value))


# --------------------------------------------------------------------------------------------
# scores: layer outputs, with logits instead of softmax probabilities
# --------------------------------------------------------------------------------------------
def _is_softmax(layer) -> bool:
    activation = getattr(layer, "activation", None)
    return activation is not None and getattr(activation, "__name__", "") == "softmax"


def _score_parts(layer, pre_activation: bool = False):
    """``(tensor, finish)``: a graph tensor and a function turning its value into scores.

    ``pre_activation=True`` scores a Dense layer before its activation (``x @ W + b``): a
    ReLU unit that is off for the starting image has zero gradient and would never move.

    For a softmax layer the score is the pre-softmax logit. Maximizing (or differentiating) a
    softmax probability rewards *suppressing the other classes* as much as showing the
    target one, and the gradient vanishes once the probability saturates near 1. The logit
    measures the evidence for the class alone. The model has no logit tensor (the ``output``
    layer applies softmax inside the Dense layer), so it is recomputed from the penultimate
    tensor with the output layer's own kernel and bias.
    """
    if pre_activation and not isinstance(layer, keras.layers.Dense):
        raise ValueError(f"pre_activation needs a Dense layer; {layer.name!r} is a {type(layer).__name__}")
    if not (_is_softmax(layer) or pre_activation):
        return layer.output, lambda value: value
    if isinstance(layer, keras.layers.Activation):  # separate softmax: its input is the logit
        return layer.input, lambda value: value
    if isinstance(layer, keras.layers.Dense):
        kernel, bias = layer.kernel, layer.bias
        if bias is None:
            return layer.input, lambda value: keras.ops.matmul(value, kernel)
        return layer.input, lambda value: keras.ops.matmul(value, kernel) + bias
    raise TypeError(f"cannot compute pre-softmax logits for {type(layer).__name__} {layer.name!r}")


# --------------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------------
def receptive_fields(mlp: keras.Model, layer: str, image_shape: tuple[int, int] = (28, 28)
                     ) -> np.ndarray:
    """Input-space pattern of every unit of a Dense layer, shape ``(units, *image_shape)``.

    It is the product of the Dense kernels from the input up to ``layer``
    (``W1 @ W2 @ ... @ Wk``), transposed and reshaped to images. Biases and activations are
    ignored, so for deeper layers it is the linear part of what the unit responds to.
    Inference-mode batch normalization is a per-unit scale and is folded in.
    """
    target = get_layer(mlp, layer)
    if not isinstance(target, (keras.layers.Dense, keras.layers.BatchNormalization,
                               keras.layers.Activation)):
        raise ValueError(f"layer {layer!r} is a {type(target).__name__}; receptive fields need a "
                         "Dense layer (e.g. 'hidden_1')")
    product = None
    for current in mlp.layers:
        if isinstance(current, keras.layers.Dense):
            kernel = _numpy(current.kernel).astype(np.float64)
            product = kernel if product is None else product @ kernel
        elif isinstance(current, keras.layers.BatchNormalization) and product is not None:
            gamma = _numpy(current.gamma) if current.scale else 1.0
            product = product * (gamma / np.sqrt(_numpy(current.moving_variance)
                                                 + current.epsilon))
        elif not isinstance(current, _PASS_THROUGH):
            raise ValueError(f"receptive_fields needs a chain of Dense layers; {current.name!r} "
                             f"is a {type(current).__name__}")
        if current.name == layer:
            break
    if product is None:
        raise ValueError(f"no Dense layer at or before {layer!r}")
    if product.shape[0] != int(np.prod(image_shape)):
        raise ValueError(f"the model has {product.shape[0]} inputs, which cannot be shown as "
                         f"{image_shape} images")
    return product.T.reshape((-1,) + tuple(image_shape)).astype(np.float32)


def conv_filters(cnn: keras.Model, layer: str | None = None) -> np.ndarray:
    """Kernels of a conv layer as ``(filters, kernel_h, kernel_w, in_channels)``.

    ``layer`` defaults to the first conv layer. A non-conv layer raises ``ValueError``.
    """
    if layer is None:
        found = conv_layers(cnn)
        if not found:
            raise ValueError(f"model {cnn.name!r} has no conv layers")
        target = found[0]
    else:
        target = get_layer(cnn, layer)
        if not isinstance(target, _CONV_TYPES):
            names = [c.name for c in conv_layers(cnn)] or ["none"]
            raise ValueError(f"layer {layer!r} is a {type(target).__name__}, not a conv layer; "
                             f"conv layers: {', '.join(names)}")
    kernel = _numpy(target.kernel)  # (kh, kw, in, out) or (kh, kw, in, multiplier)
    return np.transpose(kernel, (3, 0, 1, 2)).copy()


# --------------------------------------------------------------------------------------------
# activations
# --------------------------------------------------------------------------------------------
def _layer_outputs(model, inputs: np.ndarray, layers: list) -> dict[str, np.ndarray]:
    probe = keras.Model(model.inputs[0], [layer.output for layer in layers])
    values = probe(inputs, training=False)
    if not isinstance(values, (list, tuple)):
        values = [values]
    return {layer.name: _numpy(value) for layer, value in zip(layers, values)}


def feature_maps(cnn: keras.Model, image, layers: list[str] | None = None
                 ) -> dict[str, np.ndarray]:
    """Output of every conv layer (or the named layers) for one image.

    Returns ``{layer name: (height, width, channels) array}`` in model order.
    """
    batch = _prepare_image(cnn, image)
    if layers is None:
        chosen = conv_layers(cnn)
        if not chosen:
            raise ValueError(f"model {cnn.name!r} has no conv layers")
    else:
        chosen = [get_layer(cnn, name) for name in layers]
    return {name: value[0] for name, value in _layer_outputs(cnn, batch, chosen).items()}


def _hidden_layers(model, layers: list[str] | None) -> list:
    if layers is not None:
        return [get_layer(model, name) for name in layers]
    # A hidden unit's value is after its nonlinearity: Dense layers with their own activation,
    # or the Activation layer that follows a linear Dense + batch norm.
    chosen = [layer for layer in model.layers[:-1] if isinstance(layer, keras.layers.Activation)
              or (isinstance(layer, keras.layers.Dense)
                  and getattr(layer.activation, "__name__", "linear") != "linear")]
    chosen = chosen or [layer for layer in model.layers[:-1]
                        if isinstance(layer, keras.layers.Dense)]
    if not chosen:
        raise ValueError(f"model {model.name!r} has no hidden Dense layers")
    return chosen


def _as_inputs(model, inputs) -> np.ndarray:
    expected = _input_shape(model)
    array = np.asarray(inputs, dtype=np.float32)
    if expected == (1,) and array.ndim == 1:  # a plain grid of x values for a 1-D regression
        array = array[:, None]
    if array.shape[1:] != expected:
        raise ValueError(f"inputs of shape {array.shape} do not fit the model input "
                         f"(batch, {', '.join(map(str, expected))})")
    return array


def activation_profiles(model: keras.Model, x_grid=None, layers: list[str] | None = None
                        ) -> dict[str, np.ndarray]:
    """Activation of every hidden unit over a grid of inputs (the regression net).

    Args:
        model: a model with input shape ``(1,)`` (or any input, given matching ``x_grid``).
        x_grid: inputs, default 201 points on [-5, 5]; a 1-D array is read as ``(n, 1)``.
        layers: layer names; default every hidden layer (after its activation).

    Returns:
        ``{layer name: (len(x_grid), units) array}``.
    """
    _check_model(model)
    grid = np.linspace(-5.0, 5.0, 201) if x_grid is None else x_grid
    return _layer_outputs(model, _as_inputs(model, grid), _hidden_layers(model, layers))


def activation_patterns(model: keras.Model, inputs, layers: list[str] | None = None
                        ) -> dict[str, np.ndarray]:
    """Which hidden units fire for a few given inputs, e.g. ``[-4, -2, 0.1, 2.5, 4]``.

    Returns ``{layer name: (len(inputs), units) array}`` (same layers as
    :func:`activation_profiles`).
    """
    _check_model(model)
    return _layer_outputs(model, _as_inputs(model, inputs), _hidden_layers(model, layers))


# --------------------------------------------------------------------------------------------
# gradient-based methods
# --------------------------------------------------------------------------------------------
def _gaussian_blur(batch: np.ndarray, sigma: float, hw: tuple[int, int]) -> np.ndarray:
    """Separable Gaussian blur of one image (NumPy: it is applied between gradient steps)."""
    shape = batch.shape
    images = batch.reshape(hw[0], hw[1], -1)
    radius = max(1, min(int(math.ceil(3 * sigma)), min(hw) - 1))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = (taps / taps.sum()).astype(np.float32)
    # Separable filter, reflect padding (edge not repeated) so borders are not darkened.
    images = np.pad(images, [(radius, radius), (radius, radius), (0, 0)], mode="reflect")
    size = 2 * radius + 1
    images = sum(taps[k] * images[:, k:k + images.shape[1] - size + 1] for k in range(size))
    images = sum(taps[k] * images[k:k + images.shape[0] - size + 1] for k in range(size))
    return images.astype(np.float32).reshape(shape)


def maximize_activation(model: keras.Model, layer: str, index: int, steps: int = 100,
                        lr: float = 0.05, blur: float | None = None, l2: float = 0.0,
                        clip: tuple[float, float] | None = (0.0, 1.0), seed: int = 0,
                        blur_every: int = 4, pre_activation: bool = False) -> ActivationMaximum:
    """Gradient ascent on a random input to excite one unit.

    The target is the mean of channel ``index`` for a conv (or any spatial) layer, unit
    ``index`` of a Dense layer, or the pre-softmax logit of class ``index`` for the softmax
    ``output`` layer (see ``_score_parts`` for why not the probability).

    Args:
        layer, index: the unit to maximize (a ``ValueError`` lists the valid choices).
        steps: gradient-ascent steps; lr: step size per pixel (the gradient is normalized
            to unit RMS, so lr does not depend on the activation scale).
        blur: sigma in pixels of a Gaussian blur applied every ``blur_every`` steps
            (None/0 = off); suppresses high-frequency noise.
        l2: weight of an L2 penalty on the image (keeps it from saturating).
        clip: value range the image is clipped to after every step (None = no clipping);
            ``(0, 1)`` matches ``fmnist.data.to_float``.
        seed: seed of the random starting image.
        pre_activation: maximize a Dense unit before its activation (``x @ W + b``; the
            softmax ``output`` layer is always scored by its logits).

    Returns:
        :class:`ActivationMaximum` ``(image, trace)``.
    """
    target = get_layer(model, layer)
    tensor, finish = _score_parts(target, pre_activation=pre_activation)
    index = _check_index(index, _units(target.output), f"unit index for layer {layer!r}")
    steps = check_int(steps, "steps")
    blur_every = check_int(blur_every, "blur_every")
    seed = check_int(seed, "seed", minimum=0)
    lr = check_real(lr, "lr", low=0, low_open=True)  # lr <= 0 would descend or stand still
    blur = check_real(blur, "blur", low=0, allow_none=True, note=" (sigma in pixels; None/0 = off)")
    l2 = check_real(l2, "l2", low=0)
    if clip is not None:
        if not isinstance(clip, (tuple, list)) or len(clip) != 2:
            raise ValueError(f"clip must be None or a pair (low, high), got {clip!r}")
        clip = (check_real(clip[0], "clip low"), check_real(clip[1], "clip high"))
        if clip[0] >= clip[1]:
            raise ValueError(f"clip must be a pair (low, high) with low < high, got {clip!r}")
    shape = _input_shape(model)
    hw = _image_hw(shape)
    if blur and hw is None:
        raise ValueError(f"blur needs an image-like input, the model input is {shape}")
    probe = keras.Model(model.inputs[0], tensor)

    rng = np.random.default_rng(seed)
    low, high = clip if clip is not None else (-0.5, 0.5)
    start = low + (high - low) * (0.5 + 0.1 * rng.standard_normal((1,) + shape))
    image = np.clip(start, low, high).astype(np.float32)

    def activation(inputs):
        scores = finish(probe(inputs, training=False))
        # Mean over the spatial positions of a channel; a plain unit for Dense layers.
        return keras.ops.mean(scores[..., index])

    trace = []
    for step in range(steps):
        value, grads = input_gradient(activation, image)
        trace.append(float(value))
        # The gradient of the objective value - l2 * sum(image ** 2).
        grads = grads - np.float32(2 * l2) * image
        grads = grads / (np.sqrt(np.mean(np.square(grads))) + np.float32(1e-8))
        image = (image + np.float32(lr) * grads).astype(np.float32)
        if blur and (step + 1) % blur_every == 0:
            image = _gaussian_blur(image, float(blur), hw)
        if clip is not None:
            image = np.clip(image, np.float32(low), np.float32(high))
    trace.append(float(_numpy(activation(image))))
    return ActivationMaximum(image[0], np.asarray(trace, dtype=np.float32))


def _last_spatial_layer(model, conv_layer: str | None):
    if conv_layer is not None:
        layer = get_layer(model, conv_layer)
        if len(layer.output.shape) != 4:
            raise ValueError(f"layer {conv_layer!r} has output shape {layer.output.shape}; "
                             "Grad-CAM needs a spatial (batch, h, w, channels) layer")
        return layer
    found = conv_layers(model)
    if not found:
        names = ", ".join(layer.name for layer in model.layers)
        raise ValueError(f"Grad-CAM needs a model with conv layers; model {model.name!r} has "
                         f"none (layers: {names})")
    return _activated(model, found[-1])


def _activated(model, layer):
    """``layer``, or the batch-norm/activation layers right after it: the maps the head sees.

    A conv layer followed by batch norm is linear and bias-free (``conv_i -> bn_i -> act_i``
    in the ``batch_norm`` presets); Grad-CAM on its output would weight maps the classifier
    never sees, so the default follows the chain to ``act_i`` as the Keras Grad-CAM example
    does (``last_conv_layer_name`` names the activation).
    """
    start = model.layers.index(layer) + 1
    for following in model.layers[start:]:
        if not isinstance(following, _ELEMENTWISE_TYPES) or following.input is not layer.output:
            break
        layer = following
    return layer


def _class_gradient(model, batch, class_index, maps_layer=None):
    """Gradient of the class logit w.r.t. the input (or ``maps_layer``'s output) and the maps.

    For Grad-CAM the model is split at ``maps_layer``: a feature model computes the maps, a
    head model (from the maps to the logits) is differentiated with respect to them. Every
    backend can differentiate a function of an array, not a graph tensor in the middle of a
    model call.
    """
    tensor, finish = _score_parts(model.layers[-1])
    if maps_layer is None:
        inputs, head = batch, keras.Model(model.inputs[0], tensor)
    else:
        inputs = _numpy(keras.Model(model.inputs[0], maps_layer.output)(batch, training=False))
        try:
            head = keras.Model(maps_layer.output, tensor)
        except ValueError as err:
            raise ValueError(f"the layers after {maps_layer.name!r} also read tensors from "
                             "before it (a skip connection?), so the class score is not a "
                             f"function of its maps alone; pick a later layer: {err}") from err
    if class_index is None:
        class_index = int(np.argmax(_numpy(finish(head(inputs, training=False)))[0]))
    _, grads = input_gradient(lambda t: finish(head(t, training=False))[0, class_index], inputs)
    return grads, (inputs if maps_layer is not None else None)


def grad_cam(model: keras.Model, image, class_index: int | None = None,
             conv_layer: str | None = None, method: str = "gradcam") -> np.ndarray:
    """Grad-CAM heatmap of one image, shape ``(height, width)`` of the input, values in [0, 1].

    ``method="gradcam"`` (Selvaraju et al. 2017): the conv feature maps are weighted by the
    spatial mean of the class-logit gradient, summed and passed through ReLU (only evidence
    *for* the class). ``method="layercam"`` (Jiang et al. 2021) weights every position by its
    own positive gradient instead. Grad-CAM's spatial mean assumes the gradient is roughly the
    same everywhere, as in global-average-pooling heads; behind ``flatten`` + Dense (the
    presets of this package) the classifier's spatial template has negative weights on the
    background, the means often come out negative and the Grad-CAM map is all zeros, while
    LayerCAM still localizes the evidence. Either map is upsampled bilinearly to the input
    size and divided by its maximum (all zeros when nothing supports the class).

    Args:
        class_index: class to explain; default the predicted class.
        conv_layer: layer whose maps are used; default the last conv layer, or the batch-norm
            and activation layers right after it (``act_4`` in ``cnn_best``). Any layer with
            a spatial output is accepted.
        method: "gradcam" or "layercam".
    """
    _check_model(model)
    if method not in ("gradcam", "layercam"):
        raise ValueError(f"method must be 'gradcam' or 'layercam', got {method!r}")
    layer = _last_spatial_layer(model, conv_layer)
    hw = _image_hw(_input_shape(model))
    if hw is None:
        raise ValueError(f"Grad-CAM needs an image input, the model input is "
                         f"{_input_shape(model)}")
    batch = _prepare_image(model, image)
    if class_index is not None:
        class_index = _check_index(class_index, _units(model.outputs[0]), "class_index")
    grads, maps = _class_gradient(model, batch, class_index, maps_layer=layer)
    if method == "gradcam":
        weights = np.mean(grads, axis=(1, 2), keepdims=True)  # one weight per channel
    else:
        weights = np.maximum(grads, 0)  # one weight per channel and position
    cam = np.maximum(np.sum(weights * maps, axis=-1), 0)[0]
    cam = keras.ops.image.resize(cam[..., None], hw, interpolation="bilinear",
                                 data_format="channels_last")
    cam = _numpy(cam)[..., 0]
    peak = cam.max()
    cam = cam / peak if peak > 0 else np.zeros_like(cam)
    return np.clip(cam, 0.0, 1.0).astype(np.float32)


def saliency(model: keras.Model, image, class_index: int | None = None) -> np.ndarray:
    """Saliency map: ``|d logit / d pixel|`` (max over channels), scaled to [0, 1].

    Returns ``(height, width)`` for image-like inputs (flat square inputs are reshaped),
    otherwise the input shape. ``class_index`` defaults to the predicted class.
    """
    _check_model(model)
    batch = _prepare_image(model, image)
    if class_index is not None:
        class_index = _check_index(class_index, _units(model.outputs[0]), "class_index")
    grads, _ = _class_gradient(model, batch, class_index)
    grads = np.abs(grads[0])
    hw = _image_hw(_input_shape(model))
    if hw is not None:
        grads = grads.reshape(hw + (-1,)).max(axis=-1)
    peak = grads.max()
    return (grads / peak if peak > 0 else grads).astype(np.float32)


# --------------------------------------------------------------------------------------------
# gradient ascent vs receptive fields
# --------------------------------------------------------------------------------------------
def pattern_correlation(a, b) -> np.ndarray:
    """Pearson correlation of each pattern in ``a`` with the one at the same index in ``b``.

    ``a`` and ``b`` hold the same number of patterns of the same shape, e.g. ``(units, 28,
    28)``; the result has one value in [-1, 1] per pattern. A constant pattern has no
    correlation: it raises ``ValueError`` rather than returning NaN.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the patterns must have the same shape, got {a.shape} and {b.shape}")
    if a.ndim < 2 or a.shape[0] == 0 or a[0].size < 2:
        raise ValueError(f"expected a non-empty stack of patterns (n, ...) with >= 2 values each, got shape {a.shape}")
    flat_a = a.reshape(len(a), -1) - a.reshape(len(a), -1).mean(axis=1, keepdims=True)
    flat_b = b.reshape(len(b), -1) - b.reshape(len(b), -1).mean(axis=1, keepdims=True)
    norms = np.linalg.norm(flat_a, axis=1) * np.linalg.norm(flat_b, axis=1)
    constant = np.flatnonzero(norms == 0)
    if constant.size:
        raise ValueError(f"pattern(s) {constant.tolist()} are constant: a correlation needs variation")
    return (flat_a * flat_b).sum(axis=1) / norms


def compare_with_receptive_fields(mlp: keras.Model, layer: str, units, steps: int = 100,
                                  lr: float = 0.05, blur: float | None = None,
                                  seed: int = 0) -> FieldComparison:
    """Gradient-ascent images of Dense units next to their receptive fields, and how alike.

    Each unit of ``layer`` (a Dense layer of a Dense chain, e.g. ``"hidden_1"`` or
    ``"output"``) is maximized by :func:`maximize_activation` before its activation (class
    logits for ``output``), starting from the same seeded image. For a first-layer unit the
    gradient is its weight vector itself, so the image should follow its receptive field; for
    deeper units the ReLUs in between make the two differ. ``correlation`` measures it.
    """
    fields = receptive_fields(mlp, layer)
    units = list(units)
    if not units:
        raise ValueError("units must name at least one unit")
    for unit in units:
        _check_index(unit, len(fields), f"unit index for layer {layer!r}")
    images = np.stack([
        maximize_activation(mlp, layer, unit, steps=steps, lr=lr, blur=blur, seed=seed,
                            pre_activation=True).image.reshape(fields.shape[1:])
        for unit in units
    ])  # fmt: skip
    chosen = fields[units]
    return FieldComparison(units, images, chosen, pattern_correlation(images, chosen))
