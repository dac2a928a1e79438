"""The backend layer: the only code in fmnist that imports tensorflow, jax or torch.

Everything above it (the core library, the plots, the course) is written against Keras 3
and ``keras.ops``; where the backends differ (gradients, the fused batch-norm kernel, compile
defaults, the ``tf.data`` input pipeline) one name here hides one small function per backend.
The backend is Keras's: ``KERAS_BACKEND=tensorflow|jax|torch``, fixed at the first
``import keras``.
"""

from fmnist.backend.autodiff import input_gradient, weight_gradients
from fmnist.backend.batchnorm import FusedBatchNormalization
from fmnist.backend.compile_defaults import COMPILE_DEFAULTS, compile_defaults
from fmnist.backend.datasets import PREFETCH_BATCHES, tf_dataset
from fmnist.backend.runtime import BACKENDS, backend_name, enable_determinism, import_backend_quietly

__all__ = ["BACKENDS", "backend_name", "enable_determinism", "import_backend_quietly"]
__all__ += ["input_gradient", "weight_gradients"]
__all__ += ["COMPILE_DEFAULTS", "FusedBatchNormalization", "PREFETCH_BATCHES", "compile_defaults", "tf_dataset"]
