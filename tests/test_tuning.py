"""Tests of fmnist.tuning: spaces, both engines, resume, best config, refit, bad input.

Everything runs on tiny synthetic data (64-dim inputs, 3 classes; 1-D regression) with tiny
MLPs and 1-2 epochs, and every tuner directory lives under pytest's tmp_path.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

from fmnist.model.errors import UnknownNameError
from fmnist.tuning import (
    BASE_COLUMNS,
    Boolean,
    Choice,
    DistributedConfigError,
    LogRange,
    ObjectiveError,
    Range,
    SearchSpace,
    SearchSpaceError,
    best_config,
    budget,
    get_space,
    load_results,
    param_hash,
    read_executions,
    refit_best,
    run_search,
)
from fmnist.tuning.spaces import mlp_model

ENGINES = [("talos", "random"), ("kerastuner", "random"), ("kerastuner", "hyperband"), ("kerastuner", "bayesian")]


def _classification(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 64)).astype("float32")
    x[np.arange(n), y] += 3.0  # learnable signal: feature y is high for class y
    return x, y.astype("int64")


@pytest.fixture(scope="module")
def data():
    x, y = _classification(256, 1)
    x_val, y_val = _classification(96, 2)
    return x, y, x_val, y_val


@pytest.fixture(scope="module")
def space():
    """The ready MLP space on 64 inputs with tiny hidden layers (grid 3*2*3*2*2*2 = 144)."""
    return get_space("mlp", input_shape=(64,), n_classes=3).with_params(units_1=[4, 8], units_2=[4, 8])


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, size=(64, 1)).astype("float32")
    return x, (np.sin(x) + 0.1 * rng.normal(size=x.shape)).astype("float32")


def _search(space, engine, tuner, data, tmp_path, **kw):
    x, y, x_val, y_val = data
    kw = {"max_trials": 3, "epochs": 1, "directory": tmp_path, "project_name": f"{engine}_{tuner}", **kw}
    return run_search(space, engine, x, y, x_val, y_val, tuner=tuner, **kw)


# ------------------------------------------------------------------------------- spaces
def test_ready_spaces_grid_sizes_and_builds():
    mlp = get_space("mlp")
    assert mlp.grid_size() == 3 * 2 * 3 * 3 * 3 * 2 == 324
    assert mlp.grid()["batch_size"] == [16, 32, 64]
    assert mlp.fixed["kernel_initializer"] == "he_normal" and mlp.fixed["activation"] == "relu"
    cnn = get_space("cnn")
    assert cnn.grid_size() == 6 * 3 * 3 * 2 * 2 * 3 * 2 * 2
    assert {"architecture", "conv_blocks", "filters", "kernel_size", "strides"} <= set(cnn.names)
    reg = get_space("regression")
    assert reg.objective == "cv_mse" and reg.task == "regression"
    assert reg.grid()["learning_rate"] == [1e-3, 0.00548, 3e-2]
    assert 0.0 in reg.grid()["l2"] and reg.grid()["dropout"][-1] == 0.25
    assert set(reg.grid()["activation"]) == {"relu", "tanh", "sin"}
    model = reg.build(reg.defaults())
    assert model.output_shape == (None, 1) and model.compiled
    small_cnn = cnn.build(dict(cnn.defaults(), architecture="all_conv", conv_blocks=3, strides=2))
    assert small_cnn.output_shape == (None, 10)


def test_domains():
    assert Choice(16, 32).grid() == Choice([16, 32]).grid() == [16, 32]
    assert Choice(0, 1e-3).values == (0.0, 1e-3)  # ints mixed with floats become floats
    assert Range(0.0, 0.25, 0.05).grid() == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25]
    assert Range(1, 5, 2).grid() == [1, 3, 5]
    assert Range(0.0, 0.25, 0.05).contains(0.15000000000000002)
    assert not Range(0.0, 0.25, 0.05).contains(0.12)
    assert LogRange(1e-4, 1e-2, n=5).grid() == [1e-4, 0.000316, 0.001, 0.00316, 0.01]
    assert LogRange(1e-4, 1e-2).contains(5e-3) and not LogRange(1e-4, 1e-2).contains(0.1)
    assert Boolean().grid() == [False, True]
    assert param_hash({"a": 1, "b": 0.1}) == param_hash({"b": np.float64(0.1), "a": np.int64(1)})
    for bad in (lambda: Choice(), lambda: Choice(1, "a"), lambda: Choice(1, 1), lambda: Range(1, 1, 1),
                lambda: Range(0, 1, 0), lambda: LogRange(0, 1), lambda: LogRange(1e-3, 1e-2, n=1)):  # fmt: skip
        with pytest.raises(SearchSpaceError):
            bad()


# ------------------------------------------------------------------------------ engines
@pytest.fixture(scope="module")
def searches(space, data, tmp_path_factory):
    """One 3-trial search per engine/tuner, run on first use and shared by the tests."""
    cache = {}

    def run(engine, tuner):
        if (engine, tuner) not in cache:
            # Hyperband with max_epochs=3 (factor 3) starts with 3 one-epoch trials.
            cache[engine, tuner] = _search(
                space, engine, tuner, data, tmp_path_factory.mktemp("searches"),
                epochs=3 if tuner == "hyperband" else 1,
            )  # fmt: skip
        return cache[engine, tuner]

    return run


@pytest.mark.parametrize("engine,tuner", ENGINES)
def test_engine_returns_documented_table(engine, tuner, space, searches, capsys):
    out = searches(engine, tuner)
    df = out.results
    assert 2 <= len(df) <= 3 and out.trials_run == len(df)
    assert set(BASE_COLUMNS) <= set(df.columns)
    expected = ["trial_id", "engine", "tuner", *space.names, "val_accuracy"]
    assert list(df.columns[: len(expected)]) == expected
    assert "val_loss" in df.columns
    assert (df["engine"] == engine).all() and (df["tuner"] == tuner).all()
    assert df["trial_id"].is_unique and df["param_hash"].is_unique
    assert (df["epochs"] >= 1).all() and (df["wall_time"] > 0).all()
    assert df["val_accuracy"].between(0, 1).all()
    for row in df.to_dict("records"):  # only values of the declared space were sampled
        config = space.check_config({n: row[n] for n in space.names})
        assert param_hash(config) == row["param_hash"]
    saved = load_results(out.run_dir)
    pd.testing.assert_frame_equal(saved, df, check_dtype=False)
    spec = json.loads((out.run_dir / "search.json").read_text())
    assert spec["grid_size"] == space.grid_size() == 144 and spec["sessions"][-1]["status"] == "complete"
    assert out.best == best_config(df) and out.total_epochs == df["epochs"].sum()
    assert budget(df).loc[0, "trials"] == len(df)
    assert capsys.readouterr().out == ""  # quiet mode: no progress bars, no trial tables


@pytest.mark.portable
@pytest.mark.parametrize("engine,tuner", [("talos", "random"), ("kerastuner", "random"), ("kerastuner", "hyperband")])
def test_searches_run_on_every_backend(engine, tuner, space, data, tmp_path):
    # Talos 2.0.10 and KerasTuner 1.4.8 run on jax and torch as well (measured here; on torch
    # they failed only while compile_model asked for steps_per_execution=32). Two trials each.
    if keras.backend.backend() == "tensorflow":
        pytest.skip("on tensorflow test_engine_returns_documented_table runs these searches")
    out = _search(space, engine, tuner, data, tmp_path, max_trials=2, epochs=2 if tuner == "hyperband" else 1)
    df = out.results
    assert len(df) == 2 and out.trials_run == 2 and df["param_hash"].is_unique
    assert df["val_accuracy"].between(0, 1).all() and (df["epochs"] >= 1).all()
    assert out.best == best_config(df)

@pytest.mark.parametrize("engine", ["talos", "kerastuner"])
def test_regression_cv_objective(engine, regression_data, tmp_path):
    x, y = regression_data
    reg = get_space("regression").with_params(units=[4, 8], n_layers=[1], l2=[0.0, 1e-3])
    out = run_search(
        reg, engine, x, y, max_trials=2, epochs=2, cv_folds=2, batch_size=32,
        directory=tmp_path, project_name=engine,
    )  # fmt: skip
    df = out.results
    assert out.objective == "cv_mse" and out.mode == "min" and len(df) == 2
    assert {"cv_mse", "cv_mse_std", "cv_mae"} <= set(df.columns)
    assert (df["epochs"] == 2 * 2).all()  # 2 folds x 2 epochs
    for row in df.to_dict("records"):
        reg.check_config({n: row[n] for n in reg.names})
        assert 1e-3 <= row["learning_rate"] <= 3e-2


# ------------------------------------------------------------------------------- resume
class _Stop(Exception):
    """Simulated interruption (Ctrl-C, a killed job) after a trial was recorded."""


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["talos", "kerastuner"])
def test_resume_after_interruption_repeats_no_trial(engine, space, data, tmp_path):
    seen: list[str] = []

    def stop_after_two(row):
        seen.append(row["param_hash"])
        if len(seen) == 2:
            raise _Stop

    with pytest.raises(_Stop):
        _search(space, engine, "random", data, tmp_path, max_trials=4, on_trial_end=stop_after_two)
    run_dir = tmp_path / f"{engine}_random"
    assert len(load_results(run_dir)) == 2

    second: list[str] = []
    record = lambda row: second.append(row["param_hash"])  # noqa: E731
    out = _search(space, engine, "random", data, tmp_path, max_trials=4, on_trial_end=record)
    assert out.trials_run == 2 and len(second) == 2
    assert not set(second) & set(seen)
    df = out.results
    assert len(df) == 4 and df["param_hash"].is_unique and df["trial_id"].is_unique
    assert set(df["param_hash"]) == set(seen) | set(second)
    spec = json.loads((run_dir / "search.json").read_text())
    assert [s["status"] for s in spec["sessions"]] == ["failed: _Stop", "complete"]
    if engine == "kerastuner":
        runs = read_executions(run_dir)
        assert len(runs) == 4 and runs["trial_id"].is_unique

    again = _search(space, engine, "random", data, tmp_path, max_trials=4)  # nothing left to do
    assert again.trials_run == 0 and len(again.results) == 4


def test_resume_refuses_changed_settings(space, data, tmp_path):
    _search(space, "kerastuner", "random", data, tmp_path, max_trials=1)
    with pytest.raises(ValueError, match="different epochs"):
        _search(space, "kerastuner", "random", data, tmp_path, max_trials=1, epochs=2)
    out = _search(space, "kerastuner", "random", data, tmp_path, max_trials=1, epochs=2, overwrite=True)
    assert len(out.results) == 1 and out.results.loc[0, "epochs"] == 2


def test_resume_refuses_other_data_patience_or_tuner_kwargs(space, data, tmp_path):
    x, y, x_val, y_val = data
    _search(space, "talos", "random", data, tmp_path, max_trials=1)
    changed = [({"data": (x[:200], y[:200], x_val, y_val)}, r"different n_train \(256 there, 200 now\)"),
               ({"data": (x, y, x_val[:50], y_val[:50])}, r"different n_val \(96 there, 50 now\)"),
               ({"patience": 0}, r"different patience \(None there, 0 now\)")]  # fmt: skip
    for kw, match in changed:
        with pytest.raises(ValueError, match=match):
            _search(space, "talos", "random", kw.pop("data", data), tmp_path, max_trials=2, **kw)
    assert _search(space, "talos", "random", data, tmp_path, max_trials=1).trials_run == 0  # same: resumes

    kw = {"max_trials": 1, "tuner_kwargs": {"max_consecutive_failed_trials": 5}}
    _search(space, "kerastuner", "random", data, tmp_path, **kw)
    assert _search(space, "kerastuner", "random", data, tmp_path, **kw).trials_run == 0
    with pytest.raises(ValueError, match=r"different tuner_kwargs "
                                         r"\(\{'max_consecutive_failed_trials': 5\} there, \{\} now"):
        _search(space, "kerastuner", "random", data, tmp_path, max_trials=1)
    # A search.json written before tuner_kwargs was recorded: compared with the default then in effect.
    path = tmp_path / "kerastuner_random" / "search.json"
    spec = json.loads(path.read_text())
    del spec["tuner_kwargs"]
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=r"\{\} there assumed \(an older record without tuner_kwargs\)"):
        _search(space, "kerastuner", "random", data, tmp_path, **kw)


def test_seed_zero_gives_a_seeded_kerastuner_search(space, data, tmp_path):
    import random

    from fmnist.tuning.kerastuner_engine import MAX_SEED, kerastuner_seed

    # KerasTuner treats seed 0 as "no seed" (seed or random.randint(1, 10000)).
    assert kerastuner_seed(0) == MAX_SEED == 2**32 - 1 and kerastuner_seed(1) == 1 and kerastuner_seed(7) == 7
    draws = []
    for i in (1, 2):
        random.seed(i)  # a different global state must not change what a seeded search draws
        out = _search(space, "kerastuner", "random", data, tmp_path, max_trials=2, project_name=f"s0_{i}")
        assert json.loads((out.run_dir / "oracle.json").read_text())["seed"] == kerastuner_seed(0)
        draws.append(out.results[space.names].to_dict("records"))
    assert draws[0] == draws[1]
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 4294967294\] for engine 'kerastuner'"):
        _search(space, "kerastuner", "random", data, tmp_path, seed=MAX_SEED, project_name="big")
    assert not (tmp_path / "big").exists()


@pytest.mark.parametrize("engine, tuner_kwargs, error, match", [
    ("kerastuner", {"seed": 7, "max_trials": 2}, ValueError, "tuner_kwargs may not set seed, max_trials: run_search"),
    ("kerastuner", {"factor": 2, "max_epochs": 4}, ValueError, "may not set max_epochs"),
    ("kerastuner", {"directory": "elsewhere"}, ValueError, "may not set directory"),
    ("kerastuner", [("factor", 2)], TypeError, "tuner_kwargs must be a dict"),
    ("talos", {"factor": 2}, ValueError, "tuner_kwargs is for engine 'kerastuner'"),
])  # fmt: skip
def test_tuner_kwargs_the_wrapper_sets_or_talos_ignores(engine, tuner_kwargs, error, match, space, data, tmp_path):
    with pytest.raises(error, match=match):
        _search(space, engine, None, data, tmp_path, tuner_kwargs=tuner_kwargs)
    assert not any(tmp_path.iterdir())  # rejected before anything ran


# ------------------------------------------------------------------------- best config
def test_best_config_picks_best_row():
    df = pd.DataFrame({
        "trial_id": ["0", "1", "2"], "engine": "talos", "tuner": "random", "units": [8, 16, 32],
        "learning_rate": [0.1, 0.01, 0.001], "val_accuracy": [0.7, 0.9, 0.8],
        "val_loss": [0.5, 0.4, 0.3], "epochs": 1, "wall_time": 1.0, "param_hash": ["a", "b", "c"],
    })  # fmt: skip
    assert best_config(df) == {"units": 16, "learning_rate": 0.01}
    assert best_config(df, "val_loss") == {"units": 32, "learning_rate": 0.001}
    assert best_config(df, "val_accuracy", mode="min")["units"] == 8
    with pytest.raises(KeyError, match="val_f1"):
        best_config(df, "val_f1")
    with pytest.raises(ValueError, match="empty"):
        best_config(df.iloc[:0])


def test_refit_best_on_full_training_set(space, data, searches):
    out = searches("kerastuner", "random")
    x, y, x_test, y_test = data
    final = refit_best(space, out.results, x, y, x_test, y_test, epochs=1)
    assert final.config == out.best
    assert set(final.test_metrics) == {"loss", "accuracy"}
    assert final.train.epochs_run == 1 and final.model.count_params() > 0


# ---------------------------------------------------------------------------- bad input
def test_unknown_engine_or_tuner(space, data, tmp_path):
    with pytest.raises(UnknownNameError, match="valid engines: talos, kerastuner"):
        _search(space, "optuna", None, data, tmp_path)
    with pytest.raises(UnknownNameError, match="valid tuners: random, hyperband, bayesian"):
        _search(space, "kerastuner", "grid", data, tmp_path)
    with pytest.raises(UnknownNameError, match="talos"):
        _search(space, "talos", "hyperband", data, tmp_path)
    with pytest.raises(UnknownNameError, match="valid spaces"):
        _search("resnet", "talos", None, data, tmp_path)


def test_empty_search_space():
    with pytest.raises(SearchSpaceError, match="empty"):
        SearchSpace("nothing", {}, builder=mlp_model)
    with pytest.raises(SearchSpaceError, match="empty"):
        get_space("regression").with_params(**{n: None for n in get_space("regression").names})


def test_hyperparameter_the_builder_does_not_accept():
    with pytest.raises(SearchSpaceError, match=r"\['momentum'\] are not accepted by the builder mlp_model"):
        get_space("mlp").with_params(momentum=[0.9, 0.99])
    with pytest.raises(SearchSpaceError, match="not accepted"):
        SearchSpace("custom", {"units_1": [8], "kernel_size": [3]}, builder=mlp_model)


@pytest.mark.parametrize("fraction", [0, 0.0, -0.1, 1.5, True, "0.5"])
def test_fraction_limit_outside_unit_interval(fraction, space, data, tmp_path):
    with pytest.raises(ValueError, match=r"fraction_limit must be a fraction of the grid in \(0, 1\]"):
        _search(space, "talos", None, data, tmp_path, fraction_limit=fraction)


def test_fraction_limit_too_small_or_wrong_engine(space, data, tmp_path):
    with pytest.raises(ValueError, match="samples no trial"):
        _search(space, "talos", None, data, tmp_path, fraction_limit=0.001)
    with pytest.raises(ValueError, match="engine='talos' only"):
        _search(space, "kerastuner", "random", data, tmp_path, fraction_limit=0.5)


@pytest.mark.parametrize("max_trials", [0, -3, 2.5, True])
def test_max_trials_below_one(max_trials, space, data, tmp_path):
    with pytest.raises(ValueError, match="max_trials must be an int >= 1"):
        _search(space, "kerastuner", "random", data, tmp_path, max_trials=max_trials)


def test_objective_the_model_does_not_log(space, data, tmp_path):
    with pytest.raises(ObjectiveError, match="'val_auc' is not logged by the models of space 'mlp'") as err:
        _search(space, "kerastuner", "random", data, tmp_path, objective="val_auc")
    assert "val_accuracy" in str(err.value) and "val_loss" in str(err.value)  # the valid ones
    with pytest.raises(ObjectiveError, match="val_<metric>"):
        _search(space, "talos", None, data, tmp_path, objective="accuracy")
    assert not (tmp_path / "kerastuner_random").exists()  # rejected before any trial


def test_other_bad_input(space, data, tmp_path, monkeypatch):
    x, y, x_val, y_val = data
    with pytest.raises(ValueError, match="pass x_val and y_val"):
        run_search(space, "talos", x, y, max_trials=1, directory=tmp_path)
    with pytest.raises(ValueError, match="needs max_trials"):
        run_search(space, "kerastuner", x, y, x_val, y_val, directory=tmp_path)
    with pytest.raises(DistributedConfigError, match="KERASTUNER_TUNER_ID"):
        _search(space, "kerastuner", "random", data, tmp_path, distributed=True)
    with pytest.raises(ValueError, match="engine='kerastuner'"):
        _search(space, "talos", None, data, tmp_path, distributed=True)
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    with pytest.raises(DistributedConfigError, match="missing: KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_PORT"):
        _search(space, "kerastuner", "random", data, tmp_path)


@pytest.mark.slow
def test_bayesian_search_leaves_trials_to_its_gaussian_process(space, data, tmp_path):
    import json

    from fmnist.tuning.kerastuner_engine import bayesian_initial_points

    # KerasTuner's default (3 x 8 = 24 random points) would make a 12-trial CNN search random.
    assert bayesian_initial_points(8, 12) == 4
    assert bayesian_initial_points(8, None) == 24
    assert bayesian_initial_points(2, 100) == 6 and bayesian_initial_points(6, 3) == 2
    _search(space, "kerastuner", "bayesian", data, tmp_path, max_trials=3)  # 2 random, 1 from the process
    oracle = json.loads((tmp_path / "kerastuner_bayesian" / "oracle.json").read_text())
    assert oracle["num_initial_points"] == 2
    _search(space, "kerastuner", "bayesian", data, tmp_path, max_trials=1, project_name="own",
            tuner_kwargs={"num_initial_points": 1})  # the caller's choice wins
    assert json.loads((tmp_path / "own" / "oracle.json").read_text())["num_initial_points"] == 1


def _fake_search(tmp_path, tuner, scores, epochs, objective="val_accuracy", mode="max"):
    import pandas as pd

    from fmnist.tuning import SearchResult

    results = pd.DataFrame({"trial_id": [f"{i:02d}" for i in range(len(scores))], objective: scores,
                            "epochs": epochs, "wall_time": [1.0] * len(scores)})
    return SearchResult(results, None, objective, mode, tmp_path, "kerastuner", tuner, 10, len(scores), 1.0)


def test_compare_searches_reports_cost_and_best(tmp_path):
    from fmnist.tuning import compare_searches

    def fake(tuner, scores, epochs):
        return _fake_search(tmp_path, tuner, scores, epochs)

    table = compare_searches({"hb": fake("hyperband", [0.5, 0.8], [2, 6]),
                              "rs": fake("random", [0.7], [10])})
    assert table.loc["hb", "best val_accuracy"] == 0.8 and table.loc["hb", "epochs"] == 8
    assert table.loc["rs", "trials"] == 1
    with pytest.raises(ValueError, match="at least one"):
        compare_searches({})
    relative = compare_searches({"hb": fake("hyperband", [0.5, 0.8], [2, 6]),
                                 "rs": fake("random", [0.7, 0.75], [10, 10])}, reference="rs")
    assert relative.loc["hb", "epochs / reference"] == 0.4
    assert relative.loc["hb", "best - reference"] == pytest.approx(0.05)
    assert relative.loc["rs", "best - reference"] == 0.0
    with pytest.raises(ValueError, match="reference 'talos' is not one of the searches: hb"):
        compare_searches({"hb": fake("hyperband", [0.5], [2])}, reference="talos")


def test_anytime_curve_is_best_so_far_against_cumulative_epochs(tmp_path):
    import numpy as np

    from fmnist.tuning import anytime_curve, epochs_to_reach

    hb = _fake_search(tmp_path, "hyperband", [0.6, np.nan, 0.8, 0.7], [2, 2, 4, 6])
    curve = hb.anytime()
    assert curve["epochs"].tolist() == [2, 4, 8, 14]
    assert curve["best"].tolist() == [0.6, 0.6, 0.8, 0.8]  # the failed trial keeps the best so far
    assert curve["trial_id"].tolist() == ["00", "01", "02", "03"]
    assert epochs_to_reach(hb.results, 0.75) == 8
    assert epochs_to_reach(hb.results, 0.6) == 2
    assert epochs_to_reach(hb.results, 0.9) is None
    # a minimized objective is reached from above
    cv = _fake_search(tmp_path, "random", [0.3, 0.1, 0.2], [5, 5, 5], objective="cv_mse", mode="min")
    assert cv.anytime()["best"].tolist() == [0.3, 0.1, 0.1]
    assert epochs_to_reach(cv.results, 0.15, "cv_mse", "min") == 10
    assert anytime_curve(hb.results.iloc[:0]).empty
    for bad in (True, float("inf"), "0.8", None, float("nan")):
        with pytest.raises(ValueError, match="target must be a finite number"):
            epochs_to_reach(hb.results, bad)
    with pytest.raises(TypeError, match="DataFrame"):
        anytime_curve([0.5])


def test_compare_searches_epochs_to_reach_the_reference_within_tolerance(tmp_path):
    from fmnist.tuning import compare_searches

    searches = {"hb": _fake_search(tmp_path, "hyperband", [0.80, 0.846, 0.86], [2, 2, 6]),
                "rs": _fake_search(tmp_path, "random", [0.80, 0.85, 0.84], [6, 6, 6])}
    table = compare_searches(searches, reference="rs", tolerance=0.005)
    assert table.attrs["target"] == pytest.approx(0.845)
    assert table.loc["hb", "epochs to target"] == 4  # 0.846 after 2 + 2 epochs
    assert table.loc["hb", "to target / reference"] == pytest.approx(4 / 18, abs=1e-3)
    assert table.loc["rs", "epochs to target"] == 12
    strict = compare_searches(searches, reference="rs", tolerance=0.0)
    assert strict.loc["hb", "epochs to target"] == 10
    never = compare_searches({"hb": searches["hb"], "rs": _fake_search(tmp_path, "random", [0.95], [6])},
                             reference="rs", tolerance=0.005)
    assert never["epochs to target"].isna()["hb"]
    assert "epochs to target" not in compare_searches(searches, reference="rs")
    with pytest.raises(ValueError, match="tolerance needs a reference"):
        compare_searches(searches, tolerance=0.005)
    for bad in (float("inf"), True, "0.005", float("nan"), -0.01):
        with pytest.raises(ValueError, match="tolerance must be a finite number >= 0"):
            compare_searches(searches, reference="rs", tolerance=bad)


# ------------------------------------------------------------------- repeated over seeds
def test_compare_over_seeds_relates_each_seed_to_its_own_reference(tmp_path):
    from fmnist.tuning.seeds import compare_over_seeds, summarize_over_seeds

    def pair(hb_scores, hb_epochs, rs_scores):
        return {"hb": _fake_search(tmp_path, "hyperband", hb_scores, hb_epochs),
                "rs": _fake_search(tmp_path, "random", rs_scores, [5] * len(rs_scores))}  # fmt: skip

    runs = {0: pair([0.70, 0.80], [2, 6], [0.60, 0.80]),   # hb reaches 0.795 after 8 of 10
            1: pair([0.90, 0.50], [2, 6], [0.50, 0.70]),   # hb reaches 0.695 after 2 of 10
            2: pair([0.10, 0.20], [2, 6], [0.90, 0.40])}   # hb never reaches 0.895
    table = compare_over_seeds(runs, reference="rs", tolerance=0.005)
    assert list(table.columns[:3]) == ["seed", "search", "target"]
    assert table["target"].tolist() == pytest.approx([0.795, 0.795, 0.695, 0.695, 0.895, 0.895])
    hb = table[table["search"] == "hb"].set_index("seed")
    assert hb["to target / reference"].tolist()[:2] == [0.8, 0.2]
    assert pd.isna(hb.loc[2, "epochs to target"])

    summary = summarize_over_seeds(table, goal=0.4)
    assert summary.loc["hb", "seeds"] == 3 and summary.loc["hb", "reached"] == 2
    assert summary.loc["hb", "share median"] == pytest.approx(0.5)
    assert (summary.loc["hb", "share min"], summary.loc["hb", "share max"]) == (0.2, 0.8)
    assert summary.loc["hb", "within goal"] == 1
    assert (summary.loc["rs", "share min"], summary.loc["rs", "share max"]) == (0.5, 1.0)
    assert summary.loc["rs", "within goal"] == 0
    assert summary.loc["hb", "best median"] == pytest.approx(0.8)
    assert "within goal" not in summarize_over_seeds(table).columns

    with pytest.raises(ValueError, match="runs is empty"):
        compare_over_seeds({}, reference="rs", tolerance=0.005)
    for bad in (True, float("inf"), "0.4", float("nan"), 0, -0.4):
        with pytest.raises(ValueError, match="goal must be a finite number > 0"):
            summarize_over_seeds(table, goal=bad)
    with pytest.raises(ValueError, match="tolerance must be a finite number >= 0"):
        compare_over_seeds(runs, reference="rs", tolerance=None)
    with pytest.raises(ValueError, match="compare_over_seeds' output"):
        summarize_over_seeds(table.drop(columns="seed"))


def test_share_is_compared_with_the_goal_unrounded(tmp_path):
    from fmnist.tuning.seeds import compare_over_seeds, summarize_over_seeds

    runs = {0: {"ref": _fake_search(tmp_path, "random", [0.5, 0.9], [1000, 1001]),
                "b": _fake_search(tmp_path, "hyperband", [0.9], [801])}}  # fmt: skip
    table = compare_over_seeds(runs, reference="ref", tolerance=0.0)
    share = table.set_index("search").loc["b", "to target / reference"]
    assert share == pytest.approx(801 / 2001, rel=1e-12)  # 0.4003, which rounds to 0.4
    summary = summarize_over_seeds(table, goal=0.4)
    assert summary.loc["b", "within goal"] == 0  # 0.4003 > 0.4
    assert summary.loc["b", "share median"] == pytest.approx(801 / 2001, rel=1e-12)


@pytest.mark.slow
def test_repeat_searches_runs_each_seed_in_its_own_directory_and_resumes(space, data, tmp_path):
    from fmnist.tuning.seeds import repeat_searches

    x, y, x_val, y_val = data
    seen = []
    kwargs = {"seeds": [0, 1], "max_trials": 1, "epochs": 1, "directory": tmp_path}
    searches = {"random": ("kerastuner", "random"), "talos": ("talos", "random")}
    runs = repeat_searches(space, searches, x, y, x_val, y_val,
                           on_search_end=lambda seed, name, r: seen.append((seed, name, r.trials_run)),
                           **kwargs)  # fmt: skip
    assert seen == [(0, "random", 1), (0, "talos", 1), (1, "random", 1), (1, "talos", 1)]
    assert {p.name for p in tmp_path.iterdir()} == {
        "kerastuner_random_seed0", "talos_random_seed0", "kerastuner_random_seed1", "talos_random_seed1"}
    for name in searches:  # the seed reaches the search: other configurations are drawn
        hashes = [set(runs[s][name].results["param_hash"]) for s in (0, 1)]
        assert hashes[0] != hashes[1]
    again = repeat_searches(space, searches, x, y, x_val, y_val, **kwargs)
    assert all(r.trials_run == 0 for per_seed in again.values() for r in per_seed.values())
    assert again[1]["talos"].results.equals(runs[1]["talos"].results)


@pytest.mark.parametrize("bad, match", [
    ({"seeds": []}, "non-empty list"),
    ({"seeds": [0, 0]}, "distinct"),
    ({"seeds": [-1]}, "integers >= 0"),
    ({"seeds": [True]}, "integers >= 0"),
    ({"project_name": "{engine}_{tuner}"}, "must contain"),
    ({"seed": 3}, "not as seed="),
    ({"searches": {}}, "non-empty mapping"),
    ({"searches": {"a": "talos"}}, "pair"),
    ({"searches": {"a": ("talos", "random"), "b": ("talos", "random")}}, "appear once"),
    # every name, seed and tuner_kwargs is checked before the first search runs
    ({"searches": {"a": ("talos", "random"), "b": ("talos", "hyperbnd")}}, "valid tuners"),
    ({"searches": {"a": ("talos", "random"), "b": ("optuna", "random")}}, "valid engines"),
    ({"searches": {"a": ("talos", "random"), "k": ("kerastuner", "random")}, "seeds": [0, 2**32 - 1]},
     "for engine 'kerastuner'"),
    ({"searches": {"k": ("kerastuner", "random"), "a": ("talos", "random")}, "tuner_kwargs": {"factor": 2}},
     "tuner_kwargs is for engine 'kerastuner'"),
])  # fmt: skip
def test_repeat_searches_rejects_bad_input(bad, match, space, data, tmp_path):
    from fmnist.tuning.seeds import repeat_searches

    kwargs = {"searches": {"t": ("talos", "random")}, "seeds": [0], "directory": tmp_path, **bad}
    with pytest.raises(ValueError, match=match):
        repeat_searches(space, kwargs.pop("searches"), *data, max_trials=1, **kwargs)
    assert not any(tmp_path.iterdir())  # rejected before anything ran
