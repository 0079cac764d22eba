"""The conductance-based LIF neuron: exponential-Euler or forward-Euler step (clock-driven, never idle).

The method is the group's ``integration`` (:class:`memr_snn.LIFCondParams`): exponential Euler (below;
the plug-in interface of this module, type code ``T_COND``) or forward Euler (:func:`euler_step_scalar`,
:func:`euler_step_range`, the method of Brian2's COBA example: every equation advanced by ``dt`` times
its derivative at the step start), which is a plug-in of its own (:mod:`.cond_euler`, type code
``T_COND_EULER``, chosen by :func:`variant` when the network is built) so that a network compiles only
the method it uses.  The column ``C_EULER`` records the method for the numpy twin; forward Euler's
conductance decay factors ``1 - dt/tau_syn`` are the row's ``C_PE``/``C_PI``.

"""

import math
import sys

import numpy as np
from numba import njit

from ..layout import (
    C_CM,
    C_DT,
    C_EE,
    C_EI,
    C_EULER,
    C_GL,
    C_PA,
    C_PE,
    C_PI,
    C_VRESET,
    C_VREST,
    C_VTH,
    I_REF,
    T_COND,
)
from .lif import fire, fire_scalar, pack_linear

__all__ = [
    "TYPE", "NAME", "LAZY", "METHODS", "pack", "exp_neg",
    "euler_v", "euler_step_scalar", "euler_step_range", "variant",
    "cond_decay", "EXP_NEG_MIN", "PADE_MAX", "relax", "cond_step_scalar",
    "cond_step_one",
    "cond_step_range", "step_fire_one", "step_fire_scalar", "step_fire_range", "advance", "can_idle",
]

TYPE = T_COND
NAME = "lif_cond"
#: clock-driven: never idles (its update is not linear in the state)
LAZY = False


#: the integration methods (``LIFCondParams.integration``) and their ``C_EULER`` codes
METHODS = {"exp_euler": 0.0, "euler": 1.0}


def pack(gc: np.ndarray, p: dict, dt: float) -> None:
    """Coefficient rows of conductance-based LIF groups: the LIF columns plus the reversal potentials and
    the method (``p["integration"]``, default exponential Euler); forward Euler takes the conductances'
    decay factors ``1 - dt/tau_syn`` and refuses ``dt`` not below every time constant."""
    method = p.get("integration", "exp_euler")
    if method not in METHODS:
        raise ValueError(f"integration must be one of {sorted(METHODS)}, got {method!r}")
    pack_linear(gc, p, dt)
    gc[:, C_EE] = p["e_rev_e"]
    gc[:, C_EI] = p["e_rev_i"]
    gc[:, C_EULER] = METHODS[method]
    if method == "euler":
        for name in ("tau_mem", "tau_syn_e", "tau_syn_i"):
            tau = np.asarray(p[name], dtype=np.float64)
            if np.any(tau <= dt):
                raise ValueError(f"LIFCondParams(integration='euler'): {name} = {float(tau.min())!r} s must be "
                                 f"> dt = {dt!r} s (forward Euler's decay factor 1 - dt/{name} must lie in (0, 1))")
        gc[:, C_PE] = 1.0 - dt / np.asarray(p["tau_syn_e"], dtype=np.float64)
        gc[:, C_PI] = 1.0 - dt / np.asarray(p["tau_syn_i"], dtype=np.float64)


#: 1/k! for k = 11..1 (Horner order), the Taylor series of exp on |y| <= 1/4
_EXP_C = (
    1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
    1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0,
)
#: below this argument exp_neg defers to math.exp
EXP_NEG_MIN = -8.0


