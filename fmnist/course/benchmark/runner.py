"""Run every measurement, interleaved across repetitions, and aggregate the results.

Interleaving: each repetition runs every (preset, method) job once, in forward order on even
repetitions and reversed on odd ones, so slow drift of the machine (other processes, thermal
state) spreads evenly over the methods; ratios are paired within a repetition. Each
repetition also re-measures the GEMM peak and the regression overhead.

Example::

    >>> from fmnist.course.benchmark import BenchmarkConfig, run_benchmark
    >>> result = run_benchmark(BenchmarkConfig.make_tiny(out="/tmp/bench.json"))
    >>> result["ratios"][0]["comparison"]
    'keras_default / keras_naive'
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fmnist.atomic import atomic_write_text
from fmnist.backend import import_backend_quietly
from fmnist.course.benchmark.config import BenchmarkConfig, torch_method
from fmnist.course.benchmark.flops import count_flops, measure_gemm
from fmnist.course.benchmark.keras_runs import (
    NAIVE_TF_DEFAULTS, benchmark_data, default_batch_size, default_steps_per_execution, measure_inference,
    resolve_presets, run_keras_default, run_keras_naive, run_keras_naive_tf_defaults,
)  # fmt: skip
from fmnist.course.benchmark.measure import load_average, machine_info, peak_rss_mb, summarize, utc_now
from fmnist.course.benchmark.output import format_report
from fmnist.course.benchmark.regression import CONFIGS, PRESET, regression_data, run_regression_config
from fmnist.course.benchmark.torch_ref import DEFAULT_THREADS, run_torch, torch_status
from fmnist.course.paths import benchmarks_dir
from fmnist.course.profiles import get_profile
from fmnist.model import build_model, preset_layout

SCHEMA = "fmnist-benchmark/1"
#: Issue F's throughput targets on cnn_medium: (numerator, denominator) -> minimum ratio. "Naive
#: Keras" is measured twice: in this process (with the oneDNN setting of ``import fmnist``, so
#: the ratio is the input pipeline's alone) and with TensorFlow's defaults (a first tutorial).
TARGETS = {("keras_default", "keras_naive"): 1.7, ("keras_default", NAIVE_TF_DEFAULTS): 1.7,
           ("keras_default", "torch"): 1.2}  # fmt: skip
TARGET_PRESET = "cnn_medium"


def default_out_path(kind: str = "benchmark") -> Path:
    """``benchmarks/results/<kind>-<time>.json``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return benchmarks_dir() / f"{kind}-{stamp}.json"


