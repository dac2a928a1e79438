"""Resuming an interrupted ``train`` (issue J item 4): the data order, the backup, the result.

A resumed run must end with the history and weights of an uninterrupted run on the same seed.
The runs here are tiny (a few hundred synthetic samples, one hidden layer) so that each takes
seconds.
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import pandas as pd
import pytest

from fmnist.backend import backend_name, global_random_state, set_global_random_state
from fmnist.data import build_augmentation, make_dataset
from fmnist.model import build_mlp, build_regression_net, compile_model, load_model
from fmnist.training import TrainingDivergedError, backup_epochs, set_seed, train

#: Several batches per compiled call where the backend allows it (torch runs one).
SPE = 1 if backend_name() == "torch" else 4


def blobs(n=240, seed=0, n_classes=10, dim=784):
    """Separable classification data: a fixed random template per class plus noise."""
    rng = np.random.default_rng(seed)
    templates = rng.random((n_classes, dim), dtype=np.float32)
    y = np.arange(n) % n_classes
    x = 0.7 * templates[y] + 0.3 * rng.random((n, dim), dtype=np.float32)
    return x.astype(np.float32), y.astype(np.int64)


def small_mlp(dropout=0.2, learning_rate=1e-2):
    """One hidden layer (with dropout, so the seed generators' state matters)."""
    model = build_mlp(hidden_units=(16,), dropout=dropout)
    return compile_model(model, learning_rate=learning_rate, steps_per_execution=SPE)


class _Interrupt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt at the end of epoch ``after`` (1-based), as a user's Ctrl-C would."""

    def __init__(self, after: int):
        super().__init__()
        self.after = after

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after:
            raise KeyboardInterrupt(f"stopped after epoch {self.after}")


def _run(tmp_path, name, interrupt_after=None, seed=3, extra=(), **kwargs):
    """One ``train`` call in a fresh model seeded like a new process; returns (result, model)."""
    set_seed(seed)
    model = small_mlp()
    x, y = blobs()
    extra = list(extra) + ([_Interrupt(interrupt_after)] if interrupt_after else [])
    options = dict(epochs=6, batch_size=32, seed=seed, patience=None, backup_dir=tmp_path / name / "backup",
                   csv_path=tmp_path / name / "history.csv",
                   checkpoint_path=tmp_path / name / "best.keras")  # fmt: skip
    options.update(kwargs)
    result = train(model, (x[:200], y[:200]), (x[200:], y[200:]), callbacks=extra, **options)
    return result, model


def _assert_same_run(resumed, reference):
    (res, model), (ref, ref_model) = resumed, reference
    columns = [c for c in ref.history.columns if c != "epoch_time"]
    assert list(res.history.index) == list(ref.history.index)
    np.testing.assert_allclose(res.history[columns].to_numpy(), ref.history[columns].to_numpy(), rtol=0, atol=0)
    for a, b in zip(model.get_weights(), ref_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=0)
    for a, b in zip(model.optimizer.variables, ref_model.optimizer.variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    assert res.best_epoch == ref.best_epoch and res.epochs_run == ref.epochs_run
    assert len(res.history["epoch_time"]) == res.epochs_run and (res.history["epoch_time"] > 0).all()


# ------------------------------------------------------------------------------ data order
def _labels(ds) -> np.ndarray:
    return np.concatenate([np.asarray(batch[1]) for batch in ds])


@pytest.mark.portable
def test_shuffling_keeps_images_and_labels_paired_and_every_epoch_gets_a_new_order():
    n = 50
    x = np.repeat(np.arange(n, dtype=np.float32)[:, None], 784, axis=1)  # each image holds its index
    ds = make_dataset(x, np.arange(n), batch_size=16, shuffle=True, seed=1)
    epochs = []
    for _ in range(4):
        batches = list(ds)
        assert [len(b[1]) for b in batches] == [16, 16, 16, 2]
        images = np.concatenate([np.asarray(b[0]) for b in batches])
        labels = np.concatenate([np.asarray(b[1]) for b in batches])
        np.testing.assert_array_equal(images[:, 0], labels)  # image and label moved together
        np.testing.assert_array_equal(images.min(axis=1), images.max(axis=1))  # whole images
        assert sorted(labels) == list(range(n))  # a permutation: every sample once per epoch
        epochs.append(labels)
    assert len({tuple(e) for e in epochs}) == 4  # a new order in every epoch
    assert not any(np.array_equal(e, np.arange(n)) for e in epochs)  # and shuffled
    assert int(ds.cardinality()) == 4  # known to Keras (progress bar, steps per epoch)


@pytest.mark.portable
def test_only_passes_that_read_draw_an_order_and_start_epoch_skips_orders():
    n = 40
    x, y = np.zeros((n, 784), np.float32), np.arange(n)

    def dataset(start_epoch=0):
        set_seed(0)  # tf.data's shuffle seed is (global seed, op seed)
        return make_dataset(x, y, batch_size=8, shuffle=True, seed=5, start_epoch=start_epoch)

    ds = dataset()
    fresh = [_labels(ds) for _ in range(5)]
    ds = dataset()
    unread = [iter(ds) for _ in range(3)]  # as Keras's epoch loops create and drop iterators
    np.testing.assert_array_equal(_labels(ds), fresh[0])
    next(unread[0])  # a pass that reads draws the next order
    np.testing.assert_array_equal(_labels(ds), fresh[2])
    for k in (1, 3):
        ds = dataset(start_epoch=k)
        for expected in fresh[k:]:
            np.testing.assert_array_equal(_labels(ds), expected)


@pytest.mark.portable
def test_make_dataset_checks_start_epoch():
    x, y = np.zeros((4, 784), np.float32), np.zeros(4, int)
    with pytest.raises(ValueError, match="^start_epoch must be an int >= 0, got -1$"):
        make_dataset(x, y, shuffle=True, start_epoch=-1)
    with pytest.raises(ValueError, match="^start_epoch must be an int >= 0, got 1.5$"):
        make_dataset(x, y, shuffle=True, start_epoch=1.5)


@pytest.mark.portable
def test_a_small_mlp_still_learns_separable_data_through_the_training_pipeline():
    # A shuffle that broke the image-label pairs, or repeated one order, would leave it near
    # chance (0.1). Learning rate 1e-3: at 3e-2 (and at 1e-2 for some seeds) Adam drives this
    # MLP to chance on these data with the pipeline before the flat_map change as well.
    x, y = blobs(600, seed=1)
    for seed in (0, 1):
        set_seed(seed)
        model = compile_model(build_mlp(hidden_units=(32,)), learning_rate=1e-3, steps_per_execution=SPE)
        result = train(model, (x[:500], y[:500]), (x[500:], y[500:]), epochs=4, batch_size=32, seed=seed)
        assert result.history["val_accuracy"].iloc[-1] > 0.9
        assert result.history["loss"].iloc[-1] < result.history["loss"].iloc[0] / 2


# ------------------------------------------------------------------------ resumed training
@pytest.mark.portable
@pytest.mark.parametrize("interrupt_after", [1, 4])
def test_a_resumed_run_ends_with_the_history_and_weights_of_an_uninterrupted_one(tmp_path, interrupt_after):
    reference = _run(tmp_path, "whole")
    assert not (tmp_path / "whole" / "backup").exists()  # a completed run drops its backup
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, "resumed", interrupt_after=interrupt_after)
    backup = tmp_path / "resumed" / "backup"
    assert backup_epochs(backup) == interrupt_after
    assert sorted(os.listdir(backup)) == [f"epoch-{interrupt_after:04d}"]  # one snapshot, no temp files
    assert sorted(os.listdir(backup / f"epoch-{interrupt_after:04d}")) == [
        "arrays.npz", "history.csv", "latest.weights.h5", "state.json", "training_metadata.json"]  # fmt: skip
    resumed = _run(tmp_path, "resumed")  # a fresh model, as in a new process
    _assert_same_run(resumed, reference)
    assert not backup.exists()
    log, ref_log = (pd.read_csv(tmp_path / name / "history.csv") for name in ("resumed", "whole"))
    pd.testing.assert_frame_equal(log, ref_log)  # one row per epoch, none twice
    for a, b in zip(load_model(tmp_path / "resumed" / "best.keras").get_weights(),
                    load_model(tmp_path / "whole" / "best.keras").get_weights()):  # fmt: skip
        np.testing.assert_array_equal(a, b)
    assert resumed[0].wall_time > 0


@pytest.mark.portable
def test_resume_restores_early_stopping_and_the_cosine_schedule(tmp_path):
    # Shifted validation labels make val_loss rise early, so early stopping has a best epoch,
    # a waiting counter and best weights to carry over.
    x, y = blobs()
    kwargs = dict(epochs=8, patience=2, lr_schedule="cosine")

    def run(name, interrupt_after=None):
        set_seed(3)
        model = small_mlp()
        extra = [_Interrupt(interrupt_after)] if interrupt_after else []
        result = train(model, (x[:200], y[:200]), (x[200:], (y[200:] + 1) % 10), batch_size=32, seed=3,
                       backup_dir=tmp_path / name, callbacks=extra, **kwargs)  # fmt: skip
        return result, model

    reference = run("whole")
    assert reference[0].epochs_run < 8  # early stopping fired
    stop = reference[0].epochs_run
    # Cut with a best epoch behind and a waiting counter, and in the epoch early stopping fired
    # in (before fit could restore the best weights).
    for after in sorted({reference[0].best_epoch, stop - 1, stop}):
        with pytest.raises(KeyboardInterrupt):
            run(f"cut{after}", interrupt_after=after)
        _assert_same_run(run(f"cut{after}"), reference)


@pytest.mark.portable
def test_resume_after_the_last_epoch_only_finishes(tmp_path):
    # Interrupted after the last epoch's snapshot but before fit ended: no epoch runs again.
    reference = _run(tmp_path, "whole", epochs=3)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, "cut", interrupt_after=3, epochs=3)
    epochs_seen = []
    counter = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs_seen.append(epoch))
    resumed = _run(tmp_path, "cut", epochs=3, extra=[counter])
    assert epochs_seen == []
    _assert_same_run(resumed, reference)
    assert not (tmp_path / "cut" / "backup").exists()


