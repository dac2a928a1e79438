"""``fmnist benchmark --backends``: Keras backends side by side, in one run.

Each repetition runs every backend in its own Python process
(``KERAS_BACKEND=<backend> python -m fmnist.course.benchmark.backend_child``; the backend is
fixed at the first ``import keras``), forward order on even repetitions and reversed on odd
ones, so slow drift of a shared machine spreads over the backends. Each child trains every
preset once on the project's default path (:func:`fmnist.training.train`, tf.data input,
batch 128, ``compile_model``'s settings with the overrides of
:mod:`~fmnist.course.benchmark.backend_child`) and times the 100-point regression net (one
full-batch step per epoch). Throughput is the steady state after the first epoch (tracing,
XLA compilation, cache filling).

Example::

    >>> from fmnist.course.benchmark import BenchmarkConfig
    >>> from fmnist.course.benchmark.backends import run_backends
    >>> result = run_backends(BenchmarkConfig(backends=("tensorflow", "jax"), samples=4096))
    >>> result["ratios"]["jax"]["cnn_medium"]["images_per_sec"]["median"]

JSON fields (schema ``fmnist-benchmark-backends/1``; every "stats" is
``{median, min, max, spread_pct, n, values}`` over the repeats):

* ``schema``, ``started``, ``finished``, ``duration_s``, ``command``, ``config``;
* ``machine``: ``cpu_model`` (lscpu's model name), ``logical_cores``, ``usable_cores``,
  ``platform``, ``python``, ``load_avg_start``, ``load_avg_end``;
* ``versions``: keras, tensorflow, jax, jaxlib, torch (installed distributions);
* ``data``: ``source``, ``samples``, ``epochs``, ``batch_size``, ``repeats``;
* ``reference``: the backend the ratios divide by (tensorflow when measured);
* ``backends``: per backend ``compile_overrides``, ``training`` (per preset ``params``,
  ``steps_per_execution``, ``jit_compile`` and stats of ``images_per_sec``, ``first_epoch_s``,
  ``steady_epoch_s``, ``cpu_per_wall``), ``regression`` (``preset``, ``points``, stats of
  ``epoch_ms`` (each repeat's median epoch) and ``first_epoch_ms``), ``child_wall_s`` stats;
* ``ratios``: per backend, per preset ``images_per_sec`` (paired within each repeat:
  backend / reference) and ``regression_speed`` (reference ms/epoch / backend ms/epoch);
  > 1 means faster than the reference;
* ``notes``; ``raw``: every child's record (with ``repeat``), per-epoch times included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fmnist.atomic import atomic_write_text
from fmnist.course.benchmark.child_process import child_env
from fmnist.course.benchmark.config import BenchmarkConfig
from fmnist.course.benchmark.keras_runs import default_batch_size, resolve_presets
from fmnist.course.benchmark.measure import load_average, lscpu_model_name, summarize, utc_now
from fmnist.course.benchmark.output import format_stats
from fmnist.course.benchmark.runner import check_out_path, context_notes, default_out_path, json_safe

SCHEMA = "fmnist-benchmark-backends/1"
CHILD_MODULE = "fmnist.course.benchmark.backend_child"
#: Seconds one child may run before it counts as hung.
CHILD_TIMEOUT = 3600


def run_child(
    backend: str, spec: dict[str, Any], timeout: float = CHILD_TIMEOUT, module: str | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``python -m module SPEC.json OUT.json`` with ``KERAS_BACKEND=backend``; its record.

    ``module`` defaults to :mod:`~fmnist.course.benchmark.backend_child` (:data:`CHILD_MODULE`);
    ``env`` adds or overrides environment variables of the child.

    Raises:
        RuntimeError: the child failed (exit status and the end of its stderr) or timed out.
    """
    module = CHILD_MODULE if module is None else module
    env = child_env(KERAS_BACKEND=backend, **(env or {}))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory(prefix=f"fmnist-{backend}-") as tmp:
        spec_path, out = os.path.join(tmp, "spec.json"), os.path.join(tmp, "record.json")
        with open(spec_path, "w", encoding="utf-8") as fh:
            json.dump(spec, fh)
        try:
            proc = subprocess.run([sys.executable, "-m", module, spec_path, out], env=env,
                                  capture_output=True, text=True, timeout=timeout)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"the {backend} child process ran longer than {timeout:.0f} s") from exc
        if proc.returncode != 0 or not os.path.exists(out):
            tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
            raise RuntimeError(f"the {backend} child process failed (exit status {proc.returncode}): "
                               f"{tail or 'no output'}")  # fmt: skip
        with open(out, encoding="utf-8") as fh:
            return json.load(fh)


def child_spec(cfg: BenchmarkConfig, presets: tuple[str, ...]) -> dict[str, Any]:
    """The job of one backend child (:mod:`~fmnist.course.benchmark.backend_child`) for ``presets``."""
    return {"presets": list(presets), "samples": cfg.samples, "epochs": cfg.epochs,
            "batch_size": default_batch_size(), "data": cfg.data, "seed": cfg.seed,
            "regression": cfg.regression, "regression_epochs": cfg.regression_epochs}  # fmt: skip


