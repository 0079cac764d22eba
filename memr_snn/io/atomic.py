"""Atomic file replacement: a file is either its old complete self or its new complete self.

Used by the checkpoint container and the dataset cache, so that an interrupted write (a crash, a
full disk, Ctrl-C) never leaves a truncated file where a good one is expected.

Rules of :func:`atomic_write`:

* **Only regular files are replaced.**  A target that exists and is a directory, a FIFO (named
  pipe), a character or block device or a socket is refused *before* anything is opened or
  created, so a mistyped path such as ``/dev/sda`` or a pipe another program reads from is left
  exactly as it was.  A **symbolic link** is replaced by the new file itself (as
  :func:`os.replace` does): the link is never followed, so whatever it points to (a file, a
  device) is never written.
* **Temporary files carry their writer.**  The new content is written to
  ``.<name>.<host>-<pid>.<random>.tmp`` beside the target (``host``: 8 hex digits of a hash of
  the host name, ``pid``: the writer's process id).  A writer killed with SIGKILL or by a power
  loss cannot remove its temporary file; the next write to the same target removes such stale
  files: those of this host whose process no longer exists.  A temporary file of a live process
  (of this or any other host), or one whose name does not follow this pattern, is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "atomic_write", "fsync_directory", "NotARegularFileError", "stale_temporaries",
    "write_text", "save_figure", "save_npz",
]


class NotARegularFileError(OSError):
    """The target of an atomic write exists and is not a regular file (nor a symbolic link).

    Raised before anything is opened or created; the target is untouched.
    """


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


def _host_tag() -> str:
    """8 hex digits naming this host in temporary file names (pids are only unique per host)."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_target(path: Path) -> None:
    """Raise unless ``path`` is absent, a regular file or a symbolic link (checked with lstat)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return
    what = next((name for test, name in _KINDS if test(mode)), f"not a regular file (mode {oct(mode)})")
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory; pass a file path", str(path))
    raise NotARegularFileError(
        errno.EEXIST,
        f"refusing to replace it: it is {what}; only a regular file, a symbolic link or a new path "
        "can be written",
        str(path),
    )


def _pid_alive(pid: int) -> bool:
    """True if a process ``pid`` exists on this host (or may exist: when in doubt, True)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to another user, or cannot be told: keep its file
    return True


def stale_temporaries(path: str | Path) -> list[Path]:
    """Temporary files of earlier writes to ``path`` whose writer (on this host) is dead.

    Parameters
    ----------
    path : str or os.PathLike
        The target of :func:`atomic_write`.

    Returns
    -------
    list of pathlib.Path
        Regular files named ``.<name>.<host>-<pid>.<random>.tmp`` beside ``path`` with this host's
        tag and the pid of a process that no longer exists (the calling process excluded).
    """
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.([0-9a-f]{{8}})-(\d+)\.[0-9a-f]{{12}}\.tmp$")
    host = _host_tag()
    me = os.getpid()
    out = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or match.group(1) != host:
            continue
        pid = int(match.group(2))
        if pid == me or _pid_alive(pid):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
        except OSError:
            continue
        out.append(Path(entry.path))
    return out


def _remove_stale(path: Path) -> None:
    for tmp in stale_temporaries(path):
        try:
            os.unlink(tmp)
        except OSError:
            pass  # gone already (another writer cleaned it) or not ours to remove


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """Write ``path`` through a binary handle to a temporary file beside it, then rename.

    The temporary file (``.<name>.<host>-<pid>.<random>.tmp`` in the same folder, created
    exclusively with the permissions of a normal ``open``) is flushed and fsynced, renamed over
    ``path`` with :func:`os.replace`, and the folder is fsynced. If the body raises, the temporary
    file is removed and ``path`` is untouched.  Stale temporary files of earlier writes to ``path``
    whose writer process is dead are removed first (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write: a new path, an existing regular file, or a symbolic link (the link is
        replaced, what it points to is not written).

    Raises
    ------
    IsADirectoryError
        ``path`` is a directory.
    NotARegularFileError
        ``path`` exists and is a FIFO, a device or a socket (checked before anything is opened;
        also checked again just before the rename).
    """
    path = Path(path)
    _check_target(path)
    folder = path.parent
    _remove_stale(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    prefix = f".{path.name}.{_host_tag()}-{os.getpid()}."
    while True:
        tmp = folder / f"{prefix}{secrets.token_hex(6)}.tmp"
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
        _check_target(path)  # the target may have changed while we wrote
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_directory(folder)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, with the same target checks as :func:`atomic_write`."""
    with atomic_write(path) as handle:
        handle.write(text.encode("utf-8"))
    return Path(path)


def save_figure(fig, path: str | Path, **kwargs) -> Path:
    """``fig.savefig`` through :func:`atomic_write`; the format comes from the suffix (as matplotlib's)."""
    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".").lower() or "png")
    with atomic_write(path) as handle:
        fig.savefig(handle, **kwargs)
    return path


def save_npz(path: str | Path, compressed: bool = True, **arrays) -> Path:
    """``np.savez[_compressed]`` through :func:`atomic_write` (no ``.npz`` suffix is appended)."""
    import numpy as np

    with atomic_write(path) as handle:
        (np.savez_compressed if compressed else np.savez)(handle, **arrays)
    return Path(path)
