"""Keras callbacks that :func:`fmnist.training.train` attaches to ``fit``.

Each one does a job no built-in callback does: publish checkpoints atomically, record the
epoch where the loss became NaN, time the training part of each epoch, decay the learning
rate over an epoch count known only when ``train`` is called, and back up the whole training
state at every epoch's end so that an interrupted run can go on (:class:`TrainingBackup`).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from fmnist.atomic import atomic_directory, atomic_path
from fmnist.backend import global_random_state, set_global_random_state

__all__ = [
    "AtomicModelCheckpoint", "CosineDecay", "EpochTimer", "NaNGuard", "TrainingBackup", "backup_epochs",
]  # fmt: skip


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """``ModelCheckpoint(save_best_only=True)`` that never leaves a half-written file.

    Keras writes the ``.keras`` zip in place, so a crash (or a reader such as a tuner or a
    notebook) can see a truncated archive. Here Keras writes each epoch to a fresh temporary
    file that :func:`fmnist.atomic.atomic_path` renames over the target if Keras wrote it.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", **kwargs: Any):
        self.final_path = Path(filepath)
        if self.final_path.suffix != ".keras":
            raise ValueError(f"checkpoint_path must end with '.keras', got {str(filepath)!r}")
        if "{" in str(filepath):
            raise ValueError("checkpoint_path must be a plain file name (no {epoch} patterns)")
        if kwargs.get("save_freq", "epoch") != "epoch":
            raise ValueError("AtomicModelCheckpoint publishes at epoch end: save_freq must be 'epoch'")
        kwargs.setdefault("save_best_only", True)
        super().__init__(str(self.final_path), monitor=monitor, **kwargs)

    def on_epoch_end(self, epoch, logs=None):
        # Keras saves (or, with save_best_only, skips) to self.filepath: point it at the
        # temporary file, published over final_path only if Keras wrote it.
        try:
            with atomic_path(self.final_path) as tmp:
                self.filepath = str(tmp)
                super().on_epoch_end(epoch, logs)
        finally:
            self.filepath = str(self.final_path)


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """TerminateOnNaN that records where it fired and stays quiet (verbose=0 notebooks)."""

    def __init__(self) -> None:
        super().__init__()
        self.fired_at: int | None = None  # 1-based epoch
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss) and self.fired_at is None:
            self.fired_at = self._epoch + 1
            self.model.stop_training = True


