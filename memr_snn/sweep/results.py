"""The results folder of a sweep: a manifest and one Parquet file per finished point.

Layout::

    FOLDER/sweep.json               the spec, its fingerprint and the code version (written first)
    FOLDER/points/<key>.parquet     one row per point, written atomically when the point finishes

A point's file is named by its key (:func:`memr_snn.sweep.spec.point_key`) and written with
:func:`memr_snn.io.atomic.atomic_write`: it is absent or complete, and writing it again (a task that ran
twice) replaces it whole, so the folder never holds a lost, partial or duplicated row.  A rerun reads the
keys present and skips them (:func:`finished_keys`).  A folder whose manifest belongs to another spec or
code version is refused before any work (:func:`open_results_folder`).

Row columns: ``key``, ``experiment``, ``point_index``, ``replicate``, ``seed``, ``status`` (``"ok"`` or
``"failed"``), one ``param.<name>`` per parameter, one ``metric.<name>`` per metric (ok rows), ``error_type``,
``error_message``, ``traceback`` (failed rows), and the run information ``started_at`` (UTC, ISO 8601),
``seconds`` (wall clock), ``cpu_seconds`` (CPU time of the thread that ran it), ``host``, ``pid``, ``worker``
(:data:`RUN_COLUMNS`, the columns that differ between two runs of the same point), ``code_version``,
``memr_snn_version``, ``python_version``, ``numpy_version``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._extras import require
from ..io.atomic import atomic_write, write_text
from .spec import SweepSpec

__all__ = ["MANIFEST", "POINTS_DIR", "RUN_COLUMNS", "SweepFolderError", "open_results_folder", "read_manifest",
           "write_row", "read_results", "finished_keys", "comparable"]

#: the manifest file of a results folder
MANIFEST = "sweep.json"
#: the folder of the per-point Parquet files
POINTS_DIR = "points"
#: the columns that describe one run of a point (when, where, how long), not its result
RUN_COLUMNS = ("started_at", "seconds", "cpu_seconds", "host", "pid", "worker")
_FORMAT = "memr_snn-sweep"
_FORMAT_VERSION = 1


class SweepFolderError(ValueError):
    """A results folder that belongs to another sweep, or is not a sweep's folder; raised before any work."""


