"""Shared test fixtures: one autouse seeding fixture and the real-data skip rule."""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as fmnist/__init__.py, before any TF import
# Every test trains what it asks for; tests/test_model_cache.py uses caches of its own.
os.environ.setdefault("FMNIST_MODEL_CACHE", "off")
# Tests compare numbers across backends and with NumPy at float32 tolerances, whatever the
# CPU; tests/test_precision.py trains in bfloat16 where the CPU has it.
os.environ.setdefault("FMNIST_PRECISION", "float32")
# On jax every new model's train step is compiled by XLA (1-3 s on these CPUs), and the tests
# build the same small models again and again: JAX's persistent cache, shared by the xdist
# workers of one run, compiles each program once (tests/test_resume.py on jax: 109 s -> 45 s).
_JAX_CACHE = None  # made by the first process (the xdist controller); the workers inherit it
if os.environ.get("KERAS_BACKEND") == "jax" and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _JAX_CACHE = tempfile.mkdtemp(prefix="fmnist-tests-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _JAX_CACHE
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

# after the environment above: it must be set before anything imports TF, Keras or matplotlib
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def _real_data_available() -> bool:
    try:
        from fmnist.data import find_dataset

        find_dataset("fashion_mnist")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available" for the skip rule
        return False


def pytest_unconfigure(config):
    if _JAX_CACHE is not None:  # only the process that made it
        shutil.rmtree(_JAX_CACHE, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    # The slow tests first (a stable sort: the rest keep their order): pytest-xdist hands
    # out work in this order, and a 30-50 s test handed out last is a tail during which the
    # other worker, its queue empty, idles.
    items.sort(key=lambda item: "slow" not in item.keywords)
    # In CI the Debian package is installed, so these run; on a bare machine they skip with
    # the reason instead of failing.
    if _real_data_available():
        return
    if os.environ.get("CI") and any("realdata" in item.keywords for item in items):
        # CI installs the Debian package: silently skipping the real-data tests there would
        # hide a broken install step.
        raise pytest.UsageError("CI=true but the real Fashion-MNIST was not found")
    skip = pytest.mark.skip(
        reason="real Fashion-MNIST not found (apt-get install dataset-fashion-mnist)"
    )
    for item in items:
        if "realdata" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seed Python, NumPy and TensorFlow before every test."""
    try:
        from fmnist.training import set_seed
    except ImportError:  # training module not importable: seed what we can
        random.seed(0)
        np.random.seed(0)
    else:
        set_seed(0)
    yield
    if "keras" in sys.modules:
        # Free the graphs of the models a test built: later tests trace faster.
        # free_memory=False: no gc.collect() per test (it took 28-39 s over the jax run).
        sys.modules["keras"].backend.clear_session(free_memory=False)


#: Evaluation images of the speedrun tests that check recording and caching, not accuracy:
#: scoring the whole dev/test split with flip averaging took most of their time.
SPEEDRUN_EVAL_IMAGES = 1_000


def _cut_speedrun_eval(monkeypatch) -> None:
    from fmnist.course import speedrun

    real = speedrun.speedrun_data

    def smaller(split="test", profile=None):
        train, (x_eval, y_eval) = real(split, profile)
        return train, (x_eval[:SPEEDRUN_EVAL_IMAGES], y_eval[:SPEEDRUN_EVAL_IMAGES])

    monkeypatch.setattr(speedrun, "speedrun_data", smaller)


@pytest.fixture
def small_speedrun_eval(monkeypatch):
    """The course's speedrun data with the evaluation split cut to SPEEDRUN_EVAL_IMAGES."""
    _cut_speedrun_eval(monkeypatch)
    return SPEEDRUN_EVAL_IMAGES


#: The seeds of :func:`speedrun_runs_dir`.
SPEEDRUN_SEEDS = (0, 1)


@pytest.fixture(scope="session")
def speedrun_runs_dir(tmp_path_factory):
    """A runs directory whose model cache holds the quick 1-epoch speedrun on the dev split for
    each of SPEEDRUN_SEEDS, trained once per session (group the tests that use it with
    ``@pytest.mark.xdist_group("speedrun")``, so they share one worker and one training), and
    the fields of those first runs, by seed."""
    from fmnist.course import speedrun
    from fmnist.course.model_cache import CACHE_DIRNAME, ModelCache
    from fmnist.recipes import get_recipe

    runs = tmp_path_factory.mktemp("speedrun_runs")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _cut_speedrun_eval(monkeypatch)
        cache = ModelCache(runs / CACHE_DIRNAME)
        first = {seed: speedrun.run_and_record(get_recipe("speedrun"), seed=seed, split="dev", profile="quick",
                                               epochs=1, record=False, cache=cache)[1]
                 for seed in SPEEDRUN_SEEDS}  # fmt: skip
    return runs, first
