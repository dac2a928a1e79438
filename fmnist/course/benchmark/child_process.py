"""The environment of the benchmark's child processes: they import what this process imports.

A child runs ``sys.executable`` in a temporary directory, so a package found only through the
current directory of this process (a checkout used without ``pip install``) would be missing
there. Handing the child this process's ``sys.path`` as ``PYTHONPATH`` makes it import the
same ``fmnist`` and the same libraries, however they were found.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["child_env"]


def child_env(base: Mapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """``base`` (default: ``os.environ``) with ``overrides`` and this process's import path."""
    env = {**(os.environ if base is None else base), **overrides}
    search_path = [entry for entry in sys.path if entry]  # "" is the current directory: the child's differs
    env["PYTHONPATH"] = os.pathsep.join([*search_path, *filter(None, [env.get("PYTHONPATH")])])
    return env
