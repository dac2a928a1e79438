"""nbval set-up for ``pytest --nbval notebooks``.

* Kernels inherit this process's environment: the quick profile unless told otherwise, and a
  throw-away results directory so validation runs never touch ``reports/results``.
* stderr streams (TensorFlow/absl start-up lines, Python warnings) are not compared: they
  vary between machines and library versions and carry no result.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("FMNIST_PROFILE", "quick")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("FMNIST_RESULTS_DIR", tempfile.mkdtemp(prefix="fmnist-nbval-results-"))
os.environ.setdefault("FMNIST_RUNS_DIR", tempfile.mkdtemp(prefix="fmnist-nbval-runs-"))


def pytest_collection_modifyitems(items):
    for item in items:
        parent = item.parent
        skip = getattr(parent, "skip_compare", None)
        if skip is not None and "stderr" not in skip:
            parent.skip_compare = tuple(skip) + ("stderr",)
