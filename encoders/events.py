"""Address-event (DVS) streams: one representation, validation and the usual utilities.

Representation
--------------
An event stream is a numpy structured array of dtype :data:`EVENT_DTYPE`:

============  ==========  ================================================================
field         dtype       meaning
============  ==========  ================================================================
``t``         ``int64``   timestamp [µs] (integer microseconds, as every camera file stores)
``x``         ``uint16``  column, ``0 <= x < width``
``y``         ``uint16``  row, ``0 <= y < height`` (row 0 is the top of the image)
``p``         ``int8``    polarity: ``1`` = ON (brightness up), ``0`` = OFF (brightness down)
============  ==========  ================================================================

plus a sensor size ``(width, height)`` that travels next to it, either as an explicit argument or
bundled in an :class:`EventStream`.  Timestamps are integers so that files round-trip exactly and
sums/differences never lose precision; every *time argument* of the functions here (windows,
refractory periods, filter times) is in seconds, as in the rest of memr_snn, and is converted once
with :func:`seconds_to_us` (rounded to the nearest microsecond).

Ordering: the utilities require events sorted by time (non-decreasing ``t``).  :func:`validate_events`
refuses unsorted input with :class:`EventError` unless called with ``sort=True``, which returns a
stably sorted copy (events with equal timestamps keep their order).  Readers and the emulator always
return sorted streams.

Utilities: :func:`crop`, :func:`time_window`, :func:`refractory_filter`, :func:`denoise`
(background-activity filter, Delbruck 2008), :func:`to_frames_by_time`, :func:`to_frames_by_count`
and :func:`to_voxel_grid` (Zhu et al. 2019).  The two per-event sequential filters are numba kernels
(``cache=True``) with plain-Python twins in ``encoders/_events_reference.py``.

References
----------
T. Delbruck, "Frame-free dynamic digital vision", Proc. Int. Symp. Secure-Life Electronics, 2008.
A. Z. Zhu, L. Yuan, K. Chaney, K. Daniilidis, "Unsupervised event-based learning of optical flow,
depth, and egomotion", CVPR 2019 (the bilinear-in-time voxel grid).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numba import njit

__all__ = [
    "EVENT_DTYPE",
    "EventError",
    "EventStream",
    "seconds_to_us",
    "make_events",
    "as_events",
    "validate_events",
    "crop",
    "time_window",
    "refractory_filter",
    "denoise",
    "to_frames_by_time",
    "to_frames_by_count",
    "to_voxel_grid",
    "refractory_kernel",
    "denoise_kernel",
]

EVENT_DTYPE = np.dtype([("t", "<i8"), ("x", "<u2"), ("y", "<u2"), ("p", "i1")])
"""Structured dtype of an event stream (module docstring): ``t`` [µs], ``x``, ``y``, ``p`` (1 ON / 0 OFF)."""

_MAX_COORD = np.iinfo(np.uint16).max


class EventError(ValueError):
    """An event array or sensor size is invalid (out of the sensor, bad polarity, unsorted, wrong fields)."""


def seconds_to_us(name: str, value: float, *, allow_zero: bool = True) -> int:
    """Convert a time argument in seconds to integer microseconds (rounded to nearest).

    Raises
    ------
    ValueError
        If ``value`` is not a finite number ``>= 0`` (``> 0`` if ``allow_zero`` is false).
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a time in seconds, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        rng = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite time {rng} s, got {value!r}")
    return int(round(v * 1e6))


def _check_sensor_size(sensor_size) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in sensor_size)
        ok = all(float(v) == int(v) for v in sensor_size)
    except (TypeError, ValueError):
        raise EventError(f"sensor_size must be (width, height) of positive integers, got {sensor_size!r}") from None
    if not ok or not (1 <= w <= _MAX_COORD + 1 and 1 <= h <= _MAX_COORD + 1):
        raise EventError(f"sensor_size must be (width, height) with 1 <= width, height <= 65536, got {sensor_size!r}")
    return w, h


