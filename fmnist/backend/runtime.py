"""The active Keras backend and op determinism."""

from __future__ import annotations

import keras

from fmnist.backend.quiet import import_backend_quietly

__all__ = ["BACKENDS", "backend_name", "enable_determinism"]

#: The Keras backends fmnist runs on (``KERAS_BACKEND``, fixed at the first ``import keras``).
BACKENDS = ("tensorflow", "jax", "torch")


def backend_name() -> str:
    """The active Keras backend: one of :data:`BACKENDS`."""
    return keras.backend.backend()


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
