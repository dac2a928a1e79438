"""The benchmark harness: a tiny run writes valid JSON with the documented fields.

No timing assertions (the CPUs are shared): only that every measurement ran and produced
finite, positive numbers in the documented places.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys

import pytest

from fmnist.course.benchmark import BenchmarkConfig, Variant, add_benchmark_parser, config_from_args
from fmnist.course.benchmark.cli import main
from fmnist.course.benchmark.flops import count_flops
from fmnist.course.benchmark.keras_runs import resolve_presets
from fmnist.course.benchmark.measure import epoch_cpu_per_wall, epoch_fields, steady_throughput, summarize
from fmnist.course.benchmark.output import format_report
from fmnist.course.benchmark.torch_ref import torch_status

TOP_LEVEL = {
    "schema", "started", "finished", "duration_s", "command", "config", "machine", "data",
    "defaults", "gemm", "flops", "training", "ratios", "inference", "regression", "torch",
    "memory", "notes", "raw",
}  # fmt: skip
STATS = {"median", "min", "max", "spread_pct", "n", "values"}
PRESETS = ("mlp_medium", "cnn_medium")


def _strict_json(text: str):
    def reject(token):
        raise AssertionError(f"non-standard JSON constant {token}")

    return json.loads(text, parse_constant=reject)


#: The tests of ``tiny_run`` share one xdist worker, so the benchmark (about 20 s) runs once.
TINY_RUN_GROUP = pytest.mark.xdist_group("benchmark_tiny_run")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny benchmark through the command-line entry point (shared by the tests below)."""
    out = tmp_path_factory.mktemp("bench") / "nested" / "bench.json"
    argv = ["--tiny", "--presets", ",".join(PRESETS), "--out", str(out)]
    from io import StringIO
    from contextlib import redirect_stdout

    buffer = StringIO()
    with redirect_stdout(buffer):
        status = main(argv)
    return status, out, buffer.getvalue()