def make_events(t, x, y, p) -> np.ndarray:
    """Build an event array of :data:`EVENT_DTYPE` from four equal-length sequences.

    Parameters
    ----------
    t : (n,) array_like of int
        Timestamps [µs]; integer-valued.
    x, y : (n,) array_like of int
        Pixel column and row, ``0 <= x, y <= 65535``.
    p : (n,) array_like
        Polarity: ``1``/``True`` for ON, ``0``/``False`` for OFF; ``-1`` is accepted as OFF.

    Returns
    -------
    (n,) ndarray of EVENT_DTYPE
        Not sorted and not checked against a sensor size (see :func:`validate_events`).

    Raises
    ------
    EventError
        Mismatched lengths, non-integer timestamps or coordinates, or polarities outside {-1, 0, 1}.
    """
    arrays = [np.asarray(a) for a in (t, x, y, p)]
    n = arrays[0].shape
    for name, a in zip("txyp", arrays, strict=True):
        if a.ndim != 1 or a.shape != n:
            raise EventError(f"t, x, y, p must be 1-D of one length; {name} has shape {a.shape}, t has {n}")
    t, x, y, p = arrays
    out = np.empty(n[0], dtype=EVENT_DTYPE)
    for name, a in (("t", t), ("x", x), ("y", y)):
        if a.size and a.dtype.kind not in "iub":
            if a.dtype.kind != "f" or not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
                raise EventError(f"{name} must hold integers (timestamps in µs), got dtype {a.dtype}")
    if x.size and (x.min() < 0 or x.max() > _MAX_COORD or y.min() < 0 or y.max() > _MAX_COORD):
        raise EventError("x and y must lie in [0, 65535]")
    out["t"] = t
    out["x"] = x
    out["y"] = y
    out["p"] = _polarity01(p)
    return out


def _polarity01(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p)
    if p.dtype == np.bool_:
        return p.astype(np.int8)
    if p.size == 0:
        return p.astype(np.int8)
    if p.dtype.kind == "f" and not np.all(np.isfinite(p)):
        raise EventError("polarity must be one of -1, 0, 1 (or bool); got non-finite values")
    bad = ~np.isin(p, (-1, 0, 1))
    if np.any(bad):
        raise EventError(f"polarity must be one of -1, 0, 1 (or bool); got {p[bad][0]!r}")
    return (p > 0).astype(np.int8)


def as_events(array) -> np.ndarray:
    """Convert any structured array with fields ``t``, ``x``, ``y``, ``p`` to :data:`EVENT_DTYPE`.

    Accepts tonic-style arrays (any field order and integer dtypes; ``p`` bool, 0/1 or ±1) and arrays
    already of :data:`EVENT_DTYPE` (returned as they are, not copied).

    Raises
    ------
    EventError
        If ``array`` is not a 1-D structured array with those four fields.
    """
    a = np.asarray(array)
    if a.dtype == EVENT_DTYPE and a.ndim == 1:
        return a
    names = a.dtype.names or ()
    missing = [f for f in "txyp" if f not in names]
    if missing or a.ndim != 1:
        raise EventError(
            f"expected a 1-D structured array with fields t, x, y, p; got dtype {a.dtype} and shape {a.shape}"
            + (f" (missing {', '.join(missing)})" if missing else "")
        )
    return make_events(a["t"], a["x"], a["y"], a["p"])


def validate_events(events, sensor_size, *, sort: bool = False) -> np.ndarray:
    """Check an event array against a sensor size; return it (or a sorted copy).

    Parameters
    ----------
    events : structured ndarray
        Converted with :func:`as_events` first.
    sensor_size : (int, int)
        ``(width, height)`` of the sensor.
    sort : bool
        If true, unsorted timestamps are stably sorted (a copy is returned); if false (default) they
        raise.

    Returns
    -------
    (n,) ndarray of EVENT_DTYPE
        Sorted by ``t``.

    Raises
    ------
    EventError
        Events outside the sensor, negative timestamps, or unsorted timestamps with ``sort=False``.
    """
    ev = as_events(events)
    w, h = _check_sensor_size(sensor_size)
    if ev.size == 0:
        return ev
    if int(ev["x"].max()) >= w or int(ev["y"].max()) >= h:
        i = int(np.flatnonzero((ev["x"] >= w) | (ev["y"] >= h))[0])
        raise EventError(
            f"event {i} at (x={int(ev['x'][i])}, y={int(ev['y'][i])}) lies outside the sensor of size "
            f"(width={w}, height={h}); crop the stream or pass the right sensor_size"
        )
    if int(ev["t"].min()) < 0:
        raise EventError(f"timestamps must be >= 0 µs, got {int(ev['t'].min())}")
    if np.any(np.diff(ev["t"]) < 0):
        if not sort:
            i = int(np.flatnonzero(np.diff(ev["t"]) < 0)[0])
            raise EventError(
                f"timestamps are not sorted: t[{i}]={int(ev['t'][i])} > t[{i + 1}]={int(ev['t'][i + 1])} µs; "
                "pass sort=True to sort them"
            )
        ev = ev[np.argsort(ev["t"], kind="stable")]
    return ev


