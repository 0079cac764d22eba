r"""Bridges between spikes and dense values, vectorised over neurons (no Python loop over neurons or steps).

Spikes are a count matrix ``spikes`` of shape ``(n_steps, n)`` (the layout of :mod:`memr_snn.encoders`:
time second to last), one window of a stage's firing; ``dt`` is the step of that matrix.

Spikes -> dense
---------------
* :func:`spike_counts`: :math:`c_i = \sum_t s_{t,i}`;
* :func:`exp_rate`: the exponentially filtered rate after the window, from the recursion
  :math:`r_{t+1} = e^{-\Delta t/\tau} r_t + s_{t,i}/\tau` started at ``r0``, i.e.
  :math:`r_W = a^W r_0 + \tau^{-1}\sum_t a^{W-1-t} s_t` with :math:`a = e^{-\Delta t/\tau}` [Hz];
  a constant rate :math:`\nu` (one spike every :math:`1/(\nu\Delta t)` steps) gives
  :math:`r \to \nu` on average;
* :func:`first_spike_latency`: :math:`\Delta t \cdot \min\{t : s_{t,i} > 0\}` [s], ``inf`` without a spike;
* membrane readout: :class:`memr_snn.pipeline.stages.SpikingStage` with ``readout="membrane"`` reads a
  state variable of the output population (:meth:`memr_snn.Network.get_state`).

Dense -> spikes
---------------
:func:`encode` calls the encoders of :mod:`memr_snn.encoders` (``"poisson"``: :func:`~memr_snn.encoders.poisson_rate`,
``"regular"``: :func:`~memr_snn.encoders.regular_rate`, ``"latency"``: :func:`~memr_snn.encoders.latency`) after
clipping the values to ``[x_min, x_max]``; :class:`DeltaBridge` is send-on-delta
(:func:`~memr_snn.encoders.delta`) with the reference level carried from one window to the next, so that
:func:`~memr_snn.encoders.delta_decode` of the concatenated windows reconstructs the signal.
"""

from __future__ import annotations

import math

import numpy as np

from ..encoders import delta, delta_decode, latency, poisson_rate, regular_rate

__all__ = ["spike_counts", "exp_rate", "first_spike_latency", "encode", "DeltaBridge", "ENCODINGS"]

#: dense -> spike encodings of :func:`encode`
ENCODINGS = ("poisson", "regular", "latency")


def _spikes(spikes) -> np.ndarray:
    s = np.asarray(spikes)
    if s.ndim != 2:
        raise ValueError(f"spikes must be a (n_steps, n) count matrix, got shape {s.shape}")
    if s.dtype.kind not in "biuf" or (s.size and (not np.all(np.isfinite(s)) or s.min() < 0)):
        raise ValueError("spikes must hold finite counts >= 0")
    return s


def spike_counts(spikes) -> np.ndarray:
    """Spikes per neuron over the window, ``(n,)`` float64."""
    return _spikes(spikes).sum(axis=0, dtype=np.float64)


def exp_rate(spikes, dt: float, tau: float, r0=0.0) -> np.ndarray:
    """Exponentially filtered rate [Hz] after the window (module docstring), ``(n,)`` float64.

    Parameters
    ----------
    spikes : (n_steps, n) array
    dt : float
        Step of ``spikes`` [s] (> 0).
    tau : float
        Filter time constant [s] (> 0).
    r0 : float or (n,) array
        Rate before the window [Hz].
    """
    s = _spikes(spikes)
    if not (dt > 0 and math.isfinite(dt)) or not (tau > 0 and math.isfinite(tau)):
        raise ValueError(f"dt and tau must be finite and > 0 [s], got dt={dt!r}, tau={tau!r}")
    w = s.shape[0]
    a = math.exp(-dt / tau)
    weights = a ** np.arange(w - 1, -1, -1, dtype=np.float64)
    return a**w * np.asarray(r0, dtype=np.float64) + (weights @ s.astype(np.float64)) / tau


def first_spike_latency(spikes, dt: float) -> np.ndarray:
    """Time from the window's start to each neuron's first spike [s] (``inf``: none), ``(n,)`` float64."""
    s = _spikes(spikes) > 0
    any_ = s.any(axis=0)
    first = np.argmax(s, axis=0).astype(np.float64) * float(dt)
    return np.where(any_, first, np.inf)


def encode(x, encoding: str, n_steps: int, dt: float, *, max_rate: float = 0.0, x_min: float = 0.0,
           x_max: float = 1.0, rng=None) -> np.ndarray:
    """Spikes ``(n_steps, n)`` (uint8) of the values ``x`` ``(n,)``, clipped to ``[x_min, x_max]`` first.

    ``encoding``: ``"poisson"`` or ``"regular"`` (rate ``max_rate`` [Hz] at ``x_max``) or ``"latency"``
    (linear time to first spike over the window).
    """
    x = np.clip(np.asarray(x, dtype=np.float64), x_min, x_max)
    if encoding == "poisson":
        return poisson_rate(x, n_steps, dt, max_rate=max_rate, x_min=x_min, x_max=x_max, rng=rng)
    if encoding == "regular":
        return regular_rate(x, n_steps, dt, max_rate=max_rate, x_min=x_min, x_max=x_max)
    if encoding == "latency":
        return latency(x, n_steps, dt, x_min=x_min, x_max=x_max)
    raise ValueError(f"encoding must be one of {ENCODINGS} (or use DeltaBridge), got {encoding!r}")


class DeltaBridge:
    """Send-on-delta over successive windows: the reference level carries over (module docstring).

    Parameters
    ----------
    n : int
        Channels.
    threshold : float
        Change per spike (> 0, units of the signal).
    initial : float or (n,) array
        Reference before the first window.
    """

    def __init__(self, n: int, threshold: float, initial=0.0) -> None:
        self.n = int(n)
        self.threshold = float(threshold)
        self.reference = np.broadcast_to(np.asarray(initial, dtype=np.float64), (self.n,)).copy()

    def __call__(self, signal) -> np.ndarray:
        """ON/OFF counts ``(n_steps, 2n)`` of ``signal`` ``(n_steps, n)``; moves the reference."""
        s = np.asarray(signal, dtype=np.float64)
        out = delta(s, self.threshold, initial=self.reference)
        self.reference = delta_decode(out, self.threshold, initial=self.reference)[-1].copy()
        return out
