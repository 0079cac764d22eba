"""The results folder of a sweep: a manifest and one Parquet file per finished point.

Layout::

    FOLDER/sweep.json               the spec, its fingerprint and the code version (written first)
    FOLDER/points/<key>.parquet     one row per point, written atomically when the point finishes

A point's file is named by its key (:func:`memr_snn.sweep.spec.point_key`) and written with
:func:`memr_snn.io.atomic.atomic_write`: it is absent or complete, and writing it again (a task that ran
twice) replaces it whole, so the folder never holds a lost, partial or duplicated row.  A rerun reads the
keys present and skips them (:func:`finished_keys`).  A folder made by a spec that the new one only adds
points to (grid values, seeds, draws: :func:`growth_refusal`) grows; a folder whose manifest belongs to
another spec or code version is refused before any work (:func:`open_results_folder`).

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
from .spec import SweepSpec, plan

__all__ = ["MANIFEST", "POINTS_DIR", "RUN_COLUMNS", "SweepFolderError", "open_results_folder", "growth_refusal",
           "read_manifest", "write_row", "read_results", "finished_keys", "comparable"]

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


def growth_refusal(old_spec: SweepSpec, spec: SweepSpec, code_version: str) -> str | None:
    """Why a folder made by ``old_spec`` cannot grow into ``spec`` (None: it can).

    The rule: the same experiment, experiment version and fixed parameters, and every point of the old plan
    (its parameters and seed, hence its key) is a point of the new plan.  Then the new spec only adds points
    -- grid values, seeds (replicates), random draws -- and the folder's rows stay valid.  With
    ``common_seeds`` a point's seed depends only on its replicate, so any added grid value or seed keeps the
    old points; without it a point's seed depends on its position in the plan, which an added value
    shifts unless it comes after every other point's position (added seeds, or values appended to the first
    grid axis).
    """
    if spec.experiment != old_spec.experiment:
        return f"experiment {old_spec.experiment!r} there, {spec.experiment!r} here"
    if spec.version != old_spec.version:
        return f"version {old_spec.version!r} there, {spec.version!r} here"
    if dict(spec.fixed) != dict(old_spec.fixed):
        return f"fixed parameters {dict(old_spec.fixed)} there, {dict(spec.fixed)} here"
    new_keys = {p.key for p in plan(spec, code_version)}
    lost = [p for p in plan(old_spec, code_version) if p.key not in new_keys]
    if lost:
        p = lost[0]
        hint = "" if spec.common_seeds else ("; with common_seeds = false a point's seed depends on its position in "
                                             "the plan, so set common_seeds = true to add grid values freely")
        return (f"{len(lost)} of its points are not points of this sweep (e.g. {p.params}, seed {p.seed}){hint}")
    return None


def open_results_folder(folder: str | os.PathLike, spec: SweepSpec, code_version: str) -> Path:
    """Create ``folder`` for ``spec``, check that it already belongs to it, or grow it to ``spec``.

    A folder made by another spec *grows* to ``spec`` when :func:`growth_refusal` allows it (same experiment
    and fixed parameters, every old point still a point of ``spec``): its manifest is rewritten for ``spec``
    (the earlier specs kept under ``"grown_from"``) and a run computes only the new points.

    Parameters
    ----------
    folder : str or os.PathLike
        The results folder: new, empty, made by the same spec and code version, or by a spec that ``spec``
        grows.
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
        The folder holds another sweep that ``spec`` does not grow (the message lists the differences and
        why), or files of something else.
    """
    from .spec import spec_from_dict

    folder = Path(folder)
    doc = {"format": _FORMAT, "version": _FORMAT_VERSION, "spec": spec.to_dict(), "fingerprint": spec.fingerprint(),
           "code_version": code_version, "n_points": spec.n_points}
    if (folder / MANIFEST).exists():
        old = read_manifest(folder)
        if old.get("code_version") != code_version:
            raise SweepFolderError(f"{folder} was made by {old.get('code_version')}, this is {code_version}: its "
                                   "points would not be reused; use a new folder")
        if old.get("fingerprint") != doc["fingerprint"]:
            diff = "; ".join(_differences(old.get("spec", {}), doc["spec"]))
            try:
                reason = growth_refusal(spec_from_dict(old.get("spec", {})), spec, code_version)
            except ValueError as exc:
                reason = f"its spec is unreadable ({exc})"
            if reason is not None:
                raise SweepFolderError(f"{folder} holds the results of another sweep ({diff}), which this one does "
                                       f"not grow: {reason}; use another folder for this one, or rerun the spec "
                                       "that made it")
            doc["grown_from"] = [*old.get("grown_from", []), {"spec": old["spec"], "n_points": old.get("n_points")}]
            write_text(folder / MANIFEST, json.dumps(doc, indent=2) + "\n")
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
        One row per point with a file, sorted by ``point_index`` then ``replicate`` (positions in the plan of
        the folder's present spec, also for rows computed before the folder grew); columns that only some
        rows have (the metrics of ok rows, the errors of failed rows) are null elsewhere.  Columns are
        sorted by name after the identifying ones (``key`` ... ``status``).
    """
    pa, pq = _arrow()
    folder = Path(folder)
    manifest = read_manifest(folder)
    tables = [pq.read_table(p) for p in _files(folder)]
    if not tables:
        return pa.table({"key": pa.array([], pa.string()), "status": pa.array([], pa.string())})
    table = pa.concat_tables(tables, promote_options="permissive")
    table = _renumber(table, manifest)
    table = table.sort_by([("point_index", "ascending"), ("replicate", "ascending")])
    head = [c for c in ("key", "experiment", "point_index", "replicate", "seed", "status") if c in table.column_names]
    rest = sorted(c for c in table.column_names if c not in head and (run_columns or c not in RUN_COLUMNS))
    return table.select(head + rest)


def _renumber(table, manifest: Mapping[str, Any]):
    """``point_index`` and ``replicate`` of every row whose key the manifest's plan holds, from that plan.

    A row keeps the position its point had in the plan that computed it; after the folder grew
    (:func:`open_results_folder`) the plan of the grown spec numbers the points anew.
    """
    from .spec import spec_from_dict

    pa, _ = _arrow()
    try:
        positions = {p.key: (p.index, p.replicate)
                     for p in plan(spec_from_dict(manifest["spec"]), manifest["code_version"])}
    except (KeyError, ValueError):
        return table
    keys = table.column("key").to_pylist()
    for col, k in (("point_index", 0), ("replicate", 1)):
        if col in table.column_names:
            old = table.column(col).to_pylist()
            new = [positions[key][k] if key in positions else v for key, v in zip(keys, old, strict=True)]
            table = table.set_column(table.column_names.index(col), col, pa.array(new, table.schema.field(col).type))
    return table


def comparable(table) -> list[dict[str, Any]]:
    """``table`` as a list of row dicts without :data:`RUN_COLUMNS` (for comparing two runs of a sweep)."""
    return [{k: v for k, v in row.items() if k not in RUN_COLUMNS} for row in table.to_pylist()]