@dataclasses.dataclass(frozen=True, eq=False)
class EventStream:
    """An event array with its sensor size; validated (in bounds, sorted) on construction.

    Compared by identity (``==`` on arrays is elementwise); compare ``.events`` with numpy instead.

    Returned by the readers (:mod:`memr_snn.encoders.readers`) and the emulator
    (:mod:`memr_snn.encoders.dvs`).
    """

    events: np.ndarray
    """``(n,)`` structured array of :data:`EVENT_DTYPE`, sorted by ``t`` [µs]."""
    sensor_size: tuple[int, int]
    """``(width, height)`` [pixels]."""

    def __post_init__(self):
        size = _check_sensor_size(self.sensor_size)
        object.__setattr__(self, "sensor_size", size)
        object.__setattr__(self, "events", validate_events(self.events, size))

    def __len__(self) -> int:
        return int(self.events.size)

    @property
    def duration(self) -> float:
        """Time from the first to the last event [s] (0 for fewer than two events)."""
        if self.events.size < 2:
            return 0.0
        return float(self.events["t"][-1] - self.events["t"][0]) * 1e-6


def _prepare(events, sensor_size) -> tuple[np.ndarray, int, int]:
    ev = validate_events(events, sensor_size)
    w, h = _check_sensor_size(sensor_size)
    return ev, w, h


def crop(events, sensor_size, origin: tuple[int, int], size: tuple[int, int]) -> EventStream:
    """Keep the events inside a rectangle and shift them to its origin.

    Parameters
    ----------
    events : structured ndarray
        Sorted events on a sensor of ``sensor_size``.
    sensor_size : (int, int)
        ``(width, height)``.
    origin : (int, int)
        ``(x0, y0)`` of the rectangle's top-left pixel.
    size : (int, int)
        ``(width, height)`` of the rectangle; it must fit inside the sensor.

    Returns
    -------
    EventStream
        Events with ``x0 <= x < x0 + width`` and ``y0 <= y < y0 + height``, coordinates minus the origin,
        on a sensor of ``size``.
    """
    ev, w, h = _prepare(events, sensor_size)
    cw, ch = _check_sensor_size(size)
    x0, y0 = (int(v) for v in origin)
    if x0 < 0 or y0 < 0 or x0 + cw > w or y0 + ch > h:
        raise ValueError(f"crop rectangle origin={origin!r} size={size!r} does not fit the sensor ({w}, {h})")
    keep = (ev["x"] >= x0) & (ev["x"] < x0 + cw) & (ev["y"] >= y0) & (ev["y"] < y0 + ch)
    out = ev[keep].copy()
    out["x"] -= x0
    out["y"] -= y0
    return EventStream(out, (cw, ch))


def time_window(events, t_start: float, t_stop: float) -> np.ndarray:
    """Events with ``t_start <= t < t_stop`` (seconds; half-open, so windows tile without overlap).

    ``events`` must be sorted (binary search).  Timestamps keep their values (not shifted).
    """
    ev = as_events(events)
    a = seconds_to_us("t_start", t_start)
    b = seconds_to_us("t_stop", t_stop)
    if b < a:
        raise ValueError(f"t_stop must be >= t_start, got t_start={t_start!r} s, t_stop={t_stop!r} s")
    if ev.size and np.any(np.diff(ev["t"]) < 0):
        raise EventError("time_window needs events sorted by t; use validate_events(..., sort=True)")
    i, j = np.searchsorted(ev["t"], [a, b], side="left")
    return ev[i:j]


