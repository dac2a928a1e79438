"""fmnist.visualization: every plot returns a Figure that saves to PNG (Agg, synthetic data).

These tests use arrays and tables only, so they never import TensorFlow.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from fmnist import visualization as viz
from fmnist.evaluation import confusion

NAMES = ["zero", "one", "two", "three"]


@pytest.fixture
def save(tmp_path):
    """Check a figure, save it as PNG and close it; returns the figure's texts."""
    counter = iter(range(1000))

    def _save(fig) -> list[str]:
        assert isinstance(fig, Figure)
        path = tmp_path / f"figure_{next(counter)}.png"
        fig.savefig(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2_000
        texts = [t.get_text() for t in fig.findobj(mpl.text.Text)]
        for ax in fig.axes:
            if ax.get_visible() and ax.has_data() and ax.get_label() != "<colorbar>":
                assert ax.get_title() or fig._suptitle is not None, "every panel is titled"
        plt.close(fig)
        return texts

    return _save


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.uniform(size=(40, 28, 28, 1)).astype(np.float32), np.arange(40) % 4


# ------------------------------------------------------------------------- conventions
def test_style_is_local_and_figures_are_not_registered_with_pyplot(images):
    before = dict(mpl.rcParams)
    open_figures = plt.get_fignums()
    fig = viz.plot_images(*images, class_names=NAMES, n=4)
    assert dict(mpl.rcParams) == before
    assert plt.get_fignums() == open_figures
    with viz.style():
        assert mpl.rcParams["axes.titleweight"] == "bold"
    assert mpl.rcParams["axes.titleweight"] == before["axes.titleweight"]
    plt.close(fig)


def test_single_panel_plots_draw_into_a_given_ax(save):
    fig, axes = plt.subplots(1, 2)
    returned = viz.plot_class_distribution({"train": [0, 1, 1], "test": [2, 3]},
                                           class_names=NAMES, ax=axes[1])
    assert returned is fig and axes[1].get_xlabel() == "class"
    save(fig)
    with pytest.raises(ValueError, match="only accepted for one panel"):
        viz.plot_learning_curves(pd.DataFrame({"loss": [1, 0.5], "accuracy": [0.5, 0.7]}),
                                 ax=axes[0])


def test_default_class_names_are_fashion_mnist(images, save):
    pytest.importorskip("fmnist.data")
    from fmnist.data import FASHION_MNIST_CLASSES

    texts = save(viz.plot_images(*images, n=4))
    assert FASHION_MNIST_CLASSES[1] in texts


# ------------------------------------------------------------------------------- images
def test_plot_images_first_n_and_per_class(images, save):
    x, y = images
    texts = save(viz.plot_images(x, y, class_names=NAMES, n=6))
    assert texts.count("one") == 2
    fig = viz.plot_images(x.reshape(40, 784), y, class_names=NAMES, per_class=3)
    assert [ax.get_ylabel() for ax in fig.axes[::3]] == NAMES
    save(fig)
    with pytest.raises(ValueError, match="per_class needs the labels"):
        viz.plot_images(x, per_class=2)
    with pytest.raises(ValueError, match="per_class must be an int >= 1 or None, got 0"):
        viz.plot_images(x, y, per_class=0)
    with pytest.raises(ValueError, match="does not fit 4 class names"):
        viz.plot_images(x, y + 1, class_names=NAMES)
    with pytest.raises(ValueError, match="cannot show an array of shape"):
        viz.plot_images(np.zeros((3, 5, 7, 2)))


def test_plot_predictions_highlights_mistakes(images, save):
    x, y = images
    probs = np.eye(4)[y]
    probs[0] = [0.1, 0.7, 0.1, 0.1]  # one mistake: true "zero", predicted "one"
    fig = viz.plot_predictions(x, y, probs, class_names=NAMES, n=8)
    titles = [ax.title for ax in fig.axes[:8]]
    assert "pred: one (70%)\ntrue: zero" == titles[0].get_text()
    assert mpl.colors.same_color(titles[0].get_color(), "#d62728")
    assert not mpl.colors.same_color(titles[1].get_color(), "#d62728")
    save(fig)
    fig = viz.plot_predictions(x, y, probs.argmax(1), class_names=NAMES, only_mistakes=True)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1
    save(fig)
    with pytest.raises(ValueError, match="different lengths"):
        viz.plot_predictions(x, y[:3], y[:3], class_names=NAMES)
    # Labels of shape (N, 1) are labels (Keras' sparse format), not one-column probabilities.
    fig = viz.plot_predictions(x, y, y.reshape(-1, 1), class_names=NAMES, n=4)
    assert fig.axes[1].title.get_text() == f"pred: {NAMES[y[1]]}\ntrue: {NAMES[y[1]]}"
    with pytest.raises(ValueError, match="y_pred must be integer class labels >= 0"):
        viz.plot_predictions(x, y, y - 1, class_names=NAMES)
    with pytest.raises(TypeError, match="y_true must be integer class labels"):
        viz.plot_predictions(x, y + 0.5, y, class_names=NAMES)
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        viz.plot_predictions(x, y, np.full((len(y), 4), np.nan), class_names=NAMES)


def test_plot_class_distribution(save):
    class Splits:  # duck-typed fmnist.data.Splits
        y_train, y_dev, y_test = np.arange(40) % 4, np.arange(8) % 4, np.arange(12) % 4

    fig = viz.plot_class_distribution(Splits(), class_names=NAMES)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == NAMES
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "train (n=40)"
    save(fig)
    with pytest.raises(TypeError, match="y_train/y_dev/y_test"):
        viz.plot_class_distribution([1, 2, 3])


# ---------------------------------------------------------------------------- results
def _history(n=6, shift=0.0):
    epochs = np.arange(1, n + 1)
    val_loss = 1 / epochs + 0.05 * (epochs - 4) ** 2 / 4 + shift
    return pd.DataFrame({"loss": 1 / epochs, "val_loss": val_loss,
                         "accuracy": 1 - 0.5 / epochs, "val_accuracy": 0.9 - val_loss / 4})


def test_plot_learning_curves_marks_the_best_epoch(save):
    class Result:  # a TrainResult-like object: its best_epoch (early stopping) is used
        history = _history(shift=0.1).rename_axis("epoch").set_axis(range(1, 7))
        best_epoch, monitor = 2, "val_loss"

    fig = viz.plot_learning_curves({"mlp": _history(), "cnn": Result(),
                                    "keras": {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}})
    loss_panel = fig.axes[0]
    assert loss_panel.get_xlabel() == "epoch" and loss_panel.get_ylabel() == "loss"
    legend = [t.get_text() for t in loss_panel.get_legend().get_texts()]
    best = int(np.argmin(_history()["val_loss"])) + 1
    assert f"mlp best epoch ({best})" in legend and "keras best epoch (2)" in legend
    assert "cnn best epoch (2)" in legend
    save(fig)
    fig = viz.plot_learning_curves([_history(), _history(4)], metrics=("accuracy",))
    assert len(fig.axes) == 1
    save(fig)
    with pytest.raises(ValueError, match="available columns: loss"):
        viz.plot_learning_curves(pd.DataFrame({"loss": [1.0]}), metrics=("mse",))
    with pytest.raises(TypeError, match="history DataFrame"):
        viz.plot_learning_curves(42)


def test_plot_confusion_matrix(save):
    y_true = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    y_pred = np.array([0, 1, 1, 1, 2, 3, 3, 3])
    fig = viz.plot_confusion_matrix(y_true, y_pred, class_names=NAMES, normalize="both")
    counts, normalized = fig.axes[:2]  # the colorbars come after the panels
    assert [t.get_text() for t in counts.get_yticklabels()] == NAMES
    assert counts.get_xlabel() == "predicted class" and counts.get_ylabel() == "true class"
    assert "0.50" in [t.get_text() for t in normalized.texts]
    save(fig)
    cm = confusion(y_true, y_pred, n_classes=4)  # the counts come from fmnist.evaluation
    fig = viz.plot_confusion_matrix(y_true.reshape(-1, 1), np.eye(4)[y_pred], class_names=NAMES)
    assert [t.get_text() for t in fig.axes[0].texts][:8] == ["1", "1", "0", "0", "0", "2", "0", "0"]
    save(fig)
    save(viz.plot_confusion_matrix(cm=cm, class_names=NAMES, normalize=True))
    with pytest.raises(ValueError, match="normalize must be"):
        viz.plot_confusion_matrix(y_true, y_pred, class_names=NAMES, normalize="rows")
    with pytest.raises(ValueError, match="4 class names"):
        viz.plot_confusion_matrix(cm=np.ones((3, 3)), class_names=NAMES)


def test_plot_model_comparison(save):
    table = pd.DataFrame({"Architecture": ["MLP", "CNN"], "Params": [101_770, 50_186],
                          "Epochs": [3, 3], "Train time (s)": [12.0, 30.5],
                          "Test loss": [0.4, 0.3], "Test accuracy": [0.85, 0.9]})
    fig = viz.plot_model_comparison(table)
    assert [ax.get_title() for ax in fig.axes] == ["Test accuracy", "Params", "Train time (s)"]
    save(fig)
    with pytest.raises(ValueError, match=r"columns \['F1'\] not in the table"):
        viz.plot_model_comparison(table, metrics=("F1",))


def test_plot_weight_histograms(save):
    rng = np.random.default_rng(0)
    before = {"hidden_1": rng.normal(size=100), "output": rng.normal(size=30)}
    after = {k: v * 1.5 for k, v in before.items()}
    fig = viz.plot_weight_histograms(before, after)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["before training", "after training"]
    save(fig)
    with pytest.raises(ValueError, match="layers \\['conv_1'\\] not in"):
        viz.plot_weight_histograms(before, after, layers=["conv_1"])


def test_plot_tuning_results(save):
    rng = np.random.default_rng(0)
    results = pd.DataFrame({"learning_rate": 10 ** rng.uniform(-4, -1, 8),
                            "activation": ["relu", "tanh"] * 4,
                            "val_accuracy": rng.uniform(0.7, 0.9, 8), "trial_id": range(8)})
    fig = viz.plot_tuning_results(results)
    assert [ax.get_xlabel() for ax in fig.axes if ax.get_visible()] == ["learning_rate",
                                                                        "activation"]
    assert fig.axes[0].get_xscale() == "log"
    best = f"best ({results['val_accuracy'].max():.4g})"
    assert best in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    save(fig)
    with pytest.raises(ValueError, match="score column 'val_loss' not in"):
        viz.plot_tuning_results(results, score="val_loss")
    # fmnist.tuning tables: bookkeeping columns are skipped, declared hyperparameters win.
    tuning_table = results.assign(engine="talos", tuner="random", epochs=3, wall_time=1.0,
                                  param_hash="abc", cv_accuracy=0.8)
    fig = viz.plot_tuning_results(tuning_table)
    assert [ax.get_xlabel() for ax in fig.axes if ax.get_visible()] == ["learning_rate",
                                                                        "activation"]
    plt.close(fig)
    tuning_table.attrs["hyperparameters"] = ["activation"]
    fig = viz.plot_tuning_results(tuning_table)
    assert [ax.get_xlabel() for ax in fig.axes if ax.get_visible()] == ["activation"]
    save(fig)


def test_plot_search_progress(save):
    curve = pd.DataFrame({"epochs": [2, 4, 10], "best": [0.80, 0.84, 0.86]})
    curve.attrs["metric"] = "val_accuracy"

    class Search:  # anything with anytime(), like fmnist.tuning.SearchResult
        def anytime(self):
            return pd.DataFrame({"epochs": [6, 12], "best": [0.82, 0.85]})

    fig = viz.plot_search_progress({"hyperband": curve, "random": Search()}, target=0.845,
                                   budget=(7.2, "40 % of random's epochs"))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["hyperband", "random"]
    assert "target (0.845)" in labels and "40 % of random's epochs" in labels
    assert ax.get_xlabel() == "epochs spent (all trials so far)"
    assert "val_accuracy" in ax.get_ylabel()
    x, y = ax.lines[0].get_data()
    assert list(x) == [2, 4, 10] and list(y) == [0.80, 0.84, 0.86]
    save(fig)
    with pytest.raises(ValueError, match="lacks columns"):
        viz.plot_search_progress({"bad": pd.DataFrame({"epochs": [1]})})
    with pytest.raises(ValueError, match="non-empty mapping"):
        viz.plot_search_progress({})


def test_plot_time_to_accuracy(save):
    runs = pd.DataFrame({"model": ["a", "b", "c"], "train_time": [300, 60, 120],
                         "test_accuracy": [0.94, 0.90, 0.89]})  # fmt: skip
    fig = viz.plot_time_to_accuracy(runs, target=0.94, budget_minutes=5)
    ax = fig.axes[0]
    x, y = ax.lines[0].get_data()  # the front: sorted by time, never falling
    assert list(x) == [1, 2, 5] and list(y) == [0.90, 0.90, 0.94]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "target 94.0%" in labels and "5 min" in labels
    save(fig)
    with pytest.raises(ValueError, match="missing"):
        viz.plot_time_to_accuracy(runs.drop(columns="train_time"))
    with pytest.raises(ValueError, match="non-empty"):
        viz.plot_time_to_accuracy(pd.DataFrame())
    # one front per recipe
    runs["recipe"] = ["new", "new", "old"]
    ax = viz.plot_time_to_accuracy(runs).axes[0]
    fronts = {line.get_label(): list(line.get_data()[1]) for line in ax.lines}
    assert fronts == {"new: best within the time": [0.90, 0.94], "old: best within the time": [0.89]}


# ------------------------------------------------------------------------- regression
def test_plot_regression_single_vs_ensemble(save):
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, 30)
    grid = np.linspace(-5, 5, 50)
    fig = viz.plot_regression((x, np.sin(x)), (x, np.cos(x)),
                              {"single model": np.sin(grid),
                               "CV ensemble": [np.sin(grid), np.sin(grid) + 0.1]},
                              x_grid=grid, true_function=np.sin, gaps=((-3, -1), (2, 3)))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "gap (no training data)" in labels and "CV ensemble (mean of 2)" in labels
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    save(fig)
    with pytest.raises(ValueError, match="predictions have 3 values but x_grid has 50"):
        viz.plot_regression(predictions={"bad": [1, 2, 3]}, x_grid=grid, true_function=None,
                            gaps=None)


