"""Readers for event-camera files: N-MNIST ``.bin``, AEDAT 2.0, AEDAT 3.1 and AEDAT 4; tonic input.

Every reader returns an :class:`~memr_snn.encoders.events.EventStream` (events of
:data:`~memr_snn.encoders.events.EVENT_DTYPE`: ``t`` in µs, polarity 1 ON / 0 OFF, sorted by time).
Malformed input (truncated or corrupted files, unknown formats, events outside the sensor) raises
:class:`EventFileError`, a ``ValueError``; nothing else escapes a reader except ``OSError`` for a file
that cannot be opened.

Formats
-------
**N-MNIST / N-Caltech101** ``.bin`` (Orchard et al. 2015, the datasets' README): 5-byte records,

============  =========================================
bits 39-32    x address [pixels]
bits 31-24    y address [pixels]
bit 23        polarity (1 ON, 0 OFF)
bits 22-0     timestamp [µs]
============  =========================================

As in the authors' ``Read_Ndataset.m``, a record with ``y == 240`` is a timestamp-overflow marker: it
adds ``2**13`` µs to every later timestamp and is removed.  Default sensor: 34 x 34 (N-MNIST).

**AEDAT 2.0** (jAER; iniVation's "AEDAT file formats" page): ASCII header lines starting with ``#``
(the first is ``#!AER-DAT2.0``), then 8-byte big-endian records ``uint32 address, int32 timestamp
[µs]``.  Addresses are decoded with the DVS128 layout of jAER's ``loadaerdat``: polarity bit 0,
x bits 7-1, y bits 14-8; bit 15 marks external (non-DVS) events, which are skipped.  Coordinates are
the raw addresses (jAER's viewer additionally mirrors x and shows bit 0 = 1 as OFF; apply
``x -> 127 - x``, ``p -> 1 - p`` to match it).  Sensor 128 x 128.

**AEDAT 3.1** (iniVation / libcaer): ``#`` header lines ending with ``#!END-HEADER\\r\\n``, then
packets, each a 28-byte little-endian header ``int16 eventType, int16 eventSource, int32 eventSize,
int32 eventTSOffset, int32 eventTSOverflow, int32 eventCapacity, int32 eventNumber, int32 eventValid``
followed by ``eventCapacity * eventSize`` bytes.  Polarity packets (``eventType == 1``) hold 8-byte
events ``uint32 data, int32 timestamp``: bit 0 valid, bit 1 polarity, bits 16-2 y, bits 31-17 x; the
full timestamp is ``eventTSOverflow << 31 | timestamp``.  Only valid polarity events are returned;
other packet types are skipped.

**AEDAT 4** (``#!AER-DAT4.0``, flatbuffers + optional LZ4/ZSTD): decoded by the optional ``aedat``
package (``pip install memr_snn[dvs]``); event streams are concatenated and their size read from the
stream description.

**tonic**: :func:`from_tonic` accepts tonic's structured event arrays (fields ``x, y, t, p``, any
order) or a ``(events, target)`` dataset sample; tonic itself is never imported.

Timestamps out of order (the camera formats allow them across packets) are sorted stably
(``validate_events(..., sort=True)``), so every reader's output is time-ordered.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from .._extras import require
from .events import EVENT_DTYPE, EventError, EventStream, as_events, validate_events

__all__ = [
    "EventFileError",
    "read_nmnist",
    "read_aedat2",
    "read_aedat31",
    "read_aedat4",
    "read_events",
    "from_tonic",
]

NMNIST_SENSOR_SIZE = (34, 34)
DVS128_SENSOR_SIZE = (128, 128)
_HEADER_LIMIT = 1 << 20  # header lines beyond 1 MiB mean a corrupted file


class EventFileError(ValueError):
    """An event file is truncated, corrupted, of an unsupported format, or inconsistent with the sensor size."""


def _read_bytes(path) -> bytes:
    with open(os.fspath(path), "rb") as f:
        return f.read()


def _stream(events: np.ndarray, sensor_size, default, path) -> EventStream:
    if sensor_size is None:
        sensor_size = default if default is not None else (
            (int(events["x"].max()) + 1, int(events["y"].max()) + 1) if events.size else (1, 1))
    try:
        return EventStream(validate_events(events, sensor_size, sort=True), sensor_size)
    except EventError as exc:
        raise EventFileError(f"{path}: {exc}") from None


def read_nmnist(path, sensor_size: tuple[int, int] | None = NMNIST_SENSOR_SIZE) -> EventStream:
    """Read an N-MNIST / N-Caltech101 ``.bin`` file (module docstring).

    Parameters
    ----------
    path : path-like
    sensor_size : (int, int) or None
        ``(width, height)``; default N-MNIST's 34 x 34 (N-Caltech101 needs ``(240, 180)``); ``None``
        infers it from the largest coordinates.

    Raises
    ------
    EventFileError
        If the length is not a multiple of 5 bytes or an event lies outside the sensor.
    """
    return _parse_nmnist(_read_bytes(path), sensor_size, path)


def _parse_nmnist(data: bytes, sensor_size, path) -> EventStream:
    if len(data) % 5:
        raise EventFileError(f"{path}: {len(data)} bytes is not a whole number of 5-byte N-MNIST records (truncated?)")
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 5).astype(np.int64)
    x, y = raw[:, 0], raw[:, 1]
    p = raw[:, 2] >> 7
    ts = ((raw[:, 2] & 0x7F) << 16) | (raw[:, 3] << 8) | raw[:, 4]
    overflow = y == 240
    ts = ts + (np.cumsum(overflow) << 13)
    keep = ~overflow
    ev = np.empty(int(keep.sum()), dtype=EVENT_DTYPE)
    ev["t"], ev["x"], ev["y"], ev["p"] = ts[keep], x[keep], y[keep], p[keep]
    return _stream(ev, sensor_size, None, path)


def _split_header(data: bytes, path, end_marker: bytes | None) -> tuple[list[bytes], int]:
    """Return the ``#`` header lines and the offset of the first data byte."""
    lines = []
    pos = 0
    while pos < len(data) and data[pos:pos + 1] == b"#":
        nl = data.find(b"\n", pos)
        if nl < 0 or nl > _HEADER_LIMIT:
            raise EventFileError(f"{path}: header line without a newline (truncated or corrupted header)")
        line = data[pos:nl + 1]
        lines.append(line)
        pos = nl + 1
        if end_marker is not None and line.rstrip(b"\r\n") == end_marker:
            return lines, pos
    if end_marker is not None:
        raise EventFileError(f"{path}: header does not end with {end_marker.decode()!r} (truncated or corrupted)")
    return lines, pos


