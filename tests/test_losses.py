"""Label smoothing on integer labels equals Keras's one-hot smoothing, and compiles and saves."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fmnist.model import SmoothedSparseCategoricalCrossentropy, build_cnn, compile_model, load_model, save_model

pytestmark = pytest.mark.portable

RNG = np.random.default_rng(0)
PROBS = keras.ops.convert_to_numpy(keras.ops.softmax(RNG.normal(size=(8, 5)).astype("float32")))
LABELS = np.array([0, 1, 2, 3, 4, 0, 1, 2])


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_matches_categorical_crossentropy_on_one_hot_labels(smoothing):
    ours = SmoothedSparseCategoricalCrossentropy(smoothing)(LABELS, PROBS)
    keras_own = keras.losses.CategoricalCrossentropy(label_smoothing=smoothing)(np.eye(5)[LABELS], PROBS)
    np.testing.assert_allclose(float(ours), float(keras_own), rtol=1e-5)
    if smoothing == 0.0:
        sparse = keras.losses.SparseCategoricalCrossentropy()(LABELS, PROBS)
        np.testing.assert_allclose(float(ours), float(sparse), rtol=1e-5)


def test_column_labels_and_bad_smoothing():
    np.testing.assert_allclose(
        float(SmoothedSparseCategoricalCrossentropy(0.1)(LABELS[:, None], PROBS)),
        float(SmoothedSparseCategoricalCrossentropy(0.1)(LABELS, PROBS)), rtol=1e-6,
    )  # fmt: skip
    for bad in (-0.1, 1.0, "0.1"):
        with pytest.raises((ValueError, TypeError), match="label_smoothing"):
            SmoothedSparseCategoricalCrossentropy(bad)


def test_compile_model_label_smoothing_trains_and_round_trips(tmp_path):
    model = compile_model(build_cnn(conv_blocks=[{"filters": 4}]), label_smoothing=0.1)
    assert isinstance(model.loss, SmoothedSparseCategoricalCrossentropy)
    x = RNG.random((32, 28, 28, 1), dtype=np.float32)
    model.fit(x, np.arange(32) % 10, epochs=1, verbose=0)
    path = save_model(model, tmp_path / "smooth.keras")
    loaded = load_model(path)
    assert loaded.loss.label_smoothing == pytest.approx(0.1)
    with pytest.raises(ValueError, match="needs task='classification'"):
        compile_model(build_cnn(conv_blocks=[{"filters": 4}], n_classes=2), task="regression", label_smoothing=0.1)
