"""Analytic FLOP counts of Keras models and a measured GEMM peak on this machine.

Only multiply-accumulate layers are counted (``Conv2D``, ``DepthwiseConv2D``, ``Dense``):
forward FLOPs = 2 x MACs; a training step is ~3 x forward (forward, gradient w.r.t. the
inputs, gradient w.r.t. the weights). Element-wise work (activations, pooling, batch norm,
softmax, the optimizer update) is memory-bound and under ~2 % of the FLOPs of these nets, so
it is left out; the 3x rule slightly over-counts the first layer, whose input gradient is
never computed.

Example::

    >>> from fmnist.model import build_model
    >>> from fmnist.course.benchmark.flops import count_flops
    >>> count_flops(build_model("mlp_medium"))["forward_flops"]      # 2 * (784*128 + 128*128 + 128*10)
    236032
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from fmnist.checks import check_int

#: Training step FLOPs per forward FLOP (forward + two backward GEMMs per layer).
TRAIN_FACTOR = 3


def _shape(tensor_or_shape) -> tuple:
    shape = getattr(tensor_or_shape, "shape", tensor_or_shape)
    return tuple(shape)


def layer_macs(layer) -> int:
    """Multiply-accumulates of one layer for one example (0 for element-wise layers)."""
    import keras

    if isinstance(layer, keras.layers.DepthwiseConv2D):
        out = _shape(layer.output)
        kh, kw = layer.kernel_size
        return int(np.prod(out[1:])) * kh * kw
    if isinstance(layer, keras.layers.Conv2D):  # also Conv2DTranspose-free presets
        out, inp = _shape(layer.output), _shape(layer.input)
        channels_last = layer.data_format == "channels_last"
        c_in = inp[-1] if channels_last else inp[1]
        kh, kw = layer.kernel_size
        groups = getattr(layer, "groups", 1) or 1
        return int(np.prod(out[1:])) * kh * kw * (c_in // groups)
    if isinstance(layer, keras.layers.Dense):
        inp = _shape(layer.input)
        positions = int(np.prod(inp[1:-1])) if len(inp) > 2 else 1
        return positions * inp[-1] * layer.units
    return 0


def count_flops(model) -> dict[str, Any]:
    """Per-example FLOPs of ``model``: per layer, forward total and training-step total.

    Returns:
        ``{"layers": [{"name", "type", "macs", "forward_flops"}], "macs", "forward_flops",
        "train_flops", "train_factor", "counted": "..."}`` (layers without MACs are omitted).
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"count_flops needs a keras.Model, got {type(model).__name__}")
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):  # nested model: count its layers
            inner = count_flops(layer)
            layers.extend(inner["layers"])
            continue
        macs = layer_macs(layer)
        if macs:
            layers.append({"name": layer.name, "type": type(layer).__name__, "macs": macs, "forward_flops": 2 * macs})
    total = sum(entry["macs"] for entry in layers)
    return {
        "layers": layers,
        "macs": total,
        "forward_flops": 2 * total,
        "train_flops": TRAIN_FACTOR * 2 * total,
        "train_factor": TRAIN_FACTOR,
        "counted": "Conv2D/Dense multiply-accumulates only (2 FLOPs per MAC)",
    }


def timed_calls(fn, repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn`` after one untimed warm-up call."""
    fn()  # warm-up: thread pools, page faults, kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def measure_gemm(n: int = 2048, repeats: int = 5, seed: int = 0, bfloat16: bool = False) -> dict[str, Any]:
    """GFLOP/s of an ``n x n`` float32 matmul with NumPy (BLAS) and TensorFlow.

    Returns ``{"n", "flops", "numpy": [gflops per repeat], "tensorflow": [...]}``; the peak
    reported by the benchmark is the best single repeat of either library (the least
    disturbed by other processes). ``bfloat16`` adds ``"tensorflow_bfloat16"``: the same
    matmul on bfloat16 tensors (oneDNN's bfloat16 GEMM, the kernels the default path's
    bfloat16 rewrite calls; only meaningful where the CPU has bfloat16 instructions).
    """
    import tensorflow as tf

    n = check_int(n, "gemm size n", minimum=16)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    flops = 2.0 * n**3
    np_times = timed_calls(lambda: a @ b, repeats)
    ta, tb = tf.constant(a), tf.constant(b)
    # .numpy() waits for the result (TF may run ops asynchronously).
    tf_times = timed_calls(lambda: tf.linalg.matmul(ta, tb).numpy(), repeats)
    result = {
        "n": n,
        "flops": flops,
        "numpy": [flops / t / 1e9 for t in np_times],
        "tensorflow": [flops / t / 1e9 for t in tf_times],
    }
    if bfloat16:
        ha, hb = tf.cast(ta, tf.bfloat16), tf.cast(tb, tf.bfloat16)
        times = timed_calls(lambda: tf.linalg.matmul(ha, hb).numpy(), repeats)
        result["tensorflow_bfloat16"] = [flops / t / 1e9 for t in times]
    return result
