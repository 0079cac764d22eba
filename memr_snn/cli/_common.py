"""Shared pieces of the command line: exit codes, output-path checks, built-in network arguments."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

#: exit status of ``memr-snn`` by outcome
EXIT_CODES = {"ok": 0, "failure": 1, "usage": 2, "interrupted": 130}


class OutputPathError(ValueError):
    """An output path (``--out``, ``--save-state``) that cannot be written; raised before any work."""


def _probe_writable(folder: Path, option: str, path: Path) -> None:
    """Refuse ``folder`` unless a file can be created in it (a real write: works as root and on read-only mounts)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{option} {path}: cannot write in folder {folder} (permission denied)")
    try:
        fd, probe = tempfile.mkstemp(prefix=".memr-snn-write-test-", dir=folder)
    except OSError as exc:
        raise OutputPathError(f"{option} {path}: cannot write in folder {folder} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def check_output_path(path: str | os.PathLike, kind: Literal["dir", "file"], option: str = "--out",
                      files: Sequence[str] = ()) -> Path:
    """Refuse an output path that cannot be written, before any building or simulating.

    Parameters
    ----------
    path : str or os.PathLike
        The output folder (``kind="dir"``) or file (``kind="file"``).
    kind : {"dir", "file"}
        ``"dir"``: ``path`` is a writable folder, or can be created (its nearest existing
        ancestor is a writable folder).  ``"file"``: ``path`` is a regular file or does
        not exist yet, and its parent folder exists and is writable.
    option : str
        The command-line option named in the error message.
    files : sequence of str
        Names the command writes inside the folder (``kind="dir"``): any that exists must
        be a regular file (a folder or FIFO there would fail only after the work).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputPathError
        With the option, the path and the reason.  Writability is probed by creating and
        removing a temporary file, so a read-only mount is refused also for root.
    """
    if isinstance(path, str) and not path.strip():
        raise OutputPathError(f"{option}: the path is empty")
    path = Path(path)
    if kind == "file":
        if path.exists():
            mode = path.stat().st_mode
            if not stat.S_ISREG(mode):
                raise OutputPathError(f"{option} {path}: is {_kind(mode)}; expected a regular file or a new path")
        parent = path.parent
        if not parent.exists():
            raise OutputPathError(f"{option} {path}: its folder {parent} does not exist (create it first)")
        if not parent.is_dir():
            raise OutputPathError(f"{option} {path}: {parent} is {_kind(parent.stat().st_mode)}, not a folder")
        _probe_writable(parent, option, path)
        return path
    if kind != "dir":
        raise ValueError(f"kind must be 'dir' or 'file', got {kind!r}")
    if path.exists():
        mode = path.stat().st_mode
        if not stat.S_ISDIR(mode):
            raise OutputPathError(f"{option} {path}: is {_kind(mode)}; expected a folder (or a new path to create)")
        for name in files:
            inner = path / name
            if inner.exists() and not stat.S_ISREG(inner.stat().st_mode):
                raise OutputPathError(f"{option} {path}: {inner} is {_kind(inner.stat().st_mode)}; "
                                      f"the command writes a regular file there")
        _probe_writable(path, option, path)
        return path
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputPathError(f"{option} {path}: cannot create the folder: {ancestor} is "
                              f"{_kind(ancestor.stat().st_mode)}, not a folder")
    _probe_writable(ancestor, option, path)
    return path


def _check_builtin_size(name: str, n: int, option: str) -> None:
    """Refuse a built-in network size before building: ``n >= 5`` and its memory estimate fits.

    Parameters
    ----------
    name : str
        Built-in network name (``cuba``, ``coba``, ``alif``).
    n : int
        Number of neurons.
    option : str
        The command-line option that gave ``n`` (named in the message).

    Raises
    ------
    ValueError
        ``n < 5``.
    MemoryError
        The estimate (:func:`memr_snn.networks.vogels_abbott.estimate_memory`) exceeds the
        available memory; the message gives both and the largest ``n`` that fits.
    """
    from ..info import available_memory_bytes
    from ..networks.vogels_abbott import SYNAPSES_PER_NEURON, estimate_memory

    if n < 5:
        raise ValueError(f"{option} must be >= 5 neurons (80 % excitatory, 20 % inhibitory), got {n}")
    n_init = 3 if name == "coba" else 1
    need = estimate_memory(n, n_init)
    avail = available_memory_bytes()
    if avail is not None and need > avail:
        fits = int(avail / (estimate_memory(1000, n_init) / 1000))
        raise MemoryError(
            f"{option} {n}: the {name} network needs about {need / 2**30:.2f} GiB "
            f"({SYNAPSES_PER_NEURON * n:.3g} synapses) but only {avail / 2**30:.2f} GiB are available; "
            f"{option} must be between 5 and about {fits} on this machine; nothing was built"
        )


def _network_from_arg(network: str, *, n: int, seed: int, dt: float, record: bool, option: str = "--n"):
    """``(Network, label)`` for a ``--network`` argument: a built-in name or a saved network file."""
    from ..networks import BUILTIN

    if network in BUILTIN:
        _check_builtin_size(network, n, option)
        return BUILTIN[network](n=n, seed=seed, dt=dt, record=record).net, network
    path = Path(network)
    if not path.is_file():
        raise SystemExit(f"memr-snn: error: network {network!r} is neither a built-in "
                         f"({', '.join(BUILTIN)}) nor a file")
    from .. import Network

    return Network.load(path), path.stem
