"""Single-file, checksummed container for checkpoints.

A container holds one JSON-serialisable ``meta`` dictionary and any number of
named numeric arrays.  It is the on-disk format the engine uses for
checkpoints, but knows nothing about networks: it stores a ``dict`` and a
mapping of arrays and gives them back unchanged.

File layout (all integers little-endian)::

    offset  size         field
    0       8            magic  b"MEMRSNN\\x00"
    8       4            format version, uint32 (currently 1)
    12      8            header length in bytes, uint64
    20      32           SHA-256 of bytes [0, 20) followed by the header
    52      header len   header: JSON, ASCII-only (hence valid UTF-8)
    ...     payload len  payload: the arrays' raw bytes, back to back

The header is a JSON object::

    {"meta": {...},
     "arrays": [{"name": "pop/0/v", "dtype": "<f8", "shape": [100],
                 "offset": 0, "nbytes": 800}, ...],
     "payload_bytes": 800,
     "payload_sha256": "<64 hex digits>"}

``offset`` counts from the start of the payload.  Arrays are stored in table
order, back to back, in C order with little-endian dtypes, so the table tiles
the payload exactly and the file ends where the payload ends.

Why a custom format rather than ``.npz``: an ``.npz`` has no checksum over the
whole file, a zip directory can point anywhere, and its metadata would need a
second file or a pickled object.  This format is small enough to validate
completely before anything is handed back.  Reading never unpickles, never
evaluates anything and never allocates more than the file's real size.

Writes are atomic: the container is written to a temporary file in the same
folder, flushed to disk with ``fsync`` and moved over the target with
:func:`os.replace`, so a crash or an error leaves either the old file or the new
one, never a mixture.  Only a regular file (or a symbolic link, which is
replaced itself) is ever replaced; see :mod:`memr_snn.io.atomic`.

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = write_container(folder / "ckpt.memr", {"step": 10},
...                        {"pop/0/v": np.zeros(3)})
>>> meta, arrays = read_container(path)
>>> meta
{'step': 10}
>>> arrays["pop/0/v"]
array([0., 0., 0.])
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write

__all__ = [
    "MAGIC",
    "FORMAT_VERSION",
    "CheckpointError",
    "write_container",
    "read_container",
]

MAGIC: bytes = b"MEMRSNN\x00"
"""The eight bytes every container starts with."""

FORMAT_VERSION: int = 1
"""Version of the container layout written by this module (the only one it reads)."""

_COUNTS = struct.Struct("<IQ")  # format version (uint32), header length (uint64)
_DIGEST_SIZE = 32  # SHA-256
_HEADER_START = len(MAGIC) + _COUNTS.size + _DIGEST_SIZE  # 52
_MAX_NDIM = 32  # numpy 1.x limit; numpy 2 allows 64, we keep the portable one
_MAX_META_DEPTH = 100
_READ_CHUNK = 1 << 24  # 16 MiB per readinto call

# Portable numeric dtypes, keyed by their little-endian dtype string.  Long
# double (platform dependent), object, string, datetime and structured dtypes
# are refused on purpose.
_DTYPES: dict[str, np.dtype] = {
    np.dtype(code).newbyteorder("<").str: np.dtype(code).newbyteorder("<")
    for code in ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8",
                 "f2", "f4", "f8", "c8", "c16")
}
_DTYPE_HELP = ("bool, int8/16/32/64, uint8/16/32/64, float16/32/64 or complex64/128 "
               "(object, string, datetime, structured and long-double arrays are refused)")
_HEADER_KEYS = {"meta", "arrays", "payload_bytes", "payload_sha256"}
_ENTRY_KEYS = {"name", "dtype", "shape", "offset", "nbytes"}


class CheckpointError(ValueError):
    """A file is not a valid memr_snn container (wrong magic, truncated, corrupted...).

    Parameters
    ----------
    path : str or os.PathLike
        The file that was being read.
    reason : str
        What is wrong with it.

    Attributes
    ----------
    path : pathlib.Path
        The file that was being read.
    reason : str
        What is wrong with it, without the file name.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot read checkpoint {str(self.path)!r}: {reason}")

    def __reduce__(self) -> tuple[type[CheckpointError], tuple[Path, str]]:
        # Keep the exception picklable (multiprocessing workers re-raise it).
        return (type(self), (self.path, self.reason))


# --------------------------------------------------------------------------- writing


