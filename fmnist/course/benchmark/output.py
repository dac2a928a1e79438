"""Plain-text tables of a benchmark result (the dict :func:`run_benchmark` returns / writes).

Example::

    >>> import json
    >>> from fmnist.course.benchmark.output import format_report
    >>> print(format_report(json.load(open("benchmarks/results/benchmark-....json"))))
"""

from __future__ import annotations

from typing import Any


def format_number(value, fmt: str = ",.0f", missing: str = "-") -> str:
    """``value`` in ``fmt``, or ``missing`` for None (an unmeasured cell)."""
    return missing if value is None else format(value, fmt)


def format_stats(stats: dict[str, Any] | None, fmt: str = ",.0f") -> str:
    """``median [min-max]`` (just the median for a single repetition)."""
    if not stats or stats.get("median") is None:
        return "-"
    if stats.get("n", 0) <= 1:
        return format_number(stats["median"], fmt)
    median, low, high = (format_number(stats[key], fmt) for key in ("median", "min", "max"))
    return f"{median} [{low}-{high}]"


def text_table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> list[str]:
    """Lines of an aligned plain-text table; columns in ``right`` (default: all but the first)
    right-aligned."""
    right = right if right is not None else set(range(1, len(headers)))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def format_report(result: dict[str, Any]) -> str:
    """All sections of ``result`` as aligned text tables."""
    m, d = result["machine"], result["data"]
    n = d["repeats"]
    spread = f"median [min-max] over {n} interleaved repeats" if n > 1 else "1 repeat (no spread)"
    out = [
        "",
        f"Machine: {m['summary']}; TF {m['tensorflow']}, Keras {m['keras']}, oneDNN "
        f"{'on' if m.get('onednn_enabled') else 'off'}; load avg {m.get('load_avg_start')} -> "
        f"{m.get('load_avg_end')}",
        f"Data: {d['samples']:,} {d['source']} images, {d['epochs']} epochs per run; {spread}",
        "",
        "Training throughput (images/s, steady state after epoch 1)",
    ]
    rows = [
        [
            r["preset"], r["method"], str(r["batch_size"]), format_number(r["steps_per_execution"], "d"),
            format_stats(r["images_per_sec"]), format_number(r["images_per_sec"]["spread_pct"], ".0f") + "%",
            format_number(r["cpu_per_wall"]["median"], ".2f"), format_number(r["cpu_ms_per_image"]["median"], ".3f"),
            format_stats(r["first_epoch_s"], ".2f"), format_number(r["gflops"]["median"], ".1f"),
            format_number(r["pct_of_gemm_peak"]["median"], ".1f"), format_number(r["rss_peak_mb"], ",.0f"),
        ]
        for r in result["training"]
    ]  # fmt: skip
    out += text_table(
        ["preset", "method", "batch", "spe", "img/s", "spread", "CPU/wall", "CPU ms/img", "1st epoch s",
         "GFLOP/s", "% peak", "peak RSS MB"],
        rows, right=set(range(2, 12)),
    )  # fmt: skip
    if result["ratios"]:
        out += ["", "Speed-ups (paired within each repeat; CPU-cost ratio = CPU ms/image of the "
                "denominator / numerator, less sensitive to other processes)"]
        rows = []
        for r in result["ratios"]:
            target = "-" if r["target"] is None else f">= {r['target']}x " + ("met" if r["meets_target"] else "NOT met")
            rows.append([r["preset"], r["comparison"], format_stats(r["ratio"], ".2f") + "x",
                         format_stats(r.get("cpu_ratio"), ".2f") + "x", target])  # fmt: skip
        out += text_table(["preset", "comparison", "img/s ratio", "CPU-cost ratio", "target"], rows, right={2, 3})
    if result["inference"]:
        out += ["", f"Inference (model.predict on NumPy, batch {result['inference'][0]['batch_size']})"]
        rows = [[r["preset"], format_stats(r["images_per_sec"]), format_stats(r["first_call_s"], ".2f")]
                for r in result["inference"]]  # fmt: skip
        out += text_table(["preset", "img/s", "first call s"], rows)
    reg = result.get("regression")
    if reg:
        out += ["", f"Regression net {reg['preset']} on 100 points: time per epoch "
                    f"(full profile = {reg['full_profile_epochs']} epochs)"]  # fmt: skip
        rows = [
            [c["config"], str(c["steps_per_epoch"]), format_stats(c["epoch_ms"], ".2f"),
             format_number(c["full_profile_s"], ".1f"), format_number(c["speedup_vs_naive"], ".1f") + "x"]
            for c in reg["configs"]
        ]  # fmt: skip
        out += text_table(["configuration", "steps/epoch", "ms/epoch", "full profile s", "vs naive"], rows)
    g = result["gemm"]
    out += [
        "",
        f"GEMM {g['n']}x{g['n']} float32 (GFLOP/s): NumPy {format_stats(g['numpy_gflops'], '.1f')}, "
        f"TensorFlow {format_stats(g['tensorflow_gflops'], '.1f')}; peak {g['peak_gflops']:.1f}",
    ]
    t = result["torch"]
    if t["available"]:
        out.append(f"PyTorch reference: torch {t['version']} (default {t['default_threads']} threads), "
                   f"presets {', '.join(t['presets']) or '-'}")  # fmt: skip
    else:
        out.append(f"PyTorch reference: {t['note']}")
    out.append(f"Peak RSS of the run: {result['memory']['peak_rss_mb']:,.0f} MB")
    out.append(f"JSON: {result.get('out', '-')}  ({result['duration_s']:.0f} s)")
    return "\n".join(out)
