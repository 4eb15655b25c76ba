"""Writing files so that a crash never leaves half of one behind, with the permissions of the user's umask.

This module imports only the standard library.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def file_mode() -> int:
    """The mode a new file gets from ``open()``: 0o666 less the process umask (0o644 for umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Write `path` through ``write(file)`` into a temporary sibling, then rename it into place.

    The temporary file is created private (``mkstemp``) and gets the umask's mode before the rename, so
    collaborators on a shared filesystem can read results as they read every other file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
