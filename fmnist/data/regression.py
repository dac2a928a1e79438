"""A noisy 1-D regression task with two gaps in the training data.

The generator (documented so the noise floor is known exactly):

* true function ``f(x) = sin(x) + 0.3 x`` on the domain ``[-5, 5]``;
* 100 training points drawn uniformly from the domain **minus the gaps** ``[-3, -1]`` and
  ``[2, 3]``, with Gaussian noise of standard deviation ``NOISE_STD_TRAIN = 0.3``;
* 100 test points drawn uniformly from the whole domain (gaps included) with less noise,
  ``NOISE_STD_TEST = 0.2``;
* values rounded to 6 decimals, NumPy ``default_rng(REGRESSION_SEED)``.

The best achievable expected test MSE (the noise floor) is ``NOISE_STD_TEST ** 2 = 0.04``.
:func:`load_regression` generates the data in memory (or reads CSV files written by
:func:`write_regression_csv`); the course's ``data/regression/{train,test}.csv`` are those files
for the default seed, reproduced byte for byte (a test pins it).

Example::

    >>> from fmnist.data import load_regression, noise_floor
    >>> (x_train, y_train), (x_test, y_test) = load_regression()
    >>> x_train.shape, round(noise_floor(), 4)  # 0.2 ** 2 is 0.04000000000000001 in floats
    ((100, 1), 0.04)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fmnist.atomic import atomic_write_text

REGRESSION_SEED = 2026
DOMAIN = (-5.0, 5.0)
GAPS = ((-3.0, -1.0), (2.0, 3.0))
NOISE_STD_TRAIN = 0.3
NOISE_STD_TEST = 0.2
N_TRAIN = 100
N_TEST = 100
DECIMALS = 6


def true_function(x):
    """The noiseless target ``sin(x) + 0.3 x``."""
    x = np.asarray(x, dtype=np.float64)
    return np.sin(x) + 0.3 * x


def generator_basis(x) -> np.ndarray:
    """Columns ``sin x, x, 1`` of ``x``: :func:`true_function` is this basis times ``(1, 0.3, 0)``.

    For yardstick fits that know the generator's form
    (``fmnist.evaluation.regression_references``); no learner gets it.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.column_stack([np.sin(x), x, np.ones_like(x)])


def noise_floor() -> float:
    """Expected test MSE of the true function itself: ``NOISE_STD_TEST ** 2``."""
    return NOISE_STD_TEST**2


def in_gap(x) -> np.ndarray:
    """Boolean mask of the points that fall inside one of the :data:`GAPS`."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.any([(x >= lo) & (x <= hi) for lo, hi in GAPS], axis=0)


def generate_regression(seed: int = REGRESSION_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate the train and test tables (columns ``input``, ``label``), sorted by input."""
    rng = np.random.default_rng(seed)
    # Rejection sampling keeps the training inputs uniform on the domain minus the gaps.
    x_train = np.empty(0)
    while len(x_train) < N_TRAIN:
        draw = rng.uniform(*DOMAIN, size=2 * N_TRAIN)
        x_train = np.concatenate([x_train, draw[~in_gap(draw)]])
    x_train = np.sort(x_train[:N_TRAIN])
    y_train = true_function(x_train) + rng.normal(0.0, NOISE_STD_TRAIN, N_TRAIN)
    x_test = np.sort(rng.uniform(*DOMAIN, size=N_TEST))
    y_test = true_function(x_test) + rng.normal(0.0, NOISE_STD_TEST, N_TEST)
    frame = lambda x, y: pd.DataFrame(  # noqa: E731
        {"input": np.round(x, DECIMALS), "label": np.round(y, DECIMALS)}
    )
    return frame(x_train, y_train), frame(x_test, y_test)


def write_regression_csv(directory: str | Path, seed: int = REGRESSION_SEED):
    """Write ``train.csv`` and ``test.csv`` into ``directory`` (atomically: temp file + rename)."""

    return [
        atomic_write_text(
            Path(directory) / f"{name}.csv",
            table.to_csv(index=False, float_format=f"%.{DECIMALS}f", lineterminator="\n"),
        )
        for name, table in zip(("train", "test"), generate_regression(seed))
    ]


def load_regression(directory: str | Path | None = None):
    """Return ``((x_train, y_train), (x_test, y_test))`` as float32 arrays of shape ``(N, 1)``.

    ``directory=None`` generates the default seed's data in memory; a directory is read from
    its ``train.csv`` and ``test.csv`` (as :func:`write_regression_csv` writes them), and one
    that lacks them is an error.
    """
    if directory is None:
        tables = list(generate_regression())
    else:
        directory = Path(directory)
        missing = [n for n in ("train.csv", "test.csv") if not (directory / n).is_file()]
        if missing:
            raise FileNotFoundError(
                f"load_regression: {directory} lacks {', '.join(missing)}; pass a directory "
                "written by write_regression_csv, or None to generate the data in memory"
            )
        tables = [pd.read_csv(directory / f"{n}.csv") for n in ("train", "test")]
        for name, table in zip(("train", "test"), tables):
            if list(table.columns) != ["input", "label"]:
                raise ValueError(
                    f"{directory / name}.csv: columns {list(table.columns)}, expected "
                    "['input', 'label']"
                )
    as_col = lambda s: s.to_numpy(np.float32).reshape(-1, 1)  # noqa: E731
    return tuple((as_col(t["input"]), as_col(t["label"])) for t in tables)
