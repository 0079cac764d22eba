"""Neuron parameter sets -> rows of the kernel coefficient tables.

Step constants (``exp(-dt/tau)`` and the exact propagator couplings) are computed
here, once, outside the kernels.  See :mod:`memr_snn.kernel.neuron` for the
equations these numbers implement.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..kernel import layout as L
from ..neurons import ALIFParams, LIFCondParams, LIFParams, NeuronParams, TSMNeuronParams

__all__ = ["neuron_type", "group_tables", "psp_peak", "plasticity_row"]


def neuron_type(params: NeuronParams) -> int:
    if isinstance(params, ALIFParams):
        return L.T_ALIF
    if isinstance(params, LIFCondParams):
        return L.T_COND
    if isinstance(params, LIFParams):
        return L.T_LIF
    if isinstance(params, TSMNeuronParams):
        return L.T_TSM
    raise TypeError(f"no kernel for neuron model {type(params).__name__}")


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


def _coupling_one_step(r, tau_s, tau_m, dt):
    """(d, E(1)) with ``d = dt (1/tau_m - 1/tau_s)`` and ``E(1) = R (dt/tau_m) (p_s - p_m) / d``.

    The same cancellation- and overflow-free form as :func:`memr_snn.kernel.neuron._coupling`:
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


#: Largest refractory period in steps: the per-neuron counter is int32 and TSM neurons use -1 for ON.
MAX_REF_STEPS = 2**31 - 2


def _ref_steps(t_ref: np.ndarray, dt: float, model: str) -> np.ndarray:
    """``round(t_ref / dt)`` as int64, refused (not wrapped) beyond the int32 refractory counter."""
    steps = np.asarray(t_ref, dtype=np.float64) / dt
    if steps.size and not (np.all(np.isfinite(steps)) and steps.max() <= MAX_REF_STEPS):
        flat = np.asarray(t_ref, dtype=np.float64).ravel()
        bad = float(flat[np.argmax(~np.isfinite(steps.ravel()) | (steps.ravel() > MAX_REF_STEPS))])
        raise ValueError(
            f"{model}: t_ref = {bad!r} s is {bad / dt:.4g} steps of dt = {dt!r} s; the refractory counter holds "
            f"at most {MAX_REF_STEPS} steps ({MAX_REF_STEPS * dt:.4g} s at this dt)"
        )
    return np.round(steps).astype(np.int64)


def _check_finite_rows(gc: np.ndarray, params: NeuronParams, dt: float) -> None:
    """Refuse parameter sets whose step constants are not finite numbers (extreme ratios to dt)."""
    if np.all(np.isfinite(gc)):
        return
    raise ValueError(
        f"{type(params).__name__}: the parameters give non-finite step coefficients at dt = {dt!r} s "
        f"(a time constant, capacitance or resistance too many orders of magnitude away from dt or from the "
        f"others for float64: tau_mem/c_mem and dt/tau must stay well below 1e300)"
    )


