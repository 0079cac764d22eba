"""The conductance-based LIF neuron: exponential-Euler step (clock-driven, never idle).

``v`` relaxes exactly towards the momentary equilibrium with the conductances of the step
start; the conductances then decay exactly.  The relaxation factor uses :func:`exp_neg`, a
polynomial ``exp`` with plain arithmetic, so the range loop vectorises.  A neuron-model
plug-in (:mod:`memr_snn.kernel.models`).
"""

import math

import numpy as np
from numba import njit

from ..layout import C_CM, C_DT, C_EE, C_EI, C_GL, C_PA, C_PE, C_PI, C_VRESET, C_VREST, C_VTH, I_REF, T_COND
from .lif import fire, fire_scalar, pack_linear

__all__ = [
    "TYPE", "NAME", "LAZY", "pack", "exp_neg", "cond_decay", "EXP_NEG_MIN", "cond_step_scalar", "cond_step_one",
    "cond_step_range", "step_fire_one", "step_fire_scalar", "step_fire_range", "advance", "can_idle",
]

TYPE = T_COND
NAME = "lif_cond"
#: clock-driven: never idles (its update is not linear in the state)
LAZY = False


def pack(gc: np.ndarray, p: dict, dt: float) -> None:
    """Coefficient rows of conductance-based LIF groups: the LIF columns plus the reversal potentials."""
    pack_linear(gc, p, dt)
    gc[:, C_EE] = p["e_rev_e"]
    gc[:, C_EI] = p["e_rev_i"]


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


@njit(cache=True, error_model="numpy", inline="always")
def cond_step_scalar(gc, g, v, ge, gi, a, ib, ref):
    """One exponential-Euler step of a conductance-based LIF neuron on scalars: (v, ge, gi, a, ref).

    ``v`` relaxes exactly towards the momentary equilibrium with the
    conductances of the step start; the conductances then decay exactly.
    """
    if ref > 0:
        ref -= 1
    else:
        gtot = gc[g, C_GL] + ge + gi
        vinf = (gc[g, C_GL] * gc[g, C_VREST] + ge * gc[g, C_EE] + gi * gc[g, C_EI] + ib) / gtot
        v = vinf + (v - vinf) * cond_decay(gtot * (-gc[g, C_DT] / gc[g, C_CM]))
    return v, ge * gc[g, C_PE], gi * gc[g, C_PI], a * gc[g, C_PA], np.int64(ref)


@njit(cache=True, error_model="numpy", inline="always")
def cond_step_one(gc, g, j, v, ge, gi, a, ib, ref):
    """:func:`cond_step_scalar` of neuron ``j``, in place."""
    v[j], ge[j], gi[j], a[j], ref[j] = cond_step_scalar(gc, g, v[j], ge[j], gi[j], a[j], ib[j], ref[j])


@njit(cache=True, error_model="numpy")
def cond_step_range(gc, g, lo, hi, v, ge, gi, a, ib, ref, fired, ref_steps, scratch, be, bi):
    """:func:`cond_step_one` plus threshold and reset for neurons ``lo..hi-1`` of group ``g``.

    Same contract as :func:`memr_snn.kernel.models.lif.lif_step_range` (delivery of ``be``/``bi``
    fused); same arithmetic as delivery, :func:`cond_step_one` and the threshold test.
    """
    gl, vrest, ee, ei = gc[g, C_GL], gc[g, C_VREST], gc[g, C_EE], gc[g, C_EI]
    k = -gc[g, C_DT] / gc[g, C_CM]
    pe, pi = gc[g, C_PE], gc[g, C_PI]
    vth, vreset = gc[g, C_VTH], gc[g, C_VRESET]
    glvr = gl * vrest
    rnew = ref_steps - 1 if ref_steps > 1 else 0
    count = 0
    v_, ge_, gi_, ib_ = v[lo:hi], ge[lo:hi], gi[lo:hi], ib[lo:hi]
    ref_, fired_, be_, bi_ = ref[lo:hi], fired[lo:hi], be[lo:hi], bi[lo:hi]
    n = hi - lo
    # Conductance-based neurons have no adaptation (p_a = 1, beta = 0): ``a`` is
    # left untouched and the threshold is v_threshold.
    # pass 1 (vectorised): deliver, and find whether any relaxation argument lies
    # below EXP_NEG_MIN, where the polynomial exp does not apply
    n_far = 0
    for j in range(n):
        ge_[j] += be_[j]
        gi_[j] += bi_[j]
        be_[j] = 0.0
        bi_[j] = 0.0
        n_far += (gl + ge_[j] + gi_[j]) * k < EXP_NEG_MIN
    decay = scratch[lo:hi]
    if n_far > 0:  # rare: huge conductances; factors first, math.exp where needed
        for j in range(n):
            x = (gl + ge_[j] + gi_[j]) * k
            decay[j] = math.exp(x) if x < EXP_NEG_MIN else exp_neg(x)
    # pass 2 (vectorised): relax, decay, threshold, reset
    for j in range(n):
        rj = ref_[j]
        gtot = gl + ge_[j] + gi_[j]
        vinf = (glvr + ge_[j] * ee + gi_[j] * ei + ib_[j]) / gtot
        dec = decay[j] if n_far > 0 else exp_neg(gtot * k)
        vn = vinf + (v_[j] - vinf) * dec
        vn = vn if rj <= 0 else v_[j]
        rj = rj - 1 if rj > 0 else rj
        ge_[j] *= pe
        gi_[j] *= pi
        f = vn > vth
        v_[j] = vreset if f else vn
        ref_[j] = rnew if f else rj
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