@njit(cache=True, error_model="numpy", inline="always")
def exp_neg(x):
    """exp(x) for -8 <= x <= 0 with plain arithmetic, so loops using it vectorise.

    ``exp(x) = (p(x/32))**32`` with ``p`` the degree-11 Taylor polynomial (truncation
    < 2e-16 on |x/32| <= 1/4) and five squarings; relative error below 1e-14
    (checked against ``math.exp`` in the tests).  Callers handle ``x < -8``.
    """
    y = x * 0.03125
    p = _EXP_C[0]
    p = p * y + _EXP_C[1]
    p = p * y + _EXP_C[2]
    p = p * y + _EXP_C[3]
    p = p * y + _EXP_C[4]
    p = p * y + _EXP_C[5]
    p = p * y + _EXP_C[6]
    p = p * y + _EXP_C[7]
    p = p * y + _EXP_C[8]
    p = p * y + _EXP_C[9]
    p = p * y + _EXP_C[10]
    p = p * y + 1.0
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


@njit(cache=True, error_model="numpy", inline="always")
def cond_decay(x):
    """exp(x) for x <= 0 as the conductance-based update uses it (see :func:`exp_neg`)."""
    if x >= EXP_NEG_MIN:
        return exp_neg(x)
    return math.exp(x)


#: |x| up to which :func:`relax` uses the Padé approximant of exp(x)
PADE_MAX = 1.0
#: the [6/6] Padé approximant of exp: P(x) = E(x) + x o(x^2), Q(x) = P(-x) = E(x) - x o(x^2), with
#: E(x) = 1 + x^2 (5/44) + x^4 / 792 + x^6 / 665280 and o(u) = 1/2 + u / 66 + u^2 / 15840
_PADE_E = (1.0 / 665280.0, 1.0 / 792.0, 5.0 / 44.0)
_PADE_O = (1.0 / 15840.0, 1.0 / 66.0)


@njit(cache=True, error_model="numpy", inline="always")
def relax(v, num, x, k2):
    """The exponential-Euler membrane update for ``|x| <= PADE_MAX``, as one rational expression.

    ``v_new = v_inf + (v - v_inf) R(x)`` with ``R = P / Q`` the [6/6] Padé approximant of ``exp``,
    ``v_inf = num / g_tot`` and ``x = g_tot k`` (``k = -dt / C``, ``k2 = 2 k``).  Since
    ``Q - P = -2 x o(x^2)`` and ``v_inf x = num k``, this is ``(v P - k2 num o) / Q``: one division,
    no ``exp``.  Relative error of ``R`` against ``exp`` below 2e-13 for ``|x| <= 1``.
    """
    x2 = x * x
    e = ((x2 * _PADE_E[0] + _PADE_E[1]) * x2 + _PADE_E[2]) * x2 + 1.0
    o = (x2 * _PADE_O[0] + _PADE_O[1]) * x2 + 0.5
    xo = x * o
    return (v * (e + xo) - (k2 * num) * o) / (e - xo)


@njit(cache=True, error_model="numpy", inline="always")
def euler_v(v, ge, gi, gl, vrest, ee, ei, ib, dtc):
    """The forward-Euler membrane update: ``v + dt/C (g_L (v_rest - v) + g_e (E_e - v) + g_i (E_i - v) + i_b)``
    (``dtc = dt / C``)."""
    return v + dtc * (gl * (vrest - v) + ge * (ee - v) + gi * (ei - v) + ib)


@njit(cache=True, error_model="numpy", inline="always")
def cond_step_scalar(gc, g, v, ge, gi, a, ib, ref):
    """One exponential-Euler step of a conductance-based LIF neuron on scalars: (v, ge, gi, a, ref).

    ``v`` relaxes exactly towards the momentary equilibrium with the
    conductances of the step start (:func:`relax`, or :func:`cond_decay` for ``|x| > PADE_MAX``);
    the conductances then decay exactly.
    """
    if ref > 0:
        ref -= 1
    else:
        gtot = gc[g, C_GL] + ge + gi
        k = -gc[g, C_DT] / gc[g, C_CM]
        x = gtot * k
        num = gc[g, C_GL] * gc[g, C_VREST] + ge * gc[g, C_EE] + gi * gc[g, C_EI] + ib
        if abs(x) > PADE_MAX:
            vinf = num / gtot
            v = vinf + (v - vinf) * cond_decay(x)
        else:
            v = relax(v, num, x, 2.0 * k)
    return v, ge * gc[g, C_PE], gi * gc[g, C_PI], a * gc[g, C_PA], np.int64(ref)


