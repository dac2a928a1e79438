"""Tests of fmnist.training on tiny synthetic data."""

from __future__ import annotations

import os

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf  # a hard dependency (tf.data); its determinism switch is checked on tensorflow

import fmnist.training
from fmnist.backend import backend_name
from fmnist.data import build_augmentation
from fmnist.model import (
    PRESETS,
    InputShapeError,
    build_mlp,
    build_model,
    build_regression_net,
    compile_model,
    load_model,
)
from fmnist.training import (
    CVResult,
    TrainingDivergedError,
    TrainResult,
    cross_validate,
    ensemble_predict,
    refit,
    set_seed,
    train,
)

SHAPES = {"mlp": (784,), "cnn": (28, 28, 1)}
#: Several batches per compiled call where the backend allows it (torch runs one).
SPE = 1 if backend_name() == "torch" else 4


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Drop Keras/TF state of earlier tests (dozens of models slow later tracing down)."""
    yield
    keras.backend.clear_session()


def blobs(n=128, layout="mlp", seed=0, n_classes=10):
    """Learnable classification data: a fixed random template per class plus noise."""
    rng = np.random.default_rng(seed)
    templates = rng.random((n_classes,) + SHAPES[layout], dtype=np.float32)
    y = np.arange(n) % n_classes
    x = 0.7 * templates[y] + 0.3 * rng.random((n,) + SHAPES[layout], dtype=np.float32)
    return x.astype(np.float32), y.astype(np.int64)


def curve(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (n, 1)).astype(np.float32)
    return x, np.sin(x).astype(np.float32)


def tiny_mlp():
    return compile_model(build_mlp(hidden_units=(8,)), learning_rate=1e-2, steps_per_execution=SPE)


@pytest.mark.parametrize("name", sorted(n for n in PRESETS if not n.startswith("test_")))
def test_every_preset_trains_and_its_loss_decreases(name):
    layout = PRESETS[name].layout
    task = PRESETS[name].task
    model = compile_model(build_model(name), learning_rate=3e-3, task=task)
    x, y = curve(64) if task == "regression" else blobs(64, layout)
    result = train(model, (x, y), epochs=2, batch_size=16)
    loss = result.history["loss"]
    assert result.epochs_run == 2 and np.isfinite(loss).all()
    assert loss.iloc[-1] < loss.iloc[0], f"{name}: loss did not decrease: {list(loss)}"


@pytest.mark.portable
def test_train_result_fields_csv_and_checkpoint(tmp_path):
    x, y = blobs(96)
    model = tiny_mlp()
    result = train(
        model, (x[:64], y[:64]), (x[64:], y[64:]), epochs=3, batch_size=16,
        checkpoint_path=tmp_path / "ck" / "best.keras", csv_path=tmp_path / "log" / "history.csv",
    )  # fmt: skip
    assert isinstance(result, TrainResult) and result.model is model
    h = result.history
    assert list(h.index) == [1, 2, 3] and h.index.name == "epoch"
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "epoch_time"} <= set(h.columns)
    assert result.best_epoch == int(h["val_loss"].idxmin())
    assert result.params == model.count_params() and result.images_per_sec > 0 and result.wall_time > 0
    assert not result.stopped_on_nan and result.monitor == "val_loss"
    assert repr(result).startswith("TrainResult(model='mlp', params=6,370, epochs_run=3")
    csv = pd.read_csv(tmp_path / "log" / "history.csv")
    np.testing.assert_allclose(csv["loss"], h["loss"], rtol=1e-5)
    assert os.listdir(tmp_path / "ck") == ["best.keras"]  # the temp file was renamed away
    best = load_model(tmp_path / "ck" / "best.keras")
    assert best.count_params() == model.count_params()


class _WeightRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


@pytest.mark.portable
def test_early_stopping_restores_best_weights_and_checkpoint_holds_them(tmp_path):
    x, y = blobs(64)
    # Validation labels are shifted, so once the model learns the training labels val_loss
    # rises and early stopping fires long before 20 epochs.
    recorder = _WeightRecorder()
    model = tiny_mlp()
    result = train(
        model, (x, y), (x, (y + 1) % 10), epochs=20, batch_size=16, patience=2,
        checkpoint_path=tmp_path / "best.keras", callbacks=[recorder],
    )  # fmt: skip
    best = result.best_epoch
    assert result.epochs_run == best + 2 < 20
    assert result.history["val_loss"].iloc[-1] > result.history["val_loss"].loc[best]
    for restored, kept in zip(model.get_weights(), recorder.weights[best - 1]):
        np.testing.assert_array_equal(restored, kept)
    assert not np.array_equal(model.get_weights()[0], recorder.weights[-1][0])
    saved = load_model(tmp_path / "best.keras")
    for a, b in zip(saved.get_weights(), recorder.weights[best - 1]):
        np.testing.assert_array_equal(a, b)


def _diverging_regression_net():
    # A learning rate of 1e12 makes the weights overflow to inf within a few steps, and the
    # MSE loss becomes inf/NaN: the realistic way training diverges.
    return compile_model(build_regression_net(hidden_units=(8,)), optimizer="sgd",
                         learning_rate=1e12, task="regression", steps_per_execution=1)


@pytest.mark.portable
def test_nan_loss_stops_training_with_clear_message():
    x, y = curve(64)
    with pytest.raises(TrainingDivergedError, match="loss became NaN/inf in epoch 1.*learning rate") as err:
        train(_diverging_regression_net(), (x, y * 1e3), epochs=5, batch_size=16)
    assert err.value.result.stopped_on_nan and err.value.result.epochs_run == 1
    result = train(_diverging_regression_net(), (x, y * 1e3), epochs=5, batch_size=16, on_nan="return")
    assert result.stopped_on_nan and result.epochs_run < 5


def test_nan_in_the_data_is_a_clear_error():
    x, y = blobs(64)
    x[5, 3] = np.nan
    with pytest.raises(ValueError, match=r"train_data: x contains NaN/inf \(first at sample 5\)"):
        train(tiny_mlp(), (x, y), epochs=1, batch_size=16)


@pytest.mark.portable
def test_same_seed_gives_identical_weights_after_training():
    x, y = blobs(64, "cnn")
    weights = []
    for _ in range(2):
        set_seed(7)
        model = compile_model(build_model("cnn_small"))
        train(model, (x, y), epochs=2, batch_size=16, seed=7)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.portable
def test_train_uncompiled_model_and_no_validation():
    x, y = curve(32)
    model = build_regression_net((4,))
    result = train(model, (x, y), epochs=2, batch_size=8, patience=1)
    assert result.monitor == "loss" and "mse" in result.history
    assert isinstance(model.loss, keras.losses.MeanSquaredError)


def test_train_bad_input(tmp_path):
    x, y = blobs(32)
    model = tiny_mlp()
    with pytest.raises(InputShapeError, match=r"shape \(32, 28, 28, 1\).*expects \(N, 784\)"):
        train(model, (x.reshape(-1, 28, 28, 1), y))
    with pytest.raises(ValueError, match="expects"):
        train(model, (x, y), val_data=(x[:, :100], y))
    with pytest.raises(ValueError, match="x has 32 samples but y has 31"):
        train(model, (x, y[:-1]))
    with pytest.raises(TypeError, match=r"\(x, y\) tuple"):
        train(model, x)
    with pytest.raises(ValueError, match="epochs must be an int >= 1, got 0"):
        train(model, (x, y), epochs=0)
    with pytest.raises(ValueError, match="patience"):
        train(model, (x, y), patience=-1)
    with pytest.raises(ValueError, match="on_nan"):
        train(model, (x, y), on_nan="ignore")
    with pytest.raises(ValueError, match=r"integer class labels in \[0, 10\).*got values in \[3, 12\]"):
        train(model, (x, y + 3))
    with pytest.raises(ValueError, match="not one-hot"):
        train(model, (x, np.eye(10)[y]))
    with pytest.raises(ValueError, match="must end with '.keras'"):
        train(model, (x, y), checkpoint_path=tmp_path / "best.h5")
    with pytest.raises(TypeError, match="train_data: y must hold numbers, got dtype <U"):
        train(model, (x, y.astype(str)))
    with pytest.raises(TypeError, match="x must hold numbers, got dtype object"):
        train(model, (x.astype(object), y))


class _RateLog(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.rates = getattr(self, "rates", []) + [float(np.asarray(self.model.optimizer.learning_rate))]


@pytest.mark.portable
def test_cosine_lr_schedule_decays_per_epoch_and_restores_the_compiled_rate():
    x, y = blobs(32)
    model = tiny_mlp()  # compiled with learning_rate 1e-2
    log = _RateLog()
    train(model, (x, y), epochs=4, batch_size=8, lr_schedule="cosine", callbacks=[log])
    np.testing.assert_allclose(log.rates, [1e-2 * 0.5 * (1 + np.cos(np.pi * e / 4)) for e in range(4)], rtol=1e-5)
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(1e-2)
    constant = _RateLog()
    train(model, (x, y), epochs=2, batch_size=8, callbacks=[constant])
    assert constant.rates == pytest.approx([1e-2, 1e-2])


class _StopInSecondEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:  # the rate has decayed by now (epoch 0 runs at the full rate)
            raise KeyboardInterrupt("user pressed stop")


@pytest.mark.portable
def test_an_interrupted_cosine_run_still_restores_the_compiled_rate():
    x, y = blobs(32)
    model = tiny_mlp()  # compiled with learning_rate 1e-2
    with pytest.raises(KeyboardInterrupt):
        train(model, (x, y), epochs=4, batch_size=8, lr_schedule="cosine", callbacks=[_StopInSecondEpoch()])
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(1e-2)


def test_lr_schedule_bad_input():
    x, y = blobs(16)
    with pytest.raises(ValueError, match=r"unknown lr_schedule 'step'; valid: \(None, 'cosine'\)"):
        train(tiny_mlp(), (x, y), lr_schedule="step")
    model = build_mlp(hidden_units=(4,))
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(1e-2, 10, 0.9)),
                  loss="sparse_categorical_crossentropy")  # fmt: skip
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        train(model, (x, y), epochs=1, lr_schedule="cosine")


@pytest.mark.portable
def test_set_seed(monkeypatch):
    calls = []
    if backend_name() == "tensorflow":  # the backend layer's call reaches TensorFlow's switch
        monkeypatch.setattr(tf.config.experimental, "enable_op_determinism", lambda: calls.append(1))
    else:
        monkeypatch.setattr(fmnist.training, "enable_determinism", lambda: calls.append(1))
    set_seed(1, deterministic=True)
    assert calls == [1]
    set_seed(5)
    a = np.random.random(3)
    set_seed(5)
    np.testing.assert_array_equal(a, np.random.random(3))
    with pytest.raises(ValueError, match="seed must be an int >= 0, got -1"):
        set_seed(-1)


# --------------------------------------------------------------------------- CV / ensemble
@pytest.mark.portable
def test_cross_validate_classification_folds_are_disjoint_covering_and_stratified():
    x, y = blobs(60)
    cv = cross_validate(tiny_mlp, x, y, k=3, epochs=1, batch_size=20)
    assert isinstance(cv, CVResult) and len(cv.models) == len(cv.folds) == 3
    val = np.concatenate([va for _, va in cv.folds])
    assert sorted(val) == list(range(60))  # every sample validated exactly once
    for tr, va in cv.folds:
        assert not set(tr) & set(va) and len(tr) + len(va) == 60
        assert np.all(np.bincount(y[va], minlength=10) == 2)  # stratified: 2 per class
    assert len({id(m) for m in cv.models}) == 3
    assert not np.array_equal(cv.models[0].get_weights()[0], cv.models[1].get_weights()[0])
    assert list(cv.scores["fold"]) == [1, 2, 3]
    assert {"val_loss", "val_accuracy", "best_epoch", "train_time"} <= set(cv.scores.columns)
    assert list(cv.summary().index) == ["mean", "std"]


def test_cross_validate_regression_uses_kfold_and_preset_names():
    x, y = curve(20)
    cv = cross_validate("regression_10_15_10", x, y, k=2, task="regression", epochs=1, batch_size=10)
    assert {"val_mse", "val_mae"} <= set(cv.scores.columns)
    assert sorted(np.concatenate([va for _, va in cv.folds])) == list(range(20))
    assert isinstance(cv.models[0].loss, keras.losses.MeanSquaredError)


def test_cross_validate_and_refit_repeat_exactly_whatever_ran_before():
    x, y = curve(20)
    runs = []
    for noise in range(2):
        np.random.default_rng(noise).random()  # other work in between must not matter
        keras.random.normal((3,))  # draws from Keras's global seed generator
        cv = cross_validate("regression_10_15_10", x, y, k=2, task="regression", epochs=1, batch_size=10)
        fit = refit("regression_10_15_10", x, y, epochs=1, task="regression", batch_size=10)
        runs.append((cv.scores["val_mse"].tolist(), fit.model.get_weights()[0]))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_cross_validate_bad_input():
    x, y = blobs(20)
    for k in (1, 0, -2):
        with pytest.raises(ValueError, match="k must be an int >= 2"):
            cross_validate(tiny_mlp, x, y, k=k)
    with pytest.raises(ValueError, match="rarest class has 2"):
        cross_validate(tiny_mlp, x, y, k=3)
    with pytest.raises(ValueError, match="unknown task"):
        cross_validate(tiny_mlp, x, y, k=2, task="ranking")
    same = tiny_mlp()
    with pytest.raises(ValueError, match="fresh model per fold"):
        cross_validate(lambda: same, x, y, k=2, epochs=1)


def test_ensemble_predict_is_the_mean_of_members():
    x, _ = blobs(16)
    models = [build_mlp(hidden_units=(4,)) for _ in range(3)]
    members = [m.predict(x, verbose=0) for m in models]
    np.testing.assert_allclose(ensemble_predict(models, x), np.mean(members, axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="at least one model"):
        ensemble_predict([], x)
    with pytest.raises(InputShapeError):
        ensemble_predict(models, x.reshape(-1, 28, 28, 1))


@pytest.mark.portable
def test_refit_trains_a_fresh_model_on_all_data():
    x, y = blobs(40)
    result = refit(tiny_mlp, x, y, epochs=2, batch_size=8)
    assert result.epochs_run == 2 and result.monitor == "loss"
    result = refit("regression_10_15_10", *curve(20), epochs=1, task="regression", batch_size=10)
    assert result.model.output_shape == (None, 1)


@pytest.mark.portable
def test_train_with_noise_and_erasing_augmentation_on_every_backend():
    # GaussianNoise inside the tf.data map raised NotImplementedError on jax and torch
    x, y = blobs(64, "cnn")
    augment = build_augmentation(flip=True, rotation=0.05, noise=0.1, erasing=0.25, translation=0.05, seed=0)
    result = train(compile_model(build_model("cnn_small")), (x, y), (x, y), epochs=2, batch_size=32, augment=augment)
    assert result.epochs_run == 2 and np.isfinite(result.history["loss"]).all()
    mlp = train(tiny_mlp(), blobs(32), epochs=1, batch_size=16, augment=build_augmentation(noise=0.1, seed=1))
    assert np.isfinite(mlp.history["loss"]).all()  # (N, 784) inputs are augmented as images
