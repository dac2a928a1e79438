"""Measurement helpers: robust summaries, epoch timing, memory, and the machine record.

Example::

    >>> from fmnist.course.benchmark.measure import summarize, steady_throughput
    >>> summarize([10.0, 12.0, 11.0])["median"]
    11.0
    >>> steady_throughput(n_images=1000, epoch_times=[3.0, 1.0, 1.0])   # first epoch dropped
    1000.0
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fmnist.backend import PRECISION_ENV, choose_precision, cpu_flags, cpu_model
from fmnist.course.report import machine_summary


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Median, min, max and spread (``(max - min) / median`` in percent) of repeated values.

    NaN values (failed runs) are dropped; an empty list gives ``None`` statistics.
    """
    clean = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not clean:
        return {"median": None, "min": None, "max": None, "spread_pct": None, "n": 0, "values": []}
    median = statistics.median(clean)
    spread = 100.0 * (max(clean) - min(clean)) / median if median else None
    return {
        "median": median,
        "min": min(clean),
        "max": max(clean),
        "spread_pct": spread,
        "n": len(clean),
        "values": clean,
    }


def steady_throughput(n_images: int, epoch_times: Sequence[float]) -> float:
    """Images per second over the epochs after the first (tracing and cache filling)."""
    steady = list(epoch_times[1:])
    if not steady or sum(steady) <= 0:
        return float("nan")
    return n_images * len(steady) / sum(steady)


def epoch_cpu_per_wall(epoch_times: Sequence[float], cpu_times: Sequence[float]) -> list[float]:
    """Process-CPU seconds per wall second of each epoch (NaN for a zero-length epoch).

    One value per epoch, not just the run's average: an epoch that left a core idle stands
    out (on this 2-core machine tf.data's autotuner did that to whole epochs).
    """
    return [float(c / t) if t > 0 else float("nan") for t, c in zip(epoch_times, cpu_times)]


def epoch_fields(n_images: int, epoch_times: Sequence[float], cpu_times: Sequence[float]) -> dict[str, Any]:
    """The timing fields of one training run's record (Keras or PyTorch alike): per-epoch
    wall and CPU/wall, first epoch, and the steady state (epochs 2..N) as images/s, median
    epoch, CPU/wall and CPU milliseconds per image."""
    times = [float(t) for t in epoch_times]
    steady, cpu_steady = times[1:], [float(c) for c in cpu_times[1:]]
    busy = bool(steady) and sum(steady) > 0
    return {
        "samples": n_images,
        "epochs": len(times),
        "epoch_times": times,
        "first_epoch_s": times[0],
        "steady_epoch_s": float(np.median(steady)) if steady else float("nan"),
        "images_per_sec": float(steady_throughput(n_images, times)),
        "cpu_per_wall": sum(cpu_steady) / sum(steady) if busy else float("nan"),
        "epoch_cpu_per_wall": epoch_cpu_per_wall(times, cpu_times),
        "cpu_ms_per_image": 1000.0 * sum(cpu_steady) / (n_images * len(steady)) if steady else float("nan"),
    }


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


def peak_rss_mb() -> float:
    """The process's peak resident set size so far (``getrusage`` high-water mark), in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def current_rss_mb() -> float | None:
    """The current resident set size in MB (Linux ``/proc``; None elsewhere)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024.0 * 1024.0)
    return None


def load_average() -> list[float] | None:
    """1/5/15-minute load averages (other processes competing for the CPUs)."""
    with contextlib.suppress(OSError, AttributeError):
        return [round(v, 2) for v in os.getloadavg()]
    return None


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


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
