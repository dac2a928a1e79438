"""Train once: a content-addressed cache of trained models for the notebooks.

Several notebooks train the same model with the same recipe, data and seed (08 retrains 05's
``cnn_medium``; 10 trains 05's ``cnn_best``). :func:`fmnist.course.experiments.run_experiments`
asks this cache first. The key is a SHA-256 over everything that decides the trained weights:
the configuration (preset, builder overrides, compile options, augmentation config, epochs,
learning-rate schedule), batch size, patience, seed, a fingerprint of the training and dev
arrays, the Keras backend, fmnist's version and a hash of its sources
(:func:`fmnist.course.report.code_fingerprint`). Any change gives another key, so a stale entry
is never read; it is retrained and stored under its new key.

An entry is a directory ``<cache>/<key>/`` with the model (``model.keras``), its history, the
:class:`~fmnist.training.TrainResult` scalars, the initial kernels and the key's parts in
readable form. It is written in a temporary sibling directory and renamed into place, so an
interrupted run never leaves a half-written entry (``fmnist.atomic.atomic_directory``); a
damaged one is ignored (and retrained). The cache lives in ``runs/model_cache``
(``fmnist.course.paths.runs_dir``) and is never committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

import fmnist
from fmnist.atomic import atomic_directory
from fmnist.backend import ensure_precision
from fmnist.course.paths import runs_dir
from fmnist.course.report import code_fingerprint
from fmnist.model import load_model, save_model
from fmnist.training import TrainResult, array_fingerprint

__all__ = ["CACHE_DIRNAME", "CACHE_ENV", "ModelCache", "array_fingerprint", "default_model_cache", "resolve_cache"]

#: Directory of the cache inside ``runs_dir()``.
CACHE_DIRNAME = "model_cache"
#: ``FMNIST_MODEL_CACHE=off`` makes :func:`default_model_cache` return None: always train.
CACHE_ENV = "FMNIST_MODEL_CACHE"
_FILES = ("model.keras", "history.json", "result.json", "initial_weights.npz", "key.json")
# TrainResult fields stored in result.json (the model and history have their own files).
_SCALARS = ("best_epoch", "epochs_run", "wall_time", "images_per_sec", "params", "stopped_on_nan", "monitor")


def _plain(value: Any) -> Any:
    """JSON-able form of a key part (layers by their config, tuples as lists, NumPy scalars)."""
    if isinstance(value, keras.layers.Layer):
        return {"class": type(value).__name__, "config": _plain(value.get_config())}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda item: str(item[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


class ModelCache:
    """Trained models by content key, in ``directory`` (created on the first store)."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"ModelCache({str(self.directory)!r})"

    def key_parts(self, **parts: Any) -> dict[str, Any]:
        """``parts`` as stored in ``key.json``, plus the backend, the training precision
        (bfloat16 and float32 train other weights), fmnist's version and the code hash."""
        return _plain({**parts, "backend": keras.backend.backend(), "precision": ensure_precision(),
                       "fmnist_version": fmnist.__version__, "code": code_fingerprint()})

    @staticmethod
    def key(parts: dict[str, Any]) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def load(self, parts: dict[str, Any]) -> tuple[TrainResult, dict[str, np.ndarray]] | None:
        """``(result, initial kernels)`` stored under ``parts``, or None if absent or damaged."""
        entry = self.directory / self.key(parts)
        if not all((entry / name).is_file() for name in _FILES):
            return None
        try:
            if json.loads((entry / "key.json").read_text(encoding="utf-8")) != parts:
                return None  # a hash collision or a hand-edited entry: do not trust it
            scalars = json.loads((entry / "result.json").read_text(encoding="utf-8"))
            history = pd.DataFrame(json.loads((entry / "history.json").read_text(encoding="utf-8")), dtype=float)
            history.index = pd.RangeIndex(1, len(history) + 1, name="epoch")
            with np.load(entry / "initial_weights.npz") as stored:
                initial = {name: stored[name] for name in stored.files}
            model = load_model(entry / "model.keras")
        except (OSError, ValueError, KeyError) as error:  # damaged entry: retrain
            print(f"model cache: ignoring the damaged entry {entry.name[:12]}: {error}")
            return None
        return TrainResult(history=history, model=model, **scalars), initial

    def store(self, parts: dict[str, Any], result: TrainResult, initial: dict[str, np.ndarray]) -> Path:
        """Write ``result`` (and the initial kernels) under ``parts``; returns the entry."""
        entry = self.directory / self.key(parts)
        if entry.exists():  # a damaged entry under the same key (a good one would have loaded)
            shutil.rmtree(entry)
        with atomic_directory(entry) as staging:
            save_model(result.model, staging / "model.keras")
            columns = result.history.reset_index(drop=True).to_dict(orient="list")
            (staging / "history.json").write_text(json.dumps(columns), encoding="utf-8")
            scalars = {name: _plain(getattr(result, name)) for name in _SCALARS}
            (staging / "result.json").write_text(json.dumps(scalars, indent=1), encoding="utf-8")
            np.savez(staging / "initial_weights.npz", **initial)
            (staging / "key.json").write_text(json.dumps(parts, indent=1, sort_keys=True), encoding="utf-8")
        return entry


def default_model_cache() -> ModelCache | None:
    """The course's cache, ``runs_dir() / "model_cache"`` (``$FMNIST_RUNS_DIR`` moves it);
    None when ``$FMNIST_MODEL_CACHE`` is ``off``."""
    setting = os.environ.get(CACHE_ENV, "on").strip().lower()
    if setting not in ("on", "off"):
        raise ValueError(f"{CACHE_ENV}={setting!r}; valid values: on, off")
    return None if setting == "off" else ModelCache(runs_dir() / CACHE_DIRNAME)


def resolve_cache(cache: ModelCache | bool | None) -> ModelCache | None:
    """A ``cache=`` argument as a cache or None: None means :func:`default_model_cache`,
    False means no cache (always train), a :class:`ModelCache` is used as it is."""
    if cache is None:
        return default_model_cache()
    if cache is False:
        return None
    if not isinstance(cache, ModelCache):
        raise TypeError(f"cache must be None, False or a ModelCache, got {cache!r}")
    return cache
