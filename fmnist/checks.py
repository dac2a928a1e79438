"""Argument checks shared by the whole package.

Counts, sizes, seeds and timeouts used to be validated inline in each module, with slightly
different wording and behaviour (some accepted ``True`` as 1 or rejected NumPy integers).
:func:`check_int` gives every integer argument error one wording and one behaviour.

Pure Python + NumPy: importing this module must stay cheap (no TensorFlow/Keras).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_int"]


def check_int(
    value: Any, name: str, minimum: int = 1, *, allow_none: bool = False, note: str = ""
) -> int | None:
    """Return ``int(value)`` (or None when allowed); raise ValueError naming the valid values.

    bools are rejected (``True`` is an int in Python, but never a meaningful count); Python
    and NumPy integers are accepted. ``note`` is extra text for the message, such as
    ``" (number of folds)"`` or ``" (seconds)"``.

    >>> check_int(5, "epochs")
    5
    >>> check_int(np.int64(3), "k", minimum=2)
    3
    >>> check_int(None, "patience", minimum=0, allow_none=True) is None
    True
    >>> check_int(1, "k", minimum=2, note=" (number of folds)")
    Traceback (most recent call last):
        ...
    ValueError: k must be an int >= 2 (number of folds), got 1
    >>> check_int(True, "batch_size")
    Traceback (most recent call last):
        ...
    ValueError: batch_size must be an int >= 1, got True
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        or_none = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an int >= {minimum}{note}{or_none}, got {value!r}")
    return int(value)
