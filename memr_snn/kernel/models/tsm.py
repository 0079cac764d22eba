"""The threshold-switching-memristor (TSM) neuron: two linear phases, clock-driven, never idle.

A capacitor charged through a volatile threshold switch: OFF (``r_off``) until ``v`` exceeds
``v_th + k_mod * c``, then ON (``r_on``, the spike's falling phase) until ``v`` drops below
``v_hold``.  Each phase is linear, so a step is the LIF propagator with ``tau = R C`` of the
phase.  The phase lives in the per-neuron ``ref`` counter (:mod:`memr_snn.kernel.layout`).
See :mod:`memr_snn.neurons.tsm_neuron`.  A neuron-model plug-in (:mod:`memr_snn.kernel.models`).
"""

import numpy as np
from numba import njit

from ..layout import (
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
    I_REF,
    T_TSM,
)
from .lif import coupling_one_step, psp_peak

__all__ = [
    "TYPE", "NAME", "LAZY", "pack", "tsm_step_scalar", "tsm_step_one", "tsm_step_range",
    "step_fire_one", "step_fire_scalar", "step_fire_range", "advance", "can_idle",
]

TYPE = T_TSM
NAME = "tsm"
#: clock-driven: never idles (the phase switches are not captured by a closed form)
LAZY = False


def pack(gc: np.ndarray, p: dict, dt: float) -> None:
    """Coefficient rows of TSM groups.

    The OFF phase fills the LIF columns with ``tau_mem = r_off c_mem`` (so the
    LIF one-step propagator applies), the ON phase its own ``*_ON`` columns with
    ``tau_on = r_on c_mem``; ``C_BETA`` holds ``k_mod`` so that
    :func:`memr_snn.kernel.models.lif.threshold_of` gives ``v_th + k_mod c``.
    """
    cm, te, ti = p["c_mem"], p["tau_syn_e"], p["tau_syn_i"]
    r_off, r_on = p["r_off"], p["r_on"]
    t_off, t_on = r_off * cm, r_on * cm
    gc[:, C_LPM], gc[:, C_LPE], gc[:, C_LPI] = -dt / t_off, -dt / te, -dt / ti
    gc[:, C_PM], gc[:, C_PE], gc[:, C_PI] = np.exp(-dt / t_off), np.exp(-dt / te), np.exp(-dt / ti)
    gc[:, C_PA], gc[:, C_LPA] = 1.0, 0.0  # the modulator concentration does not decay
    gc[:, C_BETA] = p["k_mod"]
    gc[:, C_R] = r_off
    gc[:, C_VREST] = p["v_rest"]
    gc[:, C_VRESET] = p["v_hold"]  # unused by the TSM kernel (no reset)
    gc[:, C_VTH] = p["v_th"]
    gc[:, C_DE], gc[:, C_CE1] = coupling_one_step(r_off, te, t_off, dt)
    gc[:, C_DI], gc[:, C_CI1] = coupling_one_step(r_off, ti, t_off, dt)
    gc[:, C_DTTM] = dt / t_off
    gc[:, C_KE] = r_off * psp_peak(te, t_off) * (1 + 1e-6)  # never idled: informational
    gc[:, C_KI] = r_off * psp_peak(ti, t_off) * (1 + 1e-6)
    gc[:, C_GL] = 1.0 / r_off
    gc[:, C_CM] = cm
    gc[:, C_DT] = dt
    gc[:, C_PM_ON] = np.exp(-dt / t_on)
    _, gc[:, C_CE1_ON] = coupling_one_step(r_on, te, t_on, dt)
    _, gc[:, C_CI1_ON] = coupling_one_step(r_on, ti, t_on, dt)
    gc[:, C_R_ON] = r_on
    gc[:, C_VHOLD] = p["v_hold"]


@njit(cache=True, error_model="numpy", inline="always")
def tsm_step_scalar(gc, g, v, se, si, a, ib, ref, ref_steps):
    """One clock step of a threshold-switching-memristor neuron on scalars, phase switches included:
    (v, se, si, ref, switched_on).

    ``switched_on`` is True when the device switched OFF -> ON in this step (the spike).
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
    on = ref < 0
    pm = gc[g, C_PM_ON] if on else gc[g, C_PM]
    ce = gc[g, C_CE1_ON] if on else gc[g, C_CE1]
    ci = gc[g, C_CI1_ON] if on else gc[g, C_CI1]
    r = gc[g, C_R_ON] if on else gc[g, C_R]
    vinf = gc[g, C_VREST] + r * ib
    vn = vinf + (v - vinf) * pm + se * ce + si * ci
    se = se * gc[g, C_PE]
    si = si * gc[g, C_PI]
    if on:
        if vn < gc[g, C_VHOLD]:
            return vn, se, si, np.int64(ref_steps), False
        return vn, se, si, np.int64(ref), False
    if ref > 0:
        return vn, se, si, np.int64(ref - 1), False
    if vn > gc[g, C_VTH] + gc[g, C_BETA] * a:
        return vn, se, si, np.int64(-1), True
    return vn, se, si, np.int64(ref), False


@njit(cache=True, error_model="numpy", inline="always")
def tsm_step_one(gc, g, j, v, se, si, a, ib, ref, ref_steps):
    """:func:`tsm_step_scalar` of neuron ``j``, in place; returns True when it switched ON (the spike)."""
    v[j], se[j], si[j], ref[j], on = tsm_step_scalar(gc, g, v[j], se[j], si[j], a[j], ib[j], ref[j], ref_steps)
    return on


@njit(cache=True, error_model="numpy", _nrt=False)  # no reference counting: see kernel/__init__.py
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


# ------------------------------------------------------------------------------ the plug-in interface
@njit(cache=True, error_model="numpy", inline="always")
def step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
    """One step of neuron ``j``; no threshold/reset (the phase logic is in the step); returns the new count."""
    if tsm_step_one(gc, g, j, v, se, si, a, ib, ref, gi[g, I_REF]):
        spikes[nspk] = j
        nspk += 1
    return nspk


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref):
    """:func:`step_fire_one` on scalars: (v, se, si, a, ref, fired); the same arithmetic."""
    v, se, si, ref, on = tsm_step_scalar(gc, g, v, se, si, a, ib, ref, gi[g, I_REF])
    return v, se, si, a, ref, on


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
    """Neurons ``lo..hi-1`` of group ``g``, delivery of ``be``/``bi`` fused; flags in ``fired``, returns the count."""
    return tsm_step_range(gc, g, lo, hi, v, se, si, a, ib, ref, fired, gi[g, I_REF], be, bi)


@njit(cache=True, error_model="numpy", inline="always")
def advance(gc, g, k, v, se, si, a, ib, ref):
    """Never idle: the state is always current, nothing to advance."""
    return v, se, si, a, ref


@njit(cache=True, error_model="numpy", inline="always")
def can_idle(gc, g, v, se, si, ib):
    """Never idle."""
    return False
