"""fmnist.course.profiles and fmnist.course.notebook: the two profiles, their selection and the
notebook start-up call."""

from __future__ import annotations

import dataclasses
import doctest
import re

import pytest

from fmnist.course import profiles
from fmnist.course.notebook import start_notebook
from fmnist.course.profiles import PROFILE_ENV, PROFILES, get_profile


def test_profile_selection_by_name_then_environment(monkeypatch):
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    assert get_profile().name == "quick"
    monkeypatch.setenv(PROFILE_ENV, " Full ")
    assert get_profile().name == "full"
    assert get_profile("quick").name == "quick"  # an explicit name wins over the environment


def test_unknown_profile_names_the_source_and_the_valid_ones(monkeypatch):
    with pytest.raises(ValueError, match=r"unknown profile 'fast' \(from argument\); valid profiles: full, quick"):
        get_profile("fast")
    monkeypatch.setenv(PROFILE_ENV, "slow")
    with pytest.raises(ValueError, match=rf"'slow' \(from {PROFILE_ENV}\)"):
        get_profile()


def test_quick_budgets_never_exceed_full_ones():
    quick, full = PROFILES["quick"], PROFILES["full"]
    for field in dataclasses.fields(quick):
        q, f = getattr(quick, field.name), getattr(full, field.name)
        if field.name in ("name", "batch_size", "patience"):
            continue
        if field.name.endswith("subset"):  # None means the whole split
            assert f is None or (q is not None and q <= f), field.name
        else:
            assert q <= f, field.name


def test_tuning_budget_per_layout():
    full = get_profile("full")
    assert full.tuning_budget("cnn") == (full.cnn_tuning_trials, full.cnn_tuning_epochs, full.cnn_tuning_subset)
    assert full.tuning_budget("mlp") == (full.tuning_trials, full.tuning_epochs, full.tuning_subset)
    assert full.tuning_budget("regression") == full.tuning_budget("mlp")
    assert full.tuning_budget(None) == full.tuning_budget("mlp")  # a space without a layout


@pytest.mark.parametrize("layout", ["cnnn", "CNN", "rnn", ""])
def test_tuning_budget_rejects_unknown_layouts(layout):
    # a typo used to get the MLP budget without a word
    with pytest.raises(ValueError, match=rf"^unknown layout {layout!r}; "
                                         r"valid layouts: 'mlp', 'cnn', 'regression', None$"):
        get_profile("full").tuning_budget(layout)


@pytest.mark.parametrize("name", [1, ["quick"], b"quick"])
def test_profile_name_must_be_a_string(name):
    # get_profile(1) used to fail with AttributeError: 'int' object has no attribute 'strip'
    message = f"profile name must be a string or None, got {name!r}; valid profiles: full, quick"
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        get_profile(name)


def test_start_notebook_seeds_and_returns_the_profile():
    import numpy as np

    profile = start_notebook(seed=3, profile="quick")
    first = np.random.random()
    start_notebook(seed=3, profile="quick")
    assert profile is PROFILES["quick"] and np.random.random() == first


def test_the_docstring_examples_hold():
    failed, attempted = doctest.testmod(profiles, report=False)
    assert attempted >= 4 and failed == 0
