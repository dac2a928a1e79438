"""Keras callbacks that :func:`fmnist.training.train` attaches to ``fit``.

Each one does a job no built-in callback does: publish checkpoints atomically, record the
epoch where the loss became NaN, time the training part of each epoch, and decay the learning
rate over an epoch count known only when ``train`` is called.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from fmnist.atomic import atomic_path

__all__ = ["AtomicModelCheckpoint", "CosineDecay", "EpochTimer", "NaNGuard"]


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
