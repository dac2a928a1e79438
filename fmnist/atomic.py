"""Atomic file writes: a reader or a crash sees the old file or the new one, never half of one.

Every file the package writes goes through here: results tables, recorded results, reports,
data files (:func:`atomic_write_text`, :func:`atomic_write_bytes`), files whose bytes
Keras or the network write (:func:`atomic_path`: ``fmnist.model.io``, ``fmnist.data.sources``),
and sets of files that belong together (:func:`atomic_directory`: the training snapshots of
``fmnist.callbacks.TrainingBackup``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary path next to ``path``; on success rename it over ``path``.

    The block writes the file at the yielded path (e.g. ``model.save(tmp)``); when it ends
    normally the file is flushed to disk and renamed over ``path`` with ``os.replace``. If the
    block raises, the temporary file is removed and ``path`` is left untouched; so is ``path``
    when the block wrote no file (e.g. a checkpoint callback that did not save this epoch).
    The parent directory is created.

    The file keeps the permissions of a plain new file (``0o666 & ~umask``), unlike
    ``tempfile.mkstemp``'s 0600, so models, data and results stay readable in shared
    directories.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory: os.replace is only atomic within one filesystem. Hidden, unique per
    # process and call, and ending in the target's suffix (Keras's save() requires ".keras").
    # Not pre-created (as mkstemp would, with mode 0600): the writer's open() applies the umask.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        if not os.path.lexists(tmp):  # nothing written: nothing to publish
            return
        with open(tmp, "rb") as handle:  # durable before it becomes visible under the name
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`). Returns the path."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically. Returns the path."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return Path(path)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary directory next to ``path``; on success rename it to ``path``.

    For files that are only valid together (weights and the epoch they belong to): the block
    writes them into the yielded directory; when it ends normally every file is flushed to disk
    and the directory is renamed to ``path`` in one step, so a reader or a crash sees all of
    them or none. If the block raises, the temporary directory is removed. ``path`` must not
    exist yet (a directory cannot be replaced in one step): publish each version under a new
    name and delete the old one after.

    Raises:
        FileExistsError: ``path`` exists.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(path):
        raise FileExistsError(f"{path} exists; atomic_directory publishes new directories only")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir()
    try:
        yield tmp
        for file in sorted(tmp.rglob("*")):
            if file.is_file() and not file.is_symlink():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
