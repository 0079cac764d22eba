"""Argument checks shared by the encoders (private)."""

from __future__ import annotations

import numpy as np

from .._validation import check_finite, check_int_at_least, check_positive

__all__ = ["normalise", "check_steps", "check_dt", "check_range"]


def check_steps(n_steps) -> int:
    """``n_steps`` as an int >= 1."""
    return check_int_at_least("n_steps", n_steps, 1)


def check_dt(dt) -> float:
    """``dt`` as a finite float > 0 [s]."""
    check_positive("dt", dt, "s")
    return float(dt)


def check_range(x_min, x_max) -> tuple[float, float]:
    """``(x_min, x_max)`` as finite floats with ``x_min < x_max``."""
    check_finite("x_min", x_min)
    check_finite("x_max", x_max)
    if not float(x_min) < float(x_max):
        raise ValueError(f"x_min must be < x_max, got x_min={x_min!r}, x_max={x_max!r}")
    return float(x_min), float(x_max)


def normalise(x, x_min, x_max, *, name: str = "x") -> np.ndarray:
    """``(x - x_min) / (x_max - x_min)`` as float64 in [0, 1]; ``x`` must be finite, ndim >= 1, in range."""
    lo, hi = check_range(x_min, x_max)
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from None
    if arr.ndim < 1:
        raise ValueError(f"{name} must have at least one dimension (channels last), got a scalar")
    check_finite(name, arr)
    if arr.size and (arr.min() < lo or arr.max() > hi):
        bad = arr[(arr < lo) | (arr > hi)].flat[0]
        raise ValueError(f"{name} must lie in [x_min, x_max] = [{lo!r}, {hi!r}], got {bad!r}")
    return (arr - lo) / (hi - lo)
