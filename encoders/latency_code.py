r"""Latency (time-to-first-spike) coding: every channel spikes at most once, stronger inputs earlier.

The value :math:`x \in [x_{min}, x_{max}]` is normalised to :math:`u \in [0, 1]` and sets a
spike time :math:`t(u)`, placed on step :math:`\mathrm{round}(t / dt)`:

``method="linear"``
    :math:`t = (1 - u)\,t_{max}` with :math:`t_{max}` = ``t_max`` (default the last step,
    :math:`(n_{steps} - 1)\,dt`): ``u = 1`` fires in step 0, ``u = 0`` at :math:`t_{max}`.

``method="log"``
    The charging time of an RC (non-leaky-reset) membrane driven by a constant input :math:`u`
    to threshold :math:`\theta`: :math:`\tau\,\dot v = -v + u`, :math:`v(0) = 0` reaches
    :math:`\theta` at :math:`t = \tau \ln\!\big(u / (u - \theta)\big)` for :math:`u > \theta`, and
    never for :math:`u \le \theta` (no spike).  This is the latency code of Gütig & Sompolinsky
    style TTFS front ends and snnTorch's ``spikegen.latency`` (default, non-linear mode).

In both methods a value with :math:`u <` ``threshold`` (linear) or :math:`u \le` ``threshold``
(log) does not spike, and a spike that would fall at or after ``n_steps`` is dropped.
The spike step is non-increasing in :math:`u` (monotone code).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_positive, check_probability
from ._checks import check_dt, check_steps, normalise

__all__ = ["latency", "latency_times", "LATENCY_METHODS"]

LATENCY_METHODS = ("linear", "log")


def latency_times(x, *, method: str = "linear", t_max: float = 1.0, tau: float = 1.0, threshold: float = 0.0,
                  x_min: float = 0.0, x_max: float = 1.0) -> np.ndarray:
    """Continuous spike times [s] of the latency code (module docstring); ``inf`` for no spike.

    Parameters
    ----------
    x : array_like
        Values in ``[x_min, x_max]``.
    method : str
        ``"linear"`` or ``"log"``.
    t_max : float
        Latency of ``u = 0`` in the linear method [s].
    tau : float
        Membrane time constant of the log method [s].
    threshold : float
        Normalised threshold in [0, 1): linear: ``u < threshold`` is silent; log: the firing
        threshold :math:`\\theta` (``u <= threshold`` is silent; must be > 0).
    x_min, x_max : float
        Value range.

    Returns
    -------
    ndarray of float64, shape of ``x``
    """
    u = normalise(x, x_min, x_max)
    if method not in LATENCY_METHODS:
        raise ValueError(f"method must be one of {list(LATENCY_METHODS)}, got {method!r}")
    check_probability("threshold", threshold)
    if threshold >= 1.0:
        raise ValueError(f"threshold must lie in [0, 1), got {threshold!r}")
    if method == "linear":
        check_positive("t_max", t_max, "s")
        t = (1.0 - u) * float(t_max)
        return np.where(u >= threshold, t, np.inf)
    check_positive("tau", tau, "s")
    if threshold <= 0.0:
        raise ValueError(f"threshold must be > 0 for method='log' (the firing threshold), got {threshold!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = float(tau) * np.log(u / (u - threshold))
    return np.where(u > threshold, t, np.inf)


def latency(x, n_steps: int, dt: float, *, method: str = "linear", t_max: float | None = None, tau: float = 5e-3,
            threshold: float | None = None, x_min: float = 0.0, x_max: float = 1.0) -> np.ndarray:
    """Time-to-first-spike code of ``x``: one spike per channel at most (module docstring).

    Parameters
    ----------
    x : array_like, shape (..., n_channels)
        Values in ``[x_min, x_max]``.
    n_steps : int
        Steps of the spike train.
    dt : float
        Time step [s].
    method : str
        ``"linear"`` or ``"log"``.
    t_max : float, optional
        Linear method: latency of ``u = 0`` [s]; default ``(n_steps - 1) * dt``.
    tau : float
        Log method: membrane time constant [s].
    threshold : float, optional
        Normalised threshold in [0, 1) (default 0 for linear: every value spikes; 0.2 for log).
    x_min, x_max : float
        Value range.

    Returns
    -------
    ndarray of uint8, shape (..., n_steps, n_channels)
        One 1 per channel at step ``round(t / dt)`` (none if silent or ``>= n_steps``).

    Examples
    --------
    >>> latency([1.0, 0.5, 0.0], 5, 1e-3)[:, :].T
    array([[1, 0, 0, 0, 0],
           [0, 0, 1, 0, 0],
           [0, 0, 0, 0, 1]], dtype=uint8)
    """
    n_steps = check_steps(n_steps)
    dt = check_dt(dt)
    if t_max is None:
        t_max = max(n_steps - 1, 1) * dt if n_steps > 1 else dt
    if threshold is None:
        threshold = 0.2 if method == "log" else 0.0
    t = latency_times(x, method=method, t_max=t_max, tau=tau, threshold=threshold, x_min=x_min, x_max=x_max)
    if t.ndim < 1:
        raise ValueError("x must have at least one dimension (channels last), got a scalar")
    with np.errstate(invalid="ignore"):
        step = np.where(np.isfinite(t), np.round(t / dt), np.inf)
    fires = step < n_steps
    out = np.zeros(t.shape[:-1] + (n_steps,) + t.shape[-1:], dtype=np.uint8)
    idx = np.nonzero(fires)
    s = step[idx].astype(np.int64)
    out[idx[:-1] + (s, idx[-1])] = 1
    return out
