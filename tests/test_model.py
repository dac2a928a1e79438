"""Tests of fmnist.model: presets, builders, registry, compile, save/load and bad input."""

from __future__ import annotations

import os
import stat

import keras
import numpy as np
import pytest

from fmnist import model as fm
from fmnist.backend import BACKENDS, COMPILE_DEFAULTS, backend_name, compile_defaults
from fmnist.model import (
    PRESETS,
    InputShapeError,
    UnknownNameError,
    build_cnn,
    build_deep_thin_mlp,
    build_mlp,
    build_model,
    build_regression_net,
    check_input_shape,
    compile_model,
    load_model,
    preset_layout,
    register_preset,
    save_model,
)
from fmnist.training import set_seed

# Seed tables (independent of the counts documented in PRESETS).
EXPECTED = {
    "mlp_shallow": (101_770, "mlp", (None, 10)),
    "mlp_medium": (118_282, "mlp", (None, 10)),
    "mlp_deep": (134_794, "mlp", (None, 10)),
    "cnn_small": (63_050, "cnn", (None, 10)),
    "cnn_medium": (50_186, "cnn", (None, 10)),
    "cnn_large": (398_090, "cnn", (None, 10)),
    "deep_thin_mlp": (6_730, "mlp", (None, 10)),
    "regression_2layer": (1_153, "regression", (None, 1)),
    "regression_10_15_10": (356, "regression", (None, 1)),
}
INPUT_SHAPES = {"mlp": (None, 784), "cnn": (None, 28, 28, 1), "regression": (None, 1)}


@pytest.fixture
def scratch_presets():
    """Remove presets a test registers so the registry is unchanged afterwards."""
    before = set(PRESETS)
    yield
    for name in set(PRESETS) - before:
        del PRESETS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_table_presets_have_exact_params_and_shapes(name):
    params, layout, out_shape = EXPECTED[name]
    model = build_model(name)
    assert model.count_params() == params
    assert PRESETS[name].params == params
    assert preset_layout(name) == layout
    assert model.input_shape == INPUT_SHAPES[layout]
    assert model.output_shape == out_shape
    assert model.layers[0].name == "input" and model.layers[-1].name == "output"


@pytest.mark.parametrize("name", ["mlp_best", "cnn_best"])
def test_best_presets_use_batch_norm_and_dropout_under_500k(name):
    model = build_model(name)
    assert model.count_params() == PRESETS[name].params < 500_000
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"BatchNormalization", "Dropout"} <= kinds
    assert model.output_shape == (None, 10)


def test_speedrun_preset_is_a_batch_norm_cnn_under_500k():
    model = build_model("cnn_speedrun")
    assert model.count_params() == PRESETS["cnn_speedrun"].params == 279_722
    assert [layer.filters for layer in model.layers if type(layer).__name__ == "Conv2D"] == [32, 64, 64, 128, 128]
    assert model.get_layer("global_pool").output.shape == (None, 128)


def test_long_preset_is_the_speedrun_shape_wider_under_500k():
    model = build_model("cnn_long")
    assert model.count_params() == PRESETS["cnn_long"].params == 439_450
    assert [layer.filters for layer in model.layers if type(layer).__name__ == "Conv2D"] == [48, 96, 96, 144, 144]
    assert model.get_layer("global_pool").output.shape == (None, 144)


def test_every_preset_has_a_valid_layout_and_output():
    for name, preset in PRESETS.items():
        model = build_model(name)
        assert model.input_shape == INPUT_SHAPES[preset.layout], name
        activation = model.get_layer("output").activation.__name__
        assert activation == ("linear" if preset.layout == "regression" else "softmax"), name


def test_layer_names_follow_the_contract():
    names = [layer.name for layer in build_model("cnn_large").layers]
    assert names == ["input"] + [f"{k}_{i}" for i in range(1, 5) for k in ("conv", "pool")] + ["flatten", "output"]
    names = [layer.name for layer in build_model("mlp_best").layers]
    assert names[:5] == ["input", "hidden_1", "bn_hidden_1", "act_hidden_1", "dropout_1"]
    names = [layer.name for layer in build_model("cnn_best").layers]
    assert names[:9] == ["input", "conv_1", "bn_1", "act_1", "conv_2", "bn_2", "act_2", "pool_1", "dropout_1"]
    assert {"flatten", "hidden_1", "bn_hidden_1", "act_hidden_1", "output"} <= set(names)


