"""Training: seeding, ``train`` with callbacks, k-fold cross-validation, ensembles, refit.

Example (needs the real data)::

    from fmnist.data import load_splits
    from fmnist.model import build_model, compile_model
    from fmnist.training import cross_validate, set_seed, train

    set_seed(0)
    s = load_splits(layout="mlp")
    model = compile_model(build_model("mlp_shallow"))
    result = train(model, (s.x_train, s.y_train), (s.x_dev, s.y_dev), epochs=5, patience=2,
                   checkpoint_path="runs/mlp_shallow.keras")
    result.history[["loss", "val_loss"]]     # one row per epoch
    result.best_epoch, result.images_per_sec
    cv = cross_validate("mlp_shallow", s.x_train, s.y_train, k=5, epochs=5)
    cv.scores, cv.summary()

``train`` raises :class:`TrainingDivergedError` (with the partial result attached) when the
loss becomes NaN/inf, unless ``on_nan="return"``.

With ``backup_dir`` an interrupted ``train`` goes on where it stopped: call it again with the
same model (freshly built and compiled), data and arguments::

    set_seed(0)
    model = compile_model(build_model("mlp_shallow"))
    result = train(model, train_xy, dev_xy, epochs=20, backup_dir="runs/x/backup")
    # ... killed in epoch 7; in a new process, the same three lines go on at epoch 7
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from fmnist.backend import backend_name, enable_determinism
from fmnist.callbacks import (
    AtomicModelCheckpoint, CosineDecay, EpochTimer, NaNGuard, TrainingBackup, backup_epochs,
)  # fmt: skip
from fmnist.checks import check_finite, check_int, check_labels, check_samples
from fmnist.data import make_dataset
from fmnist.model import build_model, check_input_shape, check_task, compile_model, infer_task
from fmnist.prediction import ensemble_predict, evaluate

__all__ = [
    "AtomicModelCheckpoint", "CVResult", "TrainResult", "TrainingDivergedError",
    "array_fingerprint", "backup_epochs", "cross_validate", "ensemble_predict", "refit", "set_seed", "train",
    "unpack_data",
]  # fmt: skip


def set_seed(seed: int = 0, deterministic: bool = False) -> None:
    """Seed Python, NumPy, the backend and Keras; optionally make the backend's ops deterministic.

    Op determinism makes repeated runs bit-identical at some speed cost; it stays on for the
    rest of the process once enabled.
    """
    seed = check_int(seed, "seed", minimum=0)
    keras.utils.set_random_seed(seed)  # random, numpy, tf and the Keras seed generator
    if deterministic:
        enable_determinism()


class TrainingDivergedError(RuntimeError):
    """The loss became NaN/inf; ``.result`` holds the partial :class:`TrainResult`."""

    def __init__(self, message: str, result: TrainResult | None = None):
        super().__init__(message)
        self.result = result


@dataclasses.dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        history: one row per epoch (index ``epoch`` from 1): loss/metrics, ``val_*``,
            ``epoch_time`` (s, training part only); a resumed run's includes the epochs
            before the interruption.
        best_epoch: 1-based epoch with the best monitored value (None if all NaN).
        epochs_run: epochs actually run (fewer than asked after early stopping / NaN).
        wall_time: seconds for the whole ``fit`` call (including graph tracing); summed over
            the sessions of a resumed run.
        images_per_sec: steady-state training throughput (first epoch excluded when >1 ran,
            because it includes tracing and filling the cache).
        params: ``model.count_params()``.
        model: the trained model (best weights restored when early stopping was used).
        stopped_on_nan: True when TerminateOnNaN stopped training.
        monitor: the monitored quantity ("val_loss" with validation data, else "loss").
    """

    history: pd.DataFrame
    best_epoch: int | None
    epochs_run: int
    wall_time: float
    images_per_sec: float
    params: int
    model: keras.Model
    stopped_on_nan: bool = False
    monitor: str = "val_loss"

    def __repr__(self) -> str:  # the default would print the whole history and model
        return (
            f"TrainResult(model={self.model.name!r}, params={self.params:,}, "
            f"epochs_run={self.epochs_run}, best_epoch={self.best_epoch}, "
            f"wall_time={self.wall_time:.1f}s, images_per_sec={self.images_per_sec:,.0f}, "
            f"stopped_on_nan={self.stopped_on_nan})"
        )

    def summary(self) -> dict[str, Any]:
        """Scalars for tables: params, epochs, train time, throughput, best epoch."""
        return {
            "params": self.params,
            "epochs": self.epochs_run,
            "train_time": self.wall_time,
            "images_per_sec": self.images_per_sec,
            "best_epoch": self.best_epoch,
        }


