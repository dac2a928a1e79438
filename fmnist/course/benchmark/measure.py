"""Measurement helpers: the Keras epoch timer, TensorFlow's settings and the machine record.

The framework-free helpers (robust summaries, epoch timing fields, memory, load average) are
in :mod:`fmnist.course.benchmark.timing`, importable without TensorFlow; they are re-exported
here, where the rest of the benchmark imports them from.

Example::

    >>> from fmnist.course.benchmark.measure import machine_info
    >>> machine_info()["summary"]          # doctest: +SKIP
    'AMD EPYC (family 25 model 1, AVX2), 2 cores, Python 3.11.7'
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
from typing import Any

import numpy as np

from fmnist.backend import PRECISION_ENV, choose_precision, cpu_flags, cpu_model
from fmnist.course.benchmark.timing import (  # noqa: F401 - re-exported (see the docstring)
    current_rss_mb, epoch_cpu_per_wall, epoch_fields, load_average, peak_rss_mb, steady_throughput, summarize,
    utc_now,
)  # fmt: skip
from fmnist.course.report import machine_summary


class EpochTimer:
    """Keras callback factory: per-epoch wall and process-CPU times of a ``fit`` call.

    CPU seconds (all threads of this process) per epoch show whether a run got the cores it
    asked for: CPU/wall near the core count means it did, far below means it waited (on other
    processes, or on a serial part of the pipeline). Built lazily: no Keras import here.
    """

    @staticmethod
    def create():
        import keras

        class _Timer(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.times: list[float] = []
                self.cpu_times: list[float] = []
                self._start = self._cpu = 0.0

            def on_epoch_begin(self, epoch, logs=None):
                self._start, self._cpu = time.perf_counter(), time.process_time()

            def on_epoch_end(self, epoch, logs=None):
                self.times.append(time.perf_counter() - self._start)
                self.cpu_times.append(time.process_time() - self._cpu)

        return _Timer()


_ENV_KEYS = (
    "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
    "OMP_WAIT_POLICY",
)  # fmt: skip


def onednn_enabled() -> bool | None:
    """Whether TensorFlow's oneDNN (fused CPU kernels) is on; TF decides per CPU vendor."""
    with contextlib.suppress(Exception):  # private module: any failure means "unknown"
        from tensorflow.python.util import _pywrap_util_port

        return bool(_pywrap_util_port.IsMklEnabled())
    return None


def _version(module: str) -> str | None:
    if module not in sys.modules:
        return None
    return getattr(sys.modules[module], "__version__", None)


def machine_info() -> dict[str, Any]:
    """CPU, cores, thread settings, library versions and load, for the JSON header."""
    import keras
    import tensorflow as tf

    flags = sorted(f for f in cpu_flags() if f.startswith(("avx", "amx", "fma", "sse4")))
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return {
        "summary": machine_summary(),
        "cpu_model": cpu_model(),
        "cpu_flags": flags,
        "precision": choose_precision(os.environ.get(PRECISION_ENV, "auto")),
        "logical_cores": os.cpu_count(),
        "usable_cores": affinity,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "torch": _version("torch"),
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "onednn_enabled": onednn_enabled(),
        "env": {k: os.environ.get(k) for k in _ENV_KEYS},
    }


def lscpu_model_name() -> str | None:
    """``lscpu``'s "Model name" (e.g. "AMD EPYC"; None where lscpu is missing or silent)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10,
                             env={**os.environ, "LC_ALL": "C"}).stdout  # fmt: skip
        for line in out.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() == "Model name":
                return value.strip()
    return None
