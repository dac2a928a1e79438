"""Where the course writes: runs, reports and result records.

Everything lives under one *home* directory: ``$FMNIST_HOME`` when set, else the current
working directory, read at every call (so a notebook or test may set it after import).
Nothing is ever written inside the installed package.

=====================  =============================================  ======================
directory              default                                        override
=====================  =============================================  ======================
home                   the current working directory                  ``$FMNIST_HOME``
runs (models, tuners)  ``<home>/runs``                                ``$FMNIST_RUNS_DIR``
reports (HTML)         ``<home>/reports``
result records         ``<home>/reports/results``                     ``$FMNIST_RESULTS_DIR``
notebooks              ``<home>/notebooks``
benchmark results      ``<home>/benchmarks/results``
=====================  =============================================  ======================

In a source checkout the home is the checkout's root: the Makefile and ``fmnist report`` set
``$FMNIST_HOME`` for the kernels they start, and a notebook opened by hand names it in
``start_notebook(home="..")``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "HOME_ENV", "RESULTS_ENV", "RUNS_ENV", "benchmarks_dir", "home", "notebooks_dir",
    "reports_dir", "results_dir", "runs_dir",
]  # fmt: skip

HOME_ENV = "FMNIST_HOME"
RUNS_ENV = "FMNIST_RUNS_DIR"
RESULTS_ENV = "FMNIST_RESULTS_DIR"


def home() -> Path:
    """``$FMNIST_HOME`` if set (and not empty), else the current working directory."""
    return Path(os.environ.get(HOME_ENV) or os.getcwd()).resolve()


def runs_dir() -> Path:
    """Model files, histories and tuner directories (``$FMNIST_RUNS_DIR`` or ``<home>/runs``)."""
    return Path(os.environ.get(RUNS_ENV) or home() / "runs")


def reports_dir() -> Path:
    """The HTML reports and their index: ``<home>/reports``."""
    return home() / "reports"


def results_dir() -> Path:
    """One JSON record per tested model (``$FMNIST_RESULTS_DIR`` or ``<home>/reports/results``)."""
    return Path(os.environ.get(RESULTS_ENV) or reports_dir() / "results")


def notebooks_dir() -> Path:
    """The course notebooks: ``<home>/notebooks``."""
    return home() / "notebooks"


def benchmarks_dir() -> Path:
    """Benchmark JSON written by ``fmnist benchmark``: ``<home>/benchmarks/results``."""
    return home() / "benchmarks" / "results"
