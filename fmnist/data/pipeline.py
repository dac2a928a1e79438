"""tf.data input pipelines and training-time augmentation, on every Keras backend.

The pipeline itself is TensorFlow code and lives in the backend layer
(:func:`fmnist.backend.tf_dataset`); ``fit`` takes a ``tf.data.Dataset`` on tensorflow, jax
and torch alike. Measured on this project's 2-core CPU (see ../shared/notes.md and ``fmnist benchmark``):
``model.fit`` on numpy arrays is ~1.7x slower than a cached, prefetched ``tf.data`` pipeline,
so training always goes through :func:`make_dataset`.

Example::

    >>> from fmnist.data import make_dataset, build_augmentation
    >>> ds = make_dataset(x_train, y_train, batch_size=128, shuffle=True, seed=0,
    ...                   augment=build_augmentation(rotation=0.05))
"""

from __future__ import annotations

import numpy as np

from fmnist.checks import check_bool, check_int, check_real, check_samples
from fmnist.data.preprocessing import IMAGE_LAYOUTS

__all__ = ["build_augmentation", "check_erasing_scale", "make_dataset"]


def build_augmentation(
    flip: bool = True,
    rotation: float = 0.05,
    noise: float = 0.05,
    erasing: float = 0.25,
    erasing_scale: tuple[float, float] = (0.02, 0.1),
    translation: float = 0.0,
    seed: int = 0,
):
    """A Keras layer that augments ``(N, 28, 28, 1)`` images in [0, 1], only when training.

    Args:
        flip: random horizontal flip (Keras ``RandomFlip``: each image with probability 0.5).
        rotation: maximum rotation as a fraction of a full turn (0 disables).
        noise: standard deviation of additive Gaussian noise (0 disables).
        erasing: probability of erasing a random rectangle (0 disables).
        erasing_scale: ``(low, high)`` bounds of the erased rectangle's area as a fraction
            of the image, ``0 < low <= high <= 1``.
        translation: maximum shift as a fraction of the height/width, e.g. 0.08 for about
            2 pixels (0 disables; empty borders are filled with 0, the background).
        seed: seed of the random layers (an int >= 0). The layer keeps its own random
            state, which ``fmnist.training.set_seed`` does not reset: a second run with the
            same layer object sees different transforms than the first. Even a fresh layer
            is not bit-reproducible through :func:`make_dataset` once an epoch has several
            batches, since the parallel ``map`` calls draw from that state in no fixed order.

    Every layer is a stock Keras layer, so in inference (``training=False``) the stack is the
    identity, on every backend. Inside :func:`make_dataset` (tf.data) the image layers run as
    TensorFlow ops on any backend, and the noise is added by the pipeline with the noise
    layer's ``stddev`` and ``seed`` (see :mod:`fmnist.backend.datasets`): same distribution,
    but not the layer's own random stream.
    """
    # Keras (and with it TensorFlow) only when a pipeline is built: `import fmnist.data`, and
    # so `fmnist data info`, stay light.
    import keras

    # Validated only: the layers below get the values as passed (seed as a Python int, which
    # Keras requires: np.int64 was refused).
    check_bool(flip, "flip")
    for label, value in (("rotation", rotation), ("noise", noise), ("erasing", erasing),
                         ("translation", translation)):  # fmt: skip
        check_real(value, label, 0.0, 1.0)
    check_erasing_scale(erasing_scale)
    seed = check_int(seed, "seed", minimum=0)
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed, name="flip"))
    if rotation:
        layers.append(
            keras.layers.RandomRotation(rotation, fill_mode="constant", seed=seed + 1, name="rotate")
        )
    if translation:
        layers.append(
            keras.layers.RandomTranslation(
                translation, translation, fill_mode="constant", fill_value=0.0, seed=seed + 4,
                name="translate",
            )
        )  # fmt: skip
    if erasing:
        layers.append(
            keras.layers.RandomErasing(
                factor=erasing, scale=erasing_scale, fill_value=0.0, value_range=(0, 1),
                seed=seed + 2, name="erase",
            )
        )  # fmt: skip
    if noise:
        layers.append(keras.layers.GaussianNoise(noise, seed=seed + 3, name="noise"))
    if not layers:
        raise ValueError("augmentation with every transform disabled; pass augment=None instead")
    return keras.layers.Pipeline(layers, name="augmentation")


def check_erasing_scale(scale) -> tuple[float, float]:
    """``scale`` as a float pair ``(low, high)``, or a ValueError unless ``0 < low <= high <= 1``."""
    valid = f"erasing_scale must be a pair (low, high) with 0 < low <= high <= 1, got {scale!r}"
    if isinstance(scale, (str, bytes)):
        raise ValueError(valid)
    try:
        low, high = scale
    except (TypeError, ValueError):
        raise ValueError(valid) from None
    low = check_real(low, "erasing_scale low", 0.0, 1.0, low_open=True)
    high = check_real(high, "erasing_scale high", 0.0, 1.0, low_open=True)
    if low > high:
        raise ValueError(valid)
    return low, high


def make_dataset(
    x: np.ndarray,
    y: np.ndarray | None = None,
    batch_size: int = 128,
    shuffle: bool = False,
    seed: int = 0,
    augment=None,
    cache: bool = True,
    start_epoch: int = 0,
):
    """A batched, cached and prefetched ``tf.data.Dataset`` of ``(x, y)`` (or ``x`` alone).

    With ``shuffle`` every pass over the dataset that reads it (every epoch of ``fit``) sees
    the pairs in a new order: the same sequence of orders for the same ``seed`` (and the same
    global seed, ``fmnist.training.set_seed``). ``start_epoch=k`` starts that sequence at its
    order ``k``, so the first pass is ordered as pass ``k`` of a fresh dataset: an interrupted
    run goes on with the orders it would have seen (``fmnist.training.train(backup_dir=...)``).

    Augmentation runs after batching (vectorized) and after the cache, so every epoch sees
    fresh random transforms. MLP inputs ``(N, 784)`` are reshaped to images for augmentation
    and back. The dataset prefetches ``fmnist.backend.PREFETCH_BATCHES`` batches with tf.data's autotuner
    switched off (it cost whole epochs on one core on a 2-core CPU; see
    :func:`fmnist.backend.tf_dataset`). The same dataset feeds ``fit`` on every Keras backend.
    """
    batch_size = check_int(batch_size, "batch_size")
    shuffle, cache = check_bool(shuffle, "shuffle"), check_bool(cache, "cache")
    seed = check_int(seed, "seed", minimum=0)
    start_epoch = check_int(start_epoch, "start_epoch", minimum=0)
    # Numbers only, as fmnist.training.train requires; not check_labels: y may also be
    # regression targets, negative or multi-column.
    x, y = check_samples(x, y, "make_dataset", numeric=True)
    if augment is not None:
        if not callable(augment):
            raise TypeError(
                "augment must be a Keras layer (e.g. build_augmentation(...)), a callable "
                f"images -> images taking training=True, or None; got {type(augment).__name__}"
            )
        if x.shape[1:] not in IMAGE_LAYOUTS:
            raise ValueError(f"augmentation needs 28x28 images, got samples of shape {x.shape[1:]}")
    from fmnist.backend import tf_dataset  # TensorFlow: only when a pipeline is built (as above)

    return tf_dataset(x, y, batch_size, shuffle, seed, augment, cache, image_shape=(28, 28, 1),
                      start_epoch=start_epoch)