class EpochTimer(keras.callbacks.Callback):
    """Training-only time per epoch (validation excluded) for the throughput figure."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self._start = 0.0
        self._train_end: float | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._train_end = time.perf_counter(), None

    def on_test_begin(self, logs=None):
        if self._train_end is None:
            self._train_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        end = self._train_end if self._train_end is not None else time.perf_counter()
        self.times.append(end - self._start)


class CosineDecay(keras.callbacks.Callback):
    """Per-epoch cosine decay of the compiled learning rate towards 0 over ``epochs``.

    A callback rather than ``keras.optimizers.schedules.CosineDecay``: the decay length is
    only known once ``train`` knows the epochs. ``train`` restores the compiled rate (``base``)
    when ``fit`` ends, also on an exception or interrupt (Keras skips ``on_train_end`` then),
    so a second ``train`` call starts from it again.
    """

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_train_begin(self, logs=None):
        self.base = float(np.asarray(self.model.optimizer.learning_rate))
        # Fails here, before any epoch, with Keras's own TypeError when the optimizer was
        # built with a LearningRateSchedule (its rate is not settable).
        self.model.optimizer.learning_rate = self.base

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate = self.base * 0.5 * (1 + math.cos(math.pi * epoch / self.epochs))


#: Version of the snapshot layout written by :class:`TrainingBackup` (``state.json``).
BACKUP_FORMAT = 1
_SNAPSHOT = re.compile(r"^epoch-(\d{4,})$")


def _snapshots(backup_dir: Path) -> list[tuple[int, Path]]:
    """The published snapshots in ``backup_dir`` as ``(epochs done, path)``, oldest first."""
    if not backup_dir.is_dir():
        return []
    found = [(int(m.group(1)), entry) for entry in backup_dir.iterdir() if (m := _SNAPSHOT.match(entry.name))]
    return sorted(found)


def backup_epochs(backup_dir: str | os.PathLike) -> int | None:
    """Epochs done in the latest snapshot of a :class:`TrainingBackup` directory (None: none)."""
    found = _snapshots(Path(backup_dir))
    return found[-1][0] if found else None


class TrainingBackup(keras.callbacks.BackupAndRestore):
    """Keras's ``BackupAndRestore``, published atomically and with the state it does not save.

    What Keras's callback does is kept: at every epoch's end it saves the weights with the
    optimizer state (``latest.weights.h5``) and the epoch count (``training_metadata.json``);
    in ``on_train_begin`` it loads them and makes ``fit`` start at that epoch; a completed
    ``fit`` deletes ``backup_dir`` (a directory of its own). Two things are added:

    * Atomic snapshots. Keras writes its two files in place, one after the other, so a crash
      can leave a truncated weights file, or the weights of one epoch with the count of
      another. Here each epoch's files go into a new directory ``epoch-NNNN`` (epochs done)
      that :func:`fmnist.atomic.atomic_directory` renames into place; the older one is
      deleted after that.
    * The rest of the state, which ``BackupAndRestore`` does not save: the history so far; the
      ``EarlyStopping`` counters, best value and best weights; the ``ModelCheckpoint`` best
      value (else the first resumed epoch would overwrite a better ``best.keras``); the epoch
      times; the epoch ``NaNGuard`` fired in; the states of the model's random seed
      generators (dropout: ``save_weights`` leaves them out) and the backend's global random
      state (torch's unseeded dropout draws from it); the CSV log up to this epoch;
      whether training had stopped (early stopping, NaN) before ``fit`` could end.

    The order of the training data is not a callback's business: ``train`` builds the dataset
    of a resumed run with ``make_dataset(start_epoch=initial_epoch)``.

    Args:
        backup_dir: the directory of the snapshots, used by nothing else.
        run: JSON-able description of the run (epochs, batch size, seed, data fingerprint,
            ...); a snapshot of a run with another description is refused.
        early_stopping, checkpoint, timer, nan_guard: the callbacks whose state is saved and
            restored with the model's (each optional). They must come before this one in the
            callback list (their ``on_train_begin`` resets them before this one restores them;
            their ``on_epoch_end`` has updated them when this one saves).
        csv_path: the ``CSVLogger`` file, copied into each snapshot (:meth:`restore_csv`).

    Raises:
        ValueError: the latest snapshot belongs to another run, or is not readable.
    """

    WEIGHTS = "latest.weights.h5"  # Keras's names for its two files
    METADATA = "training_metadata.json"

    def __init__(
        self,
        backup_dir: str | os.PathLike,
        run: dict[str, Any],
        early_stopping: keras.callbacks.EarlyStopping | None = None,
        checkpoint: keras.callbacks.ModelCheckpoint | None = None,
        timer: EpochTimer | None = None,
        nan_guard: NaNGuard | None = None,
        csv_path: str | os.PathLike | None = None,
    ):
        super().__init__(str(backup_dir), save_freq="epoch", delete_checkpoint=True)
        self.root = Path(backup_dir)
        self.run = json.loads(json.dumps(run))  # as it will read back from state.json
        self.early_stopping, self.checkpoint = early_stopping, checkpoint
        self.timer, self.nan_guard = timer, nan_guard
        self.csv_path = None if csv_path is None else Path(csv_path)
        found = _snapshots(self.root)
        self.snapshot: Path | None = found[-1][1] if found else None
        self.state: dict[str, Any] = self._read_state(self.snapshot) if self.snapshot else {}
        if self.state and self.state["run"] != self.run:
            here, there = self.run, self.state["run"]
            diff = "; ".join(f"{key} {there.get(key)!r} there, {here.get(key)!r} here"
                             for key in sorted(set(here) | set(there)) if here.get(key) != there.get(key))
            raise ValueError(
                f"{self.snapshot} is the backup of another run ({diff}): resume with the settings "
                "and data it was started with, or use an empty backup_dir to start over"
            )
        #: Epochs the latest snapshot has done: where the resumed ``fit`` starts (0: a new run).
        self.initial_epoch: int = self.state.get("epochs_done", 0)
        #: The history so far, one list per metric (restored epochs first).
        self.history: dict[str, list[float]] = {k: list(v) for k, v in self.state.get("history", {}).items()}
        #: Seconds the earlier sessions spent in ``fit``.
        self.past_wall_time: float = self.state.get("wall_time", 0.0)
        self._session_start = time.perf_counter()

    @staticmethod
    def _read_state(snapshot: Path) -> dict[str, Any]:
        try:
            state = json.loads((snapshot / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"{snapshot} is not a readable training snapshot: {error}") from error
        if state.get("format") != BACKUP_FORMAT:
            raise ValueError(
                f"{snapshot} was written in snapshot format {state.get('format')!r}; this fmnist reads "
                f"format {BACKUP_FORMAT} only: start the run over with an empty backup_dir"
            )
        return state

    def restore_csv(self) -> bool:
        """Put the snapshot's CSV log back at ``csv_path`` (rows of later epochs dropped).

        Call it before ``fit``, whose ``CSVLogger`` opens the file first; append to it then.
        Returns whether there was a log to restore.
        """
        saved = None if self.snapshot is None else self.snapshot / "history.csv"
        if self.csv_path is None or saved is None or not saved.is_file():
            return False
        with atomic_path(self.csv_path) as tmp:
            shutil.copyfile(saved, tmp)
        return True

    def _seed_states(self) -> list:
        # The model's variables that are neither weights nor metric state are its random seed
        # generators' states (Keras's own definition of `Layer.weights`).
        skip = {id(v) for v in self.model.weights} | {id(v) for v in self.model.metrics_variables}
        return [v for v in self.model.variables if id(v) not in skip]

    def on_train_begin(self, logs=None):
        self._session_start = time.perf_counter()
        if self.snapshot is None:
            return  # a new run: nothing to load (and no stray file of Keras's to pick up)
        # Keras's loader reads its two files from these paths: point them at the snapshot.
        self._weights_path = str(self.snapshot / self.WEIGHTS)
        self._training_metadata_path = str(self.snapshot / self.METADATA)
        super().on_train_begin(logs)  # weights + optimizer state; fit starts at the saved epoch
        state = self.state
        with np.load(self.snapshot / "arrays.npz") as arrays:
            seeds = [arrays[f"seed_{i}"] for i in range(state["seed_states"])]
            best_weights = [arrays[f"best_{i}"] for i in range(state["best_weights"])]
            global_state = arrays["global_random_state"] if "global_random_state" in arrays else None
        variables = self._seed_states()
        if len(variables) != len(seeds):
            raise ValueError(f"{self.snapshot}: the model has {len(variables)} random seed states, "
                             f"the snapshot {len(seeds)}; is it the same model?")  # fmt: skip
        for variable, value in zip(variables, seeds):
            variable.assign(value)
        set_global_random_state(global_state)
        if self.early_stopping is not None and "early_stopping" in state:
            for key, value in state["early_stopping"].items():
                setattr(self.early_stopping, key, value)
            self.early_stopping.best_weights = best_weights or None
        if self.checkpoint is not None and "checkpoint_best" in state:
            self.checkpoint.best = state["checkpoint_best"]
        if self.timer is not None:
            self.timer.times = list(state["epoch_times"])
        if self.nan_guard is not None:
            self.nan_guard.fired_at = state["nan_fired_at"]
        if state["stopped"]:
            # Early stopping (or the NaN guard) had ended the run at that epoch before fit could
            # finish: run no more epochs, only on_train_end (best weights, clean-up).
            self.model._initial_epoch = self.params["epochs"]

    def on_epoch_begin(self, epoch, logs=None):
        # fit has read the start epoch by now; Keras leaves it on the model, where a later
        # fit() of the same model would start from it.
        self.model._initial_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        super().on_epoch_end(epoch, logs)  # counts the epoch and calls _save_model

    def _state(self, epochs_done: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """What Keras's two files leave out: JSON-able values, and the arrays (``arrays.npz``)."""
        seeds = [keras.ops.convert_to_numpy(v) for v in self._seed_states()]
        arrays = {f"seed_{i}": value for i, value in enumerate(seeds)}
        global_state = global_random_state()
        if global_state is not None:
            arrays["global_random_state"] = global_state
        state: dict[str, Any] = {
            "format": BACKUP_FORMAT, "epochs_done": epochs_done, "run": self.run, "history": self.history,
            "wall_time": self.past_wall_time + time.perf_counter() - self._session_start,
            "stopped": bool(self.model.stop_training), "seed_states": len(seeds), "best_weights": 0,
            "epoch_times": list(self.timer.times) if self.timer is not None else [],
            "nan_fired_at": self.nan_guard.fired_at if self.nan_guard is not None else None,
        }  # fmt: skip
        if self.early_stopping is not None:
            es = self.early_stopping
            state["early_stopping"] = {
                "wait": int(es.wait), "stopped_epoch": int(es.stopped_epoch),
                "best": None if es.best is None else float(es.best), "best_epoch": int(es.best_epoch),
            }  # fmt: skip
            best_weights = es.best_weights or []
            arrays.update({f"best_{i}": np.asarray(w) for i, w in enumerate(best_weights)})
            state["best_weights"] = len(best_weights)
        if self.checkpoint is not None:
            state["checkpoint_best"] = None if self.checkpoint.best is None else float(self.checkpoint.best)
        return state, arrays

    def _save_model(self):
        done = self._current_epoch
        target = self.root / f"epoch-{done:04d}"
        with atomic_directory(target) as tmp:
            # Keras's saver writes its two files to these paths: point them into the snapshot.
            self._weights_path = str(tmp / self.WEIGHTS)
            self._training_metadata_path = str(tmp / self.METADATA)
            super()._save_model()
            state, arrays = self._state(done)
            np.savez(tmp / "arrays.npz", **arrays)
            if self.csv_path is not None and self.csv_path.is_file():
                shutil.copyfile(self.csv_path, tmp / "history.csv")
            (tmp / "state.json").write_text(json.dumps(state, indent=1), encoding="utf-8")
        self.snapshot, self.state = target, state
        # The new snapshot is in place: drop the older ones and any left by a crash mid-write.
        for entry in self.root.iterdir():
            if entry != target and (_SNAPSHOT.match(entry.name) or entry.name.startswith(".epoch-")):
                shutil.rmtree(entry, ignore_errors=True)

    def on_train_end(self, logs=None):
        self.model._initial_epoch = None  # also when no epoch ran (see on_epoch_begin)
        super().on_train_end(logs)  # a completed fit: Keras deletes backup_dir
