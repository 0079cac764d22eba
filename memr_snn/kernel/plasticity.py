r"""Spike-timing-dependent plasticity kernels: pair and triplet STDP, reward-modulated STDP.

Traces live per neuron (not per synapse) and decay exactly between the events that
touch them: a trace stored with value ``v`` at step ``tl`` is worth
``v * exp((t - tl) * ld)`` at step ``t`` (``ld = -dt / tau``).  Each plastic
projection ``p`` has, per presynaptic neuron, traces ``r1`` (``tau_plus``) and ``r2``
(``tau_x``) and, per postsynaptic neuron, ``o1`` (``tau_minus``) and ``o2``
(``tau_y``), after Pfister & Gerstner (J. Neurosci. 26, 9673, 2006):

.. math::

    \text{pre spike:}\quad  \Delta w = -o_1\,(A_2^- + A_3^-\, r_2(t-\epsilon)),
    \quad r_1 \mathrel{+}= 1,\ r_2 \mathrel{+}= 1

    \text{post spike:}\quad \Delta w = +r_1\,(A_2^+ + A_3^+\, o_2(t-\epsilon)),
    \quad o_1 \mathrel{+}= 1,\ o_2 \mathrel{+}= 1

Pair STDP is the special case ``A3 = 0``.  With nearest-spike pairing a spike
*sets* its traces to 1 instead of adding 1.  Weight dependence: additive
(``Δw`` as above, then clipped to ``[w_min, w_max]``) or multiplicative
(potentiation scaled by ``(w_max - w)/(w_max - w_min)``, depression by
``(w - w_min)/(w_max - w_min)``).

Within a step all presynaptic events (delivery with the old weight, then
depression and pre-trace updates) come before all postsynaptic events
(potentiation and post-trace updates), as Brian2's ``on_pre`` / ``on_post``.

Reward-modulated STDP (Izhikevich 2007; Frémaux & Gerstner 2016): the STDP change
goes into a per-synapse eligibility ``e`` instead of the weight, ``e`` decays with
``tau_e`` and every step ``w += lr * R * e * dt`` (then clipped), with ``R`` the
projection's present reward (set from Python between steps).

Each rule is written once: a kernel per event kind (:func:`stdp_pre_row`,
:func:`stdp_post_column`, :func:`reward_step`) computes the change ``dw`` of every
synapse it touches and hands it, with the synapse, to a *storage*: a record (a named
tuple of the arrays the storage owns) whose class :data:`STORAGES` maps to its
``apply`` function, either per change or per event:

* float weights (:class:`FloatStorage`, :func:`float_apply`, per change): weight
  dependence from the stored weight, then ``w += dw`` clipped to ``[w_min, w_max]``;
  the rule calls :func:`storage_apply_one` as it computes each change, and the apply
  (a few loads and stores) is inlined into its loop;
* crossbar devices (:class:`CrossbarStorage`, :func:`crossbar_apply`, per event): the
  rule collects one event's changes (a row, a column, a buffer-full of a reward step)
  in the change buffer ``ch_syn, ch_row, ch_dw`` and calls :func:`storage_apply` once;
  for each change in order, weight dependence from the device's noiseless weight, then
  :func:`memr_snn.kernel.crossbar.device_update` turns it into device pulses (or, for
  ideal single devices, the exact conductance change).  The record's arrays are read
  once per event: read per synapse, numba's reference counting of each of them around
  every ``device_update`` call made crossbar STDP up to 1.7x slower.

numba resolves :func:`storage_apply`, :func:`storage_apply_one` and
:func:`storage_per_event` from the record's type when it compiles the rule, so there is
one specialisation of the rule per storage and no function value at run time.

A reward-modulated rule adds the change to the eligibility instead (it belongs to the
rule, not to the storage), and :func:`reward_step` sends ``lr R e dt`` to the storage
every step.

Table columns are the ``PF_*`` (float) and ``PI_*`` (int) constants.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numba.extending import overload

from .crossbar import device_update, device_weight

__all__ = [
    "PF_LDP", "PF_LDM", "PF_LDX", "PF_LDY", "PF_A2P", "PF_A3P", "PF_A2M", "PF_A3M", "PF_WMIN", "PF_WMAX",
    "PF_LDE", "PF_LR", "N_PF",
    "PI_PROJ", "PI_MULT", "PI_NEAREST", "PI_PRE", "PI_POST", "PI_POSTLO", "PI_CSC", "PI_REWARD", "PI_ELIG", "PI_NSYN",
    "N_PI",
    "trace_at", "stdp_pre_row", "stdp_post_column", "reward_step", "FloatStorage", "CrossbarStorage",
    "float_apply", "crossbar_apply", "STORAGES", "storage_apply", "storage_apply_one", "storage_per_event",
    "storage_uses_row", "change_buffer",
]

# float columns
PF_LDP = 0    # -dt / tau_plus   (pre trace r1)
PF_LDM = 1    # -dt / tau_minus  (post trace o1)
PF_LDX = 2    # -dt / tau_x      (pre trace r2)
PF_LDY = 3    # -dt / tau_y      (post trace o2)
PF_A2P = 4    # pair potentiation amplitude [weight unit]
PF_A3P = 5    # triplet potentiation amplitude [weight unit]
PF_A2M = 6    # pair depression amplitude (a magnitude) [weight unit]
PF_A3M = 7    # triplet depression amplitude (a magnitude) [weight unit]
PF_WMIN = 8
PF_WMAX = 9
PF_LDE = 10   # -dt / tau_e (eligibility, reward-modulated rules)
PF_LR = 11    # learning rate of reward-modulated rules [1/s per unit reward]
N_PF = 12

# int columns
PI_PROJ = 0     # projection index
PI_MULT = 1     # 1: multiplicative weight dependence
PI_NEAREST = 2  # 1: nearest-spike pairing (traces set to 1)
PI_PRE = 3      # offset of the presynaptic traces in tr1/tr2/trl
PI_POST = 4     # offset of the postsynaptic traces
PI_POSTLO = 5   # global index of the first postsynaptic neuron
PI_CSC = 6      # offset of the projection's column pointer in csc_ptr (n_post + 1 entries)
PI_REWARD = 7   # 1: reward-modulated (changes go to the eligibility)
PI_ELIG = 8     # offset of the projection's synapses in the eligibility array
PI_NSYN = 9     # number of synapses of the projection
N_PI = 10


@njit(cache=True, error_model="numpy", inline="always")
def trace_at(v, tl, t, ld):
    """Value at step ``t`` of a trace stored as ``v`` at step ``tl`` decaying with ``ld = -dt/tau``."""
    if t == tl or v == 0.0:
        return v
    return v * math.exp((t - tl) * ld)


@njit(cache=True, error_model="numpy", inline="always")
def _bump(v, tl, t, ld, nearest):
    return 1.0 if nearest else trace_at(v, tl, t, ld) + 1.0


@njit(cache=True, error_model="numpy", inline="always")
def _dependence(dw, w, wmin, wmax, mult, potentiate):
    """The change ``dw`` at weight ``w``: as is (additive) or scaled by the distance to the bound it approaches."""
    if mult:
        span = wmax - wmin
        dw = dw * ((wmax - w) / span if potentiate else (w - wmin) / span)
    return dw


def change_buffer(csc_ptr: np.ndarray, row_ptrs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The change buffer ``(ch_syn, ch_row, ch_dw)`` the rules fill for one event, zeroed.

    As long as the longest column (``csc_ptr``, the plastic projections' column pointers)
    or row (``row_ptrs``, their CSR row pointers) of a plastic projection, at least 1.
    """
    cap = max([1, int(np.diff(csc_ptr).max(initial=0))] + [int(np.diff(p).max(initial=0)) for p in row_ptrs])
    return np.zeros(cap, dtype=np.int64), np.zeros(cap, dtype=np.int64), np.zeros(cap)


