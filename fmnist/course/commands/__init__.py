"""The implementations of the ``fmnist`` subcommands, one module per group.

``fmnist.course.cli`` builds the argument parser with cheap imports only and imports ONE of
these modules per run, by name (``importlib.import_module``), so ``fmnist --help`` and
``fmnist data info`` never import Keras or TensorFlow. The modules import what they need at
their top; each command is a function ``(args: argparse.Namespace) -> int`` (exit status):

* :mod:`fmnist.course.commands.data`: ``data info`` / ``data fetch`` (no Keras);
* :mod:`fmnist.course.commands.training`: ``train``, ``evaluate``;
* :mod:`fmnist.course.commands.tuning`: ``tune``, ``tune-seeds``;
* :mod:`fmnist.course.commands.reports`: ``report``, ``results``;
* ``benchmark`` lives in :mod:`fmnist.course.benchmark.cli`.

This package's ``__init__`` holds only the constants the parser shares with the commands (it
imports nothing, so the parser may read them).
"""

EXIT_ERROR = 2
#: Keras's backends: ``fmnist.backend.BACKENDS``, which imports Keras, so the parser reads this
#: copy (tests/test_cli.py checks that the two agree).
BACKENDS = ("tensorflow", "jax", "torch")
#: ``fmnist train``'s optimizer defaults; options that differ name a recorded variant.
DEFAULT_OPTIMIZER, DEFAULT_LEARNING_RATE = "adam", 1e-3


def default(value, fallback):
    """The option's value unless it was not given (0 is a value, and gets validated)."""
    return fallback if value is None else value
