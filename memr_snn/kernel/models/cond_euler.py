"""The conductance-based LIF neuron integrated with forward Euler (``LIFCondParams(integration="euler")``).

A plug-in of its own (type code ``T_COND_EULER``) so that a network compiles only the method it uses;
its parameter class is :class:`memr_snn.LIFCondParams`, which :func:`memr_snn.kernel.models.cond.variant`
sends here when ``integration`` is ``"euler"``.  The kernels are in :mod:`.cond` (:func:`.cond.euler_v`,
:func:`.cond.euler_step_scalar`, :func:`.cond.euler_step_range`); clock-driven, never idle.
"""

from numba import njit

from ..layout import I_REF, T_COND_EULER
from .cond import advance, can_idle, euler_step_range, euler_step_scalar  # never idle, as exponential Euler
from .cond import pack as _cond_pack
from .lif import fire, fire_scalar

__all__ = ["TYPE", "NAME", "LAZY", "pack", "step_fire_one", "step_fire_scalar", "step_fire_range", "advance",
           "can_idle"]

TYPE = T_COND_EULER
#: a registry name only (no parameter class carries it: LIFCondParams is looked up as "lif_cond")
NAME = "lif_cond:euler"
LAZY = False


def pack(gc, p: dict, dt: float) -> None:
    """Coefficient rows: :func:`memr_snn.kernel.models.cond.pack` with forward Euler."""
    _cond_pack(gc, {**p, "integration": "euler"}, dt)


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref):
    """One forward-Euler step with threshold and reset on scalars: (v, se, si, a, ref, fired)."""
    v, se, si, a, ref = euler_step_scalar(gc, g, v, se, si, a, ib, ref)
    v, a, ref, f = fire_scalar(g, gc, gi, v, a, ref, 0.0)
    return v, se, si, a, ref, f


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
    """:func:`step_fire_scalar` of neuron ``j``, in place; returns the new spike count."""
    v[j], se[j], si[j], a[j], ref[j] = euler_step_scalar(gc, g, v[j], se[j], si[j], a[j], ib[j], ref[j])
    return fire(j, g, gc, gi, v, a, ref, spikes, nspk, 0.0)


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
    """Neurons ``lo..hi-1`` of group ``g``, delivery of ``be``/``bi`` fused; flags in ``fired``, returns the count."""
    return euler_step_range(gc, g, lo, hi, v, se, si, a, ib, ref, fired, gi[g, I_REF], be, bi)

