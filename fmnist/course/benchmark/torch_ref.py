"""Optional PyTorch reference: the same architecture as a Keras preset, in a plain loop.

PyTorch is *not* a dependency of fmnist. When ``import torch`` fails, the benchmark records
the reason and skips this section. The network is translated layer by layer from the built
Keras model (Conv2D, pooling, Flatten, Dense, BatchNormalization, Dropout, Activation), so
the trainable parameter counts match; the softmax of the ``output`` layer is folded into
``CrossEntropyLoss`` (mathematically the same loss as Keras's softmax + sparse CE).

This module is the Keras side: :func:`torch_layers` reads the translation off the model as a
JSON-ready list, which :func:`fmnist.course.benchmark.torch_loop.torch_net` turns into
``torch.nn`` modules, in this process (:func:`run_torch`, :func:`keras_to_torch`) or in a
child that never imports TensorFlow (``fmnist benchmark --against-torch``). The loop itself
is :func:`fmnist.course.benchmark.torch_loop.train_torch`.

Example::

    >>> from fmnist.course.benchmark.torch_ref import torch_status, run_torch
    >>> torch, note = torch_status()
    >>> if torch is not None:
    ...     rec = run_torch("mlp_medium", x, y, epochs=2, batch_size=128)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from fmnist.course.benchmark.torch_loop import DEFAULT_THREADS, torch_net, torch_status, train_torch
from fmnist.model import build_model

__all__ = ["DEFAULT_THREADS", "keras_to_torch", "keras_trainable_params", "run_torch", "torch_layers", "torch_status"]

_ACTIVATIONS = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "elu": "ELU", "selu": "SELU",
    "gelu": "GELU", "silu": "SiLU", "swish": "SiLU", "softplus": "Softplus",
    "softsign": "Softsign", "relu6": "ReLU6", "leaky_relu": "LeakyReLU", "mish": "Mish",
}  # fmt: skip


def _module(name: str, *args, **kwargs) -> dict[str, Any]:
    """One entry of the layer list: ``torch.nn.<name>(*args, **kwargs)`` (tuples as lists: JSON)."""
    def plain(v):
        return list(v) if isinstance(v, tuple) else v

    return {"module": name, "args": [plain(a) for a in args], "kwargs": {k: plain(v) for k, v in kwargs.items()}}


def _activation(fn, is_last: bool):
    name = getattr(fn, "__name__", str(fn))
    if name in ("linear", "None") or fn is None:
        return None
    if name == "softmax":
        # The last softmax is folded into CrossEntropyLoss (logits in, same loss value).
        return None if is_last else _module("Softmax", dim=1)
    if name not in _ACTIVATIONS:
        raise NotImplementedError(f"activation {name!r} has no PyTorch translation here")
    return _module(_ACTIVATIONS[name])


def _pool(layer, kind: str):
    if layer.data_format != "channels_last":
        raise NotImplementedError("only channels_last pooling is translated")
    pool = tuple(layer.pool_size)
    strides = tuple(layer.strides or pool)
    ceil = layer.padding == "same"  # pool == stride: "same" pads at the end = ceil mode
    if ceil and pool != strides:
        raise NotImplementedError("'same' pooling with pool_size != strides is not translated")
    if kind == "max":
        return _module("MaxPool2d", pool, strides, ceil_mode=ceil)
    return _module("AvgPool2d", pool, strides, ceil_mode=ceil, count_include_pad=False)


def torch_layers(model) -> list[dict[str, Any]]:
    """The translation of a built Keras classifier (channels-last) into ``torch.nn`` modules
    (NCHW), as the JSON-ready list :func:`~fmnist.course.benchmark.torch_loop.torch_net` builds.

    Raises:
        NotImplementedError: a layer type or option without a translation here.
    """
    modules = []
    layers = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    for i, layer in enumerate(layers):
        is_last = i == len(layers) - 1
        in_shape = tuple(layer.input.shape)
        if isinstance(layer, keras.layers.Conv2D) and type(layer) is keras.layers.Conv2D:
            if layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1):
                raise NotImplementedError(f"{layer.name}: only channels_last, undilated Conv2D")
            if layer.padding == "same" and tuple(layer.strides) != (1, 1):
                raise NotImplementedError(f"{layer.name}: 'same' padding with strides > 1")
            modules.append(
                _module("Conv2d", in_shape[-1], layer.filters, tuple(layer.kernel_size), tuple(layer.strides),
                        padding="same" if layer.padding == "same" else 0, bias=layer.use_bias)
            )  # fmt: skip
            modules.append(_activation(layer.activation, is_last))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            modules.append(_pool(layer, "max"))
        elif isinstance(layer, keras.layers.AveragePooling2D):
            modules.append(_pool(layer, "avg"))
        elif isinstance(layer, keras.layers.GlobalAveragePooling2D):
            modules += [_module("AdaptiveAvgPool2d", 1), _module("Flatten")]
        elif isinstance(layer, keras.layers.GlobalMaxPooling2D):
            modules += [_module("AdaptiveMaxPool2d", 1), _module("Flatten")]
        elif isinstance(layer, keras.layers.Flatten):
            modules.append(_module("Flatten"))
        elif isinstance(layer, keras.layers.Dense):
            if len(in_shape) != 2:
                raise NotImplementedError(f"{layer.name}: Dense on a {len(in_shape)}-D input")
            modules.append(_module("Linear", in_shape[-1], layer.units, bias=layer.use_bias))
            modules.append(_activation(layer.activation, is_last))
        elif isinstance(layer, keras.layers.BatchNormalization):
            bn = "BatchNorm2d" if len(in_shape) == 4 else "BatchNorm1d"
            modules.append(_module(bn, in_shape[-1], eps=layer.epsilon, momentum=1.0 - layer.momentum))
        elif isinstance(layer, keras.layers.Dropout):
            modules.append(_module("Dropout", layer.rate))
        elif isinstance(layer, keras.layers.Activation):
            modules.append(_activation(layer.activation, is_last))
        else:
            raise NotImplementedError(f"layer {layer.name} ({type(layer).__name__}) has no PyTorch translation")
    return [m for m in modules if m is not None]


def keras_to_torch(model):
    """Translate a built Keras classifier (channels-last) into an ``nn.Sequential`` (NCHW).

    Raises:
        NotImplementedError: a layer type or option without a translation here.
    """
    return torch_net(torch_layers(model))


def keras_trainable_params(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def run_torch(
    preset: str, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, seed: int = 0,
    threads: int | None = None, **options: Any,
) -> dict[str, Any]:
    """Train the PyTorch translation of ``preset`` in this process and time each epoch.

    ``x`` is laid out for the Keras preset ((N, 784) or NHWC); ``threads`` sets
    ``torch.set_num_threads`` (None: PyTorch's default); ``options`` go to
    :func:`~fmnist.course.benchmark.torch_loop.train_torch` (``channels_last``, ``bf16``,
    ``method``).
    """
    model = build_model(preset)
    return train_torch(torch_layers(model), preset, x, y, epochs, batch_size, seed, threads,
                       expected_params=keras_trainable_params(model), **options)  # fmt: skip
