"""Neuron models as plug-ins, and their registry.

Each model is one module here that brings everything the engine and the run loop need:

``TYPE``
    its integer type code (``gi[g, I_TYPE]``; :mod:`memr_snn.kernel.layout` lists the taken ones);
``NAME``
    the ``model`` name of its parameter class (:mod:`memr_snn.neurons`);
``LAZY``
    True if a neuron may go idle in event mode (its state then advances in closed form);
``pack(gc, p, dt)``
    numpy, run once when the network is built: fill the coefficient rows ``gc`` (one per
    parameter group) from ``p`` (parameter name -> values per group); the engine fills ``gi``
    (type code, refractory steps) and checks the rows are finite;
``step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk) -> nspk``
    one clock step of neuron ``j`` with its threshold and reset, appending ``j`` to ``spikes``
    when it fires (mixed-group ranges in dense mode);
``step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref) -> (v, se, si, a, ref, fired)``
    the same step on one neuron's state as scalars (event mode: no arrays passed per neuron);
    ``step_fire_one`` is written with it, so both are the same arithmetic;
``step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi) -> count``
    the same for the neurons ``lo..hi-1`` of group ``g``, with the due ring-buffer rows ``be``/``bi``
    delivered first (fused) and ``fired`` flags set (dense mode; written to vectorise);
``advance(gc, g, k, v, se, si, a, ib, ref) -> (v, se, si, a, ref)``
    ``k`` input-free steps of one neuron (an identity for models that never idle);
``can_idle(gc, g, v, se, si, ib) -> bool``
    True when, without new input, the neuron provably never fires (False for models that never idle).

The compiled ``step_fire_one`` / ``step_fire_scalar`` / ``step_fire_range`` / ``advance`` / ``can_idle`` below
dispatch on
the type code; the run loop (:mod:`memr_snn.kernel.loop`) calls only these.  Adding a model: write
its module, give it a new type code, add it to ``MODELS`` and one branch to each dispatcher here.
"""

import numpy as np
from numba import njit

from ..layout import I_TYPE
from . import alif, cond, lif, tsm

__all__ = ["MODELS", "BY_NAME", "LAZY_TYPES", "model_named", "step_fire_one", "step_fire_scalar", "step_fire_range",
           "advance", "can_idle"]

#: the registry: every neuron model the kernels integrate
MODELS = (lif, alif, cond, tsm)
#: model name (``NeuronParams.model``) -> module
BY_NAME = {m.NAME: m for m in MODELS}
#: type codes of the models whose neurons may idle
LAZY_TYPES = tuple(m.TYPE for m in MODELS if m.LAZY)

if len({m.TYPE for m in MODELS}) != len(MODELS) or len(BY_NAME) != len(MODELS):
    raise RuntimeError("memr_snn.kernel.models: two neuron models share a type code or a name")


def model_named(names):
    """The model module of the first name in ``names`` that is registered (a parameter class's ``model``
    names, most derived first), or None."""
    for name in names:
        if name in BY_NAME:
            return BY_NAME[name]
    return None


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
    """One step of neuron ``j`` (group ``g``) by its model, with threshold and reset; returns the new spike count."""
    typ = gi[g, I_TYPE]
    if typ == lif.TYPE:
        return lif.step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk)
    if typ == alif.TYPE:
        return alif.step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk)
    if typ == cond.TYPE:
        return cond.step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk)
    if typ == tsm.TYPE:
        return tsm.step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk)
    return nspk


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref):
    """:func:`step_fire_one` on one neuron's state as scalars, by its model: (v, se, si, a, ref, fired).

    The same arithmetic as ``step_fire_one`` (whose models implement it with this); the event loop uses
    it so that no arrays are passed per neuron (numba reference-counts array arguments of inlined calls).
    """
    typ = gi[g, I_TYPE]
    if typ == lif.TYPE:
        return lif.step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref)
    if typ == alif.TYPE:
        return alif.step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref)
    if typ == cond.TYPE:
        return cond.step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref)
    if typ == tsm.TYPE:
        return tsm.step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref)
    return v, se, si, a, np.int64(ref), False


@njit(cache=True, error_model="numpy", inline="always")
def step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
    """Neurons ``lo..hi-1`` of group ``g`` by their model (delivery fused); returns the number of spikes."""
    typ = gi[g, I_TYPE]
    if typ == lif.TYPE:
        return lif.step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi)
    if typ == alif.TYPE:
        return alif.step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi)
    if typ == cond.TYPE:
        return cond.step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi)
    if typ == tsm.TYPE:
        return tsm.step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi)
    return 0


@njit(cache=True, error_model="numpy", inline="always")
def advance(gc, gi, g, k, v, se, si, a, ib, ref):
    """``k`` input-free steps of one neuron of group ``g`` by its model: (v, se, si, a, ref)."""
    typ = gi[g, I_TYPE]
    if typ == lif.TYPE:
        return lif.advance(gc, g, k, v, se, si, a, ib, ref)
    if typ == alif.TYPE:
        return alif.advance(gc, g, k, v, se, si, a, ib, ref)
    if typ == cond.TYPE:
        return cond.advance(gc, g, k, v, se, si, a, ib, ref)
    if typ == tsm.TYPE:
        return tsm.advance(gc, g, k, v, se, si, a, ib, ref)
    return v, se, si, a, ref


@njit(cache=True, error_model="numpy", inline="always")
def can_idle(gc, gi, g, v, se, si, ib):
    """The idle test of a neuron of group ``g`` by its model."""
    typ = gi[g, I_TYPE]
    if typ == lif.TYPE:
        return lif.can_idle(gc, g, v, se, si, ib)
    if typ == alif.TYPE:
        return alif.can_idle(gc, g, v, se, si, ib)
    if typ == cond.TYPE:
        return cond.can_idle(gc, g, v, se, si, ib)
    if typ == tsm.TYPE:
        return tsm.can_idle(gc, g, v, se, si, ib)
    return False
