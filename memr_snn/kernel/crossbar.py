r"""Crossbar read kernel: the weights a presynaptic spike delivers through memristive devices.

A crossbar projection keeps, per device ``d`` (one per synapse, or two — G+ then
G- — for a differential pair), the programmed conductance ``g[d]``, its drift
exponent ``nu[d]``, its programming time ``tp[d]`` [s], the age at which it
loses its state ``tf[d]`` [s] and, with wires, its series wire resistance
``rs[d]`` [Ohm] and a sneak-path conductance ``gs[d]`` [S].  When presynaptic
neuron ``i`` spikes at step ``t``, only the devices of row ``i`` are read, with
everything evaluated lazily at the present time ``t*dt``:

.. math::

    a &= t\,dt - t_p \qquad\text{(age since programming)}\\
    G &= G_{min} \ \text{if}\ a > t_f, \quad
         G_p\,(a / t_0)^{-\nu} \ \text{if}\ a > t_0, \quad G_p \ \text{otherwise}\\
    G_r &= \max(0,\ G\,(1 + \sigma\,\xi_{t,d}))\\
    G_e &= G_r / (1 + G_r R_s) + G_s\\
    w &= \pm k\,(G_e^+ - G_e^-) \quad\text{or}\quad \pm k\,(G_e - G_{ref})

with :math:`\xi_{t,d}` a standard normal that is a pure function of
``(seed, t, d)`` (``d`` counted within the crossbar) (inverse-CDF of a counter-based uniform), so runs split at
any step and the numpy twin see the same reads.  With no drift, no read noise,
no retention loss, no wires, a single device and ``G_ref = 0`` the read is
``w = k * g``: with a power-of-two ``k`` that is exactly the float weight.

Every read is counted and its energy ``V_read^2 t_read G_e`` accumulated per
crossbar in ``acc``.

Table layouts (one row per crossbar) are the ``XF_*`` / ``XI_*`` constants.
"""

import math

import numpy as np
from numba import njit

from .rng import mix64

__all__ = [
    "XF_SCALE", "XF_GREF", "XF_SIGMA", "XF_T0", "XF_V2T", "XF_GFAIL", "N_XF",
    "XI_OFF", "XI_DIFF", "XI_DRIFT", "XI_SEED", "XI_RET", "XI_WIRE", "N_XI",
    "A_READS", "A_ENERGY", "N_ACC",
    "normal_icdf", "counter_normal", "read_row",
]

# float table columns
XF_SCALE = 0   # k: weight per siemens, signed (the projection's polarity)
XF_GREF = 1    # reference conductance subtracted in single-device encoding [S]
XF_SIGMA = 2   # relative read noise (standard deviation) [1]
XF_T0 = 3      # drift reference time [s]
XF_V2T = 4     # V_read^2 * t_read, read energy per siemens [J/S]
XF_GFAIL = 5   # conductance of a device that lost its state (retention) [S]
N_XF = 6

# integer table columns
XI_OFF = 0     # offset of the crossbar's first device in the device arrays
XI_DIFF = 1    # 1: differential pair (2 devices per synapse, interleaved G+, G-)
XI_DRIFT = 2   # 1: power-law drift on
XI_SEED = 3    # read-noise seed (bits of a uint64)
XI_RET = 4     # 1: retention loss on
XI_WIRE = 5    # 1: wire resistance / sneak conductance on
N_XI = 6

# accumulator columns
A_READS = 0    # device reads
A_ENERGY = 1   # read energy [J]
N_ACC = 2

# Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9)
_A1, _A2, _A3 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
_A4, _A5, _A6 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
_B1, _B2, _B3 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
_B4, _B5 = 6.680131188771972e01, -1.328068155288572e01
_C1, _C2, _C3 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
_C4, _C5, _C6 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
_D1, _D2, _D3, _D4 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00
_P_LOW = 0.02425
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_G = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, error_model="numpy", inline="always")
def normal_icdf(p):
    """Inverse standard normal CDF for p in (0, 1) (Acklam's algorithm, no refinement)."""
    if p < _P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        return (((((_C1 * q + _C2) * q + _C3) * q + _C4) * q + _C5) * q + _C6) / (
            (((_D1 * q + _D2) * q + _D3) * q + _D4) * q + 1.0)
    if p > 1.0 - _P_LOW:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        return -(((((_C1 * q + _C2) * q + _C3) * q + _C4) * q + _C5) * q + _C6) / (
            (((_D1 * q + _D2) * q + _D3) * q + _D4) * q + 1.0)
    q = p - 0.5
    r = q * q
    return (((((_A1 * r + _A2) * r + _A3) * r + _A4) * r + _A5) * r + _A6) * q / (
        ((((_B1 * r + _B2) * r + _B3) * r + _B4) * r + _B5) * r + 1.0)


