"""fmnist: a Keras 3 course package for supervised deep learning on Fashion-MNIST.

Four layers; imports point down only (``lint-imports`` checks it, contracts in setup.cfg)::

    course    fmnist.course.*  profiles, paths, notebook start-up, experiments, reports, CLI
    plotting  fmnist.visualization
    core      fmnist.data -> model -> prediction/callbacks -> training
                  -> evaluation/interpret/gradients -> tuning   (plus checks, atomic)
    backend   fmnist.backend   the only code that imports tensorflow, jax or torch

The core library knows no profiles, repository paths or records; it runs on every Keras
backend (``KERAS_BACKEND=tensorflow|jax|torch``). Importing ``fmnist`` itself is cheap.
"""

import os as _os

# TensorFlow turns on its oneDNN kernels by default only on Intel CPUs. On this project's AMD
# EPYC machines they cut the training CPU time per image 1.6x (cnn_medium) and 2.75x
# (cnn_small); measured with `fmnist benchmark` (benchmarks/README.md). It must be set before
# TensorFlow is imported; an explicit TF_ENABLE_ONEDNN_OPTS=0 from the user wins.
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