@njit(cache=True)
def refractory_kernel(t, pix, refractory_us, n_pixels, keep):  # pragma: no cover - jitted; twin tested
    """Mark in ``keep`` (bool, same length as ``t``) the events that pass a per-pixel dead time.

    An event passes if no *kept* event at its pixel lies less than ``refractory_us`` before it.
    ``pix`` is the flat pixel index ``y * width + x``; ``t`` is sorted [µs].
    """
    last = np.empty(n_pixels, dtype=np.int64)
    for k in range(n_pixels):
        last[k] = -(2**62)
    for i in range(t.shape[0]):
        q = pix[i]
        if t[i] - last[q] >= refractory_us:
            keep[i] = True
            last[q] = t[i]
        else:
            keep[i] = False


def refractory_filter(events, sensor_size, refractory: float) -> np.ndarray:
    """Drop events that follow a kept event at the same pixel by less than ``refractory`` [s].

    Polarity is ignored (a pixel's dead time follows any event), as tonic's ``RefractoryPeriod``.
    """
    ev, w, h = _prepare(events, sensor_size)
    r = seconds_to_us("refractory", refractory)
    keep = np.empty(ev.size, dtype=np.bool_)
    pix = ev["y"].astype(np.int64) * w + ev["x"].astype(np.int64)
    refractory_kernel(np.ascontiguousarray(ev["t"]), pix, r, w * h, keep)
    return ev[keep]


@njit(cache=True)
def denoise_kernel(t, x, y, width, height, filter_us, neighbours8, keep):  # pragma: no cover - jitted; twin tested
    """Background-activity filter (Delbruck 2008) over sorted events.

    An event passes if one of its neighbouring pixels (4- or 8-neighbourhood; the pixel itself is not
    its own neighbour) had an event less than ``filter_us`` µs before it, i.e. ``t - t_last < filter_us``.
    Every event, kept or not, updates its pixel's last timestamp.
    """
    last = np.empty((height, width), dtype=np.int64)
    for a in range(height):
        for b in range(width):
            last[a, b] = -(2**62)
    for i in range(t.shape[0]):
        xi = np.int64(x[i])
        yi = np.int64(y[i])
        ok = False
        for dy in range(-1, 2):
            for dx in range(-1, 2):
                if dx == 0 and dy == 0:
                    continue
                if not neighbours8 and dx != 0 and dy != 0:
                    continue
                xx = xi + dx
                yy = yi + dy
                if 0 <= xx < width and 0 <= yy < height and t[i] - last[yy, xx] < filter_us:
                    ok = True
        keep[i] = ok
        last[yi, xi] = t[i]


def denoise(events, sensor_size, filter_time: float, *, neighbourhood: int = 8) -> np.ndarray:
    """Background-activity (nearest-neighbour correlation) filter (Delbruck 2008).

    Real edges make events at neighbouring pixels close in time; isolated noise events do not.  An
    event is kept if one of its neighbours fired less than ``filter_time`` [s] before it.

    Parameters
    ----------
    events, sensor_size
        Sorted events and ``(width, height)``.
    filter_time : float
        Correlation window [s], > 0.
    neighbourhood : {8, 4}
        8-neighbourhood (Delbruck's filter) or 4-neighbourhood (tonic's ``denoise``).

    Returns
    -------
    (m,) ndarray of EVENT_DTYPE
        The kept events.
    """
    ev, w, h = _prepare(events, sensor_size)
    f = seconds_to_us("filter_time", filter_time, allow_zero=False)
    if neighbourhood not in (4, 8):
        raise ValueError(f"neighbourhood must be 4 or 8, got {neighbourhood!r}")
    keep = np.empty(ev.size, dtype=np.bool_)
    denoise_kernel(np.ascontiguousarray(ev["t"]), np.ascontiguousarray(ev["x"]), np.ascontiguousarray(ev["y"]),
                   w, h, f, neighbourhood == 8, keep)
    return ev[keep]


