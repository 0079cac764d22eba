"""The current-based LIF neuron: parameter packing, one step, k-step advance, idle test.

A neuron-model plug-in (see :mod:`memr_snn.kernel.models`): the module brings its type code
``TYPE``, its name ``NAME`` (the ``model`` of its parameter class), whether it may idle
(``LAZY``), ``pack`` (parameter columns -> coefficient-table rows, numpy, run once when the
network is built) and the compiled ``step_fire_one`` / ``step_fire_range`` / ``advance`` /
``can_idle``.

Exact integration of the linear model, for ``k`` steps with no input:

.. math::

    v_{k} = v_\\infty + (v_0 - v_\\infty) p_m^k + i_{e,0} E(k) + i_{i,0} I(k),
    \\qquad v_\\infty = v_{rest} + R\\, i_{bias}

    E(k) = R \\frac{\\tau_e}{\\tau_e - \\tau_m}\\,(p_e^k - p_m^k)
    \\quad(\\tau_e \\ne \\tau_m), \\qquad
    E(k) = R\\, \\frac{k\\,dt}{\\tau_m}\\, p_m^k \\quad(\\tau_e = \\tau_m)

with :math:`p_x = e^{-dt/\\tau_x}` and :math:`R = \\tau_m / C`.  One clock step
uses the same formula with k = 1 and precomputed ``E(1)``, ``I(1)``.  Kernels take the
group coefficient table ``gc`` (:mod:`memr_snn.kernel.layout`) and a group index ``g``
and read ``gc[g, C_*]`` directly (no row views: a view costs a reference-count round
trip per call).
"""

import math

import numpy as np
from numba import njit

from ..layout import (
    C_BETA,
    C_CE1,
    C_CI1,
    C_CM,
    C_DE,
    C_DI,
    C_DT,
    C_DTTM,
    C_GL,
    C_KE,
    C_KI,
    C_LPA,
    C_LPE,
    C_LPI,
    C_LPM,
    C_PA,
    C_PE,
    C_PI,
    C_PM,
    C_R,
    C_VRESET,
    C_VREST,
    C_VTH,
    I_REF,
    IDLE_MARGIN,
    T_LIF,
)

__all__ = [
    "TYPE", "NAME", "LAZY", "pack", "pack_linear", "psp_peak", "coupling_one_step",
    "lif_step_scalar", "lif_step_one", "lif_step_range", "lif_advance", "lif_can_idle", "threshold_of",
    "fire_scalar", "fire", "step_fire_one", "step_fire_scalar", "step_fire_range", "advance", "can_idle",
]

TYPE = T_LIF
NAME = "lif"
#: linear and exactly advanceable: may go idle in event mode
LAZY = True


# ------------------------------------------------------------------------------ packing (numpy)
def _nearly_equal(tau_s, tau_m):
    """Time constants this close use the equal-tau limit (avoids cancellation)."""
    return np.abs(tau_s - tau_m) <= 1e-9 * np.abs(tau_m)


def psp_peak(tau_s: np.ndarray, tau_m: np.ndarray) -> np.ndarray:
    r"""Peak of :math:`\frac{\tau_s}{\tau_s-\tau_m}(e^{-t/\tau_s}-e^{-t/\tau_m})` over t >= 0.

    That is the largest membrane excursion, in units of ``R * I0``, caused by a
    current ``I0`` decaying with ``tau_s``; it is ``1/e`` when the time constants
    are equal.
    """
    tau_s = np.asarray(tau_s, dtype=np.float64)
    tau_m = np.asarray(tau_m, dtype=np.float64)
    out = np.full(np.broadcast(tau_s, tau_m).shape, np.exp(-1.0))
    diff = ~_nearly_equal(*np.broadcast_arrays(tau_s, tau_m))
    ts, tm = np.broadcast_to(tau_s, out.shape)[diff], np.broadcast_to(tau_m, out.shape)[diff]
    t_star = ts * tm * np.log(ts / tm) / (ts - tm)
    out[diff] = ts / (ts - tm) * (np.exp(-t_star / ts) - np.exp(-t_star / tm))
    return out


