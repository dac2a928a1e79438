"""Run a set of named configurations, select on the dev split, test once, record.

The notebooks compare several architectures or variants at a time; this module does that
bookkeeping once, tested, instead of a loop in every notebook:

1. :func:`run_experiments` trains each configuration from the same seed (so the initial
   weights of a configuration are reproducible) and keeps a snapshot of them;
2. :meth:`Experiment.select_best` picks the winner on the **dev** split only;
3. :meth:`Experiment.test_table` evaluates every model once on the official test set
   (``fmnist.evaluation.compare``) and :meth:`Experiment.record` stores the rows for the
   report index.

Example::

    >>> from fmnist.course.experiments import Config, run_experiments
    >>> exp = run_experiments(
    ...     {"mlp_medium": "mlp_medium",
    ...      "mlp_medium + dropout": Config("mlp_medium", overrides={"dropout": 0.2})},
    ...     (x_train, y_train), (x_dev, y_dev), epochs=5)
    >>> exp.dev_table()                      # best dev accuracy/loss per configuration
    >>> exp.select_best()                    # 'mlp_medium + dropout'
    >>> exp.test_table(x_test, y_test)       # Architecture | Params | ... | Test accuracy
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fmnist.course.model_cache import ModelCache, array_fingerprint, resolve_cache
from fmnist.course.report import record_training
from fmnist.data import build_augmentation
from fmnist.evaluation import compare, evaluate
from fmnist.interpret import layer_weights
from fmnist.model import build_model, compile_model, get_preset
from fmnist.training import set_seed, train


@dataclasses.dataclass(frozen=True)
class Config:
    """One configuration: a preset with builder overrides and compile/train options."""

    preset: str
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    compile: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: A Keras augmentation layer (fmnist.data.build_augmentation). Not reset between runs:
    #: see :func:`run_experiments` before sharing one layer between configurations.
    augment: Any = None
    epochs: int | None = None  # overrides the experiment's epochs
    lr_schedule: str | None = None  # fmnist.training.LR_SCHEDULES, e.g. "cosine"


#: Names accepted by :func:`recipe`.
RECIPES = ("default", "plain")


def recipe(name: str, layout: str, profile, seed: int = 0) -> dict[str, Any]:
    """``fmnist.training.train`` keyword arguments of a named training recipe for a preset.

    ``"plain"`` is how notebooks 03 and 05 train their baselines: constant learning rate, no
    augmentation, the profile's baseline epochs (``profile.epochs`` for MLPs,
    ``profile.cnn_epochs`` for CNNs, ``profile.regression_epochs`` for the regression net).

    ``"default"`` is what ``fmnist train`` does unless told otherwise. For CNNs it decays the
    learning rate to ~0 with a cosine schedule over ``profile.cnn_best_epochs`` epochs and
    augments every batch with random horizontal flips and shifts of up to 2 pixels. It was chosen
    on the dev split for ``cnn_large``, a seed-003 preset without dropout or batch norm that
    overfits within a few epochs otherwise (README, "The seed-003 presets with fmnist's default
    recipe"); a network that already regularizes itself may do better without the augmentation
    (notebook 05: ``cnn_best``).
    For MLPs and the regression net it is the plain recipe.

    Returns:
        ``{"epochs": int, "lr_schedule": str | None, "augment": keras layer | None}``.

    >>> from fmnist.course.profiles import get_profile
    >>> recipe("plain", "cnn", get_profile("full"))
    {'epochs': 10, 'lr_schedule': None, 'augment': None}
    """
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; valid recipes: {', '.join(RECIPES)}")
    baseline = {"mlp": profile.epochs, "cnn": profile.cnn_epochs,
                "regression": profile.regression_epochs}  # fmt: skip
    if layout not in baseline:
        raise ValueError(f"unknown layout {layout!r}; valid layouts: {', '.join(baseline)}")
    if name == "plain" or layout != "cnn":
        return {"epochs": baseline[layout], "lr_schedule": None, "augment": None}

    shifts = build_augmentation(flip=True, rotation=0.0, noise=0.0, erasing=0.0,
                                translation=0.07, seed=seed)  # fmt: skip
    return {"epochs": profile.cnn_best_epochs, "lr_schedule": "cosine", "augment": shifts}


@dataclasses.dataclass
class Experiment:
    """Trained configurations: ``results[name]`` is a ``fmnist.training.TrainResult``."""

    results: dict[str, Any]
    configs: dict[str, Config]
    initial_weights: dict[str, dict[str, np.ndarray]]
    test_metrics: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    #: name -> True when early stopping restored the best epoch's weights into the model
    restored_best: dict[str, bool] = dataclasses.field(default_factory=dict)

    def model_epoch(self, name: str) -> int:
        """The epoch whose weights the returned model holds: the best epoch when early
        stopping restored it, else the last epoch trained."""
        result = self.results[name]
        if self.restored_best.get(name) and result.best_epoch:
            return int(result.best_epoch)
        return int(result.epochs_run)

    @classmethod
    def merge(cls, *experiments: "Experiment") -> "Experiment":
        """One experiment holding the configurations of several (names must be unique)."""
        merged = cls({}, {}, {})
        for exp in experiments:
            clash = set(exp.results) & set(merged.results)
            if clash:
                raise ValueError(f"configuration names used twice: {sorted(clash)}")
            merged.results.update(exp.results)
            merged.configs.update(exp.configs)
            merged.initial_weights.update(exp.initial_weights)
            merged.test_metrics.update(exp.test_metrics)
            merged.restored_best.update(exp.restored_best)
        return merged

    def dev_table(self, metric: str = "val_accuracy") -> pd.DataFrame:
        """Per configuration: params, epochs run, and the dev metrics **of the returned model**
        (the epoch its weights come from: the restored best epoch with early stopping, else the
        last one), so that selection and the later test evaluation concern the same weights."""
        rows = []
        for name, result in self.results.items():
            history = result.history
            if metric not in history:
                raise ValueError(
                    f"metric {metric!r} was not logged for {name!r}; logged: {list(history.columns)}"
                )
            best = self.model_epoch(name)
            row = {"Architecture": name, "Params": result.params, "Epochs": result.epochs_run,
                   "Model epoch": best, "Train time (s)": round(result.wall_time, 1)}  # fmt: skip
            for col in dict.fromkeys(("val_loss", "val_accuracy", "val_mse", metric)):
                if col in history:
                    row[col] = float(history[col].loc[best])
            rows.append(row)
        return pd.DataFrame(rows)

    def select_best(self, metric: str = "val_accuracy") -> str:
        """Name of the configuration with the best dev ``metric`` (higher is better for
        accuracy, lower for losses/errors). The test set plays no part."""
        table = self.dev_table(metric)
        higher = "acc" in metric
        index = table[metric].idxmax() if higher else table[metric].idxmin()
        return str(table.loc[index, "Architecture"])

    def model(self, name: str):
        if name not in self.results:
            raise KeyError(f"no configuration {name!r}; have: {', '.join(self.results)}")
        return self.results[name].model

    def test_table(self, x_test, y_test) -> pd.DataFrame:
        """Evaluate every model once on the test set (seed-003 style comparison table)."""
        for name, result in self.results.items():
            self.test_metrics[name] = evaluate(result.model, x_test, y_test)
        return compare(
            [{"Architecture": name, **_summary(result), **{f"test_{k}": v for k, v in
              self.test_metrics[name].items()}} for name, result in self.results.items()]
        )  # fmt: skip

    def record(self, notebook: str) -> list:
        """Record every tested model for the report index (call :meth:`test_table` first)."""
        if not self.test_metrics:
            raise RuntimeError("call test_table(x_test, y_test) before record()")
        return [record_training(notebook, name, self.results[name], metrics)
                for name, metrics in self.test_metrics.items()]  # fmt: skip


def _summary(result) -> dict[str, Any]:
    return {"params": result.params, "epochs": result.epochs_run,
            "train_time": round(float(result.wall_time), 1)}  # fmt: skip


def _as_config(value) -> Config:
    if isinstance(value, Config):
        return value
    if isinstance(value, str):
        return Config(value)
    raise TypeError(f"a configuration is a preset name or a Config, got {value!r}")


def _arrays(data) -> tuple:
    """``(x, y)`` of a data tuple, or ``(None, None)`` without validation data."""
    if data is None:
        return None, None
    x, y = data
    return np.asarray(x), np.asarray(y)


def run_experiments(
    configs: Mapping[str, str | Config],
    train_data,
    val_data,
    epochs: int,
    batch_size: int = 128,
    patience: int | None = None,
    seed: int = 0,
    verbose: int = 0,
    log=print,
    cache: ModelCache | bool | None = None,
) -> Experiment:
    """Train every configuration (fresh model, same seed) and return an :class:`Experiment`.

    Args:
        configs: ``{display name: preset name or Config}``.
        train_data, val_data: ``(x, y)`` tuples shaped for the models.
        epochs, batch_size, patience: passed to ``fmnist.training.train`` (``Config.epochs``
            wins for its configuration).
        log: called with one line per trained configuration (``None`` for silence).
        cache: train once: a configuration trained before with the same settings, data and
            seed is loaded from a :class:`~fmnist.course.model_cache.ModelCache`. None: the
            course's cache in ``runs/model_cache`` unless ``$FMNIST_MODEL_CACHE=off``;
            ``False``: always train; or a ``ModelCache`` of your own.

    ``set_seed(seed)`` before each configuration makes its initial weights and shuffling
    reproducible, not its augmentation: a Keras augmentation layer (``Config.augment``)
    carries its own random state, which ``set_seed`` does not touch and every run advances.
    One layer shared by two configurations therefore gives the second other transforms
    than it would get alone; build one layer per configuration (as notebook 05 does).
    Augmented runs are not bit-reproducible in any case: ``fmnist.data.make_dataset``
    applies the layer in parallel ``map`` calls, which draw from its state in no fixed order.
    """

    if not configs:
        raise ValueError("run_experiments needs at least one configuration")
    parsed = {name: _as_config(value) for name, value in configs.items()}
    cache = resolve_cache(cache)
    data = array_fingerprint(*_arrays(train_data), *_arrays(val_data)) if cache is not None else None
    results, initial = {}, {}
    for name, config in parsed.items():
        preset = get_preset(config.preset)  # fails early, listing valid names
        run_epochs = epochs if config.epochs is None else config.epochs  # 0 is an error, not unset
        parts = cached = None
        if cache is not None:
            parts = cache.key_parts(
                preset=config.preset, overrides=dict(config.overrides), compile=dict(config.compile),
                augment=config.augment, epochs=run_epochs, lr_schedule=config.lr_schedule,
                batch_size=batch_size, patience=patience, seed=seed, data=data,
            )  # fmt: skip
            cached = cache.load(parts)
        if cached is not None:
            results[name], initial[name] = cached
        else:
            set_seed(seed)
            model = build_model(config.preset, **dict(config.overrides))
            compile_model(model, task=preset.task, **dict(config.compile))
            initial[name] = layer_weights(model)
            results[name] = train(
                model, train_data, val_data, batch_size=batch_size, patience=patience, epochs=run_epochs,
                augment=config.augment, seed=seed, verbose=verbose, lr_schedule=config.lr_schedule,
            )  # fmt: skip
            if cache is not None:
                cache.store(parts, results[name], initial[name])
        if log is not None:
            r = results[name]
            dev = r.history.get("val_accuracy")
            epoch = r.best_epoch if (patience is not None and r.best_epoch) else r.epochs_run
            shown = f", dev accuracy {dev.loc[epoch]:.4f} (weights of epoch {epoch})" if dev is not None else ""
            source = " (from the model cache)" if cached is not None else ""
            log(f"{name}: {r.epochs_run} epochs in {r.wall_time:.0f} s{shown}{source}")
    return Experiment(results, parsed, initial, restored_best={n: patience is not None for n in parsed})
