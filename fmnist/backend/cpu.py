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

__all__ = ["CPUINFO", "cpu_flags", "cpu_model", "cpu_summary", "vector_extensions"]

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


def vector_extensions(flags: frozenset[str] | None = None) -> str:
    """The widest vector instructions in ``flags`` (default: this CPU's): ``"AMX"``,
    ``"AVX-512 BF16"``, ``"AVX-512"``, ``"AVX2"`` or ``"no AVX2"`` (``"unknown"`` without flags)."""
    flags = cpu_flags() if flags is None else flags
    if not flags:
        return "unknown"
    for name, present in (("AMX", "amx_bf16" in flags), ("AVX-512 BF16", "avx512_bf16" in flags),
                          ("AVX-512", "avx512f" in flags), ("AVX2", "avx2" in flags)):  # fmt: skip
        if present:
            return name
    return "no AVX2"


@functools.cache
def cpu_summary(cpuinfo: Path = CPUINFO) -> str:
    """``"AMD EPYC (family 25 model 1, AVX2)"``: the model name alone does not tell the machines
    apart (two EPYC generations here both say "AMD EPYC"), so records carry these too."""
    family, model = _first_value("cpu family", cpuinfo), _first_value("model", cpuinfo)
    details = [f"family {family} model {model}"] if family and model else []
    details.append(vector_extensions(cpu_flags(cpuinfo)))
    return f"{cpu_model(cpuinfo)} ({', '.join(details)})"
