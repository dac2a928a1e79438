"""Keras 3's fixed per-step / per-epoch cost on the 100-point regression problem.

With 100 training points the regression nets do almost no arithmetic, so an epoch's wall
time is Keras overhead (keras-team/keras#18648): the Python step loop, callbacks, iterator
and logs. Each configuration trains a fresh ``regression_2layer`` net; the epoch time is the
wall time of a ``fit``/``train`` call of ``epochs`` epochs divided by ``epochs`` (after a
1-epoch warm-up call that traces the graph), i.e. what a long run pays per epoch.

Configurations (``CONFIGS``):

* ``fit_numpy_bs32``: naive ``model.fit(x, y, batch_size=32)``, 1 step per call (4 steps).
* ``fit_numpy_full_batch``: ``batch_size=100``: one step per epoch.
* ``train_default``: :func:`fmnist.training.train` defaults (batch 128 > 100 points, so one
  full-batch step; ``steps_per_execution`` from ``compile_model``).
* ``train_bs32``: ``train(batch_size=32)``: 4 steps in one graph call thanks to
  ``steps_per_execution``.
* ``fit_dataset_repeat10``: ``fit`` on ``make_dataset(x, y).repeat(10)`` with the
  ``compile_model`` defaults: ten passes (full-batch steps) per Keras epoch, so the
  per-epoch overhead is paid once per ten passes; ``epoch_ms`` is per pass.
* ``graph_loop_full_batch``: all epochs as full-batch steps inside one ``tf.function`` (a
  ``tf.range`` loop): the cost of the arithmetic alone, a lower bound.

Example::

    >>> from fmnist.course.benchmark.regression import run_regression_config
    >>> rec = run_regression_config("train_default", epochs=5)
    >>> rec["epoch_ms"] > 0
    True
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from fmnist.course.benchmark.keras_runs import default_batch_size, fresh_session
from fmnist.data import generate_regression, load_regression, make_dataset
from fmnist.model import build_model, compile_model
from fmnist.training import set_seed, train

PRESET = "regression_2layer"
REPEAT = 10  # passes per Keras epoch in ``fit_dataset_repeat10``
CONFIGS: dict[str, str] = {
    "fit_numpy_bs32": "model.fit(numpy, batch_size=32), steps_per_execution=1",
    "fit_numpy_full_batch": "model.fit(numpy, batch_size=100), steps_per_execution=1",
    "train_default": "fmnist.training.train defaults (full batch, compile_model steps_per_execution)",
    "train_bs32": "fmnist.training.train(batch_size=32), compile_model steps_per_execution",
    "fit_dataset_repeat10": "fit(make_dataset(x, y).repeat(10)): 10 passes per Keras epoch, ms per pass",
    "graph_loop_full_batch": "all epochs as full-batch steps in one tf.function (lower bound)",
}


def regression_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """The project's 100 training points (``load_regression``), else freshly generated ones."""
    try:
        (x, y), _ = load_regression()
        return x, y, "fmnist.data.load_regression"
    except (OSError, ValueError):  # CSVs missing: same generator, same seed
        train_df, _ = generate_regression()
        x = train_df["input"].to_numpy(np.float32).reshape(-1, 1)
        y = train_df["label"].to_numpy(np.float32).reshape(-1, 1)
        return x, y, "fmnist.data.generate_regression"


def _naive_model(seed: int):
    import keras

    set_seed(seed)
    model = build_model(PRESET)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def _project_model(seed: int):
    set_seed(seed)
    return compile_model(build_model(PRESET), task="regression")


def _graph_loop(model, x, y):
    import keras
    import tensorflow as tf

    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.MeanSquaredError()
    xt, yt = tf.constant(x), tf.constant(y)

    @tf.function
    def loop(steps):
        loss = tf.constant(0.0)
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                loss = loss_fn(yt, model(xt, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return loop


def run_regression_config(name: str, epochs: int = 50, seed: int = 0) -> dict[str, Any]:
    """Time ``epochs`` epochs of configuration ``name`` (see :data:`CONFIGS`)."""
    import tensorflow as tf  # the tf.function lower bound is TensorFlow-only

    if name not in CONFIGS:
        raise ValueError(f"unknown regression configuration {name!r}; valid: {', '.join(CONFIGS)}")
    fresh_session()
    x, y, _ = regression_data(seed)
    n = len(x)
    if name == "graph_loop_full_batch":
        loop = _graph_loop(_naive_model(seed), x, y)
        loop(tf.constant(1)).numpy()  # trace
        start = time.perf_counter()
        loop(tf.constant(epochs)).numpy()
        wall, steps = time.perf_counter() - start, 1
    elif name == "fit_dataset_repeat10":
        model = _project_model(seed)
        ds = make_dataset(x, y, batch_size=n, shuffle=True, seed=seed).repeat(REPEAT)
        # shuffle=False: the dataset reshuffles itself (Keras would warn otherwise).
        model.fit(ds, epochs=1, verbose=0, shuffle=False)  # trace
        keras_epochs = -(-epochs // REPEAT)
        start = time.perf_counter()
        model.fit(ds, epochs=keras_epochs, verbose=0, shuffle=False)
        wall, steps = time.perf_counter() - start, 1
        epochs = keras_epochs * REPEAT  # passes actually timed
    elif name.startswith("fit_numpy"):
        batch = 32 if name.endswith("bs32") else n
        model = _naive_model(seed)
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # trace
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
        wall, steps = time.perf_counter() - start, -(-n // batch)
    else:
        batch = 32 if name.endswith("bs32") else None
        kwargs = {} if batch is None else {"batch_size": batch}
        model = _project_model(seed)
        train(model, (x, y), epochs=1, seed=seed, **kwargs)  # trace
        start = time.perf_counter()
        train(model, (x, y), epochs=epochs, seed=seed, **kwargs)
        wall = time.perf_counter() - start
        steps = -(-n // (batch or default_batch_size()))
    return {
        "config": name,
        "description": CONFIGS[name],
        "points": n,
        "epochs": epochs,
        "steps_per_epoch": steps,
        "wall_s": wall,
        "epoch_ms": 1000.0 * wall / epochs,
    }