def test_batch_norm_layers_are_linear_without_bias_and_plain_layers_are_activated():
    bn = build_mlp(hidden_units=(16,), batch_norm=True)
    assert bn.get_layer("hidden_1").activation.__name__ == "linear"
    assert not bn.get_layer("hidden_1").use_bias
    plain = build_mlp(hidden_units=(16,), activation="tanh")
    assert plain.get_layer("hidden_1").activation.__name__ == "tanh"


def test_cnn_block_options_change_the_graph():
    model = build_cnn(
        conv_blocks=[
            {"filters": 8, "kernel_size": 5, "padding": "valid", "pool": None},
            {"filters": 4, "strides": 2, "pool": 2, "pool_type": "avg", "dropout": 0.1},
        ],
        dense_units=(12,),
        global_pool="avg",
    )
    assert model.get_layer("conv_1").output.shape[1:] == (24, 24, 8)
    assert model.get_layer("conv_2").output.shape[1:] == (12, 12, 4)
    assert isinstance(model.get_layer("pool_1"), keras.layers.AveragePooling2D)
    assert model.get_layer("global_pool").output.shape[1:] == (4,)
    assert model.get_layer("hidden_1").units == 12
    assert model.get_layer("dropout_1").rate == pytest.approx(0.1)


def test_deep_thin_mlp_uses_random_uniform_sigmoid():
    model = build_deep_thin_mlp()
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden_")]
    assert len(hidden) == 6 and all(layer.units == 8 for layer in hidden)
    assert all(layer.activation.__name__ == "sigmoid" for layer in hidden)
    assert isinstance(hidden[0].kernel_initializer, keras.initializers.RandomUniform)
    kernel = hidden[0].kernel.numpy()
    assert kernel.min() >= -1 and kernel.max() <= 1 and kernel.std() > 0.3


def test_regression_net_options():
    model = build_regression_net(hidden_units=(4, 3), activation="relu", dropout=0.1, batch_norm=True)
    assert model.input_shape == (None, 1) and model.output_shape == (None, 1)
    assert {"bn_hidden_1", "act_hidden_2", "dropout_2"} <= {layer.name for layer in model.layers}


def test_same_seed_gives_identical_initial_weights():
    set_seed(3)
    first = build_model("cnn_small").get_weights()
    set_seed(3)
    second = build_model("cnn_small").get_weights()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    third = build_model("cnn_small").get_weights()
    assert not np.array_equal(first[0], third[0])


# --------------------------------------------------------------------------- registry
def test_register_preset_decorator(scratch_presets):
    @register_preset("test_tiny_cnn", layout="cnn", description="tiny")
    def tiny(filters=4, **overrides):
        return build_cnn(conv_blocks=[{"filters": filters}], name="tiny", **overrides)

    model = build_model("test_tiny_cnn", filters=2, dropout=0.5)
    assert model.get_layer("conv_1").filters == 2
    assert preset_layout("test_tiny_cnn") == "cnn"
    assert PRESETS["test_tiny_cnn"].task == "classification"
    assert tiny is PRESETS["test_tiny_cnn"].builder  # decorator returns the function


def test_register_preset_function_form_and_duplicates(scratch_presets):
    register_preset("test_tiny_reg", lambda: build_regression_net((3,)), layout="regression")
    assert build_model("test_tiny_reg").output_shape == (None, 1)
    assert PRESETS["test_tiny_reg"].task == "regression"
    with pytest.raises(ValueError, match="already registered"):
        register_preset("test_tiny_reg", lambda: build_regression_net((5,)), layout="regression")
    register_preset("test_tiny_reg", lambda: build_regression_net((5,)), layout="regression", overwrite=True)
    assert build_model("test_tiny_reg").get_layer("hidden_1").units == 5
    with pytest.raises(ValueError, match="valid layouts: mlp, cnn, regression"):
        register_preset("test_bad_layout", lambda: None, layout="rnn")