def check_out_path(out: Path) -> Path:
    """``out`` if the JSON can be written there; checked first, not after the measurements."""
    if out.is_dir():
        raise ValueError(f"out {str(out)!r} is a directory; pass the JSON file path, e.g. {out / 'benchmark.json'}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)  # what the final atomic write would do
    except OSError as exc:
        raise ValueError(f"cannot create the directory of out {str(out)!r}: {exc}") from exc
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write out {str(out)!r}: directory {str(out.parent)!r} is not writable")
    return out


def _methods(preset: str, cfg: BenchmarkConfig, torch_ok: bool) -> list[str]:
    methods = ["keras_default", "keras_naive"] + [v.name for v in cfg.variants]
    if cfg.naive_tf_defaults:
        methods.append(NAIVE_TF_DEFAULTS)
    if torch_ok and preset in cfg.torch_presets:
        methods += [torch_method(t) for t in cfg.torch_threads]
    return methods


def _run_job(preset, method, x, y, cfg, variants, inference, repeat):
    if method == "keras_default":
        rec, model = run_keras_default(preset, x, y, cfg.epochs, cfg.seed)
        inf = measure_inference(model, x, cfg.inference_batch_size)
        inference.append({"preset": preset, "repeat": repeat, **inf})
        return rec
    if method == "keras_naive":
        return run_keras_naive(preset, x, y, cfg.epochs, cfg.seed, cfg.naive_batch_size)[0]
    if method == NAIVE_TF_DEFAULTS:
        return run_keras_naive_tf_defaults(preset, x, y, cfg.epochs, cfg.seed, cfg.naive_batch_size)
    if method.startswith("torch"):
        threads = {torch_method(t): t for t in cfg.torch_threads}[method]
        rec = run_torch(preset, x, y, cfg.epochs, default_batch_size(), cfg.seed, threads)
        return {**rec, "method": method}
    v = variants[method]
    return run_keras_default(preset, x, y, cfg.epochs, cfg.seed, v.batch_size, v.steps_per_execution, method,
                             v.fused_batch_norm)[0]  # fmt: skip


def run_benchmark(
    config: BenchmarkConfig | None = None,
    log: Callable[[str], Any] = print,
    argv: list[str] | None = None,
) -> dict[str, Any]:
    """Run the benchmark, write the JSON (atomically), print the tables; return the result.

    Args:
        config: what to measure (default :class:`BenchmarkConfig`); ``config.out`` is the
            JSON path (default ``benchmarks/results/benchmark-<time>.json``).
        log: progress and table printer (``print``; pass ``lambda s: None`` to silence).
        argv: the command line, recorded in the JSON.
    """
    cfg = config if config is not None else BenchmarkConfig()
    if not isinstance(cfg, BenchmarkConfig):
        raise TypeError(f"config must be a BenchmarkConfig, got {type(cfg).__name__}")
    out = check_out_path(Path(cfg.out) if cfg.out is not None else default_out_path())
    import_backend_quietly()
    presets = resolve_presets(cfg.presets)
    started, t_start, load_start = utc_now(), time.perf_counter(), load_average()
    torch, torch_note = torch_status() if cfg.torch else (None, "disabled (--no-torch)")
    data, source = benchmark_data(presets, cfg.samples, cfg.data, cfg.seed)
    flops = {p: count_flops(build_model(p)) for p in presets}
    variants = {v.name: v for v in cfg.variants}
    jobs = [(p, m) for p in presets for m in _methods(p, cfg, torch is not None)]
    log(f"fmnist benchmark: {len(presets)} presets, {len(jobs)} jobs x {cfg.repeats} repeats, "
        f"{cfg.samples} {source} images, {cfg.epochs} epochs -> {out}")  # fmt: skip

    records, inference, gemm, regression, skipped = [], [], [], [], []
    for rep in range(cfg.repeats):
        gemm.append(measure_gemm(cfg.gemm_size, repeats=3, seed=cfg.seed))
        order = jobs if rep % 2 == 0 else jobs[::-1]
        for preset, method in order:
            if (preset, method) in {(s["preset"], s["method"]) for s in skipped}:
                continue
            x, y = data[preset_layout(preset)]
            try:
                rec = _run_job(preset, method, x, y, cfg, variants, inference, rep)
            except (NotImplementedError, RuntimeError) as exc:
                if not method.startswith("torch"):
                    raise
                skipped.append({"preset": preset, "method": method, "reason": str(exc)})
                log(f"  skipped {preset} {method}: {exc}")
                continue
            rec["repeat"] = rep
            records.append(rec)
            log(f"  [{rep + 1}/{cfg.repeats}] {preset:<13s} {method:<28s} "
                f"{rec['images_per_sec']:9,.0f} img/s  first epoch {rec['first_epoch_s']:6.2f} s  "
                f"CPU/wall {rec['cpu_per_wall']:.2f}")  # fmt: skip
        if cfg.regression:
            names = list(CONFIGS) if rep % 2 == 0 else list(CONFIGS)[::-1]
            for name in names:
                r = run_regression_config(name, cfg.regression_epochs, cfg.seed)
                regression.append({**r, "repeat": rep})
            log(f"  [{rep + 1}/{cfg.repeats}] regression overhead: {len(names)} configurations")

    peak = max(max(g["numpy"] + g["tensorflow"]) for g in gemm)
    result = {
        "schema": SCHEMA,
        "started": started,
        "finished": utc_now(),
        "duration_s": time.perf_counter() - t_start,
        "command": list(argv) if argv is not None else list(sys.argv),
        "config": cfg.as_dict(),
        "machine": {**machine_info(), "load_avg_start": load_start, "load_avg_end": load_average()},
        "data": {"source": source, "samples": cfg.samples, "epochs": cfg.epochs, "repeats": cfg.repeats},
        "defaults": {"batch_size": default_batch_size(), "steps_per_execution": default_steps_per_execution()},
        "gemm": _gemm_summary(gemm, peak),
        "flops": flops,
        "training": _training_rows(records, flops, peak),
        "ratios": _ratios(records, presets),
        "inference": _inference_rows(inference, cfg.inference_batch_size),
        "regression": _regression_summary(regression, regression_data(cfg.seed)[2]) if cfg.regression else None,
        "torch": {
            "available": torch is not None,
            "version": getattr(torch, "__version__", None),
            "default_threads": _torch_default_threads(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "note": torch_note,
            "presets": [p for p in cfg.torch_presets if p in presets] if torch is not None else [],
            "skipped": skipped,
        },
        "memory": {
            "peak_rss_mb": peak_rss_mb(),
            "note": "ru_maxrss is the process's high-water mark: each row's rss_peak_mb is the "
            "peak so far after that run (monotonic), rss_mb the resident size right after it",
        },
        "notes": _notes(source, load_start, torch_note),
        "raw": {"training": records, "inference": inference, "regression": regression},
    }
    result = json_safe(result)
    atomic_write_text(out, json.dumps(result, indent=2, allow_nan=False, default=str) + "\n")
    result["out"] = str(out)
    log(format_report(result))
    return result


def _torch_default_threads():
    return DEFAULT_THREADS.get("threads")


def _notes(source: str, load_start, torch_note) -> list[str]:
    notes = [
        "images_per_sec: steady state = samples x (epochs - 1) / time of epochs 2..N",
        "cpu_per_wall: process CPU seconds per wall second in epochs 2..N (~cores when the run "
        "had the machine to itself); cpu_ms_per_image: CPU cost, less sensitive to contention",
        "first_epoch_s includes graph tracing (and, for tf.data, filling the cache)",
        "GFLOP/s = analytic training FLOPs per image (3 x forward, Conv2D/Dense MACs only) x images/s",
    ]
    notes += context_notes(source, load_start)
    if torch_note:
        notes.append(f"PyTorch reference skipped: {torch_note}")
    return notes


def context_notes(source: str | None, load_start) -> list[str]:
    """The notes every benchmark mode adds: synthetic data, other processes on the CPUs."""
    notes = []
    if source == "synthetic":
        notes.append("synthetic images (uniform noise, random labels): throughput only, losses meaningless")
    if load_start and load_start[0] > 0.5:
        notes.append(f"other processes were running (1-min load average {load_start[0]} at start): "
                     "absolute numbers are noisy; compare the paired ratios")  # fmt: skip
    return notes


def _training_rows(records, flops, peak) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for rec in records:
        groups[(rec["preset"], rec["method"])].append(rec)
    rows = []
    for (preset, method), recs in groups.items():
        ips = [r["images_per_sec"] for r in recs]
        train_flops = flops[preset]["train_flops"]
        gflops = [v * train_flops / 1e9 for v in ips]
        first = recs[0]
        rows.append({
            "preset": preset,
            "method": method,
            "params": first["params"],
            "batch_size": first["batch_size"],
            "steps_per_execution": first["steps_per_execution"],
            "input": first["input"],
            "images_per_sec": summarize(ips),
            "first_epoch_s": summarize([r["first_epoch_s"] for r in recs]),
            "steady_epoch_s": summarize([r["steady_epoch_s"] for r in recs]),
            "tracing_overhead_s": summarize([r["first_epoch_s"] - r["steady_epoch_s"] for r in recs]),
            "cpu_per_wall": summarize([r["cpu_per_wall"] for r in recs]),
            "cpu_ms_per_image": summarize([r["cpu_ms_per_image"] for r in recs]),
            "train_gflop_per_image": train_flops / 1e9,
            "gflops": summarize(gflops),
            "pct_of_gemm_peak": summarize([100.0 * g / peak for g in gflops]),
            "rss_peak_mb": max(r["rss_peak_mb"] for r in recs),
            "rss_mb": max((r["rss_mb"] or 0.0) for r in recs) or None,
        })  # fmt: skip
    return rows


def _repeats(by, preset: str, method: str) -> set[int]:
    return {rep for (p, m, rep) in by if p == preset and m == method}


def _ratios(records, presets) -> list[dict[str, Any]]:
    """Paired (same repeat) throughput ratios, and CPU-cost ratios that contention hurts less.

    ``ratio`` = images/s of the numerator / of the denominator; ``cpu_ratio`` = CPU ms per
    image of the denominator / of the numerator (> 1: the numerator needs less CPU per image).
    """
    by = {(r["preset"], r["method"], r["repeat"]): r for r in records}
    methods = sorted({r["method"] for r in records})
    pairs = [("keras_default", "keras_naive")]
    if NAIVE_TF_DEFAULTS in methods:  # the default path vs a tutorial, and oneDNN's share of it
        pairs += [("keras_default", NAIVE_TF_DEFAULTS), ("keras_naive", NAIVE_TF_DEFAULTS)]
    pairs += [("keras_default", m) for m in methods if m.startswith("torch")]
    pairs += [(m, "keras_default") for m in methods if m.startswith("keras_default[")]
    rows = []
    for preset in presets:
        for num, den in pairs:
            reps = sorted(_repeats(by, preset, num) & _repeats(by, preset, den))
            if not reps:
                continue
            a, b = [by[(preset, num, r)] for r in reps], [by[(preset, den, r)] for r in reps]
            stats = summarize([x["images_per_sec"] / y["images_per_sec"] for x, y in zip(a, b)])
            cpu = summarize([y.get("cpu_ms_per_image", np.nan) / x.get("cpu_ms_per_image", np.nan)
                             for x, y in zip(a, b)])  # fmt: skip
            target = TARGETS.get((num, den)) if preset == TARGET_PRESET else None
            rows.append({
                "preset": preset, "comparison": f"{num} / {den}", "numerator": num,
                "denominator": den, "ratio": stats, "cpu_ratio": cpu, "target": target,
                "meets_target": None if target is None or stats["median"] is None else stats["median"] >= target,
            })  # fmt: skip
    return rows


def _inference_rows(inference, batch_size) -> list[dict[str, Any]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for rec in inference:
        groups[rec["preset"]].append(rec)
    return [
        {
            "preset": preset,
            "batch_size": batch_size,
            "method": "model.predict(numpy)",
            "images_per_sec": summarize([r["images_per_sec"] for r in recs]),
            "first_call_s": summarize([r["first_call_s"] for r in recs]),
        }
        for preset, recs in groups.items()
    ]


def _regression_summary(regression, source) -> dict[str, Any]:
    full_epochs = get_profile("full").regression_epochs
    groups: dict[str, list[dict]] = defaultdict(list)
    for rec in regression:
        groups[rec["config"]].append(rec)
    naive = summarize([r["epoch_ms"] for r in groups.get("fit_numpy_bs32", [])])["median"]
    rows = []
    for name in CONFIGS:
        recs = groups.get(name)
        if not recs:
            continue
        stats = summarize([r["epoch_ms"] for r in recs])
        rows.append({
            "config": name, "description": CONFIGS[name], "steps_per_epoch": recs[0]["steps_per_epoch"],
            "epoch_ms": stats,
            "full_profile_s": stats["median"] * full_epochs / 1000.0 if stats["median"] else None,
            "speedup_vs_naive": naive / stats["median"] if naive and stats["median"] else None,
        })  # fmt: skip
    return {"preset": PRESET, "data": source, "full_profile_epochs": full_epochs, "configs": rows}


def _gemm_summary(gemm, peak) -> dict[str, Any]:
    return {
        "n": gemm[0]["n"],
        "dtype": "float32",
        "numpy_gflops": summarize([max(g["numpy"]) for g in gemm]),
        "tensorflow_gflops": summarize([max(g["tensorflow"]) for g in gemm]),
        "peak_gflops": peak,
        "note": "best of 3 timed matmuls per repetition; peak = best single matmul of either library",
    }


def json_safe(value):
    """NaN/inf -> None and NumPy scalars -> Python numbers (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
