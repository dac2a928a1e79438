"""Batch normalization by TensorFlow's fused kernel, Keras's own code on the other backends."""

from __future__ import annotations

import keras

from fmnist.backend.quiet import import_backend_quietly
from fmnist.backend.runtime import backend_name

__all__ = ["FusedBatchNormalization"]

tf = import_backend_quietly()  # a hard dependency (tf.data); imported with its start-up log silenced


@keras.saving.register_keras_serializable(package="fmnist")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` computed by TensorFlow's fused kernel.

    Written by hand because Keras 3 has no fused path: its batch norm is ``tf.nn.moments``
    plus elementwise ops, a dozen passes over the activation in the forward and backward step,
    while tf.keras 2 called ``FusedBatchNormV3`` (one oneDNN op each way) for 4-D inputs.
    This layer does the same; measured on this 2-core CPU (``cnn_best`` train step, batch 128)
    the step is ~10 % faster. Same weights, config and results as the Keras layer (to float
    rounding; pinned by ``tests/test_layers.py``), so it is a drop-in subclass:
    ``isinstance(layer, keras.layers.BatchNormalization)`` holds.

    On the jax and torch backends the layer is exactly Keras's ``BatchNormalization.call``
    (there is no TensorFlow kernel to call there), so a model saved on one backend
    ("fmnist>FusedBatchNormalization" in the ``.keras`` file) loads and predicts on the others.
    On tensorflow, what the fused kernel does not cover (inputs that are not 4-D NHWC float32,
    a mask, ``center`` or ``scale`` off, ``renorm``, ``synchronized``) goes through the Keras
    code as well.

    >>> import numpy as np
    >>> layer = FusedBatchNormalization()
    >>> tuple(layer(np.ones((2, 4, 4, 3), "float32"), training=True).shape)
    (2, 4, 4, 3)
    """

    def _fusable(self, inputs, mask) -> bool:
        return (
            backend_name() == "tensorflow"
            and len(inputs.shape) == 4 and self.axis in (-1, 3) and mask is None
            and self.center and self.scale and not self.renorm and not self.synchronized
            and keras.backend.standardize_dtype(inputs.dtype) == "float32"
        )  # fmt: skip

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        if training and self.trainable:
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                inputs, self.gamma, self.beta, epsilon=self.epsilon, data_format="NHWC", is_training=True
            )
            # The kernel returns the unbiased (n-1) batch variance; Keras averages the biased one.
            n = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), variance.dtype)
            variance = variance * (n - 1.0) / tf.maximum(n, 1.0)
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(
                self.moving_variance * self.momentum + variance * (1.0 - self.momentum)
            )
            return y
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma, self.beta, mean=self.moving_mean, variance=self.moving_variance,
            epsilon=self.epsilon, data_format="NHWC", is_training=False,
        )  # fmt: skip
        return y