def test_plot_activation_profiles_and_patterns(save):
    grid = np.linspace(-5, 5, 21)
    profiles = {"hidden_1": np.tanh(np.outer(grid, [1, -1, 0.5])),
                "hidden_2": np.tanh(np.outer(grid, [2, 1]))}
    fig = viz.plot_activation_profiles(profiles, grid, gaps=None)
    assert [ax.get_title() for ax in fig.axes] == ["hidden_1 (3 units)", "hidden_2 (2 units)"]
    save(fig)
    inputs = [-4, -2, 0.1, 2.5, 4]
    patterns = {name: np.tanh(np.outer(inputs, np.ones(k))) for name, k in
                (("hidden_1", 3), ("hidden_2", 20))}
    fig = viz.plot_activation_patterns(patterns, inputs)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][2] == "x = 0.1"
    save(fig)
    with pytest.raises(ValueError, match="has 21 rows, x_grid 5"):
        viz.plot_activation_profiles(profiles, grid[:5], gaps=None)
    with pytest.raises(TypeError, match="non-empty"):
        viz.plot_activation_patterns({}, inputs)


# --------------------------------------------------------------------- interpretability
def test_interpretation_grids(save):
    rng = np.random.default_rng(0)
    texts = save(viz.plot_receptive_fields(rng.normal(size=(10, 28, 28)), ncols=5))
    assert "unit 10" in texts
    texts = save(viz.plot_filters(rng.normal(size=(6, 3, 3, 4))))
    assert any("mean over 4 input channels" in t for t in texts)
    maps = {"conv_1": rng.uniform(size=(28, 28, 4)), "conv_2": rng.uniform(size=(14, 14, 10))}
    fig = viz.plot_feature_maps(maps, image=rng.uniform(size=(28, 28, 1)), max_channels=6)
    assert len(fig.axes) == 2 * 7
    assert [ax.get_visible() for ax in fig.axes[::7]] == [True, False]  # input shown once
    save(fig)
    with pytest.raises(ValueError, match=r"must be \(units, height, width\)"):
        viz.plot_receptive_fields(np.zeros((28, 28)))
    with pytest.raises(ValueError, match=r"must be \(filters, kernel_h"):
        viz.plot_filters(np.zeros((3, 3, 4)))