def _is_pos(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.slow
@TINY_RUN_GROUP
def test_tiny_run_writes_documented_json(tiny_run):
    status, out, _ = tiny_run
    assert status == 0
    result = _strict_json(out.read_text())
    assert TOP_LEVEL <= set(result)
    assert result["schema"] == "fmnist-benchmark/1"
    assert result["config"]["tiny"] is True and result["data"]["source"] == "synthetic"
    assert not list(out.parent.glob(".*.part"))  # atomic write left no temporary file

    from fmnist.course.report import machine_summary

    machine = result["machine"]
    assert machine["summary"] == machine_summary()
    assert machine["logical_cores"] >= 1 and len(machine["load_avg_start"]) == 3


@pytest.mark.slow
@TINY_RUN_GROUP
def test_training_rows_cover_every_preset_and_method(tiny_run):
    result = _strict_json(tiny_run[1].read_text())
    rows = {(r["preset"], r["method"]): r for r in result["training"]}
    torch_on = result["torch"]["available"]
    for preset in PRESETS:
        methods = {"keras_default", "keras_naive"} | ({"torch"} if torch_on else set())
        assert {m for p, m in rows if p == preset} == methods
        default = rows[(preset, "keras_default")]
        assert default["batch_size"] == result["defaults"]["batch_size"]
        assert rows[(preset, "keras_naive")]["batch_size"] == 32
        for row in (r for (p, _), r in rows.items() if p == preset):
            for key in ("images_per_sec", "first_epoch_s", "steady_epoch_s", "gflops", "pct_of_gemm_peak",
                        "cpu_per_wall", "cpu_ms_per_image"):
                assert STATS <= set(row[key]), key
                assert _is_pos(row[key]["median"]), (preset, row["method"], key)
            assert _is_pos(row["rss_peak_mb"]) and _is_pos(row["train_gflop_per_image"])
    assert len(result["raw"]["training"]) == len(rows) * result["data"]["repeats"]
    for run in result["raw"]["training"]:
        assert len(run["epoch_cpu_per_wall"]) == len(run["epoch_times"]) == result["data"]["epochs"]
        assert all(_is_pos(v) for v in run["epoch_cpu_per_wall"]), run["method"]


@pytest.mark.slow
@TINY_RUN_GROUP
def test_ratios_inference_regression_gemm_sections(tiny_run):
    result = _strict_json(tiny_run[1].read_text())
    comparisons = {(r["preset"], r["comparison"]) for r in result["ratios"]}
    for preset in PRESETS:
        assert (preset, "keras_default / keras_naive") in comparisons
    cnn = next(r for r in result["ratios"] if r["preset"] == "cnn_medium" and r["denominator"] == "keras_naive")
    assert cnn["target"] == 1.7 and isinstance(cnn["meets_target"], bool)
    assert {r["preset"] for r in result["inference"]} == set(PRESETS)
    assert all(_is_pos(r["images_per_sec"]["median"]) for r in result["inference"])
    configs = {c["config"]: c for c in result["regression"]["configs"]}
    assert set(configs) == {"fit_numpy_bs32", "fit_numpy_full_batch", "train_default", "train_bs32",
                            "fit_dataset_repeat10", "graph_loop_full_batch"}  # fmt: skip
    assert configs["fit_numpy_bs32"]["steps_per_epoch"] == 4 and configs["train_default"]["steps_per_epoch"] == 1
    assert all(_is_pos(c["epoch_ms"]["median"]) for c in configs.values())
    assert _is_pos(result["gemm"]["peak_gflops"]) and result["gemm"]["n"] == 256
    assert result["flops"]["cnn_medium"]["train_flops"] == 3 * result["flops"]["cnn_medium"]["forward_flops"]
    if not result["torch"]["available"]:
        assert "not importable" in result["torch"]["note"]


@pytest.mark.slow
@TINY_RUN_GROUP
def test_printed_table_and_format_report_round_trip(tiny_run):
    _, out, printed = tiny_run
    for heading in ("Training throughput", "Speed-ups", "Inference", "Regression net", "GEMM", str(out)):
        assert heading in printed
    result = _strict_json(out.read_text())
    assert "keras_naive" in format_report(result)  # the JSON alone is enough to print the tables


# ---------------------------------------------------------------------------- pure pieces
def test_count_flops_matches_hand_count():
    from fmnist.model import build_model

    mlp = count_flops(build_model("mlp_medium"))
    assert mlp["macs"] == 784 * 128 + 128 * 128 + 128 * 10
    assert [layer["name"] for layer in mlp["layers"]] == ["hidden_1", "hidden_2", "output"]
    cnn = count_flops(build_model("cnn_medium"))
    # conv 3x3 'same': 28x28x32 outputs x 9 x 1, then 14x14x64 x 9 x 32; dense 7*7*64 -> 10
    assert cnn["macs"] == 28 * 28 * 32 * 9 + 14 * 14 * 64 * 9 * 32 + 7 * 7 * 64 * 10
    assert cnn["forward_flops"] == 2 * cnn["macs"] and cnn["train_flops"] == 6 * cnn["macs"]
    with pytest.raises(TypeError, match="keras.Model"):
        count_flops("cnn_medium")


def test_summarize_and_steady_throughput():
    stats = summarize([4.0, 2.0, float("nan"), 3.0])
    assert (stats["median"], stats["min"], stats["max"], stats["n"]) == (3.0, 2.0, 4.0, 3)
    assert stats["spread_pct"] == pytest.approx(100 * 2 / 3)
    assert summarize([])["median"] is None
    assert steady_throughput(100, [10.0, 1.0, 1.0]) == pytest.approx(100.0)
    assert math.isnan(steady_throughput(100, [1.0]))
    ratios = epoch_cpu_per_wall([2.0, 1.0, 0.0], [3.9, 1.04, 0.5])
    assert ratios[:2] == pytest.approx([1.95, 1.04]) and math.isnan(ratios[2])
    fields = epoch_fields(100, [10.0, 1.0, 3.0], [12.0, 2.0, 3.0])  # epoch 1 (tracing) left out
    assert fields["epochs"] == 3 and fields["first_epoch_s"] == 10.0 and fields["steady_epoch_s"] == 2.0
    assert fields["images_per_sec"] == pytest.approx(50.0) and fields["cpu_per_wall"] == pytest.approx(1.25)
    assert fields["cpu_ms_per_image"] == pytest.approx(25.0) and fields["epoch_cpu_per_wall"] == [1.2, 2.0, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": 1}, ValueError, "epochs must be an int >= 2"),
        ({"repeats": 0}, ValueError, "repeats"),
        ({"samples": 8}, ValueError, "samples"),
        ({"data": "imagenet"}, ValueError, "auto, real, synthetic"),
        ({"presets": "cnn_medium"}, TypeError, "sequence of preset names"),
        ({"presets": ()}, ValueError, "must not be empty"),
        ({"variants": ("batch=3",)}, ValueError, "batch_size"),
        ({"torch_threads": (0,)}, ValueError, "torch_threads"),
        # one variant twice would be measured twice per repeat and mix its statistics
        ({"variants": ("bs=256", "batch_size=256")}, ValueError, r"variants repeat keras_default\[bs=256\]"),
        ({"variants": (Variant(),)}, ValueError, "a variant must set at least one of batch_size"),
        ({"variants": "bs=256"}, TypeError, "sequence of Variant"),
        ({"out": 3}, TypeError, "out must be a file path"),
    ],
)
def test_config_rejects_bad_values(kwargs, error, match):
    with pytest.raises(error, match=match):
        BenchmarkConfig(**kwargs)


