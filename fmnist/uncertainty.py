"""How unsure is a regression net, and is its uncertainty honest?

* :func:`ensemble_spread` — mean and standard deviation over the members of an ensemble (the
  K-fold models of ``cross_validate``, or a deep ensemble: the same net refit with several seeds).
* :func:`mc_dropout` — mean and standard deviation over stochastic forward passes with dropout
  kept on (Gal & Ghahramani 2016); the model needs dropout layers.
* :func:`coverage_table` — the share of points inside ``mean +- z * sigma``, overall, inside the
  gaps and outside them. With Gaussian errors, ``z = 2`` should cover about 95 %; much less
  means overconfident (too narrow a band).

The spread here is the models' disagreement (epistemic uncertainty) only; ``noise_std`` adds
the data's own noise (aleatoric) in quadrature, since every point carries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from fmnist.checks import check_finite, check_int, check_real, check_samples
from fmnist.data import GAPS, in_gap
from fmnist.prediction import check_regressor

__all__ = ["coverage_table", "ensemble_spread", "mc_dropout"]


def _as_column(x: Any, what: str) -> np.ndarray:
    x = check_finite(check_samples(np.asarray(x, dtype=np.float32), caller=what)[0], "x")
    return x.reshape(len(x), -1)


def _regressor_outputs(model: keras.Model, x: np.ndarray, training: bool, caller: str) -> np.ndarray:
    if not isinstance(model, keras.Model):
        raise TypeError(f"{caller}: expected a keras.Model, got {type(model).__name__}")
    outputs = check_regressor(model, caller)(x, training=training)
    return keras.ops.convert_to_numpy(outputs).reshape(-1).astype(np.float64)


def ensemble_spread(models: Sequence[keras.Model], x: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` of the members' predictions at ``x`` (std with ``ddof=1``)."""
    models = list(models)
    if len(models) < 2:
        raise ValueError(f"ensemble_spread needs at least 2 models, got {len(models)}")
    x = _as_column(x, "ensemble_spread")
    preds = np.stack([_regressor_outputs(m, x, False, "ensemble_spread") for m in models])
    return preds.mean(axis=0), preds.std(axis=0, ddof=1)


def mc_dropout(model: keras.Model, x: Any, samples: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` over ``samples`` forward passes with dropout active (seeded)."""
    samples = check_int(samples, "samples", minimum=2)
    seed = check_int(seed, "seed", minimum=0)
    dropouts = [layer for layer in getattr(model, "layers", []) if isinstance(layer, keras.layers.Dropout)]
    if not dropouts:
        raise ValueError("mc_dropout needs a model with Dropout layers (e.g. build_regression_net(dropout=0.1))")
    x = _as_column(x, "mc_dropout")
    # Each Dropout layer draws from its own SeedGenerator, which set_random_seed does not
    # reset: restart those streams so the same seed gives the same masks. (On torch an
    # unseeded layer uses torch's global generator instead, which set_random_seed seeds.)
    keras.utils.set_random_seed(seed)
    for i, layer in enumerate(dropouts):
        state = layer.seed_generator.state
        state.assign(np.array([seed + i, 0], dtype=keras.backend.standardize_dtype(state.dtype)))
    preds = np.stack([_regressor_outputs(model, x, True, "mc_dropout") for _ in range(samples)])
    return preds.mean(axis=0), preds.std(axis=0, ddof=1)


def coverage_table(mean: Any, std: Any, x: Any, y: Any, z: float = 2.0, noise_std: float = 0.0,
                   gaps: Sequence[tuple[float, float]] = GAPS) -> pd.DataFrame:  # fmt: skip
    """Rows ``all``, ``inside gaps``, ``outside gaps``: ``points``, ``coverage`` (share within
    ``mean +- z * sqrt(std**2 + noise_std**2)``), ``mean sigma`` and ``mse``."""
    mean, std, x, y = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (mean, std, x, y))
    for name, a in (("mean", mean), ("std", std), ("x", x), ("y", y)):
        check_finite(a, name)
        if len(a) != len(mean) or not len(a):
            raise ValueError(f"mean, std, x and y must have the same N >= 1 points; "
                             f"{name} has {len(a)}, mean {len(mean)}")
    if (std < 0).any():
        raise ValueError("std must be >= 0")
    z = check_real(z, "z", 0, low_open=True)
    noise_std = check_real(noise_std, "noise_std", 0)
    sigma = np.sqrt(std**2 + noise_std**2)
    covered = np.abs(y - mean) <= z * sigma
    mask = in_gap(x) if gaps is GAPS else np.any([(x >= lo) & (x <= hi) for lo, hi in gaps], axis=0)
    rows = {}
    for label, chosen in (("all", np.ones_like(mask)), ("inside gaps", mask), ("outside gaps", ~mask)):
        n = int(chosen.sum())
        rows[label] = {
            "points": n,
            "coverage": float(covered[chosen].mean()) if n else np.nan,
            "mean sigma": float(sigma[chosen].mean()) if n else np.nan,
            "mse": float(np.mean((y[chosen] - mean[chosen]) ** 2)) if n else np.nan,
        }
    return pd.DataFrame(rows).T.astype({"points": int})
