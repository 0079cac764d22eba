"""Counter-based random numbers.

A uniform number is a pure function of ``(seed, step, index)``: the SplitMix64
finaliser applied to a mix of the three.  Nothing is stored, so runs split at
any step, checkpoints and the numpy twin all see the same numbers.
"""

import numpy as np
from numba import config, njit

__all__ = ["mix64", "uniform01"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_G = np.uint64(0x9E3779B97F4A7C15)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, error_model="numpy", inline="always")
def mix64(x):
    """SplitMix64 finaliser of a uint64 (bijective avalanche mix)."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@njit(cache=True, error_model="numpy", inline="always")
def uniform01(seed, step, index):
    """Uniform float in [0, 1) determined by ``(seed, step, index)`` (uint64s)."""
    x = mix64(seed ^ mix64(step * _G + mix64(index + _G)))
    return np.float64(x >> _S11) * _INV53


if config.DISABLE_JIT:  # pure-Python mode (coverage runs): uint64 wrap-around is intended
    _mix64_py, _uniform01_py = mix64, uniform01

    def mix64(x):  # noqa: F811
        with np.errstate(over="ignore"):
            return _mix64_py(x)

    def uniform01(seed, step, index):  # noqa: F811
        with np.errstate(over="ignore"):
            return _uniform01_py(seed, step, index)
