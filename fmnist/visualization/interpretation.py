"""Interpretability figures: receptive fields, filters, feature maps, activation maximization,
Grad-CAM and saliency (the arrays come from :mod:`fmnist.interpret`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from fmnist.visualization._common import (
    DIVERGING_CMAP,
    HEAT_CMAP,
    IMAGE_CMAP,
    figure_title,
    grid_shape,
    hide_unused,
    image_axes,
    new_figure,
    single_axes,
    styled,
    to_image,
)


def _signed_grid(images: np.ndarray, titles: Sequence[str], ncols: int, title: str,
                 panel_size: float = 1.4) -> Figure:
    """Grid of signed images, each with a symmetric diverging scale (0 = white)."""
    nrows, ncols = grid_shape(len(images), ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(panel_size * ncols + 0.8,
                                                  panel_size * nrows + 0.6))
    for ax, image, label in zip(axes.ravel(), images, titles):
        limit = float(np.abs(image).max()) or 1.0
        ax.imshow(image, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit)
        image_axes(ax)
        ax.set_title(label, fontsize="x-small", fontweight="normal")
    hide_unused(axes, len(images))
    # Panels have their own scales, so the colorbar shows the shared *relative* scale.
    bar = fig.colorbar(ScalarMappable(Normalize(-1, 1), DIVERGING_CMAP), ax=axes, shrink=0.6,
                       label="weight (per-panel scale)")
    bar.set_ticks([-1, 0, 1], labels=["-max", "0", "+max"])
    figure_title(fig, title)
    return fig


@styled
def plot_receptive_fields(fields, max_units: int = 64, ncols: int = 8,
                          title: str | None = None) -> Figure:
    """Receptive fields ``(units, 28, 28)`` from ``fmnist.interpret.receptive_fields``.

    Red pixels excite the unit, blue ones inhibit it.
    """
    fields = np.asarray(fields, dtype=float)
    if fields.ndim != 3:
        raise ValueError(f"fields must be (units, height, width), got shape {fields.shape}")
    shown = fields[:max_units]
    return _signed_grid(shown, [f"unit {i + 1}" for i in range(len(shown))], ncols,
                        title or f"Receptive fields ({len(shown)} of {len(fields)} units)")


@styled
def plot_field_comparison(comparison, labels: Sequence[str] | None = None,
                          title: str | None = None) -> Figure:
    """Gradient-ascent images (top row) over the receptive fields of the same units (bottom).

    Args:
        comparison: a ``fmnist.interpret.FieldComparison`` (``units``, ``images``,
            ``fields``, ``correlation``).
        labels: one label per unit (e.g. class names for the ``output`` layer); default
            ``unit i``.
    """
    images, fields = np.asarray(comparison.images, float), np.asarray(comparison.fields, float)
    n = len(images)
    if n == 0 or images.shape != fields.shape or len(comparison.correlation) != n:
        raise ValueError(f"comparison needs as many images as fields and correlations, got "
                         f"{images.shape}, {fields.shape}, {len(comparison.correlation)}")
    labels = [f"unit {u}" for u in comparison.units] if labels is None else list(labels)
    if len(labels) != n:
        raise ValueError(f"labels: expected {n}, got {len(labels)}")
    fig, axes = new_figure(2, n, figsize=(1.5 * n + 0.6, 3.6))
    axes = axes.reshape(2, n)
    for column, (label, image, field, r) in enumerate(zip(labels, images, fields, comparison.correlation)):
        axes[0, column].imshow(image, cmap=IMAGE_CMAP)
        axes[0, column].set_title(f"{label}\nr = {r:.2f}", fontsize="x-small", fontweight="normal")
        limit = float(np.abs(field).max()) or 1.0
        axes[1, column].imshow(field, cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit)
        for ax in axes[:, column]:
            image_axes(ax)
    axes[0, 0].set_ylabel("gradient ascent", fontsize="x-small")
    axes[1, 0].set_ylabel("receptive field", fontsize="x-small")
    figure_title(fig, title or "Gradient ascent (top) vs receptive field (bottom), r: Pearson correlation")
    return fig


@styled
def plot_filters(filters, max_filters: int = 64, ncols: int = 8,
                 title: str | None = None) -> Figure:
    """Conv kernels ``(filters, kh, kw, in_channels)`` from ``fmnist.interpret.conv_filters``.

    Kernels with several input channels are shown as their mean over the channels.
    """
    filters = np.asarray(filters, dtype=float)
    if filters.ndim != 4:
        raise ValueError("filters must be (filters, kernel_h, kernel_w, in_channels), got "
                         f"shape {filters.shape}")
    shown = filters[:max_filters].mean(axis=-1)
    note = "" if filters.shape[-1] == 1 else f", mean over {filters.shape[-1]} input channels"
    return _signed_grid(shown, [f"filter {i + 1}" for i in range(len(shown))], ncols,
                        title or f"Conv filters ({len(shown)} of {len(filters)}{note})",
                        panel_size=1.1)


@styled
def plot_feature_maps(maps: Mapping[str, np.ndarray], image=None, max_channels: int = 8,
                      title: str | None = None) -> Figure:
    """One row per layer with its first ``max_channels`` feature maps.

    Args:
        maps: ``fmnist.interpret.feature_maps(cnn, image)`` (``{layer: (h, w, channels)}``).
        image: the input image, drawn in the first column when given.
    """
    if not isinstance(maps, Mapping) or not maps:
        raise TypeError("maps must be a non-empty {layer name: (h, w, channels)} dict")
    for name, value in maps.items():
        if np.ndim(value) != 3:
            raise ValueError(f"maps[{name!r}] must be (h, w, channels), got {np.shape(value)}")
    offset = 1 if image is not None else 0
    ncols = offset + min(max_channels, max(np.shape(v)[-1] for v in maps.values()))
    fig, axes = new_figure(len(maps), ncols, figsize=(1.4 * ncols + 0.6, 1.5 * len(maps) + 0.5))
    for index, (row, (name, value)) in enumerate(zip(axes, maps.items())):
        for ax in row:
            image_axes(ax)
            ax.set_visible(False)
        if image is not None and index == 0:  # the input once, top left
            row[0].set_visible(True)
            row[0].imshow(to_image(image), cmap=IMAGE_CMAP)
            row[0].set_title("input", fontsize="x-small", fontweight="normal")
        value = np.asarray(value)
        for channel in range(min(max_channels, value.shape[-1])):
            ax = row[offset + channel]
            ax.set_visible(True)
            ax.imshow(value[..., channel], cmap="viridis")
            ax.set_title(f"ch {channel + 1}", fontsize="x-small", fontweight="normal")
        row[offset].set_ylabel(f"{name}\n{value.shape[0]}x{value.shape[1]}", fontsize="small")
    figure_title(fig, title or "Feature maps (bright = strong activation)")
    return fig


def _is_result(item) -> bool:
    """An ``ActivationMaximum``-like result (NumPy arrays have a ``trace`` *method*)."""
    return hasattr(item, "image") and not isinstance(item, np.ndarray)


def _max_items(results) -> tuple[list[str], list]:
    if _is_result(results):  # one ActivationMaximum
        results = [results]
    if isinstance(results, Mapping):
        return [str(k) for k in results], list(results.values())
    results = list(results)
    return [f"#{i}" for i in range(len(results))], results


@styled
def plot_activation_maximization(results, ncols: int = 5, title: str | None = None) -> Figure:
    """Images that maximize units, titled with the unit (e.g. the class name).

    Args:
        results: ``{label: ActivationMaximum or image}`` (for the ``output`` layer use class
            names as labels) or a list of them.
    """
    labels, items = _max_items(results)
    if not items:
        raise ValueError("no results to plot")
    images = [to_image(item.image if _is_result(item) else item) for item in items]
    nrows, ncols = grid_shape(len(images), ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(1.9 * ncols, 2.1 * nrows))
    for ax, label, image, item in zip(axes.ravel(), labels, images, items):
        ax.imshow(image, cmap=IMAGE_CMAP)
        image_axes(ax)
        trace = item.trace if _is_result(item) else None
        gain = f"\n{trace[0]:.2g} -> {trace[-1]:.2g}" if trace is not None else ""
        ax.set_title(f"{label}{gain}", fontsize="small", fontweight="normal")
    hide_unused(axes, len(images))
    figure_title(fig, title or "Inputs that maximize each unit (activation start -> end)")
    return fig


@styled
def plot_activation_trace(results, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Target activation per gradient-ascent step for one or several results."""
    labels, items = _max_items(results)
    fig, ax = single_axes(ax, figsize=(7, 4))
    for label, item in zip(labels, items):
        ax.plot(np.asarray(item.trace), label=label)
    ax.set_xlabel("gradient-ascent step")
    ax.set_ylabel("target activation")
    ax.set_title(title or "Activation maximization progress")
    if len(items) > 1:
        ax.legend(fontsize="small", ncols=2)
    return fig


