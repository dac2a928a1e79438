"""The ``tf.data`` input pipeline behind ``fmnist.data.make_dataset``, on every Keras backend.

``model.fit`` accepts a ``tf.data.Dataset`` on tensorflow, jax and torch (Keras converts each
batch to the backend's arrays), so one pipeline serves all three. Augmentation runs inside
``Dataset.map``, i.e. in a TensorFlow graph: Keras's image preprocessing layers (RandomFlip,
RandomRotation, RandomTranslation, RandomErasing, ...) switch to TensorFlow ops there on
their own, whatever the backend. ``keras.layers.GaussianNoise`` does not (on jax/torch it
raises NotImplementedError inside ``map``), so the pipeline applies its noise itself, with
TensorFlow ops and the layer's ``stddev`` and ``seed`` (:func:`_apply_augmentation`), on every
backend alike. Outside ``tf.data`` (``layer(x, training=...)``) the layer stays Keras's own:
the same noise distribution, and the identity at inference.
"""

from __future__ import annotations

import keras
import numpy as np

from fmnist.backend.quiet import import_backend_quietly
from fmnist.backend.runtime import backend_name

__all__ = ["PREFETCH_BATCHES", "tf_dataset"]

tf = import_backend_quietly()  # a hard dependency on every backend (the input pipeline)

#: Batches :func:`tf_dataset` prepares ahead of the training step (a fixed prefetch buffer,
#: since tf.data's autotuner is switched off there).
PREFETCH_BATCHES = 2


def _flatten_augmentation(augment) -> list:
    """The layers of ``augment`` in call order (nested ``keras.layers.Pipeline`` unrolled)."""
    if isinstance(augment, keras.layers.Pipeline):
        return [leaf for layer in augment.layers for leaf in _flatten_augmentation(layer)]
    return [augment]


def _noise_op(layer: keras.layers.GaussianNoise):
    """``images + N(0, stddev)`` as TensorFlow ops, drawn from a generator seeded like the layer."""
    seed = layer.seed if layer.seed is not None else int(np.random.default_rng().integers(2**31))
    generator = tf.random.Generator.from_seed(int(seed))
    stddev = float(layer.stddev)

    def add_noise(images):
        if stddev <= 0:
            return images
        return images + generator.normal(tf.shape(images), stddev=stddev, dtype=images.dtype)

    return add_noise


def _apply_augmentation(augment):
    """A function ``images -> augmented images`` (TensorFlow ops) for ``Dataset.map``."""
    steps = []
    for layer in _flatten_augmentation(augment):
        if isinstance(layer, keras.layers.GaussianNoise):
            steps.append((layer, _noise_op(layer)))
        else:
            steps.append((layer, lambda images, layer=layer: layer(images, training=True)))

    def apply(images):
        for layer, step in steps:
            try:
                images = step(images)
            except NotImplementedError as error:
                raise TypeError(
                    f"augmentation layer {layer.name!r} ({type(layer).__name__}) cannot run inside "
                    f"tf.data on the {backend_name()!r} backend: use Keras's image preprocessing "
                    "layers (RandomFlip, RandomRotation, RandomTranslation, RandomErasing, ...) or "
                    "GaussianNoise, which run on every backend"
                ) from error
        return images

    return apply


def tf_dataset(
    x: np.ndarray,
    y: np.ndarray | None,
    batch_size: int,
    shuffle: bool,
    seed: int,
    augment,
    cache: bool,
    image_shape: tuple[int, ...] = (28, 28, 1),
    start_epoch: int = 0,
):
    """A batched (cached, shuffled, augmented) and prefetched ``tf.data.Dataset``.

    The arguments are ``fmnist.data.make_dataset``'s, already checked there. ``augment`` runs
    after batching (vectorized) and after the cache, so every epoch sees fresh transforms; the
    samples are reshaped to ``image_shape`` for it and back to their own shape. A shuffled
    dataset draws a new order for every pass that reads it, from the shuffle's seed generator;
    ``start_epoch`` draws (and drops) that many orders first.
    """
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if cache:
        ds = ds.cache()
    if shuffle:
        # One shuffle of the (x, y) pairs, so images and labels move together. An iterator of
        # the shuffle draws its order from the seed generator when it is created, and Keras's
        # epoch loops also create iterators they never read (how many differs by backend:
        # after E epochs tensorflow has created 2E, jax and torch E + 1). So flat_map starts the
        # shuffle only when a pass reads its first element: one order per pass read, whatever
        # the backend, and a run resumed at epoch k skips k orders (below) to see the batches
        # the uninterrupted run saw.
        shuffled = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        for _ in range(start_epoch):
            iter(shuffled)  # draws one order without reading an element
        ds = tf.data.Dataset.from_tensors(0).flat_map(lambda _: shuffled)
        ds = ds.apply(tf.data.experimental.assert_cardinality(len(x)))  # flat_map hides it
    ds = ds.batch(batch_size)
    if augment is not None:
        sample_shape = tuple(x.shape[1:])
        apply = _apply_augmentation(augment)

        def _augment(images):
            images = tf.reshape(images, (-1, *image_shape))
            return tf.reshape(apply(images), (-1, *sample_shape))

        if y is None:
            ds = ds.map(_augment, num_parallel_calls=tf.data.AUTOTUNE)
        else:
            ds = ds.map(lambda a, b: (_augment(a), b), num_parallel_calls=tf.data.AUTOTUNE)
    # tf.data's autotuner off: with it on, 13 of 35 steady-state epochs of cnn_medium (5 probe
    # runs) ran on one of the two cores (CPU/wall 1.04 instead of 1.95, epochs ~1.9x longer) on
    # this 2-core machine; with it off, 28 of 28 used both cores (same data, same results).
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(PREFETCH_BATCHES).with_options(options)
