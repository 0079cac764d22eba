"""On-disk cache of generated datasets: versioned folders, atomic writes, checksums.

Layout::

    <root>/<name>/v<version>/<key>.npz

``root`` is ``$MEMR_SNN_DATA`` when set, else ``~/.cache/memr_snn`` (:func:`data_dir`).  ``name`` is
the dataset (``"dvs-digits"``), ``version`` the version of its *generator*: bump it whenever the
generated data would change, and old files are simply never read again.  ``key`` is derived from
the generation parameters (a hash of their canonical JSON, :func:`cache_key`), so every parameter
set has its own file.

Each file is a plain ``.npz`` (no pickles) holding the arrays plus one ``__meta__`` entry: JSON with
the parameters, the user's ``meta``, the format version and a SHA-256 checksum over every array's
name, dtype, shape and bytes.  Writes go to a temporary file in the same folder that is renamed over
the target (:func:`os.replace`, atomic on POSIX and Windows), so readers never see a half-written
file.  A file that cannot be read, lacks its metadata, or fails its checksum raises
:class:`CacheCorruptError` in :func:`load_npz`; :func:`cached` then rebuilds the data and rewrites
the file (logging a warning).  If the cache folder cannot be written, :func:`cached` logs a warning
and returns the freshly built data: the cache never makes a dataset unavailable.

Examples
--------
>>> import numpy as np, tempfile
>>> root = tempfile.mkdtemp()
>>> def build():
...     return {"x": np.arange(6, dtype=np.uint8).reshape(2, 3), "y": np.array([0, 1])}
>>> arrays, meta = cached("demo", 1, {"n": 2}, build, root=root)
>>> arrays["x"].tolist(), meta["params"]
([[0, 1, 2], [3, 4, 5]], {'n': 2})
>>> import shutil; shutil.rmtree(root)
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import re
import shutil
import struct
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..._json_files import parse_json
from ...io.atomic import atomic_write

__all__ = [
    "DATA_ENV",
    "CACHE_FORMAT",
    "CacheCorruptError",
    "data_dir",
    "dataset_dir",
    "cache_key",
    "cache_path",
    "save_npz",
    "load_npz",
    "cached",
    "clear_cache",
]

logger = logging.getLogger(__name__)

DATA_ENV = "MEMR_SNN_DATA"
"""Environment variable naming the cache root."""

CACHE_FORMAT = 1
"""Version of this file format (stored in every file's metadata)."""

_META = "__meta__"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class CacheCorruptError(ValueError):
    """A cache file is unreadable, incomplete or fails its checksum."""


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The cache root: ``root`` if given, else ``$MEMR_SNN_DATA``, else ``~/.cache/memr_snn``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/memr_snn").expanduser()


def _check_name(label: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value) or ".." in value:
        raise ValueError(f"{label} must be letters, digits, '.', '_' or '-' (not starting with a symbol), "
                         f"got {value!r}")
    return value


def _version(version: int | str) -> str:
    if isinstance(version, bool) or not isinstance(version, (int, str)):
        raise ValueError(f"version must be an int >= 0 or a version string, got {version!r}")
    if isinstance(version, int) and version < 0:
        raise ValueError(f"version must be >= 0, got {version!r}")
    return _check_name("version", str(version))


def dataset_dir(name: str, version: int | str, root: str | os.PathLike | None = None) -> Path:
    """``<root>/<name>/v<version>`` (not created)."""
    return data_dir(root) / _check_name("name", name) / f"v{_version(version)}"


def _canonical(params: Any) -> str:
    try:
        return json.dumps(params, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"params must be JSON-serialisable (numbers, strings, lists, dicts), got {params!r}: "
                         f"{exc}") from None


def cache_key(params: Mapping[str, Any] | None) -> str:
    """File stem for a parameter set: the first 20 hex digits of the SHA-256 of its canonical JSON."""
    return hashlib.sha256(_canonical(dict(params or {})).encode()).hexdigest()[:20]


def cache_path(name: str, version: int | str, params: Mapping[str, Any] | None = None,
               root: str | os.PathLike | None = None) -> Path:
    """``<root>/<name>/v<version>/<cache_key(params)>.npz``."""
    return dataset_dir(name, version, root) / f"{cache_key(params)}.npz"


def _checksum(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None
             ) -> Path:
    """Write ``arrays`` and ``meta`` atomically to ``path`` (module docstring); returns the path.

    Parameters
    ----------
    path : path-like
        Target file (its folder is created).
    arrays : mapping of str to ndarray
        Arrays to store (numeric or bool dtypes; no object arrays).
    meta : mapping, optional
        JSON-serialisable metadata, stored with the checksum.
    """
    path = Path(path)
    arrs = {}
    for k, v in arrays.items():
        if not isinstance(k, str) or not k or k == _META or "/" in k:
            raise ValueError(f"array names must be non-empty strings without '/', not {_META!r}; got {k!r}")
        a = np.asarray(v)
        if a.dtype.hasobject:
            raise ValueError(f"array {k!r} has dtype object; only numeric/bool/string arrays can be cached")
        arrs[k] = a
    doc = {"format": CACHE_FORMAT, "meta": dict(meta or {}), "sha256": _checksum(arrs),
           "arrays": {k: [a.dtype.str, list(a.shape)] for k, a in arrs.items()}}
    meta_json = _canonical(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        np.savez(fh, **arrs, **{_META: np.frombuffer(meta_json.encode(), dtype=np.uint8)})
    return path


#: most a deflated member may expand: DEFLATE's ratio is bounded near 1032:1 (258-byte matches coded in
#: 2 bits), so a member claiming more than this times its compressed size is lying about its size
_MAX_DEFLATE_RATIO = 1032
#: largest npy header read (numpy's own default ``max_header_size``); real headers are ~128 bytes
_MAX_NPY_HEADER = 10_000


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive_size: int, path: Path) -> np.ndarray:
    """One ``.npy`` member, its header checked against the member's real size before anything is allocated."""
    name = info.filename
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size or info.file_size > archive_size:
            raise CacheCorruptError(f"cache file {path}: member {name!r} claims {info.file_size} bytes, more than "
                                    f"it stores ({info.compress_size} of a {archive_size}-byte file)")
    elif info.file_size > _MAX_DEFLATE_RATIO * max(info.compress_size, 1):
        raise CacheCorruptError(f"cache file {path}: member {name!r} claims {info.file_size} bytes from "
                                f"{info.compress_size} compressed (more than DEFLATE can expand)")
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=_MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=_MAX_NPY_HEADER)
        else:
            raise CacheCorruptError(f"cache file {path}: member {name!r} has npy format version {version}, "
                                    f"expected (1, 0) or (2, 0)")
        header = fh.tell()
        if dtype.hasobject:
            raise CacheCorruptError(f"cache file {path}: member {name!r} has dtype {dtype} (objects are never cached)")
        count = math.prod(shape)  # Python ints: no overflow
        need = count * dtype.itemsize
        have = info.file_size - header
        if need != have or (dtype.itemsize == 0 and count > 0):
            raise CacheCorruptError(f"cache file {path}: member {name!r} header claims shape {shape} of {dtype} "
                                    f"({need} bytes) but the member holds {have} bytes of data")
        buf = bytearray(need)
        view, got = memoryview(buf), 0
        while got < need:
            n = fh.readinto(view[got:])
            if not n:
                raise CacheCorruptError(f"cache file {path}: member {name!r} ends after {got} of {need} data bytes")
            got += n
    arr = np.frombuffer(buf, dtype=dtype, count=count)
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The ``.npy`` members of the archive at ``path`` (name without ``.npy`` -> array), checked first."""
    archive_size = path.stat().st_size
    out: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy") or info.filename[:-4] in out:
                raise CacheCorruptError(f"cache file {path}: unexpected member {info.filename!r}")
            out[info.filename[:-4]] = _read_member(zf, info, archive_size, path)
    return out


def load_npz(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`save_npz`; returns ``(arrays, meta)`` with the checksum verified.

    Every member's npy header (shape, dtype, order) is checked against the member's real size before
    its array is allocated, so a damaged header cannot request a huge allocation.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CacheCorruptError
        If the file is not a readable ``.npz``, a member's header does not match its size, the metadata
        is missing or malformed, or the arrays fail the checksum.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no cache file {path}")
    try:
        members = _read_npz(path)
        if _META not in members:
            raise CacheCorruptError(f"cache file {path} has no {_META} entry")
        doc = parse_json(members.pop(_META).tobytes().decode(), f"cache file {path} metadata", CacheCorruptError)
        arrays = members
    except CacheCorruptError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, UnicodeDecodeError, TypeError,
            io.UnsupportedOperation, RuntimeError, NotImplementedError, struct.error, OverflowError) as exc:
        raise CacheCorruptError(f"cache file {path} is unreadable: {type(exc).__name__}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT or "sha256" not in doc:
        raise CacheCorruptError(f"cache file {path} has metadata of an unknown format")
    if _checksum(arrays) != doc["sha256"]:
        raise CacheCorruptError(f"cache file {path} fails its checksum (corrupted or modified)")
    meta = doc.get("meta", {})
    return arrays, meta if isinstance(meta, dict) else {}


def cached(name: str, version: int | str, params: Mapping[str, Any] | None,
           build: Callable[[], Mapping[str, np.ndarray]], *, meta: Mapping[str, Any] | None = None,
           root: str | os.PathLike | None = None, refresh: bool = False
           ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays of dataset ``name`` for ``params``: read from the cache, or built, stored and returned.

    Parameters
    ----------
    name : str
        Dataset name (folder), e.g. ``"dvs-digits"``.
    version : int or str
        Generator version (folder ``v<version>``); bump it when the generated data change.
    params : mapping
        JSON-serialisable generation parameters (seed, sizes, encoding ...): they select the file
        and are stored in its metadata as ``params``.
    build : callable
        ``build()`` returns the arrays (a mapping name -> ndarray) when the cache has none.
    meta : mapping, optional
        Extra JSON-serialisable metadata stored with a new file (provenance ...).
    root : path-like, optional
        Cache root (default :func:`data_dir`).
    refresh : bool
        Rebuild even if a valid file exists.

    Returns
    -------
    arrays : dict of str to ndarray
    meta : dict
        ``{"name", "version", "params", **meta, "path"}`` of the file (``path`` None when the cache
        could not be written).
    """
    path = cache_path(name, version, params, root)
    p = dict(params or {})
    if not refresh:
        try:
            arrays, stored = load_npz(path)
            if stored.get("params") == json.loads(_canonical(p)):
                stored["path"] = str(path)
                return arrays, stored
            logger.warning("cache file %s holds other parameters (hash collision?); rebuilding", path)
        except FileNotFoundError:
            pass
        except CacheCorruptError as exc:
            logger.warning("%s; rebuilding %s v%s", exc, name, version)
    built = build()
    if not isinstance(built, Mapping):
        raise TypeError(f"build() must return a mapping of array name to array, got {type(built).__name__}")
    arrays = {k: np.asarray(v) for k, v in built.items()}
    full = {"name": name, "version": str(version), "params": p, **dict(meta or {})}
    try:
        save_npz(path, arrays, full)
        full["path"] = str(path)
    except OSError as exc:
        logger.warning("could not write the cache file %s (%s); continuing without the cache", path, exc)
        full["path"] = None
    return arrays, json.loads(_canonical({k: v for k, v in full.items()}))


def clear_cache(name: str | None = None, root: str | os.PathLike | None = None) -> None:
    """Delete the cached files of dataset ``name`` (all datasets when None)."""
    base = data_dir(root)
    target = base / _check_name("name", name) if name is not None else base
    if target.exists():
        shutil.rmtree(target)
