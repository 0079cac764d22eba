"""Atomic file replacement: a file is either its old complete self or its new complete self.

Used by the checkpoint container and the dataset cache, so that an interrupted write (a crash, a
full disk, Ctrl-C) never leaves a truncated file where a good one is expected.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "fsync_directory"]


def fsync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); silently skipped where unsupported."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """Write ``path`` through a binary handle to a temporary file beside it, then rename.

    The temporary file (``.<name>.<random>.tmp`` in the same folder, created exclusively with the
    permissions of a normal ``open``) is flushed and fsynced, renamed over ``path`` with
    :func:`os.replace`, and the folder is fsynced. If the body raises, the temporary file is
    removed and ``path`` is untouched.

    Raises
    ------
    IsADirectoryError
        ``path`` is a directory.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory; pass a file path", str(path))
    folder = path.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)  # 0o666 & ~umask, like a normal open()
            break
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_directory(folder)