def _normalize_meta(value: Any, where: str, depth: int, active: set[int]) -> Any:
    """Return a JSON-ready copy of ``value``, or raise naming where the problem is."""
    if depth > _MAX_META_DEPTH:
        raise ValueError(f"{where} is nested more than {_MAX_META_DEPTH} levels deep; "
                         "flatten meta or store the data as arrays")
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)  # plain str, also for str subclasses and enums
    if isinstance(value, np.ndarray):
        raise TypeError(f"{where} is a numpy array; pass arrays in `arrays`, not in meta")
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in active:
            raise ValueError(f"{where} contains itself (circular reference)")
        active.add(id(value))
        try:
            if isinstance(value, Mapping):
                out = {}
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise TypeError(f"{where} has key {key!r} of type {type(key).__name__}; "
                                        "meta keys must be str (JSON object keys)")
                    out[str.__str__(key)] = _normalize_meta(item, f"{where}[{key!r}]",
                                                            depth + 1, active)
                return out
            return [_normalize_meta(item, f"{where}[{i}]", depth + 1, active)
                    for i, item in enumerate(value)]
        finally:
            active.discard(id(value))
    raise TypeError(f"{where} has type {type(value).__name__}, which meta cannot hold; "
                    "allowed: dict with str keys, list, tuple, str, int, float, bool, None "
                    "and numpy scalars")


def _prepare_arrays(arrays: Mapping[str, Any]) -> list[tuple[str, np.ndarray]]:
    """Validate ``arrays`` and return little-endian, C-contiguous copies or views."""
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a mapping of str to numpy arrays, "
                        f"got {type(arrays).__name__}")
    prepared = []
    for name, value in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"arrays has key {name!r} of type {type(name).__name__}; "
                            "array names must be str")
        if not name:
            raise ValueError("arrays has an empty name ''; array names must be non-empty str")
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"arrays[{name!r}] cannot be converted to a numpy array: "
                            f"{exc}") from exc
        dtype = array.dtype.newbyteorder("<") if array.dtype.kind in "biufc" else None
        if dtype is None or dtype.str not in _DTYPES:
            raise TypeError(f"arrays[{name!r}] has dtype {array.dtype}, which a checkpoint "
                            f"cannot store; allowed: {_DTYPE_HELP}")
        if array.ndim > _MAX_NDIM:
            raise ValueError(f"arrays[{name!r}] has {array.ndim} dimensions; "
                             f"at most {_MAX_NDIM} are allowed")
        prepared.append((str.__str__(name), np.asarray(array, dtype=dtype, order="C")))
    return prepared


def _as_bytes(array: np.ndarray) -> np.ndarray:
    """Flat ``uint8`` view of a C-contiguous array (also for 0-d and empty arrays)."""
    return array.reshape(-1).view(np.uint8)


def write_container(
    path: str | os.PathLike[str],
    meta: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
) -> Path:
    """Write ``meta`` and ``arrays`` to one checksummed container file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.  Its folder must exist.  An existing file is replaced
        only once the new one is completely written and flushed to disk.
    meta : Mapping[str, Any]
        JSON-like metadata: dicts with str keys, lists, tuples, str, int, float
        (NaN and infinities included), bool, None and numpy scalars.  Tuples come
        back as lists and numpy scalars as Python scalars.
    arrays : Mapping[str, numpy.ndarray]
        Named arrays (anything :func:`numpy.asarray` accepts).  Names are
        non-empty str and may contain slashes (``"pop/0/v"``).  Dtypes: bool,
        signed and unsigned integers, float16/32/64, complex64/128.  0-d and
        empty arrays are fine.  Data are stored in C order with little-endian
        dtypes.

    Returns
    -------
    pathlib.Path
        ``path`` as a :class:`~pathlib.Path`.

    Notes
    -----
    If ``path`` is a symbolic link, the link itself is replaced by the new file
    (the file it pointed to is left alone), as :func:`os.replace` does.  A path
    that is a FIFO, a device or a socket is refused before anything is opened
    (:class:`~memr_snn.io.atomic.NotARegularFileError`); see
    :func:`~memr_snn.io.atomic.atomic_write` for the temporary files.

    Raises
    ------
    TypeError
        If ``meta`` or ``arrays`` hold something the format cannot store (an
        object or string dtype, a non-str key, a set...).  Nothing is written.
    ValueError
        If ``meta`` is circular or nested too deeply, or an array name is empty.
        Nothing is written.
    OSError
        If the file cannot be written (missing folder, ``path`` is a directory,
        a FIFO, a device or a socket, disk full...).  An existing file at
        ``path`` is left untouched.
    """
    path = Path(path)
    if not isinstance(meta, Mapping):
        raise TypeError(f"meta must be a dict, got {type(meta).__name__}")
    try:
        meta_json = _normalize_meta(meta, "meta", 0, set())
    except RecursionError as exc:
        raise ValueError("meta is nested too deeply to store") from exc
    prepared = _prepare_arrays(arrays)

    hasher = hashlib.sha256()
    table = []
    offset = 0
    for name, array in prepared:
        table.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape),
                      "offset": offset, "nbytes": array.nbytes})
        hasher.update(_as_bytes(array))
        offset += array.nbytes
    header = {"meta": meta_json, "arrays": table, "payload_bytes": offset,
              "payload_sha256": hasher.hexdigest()}
    header_bytes = json.dumps(header, ensure_ascii=True, allow_nan=True,
                              separators=(",", ":")).encode("ascii")
    head = MAGIC + _COUNTS.pack(FORMAT_VERSION, len(header_bytes))
    head += hashlib.sha256(head + header_bytes).digest()

    with atomic_write(path) as handle:
        handle.write(head)
        handle.write(header_bytes)
        for _, array in prepared:
            handle.write(_as_bytes(array))
    return path


