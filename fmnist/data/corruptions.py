"""Deterministic, seeded corruptions of 28x28 images, each at severities 0 (identity) to 5.

In the spirit of ImageNet-C / MNIST-C (Hendrycks & Dietterich 2019; Mu & Gilmer 2019), scaled
to Fashion-MNIST's 28x28 grayscale images in [0, 1]. :data:`SEVERITY_PARAMETERS` lists the
parameter of every corruption at every severity; it grows with the severity (a test pins it):

=================  ==============================================================
corruption         parameter (severity 1 -> 5)
=================  ==============================================================
gaussian_noise     noise standard deviation, added then clipped to [0, 1]
gaussian_blur      blur sigma in pixels
contrast           reduction ``1 - c``: pixels move towards the image mean by ``c``
brightness         value added, then clipped to [0, 1]
shift              pixels moved in a random one of the four directions
rotation           degrees, random sign per image
hflip / vflip      share of the images flipped (which ones: seeded)
occlusion          side in pixels of one zero-filled square at a random place
=================  ==============================================================

Example::

    >>> import numpy as np
    >>> from fmnist.data.corruptions import corrupt
    >>> x = np.random.default_rng(0).random((4, 28, 28)).astype("float32")
    >>> bool(np.array_equal(corrupt(x, "rotation", 0), x))
    True
    >>> corrupt(x, "gaussian_blur", 3).shape
    (4, 28, 28)

SciPy's ``ndimage`` does the geometry (no Keras layer gives seeded per-severity control in
NumPy); the rest is NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from fmnist.checks import check_finite, check_int, check_samples
from fmnist.data.preprocessing import IMAGE_LAYOUTS

__all__ = ["CORRUPTIONS", "SEVERITIES", "SEVERITY_PARAMETERS", "corrupt", "corruption_parameter"]

#: Severity 0 is the clean image; 1..5 grow harsher.
SEVERITIES = (0, 1, 2, 3, 4, 5)

#: Parameter of each corruption at severities 0..5 (0 is always the identity).
SEVERITY_PARAMETERS: dict[str, tuple[float, ...]] = {
    "gaussian_noise": (0.0, 0.04, 0.08, 0.12, 0.18, 0.26),
    "gaussian_blur": (0.0, 0.5, 0.75, 1.0, 1.5, 2.0),
    "contrast": (0.0, 0.2, 0.4, 0.55, 0.7, 0.85),
    "brightness": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
    "shift": (0, 1, 2, 3, 4, 5),
    "rotation": (0.0, 5.0, 10.0, 15.0, 22.5, 30.0),
    "hflip": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
    "vflip": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
    "occlusion": (0, 4, 6, 8, 10, 12),
}
CORRUPTIONS = tuple(SEVERITY_PARAMETERS)
_SIDE = 28


def corruption_parameter(name: str, severity: int) -> float:
    """The parameter of corruption ``name`` at ``severity`` (see :data:`SEVERITY_PARAMETERS`)."""
    if name not in SEVERITY_PARAMETERS:
        raise ValueError(f"unknown corruption {name!r}; valid names: {', '.join(CORRUPTIONS)}")
    severity = check_int(severity, "severity", minimum=0)
    if severity > SEVERITIES[-1]:
        raise ValueError(f"severity must be an int in [0, {SEVERITIES[-1]}], got {severity}")
    return SEVERITY_PARAMETERS[name][severity]


def _as_images(x: Any) -> tuple[np.ndarray, tuple[int, ...]]:
    x = check_finite(check_samples(x, caller="corrupt", numeric=True)[0], "x")
    if x.shape[1:] not in IMAGE_LAYOUTS:
        raise ValueError(
            f"corrupt: x must hold 28x28 images of shape (N, 28, 28), (N, 28, 28, 1) or (N, 784), "
            f"got {x.shape}"
        )
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"corrupt: x must be scaled to [0, 1] (fmnist.data.to_float), got values in "
                         f"[{x.min():g}, {x.max():g}]")  # fmt: skip
    return x.reshape(-1, _SIDE, _SIDE).astype(np.float32), x.shape


def corrupt(x: Any, name: str, severity: int, seed: int = 0) -> np.ndarray:
    """``x`` (images in [0, 1], any of the three layouts) with corruption ``name`` applied at
    ``severity``, as float32 in the layout it came in. The same ``seed`` gives the same result;
    severity 0 returns an unchanged copy."""
    param = corruption_parameter(name, severity)
    seed = check_int(seed, "seed", minimum=0)
    images, shape = _as_images(x)
    if severity == 0:
        return images.reshape(shape).copy()
    # One stream per (seed, corruption), the same at every severity: the same images are
    # flipped first, shifted the same way, noised by the same draw scaled up, so the damage
    # grows with the severity instead of being redrawn.
    rng = np.random.default_rng([seed, CORRUPTIONS.index(name)])
    out = _APPLY[name](images, param, rng)
    return np.clip(out, 0.0, 1.0).astype(np.float32).reshape(shape)


def _noise(images, sigma, rng):
    return images + sigma * rng.standard_normal(images.shape)


def _blur(images, sigma, rng):
    return ndimage.gaussian_filter(images, sigma=(0, sigma, sigma), mode="constant", cval=0.0)


def _contrast(images, reduction, rng):
    mean = images.mean(axis=(1, 2), keepdims=True)
    return mean + (images - mean) * (1.0 - reduction)


def _brightness(images, delta, rng):
    return images + delta


def _shift(images, pixels, rng):
    directions = np.array([(0, 1), (0, -1), (1, 0), (-1, 0)]) * int(pixels)
    chosen = directions[rng.integers(0, 4, len(images))]
    return np.stack([ndimage.shift(img, tuple(d), order=0, mode="constant", cval=0.0)
                     for img, d in zip(images, chosen)])  # fmt: skip


def _rotation(images, degrees, rng):
    signs = rng.choice([-1.0, 1.0], len(images))
    return np.stack([ndimage.rotate(img, s * degrees, reshape=False, order=1, mode="constant", cval=0.0)
                     for img, s in zip(images, signs)])  # fmt: skip


def _flip(axis):
    def apply(images, share, rng):
        flipped = rng.permutation(len(images))[: int(round(share * len(images)))]
        out = images.copy()
        out[flipped] = np.flip(images[flipped], axis=axis)
        return out

    return apply


def _occlusion(images, side, rng):
    side = int(side)
    out = images.copy()
    corners = np.floor(rng.random((len(images), 2)) * (_SIDE - side + 1)).astype(int)
    for img, (r, c) in zip(out, corners):
        img[r:r + side, c:c + side] = 0.0
    return out


_APPLY = {
    "gaussian_noise": _noise, "gaussian_blur": _blur, "contrast": _contrast,
    "brightness": _brightness, "shift": _shift, "rotation": _rotation,
    "hflip": _flip(2), "vflip": _flip(1), "occlusion": _occlusion,
}  # fmt: skip
