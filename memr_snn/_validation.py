"""Argument checks shared by the parameter classes and the model.

Every check raises ``ValueError`` (or ``TypeError``) whose message names the
parameter, the offending value and the allowed range, so that bad input is
refused before any work starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = [
    "as_param_array",
    "check_finite",
    "check_positive",
    "check_nonnegative",
    "check_probability",
    "check_int_at_least",
    "check_index_array",
    "check_stuck_request",
    "read_only",
    "ReadOnlyArray",
    "Fixed",
]


def _describe(value) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    return f"array of shape {arr.shape}"


def as_param_array(name: str, value) -> float | np.ndarray:
    """Return ``value`` as a float or as a read-only 1-D float64 array.

    Raises
    ------
    TypeError
        If ``value`` is not numeric.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    if arr.ndim == 0:
        return float(arr)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a scalar or a 1-D per-neuron array, got shape {arr.shape}")
    arr.setflags(write=False)
    return arr


def _bad(values: np.ndarray, mask: np.ndarray):
    bad = values[mask]
    return bad.flat[0].item() if bad.size else None


def check_finite(name: str, value, unit: str = "") -> None:
    """Raise ``ValueError`` unless every element of ``value`` is finite."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        v = _bad(arr, ~np.isfinite(arr))
        raise ValueError(f"{name} must be finite{_unit(unit)}, got {v!r}")


def _unit(unit: str) -> str:
    return f" [{unit}]" if unit else ""


def check_positive(name: str, value, unit: str = "") -> None:
    """Raise ``ValueError`` unless every element is finite and > 0."""
    arr = np.asarray(value, dtype=np.float64)
    ok = np.isfinite(arr) & (arr > 0)
    if not np.all(ok):
        raise ValueError(
            f"{name} must be finite and > 0{_unit(unit)}, got {_bad(arr, ~ok)!r}"
        )


def check_nonnegative(name: str, value, unit: str = "") -> None:
    """Raise ``ValueError`` unless every element is finite and >= 0."""
    arr = np.asarray(value, dtype=np.float64)
    ok = np.isfinite(arr) & (arr >= 0)
    if not np.all(ok):
        raise ValueError(
            f"{name} must be finite and >= 0{_unit(unit)}, got {_bad(arr, ~ok)!r}"
        )


def check_probability(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` lies in [0, 1]."""
    arr = np.asarray(value, dtype=np.float64)
    ok = np.isfinite(arr) & (arr >= 0) & (arr <= 1)
    if not np.all(ok):
        raise ValueError(f"{name} must lie in [0, 1], got {_bad(arr, ~ok)!r}")


def check_int_at_least(name: str, value, minimum: int) -> int:
    """Return ``value`` as int, or raise unless it is an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value):
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_index_array(name: str, values: Iterable, size: int) -> np.ndarray:
    """Return ``values`` as an int64 array, or raise unless all lie in [0, size).

    Boolean arrays are refused (a mask is not a list of indices: ``np.flatnonzero(mask)`` converts
    one), and unsigned or float values are range-checked before conversion, so that a huge uint64 is
    reported as itself, not as the negative number it would wrap to.
    """
    arr = np.asarray(values)
    if arr.dtype == np.bool_:
        raise TypeError(
            f"{name} must hold integer indices, got a boolean array of shape {arr.shape}; "
            f"pass np.flatnonzero(mask) to select by mask"
        )
    if arr.size and not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must hold integer indices, got dtype {arr.dtype}")
    if arr.size and np.issubdtype(arr.dtype, np.floating):
        finite = np.isfinite(arr)
        if not np.all(finite) or not np.array_equal(arr, np.round(arr)):
            raise TypeError(f"{name} must hold integer indices, got dtype {arr.dtype} with value "
                            f"{_bad(arr, ~finite | (arr != np.round(np.where(finite, arr, 0))))!r}")
    arr = arr.ravel()
    if arr.size:
        big = arr >= size
        neg = arr < 0
        bad = big | neg
        if np.any(bad):
            raise ValueError(
                f"{name} must lie in [0, {size - 1}] (population of {size}), got {arr[bad][0].item()!r}"
            )
    return arr.astype(np.int64)


def check_stuck_request(devices, state, n_devices: int, fault) -> tuple[np.ndarray, np.ndarray]:
    """Validate a request to make ``devices`` stuck: distinct indices in [0, n_devices), ``state`` +1 (stuck ON)
    or -1 (stuck OFF), one value or one per device, none of them already stuck in the fault table ``fault``.
    Returns the indices (int64) and their states (one per index)."""
    idx = check_index_array("devices", devices, n_devices)
    if np.unique(idx).size != idx.size:
        raise ValueError("devices must not repeat an index")
    st = np.broadcast_to(np.asarray(state), idx.shape) if np.ndim(state) == 0 else np.asarray(state)
    if st.shape != idx.shape or not np.all(np.isin(st, (1, -1))):
        raise ValueError(f"state must be +1 (stuck ON) or -1 (stuck OFF), one value or one per device "
                         f"({idx.size}), got {state!r}")
    already = idx[np.asarray(fault)[idx] != 0]
    if already.size:
        raise ValueError(f"devices {already[:10].tolist()} are already stuck")
    return idx, st


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (the base stays writeable for its owner, e.g. the engine)."""
    view = array.view()
    view.flags.writeable = False
    return view


class Fixed:
    """Descriptor for a structural attribute fixed at construction (a size, a model, a receptor).

    The value lives in ``obj._<name>`` (set by the owning class); assigning ``obj.<name> = ...``
    raises ``AttributeError`` with ``hint``, which says how to make the change the right way.
    Changing such a value after the engine is built would make the model disagree with the
    arrays the kernels index.
    """

    #: word of the refusal message
    state = "fixed"

    def __init__(self, hint: str) -> None:
        self.hint = hint

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.private = "_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        try:
            return obj.__dict__[self.private]
        except KeyError:
            raise AttributeError(self.name) from None

    def __set__(self, obj, value) -> None:
        raise AttributeError(f"{type(obj).__name__}.{self.name} is {self.state}: {self.hint}")


class ReadOnlyArray(Fixed):
    """A :class:`Fixed` array attribute users may read but not replace or write into.

    The stored value is always a read-only array, or None (the default before it is set).
    Arrays the kernels index (synapse tables, spike-source events, monitor indices) are exposed
    this way, so that no user write can reach a kernel unvalidated.
    """

    state = "read-only"

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj.__dict__.get(self.private)
