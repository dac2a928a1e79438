"""What one benchmark run measures: :class:`BenchmarkConfig` and its validation.

Example::

    >>> from fmnist.course.benchmark.config import BenchmarkConfig
    >>> cfg = BenchmarkConfig.make_tiny(out="/tmp/bench.json")
    >>> cfg.epochs, cfg.repeats, cfg.data
    (2, 1, 'synthetic')
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

from fmnist.checks import check_int
from fmnist.course.commands import BACKENDS

DATA_SOURCES = ("auto", "real", "synthetic")
#: Presets with a PyTorch reference loop (the issue names these two).
TORCH_PRESETS = ("cnn_medium", "mlp_medium")
#: Keys a ``--variant`` may set (forwarded to ``compile_model`` / ``train``; ``fused_batch_norm``
#: 0/1 to ``build_cnn``, so ``fused=0`` measures Keras's own batch norm against the default).
VARIANT_KEYS = ("batch_size", "steps_per_execution", "fused_batch_norm")
_VARIANT_SHORT = {"batch_size": "bs", "steps_per_execution": "spe", "fused_batch_norm": "fused"}
MIN_SAMPLES = 32
#: Presets of ``--backends`` unless ``--presets`` says otherwise.
BACKEND_PRESETS = ("cnn_medium", "cnn_best")
#: Presets of ``--against-torch`` (issue H names these two), and of ``--against-torch --tiny``:
#: every run there is a fresh process, whose imports take seconds (TensorFlow, PyTorch).
AGAINST_TORCH_PRESETS = ("cnn_medium", "cnn_best")
AGAINST_TORCH_TINY_PRESETS = ("cnn_medium",)


def torch_method(threads: int | None) -> str:
    """Method name of a PyTorch run: ``torch`` (PyTorch's thread default) or ``torch[threads=n]``."""
    return "torch" if threads is None else f"torch[threads={threads}]"


@dataclasses.dataclass(frozen=True)
class Variant:
    """An extra run of the default path with other ``batch_size`` / ``steps_per_execution`` /
    ``fused_batch_norm`` (1: the default fused conv batch norm, 0: ``keras.layers.BatchNormalization``)."""

    batch_size: int | None = None
    steps_per_execution: int | None = None
    fused_batch_norm: int | None = None

    @property
    def name(self) -> str:
        parts = [f"{_VARIANT_SHORT[key]}={getattr(self, key)}" for key in VARIANT_KEYS
                 if getattr(self, key) is not None]  # fmt: skip
        return "keras_default[" + ",".join(parts) + "]"

    @classmethod
    def parse(cls, text: str) -> "Variant":
        """Parse ``"batch_size=256,steps_per_execution=8"`` (short keys ``bs``/``spe``/``fused`` too)."""
        aliases = {short: key for key, short in _VARIANT_SHORT.items()}
        values: dict[str, int] = {}
        for item in filter(None, (p.strip() for p in str(text).split(","))):
            match = re.fullmatch(r"([a-z_]+)\s*=\s*(\d+)", item)
            key = aliases.get(match.group(1), match.group(1)) if match else None
            if key not in VARIANT_KEYS:
                raise ValueError(
                    f"bad variant item {item!r} in {text!r}; expected KEY=INT with KEY one of "
                    f"{', '.join(VARIANT_KEYS)} (or bs, spe, fused), e.g. 'batch_size=256,spe=8'"
                )
            values[key] = int(match.group(2))
        if not values:
            raise ValueError(f"empty variant {text!r}; e.g. 'batch_size=256,steps_per_execution=8'")
        variant = cls(**values)
        variant.validate()
        return variant

    def validate(self) -> None:
        """Check every key is None or an int >= 1 (``fused_batch_norm``: 0 or 1) and at least one
        is set; NumPy integers are stored as Python ints."""
        if all(getattr(self, key) is None for key in VARIANT_KEYS):
            # it would run the default path again, as a method named 'keras_default[]'
            raise ValueError(f"a variant must set at least one of {', '.join(VARIANT_KEYS)}, got {self!r}")
        for key in VARIANT_KEYS:
            minimum = 0 if key == "fused_batch_norm" else 1
            value = check_int(getattr(self, key), f"variant {key}", minimum, allow_none=True)
            if key == "fused_batch_norm" and value not in (None, 0, 1):
                raise ValueError(f"variant fused_batch_norm must be 0 or 1, got {value!r}")
            object.__setattr__(self, key, value)


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig:
    """Settings of one benchmark run (see :mod:`fmnist.course.benchmark` for what is measured).

    Attributes:
        presets: classification presets to train; ``None`` means every registered one.
        samples: training images per run (a stratified subset of the real training split).
        epochs: epochs per training run (>= 2: the first epoch, with graph tracing and cache
            filling, is reported separately; throughput is the steady state after it).
        repeats: interleaved repetitions (median and spread are reported over them).
        naive_batch_size: batch size of the naive ``model.fit(numpy arrays)`` baseline.
        naive_tf_defaults: also run the naive baseline in a fresh process with TensorFlow's own
            defaults (``import fmnist`` turns oneDNN on; a first tutorial does not).
        variants: extra default-path runs with other batch size / steps per execution.
        torch: run the PyTorch reference when ``torch`` is importable.
        torch_presets: presets that get a PyTorch reference (if they are benchmarked).
        torch_threads: thread counts of the reference, one PyTorch run each (None:
            PyTorch's default, one per core, method ``torch``; n: method
            ``torch[threads=n]``). OpenMP threads suffer badly when other processes compete
            for the cores, so a 1-thread run shows how much of a gap is contention.
        inference_batch_size: batch size of the ``model.predict`` throughput measurement.
        regression: measure the regression net's per-epoch overhead on 100 points.
        regression_epochs: timed epochs per regression configuration (after one warm-up).
        gemm_size: n of the n x n float32 matmul used to measure the GEMM peak.
        data: "auto" (real Fashion-MNIST if found, else synthetic), "real" or "synthetic".
        seed: seeds model initialization and shuffling (the same for every method).
        out: JSON output path (None: ``benchmarks/results/benchmark-<time>.json``).
        tiny: a seconds-long smoke run (tests); recorded in the JSON.
        backends: Keras backends to compare side by side (None: the single-process benchmark
            above). Each repeat runs every backend in its own subprocess
            (:mod:`fmnist.course.benchmark.backends`), which trains the presets on the default
            path and times the regression net; of the settings above only ``presets``,
            ``samples``, ``epochs``, ``repeats``, ``data``, ``regression``,
            ``regression_epochs``, ``seed`` and ``out`` apply.
        against_torch: measure the default path's throughput against the fastest PyTorch loop
            (:mod:`fmnist.course.benchmark.throughput`): every run in its own process; of the
            settings above ``presets``, ``samples``, ``epochs``, ``repeats``, ``data``,
            ``gemm_size``, ``seed`` and ``out`` apply.
    """

    presets: tuple[str, ...] | None = None
    samples: int = 8192
    epochs: int = 3
    repeats: int = 3
    naive_batch_size: int = 32
    naive_tf_defaults: bool = True
    variants: tuple[Variant, ...] = ()
    torch: bool = True
    torch_presets: tuple[str, ...] = TORCH_PRESETS
    torch_threads: tuple[int | None, ...] = (None,)
    inference_batch_size: int = 1024
    regression: bool = True
    regression_epochs: int = 50
    gemm_size: int = 2048
    data: str = "auto"
    seed: int = 0
    out: str | Path | None = None
    tiny: bool = False
    backends: tuple[str, ...] | None = None
    against_torch: bool = False

    @classmethod
    def tiny_defaults(cls, against_torch: bool = False) -> dict[str, Any]:
        """Settings of ``--tiny``: a few seconds of work per measurement, synthetic data."""
        return {
            "presets": AGAINST_TORCH_TINY_PRESETS if against_torch else ("mlp_medium", "cnn_medium"),
            "samples": 256,
            "epochs": 2,
            "repeats": 1,
            "inference_batch_size": 256,
            "regression_epochs": 3,
            "gemm_size": 256,
            "data": "synthetic",
            "naive_tf_defaults": False,  # a child process importing TensorFlow: not seconds
            "tiny": True,
        }

    @classmethod
    def make_tiny(cls, **overrides: Any) -> "BenchmarkConfig":
        """A tiny configuration (``--tiny``); ``overrides`` replace any of its settings."""
        return cls(**{**cls.tiny_defaults(bool(overrides.get("against_torch"))), **overrides})

    def __post_init__(self) -> None:
        ints = {
            "samples": MIN_SAMPLES, "epochs": 2, "repeats": 1, "naive_batch_size": 1,
            "inference_batch_size": 1, "regression_epochs": 1, "gemm_size": 16, "seed": 0,
        }  # fmt: skip
        for name, low in ints.items():
            why = " (the first epoch is excluded from the steady state)" if name == "epochs" else ""
            object.__setattr__(self, name, check_int(getattr(self, name), name, low, note=why))
        threads = self.torch_threads
        if threads is None or isinstance(threads, int):
            threads = (threads,)
        threads = tuple(dict.fromkeys(threads))
        for t in threads:
            if t is not None and (isinstance(t, bool) or not isinstance(t, int) or t < 1):
                raise ValueError(f"torch_threads must hold None or ints >= 1, got {self.torch_threads!r}")
        if not threads:
            raise ValueError("torch_threads must not be empty (use torch=False to skip PyTorch)")
        object.__setattr__(self, "torch_threads", threads)
        if self.data not in DATA_SOURCES:
            raise ValueError(f"data must be one of {', '.join(DATA_SOURCES)}, got {self.data!r}")
        if self.presets is not None:
            if isinstance(self.presets, str):
                raise TypeError("presets must be a sequence of preset names, not one string")
            object.__setattr__(self, "presets", tuple(self.presets))
            if not self.presets:
                raise ValueError("presets must not be empty (None means every classification preset)")
        object.__setattr__(self, "torch_presets", tuple(self.torch_presets))
        if isinstance(self.variants, (str, Variant)):
            raise TypeError(f"variants must be a sequence of Variant objects or strings, got {self.variants!r}")
        variants = tuple(Variant.parse(v) if isinstance(v, str) else v for v in self.variants)
        for v in variants:
            if not isinstance(v, Variant):
                raise TypeError(f"variants must be Variant objects or strings, got {v!r}")
            v.validate()
        names = [v.name for v in variants]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            # One method name would be measured twice per repeat: its statistics and paired
            # ratios would mix the two runs.
            raise ValueError(f"variants repeat {', '.join(repeated)} (e.g. 'bs=256' and 'batch_size=256' "
                             f"are one variant); give each once, got {list(self.variants)!r}")  # fmt: skip
        object.__setattr__(self, "variants", variants)
        if self.backends is not None:
            if isinstance(self.backends, str):
                raise TypeError("backends must be a sequence of backend names, not one string")
            backends = tuple(dict.fromkeys(self.backends))
            unknown = [b for b in backends if b not in BACKENDS]
            if unknown or not backends:
                raise ValueError(f"backends must be one or more of {', '.join(BACKENDS)}, got {self.backends!r}")
            object.__setattr__(self, "backends", backends)
        if self.out is not None and not isinstance(self.out, (str, os.PathLike)):
            raise TypeError(f"out must be a file path (str or Path) or None, got {self.out!r}")
        if self.against_torch:
            self._check_against_torch()

    def _check_against_torch(self) -> None:
        """Settings that contradict ``against_torch`` (each would be silently ignored)."""
        conflicts = {
            "backends (--backends)": self.backends is not None,
            "variants (--variant)": bool(self.variants),
            "torch=False (--no-torch)": not self.torch,
            "torch_threads (--torch-threads)": self.torch_threads != (None,),
        }  # fmt: skip
        given = [name for name, conflict in conflicts.items() if conflict]
        if given:
            raise ValueError(
                f"against_torch (--against-torch) cannot be combined with {', '.join(given)}: it "
                "compares the default path with PyTorch loops at PyTorch's default thread count, "
                "each run in its own process; run the other benchmark modes separately"
            )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        d = dataclasses.asdict(self)
        d["variants"] = [v.name for v in self.variants]
        d["out"] = None if self.out is None else str(self.out)
        d["presets"] = None if self.presets is None else list(self.presets)
        d["torch_presets"] = list(self.torch_presets)
        d["torch_threads"] = list(self.torch_threads)
        d["backends"] = None if self.backends is None else list(self.backends)
        return d
