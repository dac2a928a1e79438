"""The one set-up call at the top of every notebook."""

from __future__ import annotations

import os
from pathlib import Path

from fmnist.backend import import_backend_quietly
from fmnist.course.paths import HOME_ENV
from fmnist.course.profiles import Profile, get_profile
from fmnist.training import set_seed

__all__ = ["start_notebook"]


def start_notebook(seed: int = 0, profile: str | None = None, home: str | os.PathLike | None = None) -> Profile:
    """Quiet logs, inline figures, seeds; prints the profile in one line and returns it.

    Args:
        seed: passed to :func:`fmnist.training.set_seed`.
        profile: a profile name; default ``$FMNIST_PROFILE``, else ``"quick"``.
        home: the course's home directory (runs and records go there) when ``$FMNIST_HOME``
            is not set; the course notebooks pass ``".."``, the checkout's root. An
            ``$FMNIST_HOME`` set by ``fmnist report`` or the Makefile wins.
    """
    active = get_profile(profile)  # a bad name fails before anything else changes
    if home is not None and not os.environ.get(HOME_ENV):
        directory = Path(home).resolve()
        if not directory.is_dir():
            raise ValueError(f"start_notebook: home {str(home)!r} is not a directory")
        os.environ[HOME_ENV] = str(directory)
    import_backend_quietly()
    try:  # inside IPython: show the Figures our plotting functions return as PNG
        from IPython import get_ipython  # optional: only notebooks have IPython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
    set_seed(seed)
    print(active.summary())
    return active