def read_aedat2(path, sensor_size: tuple[int, int] | None = DVS128_SENSOR_SIZE) -> EventStream:
    """Read an AEDAT 2.0 file recorded by a DVS128 (module docstring).

    Raises
    ------
    EventFileError
        Missing ``#!AER-DAT2.0`` header, a data section that is not a whole number of 8-byte records,
        negative timestamps, or events outside the sensor.
    """
    return _parse_aedat2(_read_bytes(path), sensor_size, path)


def _parse_aedat2(data: bytes, sensor_size, path) -> EventStream:
    if not data.startswith(b"#!AER-DAT2.0"):
        raise EventFileError(f"{path}: not an AEDAT 2.0 file (the first line must be '#!AER-DAT2.0')")
    _, start = _split_header(data, path, None)
    body = data[start:]
    if len(body) % 8:
        raise EventFileError(f"{path}: data section of {len(body)} bytes is not a whole number of 8-byte records "
                             "(truncated?)")
    rec = np.frombuffer(body, dtype=np.dtype([("address", ">u4"), ("t", ">i4")]))
    dvs = (rec["address"] & 0x8000) == 0
    rec = rec[dvs]
    if rec.size and int(rec["t"].min()) < 0:
        raise EventFileError(f"{path}: negative timestamp {int(rec['t'].min())} µs (corrupted file)")
    addr = rec["address"].astype(np.int64)
    ev = np.empty(rec.size, dtype=EVENT_DTYPE)
    ev["t"] = rec["t"]
    ev["x"] = (addr & 0x00FE) >> 1
    ev["y"] = (addr & 0x7F00) >> 8
    ev["p"] = addr & 1
    return _stream(ev, sensor_size, None, path)


_AEDAT3_PACKET = struct.Struct("<hhiiiiii")
_POLARITY_EVENT = 1


def read_aedat31(path, sensor_size: tuple[int, int] | None = None) -> EventStream:
    """Read the polarity events of an AEDAT 3.1 file (module docstring).

    Parameters
    ----------
    sensor_size : (int, int) or None
        ``(width, height)``; ``None`` infers it from the largest coordinates (AEDAT 3.1 headers do not
        carry it reliably; DVS128: ``(128, 128)``, DAVIS240: ``(240, 180)``, DAVIS346: ``(346, 260)``).

    Raises
    ------
    EventFileError
        Missing header or end marker, truncated packets, inconsistent packet headers, or events outside
        the sensor.
    """
    return _parse_aedat31(_read_bytes(path), sensor_size, path)


