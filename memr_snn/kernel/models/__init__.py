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
    when it fires (event mode, and mixed-group ranges in dense mode);
``step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi) -> count``
    the same for the neurons ``lo..hi-1`` of group ``g``, with the due ring-buffer rows ``be``/``bi``
    delivered first (fused) and ``fired`` flags set (dense mode; written to vectorise);
``step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref) -> (v, se, si, a, ref, fired)``
    ``step_fire_one`` on one neuron's state as scalars, the same arithmetic (the event loop uses it so
    that no arrays are passed per neuron: numba reference-counts array arguments of inlined calls);
``advance(gc, g, k, v, se, si, a, ib, ref) -> (v, se, si, a, ref)``
    ``k`` input-free steps of one neuron (an identity for models that never idle);
``can_idle(gc, g, v, se, si, ib) -> bool``
    True when, without new input, the neuron provably never fires (False for models that never idle).

The dispatchers below (``step_fire_one`` / ``step_fire_scalar`` / ``step_fire_range`` / ``advance`` /
``can_idle``, each
taking a *model selector* first) dispatch on the type code; the run loop (:mod:`memr_snn.kernel.loop`)
calls only these.  Adding a model: write its module, give it a new type code, add it to ``MODELS``.

**Compile only the models a network uses.**  The selector (:func:`selector`, the ``models`` field of
:class:`memr_snn.kernel.records.Neurons`) is a tuple with one entry per registered model, in
``MODELS`` order: the model's type code if some group of the network uses it, else ``None``.  Its
numba type (e.g. ``Tuple(int64, none, none, none, none)`` for a LIF-only network) says which models are in
use, so the dispatchers are numba overloads that, when a caller is compiled, build a dispatch chain
over the used models only: the others' kernels are never typed nor compiled (a CUBA network compiles
the LIF kernels alone).  Each set of models is its own compiled (and cached) specialisation of the
loop.  A group whose model is not in the selector is not integrated (as spike sources' groups), so
the selector must be built from the network's own ``gi`` (``selector(gi[:, I_TYPE])``).
With the environment variable ``MEMR_SNN_KERNEL_MODELS=all`` the selector enables every registered
model whatever the network uses: one loop serves every network (one compilation instead of one per set
of models, for a process that runs many kinds of networks: a test suite, a sweep over neuron models);
results are the same bit for bit (``tests/kernel/test_model_selector.py``).
Without numba (``NUMBA_DISABLE_JIT=1``) the same functions run as plain Python.
"""

import os

import numpy as np
from numba import njit, types
from numba.extending import overload

from ..layout import I_TYPE
from . import alif, cond, cond_euler, lif, tsm

__all__ = ["MODELS", "MODELS_ENV", "BY_NAME", "BY_TYPE", "LAZY_TYPES", "model_named", "selector", "step_fire_one",
           "step_fire_scalar", "step_fire_range", "advance", "can_idle"]

#: the registry: every neuron model the kernels integrate
MODELS = (lif, alif, cond, tsm, cond_euler)
#: model name (``NeuronParams.model``) -> module
BY_NAME = {m.NAME: m for m in MODELS}
#: type code -> module
BY_TYPE = {m.TYPE: m for m in MODELS}
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




#: environment variable choosing the models compiled into a loop: ``used`` (default) or ``all``
MODELS_ENV = "MEMR_SNN_KERNEL_MODELS"


def selector(type_codes) -> tuple:
    """The model selector of a network whose groups have the type codes ``type_codes`` (``gi[:, I_TYPE]``):
    per registered model, in ``MODELS`` order, its type code if it is among them, else None; every type code
    when the environment variable ``MEMR_SNN_KERNEL_MODELS`` is ``all`` (module docstring)."""
    how = os.environ.get(MODELS_ENV, "used").strip().lower() or "used"
    if how not in ("used", "all"):
        raise ValueError(f"{MODELS_ENV} must be 'used' or 'all', got {os.environ[MODELS_ENV]!r}")
    used = {int(t) for t in type_codes}
    return tuple(m.TYPE if how == "all" or m.TYPE in used else None for m in MODELS)


def _chosen(models, typ):
    """Plain Python: the module integrating type code ``typ`` if the selector ``models`` enables it, else None."""
    m = BY_TYPE.get(int(typ))
    if m is None or models[MODELS.index(m)] is None:
        return None
    return m


# ---------------------------------------------------------------------------------------- dispatchers
# Plain-Python bodies (used as such with NUMBA_DISABLE_JIT=1); compiled code gets the overloads below.

def step_fire_one(models, gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
    """One step of neuron ``j`` (group ``g``) by its model, with threshold and reset; returns the new spike count."""
    m = _chosen(models, gi[g, I_TYPE])
    return nspk if m is None else m.step_fire_one(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk)


def step_fire_scalar(models, gc, gi, g, v, se, si, a, ib, ref):
    """:func:`step_fire_one` on one neuron's state as scalars, by its model: (v, se, si, a, ref, fired)."""
    m = _chosen(models, gi[g, I_TYPE])
    return (v, se, si, a, np.int64(ref), False) if m is None else m.step_fire_scalar(gc, gi, g, v, se, si, a, ib, ref)


def step_fire_range(models, gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
    """Neurons ``lo..hi-1`` of group ``g`` by their model (delivery fused); returns the number of spikes."""
    m = _chosen(models, gi[g, I_TYPE])
    return 0 if m is None else m.step_fire_range(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi)


def advance(models, gc, gi, g, k, v, se, si, a, ib, ref):
    """``k`` input-free steps of one neuron of group ``g`` by its model: (v, se, si, a, ref)."""
    m = _chosen(models, gi[g, I_TYPE])
    return (v, se, si, a, ref) if m is None else m.advance(gc, g, k, v, se, si, a, ib, ref)


def can_idle(models, gc, gi, g, v, se, si, ib):
    """The idle test of a neuron of group ``g`` by its model."""
    m = _chosen(models, gi[g, I_TYPE])
    return False if m is None else m.can_idle(gc, g, v, se, si, ib)


_JIT = {"error_model": "numpy"}
#: the dense range step's dispatcher: no reference counting (it allocates nothing and only passes its arrays on;
#: numba otherwise takes and drops a reference to each of its 12 arrays at every call, 24 atomic operations)
_JIT_RANGE = {"error_model": "numpy", "_nrt": False}


def _used(models_ty) -> tuple:
    """The registered models a selector's numba type enables."""
    if not isinstance(models_ty, types.BaseTuple) or len(models_ty) != len(MODELS):
        raise TypeError(f"memr_snn.kernel.models: a model selector is a {len(MODELS)}-tuple, got {models_ty}")
    return tuple(m for m, t in zip(MODELS, models_ty.types, strict=True)
                 if not isinstance(t, (types.NoneType, types.Omitted)))


# A dispatch chain is built from links ``f(typ, ...)``: call model ``m``'s function if ``typ`` is its type code,
# else the next link; the last one is the fallback for a type code no used model has.  Links are inlined
# (numba IR), so a chain over one model is that model's call behind one integer test.  (numba cannot inline a
# call with ``*args``, hence one link factory per interface function.)

def _link_fire_one(code, fn, rest):
    @njit(inline="always", **_JIT)
    def link(typ, gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
        if typ == code:
            return fn(gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk)
        return rest(typ, gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk)
    return link


def _link_fire_scalar(code, fn, rest):
    @njit(inline="always", **_JIT)
    def link(typ, gc, gi, g, v, se, si, a, ib, ref):
        if typ == code:
            return fn(gc, gi, g, v, se, si, a, ib, ref)
        return rest(typ, gc, gi, g, v, se, si, a, ib, ref)
    return link


def _link_fire_range(code, fn, rest):
    @njit(inline="always", **_JIT)
    def link(typ, gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
        if typ == code:
            return fn(gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi)
        return rest(typ, gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi)
    return link


def _link_advance(code, fn, rest):
    @njit(inline="always", **_JIT)
    def link(typ, gc, g, k, v, se, si, a, ib, ref):
        if typ == code:
            return fn(gc, g, k, v, se, si, a, ib, ref)
        return rest(typ, gc, g, k, v, se, si, a, ib, ref)
    return link


def _link_can_idle(code, fn, rest):
    @njit(inline="always", **_JIT)
    def link(typ, gc, g, v, se, si, ib):
        if typ == code:
            return fn(gc, g, v, se, si, ib)
        return rest(typ, gc, g, v, se, si, ib)
    return link


@njit(inline="always", **_JIT)
def _none_fire_one(typ, gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
    return nspk


@njit(inline="always", **_JIT)
def _none_fire_scalar(typ, gc, gi, g, v, se, si, a, ib, ref):
    return v, se, si, a, np.int64(ref), False


@njit(inline="always", **_JIT)
def _none_fire_range(typ, gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
    return 0


@njit(inline="always", **_JIT)
def _none_advance(typ, gc, g, k, v, se, si, a, ib, ref):
    return v, se, si, a, ref


@njit(inline="always", **_JIT)
def _none_can_idle(typ, gc, g, v, se, si, ib):
    return False


_LINKS = {
    "step_fire_one": (_link_fire_one, _none_fire_one),
    "step_fire_scalar": (_link_fire_scalar, _none_fire_scalar),
    "step_fire_range": (_link_fire_range, _none_fire_range),
    "advance": (_link_advance, _none_advance),
    "can_idle": (_link_can_idle, _none_can_idle),
}
_CHAINS = {}


def _chain(name, models_ty):
    """The compiled dispatch chain of interface function ``name`` over the models the selector type enables;
    built once per (function, set of models)."""
    used = _used(models_ty)
    key = (name, tuple(m.TYPE for m in used))
    if key not in _CHAINS:
        make, nxt = _LINKS[name]
        for m in reversed(used):
            nxt = make(m.TYPE, getattr(m, name), nxt)
        _CHAINS[key] = nxt
    return _CHAINS[key]


@overload(step_fire_one, jit_options=_JIT)
def _ol_step_fire_one(models, gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
    chain = _chain("step_fire_one", models)

    def impl(models, gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk):
        return chain(gi[g, I_TYPE], gc, gi, g, j, v, se, si, a, ib, ref, spikes, nspk)

    return impl


@overload(step_fire_scalar, jit_options=_JIT)
def _ol_step_fire_scalar(models, gc, gi, g, v, se, si, a, ib, ref):
    chain = _chain("step_fire_scalar", models)

    def impl(models, gc, gi, g, v, se, si, a, ib, ref):
        return chain(gi[g, I_TYPE], gc, gi, g, v, se, si, a, ib, ref)

    return impl


@overload(step_fire_range, jit_options=_JIT_RANGE)
def _ol_step_fire_range(models, gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
    chain = _chain("step_fire_range", models)

    def impl(models, gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi):
        return chain(gi[g, I_TYPE], gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi)

    return impl


@overload(advance, jit_options=_JIT)
def _ol_advance(models, gc, gi, g, k, v, se, si, a, ib, ref):
    chain = _chain("advance", models)

    def impl(models, gc, gi, g, k, v, se, si, a, ib, ref):
        return chain(gi[g, I_TYPE], gc, g, k, v, se, si, a, ib, ref)

    return impl


@overload(can_idle, jit_options=_JIT)
def _ol_can_idle(models, gc, gi, g, v, se, si, ib):
    chain = _chain("can_idle", models)

    def impl(models, gc, gi, g, v, se, si, ib):
        return chain(gi[g, I_TYPE], gc, g, v, se, si, ib)

    return impl