def coupling_one_step(r, tau_s, tau_m, dt):
    """(d, E(1)) with ``d = dt (1/tau_m - 1/tau_s)`` and ``E(1) = R (dt/tau_m) (p_s - p_m) / d``.

    The same cancellation- and overflow-free form as :func:`_coupling`:
    ``p_m expm1(d) / d`` for ``d < 0``, ``p_s (-expm1(-d)) / d`` for ``d > 0`` (slow synapses or a
    membrane much faster than dt, where ``expm1(d)`` would overflow), and the limit
    ``R (dt/tau_m) p_m`` for ``d = 0`` (equal time constants).
    """
    d = dt * (1.0 / tau_m - 1.0 / tau_s)
    safe_d = np.where(d == 0.0, 1.0, d)
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = np.where(d == 0.0, 1.0, np.expm1(safe_d) / safe_d)
        fast = r * (dt / tau_m) * np.exp(-dt / tau_m) * ratio
        slow = r * (dt / tau_m) * (np.exp(-dt / tau_s) * (-np.expm1(-safe_d) / safe_d))
    return d, np.where(d > 0.0, slow, fast)


def pack_linear(gc: np.ndarray, p: dict, dt: float) -> None:
    """Fill the membrane and synapse columns of ``gc`` (one row per group) from the parameter columns
    ``p`` (name -> array over groups) of a LIF-like model; no adaptation (``C_PA = 1``, ``C_BETA = 0``)."""
    tm, cm = p["tau_mem"], p["c_mem"]
    te, ti = p["tau_syn_e"], p["tau_syn_i"]
    r = tm / cm
    gc[:, C_LPM], gc[:, C_LPE], gc[:, C_LPI] = -dt / tm, -dt / te, -dt / ti
    gc[:, C_PM], gc[:, C_PE], gc[:, C_PI] = np.exp(-dt / tm), np.exp(-dt / te), np.exp(-dt / ti)
    gc[:, C_LPA] = 0.0
    gc[:, C_PA] = 1.0
    gc[:, C_BETA] = 0.0
    gc[:, C_R] = r
    gc[:, C_VREST] = p["v_rest"]
    gc[:, C_VRESET] = p["v_reset"]
    gc[:, C_VTH] = p["v_threshold"]
    gc[:, C_DE], gc[:, C_CE1] = coupling_one_step(r, te, tm, dt)
    gc[:, C_DI], gc[:, C_CI1] = coupling_one_step(r, ti, tm, dt)
    gc[:, C_DTTM] = dt / tm
    # the idle test needs an upper bound: pad the peak against its own rounding
    gc[:, C_KE] = r * psp_peak(te, tm) * (1 + 1e-6)
    gc[:, C_KI] = r * psp_peak(ti, tm) * (1 + 1e-6)
    gc[:, C_GL] = cm / tm
    gc[:, C_CM] = cm
    gc[:, C_DT] = dt


def pack(gc: np.ndarray, p: dict, dt: float) -> None:
    """Coefficient rows of current-based LIF groups (``p``: parameter name -> values per group)."""
    pack_linear(gc, p, dt)


# ------------------------------------------------------------------------------ compiled kernels
@njit(cache=True, error_model="numpy", inline="always")
def lif_step_scalar(gc, g, v, se, si, a, ib, ref):
    """One clock step of a current-based (A)LIF neuron of group ``g`` on scalars: (v, se, si, a, ref).

    Refractory neurons keep ``v`` (which holds ``v_reset``) and count ``ref``
    down; synaptic currents and adaptation decay regardless.  No threshold here.
    """
    if ref > 0:
        ref -= 1
    else:
        vinf = gc[g, C_VREST] + gc[g, C_R] * ib
        v = vinf + (v - vinf) * gc[g, C_PM] + se * gc[g, C_CE1] + si * gc[g, C_CI1]
    return v, se * gc[g, C_PE], si * gc[g, C_PI], a * gc[g, C_PA], np.int64(ref)


@njit(cache=True, error_model="numpy", inline="always")
def lif_step_one(gc, g, j, v, se, si, a, ib, ref):
    """:func:`lif_step_scalar` of neuron ``j``, in place."""
    v[j], se[j], si[j], a[j], ref[j] = lif_step_scalar(gc, g, v[j], se[j], si[j], a[j], ib[j], ref[j])


