"""The training precision: bfloat16 where the CPU computes in it, float32 elsewhere.

``"auto"`` (the default) picks bfloat16 on the tensorflow backend when the CPU lists a
bfloat16 instruction set (:data:`BF16_CPU_FLAGS`), float32 otherwise: chosen from the flags,
never assumed. ``FMNIST_PRECISION=float32|bfloat16|auto`` or :func:`set_precision` override it.

bfloat16 here is oneDNN's automatic mixed precision, a TensorFlow graph rewrite
(``auto_mixed_precision_onednn_bfloat16``): the model, its variables, the optimizer and the
fused batch norm stay float32, and grappler runs each compiled graph's convolutions, matmuls
and batch norms in bfloat16 where oneDNN has kernels for them; the output softmax stays
float32, so probabilities sum to 1 as in float32 (1.8e-7). Keras's ``mixed_bfloat16``
policy was measured slower for batch-norm CNNs (its batch norm computes in float32 around
casts). Measured on an AMD EPYC Zen 5 with AVX512-BF16 (2 cores, 8,192 real images, batch
128, two runs each): cnn_medium 11,349/11,571 against 6,771/6,325 img/s in float32, cnn_best
2,945/2,864 against 1,998/1,746. The dev-split accuracy check is the speedrun recipe in both
precisions (``fmnist speedrun --split dev``, README "Speedrun").
"""

from __future__ import annotations

import os

from fmnist.backend.cpu import cpu_flags
from fmnist.backend.quiet import import_backend_quietly
from fmnist.backend.runtime import backend_name

__all__ = [
    "BF16_CPU_FLAGS", "PRECISIONS", "PRECISION_ENV", "choose_precision", "cpu_has_bf16",
    "ensure_precision", "set_precision", "training_precision",
]  # fmt: skip

#: Flags of CPUs with bfloat16 arithmetic (AVX512-BF16 dot products, AMX tiles).
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
PRECISIONS = ("auto", "float32", "bfloat16")
PRECISION_ENV = "FMNIST_PRECISION"
_REWRITE = "auto_mixed_precision_onednn_bfloat16"
# The rewrite's op lists are configured by environment variables only (TensorFlow reads them
# when it rewrites a graph). Softmax stays float32: in bfloat16 the output probabilities
# summed to 1 +- 2e-3, which calibration and the losses cannot use (1.8e-7 in float32).
# oneDNN's lists have Softmax on the infer list: it must leave that list to join the deny list
# (an op on two lists makes the whole rewrite fail, and the graph stays float32).
_LIST_ENVS = ("TF_AUTO_MIXED_PRECISION_GRAPH_REWRITE_INFERLIST_REMOVE",
              "TF_AUTO_MIXED_PRECISION_GRAPH_REWRITE_DENYLIST_ADD")  # fmt: skip
_FLOAT32_OPS = ("Softmax",)

_applied: str | None = None  # the precision set in this process, None before the first


def cpu_has_bf16(flags: frozenset[str] | None = None) -> bool:
    """Whether the CPU (or ``flags``) lists one of :data:`BF16_CPU_FLAGS`."""
    return bool(set(BF16_CPU_FLAGS) & set(cpu_flags() if flags is None else flags))


def choose_precision(requested: str = "auto", backend: str | None = None,
                     flags: frozenset[str] | None = None) -> str:  # fmt: skip
    """Resolve ``requested`` (one of :data:`PRECISIONS`) to ``"float32"`` or ``"bfloat16"``
    for ``backend`` (default: the active one) on a CPU with ``flags`` (default: this one)."""
    if requested not in PRECISIONS:
        raise ValueError(
            f"unknown precision {requested!r}; valid precisions: {', '.join(PRECISIONS)} "
            f"(also for ${PRECISION_ENV})"
        )
    backend = backend_name() if backend is None else backend
    if requested == "auto":
        return "bfloat16" if backend == "tensorflow" and cpu_has_bf16(flags) else "float32"
    if requested == "bfloat16" and backend != "tensorflow":
        raise ValueError(
            f"precision 'bfloat16' is TensorFlow's oneDNN graph rewrite; the {backend} backend "
            "trains in float32 here (use 'float32' or 'auto', or set a Keras dtype policy "
            "such as keras.config.set_dtype_policy('mixed_bfloat16') yourself)"
        )
    return requested


def set_precision(precision: str = "auto") -> str:
    """Train (and predict) in ``precision`` from now on in this process; returns the precision
    chosen (``"float32"`` or ``"bfloat16"``). Graphs compiled before keep theirs."""
    global _applied
    chosen = choose_precision(precision)
    if backend_name() == "tensorflow":
        if chosen == "bfloat16":
            for variable in _LIST_ENVS:
                listed = [op for op in os.environ.get(variable, "").split(",") if op]
                os.environ[variable] = ",".join(listed + [op for op in _FLOAT32_OPS if op not in listed])
        # TensorFlow is a dependency on every backend (the input pipeline); the rewrite
        # option only matters where Keras compiles TensorFlow graphs.
        import_backend_quietly().config.optimizer.set_experimental_options(
            {_REWRITE: chosen == "bfloat16"}
        )
    _applied = chosen
    return chosen


def ensure_precision() -> str:
    """Apply ``$FMNIST_PRECISION`` (default ``"auto"``) unless a precision is already set; the
    default training path (``fmnist.model.compile_model``) calls it before compiling."""
    if _applied is None:
        return set_precision(os.environ.get(PRECISION_ENV, "auto"))
    return _applied


def training_precision() -> str | None:
    """The precision set in this process (None before :func:`ensure_precision` or
    :func:`set_precision` ran)."""
    return _applied
