"""Tests of fmnist.evaluation against scikit-learn computed independently."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from fmnist.evaluation import (
    COMPARE_COLUMNS,
    classification_summary,
    compare,
    confusion,
    cv_vs_ensemble,
    evaluate,
    most_confused,
    regression_metrics,
)
from fmnist.model import InputShapeError, build_mlp, build_model, build_regression_net, compile_model
from fmnist.training import train

pytestmark = pytest.mark.portable  # evaluation is backend-neutral: pinned on jax and torch too

NAMES = ("a", "b", "c", "d")


@pytest.fixture
def labels():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 4, 200)
    # Mostly right, with a systematic confusion 2 -> 3 and random errors.
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, 200))
    y_pred[(y_true == 2) & (rng.random(200) < 0.5)] = 3
    return y_true, y_pred


def test_evaluate_classification_matches_sklearn_and_keras():
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 784), dtype=np.float32), rng.integers(0, 10, 50)
    model = compile_model(build_model("mlp_shallow"))
    got = evaluate(model, x, y)
    probs = model.predict(x, verbose=0)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, probs.argmax(1)))
    assert got["loss"] == pytest.approx(skm.log_loss(y, probs, labels=range(10)), rel=1e-5)
    keras_logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert got["loss"] == pytest.approx(keras_logs["loss"], rel=1e-5)
    assert got["accuracy"] == pytest.approx(keras_logs["accuracy"])


def test_evaluate_regression_matches_sklearn():
    x = np.linspace(-1, 1, 30, dtype=np.float32)[:, None]
    y = x**2
    model = build_regression_net((4,))  # uncompiled: task is inferred from the single output
    pred = model.predict(x, verbose=0)
    got = evaluate(model, x, y)
    assert got["mse"] == got["loss"] == pytest.approx(skm.mean_squared_error(y, pred), rel=1e-5)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), rel=1e-5)


def test_evaluate_bad_input():
    model = build_mlp(hidden_units=(4,), n_classes=3)
    x = np.zeros((4, 784), dtype=np.float32)
    with pytest.raises(InputShapeError, match="expects"):
        evaluate(model, x.reshape(4, 28, 28, 1), np.zeros(4))
    with pytest.raises(ValueError, match=r"y must be integer class labels in \[0, 3\) for model "
                                         r".*got values in \[0, 3\]"):
        evaluate(model, x, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="4 samples but y has 3"):
        evaluate(model, x, np.zeros(3))
    with pytest.raises(ValueError, match="unknown task"):
        evaluate(model, x, np.zeros(4), task="clustering")


def test_classification_summary_matches_sklearn(labels):
    y_true, y_pred = labels
    table = classification_summary(y_true, y_pred, NAMES)
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred)
    np.testing.assert_allclose(table.loc[list(NAMES), "precision"], p)
    np.testing.assert_allclose(table.loc[list(NAMES), "recall"], r)
    np.testing.assert_allclose(table.loc[list(NAMES), "f1"], f)
    np.testing.assert_array_equal(table.loc[list(NAMES), "support"], s)
    assert table.loc["macro avg", "f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert table.loc["weighted avg", "recall"] == pytest.approx(skm.recall_score(y_true, y_pred, average="weighted"))
    # Probabilities are reduced with argmax.
    probs = np.eye(4)[y_pred] * 0.9 + 0.025
    pd.testing.assert_frame_equal(classification_summary(y_true, probs, NAMES), table)


def test_classification_summary_counts_absent_classes():
    table = classification_summary([0, 0, 1], [0, 1, 1], class_names=("x", "y", "z"))
    assert table.loc["z", "support"] == 0 and table.loc["z", "f1"] == 0
    with pytest.raises(ValueError, match=r"y_true must be integer class labels in \[0, 2\), got values in \[0, 2\]"):
        classification_summary([0, 2], [0, 1], class_names=("x", "y"))
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        classification_summary(np.zeros(2), np.full((2, 3), 1 / 3), class_names=("x", "y"))


def test_confusion_matches_sklearn(labels):
    y_true, y_pred = labels
    np.testing.assert_array_equal(confusion(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))
    normed = confusion(y_true, y_pred, normalize=True)
    np.testing.assert_allclose(normed, skm.confusion_matrix(y_true, y_pred, normalize="true"))
    np.testing.assert_allclose(normed.sum(axis=1), 1.0)
    np.testing.assert_allclose(
        confusion(y_true, y_pred, normalize="pred"), skm.confusion_matrix(y_true, y_pred, normalize="pred")
    )
    assert confusion([0, 1], [1, 1], n_classes=5).shape == (5, 5)
    with pytest.raises(ValueError, match=r"y_true must be integer class labels in \[0, 2\)"):
        confusion([0, 3], [1, 1], n_classes=2)
    with pytest.raises(ValueError, match="normalize must be one of"):
        confusion(y_true, y_pred, normalize="rows")


def test_most_confused_orders_off_diagonal_cells():
    cm = np.array([[50, 3, 0], [1, 40, 9], [7, 0, 30]])
    top = most_confused(cm, ("x", "y", "z"), k=3)
    assert list(zip(top["true"], top["predicted"], top["count"])) == [("y", "z", 9), ("z", "x", 7), ("x", "y", 3)]
    assert top["rate"].iloc[0] == pytest.approx(9 / 50)
    assert len(most_confused(cm, k=10)) == 4  # only non-zero off-diagonal cells
    with pytest.raises(ValueError, match="square"):
        most_confused(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="k must be an int >= 1, got 0"):
        most_confused(cm, k=0)


def test_compare_builds_the_seed_table():
    rng = np.random.default_rng(0)
    y = np.arange(32) % 10
    x_mlp = rng.random((32, 784), dtype=np.float32)
    mlp = compile_model(build_mlp(hidden_units=(4,)))
    cnn = compile_model(build_model("cnn_small"))
    r_mlp = train(mlp, (x_mlp, y), epochs=1, batch_size=16)
    r_cnn = train(cnn, (x_mlp.reshape(-1, 28, 28, 1), y), epochs=2, batch_size=16)
    table = compare({"MLP": r_mlp, "CNN": r_cnn, "paper": {"params": 5, "test_accuracy": 0.9}}, x_mlp, y)
    assert tuple(table.columns) == COMPARE_COLUMNS
    assert list(table["Architecture"]) == ["MLP", "CNN", "paper"]
    assert table.loc[1, "Params"] == 63_050 and table.loc[1, "Epochs"] == 2
    assert table.loc[1, "Test accuracy"] == pytest.approx(evaluate(cnn, x_mlp.reshape(-1, 28, 28, 1), y)["accuracy"])
    assert table.loc[0, "Test loss"] == pytest.approx(evaluate(mlp, x_mlp, y)["loss"])
    assert np.isnan(table.loc[2, "Test loss"])
    ranked = compare([{"name": "x", "test_accuracy": 0.5}, {"name": "y", "test_accuracy": 0.8}],
                     sort_by="Test accuracy")
    assert list(ranked["Architecture"]) == ["y", "x"]
    with pytest.raises(ValueError, match="sort_by must be one of"):
        compare({"a": {}}, sort_by="accuracy")


def test_regression_metrics_gap_regions():
    x_test = np.array([-4.0, -2.5, -1.0, 0.0, 2.5, 4.0])[:, None]
    y_test = np.zeros(6)
    preds = np.array([1.0, 2.0, 3.0, 0.0, 4.0, 0.0])
    got = regression_metrics({"train": [1.0, 1.0], "test": preds}, y_train=[0.0, 2.0], x_test=x_test, y_test=y_test)
    assert got["mse_train"] == pytest.approx(1.0)
    assert got["mse_test"] == pytest.approx(skm.mean_squared_error(y_test, preds))
    assert got["mse_gap_1"] == pytest.approx((4 + 9) / 2) and got["n_gap_1"] == 2  # [-3, -1]
    assert got["mse_gap_2"] == pytest.approx(16) and got["n_gap_2"] == 1  # [2, 3]
    assert got["mse_gaps"] == pytest.approx((4 + 9 + 16) / 3)
    assert got["mse_outside_gaps"] == pytest.approx(1 / 3)
    custom = regression_metrics(preds, x_test=x_test, y_test=y_test, gaps=[(3.5, 5.0)])
    assert custom["mse_gap_1"] == 0 and "mse_gap_2" not in custom
    with pytest.raises(ValueError, match="x_test is needed"):
        regression_metrics(preds, y_test=y_test)


def test_regression_metrics_with_models_and_cv_vs_ensemble():
    x = np.linspace(-5, 5, 40, dtype=np.float32)[:, None]
    y = np.sin(x)
    models = [build_regression_net((4,)) for _ in range(3)]
    member = [m.predict(x, verbose=0).ravel() for m in models]
    single = regression_metrics(models[0], x, y, x, y)
    assert single["mse_train"] == single["mse_test"] == pytest.approx(np.mean((member[0] - y.ravel()) ** 2), rel=1e-5)
    ensemble = regression_metrics(models, x_test=x, y_test=y)
    assert ensemble["mse_test"] == pytest.approx(np.mean((np.mean(member, 0) - y.ravel()) ** 2), rel=1e-5)
    table = cv_vs_ensemble(models, x, y)
    assert list(table.index) == ["fold 1", "fold 2", "fold 3", "fold mean", "ensemble"]
    assert table.loc["fold mean", "test_mse"] == pytest.approx(table["test_mse"].iloc[:3].mean())
    assert table.loc["ensemble", "test_mse"] == pytest.approx(ensemble["mse_test"], rel=1e-5)
    assert table.loc["ensemble", "test_mse"] <= table.loc["fold mean", "test_mse"] + 1e-9
    with pytest.raises(TypeError, match="predictor must be"):
        regression_metrics("model", x, y)


def test_predict_classes_is_argmax():
    import numpy as np

    from fmnist.evaluation import predict_classes
    from fmnist.model import build_mlp, build_regression_net

    model = build_mlp(input_shape=(4,), hidden_units=(3,), n_classes=3)
    x = np.random.default_rng(0).random((10, 4)).astype("float32")
    np.testing.assert_array_equal(predict_classes(model, x), model.predict(x, verbose=0).argmax(1))
    with pytest.raises(ValueError, match="classifier"):
        predict_classes(build_regression_net(), np.zeros((3, 1), "float32"))


def test_regression_table_rows_and_noise_ratio():
    import numpy as np

    from fmnist.evaluation import regression_metrics, regression_table

    x = np.linspace(-5, 5, 40).reshape(-1, 1)
    y = np.sin(x)
    perfect = lambda a: np.sin(a)  # noqa: E731
    zero = lambda a: np.zeros_like(a)  # noqa: E731
    table = regression_table({"perfect": perfect, "zero": zero}, x, y, x, y, noise_floor=0.5)
    assert list(table.index) == ["perfect", "zero"]
    assert table.loc["perfect", "mse_test"] == pytest.approx(0.0)
    expected = regression_metrics(zero, x, y, x, y)["mse_test"]
    assert table.loc["zero", "test / noise floor"] == pytest.approx(expected / 0.5)
    with pytest.raises(ValueError, match="at least one"):
        regression_table({}, x, y, x, y)


def test_regression_references_recover_the_generator_and_choose_the_degree_by_cv():
    import numpy as np

    from fmnist.data import true_function
    from fmnist.evaluation import regression_references

    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, size=(60, 1))
    refs = regression_references(x, true_function(x), max_degree=4, cv=3)
    names = list(refs)
    assert names[:2] == ["true function", "least squares on sin x, x, 1"]
    grid = np.linspace(-5, 5, 11).reshape(-1, 1)
    # Noiseless data: the oracle fit recovers sin(x) + 0.3 x exactly, the true function is it.
    for name in names[:2]:
        np.testing.assert_allclose(refs[name](grid), true_function(grid).reshape(-1), atol=1e-9)
    assert names[2].startswith("polynomial, degree ")
    # CV must pick a degree that can represent a cubic (>= 3), and the fit then reproduces it.
    cubic = lambda a: (a**3 - 2 * a).reshape(-1)  # noqa: E731
    (name, poly), = [(n, f) for n, f in regression_references(x, cubic(x), max_degree=6, cv=3).items()
                     if n.startswith("poly")]  # fmt: skip
    assert int(name.rsplit(" ", 1)[1]) >= 3
    np.testing.assert_allclose(poly(grid), cubic(grid), atol=1e-6)


def test_regression_references_reject_bad_inputs():
    import numpy as np

    from fmnist.evaluation import regression_references

    x = np.linspace(-5, 5, 20)
    with pytest.raises(ValueError, match="20 points, y_train 19"):
        regression_references(x, np.zeros(19))
    with pytest.raises(ValueError, match="cv"):
        regression_references(x, np.zeros(20), cv=1)
    with pytest.raises(ValueError, match="max_degree"):
        regression_references(x, np.zeros(20), max_degree=0)


# ---------------------------------------------------------------- input checks of every entry point
def _classifier():
    return build_mlp(input_shape=(4,), hidden_units=(3,), n_classes=8)


def _regressors(k=2):
    return [build_regression_net((4,)) for _ in range(k)]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_every_predicting_entry_point_rejects_non_finite_x(bad):
    # An all-NaN test set used to score a plausible loss and accuracy.
    x = np.zeros((5, 4), np.float32)
    x[3, 1] = bad
    message = r"x contains NaN/inf \(first at sample 3\); values must be finite"
    with pytest.raises(ValueError, match=message):
        evaluate(_classifier(), x, np.zeros(5, int))
    with pytest.raises(ValueError, match=r"first at sample 0"):
        evaluate(_classifier(), np.full((5, 4), bad, np.float32), np.zeros(5, int))
    from fmnist.evaluation import predict_classes

    with pytest.raises(ValueError, match=message):
        predict_classes(_classifier(), x)
    xr = np.linspace(-1, 1, 6, dtype=np.float32)[:, None]
    xr[2] = bad
    with pytest.raises(ValueError, match=r"^x contains NaN/inf \(first at sample 2\)"):
        cv_vs_ensemble(_regressors(), xr, np.zeros(6))
    with pytest.raises(ValueError, match=r"^x_test contains NaN/inf \(first at sample 2\)"):
        regression_metrics(np.sin, x_test=xr, y_test=np.zeros(6))  # a callable predictor too


def test_regression_scoring_rejects_non_finite_targets():
    x = np.linspace(-1, 1, 6, dtype=np.float32)[:, None]
    y = np.zeros(6)
    y[4] = np.nan
    with pytest.raises(ValueError, match=r"^y contains NaN/inf \(first at sample 4\)"):
        evaluate(_regressors(1)[0], x, y)
    with pytest.raises(ValueError, match=r"^y contains NaN/inf \(first at sample 4\)"):
        cv_vs_ensemble(_regressors(), x, y)
    with pytest.raises(ValueError, match=r"^y_test contains NaN/inf \(first at sample 4\)"):
        regression_metrics(np.zeros(6), x_test=x, y_test=y)


def test_regression_scoring_rejects_mismatched_shapes_instead_of_broadcasting():
    x = np.linspace(-1, 1, 6, dtype=np.float32)[:, None]
    (model,) = _regressors(1)
    with pytest.raises(ValueError, match=r"y has 2 targets per sample but model .* predicts 1"):
        evaluate(model, x, np.zeros((6, 2)))
    for y in (np.zeros(4), np.zeros(1), np.zeros((6, 2))):  # np.zeros(1) used to broadcast
        message = rf"y must hold one target per sample of x \(6\), got shape {re.escape(str(y.shape))}"
        with pytest.raises(ValueError, match=message):
            cv_vs_ensemble(_regressors(), x, y)
    classifier = build_mlp(input_shape=(1,), hidden_units=(3,), n_classes=3)
    with pytest.raises(ValueError, match=r"cv_vs_ensemble needs regression models \(1 output unit\), model .* has 3"):
        cv_vs_ensemble([model, classifier], x, np.zeros(6))
    with pytest.raises(ValueError, match=r"regression_metrics needs regression models \(1 output unit\)"):
        regression_metrics(classifier, x_test=x, y_test=np.zeros(6))
    with pytest.raises(ValueError, match=r"x_test has 5 points but y_test has 6"):
        regression_metrics(np.zeros(6), x_test=x[:5], y_test=np.zeros(6))


def test_cv_vs_ensemble_predicts_each_member_once(monkeypatch):
    x = np.linspace(-1, 1, 6, dtype=np.float32)[:, None]
    y = np.sin(x)
    models = _regressors(3)
    expected = cv_vs_ensemble(models, x, y)
    calls = []
    predict = type(models[0]).predict
    monkeypatch.setattr(
        type(models[0]), "predict", lambda self, *a, **k: calls.append(self) or predict(self, *a, **k)
    )
    pd.testing.assert_frame_equal(cv_vs_ensemble(models, x, y), expected)
    assert [id(m) for m in calls] == [id(m) for m in models]
    member = np.mean([m.predict(x, verbose=0).ravel() for m in models], axis=0)
    assert expected.loc["ensemble", "test_mse"] == pytest.approx(np.mean((member - y.ravel()) ** 2), rel=1e-5)


def test_empty_inputs_are_rejected():
    from fmnist.evaluation import predict_classes

    empty = np.zeros((0, 4), np.float32)
    message = r"x has shape \(0, 4\): need at least one sample \(N >= 1\)"
    with pytest.raises(ValueError, match=message):
        evaluate(_classifier(), empty, np.zeros(0, int))
    with pytest.raises(ValueError, match=message):
        predict_classes(_classifier(), empty)
    with pytest.raises(ValueError, match=r"x has shape \(0, 1\): need at least one sample"):
        evaluate(_regressors(1)[0], np.zeros((0, 1), np.float32), np.zeros(0))
    with pytest.raises(ValueError, match=r"x has shape \(0, 1\): need at least one sample"):
        cv_vs_ensemble(_regressors(), np.zeros((0, 1), np.float32), np.zeros(0))
    with pytest.raises(ValueError, match=r"test: 0 predictions for 0 targets \(need N >= 1 of each\)"):
        regression_metrics(np.zeros(0), x_test=np.zeros(0), y_test=np.zeros(0))


def test_labels_follow_the_shared_rule_integer_valued_floats_accepted():
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 4), dtype=np.float32), rng.integers(0, 8, 20)
    model = _classifier()
    assert evaluate(model, x, y.astype(np.float32)) == evaluate(model, x, y)
    assert evaluate(model, x, y[:, None].astype(float)) == evaluate(model, x, y)
    np.testing.assert_array_equal(confusion(y.astype(float), y), confusion(y, y))
    with pytest.raises(TypeError, match=r"y must be integer class labels \(integer-valued floats "
                                        r"such as 2.0 are accepted\), got 0.5"):
        evaluate(model, x, np.full(20, 0.5))
    with pytest.raises(TypeError, match=r"y_pred must be integer class labels .*got nan"):
        confusion([0, 1], [0.0, np.nan])
    with pytest.raises(TypeError, match=r"y_true must be integer class labels, got dtype bool"):
        classification_summary(np.array([True, False]), [0, 1], class_names=("x", "y"))
    with pytest.raises(ValueError, match=r"y must be integer class labels in \[0, 8\) for model "
                                         r".*got values in \[-1, 1\]"):
        evaluate(model, x[:2], np.array([-1, 1]))
    with pytest.raises(ValueError, match=r"y_true must be integer class labels >= 0, got values in \[-1, 1\]"):
        confusion([-1, 1], [0, 1])