def test_build_model_rejects_unknown_overrides():
    with pytest.raises(TypeError, match="does not accept.*valid overrides"):
        build_model("mlp_shallow", hiden_units=(3,))
    assert build_model("mlp_shallow", hidden_units=(3,)).count_params() == 784 * 3 + 3 + 40


# --------------------------------------------------------------------------- bad input
def test_unknown_preset_lists_valid_names():
    with pytest.raises(UnknownNameError, match="unknown preset 'mlp_huge'.*cnn_large.*mlp_shallow") as err:
        build_model("mlp_huge")
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)


def test_unknown_activation_and_initializer_list_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'rleu'; valid activations: .*relu"):
        build_mlp(activation="rleu")
    with pytest.raises(ValueError, match="unknown kernel initializer 'he'; valid initializers: .*he_normal"):
        build_cnn(kernel_initializer="he")


@pytest.mark.parametrize("units", [0, -3, (16, 0)])
def test_non_positive_units_are_rejected(units):
    with pytest.raises(ValueError, match="every entry of hidden_units must be an int >= 1"):
        build_mlp(hidden_units=units)
    with pytest.raises(ValueError, match="every entry of hidden_units must be an int >= 1"):
        build_regression_net(hidden_units=units)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, float("nan"), "0.2", True])
def test_dropout_outside_unit_interval_is_rejected(rate):
    with pytest.raises(ValueError, match=r"dropout must be a finite number in \[0, 1\)"):
        build_mlp(dropout=rate)
    with pytest.raises(ValueError, match=r"dropout must be a finite number in \[0, 1\)"):
        build_cnn(conv_blocks=[{"filters": 4, "dropout": rate}])


def test_builders_take_numpy_numbers_like_python_ones():
    # NumPy ints/floats (np.array widths, a tuner's np.int64, np.float32 rates) were rejected
    # by hand-written isinstance(int/float) checks; filters already took them via check_int.
    reference = build_mlp(hidden_units=(64, 32), dropout=0.2, l2=1e-4)
    model = build_mlp(input_shape=(np.int64(784),), hidden_units=np.array([64, 32]),
                      dropout=np.float32(0.2), l2=np.float32(1e-4))  # fmt: skip
    assert model.count_params() == reference.count_params()
    assert model.input_shape == (None, 784) and type(model.get_layer("hidden_1").units) is int
    assert build_mlp(hidden_units=[np.int64(8)], dropout=[np.float64(0.1)]).count_params() == 6_370
    assert build_deep_thin_mlp(depth=np.int64(3), width=np.int32(8)).count_params() == 6_514
    assert build_regression_net(hidden_units=np.int64(4)).count_params() == 13
    with pytest.raises(ValueError, match=r"^depth must be an int >= 1, got \(3,\)$"):
        build_deep_thin_mlp(depth=(3,))
    with pytest.raises(ValueError, match=r"every entry of hidden_units must be an int >= 1 .*got 1.5"):
        build_mlp(hidden_units=(8, 1.5))
    with pytest.raises(TypeError, match="hidden_units must be an int or a sequence of ints, got '64'"):
        build_mlp(hidden_units="64")
    with pytest.raises(ValueError, match=r"input_shape must be a non-empty tuple of positive ints"):
        build_mlp(input_shape=(28, 28.0))
    with pytest.raises(ValueError, match=r"l2 must be a finite number >= 0, got '0.1'"):
        build_mlp(l2="0.1")


@pytest.mark.parametrize("value", ["no", "False", 1, 0.0])
def test_batch_norm_must_be_a_real_bool(value):
    # any truthy value ('no' included) used to add batch norm layers
    with pytest.raises(TypeError, match=rf"^batch_norm must be True or False, got {value!r}$"):
        build_mlp(hidden_units=(8,), batch_norm=value)
    with pytest.raises(TypeError, match=rf"^batch_norm must be True or False, got {value!r}$"):
        build_cnn(conv_blocks=[{"filters": 4}], batch_norm=value)
    with pytest.raises(TypeError, match=rf"^conv block 1 batch_norm must be True or False or None, got {value!r}$"):
        build_cnn(conv_blocks=[{"filters": 4, "batch_norm": value}])
    with pytest.raises(TypeError, match=rf"^batch_norm must be True or False, got {value!r}$"):
        build_regression_net(hidden_units=(4,), batch_norm=value)
    names = [layer.name for layer in build_mlp(hidden_units=(8,), batch_norm=np.bool_(True)).layers]
    assert "bn_hidden_1" in names


