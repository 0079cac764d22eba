"""NWB files: write simulated BCI sessions, read recordings for offline decoder fitting and evaluation.

Needs the ``nwb`` extra (pynwb); without it every function raises
:class:`~memr_snn._extras.MissingExtraError` naming the command that installs it.

**Writing** (:func:`write_session`): the blocks of a :class:`~memr_snn.bci.protocol.SessionResult`
laid end to end in time (bin ``k`` of the session spans ``[k, k+1) * bin_width``):

* ``units`` -- one unit per channel with its spike times.  The simulator keeps counts per bin, so
  the ``c`` spikes of a bin are placed at seeded uniform times inside the bin; binning them again
  (:func:`read_recording`) gives back the counts exactly;
* ``processing/behavior`` -- ``cursor_position`` [m] (a ``SpatialSeries`` in a ``Position``),
  ``cursor_velocity``, ``intended_velocity`` and ``decoded_velocity`` [m/s] and ``target`` [m]
  (``TimeSeries``, one row per bin, timestamps at the bin starts); ``decoded_velocity`` is zero in
  observation blocks, whose cursor moves by itself (``cursor_velocity``);
* ``processing/ecephys/broadband_rms`` -- when the session was recorded through a
  :class:`~memr_snn.bci.channels.FrontEnd`: each channel's broadband RMS per bin (stored in uV,
  ``conversion`` 1e-6 to volts);
* the trials table -- ``start_time``, ``stop_time``, ``target_x``, ``target_y`` [m], ``success``,
  ``block``, ``block_kind``.

**Reading** (:func:`read_recording`): unit spike times from the units table and the velocity from
``processing/behavior`` -- a velocity series (``cursor_velocity``, ``hand_velocity``,
``finger_velocity``, or the name given) used as is, else a position (a ``SpatialSeries`` named
``cursor_position``, ``hand_position``, ``finger_position``, directly or inside a ``Position``)
differentiated.  The velocity of a bin is the mean of the samples inside it (a bin without samples
takes the series interpolated at its centre); the bins start at the series' first sample.  A file
without what is needed is refused with a message that names what is missing and where it was looked
for.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from pathlib import Path

import numpy as np

from memr_snn._extras import require
from memr_snn._validation import check_positive

from ._checks import steps_per_bin
from .binning import bin_spike_times

__all__ = ["write_session", "read_recording", "Recording", "NWBContentError", "VELOCITY_NAMES", "POSITION_NAMES"]

VELOCITY_NAMES = ("cursor_velocity", "hand_velocity", "finger_velocity")
POSITION_NAMES = ("cursor_position", "hand_position", "finger_position")


class NWBContentError(ValueError):
    """An NWB file lacks what a reader needs; the message names it and where it was looked for."""


def _pynwb():
    return require("nwb", "pynwb", "reading and writing NWB files")


def write_session(path, result, *, seed: int = 0, description: str = "memr_snn simulated BCI session",
                  identifier: str | None = None) -> Path:
    """Write a simulated session (:class:`~memr_snn.bci.protocol.SessionResult`) to an NWB file; returns the path.

    ``seed`` places the spikes inside their bins (module docstring).
    """
    pynwb = _pynwb()
    from pynwb.behavior import Position, SpatialSeries

    bw = result.config.task.bin_width
    blocks = result.blocks
    counts = np.vstack([b.counts for b in blocks]).astype(np.int64)
    n_bins, n_units = counts.shape
    t0 = np.arange(n_bins) * bw
    rng = np.random.default_rng([int(seed), 0x4E5B])
    nwb = pynwb.NWBFile(session_description=description, identifier=identifier or str(uuid.uuid4()),
                        session_start_time=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))
    for i in range(n_units):
        c = counts[:, i]
        # inside the bin, away from its edges, so that rounding never moves a spike to a neighbour
        times = np.repeat(t0, c) + bw * rng.uniform(0.001, 0.999, size=int(c.sum()))
        nwb.add_unit(spike_times=np.sort(times), id=i)
    beh = nwb.create_processing_module("behavior", "cursor kinematics of the simulated closed loop")
    pos = Position(name="Position")
    pos.add_spatial_series(SpatialSeries(name="cursor_position", data=np.vstack([b.cursor for b in blocks]),
                                         timestamps=t0, reference_frame="workspace centre, metres", unit="m"))
    beh.add(pos)
    decoded = np.vstack([b.velocity if b.kind == "closed_loop" else np.zeros_like(b.velocity) for b in blocks])
    for name, data, unit in (("cursor_velocity", np.vstack([b.velocity for b in blocks]), "m/s"),
                             ("intended_velocity", np.vstack([b.intended for b in blocks]), "m/s"),
                             ("decoded_velocity", decoded, "m/s"),
                             ("target", np.vstack([b.target for b in blocks]), "m")):
        beh.add(pynwb.TimeSeries(name=name, data=data, timestamps=t0, unit=unit))
    if all(b.signal is not None for b in blocks):  # recorded through a front end: the broadband RMS per bin
        eph = nwb.create_processing_module("ecephys", "broadband signal quality of each channel")
        eph.add(pynwb.TimeSeries(name="broadband_rms", data=np.vstack([b.signal for b in blocks]), timestamps=t0,
                                 unit="volts", conversion=1e-6,
                                 description="RMS of each channel's band-passed signal per bin [uV]"))
    for col, desc in (("target_x", "target x [m]"), ("target_y", "target y [m]"), ("success", "acquired"),
                      ("block", "block index"), ("block_kind", "observation or closed_loop")):
        nwb.add_trial_column(name=col, description=desc)
    offset = 0
    for k, b in enumerate(blocks):
        for r in b.records:
            start = (offset + r.first_bin) * bw
            nwb.add_trial(start_time=start, stop_time=start + r.n_bins * bw, target_x=float(r.target[0]),
                          target_y=float(r.target[1]), success=bool(r.success), block=k, block_kind=b.kind)
        offset += b.n_bins
    path = Path(path)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


@dataclasses.dataclass
class Recording:
    """Binned data of an NWB recording, ready for ``decoder.fit(counts, velocity)``."""

    counts: np.ndarray
    """(n_bins, n_units) spike counts."""
    velocity: np.ndarray
    """(n_bins, 2) velocity averaged over each bin [m/s]."""
    bin_width: float
    """[s]"""
    start_time: float
    """Time of the first bin's start [s] (file time)."""
    unit_ids: np.ndarray
    """Ids of the units, one per column of ``counts``."""
    velocity_source: str
    """Which series the velocity came from (``"cursor_velocity"``, ``"hand_position (differentiated)"`` ...)."""


