"""Named architectures (presets) and the registry users extend with their own.

Register a builder with the decorator or the function form; ``layout`` tells data loaders how
to shape the inputs ("mlp": (N, 784), "cnn": (N, 28, 28, 1), "regression": (N, 1))::

    >>> from fmnist.model import build_cnn, build_mlp, build_model, preset_layout, register_preset
    >>> @register_preset("tiny_cnn", layout="cnn", description="one 8-filter conv")
    ... def tiny_cnn(filters=8, **overrides):
    ...     return build_cnn(conv_blocks=[{"filters": filters}], name="tiny_cnn", **overrides)
    >>> build_model("tiny_cnn", filters=4).count_params() > 0
    True
    >>> register_preset("tiny_mlp", lambda **kw: build_mlp(hidden_units=(16,), **kw), layout="mlp")
    >>> preset_layout("tiny_mlp")
    'mlp'
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

import keras

from fmnist.model.builders import build_cnn, build_deep_thin_mlp, build_mlp, build_regression_net
from fmnist.model.errors import UnknownNameError

LAYOUTS = ("mlp", "cnn", "regression")


@dataclasses.dataclass(frozen=True)
class Preset:
    """A registered architecture: ``builder(**overrides)`` returns an uncompiled model."""

    name: str
    builder: Callable[..., keras.Model]
    layout: str
    description: str = ""
    params: int | None = None  # documented parameter count with the default arguments

    @property
    def task(self) -> str:
        """``"regression"`` for the regression layout, else ``"classification"``."""
        return "regression" if self.layout == "regression" else "classification"


#: name -> :class:`Preset`; add entries with :func:`register_preset`.
PRESETS: dict[str, Preset] = {}


def register_preset(
    name: str,
    builder: Callable[..., keras.Model] | None = None,
    *,
    layout: str = "mlp",
    description: str = "",
    params: int | None = None,
    overwrite: bool = False,
):
    """Register ``builder`` under ``name``; without ``builder`` return a decorator.

    Args:
        name: preset name used by :func:`build_model`.
        builder: callable returning a Keras model; keyword arguments are the overrides.
        layout: "mlp", "cnn" or "regression" (how inputs must be shaped).
        description: one line for listings.
        params: expected parameter count, if you want it documented/tested.
        overwrite: replace an existing preset instead of raising ``ValueError``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"preset name must be a non-empty string, got {name!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; valid layouts: {', '.join(LAYOUTS)}")
    if name in PRESETS and not overwrite:
        raise ValueError(f"preset {name!r} is already registered (pass overwrite=True to replace it)")

    def decorator(fn: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        if not callable(fn):
            raise TypeError(f"preset builder for {name!r} must be callable, got {fn!r}")
        PRESETS[name] = Preset(name, fn, layout, description, params)
        return fn

    if builder is None:
        return decorator
    decorator(builder)
    return None


def get_preset(name: str) -> Preset:
    """Return the :class:`Preset` ``name`` or raise listing the registered names."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f"unknown preset {name!r}; valid presets: {', '.join(sorted(PRESETS))}"
        ) from None


def preset_layout(name: str) -> str:
    """Return the input layout ("mlp", "cnn" or "regression") of preset ``name``."""
    return get_preset(name).layout


def build_model(name: str, **overrides: Any) -> keras.Model:
    """Build a fresh, uncompiled model of preset ``name``; ``overrides`` go to its builder.

    >>> build_model("mlp_medium", dropout=0.2).count_params()
    118282
    """
    preset = get_preset(name)
    sig = inspect.signature(preset.builder)
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    if not takes_kwargs:
        unknown = set(overrides) - set(sig.parameters)
        if unknown:
            raise TypeError(
                f"preset {name!r} does not accept {sorted(unknown)}; valid overrides: "
                f"{', '.join(sig.parameters)}"
            )
    return preset.builder(**overrides)


def _preset(name, builder, layout, description, params, **defaults) -> None:
    """Register ``builder`` with ``defaults`` that callers may override."""

    @functools.wraps(builder)
    def make(**overrides):
        return builder(**{"name": name, **defaults, **overrides})

    make.__signature__ = inspect.signature(builder)  # valid overrides = builder's arguments
    register_preset(name, make, layout=layout, description=description, params=params)


# --- seed-table baselines (exact parameter counts are tested) ------------------------------
_preset("mlp_shallow", build_mlp, "mlp", "784-128-10", 101_770, hidden_units=(128,))
_preset("mlp_medium", build_mlp, "mlp", "784-128-128-10", 118_282, hidden_units=(128, 128))
_preset("mlp_deep", build_mlp, "mlp", "784-128x3-10", 134_794, hidden_units=(128,) * 3)
_preset(
    "cnn_small", build_cnn, "cnn", "conv3x3(32,same)-pool2-flatten-10", 63_050,
    conv_blocks=({"filters": 32},),
)  # fmt: skip
_preset(
    "cnn_medium", build_cnn, "cnn", "conv3x3(32)-pool-conv3x3(64)-pool-flatten-10", 50_186,
    conv_blocks=({"filters": 32}, {"filters": 64}),
)  # fmt: skip
# pool padding "same" keeps odd sizes: 28 -> 14 -> 7 -> 4 -> 2, so flatten has 2*2*256 units.
_preset(
    "cnn_large", build_cnn, "cnn", "conv3x3(32,64,128,256)+pool2(same)-flatten-10", 398_090,
    conv_blocks=tuple({"filters": f, "pool_padding": "same"} for f in (32, 64, 128, 256)),
)  # fmt: skip
_preset(
    "deep_thin_mlp", build_deep_thin_mlp, "mlp", "784-8x6-10 sigmoid, RandomUniform(-1, 1)",
    6_730,
)  # fmt: skip

# --- regression (1-D function with gaps) ---------------------------------------------------
_preset("regression_2layer", build_regression_net, "regression", "1-32-32-1 tanh", 1_153,
        hidden_units=(32, 32))  # fmt: skip
_preset("regression_10_15_10", build_regression_net, "regression", "1-10-15-10-1 tanh", 356,
        hidden_units=(10, 15, 10))  # fmt: skip

# --- accuracy-oriented presets (issue F trains them with the "full" budget) -----------------
# Three BN + dropout layers: wide enough to reach ~90% test accuracy, < 500k parameters.
_preset(
    "mlp_best", build_mlp, "mlp", "784-384-256-128-10, batch norm, dropout 0.3", 436_490,
    hidden_units=(384, 256, 128), batch_norm=True, dropout=0.3,
)  # fmt: skip
# VGG-style: two double-3x3 blocks with BN, dropout after each pool, BN+dropout dense head.
_preset(
    "cnn_best", build_cnn, "cnn",
    "VGG-style [32,32]-pool-[64,64]-pool-dense128-10, batch norm, dropout", 468_778,
    conv_blocks=(
        {"filters": 32, "convs": 2, "dropout": 0.25},
        {"filters": 64, "convs": 2, "dropout": 0.25},
    ),
    dense_units=(128,), batch_norm=True, dropout=0.5,
)  # fmt: skip

# --- time-to-accuracy recipes (issue H; fmnist.recipes trains them) ------------------------
def _speedrun_shape(name: str, widths: tuple[int, int, int], params: int) -> None:
    """Width where the images are small: one conv at 28x28, two at 14x14, two at 7x7, then a
    global max pool; ``widths`` are the filters of the three stages."""
    a, b, c = widths
    _preset(
        name, build_cnn, "cnn", f"conv{a}-pool-[{b},{b}]-pool-[{c},{c}]-global max pool-10, batch norm", params,
        conv_blocks=({"filters": a}, {"filters": b, "convs": 2}, {"filters": c, "convs": 2, "pool": 0}),
        batch_norm=True, global_pool="max",
    )  # fmt: skip


# Chosen on the dev split against cnn_best and wider or flatter variants at the same 12-epoch
# budget (benchmarks/records/speedrun_dev.json).
_speedrun_shape("cnn_speedrun", (32, 64, 128), 279_722)
# The long recipe's 30 minutes afford the same shape 1.5x wider (1.8x the arithmetic): on the
# dev split at 40 epochs it beat cnn_speedrun by 0.2 points (benchmarks/records/long_dev.json).
_speedrun_shape("cnn_long", (48, 96, 144), 439_450)
