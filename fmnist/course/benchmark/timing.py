"""Timing and memory helpers that import neither Keras nor a framework (NumPy only).

The PyTorch children of ``fmnist benchmark --against-torch``
(:mod:`fmnist.course.benchmark.throughput_child`) record their runs with these, and must not
import TensorFlow, which :mod:`fmnist.course.benchmark.measure` (the machine record) does;
``measure`` re-exports them for the rest of the benchmark.

Example::

    >>> from fmnist.course.benchmark.timing import summarize, steady_throughput
    >>> summarize([10.0, 12.0, 11.0])["median"]
    11.0
    >>> steady_throughput(n_images=1000, epoch_times=[3.0, 1.0, 1.0])   # first epoch dropped
    1000.0
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import resource
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


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


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