def test_conv_block_errors():
    with pytest.raises(ValueError, match="conv block 2 is missing 'filters'"):
        build_cnn(conv_blocks=[{"filters": 4}, {"kernel_size": 3}])
    with pytest.raises(ValueError, match="unknown keys.*'kernel'.*valid keys"):
        build_cnn(conv_blocks=[{"filters": 4, "kernel": 3}])
    with pytest.raises(ValueError, match="padding must be one of"):
        build_cnn(conv_blocks=[{"filters": 4, "padding": "full"}])
    with pytest.raises(ValueError, match="non-empty list"):
        build_cnn(conv_blocks=[])
    with pytest.raises(ValueError, match="reshape_for"):
        build_cnn(input_shape=(784,))
    with pytest.raises(ValueError, match=r"conv block 1 filters must be an int >= 1, got \[8, 16\]"):
        build_cnn(conv_blocks=[{"filters": [8, 16]}])
    with pytest.raises(ValueError, match="conv block 1 convs must be an int >= 1"):
        build_cnn(conv_blocks=[{"filters": 8, "convs": [2]}])
    with pytest.raises(ValueError, match=r"n_classes must be an int >= 2, got \(10,\)"):
        build_cnn(conv_blocks=[{"filters": 8}], n_classes=(10,))
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0, got nan"):
        build_mlp(hidden_units=(4,), l2=float("nan"))


def test_input_shape_that_does_not_fit_the_model():
    mlp = build_model("mlp_shallow")
    with pytest.raises(InputShapeError, match=r"\(2, 28, 28, 1\).*expects \(N, 784\).*reshape_for"):
        check_input_shape(mlp, np.zeros((2, 28, 28, 1)))
    with pytest.raises(ValueError, match=r"expects \(N, 28, 28, 1\)"):
        check_input_shape(build_model("cnn_small"), np.zeros((2, 784)))
    check_input_shape(mlp, np.zeros((2, 784)))  # fits: no error


# --------------------------------------------------------------------------- compile
@pytest.mark.portable
def test_compile_classification_defaults():
    model = compile_model(build_model("mlp_shallow"))
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert isinstance(model.loss, keras.losses.SparseCategoricalCrossentropy)
    assert model.loss.get_config()["from_logits"] is False
    # the active backend's measured defaults (fmnist.backend.compile_defaults)
    assert model.steps_per_execution == fm.DEFAULT_STEPS_PER_EXECUTION == compile_defaults()["steps_per_execution"]
    assert model.jit_compile is fm.DEFAULT_JIT_COMPILE is compile_defaults()["jit_compile"]


@pytest.mark.portable
def test_compile_defaults_cover_every_backend_and_torch_runs_one_step_per_call():
    assert set(COMPILE_DEFAULTS) == set(BACKENDS)
    assert compile_defaults("torch")["steps_per_execution"] == 1  # Keras refuses more on torch
    assert compile_defaults("jax")["jit_compile"] is True  # un-jitted JAX runs op by op
    assert compile_defaults("tensorflow") == {"steps_per_execution": 32, "jit_compile": False}
    with pytest.raises(ValueError, match=r"unknown Keras backend 'mxnet'; valid backends: tensorflow, jax, torch"):
        compile_defaults("mxnet")
    defaults = compile_defaults()
    defaults["steps_per_execution"] = 99  # a copy: the table stays as measured
    assert compile_defaults() == COMPILE_DEFAULTS[backend_name()]


