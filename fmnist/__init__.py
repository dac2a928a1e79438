"""fmnist: a Keras 3 course package for supervised deep learning on Fashion-MNIST.

The data flow is visible in the module names::

    fmnist.data -> fmnist.model -> fmnist.training -> fmnist.evaluation
        -> fmnist.visualization / fmnist.interpret / fmnist.gradients
        -> fmnist.tuning -> fmnist.report -> fmnist.cli

Importing ``fmnist`` is cheap: TensorFlow is only imported by the modules that need it.
"""

__version__ = "0.1.0"
