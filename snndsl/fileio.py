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
    """Call ``write(f)`` on a temporary binary file and rename it to ``path`` once complete."""
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
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def atomic_savez(path: str | Path, **arrays) -> Path:
    """``numpy.savez`` atomically (``path`` keeps its exact name)."""
    import numpy as np

    return atomic_write(path, lambda f: np.savez(f, **arrays))
