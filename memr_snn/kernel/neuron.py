"""Per-neuron update kernels: one clock step, k-step closed form, idle test.

Functions take the group coefficient table ``gc`` (see
:mod:`memr_snn.kernel.layout`) and a group index ``g`` and read ``gc[g, C_*]``
directly (no row views: a view costs a reference-count round trip per call).
Exact integration of the linear (current-based) model, for ``k`` steps with no
input:

.. math::

    v_{k} = v_\\infty + (v_0 - v_\\infty) p_m^k + i_{e,0} E(k) + i_{i,0} I(k),
    \\qquad v_\\infty = v_{rest} + R\\, i_{bias}

    E(k) = R \\frac{\\tau_e}{\\tau_e - \\tau_m}\\,(p_e^k - p_m^k)
    \\quad(\\tau_e \\ne \\tau_m), \\qquad
    E(k) = R\\, \\frac{k\\,dt}{\\tau_m}\\, p_m^k \\quad(\\tau_e = \\tau_m)

with :math:`p_x = e^{-dt/\\tau_x}` and :math:`R = \\tau_m / C`.  One clock step
uses the same formula with k = 1 and precomputed ``E(1)``, ``I(1)``.
"""

import math

from numba import njit

from .layout import (
    C_BETA,
    C_CE1,
    C_CE1_ON,
    C_CI1,
    C_CI1_ON,
    C_CM,
    C_DE,
    C_DI,
    C_DT,
    C_DTTM,
    C_EE,
    C_EI,
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
    C_PM_ON,
    C_R,
    C_R_ON,
    C_VHOLD,
    C_VRESET,
    C_VREST,
    C_VTH,
    IDLE_MARGIN,
)

__all__ = [
    "lif_step_one", "cond_step_one", "lif_step_range", "cond_step_range",
    "lif_advance", "lif_can_idle", "threshold_of", "exp_neg", "cond_decay", "EXP_NEG_MIN",
    "tsm_step_one", "tsm_step_range",
]


@njit(cache=True, error_model="numpy", inline="always")
def lif_step_one(gc, g, j, v, se, si, a, ib, ref):
    """One clock step of current-based (A)LIF neuron ``j`` (group ``g``), in place.

    Refractory neurons keep ``v`` (which holds ``v_reset``) and count ``ref``
    down; synaptic currents and adaptation decay regardless.  No threshold here.
    """
    if ref[j] > 0:
        ref[j] -= 1
    else:
        vinf = gc[g, C_VREST] + gc[g, C_R] * ib[j]
        v[j] = vinf + (v[j] - vinf) * gc[g, C_PM] + se[j] * gc[g, C_CE1] + si[j] * gc[g, C_CI1]
    se[j] *= gc[g, C_PE]
    si[j] *= gc[g, C_PI]
    a[j] *= gc[g, C_PA]


