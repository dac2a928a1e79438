"""``fmnist benchmark --against-torch``: the aggregation on hand-made records, the orchestration
with stand-in children, and one real tiny run whose PyTorch children never load TensorFlow.

No timing assertions (the CPUs are shared): only the pairing, the choice of the fastest loop,
the skip rule, the peak matching and that the real run produced the documented fields.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from contextlib import redirect_stdout
from io import StringIO

import pytest

from fmnist.backend import choose_precision, cpu_flags
from fmnist.course.benchmark import BenchmarkConfig, add_benchmark_parser, config_from_args
from fmnist.course.benchmark import throughput
from fmnist.course.benchmark.cli import main
from fmnist.course.benchmark.throughput import (
    FMNIST_METHOD, TORCH_VARIANTS, gemm_summary, plan_methods, ratio_rows, repeat_order, summarize_throughput,
    training_rows,
)  # fmt: skip

STATS = {"median", "min", "max", "spread_pct", "n", "values"}
FLOPS = {"cnn_medium": {"train_flops": 2e7}, "cnn_best": {"train_flops": 1e8}}


def _strict_json(text: str):
    def reject(token):
        raise AssertionError(f"non-standard JSON constant {token}")

    return json.loads(text, parse_constant=reject)


def _rec(preset, method, repeat, ips, precision=None):
    bf16 = TORCH_VARIANTS.get(method, (False, False))[1]
    return {"preset": preset, "method": method, "repeat": repeat, "images_per_sec": ips, "params": 10,
            "precision": precision or ("bfloat16" if bf16 else "float32"), "batch_size": 128,
            "first_epoch_s": 2.0, "steady_epoch_s": 1.0, "cpu_per_wall": 1.9, "cpu_ms_per_image": 1.0}  # fmt: skip


def _gemm(float32=100.0, bfloat16=200.0, repeat=0):
    g = {"n": 64, "repeat": repeat, "numpy_float32": [float32 / 2], "tensorflow_float32": [float32, float32 * 0.9],
         "torch_float32": [float32 * 0.8]}  # fmt: skip
    if bfloat16:
        g.update(tensorflow_bfloat16=[bfloat16 * 0.9], torch_bfloat16=[bfloat16])
    return g


def test_plan_methods_skips_the_bfloat16_loops_without_the_flags():
    methods, skipped = plan_methods({"avx2", "fma"})
    assert methods == [FMNIST_METHOD, "torch", "torch_channels_last"]
    assert [s["method"] for s in skipped] == ["torch_bf16", "torch_bf16_channels_last"]
    assert all("avx512_bf16" in s["reason"] and "amx_bf16" in s["reason"] for s in skipped)
    for flags in ({"avx2", "avx512_bf16"}, {"amx_bf16"}):
        methods, skipped = plan_methods(flags)
        assert methods == [FMNIST_METHOD, *TORCH_VARIANTS] and skipped == []


def test_repeats_alternate_forward_and_reversed():
    jobs = [("a", "fmnist"), ("a", "torch"), ("b", "fmnist")]
    assert repeat_order(jobs, 0) == jobs and repeat_order(jobs, 2) == jobs
    assert repeat_order(jobs, 1) == jobs[::-1]


def test_ratio_is_against_the_fastest_loop_by_median_and_paired_within_repeats():
    # Repeat 1 runs at half speed for everyone (drift): paired ratios do not see it. The
    # bf16 channels-last loop is fastest by median although plain bf16 wins repeat 2.
    speeds = {FMNIST_METHOD: [1000, 500, 1000], "torch": [400, 200, 400], "torch_channels_last": [500, 250, 500],
              "torch_bf16": [700, 350, 900], "torch_bf16_channels_last": [800, 400, 850]}  # fmt: skip
    records = [_rec("cnn_medium", m, rep, v) for m, vals in speeds.items() for rep, v in enumerate(vals)]
    records += [_rec("cnn_best", FMNIST_METHOD, rep, 100.0, "bfloat16") for rep in range(3)]
    records += [_rec("cnn_best", "torch", rep, 90.0) for rep in range(3)]
    result = summarize_throughput(records, [_gemm()], ("cnn_medium", "cnn_best"), [FMNIST_METHOD, "torch"], [], FLOPS)
    medium, best = result["ratios"]
    assert medium["fastest_torch"] == "torch_bf16_channels_last"
    assert medium["comparison"] == "fmnist / torch_bf16_channels_last"
    assert medium["ratio"]["values"] == pytest.approx([1.25, 1.25, 1000 / 850])
    assert medium["ratio"]["median"] == pytest.approx(1.25) and medium["meets_target"] is True
    assert set(medium["vs"]) == set(TORCH_VARIANTS)
    assert medium["vs"]["torch"]["values"] == pytest.approx([2.5, 2.5, 2.5])
    assert best["fastest_torch"] == "torch" and best["ratio"]["median"] == pytest.approx(100 / 90)
    assert best["meets_target"] is False and result["meets_target"] is False
    assert medium["peak_aim_pct"] is None and best["peak_aim_pct"] == 50.0
    # cnn_best: 100 img/s x 0.1 GFLOP = 10 GFLOP/s of a 200 GFLOP/s bfloat16 peak
    assert best["fmnist_pct_of_peak"]["median"] == pytest.approx(5.0) and best["meets_peak_aim"] is False


def test_a_preset_without_pairs_leaves_the_verdict_open():
    records = [_rec("cnn_medium", FMNIST_METHOD, 0, 1000.0), _rec("cnn_medium", "torch", 0, 500.0)]
    result = summarize_throughput(records, [_gemm()], ("cnn_medium", "cnn_best"), [], [], FLOPS)
    assert [r["preset"] for r in result["ratios"]] == ["cnn_medium"]
    assert result["meets_target"] is None  # cnn_best was not measured: no verdict


def test_percent_of_peak_uses_the_peak_of_the_runs_precision():
    gemm = [_gemm(100.0, 200.0, 0), _gemm(120.0, 180.0, 1)]
    summary = gemm_summary(gemm)
    assert summary["peaks"] == {"float32": 120.0, "bfloat16": 200.0}  # best single matmul, any source
    assert summary["sources"]["tensorflow_float32"]["values"] == [100.0, 120.0]  # each repeat's best
    assert set(summary["sources"]["torch_bfloat16"]) == STATS
    records = [_rec("cnn_medium", FMNIST_METHOD, 0, 1000.0, "bfloat16"), _rec("cnn_medium", "torch", 0, 1000.0),
               _rec("cnn_medium", "torch_bf16", 0, 1000.0), _rec("cnn_best", FMNIST_METHOD, 0, 600.0, "float32")]
    rows = {(r["preset"], r["method"]): r for r in training_rows(records, FLOPS, summary["peaks"])}
    # 1000 img/s x 0.02 GFLOP = 20 GFLOP/s
    assert rows[("cnn_medium", FMNIST_METHOD)]["pct_of_peak"]["median"] == pytest.approx(10.0)  # of 200
    assert rows[("cnn_medium", "torch_bf16")]["peak_gflops"] == 200.0
    assert rows[("cnn_medium", "torch")]["pct_of_peak"]["median"] == pytest.approx(100 * 20 / 120)
    assert rows[("cnn_best", FMNIST_METHOD)]["pct_of_peak"]["median"] == pytest.approx(50.0)  # 60 of 120
    assert rows[("cnn_best", FMNIST_METHOD)]["gflops"]["median"] == pytest.approx(60.0)
    # no bfloat16 peak measured (a CPU without bfloat16): a bfloat16 row has no percentage
    no_bf16 = gemm_summary([_gemm(100.0, None)])
    assert no_bf16["peaks"] == {"float32": 100.0, "bfloat16": None}
    (row,) = training_rows(records[:1], FLOPS, no_bf16["peaks"])
    assert row["pct_of_peak"]["n"] == 0 and row["pct_of_peak"]["median"] is None
    assert ratio_rows(records[:1], [row], ["cnn_medium"]) == []  # no PyTorch loop to compare with


def _parser():
    parser = argparse.ArgumentParser(prog="fmnist")
    add_benchmark_parser(parser.add_subparsers(dest="command"))
    return parser


def test_options_defaults_tiny_and_conflicts(capsys):
    parser = _parser()
    cfg = config_from_args(parser.parse_args(["benchmark", "--against-torch"]))
    assert cfg.against_torch and cfg.presets == ("cnn_medium", "cnn_best")
    assert (cfg.data, cfg.samples, cfg.epochs, cfg.repeats) == ("auto", 8192, 3, 3)
    tiny = config_from_args(parser.parse_args(["benchmark", "--against-torch", "--tiny"]))
    assert tiny.presets == ("cnn_medium",) and tiny.data == "synthetic" and tiny.repeats == 1 and tiny.epochs == 2
    assert tiny.gemm_size == 256 and tiny.samples == 256
    chosen = config_from_args(parser.parse_args(["benchmark", "--against-torch", "--tiny", "--presets", "cnn_best"]))
    assert chosen.presets == ("cnn_best",)
    assert BenchmarkConfig.make_tiny(against_torch=True).presets == ("cnn_medium",)
    assert BenchmarkConfig.make_tiny().presets == ("mlp_medium", "cnn_medium")  # the other modes keep theirs
    for extra, named in ((["--backends", "jax"], "backends"), (["--variant", "bs=64"], "variants"),
                         (["--no-torch"], "torch=False"), (["--torch-threads", "1"], "torch_threads")):  # fmt: skip
        with pytest.raises(ValueError, match=f"cannot be combined with {named}"):
            config_from_args(parser.parse_args(["benchmark", "--against-torch", *extra]))
    assert main(["--against-torch", "--backends", "jax"]) == 2
    err = capsys.readouterr().err
    assert "--against-torch" in err and "--backends" in err and "separately" in err


def test_missing_torch_and_bad_out_fail_before_any_measurement(tmp_path, monkeypatch):
    def measure(*args, **kwargs):
        raise AssertionError("measured before checking the set-up")

    monkeypatch.setattr(throughput, "benchmark_data", measure)
    with pytest.raises(ValueError, match="is a directory"):
        throughput.run_throughput(BenchmarkConfig.make_tiny(against_torch=True, out=tmp_path), log=lambda s: None)
    monkeypatch.setitem(sys.modules, "torch", None)  # find_spec -> None: "not installed"
    with pytest.raises(RuntimeError, match=r"needs PyTorch.*pip install -e '\.\[torch\]'"):
        throughput.run_throughput(BenchmarkConfig.make_tiny(against_torch=True, out=tmp_path / "t.json"),
                                  log=lambda s: None)  # fmt: skip
    with pytest.raises(ValueError, match="against_torch=True"):
        throughput.run_throughput(BenchmarkConfig.make_tiny(), log=lambda s: None)


def _fake_child(calls):
    """Stand-in for run_child: fmnist 1,000 img/s, each PyTorch loop slower, drifting per call."""
    speed = {FMNIST_METHOD: 1000.0, "torch": 400.0, "torch_channels_last": 500.0}

    def run_child(backend, spec, timeout=None, module=None, env=None):
        drift = 1.0 + 0.01 * len(calls)
        if spec.get("job") == "gemm":
            calls.append(("gemm", backend, tuple(spec["dtypes"])))
            return {"n": spec["n"], "torch_float32": [50.0]}
        if module is None:  # backend_child: the fmnist run
            calls.append((spec["presets"][0], FMNIST_METHOD, backend, (env or {}).get("FMNIST_PRECISION")))
            rec = _rec(spec["presets"][0], FMNIST_METHOD, 0, speed[FMNIST_METHOD] * drift)
            return {"training": [rec], "precision": "float32", "data_source": "synthetic", "backend": backend,
                    "pid": len(calls), "wall_s": 1.0}  # fmt: skip
        calls.append((spec["preset"], spec["method"], backend, spec["channels_last"], spec["bf16"]))
        assert spec["expected_params"] > 0 and spec["layers"][0]["module"] == "Conv2d"
        rec = _rec(spec["preset"], spec["method"], 0, speed[spec["method"]] * drift)
        return {**rec, "pid": len(calls), "wall_s": 1.0, "imported": {"tensorflow": False, "keras": False}}

    return run_child


def test_run_interleaves_one_child_per_run_and_writes_the_json(tmp_path, monkeypatch):
    calls: list = []
    monkeypatch.setattr(throughput, "run_child", _fake_child(calls))
    monkeypatch.setattr(throughput, "cpu_flags", lambda: frozenset({"avx2"}))  # no bfloat16 here
    out = tmp_path / "deep" / "throughput.json"
    lines: list[str] = []
    cfg = BenchmarkConfig(against_torch=True, presets=("cnn_medium", "cnn_best"), samples=64, epochs=2, repeats=2,
                          data="synthetic", gemm_size=32, out=out)  # fmt: skip
    result = throughput.run_throughput(cfg, log=lines.append, argv=["fmnist", "benchmark", "--against-torch"])
    forward = [("cnn_medium", FMNIST_METHOD, "tensorflow", "auto"), ("cnn_medium", "torch", "torch", False, False),
               ("cnn_medium", "torch_channels_last", "torch", True, False),
               ("cnn_best", FMNIST_METHOD, "tensorflow", "auto"), ("cnn_best", "torch", "torch", False, False),
               ("cnn_best", "torch_channels_last", "torch", True, False)]  # fmt: skip
    gemm = ("gemm", "torch", ("float32",))
    assert calls == [gemm, *forward, gemm, *forward[::-1]]
    saved = _strict_json(out.read_text())
    assert saved["schema"] == "fmnist-benchmark-throughput/1" and not list(out.parent.glob(".*.part"))
    assert saved["command"] == ["fmnist", "benchmark", "--against-torch"] and saved["config"]["against_torch"]
    assert saved["methods"] == [FMNIST_METHOD, "torch", "torch_channels_last"]
    assert [s["method"] for s in saved["skipped"]] == ["torch_bf16", "torch_bf16_channels_last"]
    assert saved["machine"]["bf16"] is False and saved["machine"]["bf16_flags"] == []
    assert saved["gemm"]["peaks"]["bfloat16"] is None and saved["gemm"]["peaks"]["float32"] > 0
    assert "tensorflow_bfloat16" not in saved["gemm"]["sources"]
    for r in saved["ratios"]:
        assert r["fastest_torch"] == "torch_channels_last" and r["ratio"]["n"] == 2
        assert 1.9 < r["ratio"]["median"] < 2.1 and r["meets_target"] is True  # drift cancels in pairs
    assert saved["meets_target"] is True and len(saved["raw"]["training"]) == 12 and len(saved["raw"]["gemm"]) == 2
    assert all(r["process_s"] >= 0 for r in saved["raw"]["training"])
    table = lines[-1]
    assert "torch_channels_last*" in table and "fmnist / torch_channels_last" in table and str(out) in table
    assert "skipped torch_bf16:" in table and "% of peak" in table and "(aim >= 50%" in table
    assert result["out"] == str(out)


@pytest.mark.slow
def test_tiny_run_spawns_the_children_and_pytorch_never_loads_tensorflow(tmp_path):
    """``fmnist benchmark --against-torch --tiny`` for real (a fresh process per run, ~30 s)."""
    if importlib.util.find_spec("torch") is None:
        pytest.skip("PyTorch is not installed (optional extra 'torch')")
    out = tmp_path / "tiny.json"
    buffer = StringIO()
    with redirect_stdout(buffer):
        status = main(["--against-torch", "--tiny", "--out", str(out)])
    assert status == 0
    result = _strict_json(out.read_text())
    methods, skipped = plan_methods(cpu_flags())
    assert result["methods"] == methods and result["skipped"] == skipped
    assert result["data"]["source"] == "synthetic" and result["config"]["tiny"] is True
    runs = result["raw"]["training"]
    assert [r["method"] for r in runs] == methods and len({r["pid"] for r in runs}) == len(runs)
    for run in runs:
        assert math.isfinite(run["images_per_sec"]) and run["images_per_sec"] > 0, run["method"]
        if run["method"] == FMNIST_METHOD:
            assert run["backend"] == "tensorflow" and run["precision"] == choose_precision("auto", "tensorflow")
        else:
            assert run["imported"] == {"tensorflow": False, "keras": False, "torch": True}, run["method"]
            assert run["memory_format"] == ("channels_last" if "channels_last" in run["method"] else "contiguous")
    peaks = result["gemm"]["peaks"]
    assert peaks["float32"] > 0 and (peaks["bfloat16"] is not None) == result["machine"]["bf16"]
    for row in result["training"]:
        assert row["peak_gflops"] == peaks[row["precision"]] and row["pct_of_peak"]["median"] > 0
        assert row["tensorflow_imported"] is (None if row["method"] == FMNIST_METHOD else False)
    (ratio,) = result["ratios"]
    assert ratio["preset"] == "cnn_medium" and ratio["fastest_torch"] in methods
    assert set(ratio["vs"]) == set(methods) - {FMNIST_METHOD} and ratio["ratio"]["median"] > 0
    printed = buffer.getvalue()
    assert "fmnist vs PyTorch" in printed and ratio["comparison"] in printed and str(out) in printed