def _arrow():
    pa = require("dask", "pyarrow", "sweep results (Parquet)")
    pq = require("dask", "pyarrow.parquet", "sweep results (Parquet)")
    return pa, pq


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    """The manifest (``sweep.json``) of a results folder.

    Raises
    ------
    SweepFolderError
        No manifest, or one that is not a sweep manifest of a known format version.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise SweepFolderError(f"{folder}: not a sweep results folder (no {MANIFEST})")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SweepFolderError(f"{path}: unreadable sweep manifest ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        fmt = doc.get("format") if isinstance(doc, dict) else None
        raise SweepFolderError(f"{path}: not a sweep manifest (format {fmt!r})")
    if doc.get("version") != _FORMAT_VERSION:
        raise SweepFolderError(f"{path}: sweep manifest version {doc.get('version')!r}; this memr_snn reads "
                               f"version {_FORMAT_VERSION}")
    return doc


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        if old.get(k) != new.get(k):
            out.append(f"{k}: {json.dumps(old.get(k))} there, {json.dumps(new.get(k))} here")
    return out


def open_results_folder(folder: str | os.PathLike, spec: SweepSpec, code_version: str) -> Path:
    """Create ``folder`` for ``spec`` or check that it already belongs to it.

    Parameters
    ----------
    folder : str or os.PathLike
        The results folder: new, empty, or made by the same spec and code version.
    spec : SweepSpec
        The sweep.
    code_version : str
        :func:`memr_snn.sweep.experiments.code_version`.

    Returns
    -------
    pathlib.Path
        The folder (with its ``points`` folder).

    Raises
    ------
    SweepFolderError
        The folder holds another sweep (the message lists the differences) or files of something else.
    """
    folder = Path(folder)
    doc = {"format": _FORMAT, "version": _FORMAT_VERSION, "spec": spec.to_dict(), "fingerprint": spec.fingerprint(),
           "code_version": code_version, "n_points": spec.n_points}
    if (folder / MANIFEST).exists():
        old = read_manifest(folder)
        if old.get("fingerprint") != doc["fingerprint"]:
            diff = "; ".join(_differences(old.get("spec", {}), doc["spec"]))
            raise SweepFolderError(f"{folder} holds the results of another sweep ({diff}); use another folder for "
                                   "this one, or rerun the spec that made it")
        if old.get("code_version") != code_version:
            raise SweepFolderError(f"{folder} was made by {old.get('code_version')}, this is {code_version}: its "
                                   "points would not be reused; use a new folder")
    else:
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise SweepFolderError(f"{folder}: exists and is not an empty folder or a sweep results folder "
                                   f"(no {MANIFEST}); use a new folder")
        folder.mkdir(parents=True, exist_ok=True)
        write_text(folder / MANIFEST, json.dumps(doc, indent=2) + "\n")
    (folder / POINTS_DIR).mkdir(exist_ok=True)
    return folder


def write_row(folder: str | os.PathLike, row: Mapping[str, Any]) -> Path:
    """Write one point's row to ``FOLDER/points/<key>.parquet`` atomically (replacing an earlier one).

    Parameters
    ----------
    folder : str or os.PathLike
        The results folder (opened with :func:`open_results_folder`).
    row : mapping
        Column -> value; ``key`` names the file.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    pa, pq = _arrow()
    table = pa.Table.from_pylist([dict(row)])
    path = Path(folder) / POINTS_DIR / f"{row['key']}.parquet"
    with atomic_write(path) as handle:
        pq.write_table(table, handle)
    return path


def _files(folder: Path) -> list[Path]:
    return sorted((folder / POINTS_DIR).glob("*.parquet"))


def finished_keys(folder: str | os.PathLike) -> dict[str, str]:
    """Key -> status (``"ok"`` or ``"failed"``) of every point with a row in ``folder``."""
    _, pq = _arrow()
    out = {}
    for path in _files(Path(folder)):
        t = pq.read_table(path, columns=["key", "status"])
        for key, status in zip(t.column("key").to_pylist(), t.column("status").to_pylist(), strict=True):
            out[key] = status
    return out


def read_results(folder: str | os.PathLike, *, run_columns: bool = True):
    """All rows of a results folder as one :class:`pyarrow.Table`, in plan order.

    Parameters
    ----------
    folder : str or os.PathLike
        The results folder.
    run_columns : bool
        Keep :data:`RUN_COLUMNS` (when, where, how long each point ran); False drops them, leaving only
        what the point's result is (equal between runs of the same sweep).

    Returns
    -------
    pyarrow.Table
        One row per point with a file, sorted by ``point_index`` then ``replicate``; columns that only some
        rows have (the metrics of ok rows, the errors of failed rows) are null elsewhere.  Columns are
        sorted by name after the identifying ones (``key`` ... ``status``).
    """
    pa, pq = _arrow()
    folder = Path(folder)
    read_manifest(folder)
    tables = [pq.read_table(p) for p in _files(folder)]
    if not tables:
        return pa.table({"key": pa.array([], pa.string()), "status": pa.array([], pa.string())})
    table = pa.concat_tables(tables, promote_options="permissive")
    table = table.sort_by([("point_index", "ascending"), ("replicate", "ascending")])
    head = [c for c in ("key", "experiment", "point_index", "replicate", "seed", "status") if c in table.column_names]
    rest = sorted(c for c in table.column_names if c not in head and (run_columns or c not in RUN_COLUMNS))
    return table.select(head + rest)


def comparable(table) -> list[dict[str, Any]]:
    """``table`` as a list of row dicts without :data:`RUN_COLUMNS` (for comparing two runs of a sweep)."""
    return [{k: v for k, v in row.items() if k not in RUN_COLUMNS} for row in table.to_pylist()]