@pytest.mark.portable
def test_compile_takes_explicit_settings_and_rejects_bad_ones():
    model = compile_model(build_model("mlp_shallow"), steps_per_execution=1, jit_compile=False)
    assert model.steps_per_execution == 1 and model.jit_compile is False
    with pytest.raises(TypeError, match="^jit_compile must be True or False, got 'yes'$"):
        compile_model(build_model("mlp_shallow"), jit_compile="yes")
    with pytest.raises(ValueError, match="steps_per_execution must be an int >= 1, got 0"):
        compile_model(build_model("mlp_shallow"), steps_per_execution=0)
    if backend_name() == "torch":
        with pytest.raises(ValueError, match=r"steps_per_execution=4: the torch backend runs one batch per call"):
            compile_model(build_model("mlp_shallow"), steps_per_execution=4)


def test_compile_sgd_defaults_to_nesterov_momentum():
    model = compile_model(build_model("mlp_shallow"), optimizer="sgd", learning_rate=0.05)
    assert model.optimizer.nesterov is True
    assert model.optimizer.momentum == pytest.approx(0.9)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)


@pytest.mark.parametrize("name, cls", [("adamw", "AdamW"), ("nadam", "Nadam"), ("rmsprop", "RMSprop")])
def test_compile_other_optimizers_and_weight_decay(name, cls):
    spe = 1 if backend_name() == "torch" else 4
    model = compile_model(build_model("mlp_shallow"), optimizer=name, weight_decay=1e-4, steps_per_execution=spe)
    assert type(model.optimizer).__name__ == cls
    assert model.optimizer.weight_decay == pytest.approx(1e-4)
    assert model.steps_per_execution == spe


def test_make_optimizer_checks_momentum_nesterov_and_weight_decay():
    from fmnist.model import make_optimizer

    # '0.9' used to fail with a bare TypeError inside a comparison; nesterov='no' was taken
    # as True; np.float32 momentum and an int 0 were refused by Keras ("must be a float").
    for bad in ("0.9", 1.0, -0.1, float("nan"), None):
        with pytest.raises(ValueError, match=rf"^momentum must be a finite number in \[0, 1\), got {bad!r}$"):
            make_optimizer("sgd", momentum=bad)
    for bad in ("no", 1, None):
        with pytest.raises(TypeError, match=rf"^nesterov must be True or False, got {bad!r}$"):
            make_optimizer("sgd", nesterov=bad)
    with pytest.raises(ValueError, match=r"^weight_decay must be a finite number >= 0 or None, got 'x'$"):
        make_optimizer("adam", weight_decay="x")
    sgd = make_optimizer("sgd", momentum=np.float32(0.5), nesterov=np.bool_(False))
    assert sgd.momentum == pytest.approx(0.5) and sgd.nesterov is False
    assert make_optimizer("sgd", momentum=0).momentum == 0.0
    assert make_optimizer("adamw", weight_decay=np.float32(0.01)).weight_decay == pytest.approx(0.01)


def test_compile_regression_uses_mse():
    model = compile_model(build_model("regression_2layer"), task="regression")
    assert isinstance(model.loss, keras.losses.MeanSquaredError)
    x = np.linspace(-1, 1, 8, dtype="float32")[:, None]
    logs = model.evaluate(x, x, verbose=0, return_dict=True)
    assert {"loss", "mse", "mae"} <= set(logs)


def test_compile_errors():
    model = build_model("mlp_shallow")
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'; valid optimizers: adam, adamw"):
        compile_model(model, optimizer="adagrad")
    with pytest.raises(ValueError, match="unknown task 'ranking'; valid tasks: classification, regression"):
        compile_model(model, task="ranking")
    for bad in (0, float("nan"), float("inf"), "0.1", True):
        with pytest.raises(ValueError, match=rf"^learning_rate must be a finite number > 0, got {bad!r}$"):
            compile_model(model, learning_rate=bad)
    compile_model(model, learning_rate=np.float32(1e-3))  # NumPy numbers are numbers
    with pytest.raises(ValueError, match="weight_decay must be a finite number >= 0"):
        compile_model(model, optimizer="adamw", weight_decay=float("nan"))
    with pytest.raises(ValueError, match="task='regression'"):
        compile_model(build_model("regression_2layer"), task="classification")