# --- storages: a record (named tuple of the arrays it owns) and the function that applies a change ----------

class FloatStorage(NamedTuple):
    """Float weights: ``w[so + s]`` is the weight of the projection's synapse ``s``."""

    w: np.ndarray
    so: int


class CrossbarStorage(NamedTuple):
    """Crossbar ``x``'s devices: the arrays of :func:`memr_snn.kernel.crossbar.device_update`."""

    x: int
    dt: float
    xf: np.ndarray
    xi: np.ndarray
    xp: np.ndarray
    g: np.ndarray
    counts: np.ndarray
    dv: np.ndarray
    fault: np.ndarray
    tp: np.ndarray
    rtp: np.ndarray
    tf: np.ndarray
    rft: np.ndarray
    acc: np.ndarray


@njit(cache=True, error_model="numpy", inline="always")
def float_apply(st, s, row, dw, wmin, wmax, mult, potentiate, t):
    """Apply change ``dw`` to float synapse ``s``: weight dependence, ``w += dw``, clip to ``[w_min, w_max]``.

    A per-change apply (a few loads and stores, inlined into the rule's loop); ``row`` (the
    presynaptic neuron) and ``t`` (the step) are unused: float weights have no clock.
    """
    k = st.so + s
    w = st.w
    wk = w[k] + _dependence(dw, w[k], wmin, wmax, mult, potentiate)
    w[k] = min(max(wk, wmin), wmax)