#: Learning-rate schedules :func:`train` accepts (``None``: the compiled rate throughout).
LR_SCHEDULES = (None, "cosine")


def unpack_data(data: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``data`` as checked ``(x, y)`` arrays: a pair of the same length, numeric and finite."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be an (x, y) tuple of arrays, got {type(data).__name__}")
    x, y = check_samples(data[0], data[1], name, numeric=True)
    for label, array in (("x", x), ("y", y)):
        # Check before training: oneDNN's ReLU maps NaN to 0, so a NaN pixel would otherwise
        # be trained on silently instead of surfacing as a NaN loss.
        check_finite(array, f"{name}: {label}")
    return x, y


def array_fingerprint(*arrays) -> str:
    """SHA-256 over the dtypes, shapes and bytes of ``arrays`` (None counts as absent): which
    data a training backup (and the course's model cache) belongs to."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none\0")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}\0".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def _check_labels(model: keras.Model, y: np.ndarray, what: str) -> None:
    """Classification labels must be integer class ids below the model's output width."""
    if infer_task(model) != "classification":
        return
    check_labels(y, what, model.output_shape[-1], note=f" for model {model.name!r}")


def train(
    model: keras.Model,
    train_data: tuple[np.ndarray, np.ndarray],
    val_data: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    patience: int | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    csv_path: str | os.PathLike | None = None,
    augment: keras.layers.Layer | None = None,
    verbose: int = 0,
    seed: int = 0,
    on_nan: str = "raise",
    callbacks: list[keras.callbacks.Callback] | None = None,
    lr_schedule: str | None = None,
    backup_dir: str | os.PathLike | None = None,
) -> TrainResult:
    """Fit ``model`` on ``train_data`` through the ``fmnist.data.make_dataset`` pipeline.

    Args:
        model: a Keras model; compiled with :func:`fmnist.model.compile_model` defaults if it
            is not compiled yet.
        train_data, val_data: ``(x, y)`` arrays shaped for the model.
        patience: enable ``EarlyStopping(patience, restore_best_weights=True)`` on the monitor
            ("val_loss", or "loss" without validation data).
        checkpoint_path: ``.keras`` file for the best model so far (written atomically).
        csv_path: also log the history to this CSV file.
        augment: Keras layer applied to training batches (``training=True``).
        verbose: 0 (silent; notebooks), 1 (progress bar) or 2 (one line per epoch).
        seed: shuffling seed.
        on_nan: "raise" a :class:`TrainingDivergedError` or "return" the result with
            ``stopped_on_nan=True`` when the loss becomes NaN/inf.
        callbacks: extra Keras callbacks.
        lr_schedule: None (constant rate) or "cosine" (decay the compiled rate to ~0 over
            ``epochs``; with early stopping the run may end before the rate is small).
        backup_dir: a directory of its own for a snapshot of the whole training state at every
            epoch's end (:class:`fmnist.callbacks.TrainingBackup`: weights, optimizer state,
            epoch, history, early stopping, checkpoint, CSV log). When it holds one, training
            resumes from it, and each resumed epoch sees the shuffled batches it would have
            seen (``make_dataset(start_epoch=...)``): without augmentation the result is that
            of an uninterrupted run, history and weights. Augmentation draws start afresh from
            their seeds (same distribution, other draws). ``history`` and ``wall_time`` cover
            every session; the directory is deleted when training completes.

    Raises:
        InputShapeError: the data does not fit the model's input.
        ValueError: ``backup_dir`` holds the backup of a run with other arguments or data.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    epochs = check_int(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size")
    patience = check_int(patience, "patience", minimum=0, allow_none=True)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    if on_nan not in ("raise", "return"):
        raise ValueError(f"on_nan must be 'raise' or 'return', got {on_nan!r}")
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}; valid: {LR_SCHEDULES}")
    x, y = unpack_data(train_data, "train_data")
    check_input_shape(model, x, "train_data x")
    if not model.compiled:
        compile_model(model, task=infer_task(model))
    _check_labels(model, y, "train_data y")
    val_ds = None
    if val_data is not None:
        xv, yv = unpack_data(val_data, "val_data")
        check_input_shape(model, xv, "val_data x")
        _check_labels(model, yv, "val_data y")
        val_ds = make_dataset(xv, yv, batch_size=batch_size, shuffle=False, cache=True)

    monitor = "val_loss" if val_data is not None else "loss"
    nan_guard, timer = NaNGuard(), EpochTimer()
    cbs: list[keras.callbacks.Callback] = [nan_guard, timer]
    cosine = CosineDecay(epochs) if lr_schedule == "cosine" else None
    if cosine is not None:
        cbs.append(cosine)
    stopping = checkpoint = backup = None
    if patience is not None:
        stopping = keras.callbacks.EarlyStopping(
            monitor=monitor, patience=patience, restore_best_weights=True
        )
        cbs.append(stopping)
    if checkpoint_path is not None:
        checkpoint = AtomicModelCheckpoint(checkpoint_path, monitor=monitor)
        cbs.append(checkpoint)
    if backup_dir is not None:
        run = {
            "model": model.name, "params": model.count_params(), "backend": backend_name(),
            "epochs": epochs, "batch_size": batch_size, "seed": seed, "patience": patience,
            "lr_schedule": lr_schedule, "monitor": monitor,
            "augment": None if augment is None else getattr(augment, "name", type(augment).__name__),
            "train_data": array_fingerprint(x, y)[:16],
            "val_data": None if val_data is None else array_fingerprint(xv, yv)[:16],
        }  # fmt: skip
        backup = TrainingBackup(backup_dir, run, early_stopping=stopping, checkpoint=checkpoint,
                                timer=timer, nan_guard=nan_guard, csv_path=csv_path)  # fmt: skip
    if csv_path is not None:
        Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
        # A resumed run appends to the log as it was at the snapshot.
        resumed_log = backup is not None and backup.restore_csv()
        cbs.append(keras.callbacks.CSVLogger(str(csv_path), append=resumed_log))
    if backup is not None:
        cbs.append(backup)  # after the callbacks whose state it saves (see TrainingBackup)
    cbs.extend(callbacks or [])

    # A resumed run skips the shuffle orders of the epochs done: its epoch k sees the batches
    # epoch k of an uninterrupted run sees (one order per epoch, see make_dataset).
    initial_epoch = backup.initial_epoch if backup is not None else 0
    train_ds = make_dataset(
        x, y, batch_size=batch_size, shuffle=True, seed=seed, augment=augment, cache=True,
        start_epoch=initial_epoch,
    )  # fmt: skip
    start = time.perf_counter()
    # shuffle=False: the pipeline already reshuffles every epoch (Keras would warn otherwise).
    try:
        hist = model.fit(
            train_ds, validation_data=val_ds, epochs=epochs, verbose=verbose, callbacks=cbs,
            shuffle=False, initial_epoch=initial_epoch,
        )  # fmt: skip
    finally:
        if cosine is not None and hasattr(cosine, "base"):
            model.optimizer.learning_rate = cosine.base
    wall_time = time.perf_counter() - start + (backup.past_wall_time if backup is not None else 0.0)

    # The backup's history includes the epochs of the earlier sessions.
    history = pd.DataFrame(backup.history if backup is not None else hist.history)
    history.index = pd.RangeIndex(1, len(history) + 1, name="epoch")
    epochs_run = len(history)
    history["epoch_time"] = timer.times[:epochs_run]
    steady = timer.times[1:epochs_run] if epochs_run > 1 else timer.times[:1]
    seconds = sum(steady)
    images_per_sec = len(x) * len(steady) / seconds if seconds > 0 else float("nan")
    best_epoch = None
    finite = history[monitor].astype(float).replace([np.inf, -np.inf], np.nan) if monitor in history else None
    if finite is not None and finite.notna().any():  # all-inf losses have no best epoch
        best_epoch = int(finite.idxmin())
    result = TrainResult(
        history=history,
        best_epoch=best_epoch,
        epochs_run=epochs_run,
        wall_time=wall_time,
        images_per_sec=float(images_per_sec),
        params=model.count_params(),
        model=model,
        stopped_on_nan=nan_guard.fired_at is not None,
        monitor=monitor,
    )
    if result.stopped_on_nan and on_nan == "raise":
        epoch = nan_guard.fired_at
        lr = getattr(getattr(model, "optimizer", None), "learning_rate", None)
        lr_text = f" (learning_rate={float(np.asarray(lr)):.3g})" if lr is not None else ""
        raise TrainingDivergedError(
            f"training of {model.name!r} stopped: the loss became NaN/inf in epoch {epoch}"
            f"{lr_text}. Lower the learning rate, standardize the inputs or "
            "check the data for NaNs; the partial result is in the exception's .result.",
            result,
        )
    return result


@dataclasses.dataclass
class CVResult:
    """Outcome of :func:`cross_validate`.

    Attributes:
        scores: one row per fold: ``fold``, ``n_train``, ``n_val``, the validation metrics
            (``val_loss``/``val_accuracy`` or ``val_mse``/``val_mae``), ``best_epoch``,
            ``epochs_run``, ``train_time``.
        models: the trained model of each fold (use with :func:`ensemble_predict`).
        folds: ``(train_idx, val_idx)`` index arrays of each fold.
        results: the :class:`TrainResult` of each fold.
    """

    scores: pd.DataFrame
    models: list[keras.Model]
    folds: list[tuple[np.ndarray, np.ndarray]]
    results: list[TrainResult]

    def __repr__(self) -> str:
        return f"CVResult(k={len(self.models)}, scores=\n{self.summary().round(4)})"

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation of the numeric fold scores."""
        numeric = self.scores.drop(columns=["fold"]).select_dtypes("number")
        return numeric.agg(["mean", "std"])


