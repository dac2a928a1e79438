"""fmnist.data.corruptions and fmnist.robustness: seeded corruptions, accuracy under them."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fmnist.data import corruptions as cor
from fmnist.robustness import corruption_accuracy, mean_corruption_accuracy

pytestmark = pytest.mark.portable


@pytest.fixture(scope="module")
def images():
    """Bright blobs on a dark background, like clothing: 16 images in [0, 1]."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:28, :28]
    out = []
    for _ in range(16):
        cy, cx, r = rng.uniform(9, 19), rng.uniform(9, 19), rng.uniform(4, 8)
        out.append(np.clip(1.2 - np.hypot(yy - cy, xx - cx) / r, 0, 1) * rng.uniform(0.6, 1.0))
    return np.stack(out).astype(np.float32)


@pytest.mark.parametrize("name", cor.CORRUPTIONS)
def test_severity_zero_is_the_identity(images, name):
    np.testing.assert_array_equal(cor.corrupt(images, name, 0), images)


@pytest.mark.parametrize("name", cor.CORRUPTIONS)
def test_parameters_grow_with_severity_and_so_does_the_damage(images, name):
    params = cor.SEVERITY_PARAMETERS[name]
    assert len(params) == len(cor.SEVERITIES) and params[0] == 0
    assert all(a < b for a, b in zip(params, params[1:]))
    damage = [float(np.abs(cor.corrupt(images, name, s, seed=3) - images).mean()) for s in cor.SEVERITIES]
    assert damage[0] == 0 and damage[1] > 0
    assert all(a <= b + 1e-6 for a, b in zip(damage, damage[1:])), damage


@pytest.mark.parametrize("name", cor.CORRUPTIONS)
def test_deterministic_per_seed_in_range_and_layout_kept(images, name):
    a = cor.corrupt(images, name, 3, seed=7)
    np.testing.assert_array_equal(a, cor.corrupt(images, name, 3, seed=7))
    assert a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    for shape in ((16, 28, 28, 1), (16, 784)):
        np.testing.assert_array_equal(cor.corrupt(images.reshape(shape), name, 3, seed=7).reshape(a.shape), a)


def test_each_corruption_does_what_its_name_says(images):
    np.testing.assert_array_equal(cor.corrupt(images, "hflip", 5), images[:, :, ::-1])
    np.testing.assert_array_equal(cor.corrupt(images, "vflip", 5), images[:, ::-1, :])
    assert (cor.corrupt(images, "hflip", 1) != images).any(axis=(1, 2)).sum() <= round(0.2 * 16)
    bright = cor.corrupt(images, "brightness", 2)
    np.testing.assert_allclose(bright, np.clip(images + 0.2, 0, 1), atol=1e-6)
    low = cor.corrupt(images, "contrast", 5)
    np.testing.assert_allclose(low.std(axis=(1, 2)), images.std(axis=(1, 2)) * 0.15, rtol=1e-4)
    noisy = cor.corrupt(np.full((64, 28, 28), 0.5, np.float32), "gaussian_noise", 3)
    assert noisy.std() == pytest.approx(0.12, rel=0.05) and noisy.mean() == pytest.approx(0.5, abs=0.01)
    blurred = cor.corrupt(images, "gaussian_blur", 5)
    assert np.abs(np.diff(blurred, axis=2)).mean() < np.abs(np.diff(images, axis=2)).mean()
    zeroed = (cor.corrupt(np.ones((8, 28, 28), np.float32), "occlusion", 5) == 0).sum(axis=(1, 2))
    np.testing.assert_array_equal(zeroed, 12 * 12)
    square = np.zeros((8, 28, 28), np.float32)
    square[:, 12:16, 12:16] = 1.0  # far from the border: a 4-pixel shift cuts nothing off
    moved = cor.corrupt(square, "shift", 4)
    np.testing.assert_array_equal(moved.sum(axis=(1, 2)), 16.0)
    rows, cols = np.mgrid[:28, :28]
    offset = np.stack([(moved * rows).sum(axis=(1, 2)) / 16 - 13.5, (moved * cols).sum(axis=(1, 2)) / 16 - 13.5], 1)
    np.testing.assert_array_equal(np.sort(np.abs(offset), axis=1), np.tile([0.0, 4.0], (8, 1)))
    turned = cor.corrupt(images, "rotation", 5)
    assert not np.allclose(turned, images)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"name": "fog", "severity": 1}, ValueError, "unknown corruption 'fog'; valid names: gaussian_noise"),
    ({"name": "shift", "severity": 6}, ValueError, r"severity must be an int in \[0, 5\], got 6"),
    ({"name": "shift", "severity": -1}, ValueError, "severity must be an int >= 0"),
    ({"name": "shift", "severity": 1.5}, ValueError, "severity must be an int"),
    ({"name": "shift", "severity": 1, "seed": -2}, ValueError, "seed must be an int >= 0"),
])  # fmt: skip
def test_bad_names_and_severities(images, kwargs, error, match):
    with pytest.raises(error, match=match):
        cor.corrupt(images, **kwargs)


@pytest.mark.parametrize("x, match", [
    (np.zeros((0, 28, 28)), "at least one sample"),
    (np.zeros((2, 32, 32)), r"28x28 images .* got \(2, 32, 32\)"),
    (np.full((2, 28, 28), 255.0), r"scaled to \[0, 1\]"),
    (np.full((2, 28, 28), np.nan), "NaN"),
])  # fmt: skip
def test_bad_images(x, match):
    with pytest.raises(ValueError, match=match):
        cor.corrupt(x, "shift", 1)


def _blob_classifier():
    """A fixed 'model': class 1 if the image is bright in the centre, else 0 (no training)."""
    inputs = keras.Input((28, 28, 1))
    centre = keras.layers.Cropping2D(10)(inputs)
    score = keras.layers.GlobalAveragePooling2D()(centre)
    logits = keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant([[-20.0, 20.0]]),
                                bias_initializer=keras.initializers.Constant([5.0, -5.0]))(score)  # fmt: skip
    return keras.Model(inputs, keras.layers.Softmax()(logits), name="blob")


def test_corruption_accuracy_table_and_its_summary(images):
    model = _blob_classifier()
    y = (images[:, 10:18, 10:18].mean(axis=(1, 2)) > 0.25).astype(int)
    table = corruption_accuracy({"blob": model}, images, y, corruptions=("brightness", "occlusion"),
                                severities=(0, 1, 5))  # fmt: skip
    assert list(table.columns) == ["model", "corruption", "severity", "parameter", "accuracy"]
    assert len(table) == 2 * 3
    assert (table[table["severity"] == 0]["accuracy"] == 1.0).all()
    summary = mean_corruption_accuracy(table)
    assert list(summary.columns) == ["clean", "mean corrupted", "brightness", "occlusion"]
    assert summary.loc["blob", "clean"] == 1.0
    assert summary.loc["blob", "mean corrupted"] == pytest.approx(
        table[table["severity"] > 0]["accuracy"].mean())
    with pytest.raises(ValueError, match="unknown corruption"):
        corruption_accuracy(model, images, y, corruptions=("fog",))
    with pytest.raises(ValueError, match="16 samples but y has 3"):
        corruption_accuracy(model, images, y[:3])
    with pytest.raises(TypeError, match="keras.Model"):
        corruption_accuracy({"x": "not a model"}, images, y)
    with pytest.raises(ValueError, match="no corrupted rows"):
        mean_corruption_accuracy(table[table["severity"] == 0])
