"""Sparse categorical cross-entropy with label smoothing.

Keras's ``SparseCategoricalCrossentropy`` has no ``label_smoothing`` (only the one-hot
``CategoricalCrossentropy`` has), and fmnist's pipelines carry integer labels. This loss
one-hot encodes them inside the graph and hands them to Keras's categorical cross-entropy,
which does the smoothing: ``y = (1 - s) * one_hot + s / n_classes``.
"""

from __future__ import annotations

import keras

from fmnist.checks import check_real

__all__ = ["SmoothedSparseCategoricalCrossentropy"]


@keras.saving.register_keras_serializable(package="fmnist", name="SmoothedSparseCategoricalCrossentropy")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy of integer labels against softmax probabilities, labels smoothed by
    ``label_smoothing`` in ``[0, 1)`` (0 equals ``SparseCategoricalCrossentropy``)."""

    def __init__(self, label_smoothing: float = 0.1, name: str = "smoothed_sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = check_real(label_smoothing, "label_smoothing", 0.0, 1.0, high_open=True)

    def call(self, y_true, y_pred):
        n_classes = y_pred.shape[-1]
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        one_hot = keras.ops.one_hot(labels, n_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(one_hot, y_pred, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}
