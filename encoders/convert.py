"""Conversions between the encoders' dense spike arrays and event lists.

Every encoder in :mod:`memr_snn.encoders` returns one representation: a ``uint8`` array of spike
counts per time step with the time axis second to last, ``(..., n_steps, n_channels)``.
:func:`to_events` turns one such train ``(n_steps, n_channels)`` into the ``(times, indices)``
event lists of :class:`memr_snn.SpikeSource`; :func:`from_events` is its inverse.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_finite, check_int_at_least, check_nonnegative
from ._checks import check_dt

__all__ = ["to_events", "from_events"]


def to_events(spikes, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Event lists of a spike-count train.

    Parameters
    ----------
    spikes : array_like of int, shape (n_steps, n_channels)
        Spike counts per step (an encoder's output for one sample).
    dt : float
        Time step [s].

    Returns
    -------
    times : ndarray of float64, shape (n_spikes,)
        Spike times ``step * dt`` [s], sorted by step, then by channel; a count of ``k`` gives ``k``
        equal entries (:class:`memr_snn.SpikeSource` accepts at most one spike per neuron and step).
    indices : ndarray of int64, shape (n_spikes,)
        Channel of each spike.

    Examples
    --------
    >>> import numpy as np
    >>> to_events(np.array([[0, 1], [1, 0], [0, 2]], dtype=np.uint8), 1e-3)
    (array([0.   , 0.001, 0.002, 0.002]), array([1, 0, 1, 1]))
    """
    dt = check_dt(dt)
    s = np.asarray(spikes)
    if s.ndim != 2:
        raise ValueError(f"spikes must have shape (n_steps, n_channels), got {s.shape}; index one sample first")
    if s.size and not (np.issubdtype(s.dtype, np.integer) or s.dtype == np.bool_):
        if not (np.all(np.isfinite(s)) and np.array_equal(s, np.round(s))):
            raise ValueError(f"spikes must hold integer counts, got dtype {s.dtype}")
    s = s.astype(np.int64)
    if s.size and s.min() < 0:
        raise ValueError(f"spikes must be >= 0 (counts), got {int(s.min())}")
    steps, chans = np.nonzero(s)  # row-major: sorted by step, then channel
    counts = s[steps, chans]
    steps, chans = np.repeat(steps, counts), np.repeat(chans, counts)
    return steps * dt, chans.astype(np.int64)


def from_events(times, indices, n_steps: int, n_channels: int, dt: float) -> np.ndarray:
    """Spike-count train ``(n_steps, n_channels)`` (uint8) of event lists; times are placed on ``round(t / dt)``.

    Raises
    ------
    ValueError
        If a time lies outside ``[0, n_steps * dt)``, an index outside ``[0, n_channels)``, the lists
        differ in length, or a count exceeds 255.
    """
    dt = check_dt(dt)
    n_steps = check_int_at_least("n_steps", n_steps, 1)
    n_channels = check_int_at_least("n_channels", n_channels, 1)
    t = np.asarray(times, dtype=np.float64).ravel()
    i = np.asarray(indices).ravel()
    if t.shape != i.shape:
        raise ValueError(f"times and indices must have the same length, got {t.size} and {i.size}")
    check_finite("times", t, "s")
    check_nonnegative("times", t, "s")
    steps = np.round(t / dt).astype(np.int64)
    if steps.size and steps.max() >= n_steps:
        raise ValueError(f"times must be < n_steps * dt = {n_steps * dt!r} s, got {t[steps >= n_steps][0]!r}")
    if i.size and (not np.issubdtype(i.dtype, np.integer) or i.min() < 0 or i.max() >= n_channels):
        raise ValueError(f"indices must be integers in [0, {n_channels - 1}], got {i[:1]!r}...")
    out = np.zeros((n_steps, n_channels), dtype=np.int64)
    np.add.at(out, (steps, i.astype(np.int64)), 1)
    if out.size and out.max() > 255:
        raise ValueError(f"a channel has {int(out.max())} spikes in one step; uint8 counts hold at most 255")
    return out.astype(np.uint8)
