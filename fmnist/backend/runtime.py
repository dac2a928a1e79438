"""The active Keras backend, op determinism and the backend's global random state."""

from __future__ import annotations

import importlib

import keras
import numpy as np

from fmnist.backend.quiet import import_backend_quietly

__all__ = ["BACKENDS", "backend_name", "enable_determinism", "global_random_state", "set_global_random_state"]

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


# torch only on its backend (an optional dependency, the .[torch] extra), which has imported it.
_torch = importlib.import_module("torch") if keras.backend.backend() == "torch" else None


def global_random_state() -> np.ndarray | None:
    """The backend's global random state that Keras layers draw from, or None if they draw none.

    Only torch has one: Keras's torch dropout without a seed of its own takes torch's global
    generator (on tensorflow and jax every Keras layer draws from its seed generator's state,
    a model variable). A training snapshot saves it so that a resumed run drops the same units.
    """
    return None if _torch is None else _torch.get_rng_state().numpy()


def set_global_random_state(state: np.ndarray | None) -> None:
    """Restore a state from :func:`global_random_state` (None: nothing to restore)."""
    if state is not None and _torch is not None:
        _torch.set_rng_state(_torch.from_numpy(np.asarray(state, dtype=np.uint8)))
