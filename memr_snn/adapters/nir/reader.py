"""Reading NIR files (:func:`read_nir`), in an isolated child process by default."""

from __future__ import annotations

import os
import pickle
import signal as _signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import (
    NIRImportError,
    _nir,
)

# ----------------------------------------------------------------------------- import
#: the child process of an isolated :func:`read_nir`: ``nir.read`` (h5py), then the graph pickled to ``out``;
#: any exception is reported as ``@@ERR@@<type>: <message>`` on stderr and exit status 3
_READ_CHILD = r"""
import pickle, sys
path, out = sys.argv[1], sys.argv[2]
try:
    import nir
    graph = nir.read(path, type_check=False)
    with open(out, "wb") as fh:
        pickle.dump(graph, fh, protocol=pickle.HIGHEST_PROTOCOL)
except BaseException as exc:
    msg = str(exc).replace("\n", " ")[:400]
    sys.stderr.write("\n@@ERR@@" + type(exc).__name__ + ": " + msg + "\n")
    sys.exit(3)
"""

#: modules whose classes a pickled graph from the child may name (nir's nodes, numpy arrays, builtins)
_PICKLE_MODULES = ("nir", "numpy", "builtins", "collections", "copyreg", "_codecs")


class _GraphUnpickler(pickle.Unpickler):
    """Unpickles the child's graph, refusing any class outside :data:`_PICKLE_MODULES`."""

    def find_class(self, module: str, name: str):
        if module.split(".")[0] not in _PICKLE_MODULES:
            raise pickle.UnpicklingError(f"unexpected class {module}.{name} in the decoded graph")
        return super().find_class(module, name)


def _read_isolated(path: Path, timeout: float | None):
    """``nir.read(path)`` in a child interpreter: a crash or endless loop of h5py/HDF5 there cannot take
    this one down (the child is killed after ``timeout`` seconds)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # the child finds what this process finds
    with tempfile.TemporaryDirectory(prefix="memr_snn_nir_") as tmp:
        out = os.path.join(tmp, "graph.pickle")
        try:
            proc = subprocess.run([sys.executable, "-c", _READ_CHILD, os.fspath(path), out], capture_output=True,
                                  text=True, errors="replace", env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise NIRImportError(f"{path}: not a readable NIR file (reading took longer than {timeout:g} s; a "
                                 f"damaged file can make HDF5 loop forever; pass timeout=None to wait)") from None
        if proc.returncode != 0 or not os.path.isfile(out):
            marks = [ln[len("@@ERR@@"):] for ln in proc.stderr.splitlines() if ln.startswith("@@ERR@@")]
            if marks:
                why = marks[-1]
            elif proc.returncode < 0:
                try:
                    sig = _signal.Signals(-proc.returncode).name
                except ValueError:  # pragma: no cover - unknown signal number
                    sig = str(-proc.returncode)
                why = f"the HDF5 reader crashed ({sig})"
            else:
                why = f"the reader exited with status {proc.returncode}"
            raise NIRImportError(f"{path}: not a readable NIR file ({why})")
        try:
            with open(out, "rb") as fh:
                return _GraphUnpickler(fh).load()
        except Exception as exc:  # noqa: BLE001 - a graph the child could not hand over intact
            raise NIRImportError(f"{path}: not a readable NIR file ({type(exc).__name__}: {exc})") from None


#: default limit of an isolated read [s]: a valid file of hundreds of MB reads in seconds
READ_TIMEOUT = 120.0


def read_nir(path: str | Path, *, isolate: bool = True, timeout: float | None = READ_TIMEOUT):
    """Read a NIR (HDF5) file; any failure of the reader becomes :class:`NIRImportError`.

    Type inference is left to :func:`from_nir` (``nir.read`` type-checks only
    graphs with ``Input`` nodes, and would add nodes to others).

    Parameters
    ----------
    path : str or Path
        The ``.nir`` file.
    isolate : bool
        Decode in a child Python process (default).  h5py/HDF5 can crash the interpreter
        (segmentation fault) on some damaged files; in a child that becomes a
        :class:`NIRImportError`.  The graph comes back pickled, and only classes of ``nir``,
        ``numpy`` and the standard containers are accepted from it.  ``isolate=False`` reads in
        this process (saves the ~0.3 s process start; use it only for trusted files).
    timeout : float or None
        Seconds an isolated read may take before the child is killed and :class:`NIRImportError`
        raised (some damaged files make HDF5 loop forever); None waits indefinitely.  Ignored with
        ``isolate=False``.

    Returns
    -------
    nir.NIRGraph
        The graph as ``nir.read(path, type_check=False)`` returns it.

    Raises
    ------
    NIRImportError
        If the file is missing, not HDF5, damaged, or holds a single node instead of a graph.
    """
    nir = _nir()
    path = Path(path)
    if not path.is_file():
        raise NIRImportError(f"{path}: no such NIR file")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    if isolate:
        graph = _read_isolated(path, timeout)
    else:
        try:
            graph = nir.read(path, type_check=False)
        except Exception as exc:  # noqa: BLE001 - h5py/nir raise many types on damaged files
            raise NIRImportError(f"{path}: not a readable NIR file ({type(exc).__name__}: {exc})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise NIRImportError(f"{path}: the file holds a single {type(graph).__name__} node, not a NIRGraph")
    return graph
