"""One search-space description for both tuning engines.

A :class:`SearchSpace` maps hyperparameter names to domains (:class:`Choice`, :class:`Range`,
:class:`LogRange`, :class:`Boolean`) and owns a ``builder`` that turns one configuration into a
compiled Keras model through :mod:`fmnist.model`. Talos sees the space as a grid
(:meth:`SearchSpace.grid`); KerasTuner sees it through ``hp.Choice``/``hp.Int``/``hp.Float``
(:meth:`Param.to_kerastuner`). ``batch_size`` is a fit-time hyperparameter: it is tuned like
the others but never passed to the builder.

Example::

    >>> from fmnist.tuning import Choice, LogRange, get_space
    >>> space = get_space("mlp")
    >>> space.grid_size()                     # batch 3 x lr 2 x dropout 3 x units 3x3 x opt 2
    324
    >>> small = space.with_params(units_2=None, learning_rate=LogRange(1e-4, 1e-2, n=3))
    >>> small.grid()["learning_rate"]
    [0.0001, 0.001, 0.01]
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FIT_PARAMS", "RESERVED_NAMES", "Boolean", "Choice", "LogRange", "Param", "Range",
    "SearchSpace", "SearchSpaceError", "param_hash",
]  # fmt: skip

#: Hyperparameters consumed by ``fit`` instead of the builder.
FIT_PARAMS = ("batch_size",)
#: Result-table columns a hyperparameter may not shadow (metrics start with val_/cv_).
RESERVED_NAMES = frozenset(
    {"trial_id", "engine", "tuner", "epochs", "wall_time", "param_hash", "status", "loss",
     "accuracy", "mse", "mae"}
)  # fmt: skip


class SearchSpaceError(ValueError):
    """An invalid search space, domain or configuration."""


def _plain(value: Any) -> Any:
    """NumPy scalars -> Python scalars, floats rounded to 12 significant digits (stable hashes)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.12g}")
    return value


# ---------------------------------------------------------------------------------- domains
class Param:
    """Base class of a hyperparameter domain."""

    def grid(self) -> list:
        """The finite values Talos enumerates (and the grid size counts)."""
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        """True when ``value`` lies in the declared domain."""
        raise NotImplementedError

    def to_kerastuner(self, hp, name: str) -> Any:
        """Register this domain on KerasTuner's ``hp`` and return the sampled value."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """JSON-able description (for ``search.json`` and the resume check)."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True, init=False)
class Choice(Param):
    """One of a few values: ``Choice(16, 32, 64)`` or ``Choice([16, 32, 64])``.

    Values must share one type (int, float, str or bool; ints mixed with floats become floats)
    because KerasTuner's ``hp.Choice`` requires it.
    """

    values: tuple

    def __init__(self, *values: Any):
        if len(values) == 1 and isinstance(values[0], (list, tuple)):
            values = tuple(values[0])
        if not values:
            raise SearchSpaceError("Choice() needs at least one value, e.g. Choice(32, 64)")
        values = tuple(_plain(v) for v in values)
        kinds = {type(v) for v in values}
        if kinds == {int, float}:
            values, kinds = tuple(float(v) for v in values), {float}
        if len(kinds) != 1 or not kinds <= {int, float, str, bool}:
            raise SearchSpaceError(
                f"Choice values must all be int, float, str or bool (one type), got {values!r}"
            )
        if len(set(values)) != len(values):
            raise SearchSpaceError(f"Choice values must be distinct, got {values!r}")
        object.__setattr__(self, "values", values)

    def grid(self) -> list:
        return list(self.values)

    def contains(self, value: Any) -> bool:
        value = _plain(value)
        if isinstance(value, float):
            return any(isinstance(v, (int, float)) and math.isclose(v, value, rel_tol=1e-9) for v in self.values)
        return any(type(v) is type(value) and v == value for v in self.values)

    def to_kerastuner(self, hp, name):
        return hp.Choice(name, list(self.values))

    def describe(self):
        return {"type": "choice", "values": list(self.values)}


