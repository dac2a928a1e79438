"""Benchmark harness (issue F): how fast is the project's default training path, and why.

One run measures, with interleaved repetitions (median and spread reported):

* training throughput (images/s, steady state after the first epoch) of every classification
  preset with the default path (:func:`fmnist.training.train`) vs a naive
  ``model.fit(numpy_arrays, batch_size=32)`` of the same model, twice: in the benchmark's
  process (TensorFlow set up by ``import fmnist``, oneDNN on) and in a fresh process with
  TensorFlow's own defaults (``keras_naive[tf_defaults]``, what a first tutorial gets); plus
  optional variants of the default path (batch size, ``steps_per_execution``);
* a plain PyTorch loop on the same architecture for ``cnn_medium`` and ``mlp_medium`` when
  ``torch`` is importable (an optional extra; otherwise skipped with a note);
* inference throughput (``model.predict``), peak RSS, time of the first epoch (graph tracing);
* the regression net's epoch time on 100 points (Keras 3 per-step overhead, keras#18648);
* achieved GFLOP/s of the training step (analytic FLOPs) vs a measured GEMM peak;
* the machine (:func:`fmnist.course.report.machine_summary`, cores, versions, load average).

With ``backends`` (``fmnist benchmark --backends tensorflow jax torch``) one run instead compares
Keras backends: see :mod:`fmnist.course.benchmark.backends` (schema ``fmnist-benchmark-backends/1``).
With ``against_torch`` (``fmnist benchmark --against-torch``) one run instead measures the
default path against the fastest PyTorch loop (plain, channels-last, bfloat16 autocast), every
run in its own process, and the fraction of the matmul peak: see
:mod:`fmnist.course.benchmark.throughput` (schema ``fmnist-benchmark-throughput/1``).

Example::

    >>> from fmnist.course.benchmark import BenchmarkConfig
    >>> from fmnist.course.benchmark.runner import run_benchmark
    >>> result = run_benchmark(BenchmarkConfig(presets=("cnn_medium", "mlp_medium"),
    ...                                        samples=8192, epochs=3, repeats=3,
    ...                                        out="benchmarks/results/bench.json"))
    >>> [(r["preset"], r["ratio"]["median"]) for r in result["ratios"]]

Command line: ``fmnist benchmark --tiny`` / ``python benchmarks/run_benchmark.py --help``.

JSON fields (schema ``fmnist-benchmark/1``; every "stats" is
``{median, min, max, spread_pct, n, values}``, spread = (max - min) / median):

* ``schema``, ``started``, ``finished``, ``duration_s``, ``command``, ``config``;
* ``machine``: ``summary``, ``cpu_model``, ``cpu_flags``, ``logical_cores``,
  ``usable_cores``, versions, TF thread settings, ``onednn_enabled``, ``load_avg_start``,
  ``load_avg_end``;
* ``data``: ``source`` ("fashion_mnist" or "synthetic"), ``samples``, ``epochs``,
  ``repeats``; ``defaults``: the default path's ``batch_size``, ``steps_per_execution``;
* ``training``: one row per (preset, method) with ``params``, ``batch_size``,
  ``steps_per_execution``, ``input`` and stats of ``images_per_sec``, ``first_epoch_s``,
  ``steady_epoch_s``, ``tracing_overhead_s``, ``gflops``, ``pct_of_gemm_peak``,
  ``cpu_per_wall`` (process CPU seconds per wall second), ``cpu_ms_per_image``; plus
  ``train_gflop_per_image``, ``rss_peak_mb``, ``rss_mb``. Methods: ``keras_default``,
  ``keras_naive``, ``keras_naive[tf_defaults]`` (its raw runs carry the child's
  ``onednn_enabled``), ``keras_default[bs=..,spe=..,fused=..]`` variants, ``torch``;
* ``ratios``: per preset, ``comparison`` ("keras_default / keras_naive", ...), ``ratio``
  stats (paired within a repeat), issue F's ``target`` and ``meets_target`` on cnn_medium;
* ``inference``: per preset, ``batch_size`` and stats of ``images_per_sec``, ``first_call_s``;
* ``regression``: ``preset``, ``full_profile_epochs``, ``configs`` (``config``,
  ``steps_per_epoch``, ``epoch_ms`` stats, ``full_profile_s``, ``speedup_vs_naive``) or None;
* ``gemm``: ``n``, ``numpy_gflops``/``tensorflow_gflops`` stats, ``peak_gflops``;
* ``flops``: per preset, per-layer MACs, ``forward_flops``, ``train_flops`` (per image);
* ``torch``: ``available``, ``version``, ``note`` (why skipped), ``presets``, ``skipped``;
* ``memory``: ``peak_rss_mb``; ``notes``; ``raw``: every individual run, with per-epoch
  ``epoch_times`` and ``epoch_cpu_per_wall`` for training runs.

This package's ``__init__`` imports only the cheap parts (the configuration and the
command-line options, no Keras), so the ``fmnist`` parser can load it; the measurements are in
the submodules: :func:`fmnist.course.benchmark.runner.run_benchmark`,
:func:`fmnist.course.benchmark.backends.run_backends` (``--backends``),
:func:`fmnist.course.benchmark.throughput.run_throughput` (``--against-torch``),
:func:`fmnist.course.benchmark.cli.main`, :func:`fmnist.course.benchmark.flops.count_flops`,
:func:`fmnist.course.benchmark.output.format_report`.
"""

from fmnist.course.benchmark.config import BenchmarkConfig, Variant
from fmnist.course.benchmark.options import add_benchmark_parser, build_parser, config_from_args

__all__ = ["BenchmarkConfig", "Variant", "add_benchmark_parser", "build_parser", "config_from_args"]
