"""fmnist.gradients: matrix-product demo and gradient norms of the deep, thin MLP.

Every test is ``portable`` (runs on each Keras backend: ``KERAS_BACKEND=torch pytest -m
portable tests/test_gradients.py``); the two deep-thin tests share one training run.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from fmnist import gradients
from fmnist.model import build_regression_net, compile_model, layer_weights
from fmnist.training import set_seed

pytestmark = pytest.mark.portable

# ------------------------------------------------------------------------ matrix products
def test_matrix_product_table_shape():
    table = gradients.matrix_product_simulation(depth=10, size=5, init="glorot")
    assert list(table.columns) == ["init", "depth", "mean", "std"]
    assert table["depth"].tolist() == list(range(11))
    assert (table["init"] == "glorot").all()


def test_uniform_small_vanishes_to_zero():
    last = gradients.matrix_product_simulation(init="uniform_small").iloc[-1]
    assert abs(last["mean"]) < 1e-25
    assert last["std"] < 1e-25


def test_uniform_large_explodes_to_inf_or_nan():
    table = gradients.matrix_product_simulation(init="uniform_large")
    assert not np.isfinite(table.iloc[-1][["mean", "std"]].to_numpy(float)).any()
    assert np.isfinite(table.iloc[0][["mean", "std"]].to_numpy(float)).all()


@pytest.mark.parametrize("init, activation", [("glorot", None), ("he", None), ("he", "relu")])
def test_scaled_inits_stay_finite(init, activation):
    table = gradients.matrix_product_simulation(size=100, init=init, activation=activation)
    values = table[["mean", "std"]].to_numpy(float)
    assert np.isfinite(values).all()
    assert (table["std"].iloc[1:] > 0).all()


def test_matrix_product_demo_stacks_all_inits():
    table = gradients.matrix_product_demo(depth=20)
    assert table["init"].unique().tolist() == list(gradients.MATRIX_INITS)
    assert len(table) == 4 * 21


def test_matrix_product_errors():
    with pytest.raises(ValueError, match="unknown init 'xavier'.*uniform_small"):
        gradients.matrix_product_simulation(init="xavier")
    with pytest.raises(ValueError, match="depth must be an int >= 1, got 0"):
        gradients.matrix_product_simulation(depth=0)
    with pytest.raises(ValueError, match="activation"):
        gradients.matrix_product_simulation(activation="tanh")
    with pytest.raises(ValueError, match="^seed must be an int >= 0, got -1$"):
        gradients.matrix_product_simulation(seed=-1)
    for dtype in ("int8", "banana", None):  # int8 used to give a table of zeros
        with pytest.raises(ValueError, match=rf"^dtype must be a float dtype such as 'float32', got {dtype!r}$"):
            gradients.matrix_product_simulation(depth=3, dtype=dtype)
    assert gradients.matrix_product_simulation(depth=3, dtype=np.float64)["std"].iloc[-1] > 0


# ------------------------------------------------------------------------ gradient norms
@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.uniform(size=(64, 784)).astype(np.float32), rng.integers(0, 10, 64)


def test_gradient_norms_table(batch):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((784,), name="input")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden_1")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(hidden)
    model = keras.Model(inputs, outputs)
    norms = gradients.gradient_norms(model, *batch)
    assert norms.index.tolist() == ["hidden_1", "output"]
    assert list(norms.columns) == ["kernel", "bias"]
    assert np.isfinite(norms.to_numpy()).all() and (norms["kernel"] > 0).all()
    with pytest.raises(ValueError, match=r"expects \(N, 784\)"):
        gradients.gradient_norms(model, np.zeros((4, 28, 28)), np.zeros(4))
    with pytest.raises(ValueError, match="64 samples but y has 3"):
        gradients.gradient_norms(model, batch[0], batch[1][:3])


def test_gradient_norms_rejects_an_empty_batch_and_bad_labels(batch):
    # An empty batch used to give 0.0 "norms"; one-hot rows and out-of-range labels failed
    # deep inside Keras/TF.
    x, y = batch
    model = gradients._build_deep_thin("he", "relu", 0)
    with pytest.raises(ValueError, match=r"gradient_norms: x has shape \(0, 784\): "
                                         r"need at least one sample \(N >= 1\)"):
        gradients.gradient_norms(model, x[:0], y[:0])
    with pytest.raises(ValueError, match="not one-hot vectors"):
        gradients.gradient_norms(model, x[:4], np.eye(10)[y[:4]])
    with pytest.raises(ValueError, match=r"y must be integer class labels in \[0, 10\) for model 'deep_thin_mlp'"):
        gradients.gradient_norms(model, x[:4], np.array([0, 1, 12, 3]))
    with pytest.raises(TypeError, match="y must be integer class labels"):
        gradients.gradient_norms(model, x[:2], np.array(["a", "b"]))
    with pytest.raises(ValueError, match="expects \\(N, 784\\); this is an MLP.*reshape_for"):
        gradients.gradient_norms(model, x[:4].reshape(4, 28, 28), y[:4])
    # other losses take other targets: only the row count is checked
    mse = gradients.gradient_norms(model, x[:4], np.eye(10)[y[:4]], loss="mse")
    assert np.isfinite(mse.to_numpy()).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"norm_batch": 0}, r"norm_batch must be an int >= 1 \(rows of x the norms are measured on\), got 0"),
    ({"epochs": 0}, "epochs must be an int >= 1, got 0"),
    ({"epochs": 1.5}, "epochs must be an int >= 1, got 1.5"),
    ({"seed": -1}, "seed must be an int >= 0, got -1"),
])
def test_deep_thin_experiment_rejects_bad_counts_before_training(batch, kwargs, message):
    x, y = batch
    with pytest.raises(ValueError, match=message):
        gradients.deep_thin_experiment(x, y, configs={"a": ("he", "relu")}, **{"epochs": 1, **kwargs})


def test_deep_thin_experiment_rejects_bad_data_before_training(batch, monkeypatch):
    x, y = batch
    monkeypatch.setattr(keras.Model, "fit", lambda *a, **k: pytest.fail("trained on bad data"))
    run = lambda x, y: gradients.deep_thin_experiment(x, y, configs={"a": ("he", "relu")}, epochs=1)  # noqa: E731
    with pytest.raises(ValueError, match="not one-hot vectors"):
        run(x, np.eye(10)[y])
    with pytest.raises(ValueError, match=r"in \[0, 10\)"):
        run(x, y + 5)
    with pytest.raises(ValueError, match="this is an MLP.*reshape_for"):
        run(x.reshape(-1, 28, 28), y)
    with pytest.raises(ValueError, match="deep_thin_experiment: x has shape .*need at least one sample"):
        run(x[:0], y[:0])
    with pytest.raises(ValueError, match="64 samples but y has 3"):
        run(x, y[:3])


def test_deep_thin_nets_have_independent_layer_weights():
    model = gradients._build_deep_thin("uniform", "sigmoid", seed=0)
    assert model.count_params() == 6_730
    kernels = [np.asarray(model.get_layer(f"hidden_{i}").kernel) for i in range(2, 7)]
    assert not any(np.array_equal(kernels[0], k) for k in kernels[1:])
    assert -1.0 <= kernels[0].min() and kernels[0].max() <= 1.0


def test_uniform_sigmoid_first_layer_gradient_is_orders_of_magnitude_smaller(batch):
    stuck = gradients.gradient_norms(gradients._build_deep_thin("uniform", "sigmoid", 0), *batch)
    healthy = gradients.gradient_norms(gradients._build_deep_thin("he", "relu", 0), *batch)
    assert stuck.index.tolist()[0] == "hidden_1"
    assert stuck.loc["hidden_1", "kernel"] * 100 < healthy.loc["hidden_1", "kernel"]
    # In the sigmoid net the gradient shrinks on the way back to the input.
    assert stuck.loc["hidden_1", "kernel"] < stuck.loc["output", "kernel"] / 10


def test_gradient_norm_history_callback(batch):
    x, y = batch
    model = gradients._build_deep_thin("he", "relu", 0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    tracker = gradients.GradientNormHistory(x[:16], y[:16])
    model.fit(x, y, epochs=2, batch_size=32, callbacks=[tracker], verbose=0)
    frame = tracker.frame
    assert frame.index.tolist() == [0, 1, 2]
    assert frame.columns.tolist() == [f"hidden_{i}" for i in range(1, 7)] + ["output"]
    assert np.isfinite(frame.to_numpy()).all()


_CONFIGS = {"uniform + sigmoid": ("uniform", "sigmoid"), "he + relu": ("he", "relu")}


@pytest.fixture(scope="module")
def deep_thin(batch):
    """One deep-thin run (2 configs, 1 epoch) for the tests below: training is the slow part."""
    x, y = batch
    return gradients.deep_thin_experiment(x, y, validation_data=(x[:16], y[:16]),
                                          configs=_CONFIGS, epochs=1, batch_size=32,
                                          norm_batch=32)


def test_deep_thin_experiment(batch, deep_thin):
    x, y = batch
    result, configs = deep_thin, _CONFIGS
    assert list(result.norms.columns) == ["config", "epoch", "layer", "norm"]
    assert sorted(result.norms["epoch"].unique()) == [0, 1]
    assert len(result.norms) == 2 * 2 * 7
    assert list(result.histories) == list(configs)
    history = result.histories["he + relu"]
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(history.columns)
    assert history.index.tolist() == [1]
    init = result.at_init()
    assert isinstance(init, pd.DataFrame) and init.shape == (7, 2)
    assert init.index[0] == "hidden_1" and list(init.columns) == list(configs)
    with pytest.raises(ValueError, match="unknown initializer 'lecun'"):
        gradients.deep_thin_experiment(x, y, configs={"bad": ("lecun", "relu")}, epochs=1)


def test_deep_thin_summary_table(deep_thin):
    table = deep_thin.summary()
    assert list(table.index) == ["uniform + sigmoid", "he + relu"]
    np.testing.assert_allclose(
        table["first / output"], table["first layer norm"] / table["output layer norm"]
    )
    assert table.loc["uniform + sigmoid", "first layer norm"] < table.loc["he + relu", "first layer norm"]
    assert {"final loss", "final accuracy", "final val_accuracy"} <= set(table.columns)


# ------------------------------------------------------------------ initializers side by side
def _regression_builder(init):
    return compile_model(build_regression_net(hidden_units=(8,), kernel_initializer=init),
                         task="regression", learning_rate=1e-2)


@pytest.fixture(scope="module")
def initializer_comparison():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (40, 1)).astype(np.float32)
    y = (np.sin(x) + 0.1 * rng.normal(size=x.shape)).astype(np.float32)
    return gradients.compare_initializers(_regression_builder, x, y, k=2, epochs=3, batch_size=40, seed=0), (x, y)


def test_compare_initializers_table_curves_and_snapshots(initializer_comparison):
    comparison, (x, y) = initializer_comparison
    names = ["glorot_uniform", "he_normal"]
    assert list(comparison.table.index) == names
    assert list(comparison.table.columns) == ["cv_loss", "cv_loss_std", "refit_train_loss", "diverged"]
    assert np.isfinite(comparison.table.drop(columns="diverged").to_numpy(float)).all()
    assert list(comparison.table["diverged"]) == ["", ""]
    for name in names:
        assert list(comparison.curves[name].columns) == ["loss", "val_loss"]
        assert list(comparison.curves[name].index) == [1, 2, 3]
        before, after = comparison.initial_weights[name], layer_weights(comparison.models[name])
        assert before.keys() == after.keys() == {"hidden_1", "output"}
        assert not np.allclose(before["hidden_1"], after["hidden_1"])  # training moved them
    # He-normal draws larger first-layer weights than Glorot-uniform for fan-in 1.
    glorot, he = (comparison.initial_weights[n]["hidden_1"] for n in names)
    assert np.std(he) > np.std(glorot)


def test_compare_initializers_records_divergence_instead_of_raising(initializer_comparison):
    _, (x, y) = initializer_comparison

    def build(init):
        model = build_regression_net(hidden_units=(8,), kernel_initializer=init)
        scale = 1e30 if init == "he_normal" else 1.0  # only He blows up
        return compile_model(model, task="regression", optimizer="sgd", learning_rate=1e-2 * scale)

    comparison = gradients.compare_initializers(build, x, y, k=2, epochs=3, batch_size=40)
    assert comparison.table.loc["glorot_uniform", "diverged"] == ""
    assert comparison.table.loc["he_normal", "diverged"].startswith("cross-validation, epoch ")
    assert np.isnan(comparison.table.loc["he_normal", "cv_loss"])
    assert set(comparison.models) == set(comparison.curves) == {"glorot_uniform"}


def test_compare_initializers_snapshot_is_the_refit_start():
    # The snapshot is taken from the model that is then trained: rebuilding with the same
    # seed gives the same start, so the histograms show that refit's "before".
    set_seed(3)
    first = layer_weights(_regression_builder("he_normal"))
    set_seed(3)
    second = layer_weights(_regression_builder("he_normal"))
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_compare_initializers_errors():
    x, y = np.zeros((10, 1), np.float32), np.zeros((10, 1), np.float32)
    with pytest.raises(ValueError, match=r"unknown initializer\(s\) \['xavier'\]; valid names: .*he_normal"):
        gradients.compare_initializers(_regression_builder, x, y, initializers=["xavier"])
    with pytest.raises(ValueError, match="without repeats"):
        gradients.compare_initializers(_regression_builder, x, y, initializers=["he_normal", "he_normal"])
    with pytest.raises(ValueError, match="without repeats"):
        gradients.compare_initializers(_regression_builder, x, y, initializers=[])
    with pytest.raises(TypeError, match="build_fn must be a callable"):
        gradients.compare_initializers("regression_2layer", x, y)
    with pytest.raises(ValueError, match="epochs must be an int >= 1"):
        gradients.compare_initializers(_regression_builder, x, y, epochs=0)