@njit(cache=True, error_model="numpy", _nrt=False)  # no reference counting: see kernel/__init__.py
def lif_step_range(gc, g, lo, hi, v, se, si, a, ib, ref, fired, ref_steps, a_jump, be, bi):
    """:func:`lif_step_one` plus threshold and reset for neurons ``lo..hi-1`` of group ``g``.

    Branch-free, with the coefficients hoisted, so that LLVM vectorises it:
    ``fired[j]`` is set to 1 for neurons that spike (0 otherwise) and the
    number of spikes is returned.  ``a_jump`` is the adaptation increment per
    spike (1 for ALIF, 0 otherwise; without adaptation ``p_a = 1`` and
    ``beta = 0`` make the adaptation arithmetic exact no-ops).  ``be``/``bi`` are
    the due ring-buffer rows (excitatory/inhibitory): their entries are added
    to the synaptic state first and cleared (delivery fused into the update).
    Same arithmetic, in the same order, as delivery, :func:`lif_step_one` and
    the threshold test.

    An empty ``ib`` (``ib.shape[0] == 0``) says that every neuron of the range has the bias
    current ``+0.0`` (the caller checked, :func:`memr_snn.kernel.loop.flag_bias`): ``v_inf`` is then
    the same ``v_rest + R * 0.0`` for all of them, computed once, and the loop does not read the
    bias array (8 of its about 90 bytes of memory traffic per neuron); the result is the same, bit
    for bit.
    """
    vrest, r, pm = gc[g, C_VREST], gc[g, C_R], gc[g, C_PM]
    ce, ci = gc[g, C_CE1], gc[g, C_CI1]
    pe, pi, pa = gc[g, C_PE], gc[g, C_PI], gc[g, C_PA]
    vth, beta, vreset = gc[g, C_VTH], gc[g, C_BETA], gc[g, C_VRESET]
    rnew = ref_steps - 1 if ref_steps > 1 else 0
    count = 0
    no_bias = ib.shape[0] == 0
    vinf0 = vrest + r * 0.0  # v_inf of a neuron with bias +0.0 (as the loops below compute it)
    if no_bias:
        ib = v  # any array of the range's length: not read below
    # Work on views starting at 0: numba then proves indices non-negative and
    # drops its wraparound checks, which is what lets the loop vectorise.
    v_, se_, si_, a_, ib_ = v[lo:hi], se[lo:hi], si[lo:hi], a[lo:hi], ib[lo:hi]
    ref_, fired_, be_, bi_ = ref[lo:hi], fired[lo:hi], be[lo:hi], bi[lo:hi]
    plain = a_jump == 0.0 and pa == 1.0 and beta == 0.0
    if plain and no_bias:
        # the common case (CUBA): the loop below with v_inf hoisted
        for j in range(hi - lo):
            sej = se_[j] + be_[j]
            sij = si_[j] + bi_[j]
            be_[j] = 0.0
            bi_[j] = 0.0
            vn = vinf0 + (v_[j] - vinf0) * pm + sej * ce + sij * ci
            rj = ref_[j]
            vn = vn if rj <= 0 else v_[j]
            rj = rj - 1 if rj > 0 else rj
            se_[j] = sej * pe
            si_[j] = sij * pi
            f = vn > vth
            v_[j] = vreset if f else vn
            ref_[j] = rnew if f else rj
            fired_[j] = f
            count += f
        return count
    if plain:
        # plain LIF: the adaptation arithmetic would be exact no-ops; skip its memory traffic
        for j in range(hi - lo):
            sej = se_[j] + be_[j]
            sij = si_[j] + bi_[j]
            be_[j] = 0.0
            bi_[j] = 0.0
            vinf = vrest + r * ib_[j]
            vn = vinf + (v_[j] - vinf) * pm + sej * ce + sij * ci
            rj = ref_[j]
            vn = vn if rj <= 0 else v_[j]
            rj = rj - 1 if rj > 0 else rj
            se_[j] = sej * pe
            si_[j] = sij * pi
            f = vn > vth
            v_[j] = vreset if f else vn
            ref_[j] = rnew if f else rj
            fired_[j] = f
            count += f
        return count
    if no_bias:
        # ALIF (the adaptation below) with v_inf hoisted
        for j in range(hi - lo):
            sej = se_[j] + be_[j]
            sij = si_[j] + bi_[j]
            be_[j] = 0.0
            bi_[j] = 0.0
            vn = vinf0 + (v_[j] - vinf0) * pm + sej * ce + sij * ci
            rj = ref_[j]
            vn = vn if rj <= 0 else v_[j]
            rj = rj - 1 if rj > 0 else rj
            se_[j] = sej * pe
            si_[j] = sij * pi
            aj = a_[j] * pa
            f = vn > vth + beta * aj
            v_[j] = vreset if f else vn
            ref_[j] = rnew if f else rj
            a_[j] = aj + a_jump if f else aj
            fired_[j] = f
            count += f
        return count
    for j in range(hi - lo):
        sej = se_[j] + be_[j]
        sij = si_[j] + bi_[j]
        be_[j] = 0.0
        bi_[j] = 0.0
        vinf = vrest + r * ib_[j]
        vn = vinf + (v_[j] - vinf) * pm + sej * ce + sij * ci
        rj = ref_[j]
        vn = vn if rj <= 0 else v_[j]
        rj = rj - 1 if rj > 0 else rj
        se_[j] = sej * pe
        si_[j] = sij * pi
        aj = a_[j] * pa
        f = vn > vth + beta * aj
        v_[j] = vreset if f else vn
        ref_[j] = rnew if f else rj
        a_[j] = aj + a_jump if f else aj
        fired_[j] = f
        count += f
    return count


