"""The child process of ``fmnist benchmark --backends``: one Keras backend, every preset once.

Run by :func:`fmnist.course.benchmark.backends.run_child` as::

    KERAS_BACKEND=jax python -m fmnist.course.benchmark.backend_child SPEC.json OUT.json

``SPEC.json`` holds ``presets`` (in the order to run), ``samples``, ``epochs``, ``batch_size``,
``data``, ``seed``, ``regression`` and ``regression_epochs``; ``OUT.json`` receives the record
(:func:`measure_backend`, with the training ``precision`` the default path chose). The backend
is fixed by ``KERAS_BACKEND`` before this module's imports load Keras, which is why every
backend gets its own process. ``fmnist benchmark --against-torch`` runs it too, with one
preset per process (its ``fmnist`` method).

Compile settings: the default path (:func:`fmnist.model.compile_model`) is measured as it is,
except where it would not be a fair picture of the backend: Keras's torch backend refuses
``steps_per_execution > 1`` (then 1 is used) and ``jit_compile=False`` leaves JAX un-jitted
(then ``jit_compile=True``). Once ``compile_model`` picks these per backend itself, no
override happens; the record lists the settings used and which were overridden.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from importlib import metadata
from typing import Any

from fmnist.atomic import atomic_write_text
from fmnist.backend import backend_name, training_precision
from fmnist.course.benchmark.keras_runs import benchmark_data, fresh_session, run_keras_default
from fmnist.course.benchmark.measure import EpochTimer, lscpu_model_name
from fmnist.course.benchmark.regression import PRESET as REGRESSION_PRESET
from fmnist.data import load_regression
from fmnist.model import build_model, compile_model, preset_layout
from fmnist.training import set_seed, train

#: Distributions whose versions are recorded (first one installed wins per name).
VERSION_PACKAGES = {"keras": ("keras",), "tensorflow": ("tensorflow", "tensorflow-cpu"),
                    "jax": ("jax",), "jaxlib": ("jaxlib",), "torch": ("torch",)}  # fmt: skip


def versions() -> dict[str, str | None]:
    """Installed versions of Keras and the backends (from package metadata: no imports)."""
    found: dict[str, str | None] = {}
    for name, dists in VERSION_PACKAGES.items():
        found[name] = None
        for dist in dists:
            try:
                found[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return found


def compile_overrides(backend: str) -> dict[str, Any]:
    """The ``steps_per_execution`` / ``jit_compile`` this backend needs beyond what
    ``compile_model`` picks by default (empty when its defaults already suit the backend)."""
    probe = compile_model(build_model(REGRESSION_PRESET), task="regression")
    overrides: dict[str, Any] = {}
    if backend == "torch" and int(probe.steps_per_execution) > 1:
        overrides["steps_per_execution"] = 1  # Keras's torch backend refuses more
    if backend == "jax" and not probe.jit_compile:
        overrides["jit_compile"] = True  # un-jitted JAX runs op by op
    fresh_session()
    return overrides


def time_regression(epochs: int, seed: int, overrides: dict[str, Any]) -> dict[str, Any]:
    """The regression net's time per epoch on its 100 points: one full-batch step per epoch
    (``train(batch_size=100)``), ``epochs`` timed epochs after one warm-up epoch."""
    (x, y), _ = load_regression()
    fresh_session()
    set_seed(seed)
    spe = overrides.get("steps_per_execution")
    model = compile_model(build_model(REGRESSION_PRESET), task="regression",
                          **({} if spe is None else {"steps_per_execution": spe}))  # fmt: skip
    if "jit_compile" in overrides:
        model.jit_compile = overrides["jit_compile"]
    timer = EpochTimer.create()
    train(model, (x, y), epochs=epochs + 1, batch_size=len(x), seed=seed, verbose=0, callbacks=[timer])
    timed = [1000.0 * t for t in timer.times[1:]]
    return {
        "preset": REGRESSION_PRESET, "points": len(x), "batch_size": len(x), "steps_per_epoch": 1,
        "epochs_timed": len(timed), "first_epoch_ms": 1000.0 * timer.times[0],
        "epoch_ms": statistics.median(timed), "epoch_ms_mean": statistics.fmean(timed),
        "epoch_times_ms": timed, "steps_per_execution": int(model.steps_per_execution),
        "jit_compile": bool(model.jit_compile),
    }  # fmt: skip


def measure_backend(spec: dict[str, Any]) -> dict[str, Any]:
    """Train every preset of ``spec`` once on the default path, then time the regression net."""
    started = time.perf_counter()
    backend = backend_name()
    overrides = compile_overrides(backend)
    data, source = benchmark_data(spec["presets"], spec["samples"], spec["data"], spec["seed"])
    training = []
    for preset in spec["presets"]:
        x, y = data[preset_layout(preset)]
        rec, _ = run_keras_default(
            preset, x, y, spec["epochs"], spec["seed"], batch_size=spec["batch_size"],
            steps_per_execution=overrides.get("steps_per_execution"),
            jit_compile=overrides.get("jit_compile"),
        )  # fmt: skip
        training.append(rec)
    regression = time_regression(spec["regression_epochs"], spec["seed"], overrides) if spec["regression"] else None
    return {
        "backend": backend, "pid": os.getpid(), "versions": versions(), "cpu_model": lscpu_model_name(),
        "compile_overrides": overrides, "precision": training_precision(), "data_source": source,
        "training": training, "regression": regression, "wall_s": time.perf_counter() - started,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    spec_path, out_path = sys.argv[1:] if argv is None else argv
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    atomic_write_text(out_path, json.dumps(measure_backend(spec), allow_nan=True))


if __name__ == "__main__":
    main()
