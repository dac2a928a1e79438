"""Tests of the fused batch norm (fmnist.backend.batchnorm, re-exported by fmnist.model): the
Keras batch norm, only faster on tensorflow, and Keras's own code on jax and torch."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf  # a hard dependency; its GradientTape is used on the tensorflow backend only

import fmnist.backend
import fmnist.model.layers
from fmnist.backend import backend_name
from fmnist.model import (
    FusedBatchNormalization,
    build_cnn,
    build_mlp,
    build_model,
    compile_model,
    load_model,
    save_model,
)
from fmnist.training import train

only_tensorflow = pytest.mark.skipif(
    backend_name() != "tensorflow", reason="tf.GradientTape: the tensorflow backend only"
)


def _np(tensor):
    return keras.ops.convert_to_numpy(tensor)


def _pair(shape, **kwargs):
    """A Keras and a fused batch norm with the same (non-trivial) weights."""
    plain, fused = keras.layers.BatchNormalization(**kwargs), FusedBatchNormalization(**kwargs)
    for layer in (plain, fused):
        layer.build(shape)
    rng = np.random.default_rng(1)
    weights = [rng.normal(1.0, 0.3, w.shape).astype("float32") for w in plain.get_weights()]
    weights[3] = np.abs(weights[3])  # moving variance
    plain.set_weights(weights)
    fused.set_weights(weights)
    return plain, fused


@pytest.mark.portable
def test_one_layer_class_in_the_backend_layer_and_the_model_package():
    assert fmnist.model.layers.FusedBatchNormalization is fmnist.backend.FusedBatchNormalization
    assert FusedBatchNormalization is fmnist.backend.FusedBatchNormalization
    assert keras.saving.get_registered_name(FusedBatchNormalization) == "fmnist>FusedBatchNormalization"


@pytest.mark.portable
@pytest.mark.parametrize("training", [True, False])
def test_fused_matches_keras_outputs_and_moving_statistics(training):
    x = np.random.default_rng(0).normal(2.0, 3.0, (8, 5, 5, 4)).astype("float32")
    plain, fused = _pair(x.shape, momentum=0.9)
    before = _np(fused.moving_variance).copy()
    np.testing.assert_allclose(_np(fused(x, training=training)), _np(plain(x, training=training)), atol=1e-4)
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Training moves the moving averages (the same way as Keras, above); inference does not.
    assert np.allclose(_np(fused.moving_variance), before) is not training


@only_tensorflow
def test_fused_gradients_match_keras():
    x = tf.constant(np.random.default_rng(2).normal(0.0, 2.0, (6, 4, 4, 3)).astype("float32"))
    plain, fused = _pair(x.shape)
    grads = []
    for layer in (plain, fused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.sin(layer(x, training=True)))
        grads.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    for a, b in zip(*grads):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-4, atol=1e-4)


@pytest.mark.portable
def test_inputs_the_kernel_cannot_take_use_the_keras_path():
    x = np.random.default_rng(3).normal(size=(8, 6)).astype("float32")  # 2-D: not fusable
    plain, fused = _pair(x.shape)
    np.testing.assert_allclose(_np(fused(x, training=True)), _np(plain(x, training=True)), atol=1e-5)
    no_scale = FusedBatchNormalization(scale=False)
    assert no_scale(np.ones((2, 3, 3, 2), "float32"), training=True).shape == (2, 3, 3, 2)
    images = np.random.default_rng(5).normal(size=(4, 3, 3, 2)).astype("float32")
    plain, renorm = _pair(images.shape, renorm=True)  # Keras-only option: same outputs as Keras
    np.testing.assert_allclose(_np(renorm(images, training=True)), _np(plain(images, training=True)), atol=1e-5)


@pytest.mark.portable
def test_builders_fuse_conv_batch_norm_only_and_the_model_round_trips(tmp_path):
    model = build_cnn(conv_blocks=[{"filters": 4}], dense_units=(8,), batch_norm=True)
    assert type(model.get_layer("bn_1")) is FusedBatchNormalization
    assert type(model.get_layer("bn_hidden_1")) is keras.layers.BatchNormalization
    assert type(build_mlp(hidden_units=(8,), batch_norm=True).get_layer("bn_hidden_1")) is (
        keras.layers.BatchNormalization
    )
    unfused = build_cnn(conv_blocks=[{"filters": 4}], batch_norm=True, fused_batch_norm=False)
    assert type(unfused.get_layer("bn_1")) is keras.layers.BatchNormalization
    with pytest.raises(TypeError, match="fused_batch_norm must be True or False"):
        build_cnn(batch_norm=True, fused_batch_norm="yes")
    x = np.random.default_rng(4).random((5, 28, 28, 1), dtype=np.float32)
    loaded = load_model(save_model(model, tmp_path / "bn.keras"))
    assert type(loaded.get_layer("bn_1")) is FusedBatchNormalization
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.portable
def test_batch_norm_cnns_build_and_train_on_every_backend():
    # cnn_best (conv batch norm) failed to build on jax when the layer called TF's kernel there
    assert type(build_model("cnn_best").get_layer("bn_1")) is FusedBatchNormalization
    model = compile_model(build_cnn(conv_blocks=[{"filters": 4}], dense_units=(8,), batch_norm=True))
    rng = np.random.default_rng(6)
    x, y = rng.random((64, 28, 28, 1), dtype=np.float32), np.arange(64) % 10
    before = _np(model.get_layer("bn_1").moving_mean).copy()
    result = train(model, (x, y), epochs=1, batch_size=32)
    assert np.isfinite(result.history["loss"]).all()
    assert not np.allclose(_np(model.get_layer("bn_1").moving_mean), before)  # statistics moved
