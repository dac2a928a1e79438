"""fmnist.course.paths: everything the course writes lives under one home directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fmnist.course import paths
from fmnist.course.notebook import start_notebook


@pytest.fixture
def no_overrides(monkeypatch):
    for var in (paths.HOME_ENV, paths.RUNS_ENV, paths.RESULTS_ENV):
        monkeypatch.setenv(var, "")  # recorded, so what start_notebook sets is undone afterwards
        monkeypatch.delenv(var)


def test_the_home_is_the_working_directory_by_default(no_overrides, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert paths.home() == tmp_path.resolve()
    assert paths.runs_dir() == tmp_path.resolve() / "runs"
    assert paths.reports_dir() == tmp_path.resolve() / "reports"
    assert paths.results_dir() == tmp_path.resolve() / "reports" / "results"
    assert paths.notebooks_dir() == tmp_path.resolve() / "notebooks"
    assert paths.benchmarks_dir() == tmp_path.resolve() / "benchmarks" / "results"


def test_fmnist_home_wins_and_is_read_at_every_call(no_overrides, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "elsewhere"))
    assert paths.home() == (tmp_path / "elsewhere").resolve()
    assert paths.results_dir() == (tmp_path / "elsewhere").resolve() / "reports" / "results"
    monkeypatch.setenv(paths.RUNS_ENV, str(tmp_path / "my_runs"))
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path / "my_results"))
    assert paths.runs_dir() == tmp_path / "my_runs"
    assert paths.results_dir() == tmp_path / "my_results"


def test_nothing_points_into_the_installed_package(no_overrides, tmp_path, monkeypatch):
    import fmnist

    package = Path(fmnist.__file__).resolve().parent
    monkeypatch.chdir(tmp_path)
    for where in (paths.home, paths.runs_dir, paths.reports_dir, paths.results_dir, paths.benchmarks_dir):
        assert package not in where().parents and where() != package


def test_start_notebook_sets_the_home_only_when_unset(no_overrides, tmp_path, monkeypatch):
    checkout = tmp_path / "checkout"
    (checkout / "notebooks").mkdir(parents=True)
    monkeypatch.chdir(checkout / "notebooks")
    start_notebook(seed=0, profile="quick", home="..")
    assert os.environ[paths.HOME_ENV] == str(checkout.resolve())
    assert paths.results_dir() == checkout.resolve() / "reports" / "results"
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path))  # fmnist report / the Makefile set it
    start_notebook(seed=0, profile="quick", home="..")
    assert os.environ[paths.HOME_ENV] == str(tmp_path)


def test_start_notebook_rejects_a_home_that_is_not_a_directory(no_overrides, tmp_path):
    with pytest.raises(ValueError, match="home .*missing.* is not a directory"):
        start_notebook(seed=0, profile="quick", home=tmp_path / "missing")
    assert paths.HOME_ENV not in os.environ
