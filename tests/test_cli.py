"""The ``fmnist`` command line: help, jobs, and clear non-zero exits on errors."""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest

from fmnist.course.cli import EXIT_ERROR, build_parser, main


def test_every_subcommand_has_help(capsys):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        assert info.value.code == 0
        assert "usage: fmnist " + name in capsys.readouterr().out


def test_unknown_preset_exits_with_message(capsys):
    assert main(["train", "no_such_net"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "unknown preset 'no_such_net'" in err and "mlp_medium" in err


def test_missing_model_file(capsys, tmp_path):
    assert main(["evaluate", str(tmp_path / "missing.keras")]) == EXIT_ERROR
    assert "does not exist" in capsys.readouterr().err


def test_bad_profile_is_rejected_by_argparse():
    with pytest.raises(SystemExit) as info:
        main(["train", "mlp_shallow", "--profile", "huge"])
    assert info.value.code == 2


@pytest.mark.realdata
def test_data_info(capsys):
    assert main(["data", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["verified"] and info["shapes"]["train_images"] == [60000, 28, 28]


@pytest.mark.realdata
def test_data_fetch_downloads_into_the_named_directory(capsys, tmp_path, monkeypatch):
    import shutil

    import fmnist.course.commands.data as data_command
    from fmnist.data import find_dataset

    source, calls = find_dataset(), []

    def offline_fetch(name, target_dir=None):  # stands in for the download
        calls.append(target_dir)
        shutil.copytree(source, target_dir, dirs_exist_ok=True)
        return target_dir

    monkeypatch.setattr(data_command, "fetch", offline_fetch)
    target = tmp_path / "fm"
    assert main(["data", "fetch", "--data-dir", str(target)]) == 0
    assert calls == [str(target)] and f"downloaded and verified into {target}" in capsys.readouterr().out
    assert main(["data", "fetch", "--data-dir", str(target)]) == 0  # now present: no second fetch
    assert calls == [str(target)] and f"already present in {target}" in capsys.readouterr().out


@pytest.mark.realdata
def test_train_then_evaluate(capsys, tmp_path):
    run = tmp_path / "run"
    code = main(["train", "mlp_shallow", "--epochs", "1", "--subset", "1000", "--run-dir", str(run)])
    assert code == 0
    result = json.loads((run / "result.json").read_text())
    assert result["params"] == 101_770 and 0.1 < result["test_accuracy"] <= 1.0
    assert (run / "model.keras").is_file() and (run / "history.csv").is_file()
    capsys.readouterr()
    assert main(["evaluate", str(run / "model.keras")]) == 0
    out = capsys.readouterr().out
    assert f"test accuracy: {result['test_accuracy']:.4f}" in out


@pytest.fixture
def train_spy(monkeypatch):
    import fmnist.course.commands.training as training_commands

    seen = {}
    real_train = training_commands.train_model  # fmnist.training.train

    def spy(*args, **kwargs):
        seen.update(kwargs, args=args)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(training_commands, "train_model", spy)
    return seen


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.xdist_group("speedrun")
def test_speedrun_records_every_seed(monkeypatch, tmp_path, capsys, small_speedrun_eval, speedrun_runs_dir):
    from fmnist.course import report
    from fmnist.backend import choose_precision
    from fmnist.course.model_cache import CACHE_ENV
    from fmnist.course.paths import RUNS_ENV
    from fmnist.course.speedrun import load_speedrun_runs
    from fmnist.course.profiles import get_profile

    monkeypatch.setenv(report.RESULTS_ENV, str(tmp_path / "results"))
    # The course's model cache, holding both seeds already: the command trains nothing.
    monkeypatch.setenv(RUNS_ENV, str(speedrun_runs_dir[0]))
    monkeypatch.setenv(CACHE_ENV, "on")
    code = main(["speedrun", "--profile", "quick", "--seeds", "0", "1", "--split", "dev", "--epochs", "1"])
    assert code == 0
    records = sorted((tmp_path / "results").iterdir())
    first = json.loads(records[0].read_text())
    # tests train in float32 (conftest): on a bfloat16 CPU the names say so
    suffix = "" if first["precision"] == choose_precision("auto") else f"_{first['precision']}"
    assert [p.name for p in records] == [f"speedrun_dev__speedrun_1_epoch_seed_{seed}{suffix}__quick.json"
                                         for seed in (0, 1)]  # fmt: skip
    assert first["recipe"] == "speedrun" and first["seed"] == 0 and first["epochs"] == 1
    assert first["train_images"] == get_profile("quick").cnn_subset and 0 <= first["dev_accuracy"] <= 1
    assert first["precision"] in ("float32", "bfloat16") and "test_accuracy" not in first
    assert first["from_cache"] and first["train_time"] == speedrun_runs_dir[1][0]["train_time"]
    out = capsys.readouterr().out
    assert "speedrun 1 epoch seed 1" in out and "dev_accuracy" in out and "2 seeds: median dev_accuracy" in out
    runs = load_speedrun_runs("quick", split="dev")
    assert sorted(runs["seed"]) == [0, 1] and load_speedrun_runs("quick", split="test").empty
    with pytest.raises(ValueError, match="valid splits: test, dev"):
        load_speedrun_runs("quick", split="train")
    assert main(["speedrun", "--profile", "quick", "--seeds", "0", "0"]) == 2
    assert "must not repeat a seed" in capsys.readouterr().err


@pytest.mark.realdata
def test_train_passes_schedule_and_augmentation(train_spy, tmp_path):
    seen = train_spy
    run = tmp_path / "run"
    code = main(["train", "cnn_small", "--epochs", "1", "--subset", "300", "--lr-schedule", "cosine",
                 "--augment", "--run-dir", str(run)])  # fmt: skip
    assert code == 0
    assert seen["lr_schedule"] == "cosine" and seen["augment"].name == "augmentation"
    result = json.loads((run / "result.json").read_text())
    assert result["lr_schedule"] == "cosine" and result["augment"] == "flip+rotate+erase+noise"


@pytest.mark.realdata
def test_train_uses_the_default_recipe_and_records(train_spy, monkeypatch, tmp_path, capsys):
    from fmnist.course import report
    from fmnist.course.profiles import get_profile

    monkeypatch.setenv(report.RESULTS_ENV, str(tmp_path / "results"))
    monkeypatch.setenv("FMNIST_PROFILE", "full")  # --profile wins over the environment
    run = tmp_path / "run"
    code = main(["train", "cnn_small", "--profile", "quick", "--subset", "300", "--record",
                 "--run-dir", str(run)])  # fmt: skip
    assert code == 0
    assert train_spy["epochs"] == get_profile("quick").cnn_best_epochs
    assert train_spy["lr_schedule"] == "cosine"
    assert [layer.name for layer in train_spy["augment"].layers] == ["flip", "translate"]
    result = json.loads((run / "result.json").read_text())
    assert result["recipe"] == "default" and result["augment"] == "flip+translate"
    record = json.loads(
        (tmp_path / "results" / "fmnist_train__cnn_small_default_recipe_subset_300__quick.json").read_text()
    )
    assert record["notebook"] == "fmnist train" and record["model"] == "cnn_small (default recipe; subset 300)"
    assert record["test_accuracy"] == result["test_accuracy"] and record["train_samples"] == 300
    assert "recorded in" in capsys.readouterr().out
    # Another variant gets its own record: it never overwrites the first one.
    code = main(["train", "cnn_small", "--profile", "quick", "--subset", "300", "--epochs", "1",
                 "--learning-rate", "0.05", "--record", "--run-dir", str(tmp_path / "run2")])  # fmt: skip
    assert code == 0
    assert {p.name for p in (tmp_path / "results").iterdir()} == {
        "fmnist_train__cnn_small_default_recipe_subset_300__quick.json",
        "fmnist_train__cnn_small_default_recipe_epochs_1_subset_300_learning_rate_0.05__quick.json",
    }


@pytest.mark.realdata
def test_train_takes_the_profiles_subsets_and_the_fixed_split(train_spy, tmp_path):
    from fmnist.course.profiles import get_profile
    from fmnist.data import load_splits

    quick = get_profile("quick")
    code = main(["train", "cnn_small", "--profile", "quick", "--epochs", "1", "--seed", "3",
                 "--run-dir", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    _, (x, y), (x_dev, y_dev) = train_spy["args"]
    assert len(y) == quick.cnn_subset and len(y_dev) == quick.dev_subset
    # --seed 3 draws other subsets, never from the dev images of the notebooks' split (seed 0)
    splits = load_splits("fashion_mnist", layout="cnn")
    dev_rows = {row.tobytes() for row in splits.x_dev}
    assert not any(row.tobytes() in dev_rows for row in x[:200])


@pytest.mark.parametrize("option", [["--epochs", "-1"], ["--batch-size", "0"], ["--learning-rate", "nan"],
                                    ["--patience", "-2"], ["--optimizer", "adamax"]])  # fmt: skip
def test_bad_train_options_fail_before_anything_is_written(option, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "mlp_shallow", *option, "--run-dir", str(run)]) == EXIT_ERROR
    assert not run.exists()
    assert "fmnist train: error:" in capsys.readouterr().err


@pytest.mark.realdata
def test_train_plain_recipe_and_options_win(train_spy, tmp_path):
    from fmnist.course.profiles import get_profile

    code = main(["train", "cnn_small", "--profile", "quick", "--recipe", "plain", "--subset", "300",
                 "--run-dir", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    assert train_spy["epochs"] == get_profile("quick").cnn_epochs
    assert train_spy["lr_schedule"] is None and train_spy["augment"] is None
    code = main(["train", "cnn_small", "--profile", "quick", "--lr-schedule", "constant",
                 "--epochs", "1", "--subset", "300", "--run-dir", str(tmp_path / "run2")])  # fmt: skip
    assert code == 0
    assert train_spy["epochs"] == 1 and train_spy["lr_schedule"] is None
    assert train_spy["augment"] is not None  # the recipe's augmentation stays


def test_unknown_recipe_is_rejected_by_argparse():
    with pytest.raises(SystemExit) as info:
        main(["train", "cnn_small", "--recipe", "fancy"])
    assert info.value.code == 2


def test_augmenting_a_regression_preset_is_an_error_before_anything_is_written(capsys, tmp_path):
    run = tmp_path / "run"
    assert main(["train", "regression_2layer", "--augment", "--run-dir", str(run)]) == EXIT_ERROR
    assert "--augment transforms images; 'regression_2layer' is a regression preset" in capsys.readouterr().err
    assert not run.exists()


# --- fmnist train --resume (on tiny synthetic data in place of the profile's subsets) --------
class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt("stopped after epoch 2")


@pytest.fixture
def tiny_runs(monkeypatch):
    """``fmnist train`` on 200 synthetic training images; ``interrupt()`` stops the next run."""
    import fmnist.course.commands.training as training_commands

    rng = np.random.default_rng(0)
    templates = rng.random((10, 784), dtype=np.float32)
    y = np.arange(280) % 10
    x = (0.7 * templates[y] + 0.3 * rng.random((280, 784), dtype=np.float32)).astype(np.float32)
    monkeypatch.setattr(training_commands, "training_data",
                        lambda *a: ((x[:200], y[:200]), (x[200:240], y[200:240]), (x[240:], y[240:])))
    real_train, stops = training_commands.train_model, []

    def train_model(*args, **kwargs):
        if stops:
            kwargs["callbacks"] = [stops.pop()]
        return real_train(*args, **kwargs)

    monkeypatch.setattr(training_commands, "train_model", train_model)
    return lambda: stops.append(_Interrupt())


TINY = ["train", "mlp_shallow", "--epochs", "4", "--batch-size", "32", "--learning-rate", "0.003"]


@pytest.mark.portable
def test_train_resume_ends_as_the_uninterrupted_run(tiny_runs, tmp_path, capsys):
    from fmnist.model import load_model

    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main([*TINY, "--run-dir", str(whole)]) == 0
    tiny_runs()
    with pytest.raises(KeyboardInterrupt):
        main([*TINY, "--run-dir", str(cut)])
    stored = json.loads((cut / "run.json").read_text())  # written when the run started
    assert stored["command"] == "fmnist train" and stored["settings"]["epochs"] == 4
    assert sorted(p.name for p in (cut / "backup").iterdir()) == ["epoch-0002"]
    capsys.readouterr()
    assert main([*TINY, "--resume", str(cut)]) == 0
    assert "resuming after epoch 2 of 4" in capsys.readouterr().out
    assert not (cut / "backup").exists()  # the checkpoint goes when training completes
    assert sorted(p.name for p in cut.iterdir()) == sorted(p.name for p in whole.iterdir())
    result, reference = (json.loads((d / "result.json").read_text()) for d in (cut, whole))
    timing = {"train_time", "images_per_sec"}
    assert ({k: v for k, v in result.items() if k not in timing}
            == {k: v for k, v in reference.items() if k not in timing})
    pd.testing.assert_frame_equal(pd.read_csv(cut / "history.csv"), pd.read_csv(whole / "history.csv"))
    for a, b in zip(load_model(cut / "model.keras").get_weights(), load_model(whole / "model.keras").get_weights()):
        np.testing.assert_array_equal(a, b)
    assert main([*TINY, "--resume", str(cut)]) == EXIT_ERROR
    assert (f"fmnist train: error: --resume {cut}: no checkpoint to resume (the run has completed "
            "(result.json)); start a new run without --resume") in capsys.readouterr().err  # fmt: skip


@pytest.mark.portable
def test_train_resume_refuses_other_settings_and_missing_checkpoints(tiny_runs, tmp_path, capsys):
    cut = tmp_path / "cut"
    tiny_runs()
    with pytest.raises(KeyboardInterrupt):
        main([*TINY, "--run-dir", str(cut)])
    capsys.readouterr()
    before = sorted(str(p) for p in cut.rglob("*"))
    for extra, message in [
        (["--epochs", "5"], "epochs 4 there, 5 here"),
        (["--seed", "1"], "seed 0 there, 1 here"),
        (["--recipe", "plain"], "recipe 'default' there, 'plain' here"),
        (["--profile", "full"], "profile 'quick' there, 'full' here"),
    ]:
        assert main([*TINY, *extra, "--resume", str(cut)]) == EXIT_ERROR
        err = capsys.readouterr().err
        assert f"--resume {cut}: the run was started with other settings ({message}" in err, err
        assert f"repeat the command it was started with (see {cut / 'run.json'}) and add --resume" in err
    assert main(["train", "mlp_medium", *TINY[2:], "--resume", str(cut)]) == EXIT_ERROR
    assert "preset 'mlp_shallow' there, 'mlp_medium' here" in capsys.readouterr().err
    assert main([*TINY, "--run-dir", str(cut)]) == EXIT_ERROR  # a new run would resume it silently
    assert (f"{cut} holds an interrupted run (checkpoint after epoch 2): continue it with --resume {cut}, "
            "or choose another --run-dir") in capsys.readouterr().err  # fmt: skip
    assert main([*TINY, "--run-dir", str(tmp_path / "x"), "--resume", str(cut)]) == EXIT_ERROR
    assert f"--resume {cut} continues the run in that directory; drop --run-dir" in capsys.readouterr().err
    assert sorted(str(p) for p in cut.rglob("*")) == before  # nothing written by the refusals
    assert main([*TINY, "--resume", str(tmp_path / "nothing")]) == EXIT_ERROR
    assert "not a run directory of `fmnist train` (no run.json)" in capsys.readouterr().err
    (tmp_path / "early").mkdir()
    (tmp_path / "early" / "run.json").write_text((cut / "run.json").read_text())
    assert main([*TINY, "--resume", str(tmp_path / "early")]) == EXIT_ERROR
    assert "no checkpoint to resume (training stopped before its first epoch ended" in capsys.readouterr().err


@pytest.mark.realdata
def test_tune_talos_quick(capsys, tmp_path):
    code = main(["tune", "--space", "mlp", "--engine", "talos", "--max-trials", "2", "--epochs", "1",
                 "--subset", "500", "--directory", str(tmp_path), "--project-name", "t"])
    assert code == 0
    out = capsys.readouterr().out
    assert "val_accuracy" in out and "best (val_accuracy, max)" in out
    assert (tmp_path / "t" / "results.csv").is_file()


def test_tune_rejects_bad_trials(capsys, tmp_path):
    code = main(["tune", "--space", "regression", "--engine", "talos", "--max-trials", "0",
                 "--directory", str(tmp_path)])
    assert code == EXIT_ERROR
    assert "max_trials" in capsys.readouterr().err


def test_tune_seeds_rejects_bad_searches(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["tune-seeds", "--searches", "talos"])
    assert info.value.code == 2 and "ENGINE:TUNER" in capsys.readouterr().err
    code = main(["tune-seeds", "--reference", "kerastuner:bayesian", "--directory", str(tmp_path)])
    assert code == EXIT_ERROR
    assert "not one of --searches: kerastuner:hyperband, talos:random" in capsys.readouterr().err


def test_tune_seeds_checks_names_tolerance_and_goal_before_any_search(capsys, tmp_path, monkeypatch):
    import fmnist.course.commands.tuning as tuning_commands

    ran = []
    monkeypatch.setattr(tuning_commands, "tuning_data", lambda *args: ran.append("data") or (None,) * 4)
    monkeypatch.setattr(tuning_commands, "repeat_searches", lambda *args, **kwargs: ran.append("searches") or {})
    for options, message in [
        (["--tolerance", "nan"], "tolerance must be a finite number >= 0"),
        (["--tolerance", "-0.1"], "tolerance must be a finite number >= 0"),
        (["--goal", "0"], "goal must be a finite number > 0"),
        (["--goal", "inf"], "goal must be a finite number > 0"),
        (["--searches", "kerastuner:hyperbnd", "talos:random"], "unknown tuner 'hyperbnd'"),
    ]:  # fmt: skip
        code = main(["tune-seeds", "--space", "mlp", "--directory", str(tmp_path),
                     "--out", str(tmp_path / "seeds.json"), *options])  # fmt: skip
        assert code == EXIT_ERROR
        assert message in capsys.readouterr().err
    assert ran == [] and not any(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.realdata
def test_tune_seeds_writes_the_comparison_record(capsys, tmp_path):
    out = tmp_path / "seeds.json"
    code = main(["tune-seeds", "--space", "mlp", "--searches", "kerastuner:random", "talos:random",
                 "--seeds", "0", "1", "--max-trials", "1", "--epochs", "1", "--subset", "300",
                 "--goal", "0.5", "--profile", "quick", "--directory", str(tmp_path), "--out", str(out)])
    assert code == 0
    assert "seed 1 talos:random" in capsys.readouterr().out
    record = json.loads(out.read_text())
    assert record["schema"] == "fmnist-tuning-seeds/1" and record["seeds"] == [0, 1]
    assert record["reference"] == "talos:random" and record["data"]["train"] == 300
    assert len(record["per_seed"]) == 4 and {r["seed"] for r in record["per_seed"]} == {0, 1}
    talos = next(r for r in record["summary"] if r["search"] == "talos:random")
    shares = [r["to target / reference"] for r in record["per_seed"] if r["search"] == "talos:random"]
    assert talos["seeds"] == 2 and talos["reached"] == 2
    assert talos["within goal"] == sum(share <= 0.5 for share in shares)


def test_results_prints_and_writes_the_readme_block(capsys, tmp_path):
    from fmnist.course import report

    results = tmp_path / "results"
    report.atomic_write_text(results / "a.json", json.dumps(
        {"notebook": "05_cnn", "model": "cnn_best", "profile": "full", "params": 468778,
         "test_accuracy": 0.94, "machine": "test CPU"}))  # fmt: skip
    report.atomic_write_text(results / "b.json", json.dumps(
        {"notebook": "05_cnn", "model": "cnn_small", "profile": "quick", "params": 63050, "test_accuracy": 0.9}))
    assert main(["results", "--dir", str(results), "--profile", "full"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Machine: test CPU.") and "cnn_best" in out and "cnn_small" not in out
    readme = tmp_path / "README.md"
    readme.write_text(f"{report.README_BEGIN}\n{report.README_END}\n")
    assert main(["results", "--dir", str(results), "--readme", str(readme)]) == 0
    assert "| 05_cnn | cnn_small | quick |" in readme.read_text()
    readme.write_text("nothing\n")
    assert main(["results", "--dir", str(results), "--readme", str(readme)]) == 2
    assert "has no results block" in capsys.readouterr().err


def test_report_rejects_a_non_positive_cell_timeout(capsys):
    assert main(["report", "--notebooks", "01_data", "--cell-timeout", "0"]) == EXIT_ERROR
    assert "timeout must be an int >= 1 (seconds), got 0" in capsys.readouterr().err


def test_report_refuses_to_write_back_notebooks_it_did_not_run(capsys):
    assert main(["report", "--no-execute", "--write-notebooks"]) == EXIT_ERROR
    assert "write_notebooks needs execute=True" in capsys.readouterr().err


def test_report_resume_passes_through_and_needs_execution(capsys, monkeypatch):
    import fmnist.course.commands.reports as report_commands

    assert main(["report", "--no-execute", "--resume"]) == EXIT_ERROR
    assert "resume skips notebooks already executed; it needs execute=True" in capsys.readouterr().err
    seen = {}
    monkeypatch.setattr(report_commands, "build_reports", lambda **kw: seen.update(kw) or "index.html")
    assert main(["report", "--resume", "--notebooks", "01_data"]) == 0 and seen["resume"] is True


def test_report_screenshot_needs_the_browser_before_the_run(capsys, monkeypatch, tmp_path):
    import fmnist.course.commands.reports as report_commands

    ran, shots = [], []
    monkeypatch.setattr(report_commands, "build_reports", lambda **kw: ran.append(kw) or tmp_path / "index.html")
    monkeypatch.setattr(report_commands, "screenshot", lambda page, png: shots.append((page, png)) or png)
    monkeypatch.setattr(report_commands, "missing", lambda: "chromium not installed (apt-get install chromium)")
    assert main(["report", "--no-execute", "--screenshot", "docs/index.png"]) == EXIT_ERROR
    assert "--screenshot: chromium not installed (apt-get install chromium)" in capsys.readouterr().err
    assert ran == [] and shots == []  # refused before building anything
    monkeypatch.setattr(report_commands, "missing", lambda: None)
    assert main(["report", "--no-execute", "--screenshot", "docs/index.png"]) == 0
    assert shots == [(tmp_path / "index.html", "docs/index.png")]


# --- one dispatch point, no TensorFlow for the parser, --backend -----------------------------

HEAVY = ("tensorflow", "keras", "jax", "torch")


def _run_python(code: str, env_extra: dict | None = None, timeout: float = 300):
    import os

    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["benchmark", "--help"],
                                  ["data", "info", "--quiet"], ["data", "info", "--json"]])  # fmt: skip
def test_help_and_data_info_do_not_import_tensorflow(argv):
    code = (
        "import sys\nfrom fmnist.course.cli import main\n"
        f"try:\n    status = main({argv!r})\nexcept SystemExit as exc:\n    status = exc.code\n"
        f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules), 'STATUS', status)\n"
    )
    proc = _run_python(code)
    assert "HEAVY [] STATUS" in proc.stdout, proc.stdout + proc.stderr


def test_the_cli_module_has_one_lazy_import():
    """Subcommands are loaded in one place (dispatch), not by imports scattered over functions."""
    import ast
    import inspect

    import fmnist.course.cli as cli

    tree = ast.parse(inspect.getsource(cli))
    nested = [node for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef)
              for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))]  # fmt: skip
    assert nested == []
    assert inspect.getsource(cli).count("importlib.import_module(") == 1
    handlers = {name: p.get_default("handler") for name, p in
                next(a for a in build_parser()._actions if a.dest == "command").choices.items()}  # fmt: skip
    assert all(h and ":" in h for h in handlers.values()), handlers
    import importlib

    for handler in set(handlers.values()):  # every handler names a real function
        module, _, function = handler.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), handler


def test_parser_copies_agree_with_their_sources():
    from fmnist.backend import BACKENDS
    from fmnist.course.cli import BACKENDS as CLI_BACKENDS, RECIPES, SPEEDRUN_RECIPES
    from fmnist.course.experiments import RECIPES as EXPERIMENT_RECIPES
    from fmnist.recipes import RECIPES as TIMED_RECIPES

    assert CLI_BACKENDS == BACKENDS and RECIPES == EXPERIMENT_RECIPES
    assert SPEEDRUN_RECIPES == tuple(TIMED_RECIPES)


def test_backend_option_sets_keras_backend_before_keras_loads():
    code = (
        "import sys\nfrom fmnist.course.cli import main\n"
        "status = main(['--backend', 'jax', 'evaluate', 'missing.keras'])\n"
        "import keras, os\n"
        "print('BACKEND', keras.backend.backend(), os.environ['KERAS_BACKEND'], 'STATUS', status)\n"
    )
    proc = _run_python(code, {"KERAS_BACKEND": "tensorflow"})  # the option wins over the variable
    assert "BACKEND jax jax STATUS 2" in proc.stdout, proc.stdout + proc.stderr
    assert "missing.keras does not exist" in proc.stderr


def test_backend_option_refuses_a_keras_already_loaded_with_another_backend(capsys, monkeypatch):
    import keras

    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    active = keras.backend.backend()
    other = next(b for b in ("tensorflow", "jax", "torch") if b != active)
    assert main(["--backend", other, "evaluate", "missing.keras"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert f"fmnist evaluate: error: --backend {other}: Keras is already imported with the {active} backend" in err
    assert main(["--backend", active, "evaluate", "missing.keras"]) == EXIT_ERROR  # same backend: runs
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["--backend", "theano", "data", "info"])
    assert info.value.code == 2
