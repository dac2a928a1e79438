"""The backend layer: the only code in fmnist that imports tensorflow, jax or torch.

Everything above it (the core library, the plots, the course) is written against Keras 3
and ``keras.ops``; where the backends differ (gradients, the fused batch-norm kernel, compile
defaults, the training precision, the ``tf.data`` input pipeline) one name here hides one small function per backend.
The backend is Keras's: ``KERAS_BACKEND=tensorflow|jax|torch``, fixed at the first
``import keras``.
"""

from fmnist.backend.quiet import import_backend_quietly

# Before the imports below load Keras, and with it TensorFlow's noisy C++ start-up.
import_backend_quietly()

from fmnist.backend.autodiff import input_gradient, weight_gradients  # noqa: E402
from fmnist.backend.batchnorm import FusedBatchNormalization  # noqa: E402
from fmnist.backend.compile_defaults import COMPILE_DEFAULTS, compile_defaults  # noqa: E402
from fmnist.backend.cpu import cpu_flags, cpu_model, cpu_summary, vector_extensions  # noqa: E402
from fmnist.backend.datasets import PREFETCH_BATCHES, tf_dataset  # noqa: E402
from fmnist.backend.precision import (  # noqa: E402
    BF16_CPU_FLAGS, PRECISION_ENV, PRECISIONS, choose_precision, cpu_has_bf16, ensure_precision,
    set_precision, training_precision,
)  # fmt: skip
from fmnist.backend.runtime import (  # noqa: E402
    BACKENDS, backend_name, enable_determinism, global_random_state, set_global_random_state,
)  # fmt: skip

__all__ = [
    "BACKENDS", "BF16_CPU_FLAGS", "COMPILE_DEFAULTS", "FusedBatchNormalization", "PRECISIONS",
    "PRECISION_ENV", "PREFETCH_BATCHES", "backend_name", "choose_precision", "compile_defaults",
    "cpu_flags", "cpu_has_bf16", "cpu_model", "cpu_summary", "enable_determinism", "ensure_precision",
    "global_random_state", "import_backend_quietly", "input_gradient", "set_global_random_state",
    "set_precision", "tf_dataset", "training_precision", "vector_extensions", "weight_gradients",
]  # fmt: skip
