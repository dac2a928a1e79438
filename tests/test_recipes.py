"""Fixed-budget recipes: the one-cycle schedule, a run end to end, flip averaging and bad input."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from fmnist.model import build_cnn, compile_model
from fmnist.model.errors import UnknownNameError
from fmnist.prediction import (
    evaluate, evaluate_probabilities, predict_augmented, predict_flip_averaged, predict_views,
)  # fmt: skip
from fmnist.recipes import RECIPES, Recipe, get_recipe, one_cycle, run_recipe, score_recipe, train_recipe

RNG = np.random.default_rng(0)
X = RNG.random((256, 28, 28, 1), dtype=np.float32)
Y = np.arange(256) % 10
TINY = Recipe("tiny", "cnn_small", epochs=2, batch_size=64, learning_rate=1e-3)


def test_one_cycle_warms_up_linearly_then_decays_to_zero():
    schedule = one_cycle(0.1, total_steps=100, warmup=0.2)
    lr = np.array([float(keras.ops.convert_to_numpy(schedule(step))) for step in range(0, 101, 10)])
    np.testing.assert_allclose(lr[:3], [0.0, 0.05, 0.1], atol=1e-7)
    assert np.all(np.diff(lr[2:]) < 0) and lr[-1] == pytest.approx(0.0, abs=1e-7)
    for bad in ({"peak": 0.0}, {"warmup": 1.0}, {"total_steps": 0}):
        kwargs = {"peak": 0.1, "total_steps": 10, "warmup": 0.2, **bad}
        with pytest.raises(ValueError, match=next(iter(bad))):
            one_cycle(**kwargs)


@pytest.mark.portable
def test_run_recipe_trains_and_scores_with_flip_averaging():
    result = run_recipe(TINY, (X, Y), (X[:64], Y[:64]), seed=1)
    assert result.train_result.epochs_run == 2 and result.seed == 1
    expected = evaluate_probabilities(predict_flip_averaged(result.model, X[:64]), Y[:64])
    assert result.accuracy == pytest.approx(expected["accuracy"])
    assert result.single_view_accuracy == pytest.approx(evaluate(result.model, X[:64], Y[:64])["accuracy"])
    assert result.model.loss.label_smoothing == pytest.approx(TINY.label_smoothing)
    summary = result.summary()
    assert summary["recipe"] == "tiny" and summary["params"] == result.model.count_params()
    # the schedule ran to its end: the last step's rate is ~0
    assert float(keras.ops.convert_to_numpy(result.model.optimizer.learning_rate)) < 1e-5


def test_score_recipe_averages_the_recipes_test_time_views():
    fit = train_recipe(TINY.with_epochs(1), (X, Y), seed=0)
    x, y = X[:64], Y[:64]
    ten_views = score_recipe(dataclasses.replace(TINY, tta_shift=1), fit, (x, y))
    expected = evaluate_probabilities(predict_augmented(fit.model, x, flip=True, shift=1), y)
    assert ten_views.accuracy == pytest.approx(expected["accuracy"])
    assert ten_views.loss == pytest.approx(expected["loss"])
    plain = score_recipe(dataclasses.replace(TINY, tta_flip=False), fit, (x, y))
    assert plain.accuracy == plain.single_view_accuracy == ten_views.single_view_accuracy
    assert plain.loss == pytest.approx(evaluate(fit.model, x, y)["loss"], rel=1e-4)


def test_score_recipe_predicts_each_view_once(monkeypatch):
    fit = train_recipe(TINY.with_epochs(1), (X, Y), seed=0)
    calls = []
    predict = fit.model.predict
    monkeypatch.setattr(fit.model, "predict", lambda x, **kw: calls.append(len(x)) or predict(x, **kw))
    score_recipe(dataclasses.replace(TINY, tta_shift=1), fit, (X[:64], Y[:64]))
    assert calls == [64] * 10  # 10 views, the plain one (single_view_accuracy) among them


def test_flip_averaging_is_the_mean_over_mirror_images():
    model = compile_model(build_cnn(conv_blocks=[{"filters": 4}]))
    averaged = predict_flip_averaged(model, X[:8])
    by_hand = (model.predict(X[:8], verbose=0) + model.predict(X[:8, :, ::-1], verbose=0)) / 2
    np.testing.assert_allclose(averaged, by_hand, atol=1e-6)
    with pytest.raises(ValueError, match="images shaped"):
        predict_flip_averaged(model, X[:8].reshape(8, -1))


def test_shift_averaging_is_the_mean_over_ten_views():
    model = compile_model(build_cnn(conv_blocks=[{"filters": 4}]))
    x = X[:8]
    # the image moved one pixel up, down, left and right, edge pixels repeated
    down = np.concatenate([x[:, :1], x[:, :-1]], axis=1)
    up = np.concatenate([x[:, 1:], x[:, -1:]], axis=1)
    right = np.concatenate([x[:, :, :1], x[:, :, :-1]], axis=2)
    left = np.concatenate([x[:, :, 1:], x[:, :, -1:]], axis=2)
    views = [x, up, down, left, right]
    views += [v[:, :, ::-1] for v in views]
    each = np.stack([model.predict(v, verbose=0) for v in views])
    np.testing.assert_allclose(predict_views(model, x, flip=True, shift=1), each, atol=1e-6)
    by_hand = each.mean(axis=0)
    np.testing.assert_allclose(predict_augmented(model, x, flip=True, shift=1), by_hand, atol=1e-6)
    no_flip = np.mean([model.predict(v, verbose=0) for v in views[:5]], axis=0)
    np.testing.assert_allclose(predict_augmented(model, x, flip=False, shift=1), no_flip, atol=1e-6)
    np.testing.assert_allclose(predict_augmented(model, x, flip=False), model.predict(x, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match=r"shift must be an int >= 0, got -1"):
        predict_augmented(model, x, shift=-1)
    with pytest.raises(ValueError, match=r"shift must be smaller than the images \(28x28\), got 28"):
        predict_augmented(model, x, shift=28)


def test_evaluate_probabilities_checks_its_input():
    probs = np.full((4, 10), 0.1)
    assert evaluate_probabilities(probs, [0, 1, 2, 3])["loss"] == pytest.approx(np.log(10))
    with pytest.raises(ValueError, match="4 rows but y has 3"):
        evaluate_probabilities(probs, [0, 1, 2])
    with pytest.raises(ValueError, match="shaped"):
        evaluate_probabilities(np.ones(4), [0, 1, 2, 3])


def test_recipes_and_bad_input():
    assert get_recipe("speedrun") is RECIPES["speedrun"]
    assert TINY.with_epochs(5).epochs == 5 and TINY.with_epochs(5).name == "tiny"
    with pytest.raises(UnknownNameError, match="valid recipes: speedrun, long"):
        get_recipe("fast")
    with pytest.raises(UnknownNameError, match="valid presets"):
        Recipe("bad", "no_such_preset", epochs=1)
    with pytest.raises(ValueError, match="warmup"):
        Recipe("bad", "cnn_small", epochs=1, warmup=1.5)
    with pytest.raises(ValueError, match="tta_shift must be an int >= 0, got -1"):
        Recipe("bad", "cnn_small", epochs=1, tta_shift=-1)
    # a shift the scoring would refuse fails when the recipe is made, not after its training
    with pytest.raises(ValueError, match=r"tta_shift must be smaller than the images \(28x28\), got 28"):
        Recipe("bad", "cnn_small", epochs=1, tta_shift=28)
    with pytest.raises(ValueError, match="erasing must be a finite number in \\[0, 1\\], got 1.5"):
        Recipe("bad", "cnn_small", epochs=1, erasing=1.5)
    with pytest.raises(ValueError, match="erasing_scale must be a pair"):
        Recipe("bad", "cnn_small", epochs=1, erasing=0.5, erasing_scale=(0.5, 0.1))
    with pytest.raises(ValueError, match="need an image preset .* 'mlp_shallow' has layout 'mlp'"):
        Recipe("bad", "mlp_shallow", epochs=1)
    assert Recipe("plain", "mlp_shallow", epochs=1, flip=False, translation=0.0, tta_flip=False).augmentation() is None
    with pytest.raises(TypeError, match="must be a Recipe"):
        run_recipe("speedrun", (X, Y), (X, Y))
    assert Recipe("plain", "cnn_small", epochs=1, flip=False, translation=0.0).augmentation() is None


def test_recipe_erasing_joins_the_training_augmentation():
    erasing = Recipe("erase", "cnn_small", epochs=1, flip=False, translation=0.0, erasing=0.5,
                     erasing_scale=(0.1, 0.2))  # fmt: skip
    (layer,) = erasing.augmentation(seed=3).layers
    assert isinstance(layer, keras.layers.RandomErasing) and layer.scale == (0.1, 0.2)
    out = keras.ops.convert_to_numpy(erasing.augmentation(seed=3)(np.ones((64, 28, 28, 1), "float32"), training=True))
    erased = (out == 0).any(axis=(1, 2, 3))
    assert 0 < erased.sum() < 64  # with probability 0.5 per image
    assert np.all((out == 0) | (out == 1))
