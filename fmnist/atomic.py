"""Atomic file writes: a reader or a crash sees the old file or the new one, never half of one.

Used for every result the package writes (results tables, recorded results, reports, data
files). Model files and downloads follow the same temp-file + ``os.replace`` pattern where
Keras or the network writes the bytes (see ``fmnist.model.io`` and ``fmnist.data.sources``).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same directory and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique temp name in the same directory (os.replace is only atomic within a filesystem);
    # plain open() keeps the umask's permissions, unlike mkstemp's 0600, for shared run dirs.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
