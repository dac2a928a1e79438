"""Functional-API model builders with stable, human-readable layer names.

Every builder starts from an explicit ``keras.Input(shape=..., name="input")`` (sub-models for
Grad-CAM and activation maps need a functional graph) and names its layers so that
visualization code can find them:

* Dense hidden layers ``hidden_1..n``; convolutions ``conv_1..n``; pooling ``pool_1..n``;
  dropout ``dropout_1..n`` (one counter for the whole model); ``flatten`` / ``global_pool``;
  the last layer is always ``output``.
* Without batch norm the activation lives inside the Dense/Conv layer, so ``hidden_i`` /
  ``conv_i`` output activated values. With batch norm the Dense/Conv layer is linear and has no
  bias (batch norm's beta replaces it), followed by ``bn_i`` + ``act_i`` (conv) or
  ``bn_hidden_i`` + ``act_hidden_i`` (dense).
* Classification outputs are probabilities (``output`` has a softmax); regression outputs are
  linear.

Example::

    >>> from fmnist.model import build_cnn
    >>> m = build_cnn(conv_blocks=[{"filters": 32}, {"filters": 64}])
    >>> [layer.name for layer in m.layers][:4]
    ['input', 'conv_1', 'pool_1', 'conv_2']
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from fmnist.checks import check_bool, check_int, check_real
from fmnist.model.errors import UnknownNameError
from fmnist.model.layers import FusedBatchNormalization


@keras.saving.register_keras_serializable(package="fmnist", name="sin")
def sin(x):
    """Periodic activation ``sin(x)`` (as in SIREN, Sitzmann et al. 2020).

    Keras has none; registered so that saved models load again (``fmnist>sin``). A smooth,
    periodic unit: in the regression notebook it lets the network carry a wave across a gap
    in the data where tanh/ReLU units can only bend once.
    """
    return keras.ops.sin(x)


#: Activations that Keras does not know by name, provided by fmnist.
CUSTOM_ACTIVATIONS: dict[str, Callable] = {"sin": sin}
#: Activation names accepted by the builders (any callable is accepted as well).
ACTIVATIONS = (
    "elu", "gelu", "leaky_relu", "linear", "mish", "relu", "relu6", "selu", "sigmoid",
    "silu", "sin", "softplus", "softsign", "swish", "tanh",
)  # fmt: skip
#: Kernel-initializer names accepted by the builders (``keras.initializers.Initializer``
#: instances are accepted as well).
INITIALIZERS = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
    "zeros", "ones",
)  # fmt: skip
PADDINGS = ("same", "valid")
POOL_TYPES = ("max", "avg")
GLOBAL_POOLS = (None, "avg", "max")
#: Keys of one ``build_cnn`` block and their defaults (``filters`` is required).
CONV_BLOCK_DEFAULTS: dict[str, Any] = {
    "filters": None,
    "kernel_size": 3,
    "strides": 1,
    "padding": "same",
    "convs": 1,  # conv layers in the block (2 for a VGG-style block)
    "pool": 2,  # pool size; None or 0 for no pooling
    "pool_type": "max",
    "pool_padding": "valid",
    "batch_norm": None,  # None: the model-wide ``batch_norm`` setting
    "dropout": 0.0,  # after the pooling layer
}


# ---------------------------------------------------------------------------- validation
def check_activation(activation: str | Callable) -> str | Callable:
    """Return ``activation`` if it is a known name or a callable, else raise ``ValueError``."""
    if callable(activation):
        return activation
    if not isinstance(activation, str) or activation.lower() not in ACTIVATIONS:
        raise UnknownNameError(
            f"unknown activation {activation!r}; valid activations: {', '.join(ACTIVATIONS)} "
            "(or any callable)"
        )
    return CUSTOM_ACTIVATIONS.get(activation.lower(), activation.lower())


def check_initializer(init: str | keras.initializers.Initializer) -> Any:
    """Return a valid initializer name (lower-cased) or instance, else raise ``ValueError``.

    Names are passed to the layers as strings so each layer gets its own unseeded instance
    (drawn from the global seed set by ``fmnist.training.set_seed``).
    """
    if isinstance(init, keras.initializers.Initializer):
        return init
    if not isinstance(init, str) or init.lower() not in INITIALIZERS:
        raise UnknownNameError(
            f"unknown kernel initializer {init!r}; valid initializers: "
            f"{', '.join(INITIALIZERS)} (or a keras.initializers.Initializer)"
        )
    return init.lower()


def _check_units(units: int | Sequence[int], what: str, allow_empty: bool = True) -> tuple:
    # Python and NumPy ints alike (np.array([64, 32]) or a tuner's np.int64 are widths too)
    if isinstance(units, numbers.Integral):
        units = (units,)
    if isinstance(units, (str, bytes)):
        raise TypeError(f"{what} must be an int or a sequence of ints, got {units!r}")
    try:
        units = tuple(units)
    except TypeError:
        raise TypeError(f"{what} must be an int or a sequence of ints, got {units!r}") from None
    units = tuple(check_int(u, f"every entry of {what}", note=f" (in {what}={units!r})") for u in units)
    if not units and not allow_empty:
        raise ValueError(f"{what} must not be empty")
    return units


def _check_rate(rate: float, what: str) -> float:
    return check_real(rate, what, 0.0, 1.0, high_open=True)


def _per_layer(value: float | Sequence[float], n: int, what: str) -> list[float]:
    """Broadcast one dropout rate (or check a per-layer list) to ``n`` layers."""
    if isinstance(value, (numbers.Number, np.bool_, str, bytes)):  # one rate (checked there)
        return [_check_rate(value, what)] * n
    try:
        values = list(value)
    except TypeError:
        raise ValueError(
            f"{what} must be one rate in [0, 1) or a sequence of {n} rates, got {value!r}"
        ) from None
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} rates but there are {n} hidden layers")
    return [_check_rate(v, what) for v in values]


def _check_shape(shape: Sequence[int], what: str = "input_shape") -> tuple:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    valid = f"{what} must be a non-empty tuple of positive ints, got {shape!r}"
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(valid) from None
    if not shape or any(isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral) or d <= 0
                        for d in shape):  # fmt: skip
        raise ValueError(valid)
    return tuple(int(d) for d in shape)


def _regularizer(l2: float):
    l2 = check_real(l2, "l2", low=0.0)  # also rejects NaN, which every comparison lets by
    return keras.regularizers.L2(l2) if l2 > 0 else None


# ------------------------------------------------------------------------------ pieces
class _Namer:
    """Per-model counters so names are ``hidden_1``, ``dropout_2``, ... in graph order."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def next(self, kind: str) -> int:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return self.counts[kind]