def _parse_aedat31(data: bytes, sensor_size, path) -> EventStream:
    if not data.startswith(b"#!AER-DAT3.1"):
        raise EventFileError(f"{path}: not an AEDAT 3.1 file (the first line must be '#!AER-DAT3.1')")
    _, pos = _split_header(data, path, b"#!END-HEADER")
    chunks = []
    n = len(data)
    while pos < n:
        if n - pos < _AEDAT3_PACKET.size:
            raise EventFileError(f"{path}: truncated packet header at byte {pos}")
        etype, _source, size, _tsoff, overflow, capacity, number, _valid = _AEDAT3_PACKET.unpack_from(data, pos)
        pos += _AEDAT3_PACKET.size
        if size <= 0 or capacity < 0 or number < 0 or number > capacity or overflow < 0:
            raise EventFileError(
                f"{path}: corrupted packet header at byte {pos - _AEDAT3_PACKET.size} (eventSize={size}, "
                f"eventCapacity={capacity}, eventNumber={number}, eventTSOverflow={overflow})")
        length = size * capacity
        if length > n - pos:
            raise EventFileError(f"{path}: packet at byte {pos - _AEDAT3_PACKET.size} needs {length} bytes, "
                                 f"only {n - pos} remain (truncated file)")
        if etype == _POLARITY_EVENT:
            if size != 8:
                raise EventFileError(f"{path}: polarity packet with eventSize={size}, expected 8")
            rec = np.frombuffer(data, dtype=np.dtype([("data", "<u4"), ("t", "<i4")]), count=number, offset=pos)
            rec = rec[(rec["data"] & 1) == 1]
            if rec.size and int(rec["t"].min()) < 0:
                raise EventFileError(f"{path}: negative timestamp in a polarity packet (corrupted file)")
            d = rec["data"].astype(np.int64)
            ev = np.empty(rec.size, dtype=EVENT_DTYPE)
            ev["t"] = (np.int64(overflow) << 31) | rec["t"].astype(np.int64)
            ev["x"] = (d >> 17) & 0x7FFF
            ev["y"] = (d >> 2) & 0x7FFF
            ev["p"] = (d >> 1) & 1
            chunks.append(ev)
        pos += length
    ev = np.concatenate(chunks) if chunks else np.empty(0, dtype=EVENT_DTYPE)
    return _stream(ev, sensor_size, None, path)


_AEDAT4_CHILD = """
import sys
import numpy as np
import aedat
path, out = sys.argv[1], sys.argv[2]
decoder = aedat.Decoder(path)
streams = decoder.id_to_stream()
ids = sorted(i for i, s in streams.items() if s.get("type") == "events")
if not ids:
    sys.stderr.write("the AEDAT 4 file has no event stream")
    sys.exit(3)
chunks = [p["events"] for p in decoder if p.get("stream_id") in ids and "events" in p]
e = np.concatenate(chunks) if chunks else np.empty(0, dtype=[("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("on", "?")])
size = (int(streams[ids[0]]["width"]), int(streams[ids[0]]["height"]))
np.savez(out, t=e["t"], x=e["x"], y=e["y"], p=e["on"], size=np.array(size))
"""