def test_unknown_and_regression_presets_are_rejected():
    with pytest.raises(KeyError, match="valid presets"):
        resolve_presets(BenchmarkConfig(presets=("no_such_net",)).presets)
    with pytest.raises(ValueError, match="regression section"):
        resolve_presets(("regression_2layer",))
    every = resolve_presets(BenchmarkConfig().presets)
    assert "cnn_medium" in every and "regression_2layer" not in every


def test_ratios_are_paired_within_repeats():
    from fmnist.course.benchmark.runner import _ratios

    ips = {("keras_default", 0): 300.0, ("keras_naive", 0): 100.0, ("keras_default", 1): 200.0,
           ("keras_naive", 1): 200.0, ("keras_default[spe=1]", 0): 150.0, ("torch", 1): 100.0}
    records = [{"preset": "cnn_medium", "method": m, "repeat": r, "images_per_sec": v, "cpu_ms_per_image": 1000 / v}
               for (m, r), v in ips.items()]  # fmt: skip
    rows = {r["comparison"]: r for r in _ratios(records, ["cnn_medium"])}
    assert rows["keras_default / keras_naive"]["ratio"]["values"] == [3.0, 1.0]
    assert rows["keras_default / keras_naive"]["meets_target"] is True  # median 2.0 >= 1.7
    assert rows["keras_default / keras_naive"]["cpu_ratio"]["values"] == pytest.approx([3.0, 1.0])
    assert rows["keras_default / torch"]["ratio"]["values"] == [2.0]  # only repeat 1 has both
    assert rows["keras_default[spe=1] / keras_default"]["ratio"]["median"] == 0.5
    assert rows["keras_default[spe=1] / keras_default"]["target"] is None


def test_ratios_against_the_naive_run_with_tensorflow_defaults():
    from fmnist.course.benchmark.keras_runs import NAIVE_TF_DEFAULTS
    from fmnist.course.benchmark.runner import _ratios

    ips = {"keras_default": 300.0, "keras_naive": 200.0, NAIVE_TF_DEFAULTS: 100.0}
    records = [{"preset": "cnn_medium", "method": m, "repeat": 0, "images_per_sec": v, "cpu_ms_per_image": 1000 / v}
               for m, v in ips.items()]  # fmt: skip
    rows = {r["comparison"]: r for r in _ratios(records, ["cnn_medium"])}
    assert set(rows) == {"keras_default / keras_naive", f"keras_default / {NAIVE_TF_DEFAULTS}",
                         f"keras_naive / {NAIVE_TF_DEFAULTS}"}  # fmt: skip
    assert rows[f"keras_default / {NAIVE_TF_DEFAULTS}"]["ratio"]["median"] == 3.0
    assert rows[f"keras_default / {NAIVE_TF_DEFAULTS}"]["meets_target"] is True
    assert rows["keras_default / keras_naive"]["meets_target"] is False  # 1.5 < 1.7
    assert rows[f"keras_naive / {NAIVE_TF_DEFAULTS}"]["target"] is None  # oneDNN's share: no target