@njit(cache=True, error_model="numpy", inline="always")
def counter_normal(seed, step, index):
    """Standard normal that is a pure function of ``(seed, step, index)`` (uint64s)."""
    x = mix64(seed ^ mix64(step * _G + mix64(index + _G)))
    u = (np.float64(x >> _S11) + 0.5) * _INV53  # in (0, 1): both tails finite
    return normal_icdf(u)


@njit(cache=True, error_model="numpy", inline="always")
def _read_one(d, off, t, tnow, xf, x, drift, ret, wire, sigma, seed, g, nu, tp, tf, rs, gs, tpc, lc):
    """Effective read conductance of device ``d`` at time ``tnow`` (see the module docstring).

    ``tpc``/``lc`` cache the log-age of the last programming time seen (devices of a
    row are mostly programmed together); returns ``(G_e, tpc, lc)``.
    """
    gd = g[d]
    if drift or ret:
        age = tnow - tp[d]
        if ret and age > tf[d]:
            gd = xf[x, XF_GFAIL]
        elif drift and age > xf[x, XF_T0]:
            if tp[d] != tpc:
                tpc = tp[d]
                lc = math.log(age / xf[x, XF_T0])
            gd *= math.exp(-nu[d] * lc)
    if sigma > 0.0:
        gd *= 1.0 + sigma * counter_normal(seed, np.uint64(t), np.uint64(d - off))
        if gd < 0.0:
            gd = 0.0
    if wire:
        gd = gd / (1.0 + gd * rs[d]) + gs[d]
    return gd, tpc, lc


@njit(cache=True, error_model="numpy")
def read_row(x, lo, hi, t, dt, xf, xi, g, nu, tp, tf, rs, gs, acc, out):
    """Weights of synapses ``lo .. hi-1`` of crossbar ``x`` read at step ``t``, into ``out[:hi-lo]``."""
    off = xi[x, XI_OFF]
    diff = xi[x, XI_DIFF] != 0
    drift = xi[x, XI_DRIFT] != 0
    ret = xi[x, XI_RET] != 0
    wire = xi[x, XI_WIRE] != 0
    seed = np.uint64(xi[x, XI_SEED])
    scale = xf[x, XF_SCALE]
    sigma = xf[x, XF_SIGMA]
    if not (diff or drift or ret or wire) and sigma == 0.0:  # ideal read: w = k (g - g_ref)
        gref = xf[x, XF_GREF]
        total = 0.0
        for k in range(lo, hi):
            gk = g[off + k]
            total += gk
            out[k - lo] = scale * (gk - gref)
        acc[x, A_READS] += hi - lo
        acc[x, A_ENERGY] += xf[x, XF_V2T] * total
        return
    tnow = t * dt
    tpc = np.nan  # programming time whose log-age ``lc`` is cached (NaN: none yet)
    lc = 0.0
    total = 0.0
    if diff:
        for k in range(lo, hi):
            d = off + 2 * k
            gp, tpc, lc = _read_one(
                d, off, t, tnow, xf, x, drift, ret, wire, sigma, seed, g, nu, tp, tf, rs, gs, tpc, lc
            )
            gn, tpc, lc = _read_one(
                d + 1, off, t, tnow, xf, x, drift, ret, wire, sigma, seed, g, nu, tp, tf, rs, gs, tpc, lc
            )
            total += gp + gn
            out[k - lo] = scale * (gp - gn)
        acc[x, A_READS] += 2 * (hi - lo)
    else:
        gref = xf[x, XF_GREF]
        for k in range(lo, hi):
            ge, tpc, lc = _read_one(
                off + k, off, t, tnow, xf, x, drift, ret, wire, sigma, seed, g, nu, tp, tf, rs, gs, tpc, lc
            )
            total += ge
            out[k - lo] = scale * (ge - gref)
        acc[x, A_READS] += hi - lo
    acc[x, A_ENERGY] += xf[x, XF_V2T] * total