# --------------------------------------------------------------------------- save / load
def test_save_load_round_trip(tmp_path):
    model = compile_model(build_model("cnn_small"), optimizer="sgd")
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    model.fit(x, np.arange(4), epochs=1, verbose=0)  # built optimizer state is saved too
    path = save_model(model, tmp_path / "sub" / "cnn.keras")
    assert os.listdir(tmp_path / "sub") == ["cnn.keras"]  # no temporary file left behind
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert isinstance(loaded.optimizer, keras.optimizers.SGD)


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = save_model(build_model("regression_2layer"), tmp_path / "m.keras")
    before = path.read_bytes()
    model = build_model("regression_10_15_10")

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_model(model, path)
    assert path.read_bytes() == before  # the old file is intact
    assert os.listdir(tmp_path) == ["m.keras"]


def test_save_load_errors(tmp_path):
    with pytest.raises(ValueError, match="'.keras' format"):
        save_model(build_model("regression_2layer"), tmp_path / "m.h5")
    with pytest.raises(FileNotFoundError, match="no model file"):
        load_model(tmp_path / "missing.keras")


def test_load_corrupt_file_says_it_is_not_a_keras_archive(tmp_path):
    # Keras itself reports "File not found" for a file that exists but is not a zip.
    for name, body in (("bad.keras", b"not a zip"), ("empty.keras", b"")):
        (tmp_path / name).write_bytes(body)
        with pytest.raises(ValueError, match=f"{name}.*not a valid .keras archive"):
            load_model(tmp_path / name)


def test_saved_model_has_the_mode_of_a_plain_new_file(tmp_path):
    # mkstemp's 0600 made saved models unreadable for the group in shared run directories.
    old = os.umask(0o022)
    try:
        path = save_model(build_model("regression_2layer"), tmp_path / "m.keras")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE((tmp_path / "plain").stat().st_mode)


def test_initializer_instance_is_not_shared_between_layers():
    # A Keras 3 initializer instance repeats its values; each layer must start differently.
    import numpy as np

    model = build_deep_thin_mlp()
    kernels = [model.get_layer(f"hidden_{i}").get_weights()[0] for i in range(2, 7)]
    for a, b in zip(kernels, kernels[1:]):
        assert not np.array_equal(a, b)
    assert all(k.min() >= -1.0 and k.max() <= 1.0 for k in kernels)


def test_sin_activation_computes_sin_and_survives_save_load(tmp_path):
    model = fm.build_regression_net(hidden_units=(3,), activation="SIN")
    hidden = keras.Model(model.inputs, model.get_layer("hidden_1").output)
    x = np.linspace(-3, 3, 7, dtype=np.float32).reshape(-1, 1)
    kernel, bias = model.get_layer("hidden_1").get_weights()
    np.testing.assert_allclose(hidden.predict(x, verbose=0), np.sin(x @ kernel + bias), atol=1e-6)
    loaded = load_model(save_model(model, tmp_path / "sin.keras"))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert "sin" in fm.ACTIVATIONS


@pytest.mark.portable
def test_a_loaded_model_runs_with_this_backends_compile_defaults(tmp_path):
    # A tensorflow file says steps_per_execution=32, which torch refuses at load time; a jax
    # file says jit_compile=True (torch.compile on torch). load_model uses this backend's.
    model = compile_model(build_model("mlp_shallow"), steps_per_execution=1, jit_compile=not fm.DEFAULT_JIT_COMPILE)
    loaded = load_model(save_model(model, tmp_path / "m.keras"))
    assert loaded.steps_per_execution == fm.DEFAULT_STEPS_PER_EXECUTION
    assert loaded.jit_compile is fm.DEFAULT_JIT_COMPILE
    assert isinstance(loaded.optimizer, keras.optimizers.Adam) and loaded.compiled
    np.testing.assert_allclose(loaded.predict(np.ones((2, 784)), verbose=0),
                               model.predict(np.ones((2, 784)), verbose=0), atol=1e-6)
    assert load_model(tmp_path / "m.keras", compile=False).compiled is False
