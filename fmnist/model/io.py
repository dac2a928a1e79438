"""Saving and loading models in the native ``.keras`` format.

Saving is atomic: the model is written to a temporary file in the target directory and then
renamed over the target with ``os.replace``, so a crash or a concurrent reader never sees a
half-written archive. Loading uses ``safe_mode=True`` (no arbitrary lambdas are deserialized).

Example::

    >>> from fmnist.model import build_model, save_model, load_model
    >>> path = save_model(build_model("cnn_small"), "runs/cnn_small.keras")
    >>> load_model(path).count_params()
    63050
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import keras


def _check_keras_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model files use the native '.keras' format; got {str(path)!r}")
    return path


def save_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Atomically save ``model`` (architecture, weights, compile state) to ``path``.

    Creates the parent directory. Returns the path.
    """
    path = _check_keras_path(path)
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory so os.replace is a rename on one filesystem (atomic on POSIX).
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.keras", dir=path.parent)
    os.close(fd)
    try:
        model.save(tmp, overwrite=True)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_model(path: str | os.PathLike, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model with ``safe_mode=True``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
    """
    path = _check_keras_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    return keras.models.load_model(path, compile=compile, safe_mode=True)
