"""Writing files so that a crash never leaves half of one behind, with the permissions of the user's umask,
and saying in one line why a file could not be written.

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
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise naming(e, path) from e
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise naming(e, path) from e
        raise


def naming(e: OSError, path: str | os.PathLike) -> OSError:
    """`e` again (same errno, so the same subclass), naming `path` rather than a temporary file, or no file."""
    return OSError(e.errno, e.strerror or str(e), str(path))


def describe(e: OSError, where: str | os.PathLike | None = None) -> str:
    """One line for an I/O failure: the path (`e`'s own, else `where`) and the cause.

    ``/data/run/results.npz: No space left on device``; ``/proc/x: No such file or directory``.
    """
    path = e.filename or where
    cause = e.strerror or str(e) or type(e).__name__
    return f"{path}: {cause}" if path else cause


def os_error(e: BaseException | None) -> OSError | None:
    """The I/O failure behind `e`: `e` itself or the first OSError of its causes (a logging handler that could not
    open its file raises a ValueError from one), else None."""
    while e is not None and not isinstance(e, OSError):
        e = e.__cause__
    return e