def read_aedat4(path, sensor_size: tuple[int, int] | None = None, *, isolate: bool = True) -> EventStream:
    """Read the event streams of an AEDAT 4 file through the optional ``aedat`` package.

    ``sensor_size=None`` takes the size from the file's stream description.

    Parameters
    ----------
    isolate : bool
        Decode in a child Python process (default).  The ``aedat`` decoder (2.3) panics across its
        Rust/Python boundary on some corrupted files, which aborts the whole interpreter; in a child
        process that becomes an :class:`EventFileError`.  ``isolate=False`` decodes in this process
        (saves the ~0.3 s process start; use it only for trusted files).

    Raises
    ------
    ImportError
        If ``aedat`` is not installed (``pip install memr_snn[dvs]``).
    EventFileError
        If the decoder rejects the file (truncated, corrupted) or it holds no event stream.
    """
    aedat = require("dvs", "aedat", "reading AEDAT 4 files")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    if isolate:
        import subprocess
        import sys
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "events.npz")
            proc = subprocess.run([sys.executable, "-c", _AEDAT4_CHILD, path, out], capture_output=True, text=True,
                                  errors="replace")
            if proc.returncode != 0 or not os.path.exists(out):
                lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
                why = lines[-1] if lines else f"decoder exited with status {proc.returncode}"
                raise EventFileError(f"{path}: cannot decode AEDAT 4 file: {why}")
            with np.load(out) as z:
                t, x, y, p, size = z["t"], z["x"], z["y"], z["p"], tuple(int(v) for v in z["size"])
    else:
        try:
            decoder = aedat.Decoder(path)
            streams = decoder.id_to_stream()
            ids = {i for i, s in streams.items() if s.get("type") == "events"}
            if not ids:
                raise EventFileError(f"{path}: cannot decode AEDAT 4 file: the AEDAT 4 file has no event stream")
            first = streams[min(ids)]
            size = (int(first["width"]), int(first["height"]))
            chunks = [pk["events"] for pk in decoder if pk.get("stream_id") in ids and "events" in pk]
        except EventFileError:
            raise
        except (KeyboardInterrupt, SystemExit, MemoryError):  # pragma: no cover
            raise
        except BaseException as exc:  # OSError, or pyo3's PanicException (a BaseException)
            raise EventFileError(f"{path}: cannot decode AEDAT 4 file: {exc}") from None
        e = np.concatenate(chunks) if chunks else np.empty(0, dtype=[("t", "<u8"), ("x", "<u2"), ("y", "<u2"),
                                                                     ("on", "?")])
        t, x, y, p = e["t"], e["x"], e["y"], e["on"]
    if t.size and int(t.max()) > np.iinfo(np.int64).max:
        raise EventFileError(f"{path}: timestamp beyond int64 (corrupted file)")
    ev = np.empty(t.size, dtype=EVENT_DTYPE)
    ev["t"], ev["x"], ev["y"], ev["p"] = t, x, y, p
    return _stream(ev, sensor_size if sensor_size is not None else size, None, path)


_MAGIC = (
    (b"#!AER-DAT2.0", _parse_aedat2),
    (b"#!AER-DAT3.1", _parse_aedat31),
)


def read_events(path, sensor_size: tuple[int, int] | None = None) -> EventStream:
    """Read an event file, choosing the reader from its content (header magic) or extension.

    AEDAT files are recognised by their first line (``#!AER-DAT2.0``, ``#!AER-DAT3.1``,
    ``#!AER-DAT4.0``); header-less ``.bin`` files are read as N-MNIST.  ``sensor_size=None`` uses each
    format's default (module docstring).

    Raises
    ------
    EventFileError
        For an unsupported format (e.g. AEDAT 1.0, EVT 2/3, unknown extensions) or a malformed file.
    """
    data = _read_bytes(path)
    for magic, parse in _MAGIC:
        if data.startswith(magic):
            return parse(data, sensor_size if sensor_size is not None else
                         (DVS128_SENSOR_SIZE if parse is _parse_aedat2 else None), path)
    if data.startswith(b"#!AER-DAT4.0"):
        return read_aedat4(path, sensor_size)
    if data.startswith(b"#!AER-DAT"):
        version = data[9:data.find(b"\n", 0, 64)].decode("ascii", "replace").strip()
        raise EventFileError(f"{path}: unsupported AEDAT version {version!r} (supported: 2.0, 3.1, 4.0)")
    if Path(os.fspath(path)).suffix.lower() == ".bin":
        return _parse_nmnist(data, sensor_size if sensor_size is not None else NMNIST_SENSOR_SIZE, path)
    raise EventFileError(
        f"{path}: unsupported event file format (supported: N-MNIST .bin, AEDAT 2.0, 3.1 and 4.0)")


def from_tonic(sample, sensor_size: tuple[int, int] | None = None) -> EventStream:
    """Convert tonic events (or a tonic dataset sample ``(events, target)``) to an :class:`EventStream`.

    Parameters
    ----------
    sample : structured ndarray or tuple
        tonic's event array (fields ``x``, ``y``, ``t`` [µs], ``p``; ``p`` bool, 0/1 or ±1), or a
        ``(events, target)`` pair as tonic datasets return (the target is dropped).
    sensor_size : (int, int) or (int, int, int), optional
        tonic's ``sensor_size`` (``(W, H, P)``: the polarity count is dropped); default: inferred from
        the largest coordinates.

    Returns
    -------
    EventStream
        Unsorted input is sorted stably.

    Raises
    ------
    EventError
        If the array lacks those fields or events lie outside ``sensor_size``.
    """
    if isinstance(sample, tuple) and len(sample) == 2 and getattr(sample[0], "dtype", None) is not None \
            and sample[0].dtype.names:
        sample = sample[0]
    ev = as_events(sample)
    if sensor_size is not None:
        sensor_size = tuple(sensor_size)[:2]
    else:
        sensor_size = (int(ev["x"].max()) + 1, int(ev["y"].max()) + 1) if ev.size else (1, 1)
    return EventStream(validate_events(ev, sensor_size, sort=True), sensor_size)