def _accumulate(ev: np.ndarray, frame_index: np.ndarray, n_frames: int, w: int, h: int) -> np.ndarray:
    flat = ((frame_index * 2 + ev["p"].astype(np.int64)) * h + ev["y"].astype(np.int64)) * w + ev["x"].astype(np.int64)
    counts = np.bincount(flat, minlength=n_frames * 2 * h * w)
    return counts.reshape(n_frames, 2, h, w).astype(np.int32)


def to_frames_by_time(events, sensor_size, n_bins: int, *, t_start: float | None = None,
                      t_stop: float | None = None) -> np.ndarray:
    """Count events per pixel and polarity in ``n_bins`` equal time bins.

    Parameters
    ----------
    events, sensor_size
        Sorted events and ``(width, height)``.
    n_bins : int
        Number of frames, >= 1.
    t_start, t_stop : float, optional
        Time span [s] split into the bins (default: first event to last event + 1 µs).  Bins are
        half-open ``[t_k, t_{k+1})``; events outside the span are ignored.

    Returns
    -------
    (n_bins, 2, height, width) ndarray of int32
        Channel 0 counts OFF events, channel 1 ON events.
    """
    ev, w, h = _prepare(events, sensor_size)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")
    a = seconds_to_us("t_start", t_start) if t_start is not None else (int(ev["t"][0]) if ev.size else 0)
    b = seconds_to_us("t_stop", t_stop) if t_stop is not None else (int(ev["t"][-1]) + 1 if ev.size else a + 1)
    if b <= a:
        raise ValueError(f"t_stop must be > t_start, got {b} µs <= {a} µs")
    ev = ev[(ev["t"] >= a) & (ev["t"] < b)]
    # integer arithmetic: bin k holds a + k (b - a) / n <= t < a + (k+1) (b - a) / n
    k = ((ev["t"] - a) * int(n_bins)) // (b - a)
    return _accumulate(ev, k, int(n_bins), w, h)


def to_frames_by_count(events, sensor_size, event_count: int) -> np.ndarray:
    """Split the stream into consecutive slices of ``event_count`` events and count each per pixel.

    The last slice may hold fewer events.  Returns ``(ceil(n / event_count), 2, height, width)`` int32
    (zero frames for an empty stream); channel 0 OFF, channel 1 ON.
    """
    ev, w, h = _prepare(events, sensor_size)
    if isinstance(event_count, bool) or not isinstance(event_count, (int, np.integer)) or event_count < 1:
        raise ValueError(f"event_count must be an integer >= 1, got {event_count!r}")
    n_frames = -(-ev.size // int(event_count))
    k = np.arange(ev.size, dtype=np.int64) // int(event_count)
    return _accumulate(ev, k, n_frames, w, h)


def to_voxel_grid(events, sensor_size, n_bins: int) -> np.ndarray:
    """Bilinear-in-time voxel grid (Zhu et al. 2019).

    With timestamps normalised to ``t*_i = (B - 1) (t_i - t_0) / (t_N - t_0)`` and polarity
    ``s_i = ±1``,

    .. math::  V(x, y, b) = \\sum_i s_i \\, \\delta(x - x_i) \\, \\delta(y - y_i) \\, \\max(0, 1 - |b - t^*_i|),

    so each event splits its ±1 between the two nearest of the ``B = n_bins`` temporal bins.  A stream
    spanning zero time puts everything in bin 0.

    Returns
    -------
    (n_bins, height, width) ndarray of float64
    """
    ev, w, h = _prepare(events, sensor_size)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")
    grid = np.zeros(int(n_bins) * h * w, dtype=np.float64)
    if ev.size == 0:
        return grid.reshape(int(n_bins), h, w)
    t = ev["t"].astype(np.float64)
    span = t[-1] - t[0]
    ts = (int(n_bins) - 1) * (t - t[0]) / span if span > 0 else np.zeros_like(t)
    s = np.where(ev["p"] > 0, 1.0, -1.0)
    pix = ev["y"].astype(np.int64) * w + ev["x"].astype(np.int64)
    lo = np.floor(ts).astype(np.int64)
    frac = ts - lo
    np.add.at(grid, lo * h * w + pix, s * (1.0 - frac))
    hi = lo + 1
    inside = hi < n_bins
    np.add.at(grid, hi[inside] * h * w + pix[inside], (s * frac)[inside])
    return grid.reshape(int(n_bins), h, w)