# --------------------------------------------------------------------------- reading


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} in a JSON object")
        out[key] = value
    return out


def _is_count(value: Any) -> bool:
    """True for a non-negative int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_Table = list[tuple[str, np.dtype, tuple[int, ...]]]


def _parse_table(path: Path, header: Any, payload_size: int) -> _Table:
    """Check the header's structure; return ``(name, dtype, shape)`` in payload order."""
    def bad(reason: str) -> CheckpointError:
        return CheckpointError(path, f"invalid header: {reason}")

    if not isinstance(header, dict):
        raise bad(f"expected a JSON object, got {type(header).__name__}")
    if set(header) != _HEADER_KEYS:
        raise bad(f"expected keys {sorted(_HEADER_KEYS)}, got {sorted(header)}")
    if not isinstance(header["meta"], dict):
        raise bad("'meta' is not a JSON object")
    digest = header["payload_sha256"]
    if (not isinstance(digest, str) or len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)):
        raise bad("'payload_sha256' is not 64 lowercase hex digits")
    if not _is_count(header["payload_bytes"]):
        raise bad("'payload_bytes' is not a non-negative integer")
    if header["payload_bytes"] != payload_size:
        if header["payload_bytes"] > payload_size:
            raise CheckpointError(path, f"file is truncated: the payload should be "
                                        f"{header['payload_bytes']} bytes but only "
                                        f"{payload_size} are present")
        raise CheckpointError(path, f"{payload_size - header['payload_bytes']} unexpected "
                                    "bytes after the end of the payload (file was altered?)")
    entries = header["arrays"]
    if not isinstance(entries, list):
        raise bad("'arrays' is not a JSON array")

    table = []
    names: set[str] = set()
    offset = 0
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
            raise bad(f"array entry {i} is not an object with keys {sorted(_ENTRY_KEYS)}")
        name, dtype_str, shape = entry["name"], entry["dtype"], entry["shape"]
        if not isinstance(name, str) or not name:
            raise bad(f"array entry {i} has no valid name")
        if name in names:
            raise bad(f"array name {name!r} appears twice")
        names.add(name)
        if not isinstance(dtype_str, str) or dtype_str not in _DTYPES:
            raise bad(f"array {name!r} has unsupported dtype {dtype_str!r}")
        dtype = _DTYPES[dtype_str]
        if (not isinstance(shape, list) or len(shape) > _MAX_NDIM
                or not all(_is_count(n) for n in shape)):
            raise bad(f"array {name!r} has an invalid shape {shape!r}")
        if not (_is_count(entry["offset"]) and _is_count(entry["nbytes"])):
            raise bad(f"array {name!r} has an invalid offset or length")
        if entry["offset"] != offset:
            raise bad(f"array {name!r} starts at payload byte {entry['offset']}, "
                      f"expected {offset}")
        if entry["nbytes"] != math.prod(shape) * dtype.itemsize:
            raise bad(f"array {name!r} claims {entry['nbytes']} bytes, but shape {shape} "
                      f"of {dtype_str} needs {math.prod(shape) * dtype.itemsize}")
        offset += entry["nbytes"]
        if offset > payload_size:
            raise bad(f"array {name!r} ends at payload byte {offset}, past the end of the "
                      f"{payload_size}-byte payload")
        table.append((name, dtype, tuple(shape)))
    if offset != payload_size:
        raise bad(f"the arrays cover {offset} bytes of a {payload_size}-byte payload")
    return table