def group_tables(params: NeuronParams, n: int, dt: float):
    """Coefficient rows for a population.

    Returns
    -------
    gc : (n_groups, N_COEF) float64 ndarray
    gi : (n_groups, N_ICOEF) int64 ndarray
    group : (n,) int64 ndarray
        Group index (into ``gc``/``gi``) of each neuron.
    """
    fields = [f.name for f in dataclasses.fields(params)]
    cols = params.broadcast(n)
    # distinct parameter rows -> groups (i_bias is state, not a group parameter)
    keys = [f for f in fields if f != "i_bias"]
    per_neuron = [f for f in keys if isinstance(getattr(params, f), np.ndarray)]
    if not per_neuron:  # homogeneous population: one group, no sorting
        uniq = np.array([[cols[f][0] for f in keys]])
        group = np.zeros(n, dtype=np.int64)
    else:
        mat = np.stack([cols[f] for f in keys], axis=1)
        uniq, group = np.unique(mat, axis=0, return_inverse=True)
    group = np.asarray(group, dtype=np.int64).ravel()
    p = {f: uniq[:, k] for k, f in enumerate(keys)}
    g = uniq.shape[0]
    typ = neuron_type(params)
    gc = np.zeros((g, L.N_COEF))
    gi = np.zeros((g, L.N_ICOEF), dtype=np.int64)
    if typ == L.T_TSM:
        _tsm_rows(gc, gi, p, dt)
        _check_finite_rows(gc, params, dt)
        return gc, gi, group
    tm, cm = p["tau_mem"], p["c_mem"]
    te, ti = p["tau_syn_e"], p["tau_syn_i"]
    r = tm / cm
    gc[:, L.C_LPM], gc[:, L.C_LPE], gc[:, L.C_LPI] = -dt / tm, -dt / te, -dt / ti
    gc[:, L.C_PM], gc[:, L.C_PE], gc[:, L.C_PI] = np.exp(-dt / tm), np.exp(-dt / te), np.exp(-dt / ti)
    if typ == L.T_ALIF:
        gc[:, L.C_LPA] = -dt / p["tau_adapt"]
        gc[:, L.C_PA] = np.exp(-dt / p["tau_adapt"])
        gc[:, L.C_BETA] = p["beta_adapt"]
    else:
        gc[:, L.C_LPA] = 0.0
        gc[:, L.C_PA] = 1.0
        gc[:, L.C_BETA] = 0.0
    gc[:, L.C_R] = r
    gc[:, L.C_VREST] = p["v_rest"]
    gc[:, L.C_VRESET] = p["v_reset"]
    gc[:, L.C_VTH] = p["v_threshold"]
    gc[:, L.C_DE], gc[:, L.C_CE1] = _coupling_one_step(r, te, tm, dt)
    gc[:, L.C_DI], gc[:, L.C_CI1] = _coupling_one_step(r, ti, tm, dt)
    gc[:, L.C_DTTM] = dt / tm
    # the idle test needs an upper bound: pad the peak against its own rounding
    gc[:, L.C_KE] = r * psp_peak(te, tm) * (1 + 1e-6)
    gc[:, L.C_KI] = r * psp_peak(ti, tm) * (1 + 1e-6)
    gc[:, L.C_GL] = cm / tm
    gc[:, L.C_CM] = cm
    gc[:, L.C_DT] = dt
    if typ == L.T_COND:
        gc[:, L.C_EE] = p["e_rev_e"]
        gc[:, L.C_EI] = p["e_rev_i"]
    gi[:, L.I_TYPE] = typ
    gi[:, L.I_REF] = _ref_steps(p["t_ref"], dt, type(params).__name__)
    _check_finite_rows(gc, params, dt)
    return gc, gi, group


