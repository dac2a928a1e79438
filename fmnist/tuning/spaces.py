"""Ready-made search spaces ("mlp", "cnn", "regression") and the builders they configure.

Each builder takes keyword hyperparameters, builds a model with :mod:`fmnist.model` and
compiles it with :func:`fmnist.model.compile_model`. Optimizer names: those of
:data:`fmnist.model.OPTIMIZERS` plus "sgd_nesterov" (SGD, Nesterov momentum 0.9, as in seed
003) and "sgd" (plain SGD, no momentum).

Example::

    >>> from fmnist.tuning import get_space
    >>> space = get_space("cnn")
    >>> space.grid_size(), space.grid()["architecture"][:2]
    (2592, ['conv_pool', 'double_conv_pool'])
    >>> model = space.build(dict(space.defaults(), architecture="all_conv", conv_blocks=3))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from fmnist.model import build_cnn, build_mlp, build_regression_net, compile_model
from fmnist.model.errors import UnknownNameError
from fmnist.tuning.space import Choice, LogRange, Range, SearchSpace, SearchSpaceError

__all__ = ["CNN_LAYOUTS", "SPACES", "cnn_model", "get_space", "mlp_model", "regression_model", "space_for_data"]


# ------------------------------------------------------------------------------ builders
# Optimizer names of the spaces; "sgd_nesterov" is SGD with Nesterov momentum 0.9 (seed 003).
_SGD_VARIANTS = {"sgd_nesterov": {"momentum": 0.9, "nesterov": True}, "sgd": {"momentum": 0.0, "nesterov": False}}


def _compile(model, optimizer: str, learning_rate: float, task: str = "classification"):
    if optimizer in _SGD_VARIANTS:
        return compile_model(model, "sgd", learning_rate, task=task, **_SGD_VARIANTS[optimizer])
    return compile_model(model, optimizer, learning_rate, task=task)


def mlp_model(
    *, input_shape=(784,), n_classes=10, units_1=128, units_2=0, units_3=0, dropout=0.0,
    learning_rate=1e-3, optimizer="adam", activation="relu", kernel_initializer="he_normal",
    batch_norm=False, l2=0.0,
):  # fmt: skip
    """Compiled :func:`fmnist.model.build_mlp`; hidden layer i has ``units_i`` (0 = absent)."""

    hidden = tuple(int(u) for u in (units_1, units_2, units_3) if u)
    model = build_mlp(
        input_shape=tuple(input_shape), hidden_units=hidden, activation=activation,
        kernel_initializer=kernel_initializer, dropout=float(dropout), batch_norm=bool(batch_norm),
        l2=float(l2), n_classes=int(n_classes), name="tuned_mlp",
    )  # fmt: skip
    return _compile(model, optimizer, learning_rate)


def _blocks_conv_pool(n, f, k, s, d):
    return [{"filters": f[i], "kernel_size": k, "strides": s} for i in range(n)], {}


def _blocks_double_conv_pool(n, f, k, s, d):  # VGG style: two convs per block
    return [{"filters": f[i], "kernel_size": k, "strides": s if i == 0 else 1, "convs": 2} for i in range(n)], {}


def _blocks_conv_bn_pool(n, f, k, s, d):
    return [{"filters": f[i], "kernel_size": k, "strides": s, "batch_norm": True} for i in range(n)], {}


def _blocks_conv_pool_dropout(n, f, k, s, d):  # dropout after every pooling, too
    return [{"filters": f[i], "kernel_size": k, "strides": s, "dropout": d} for i in range(n)], {}


def _blocks_all_conv(n, f, k, s, d):  # strided 3x3 convs replace pooling (all-convolutional)
    blocks = []
    for i in range(n):
        blocks.append({"filters": f[i], "kernel_size": k, "strides": s, "pool": 0})
        blocks.append({"filters": f[i], "kernel_size": 3, "strides": 2, "pool": 0})
    return blocks, {}


def _blocks_global_avg(n, f, k, s, d):  # global average pooling instead of flatten
    return [{"filters": f[i], "kernel_size": k, "strides": s} for i in range(n)], {"global_pool": "avg"}


#: Whole-architecture layouts of the CNN space (seed 000 drew one of 12 conv layouts).
CNN_LAYOUTS: dict[str, Callable] = {
    "conv_pool": _blocks_conv_pool,
    "double_conv_pool": _blocks_double_conv_pool,
    "conv_bn_pool": _blocks_conv_bn_pool,
    "conv_pool_dropout": _blocks_conv_pool_dropout,
    "all_conv": _blocks_all_conv,
    "global_avg": _blocks_global_avg,
}


def cnn_model(
    *, input_shape=(28, 28, 1), n_classes=10, architecture="conv_pool", conv_blocks=2,
    filters=32, kernel_size=3, strides=1, dropout=0.25, dense_units=128, learning_rate=1e-3,
    optimizer="adam", activation="relu", kernel_initializer="he_normal", l2=0.0,
):  # fmt: skip
    """Compiled :func:`fmnist.model.build_cnn` for one layout of :data:`CNN_LAYOUTS`.

    ``filters`` is the first block's width; each later block doubles it, capped at 128.
    Pooling uses "same" padding so strides 2 plus pooling never shrink a map below 1x1.
    """

    if architecture not in CNN_LAYOUTS:
        raise UnknownNameError(
            f"unknown CNN architecture {architecture!r}; valid: {', '.join(CNN_LAYOUTS)}"
        )
    n = int(conv_blocks)
    widths = [min(int(filters) * 2**i, max(128, int(filters))) for i in range(n)]
    blocks, extra = CNN_LAYOUTS[architecture](n, widths, int(kernel_size), int(strides), float(dropout))
    for block in blocks:
        block.setdefault("pool_padding", "same")
    model = build_cnn(
        input_shape=tuple(input_shape), conv_blocks=blocks,
        dense_units=(int(dense_units),) if dense_units else (), dropout=float(dropout),
        activation=activation, kernel_initializer=kernel_initializer, l2=float(l2),
        n_classes=int(n_classes), name=f"tuned_cnn_{architecture}", **extra,
    )  # fmt: skip
    return _compile(model, optimizer, learning_rate)


def regression_model(
    *, input_shape=(1,), units=32, n_layers=2, activation="tanh", dropout=0.0, l2=0.0,
    learning_rate=1e-3, optimizer="adam", kernel_initializer="glorot_uniform",
):  # fmt: skip
    """Compiled :func:`fmnist.model.build_regression_net` with ``n_layers`` x ``units``."""

    model = build_regression_net(
        hidden_units=(int(units),) * int(n_layers), activation=activation,
        kernel_initializer=kernel_initializer, dropout=float(dropout), l2=float(l2),
        input_shape=tuple(input_shape), name="tuned_regression",
    )  # fmt: skip
    return _compile(model, optimizer, learning_rate, task="regression")


# -------------------------------------------------------------------------- ready spaces
def _mlp_space(input_shape=(784,), n_classes=10) -> SearchSpace:
    return SearchSpace(
        name="mlp",
        params={
            "batch_size": Choice(16, 32, 64),
            "learning_rate": Choice(0.01, 0.001),
            "dropout": Choice(0.1, 0.2, 0.3),
            "units_1": Choice(64, 128, 256),
            "units_2": Choice(64, 128, 256),
            "optimizer": Choice("sgd_nesterov", "adam"),
        },
        builder=mlp_model,
        fixed={"input_shape": tuple(input_shape), "n_classes": n_classes, "activation": "relu",
               "kernel_initializer": "he_normal"},
        description="2-hidden-layer MLP, He init, ReLU (seed 003)",
        layout="mlp",
    )  # fmt: skip


def _cnn_space(input_shape=(28, 28, 1), n_classes=10) -> SearchSpace:
    return SearchSpace(
        name="cnn",
        params={
            "architecture": Choice(*CNN_LAYOUTS),
            "conv_blocks": Choice(1, 2, 3),
            "filters": Choice(32, 64, 128),
            "kernel_size": Choice(3, 5),
            "strides": Choice(1, 2),
            "dropout": Choice(0.0, 0.25, 0.5),
            "learning_rate": Choice(0.01, 0.001),
            "optimizer": Choice("sgd_nesterov", "adam"),
        },
        builder=cnn_model,
        fixed={"input_shape": tuple(input_shape), "n_classes": n_classes},
        description="CNN layouts x blocks x filters/kernel/strides (seeds 000/003)",
        layout="cnn",
    )  # fmt: skip


def _regression_space(input_shape=(1,)) -> SearchSpace:
    return SearchSpace(
        name="regression",
        params={
            # Full-batch steps: 1,000 epochs are 1,000 updates, too few below 1e-3.
            "learning_rate": LogRange(1e-3, 3e-2, n=3),
            "units": Choice(16, 32, 64),
            "n_layers": Choice(1, 2),
            "dropout": Range(0.0, 0.25, 0.05),
            "l2": Choice(0.0, 1e-4, 1e-3, 1e-2),
            # ReLU bends piecewise-linearly, tanh smoothly, sin periodically (fmnist's own).
            "activation": Choice("relu", "tanh", "sin"),
            "optimizer": Choice("adam", "sgd_nesterov"),
        },
        builder=regression_model,
        fixed={"input_shape": tuple(input_shape)},
        task="regression",
        objective="cv_mse",
        description="1-D regression net, objective K-fold CV MSE",
        layout="regression",
    )  # fmt: skip


#: Ready-made spaces: name -> factory(**shape kwargs).
SPACES: dict[str, Callable[..., SearchSpace]] = {
    "mlp": _mlp_space,
    "cnn": _cnn_space,
    "regression": _regression_space,
}


def get_space(name: str, **shape: Any) -> SearchSpace:
    """A ready-made space by name (see :data:`SPACES`); ``shape`` sets e.g. ``input_shape``."""
    if isinstance(name, SearchSpace):
        return name
    if not isinstance(name, str) or name not in SPACES:
        raise UnknownNameError(f"unknown search space {name!r}; valid spaces: {', '.join(SPACES)}")
    try:
        return SPACES[name](**shape)
    except TypeError as exc:
        params = ", ".join(inspect.signature(SPACES[name]).parameters)
        raise SearchSpaceError(f"space {name!r} accepts only: {params} ({exc})") from None


def space_for_data(space: str | SearchSpace, x: Any, y: Any = None) -> SearchSpace:
    """``space`` itself, or the named space shaped for ``x`` (input shape) and ``y`` (classes)."""
    if isinstance(space, SearchSpace):
        return space
    if not isinstance(space, str):
        raise TypeError(f"space must be a space name or a SearchSpace, got {type(space).__name__}")
    factory = SPACES.get(space)
    if factory is None:
        return get_space(space)  # raises the unknown-name error
    accepted = inspect.signature(factory).parameters
    shape: dict[str, Any] = {}
    if "input_shape" in accepted and x is not None:
        shape["input_shape"] = tuple(int(d) for d in np.shape(x)[1:])
    if "n_classes" in accepted and y is not None and np.size(y):
        shape["n_classes"] = max(2, int(np.max(y)) + 1)
    return get_space(space, **shape)
