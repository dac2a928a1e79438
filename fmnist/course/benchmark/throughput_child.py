"""The PyTorch child process of ``fmnist benchmark --against-torch``: one run, no TensorFlow.

Run by :func:`fmnist.course.benchmark.throughput.run_throughput` (through
:func:`fmnist.course.benchmark.backends.run_child`) as::

    KERAS_BACKEND=torch python -m fmnist.course.benchmark.throughput_child SPEC.json OUT.json

``SPEC.json`` is one job:

* ``{"job": "train", "method", "preset", "layers", "expected_params", "data", "epochs",
  "batch_size", "seed", "channels_last", "bf16"}``: train the layer list (read off the Keras
  preset by :func:`fmnist.course.benchmark.torch_ref.torch_layers` in the parent) on the
  arrays of the ``.npz`` file ``data`` with
  :func:`~fmnist.course.benchmark.torch_loop.train_torch`;
* ``{"job": "gemm", "n", "repeats", "seed", "dtypes"}``: ``torch.matmul`` GFLOP/s per dtype
  (:func:`~fmnist.course.benchmark.torch_loop.torch_gemm`).

``OUT.json`` receives the run's record plus ``pid``, ``wall_s`` and the ``imported`` flags
(whether ``tensorflow`` and ``keras`` are in ``sys.modules`` at the end): this module imports
PyTorch, NumPy and the framework-free parts of fmnist only, so the reference loop has its
process to itself, as a PyTorch user's script would.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import numpy as np

from fmnist.atomic import atomic_write_text
from fmnist.course.benchmark.torch_loop import torch_gemm, train_torch

#: Modules whose presence in ``sys.modules`` the record reports.
WATCHED_MODULES = ("tensorflow", "keras", "torch")


def run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """The record of one ``train`` or ``gemm`` job (see the module docstring)."""
    if spec["job"] == "gemm":
        return torch_gemm(spec["n"], spec["repeats"], spec["seed"], tuple(spec["dtypes"]))
    if spec["job"] != "train":
        raise ValueError(f"unknown job {spec['job']!r}; expected 'train' or 'gemm'")
    with np.load(spec["data"]) as arrays:
        x, y = arrays["x"], arrays["y"]
    return train_torch(
        spec["layers"], spec["preset"], x, y, spec["epochs"], spec["batch_size"], spec["seed"],
        expected_params=spec["expected_params"], channels_last=spec["channels_last"], bf16=spec["bf16"],
        method=spec["method"],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    spec_path, out_path = sys.argv[1:] if argv is None else argv
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    started = time.perf_counter()
    record = run_job(spec)
    record.update(
        job=spec["job"], pid=os.getpid(), wall_s=time.perf_counter() - started,
        imported={name: name in sys.modules for name in WATCHED_MODULES},
    )  # fmt: skip
    atomic_write_text(out_path, json.dumps(record, allow_nan=True))


if __name__ == "__main__":
    main()