def _clean_tf_onednn_default() -> bool:
    """What TensorFlow decides about oneDNN in a process without TF_ENABLE_ONEDNN_OPTS."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    code = "import tensorflow\nfrom fmnist.course.benchmark.measure import onednn_enabled\nprint(onednn_enabled())"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.slow
def test_naive_run_with_tensorflow_defaults_runs_in_a_fresh_process():
    import os
    import tempfile
    from pathlib import Path

    import numpy as np

    from fmnist.course.benchmark.keras_runs import NAIVE_TF_DEFAULTS, run_keras_naive_tf_defaults

    before = set(Path(tempfile.gettempdir()).glob("fmnist-naive-*"))
    parent_setting = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    x = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    rec = run_keras_naive_tf_defaults("mlp_medium", x, np.arange(64) % 10, epochs=2, batch_size=32)
    assert rec["method"] == NAIVE_TF_DEFAULTS and rec["preset"] == "mlp_medium"
    assert rec["params"] == 118_282 and rec["batch_size"] == 32 and rec["images_per_sec"] > 0
    # The child ran with TensorFlow's own choice, not with the setting `import fmnist` made here.
    assert parent_setting == "1" or parent_setting is None
    assert rec["onednn_enabled"] is _clean_tf_onednn_default()
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") == parent_setting
    assert set(Path(tempfile.gettempdir()).glob("fmnist-naive-*")) == before  # temp dir removed


def test_naive_run_with_tensorflow_defaults_reports_a_failed_child(monkeypatch):
    import numpy as np

    from fmnist.course.benchmark import keras_runs

    monkeypatch.setattr(keras_runs, "_CHILD_CODE", "import sys\nsys.exit('boom: no such thing')")
    x = np.zeros((32, 784), np.float32)
    with pytest.raises(RuntimeError, match=r"failed in its child process \(exit status 1\): boom"):
        keras_runs.run_keras_naive_tf_defaults("mlp_medium", x, np.zeros(32, int), epochs=2)


def test_fused_variant_builds_keras_batch_norm_in_cnns_only():
    import keras
    import numpy as np

    from fmnist.course.benchmark.keras_runs import run_keras_default

    rng = np.random.default_rng(0)
    x, y = rng.random((64, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 64)
    rec, model = run_keras_default("cnn_best", x, y, epochs=2, batch_size=32, fused_batch_norm=0)
    assert type(model.get_layer("bn_1")) is keras.layers.BatchNormalization
    assert type(run_keras_default("cnn_best", x, y, 2, batch_size=32)[1].get_layer("bn_1")).__name__ == (
        "FusedBatchNormalization"
    )
    mlp = run_keras_default("mlp_best", x.reshape(64, -1), y, 2, batch_size=32, fused_batch_norm=0)[1]
    assert mlp.count_params() > 0  # ignored for MLPs instead of failing


def test_variant_parsing():
    assert Variant.parse("bs=256, spe=8") == Variant(batch_size=256, steps_per_execution=8)
    assert Variant.parse("steps_per_execution=1").name == "keras_default[spe=1]"
    assert Variant.parse("fused=0") == Variant(fused_batch_norm=0)
    assert Variant.parse("fused=0").name == "keras_default[fused=0]"
    for bad in ("", "bs=0", "lr=3", "bs=abc", "fused=2"):
        with pytest.raises(ValueError):
            Variant.parse(bad)
    with pytest.raises(ValueError, match="at least one of"):
        Variant().validate()


def test_cli_wiring_and_bad_input(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="fmnist")
    add_benchmark_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["benchmark", "--tiny", "--repeats", "2", "--presets", "all", "--no-torch",
                              "--torch-threads", "0", "1"])  # fmt: skip
    assert BenchmarkConfig().tiny is False  # a field, not shadowed by a classmethod
    json.dumps(BenchmarkConfig(variants=("bs=64",)).as_dict())
    cfg = config_from_args(args)
    assert cfg.tiny and cfg.repeats == 2 and cfg.presets is None and cfg.torch is False
    assert cfg.torch_threads == (None, 1)
    assert cfg.naive_tf_defaults is False  # --tiny: no child process
    assert BenchmarkConfig().naive_tf_defaults is True
    assert config_from_args(parser.parse_args(["benchmark", "--no-tf-defaults"])).naive_tf_defaults is False
    assert cfg.samples == BenchmarkConfig.tiny_defaults()["samples"]
    assert args.handler == "fmnist.course.benchmark.cli:run_from_args"
    # Bad input: exit status 2 with one line naming the problem (before any training).
    assert main(["--tiny", "--epochs", "1", "--out", str(tmp_path / "x.json")]) == 2
    assert "epochs must be an int >= 2" in capsys.readouterr().err
    assert main(["--tiny", "--presets", "no_such_net", "--out", str(tmp_path / "x.json")]) == 2
    assert "unknown preset 'no_such_net'" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_unwritable_out_is_rejected_before_any_measurement(tmp_path, monkeypatch, capsys):
    from fmnist.course.benchmark import runner
    from fmnist.course.benchmark.runner import run_benchmark

    def measure(*args, **kwargs):
        raise AssertionError("measured before checking where the JSON goes")

    monkeypatch.setattr(runner, "benchmark_data", measure)
    with pytest.raises(ValueError, match="is a directory; pass the JSON file path"):
        run_benchmark(BenchmarkConfig.make_tiny(out=tmp_path, torch=False), log=lambda line: None)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ValueError, match="cannot create the directory of out"):
        run_benchmark(BenchmarkConfig.make_tiny(out=tmp_path / "a_file" / "b.json", torch=False), log=lambda line: None)
    assert main(["--tiny", "--no-torch", "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_torch_missing_gives_a_note(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    module, note = torch_status()
    assert module is None and "not importable" in note


def _torch_or_skip():
    """PyTorch through ``torch_status`` (never a bare import: see its docstring), or skip."""
    module, note = torch_status()
    if module is None:
        pytest.skip(note)
    return module


def test_torch_translation_has_the_same_trainable_parameters():
    _torch_or_skip()
    from fmnist.course.benchmark.torch_ref import keras_to_torch, keras_trainable_params
    from fmnist.model import build_model

    for preset in ("cnn_medium", "mlp_medium", "cnn_large", "cnn_best", "mlp_best"):
        model = build_model(preset)
        net = keras_to_torch(model)
        assert sum(p.numel() for p in net.parameters()) == keras_trainable_params(model), preset


def test_torch_reference_runs_after_tensorflow_in_one_process():
    # A fresh interpreter that has loaded TensorFlow first, as `fmnist benchmark` does: with
    # triton importable this used to die with a segmentation fault (no Python error to catch).
    if importlib.util.find_spec("torch") is None:
        pytest.skip("PyTorch is not installed (optional extra 'bench')")
    code = (
        "import numpy as np, tensorflow\n"
        "from fmnist.course.benchmark.torch_ref import run_torch\n"
        "x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)\n"
        "y = np.arange(64) % 10\n"
        "rec = run_torch('cnn_medium', x, y, epochs=2, batch_size=32)\n"
        "assert rec['images_per_sec'] > 0 and rec['params'] == 50186, rec\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


# --- fmnist benchmark --backends -------------------------------------------------------------


def _fake_child(backend, spec, timeout=None):
    """A child record as backend_child writes it, with made-up speeds (tensorflow 1,000 img/s,
    jax 2,000, torch 500; regression 10 / 2 / 40 ms per epoch), shifted per call."""
    speed = {"tensorflow": 1000.0, "jax": 2000.0, "torch": 500.0}[backend]
    _fake_child.calls.append((backend, tuple(spec["presets"])))
    drift = 1.0 + 0.01 * len(_fake_child.calls)
    training = [{"preset": p, "params": 10, "batch_size": spec["batch_size"], "steps_per_execution": 1,
                 "jit_compile": backend == "jax", "images_per_sec": speed * drift, "first_epoch_s": 2.0,
                 "steady_epoch_s": 1.0, "cpu_per_wall": 1.9} for p in spec["presets"]]  # fmt: skip
    ms = {"tensorflow": 10.0, "jax": 2.0, "torch": 40.0}[backend]
    return {"backend": backend, "pid": 1, "cpu_model": "Test CPU", "data_source": "synthetic",
            "versions": {"keras": "3", "tensorflow": "2", "jax": "0.1", "jaxlib": "0.1", "torch": "2"},
            "compile_overrides": {"jit_compile": True} if backend == "jax" else {},
            "training": training, "wall_s": 1.0,
            "regression": {"preset": "regression_2layer", "points": 100, "epochs_timed": 3,
                           "steps_per_execution": 1, "jit_compile": False, "epoch_ms": ms * drift,
                           "first_epoch_ms": 50.0}}  # fmt: skip


def test_backends_option_parses_and_validates():
    parser = argparse.ArgumentParser(prog="fmnist")
    add_benchmark_parser(parser.add_subparsers(dest="command"))
    cfg = config_from_args(parser.parse_args(["benchmark", "--backends", "tensorflow", "jax", "jax"]))
    assert cfg.backends == ("tensorflow", "jax") and cfg.presets == ("cnn_medium", "cnn_best")
    assert config_from_args(parser.parse_args(["benchmark", "--backends", "torch", "--presets", "mlp_medium"])
                            ).presets == ("mlp_medium",)  # fmt: skip
    with pytest.raises(SystemExit):
        parser.parse_args(["benchmark", "--backends", "theano"])
    with pytest.raises(ValueError, match="backends must be one or more of tensorflow, jax, torch"):
        BenchmarkConfig(backends=("mxnet",))
    with pytest.raises(TypeError, match="not one string"):
        BenchmarkConfig(backends="jax")


def test_backends_run_interleaves_children_and_writes_ratios(tmp_path, monkeypatch):
    from fmnist.course.benchmark import backends

    _fake_child.calls = []
    monkeypatch.setattr(backends, "run_child", _fake_child)
    out = tmp_path / "deep" / "backends.json"
    lines = []
    cfg = BenchmarkConfig(backends=("tensorflow", "jax", "torch"), presets=("cnn_medium", "cnn_best"),
                          samples=256, epochs=2, repeats=2, out=out)  # fmt: skip
    result = backends.run_backends(cfg, log=lines.append, argv=["fmnist", "benchmark"])
    # one child per backend and repeat; reversed order (backends and presets) on the odd repeat
    assert _fake_child.calls == [
        ("tensorflow", ("cnn_medium", "cnn_best")), ("jax", ("cnn_medium", "cnn_best")),
        ("torch", ("cnn_medium", "cnn_best")), ("torch", ("cnn_best", "cnn_medium")),
        ("jax", ("cnn_best", "cnn_medium")), ("tensorflow", ("cnn_best", "cnn_medium")),
    ]  # fmt: skip
    saved = _strict_json(out.read_text())
    assert saved["schema"] == "fmnist-benchmark-backends/1" and saved["reference"] == "tensorflow"
    assert saved["command"] == ["fmnist", "benchmark"] and saved["machine"]["cpu_model"]
    assert set(saved["versions"]) >= {"keras", "tensorflow", "jax", "torch"}
    tf_ips = saved["backends"]["tensorflow"]["training"]["cnn_medium"]["images_per_sec"]
    assert set(tf_ips) == STATS and tf_ips["n"] == 2 and len(tf_ips["values"]) == 2
    jax_ratio = saved["ratios"]["jax"]["cnn_best"]["images_per_sec"]["median"]
    assert 1.9 < jax_ratio < 2.1  # paired within the repeat, drift cancels
    assert 4.5 < saved["ratios"]["jax"]["regression_speed"]["median"] < 5.5
    assert saved["backends"]["jax"]["regression"]["epoch_ms"]["n"] == 2
    assert any("jax: compile_model's defaults overridden" in n for n in saved["notes"])
    assert len(saved["raw"]) == 6 and not list(out.parent.glob(".*.part"))
    table = lines[-1]
    assert "tensorflow" in table and "jax" in table and "torch" in table and "(2.0" in table
    assert "regression_2layer ms/epoch" in table and "Test CPU" in table or "CPU:" in table
    assert result["out"] == str(out)


def test_backends_child_failure_is_reported(monkeypatch):
    from fmnist.course.benchmark import backends

    monkeypatch.setattr(backends, "CHILD_MODULE", "fmnist.no_such_module")
    with pytest.raises(RuntimeError, match="the jax child process failed .*No module named"):
        backends.run_child("jax", {})


@pytest.mark.slow
def test_backends_really_run_in_their_own_processes(tmp_path):
    """Two tiny children for real: each reports the backend its KERAS_BACKEND named."""
    from fmnist.course.benchmark.backends import run_backends

    cfg = BenchmarkConfig(backends=("tensorflow", "jax"), presets=("mlp_shallow",), samples=256,
                          epochs=2, repeats=1, data="synthetic", regression_epochs=2,
                          out=tmp_path / "b.json")  # fmt: skip
    result = run_backends(cfg, log=lambda line: None)
    assert [r["backend"] for r in result["raw"]] == ["tensorflow", "jax"]
    assert len({r["pid"] for r in result["raw"]}) == 2
    jax = result["backends"]["jax"]
    assert jax["training"]["mlp_shallow"]["jit_compile"] is True  # never un-jitted
    for b in ("tensorflow", "jax"):
        assert _is_pos(result["backends"][b]["training"]["mlp_shallow"]["images_per_sec"]["median"])
        assert _is_pos(result["backends"][b]["regression"]["epoch_ms"]["median"])


def test_children_import_the_parents_fmnist_from_any_directory(tmp_path, monkeypatch):
    import fmnist
    from fmnist.course.benchmark.child_process import child_env

    monkeypatch.setenv("PYTHONPATH", "/an/earlier/setting")
    env = child_env(KERAS_BACKEND="jax")
    assert env["KERAS_BACKEND"] == "jax" and env["PYTHONPATH"].endswith(":/an/earlier/setting")
    assert child_env({"A": "1"}, B="2").keys() == {"A", "B", "PYTHONPATH"}
    code = "import fmnist; print(fmnist.__file__)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == fmnist.__file__
