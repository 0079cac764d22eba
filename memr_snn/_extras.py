"""Optional dependencies ("extras"): one way to import them and one error when they are missing.

Every import of an optional package inside memr_snn goes through :func:`require`::

    sklearn_datasets = require("datasets", "sklearn.datasets", "the bundled 8x8 digits")

It returns the module, or raises :class:`MissingExtraError` (an ``ImportError``) whose message is one
line naming the extra and the command that installs it::

    the bundled 8x8 digits needs scikit-learn (module sklearn), which is not installed: pip install 'memr_snn[datasets]'

The command line prints that line and exits with status 1 (no traceback).  :data:`EXTRAS` lists the
extras of ``pyproject.toml`` that the package imports from, with what each one enables (the README's
table of extras says the same).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtraError", "require", "install_command"]

#: extra -> (what it enables, {top-level module: distribution}) for the extras of pyproject.toml that the
#: package itself imports from.  (``dvs-peers``' tonic and dv-processing are used only by tests; ``dev``
#: holds the test tools.)
EXTRAS: dict[str, tuple[str, dict[str, str]]] = {
    "datasets": ("scikit-learn's bundled 8x8 digits (learning data sets, Diehl & Cook, DVS digits), logistic baseline",
                 {"sklearn": "scikit-learn"}),
    "speech": ("synthesising the spoken-digits data set with espeak-ng (GPL-3.0, used only to make the data)",
               {"espeakng_loader": "espeakng-loader"}),
    "nir": ("NIR export and import (memr_snn.adapters.nir)", {"nir": "nir", "h5py": "h5py"}),
    "dvs": ("reading AEDAT 4 event-camera files (read_aedat4)", {"aedat": "aedat"}),
    "dask": ("parameter sweeps on many cores or a cluster (memr_snn.sweep): dask.distributed, Parquet results",
             {"distributed": "dask", "pyarrow": "pyarrow"}),
    "nwb": ("reading and writing NWB files of BCI sessions (memr_snn.bci.nwb)", {"pynwb": "pynwb"}),
    "control": ("gymnasium environments as pipeline plants (memr_snn.pipeline: CartPole, the DVS tracking task)",
                {"gymnasium": "gymnasium"}),
    "peers": ("the Brian2 and NEST reference simulators (comparison tests and benchmarks)",
              {"brian2": "brian2", "nest": "nest-simulator"}),
}


def install_command(extra: str) -> str:
    """``pip install 'memr_snn[EXTRA]'`` (quoted for the shell: the brackets are a glob otherwise)."""
    return f"pip install 'memr_snn[{extra}]'"


class MissingExtraError(ImportError):
    """An optional package is not installed; the message is one line with the pip command that installs it.

    Parameters
    ----------
    extra : str
        The extra of ``pyproject.toml`` that provides the module (a key of :data:`EXTRAS`).
    module : str
        The module that could not be imported (dotted names allowed).
    purpose : str, optional
        What needed it, e.g. ``"NIR export"``; the message starts with it.
    reason : str, optional
        Why the import failed when the package is installed but broken (appended to the message).

    Attributes
    ----------
    extra, module : str
        As given; ``name`` (``ImportError``'s) is the top-level module.
    """

    def __init__(self, extra: str, module: str, purpose: str | None = None, reason: str | None = None) -> None:
        if extra not in EXTRAS:
            raise ValueError(f"unknown extra {extra!r}; known extras: {sorted(EXTRAS)}")
        top = module.partition(".")[0]
        dist = EXTRAS[extra][1].get(top, top)
        what = purpose or f"this feature ({EXTRAS[extra][0]})"
        package = dist if dist == top else f"{dist} (module {top})"
        if reason:
            message = (f"{what} needs {package}, which is installed but failed to import ({reason}); "
                       f"reinstall it: {install_command(extra)}")
        else:
            message = f"{what} needs {package}, which is not installed: {install_command(extra)}"
        super().__init__(" ".join(message.split()), name=top)
        self.extra = extra
        self.module = module

    def __reduce__(self):  # picklable across process pools (ImportError's default drops the arguments)
        return (_rebuild, (type(self), self.args, self.name, self.__dict__))


def _rebuild(cls, args, name, state):
    err = cls.__new__(cls)
    ImportError.__init__(err, *args, name=name)
    err.__dict__.update(state)
    return err


def require(extra: str, module: str, purpose: str | None = None, *,
            error: type[MissingExtraError] = MissingExtraError) -> ModuleType:
    """Import ``module`` from the optional ``extra`` and return it.

    Parameters
    ----------
    extra : str
        The extra that provides the module (a key of :data:`EXTRAS`).
    module : str
        The module to import, e.g. ``"sklearn.datasets"``.
    purpose : str, optional
        What needs it, for the message (default: what the extra enables).
    error : type, optional
        A subclass of :class:`MissingExtraError` to raise instead (e.g. ``SpeechExtraMissing``).

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingExtraError
        If the module (or one of its own imports) cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.partition(".")[0]
        # not installed: the top-level package itself is missing (or blocked by a None in sys.modules);
        # anything else (a missing submodule, a broken binary) is an installed but unusable package
        absent = isinstance(exc, ModuleNotFoundError) and (exc.name == top or sys.modules.get(top, False) is None)
        reason = None if absent else " ".join(str(exc).split())[:200]
        raise error(extra, module, purpose, reason) from exc
