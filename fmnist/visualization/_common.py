"""Shared style, figure creation and input checks of the plotting functions."""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import matplotlib as mpl
import numpy as np
import seaborn as sns
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fmnist.checks import check_finite, check_labels
from fmnist.data import FASHION_MNIST_CLASSES

#: Colors with a fixed meaning in every figure.
CORRECT_COLOR = "#2a9d4b"
MISTAKE_COLOR = "#d62728"
BEST_COLOR = "#d62728"
GAP_COLOR = "0.85"
IMAGE_CMAP = "gray_r"  # dark ink on white paper, like the Fashion-MNIST thumbnails
DIVERGING_CMAP = "RdBu_r"  # signed weights / activations: blue negative, red positive
HEAT_CMAP = "turbo"  # the usual rainbow of Grad-CAM figures, perceptually improved


def palette(n: int | None = None) -> list:
    """The package's categorical colors (seaborn "deep"), as RGB tuples.

    Explicit RGB tuples rather than "C0"-style names: those are resolved against the rcParams
    at draw time, which may be outside the style context.
    """
    colors = sns.color_palette("deep", n)
    return list(colors)


def integer_epochs(ax: Axes) -> None:
    """Epoch axes show whole numbers only."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _enable_notebook_display() -> None:
    """Make Jupyter render our Figures as images.

    pyplot imports its backend lazily, on the first pyplot figure, and it is the inline
    backend's import that tells IPython how to display a Figure. Figures built with
    ``Figure()`` never trigger it, so a cell returning one would print "<Figure ...>".
    Outside Jupyter (another backend) this does nothing.
    """
    backend = str(mpl.rcParams._get("backend"))  # _get: do not trigger backend auto-selection
    if backend in ("inline", "module://matplotlib_inline.backend_inline"):
        importlib.import_module("matplotlib_inline.backend_inline")


_enable_notebook_display()


def style_rc() -> dict:
    """The rcParams of the package style: seaborn ``whitegrid`` + ``notebook`` context."""
    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.9)}
    rc.update({
        "axes.prop_cycle": cycler(color=sns.color_palette("deep")),
        "axes.titleweight": "bold",
        "figure.dpi": 100,
        "image.cmap": IMAGE_CMAP,
        "legend.frameon": False,
    })
    return rc


@contextmanager
def style() -> Iterator[None]:
    """Apply the package style inside a ``with`` block only (never globally)."""
    with mpl.rc_context(style_rc()):
        yield


def styled(func: Callable) -> Callable:
    """Decorator: run a plotting function under :func:`style`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style():
            return func(*args, **kwargs)

    return wrapper


def new_figure(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None,
               **subplot_kw) -> tuple[Figure, np.ndarray]:
    """A Figure (not registered with pyplot) and a 2-D array of axes.

    Not registering with pyplot means a notebook shows the figure once (as the cell's value)
    and nothing accumulates in pyplot's figure list.
    """
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def single_axes(ax: Axes | None, figsize: tuple[float, float] | None = None
                ) -> tuple[Figure, Axes]:
    """The figure of a caller's ``ax``, or a new one-panel figure."""
    if ax is None:
        fig, axes = new_figure(figsize=figsize)
        return fig, axes[0, 0]
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    try:
        return ax.get_figure(root=True), ax
    except TypeError:  # matplotlib < 3.10 has no root=; ax.figure is the root there
        return ax.figure, ax


def no_ax_for_panels(ax, panels: int, what: str) -> None:
    if ax is not None and panels != 1:
        raise ValueError(f"{what} draws {panels} panels; ax= is only accepted for one panel")


def panel_row(ax, panels: int, what: str, panel_size: tuple[float, float]) -> tuple[Figure, list]:
    """One row of ``panels`` new axes (each ``panel_size`` inches), or the caller's ``ax``
    when exactly one panel is drawn (any other ``ax`` use raises, see :func:`no_ax_for_panels`)."""
    no_ax_for_panels(ax, panels, what)
    if ax is None:
        fig, axes = new_figure(1, panels, figsize=(panel_size[0] * panels, panel_size[1]))
        return fig, list(axes[0])
    fig, ax = single_axes(ax)
    return fig, [ax]


def grid_shape(n: int, ncols: int | None = None) -> tuple[int, int]:
    if n < 1:
        raise ValueError("nothing to plot: got 0 items")
    ncols = min(n, ncols or math.ceil(math.sqrt(n)))
    return math.ceil(n / ncols), ncols


def hide_unused(axes: np.ndarray, used: int) -> None:
    for ax in axes.ravel()[used:]:
        ax.set_visible(False)


def image_axes(ax: Axes) -> None:
    """Images carry no meaningful ticks or grid."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def class_names(names: Sequence[str] | None, labels=None) -> list[str]:
    """``names`` (default ``fmnist.data.FASHION_MNIST_CLASSES``), checked against ``labels``."""
    if names is None:
        names = FASHION_MNIST_CLASSES
    names = [str(n) for n in names]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise ValueError(f"labels range {labels.min()}..{labels.max()} does not fit "
                             f"{len(names)} class names {names}")
    return names


def to_labels(y, what: str = "y") -> np.ndarray:
    """Integer labels from labels or from per-class probabilities ``(N, classes)`` (argmax).

    Labels follow the package's one rule, :func:`fmnist.checks.check_labels` (``(N,)`` or
    ``(N, 1)``, integer-valued, >= 0); plots only add the probabilities case.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return check_finite(y, what).argmax(axis=1)
    return check_labels(y, what)


def to_image(x) -> np.ndarray:
    """One image as 2-D (grayscale) or (H, W, 3/4): accepts (784,), (28, 28), (28, 28, 1)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 1 and math.isqrt(x.size) ** 2 == x.size:
        side = math.isqrt(x.size)
        x = x.reshape(side, side)
    if x.ndim == 2 or (x.ndim == 3 and x.shape[-1] in (3, 4)):
        return x
    raise ValueError(f"cannot show an array of shape {x.shape} as an image (expected (H, W), "
                     "(H, W, 1), (H, W, 3) or a flat square vector such as (784,))")


def to_images(x) -> np.ndarray:
    """A batch of images as (N, H, W) or (N, H, W, 3)."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"expected a batch of images, got shape {x.shape}")
    return np.stack([to_image(img) for img in x])


def figure_title(fig: Figure, title: str | None) -> None:
    if title:
        fig.suptitle(title, fontweight="bold")
