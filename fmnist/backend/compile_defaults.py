"""``model.compile`` defaults per Keras backend: ``steps_per_execution`` and ``jit_compile``.

Keras's defaults do not suit every backend on this course's CPUs: the torch backend refuses
``steps_per_execution > 1``, ``jit_compile=False`` leaves JAX un-jitted, and XLA was slower
than TensorFlow's graph mode for convolutions. The values below were chosen by measurement;
the numbers, the CPU and the command are in ``benchmarks/records/compile_defaults.json``.
"""

from __future__ import annotations

from fmnist.backend.runtime import BACKENDS, backend_name

__all__ = ["COMPILE_DEFAULTS", "compile_defaults"]

#: Backend -> ``{"steps_per_execution": int, "jit_compile": bool}`` for ``compile_model``.
#: Measured (benchmarks/records/compile_defaults.json; cnn_medium on 4,096 real images at
#: batch 128, and the regression preset full-batch on the 100-point regression data):
#:
#: * tensorflow: 32 batches per ``tf.function`` call amortize Keras's per-step overhead
#:   (keras-team/keras#18648): cnn_medium 1,600 and 2,290 img/s vs 1,370 and 1,500 with one
#:   (two interleaved repeats); XLA (``jit_compile=True``) ran it at 645 and 694 img/s.
#: * jax: ``jit_compile=True`` (un-jitted JAX runs op by op: 174 img/s, 71 ms per regression
#:   epoch); one step per call beat 32 in both repeats (cnn_medium 399/754 vs 236/376 img/s,
#:   regression 3.5/1.8 vs 6.9/4.1 ms per epoch).
#: * torch: Keras allows only ``steps_per_execution=1``; ``jit_compile=True``
#:   (``torch.compile``) spent 230 s in the first cnn_medium epoch (31 s without) for about
#:   the same steady speed (189 vs 175 img/s).
COMPILE_DEFAULTS: dict[str, dict[str, int | bool]] = {
    "tensorflow": {"steps_per_execution": 32, "jit_compile": False},
    "jax": {"steps_per_execution": 1, "jit_compile": True},
    "torch": {"steps_per_execution": 1, "jit_compile": False},
}


def compile_defaults(backend: str | None = None) -> dict[str, int | bool]:
    """The ``steps_per_execution``/``jit_compile`` defaults of ``backend`` (default: the active
    Keras backend), as a fresh dict."""
    name = backend_name() if backend is None else backend
    if name not in COMPILE_DEFAULTS:
        raise ValueError(f"unknown Keras backend {name!r}; valid backends: {', '.join(BACKENDS)}")
    return dict(COMPILE_DEFAULTS[name])
