"""Layers the project adds to Keras (only where Keras 3 has no equivalent).

:class:`FusedBatchNormalization` lives in the backend layer (:mod:`fmnist.backend.batchnorm`:
TensorFlow's fused kernel on tensorflow, Keras's batch norm on jax and torch) and is
re-exported here, where the model builders use it.
"""

from fmnist.backend import FusedBatchNormalization

__all__ = ["FusedBatchNormalization"]