def _dropout(x, rate: float, namer: _Namer):
    if rate > 0:
        x = keras.layers.Dropout(rate, name=f"dropout_{namer.next('dropout')}")(x)
    return x


def _fresh(initializer, offset: int):
    """A per-layer copy of an initializer *instance*.

    A Keras 3 initializer instance draws the same values on every call, so layers sharing one
    instance (e.g. ``RandomUniform(-1, 1)`` in the deep-thin MLP) would start with identical
    kernels. Each layer gets its own copy: a fresh default seed (drawn from the globally
    seeded RNG, so still reproducible) or the user's seed shifted by the layer's offset.
    Names such as ``"he_normal"`` are resolved by Keras per layer already.
    """
    if not isinstance(initializer, keras.initializers.Initializer):
        return initializer
    config = initializer.get_config()
    if "seed" in config:
        config["seed"] = None if config["seed"] is None else int(config["seed"]) + offset
    return type(initializer).from_config(config)


def _linear_unit(x, layer_cls, layer_kwargs, activation, batch_norm, names,
                 norm_cls=keras.layers.BatchNormalization):  # fmt: skip
    """A Dense/Conv2D layer, then its activation: inside the layer, or (with batch norm) after
    ``norm_cls`` — then the layer has no bias, since batch norm's beta replaces it.
    ``names``: (layer, batch norm, activation) layer names."""
    x = layer_cls(activation=None if batch_norm else activation, use_bias=not batch_norm,
                  name=names[0], **layer_kwargs)(x)  # fmt: skip
    if batch_norm:
        x = norm_cls(name=names[1])(x)
        x = keras.layers.Activation(activation, name=names[2])(x)
    return x