@njit(cache=True, error_model="numpy")
def crossbar_apply(st, syn, rows, dws, n, wmin, wmax, mult, potentiate, t):
    """Apply the changes ``dws[:n]`` to synapses ``syn[:n]`` (presynaptic rows ``rows[:n]``) of a crossbar.

    A per-event apply: in order, at step ``t``, the weight dependence reads the synapse's
    noiseless device weight, then :func:`memr_snn.kernel.crossbar.device_update` turns the
    change into pulses through the device model.  The record's arrays are unpacked once per
    call, not per synapse.
    """
    x, dt, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft, acc = st
    for k in range(n):
        s = syn[k]
        dw = dws[k]
        if mult:
            dw = _dependence(dw, device_weight(x, s, xf, xi, g), wmin, wmax, True, potentiate)
        device_update(x, s, rows[k], dw, wmin, wmax, t, dt, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft, acc)


#: per storage record class: ``(apply, per_event, uses_row)``: its apply function, whether that takes a whole
#: event's changes (``apply(st, syn, rows, dws, n, ...)``) or one change (``apply(st, s, row, dw, ...)``), and
#: whether it reads the presynaptic rows
STORAGES = {FloatStorage: (float_apply, False, False), CrossbarStorage: (crossbar_apply, True, True)}


def storage_apply(st, syn, rows, dws, n, wmin, wmax, mult, potentiate, t):
    """Apply a rule's ``n`` changes ``dws[:n]`` to synapses ``syn[:n]`` (presynaptic rows ``rows[:n]``) of ``st``.

    The changes of one event (a row, a column, a block of a reward step), in the order the
    rule computed them, at step ``t``; each synapse appears once.  The apply function is the
    one :data:`STORAGES` lists for the record's class (a per-change apply is called for each
    change in order); in compiled code the choice is made when the rule is compiled for that
    record type (one specialisation per storage, no function value at run time), here (pure
    Python) at the call.  ``mult`` asks for multiplicative weight dependence, ``potentiate``
    tells which bound it approaches.
    """
    apply, per_event, _ = STORAGES[type(st)]
    if per_event:
        apply(st, syn, rows, dws, n, wmin, wmax, mult, potentiate, t)
    else:
        for k in range(n):
            apply(st, syn[k], rows[k], dws[k], wmin, wmax, mult, potentiate, t)


def storage_apply_one(st, s, row, dw, wmin, wmax, mult, potentiate, t):
    """Apply one change ``dw`` to synapse ``s`` (row ``row``) of storage ``st`` at step ``t``.

    What the rules call, as each change is computed, for storages with a per-change apply; a
    per-event apply gets the change as an event of one (the rules do not take this path for
    such storages: they collect the event's changes and call :func:`storage_apply`).
    """
    apply, per_event, _ = STORAGES[type(st)]
    if per_event:
        apply(st, np.array([s]), np.array([row]), np.array([dw]), 1, wmin, wmax, mult, potentiate, t)
    else:
        apply(st, s, row, dw, wmin, wmax, mult, potentiate, t)


def storage_per_event(st):
    """Whether storage ``st`` takes a whole event's changes at once (a constant of the record type when compiled).

    Rules collect the changes of such a storage in the change buffer and call
    :func:`storage_apply` once per event; the others get each change as it is computed
    (:func:`storage_apply_one`).
    """
    return STORAGES[type(st)][1]


def storage_uses_row(st):
    """Whether storage ``st``'s apply reads its ``rows`` argument (a constant of the record type when compiled)."""
    return STORAGES[type(st)][2]


