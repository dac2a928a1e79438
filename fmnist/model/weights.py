"""Snapshots of a model's kernels, for weight histograms before and after training."""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["layer_weights"]


def layer_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """All kernel values of each weighted layer, flattened: ``{layer name: 1-D array}``.

    Take one snapshot before and one after training for weight histograms.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
    # Through the variable's own __array__: it detaches on torch.
    return {layer.name: np.asarray(layer.kernel).ravel().copy()
            for layer in model.layers if getattr(layer, "kernel", None) is not None}