def _dense_stack(x, units, activation, initializer, batch_norm, dropouts, l2, namer):
    for u, rate in zip(units, dropouts):
        i = namer.next("hidden")
        layer = dict(units=u, kernel_initializer=_fresh(initializer, i), kernel_regularizer=_regularizer(l2))
        x = _linear_unit(x, keras.layers.Dense, layer, activation, batch_norm,
                         (f"hidden_{i}", f"bn_hidden_{i}", f"act_hidden_{i}"))  # fmt: skip
        x = _dropout(x, rate, namer)
    return x


def _classifier(inputs, x, n_classes: int, initializer, l2: float, name: str) -> keras.Model:
    check_int(n_classes, "n_classes", minimum=2)
    outputs = keras.layers.Dense(
        n_classes,
        activation="softmax",
        kernel_initializer=_fresh(initializer, 10_000),
        kernel_regularizer=_regularizer(l2),
        name="output",
    )(x)
    return keras.Model(inputs, outputs, name=name)


def _dense_trunk(input_shape, hidden_units, activation, kernel_initializer, dropout, batch_norm, l2):
    """Validated ``input -> [flatten] -> hidden_1..n`` shared by the MLP builders.

    Returns ``(inputs, last hidden tensor, initializer)``.
    """
    input_shape = _check_shape(input_shape)
    units = _check_units(hidden_units, "hidden_units")
    activation = check_activation(activation)
    initializer = check_initializer(kernel_initializer)
    dropouts = _per_layer(dropout, len(units), "dropout")
    batch_norm = check_bool(batch_norm, "batch_norm")  # 'no' is truthy: it used to add batch norm
    inputs = keras.Input(shape=input_shape, name="input")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    x = _dense_stack(x, units, activation, initializer, batch_norm, dropouts, l2, _Namer())
    return inputs, x, initializer


# ----------------------------------------------------------------------------- builders
def build_mlp(
    input_shape: Sequence[int] = (784,),
    hidden_units: int | Sequence[int] = (128,),
    activation: str | Callable = "relu",
    kernel_initializer: str | keras.initializers.Initializer = "he_normal",
    dropout: float | Sequence[float] = 0.0,
    batch_norm: bool = False,
    l2: float = 0.0,
    n_classes: int = 10,
    name: str = "mlp",
) -> keras.Model:
    """Build a multi-layer perceptron classifier ``input -> hidden_1..n -> output(softmax)``.

    Args:
        input_shape: shape of one example; ``(784,)`` for flattened images. A multi-dimensional
            shape such as ``(28, 28)`` gets a ``flatten`` layer first.
        hidden_units: width of each hidden layer (may be empty: softmax regression).
        activation: hidden activation name (see :data:`ACTIVATIONS`) or callable.
        kernel_initializer: name (see :data:`INITIALIZERS`) or initializer instance.
        dropout: rate after every hidden layer, or one rate per hidden layer; in ``[0, 1)``.
        batch_norm: linear Dense -> ``bn_hidden_i`` -> ``act_hidden_i`` when True.
        l2: L2 penalty on every kernel (0 disables).
        n_classes: number of output classes.
        name: model name.
    """
    inputs, x, initializer = _dense_trunk(
        input_shape, hidden_units, activation, kernel_initializer, dropout, batch_norm, l2
    )
    return _classifier(inputs, x, n_classes, initializer, l2, name)


