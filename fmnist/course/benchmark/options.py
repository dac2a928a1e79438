"""The options of ``fmnist benchmark``: the parser and :class:`BenchmarkConfig` from it.

Cheap to import (argparse and :mod:`fmnist.course.benchmark.config` only, no Keras), so the
``fmnist`` parser can include it; the command itself is :func:`fmnist.course.benchmark.cli.run_from_args`.

Examples::

    fmnist benchmark --tiny                                  # seconds; synthetic data
    fmnist benchmark --presets cnn_medium mlp_medium cnn_small --samples 8192 --epochs 3 \\
        --repeats 3 --out benchmarks/results/cnn.json
    fmnist benchmark --presets cnn_medium --variant bs=256 --variant spe=1
    fmnist benchmark --backends tensorflow jax torch --presets cnn_medium cnn_best \\
        --samples 4096 --epochs 3 --repeats 3 --out benchmarks/records/backends.json
    fmnist benchmark --against-torch --tiny                  # under a minute; synthetic data
    fmnist benchmark --against-torch                         # cnn_medium, cnn_best; 3 repeats
"""

from __future__ import annotations

import argparse
from typing import Any

from fmnist.course.benchmark.config import AGAINST_TORCH_PRESETS, BACKEND_PRESETS, DATA_SOURCES, BenchmarkConfig
from fmnist.course.commands import BACKENDS

HANDLER = "fmnist.course.benchmark.cli:run_from_args"
DESCRIPTION = (
    "Measure training throughput of the presets (fmnist default path vs naive model.fit, plus "
    "a PyTorch reference when torch is installed), inference, peak memory, first-epoch "
    "tracing time, the regression net's per-epoch overhead and GFLOP/s vs a measured GEMM "
    "peak. With --backends: the default training path and the regression net on several Keras "
    "backends side by side, each in its own process. With --against-torch: the default path's "
    "training throughput against the fastest of four PyTorch loops (plain, channels-last, "
    "bfloat16 autocast where the CPU has bfloat16, both), every run in its own process, and the "
    "fraction of the matching GEMM peak. Writes JSON (atomically) and prints tables."
)


def _configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    d = BenchmarkConfig()
    add = parser.add_argument
    add("--tiny", action="store_true",
        help="seconds-long smoke run on synthetic data (2 presets, 256 images, 2 epochs, 1 repeat; "
             "with --against-torch cnn_medium only)")
    add("--backends", nargs="+", choices=BACKENDS, metavar="BACKEND",
        help="compare Keras backends (tensorflow jax torch) side by side, each in its own "
             "subprocess per repeat: training images/s of the presets (default "
             f"{' '.join(BACKEND_PRESETS)}) and the regression net's ms/epoch")
    add("--against-torch", action="store_true",
        help="the default training path's images/s against the fastest PyTorch loop (plain, "
             "channels_last, bfloat16 autocast and both where the CPU has bfloat16), each run in "
             f"its own process, presets {' '.join(AGAINST_TORCH_PRESETS)} unless --presets; with "
             "the achieved fraction of the float32/bfloat16 GEMM peak")
    add("--presets", nargs="+", metavar="NAME",
        help="classification presets ('all' or names, space/comma separated; default: all)")
    add("--samples", type=int, help=f"training images per run (default {d.samples})")
    add("--epochs", type=int, help=f"epochs per run, >= 2 (default {d.epochs})")
    add("--repeats", type=int, help=f"interleaved repetitions (default {d.repeats})")
    add("--out", help="JSON path (default benchmarks/results/benchmark-<time>.json)")
    add("--data", choices=DATA_SOURCES, help="real Fashion-MNIST, synthetic, or auto (default)")
    add("--variant", action="append", metavar="SPEC", default=[],
        help="extra default-path run, e.g. 'batch_size=256,steps_per_execution=8' (bs=, spe=) or "
             "'fused=0' (Keras's unfused batch norm in CNNs); repeatable")
    add("--naive-batch-size", type=int, help=f"batch size of the naive fit (default {d.naive_batch_size})")
    add("--inference-batch-size", type=int, help=f"predict batch size (default {d.inference_batch_size})")
    add("--regression-epochs", type=int, help=f"timed regression epochs (default {d.regression_epochs})")
    add("--gemm-size", type=int, help=f"n of the n x n GEMM peak measurement (default {d.gemm_size})")
    add("--no-tf-defaults", action="store_true",
        help="skip the naive run in a fresh process with TensorFlow's own defaults (oneDNN off "
             "on non-Intel CPUs)")
    add("--no-torch", action="store_true", help="skip the PyTorch reference even if torch is installed")
    add("--torch-threads", type=int, nargs="+", metavar="N",
        help="PyTorch thread counts, one reference run each (0 = PyTorch's default; default: 0)")
    add("--no-regression", action="store_true", help="skip the regression overhead section")
    add("--seed", type=int, help="seed of model initialization and shuffling (default 0)")
    add("--quiet", action="store_true", help="print only the final tables")
    parser.set_defaults(handler=HANDLER)
    return parser


def add_benchmark_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``benchmark`` sub-command to an ``add_subparsers()`` object; return it."""
    parser = subparsers.add_parser(
        "benchmark", help="throughput/memory/GFLOP benchmark (JSON + table)", description=DESCRIPTION
    )
    return _configure(parser)


def build_parser(prog: str = "fmnist benchmark") -> argparse.ArgumentParser:
    """A stand-alone parser with the same options (for ``benchmarks/run_benchmark.py``)."""
    return _configure(argparse.ArgumentParser(prog=prog, description=DESCRIPTION))


def config_from_args(args: argparse.Namespace) -> BenchmarkConfig:
    """Build the :class:`BenchmarkConfig`: ``--tiny`` defaults first, explicit options win."""
    against_torch = bool(getattr(args, "against_torch", False))
    values: dict[str, Any] = BenchmarkConfig.tiny_defaults(against_torch) if args.tiny else {}
    if against_torch:
        values["against_torch"] = True
        values.setdefault("presets", AGAINST_TORCH_PRESETS)
    if getattr(args, "backends", None):
        values["backends"] = tuple(args.backends)
        values.setdefault("presets", BACKEND_PRESETS)
    if args.presets:
        names = [n for item in args.presets for n in item.split(",") if n]
        values["presets"] = None if names == ["all"] else tuple(names)
    for key in ("samples", "epochs", "repeats", "out", "data", "naive_batch_size",
                "inference_batch_size", "regression_epochs", "gemm_size", "seed"):  # fmt: skip
        value = getattr(args, key, None)
        if value is not None:
            values[key] = value
    if args.torch_threads:
        values["torch_threads"] = tuple(None if n == 0 else n for n in args.torch_threads)
    if args.variant:
        values["variants"] = tuple(args.variant)
    if args.no_tf_defaults:
        values["naive_tf_defaults"] = False
    if args.no_torch:
        values["torch"] = False
    if args.no_regression:
        values["regression"] = False
    return BenchmarkConfig(**values)
