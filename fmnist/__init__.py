"""fmnist: a Keras 3 course package for supervised deep learning on Fashion-MNIST.

The data flow is visible in the module names::

    fmnist.data -> fmnist.model -> fmnist.training -> fmnist.evaluation
        -> fmnist.visualization / fmnist.interpret / fmnist.gradients
        -> fmnist.tuning -> fmnist.course.report -> fmnist.course.cli

Importing ``fmnist`` is cheap: TensorFlow is only imported by the modules that need it.
"""

import os as _os

# TensorFlow turns on its oneDNN kernels by default only on Intel CPUs. On this project's AMD
# EPYC machines they cut the training CPU time per image 1.6x (cnn_medium) and 2.75x
# (cnn_small); measured with `fmnist benchmark` (benchmarks/README.md). It must be set before
# TensorFlow is imported; an explicit TF_ENABLE_ONEDNN_OPTS=0 from the user wins.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
