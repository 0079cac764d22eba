"""MNIST from the standard IDX files (when the user has them), and a reader for any IDX file.

IDX format (Y. LeCun, C. Cortes, C. J. C. Burges, "THE MNIST DATABASE of handwritten digits",
http://yann.lecun.com/exdb/mnist/, section "FILE FORMATS FOR THE MNIST DATABASE"): a 4-byte magic
number -- two zero bytes, a type code, the number of dimensions ``ndim`` -- then ``ndim`` sizes as
4-byte big-endian unsigned integers, then the data in C order, big-endian:

==========  =================  ==========
type code   element            bytes
==========  =================  ==========
``0x08``    unsigned byte      1
``0x09``    signed byte        1
``0x0B``    short (int16)      2
``0x0C``    int (int32)        4
``0x0D``    float (float32)    4
``0x0E``    double (float64)   8
==========  =================  ==========

Files may be gzip-compressed (detected by the gzip magic bytes ``1f 8b``, whatever the name).
:func:`read_idx` refuses anything malformed with :class:`IDXFormatError` (a ``ValueError``): bad
magic, unknown type, zero dimensions, a data section shorter or longer than the header says, a
broken gzip stream, or a header announcing more than ``max_bytes`` of data (checked before any
allocation).  :func:`load_mnist` reads the four standard files from a folder.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDXFormatError", "IDX_TYPES", "read_idx", "parse_idx", "MNIST", "MNIST_FILES", "load_mnist"]

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> big-endian numpy dtype of the stored elements."""

_DEFAULT_MAX_BYTES = 4 << 30  # 4 GiB: far above MNIST (47 MB of training images)


class IDXFormatError(ValueError):
    """An IDX file is malformed (the message says what and where)."""


def _read_exact(stream, n: int, what: str, source: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise IDXFormatError(f"{source}: truncated {what}: expected {n} bytes, got {len(data)}")
    return data


def _parse_stream(stream, source: str, max_bytes: int) -> np.ndarray:
    magic = _read_exact(stream, 4, "magic number", source)
    if magic[0] != 0 or magic[1] != 0:
        raise IDXFormatError(f"{source}: not an IDX file (magic number {magic.hex()} must start with two zero "
                             "bytes)")
    code, ndim = magic[2], magic[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise IDXFormatError(f"{source}: unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IDXFormatError(f"{source}: IDX header has 0 dimensions")
    dims = struct.unpack(f">{ndim}I", _read_exact(stream, 4 * ndim, "dimension sizes", source))
    dtype = IDX_TYPES[code]
    n_items = 1
    for d in dims:
        n_items *= d
    n_bytes = n_items * dtype.itemsize
    if n_bytes > max_bytes:
        raise IDXFormatError(f"{source}: header announces {n_bytes} bytes of data (shape {dims}), more than "
                             f"max_bytes={max_bytes}")
    data = _read_exact(stream, n_bytes, f"data section of shape {dims}", source)
    if stream.read(1):
        raise IDXFormatError(f"{source}: trailing bytes after the data section of shape {dims}")
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _open_stream(raw: bytes, source: str):
    if raw[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb")
    return io.BytesIO(raw)


def parse_idx(data: bytes, *, source: str = "<bytes>", max_bytes: int = _DEFAULT_MAX_BYTES) -> np.ndarray:
    """Decode the bytes of an IDX file (plain or gzip); see :func:`read_idx`."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    stream = _open_stream(bytes(data), source)
    try:
        return _parse_stream(stream, source, int(max_bytes))
    except IDXFormatError:
        raise
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:  # broken gzip stream
        raise IDXFormatError(f"{source}: corrupt gzip stream ({type(exc).__name__}: {exc})") from exc


def read_idx(path: str | os.PathLike, *, max_bytes: int = _DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read an IDX file (module docstring), plain or gzip-compressed.

    Parameters
    ----------
    path : path-like
        The file.
    max_bytes : int
        Largest data section accepted [bytes] (guards against a corrupt header asking for terabytes).

    Returns
    -------
    ndarray
        Shape from the header; dtype uint8, int8, int16, int32, float32 or float64 (native byte order).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    IDXFormatError
        If the file is malformed (module docstring).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    return parse_idx(raw, source=str(path), max_bytes=max_bytes)


@dataclasses.dataclass
class MNIST:
    """The MNIST arrays as stored (no normalisation)."""

    x_train: np.ndarray
    """Training images ``(60000, 28, 28)`` uint8 (0 background .. 255 ink)."""
    y_train: np.ndarray
    """Training labels ``(60000,)`` int64 in 0..9."""
    x_test: np.ndarray
    """Test images ``(10000, 28, 28)`` uint8."""
    y_test: np.ndarray
    """Test labels ``(10000,)`` int64."""


MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
"""The standard file names (also accepted: ``.gz`` suffix, and ``.`` instead of the last ``-``)."""


def _find(folder: Path, stem: str) -> Path:
    head, _, tail = stem.rpartition("-")
    candidates = [stem, f"{head}.{tail}"]
    for c in candidates:
        for name in (c, c + ".gz"):
            if (folder / name).is_file():
                return folder / name
    raise FileNotFoundError(f"{folder}: no MNIST file {stem} (or {stem}.gz); download the four IDX files from "
                            "http://yann.lecun.com/exdb/mnist/ (or a mirror) into this folder")


def load_mnist(folder: str | os.PathLike, *, max_bytes: int = _DEFAULT_MAX_BYTES) -> MNIST:
    """Read MNIST from the four standard IDX files in ``folder`` (plain or ``.gz``).

    Any set of IDX files with the standard names and the MNIST structure is accepted (so
    Fashion-MNIST and small test files load too): images ``(N, H, W)`` unsigned bytes, labels ``(N,)``
    unsigned bytes in 0..9, matching counts per split, equal image sizes in both splits.

    Raises
    ------
    FileNotFoundError
        If a file is missing (the message says where to get them).
    IDXFormatError
        If a file is malformed or the four files do not fit together.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder {folder} does not exist")
    arrays = {}
    for key, stem in MNIST_FILES.items():
        path = _find(folder, stem)
        a = read_idx(path, max_bytes=max_bytes)
        want_ndim = 3 if key.startswith("x") else 1
        if a.dtype != np.uint8 or a.ndim != want_ndim:
            raise IDXFormatError(f"{path}: expected {want_ndim}-D unsigned bytes for {key}, got {a.ndim}-D {a.dtype}")
        arrays[key] = a
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape[0] != y.shape[0]:
            raise IDXFormatError(f"{folder}: {split} has {x.shape[0]} images but {y.shape[0]} labels")
        if y.size and y.max() > 9:
            raise IDXFormatError(f"{folder}: {split} labels must lie in 0..9, got {int(y.max())}")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise IDXFormatError(f"{folder}: train images {arrays['x_train'].shape[1:]} and test images "
                             f"{arrays['x_test'].shape[1:]} differ in size")
    return MNIST(x_train=arrays["x_train"], y_train=arrays["y_train"].astype(np.int64), x_test=arrays["x_test"],
                 y_test=arrays["y_test"].astype(np.int64))