def _tsm_rows(gc, gi, p, dt):
    """Rows of threshold-switching-memristor neurons (see :mod:`memr_snn.neurons.tsm_neuron`).

    The OFF phase fills the LIF columns with ``tau_mem = r_off c_mem`` (so the
    LIF one-step propagator applies), the ON phase its own ``*_ON`` columns with
    ``tau_on = r_on c_mem``; ``C_BETA`` holds ``k_mod`` so that
    :func:`memr_snn.kernel.neuron.threshold_of` gives ``v_th + k_mod c``.
    """
    cm, te, ti = p["c_mem"], p["tau_syn_e"], p["tau_syn_i"]
    r_off, r_on = p["r_off"], p["r_on"]
    t_off, t_on = r_off * cm, r_on * cm
    gc[:, L.C_LPM], gc[:, L.C_LPE], gc[:, L.C_LPI] = -dt / t_off, -dt / te, -dt / ti
    gc[:, L.C_PM], gc[:, L.C_PE], gc[:, L.C_PI] = np.exp(-dt / t_off), np.exp(-dt / te), np.exp(-dt / ti)
    gc[:, L.C_PA], gc[:, L.C_LPA] = 1.0, 0.0  # the modulator concentration does not decay
    gc[:, L.C_BETA] = p["k_mod"]
    gc[:, L.C_R] = r_off
    gc[:, L.C_VREST] = p["v_rest"]
    gc[:, L.C_VRESET] = p["v_hold"]  # unused by the TSM kernel (no reset)
    gc[:, L.C_VTH] = p["v_th"]
    gc[:, L.C_DE], gc[:, L.C_CE1] = _coupling_one_step(r_off, te, t_off, dt)
    gc[:, L.C_DI], gc[:, L.C_CI1] = _coupling_one_step(r_off, ti, t_off, dt)
    gc[:, L.C_DTTM] = dt / t_off
    gc[:, L.C_KE] = r_off * psp_peak(te, t_off) * (1 + 1e-6)  # never idled: informational
    gc[:, L.C_KI] = r_off * psp_peak(ti, t_off) * (1 + 1e-6)
    gc[:, L.C_GL] = 1.0 / r_off
    gc[:, L.C_CM] = cm
    gc[:, L.C_DT] = dt
    gc[:, L.C_PM_ON] = np.exp(-dt / t_on)
    _, gc[:, L.C_CE1_ON] = _coupling_one_step(r_on, te, t_on, dt)
    _, gc[:, L.C_CI1_ON] = _coupling_one_step(r_on, ti, t_on, dt)
    gc[:, L.C_R_ON] = r_on
    gc[:, L.C_VHOLD] = p["v_hold"]
    gi[:, L.I_TYPE] = L.T_TSM
    gi[:, L.I_REF] = _ref_steps(p["t_ref"], dt, "TSMNeuronParams")


def input_tables():
    """The single group row used by spike sources (never integrated)."""
    gc = np.zeros((1, L.N_COEF))
    gi = np.zeros((1, L.N_ICOEF), dtype=np.int64)
    gi[0, L.I_TYPE] = L.T_INPUT
    return gc, gi


def _ld(tau: float, dt: float) -> float:
    return -dt / tau


def _pair_triplet_row(rule, dt: float, a2p: float, a3p: float, a2m: float, a3m: float, tau_x: float,
                      tau_y: float) -> tuple[np.ndarray, int, int]:
    from ..kernel import plasticity as K

    pf = np.zeros(K.N_PF)
    pf[K.PF_LDP], pf[K.PF_LDM] = _ld(rule.tau_plus, dt), _ld(rule.tau_minus, dt)
    pf[K.PF_LDX], pf[K.PF_LDY] = _ld(tau_x, dt), _ld(tau_y, dt)
    pf[K.PF_A2P], pf[K.PF_A3P], pf[K.PF_A2M], pf[K.PF_A3M] = a2p, a3p, a2m, a3m
    pf[K.PF_WMIN], pf[K.PF_WMAX] = rule.w_min, rule.w_max
    return pf, int(rule.dependence == "multiplicative"), int(rule.pairing == "nearest")


def plasticity_row(rule, dt: float) -> tuple[np.ndarray, int, int]:
    """The kernel's float row of a plasticity rule (:mod:`memr_snn.model.plasticity`), with its
    multiplicative and nearest-pairing flags (:mod:`memr_snn.kernel.plasticity` has the layout)."""
    from ..kernel import plasticity as K
    from ..model.plasticity import STDP, RewardSTDP, TripletSTDP

    if isinstance(rule, RewardSTDP):
        pf, mult, nearest = plasticity_row(rule.stdp, dt)
        pf[K.PF_LDE] = _ld(rule.tau_e, dt)
        pf[K.PF_LR] = rule.learning_rate
        return pf, mult, nearest
    if isinstance(rule, TripletSTDP):
        return _pair_triplet_row(rule, dt, rule.a2_plus, rule.a3_plus, rule.a2_minus, rule.a3_minus, rule.tau_x,
                                 rule.tau_y)
    if isinstance(rule, STDP):  # the triplet kernel with A3 = 0 (the slow traces then never matter)
        return _pair_triplet_row(rule, dt, rule.a_plus, 0.0, rule.a_minus, 0.0, rule.tau_plus, rule.tau_minus)
    raise TypeError(f"no kernel for plasticity rule {rule!r}")
