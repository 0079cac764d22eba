r"""Burst coding: the value sets the number of spikes in a burst and their spacing.

Following the burst input code of Guo, Fouda, Eltawil & Salama ("Neural coding in spiking neural
networks: a comparative study for robust neuromorphic systems", Frontiers in Neuroscience 15:638474,
2021, section 2.1.4), after Park, Kim, Na, Kim & Yoon ("Fast and efficient information transmission
with burst spikes in deep spiking neural networks", DAC 2019): the normalised value
:math:`u \in [0, 1]` gives

.. math::

    N_s(u) = \lceil N_{max}\, u \rceil,\qquad
    \mathrm{ISI}(u) = \begin{cases} \lceil -(T_{max} - T_{min})\,u + T_{max} \rceil & N_s > 1 \\
                                     T_{max} & \text{otherwise} \end{cases}

spikes and inter-spike interval (in steps), so stronger inputs fire more spikes, closer together.
The burst starts in step 0: spikes in steps :math:`k\,\mathrm{ISI}`, :math:`k = 0 .. N_s - 1`;
spikes that fall at or after ``n_steps`` are dropped (choose ``n_steps >= (n_max - 1) * isi_max /
dt + 1`` to keep every burst whole).  ``u = 0`` gives no spike.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int_at_least, check_positive
from ._checks import check_dt, check_steps, normalise

__all__ = ["burst", "burst_parameters"]


def _steps(name: str, value: float, dt: float) -> int:
    check_positive(name, value, "s")
    k = round(value / dt)
    if k < 1 or abs(k * dt - value) > 1e-6 * dt:
        raise ValueError(f"{name} must be a whole number >= 1 of time steps dt={dt!r} s, got {value!r} s")
    return int(k)


def burst_parameters(x, *, n_max: int = 5, isi_min: int = 2, isi_max: int = 10, x_min: float = 0.0,
                     x_max: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Spike count :math:`N_s` and inter-spike interval in steps of every value (module docstring).

    ``isi_min``, ``isi_max`` are :math:`T_{min}`, :math:`T_{max}` in steps (1 <= isi_min <= isi_max).

    Returns
    -------
    n_spikes, isi : ndarray of int64, shape of ``x``
    """
    u = normalise(x, x_min, x_max)
    n_max = check_int_at_least("n_max", n_max, 1)
    isi_min = check_int_at_least("isi_min", isi_min, 1)
    isi_max = check_int_at_least("isi_max", isi_max, 1)
    if isi_min > isi_max:
        raise ValueError(f"isi_min must be <= isi_max, got isi_min={isi_min}, isi_max={isi_max}")
    # 1e-9: keep exact products such as 5 * 0.2 = 1 from rounding up to 2 through float error
    n_s = np.ceil(n_max * u - 1e-9).astype(np.int64)
    isi = np.ceil(-(isi_max - isi_min) * u + isi_max - 1e-9).astype(np.int64)
    return n_s, np.where(n_s > 1, isi, isi_max)


def burst(x, n_steps: int, dt: float, *, n_max: int = 5, isi_min: float | None = None,
          isi_max: float | None = None, x_min: float = 0.0, x_max: float = 1.0) -> np.ndarray:
    """Burst code of ``x`` (module docstring).

    Parameters
    ----------
    x : array_like, shape (..., n_channels)
        Values in ``[x_min, x_max]``.
    n_steps : int
        Steps of the spike train.
    dt : float
        Time step [s].
    n_max : int
        Spikes in the burst of ``u = 1`` (:math:`N_{max}`).
    isi_min, isi_max : float, optional
        :math:`T_{min}`, :math:`T_{max}` [s], whole numbers of steps; defaults ``2 * dt`` and
        ``max(isi_min, floor((n_steps - 1) / (n_max - 1)) * dt)`` (a whole burst of ``u = 1`` fits).
    x_min, x_max : float
        Value range.

    Returns
    -------
    ndarray of uint8, shape (..., n_steps, n_channels)
        0/1 spikes.

    Examples
    --------
    >>> burst([1.0, 0.5, 0.1, 0.0], 10, 1e-3, isi_min=2e-3, isi_max=4e-3).T
    array([[1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
           [1, 0, 0, 1, 0, 0, 1, 0, 0, 0],
           [1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], dtype=uint8)
    """
    n_steps = check_steps(n_steps)
    dt = check_dt(dt)
    n_max = check_int_at_least("n_max", n_max, 1)
    t_min = 2 if isi_min is None else _steps("isi_min", isi_min, dt)
    if isi_max is None:
        t_max = max(t_min, (n_steps - 1) // max(n_max - 1, 1))
    else:
        t_max = _steps("isi_max", isi_max, dt)
    n_s, isi = burst_parameters(x, n_max=n_max, isi_min=t_min, isi_max=t_max, x_min=x_min, x_max=x_max)
    if n_s.ndim < 1:
        raise ValueError("x must have at least one dimension (channels last), got a scalar")
    k = np.arange(n_max, dtype=np.int64)
    steps = k * isi[..., None]  # (..., n_channels, n_max)
    ok = (k < n_s[..., None]) & (steps < n_steps)
    out = np.zeros(n_s.shape[:-1] + (n_steps,) + n_s.shape[-1:], dtype=np.uint8)
    idx = np.nonzero(ok)
    out[idx[:-2] + (steps[idx], idx[-2])] = 1
    return out