def _entry(st):
    return STORAGES.get(getattr(st, "instance_class", None))


@overload(storage_apply, inline="always", jit_options={"error_model": "numpy"})
def _storage_apply_compiled(st, syn, rows, dws, n, wmin, wmax, mult, potentiate, t):
    entry = _entry(st)
    if entry is None:
        return None
    apply = entry[0]
    if entry[1]:
        def impl(st, syn, rows, dws, n, wmin, wmax, mult, potentiate, t):
            apply(st, syn, rows, dws, n, wmin, wmax, mult, potentiate, t)
    else:
        def impl(st, syn, rows, dws, n, wmin, wmax, mult, potentiate, t):
            for k in range(n):
                apply(st, syn[k], rows[k], dws[k], wmin, wmax, mult, potentiate, t)
    return impl


@overload(storage_apply_one, inline="always", jit_options={"error_model": "numpy"})
def _storage_apply_one_compiled(st, s, row, dw, wmin, wmax, mult, potentiate, t):
    entry = _entry(st)
    if entry is None:
        return None
    apply = entry[0]
    if entry[1]:
        def impl(st, s, row, dw, wmin, wmax, mult, potentiate, t):
            apply(st, np.array([s]), np.array([row]), np.array([dw]), 1, wmin, wmax, mult, potentiate, t)
    else:
        def impl(st, s, row, dw, wmin, wmax, mult, potentiate, t):
            apply(st, s, row, dw, wmin, wmax, mult, potentiate, t)
    return impl


def _flag_of_storage(index):
    """The compiled form of a storage's flag ``STORAGES[...][index]``: a constant of the record type."""
    def compiled(st):
        entry = _entry(st)
        if entry is None:
            return None
        if entry[index]:
            return lambda st: True
        return lambda st: False
    return compiled


overload(storage_per_event, inline="always")(_flag_of_storage(1))
overload(storage_uses_row, inline="always")(_flag_of_storage(2))


# --- rules: one kernel per event kind, for every storage ----------------------------------------------------

@njit(cache=True, error_model="numpy")
def stdp_pre_row(st, p, pf, pi, i, t, posts, lo, elig, tr1, tr2, trl, ch_syn, ch_row, ch_dw):
    """Presynaptic spike of local neuron ``i`` at step ``t``: depress its row, then bump its traces.

    ``posts`` are the row's global postsynaptic indices; its synapses are the projection's
    ``lo .. lo + len(posts) - 1``.  The row's changes are collected in the change buffer
    ``ch_syn, ch_row, ch_dw`` (synapse, presynaptic neuron, change; at least a row long) and
    handed to the storage ``st`` (a :class:`FloatStorage` or :class:`CrossbarStorage`)
    once, through :func:`storage_apply`; for reward rules they go to the eligibilities
    ``elig[PI_ELIG + s]`` instead.
    """
    ldm, ldx = pf[p, PF_LDM], pf[p, PF_LDX]
    a2m, a3m = pf[p, PF_A2M], pf[p, PF_A3M]
    wmin, wmax = pf[p, PF_WMIN], pf[p, PF_WMAX]
    mult = pi[p, PI_MULT] != 0
    reward = pi[p, PI_REWARD] != 0
    e0 = pi[p, PI_ELIG] + lo
    post0 = pi[p, PI_POST] - pi[p, PI_POSTLO]
    ip = pi[p, PI_PRE] + i
    r2 = trace_at(tr2[ip], trl[ip], t, ldx)  # before this spike (t - epsilon)
    n = 0
    for k in range(posts.shape[0]):
        jp = post0 + posts[k]
        o1 = trace_at(tr1[jp], trl[jp], t, ldm)
        if o1 == 0.0:
            continue
        dw = -o1 * (a2m + a3m * r2)
        if reward:
            elig[e0 + k] += dw
        elif storage_per_event(st):
            ch_syn[n], ch_row[n], ch_dw[n] = lo + k, i, dw
            n += 1
        else:
            storage_apply_one(st, lo + k, i, dw, wmin, wmax, mult, False, t)
    if n > 0:
        storage_apply(st, ch_syn, ch_row, ch_dw, n, wmin, wmax, mult, False, t)
    nearest = pi[p, PI_NEAREST] != 0
    tr1[ip] = _bump(tr1[ip], trl[ip], t, pf[p, PF_LDP], nearest)
    tr2[ip] = 1.0 if nearest else r2 + 1.0
    trl[ip] = t


