"""Atomic file output: a temporary file in the target's folder, flushed, fsynced, then renamed over it.

A crash or an error never leaves a half-written output file; an existing file is replaced whole or not at all.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Callable


def atomic_write(path: str | Path, write: Callable[[io.BufferedWriter], None]) -> Path:
    """Call ``write(f)`` on a temporary binary file and rename it to ``path`` once complete.

    The temporary file is created in ``path``'s folder (made if missing), with the permission bits of the file
    it replaces (or, for a new file, ``0o666`` less the umask), flushed and fsynced before an atomic
    :func:`os.replace`. A symlink at ``path`` is followed: its target is replaced and the link kept.

    Returns the path actually written (the link's target for a symlink). Any exception from ``write`` or
    from the file system (``OSError``) propagates after the temporary file is removed; ``path`` is then
    untouched.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()      # write through a link, do not replace it
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777   # keep an existing file's permissions
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask                 # what open() would have given a new file
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (:func:`atomic_write`); returns the path written."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def atomic_savez(path: str | Path, **arrays) -> Path:
    """``numpy.savez(path, **arrays)`` atomically (:func:`atomic_write`); returns the path written.

    ``path`` keeps its exact name: unlike ``numpy.savez`` given a file name, no ``.npz`` is appended.
    """
    import numpy as np

    return atomic_write(path, lambda f: np.savez(f, **arrays))