def _log_child(log, rep: int, cfg: BenchmarkConfig, rec: dict[str, Any]) -> None:
    parts = [f"{t['preset']} {t['images_per_sec']:,.0f} img/s (1st epoch {t['first_epoch_s']:.1f} s)"
             for t in rec["training"]]  # fmt: skip
    if rec.get("regression"):
        parts.append(f"regression {rec['regression']['epoch_ms']:.2f} ms/epoch")
    log(f"  [{rep + 1}/{cfg.repeats}] {rec['backend']:<10s} " + "; ".join(parts) + f"  ({rec['wall_s']:.0f} s)")


def run_backends(
    config: BenchmarkConfig,
    log: Callable[[str], Any] = print,
    argv: list[str] | None = None,
) -> dict[str, Any]:
    """Measure ``config.backends`` side by side; write the JSON (atomically), print the table.

    Args:
        config: ``backends``, ``presets`` (None: every classification preset), ``samples``,
            ``epochs`` (the first is excluded as warm-up), ``repeats``, ``data``,
            ``regression``/``regression_epochs``, ``seed``, ``out``.
        log: progress and table printer.
        argv: the command line, recorded in the JSON.
    """
    if not isinstance(config, BenchmarkConfig) or not config.backends:
        raise ValueError("run_backends needs a BenchmarkConfig with backends, e.g. ('tensorflow', 'jax')")
    cfg = config
    out = check_out_path(default_out_path() if cfg.out is None else Path(cfg.out))
    presets = resolve_presets(cfg.presets)
    started, clock, load_start = utc_now(), time.perf_counter(), load_average()
    log(f"fmnist benchmark: backends {', '.join(cfg.backends)} x {len(presets)} presets x "
        f"{cfg.repeats} repeats, {cfg.samples} images, {cfg.epochs} epochs, one process per "
        f"backend and repeat -> {out}")  # fmt: skip
    raw = []
    for rep in range(cfg.repeats):
        forward = rep % 2 == 0
        order = cfg.backends if forward else cfg.backends[::-1]
        spec = child_spec(cfg, presets if forward else presets[::-1])
        for backend in order:
            rec = run_child(backend, spec)
            rec["repeat"] = rep
            raw.append(rec)
            _log_child(log, rep, cfg, rec)
    result = summarize_backends(raw, cfg, presets)
    result.update(
        started=started, finished=utc_now(), duration_s=time.perf_counter() - clock,
        command=list(argv) if argv is not None else list(sys.argv),
    )  # fmt: skip
    result["machine"].update(load_avg_start=load_start, load_avg_end=load_average())
    result["notes"] = _notes(result, load_start)
    result = json_safe(result)
    atomic_write_text(out, json.dumps(result, indent=2, allow_nan=False) + "\n")
    result["out"] = str(out)
    log(format_backends(result))
    return result


def summarize_backends(raw: list[dict[str, Any]], cfg: BenchmarkConfig, presets) -> dict[str, Any]:
    """The JSON result (without timestamps/command) from the children's records."""
    backends = [b for b in cfg.backends if any(r["backend"] == b for r in raw)]
    reference = "tensorflow" if "tensorflow" in backends else backends[0]
    per: dict[str, Any] = {}
    for b in backends:
        recs = [r for r in raw if r["backend"] == b]
        training = {}
        for preset in presets:
            runs = [t for r in recs for t in r["training"] if t["preset"] == preset]
            first = runs[0]
            training[preset] = {
                "params": first["params"], "batch_size": first["batch_size"],
                "steps_per_execution": first["steps_per_execution"], "jit_compile": first.get("jit_compile"),
                **{k: summarize([t[k] for t in runs])
                   for k in ("images_per_sec", "first_epoch_s", "steady_epoch_s", "cpu_per_wall")},
            }  # fmt: skip
        regs = [r["regression"] for r in recs if r.get("regression")]
        regression = None
        if regs:
            regression = {
                "preset": regs[0]["preset"], "points": regs[0]["points"], "steps_per_epoch": 1,
                "epochs_timed": regs[0]["epochs_timed"], "steps_per_execution": regs[0]["steps_per_execution"],
                "jit_compile": regs[0]["jit_compile"], "epoch_ms": summarize([g["epoch_ms"] for g in regs]),
                "first_epoch_ms": summarize([g["first_epoch_ms"] for g in regs]),
            }  # fmt: skip
        per[b] = {"compile_overrides": recs[0]["compile_overrides"], "training": training,
                  "regression": regression, "child_wall_s": summarize([r["wall_s"] for r in recs])}  # fmt: skip
    ratios: dict[str, Any] = {}
    by = {(r["backend"], r["repeat"]): r for r in raw}
    for b in backends:
        reps = sorted(rep for (bb, rep) in by if bb == b and (reference, rep) in by)
        row: dict[str, Any] = {}
        for preset in presets:
            def ips(backend, rep):
                return next(t["images_per_sec"] for t in by[(backend, rep)]["training"] if t["preset"] == preset)

            row[preset] = {"images_per_sec": summarize([ips(b, rep) / ips(reference, rep) for rep in reps])}
        if per[b]["regression"] and per[reference]["regression"]:
            row["regression_speed"] = summarize(
                [by[(reference, rep)]["regression"]["epoch_ms"] / by[(b, rep)]["regression"]["epoch_ms"]
                 for rep in reps])  # fmt: skip
        ratios[b] = row
    first = raw[0]
    return {
        "schema": SCHEMA,
        "config": cfg.as_dict(),
        "machine": {"cpu_model": lscpu_model_name() or first.get("cpu_model"), "logical_cores": os.cpu_count(),
                    "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
                    "platform": sys.platform, "python": sys.version.split()[0]},  # fmt: skip
        "versions": first["versions"],
        "data": {"source": first["data_source"], "samples": cfg.samples, "epochs": cfg.epochs,
                 "batch_size": first["training"][0]["batch_size"] if first["training"] else None,
                 "repeats": cfg.repeats},  # fmt: skip
        "reference": reference,
        "backends": per,
        "ratios": ratios,
        "raw": raw,
    }


