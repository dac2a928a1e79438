#!/usr/bin/env python
"""Run the fmnist benchmark (same options as ``fmnist benchmark``; see ``--help``).

Examples::

    python benchmarks/run_benchmark.py --tiny
    python benchmarks/run_benchmark.py --presets cnn_medium mlp_medium cnn_small \\
        --samples 8192 --epochs 3 --repeats 3 --out benchmarks/results/run.json
    python benchmarks/run_benchmark.py --backends tensorflow jax torch --samples 4096 \
        --out benchmarks/records/backends.json      # Keras backends side by side

Results go to ``benchmarks/results/benchmark-<time>.json`` unless ``--out`` is given.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from fmnist.course.benchmark.cli import main  # noqa: E402 - the log level must be set before TF loads

if __name__ == "__main__":
    sys.exit(main())
