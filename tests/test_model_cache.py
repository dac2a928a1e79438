"""fmnist.course.model_cache: train once, load the second time; stale or damaged entries retrain."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fmnist.course import experiments, model_cache
from fmnist.course.experiments import Config, run_experiments
from fmnist.course.model_cache import ModelCache, array_fingerprint, default_model_cache

pytestmark = pytest.mark.portable


def _data(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.uniform(0, 0.1, (n, 784)).astype(np.float32)
    x[np.arange(n), y * 10] += 3.0
    return x, y.astype(np.int32)


TRAIN, DEV = _data(300, 0), _data(100, 1)
CONFIGS = {"shallow": "mlp_shallow", "shallow + dropout": Config("mlp_shallow", overrides={"dropout": 0.3})}


def _run(cache, configs=CONFIGS, train=TRAIN, seed=0, epochs=2, log=None):
    return run_experiments(configs, train, DEV, epochs=epochs, batch_size=64, seed=seed, log=log, cache=cache)


def _entries(cache):
    return (sorted(p.name for p in cache.directory.iterdir() if not p.name.startswith("."))
            if cache.directory.exists() else [])


@pytest.fixture
def counted(monkeypatch):
    """Counts the calls of fmnist.training.train made by run_experiments."""
    calls = []
    real = experiments.train

    def spy(*args, **kwargs):
        calls.append(kwargs.get("epochs"))
        return real(*args, **kwargs)

    monkeypatch.setattr(experiments, "train", spy)
    return calls


def test_second_run_loads_instead_of_training(tmp_path, counted):
    cache = ModelCache(tmp_path / "cache")
    first = _run(cache)
    assert len(counted) == 2 and len(_entries(cache)) == 2
    lines = []
    second = _run(cache, log=lines.append)
    assert len(counted) == 2  # nothing trained again
    assert all(line.endswith("(from the model cache)") for line in lines) and len(lines) == 2
    for name in CONFIGS:
        a, b = first.results[name], second.results[name]
        np.testing.assert_allclose(a.history.to_numpy(float), b.history.to_numpy(float))
        assert list(a.history.index) == list(b.history.index) == [1, 2]
        assert ((a.epochs_run, a.best_epoch, a.params, a.wall_time)
                == (b.epochs_run, b.best_epoch, b.params, b.wall_time))
        for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
            np.testing.assert_array_equal(wa, wb)
        for layer in first.initial_weights[name]:
            np.testing.assert_array_equal(first.initial_weights[name][layer], second.initial_weights[name][layer])
        np.testing.assert_allclose(a.model.predict(DEV[0], verbose=0), b.model.predict(DEV[0], verbose=0), atol=1e-6)
    # The loaded experiment works like a trained one.
    assert set(second.test_table(*DEV)["Architecture"]) == set(CONFIGS)


@pytest.mark.parametrize("change", ["seed", "epochs", "data", "overrides"])
def test_any_change_of_settings_or_data_trains_again(tmp_path, counted, change):
    cache = ModelCache(tmp_path / "cache")
    configs = {"shallow": "mlp_shallow"}
    _run(cache, configs)
    kwargs = {"seed": {"seed": 1}, "epochs": {"epochs": 1}, "data": {"train": _data(300, 5)},
              "overrides": {"configs": {"shallow": Config("mlp_shallow", overrides={"dropout": 0.1})}}}[change]
    _run(cache, **{"configs": configs, **kwargs})
    assert len(counted) == 2 and len(_entries(cache)) == 2


def test_key_names_backend_version_and_code(tmp_path):
    parts = ModelCache(tmp_path).key_parts(preset="mlp_shallow", seed=0)
    assert {"backend", "fmnist_version", "code", "preset", "seed"} <= set(parts)
    assert ModelCache.key(parts) == ModelCache.key(json.loads(json.dumps(parts)))


def test_damaged_entry_is_retrained_and_replaced(tmp_path, counted):
    cache = ModelCache(tmp_path / "cache")
    configs = {"shallow": "mlp_shallow"}
    _run(cache, configs)
    (entry,) = _entries(cache)
    (cache.directory / entry / "result.json").write_text("{not json", encoding="utf-8")
    _run(cache, configs)
    assert len(counted) == 2 and _entries(cache) == [entry]
    _run(cache, configs)
    assert len(counted) == 2  # the replaced entry is good again


def test_interrupted_store_leaves_nothing_behind(tmp_path, monkeypatch):
    cache = ModelCache(tmp_path / "cache")

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(model_cache, "save_model", broken)
    with pytest.raises(KeyboardInterrupt):
        _run(cache, {"shallow": "mlp_shallow"})
    assert list(cache.directory.iterdir()) == []  # no entry, no staging directory


def test_cache_off_and_bad_arguments(tmp_path, monkeypatch, counted):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv(model_cache.CACHE_ENV, "off")
    assert default_model_cache() is None
    monkeypatch.setenv(model_cache.CACHE_ENV, "on")
    assert default_model_cache().directory == tmp_path / "runs" / "model_cache"
    _run(None, {"shallow": "mlp_shallow"})  # None: the course's cache
    assert len(_entries(default_model_cache())) == 1
    _run(False, {"shallow": "mlp_shallow"})  # False: train anyway
    assert len(counted) == 2
    monkeypatch.setenv(model_cache.CACHE_ENV, "sometimes")
    with pytest.raises(ValueError, match="FMNIST_MODEL_CACHE='sometimes'; valid values: on, off"):
        default_model_cache()
    with pytest.raises(TypeError, match="cache must be None, False or a ModelCache"):
        _run("runs/cache", {"shallow": "mlp_shallow"})


def test_array_fingerprint():
    a = np.arange(6, dtype=np.float32)
    assert array_fingerprint(a) == array_fingerprint(a.copy())
    assert array_fingerprint(a) != array_fingerprint(a.astype(np.float64))
    assert array_fingerprint(a) != array_fingerprint(a.reshape(2, 3))
    assert array_fingerprint(a, None) != array_fingerprint(a)