def _notes(result: dict[str, Any], load_start) -> list[str]:
    notes = [
        "each backend in its own process per repeat (KERAS_BACKEND=...), backends interleaved: "
        "forward order on even repeats, reversed on odd ones (presets too)",
        "images_per_sec: steady state = samples x (epochs - 1) / time of epochs 2..N (the first "
        "epoch, with tracing / XLA compilation, is excluded as warm-up)",
        "regression epoch_ms: one full-batch step per epoch on the 100 training points; per repeat "
        "the median over the timed epochs (after one warm-up epoch)",
        "ratios are paired within a repeat; > 1 = faster than the reference backend",
    ]
    for b, info in result["backends"].items():
        if info["compile_overrides"]:
            notes.append(f"{b}: compile_model's defaults overridden with {info['compile_overrides']} "
                         "(torch refuses steps_per_execution > 1; jit_compile=False leaves JAX un-jitted)")  # fmt: skip
    return notes + context_notes(result["data"]["source"], load_start)


def format_backends(result: dict[str, Any]) -> str:
    """The backends side by side as a plain-text table, with each one's ratio to the reference."""
    backends, ref = list(result["backends"]), result["reference"]
    d, n = result["data"], result["data"]["repeats"]
    rows: list[list[str]] = []
    presets = list(next(iter(result["backends"].values()))["training"])
    for preset in presets:
        cells = [f"{preset} train img/s"]
        for b in backends:
            cell = format_stats(result["backends"][b]["training"][preset]["images_per_sec"], ",.0f")
            if b != ref:
                cell += f" ({format_stats(result['ratios'][b][preset]['images_per_sec'], '.2f')}x)"
            cells.append(cell)
        rows.append(cells)
    if all(result["backends"][b]["regression"] for b in backends):
        reg = result["backends"][backends[0]]["regression"]
        cells = [f"{reg['preset']} ms/epoch"]
        for b in backends:
            cell = format_stats(result["backends"][b]["regression"]["epoch_ms"], ".2f")
            if b != ref:
                cell += f" ({format_stats(result['ratios'][b].get('regression_speed'), '.2f')}x)"
            cells.append(cell)
        rows.append(cells)
    first_epochs = [result["backends"][b]["training"][presets[0]]["first_epoch_s"] for b in backends]
    rows.append([f"first epoch s ({presets[0]})"] + [format_stats(s, ".1f") for s in first_epochs])
    rows.append(["steps/execution, jit"] + [
        f"{result['backends'][b]['training'][presets[0]]['steps_per_execution']}, "
        f"{result['backends'][b]['training'][presets[0]]['jit_compile']}" for b in backends])  # fmt: skip
    headers = ["measure", *backends]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    v = result["versions"]
    spread = f"median [min-max] over {n} interleaved repeats" if n > 1 else "1 repeat"
    return "\n".join([
        "",
        f"Keras backends side by side: {d['samples']:,} {d['source']} images, batch {d['batch_size']}, "
        f"{d['epochs']} epochs (first excluded); {spread}; (x) = speed relative to {ref}",
        line(headers), line(["-" * w for w in widths]), *[line(r) for r in rows],
        f"CPU: {result['machine']['cpu_model']}; keras {v.get('keras')}, tensorflow {v.get('tensorflow')}, "
        f"jax {v.get('jax')}, torch {v.get('torch')}; load avg {result['machine'].get('load_avg_start')} -> "
        f"{result['machine'].get('load_avg_end')}",
        f"JSON: {result.get('out', '-')}  ({result.get('duration_s', 0):.0f} s)",
    ])  # fmt: skip
