"""fmnist.interpret on tiny hand-built functional models (no data files, a few seconds).

Every test is ``portable``: it runs on each Keras backend (``KERAS_BACKEND=jax pytest -m
portable tests/test_interpret.py``). The models get their weights from NumPy (``_numpy_weights``)
so they are the same on every backend; Keras's seeded initializers are not.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fmnist import interpret

pytestmark = pytest.mark.portable
_np = keras.ops.convert_to_numpy  # np.asarray refuses torch tensors that require grad


def _numpy_weights(model, seed):
    """Glorot-uniform kernels from a NumPy generator, zero biases: the same on every backend."""
    rng = np.random.default_rng(seed)
    for variable in model.trainable_variables:
        shape = tuple(variable.shape)
        if len(shape) >= 2:
            receptive = int(np.prod(shape[:-2]))
            limit = np.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))
            variable.assign(rng.uniform(-limit, limit, shape).astype(np.float32))
        elif variable.name == "bias":
            variable.assign(np.zeros(shape, np.float32))
    return model


def _mlp(hidden=(5,), dropout=False, n_classes=3):
    keras.utils.set_random_seed(1)
    inputs = keras.Input((784,), name="input")
    x = inputs
    for i, units in enumerate(hidden, start=1):
        # tanh, not ReLU: a ReLU unit that is off at the random start image has no gradient.
        x = keras.layers.Dense(units, activation="tanh", name=f"hidden_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(0.5, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(x)
    return _numpy_weights(keras.Model(inputs, outputs, name="tiny_mlp"), 1)


@pytest.fixture(scope="module")
def mlp():
    return _mlp()


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((12, 12, 1), name="input")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool_1")(x)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv_2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(x)
    return _numpy_weights(keras.Model(inputs, outputs, name="tiny_cnn"), 2)


@pytest.fixture(scope="module")
def toy():
    """Hand-set weights: class 0 reads *only* the top-left quadrant of channel 0.

    conv_1 (2x2, stride 2, no bias) sums 2x2 blocks: channel 0 = relu(sum) fires on bright
    patches, channel 1 = relu(-sum) on negative ones. Class 0's Dense weights are 1 on the
    top-left 2x2 block positions of channel 0 and 0 elsewhere; class 1 reads channel 1
    everywhere.
    """
    inputs = keras.Input((8, 8, 1), name="input")
    x = keras.layers.Conv2D(2, 2, strides=2, use_bias=False, activation="relu",
                            name="conv_1")(inputs)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="output")(x)
    model = keras.Model(inputs, outputs, name="toy")
    kernel = np.zeros((2, 2, 1, 2), np.float32)
    kernel[..., 0, 0], kernel[..., 0, 1] = 1.0, -1.0
    model.get_layer("conv_1").set_weights([kernel])
    dense = np.zeros((4, 4, 2, 2), np.float32)  # (h, w, channel, class) = flatten order
    dense[:2, :2, 0, 0] = 1.0
    dense[:, :, 1, 1] = 1.0
    model.get_layer("output").set_weights([dense.reshape(32, 2), np.zeros(2, np.float32)])
    return model


@pytest.fixture
def toy_image():
    image = np.zeros((8, 8, 1), np.float32)
    image[1:3, 1:3] = 1.0  # bright patch in the top-left quadrant (class 0 evidence)
    image[5:7, 5:7] = -1.0  # negative patch bottom-right (class 1 evidence)
    return image


@pytest.fixture(scope="module")
def regression_net():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((1,), name="input")
    x = keras.layers.Dense(5, activation="tanh", name="hidden_1")(inputs)
    x = keras.layers.Dense(4, activation="tanh", name="hidden_2")(x)
    outputs = keras.layers.Dense(1, name="output")(x)
    return _numpy_weights(keras.Model(inputs, outputs, name="tiny_regression"), 3)


# ------------------------------------------------------------------------------- weights
def test_receptive_field_of_one_hidden_layer_is_its_reshaped_weights(mlp):
    fields = interpret.receptive_fields(mlp, "hidden_1")
    kernel = np.asarray(mlp.get_layer("hidden_1").kernel)
    assert fields.shape == (5, 28, 28)
    np.testing.assert_allclose(fields, kernel.T.reshape(5, 28, 28), rtol=1e-6)


def test_receptive_field_of_deeper_layer_is_the_kernel_product():
    model = _mlp(hidden=(6, 4), dropout=True)
    fields = interpret.receptive_fields(model, "hidden_2")
    w1, w2 = (np.asarray(model.get_layer(n).kernel, np.float64) for n in ("hidden_1", "hidden_2"))
    assert fields.shape == (4, 28, 28)
    np.testing.assert_allclose(fields, (w1 @ w2).T.reshape(4, 28, 28), rtol=1e-5)


def test_receptive_fields_rejects_bad_layers(mlp, cnn):
    with pytest.raises(ValueError, match="no layer 'hidden_9'.*hidden_1"):
        interpret.receptive_fields(mlp, "hidden_9")
    with pytest.raises(ValueError, match="chain of Dense layers"):
        interpret.receptive_fields(cnn, "output")


def test_conv_filters_shape_and_values(cnn):
    filters = interpret.conv_filters(cnn, "conv_2")
    kernel = np.asarray(cnn.get_layer("conv_2").kernel)  # (3, 3, 4, 6)
    assert filters.shape == (6, 3, 3, 4)
    np.testing.assert_array_equal(filters[2], kernel[..., 2])
    assert interpret.conv_filters(cnn).shape == (4, 3, 3, 1)  # default: first conv layer


def test_conv_filters_errors(cnn, mlp):
    with pytest.raises(ValueError, match="not a conv layer.*conv_1, conv_2"):
        interpret.conv_filters(cnn, "pool_1")
    with pytest.raises(ValueError, match="no layer 'conv_9'.*layer names: input, conv_1"):
        interpret.conv_filters(cnn, "conv_9")
    with pytest.raises(ValueError, match="no conv layers"):
        interpret.conv_filters(mlp)


def test_layer_weights(cnn):
    weights = interpret.layer_weights(cnn)
    assert list(weights) == ["conv_1", "conv_2", "output"]
    assert weights["conv_2"].shape == (3 * 3 * 4 * 6,)


# --------------------------------------------------------------------------- activations
def test_feature_maps_of_every_conv_layer(cnn):
    image = np.random.default_rng(0).uniform(size=(12, 12)).astype(np.float32)
    maps = interpret.feature_maps(cnn, image)  # (12, 12) fits a (12, 12, 1) input
    assert {name: m.shape for name, m in maps.items()} == {"conv_1": (12, 12, 4),
                                                           "conv_2": (4, 4, 6)}
    assert all(np.isfinite(m).all() and (m >= 0).all() for m in maps.values())  # ReLU
    batched = interpret.feature_maps(cnn, image[None, :, :, None], layers=["pool_1"])
    assert batched["pool_1"].shape == (6, 6, 4)


@pytest.mark.parametrize("shape", [(10, 10), (12, 12, 3), (2, 12, 12, 1), (144,)])
def test_wrong_image_shape_is_rejected(cnn, shape):
    with pytest.raises(ValueError, match=r"does not fit the model input \(12, 12, 1\)"):
        interpret.feature_maps(cnn, np.zeros(shape, np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        interpret.grad_cam(cnn, np.zeros(shape, np.float32))


def test_activation_profiles_and_patterns(regression_net):
    profiles = interpret.activation_profiles(regression_net)
    assert {k: v.shape for k, v in profiles.items()} == {"hidden_1": (201, 5),
                                                         "hidden_2": (201, 4)}
    assert all(np.isfinite(v).all() and (np.abs(v) <= 1).all() for v in profiles.values())
    grid = np.linspace(-5, 5, 7)
    assert interpret.activation_profiles(regression_net, grid)["hidden_1"].shape == (7, 5)
    patterns = interpret.activation_patterns(regression_net, [-4, -2, 0.1, 2.5, 4])
    assert patterns["hidden_2"].shape == (5, 4)
    # The pattern rows are the profile rows at the same inputs.
    np.testing.assert_allclose(patterns["hidden_1"][0],
                               interpret.activation_profiles(regression_net, [-4.0])["hidden_1"][0],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="do not fit the model input"):
        interpret.activation_patterns(regression_net, np.zeros((3, 2)))


# -------------------------------------------------------------------- gradient methods
@pytest.mark.parametrize("layer, index", [("output", 1), ("hidden_1", 2)])
def test_maximize_activation_increases_dense_targets(mlp, layer, index):
    result = interpret.maximize_activation(mlp, layer, index, steps=30, lr=0.05, l2=1e-3)
    assert result.image.shape == (784,)
    assert result.trace.shape == (31,)
    assert np.isfinite(result.trace).all()
    assert result.trace[-1] > result.trace[0]
    assert result.image.min() >= 0.0 and result.image.max() <= 1.0  # default clip (0, 1)


def test_maximize_activation_conv_filter_with_blur(cnn):
    # A ReLU filter that is off on the grey start image has no gradient: take one that is on
    # (zero biases, so its kernel sums to > 0).
    index = int(np.argmax(np.asarray(cnn.get_layer("conv_1").kernel).sum(axis=(0, 1, 2))))
    result = interpret.maximize_activation(cnn, "conv_1", index, steps=20, blur=0.8, seed=3)
    assert result.image.shape == (12, 12, 1)
    assert result.trace[-1] > result.trace[0]


def test_maximize_activation_uses_the_pre_softmax_logit(mlp):
    result = interpret.maximize_activation(mlp, "output", 0, steps=5, clip=None)
    hidden = keras.Model(mlp.inputs[0], mlp.get_layer("hidden_1").output)
    features = _np(hidden(result.image[None]))
    out = mlp.get_layer("output")
    logit = features @ np.asarray(out.kernel)[:, 0] + np.asarray(out.bias)[0]
    np.testing.assert_allclose(result.trace[-1], logit[0], rtol=1e-4)
    probability = float(_np(mlp(result.image[None]))[0, 0])
    assert abs(result.trace[-1] - probability) > 1e-3


def test_maximize_activation_errors(mlp):
    with pytest.raises(ValueError, match="out of range: valid indices are 0..2"):
        interpret.maximize_activation(mlp, "output", 3)
    with pytest.raises(ValueError, match="no layer 'nope'.*output"):
        interpret.maximize_activation(mlp, "nope", 0)
    with pytest.raises(TypeError, match="must be an int"):
        interpret.maximize_activation(mlp, "output", 1.5)
    for steps in (0, 2.5, True):
        with pytest.raises(ValueError, match=f"steps must be an int >= 1, got {steps!r}"):
            interpret.maximize_activation(mlp, "output", 0, steps=steps)
    with pytest.raises(ValueError, match="blur_every must be an int >= 1, got 0"):
        interpret.maximize_activation(mlp, "output", 0, blur_every=0)
    bad = [({"lr": float("nan")}, "lr must be a finite number > 0, got nan"),
           ({"lr": -1}, "lr must be a finite number > 0, got -1"),
           ({"blur": -2}, r"blur must be a finite number >= 0 \(sigma in pixels"),
           ({"l2": -5}, "l2 must be a finite number >= 0, got -5"),
           ({"clip": (1, 0)}, r"low < high, got \(1.0, 0.0\)"),
           ({"clip": (0,)}, r"clip must be None or a pair \(low, high\), got \(0,\)"),
           ({"seed": -1}, "seed must be an int >= 0, got -1")]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            interpret.maximize_activation(mlp, "output", 0, steps=1, **kwargs)


def test_grad_cam_highlights_the_region_that_drives_the_class(toy, toy_image):
    heat = interpret.grad_cam(toy, toy_image, class_index=0)
    assert heat.shape == (8, 8)  # upsampled from the 4x4 conv maps to the input size
    assert heat.dtype == np.float32 and heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
    assert np.unravel_index(heat.argmax(), heat.shape) < (4, 4)
    assert heat[:4, :4].mean() > 5 * heat[4:, 4:].mean()
    # The other class is driven by the bottom-right patch only.
    other = interpret.grad_cam(toy, toy_image, class_index=1)
    assert other[4:, 4:].mean() > 5 * other[:4, :4].mean()
    layercam = interpret.grad_cam(toy, toy_image, class_index=0, method="layercam")
    assert layercam[:4, :4].mean() > 5 * layercam[4:, 4:].mean()


def test_grad_cam_defaults_to_the_predicted_class(toy, toy_image):
    predicted = int(np.argmax(_np(toy(toy_image[None]))))
    np.testing.assert_array_equal(interpret.grad_cam(toy, toy_image),
                                  interpret.grad_cam(toy, toy_image, class_index=predicted))


def test_grad_cam_on_a_cnn(cnn):
    image = np.random.default_rng(1).uniform(size=(12, 12, 1)).astype(np.float32)
    for kwargs in ({}, {"conv_layer": "conv_1"}, {"method": "layercam", "class_index": 2}):
        heat = interpret.grad_cam(cnn, image, **kwargs)
        assert heat.shape == (12, 12) and np.isfinite(heat).all()
        assert heat.min() >= 0.0 and heat.max() <= 1.0


def test_grad_cam_default_reads_the_maps_after_batch_norm():
    from fmnist.model import build_cnn

    keras.utils.set_random_seed(3)
    model = _numpy_weights(
        build_cnn((12, 12, 1), ({"filters": 4}, {"filters": 6}), batch_norm=True, n_classes=3), 3)
    assert [layer.name for layer in model.layers][5:8] == ["conv_2", "bn_2", "act_2"]
    # Trained-looking statistics, so batch norm is not the identity.
    rng = np.random.default_rng(0)
    bn = model.get_layer("bn_2")
    bn.set_weights([rng.uniform(0.5, 2, w.shape).astype("float32") if i in (0, 3)
                    else rng.normal(size=w.shape).astype("float32")
                    for i, w in enumerate(bn.get_weights())])
    image = rng.uniform(size=(12, 12, 1)).astype(np.float32)
    for method in ("gradcam", "layercam"):
        default = interpret.grad_cam(model, image, class_index=1, method=method)
        act = interpret.grad_cam(model, image, class_index=1, method=method, conv_layer="act_2")
        conv = interpret.grad_cam(model, image, class_index=1, method=method, conv_layer="conv_2")
        np.testing.assert_array_equal(default, act)
        assert not np.allclose(default, conv)


def test_grad_cam_errors(cnn, mlp):
    image = np.zeros((12, 12, 1), np.float32)
    with pytest.raises(ValueError, match="needs a model with conv layers.*hidden_1"):
        interpret.grad_cam(mlp, np.zeros(784, np.float32))
    with pytest.raises(ValueError, match="spatial"):
        interpret.grad_cam(cnn, image, conv_layer="flatten")
    with pytest.raises(ValueError, match="class_index 3 is out of range"):
        interpret.grad_cam(cnn, image, class_index=3)
    with pytest.raises(ValueError, match="method"):
        interpret.grad_cam(cnn, image, method="guided")
    unbuilt = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(TypeError, match="functional model"):
        interpret.grad_cam(unbuilt, image)


def test_saliency(toy, toy_image, mlp):
    sal = interpret.saliency(toy, toy_image, class_index=0)
    assert sal.shape == (8, 8) and sal.max() == pytest.approx(1.0) and sal.min() >= 0
    assert sal[4:, :].max() == 0 and sal[:, 4:].max() == 0  # class 0 ignores the rest
    flat = interpret.saliency(mlp, np.full(784, 0.5, np.float32))
    assert flat.shape == (28, 28) and np.isfinite(flat).all()
    with pytest.raises(ValueError, match="out of range"):
        interpret.saliency(toy, toy_image, class_index=-1)


# -------------------------------------------------------------- gradient ascent vs fields
def _relu_mlp():
    keras.utils.set_random_seed(4)
    inputs = keras.Input((784,), name="input")
    x = keras.layers.Dense(6, activation="relu", name="hidden_1")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(x)
    model = _numpy_weights(keras.Model(inputs, outputs, name="relu_mlp"), 4)
    # A unit that is off for every [0, 1] image: only its pre-activation has a gradient.
    model.get_layer("hidden_1").bias.assign(np.asarray([-1e3, 0, 0, 0, 0, 0], np.float32))
    return model


def test_pre_activation_moves_a_relu_unit_that_is_off():
    model = _relu_mlp()
    off = interpret.maximize_activation(model, "hidden_1", 0, steps=10)
    assert np.all(off.trace == 0)  # ReLU output 0 throughout: no gradient, no change
    on = interpret.maximize_activation(model, "hidden_1", 0, steps=10, pre_activation=True)
    assert on.trace[-1] > on.trace[0]
    with pytest.raises(ValueError, match="pre_activation needs a Dense layer; 'conv_1' is a Conv2D"):
        interpret.maximize_activation(_cnn_for_errors(), "conv_1", 0, pre_activation=True)


def _cnn_for_errors():
    inputs = keras.Input((8, 8, 1), name="input")
    x = keras.layers.Conv2D(2, 3, name="conv_1")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="output")(keras.layers.Flatten()(x))
    return keras.Model(inputs, outputs)


def test_first_layer_gradient_ascent_follows_the_receptive_field():
    # The pre-activation's gradient of a first-layer unit is its weight vector: the ascent
    # brightens exactly the pixels with positive weights, so the image tracks the field.
    comparison = interpret.compare_with_receptive_fields(_relu_mlp(), "hidden_1", [0, 2, 5], steps=40)
    assert comparison.units == [0, 2, 5]
    assert comparison.images.shape == comparison.fields.shape == (3, 28, 28)
    assert comparison.correlation.shape == (3,)
    assert np.all(comparison.correlation > 0.8)
    output = interpret.compare_with_receptive_fields(_relu_mlp(), "output", range(3), steps=20)
    assert np.all(np.abs(output.correlation) <= 1)


def test_compare_with_receptive_fields_errors():
    model = _relu_mlp()
    with pytest.raises(ValueError, match="units must name at least one unit"):
        interpret.compare_with_receptive_fields(model, "hidden_1", [])
    with pytest.raises(ValueError, match="out of range: valid indices are 0..5"):
        interpret.compare_with_receptive_fields(model, "hidden_1", [6])
    with pytest.raises(ValueError, match="no layer 'hidden_9'"):
        interpret.compare_with_receptive_fields(model, "hidden_9", [0])


def test_pattern_correlation():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 5, 5))
    np.testing.assert_allclose(interpret.pattern_correlation(a, a), 1.0)
    np.testing.assert_allclose(interpret.pattern_correlation(a, -3 * a + 2), -1.0)
    expected = [np.corrcoef(p.ravel(), q.ravel())[0, 1] for p, q in zip(a, a[::-1])]
    np.testing.assert_allclose(interpret.pattern_correlation(a, a[::-1]), expected)
    with pytest.raises(ValueError, match=r"same shape, got \(4, 5, 5\) and \(3, 5, 5\)"):
        interpret.pattern_correlation(a, a[:3])
    with pytest.raises(ValueError, match="non-empty stack"):
        interpret.pattern_correlation(np.zeros((0, 5)), np.zeros((0, 5)))
    constant = a.copy()
    constant[2] = 7.0
    with pytest.raises(ValueError, match=r"pattern\(s\) \[2\] are constant"):
        interpret.pattern_correlation(constant, a)
