"""The PyTorch side of the benchmark's reference: the network from a layer list, the training
loop and a matmul peak. Imports neither Keras nor TensorFlow (PyTorch only, lazily).

PyTorch is *not* a dependency of fmnist: :func:`torch_status` imports it or says why not.
The network comes from a plain list of ``{"module", "args", "kwargs"}`` entries, one
``torch.nn`` module each, which :func:`fmnist.course.benchmark.torch_ref.torch_layers` reads off
a built Keras model. The list is JSON, so the children of ``fmnist benchmark --against-torch``
(:mod:`fmnist.course.benchmark.throughput_child`) train the translation in a process that
never loads TensorFlow or Keras.

The loop is what a PyTorch tutorial writes: tensors in memory, a fresh ``randperm`` each
epoch, ``zero_grad / forward / loss / backward / Adam step``, accuracy counted per batch; the
options are the two speed-ups a PyTorch user has on a CPU, the ``channels_last`` memory
format and bfloat16 autocast around the forward pass and the loss (the backward pass follows
the forward's dtypes, as PyTorch's autocast recipe says).

Example::

    >>> from fmnist.course.benchmark.torch_loop import train_torch
    >>> layers = [{"module": "Flatten"}, {"module": "Linear", "args": [784, 10]}]
    >>> rec = train_torch(layers, "linear", x, y, epochs=2, batch_size=128, bf16=True)
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import time
from typing import Any

import numpy as np

from fmnist.course.benchmark.flops import timed_calls
from fmnist.course.benchmark.timing import current_rss_mb, epoch_fields, peak_rss_mb

#: PyTorch's own thread count, saved before any run changes it (``set_num_threads`` is global).
DEFAULT_THREADS: dict[str, int] = {}


def torch_status():
    """``(torch module, None)`` when PyTorch is importable, else ``(None, reason)``.

    Before the first import, ``OMP_WAIT_POLICY`` defaults to ``PASSIVE``: PyTorch's OpenMP
    threads otherwise spin at every barrier, and when another process holds one of the two
    cores a 2-thread conv net ran ~4x slower here (330 vs 1,300-2,100 img/s for cnn_medium),
    which would make the reference look worse than PyTorch is. TensorFlow and NumPy do not
    use OpenMP here, so the Keras measurements are unaffected.

    Triton is also hidden from PyTorch (``sys.modules["triton"] = None``, which PyTorch reads
    as "not installed"): the PyPI torch wheel pulls in ``triton``, a GPU kernel compiler the
    CPU loop never uses, and importing its native module after TensorFlow crashed the whole
    process with a segmentation fault here (torch 2.14.1, triton 3.8.0, TF 2.21).
    """
    if "torch" not in sys.modules and importlib.util.find_spec("torch") is not None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        sys.modules.setdefault("triton", None)
    try:
        import torch  # optional dependency (the .[torch] extra), imported only here (see above)
    except ImportError as exc:  # an optional extra: never required
        return None, f"PyTorch not importable ({exc}); install torch to add the reference loop"
    DEFAULT_THREADS.setdefault("threads", torch.get_num_threads())
    return torch, None


def _torch_or_raise():
    torch, note = torch_status()
    if torch is None:
        raise ImportError(note)
    return torch


def torch_net(layers: list[dict[str, Any]]):
    """``nn.Sequential`` of ``torch.nn.<module>(*args, **kwargs)`` for each entry of ``layers``."""
    nn = _torch_or_raise().nn
    modules = []
    for entry in layers:
        cls = getattr(nn, entry["module"], None)
        if cls is None:
            raise NotImplementedError(f"torch.nn has no module {entry['module']!r} (layer list entry {entry})")
        modules.append(cls(*entry.get("args", ()), **entry.get("kwargs", {})))
    return nn.Sequential(*modules)


def train_torch(
    layers: list[dict[str, Any]], preset: str, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
    seed: int = 0, threads: int | None = None, *, expected_params: int | None = None,
    channels_last: bool = False, bf16: bool = False, method: str = "torch",
) -> dict[str, Any]:
    """Train :func:`torch_net` of ``layers`` (the translation of ``preset``); time each epoch.

    ``x`` is laid out for the Keras preset ((N, 784) or NHWC); CNN inputs are transposed to
    NCHW once, outside the timing. ``threads`` sets ``torch.set_num_threads`` (None:
    PyTorch's default thread count). ``channels_last`` puts the model and 4-D inputs in
    ``torch.channels_last``; ``bf16`` runs forward and loss under
    ``torch.autocast("cpu", dtype=torch.bfloat16)``.

    Raises:
        RuntimeError: the network's trainable parameters differ from ``expected_params`` (a
            wrong translation must not pass as a reference).
    """
    torch = _torch_or_raise()
    torch.set_num_threads(DEFAULT_THREADS["threads"] if threads is None else threads)
    torch.manual_seed(seed)
    net = torch_net(layers)
    trainable = int(sum(p.numel() for p in net.parameters() if p.requires_grad))
    if expected_params is not None and trainable != expected_params:
        raise RuntimeError(f"PyTorch translation of {preset} has {trainable} trainable parameters, "
                           f"Keras {expected_params}")  # fmt: skip
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2) if x.ndim == 4 else x))
    memory_format = torch.channels_last if channels_last and xt.ndim == 4 else torch.contiguous_format
    if memory_format is torch.channels_last:
        net = net.to(memory_format=memory_format)
        xt = xt.contiguous(memory_format=memory_format)
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)  # Keras Adam defaults: lr 1e-3, betas .9/.999
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    n = len(xt)
    times, cpu_times, loss = [], [], float("nan")
    net.train()
    for _ in range(epochs):
        start, cpu = time.perf_counter(), time.process_time()
        perm = torch.randperm(n, generator=gen)
        correct = torch.zeros((), dtype=torch.int64)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            # Gathering rows may not keep the strides: the batch is put in the format asked for.
            xb, yb = xt[idx].contiguous(memory_format=memory_format), yt[idx]
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
                out = net(xb)
                batch_loss = loss_fn(out, yb)
            batch_loss.backward()
            opt.step()
            correct += (out.detach().argmax(1) == yb).sum()
        loss = float(batch_loss.detach())
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
    return {
        "preset": preset,
        "method": method,
        "params": trainable,
        **epoch_fields(n, times, cpu_times),
        "batch_size": batch_size,
        "steps_per_execution": None,
        "input": "in-memory tensors, randperm batches",
        "precision": "bfloat16" if bf16 else "float32",
        "autocast": "bfloat16" if bf16 else None,
        "memory_format": "channels_last" if memory_format is torch.channels_last else "contiguous",
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "final_loss": loss,
        "rss_mb": current_rss_mb(),
        "rss_peak_mb": peak_rss_mb(),
    }


def torch_gemm(n: int, repeats: int = 3, seed: int = 0, dtypes: tuple[str, ...] = ("float32",)) -> dict[str, Any]:
    """GFLOP/s of an ``n x n`` ``torch.matmul`` in each of ``dtypes`` ("float32", "bfloat16").

    Returns ``{"n", "flops", "torch_<dtype>": [gflops per repeat], "torch_threads"}``, like
    :func:`fmnist.course.benchmark.flops.measure_gemm` (best of ``repeats`` after a warm-up).
    """
    torch = _torch_or_raise()
    torch.set_num_threads(DEFAULT_THREADS["threads"])
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.randn((n, n), generator=gen), torch.randn((n, n), generator=gen)
    flops = 2.0 * n**3
    result: dict[str, Any] = {"n": n, "flops": flops, "torch_threads": torch.get_num_threads()}
    for dtype in dtypes:
        ta, tb = a.to(getattr(torch, dtype)), b.to(getattr(torch, dtype))
        result[f"torch_{dtype}"] = [flops / t / 1e9 for t in timed_calls(lambda: torch.matmul(ta, tb), repeats)]
    return result
