"""TensorFlow imported with its start-up log lines kept off the terminal and the notebook.

No Keras import here: :mod:`fmnist.backend` calls this before anything imports Keras (which
imports TensorFlow on the tensorflow backend).
"""

from __future__ import annotations

import os
import sys

__all__ = ["import_backend_quietly"]


def import_backend_quietly():
    """Import TensorFlow (every backend's ``tf.data`` input pipeline needs it) with its C++
    start-up log lines kept off the terminal/notebook; returns the ``tensorflow`` module.

    TF 2.21 prints absl/cudart lines ("Could not find cuda drivers ...") straight to file
    descriptor 2 at import time, even with ``TF_CPP_MIN_LOG_LEVEL=3``; Python-level
    redirection cannot catch them, so fd 2 is pointed at /dev/null for the import only.
    Python warnings and errors after the import are untouched.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is None:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            import tensorflow  # heavy: imported once, here, with fd 2 silenced
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
    # TF's own Python logger (not the warnings module), also when Keras imported TF first:
    # notebooks evaluate many different models, which makes TF log an expected
    # "triggered tf.function retracing" warning.
    tensorflow.get_logger().setLevel("ERROR")
    return tensorflow