@njit(cache=True, error_model="numpy", inline="always")
def cond_step_one(gc, g, j, v, ge, gi, a, ib, ref):
    """:func:`cond_step_scalar` of neuron ``j``, in place."""
    v[j], ge[j], gi[j], a[j], ref[j] = cond_step_scalar(gc, g, v[j], ge[j], gi[j], a[j], ib[j], ref[j])


@njit(cache=True, error_model="numpy", _nrt=False)  # no reference counting: see kernel/__init__.py
def cond_step_range(gc, g, lo, hi, v, ge, gi, a, ib, ref, fired, ref_steps, scratch, be, bi):
    """:func:`cond_step_one` plus threshold and reset for neurons ``lo..hi-1`` of group ``g``.

    Same contract as :func:`memr_snn.kernel.models.lif.lif_step_range` (delivery of ``be``/``bi``
    fused); same arithmetic as delivery, :func:`cond_step_one` and the threshold test.  One
    vectorised, branch-free pass; a neuron with ``|x| > PADE_MAX`` (rare: a total conductance above
    ``C / dt``) keeps its state there, with its input delivered and its refractory count ``r`` marked
    as ``-1 - r`` (the counts of conductance-based neurons are >= 0: the kernel keeps them so and
    checkpoints are validated), and is stepped by :func:`cond_step_scalar` in a second pass that runs
    only if there is one.  ``scratch`` is not used.
    """
    gl, vrest, ee, ei = gc[g, C_GL], gc[g, C_VREST], gc[g, C_EE], gc[g, C_EI]
    k = -gc[g, C_DT] / gc[g, C_CM]
    k2 = 2.0 * k
    pe, pi = gc[g, C_PE], gc[g, C_PI]
    vth, vreset = gc[g, C_VTH], gc[g, C_VRESET]
    glvr = gl * vrest
    rnew = ref_steps - 1 if ref_steps > 1 else 0
    count = 0
    n_far = 0
    v_, ge_, gi_, ib_ = v[lo:hi], ge[lo:hi], gi[lo:hi], ib[lo:hi]
    ref_, fired_, be_, bi_ = ref[lo:hi], fired[lo:hi], be[lo:hi], bi[lo:hi]
    # Conductance-based neurons have no adaptation (p_a = 1, beta = 0): ``a`` is
    # left untouched and the threshold is v_threshold.
    for j in range(hi - lo):
        e = ge_[j] + be_[j]
        i = gi_[j] + bi_[j]
        be_[j] = 0.0
        bi_[j] = 0.0
        vj = v_[j]
        rj = ref_[j]
        gtot = gl + e + i
        x = gtot * k
        far = abs(x) > PADE_MAX
        vn = relax(vj, glvr + e * ee + i * ei + ib_[j], x, k2)
        vn = vn if rj <= 0 else vj
        f = (vn > vth) & (not far)
        v_[j] = vreset if f else (vj if far else vn)
        ge_[j] = e if far else e * pe
        gi_[j] = i if far else i * pi
        ref_[j] = rnew if f else (-1 - rj if far else (rj - 1 if rj > 0 else rj))
        fired_[j] = f
        count += f
        n_far += far
    if n_far > 0:  # rare: huge conductances, the exponential via cond_decay
        for j in range(hi - lo):
            if ref_[j] < 0:  # marked: -1 - ref
                vn, ge_[j], gi_[j], _, rj = cond_step_scalar(gc, g, v_[j], ge_[j], gi_[j], 0.0, ib_[j], -1 - ref_[j])
                f = vn > vth
                v_[j] = vreset if f else vn
                ref_[j] = rnew if f else rj
                fired_[j] = f
                count += f
    return count


# ------------------------------------------------------------------------------ forward Euler
# Integrated as a model of its own (type code T_COND_EULER, plug-in :mod:`.cond_euler`), so that a network
# compiles only the method it uses.

def variant(p: dict):
    """The plug-in integrating the groups ``p`` (``p["integration"]``): this module, or :mod:`.cond_euler`."""
    if p.get("integration", "exp_euler") == "euler":
        from . import cond_euler

        return cond_euler
    return sys.modules[__name__]


