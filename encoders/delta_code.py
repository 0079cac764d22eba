r"""Delta (send-on-delta) coding of signals over time, with ON and OFF channels, and its decoder.

A signal :math:`s_t` (one value per step and channel) is compared with a reference level
:math:`r`, initially ``initial`` (default 0).  In step :math:`t`, with :math:`d = s_t - r_{t-1}`
and threshold :math:`\delta`:

* :math:`d \ge \delta`: :math:`k = \lfloor d/\delta \rfloor` ON spikes, :math:`r_t = r_{t-1} + k\delta`;
* :math:`d \le -\delta`: :math:`k = \lfloor -d/\delta \rfloor` OFF spikes, :math:`r_t = r_{t-1} - k\delta`;
* otherwise no spike, :math:`r_t = r_{t-1}`.

So the reference, which is exactly what :func:`delta_decode` rebuilds from the spikes
(:math:`r_t = r_0 + \delta \sum_{t' \le t} (\mathrm{ON}_{t'} - \mathrm{OFF}_{t'})`), stays within
the threshold of the signal at every step: :math:`|s_t - r_t| < \delta` (send-on-delta sampling,
Miskowicz, "Send-on-delta concept: an event-based data reporting strategy", Sensors 6, 2006; the
ON/OFF split of a DVS pixel, Lichtsteiner et al., IEEE JSSC 43(2), 2008).  Large steps give several
spikes in one step (counts); a count above 255 (uint8) raises ``ValueError``.

Output channels: ON events of channel ``c`` in column ``c``, OFF events in column ``n_channels + c``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_finite, check_positive

__all__ = ["delta", "delta_decode"]

_MAX_COUNT = 255


def _signal(signal, name: str = "signal") -> np.ndarray:
    try:
        s = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(signal).__name__}") from None
    if s.ndim < 2 or s.shape[-2] < 1 or s.shape[-1] < 1:
        raise ValueError(f"{name} must have shape (..., n_steps, n_channels) with n_steps, n_channels >= 1, "
                         f"got {s.shape}")
    check_finite(name, s)
    return s


def _initial(initial, shape) -> np.ndarray:
    r = np.asarray(initial, dtype=np.float64)
    check_finite("initial", r)
    try:
        return np.broadcast_to(r, shape).astype(np.float64)
    except ValueError:
        raise ValueError(f"initial must be a scalar or broadcast to {shape}, got shape {r.shape}") from None


def delta(signal, threshold: float, *, initial=0.0) -> np.ndarray:
    """Send-on-delta spikes of ``signal`` (module docstring).

    Parameters
    ----------
    signal : array_like, shape (..., n_steps, n_channels)
        Samples, one per step.
    threshold : float
        Change that triggers a spike, :math:`\\delta` > 0 (units of the signal).
    initial : float or array_like, shape (..., n_channels)
        Reference level before the first step.

    Returns
    -------
    ndarray of uint8, shape (..., n_steps, 2 * n_channels)
        ON counts in ``[..., :n_channels]``, OFF counts in ``[..., n_channels:]``.

    Examples
    --------
    >>> delta([[0.0], [0.25], [1.0], [0.4]], 0.3)[:, :].T
    array([[0, 0, 3, 0],
           [0, 0, 0, 1]], dtype=uint8)
    """
    s = _signal(signal)
    check_positive("threshold", threshold)
    thr = float(threshold)
    n = s.shape[-1]
    r0 = _initial(initial, s.shape[:-2] + (n,))
    level = np.zeros(r0.shape, dtype=np.int64)  # r = r0 + level * threshold, exactly as delta_decode computes it
    out = np.zeros(s.shape[:-1] + (2 * n,), dtype=np.uint8)
    for t in range(s.shape[-2]):
        d = s[..., t, :] - (r0 + level * thr)
        # 1e-9: a change of exactly k thresholds (0.3 / 0.1 = 2.9999999999999996) gives k spikes
        k = np.floor(np.abs(d) / thr + 1e-9)
        if k.size and k.max() > _MAX_COUNT:
            raise ValueError(f"a step of the signal needs {int(k.max())} spikes in one time step (> {_MAX_COUNT}, "
                             f"the uint8 count); raise the threshold (now {thr!r}) or sample the signal more finely")
        k = k.astype(np.int64)
        up = d >= 0
        out[..., t, :n] = np.where(up, k, 0)
        out[..., t, n:] = np.where(up, 0, k)
        level += np.where(up, k, -k)
    return out


def delta_decode(spikes, threshold: float, *, initial=0.0) -> np.ndarray:
    """Reconstruction :math:`r_t` of a delta-coded signal (module docstring).

    Parameters
    ----------
    spikes : array_like, shape (..., n_steps, 2 * n_channels)
        Output of :func:`delta`.
    threshold : float
        The encoder's threshold.
    initial : float or array_like
        The encoder's initial reference.

    Returns
    -------
    ndarray of float64, shape (..., n_steps, n_channels)
        Reference level after every step; within ``threshold`` of the encoded signal.
    """
    sp = np.asarray(spikes)
    if sp.ndim < 2 or sp.shape[-1] % 2 or sp.shape[-1] < 2:
        raise ValueError(f"spikes must have shape (..., n_steps, 2 * n_channels), got {sp.shape}")
    if sp.size and (sp.min() < 0 or not (np.issubdtype(sp.dtype, np.integer) or sp.dtype == np.bool_)):
        raise ValueError("spikes must hold non-negative integer counts")
    check_positive("threshold", threshold)
    n = sp.shape[-1] // 2
    net = sp[..., :n].astype(np.int64) - sp[..., n:].astype(np.int64)
    r0 = _initial(initial, sp.shape[:-2] + (n,))
    return r0[..., None, :] + np.cumsum(net, axis=-2) * float(threshold)
