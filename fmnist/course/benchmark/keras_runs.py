"""One timed Keras training run per call: the project's default path, the naive baseline,
and inference; plus the benchmark's input data.

* ``keras_default``: :func:`fmnist.training.train` on a model compiled by
  :func:`fmnist.model.compile_model` — exactly what users and notebooks get (tf.data cache +
  shuffle + prefetch, ``steps_per_execution``, the default batch size of ``train``).
* ``keras_naive``: ``model.compile("adam", sparse CE, ["accuracy"])`` with Keras defaults and
  ``model.fit(x_numpy, y_numpy, batch_size=32)`` — what a first tutorial does — in the
  benchmark's process, so with the TensorFlow settings ``import fmnist`` made (oneDNN on).
* ``keras_naive[tf_defaults]``: the same naive run in a fresh Python process that imports
  TensorFlow before ``fmnist``, so TensorFlow keeps its own defaults (oneDNN only on Intel
  CPUs): what a first tutorial gets on this machine.

Example::

    >>> from fmnist.course.benchmark.keras_runs import benchmark_data, run_keras_default
    >>> data, source = benchmark_data(["cnn_medium"], samples=256, data="synthetic")
    >>> rec, model = run_keras_default("cnn_medium", *data["cnn"], epochs=2)
    >>> rec["images_per_sec"] > 0
    True
"""

from __future__ import annotations

import gc
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from typing import Any

import keras
import numpy as np

from fmnist.atomic import atomic_write_text
from fmnist.course.benchmark.child_process import child_env
from fmnist.course.benchmark.measure import EpochTimer, current_rss_mb, epoch_fields, onednn_enabled, peak_rss_mb
from fmnist.data import DatasetError, load_splits, reshape_for, subset
from fmnist.model import PRESETS, build_model, compile_model, get_preset, preset_layout
from fmnist.training import set_seed, train

N_CLASSES = 10
NAIVE_TF_DEFAULTS = "keras_naive[tf_defaults]"
#: The child of :func:`run_keras_naive_tf_defaults`: TensorFlow first (it reads
#: TF_ENABLE_ONEDNN_OPTS once, at import), then fmnist, whose import sets the variable too late.
_CHILD_CODE = (
    "import tensorflow\n"
    "from fmnist.course.benchmark.keras_runs import naive_child_main\n"
    "naive_child_main()\n"
)


def default_batch_size() -> int:
    """``fmnist.training.train``'s default batch size (read, not copied, so it stays in sync)."""
    return int(inspect.signature(train).parameters["batch_size"].default)


def default_steps_per_execution() -> int:
    """The ``steps_per_execution`` :func:`fmnist.model.compile_model` gives a model on the
    active backend by default (probed on a tiny net: the default may depend on the backend)."""
    return int(compile_model(build_model("regression_2layer"), task="regression").steps_per_execution)


def resolve_presets(presets: Iterable[str] | None) -> tuple[str, ...]:
    """The presets to train (None: every classification preset), checked against the
    registry: unknown names and regression nets raise ``ValueError``; de-duplicated, order kept."""
    if presets is None:
        return tuple(name for name, p in PRESETS.items() if p.task == "classification")
    for name in presets:
        if get_preset(name).task != "classification":  # get_preset raises for unknown names
            raise ValueError(
                f"preset {name!r} is a regression net: it is measured in the regression "
                "section; pass classification presets, e.g. "
                + ", ".join(n for n, p in PRESETS.items() if p.task == "classification")
            )
    return tuple(dict.fromkeys(presets))