@njit(cache=True, error_model="numpy")
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
    """
    vrest, r, pm = gc[g, C_VREST], gc[g, C_R], gc[g, C_PM]
    ce, ci = gc[g, C_CE1], gc[g, C_CI1]
    pe, pi, pa = gc[g, C_PE], gc[g, C_PI], gc[g, C_PA]
    vth, beta, vreset = gc[g, C_VTH], gc[g, C_BETA], gc[g, C_VRESET]
    rnew = ref_steps - 1 if ref_steps > 1 else 0
    count = 0
    # Work on views starting at 0: numba then proves indices non-negative and
    # drops its wraparound checks, which is what lets the loop vectorise.
    v_, se_, si_, a_, ib_ = v[lo:hi], se[lo:hi], si[lo:hi], a[lo:hi], ib[lo:hi]
    ref_, fired_, be_, bi_ = ref[lo:hi], fired[lo:hi], be[lo:hi], bi[lo:hi]
    if a_jump == 0.0 and pa == 1.0 and beta == 0.0:
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
def cond_step_one(gc, g, j, v, ge, gi, a, ib, ref):
    """One exponential-Euler step of conductance-based LIF neuron ``j``, in place.

    ``v`` relaxes exactly towards the momentary equilibrium with the
    conductances of the step start; the conductances then decay exactly.
    """
    if ref[j] > 0:
        ref[j] -= 1
    else:
        gtot = gc[g, C_GL] + ge[j] + gi[j]
        vinf = (gc[g, C_GL] * gc[g, C_VREST] + ge[j] * gc[g, C_EE] + gi[j] * gc[g, C_EI] + ib[j]) / gtot
        v[j] = vinf + (v[j] - vinf) * cond_decay(gtot * (-gc[g, C_DT] / gc[g, C_CM]))
    ge[j] *= gc[g, C_PE]
    gi[j] *= gc[g, C_PI]
    a[j] *= gc[g, C_PA]


@njit(cache=True, error_model="numpy")
def cond_step_range(gc, g, lo, hi, v, ge, gi, a, ib, ref, fired, ref_steps, scratch, be, bi):
    """:func:`cond_step_one` plus threshold and reset for neurons ``lo..hi-1`` of group ``g``.

    Same contract as :func:`lif_step_range` (delivery of ``be``/``bi`` fused);
    same arithmetic as delivery, :func:`cond_step_one` and the threshold test.
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
    m = min(ref, k)
    if m > 0:
        se = se * math.exp(m * gc[g, C_LPE])
        si = si * math.exp(m * gc[g, C_LPI])
        ref -= m
    kf = k - m
    if kf > 0:
        vinf = gc[g, C_VREST] + gc[g, C_R] * ib
        v = (
            vinf
            + (v - vinf) * math.exp(kf * gc[g, C_LPM])
            + se * _coupling(gc[g, C_DE], gc[g, C_LPM], gc[g, C_LPE], kf, gc[g, C_DTTM], gc[g, C_R])
            + si * _coupling(gc[g, C_DI], gc[g, C_LPM], gc[g, C_LPI], kf, gc[g, C_DTTM], gc[g, C_R])
        )
        se = se * math.exp(kf * gc[g, C_LPE])
        si = si * math.exp(kf * gc[g, C_LPI])
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
def tsm_step_one(gc, g, j, v, se, si, a, ib, ref, ref_steps):
    """One clock step of threshold-switching-memristor neuron ``j``, phase switches included.

    Returns True when the device switched OFF -> ON in this step (the spike).
    Within a step the phase is fixed and the circuit is linear, so ``v`` moves by
    the exact propagator of that phase (the LIF formula with ``tau = R C``, R the
    device resistance of the phase).  At the end of the step: an ON device whose
    ``v`` fell below ``v_hold`` turns OFF and starts ``I_REF`` refractory steps
    (``ref = ref_steps``); an OFF device
    counts its refractory steps down, or, when ready (``ref == 0``), switches ON
    if ``v > v_th + k_mod * c`` (``c`` in ``a``, never changed here).  ``v`` is not
    reset: the ON phase discharges the capacitor.  See
    :mod:`memr_snn.neurons.tsm_neuron`; ``ref`` encoding in :mod:`memr_snn.kernel.layout`.
    Same arithmetic, in the same order, as :func:`tsm_step_range`.
    """
    rj = ref[j]
    on = rj < 0
    pm = gc[g, C_PM_ON] if on else gc[g, C_PM]
    ce = gc[g, C_CE1_ON] if on else gc[g, C_CE1]
    ci = gc[g, C_CI1_ON] if on else gc[g, C_CI1]
    r = gc[g, C_R_ON] if on else gc[g, C_R]
    vinf = gc[g, C_VREST] + r * ib[j]
    vn = vinf + (v[j] - vinf) * pm + se[j] * ce + si[j] * ci
    v[j] = vn
    se[j] *= gc[g, C_PE]
    si[j] *= gc[g, C_PI]
    if on:
        if vn < gc[g, C_VHOLD]:
            ref[j] = ref_steps
        return False
    if rj > 0:
        ref[j] = rj - 1
        return False
    if vn > gc[g, C_VTH] + gc[g, C_BETA] * a[j]:
        ref[j] = -1
        return True
    return False


@njit(cache=True, error_model="numpy")
def tsm_step_range(gc, g, lo, hi, v, se, si, a, ib, ref, fired, ref_steps, be, bi):
    """:func:`tsm_step_one` for neurons ``lo..hi-1`` of group ``g``, delivery of ``be``/``bi`` fused.

    Same contract as :func:`lif_step_range`: ``fired[j]`` flags the OFF -> ON
    switches, the number of them is returned.
    """
    vrest, vth, kmod, vhold = gc[g, C_VREST], gc[g, C_VTH], gc[g, C_BETA], gc[g, C_VHOLD]
    pm0, ce0, ci0, r0 = gc[g, C_PM], gc[g, C_CE1], gc[g, C_CI1], gc[g, C_R]
    pm1, ce1, ci1, r1 = gc[g, C_PM_ON], gc[g, C_CE1_ON], gc[g, C_CI1_ON], gc[g, C_R_ON]
    pe, pi = gc[g, C_PE], gc[g, C_PI]
    count = 0
    v_, se_, si_, a_, ib_ = v[lo:hi], se[lo:hi], si[lo:hi], a[lo:hi], ib[lo:hi]
    ref_, fired_, be_, bi_ = ref[lo:hi], fired[lo:hi], be[lo:hi], bi[lo:hi]
    for j in range(hi - lo):
        sej = se_[j] + be_[j]
        sij = si_[j] + bi_[j]
        be_[j] = 0.0
        bi_[j] = 0.0
        rj = ref_[j]
        on = rj < 0
        pm = pm1 if on else pm0
        ce = ce1 if on else ce0
        ci = ci1 if on else ci0
        r = r1 if on else r0
        vinf = vrest + r * ib_[j]
        vn = vinf + (v_[j] - vinf) * pm + sej * ce + sij * ci
        v_[j] = vn
        se_[j] = sej * pe
        si_[j] = sij * pi
        f = (rj == 0) and (vn > vth + kmod * a_[j])
        off = on and (vn < vhold)
        if f:
            rj = -1
        elif off:
            rj = ref_steps
        elif rj > 0:
            rj = rj - 1
        ref_[j] = rj
        fired_[j] = f
        count += f
    return count