@njit(cache=True, error_model="numpy", inline="always")
def euler_step_scalar(gc, g, v, ge, gi, a, ib, ref):
    """One forward-Euler step on scalars: (v, ge, gi, a, ref): :func:`euler_v` (``v`` held while
    refractory), then the conductances decay by ``C_PE``/``C_PI`` (``1 - dt/tau_syn``)."""
    if ref > 0:
        ref -= 1
    else:
        v = euler_v(v, ge, gi, gc[g, C_GL], gc[g, C_VREST], gc[g, C_EE], gc[g, C_EI], ib, gc[g, C_DT] / gc[g, C_CM])
    return v, ge * gc[g, C_PE], gi * gc[g, C_PI], a * gc[g, C_PA], np.int64(ref)


@njit(cache=True, error_model="numpy", _nrt=False)  # no reference counting: see kernel/__init__.py
def euler_step_range(gc, g, lo, hi, v, ge, gi, a, ib, ref, fired, ref_steps, be, bi):
    """:func:`euler_step_scalar` plus threshold and reset for neurons ``lo..hi-1`` of group ``g``, delivery of
    ``be``/``bi`` fused (the contract of :func:`cond_step_range`); one vectorised pass, the same arithmetic."""
    gl, vrest, ee, ei = gc[g, C_GL], gc[g, C_VREST], gc[g, C_EE], gc[g, C_EI]
    dtc = gc[g, C_DT] / gc[g, C_CM]
    pe, pi = gc[g, C_PE], gc[g, C_PI]
    vth, vreset = gc[g, C_VTH], gc[g, C_VRESET]
    rnew = ref_steps - 1 if ref_steps > 1 else 0
    count = 0
    v_, ge_, gi_, ib_ = v[lo:hi], ge[lo:hi], gi[lo:hi], ib[lo:hi]
    ref_, fired_, be_, bi_ = ref[lo:hi], fired[lo:hi], be[lo:hi], bi[lo:hi]
    for j in range(hi - lo):
        e = ge_[j] + be_[j]
        i = gi_[j] + bi_[j]
        be_[j] = 0.0
        bi_[j] = 0.0
        vj = v_[j]
        rj = ref_[j]
        vn = euler_v(vj, e, i, gl, vrest, ee, ei, ib_[j], dtc)
        vn = vn if rj <= 0 else vj
        f = vn > vth
        v_[j] = vreset if f else vn
        ge_[j] = e * pe
        gi_[j] = i * pi
        ref_[j] = rnew if f else (rj - 1 if rj > 0 else rj)
        fired_[j] = f
        count += f
    return count


# ------------------------------------------------------------------------------ the plug-in interface
@njit(cache=True, error_model="numpy", inline="always")
def step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
    """One step of neuron ``j`` with threshold and reset; returns the new spike count."""
    cond_step_one(gc, g, j, v, se, si, a, ib, ref)
    return fire(j, g, gc, gi, v, a, ref, spikes, nspk, 0.0)


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref):
    """:func:`step_fire_one` on scalars: (v, se, si, a, ref, fired); the same arithmetic."""
    v, se, si, a, ref = cond_step_scalar(gc, g, v, se, si, a, ib, ref)
    v, a, ref, f = fire_scalar(g, gc, gi, v, a, ref, 0.0)
    return v, se, si, a, ref, f


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
    """Neurons ``lo..hi-1`` of group ``g``, delivery of ``be``/``bi`` fused; flags in ``fired``, returns the count."""
    return cond_step_range(gc, g, lo, hi, v, se, si, a, ib, ref, fired, gi[g, I_REF], scratch, be, bi)


@njit(cache=True, error_model="numpy", inline="always")
def advance(gc, g, k, v, se, si, a, ib, ref):
    """Never idle: the state is always current, nothing to advance."""
    return v, se, si, a, ref


@njit(cache=True, error_model="numpy", inline="always")
def can_idle(gc, g, v, se, si, ib):
    """Never idle."""
    return False
