"""Input checks of the BCI package: every one runs before any work and names what is wrong.

Spike counts are ``(n_bins, n_units)`` arrays of non-negative finite numbers; kinematics
(velocities, positions) are ``(n_bins, 2)`` arrays of finite numbers in SI units.  A session of
``duration`` seconds cut into bins of ``bin_width`` seconds must hold a whole number of bins, and a
bin a whole number of the 1 ms base steps of the cortex simulator.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_counts", "as_kinematics", "check_pair", "n_bins_of", "steps_per_bin", "BASE_DT"]

#: Base time step of the spike generator [s] (Poisson spikes are drawn per 1 ms step, then binned).
BASE_DT = 1e-3

_RTOL = 1e-9


def _first_bad(arr: np.ndarray, mask: np.ndarray) -> str:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return f"{arr[idx].item()!r} at index {idx}"


def as_counts(name: str, counts, n_units: int | None = None, *, allow_nan: bool = False) -> np.ndarray:
    """Return ``counts`` as a float64 ``(n_bins, n_units)`` array, or raise naming what is wrong.

    Parameters
    ----------
    name : str
        Name of the argument, used in the messages.
    counts : array_like
        Binned spike counts, ``(n_bins, n_units)``; a single bin may be given as ``(n_units,)``
        only through :func:`as_counts` callers that reshape it themselves.
    n_units : int, optional
        The number of units (columns) required.
    allow_nan : bool
        Let NaN through (the safety layer receives NaN on purpose and handles it).

    Raises
    ------
    TypeError
        If the values are not numeric.
    ValueError
        If the array is not 2-D, has the wrong number of columns, holds NaN/inf or negative counts.
    """
    try:
        arr = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array of spike counts, got {type(counts).__name__}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n_bins, n_units) array of spike counts, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one bin, got shape {arr.shape}")
    if n_units is not None and arr.shape[1] != n_units:
        raise ValueError(f"{name} must have {n_units} columns (one per unit), got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if allow_nan:
        bad &= ~np.isnan(arr)
    if np.any(bad):
        raise ValueError(f"{name} must hold finite spike counts, got {_first_bad(arr, bad)}")
    neg = arr < 0
    if np.any(neg):
        raise ValueError(f"{name} must hold counts >= 0, got {_first_bad(arr, neg)}")
    return arr


def as_kinematics(name: str, values, n_bins: int | None = None, unit: str = "m/s") -> np.ndarray:
    """Return ``values`` as a float64 ``(n_bins, 2)`` array, or raise naming what is wrong.

    Raises
    ------
    TypeError
        If the values are not numeric.
    ValueError
        If the array is not ``(n_bins, 2)``, its length differs from ``n_bins`` or it holds NaN/inf.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric (n_bins, 2) array [{unit}], got {type(values).__name__}") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must be a (n_bins, 2) array [{unit}] (x, y per bin), got shape {arr.shape}")
    if n_bins is not None and arr.shape[0] != n_bins:
        raise ValueError(f"{name} must have one row per bin ({n_bins} bins), got {arr.shape[0]} rows")
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(f"{name} must be finite [{unit}], got {_first_bad(arr, bad)}")
    return arr


def check_pair(counts, velocity, n_units: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Check a training pair: counts ``(n_bins, n_units)`` and velocities ``(n_bins, 2)`` of one length."""
    x = as_counts("X (spike counts)", counts, n_units)
    y = as_kinematics("y (velocity)", velocity, x.shape[0])
    return x, y


def steps_per_bin(bin_width: float) -> int:
    """Number of 1 ms base steps in a bin, or ``ValueError`` unless ``bin_width`` is a whole number of them."""
    bw = float(bin_width)
    if not np.isfinite(bw) or bw <= 0:
        raise ValueError(f"bin_width must be finite and > 0 [s], got {bin_width!r}")
    n = round(bw / BASE_DT)
    if n < 1 or abs(n * BASE_DT - bw) > _RTOL * max(bw, BASE_DT):
        raise ValueError(f"bin_width must be a whole number of {BASE_DT * 1e3:g} ms base steps, "
                         f"got {bw * 1e3:g} ms")
    return int(n)


def n_bins_of(duration: float, bin_width: float) -> int:
    """Number of bins in ``duration``, or ``ValueError`` unless the bins divide it exactly."""
    d = float(duration)
    if not np.isfinite(d) or d <= 0:
        raise ValueError(f"duration must be finite and > 0 [s], got {duration!r}")
    steps_per_bin(bin_width)
    n = round(d / bin_width)
    if n < 1 or abs(n * bin_width - d) > _RTOL * d:
        raise ValueError(f"bins of {bin_width * 1e3:g} ms do not divide a session of {d:g} s "
                         f"({d / bin_width:.4g} bins); choose a duration that is a multiple of bin_width")
    return int(n)
