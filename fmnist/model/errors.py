"""Exceptions shared by the model, training and evaluation modules."""

from __future__ import annotations


class UnknownNameError(ValueError, KeyError):
    """An unknown preset/activation/initializer/optimizer/task name.

    Subclasses both ``ValueError`` and ``KeyError`` (a registry lookup failed), and prints its
    message without the quotes ``KeyError`` normally adds.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InputShapeError(ValueError):
    """Data whose shape does not fit the model's input."""