@pytest.mark.portable
def test_a_crash_while_writing_a_snapshot_leaves_the_one_before(tmp_path, monkeypatch):
    reference = _run(tmp_path, "whole", epochs=4)
    real_savez, calls = np.savez, []

    def savez_then_fail(path, **arrays):  # the third epoch's snapshot breaks half-way
        calls.append(path)
        real_savez(path, **arrays)
        if len(calls) == 3:
            raise OSError("disk full")

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="disk full"):
        _run(tmp_path, "cut", epochs=4)
    monkeypatch.undo()
    assert os.listdir(tmp_path / "cut" / "backup") == ["epoch-0002"]  # no half-written epoch 3
    _assert_same_run(_run(tmp_path, "cut", epochs=4), reference)


@pytest.mark.portable
def test_a_model_trained_after_a_resumed_run_starts_at_epoch_one(tmp_path):
    # Keras's BackupAndRestore leaves the resumed epoch on the model; train must not.
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, "cut", interrupt_after=2, epochs=4)
    result, model = _run(tmp_path, "cut", epochs=4)
    assert result.epochs_run == 4
    x, y = blobs(64)
    again = train(model, (x, y), epochs=2, batch_size=32)
    assert again.epochs_run == 2 and list(again.history.index) == [1, 2]


@pytest.mark.portable
def test_a_diverged_run_ends_and_drops_its_backup(tmp_path):
    x = np.random.default_rng(0).uniform(-2, 2, (64, 1)).astype(np.float32)
    model = compile_model(build_regression_net(hidden_units=(8,)), optimizer="sgd", learning_rate=1e12,
                          task="regression", steps_per_execution=1)  # fmt: skip
    with pytest.raises(TrainingDivergedError, match="epoch 1"):
        train(model, (x, np.sin(x) * 1e3), epochs=5, batch_size=16, backup_dir=tmp_path / "b")
    assert not (tmp_path / "b").exists()  # fit ended (stopped on NaN): nothing left to resume