def _make_builder(build_fn: Callable[[], keras.Model] | str) -> Callable[[], keras.Model]:
    if isinstance(build_fn, str):
        name = build_fn
        return lambda: build_model(name)
    if not callable(build_fn):
        raise TypeError(
            f"build_fn must be a preset name or a callable returning a model, got {build_fn!r}"
        )
    return build_fn


def cross_validate(
    build_fn: Callable[[], keras.Model] | str,
    x: np.ndarray,
    y: np.ndarray,
    k: int = 5,
    task: str = "classification",
    epochs: int = 10,
    batch_size: int = 128,
    patience: int | None = None,
    compile_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
    verbose: int = 0,
    **train_kwargs: Any,
) -> CVResult:
    """k-fold cross-validation with a fresh model per fold.

    Folds come from ``StratifiedKFold`` (classification) or ``KFold`` (regression), shuffled
    with ``seed``. Each fold seeds every generator with ``set_seed(seed + fold)`` (so the
    initial weights repeat from call to call), calls ``build_fn()`` (a preset name also works),
    compiles the model with ``compile_model(model, task=task, **compile_kwargs)`` unless
    ``build_fn`` already compiled it, trains on the other folds with this fold as validation
    data and scores it on this fold.
    """
    check_task(task)
    k = check_int(k, "k", minimum=2, note=" (number of folds)")
    x, y = unpack_data((x, y), "(x, y)")
    if k > len(x):
        raise ValueError(f"k={k} folds need at least {k} samples, got {len(x)}")
    builder = _make_builder(build_fn)
    if task == "classification":
        counts = np.unique(y, return_counts=True)[1]
        smallest = int(counts.min())
        if smallest < k:
            raise ValueError(
                f"k={k} stratified folds need >= {k} samples per class; "
                f"the rarest class has {smallest}"
            )
        splitter = StratifiedKFold(n_splits=int(k), shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=int(k), shuffle=True, random_state=seed)

    rows, models, folds, results = [], [], [], []
    for fold, (tr, va) in enumerate(splitter.split(x, y if task == "classification" else None)):
        set_seed(seed + fold)
        model = builder()
        if not isinstance(model, keras.Model):
            raise TypeError(f"build_fn must return a keras.Model, got {type(model).__name__}")
        if any(model is m for m in models):
            raise ValueError(
                "build_fn returned the same model object twice; it must build a fresh model per fold"
            )
        if not model.compiled:
            compile_model(model, task=task, **(compile_kwargs or {}))
        res = train(
            model, (x[tr], y[tr]), (x[va], y[va]), epochs=epochs, batch_size=batch_size,
            patience=patience, verbose=verbose, seed=seed + fold, **train_kwargs,
        )  # fmt: skip
        metrics = evaluate(model, x[va], y[va], task=task, batch_size=batch_size)
        row = {"fold": fold + 1, "n_train": len(tr), "n_val": len(va)}
        row.update({f"val_{key}": value for key, value in metrics.items()})
        row.update(best_epoch=res.best_epoch, epochs_run=res.epochs_run, train_time=res.wall_time)
        rows.append(row)
        models.append(model)
        folds.append((tr, va))
        results.append(res)
    return CVResult(pd.DataFrame(rows), models, folds, results)


def refit(
    build_fn: Callable[[], keras.Model] | str,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    task: str = "classification",
    compile_kwargs: dict[str, Any] | None = None,
    **train_kwargs: Any,
) -> TrainResult:
    """Train a fresh model of the chosen configuration on the full training set.

    Typically ``epochs`` is the median best epoch of a :func:`cross_validate` run (there is
    no validation data left to stop on). ``train_kwargs`` go to :func:`train`; their ``seed``
    (default 0) also seeds the initial weights (``set_seed``), so a refit repeats exactly.
    """
    check_task(task)
    set_seed(train_kwargs.get("seed", 0))
    model = _make_builder(build_fn)()
    if not isinstance(model, keras.Model):
        raise TypeError(f"build_fn must return a keras.Model, got {type(model).__name__}")
    if not model.compiled:
        compile_model(model, task=task, **(compile_kwargs or {}))
    if train_kwargs.get("val_data") is None and train_kwargs.get("patience") is not None:
        warnings.warn("refit without val_data: early stopping monitors the training loss", stacklevel=2)
    return train(model, (x, y), epochs=epochs, **train_kwargs)
