"""The adaptive LIF neuron (ALIF): the LIF of :mod:`.lif` with a decaying threshold adaptation.

The threshold is ``v_threshold + beta * a``; ``a`` decays with ``tau_adapt`` and grows by 1 per
spike.  Still linear, so it shares the LIF step, closed-form advance and idle test (the adaptive
threshold is never below ``v_threshold``).  A neuron-model plug-in (:mod:`memr_snn.kernel.models`).
"""

import numpy as np
from numba import njit

from ..layout import C_BETA, C_LPA, C_PA, I_REF, T_ALIF
from .lif import (
    fire,
    fire_scalar,
    lif_advance,
    lif_can_idle,
    lif_step_one,
    lif_step_range,
    lif_step_scalar,
    pack_linear,
)

__all__ = ["TYPE", "NAME", "LAZY", "pack", "step_fire_one", "step_fire_scalar", "step_fire_range", "advance",
           "can_idle"]

TYPE = T_ALIF
NAME = "alif"
LAZY = True


def pack(gc: np.ndarray, p: dict, dt: float) -> None:
    """Coefficient rows of ALIF groups: the LIF columns plus the adaptation's decay and weight."""
    pack_linear(gc, p, dt)
    gc[:, C_LPA] = -dt / p["tau_adapt"]
    gc[:, C_PA] = np.exp(-dt / p["tau_adapt"])
    gc[:, C_BETA] = p["beta_adapt"]


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
    """One step of neuron ``j`` with threshold, reset and the adaptation jump; returns the new spike count."""
    lif_step_one(gc, g, j, v, se, si, a, ib, ref)
    return fire(j, g, gc, gi, v, a, ref, spikes, nspk, 1.0)


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref):
    """:func:`step_fire_one` on scalars: (v, se, si, a, ref, fired); the same arithmetic."""
    v, se, si, a, ref = lif_step_scalar(gc, g, v, se, si, a, ib, ref)
    v, a, ref, f = fire_scalar(g, gc, gi, v, a, ref, 1.0)
    return v, se, si, a, ref, f


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
    """Neurons ``lo..hi-1`` of group ``g``, delivery of ``be``/``bi`` fused; flags in ``fired``, returns the count."""
    return lif_step_range(gc, g, lo, hi, v, se, si, a, ib, ref, fired, gi[g, I_REF], 1.0, be, bi)


@njit(cache=True, error_model="numpy", inline="always")
def advance(gc, g, k, v, se, si, a, ib, ref):
    """``k`` input-free steps in closed form (the LIF's, with the adaptation decaying)."""
    return lif_advance(gc, g, k, v, se, si, a, ib, ref)


@njit(cache=True, error_model="numpy", inline="always")
def can_idle(gc, g, v, se, si, ib):
    """The LIF idle test (valid: the adaptive threshold is never below ``v_threshold``)."""
    return lif_can_idle(gc, g, v, se, si, ib)