def test_activation_maximization_plots(save):
    from collections import namedtuple

    Result = namedtuple("Result", "image trace")  # same fields as interpret.ActivationMaximum
    rng = np.random.default_rng(0)
    results = {name: Result(rng.uniform(size=(28, 28, 1)), np.linspace(-1, 3, 11))
               for name in NAMES}
    texts = save(viz.plot_activation_maximization(results))
    assert "two\n-1 -> 3" in texts
    fig = viz.plot_activation_trace(results)
    assert fig.axes[0].get_xlabel() == "gradient-ascent step" and len(fig.axes[0].lines) == 4
    save(fig)
    save(viz.plot_activation_maximization([r.image.reshape(784) for r in results.values()]))


def test_grad_cam_and_saliency_plots(save):
    rng = np.random.default_rng(0)
    image, heat = rng.uniform(size=(28, 28, 1)), rng.uniform(size=(28, 28))
    fig = viz.plot_grad_cam(image, heat, title="pred: Coat, true: Shirt")
    assert [ax.get_title() for ax in fig.axes[:3]] == ["input", "Grad-CAM", "overlay"]
    save(fig)
    fig, ax = plt.subplots()
    assert viz.plot_saliency(image, heat, ax=ax) is fig
    save(fig)
    save(viz.plot_grad_cam_grid([image] * 3, [heat] * 3, ["a", "b", "c"]))
    with pytest.raises(ValueError, match="heatmap shape \\(14, 14\\) does not match"):
        viz.plot_grad_cam(image, heat[:14, :14])
    with pytest.raises(ValueError, match="3 images but 2 heatmaps"):
        viz.plot_grad_cam_grid([image] * 3, [heat] * 2)


