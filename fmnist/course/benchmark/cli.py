"""``fmnist benchmark``: the command behind the options of :mod:`fmnist.course.benchmark.options`.

``fmnist`` (``fmnist.course.cli``) adds the options with
:func:`~fmnist.course.benchmark.options.add_benchmark_parser` and, when the command runs,
imports this module and calls :func:`run_from_args`, which returns the exit status.
Stand-alone: ``python benchmarks/run_benchmark.py --tiny`` calls :func:`main`.

Examples::

    fmnist benchmark --tiny                                  # seconds; synthetic data
    fmnist benchmark --presets cnn_medium mlp_medium cnn_small --samples 8192 --epochs 3 \\
        --repeats 3 --out benchmarks/results/cnn.json
    fmnist benchmark --backends tensorflow jax torch --samples 4096 --repeats 3
    fmnist benchmark --against-torch --tiny
"""

from __future__ import annotations

import argparse
import sys

from fmnist.course.benchmark.backends import run_backends
from fmnist.course.benchmark.options import build_parser, config_from_args
from fmnist.course.benchmark.runner import run_benchmark
from fmnist.course.benchmark.throughput import run_throughput
from fmnist.course.commands import EXIT_ERROR


def run_from_args(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    """Run the benchmark for parsed arguments (``--backends``: the backends side by side;
    ``--against-torch``: fmnist against the PyTorch loops); return 0 (errors raise, for the caller)."""
    cfg = config_from_args(args)
    quiet = bool(getattr(args, "quiet", False))

    def log(line: str) -> None:
        if not quiet or not line.startswith(("  ", "fmnist benchmark")):
            print(line, flush=True)

    run = run_throughput if cfg.against_torch else run_backends if cfg.backends else run_benchmark
    run(cfg, log=log, argv=argv if argv is not None else sys.argv)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: parse ``argv``, run, exit 2 with one line on bad input."""
    args = build_parser().parse_args(argv)
    try:
        return run_from_args(args, argv=list(argv) if argv is not None else sys.argv)
    except (ValueError, TypeError, KeyError, RuntimeError, OSError) as exc:
        print(f"fmnist benchmark: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