def _series_times(ts) -> np.ndarray:
    if ts.timestamps is not None:
        return np.asarray(ts.timestamps[:], dtype=np.float64)
    rate = float(ts.rate)
    start = float(ts.starting_time or 0.0)
    return start + np.arange(len(ts.data)) / rate


def _find_series(module, names):
    from pynwb.behavior import Position

    for name in names:
        if name in module.data_interfaces:
            return name, module.data_interfaces[name]
    for obj in module.data_interfaces.values():
        if isinstance(obj, Position):
            for name in names:
                if name in obj.spatial_series:
                    return name, obj.spatial_series[name]
    return None, None


def _bin_average(times: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean of the samples in each bin ``[edges[k], edges[k+1])``; a bin with no sample takes the
    series linearly interpolated at its centre."""
    idx = np.searchsorted(edges, times, side="right") - 1
    ok = (idx >= 0) & (idx < len(edges) - 1)
    n = np.bincount(idx[ok], minlength=len(edges) - 1).astype(np.float64)
    out = np.empty((len(edges) - 1, values.shape[1]))
    centre = 0.5 * (edges[1:] + edges[:-1])
    for d in range(values.shape[1]):
        s = np.bincount(idx[ok], weights=values[ok, d], minlength=len(edges) - 1)
        out[:, d] = np.where(n > 0, s / np.maximum(n, 1), np.interp(centre, times, values[:, d]))
    return out


def read_recording(path, bin_width: float = 0.02, *, velocity: str | None = None) -> Recording:
    """Read unit spike times and a hand/cursor velocity from an NWB file and bin them.

    Parameters
    ----------
    path : str or Path
        The NWB file.
    bin_width : float
        Bin [s], a whole number of 1 ms steps.  The bins cover the span of the behavior series
        (whole bins only).
    velocity : str, optional
        Name of the velocity or position series to use (default: the first of
        :data:`VELOCITY_NAMES`, then :data:`POSITION_NAMES`, found in ``processing/behavior``).

    Raises
    ------
    NWBContentError
        When the units table, the spike times, the behavior module or the series is missing.
    """
    pynwb = _pynwb()
    check_positive("bin_width", bin_width, "s")
    steps_per_bin(bin_width)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"NWB file {str(path)!r} does not exist")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        if nwb.units is None or len(nwb.units) == 0:
            raise NWBContentError(f"{path.name}: no units table (needed: unit spike times in /units)")
        if "spike_times" not in nwb.units.colnames:
            raise NWBContentError(f"{path.name}: the units table has no spike_times column "
                                  f"(columns: {list(nwb.units.colnames)})")
        ids = np.asarray(nwb.units.id[:])
        spikes = [np.asarray(nwb.units.get_unit_spike_times(i), dtype=np.float64) for i in range(len(ids))]
        if "behavior" not in nwb.processing:
            raise NWBContentError(f"{path.name}: no processing module 'behavior' (needed: one of the velocity series "
                                  f"{list(VELOCITY_NAMES)} or position series {list(POSITION_NAMES)})")
        beh = nwb.processing["behavior"]
        v_names = (velocity,) if velocity else VELOCITY_NAMES
        p_names = (velocity,) if velocity else POSITION_NAMES
        name, ts = _find_series(beh, v_names)
        differentiate = False
        if ts is None or (velocity and str(getattr(ts, "unit", "")).strip() not in ("m/s", "meters/second")):
            pname, pts = _find_series(beh, p_names)
            if pts is not None and (ts is None or pname == name):
                name, ts, differentiate = pname, pts, True
        if ts is None:
            wanted = [velocity] if velocity else list(VELOCITY_NAMES) + list(POSITION_NAMES)
            raise NWBContentError(f"{path.name}: processing/behavior has none of the series {wanted} "
                                  f"(has: {sorted(beh.data_interfaces)})")
        times = _series_times(ts)
        data = np.asarray(ts.data[:], dtype=np.float64)
        if data.ndim != 2 or data.shape[1] < 2:
            raise NWBContentError(f"{path.name}: series {name!r} must have at least 2 columns (x, y), "
                                  f"got shape {data.shape}")
        data = data[:, :2]
    if differentiate:
        data = np.gradient(data, times, axis=0)
    t_start = float(times[0])
    step = float(np.median(np.diff(times))) if len(times) > 1 else bin_width
    span = float(times[-1] - times[0]) + step  # the last sample covers one sample interval
    n_bins = int(np.floor(span / bin_width + 1e-9))
    if n_bins < 1:
        raise NWBContentError(f"{path.name}: series {name!r} spans {span:g} s, less than one bin of {bin_width:g} s")
    duration = n_bins * bin_width
    all_t = np.concatenate(spikes) - t_start if spikes else np.zeros(0)
    all_u = np.concatenate([np.full(len(s), k) for k, s in enumerate(spikes)]) if spikes else np.zeros(0, int)
    keep = (all_t >= 0) & (all_t < duration)
    counts = bin_spike_times(all_t[keep], all_u[keep], len(ids), duration, bin_width)
    edges = t_start + np.arange(n_bins + 1) * bin_width
    vel = _bin_average(times, data, edges)
    return Recording(counts=counts, velocity=vel, bin_width=float(bin_width), start_time=t_start, unit_ids=ids,
                     velocity_source=f"{name} (differentiated)" if differentiate else str(name))