# -------------------------------------------------------------------------- gradients
def test_plot_matrix_products_marks_overflow_and_underflow(save):
    rows = [("a", d, 10.0 ** -d, 10.0 ** -d) for d in range(5)] + [("a", 5, 0.0, 0.0)]
    rows += [("b", d, 10.0 ** d, np.inf if d > 3 else 10.0 ** d) for d in range(6)]
    fig = viz.plot_matrix_products(pd.DataFrame(rows, columns=["init", "depth", "mean", "std"]))
    std_panel = fig.axes[1]
    assert std_panel.get_yscale() == "log"
    texts = [t.get_text() for t in std_panel.texts]
    assert "inf/nan from depth 4" in texts and "exactly 0 from depth 5" in texts
    save(fig)
    with pytest.raises(ValueError, match="lacks columns"):
        viz.plot_matrix_products(pd.DataFrame({"init": ["a"], "depth": [0]}))


def _norms():
    layers = [f"hidden_{i}" for i in range(1, 4)] + ["output"]
    rows = [(config, epoch, layer, scale * (i + 1) / (epoch + 1))
            for config, scale in (("uniform + sigmoid", 1e-4), ("he + relu", 1.0))
            for epoch in range(3) for i, layer in enumerate(layers)]
    return pd.DataFrame(rows, columns=["config", "epoch", "layer", "norm"])


