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
    G_d &= G_p\,(a / t_0)^{-\nu} \ \text{if}\ a > t_0, \quad G_p \ \text{otherwise}
         \quad\text{(the power by :func:`drift_factor`)}\\
    G_s &= \max\big(0,\ G_d + |G_d|\,q\,Q_s(G_p / G_n)\,\sqrt{\max(0, \ln\tfrac{a + t_r}{2 t_r})}\,\zeta^{(1)}_{e,d}
          + \rho \log_{10}(1 + a / t_\rho)\,\zeta^{(2)}_{e,d}\big)
          \quad\text{(1/f noise and relaxation, when on)}\\
    G &= G_{fail} \ \text{if}\ a > t_f, \quad G_s \ \text{otherwise}\\
    G_r &= \max(0,\ G\,(1 + \sigma\,\xi_{t,d}))\\
    G_e &= G_r / (1 + G_r R_s) + G_s\\
    w &= \pm k\,(G_e^+ - G_e^-) \quad\text{or}\quad \pm k\,(G_e - G_{ref})

with :math:`\xi_{t,d}` a standard normal that is a pure function of
``(seed, t, d)`` (``d`` counted within the crossbar), so runs split at any step
and the numpy twin see the same reads: per read step one key
``K = mix64(seed ^ mix64(t G))``, per device pair ``j = d // 2`` one hash
``mix64(K + (j + 1) G)`` whose high and low 32 bits are the uniforms of devices
``2j`` and ``2j + 1``, turned into normals by the inverse CDF: a table of
2**12 equal-probability bins, linear inside a bin, Acklam's formula in the two
end bins (the tails), which keeps the read cheap enough to run at every spike.
The slow terms use :math:`Q_s(x) = \min(0.0088 / \max(x^{0.65}, 10^{-3}), 0.2)` (the PCM
1/f law of AIHWKit's ``PCMLikeNoiseModel``) with :math:`G_n` the nominal ``g_max``, and
:math:`\zeta^{(1)}, \zeta^{(2)}` the high and low halves of one hash per device ``d`` under
the key ``K = row_key(seed ^ SLOW_SALT, e)`` of the crossbar's noise epoch ``e``: fixed
between programmings, so they do not average away over the spikes of an inference.  With no drift, no read noise,
no retention loss, no wires, a single device and ``G_ref = 0`` the read is
``w = k * g``: with a power-of-two ``k`` that is exactly the float weight.

Every read is counted and its energy ``V_read^2 t_read G_e`` accumulated per
crossbar in ``acc``.

Table layouts (one row per crossbar) are the ``XF_*`` / ``XI_*`` constants.
"""

import math

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .device import DV_GMAX, DV_GMIN, DV_LIFE, DV_WEAR, P_REFRESH, _run_pulses, refresh_pair
from .rng import mix64, uniform01

__all__ = [
    "XF_SCALE", "XF_GREF", "XF_SIGMA", "XF_T0", "XF_V2T", "XF_GFAIL", "XF_GNORM", "XF_FLICK", "XF_TRF",
    "XF_RELAX", "XF_RT0", "N_XF",
    "XI_OFF", "XI_DIFF", "XI_DRIFT", "XI_SEED", "XI_RET", "XI_WIRE", "XI_ROFF", "XI_ANALOG", "XI_FAIL",
    "XI_EPOCH", "N_XI", "SLOW_SALT", "slow_noise", "A_READS", "A_ENERGY", "A_UP", "A_DOWN", "N_ACC",
    "normal_icdf", "row_key", "pair_normals", "drift_factor", "read_row", "read_row_qs", "ideal_read",
    "read_row_cached", "prefetch_row", "flicker_factor",
    "device_weight", "device_update",
]

# float table columns
XF_SCALE = 0   # k: weight per siemens, signed (the projection's polarity)
XF_GREF = 1    # reference conductance subtracted in single-device encoding [S]
XF_SIGMA = 2   # relative read noise (standard deviation) [1]
XF_T0 = 3      # drift reference time [s]
XF_V2T = 4     # V_read^2 * t_read, read energy per siemens [J/S]
XF_GFAIL = 5   # conductance of a device that lost its state (retention) [S]
XF_GNORM = 6   # nominal g_max: the 1/f law reads G_p / XF_GNORM [S]
XF_FLICK = 7   # 1/f noise amplitude multiplier q (0: off) [1]
XF_TRF = 8     # read time constant t_r of the 1/f law [s]
XF_RELAX = 9   # relaxation spread per decade of age rho [S] (0: off)
XF_RT0 = 10    # relaxation time scale t_rho [s]
N_XF = 11

# integer table columns
XI_OFF = 0     # offset of the crossbar's first device in the device arrays
XI_DIFF = 1    # 1: differential pair (2 devices per synapse, interleaved G+, G-)
XI_DRIFT = 2   # 1: power-law drift on
XI_SEED = 3    # read-noise seed (bits of a uint64)
XI_RET = 4     # 1: retention loss on
XI_WIRE = 5    # 1: wire resistance / sneak conductance on
XI_ROFF = 6    # offset of the crossbar's first row in the per-row arrays (``rtp``)
XI_ANALOG = 7  # 1: plastic updates write the exact conductance change (ideal single devices); 0: pulses
XI_FAIL = 8    # fail code of worn-out devices (-1 off, +1 on, 2 last)
XI_EPOCH = 9   # noise epoch of the slow (1/f, relaxation) draws
N_XI = 10

#: salt of the slow-noise key (independent of the per-read white-noise stream)
SLOW_SALT = np.uint64(0x1F0F5EED2A11C0DE)

# accumulator columns
A_READS = 0    # device reads
A_ENERGY = 1   # read energy [J]
A_UP = 2       # potentiating pulses sent by plasticity
A_DOWN = 3     # depressing pulses sent by plasticity
N_ACC = 4

# Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9)
_A1, _A2, _A3 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
_A4, _A5, _A6 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
_B1, _B2, _B3 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
_B4, _B5 = 6.680131188771972e01, -1.328068155288572e01
_C1, _C2, _C3 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
_C4, _C5, _C6 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
_D1, _D2, _D3, _D4 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00
_P_LOW = 0.02425
_S32 = np.uint64(32)
_LO32 = np.uint64(0xFFFFFFFF)
_INV32 = 1.0 / 4294967296.0
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


def _icdf_table(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``T[i] = icdf(i / n)`` (i = 1 .. n-1, at index i) and their differences ``D[i] = T[i+1] - T[i]``."""
    t = np.zeros(n + 1)
    for i in range(1, n):
        t[i] = getattr(normal_icdf, "py_func", normal_icdf)(i / n)  # plain function under NUMBA_DISABLE_JIT
    d = np.zeros(n)
    d[1:n - 1] = t[2:n] - t[1:n - 1]
    return t, d


#: inverse-CDF lookup: 2**12 equal-probability bins, linear inside a bin, exact (Acklam) in the two end bins
Z_BITS = 12
Z_TABLE, Z_STEP = _icdf_table(1 << Z_BITS)
_ZN1 = np.uint64((1 << Z_BITS) - 1)
_ZSHIFT = np.uint64(32 - Z_BITS)
_ZFRAC = np.uint64((1 << (32 - Z_BITS)) - 1)
_INVF = 1.0 / (1 << (32 - Z_BITS))


@njit(cache=True, error_model="numpy", inline="always")
def normal_from_bits(b):
    """Standard normal from 32 uniform bits ``b``: table interpolation, exact in the tail bins."""
    i = b >> _ZSHIFT
    if i == np.uint64(0) or i == _ZN1:
        return normal_icdf((np.float64(b) + 0.5) * _INV32)
    f = (np.float64(b & _ZFRAC) + 0.5) * _INVF
    return Z_TABLE[i] + f * Z_STEP[i]


@njit(cache=True, error_model="numpy", inline="always")
def row_key(seed, step):
    """Per-step key of the read-noise draws (one hash per row read, hoisted out of the device loop)."""
    return mix64(seed ^ mix64(step * _G))


@njit(cache=True, error_model="numpy", inline="always")
def pair_normals(key, j):
    """Two standard normals from draw ``j`` of a row key: the high and low 32 bits of one hash."""
    h = mix64(key + (j + np.uint64(1)) * _G)
    return normal_from_bits(h >> _S32), normal_from_bits(h & _LO32)


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the memory system to fetch ``arr[idx]`` into the caches (``llvm.prefetch``: read, keep; no fault,
    no effect on results)."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        i = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [i], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@njit(cache=True, error_model="numpy", inline="always")
def prefetch_row(x, lo, hi, xi, g, nu):
    """Prefetch the devices of synapses ``lo .. hi-1`` of crossbar ``x`` (and their drift exponents, with drift)
    so that a later :func:`read_row` of that row finds them in the caches."""
    per = 2 if xi[x, XI_DIFF] != 0 else 1
    d0 = xi[x, XI_OFF] + per * lo
    d1 = xi[x, XI_OFF] + per * hi
    for d in range(d0, d1, 8):  # one per 64-byte line
        prefetch(g, d)
    if xi[x, XI_DRIFT] != 0:
        for d in range(d0, d1, 16):
            prefetch(nu, d)


@njit(cache=True, error_model="numpy", inline="always")
def ideal_read(x, xf, xi):
    """Whether crossbar ``x`` reads ideally (no drift, retention, wires, slow or read noise): ``w = k (G+ - G-)``
    or ``k (G - G_ref)``, a function of the programmed conductances alone."""
    return (xi[x, XI_DRIFT] == 0 and xi[x, XI_RET] == 0 and xi[x, XI_WIRE] == 0 and xf[x, XF_FLICK] <= 0.0
            and xf[x, XF_RELAX] <= 0.0 and xf[x, XF_SIGMA] == 0.0)


@njit(cache=True, error_model="numpy", inline="always")
def _ideal_weights(x, d0, n, xf, xi, g, out):
    """Ideal weights of the ``n`` synapses whose devices start at ``d0`` into ``out[:n]``; returns their summed
    conductance (added in synapse order: the read energy's factor)."""
    scale = xf[x, XF_SCALE]
    total = 0.0
    if xi[x, XI_DIFF] != 0:
        for k in range(n):
            gp = g[d0 + 2 * k]
            gn = g[d0 + 2 * k + 1]
            total += gp + gn
            out[k] = scale * (gp - gn)
    else:
        gref = xf[x, XF_GREF]
        for k in range(n):
            gk = g[d0 + k]
            total += gk
            out[k] = scale * (gk - gref)
    return total


@njit(cache=True, error_model="numpy")
def read_row_cached(x, lo, hi, xf, xi, g, acc, w, wtot, r):
    """Ideal read (:func:`ideal_read`) of synapses ``lo .. hi-1`` of crossbar ``x``, served from a cache.

    ``w[:hi-lo]`` holds the row's weights and ``wtot[r]`` their summed conductance once
    the row has been read; ``wtot[r]`` NaN means not yet (or stale): then the devices are
    read into ``w`` exactly as :func:`read_row` reads them.  Reads and energy are counted
    as for :func:`read_row`, so a cached read is the same read, without touching the
    devices.  Whoever writes the devices or the crossbar's scale marks the row stale; the
    simulator marks every row stale at the start of each run and caches only crossbars
    that no plasticity writes.
    """
    total = wtot[r]
    per = 2 if xi[x, XI_DIFF] != 0 else 1
    if total != total:
        total = _ideal_weights(x, xi[x, XI_OFF] + per * lo, hi - lo, xf, xi, g, w)
        wtot[r] = total
    acc[x, A_READS] += per * (hi - lo)
    acc[x, A_ENERGY] += xf[x, XF_V2T] * total


@njit(cache=True, error_model="numpy")
def read_row(x, row, lo, hi, t, dt, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc, out, buf):
    """Weights of synapses ``lo .. hi-1`` (row ``row``) of crossbar ``x`` read at step ``t``, into ``out[:hi-lo]``;
    :func:`read_row_qs` without its cache of the 1/f factors (see there)."""
    read_row_qs(x, row, lo, hi, t, dt, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc, out, buf, out[:0], out[:0], -1)


@njit(cache=True, error_model="numpy")
def read_row_qs(x, row, lo, hi, t, dt, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc, out, buf, qs, qrow, r):
    """Weights of synapses ``lo .. hi-1`` (row ``row``) of crossbar ``x`` read at step ``t``, into ``out[:hi-lo]``.

    ``rtp[xi[x, XI_ROFF] + row]`` is the programming time shared by all devices of the
    row, or NaN when they differ (then ``tp`` is read per device), and
    ``rft[XI_ROFF + row]`` the earliest time a device of the row loses its state
    (``min(tp + tf)``), so rows with no loss yet skip the retention test; whoever
    writes devices keeps both up to date.

    ``buf`` is scratch of at least ``2 (hi - lo)`` floats.  Each non-ideality is a
    separate pass over the row's devices, entered only when it is on: a branch inside
    one loop would let the compiler evaluate ``exp``/``log`` speculatively for every
    device even when drift is off.

    ``qs``, ``qrow`` and ``r`` cache the conductance factors :math:`Q_s(G_p / G_n)` of the
    1/f noise, a function of the programmed conductances only: with ``r >= 0`` and
    ``qrow[r]`` not NaN, ``qs[d]`` holds the factor of device ``d`` (the devices of CSR row
    ``r``); a read that computes them stores them and sets ``qrow[r] = 0``.  Whoever writes
    the devices marks the row stale (NaN); ``r = -1`` computes them at every read.  The
    same numbers either way.
    """
    off = xi[x, XI_OFF]
    diff = xi[x, XI_DIFF] != 0
    scale = xf[x, XF_SCALE]
    sigma = xf[x, XF_SIGMA]
    n = hi - lo
    per = 2 if diff else 1
    m = per * n
    d0 = off + per * lo  # first device of the row; its devices are contiguous
    drift = xi[x, XI_DRIFT] != 0
    ret = xi[x, XI_RET] != 0
    wire = xi[x, XI_WIRE] != 0
    slow = xf[x, XF_FLICK] > 0.0 or xf[x, XF_RELAX] > 0.0
    if not (drift or ret or wire or slow) and sigma == 0.0:  # ideal read: w = k (g+ - g-) or k (g - g_ref)
        total = _ideal_weights(x, d0, n, xf, xi, g, out)
        acc[x, A_READS] += m
        acc[x, A_ENERGY] += xf[x, XF_V2T] * total
        return
    tnow = t * dt
    if drift:  # load with drift
        _drift_load(d0, m, tnow, xf[x, XF_T0], rtp[xi[x, XI_ROFF] + row], nu, tp, g, buf)
    else:
        for q in range(m):
            buf[q] = g[d0 + q]
    if slow:
        slow_noise(d0, d0 - off, m, tnow, xf[x, XF_FLICK], xf[x, XF_TRF], xf[x, XF_GNORM], xf[x, XF_RELAX],
                   xf[x, XF_RT0], np.uint64(xi[x, XI_SEED]), np.uint64(xi[x, XI_EPOCH]), g, tp, buf,
                   rtp[xi[x, XI_ROFF] + row], qs, qrow, r)
    if ret and tnow > rft[xi[x, XI_ROFF] + row]:
        gfail = xf[x, XF_GFAIL]
        for q in range(m):
            if tnow - tp[d0 + q] > tf[d0 + q]:
                buf[q] = gfail
    if sigma > 0.0:
        key = row_key(np.uint64(xi[x, XI_SEED]), np.uint64(t))
        j0 = d0 - off  # device index within the crossbar
        if diff and not wire:  # noise and combine in one pass (j0 is even: pairs are aligned)
            total = 0.0
            jp = j0 >> 1
            for k in range(n):
                z_hi, z_lo = pair_normals(key, np.uint64(jp + k))
                gp = max(buf[2 * k] * (1.0 + sigma * z_hi), 0.0)
                gn = max(buf[2 * k + 1] * (1.0 + sigma * z_lo), 0.0)
                total += gp + gn
                out[k] = scale * (gp - gn)
            acc[x, A_READS] += m
            acc[x, A_ENERGY] += xf[x, XF_V2T] * total
            return
        q = 0
        if j0 & 1:  # odd start: the first device uses the low half of its pair's draw
            _z_hi, z_lo = pair_normals(key, np.uint64(j0 >> 1))
            buf[0] = max(buf[0] * (1.0 + sigma * z_lo), 0.0)
            q = 1
        while q + 1 < m:
            z_hi, z_lo = pair_normals(key, np.uint64((j0 + q) >> 1))
            buf[q] = max(buf[q] * (1.0 + sigma * z_hi), 0.0)
            buf[q + 1] = max(buf[q + 1] * (1.0 + sigma * z_lo), 0.0)
            q += 2
        if q < m:
            z_hi, _z_lo = pair_normals(key, np.uint64((j0 + q) >> 1))
            buf[q] = max(buf[q] * (1.0 + sigma * z_hi), 0.0)
    if wire:
        for q in range(m):
            gq = buf[q]
            buf[q] = gq / (1.0 + gq * rs[d0 + q]) + gs[d0 + q]
    total = 0.0
    if diff:
        for k in range(n):
            gp = buf[2 * k]
            gn = buf[2 * k + 1]
            total += gp + gn
            out[k] = scale * (gp - gn)
    else:
        gref = xf[x, XF_GREF]
        for k in range(n):
            total += buf[k]
            out[k] = scale * (buf[k] - gref)
    acc[x, A_READS] += m
    acc[x, A_ENERGY] += xf[x, XF_V2T] * total


_INV_LN10 = 1.0 / math.log(10.0)


@njit(cache=True, error_model="numpy", inline="always")
def flicker_factor(gp, gnorm):
    """:math:`Q_s(|G_p| / G_n) = \\min(0.0088 / \\max(x^{0.65}, 10^{-3}), 0.2)`, the 1/f law's conductance factor."""
    xr = abs(gp) / gnorm
    xp = math.exp(0.65 * math.log(xr)) if xr > 0.0 else 0.0
    return min(0.0088 / max(xp, 1e-3), 0.2)


@njit(cache=True, error_model="numpy", inline="always")
def slow_noise(d0, j0, m, tnow, flick, trf, gnorm, relax, rt0, seed, epoch, g, tp, buf, tp_row, qs, qrow, r):
    """Add the accumulated 1/f noise and the relaxation to ``buf[0 .. m-1]`` (devices ``d0 ..``, which are
    devices ``j0 ..`` within their crossbar), floored at 0; see the module docstring.

    ``flick`` is the 1/f multiplier ``q`` (0: off), ``trf`` its ``t_r`` [s], ``gnorm`` the nominal
    ``g_max`` [S]; ``relax`` the relaxation spread per decade [S] (0: off), ``rt0`` its time scale [s].
    ``tp_row`` is the programming time all the devices share, or NaN (``rtp`` of the row): with a
    shared time the logarithms of the age are taken once for the row (the same numbers), and the
    factors ``Q_s`` of the devices are taken from ``qs[d0 ..]`` when ``r >= 0`` and ``qrow[r]`` is
    not NaN, else computed (and, with ``r >= 0``, stored there and ``qrow[r]`` set to 0).
    """
    key = row_key(seed ^ SLOW_SALT, epoch)
    if tp_row == tp_row:  # one age for the whole row
        age = tnow - tp_row
        if age <= 0.0:
            return
        c = relax * math.log(1.0 + age / rt0) * _INV_LN10 if relax > 0.0 else 0.0
        lg = math.log((age + trf) / (2.0 * trf)) if flick > 0.0 else 0.0
        if lg <= 0.0:  # relaxation alone (no 1/f noise, or none yet)
            for q in range(m):
                h = mix64(key + (np.uint64(j0 + q) + np.uint64(1)) * _G)
                buf[q] = max(buf[q] + (0.0 + c * normal_from_bits(h & _LO32)), 0.0)
            return
        sq = math.sqrt(lg)
        if r >= 0 and qrow[r] == qrow[r]:  # the factors of the row are cached
            for q in range(m):
                z1, z2 = pair_normals(key, np.uint64(j0 + q))
                gq = buf[q]
                dg = 0.0 + abs(gq) * flick * qs[d0 + q] * sq * z1
                if relax > 0.0:
                    dg += c * z2
                buf[q] = max(gq + dg, 0.0)
            return
        for q in range(m):
            z1, z2 = pair_normals(key, np.uint64(j0 + q))
            gq = buf[q]
            qf = flicker_factor(g[d0 + q], gnorm)
            if r >= 0:
                qs[d0 + q] = qf
            dg = 0.0 + abs(gq) * flick * qf * sq * z1
            if relax > 0.0:
                dg += c * z2
            buf[q] = max(gq + dg, 0.0)
        if r >= 0:
            qrow[r] = 0.0
        return
    for q in range(m):
        d = d0 + q
        age = tnow - tp[d]
        if age <= 0.0:
            continue
        z1, z2 = pair_normals(key, np.uint64(j0 + q))
        gq = buf[q]
        dg = 0.0
        if flick > 0.0:
            lg = math.log((age + trf) / (2.0 * trf))
            if lg > 0.0:
                dg += abs(gq) * flick * flicker_factor(g[d], gnorm) * math.sqrt(lg) * z1
        if relax > 0.0:
            dg += relax * math.log(1.0 + age / rt0) * _INV_LN10 * z2
        buf[q] = max(gq + dg, 0.0)


_INV64 = 1.0 / 64.0
# Taylor coefficients of exp, highest first (degree 12)
_E12, _E11, _E10, _E9 = 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0
_E8, _E7, _E6, _E5 = 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0
_E4, _E3, _E2 = 1.0 / 24.0, 1.0 / 6.0, 0.5


@njit(cache=True, error_model="numpy", inline="always")
def drift_factor(x):
    """``exp(x)`` for ``x <= 0`` as ``(Taylor_12(x / 64))**64``.

    Relative error below 1e-12 for ``x >= -28`` (the drift exponent ``-nu log(age/t0)``
    with ``nu <= 1`` and ages up to 1e12 ``t0``), below 1e-10 down to ``x = -40``.  No
    branch and no library call, so the loop over a row's devices vectorises.
    """
    y = x * _INV64
    p = ((((((((((((_E12 * y + _E11) * y + _E10) * y + _E9) * y + _E8) * y + _E7) * y + _E6) * y + _E5) * y
              + _E4) * y + _E3) * y + _E2) * y + 1.0) * y + 1.0)
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


@njit(cache=True, error_model="numpy", inline="always")
def _drift_load(d0, m, tnow, t0, rtp_row, nu, tp, g, buf):
    """``buf[q]`` = conductance of device ``d0 + q`` after power-law drift ``(age / t0)**-nu``."""
    if rtp_row == rtp_row:  # the whole row was programmed at once: one log, a branch-free loop
        age = tnow - rtp_row
        if age > t0:
            lc = math.log(age / t0)
            for q in range(m):
                buf[q] = g[d0 + q] * drift_factor(-nu[d0 + q] * lc)
        else:
            for q in range(m):
                buf[q] = g[d0 + q]
        return
    for q in range(m):
        age = tnow - tp[d0 + q]
        gq = g[d0 + q]
        if age > t0:
            gq *= drift_factor(-nu[d0 + q] * math.log(age / t0))
        buf[q] = gq


@njit(cache=True, error_model="numpy", inline="always")
def device_weight(x, s, xf, xi, g):
    """Noiseless weight of synapse ``s`` of crossbar ``x`` from its programmed conductance(s)."""
    off = xi[x, XI_OFF]
    if xi[x, XI_DIFF] != 0:
        return xf[x, XF_SCALE] * (g[off + 2 * s] - g[off + 2 * s + 1])
    return xf[x, XF_SCALE] * (g[off + s] - xf[x, XF_GREF])


@njit(cache=True, error_model="numpy", inline="always")
def _touch(x, d, row, t, dt, xi, tp, rtp, tf, rft):
    """Device ``d`` of row ``row`` was written at step ``t``: restart its drift clock, row summaries."""
    if xi[x, XI_DRIFT] != 0 or xi[x, XI_RET] != 0:
        tnow = t * dt
        tp[d] = tnow
        r = xi[x, XI_ROFF] + row
        rtp[r] = np.nan
        if xi[x, XI_RET] != 0 and tnow + tf[d] < rft[r]:
            rft[r] = tnow + tf[d]


@njit(cache=True, error_model="numpy")
def device_update(x, s, row, dw, wmin, wmax, t, dt, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft, acc):
    """Apply a learning rule's weight change ``dw`` to synapse ``s`` (row ``row``) of crossbar ``x``.

    *Analog* crossbars (ideal single devices without step spread, ``XI_ANALOG``) take the
    change exactly: ``w' = clip(w + dw, w_min, w_max)`` and ``G' = w' / k + G_ref`` within the
    device's own bounds (``dv``), which for a power-of-two ``k`` and ``G_ref = 0`` is the float
    rule bit for bit.  Otherwise the rule only decides the sign and the number of pulses,
    ``n = |dw| / (|k| dG)`` with the *nominal* step (the periphery does not know each
    device's), stochastically rounded (a counter-based uniform of ``(seed, t, device)``), and
    the device's update law with its own bounds and steps decides the conductance change
    (nonlinearity, asymmetry, cycle-to-cycle noise, levels, endurance in full-cycle
    equivalents).  A single device moves up or down; a differential pair takes potentiation on
    G+ and depression on G- (both only rise).  With a refresh threshold (``p[P_REFRESH] > 0``,
    one-sided PCM pairs) a pair whose pulsed device reaches that fraction of its range is
    refreshed (:func:`memr_snn.kernel.device.refresh_pair`).  Written devices restart their
    drift clock; their row loses its shared programming time.
    """
    if dw == 0.0:
        return
    off = xi[x, XI_OFF]
    scale = xf[x, XF_SCALE]
    diff = xi[x, XI_DIFF] != 0
    if xi[x, XI_ANALOG] != 0:
        d = off + s
        w = scale * (g[d] - xf[x, XF_GREF])
        w_new = min(max(w + dw, wmin), wmax)
        g_new = min(max(w_new / scale + xf[x, XF_GREF], dv[d, DV_GMIN]), dv[d, DV_GMAX])  # the device's range too
        step = xp[x, 3] if g_new >= g[d] else xp[x, 4]
        n_eq = int(math.ceil(abs(g_new - g[d]) / step - 1e-9)) if step > 0.0 else 0
        if n_eq > 0:
            counts[d] += n_eq
            if g_new >= g[d]:
                acc[x, A_UP] += n_eq
            else:
                acc[x, A_DOWN] += n_eq
        if fault[d] != 0:
            return
        wear = dv[d, DV_WEAR] + abs(g_new - g[d]) * (0.5 / (dv[d, DV_GMAX] - dv[d, DV_GMIN]))
        dv[d, DV_WEAR] = wear
        if wear >= dv[d, DV_LIFE]:
            code = xi[x, XI_FAIL]
            fault[d] = code
            if code == -1:
                g_new = dv[d, DV_GMIN]
            elif code == 1:
                g_new = dv[d, DV_GMAX]
        g[d] = g_new
        _touch(x, d, row, t, dt, xi, tp, rtp, tf, rft)
        return
    if diff:
        d = off + 2 * s if dw > 0.0 else off + 2 * s + 1
        up = True
    else:
        d = off + s
        up = (dw > 0.0) == (scale > 0.0)
    step = xp[x, 3] if up else xp[x, 4]
    if step <= 0.0:
        return
    nf = abs(dw) / (abs(scale) * step)
    n = int(nf)
    if uniform01(np.uint64(xi[x, XI_SEED]) ^ np.uint64(0xA5A5A5A5), np.uint64(t), np.uint64(d - off)) < nf - n:
        n += 1
    if n == 0:
        return
    c0 = counts[d]
    counts[d] = c0 + n
    if up:
        acc[x, A_UP] += n
    else:
        acc[x, A_DOWN] += n
    if fault[d] != 0:
        return
    seed = np.uint64(xi[x, XI_SEED])
    gk, failed = _run_pulses(xp[x], dv, d, g[d], up, n, xi[x, XI_FAIL], seed, np.uint64(t), d - off, c0)
    g[d] = gk
    if failed:
        fault[d] = xi[x, XI_FAIL]
    _touch(x, d, row, t, dt, xi, tp, rtp, tf, rft)
    thr = xp[x, P_REFRESH]
    if diff and thr > 0.0 and g[d] - dv[d, DV_GMIN] >= thr * (dv[d, DV_GMAX] - dv[d, DV_GMIN]):
        dp = off + 2 * s
        cap = int(4.0 * (xp[x, 2] - xp[x, 1]) / xp[x, 3]) + 16
        sets, resets = refresh_pair(xp[x], dv, g, counts, fault, xi[x, XI_FAIL], dp, dp + 1, seed, np.uint64(t),
                                    dp - off, dp + 1 - off, counts[dp], cap)
        if resets > 0:
            acc[x, A_UP] += sets
            acc[x, A_DOWN] += resets
            _touch(x, dp, row, t, dt, xi, tp, rtp, tf, rft)
            _touch(x, dp + 1, row, t, dt, xi, tp, rtp, tf, rft)


if config.DISABLE_JIT:  # pure-Python mode (coverage runs): uint64 wrap-around is intended
    def prefetch(arr, idx):  # noqa: F811
        """A hint only: nothing to do in Python."""

    _row_key_py, _pair_normals_py = row_key, pair_normals

    def row_key(seed, step):  # noqa: F811
        with np.errstate(over="ignore"):
            return _row_key_py(seed, step)

    def pair_normals(key, j):  # noqa: F811
        with np.errstate(over="ignore"):
            return _pair_normals_py(key, j)
