"""fmnist.course.experiments: train several configurations, select on dev, test once, record."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist.course.experiments import Config, run_experiments


def _data(n, seed):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    x = rng.normal(0, 0.3, (n, 784)).astype(np.float32)
    x[np.arange(n), y * 10] += 3.0  # a learnable signal
    return x, y.astype(np.int32)


@pytest.fixture(scope="module")
def experiment():
    train, dev = _data(400, 0), _data(200, 1)
    return run_experiments(
        {"shallow": "mlp_shallow",
         "shallow, 1 epoch": Config("mlp_shallow", epochs=1),
         "shallow + dropout": Config("mlp_shallow", overrides={"dropout": 0.5}, epochs=1)},
        train, dev, epochs=2, batch_size=64, log=None,
    )  # fmt: skip


def test_runs_every_config_with_its_epochs(experiment):
    table = experiment.dev_table()
    assert list(table["Architecture"]) == ["shallow", "shallow, 1 epoch", "shallow + dropout"]
    assert list(table["Epochs"]) == [2, 1, 1]
    assert set(table["Params"]) == {101_770}


def test_same_seed_gives_same_initial_weights(experiment):
    a = experiment.initial_weights["shallow"]
    b = experiment.initial_weights["shallow, 1 epoch"]
    assert a.keys() == b.keys()
    for layer in a:
        np.testing.assert_array_equal(a[layer], b[layer])


def test_select_best_uses_dev_only(experiment):
    table = experiment.dev_table()
    best = experiment.select_best()
    assert best == table.loc[table["val_accuracy"].idxmax(), "Architecture"]
    assert experiment.select_best("val_loss") == table.loc[table["val_loss"].idxmin(), "Architecture"]
    with pytest.raises(ValueError, match="not logged"):
        experiment.select_best("val_mse")
    # any logged metric works, not only the three the table shows by default
    assert experiment.select_best("loss") == experiment.dev_table("loss").sort_values("loss")["Architecture"].iloc[0]


def test_test_table_and_record(experiment, tmp_path, monkeypatch):
    from fmnist.course import report
    from fmnist.evaluation import evaluate

    x_test, y_test = _data(100, 2)
    table = experiment.test_table(x_test, y_test)
    direct = evaluate(experiment.model("shallow"), x_test, y_test)["accuracy"]
    row = table.set_index("Architecture").loc["shallow"]
    assert row["Test accuracy"] == pytest.approx(direct)
    monkeypatch.setenv(report.RESULTS_ENV, str(tmp_path))
    experiment.record("99_test")
    assert len(report.load_results()) == 3


def test_bad_configs():
    with pytest.raises(ValueError, match="at least one"):
        run_experiments({}, _data(20, 0), None, epochs=1)
    with pytest.raises(ValueError, match="unknown preset"):
        run_experiments({"x": "no_such"}, _data(20, 0), None, epochs=1, log=None)
    with pytest.raises(TypeError, match="preset name or a Config"):
        run_experiments({"x": 3}, _data(20, 0), None, epochs=1)
    with pytest.raises(ValueError, match="epochs must be an int >= 1, got 0"):
        run_experiments({"x": Config("mlp_shallow", epochs=0)}, _data(20, 0), None, epochs=1, log=None)


def test_merge(experiment):
    from fmnist.course.experiments import Experiment

    merged = Experiment.merge(experiment)
    assert list(merged.results) == list(experiment.results)
    with pytest.raises(ValueError, match="used twice"):
        Experiment.merge(experiment, experiment)


def test_dev_table_reports_the_returned_models_epoch():
    train, dev = _data(300, 0), _data(100, 1)
    plain = run_experiments({"a": "mlp_shallow"}, train, dev, epochs=3, batch_size=64, log=None)
    assert plain.model_epoch("a") == 3  # no early stopping: the last epoch's weights
    row = plain.dev_table().iloc[0]
    assert row["val_accuracy"] == plain.results["a"].history["val_accuracy"].iloc[-1]
    stopped = run_experiments({"b": "mlp_shallow"}, train, dev, epochs=3, batch_size=64,
                              patience=1, log=None)
    assert stopped.model_epoch("b") == stopped.results["b"].best_epoch


def test_config_lr_schedule_reaches_train(monkeypatch):
    from fmnist.course import experiments

    seen = []
    real_train = experiments.train

    def spy(*args, **kwargs):
        seen.append(kwargs["lr_schedule"])
        return real_train(*args, **kwargs)

    monkeypatch.setattr(experiments, "train", spy)  # the name run_experiments calls
    run_experiments({"cosine": Config("mlp_shallow", lr_schedule="cosine"), "constant": "mlp_shallow"},
                    _data(64, 0), _data(32, 1), epochs=1, batch_size=32, log=None)  # fmt: skip
    assert seen == ["cosine", None]


def test_recipes_per_layout():
    from fmnist.course.profiles import get_profile
    from fmnist.course.experiments import RECIPES, recipe

    full = get_profile("full")
    assert RECIPES == ("default", "plain")
    cnn = recipe("default", "cnn", full, seed=3)
    assert cnn["epochs"] == full.cnn_best_epochs and cnn["lr_schedule"] == "cosine"
    assert [layer.name for layer in cnn["augment"].layers] == ["flip", "translate"]
    assert recipe("plain", "cnn", full) == {"epochs": full.cnn_epochs, "lr_schedule": None, "augment": None}
    # MLPs and the regression net: the default recipe is the plain one
    for layout, epochs in (("mlp", full.epochs), ("regression", full.regression_epochs)):
        for name in RECIPES:
            assert recipe(name, layout, full) == {"epochs": epochs, "lr_schedule": None, "augment": None}


def test_default_cnn_recipe_augments_only_when_training():
    from fmnist.course.profiles import get_profile
    from fmnist.course.experiments import recipe

    augment = recipe("default", "cnn", get_profile("quick"))["augment"]
    x = np.random.default_rng(0).random((8, 28, 28, 1)).astype("float32")
    np.testing.assert_array_equal(np.asarray(augment(x, training=False)), x)
    shifted = np.asarray(augment(x, training=True))
    assert shifted.shape == x.shape and not np.allclose(shifted, x)


def test_bad_recipe_names():
    from fmnist.course.profiles import get_profile
    from fmnist.course.experiments import recipe

    with pytest.raises(ValueError, match="unknown recipe 'fancy'; valid recipes: default, plain"):
        recipe("fancy", "cnn", get_profile("quick"))
    with pytest.raises(ValueError, match="unknown layout 'rnn'; valid layouts: mlp, cnn, regression"):
        recipe("default", "rnn", get_profile("quick"))


def test_an_augmentation_layer_is_not_reset_by_set_seed():
    # Pins what run_experiments documents: set_seed does not reset a layer's random state,
    # so a shared layer gives a later run other transforms; a fresh layer repeats them.
    # One batch per epoch: with several, make_dataset's parallel map draws in no fixed order.
    from fmnist.data import build_augmentation, make_dataset
    from fmnist.training import set_seed

    x = np.random.default_rng(0).random((8, 28, 28, 1)).astype("float32")

    def first_batch(layer):
        set_seed(0)
        return next(iter(make_dataset(x, np.zeros(8, int), batch_size=8, augment=layer)))[0].numpy()

    shared = build_augmentation(flip=False, rotation=0.0, noise=0.0, erasing=0.0, translation=0.1, seed=0)
    first = first_batch(shared)
    assert not np.array_equal(first_batch(shared), first)
    fresh = build_augmentation(flip=False, rotation=0.0, noise=0.0, erasing=0.0, translation=0.1, seed=0)
    np.testing.assert_array_equal(first_batch(fresh), first)
