"""nbval set-up for ``pytest --nbval notebooks``.

* Kernels inherit this process's environment: the quick profile unless told otherwise, and
  throw-away results and runs directories so validation runs never touch ``reports/results``
  or ``runs/``; they are removed when the session ends (given ones are left alone).
* The course's home is this checkout (``$FMNIST_HOME``, unless given), as for ``make``.
* stderr streams (TensorFlow/absl start-up lines, Python warnings) are not compared: they
  vary between machines and library versions and carry no result.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("FMNIST_HOME", str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("FMNIST_PROFILE", "quick")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
_THROWAWAY = []  # directories this session created (and removes)
for _var, _prefix in (("FMNIST_RESULTS_DIR", "fmnist-nbval-results-"), ("FMNIST_RUNS_DIR", "fmnist-nbval-runs-")):
    if _var not in os.environ:
        os.environ[_var] = tempfile.mkdtemp(prefix=_prefix)
        _THROWAWAY.append(os.environ[_var])


def pytest_unconfigure(config):
    for path in _THROWAWAY:
        shutil.rmtree(path, ignore_errors=True)


def pytest_collection_modifyitems(items):
    for item in items:
        parent = item.parent
        skip = getattr(parent, "skip_compare", None)
        if skip is not None and "stderr" not in skip:
            parent.skip_compare = tuple(skip) + ("stderr",)
