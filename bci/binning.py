"""Binning recorded spike times into the ``(n_bins, n_units)`` counts the decoders take."""

from __future__ import annotations

import numpy as np

from memr_snn._validation import check_index_array, check_int_at_least

from ._checks import n_bins_of

__all__ = ["bin_spike_times"]


def bin_spike_times(times, units, n_units: int, duration: float, bin_width: float) -> np.ndarray:
    """Count spikes per bin and unit.

    Parameters
    ----------
    times : (n_spikes,) array_like
        Spike times [s], in ``[0, duration)``.
    units : (n_spikes,) array_like of int
        Unit of each spike, in ``[0, n_units)``.
    n_units : int
        Number of units.
    duration : float
        Session length [s]; ``bin_width`` must divide it.
    bin_width : float
        Bin [s], a whole number of 1 ms steps.

    Returns
    -------
    (n_bins, n_units) ndarray of int64
        Spike counts.

    Raises
    ------
    ValueError
        Before any counting: bins that do not divide the session, times outside it or not finite,
        units out of range, ``times`` and ``units`` of different lengths.
    """
    n_units = check_int_at_least("n_units", n_units, 1)
    n_bins = n_bins_of(duration, bin_width)
    t = np.asarray(times, dtype=np.float64).ravel()
    u = check_index_array("units", units, n_units)
    if t.shape != u.shape:
        raise ValueError(f"times and units must have one entry per spike, got {t.size} times and {u.size} units")
    bad = ~np.isfinite(t) | (t < 0) | (t >= duration)
    if np.any(bad):
        raise ValueError(f"times must lie in [0, {duration:g}) s, got {t[bad][0].item()!r} "
                         f"(spike {int(np.flatnonzero(bad)[0])})")
    b = np.minimum((t / bin_width).astype(np.int64), n_bins - 1)
    counts = np.zeros((n_bins, n_units), dtype=np.int64)
    np.add.at(counts, (b, u), 1)
    return counts