def test_plot_gradient_norms(save):
    fig = viz.plot_gradient_norms(_norms())
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and "initialization" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "hidden_1"
    save(fig)
    single = pd.DataFrame({"kernel": [0.1, 1.0], "bias": [0.01, 0.1]},
                          index=pd.Index(["hidden_1", "output"], name="layer"))
    save(viz.plot_gradient_norms(single))
    with pytest.raises(ValueError, match="no norms for epoch 7"):
        viz.plot_gradient_norms(_norms(), epoch=7)


def test_plot_gradient_norm_history(save):
    fig = viz.plot_gradient_norm_history(_norms())
    assert [ax.get_title() for ax in fig.axes] == ["uniform + sigmoid", "he + relu"]
    assert all(len(ax.lines) == 4 for ax in fig.axes)
    save(fig)


def test_field_comparison_plot(save):
    from collections import namedtuple

    # Same fields as interpret.FieldComparison (importing it would load Keras).
    FieldComparison = namedtuple("FieldComparison", "units images fields correlation")
    rng = np.random.default_rng(0)
    comparison = FieldComparison([0, 3], rng.uniform(size=(2, 28, 28)), rng.normal(size=(2, 28, 28)),
                                 np.asarray([0.91, 0.4]))
    texts = save(viz.plot_field_comparison(comparison))
    assert "unit 3\nr = 0.40" in texts
    assert "pullover\nr = 0.91" in save(viz.plot_field_comparison(comparison, labels=["pullover", "coat"]))
    with pytest.raises(ValueError, match="labels: expected 2, got 1"):
        viz.plot_field_comparison(comparison, labels=["x"])
    with pytest.raises(ValueError, match="as many images as fields"):
        viz.plot_field_comparison(comparison._replace(fields=np.zeros((1, 28, 28))))