@njit(cache=True, error_model="numpy", inline="always")
def _coupling(d, lpm, lps, k, dttm, r):
    """E(k) (or I(k)) of the module docstring, free of cancellation and of overflow.

    ``E(k) = R (dt/tau_m) (p_s^k - p_m^k) / d`` with ``d = dt (1/tau_m - 1/tau_s)``,
    ``lpm = -dt/tau_m`` and ``lps = -dt/tau_s`` (so ``lps = lpm + d``).  Written as a
    product of two factors that are both bounded, whatever ``k`` and the time constants:

    * ``d < 0`` (``tau_s < tau_m``): ``p_m^k * expm1(k d) / d``, with ``expm1(k d)`` in (-1, 0];
    * ``d > 0`` (``tau_s > tau_m``, slow synapses): ``p_s^k * (-expm1(-k d)) / d``, the
      same quantity with the larger exponential factored out.  The ``d < 0`` form here would
      multiply ``p_m^k -> 0`` by ``expm1(k d) -> inf`` after a long gap (NaN);
    * ``d = 0`` (equal time constants): the limit ``R (k dt / tau_m) p_m^k``.

    Each branch underflows to exact zero for long gaps instead of overflowing.
    """
    if d == 0.0:
        return r * (k * dttm) * math.exp(k * lpm)
    if d < 0.0:
        return r * dttm * math.exp(k * lpm) * (math.expm1(k * d) / d)
    return r * dttm * math.exp(k * lps) * (-math.expm1(-k * d) / d)


@njit(cache=True, error_model="numpy")
def lif_advance(gc, g, k, v, se, si, a, ib, ref):
    """Advance a current-based (A)LIF neuron by ``k`` >= 0 input-free steps.

    Closed form: first ``m = min(ref, k)`` refractory steps (v held, currents
    decay), then ``k - m`` free steps.  Scalars in, (v, se, si, a, ref) out.
    """
    if k <= 0:
        return v, se, si, a, ref
    # A zero current or adaptation stays zero and adds nothing to v: its factors (finite, bounded) are
    # not computed: skipping them gives the same values (x * 0 is a zero, and v + 0 is v).
    m = min(ref, k)
    if m > 0:
        if se != 0.0:
            se = se * math.exp(m * gc[g, C_LPE])
        if si != 0.0:
            si = si * math.exp(m * gc[g, C_LPI])
        ref -= m
    kf = k - m
    if kf > 0:
        vinf = gc[g, C_VREST] + gc[g, C_R] * ib
        ve = 0.0
        vi = 0.0
        if se != 0.0:
            ve = se * _coupling(gc[g, C_DE], gc[g, C_LPM], gc[g, C_LPE], kf, gc[g, C_DTTM], gc[g, C_R])
            se = se * math.exp(kf * gc[g, C_LPE])
        if si != 0.0:
            vi = si * _coupling(gc[g, C_DI], gc[g, C_LPM], gc[g, C_LPI], kf, gc[g, C_DTTM], gc[g, C_R])
            si = si * math.exp(kf * gc[g, C_LPI])
        v = vinf + (v - vinf) * math.exp(kf * gc[g, C_LPM]) + ve + vi
    if a != 0.0:
        a = a * math.exp(k * gc[g, C_LPA])
    return v, se, si, a, ref