@dataclasses.dataclass(frozen=True)
class Range(Param):
    """Evenly spaced values ``low, low + step, ..., high`` (ints if all three are ints)."""

    low: float
    high: float
    step: float

    def __post_init__(self):
        for key in ("low", "high", "step"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not np.isfinite(v):
                raise SearchSpaceError(f"Range {key} must be a finite number, got {v!r}")
        if not self.low < self.high:
            raise SearchSpaceError(f"Range needs low < high, got low={self.low}, high={self.high}")
        if not self.step > 0:
            raise SearchSpaceError(f"Range step must be > 0, got {self.step}")

    @property
    def is_int(self) -> bool:
        return all(isinstance(_plain(v), int) for v in (self.low, self.high, self.step))

    def grid(self) -> list:
        n = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
        values = [_plain(self.low + i * self.step) for i in range(n)]
        return [int(v) for v in values] if self.is_int else [float(v) for v in values]

    def contains(self, value):
        value = _plain(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        k = (value - self.low) / self.step
        return self.low - 1e-9 <= value <= self.high + 1e-9 and abs(k - round(k)) < 1e-6

    def to_kerastuner(self, hp, name):
        if self.is_int:
            return hp.Int(name, int(self.low), int(self.high), step=int(self.step))
        return _plain(hp.Float(name, float(self.low), float(self.high), step=float(self.step)))

    def describe(self):
        return {"type": "range", "low": self.low, "high": self.high, "step": self.step}


@dataclasses.dataclass(frozen=True)
class LogRange(Param):
    """A log-uniform interval ``[low, high]``.

    KerasTuner samples it continuously (``hp.Float(sampling="log")``); Talos only knows grids,
    so it gets ``n`` log-spaced points (rounded to 3 significant digits).
    """

    low: float
    high: float
    n: int = 3

    def __post_init__(self):
        for key in ("low", "high"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or not np.isfinite(v):
                raise SearchSpaceError(f"LogRange {key} must be a positive number, got {v!r}")
        if not self.low < self.high:
            raise SearchSpaceError(f"LogRange needs low < high, got low={self.low}, high={self.high}")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 2:
            raise SearchSpaceError(f"LogRange n (grid points for Talos) must be an int >= 2, got {self.n!r}")

    def grid(self):
        points = np.geomspace(self.low, self.high, self.n)
        values = [float(f"{p:.3g}") for p in points]
        values[0], values[-1] = float(self.low), float(self.high)  # exact end points
        return values

    def contains(self, value):
        value = _plain(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return self.low * (1 - 1e-9) <= value <= self.high * (1 + 1e-9)

    def to_kerastuner(self, hp, name):
        return _plain(hp.Float(name, float(self.low), float(self.high), sampling="log"))

    def describe(self):
        return {"type": "log_range", "low": self.low, "high": self.high, "n": self.n}


@dataclasses.dataclass(frozen=True)
class Boolean(Param):
    """True or False."""

    def grid(self):
        return [False, True]

    def contains(self, value):
        return isinstance(_plain(value), bool)

    def to_kerastuner(self, hp, name):
        return hp.Boolean(name)

    def describe(self):
        return {"type": "boolean"}


def _as_param(name: str, value: Any) -> Param:
    if isinstance(value, Param):
        return value
    if isinstance(value, (list, tuple)):
        return Choice(*value)
    raise SearchSpaceError(
        f"hyperparameter {name!r}: expected Choice/Range/LogRange/Boolean or a list of values, "
        f"got {type(value).__name__}"
    )


def param_hash(params: Mapping[str, Any]) -> str:
    """Short stable hash of one configuration (key order and NumPy types do not matter)."""
    text = json.dumps({k: _plain(v) for k, v in params.items()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- the space
@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """Named hyperparameter domains plus the builder they configure.

    Attributes:
        name: label used in results and run directories.
        params: hyperparameter name -> domain (lists become :class:`Choice`).
        builder: ``builder(**fixed, **config_without_fit_params)`` -> compiled Keras model.
        fixed: constant builder arguments (input shape, classes, activation, ...).
        task: "classification" or "regression".
        objective: default objective, e.g. "val_accuracy" or "cv_mse".
        description: one line for tables and ``fmnist tune --help``.
        layout: how the data must be shaped ("mlp": (N, 784), "cnn": (N, 28, 28, 1),
            "regression": (N, 1)); what ``fmnist.data.load_splits(layout=...)`` expects.
    """

    name: str
    params: Mapping[str, Param]
    builder: Callable[..., Any]
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    task: str = "classification"
    objective: str = "val_accuracy"
    description: str = ""
    layout: str | None = None

    def __post_init__(self):
        if not isinstance(self.params, Mapping) or not self.params:
            raise SearchSpaceError(
                f"search space {self.name!r} is empty: declare at least one hyperparameter, "
                "e.g. {'learning_rate': Choice(1e-3, 1e-2)}"
            )
        params = {str(k): _as_param(k, v) for k, v in self.params.items()}
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "fixed", dict(self.fixed))
        if self.task not in ("classification", "regression"):
            raise SearchSpaceError(f"task must be 'classification' or 'regression', got {self.task!r}")
        if self.layout not in (None, "mlp", "cnn", "regression"):
            raise SearchSpaceError(f"layout must be 'mlp', 'cnn', 'regression' or None, got {self.layout!r}")
        if not callable(self.builder):
            raise TypeError(f"builder of space {self.name!r} must be callable, got {self.builder!r}")
        for name in params:
            if name in RESERVED_NAMES or name.startswith(("val_", "cv_", "tuner/")):
                raise SearchSpaceError(
                    f"hyperparameter name {name!r} clashes with a result column; reserved: "
                    f"{', '.join(sorted(RESERVED_NAMES))} and names starting with val_/cv_"
                )
        both = set(params) & set(self.fixed)
        if both:
            raise SearchSpaceError(f"{sorted(both)} are both tuned and fixed in space {self.name!r}")
        self._check_builder_accepts(set(params) | set(self.fixed))

    def _check_builder_accepts(self, names: set[str]) -> None:
        try:
            signature = inspect.signature(self.builder)
        except (TypeError, ValueError):  # builtins without a signature: cannot check
            return
        kinds = {p.kind for p in signature.parameters.values()}
        if inspect.Parameter.VAR_KEYWORD in kinds:
            return
        accepted = {
            n for n, p in signature.parameters.items()
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        }  # fmt: skip
        unknown = sorted(names - accepted - set(FIT_PARAMS))
        if unknown:
            builder = getattr(self.builder, "__name__", repr(self.builder))
            raise SearchSpaceError(
                f"hyperparameter(s) {unknown} are not accepted by the builder {builder}() of "
                f"space {self.name!r}; it accepts: {', '.join(sorted(accepted))} (plus "
                f"{', '.join(FIT_PARAMS)}, used by fit)"
            )

    # ---------------------------------------------------------------------- views
    @property
    def names(self) -> list[str]:
        """Hyperparameter names in declaration order (the result-table column order)."""
        return list(self.params)

    def grid(self) -> dict[str, list]:
        """Talos' parameter dictionary: name -> list of grid values."""
        return {name: p.grid() for name, p in self.params.items()}

    def grid_size(self) -> int:
        """Number of combinations in the grid (what Talos' ``fraction_limit`` samples from)."""
        return math.prod(len(p.grid()) for p in self.params.values())

    def defaults(self) -> dict[str, Any]:
        """A valid configuration: the first grid value of every hyperparameter."""
        return {name: p.grid()[0] for name, p in self.params.items()}

    def summary(self):
        """DataFrame: one row per hyperparameter with its domain and grid values."""

        rows = [
            {"hyperparameter": n, "domain": type(p).__name__, "grid": p.grid(), "n": len(p.grid())}
            for n, p in self.params.items()
        ]  # fmt: skip
        return pd.DataFrame(rows)

    def describe(self) -> dict[str, Any]:
        """JSON-able identity of the space (results/``search.json``; resume refuses changes)."""
        return {
            "name": self.name,
            "task": self.task,
            "builder": getattr(self.builder, "__qualname__", repr(self.builder)),
            "params": {n: p.describe() for n, p in self.params.items()},
            "fixed": {k: _plain(v) if not isinstance(v, tuple) else list(v) for k, v in self.fixed.items()},
        }

    def check_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``config`` (plain Python values) if it is a point of this space, else raise."""
        missing = [n for n in self.params if n not in config]
        extra = [n for n in config if n not in self.params]
        if missing or extra:
            raise SearchSpaceError(
                f"configuration does not match space {self.name!r}: missing {missing}, "
                f"unknown {extra}; hyperparameters: {', '.join(self.params)}"
            )
        for name, p in self.params.items():
            if not p.contains(config[name]):
                raise SearchSpaceError(
                    f"{name}={config[name]!r} is outside the declared domain {p.describe()}"
                )
        return {n: _plain(config[n]) for n in self.params}

    # ---------------------------------------------------------------------- actions
    def build(self, config: Mapping[str, Any]):
        """Compiled model for ``config`` (fit-only keys such as ``batch_size`` are dropped)."""
        kwargs = {k: _plain(v) for k, v in config.items() if k not in FIT_PARAMS}
        self._check_builder_accepts(set(kwargs))
        return self.builder(**self.fixed, **kwargs)

    def with_params(self, **changes: Any) -> SearchSpace:
        """Copy with hyperparameters replaced/added (``name=domain``) or removed (``name=None``)."""
        params = dict(self.params)
        for name, domain in changes.items():
            if domain is None:
                if name not in params:
                    raise SearchSpaceError(f"cannot remove {name!r}: not in space {self.name!r}")
                params.pop(name)
            else:
                params[name] = _as_param(name, domain)
        return dataclasses.replace(self, params=params)

    def with_fixed(self, **fixed: Any) -> SearchSpace:
        """Copy with more constant builder arguments (e.g. ``input_shape=(64,)``)."""
        params = {k: v for k, v in self.params.items() if k not in fixed}
        return dataclasses.replace(self, params=params, fixed={**self.fixed, **fixed})