def _overlay(ax: Axes, image: np.ndarray, heatmap: np.ndarray, alpha: float, cmap: str):
    """Heatmap over the image, opacity growing with the heat so cold areas stay readable."""
    if heatmap.shape != image.shape[:2]:
        raise ValueError(f"heatmap shape {heatmap.shape} does not match image {image.shape}")
    ax.imshow(image, cmap=IMAGE_CMAP)
    ax.imshow(heatmap, cmap=cmap, vmin=0, vmax=1, alpha=np.clip(heatmap, 0, 1) * alpha)
    image_axes(ax)
    return ScalarMappable(Normalize(0, 1), cmap)  # for a colorbar without the varying alpha


def _explanation(image, heatmap, ax, title, alpha, cmap, name, default_title) -> Figure:
    image, heatmap = to_image(image), np.asarray(heatmap, dtype=float)
    if heatmap.ndim != 2:
        raise ValueError(f"the {name} must be 2-D (height, width), got {heatmap.shape}")
    if ax is not None:
        fig, ax = single_axes(ax)
        mappable = _overlay(ax, image, heatmap, alpha, cmap)
        ax.set_title(title or default_title)
        fig.colorbar(mappable, ax=ax, shrink=0.8, label=name)
        return fig
    fig, axes = new_figure(1, 3, figsize=(9, 3.4))
    axes[0, 0].imshow(image, cmap=IMAGE_CMAP)
    axes[0, 0].set_title("input")
    shown = axes[0, 1].imshow(heatmap, cmap=cmap, vmin=0, vmax=1)
    axes[0, 1].set_title(name)
    _overlay(axes[0, 2], image, heatmap, alpha, cmap)
    axes[0, 2].set_title("overlay")
    for ax in axes[0]:
        image_axes(ax)
    fig.colorbar(shown, ax=axes[0], shrink=0.8, label=f"{name} (0-1)")
    figure_title(fig, title or default_title)
    return fig


