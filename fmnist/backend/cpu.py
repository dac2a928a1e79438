"""What the CPU is and which instruction sets it has, read from ``/proc/cpuinfo``.

The course's machines change between sessions (an AMD EPYC with AVX2 only, a Zen 5 EPYC with
AVX512-BF16, an Intel Xeon with AMX): the training precision (:mod:`fmnist.backend.precision`)
is chosen from these flags, and every record names the CPU it was measured on.
"""

from __future__ import annotations

import contextlib
import functools
import platform
from pathlib import Path

__all__ = ["CPUINFO", "cpu_flags", "cpu_model"]

CPUINFO = Path("/proc/cpuinfo")


def _first_value(key: str, cpuinfo: Path) -> str | None:
    with contextlib.suppress(OSError):
        for line in Path(cpuinfo).read_text().splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key:
                return value.strip()
    return None


@functools.cache
def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    """The CPU's model name (``platform.processor()`` where ``/proc/cpuinfo`` has none)."""
    return _first_value("model name", cpuinfo) or platform.processor() or platform.machine()


@functools.cache
def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """The first core's instruction-set flags (``avx2``, ``avx512_bf16``, ``amx_bf16``, ...);
    empty where ``/proc/cpuinfo`` is missing (not Linux) or lists none."""
    return frozenset((_first_value("flags", cpuinfo) or "").split())