def benchmark_data(presets: Iterable[str], samples: int, data: str = "auto", seed: int = 0):
    """Training arrays for every layout the presets need: ``({layout: (x, y)}, source)``.

    ``data="auto"`` uses the real Fashion-MNIST training split (a stratified subset of
    ``samples`` images) when it is installed, else synthetic uniform images with random labels
    (throughput does not depend on the pixel values). ``"real"`` raises if the data is absent.
    """
    layouts = sorted({preset_layout(p) for p in presets})
    x = y = None
    source = "synthetic"
    if data in ("auto", "real"):
        try:
            splits = load_splits("fashion_mnist", layout="cnn", seed=seed)
        except (DatasetError, OSError, ValueError) as exc:  # missing or failed verification
            if data == "real":
                raise FileNotFoundError(
                    f"data='real' but the real Fashion-MNIST could not be loaded ({exc}); "
                    "install it (apt-get install dataset-fashion-mnist / fmnist data fetch) or "
                    "use data='synthetic'"
                ) from exc
        else:
            if samples > len(splits.y_train):
                raise ValueError(f"samples={samples} exceeds the {len(splits.y_train)} training images")
            x, y = splits.x_train, splits.y_train
            if samples < len(y):
                x, y = subset(x, y, samples, seed=seed)
            source = "fashion_mnist"
    if x is None:
        rng = np.random.default_rng(seed)
        x = rng.random((samples, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, N_CLASSES, size=samples).astype(np.int32)
    return {layout: (np.ascontiguousarray(reshape_for(x, layout)), y) for layout in layouts}, source


def _record(
    preset: str, method: str, model, n: int, times: list[float], cpu_times: list[float], **extra: Any
) -> dict[str, Any]:
    return {
        "preset": preset,
        "method": method,
        "params": int(model.count_params()),
        **epoch_fields(n, times, cpu_times),
        **extra,
        "rss_mb": current_rss_mb(),
        "rss_peak_mb": peak_rss_mb(),
    }


def fresh_session() -> None:
    """Drop the previous run's graphs and models so runs do not slow each other down."""
    keras.backend.clear_session()
    gc.collect()


def run_keras_default(
    preset: str,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    seed: int = 0,
    batch_size: int | None = None,
    steps_per_execution: int | None = None,
    method: str = "keras_default",
    fused_batch_norm: int | None = None,
    jit_compile: bool | None = None,
):
    """Train ``preset`` with :func:`fmnist.training.train`; return ``(record, model)``.

    ``batch_size`` / ``steps_per_execution`` / ``fused_batch_norm`` / ``jit_compile`` of None
    keep the project's defaults (``compile_model``'s); ``fused_batch_norm`` applies to CNN
    presets only (MLPs have no conv batch norm). The record holds the ``steps_per_execution``
    and ``jit_compile`` the compiled model actually has.
    """
    fresh_session()
    set_seed(seed)
    overrides = {}
    if fused_batch_norm is not None and preset_layout(preset) == "cnn":
        overrides["fused_batch_norm"] = bool(fused_batch_norm)
    model = build_model(preset, **overrides)
    compile_kwargs = {} if steps_per_execution is None else {"steps_per_execution": steps_per_execution}
    compile_model(model, task="classification", **compile_kwargs)
    if jit_compile is not None:
        model.jit_compile = jit_compile
    bs = default_batch_size() if batch_size is None else batch_size
    timer = EpochTimer.create()
    result = train(model, (x, y), epochs=epochs, batch_size=bs, seed=seed, verbose=0, callbacks=[timer])
    times = [float(t) for t in result.history["epoch_time"]]
    spe = int(model.steps_per_execution)
    rec = _record(
        preset, method, model, len(x), times, timer.cpu_times, batch_size=bs, steps_per_execution=spe,
        input="tf.data (fmnist.data.make_dataset)", jit_compile=bool(model.jit_compile),
        final_loss=float(result.history["loss"].iloc[-1]),
    )  # fmt: skip
    return rec, model


def run_keras_naive(preset: str, x: np.ndarray, y: np.ndarray, epochs: int, seed: int = 0, batch_size: int = 32):
    """Train ``preset`` the naive way: Keras compile defaults, ``fit`` on NumPy arrays."""
    fresh_session()
    set_seed(seed)
    model = build_model(preset)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    timer = EpochTimer.create()
    hist = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[timer], shuffle=True)
    rec = _record(
        preset, "keras_naive", model, len(x), timer.times, timer.cpu_times, batch_size=batch_size,
        steps_per_execution=1, input="numpy arrays", jit_compile=bool(model.jit_compile),
        final_loss=float(hist.history["loss"][-1]),
    )  # fmt: skip
    return rec, model


def run_keras_naive_tf_defaults(
    preset: str, x: np.ndarray, y: np.ndarray, epochs: int, seed: int = 0, batch_size: int = 32
) -> dict[str, Any]:
    """:func:`run_keras_naive` in a fresh Python process with TensorFlow's own defaults.

    ``import fmnist`` turns TensorFlow's oneDNN kernels on (``fmnist/__init__.py``), and
    TensorFlow reads that setting once per process, so the in-process naive baseline already
    runs with it. Here a child process, without ``TF_ENABLE_ONEDNN_OPTS`` in its environment,
    imports TensorFlow before ``fmnist`` (every other variable, e.g. thread settings, is
    inherited). The arrays go through a temporary ``.npz``, the record (``onednn_enabled`` of
    the child included) comes back as JSON; the temporary directory is always removed.

    Raises:
        RuntimeError: the child failed (its exit status and the end of its stderr).
    """
    env = child_env({k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"})
    with tempfile.TemporaryDirectory(prefix="fmnist-naive-") as tmp:
        data, out = os.path.join(tmp, "data.npz"), os.path.join(tmp, "record.json")
        np.savez(data, x=x, y=y)
        args = [data, out, preset, str(epochs), str(seed), str(batch_size)]
        proc = subprocess.run([sys.executable, "-c", _CHILD_CODE, *args], cwd=tmp, env=env,
                              capture_output=True, text=True)  # fmt: skip
        if proc.returncode != 0 or not os.path.exists(out):
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise RuntimeError(
                f"{NAIVE_TF_DEFAULTS} run of {preset} failed in its child process "
                f"(exit status {proc.returncode}): {tail or 'no output'}"
            )
        with open(out, encoding="utf-8") as fh:
            return json.load(fh)


def naive_child_main(argv: list[str] | None = None) -> None:
    """Entry point of the child of :func:`run_keras_naive_tf_defaults` (after TensorFlow's import).

    ``argv``: data .npz, output .json, preset, epochs, seed, batch size.
    """
    data, out, preset, epochs, seed, batch_size = sys.argv[1:] if argv is None else argv
    with np.load(data) as arrays:
        x, y = arrays["x"], arrays["y"]
    rec, _ = run_keras_naive(preset, x, y, int(epochs), int(seed), int(batch_size))
    rec.update(method=NAIVE_TF_DEFAULTS, input="numpy arrays, fresh process with TensorFlow's defaults",
               onednn_enabled=onednn_enabled())  # fmt: skip
    atomic_write_text(out, json.dumps(rec))


def measure_inference(model, x: np.ndarray, batch_size: int, repeats: int = 2) -> dict[str, Any]:
    """``model.predict`` throughput: first call (tracing) and the best of ``repeats`` later calls."""
    start = time.perf_counter()
    model.predict(x, batch_size=batch_size, verbose=0)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(x, batch_size=batch_size, verbose=0)
        times.append(time.perf_counter() - start)
    best = min(times)
    return {
        "batch_size": batch_size,
        "samples": len(x),
        "first_call_s": first,
        "images_per_sec": len(x) / best if best > 0 else float("nan"),
    }