def build_deep_thin_mlp(
    depth: int = 6,
    width: int = 8,
    activation: str | Callable = "sigmoid",
    kernel_initializer: str | keras.initializers.Initializer | None = None,
    input_shape: Sequence[int] = (784,),
    n_classes: int = 10,
    name: str = "deep_thin_mlp",
) -> keras.Model:
    """Build the deep, thin MLP of the vanishing-gradient demo (784-8x6-10: 6,730 params).

    ``kernel_initializer=None`` means ``RandomUniform(-1, 1)``: with sigmoid units the
    back-propagated gradient shrinks by roughly ``0.25 * |w| * sqrt(width)`` per layer, so the
    first layers learn visibly slower than the last ones (use ``"he_normal"`` + ``"relu"`` for
    the contrast).
    """
    depth, width = check_int(depth, "depth"), check_int(width, "width")
    if kernel_initializer is None:
        kernel_initializer = keras.initializers.RandomUniform(minval=-1.0, maxval=1.0)
    return build_mlp(
        input_shape=input_shape,
        hidden_units=(width,) * depth,
        activation=activation,
        kernel_initializer=kernel_initializer,
        n_classes=n_classes,
        name=name,
    )


def _check_block(block: Mapping[str, Any], index: int) -> dict[str, Any]:
    if not isinstance(block, Mapping):
        raise TypeError(f"conv block {index} must be a dict, got {type(block).__name__}")
    unknown = set(block) - set(CONV_BLOCK_DEFAULTS)
    if unknown:
        raise ValueError(
            f"conv block {index} has unknown keys {sorted(unknown)}; valid keys: "
            f"{', '.join(CONV_BLOCK_DEFAULTS)}"
        )
    if block.get("filters") is None:
        raise ValueError(f"conv block {index} is missing 'filters' (e.g. {{'filters': 32}})")
    spec = {**CONV_BLOCK_DEFAULTS, **block}
    check_int(spec["filters"], f"conv block {index} filters")
    check_int(spec["convs"], f"conv block {index} convs")
    for key in ("padding", "pool_padding"):
        if spec[key] not in PADDINGS:
            raise ValueError(
                f"conv block {index} {key} must be one of {PADDINGS}, got {spec[key]!r}"
            )
    if spec["pool_type"] not in POOL_TYPES:
        raise ValueError(f"conv block {index} pool_type must be one of {POOL_TYPES}")
    spec["dropout"] = _check_rate(spec["dropout"], f"conv block {index} dropout")
    spec["batch_norm"] = check_bool(spec["batch_norm"], f"conv block {index} batch_norm", allow_none=True)
    return spec


