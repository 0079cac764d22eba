"""Spike-train statistics used by summaries, tests and benchmarks."""

from __future__ import annotations

import numpy as np

__all__ = ["isi_cv", "mean_rate"]


def isi_cv(times: np.ndarray, indices: np.ndarray, min_spikes: int = 3) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals, per neuron.

    Parameters
    ----------
    times : (n_spikes,) ndarray
        Spike times [s].
    indices : (n_spikes,) ndarray
        Neuron of each spike.
    min_spikes : int
        Neurons with fewer spikes are left out.

    Returns
    -------
    (n_neurons_kept,) ndarray
        std(ISI) / mean(ISI) of each neuron with at least ``min_spikes`` spikes.
    """
    times = np.asarray(times, dtype=np.float64)
    indices = np.asarray(indices)
    order = np.lexsort((times, indices))
    t, i = times[order], indices[order]
    if t.size < 2:
        return np.zeros(0)
    same = i[1:] == i[:-1]
    isi = np.diff(t)[same]
    owner = i[1:][same]
    uniq, start, counts = np.unique(owner, return_index=True, return_counts=True)
    keep = counts >= max(min_spikes - 1, 2)
    sums = np.add.reduceat(isi, start) if isi.size else np.zeros(0)
    sq = np.add.reduceat(isi**2, start) if isi.size else np.zeros(0)
    mean = sums / counts
    var = np.maximum(sq / counts - mean**2, 0.0)
    cv = np.sqrt(var) / mean
    return cv[keep]


def mean_rate(n_spikes: int, n_neurons: int, duration: float) -> float:
    """Spikes per neuron per second [Hz]."""
    if n_neurons <= 0 or duration <= 0:
        return 0.0
    return n_spikes / (n_neurons * duration)
