"""Physically plausible ranges of the device parameters, checked when a parameter set is built.

The ranges are wide on purpose: they admit every published device and normalised units
(``g_max = 1``), and refuse only values no device has (a read noise of 10^6, 10^30 levels), which in
a preset file are typos or corruption and in a simulation would silently produce garbage.  Each
bound cites its physical reason next to it where it is used.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_range", "check_int_range", "G_MAX", "SIGMA_LOG_MAX"]


def check_range(name: str, value, low: float, high: float, unit: str = "1", *, why: str = "") -> None:
    """Raise ``ValueError`` unless every element of ``value`` is finite and in ``[low, high]``.

    Parameters
    ----------
    name : str
        Parameter name for the message.
    value : float or array_like
        The value(s).
    low, high : float
        Inclusive bounds.
    unit : str
        Unit for the message (``"1"``: dimensionless).
    why : str
        Short physical reason for the range, appended to the message.

    Raises
    ------
    ValueError
        Naming the parameter, the offending value and the allowed range.
    """
    arr = np.asarray(value, dtype=np.float64)
    ok = np.isfinite(arr) & (arr >= low) & (arr <= high)
    if not np.all(ok):
        bad = arr[~ok].flat[0].item() if arr.ndim else arr.item()
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} = {bad!r} [{unit}] is outside the allowed range [{low:g}, {high:g}]{reason}")


def check_int_range(name: str, value: int, low: int, high: int, unit: str = "1", *, why: str = "") -> None:
    """Integer version of :func:`check_range` (no float conversion, so 10**30 is reported exactly)."""
    if not (low <= value <= high):
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} = {value!r} [{unit}] is outside the allowed range [{low}, {high}]{reason}")


#: largest conductance [S]: 1 S is a 1-ohm device.  Memristive synapses are uS-mS (ON states of a few
#: kOhm and up); the bound leaves room for normalised units (g_max = 1).
G_MAX = 1.0
#: largest log-normal sigma of a device-to-device spread [1]: sigma = 3 is a factor e^3 = 20 per
#: standard deviation; measured spreads are 0.05-0.7.
SIGMA_LOG_MAX = 3.0