@styled
def plot_grad_cam(image, heatmap, title: str | None = None, alpha: float = 0.7,
                  ax: Axes | None = None) -> Figure:
    """Grad-CAM: input, heatmap and overlay (only the overlay when ``ax`` is given).

    ``heatmap`` comes from ``fmnist.interpret.grad_cam`` (input-sized, in [0, 1]); put the
    predicted and true class names in ``title``.
    """
    return _explanation(image, heatmap, ax, title, alpha, HEAT_CMAP, "Grad-CAM", "Grad-CAM")


@styled
def plot_grad_cam_grid(images, heatmaps, titles: Sequence[str] | None = None,
                       alpha: float = 0.7, ncols: int = 5, title: str | None = None) -> Figure:
    """Grad-CAM overlays for several images (titles e.g. ``"Coat (true: Shirt)"``)."""
    if len(images) != len(heatmaps):
        raise ValueError(f"{len(images)} images but {len(heatmaps)} heatmaps")
    titles = list(titles) if titles is not None else [""] * len(images)
    nrows, ncols = grid_shape(len(images), ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(2.2 * ncols + 0.8, 2.4 * nrows))
    for ax, image, heatmap, label in zip(axes.ravel(), images, heatmaps, titles):
        mappable = _overlay(ax, to_image(image), np.asarray(heatmap, dtype=float), alpha,
                            HEAT_CMAP)
        ax.set_title(label, fontsize="small", fontweight="normal")
    hide_unused(axes, len(images))
    fig.colorbar(mappable, ax=axes, shrink=0.6, label="Grad-CAM")
    figure_title(fig, title or "Grad-CAM: where the evidence for the class is")
    return fig


@styled
def plot_saliency(image, saliency_map, title: str | None = None, alpha: float = 0.8,
                  ax: Axes | None = None) -> Figure:
    """Saliency (input-gradient) map: input, map and overlay (overlay only with ``ax``)."""
    return _explanation(image, saliency_map, ax, title, alpha, HEAT_CMAP, "saliency",
                        "Saliency: pixels the class score is most sensitive to")
