"""Neuron parameter sets -> rows of the kernel coefficient tables.

Parameters are grouped here (one row per distinct parameter set); the step constants
(``exp(-dt/tau)`` and the exact propagator couplings) are computed, once, outside the
kernels, by the ``pack`` of the neuron's model plug-in (:mod:`memr_snn.kernel.models`,
which also holds the equations these numbers implement).
"""

from __future__ import annotations

import numpy as np

from ..kernel import layout as L
from ..kernel import models as KM
from ..kernel.models.lif import psp_peak
from ..neurons import NeuronParams

__all__ = ["neuron_type", "kernel_model", "group_tables", "psp_peak", "plasticity_row"]


def kernel_model(params: NeuronParams):
    """The kernel model plug-in (a module of :mod:`memr_snn.kernel.models`) that integrates ``params``.

    Looked up by the ``model`` name of the parameter class, else of its nearest base class with a
    registered model (a subclass of ``LIFParams`` that registers its own name is integrated as LIF).
    """
    model = KM.model_named(getattr(klass, "model", "") for klass in type(params).__mro__)
    if model is None:
        raise TypeError(f"no kernel for neuron model {type(params).__name__}")
    return model


def neuron_type(params: NeuronParams) -> int:
    """The kernel type code (``gi[g, I_TYPE]``) of ``params``'s model (with its options: forward-Euler
    ``LIFCondParams`` are ``T_COND_EULER``)."""
    model = kernel_model(params)
    if hasattr(model, "variant"):
        model = model.variant({f: getattr(params, f) for f in params.option_names()})
    return model.TYPE


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
    cols = params.broadcast(n)
    # distinct parameter rows -> groups (i_bias is state, not a group parameter; options are the population's)
    keys = [f for f in params.numeric_names() if f != "i_bias"]
    per_neuron = [f for f in keys if isinstance(getattr(params, f), np.ndarray)]
    if not per_neuron:  # homogeneous population: one group, no sorting
        uniq = np.array([[cols[f][0] for f in keys]])
        group = np.zeros(n, dtype=np.int64)
    else:
        mat = np.stack([cols[f] for f in keys], axis=1)
        uniq, group = np.unique(mat, axis=0, return_inverse=True)
    group = np.asarray(group, dtype=np.int64).ravel()
    p = {f: uniq[:, k] for k, f in enumerate(keys)}
    p.update({f: getattr(params, f) for f in params.option_names()})  # options: one string for every group
    g = uniq.shape[0]
    model = kernel_model(params)
    if hasattr(model, "variant"):  # a model integrated by another plug-in for some options (cond: forward Euler)
        model = model.variant(p)
    gc = np.zeros((g, L.N_COEF))
    gi = np.zeros((g, L.N_ICOEF), dtype=np.int64)
    model.pack(gc, p, dt)
    gi[:, L.I_TYPE] = model.TYPE
    gi[:, L.I_REF] = _ref_steps(p["t_ref"], dt, type(params).__name__)
    _check_finite_rows(gc, params, dt)
    return gc, gi, group


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