def build_cnn(
    input_shape: Sequence[int] = (28, 28, 1),
    conv_blocks: Sequence[Mapping[str, Any]] = ({"filters": 32},),
    dense_units: int | Sequence[int] = (),
    dropout: float | Sequence[float] = 0.0,
    activation: str | Callable = "relu",
    kernel_initializer: str | keras.initializers.Initializer = "he_normal",
    batch_norm: bool = False,
    l2: float = 0.0,
    global_pool: str | None = None,
    n_classes: int = 10,
    name: str = "cnn",
    fused_batch_norm: bool = True,
) -> keras.Model:
    """Build a convolutional classifier: conv blocks -> flatten/global pool -> dense -> output.

    Each block is a dict with the keys of :data:`CONV_BLOCK_DEFAULTS`: ``filters`` (required),
    ``kernel_size`` (3), ``strides`` (1), ``padding`` ("same"), ``convs`` (1; 2 gives a
    VGG-style double conv), ``pool`` (2; None/0 = no pooling), ``pool_type`` ("max"/"avg"),
    ``pool_padding`` ("valid"), ``batch_norm`` (None = model-wide setting) and ``dropout``
    (after the pooling).

    Args:
        dense_units: hidden Dense layers of the head (``hidden_1..``).
        dropout: rate after each head Dense layer, or a single rate before ``output`` when
            there is no dense head.
        global_pool: None (``flatten``), "avg" or "max" (``global_pool``).
        fused_batch_norm: batch norm after convolutions as
            :class:`~fmnist.model.layers.FusedBatchNormalization` (same results, faster steps
            on CPU); False gives ``keras.layers.BatchNormalization``. The dense head always
            uses the Keras layer.
        Other arguments as in :func:`build_mlp`.
    """
    input_shape = _check_shape(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            f"build_cnn needs an (height, width, channels) input_shape, got {input_shape}; "
            "use fmnist.data.reshape_for(x, 'cnn') to get (N, 28, 28, 1) images"
        )
    if isinstance(conv_blocks, Mapping) or not list(conv_blocks):
        raise ValueError("conv_blocks must be a non-empty list of dicts such as [{'filters': 32}]")
    specs = [_check_block(b, i + 1) for i, b in enumerate(conv_blocks)]
    units = _check_units(dense_units, "dense_units")
    activation = check_activation(activation)
    initializer = check_initializer(kernel_initializer)
    if global_pool not in GLOBAL_POOLS:
        raise ValueError(f"global_pool must be one of {GLOBAL_POOLS}, got {global_pool!r}")
    batch_norm = check_bool(batch_norm, "batch_norm")
    fused_batch_norm = check_bool(fused_batch_norm, "fused_batch_norm")
    norm_cls = FusedBatchNormalization if fused_batch_norm else keras.layers.BatchNormalization
    head_dropouts = _per_layer(dropout, max(len(units), 1), "dropout")
    namer = _Namer()
    inputs = keras.Input(shape=input_shape, name="input")
    x = inputs
    for spec in specs:
        bn = batch_norm if spec["batch_norm"] is None else spec["batch_norm"]
        for _ in range(spec["convs"]):
            i = namer.next("conv")
            layer = dict(filters=spec["filters"], kernel_size=spec["kernel_size"],
                         strides=spec["strides"], padding=spec["padding"],
                         kernel_initializer=_fresh(initializer, 1_000 + i),
                         kernel_regularizer=_regularizer(l2))  # fmt: skip
            x = _linear_unit(x, keras.layers.Conv2D, layer, activation, bn,
                             (f"conv_{i}", f"bn_{i}", f"act_{i}"), norm_cls)  # fmt: skip
        if spec["pool"]:
            pool_cls = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}
            x = pool_cls[spec["pool_type"]](
                spec["pool"], padding=spec["pool_padding"], name=f"pool_{namer.next('pool')}"
            )(x)
        x = _dropout(x, spec["dropout"], namer)
    if global_pool == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    elif global_pool == "max":
        x = keras.layers.GlobalMaxPooling2D(name="global_pool")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    if units:
        x = _dense_stack(x, units, activation, initializer, batch_norm, head_dropouts, l2, namer)
    else:
        x = _dropout(x, head_dropouts[0], namer)
    return _classifier(inputs, x, n_classes, initializer, l2, name)


def build_regression_net(
    hidden_units: int | Sequence[int] = (32, 32),
    activation: str | Callable = "tanh",
    kernel_initializer: str | keras.initializers.Initializer = "glorot_uniform",
    dropout: float | Sequence[float] = 0.0,
    batch_norm: bool = False,
    l2: float = 0.0,
    input_shape: Sequence[int] = (1,),
    name: str = "regression",
) -> keras.Model:
    """Build a 1-input, 1-output regression MLP ``input -> hidden_1..n -> output(linear)``.

    Arguments as in :func:`build_mlp`; the output is a single linear unit named ``output``.
    """
    inputs, x, initializer = _dense_trunk(
        input_shape, hidden_units, activation, kernel_initializer, dropout, batch_norm, l2
    )
    outputs = keras.layers.Dense(
        1, kernel_initializer=_fresh(initializer, 10_000), kernel_regularizer=_regularizer(l2), name="output"
    )(x)
    return keras.Model(inputs, outputs, name=name)