@pytest.mark.portable
def test_the_backup_refuses_another_run(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, "cut", interrupt_after=1, epochs=4)
    backup = tmp_path / "cut" / "backup"
    x, y = blobs()
    for change, expected in [
        (dict(epochs=5), r"epochs 4 there, 5 here"),
        (dict(seed=4), r"seed 3 there, 4 here"),
        (dict(batch_size=16), r"batch_size 32 there, 16 here"),
        (dict(train_data=(x[:200] * 0.5, y[:200])), r"train_data '[0-9a-f]{16}' there, '[0-9a-f]{16}' here"),
    ]:
        options = dict(epochs=4, batch_size=32, seed=3, backup_dir=backup)
        data = change.pop("train_data", (x[:200], y[:200]))
        options.update(change)
        with pytest.raises(ValueError, match=rf"epoch-0001 is the backup of another run \({expected}\): resume "
                                             r"with the settings and data it was started with"):  # fmt: skip
            train(small_mlp(), data, (x[200:], y[200:]), **options)
    assert backup_epochs(backup) == 1  # refused before anything was written


@pytest.mark.portable
def test_an_unreadable_or_foreign_snapshot_is_a_clear_error(tmp_path):
    snapshot = tmp_path / "b" / "epoch-0002"
    snapshot.mkdir(parents=True)
    (snapshot / "state.json").write_text("{not json")
    x, y = blobs(32)
    with pytest.raises(ValueError, match="epoch-0002 is not a readable training snapshot"):
        train(small_mlp(), (x, y), epochs=3, backup_dir=tmp_path / "b")
    (snapshot / "state.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(ValueError, match="snapshot format 99; this fmnist reads format 1 only"):
        train(small_mlp(), (x, y), epochs=3, backup_dir=tmp_path / "b")
    assert backup_epochs(tmp_path / "nothing") is None
    (tmp_path / "b" / ".epoch-0003.123.abcd.tmp").mkdir()  # a crash mid-write: not a snapshot
    assert backup_epochs(tmp_path / "b") == 2


@pytest.mark.portable
def test_resume_with_augmentation_goes_on_at_the_right_epoch(tmp_path):
    # Augmentation draws restart from the layers' seeds (not bitwise equal), but the run goes
    # on at the saved epoch with the saved weights and history.
    x, y = blobs()
    augment = build_augmentation(flip=True, rotation=0.0, noise=0.05, erasing=0.0, seed=0)
    with pytest.raises(KeyboardInterrupt):
        train(small_mlp(), (x, y), epochs=4, batch_size=32, augment=augment, backup_dir=tmp_path / "b",
              callbacks=[_Interrupt(2)])  # fmt: skip
    first = json.loads((tmp_path / "b" / "epoch-0002" / "state.json").read_text())["history"]["loss"]
    result = train(small_mlp(), (x, y), epochs=4, batch_size=32, augment=augment, backup_dir=tmp_path / "b")
    assert result.epochs_run == 4 and list(result.history["loss"][:2]) == first
    assert np.isfinite(result.history["loss"]).all()


@pytest.mark.portable
def test_the_global_random_state_round_trips():
    state = global_random_state()
    if backend_name() != "torch":
        assert state is None  # every Keras layer draws from its own seed generator's variable
        set_global_random_state(None)
        return
    layer = keras.layers.Dropout(0.5)  # no seed of its own: torch's global generator
    ones = np.ones((4, 64), np.float32)
    first = keras.ops.convert_to_numpy(layer(ones, training=True))
    set_global_random_state(state)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(ones, training=True)), first)