@njit(cache=True, error_model="numpy", inline="always")
def lif_can_idle(gc, g, v, se, si, ib):
    """True if, without new input, v provably stays below threshold forever.

    Bound: ``v(t) <= v_inf + max(v - v_inf, 0) + K_e max(i_e, 0) + K_i max(i_i, 0)``
    where ``K_x`` is R times the peak of the PSP shape of a unit current decaying
    with ``tau_x``.  The adaptive threshold is never below ``v_threshold``
    (``beta_adapt >= 0``), so the test uses ``v_threshold``.
    """
    vinf = gc[g, C_VREST] + gc[g, C_R] * ib
    bound = vinf + max(v - vinf, 0.0) + gc[g, C_KE] * max(se, 0.0) + gc[g, C_KI] * max(si, 0.0)
    return bound < gc[g, C_VTH] - IDLE_MARGIN


@njit(cache=True, error_model="numpy", inline="always")
def threshold_of(gc, g, a):
    """Momentary threshold ``v_threshold + beta * a`` [V].

    For TSM neurons this is the switching voltage ``v_th + k_mod * c`` (``C_BETA``
    holds ``k_mod``, ``a`` the modulator concentration).
    """
    return gc[g, C_VTH] + gc[g, C_BETA] * a


@njit(cache=True, error_model="numpy", inline="always")
def fire_scalar(g, gc, gi, v, a, ref, a_jump):
    """Threshold test and reset on scalars (adaptation ``a`` grows by ``a_jump`` per spike):
    (v, a, ref, fired)."""
    if v > threshold_of(gc, g, a):
        r = gi[g, I_REF] - 1
        if a_jump != 0.0:
            a += a_jump
        return gc[g, C_VRESET], a, np.int64(r if r > 0 else 0), True
    return v, a, np.int64(ref), False


@njit(cache=True, error_model="numpy", inline="always")
def fire(j, g, gc, gi, v, a, ref, spikes, nspk, a_jump):
    """Threshold test and reset of neuron ``j`` (adaptation ``a`` grows by ``a_jump`` per spike);
    appends ``j`` to ``spikes`` and returns the new spike count."""
    if v[j] > threshold_of(gc, g, a[j]):
        v[j] = gc[g, C_VRESET]
        r = gi[g, I_REF] - 1
        ref[j] = r if r > 0 else 0
        if a_jump != 0.0:
            a[j] += a_jump
        spikes[nspk] = j
        nspk += 1
    return nspk


# ------------------------------------------------------------------------------ the plug-in interface
@njit(cache=True, error_model="numpy", inline="always")
def step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
    """One step of neuron ``j`` with threshold and reset; returns the new spike count."""
    lif_step_one(gc, g, j, v, se, si, a, ib, ref)
    return fire(j, g, gc, gi, v, a, ref, spikes, nspk, 0.0)


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref):
    """:func:`step_fire_one` on scalars: (v, se, si, a, ref, fired); the same arithmetic."""
    v, se, si, a, ref = lif_step_scalar(gc, g, v, se, si, a, ib, ref)
    v, a, ref, f = fire_scalar(g, gc, gi, v, a, ref, 0.0)
    return v, se, si, a, ref, f


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
    """Neurons ``lo..hi-1`` of group ``g``, delivery of ``be``/``bi`` fused; flags in ``fired``, returns the count."""
    return lif_step_range(gc, g, lo, hi, v, se, si, a, ib, ref, fired, gi[g, I_REF], 0.0, be, bi)


@njit(cache=True, error_model="numpy", inline="always")
def advance(gc, g, k, v, se, si, a, ib, ref):
    """``k`` input-free steps in closed form (:func:`lif_advance`)."""
    return lif_advance(gc, g, k, v, se, si, a, ib, ref)


@njit(cache=True, error_model="numpy", inline="always")
def can_idle(gc, g, v, se, si, ib):
    """The idle test (:func:`lif_can_idle`)."""
    return lif_can_idle(gc, g, v, se, si, ib)