def _read_exactly(handle: Any, buffer: np.ndarray | bytearray, path: Path) -> None:
    """Fill ``buffer`` from ``handle`` or raise CheckpointError if the file ends first."""
    view = memoryview(buffer).cast("B")
    done = 0
    while done < len(view):
        count = handle.readinto(view[done:done + _READ_CHUNK])
        if not count:
            raise CheckpointError(path, "file is truncated (it shrank while being read?)")
        done += count


def read_container(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and fully validate a container written by :func:`write_container`.

    Everything is checked before anything is returned: magic bytes, format
    version, sizes against the real file size, the header checksum, the JSON
    header and its array table, and the SHA-256 of the payload.  No claimed size
    is trusted before it has been compared with the file's real size, so a
    damaged or hostile file cannot make this function allocate more memory
    than the file occupies.

    Parameters
    ----------
    path : str or os.PathLike
        The container file.

    Returns
    -------
    meta : dict
        The metadata as written (tuples come back as lists).
    arrays : dict of str to numpy.ndarray
        The arrays, in the order they were written.  Each is a fresh, writeable,
        C-contiguous array with a little-endian dtype.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If ``path`` is a directory or not a regular file, or its content is not
        a valid container: wrong magic, unsupported version, truncated, header
        not valid JSON, sizes or offsets out of range, checksum mismatch...
        :class:`CheckpointError` is a :class:`ValueError`.
    OSError
        For I/O errors other than the above (permission denied...).
    """
    path = Path(path)
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise CheckpointError(path, "it is a directory, not a checkpoint file")
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(path, "it is not a regular file")

    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        start = handle.read(_HEADER_START)
        if not start:
            raise CheckpointError(path, "file is empty; not a memr_snn checkpoint")
        if start[:len(MAGIC)] != MAGIC[:len(start)]:
            raise CheckpointError(path, "not a memr_snn checkpoint (wrong magic bytes)")
        if len(start) < _HEADER_START:
            raise CheckpointError(path, f"file is truncated: {len(start)} bytes, shorter "
                                        f"than the {_HEADER_START}-byte fixed header")
        version, header_size = _COUNTS.unpack_from(start, len(MAGIC))
        if version != FORMAT_VERSION:
            raise CheckpointError(path, f"unsupported format version {version}; this "
                                        f"memr_snn reads version {FORMAT_VERSION} (the file "
                                        "is from another memr_snn release, or corrupted)")
        if header_size > size - _HEADER_START:
            raise CheckpointError(path, f"file is truncated or corrupted: the header claims "
                                        f"{header_size} bytes but only "
                                        f"{size - _HEADER_START} follow")
        header_bytes = bytearray(header_size)
        _read_exactly(handle, header_bytes, path)
        expected = start[len(MAGIC) + _COUNTS.size:_HEADER_START]
        if hashlib.sha256(start[:len(MAGIC) + _COUNTS.size] + header_bytes).digest() != expected:
            raise CheckpointError(path, "file is corrupted or was altered "
                                        "(header checksum mismatch)")
        try:
            header = json.loads(header_bytes.decode("utf-8"),
                                object_pairs_hook=_reject_duplicate_keys)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError, JSONDecodeError
            raise CheckpointError(path, f"header is not valid UTF-8 JSON: {exc}") from None
        table = _parse_table(path, header, size - _HEADER_START - header_size)

        hasher = hashlib.sha256()
        arrays: dict[str, np.ndarray] = {}
        for name, dtype, shape in table:
            try:
                array = np.empty(shape, dtype=dtype)
            except (ValueError, OverflowError, MemoryError) as exc:
                raise CheckpointError(path, f"array {name!r} with shape {list(shape)} "
                                            f"cannot be allocated: {exc}") from None
            raw = _as_bytes(array)
            _read_exactly(handle, raw, path)
            hasher.update(raw)
            arrays[name] = array
        if handle.read(1):
            raise CheckpointError(path, "file grew while being read")
    if hasher.hexdigest() != header["payload_sha256"]:
        raise CheckpointError(path, "file is corrupted or was altered "
                                    "(payload checksum mismatch)")
    for name, array in arrays.items():
        if array.dtype.kind == "b" and np.any(_as_bytes(array) > 1):
            raise CheckpointError(path, f"bool array {name!r} holds bytes other than 0 and 1")
    return header["meta"], arrays
