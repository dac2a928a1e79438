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

import json
import os
import tempfile
import zipfile
from pathlib import Path

import keras

from fmnist.atomic import atomic_path
from fmnist.backend import compile_defaults, ensure_precision


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
    with atomic_path(path) as tmp:  # temp file + os.replace, with a normal file's permissions
        model.save(tmp)
    return path


def load_model(path: str | os.PathLike, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model with ``safe_mode=True``, on any Keras backend.

    A compiled model gets the active backend's ``steps_per_execution`` and ``jit_compile``
    (:func:`fmnist.backend.compile_defaults`) instead of the saving backend's, so a model
    saved on tensorflow loads on torch (which runs one step per call) and jax (jitted).
    Like :func:`fmnist.model.compile_model` it sets the process's training precision first
    (:func:`fmnist.backend.ensure_precision`), so a loaded model predicts as a trained one does.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if ``path`` is not a ``.keras`` (zip) archive, e.g. truncated or corrupt.
    """
    path = _check_keras_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    # Keras reports a file that exists but is not a zip as "File not found".
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{str(path)!r} is not a valid .keras archive (a zip file written by "
            "keras.Model.save / fmnist train); it may be truncated or corrupt"
        )
    ensure_precision()
    if compile:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
        compile_config = config.get("compile_config") or {}
        wanted = compile_defaults()
        if compile_config and any(compile_config.get(k, v) != v for k, v in wanted.items()):
            # steps_per_execution and jit_compile say how the step runs on the backend that
            # saved the file, not what the model is: a tensorflow model's 32 steps per call
            # would fail to compile on torch, its jit_compile=False leave jax un-jitted.
            compile_config.update(wanted)
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / path.name
                with zipfile.ZipFile(path) as src, zipfile.ZipFile(copy, "w") as dst:
                    for item in src.infolist():
                        data = json.dumps(config).encode() if item.filename == "config.json" else src.read(item)
                        dst.writestr(item, data)
                return keras.models.load_model(copy, compile=True, safe_mode=True)
    return keras.models.load_model(path, compile=compile, safe_mode=True)
