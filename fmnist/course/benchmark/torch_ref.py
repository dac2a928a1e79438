"""Optional PyTorch reference: the same architecture as a Keras preset, in a plain loop.

PyTorch is *not* a dependency of fmnist. When ``import torch`` fails, the benchmark records
the reason and skips this section. The network is translated layer by layer from the built
Keras model (Conv2D, pooling, Flatten, Dense, BatchNormalization, Dropout, Activation), so
the trainable parameter counts match; the softmax of the ``output`` layer is folded into
``CrossEntropyLoss`` (mathematically the same loss as Keras's softmax + sparse CE).

The loop is what a PyTorch tutorial writes: tensors in memory, a fresh ``randperm`` each
epoch, ``zero_grad / forward / loss / backward / Adam step``, accuracy counted per batch.

Example::

    >>> from fmnist.course.benchmark.torch_ref import torch_status, run_torch
    >>> torch, note = torch_status()
    >>> if torch is not None:
    ...     rec = run_torch("mlp_medium", x, y, epochs=2, batch_size=128)
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from typing import Any

import numpy as np

from fmnist.course.benchmark.measure import current_rss_mb, epoch_fields, peak_rss_mb
from fmnist.model import build_model

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


_ACTIVATIONS = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "elu": "ELU", "selu": "SELU",
    "gelu": "GELU", "silu": "SiLU", "swish": "SiLU", "softplus": "Softplus",
    "softsign": "Softsign", "relu6": "ReLU6", "leaky_relu": "LeakyReLU", "mish": "Mish",
}  # fmt: skip


def _activation(nn, fn, is_last: bool):
    name = getattr(fn, "__name__", str(fn))
    if name in ("linear", "None") or fn is None:
        return None
    if name == "softmax":
        # The last softmax is folded into CrossEntropyLoss (logits in, same loss value).
        return None if is_last else nn.Softmax(dim=1)
    if name not in _ACTIVATIONS:
        raise NotImplementedError(f"activation {name!r} has no PyTorch translation here")
    return getattr(nn, _ACTIVATIONS[name])()


def _pool(nn, layer, kind: str):
    if layer.data_format != "channels_last":
        raise NotImplementedError("only channels_last pooling is translated")
    pool = tuple(layer.pool_size)
    strides = tuple(layer.strides or pool)
    ceil = layer.padding == "same"  # pool == stride: "same" pads at the end = ceil mode
    if ceil and pool != strides:
        raise NotImplementedError("'same' pooling with pool_size != strides is not translated")
    if kind == "max":
        return nn.MaxPool2d(pool, strides, ceil_mode=ceil)
    return nn.AvgPool2d(pool, strides, ceil_mode=ceil, count_include_pad=False)


def keras_to_torch(model):
    """Translate a built Keras classifier (channels-last) into an ``nn.Sequential`` (NCHW).

    Raises:
        NotImplementedError: a layer type or option without a translation here.
    """
    import keras
    import torch.nn as nn  # optional dependency: torch_status() imported torch before this runs

    modules = []
    layers = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    for i, layer in enumerate(layers):
        is_last = i == len(layers) - 1
        in_shape = tuple(layer.input.shape)
        if isinstance(layer, keras.layers.Conv2D) and type(layer) is keras.layers.Conv2D:
            if layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1):
                raise NotImplementedError(f"{layer.name}: only channels_last, undilated Conv2D")
            if layer.padding == "same" and tuple(layer.strides) != (1, 1):
                raise NotImplementedError(f"{layer.name}: 'same' padding with strides > 1")
            modules.append(
                nn.Conv2d(in_shape[-1], layer.filters, tuple(layer.kernel_size), tuple(layer.strides),
                          padding="same" if layer.padding == "same" else 0, bias=layer.use_bias)
            )  # fmt: skip
            modules.append(_activation(nn, layer.activation, is_last))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            modules.append(_pool(nn, layer, "max"))
        elif isinstance(layer, keras.layers.AveragePooling2D):
            modules.append(_pool(nn, layer, "avg"))
        elif isinstance(layer, keras.layers.GlobalAveragePooling2D):
            modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif isinstance(layer, keras.layers.GlobalMaxPooling2D):
            modules += [nn.AdaptiveMaxPool2d(1), nn.Flatten()]
        elif isinstance(layer, keras.layers.Flatten):
            modules.append(nn.Flatten())
        elif isinstance(layer, keras.layers.Dense):
            if len(in_shape) != 2:
                raise NotImplementedError(f"{layer.name}: Dense on a {len(in_shape)}-D input")
            modules.append(nn.Linear(in_shape[-1], layer.units, bias=layer.use_bias))
            modules.append(_activation(nn, layer.activation, is_last))
        elif isinstance(layer, keras.layers.BatchNormalization):
            bn = nn.BatchNorm2d if len(in_shape) == 4 else nn.BatchNorm1d
            modules.append(bn(in_shape[-1], eps=layer.epsilon, momentum=1.0 - layer.momentum))
        elif isinstance(layer, keras.layers.Dropout):
            modules.append(nn.Dropout(layer.rate))
        elif isinstance(layer, keras.layers.Activation):
            modules.append(_activation(nn, layer.activation, is_last))
        else:
            raise NotImplementedError(f"layer {layer.name} ({type(layer).__name__}) has no PyTorch translation")
    return nn.Sequential(*[m for m in modules if m is not None])


def keras_trainable_params(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def run_torch(
    preset: str, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, seed: int = 0,
    threads: int | None = None,
) -> dict[str, Any]:
    """Train the PyTorch translation of ``preset`` and time each epoch.

    ``x`` is laid out for the Keras preset ((N, 784) or NHWC); CNN inputs are transposed to
    NCHW once, outside the timing. ``threads`` sets ``torch.set_num_threads`` (None:
    PyTorch's default thread count).
    """
    torch, note = torch_status()
    if torch is None:
        raise ImportError(note)
    torch.set_num_threads(DEFAULT_THREADS["threads"] if threads is None else threads)

    keras_model = build_model(preset)
    torch.manual_seed(seed)
    net = keras_to_torch(keras_model)
    trainable = int(sum(p.numel() for p in net.parameters() if p.requires_grad))
    expected = keras_trainable_params(keras_model)
    if trainable != expected:  # a wrong translation must not pass as a reference
        raise RuntimeError(f"PyTorch translation of {preset} has {trainable} trainable parameters, Keras {expected}")
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2) if x.ndim == 4 else x))
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
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad(set_to_none=True)
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
        "method": "torch",
        "params": trainable,
        **epoch_fields(n, times, cpu_times),
        "batch_size": batch_size,
        "steps_per_execution": None,
        "input": "in-memory tensors, randperm batches",
        "torch_threads": torch.get_num_threads(),
        "final_loss": loss,
        "rss_mb": current_rss_mb(),
        "rss_peak_mb": peak_rss_mb(),
    }
