"""Compiling models consistently, and checking that data fits a model's input.

Classification models end in a softmax, so the loss is
``SparseCategoricalCrossentropy(from_logits=False)`` with an ``accuracy`` metric; regression
models use MSE with ``mse`` and ``mae`` metrics.

Example::

    >>> from fmnist.model import build_model, compile_model
    >>> model = compile_model(build_model("mlp_shallow"), optimizer="sgd", learning_rate=0.05)
    >>> type(model.optimizer).__name__, bool(model.optimizer.nesterov)
    ('SGD', True)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from fmnist.backend import backend_name, compile_defaults, ensure_precision
from fmnist.checks import check_bool, check_int, check_real
from fmnist.model.errors import InputShapeError, UnknownNameError
from fmnist.model.losses import SmoothedSparseCategoricalCrossentropy

OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")
TASKS = ("classification", "regression")
#: Batches per compiled train-step call on the active backend (``compile_model``'s default;
#: per-backend values and their measurements in :mod:`fmnist.backend.compile_defaults`).
#: Keras 3 has a large fixed cost per step on CPU (keras-team/keras#18648); several steps per
#: call amortize it on tensorflow (measured; not on jax, and torch allows only one).
DEFAULT_STEPS_PER_EXECUTION = compile_defaults()["steps_per_execution"]
#: Whether ``compile_model`` compiles the step with XLA / ``torch.compile`` on this backend.
DEFAULT_JIT_COMPILE = compile_defaults()["jit_compile"]


def make_optimizer(
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float | None = None,
) -> keras.optimizers.Optimizer:
    """Return a fresh Keras optimizer by name (see :data:`OPTIMIZERS`).

    ``momentum``/``nesterov`` only apply to SGD (Nesterov momentum 0.9 by default).
    ``weight_decay=None`` keeps each optimizer's default (0.004 for AdamW, none otherwise).
    """
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        raise UnknownNameError(
            f"unknown optimizer {optimizer!r}; valid optimizers: {', '.join(OPTIMIZERS)} "
            "(or a keras.optimizers.Optimizer instance)"
        )
    # NumPy numbers pass; strings, bools and NaN (which every comparison lets by) do not
    learning_rate = check_real(learning_rate, "learning_rate", low=0.0, low_open=True)
    momentum = check_real(momentum, "momentum", 0.0, 1.0, high_open=True)
    nesterov = check_bool(nesterov, "nesterov")  # 'no' is truthy: it used to switch Nesterov on
    weight_decay = check_real(weight_decay, "weight_decay", low=0.0, allow_none=True)
    kwargs: dict[str, Any] = {"learning_rate": learning_rate}
    if weight_decay is not None:
        kwargs["weight_decay"] = weight_decay
    name = optimizer.lower()
    if name == "sgd":
        return keras.optimizers.SGD(momentum=momentum, nesterov=nesterov, **kwargs)
    cls = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "nadam": keras.optimizers.Nadam,
        "rmsprop": keras.optimizers.RMSprop,
    }[name]
    return cls(**kwargs)


def check_task(task: str) -> str:
    """Return ``task`` if it is one of :data:`TASKS`, else raise listing them."""
    if task not in TASKS:
        raise UnknownNameError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    return task


def compile_model(
    model: keras.Model,
    optimizer: str | keras.optimizers.Optimizer = "adam",
    learning_rate: float = 1e-3,
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float | None = None,
    task: str = "classification",
    steps_per_execution: int | None = None,
    jit_compile: bool | None = None,
    label_smoothing: float = 0.0,
) -> keras.Model:
    """Compile ``model`` in place with the loss/metrics of ``task`` and return it.

    Args:
        model: a Keras model (classification models must output probabilities).
        optimizer: a name from :data:`OPTIMIZERS` or an optimizer instance (then
            ``learning_rate``/``momentum``/``weight_decay`` are ignored).
        task: "classification" (sparse categorical cross-entropy + accuracy) or
            "regression" (MSE loss + MSE/MAE metrics).
        steps_per_execution: batches per compiled call; None: the active backend's default
            (:func:`fmnist.backend.compile_defaults`, measured: 32 on tensorflow, 1 on jax
            and on torch, which allows no other value).
        jit_compile: compile the step with XLA (tensorflow, jax) or ``torch.compile``
            (torch); None: the backend's default (True on jax only).
        label_smoothing: classification only: train against labels smoothed by this amount
            in ``[0, 1)`` (:class:`~fmnist.model.losses.SmoothedSparseCategoricalCrossentropy`).

    The first call in a process also sets the training precision
    (:func:`fmnist.backend.ensure_precision`: bfloat16 on tensorflow when the CPU has
    bfloat16 instructions, float32 otherwise; ``FMNIST_PRECISION`` overrides it).
    """
    check_task(task)
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    label_smoothing = check_real(label_smoothing, "label_smoothing", 0.0, 1.0, high_open=True)
    if label_smoothing and task != "classification":
        raise ValueError(f"label_smoothing={label_smoothing} needs task='classification', got {task!r}")
    ensure_precision()
    defaults = compile_defaults()
    if steps_per_execution is None:
        steps_per_execution = defaults["steps_per_execution"]
    steps_per_execution = check_int(steps_per_execution, "steps_per_execution")
    if steps_per_execution > 1 and backend_name() == "torch":
        # Keras's own error says only "must be 1"; name the default that works.
        raise ValueError(
            f"steps_per_execution={steps_per_execution}: the torch backend runs one batch per "
            "call (steps_per_execution=1, or None for the backend default)"
        )
    jit_compile = defaults["jit_compile"] if jit_compile is None else check_bool(jit_compile, "jit_compile")
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        optimizer = make_optimizer(optimizer, learning_rate, momentum, nesterov, weight_decay)
    n_out = model.output_shape[-1]
    if task == "classification":
        if n_out < 2:
            raise ValueError(
                f"model {model.name!r} has {n_out} output unit(s): use task='regression' or a "
                "softmax output with one unit per class"
            )
        loss = (
            SmoothedSparseCategoricalCrossentropy(label_smoothing)
            if label_smoothing
            else keras.losses.SparseCategoricalCrossentropy(from_logits=False)
        )
        metrics = ["accuracy"]
    else:
        loss = keras.losses.MeanSquaredError()
        metrics = [
            keras.metrics.MeanSquaredError(name="mse"),
            keras.metrics.MeanAbsoluteError(name="mae"),
        ]
    # Explicit on every backend (Keras's "auto" means XLA on jax, none on CPU TensorFlow).
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=metrics,
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model


def infer_task(model: keras.Model) -> str:
    """Guess the task from the model's loss (if compiled) or output width."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, (keras.losses.MeanSquaredError, keras.losses.MeanAbsoluteError)):
        return "regression"
    if loss is not None and not isinstance(loss, str):
        return "classification"
    return "regression" if model.output_shape[-1] == 1 else "classification"


def check_input_shape(model: keras.Model, x: Any, what: str = "x") -> None:
    """Raise :class:`InputShapeError` if ``x`` (N, ...) does not fit ``model``'s input."""
    shape = getattr(x, "shape", None)
    if shape is None:
        shape = np.shape(x)
    expected = tuple(model.input_shape[1:])
    got = tuple(shape[1:])
    fits = len(got) == len(expected) and all(e is None or e == g for e, g in zip(expected, got))
    if fits:
        return
    hint = ""
    if len(expected) == 1 and len(got) > 1:
        hint = "; this is an MLP: flatten the images with fmnist.data.reshape_for(x, 'mlp')"
    elif len(expected) == 3 and len(got) != 3:
        hint = "; this is a CNN: reshape with fmnist.data.reshape_for(x, 'cnn')"
    raise InputShapeError(
        f"{what} has shape {tuple(shape)} but model {model.name!r} expects "
        f"(N, {', '.join(str(d) for d in expected)}){hint}"
    )
