"""Shared pieces of the command line: exit codes, output-path checks, built-in network arguments."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from .._json_files import jsonable  # noqa: F401 - re-exported for the subcommands

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

    net = Network.load(path)
    return net, saved_label(net, path)


def saved_label(net, path: Path) -> str:
    """The label of a network loaded from ``path``: the name it was saved with (``run --save-state`` stores the
    built-in's name, e.g. ``cuba``), else the file's stem (files saved without a name)."""
    name = net.name
    return name if isinstance(name, str) and name.strip() else path.stem


class HelpFormatter(argparse.HelpFormatter):
    """``--help`` of every ``memr-snn`` command: defaults shown, example lines kept as written.

    * An option with a default (not None, not False) and no default already named in its help gets
      ``(default: VALUE)`` appended, as :class:`argparse.ArgumentDefaultsHelpFormatter` does.
    * Description and epilog are wrapped paragraph by paragraph (one per line of the text); lines that
      start with spaces (the examples) are kept verbatim.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("%(default)" in text or "default" in text.lower() or default is None or default is False
                or default is argparse.SUPPRESS or not action.option_strings):
            return text
        if isinstance(default, (list, tuple)):  # nargs="+": shown as typed (0 1 2), not as a Python list
            return text + " (default: " + " ".join(str(v) for v in default).replace("%", "%%") + ")"
        return text + " (default: %(default)s)"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            if line.startswith(" ") or not line.strip():
                lines.append(indent + line)
            else:
                lines.append(super()._fill_text(line, width, indent))
        return "\n".join(lines)


def examples(*lines: str) -> str:
    """An ``--help`` epilog: ``example:`` (``examples:``) and the command lines, indented."""
    head = "example:" if len(lines) == 1 else "examples:"
    return head + "\n" + "\n".join("  " + line for line in lines)


def add_progress_options(parser: argparse.ArgumentParser, what: str = "progress",
                         default: str = "a bar when stderr is a terminal, a few plain lines otherwise") -> None:
    """``--progress`` / ``--no-progress`` (dest ``progress``: True, False, or None = the command's default).

    Every command reads the three values the same way (:func:`memr_snn.progress.ProgressBar`): ``None``
    reports progress on stderr as a tqdm bar when stderr is a terminal and as a few plain lines
    otherwise; ``--progress`` also reports where the default stays quiet (``run``: short runs);
    ``--no-progress`` writes nothing.  Progress never goes to stdout.
    """
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--progress", dest="progress", action="store_true", default=None,
                       help=f"always report {what} on stderr (default: {default})")
    group.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                       help=f"never report {what}")


def add_json_option(parser: argparse.ArgumentParser, what: str = "the results") -> None:
    """``--json``: print ``what`` as one JSON document on stdout instead of the table (as every experiment does)."""
    parser.add_argument("--json", action="store_true",
                        help=f"print {what} as one JSON document on stdout instead of the table "
                             "(progress and notes go to stderr)")


def print_json(doc: Any) -> None:
    """Print ``doc`` as the one JSON document of a ``--json`` command (indented, keys in insertion order)."""
    print(json.dumps(doc, indent=2))


def note(text: str) -> None:
    """A line for the user that is not the result (``wrote ...``): on stderr, so ``--json`` keeps stdout clean."""
    print(text, file=sys.stderr, flush=True)


def builtin_names() -> str:
    """``cuba, coba, alif``: the built-in networks (:data:`memr_snn.networks.BUILTIN`), for help texts."""
    from ..networks import BUILTIN

    return ", ".join(BUILTIN)


class HiddenAlias(argparse.Action):
    """A deprecated spelling of an option (``map --n-neurons`` for ``--n``): stores into the same ``dest``,
    is hidden from ``--help`` (``help=argparse.SUPPRESS``), and records the spelling used in
    ``<dest>_option`` so error messages name the option the user typed."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_option", option_string)


def add_alias(parser: argparse.ArgumentParser, alias: str, dest: str, **kwargs) -> None:
    """Add the hidden deprecated ``alias`` of the option stored in ``dest`` (:class:`HiddenAlias`)."""
    parser.add_argument(alias, dest=dest, action=HiddenAlias, default=argparse.SUPPRESS, help=argparse.SUPPRESS,
                        **kwargs)