@njit(cache=True, error_model="numpy")
def stdp_post_column(st, p, pf, pi, j, t, csc_ptr, csc_syn, csc_pre, elig, tr1, tr2, trl, ch_syn, ch_row, ch_dw):
    """Postsynaptic spike of local neuron ``j`` at step ``t``: potentiate its column, then bump its traces.

    The column's synapses come from the projection's CSC arrays (``csc_syn``: synapse,
    ``csc_pre``: local presynaptic neuron); changes go as in :func:`stdp_pre_row` (the change
    buffer at least a column long).
    """
    ldp, ldy = pf[p, PF_LDP], pf[p, PF_LDY]
    a2p, a3p = pf[p, PF_A2P], pf[p, PF_A3P]
    wmin, wmax = pf[p, PF_WMIN], pf[p, PF_WMAX]
    mult = pi[p, PI_MULT] != 0
    reward = pi[p, PI_REWARD] != 0
    pre0 = pi[p, PI_PRE]
    jp = pi[p, PI_POST] + j
    o2 = trace_at(tr2[jp], trl[jp], t, ldy)  # before this spike (t - epsilon)
    c0 = pi[p, PI_CSC]
    e0 = pi[p, PI_ELIG]
    n = 0
    for c in range(csc_ptr[c0 + j], csc_ptr[c0 + j + 1]):
        s = csc_syn[c]
        i = csc_pre[c]
        ip = pre0 + i
        r1 = trace_at(tr1[ip], trl[ip], t, ldp)
        if r1 == 0.0:
            continue
        dw = r1 * (a2p + a3p * o2)
        if reward:
            elig[e0 + s] += dw
        elif storage_per_event(st):
            ch_syn[n], ch_row[n], ch_dw[n] = s, i, dw
            n += 1
        else:
            storage_apply_one(st, s, i, dw, wmin, wmax, mult, True, t)
    if n > 0:
        storage_apply(st, ch_syn, ch_row, ch_dw, n, wmin, wmax, mult, True, t)
    nearest = pi[p, PI_NEAREST] != 0
    tr1[jp] = _bump(tr1[jp], trl[jp], t, pf[p, PF_LDM], nearest)
    tr2[jp] = 1.0 if nearest else o2 + 1.0
    trl[jp] = t


@njit(cache=True, error_model="numpy")
def reward_step(st, p, pf, pi, reward, t, dt, indptr, elig, ch_syn, ch_row, ch_dw):
    """One step of a reward-modulated projection: ``lr R e dt`` to every synapse, then ``e`` decays.

    ``indptr`` is the projection's CSR row pointer (rows are presynaptic neurons); the
    changes go to the storage ``st`` as in :func:`stdp_pre_row`, additively (a reward rule
    has no weight dependence: ``e`` holds the plain STDP changes), one change buffer full
    at a time, in synapse order; synapses with zero eligibility are not touched.
    """
    r = reward[p]
    decay = math.exp(pf[p, PF_LDE])
    e0 = pi[p, PI_ELIG]
    s0, s1 = indptr[0], indptr[indptr.shape[0] - 1]
    if r == 0.0:
        for s in range(s0, s1):
            elig[e0 + s] *= decay
        return
    wmin, wmax = pf[p, PF_WMIN], pf[p, PF_WMAX]
    gain = pf[p, PF_LR] * r * dt
    cap = ch_dw.shape[0]
    n = 0
    i = 0  # the row of synapse s, followed only for storages that use it (a compile-time constant)
    for s in range(s0, s1):
        e = elig[e0 + s]
        if e != 0.0:
            if storage_uses_row(st):
                while indptr[i + 1] <= s:
                    i += 1
            if not storage_per_event(st):
                storage_apply_one(st, s, i, gain * e, wmin, wmax, False, True, t)
            else:
                if n == cap:
                    storage_apply(st, ch_syn, ch_row, ch_dw, n, wmin, wmax, False, True, t)
                    n = 0
                ch_syn[n], ch_row[n], ch_dw[n] = s, i, gain * e
                n += 1
            elig[e0 + s] = e * decay
    if n > 0:
        storage_apply(st, ch_syn, ch_row, ch_dw, n, wmin, wmax, False, True, t)
