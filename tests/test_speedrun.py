"""The course's speedrun runs: recorded, trained once (model cache), bad input refused."""

from __future__ import annotations

import pytest

from fmnist.backend import choose_precision

from fmnist.course.model_cache import CACHE_DIRNAME, ModelCache
from fmnist.course.report import RESULTS_ENV, record_result
from fmnist.course.speedrun import load_speedrun_runs, run_and_record, run_name, speedrun_data
from fmnist.model.errors import UnknownNameError
from fmnist.recipes import get_recipe

RECIPE = get_recipe("speedrun")


def test_run_names_share_the_recipe_up_to_the_seed():
    assert run_name(RECIPE, RECIPE.epochs, 3) == "speedrun seed 3"
    assert run_name(RECIPE, 4, 0) == "speedrun 4 epochs seed 0"
    assert run_name(RECIPE, 1, 0) == "speedrun 1 epoch seed 0"
    default = choose_precision("auto")
    other = "float32" if default == "bfloat16" else "bfloat16"
    assert run_name(RECIPE, RECIPE.epochs, 0, default) == "speedrun seed 0"
    assert run_name(RECIPE, RECIPE.epochs, 0, other) == f"speedrun seed 0, {other}"


def test_loaded_runs_are_those_of_the_split_and_recipe_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    for notebook, model, recipe, seed in [("speedrun", "speedrun seed 0", "speedrun", 0),
                                          ("speedrun", "long seed 0", "long", 0),
                                          ("speedrun", "speedrun seed 1", "speedrun", 1),
                                          ("speedrun_dev", "speedrun seed 0", "speedrun", 0)]:  # fmt: skip
        record_result(notebook, model, profile="quick", recipe=recipe, seed=seed, test_accuracy=0.9)
    assert sorted(load_speedrun_runs("quick")["model"]) == ["long seed 0", "speedrun seed 0", "speedrun seed 1"]
    assert load_speedrun_runs("quick", recipe="speedrun")["model"].tolist() == ["speedrun seed 0", "speedrun seed 1"]
    assert load_speedrun_runs("quick", recipe="long")["model"].tolist() == ["long seed 0"]
    assert load_speedrun_runs("quick", split="dev", recipe="long").empty
    assert load_speedrun_runs("full", recipe="speedrun").empty  # no full-profile records here
    with pytest.raises(UnknownNameError, match="valid recipes: speedrun, long"):
        load_speedrun_runs("quick", recipe="sprint")


@pytest.mark.realdata
@pytest.mark.xdist_group("speedrun")
def test_a_second_run_comes_from_the_cache(tmp_path, monkeypatch, small_speedrun_eval, speedrun_runs_dir):
    from fmnist.course import report

    monkeypatch.setenv(report.RESULTS_ENV, str(tmp_path / "results"))
    runs, first = speedrun_runs_dir  # seeds 0 and 1, trained into runs/model_cache
    cache = ModelCache(runs / CACHE_DIRNAME)
    assert not first[0]["from_cache"] and not first[1]["from_cache"]  # seed 1 was not served seed 0's model
    assert len(list(cache.directory.iterdir())) == 2
    again, fields_again = run_and_record(RECIPE, seed=0, split="dev", profile="quick", epochs=1, cache=cache)
    assert fields_again["from_cache"]
    assert fields_again["dev_accuracy"] == pytest.approx(first[0]["dev_accuracy"], abs=1e-6)
    assert fields_again["train_time"] == first[0]["train_time"]  # the measured time, not a load time
    assert len(list(cache.directory.iterdir())) == 2


@pytest.mark.realdata
def test_bad_input():
    with pytest.raises(ValueError, match="valid splits: test, dev"):
        speedrun_data("val", "quick")
    with pytest.raises(TypeError, match="cache must be None, False or a ModelCache"):
        run_and_record(RECIPE, split="dev", profile="quick", epochs=1, cache="yes")
    (x, y), (xt, yt) = speedrun_data("test", "quick")
    assert len(x) == 2_000 and len(xt) == 10_000
