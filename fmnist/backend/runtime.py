"""The active Keras backend, a quiet start-up, and op determinism."""

from __future__ import annotations

import os
import sys

import keras

__all__ = ["BACKENDS", "backend_name", "enable_determinism", "import_backend_quietly"]

#: The Keras backends fmnist runs on (``KERAS_BACKEND``, fixed at the first ``import keras``).
BACKENDS = ("tensorflow", "jax", "torch")


def backend_name() -> str:
    """The active Keras backend: one of :data:`BACKENDS`."""
    return keras.backend.backend()


def import_backend_quietly():
    """Import TensorFlow (every backend's ``tf.data`` input pipeline needs it) with its C++
    start-up log lines kept off the terminal/notebook; returns the ``tensorflow`` module.

    TF 2.21 prints absl/cudart lines ("Could not find cuda drivers ...") straight to file
    descriptor 2 at import time, even with ``TF_CPP_MIN_LOG_LEVEL=3``; Python-level
    redirection cannot catch them, so fd 2 is pointed at /dev/null for the import only.
    Python warnings and errors after the import are untouched.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # heavy: imported once, here, with fd 2 silenced
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    # TF's own Python logger (not the warnings module): notebooks evaluate many different
    # models, which makes TF log an expected "triggered tf.function retracing" warning.
    tensorflow.get_logger().setLevel("ERROR")
    return tensorflow


def enable_determinism() -> None:
    """Make the active backend's ops deterministic (bit-identical repeated runs, some speed
    cost); it stays on for the rest of the process."""
    name = backend_name()
    if name == "tensorflow":
        import_backend_quietly().config.experimental.enable_op_determinism()
    elif name == "torch":
        import torch  # optional dependency (the .[torch] extra); only on this backend

        torch.use_deterministic_algorithms(True)
    # jax: XLA's CPU kernels are deterministic already.
