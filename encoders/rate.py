r"""Rate coding: an input's value sets a firing rate.

Representation (all of :mod:`memr_snn.encoders`): ``uint8`` spike counts per step with the time axis
inserted second to last, ``x`` of shape ``(..., n_channels)`` giving ``(..., n_steps, n_channels)``.

Poisson rate (:func:`poisson_rate`)
    The value :math:`x \in [x_{min}, x_{max}]` is normalised to :math:`u \in [0, 1]` and sets the rate
    :math:`r = u\,r_{max}`; in every step of length ``dt`` the channel spikes with probability
    :math:`p = r\,dt` independently (:func:`bernoulli`): the discrete-time Poisson (Bernoulli)
    process.  The count over :math:`n` steps is binomial, mean :math:`n p`, variance
    :math:`n p (1 - p)`, Fano factor :math:`1 - p`, which tends to the Poisson value 1 as
    :math:`dt \to 0` (Dayan & Abbott, *Theoretical Neuroscience*, 2001, ch. 1.4).  ``r_max * dt``
    must not exceed 1 (at most one spike per step).

Regular rate (:func:`regular_rate`)
    Deterministic: a phase accumulator :math:`\phi_t = \phi_0 + (t + 1)\,p` with :math:`p = u\,r_{max}\,dt`
    fires in step ``t`` whenever it crosses an integer, so the count over the first :math:`n` steps
    is exactly :math:`\lfloor \phi_0 + n p \rfloor - \lfloor \phi_0 \rfloor` and the inter-spike
    interval is :math:`1/r` rounded to the step grid.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_positive, check_probability
from ._checks import check_dt, check_steps, normalise

__all__ = ["bernoulli", "poisson_rate", "regular_rate"]

_EPS = 1e-9  # tolerance of the regular-rate phase against float rounding of t * p (counts stay exact)


def _rng(rng) -> np.random.Generator:
    if rng is not None and not isinstance(rng, (np.random.Generator, int, np.integer)):
        raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError("rng must be a numpy Generator, an int seed or None, got a bool")
    return np.random.default_rng(rng)


def bernoulli(p, n_steps: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Independent spikes with probability ``p`` per step.

    Parameters
    ----------
    p : array_like, shape (..., n_channels)
        Spike probability per step, in [0, 1].
    n_steps : int
        Number of steps.
    rng : numpy.random.Generator, int or None
        Random source (an int seeds a new generator).

    Returns
    -------
    ndarray of uint8, shape (..., n_steps, n_channels)
        0/1 spikes; drawn as ``rng.random(shape) < p`` with ``p`` broadcast over the step axis.
    """
    n_steps = check_steps(n_steps)
    p = np.asarray(p, dtype=np.float64)
    if p.ndim < 1:
        raise ValueError("p must have at least one dimension (channels last), got a scalar")
    check_probability("p", p)
    gen = _rng(rng)
    shape = p.shape[:-1] + (n_steps,) + p.shape[-1:]
    return (gen.random(shape) < p[..., None, :]).astype(np.uint8)


def _check_max_rate(max_rate: float, dt: float) -> None:
    """``max_rate > 0`` [Hz] with at most one spike per step (``max_rate * dt <= 1``)."""
    check_positive("max_rate", max_rate, "Hz")
    if max_rate * dt > 1.0:
        raise ValueError(f"max_rate * dt must be <= 1 (at most one spike per step), got max_rate={max_rate!r} Hz, "
                         f"dt={dt!r} s; lower dt or max_rate")


def poisson_rate(x, n_steps: int, dt: float, *, max_rate: float, x_min: float = 0.0, x_max: float = 1.0,
                 rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Poisson (Bernoulli-per-step) rate code of ``x`` (module docstring).

    Parameters
    ----------
    x : array_like, shape (..., n_channels)
        Values in ``[x_min, x_max]``.
    n_steps : int
        Steps of the spike train.
    dt : float
        Time step [s].
    max_rate : float
        Rate of ``x = x_max`` [Hz]; ``max_rate * dt <= 1``.
    x_min, x_max : float
        Value range (``x_min`` maps to rate 0).
    rng : numpy.random.Generator, int or None
        Random source.

    Returns
    -------
    ndarray of uint8, shape (..., n_steps, n_channels)
        0/1 spikes.

    Examples
    --------
    >>> s = poisson_rate([0.0, 1.0], 1000, 1e-3, max_rate=100.0, rng=0)
    >>> s.shape, s.dtype, int(s[:, 0].sum())
    ((1000, 2), dtype('uint8'), 0)
    """
    u = normalise(x, x_min, x_max)
    n_steps = check_steps(n_steps)
    dt = check_dt(dt)
    _check_max_rate(max_rate, dt)
    return bernoulli(np.minimum(1.0, u * (max_rate * dt)), n_steps, rng)


def regular_rate(x, n_steps: int, dt: float, *, max_rate: float, x_min: float = 0.0, x_max: float = 1.0,
                 phase: float = 0.0) -> np.ndarray:
    """Deterministic, evenly spaced spikes at the rate of ``x`` (module docstring).

    Parameters
    ----------
    x : array_like, shape (..., n_channels)
        Values in ``[x_min, x_max]``.
    n_steps : int
        Steps.
    dt : float
        Time step [s].
    max_rate : float
        Rate of ``x = x_max`` [Hz]; ``max_rate * dt <= 1``.
    x_min, x_max : float
        Value range.
    phase : float
        Initial phase :math:`\\phi_0` in [0, 1) (0: the first spike after one full interval; values
        near 1: a spike in the first step).

    Returns
    -------
    ndarray of uint8, shape (..., n_steps, n_channels)
        0/1 spikes; the count over ``n_steps`` is ``floor(phase + n_steps * u * max_rate * dt)``.
    """
    u = normalise(x, x_min, x_max)
    n_steps = check_steps(n_steps)
    dt = check_dt(dt)
    _check_max_rate(max_rate, dt)
    if not (np.isfinite(phase) and 0.0 <= phase < 1.0):
        raise ValueError(f"phase must lie in [0, 1), got {phase!r}")
    p = u * (max_rate * dt)
    t = np.arange(n_steps + 1, dtype=np.float64).reshape((n_steps + 1,) + (1,) * 1)
    acc = np.floor(phase + t * p[..., None, :] + _EPS)  # (..., n_steps + 1, n_channels)
    return np.diff(acc, axis=-2).astype(np.uint8)
