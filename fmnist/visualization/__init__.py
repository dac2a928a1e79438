"""Plotting: every function draws, none computes anything expensive.

The arrays and tables come from :mod:`fmnist.evaluation`, :mod:`fmnist.interpret`,
:mod:`fmnist.gradients` and :mod:`fmnist.training`. Conventions of every function:

* it returns a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``. The figure is
  not registered with pyplot, so in a notebook it shows up once as the cell's value (or with
  ``display(fig)``) and nothing piles up in memory; save it with ``fig.savefig(path)``;
* one-panel plots take an optional ``ax`` to draw into (multi-panel plots refuse it);
* axes are labeled, panels titled, classes named (default ``fmnist.data.FASHION_MNIST_CLASSES``);
* the style (seaborn ``whitegrid`` + ``notebook``) is applied only while the figure is drawn,
  via :func:`style`; the global matplotlib settings are never changed. Use ``with style():``
  around your own plots to match.

Example::

    >>> from fmnist.visualization import plot_images, plot_learning_curves, plot_confusion_matrix
    >>> fig = plot_images(x_train, y_train, per_class=8)
    >>> fig = plot_learning_curves({"MLP": mlp_result, "CNN": cnn_result})
    >>> fig = plot_confusion_matrix(y_test, model.predict(x_test), normalize="both")
    >>> fig.savefig("reports/figures/confusion.png")
"""

from fmnist.visualization._common import style, style_rc
from fmnist.visualization.data_plots import (
    plot_class_distribution,
    plot_images,
    plot_predictions,
)
from fmnist.visualization.gradient_plots import (
    plot_gradient_norm_history,
    plot_gradient_norms,
    plot_matrix_products,
)
from fmnist.visualization.interpretation import (
    plot_activation_maximization,
    plot_activation_trace,
    plot_feature_maps,
    plot_field_comparison,
    plot_filters,
    plot_grad_cam,
    plot_grad_cam_grid,
    plot_receptive_fields,
    plot_saliency,
)
from fmnist.visualization.regression import (
    plot_activation_patterns,
    plot_activation_profiles,
    plot_regression,
)
from fmnist.visualization.results import (
    history_frame,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_model_comparison,
    plot_search_progress,
    plot_time_to_accuracy,
    plot_tuning_results,
    plot_weight_histograms,
)
from fmnist.visualization.trust import (
    plot_corruption_accuracy,
    plot_mean_corruption_accuracy,
    plot_reliability_diagram,
    plot_uncertainty,
)

__all__ = [
    "history_frame", "plot_activation_maximization",
    "plot_activation_patterns", "plot_activation_profiles", "plot_activation_trace",
    "plot_class_distribution", "plot_confusion_matrix", "plot_corruption_accuracy",
    "plot_feature_maps", "plot_field_comparison",
    "plot_filters",
    "plot_grad_cam", "plot_grad_cam_grid", "plot_gradient_norm_history", "plot_gradient_norms",
    "plot_images", "plot_learning_curves", "plot_matrix_products", "plot_mean_corruption_accuracy",
    "plot_model_comparison",
    "plot_predictions", "plot_receptive_fields", "plot_regression", "plot_reliability_diagram", "plot_saliency",
    "plot_search_progress", "plot_time_to_accuracy", "plot_tuning_results", "plot_uncertainty",
    "plot_weight_histograms", "style", "style_rc",
]  # fmt: skip
