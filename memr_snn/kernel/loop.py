"""The simulation loop: many steps of a whole network in one compiled call.

Per step ``t`` (the schedule documented on :class:`memr_snn.Network`):

1. input populations emit their spikes for step ``t`` (a Poisson input keeps the step of its next
   spike, drawn as a geometric gap from a counter-based stream, and is only touched when it fires
   or its rates change);
2. due events (ring-buffer slot ``t % D``) are added to the synaptic state of
   their targets; in event mode an idle target is first brought up to date with
   its exact decay and becomes active.  The ring buffer ``buf[slot, receptor,
   neuron]`` accumulates weights; event mode also keeps, per slot, the list of
   touched neurons (``touched``, ``tcount``, ``pending`` flags) so delivery costs
   O(events); dense mode adds whole slots (vectorised) and keeps no lists;
3. state monitors sample (state at time ``t*dt``, events of ``t`` included);
4. neurons are integrated from ``t`` to ``t+1`` (dense: all; event: the active
   ones), then threshold and reset;
5. the step's spikes, sorted by global index, are pushed into the ring buffer
   at ``t + delay`` along every outgoing synapse, counted and recorded;
6. event mode only: active neurons that provably cannot reach threshold without
   new input go idle (their state is then valid at the start of ``t + 1``).

Arrays are the flat network description built by :mod:`memr_snn.engine`, bundled in the
records of :mod:`memr_snn.kernel.records`; each step is a sequence of phase functions
(``phase_inputs``, ``phase_deliver``, ``phase_sample``, ``phase_integrate``, ``phase_push``,
``phase_plasticity``, ``phase_record``; event mode runs ``phase_step_idle`` for steps 4 and 6) that take
only the records they touch.
Neuron models are reached through the registry of :mod:`memr_snn.kernel.models`.  Nothing here
allocates per step.
"""

import math

import numpy as np
from numba import njit

from .crossbar import prefetch, prefetch_row, read_row_cached, read_row_qs
from .layout import I_TYPE, T_ALIF, T_LIF, V_A, V_IB, V_SE, V_SI, V_V
from .models import advance, can_idle, step_fire_one, step_fire_range, step_fire_scalar
from .plasticity import (
    PI_POST,
    PI_POSTLO,
    PI_PRE,
    PI_PROJ,
    PI_REWARD,
    CrossbarStorage,
    FloatStorage,
    reward_step,
    stdp_post_column,
    stdp_pre_row,
)
from .push import prefetch_push_rows, push_float_dense, push_row
from .rng import uniform01

__all__ = [
    "run_chunk", "sync_neuron", "sync_all", "peek_state", "peek_many", "activate_many", "rebuild_touched",
]


@njit(cache=True, error_model="numpy")
def sync_neuron(j, t, nrn):
    """Bring idle neuron ``j`` (state valid at step ``nrn.last[j]``) up to step ``t``.

    Only neurons of lazy models (``LAZY``: the linear (A)LIF) ever idle; the others are always
    active (``Simulator.refresh_autonomous``) and their ``advance`` is the identity, so for them
    this only stamps ``last``.
    """
    k = t - nrn.last[j]
    if k > 0:
        nrn.v[j], nrn.se[j], nrn.si[j], nrn.a[j], nrn.ref[j] = advance(
            nrn.models, nrn.gc, nrn.gi, nrn.group[j], k, nrn.v[j], nrn.se[j], nrn.si[j], nrn.a[j], nrn.ib[j], nrn.ref[j]
        )
    nrn.last[j] = t


@njit(cache=True, error_model="numpy")
def sync_all(t, nrn):
    """Bring every idle neuron up to step ``t`` (used before dense runs and reads)."""
    for j in range(nrn.v.shape[0]):
        if nrn.active[j] == 0:
            sync_neuron(j, t, nrn)


@njit(cache=True, error_model="numpy")
def peek_state(j, var, t, nrn):
    """Value of state variable ``var`` of neuron ``j`` at step ``t``, without writing."""
    vv, s1, s2, aa = nrn.v[j], nrn.se[j], nrn.si[j], nrn.a[j]
    if nrn.active[j] == 0:
        vv, s1, s2, aa, _r = advance(nrn.models, nrn.gc, nrn.gi, nrn.group[j], t - nrn.last[j], vv, s1, s2, aa,
                                     nrn.ib[j], nrn.ref[j])
    if var == V_V:
        return vv
    if var == V_SE:
        return s1
    if var == V_SI:
        return s2
    if var == V_A:
        return aa
    if var == V_IB:
        return nrn.ib[j]
    return np.nan


_NEVER = np.int64(2) ** 62


@njit(cache=True, error_model="numpy", inline="always")
def poisson_next(seed, cnt, lo, i, p, t_from):
    """First spike step >= ``t_from`` of a Bernoulli(``p``)-per-step process: ``t_from`` plus a geometric
    number of failures, ``floor(log(u) / log(1 - p))``, from draw ``cnt[lo + i]`` of input ``i``'s stream."""
    if p <= 0.0:
        return _NEVER
    if p >= 1.0:
        return t_from
    u = 1.0 - uniform01(seed, np.uint64(cnt[lo + i]), np.uint64(i))  # (0, 1]
    cnt[lo + i] += 1
    k = math.floor(math.log(u) / math.log1p(-p))
    if k > 2.0 ** 61:
        return _NEVER
    return t_from + np.int64(k)


@njit(cache=True, error_model="numpy", _nrt=False)  # no reference counting: see kernel/__init__.py
def _collect(fired, lo, hi, spikes, nspk):
    """Append every ``j`` in ``lo..hi-1`` with ``fired[j]`` to ``spikes`` (ascending); returns the new count.

    Spikes are rare, so the flags are tested as 64-bit words of a view of the bytes, four words (32 flags)
    at a time where they can be; the view is of the whole flag array (its length rounded down to a multiple
    of 8: the engine allocates it so), not of the range, so that one call makes one view.
    """
    n8 = fired.shape[0] - fired.shape[0] % 8
    words = fired[:n8].view(np.uint64)
    w0 = (lo + 7) // 8  # the first whole word in the range
    w1 = min(hi, n8) // 8  # one past the last
    if w1 <= w0:
        w0 = w1 = hi // 8 + 1  # no whole word: the bytes below cover the range
    for j in range(lo, min(8 * w0, hi)):
        if fired[j]:
            spikes[nspk] = j
            nspk += 1
    w = w0
    while w + 4 <= w1:
        if (words[w] | words[w + 1] | words[w + 2] | words[w + 3]) != 0:
            for j in range(8 * w, 8 * w + 32):
                if fired[j]:
                    spikes[nspk] = j
                    nspk += 1
        w += 4
    while w < w1:
        if words[w] != 0:
            for j in range(8 * w, 8 * w + 8):
                if fired[j]:
                    spikes[nspk] = j
                    nspk += 1
        w += 1
    for j in range(max(8 * w1, lo), hi):
        if fired[j]:
            spikes[nspk] = j
            nspk += 1
    return nspk


@njit(cache=True, error_model="numpy")
def _deliver_dense(buf_e, buf_i, se, si):
    """Dense mode: add a whole ring-buffer slot to the synaptic state and clear it."""
    for j in range(se.shape[0]):
        se[j] += buf_e[j]
        si[j] += buf_i[j]
        buf_e[j] = 0.0
        buf_i[j] = 0.0


@njit(cache=True, error_model="numpy")
def rebuild_touched(buf, touched, tcount, pending):
    """List, per slot, the neurons with pending input (entering event mode from dense)."""
    for s in range(buf.shape[0]):
        c = 0
        for j in range(buf.shape[2]):
            if buf[s, 0, j] != 0.0 or buf[s, 1, j] != 0.0:
                pending[s, j] = 1
                touched[s, c] = j
                c += 1
            else:
                pending[s, j] = 0
        tcount[s] = c


@njit(cache=True, error_model="numpy")
def _push_row_dense(posts, weights, buf_row):
    """Dense mode: add one presynaptic row to a ring-buffer row (no touched list)."""
    for k in range(posts.shape[0]):
        buf_row[posts[k]] += weights[k]


#: how many targets (neurons) ahead the event-mode loops prefetch; their targets are scattered over arrays
#: of N entries, so at 10^6 neurons nearly every access misses the caches without it
PREFETCH_AHEAD = 8


@njit(cache=True, error_model="numpy")
def _push_row(posts, weights, buf_row, pending_slot, touched_slot, count):
    """Event mode: add one row to a ring-buffer row; list newly touched neurons; return the count.

    The ring-buffer entries and flags of the targets ``PREFETCH_AHEAD`` synapses ahead are prefetched.
    """
    n = posts.shape[0]
    for k in range(min(n, PREFETCH_AHEAD)):
        prefetch(buf_row, posts[k])
        prefetch(pending_slot, posts[k])
    for k in range(n):
        if k + PREFETCH_AHEAD < n:
            ahead = posts[k + PREFETCH_AHEAD]
            prefetch(buf_row, ahead)
            prefetch(pending_slot, ahead)
        post = posts[k]
        buf_row[post] += weights[k]
        if pending_slot[post] == 0:
            pending_slot[post] = 1
            touched_slot[count] = post
            count += 1
    return count


@njit(cache=True, error_model="numpy", inline="always")
def _push(dense, doff, slot, n_slots, delay, rec, posts, weights, syn_delay, d0, buf, pending, touched, tcount):
    """Push one presynaptic row into the ring buffer (uniform delay if ``doff < 0``, else per synapse)."""
    if doff < 0:  # uniform delay: one slot for the whole row
        sl0 = slot + delay
        if sl0 >= n_slots:
            sl0 -= n_slots
        if dense:
            _push_row_dense(posts, weights, buf[sl0, rec])
        else:
            tcount[sl0] = _push_row(posts, weights, buf[sl0, rec], pending[sl0], touched[sl0], tcount[sl0])
    else:
        for k in range(posts.shape[0]):
            post = posts[k]
            sl = slot + syn_delay[d0 + k]  # delays < n_slots: one subtraction wraps
            if sl >= n_slots:
                sl -= n_slots
            buf[sl, rec, post] += weights[k]
            if not dense and pending[sl, post] == 0:
                pending[sl, post] = 1
                touched[sl, tcount[sl]] = post
                tcount[sl] += 1


@njit(cache=True, error_model="numpy")
def flag_bias(dense_ranges, gi, ib, range_bias):
    """``range_bias[r] = 0`` where dense range ``r`` is a homogeneous (A)LIF range whose neurons all have the
    bias current ``+0.0``, else 1.

    Run once per compiled call (the bias changes only between calls): the range step of such a range
    (:func:`memr_snn.kernel.models.lif.lif_step_range`, given an empty bias array) then does not read the
    bias at every step.  ``-0.0`` counts as a bias (``v_rest + R * -0.0`` may differ from ``v_rest + R * 0.0``
    in its sign), so the result is the same bit for bit.
    """
    for r in range(dense_ranges.shape[0]):
        lo, hi, g = dense_ranges[r, 0], dense_ranges[r, 1], dense_ranges[r, 2]
        flag = 1
        if g >= 0 and (gi[g, I_TYPE] == T_LIF or gi[g, I_TYPE] == T_ALIF):
            flag = 0
            for j in range(lo, hi):
                if ib[j] != 0.0 or math.copysign(1.0, ib[j]) < 0.0:
                    flag = 1
                    break
        range_bias[r] = flag


@njit(cache=True, error_model="numpy", _nrt=False)  # no reference counting: see kernel/__init__.py
def _integrate_range(lo, hi, g, models, gc, gi, group, v, se, si, a, ib, ref, fired, scratch, be, bi, spikes, nspk):
    """Dense path, one range ``lo..hi-1`` of group ``g`` (-1: mixed groups): deliver the due slot (``be``, ``bi``),
    integrate, threshold and reset; append the spikes to ``spikes``, return the new count.

    A homogeneous range runs its model's vectorised, delivery-fused range step.  Takes the range's bounds, not
    a view of the range table: no array is made per call.
    """
    if g >= 0:
        count = step_fire_range(models, gc, gi, g, lo, hi, v, se, si, a, ib, ref, fired, scratch, be, bi)
        if count > 0:
            nspk = _collect(fired, lo, hi, spikes, nspk)
    else:
        for j in range(lo, hi):
            se[j] += be[j]
            si[j] += bi[j]
            be[j] = 0.0
            bi[j] = 0.0
            nspk = step_fire_one(models, gc, gi, group[j], j, v, se, si, a, ib, ref, spikes, nspk)
    return nspk


@njit(cache=True, error_model="numpy", _nrt=False)  # no reference counting: see kernel/__init__.py
def _integrate_ranges(dr, models, gc, gi, group, v, se, si, a, ib, ref, fired, scratch, be, bi, spikes, nspk):
    """Dense path: deliver the due slot (``be``, ``bi``) and integrate every neuron, range by range
    (:func:`_integrate_range`)."""
    for r in range(dr.shape[0]):
        nspk = _integrate_range(dr[r, 0], dr[r, 1], dr[r, 2], models, gc, gi, group, v, se, si, a, ib, ref, fired,
                                scratch, be, bi, spikes, nspk)
    return nspk


@njit(cache=True, error_model="numpy", inline="always")
def _prefetch_spike(g, pop_of, pop_out_ptr, pop_out_proj, proj_pre_lo, proj_ipo, syn_indptr, proj_xb, proj_xc, xi,
                    xg, xnu):
    """Prefetch the device rows neuron ``g``'s spike will read (crossbar projections not served by a cache)."""
    p = pop_of[g]
    for e in range(pop_out_ptr[p], pop_out_ptr[p + 1]):
        pr = pop_out_proj[e]
        if proj_xb[pr] >= 0 and (proj_xc[pr] == 0 or proj_xc[pr] == 2):
            row = proj_ipo[pr] + g - proj_pre_lo[pr]
            prefetch_row(proj_xb[pr], syn_indptr[row], syn_indptr[row + 1], xi, xg, xnu)


@njit(cache=True, error_model="numpy", inline="always")
def _prefetch_neuron(j, nrn):
    """Prefetch what stepping and idle-testing neuron ``j`` reads (event mode: ``j`` is a scattered index)."""
    prefetch(nrn.v, j)
    prefetch(nrn.se, j)
    prefetch(nrn.si, j)
    prefetch(nrn.a, j)
    prefetch(nrn.ib, j)
    prefetch(nrn.ref, j)
    prefetch(nrn.group, j)
    prefetch(nrn.auto, j)


@njit(cache=True, error_model="numpy", inline="always")
def _prefetch_target(j, nrn, be, bi):
    """Prefetch what delivering the due ring-buffer rows ``be``/``bi`` to neuron ``j`` (and waking it) reads."""
    _prefetch_neuron(j, nrn)
    prefetch(nrn.active, j)
    prefetch(nrn.last, j)
    prefetch(be, j)
    prefetch(bi, j)


# ---------------------------------------------------------------------------------------- phases
# One step is: inputs -> deliver -> sample -> integrate (threshold, reset) -> push (with the
# presynaptic plasticity events) -> postsynaptic plasticity -> record -> idle.  Each phase takes the
# records of kernel/records.py it touches.  The crossbar and plasticity records are None for a
# network without crossbars or without plasticity: the phases that take them test ``is None``, which
# numba resolves when it compiles them (dead-branch pruning on the argument's type), so the device
# and learning kernels are compiled only for networks that use them.  Pruning needs the record to be
# the phase's own argument, so those phases are compiled as functions of their own (OPTIONAL_INLINE);
# the others are compiled without reference counting (PHASE_NRT: they allocate nothing).  Inlined at the
# numba IR level into the reference-counted run_chunk, a phase took and dropped a reference to every array of
# every record it is given, each step (about 1 100 cycles of a 10 000-cycle CUBA step at 4000 neurons).

#: how numba treats the phase functions without optional records: functions of their own, not inlined
PHASE_INLINE = "never"
#: ... compiled without reference counting (kernel/__init__.py): they allocate nothing
PHASE_NRT = False
#: the phases taking the optional crossbar / plasticity records: separate functions, so that ``is None`` prunes
OPTIONAL_INLINE = "never"


@njit(cache=True, error_model="numpy", inline=PHASE_INLINE, _nrt=PHASE_NRT)
def phase_inputs(t, dt, inp, scr):
    """Step 1: the spike sources' spikes of step ``t`` into ``scr.spikes``; returns their number.

    A Poisson input keeps the step of its next spike (``pq_next``), redrawn from ``t`` when its
    rates change (``pq_dirty`` or a new row of a rate table); explicit spike times advance a cursor.
    """
    spikes = scr.spikes
    pq_next, pq_cnt, pq_rates = inp.pq_next, inp.pq_cnt, inp.pq_rates
    nspk = np.int64(0)  # not the literal 0: numba would compile the phases taking nspk for Literal[int](0) too
    for q in range(inp.pq_lo.shape[0]):
        n_q = inp.pq_hi[q] - inp.pq_lo[q]
        rows, row_steps = inp.pq_rows[q], inp.pq_row_steps[q]
        row = t // row_steps
        if row >= rows:
            row = rows - 1
        base = inp.pq_rate_off[q] + row * n_q
        lo_q = inp.pq_lo[q]
        seed = inp.pq_seed[q]
        if inp.pq_dirty[q] != 0 or (rows > 1 and t % row_steps == 0 and t // row_steps < rows):
            for i in range(n_q):  # new rates (or the first step): the Bernoulli process restarts at t
                pq_next[lo_q + i] = poisson_next(seed, pq_cnt, lo_q, i, pq_rates[base + i] * dt, t)
            inp.pq_dirty[q] = 0
        for i in range(n_q):
            if pq_next[lo_q + i] == t:
                spikes[nspk] = lo_q + i
                nspk += 1
                pq_next[lo_q + i] = poisson_next(seed, pq_cnt, lo_q, i, pq_rates[base + i] * dt, t + 1)
    for q in range(inp.sq_lo.shape[0]):
        c_ = inp.sq_cursor[q]
        hi = inp.sq_hi[q]
        while c_ < hi and inp.sq_steps[c_] < t:
            c_ += 1
        while c_ < hi and inp.sq_steps[c_] == t:
            spikes[nspk] = inp.sq_gids[c_]
            nspk += 1
            c_ += 1
        inp.sq_cursor[q] = c_
    return nspk


@njit(cache=True, error_model="numpy", _nrt=False)  # a function of its own: ``mon is None`` prunes
def sampling_due(t, mon):
    """Whether a state monitor of ``mon`` (:data:`~memr_snn.kernel.records.Monitors`, sampling every
    ``mon.every[m]`` steps; None: there are none) samples at step ``t``."""
    if mon is None:
        return False
    for m in range(mon.every.shape[0]):
        if t % mon.every[m] == 0:
            return True
    return False


@njit(cache=True, error_model="numpy", inline=PHASE_INLINE, _nrt=PHASE_NRT)
def phase_deliver(t, slot, dense, nrn, ring, rec):
    """Step 2: add the due ring-buffer slot to the synaptic state.

    Dense mode fuses delivery into :func:`phase_integrate` unless a state monitor samples at ``t``
    (it must see the delivered state); event mode walks the slot's touched list, first bringing an
    idle target up to ``t`` and making it active.
    """
    buf = ring.buf
    if dense:
        if sampling_due(t, rec.mon):
            _deliver_dense(buf[slot, 0], buf[slot, 1], nrn.se, nrn.si)
        return
    se, si, active, act_list, act_n = nrn.se, nrn.si, nrn.active, nrn.act_list, nrn.act_n
    gc, gi, group, v, a, ib, ref, last = nrn.gc, nrn.gi, nrn.group, nrn.v, nrn.a, nrn.ib, nrn.ref, nrn.last
    touched, pending = ring.touched, ring.pending
    n_t = ring.tcount[slot]
    be, bi = buf[slot, 0], buf[slot, 1]
    for e in range(min(n_t, PREFETCH_AHEAD)):
        _prefetch_target(np.int64(touched[slot, e]), nrn, be, bi)
    for e in range(n_t):
        if e + PREFETCH_AHEAD < n_t:
            _prefetch_target(np.int64(touched[slot, e + PREFETCH_AHEAD]), nrn, be, bi)
        j = np.int64(touched[slot, e])
        pending[slot, j] = 0
        if active[j] == 0:
            # sync_neuron(j, t, nrn) written out: passing the record would reference-count its arrays
            k = t - last[j]
            if k > 0:
                v[j], se[j], si[j], a[j], ref[j] = advance(nrn.models, gc, gi, group[j], k, v[j], se[j], si[j], a[j],
                                                           ib[j], ref[j])
            last[j] = t
            active[j] = 1
            act_list[act_n[0]] = j
            act_n[0] += 1
        se[j] += buf[slot, 0, j]
        si[j] += buf[slot, 1, j]
        buf[slot, 0, j] = 0.0
        buf[slot, 1, j] = 0.0
    ring.tcount[slot] = 0


@njit(cache=True, error_model="numpy", inline=PHASE_INLINE, _nrt=PHASE_NRT)
def phase_sample(t, nrn, mon):
    """Step 3: the state monitors of ``mon`` (``rec.mon``; None: nothing, compiled as nothing) due at ``t``
    sample (state at ``t * dt``, the step's events included)."""
    if mon is None:
        return
    for m in range(mon.every.shape[0]):
        if t % mon.every[m] == 0:
            e0, e1 = mon.eptr[m], mon.eptr[m + 1]
            row0 = mon.ooff[m] + mon.nsamp[m] * (e1 - e0)
            for e in range(e0, e1):
                mon.out[row0 + e - e0] = peek_state(mon.gid[e], mon.var[e], t, nrn)
            mon.nsamp[m] += 1


@njit(cache=True, error_model="numpy", inline=OPTIONAL_INLINE, _nrt=False)  # allocates nothing: no reference counts
def phase_integrate(slot, nspk, nrn, syn, xbr, ring, scr):
    """Step 4, dense mode: integrate every neuron one step, range by range (delivery of the due slot fused),
    threshold and reset; appends the spikes to ``scr.spikes``, returns the count.  Each range's spikes
    prefetch the device rows they will read while the next range integrates (with crossbars: ``xbr`` is
    not None).  Event mode integrates its active set in :func:`phase_step_idle`.
    """
    gc, gi, group, v, se, si, a, ib, ref = nrn.gc, nrn.gi, nrn.group, nrn.v, nrn.se, nrn.si, nrn.a, nrn.ib, nrn.ref
    spikes = scr.spikes
    dr, range_bias = nrn.dense_ranges, scr.range_bias
    be, bi, ib0 = ring.buf[slot, 0], ring.buf[slot, 1], ib[:0]  # the due slot's rows, made once per step
    for r in range(dr.shape[0]):
        n0 = nspk
        # a range without bias currents gets an empty bias array (flag_bias): its loop skips the reads
        nspk = _integrate_range(dr[r, 0], dr[r, 1], dr[r, 2], nrn.models, gc, gi, group, v, se, si, a,
                                ib if range_bias[r] != 0 else ib0, ref, scr.fired, scr.scratch, be, bi, spikes,
                                nspk)
        if xbr is not None:
            for q in range(n0, nspk):
                _prefetch_spike(spikes[q], syn.pop_of, syn.pop_out_ptr, syn.pop_out_proj, syn.proj_pre_lo,
                                syn.proj_ipo, syn.syn_indptr, xbr.proj_xb, xbr.proj_xc, xbr.xi, xbr.xg, xbr.xnu)
    return nspk


@njit(cache=True, error_model="numpy", inline="always")
def _sift_down(x, root, end):
    """Heap sort's sift-down of ``x[root]`` within the max-heap ``x[:end]``."""
    val = x[root]
    while True:
        child = 2 * root + 1
        if child >= end:
            break
        if child + 1 < end and x[child + 1] > x[child]:
            child += 1
        if x[child] <= val:
            break
        x[root] = x[child]
        root = child
    x[root] = val


@njit(cache=True, error_model="numpy")
def heap_sort(x, n):
    """Sort ``x[:n]`` in place, ascending (heap sort: O(n log n) at worst, no allocation).

    Written out rather than ``ndarray.sort``: numba's sort compiles a family of quicksort functions
    (about 1 s of a first-ever run); the spikes it sorts are distinct integers, so any correct sort
    gives the same order (``numpy.sort`` is its twin in the tests).
    """
    for root in range(n // 2 - 1, -1, -1):
        _sift_down(x, root, n)
    for end in range(n - 1, 0, -1):
        top = x[0]
        x[0] = x[end]
        x[end] = top
        _sift_down(x, 0, end)


@njit(cache=True, error_model="numpy", inline="always")
def _sort_spikes(spikes, nspk):
    """Sort the step's spikes by global index (they usually already are)."""
    if nspk > 1:
        ordered = True
        for q in range(1, nspk):
            if spikes[q] < spikes[q - 1]:
                ordered = False
                break
        if not ordered:
            heap_sort(spikes, nspk)


@njit(cache=True, error_model="numpy", inline="always")
def _crossbar_storage(x, dt, xbr):
    """The storage record of crossbar ``x``'s devices, for the plasticity rules (references, no copies)."""
    return CrossbarStorage(x, dt, xbr.xf, xbr.xi, xbr.xp, xbr.xg, xbr.xcount, xbr.xdv, xbr.xfault, xbr.xtp, xbr.xrtp,
                           xbr.xtf, xbr.xrft, xbr.xacc)


@njit(cache=True, error_model="numpy", inline=OPTIONAL_INLINE)
def phase_push(t, slot, dense, dt, nspk, syn, xbr, pls, ring, scr):
    """Step 5: push every spike of the step (sorted by global index) into the ring buffer at ``t + delay``.

    Along each outgoing projection the row's weights are read (float storage, the ideal-read cache of
    a crossbar, or its devices now), pushed, and then the presynaptic plasticity events run with the
    old weights.  The next spike's device rows are prefetched while one spike is delivered.  ``xbr``
    (crossbars) and ``pls`` (plasticity) may be None: the network has none.
    """
    spikes = scr.spikes
    if xbr is None and pls is None and dense:  # float weights, no plasticity (every benchmark network)
        push_float_dense(slot, spikes, nspk, syn, ring.buf)
        return
    n_slots = ring.buf.shape[0]
    pop_of, pop_out_ptr, pop_out_proj = syn.pop_of, syn.pop_out_ptr, syn.pop_out_proj
    proj_pre_lo, proj_ipo, proj_so = syn.proj_pre_lo, syn.proj_ipo, syn.proj_so
    syn_indptr, syn_post, syn_w, syn_delay = syn.syn_indptr, syn.syn_post, syn.syn_w, syn.syn_delay
    buf, pending, touched, tcount = ring.buf, ring.pending, ring.touched, ring.tcount
    if xbr is None:  # float storage only: every row of the step asked for at once (crossbar rows: below)
        prefetch_push_rows(spikes, nspk, syn, True)  # this loop reads every row's weights
    for q in range(nspk):
        g = spikes[q]
        pop = pop_of[g]
        if xbr is not None:
            if q + 1 < nspk:  # the next spike's device rows, fetched while this one is delivered
                _prefetch_spike(spikes[q + 1], pop_of, pop_out_ptr, pop_out_proj, proj_pre_lo, proj_ipo, syn_indptr,
                                xbr.proj_xb, xbr.proj_xc, xbr.xi, xbr.xg, xbr.xnu)
        for e in range(pop_out_ptr[pop], pop_out_ptr[pop + 1]):
            pr = pop_out_proj[e]
            row = proj_ipo[pr] + g - proj_pre_lo[pr]
            so = proj_so[pr]
            rec = syn.proj_rec[pr]
            doff = syn.proj_doff[pr]
            delay = syn.proj_delay[pr]
            lo_k = syn_indptr[row]
            hi_k = syn_indptr[row + 1]
            xb = -1
            if xbr is not None:
                xb = xbr.proj_xb[pr]
            if xb < 0:  # float storage
                _push(dense, doff, slot, n_slots, delay, rec, syn_post[so + lo_k:so + hi_k],
                      syn_w[so + lo_k:so + hi_k], syn_delay, doff + lo_k, buf, pending, touched, tcount)
            elif xbr is not None:
                _push_crossbar_row(t, dt, g, pr, row, so, lo_k, hi_k, xb, slot, n_slots, dense, syn, xbr, ring)
            if pls is not None:
                pl = pls.proj_pl[pr]
                if pl >= 0:  # presynaptic plasticity events, after delivery with the old weights
                    if xb < 0:
                        stdp_pre_row(FloatStorage(syn_w, so), pl, pls.pf, pls.pi, g - proj_pre_lo[pr], t,
                                     syn_post[so + lo_k:so + hi_k], lo_k, pls.elig, pls.tr1, pls.tr2, pls.trl,
                                     pls.ch_syn, pls.ch_row, pls.ch_dw)
                    elif xbr is not None:
                        stdp_pre_row(_crossbar_storage(xb, dt, xbr), pl, pls.pf, pls.pi, g - proj_pre_lo[pr], t,
                                     syn_post[so + lo_k:so + hi_k], lo_k, pls.elig, pls.tr1, pls.tr2, pls.trl,
                                     pls.ch_syn, pls.ch_row, pls.ch_dw)


@njit(cache=True, error_model="numpy", _nrt=False)  # allocates nothing: no reference counts (kernel/__init__.py)
def push_crossbar_dense(t, slot, dt, nspk, syn, xbr, ring, scr):
    """:func:`phase_push` of a dense step of a network with crossbars and without plasticity, compiled without
    reference counting (its row views and calls took and dropped a reference per array, per spike and row):
    the same loop (``pls`` None, ``dense`` True), so the same results."""
    phase_push(t, slot, True, dt, nspk, syn, xbr, None, ring, scr)


@njit(cache=True, error_model="numpy", inline="always")
def _push_crossbar_row(t, dt, g, pr, row, so, lo_k, hi_k, xb, slot, n_slots, dense, syn, xbr, ring):
    """Read presynaptic neuron ``g``'s row of crossbar ``xb`` (projection ``pr``) and push it."""
    syn_post, syn_delay, doff = syn.syn_post, syn.syn_delay, syn.proj_doff[pr]
    buf, pending, touched, tcount = ring.buf, ring.pending, ring.touched, ring.tcount
    xf, xi, xg, xw, wrow = xbr.xf, xbr.xi, xbr.xg, xbr.xw, xbr.wrow
    if xbr.proj_xc[pr] == 1:  # ideal read of a crossbar no plasticity writes: cached
        read_row_cached(xb, lo_k, hi_k, xf, xi, xg, xbr.xacc, xw[so + lo_k:so + hi_k], xbr.xwtot, row)
        w = xw[so + lo_k:so + hi_k]
    else:  # weights are read from the devices now
        read_row_qs(xb, g - syn.proj_pre_lo[pr], lo_k, hi_k, t, dt, xf, xi, xg, xbr.xnu, xbr.xtp, xbr.xrtp, xbr.xtf,
                    xbr.xrft, xbr.xrs, xbr.xgs, xbr.xacc, wrow, xbr.xbuf, xbr.xqs, xbr.xwtot,
                    row if xbr.proj_xc[pr] == 2 else -1)
        w = wrow[:hi_k - lo_k]
    if dense and doff < 0:  # one delay for the row: push.push_row's loop (unsigned indices)
        sl = slot + syn.proj_delay[pr]
        if sl >= n_slots:
            sl -= n_slots
        push_row(buf[sl, syn.proj_rec[pr]], syn_post[so + lo_k:so + hi_k], w, 0, hi_k - lo_k, 0, 0.0)
    else:
        _push(dense, doff, slot, n_slots, syn.proj_delay[pr], syn.proj_rec[pr], syn_post[so + lo_k:so + hi_k], w,
              syn_delay, doff + lo_k, buf, pending, touched, tcount)


@njit(cache=True, error_model="numpy", inline=OPTIONAL_INLINE)
def phase_plasticity(t, dt, nspk, syn, xbr, pls, scr):
    """Step 5b: postsynaptic plasticity events (after every presynaptic one of the step), then reward steps.

    Nothing without plasticity (``pls`` None); ``xbr`` None: no crossbar storage.
    """
    if pls is None:
        return
    pi = pls.pi
    if pls.pop_pin.shape[0] == 0:
        return
    spikes = scr.spikes
    proj_so = syn.proj_so
    for q in range(nspk):
        g = spikes[q]
        pop = syn.pop_of[g]
        for e in range(pls.pop_pin_ptr[pop], pls.pop_pin_ptr[pop + 1]):
            pl = pls.pop_pin[e]
            xb = -1
            if xbr is not None:
                xb = xbr.proj_xb[pi[pl, PI_PROJ]]
            if xb < 0:
                stdp_post_column(FloatStorage(syn.syn_w, proj_so[pi[pl, PI_PROJ]]), pl, pls.pf, pi,
                                 g - pi[pl, PI_POSTLO], t, pls.csc_ptr, pls.csc_syn, pls.csc_pre, pls.elig, pls.tr1,
                                 pls.tr2, pls.trl, pls.ch_syn, pls.ch_row, pls.ch_dw)
            elif xbr is not None:
                stdp_post_column(_crossbar_storage(xb, dt, xbr), pl, pls.pf, pi, g - pi[pl, PI_POSTLO], t,
                                 pls.csc_ptr, pls.csc_syn, pls.csc_pre, pls.elig, pls.tr1, pls.tr2, pls.trl,
                                 pls.ch_syn, pls.ch_row, pls.ch_dw)
    for pl in range(pi.shape[0]):
        if pi[pl, PI_REWARD] != 0:
            pr = pi[pl, PI_PROJ]
            ip0 = syn.proj_ipo[pr]
            indptr = syn.syn_indptr[ip0:ip0 + pi[pl, PI_POST] - pi[pl, PI_PRE] + 1]
            xb = -1
            if xbr is not None:
                xb = xbr.proj_xb[pr]
            if xb < 0:
                reward_step(FloatStorage(syn.syn_w, proj_so[pr]), pl, pls.pf, pi, pls.reward, t, dt, indptr, pls.elig,
                            pls.ch_syn, pls.ch_row, pls.ch_dw)
            elif xbr is not None:
                reward_step(_crossbar_storage(xb, dt, xbr), pl, pls.pf, pi, pls.reward, t, dt, indptr, pls.elig,
                            pls.ch_syn, pls.ch_row, pls.ch_dw)


@njit(cache=True, error_model="numpy", inline=PHASE_INLINE, _nrt=PHASE_NRT)
def phase_record(t, s, nspk, syn, rec, scr):
    """Step 5c: count the step's spikes per population (row ``s`` of ``pop_counts``) and record the monitored ones."""
    spikes, pop_of, rec_flag = scr.spikes, syn.pop_of, rec.rec_flag
    spk_step, spk_id, spk_n = rec.spk_step, rec.spk_id, rec.spk_n
    for q in range(nspk):
        g = spikes[q]
        rec.pop_counts[s, pop_of[g]] += 1
        if rec_flag[g]:
            spk_step[spk_n[0]] = t
            spk_id[spk_n[0]] = g
            spk_n[0] += 1


@njit(cache=True, error_model="numpy", inline=PHASE_INLINE, _nrt=PHASE_NRT)
def phase_step_idle(t, nspk, nrn, scr):
    """Steps 4 and 6 of event mode in one pass over the active set; returns the new spike count.

    Each active neuron is integrated (threshold, reset; its spike appended to ``scr.spikes``), then
    idle-tested: a neuron that provably cannot fire without new input (and is not autonomous) leaves the
    active list (kept in order) and goes idle with its state valid at the start of ``t + 1``.  Doing the
    idle test here rather than after the push, plasticity and record phases changes nothing (those
    change no neuron state) but loads each neuron's state once; the state of the neuron
    ``PREFETCH_AHEAD`` places ahead in the active list is prefetched.  The step is the model's
    ``step_fire_scalar`` on the loaded state (the arithmetic of its ``step_fire_one``): per-neuron calls
    that take arrays cost numba a reference-count round trip per array, several times the step itself.
    """
    gc, gi, group, v, se, si, a, ib, ref = nrn.gc, nrn.gi, nrn.group, nrn.v, nrn.se, nrn.si, nrn.a, nrn.ib, nrn.ref
    act_list, active, act_n, auto = nrn.act_list, nrn.active, nrn.act_n, nrn.auto
    spikes = scr.spikes
    n_act = act_n[0]
    for q in range(min(n_act, PREFETCH_AHEAD)):
        _prefetch_neuron(act_list[q], nrn)
    w = 0
    for q in range(n_act):
        if q + PREFETCH_AHEAD < n_act:
            _prefetch_neuron(act_list[q + PREFETCH_AHEAD], nrn)
        j = act_list[q]
        g = group[j]
        ibj = ib[j]
        vj, sej, sij, aj, rj, fired = step_fire_scalar(nrn.models, gc, gi, g, v[j], se[j], si[j], a[j], ibj, ref[j])
        v[j], se[j], si[j], a[j], ref[j] = vj, sej, sij, aj, rj
        if fired:
            spikes[nspk] = j
            nspk += 1
        keep = auto[j] != 0
        if not keep:
            keep = not can_idle(nrn.models, gc, gi, g, vj, sej, sij, ibj)
        if keep:
            act_list[w] = j
            w += 1
        else:
            active[j] = 0
            nrn.last[j] = t + 1
    act_n[0] = w
    return nspk


@njit(cache=True, error_model="numpy", inline=PHASE_INLINE, _nrt=PHASE_NRT)
def phase_idle(t, nrn):
    """Step 6 alone, event mode: active neurons that provably cannot fire without new input go idle
    (their state is then valid at the start of ``t + 1``).  :func:`run_chunk` does it inside
    :func:`phase_step_idle`; the threaded loop (:mod:`memr_snn.kernel.threads`), which integrates a long
    active list on its threads, runs it after."""
    act_list, active, act_n = nrn.act_list, nrn.active, nrn.act_n
    gc, gi, group, auto = nrn.gc, nrn.gi, nrn.group, nrn.auto
    v, se, si, ib = nrn.v, nrn.se, nrn.si, nrn.ib
    w = 0
    for q in range(act_n[0]):
        j = act_list[q]
        g = group[j]
        keep = auto[j] != 0
        if not keep:
            keep = not can_idle(nrn.models, gc, gi, g, v[j], se[j], si[j], ib[j])
        if keep:
            act_list[w] = j
            w += 1
        else:
            active[j] = 0
            nrn.last[j] = t + 1
    act_n[0] = w


@njit(cache=True, error_model="numpy")
def run_chunk(t0, n_steps, event, dt, nrn, inp, syn, xbr, pls, ring, rec, scr):
    """Simulate steps ``t0 .. t0 + n_steps - 1``; return the number of steps done.

    ``event`` is None for the dense mode and True for the event mode (:func:`mode_arg`); ``dt`` is the step
    [s]; the other arguments are the records of :mod:`memr_snn.kernel.records` (neurons, inputs, synapses,
    crossbars, plasticity, ring buffer, recording, scratch); ``xbr`` is None without crossbars, ``pls`` None
    without plasticity, ``inp`` None without spike sources.  Whatever is None is resolved when numba compiles
    the loop (dead-branch pruning on the argument's type), so only the kernels of the run's mode and of the
    network's parts are compiled (numba resolves ``is None`` only for an argument that is None: an event-mode
    loop also compiles the dense phases).  Returns early (at a step boundary) when the spike record might overflow;
    the caller drains it and calls again.
    """
    n_slots = ring.buf.shape[0]
    spk_cap = rec.spk_step.shape[0]
    if event is None:
        flag_bias(nrn.dense_ranges, nrn.gi, nrn.ib, scr.range_bias)
    for s in range(n_steps):
        t = t0 + s
        if rec.spk_n[0] + rec.n_rec_max > spk_cap:
            return s
        slot = t % n_slots
        nspk = np.int64(0)
        if inp is not None:
            nspk = phase_inputs(t, dt, inp, scr)                             # 1. inputs
        due = sampling_due(t, rec.mon)  # a state monitor samples (never without state monitors)
        if event is not None:
            phase_deliver(t, slot, event is None, nrn, ring, rec)            # 2. deliver due events
        elif due:  # dense: delivery fused into integration, unless sampled
            _deliver_dense(ring.buf[slot, 0], ring.buf[slot, 1], nrn.se, nrn.si)
        if due:
            phase_sample(t, nrn, rec.mon)                                    # 3. state monitors
        if event is None:
            nspk = phase_integrate(slot, nspk, nrn, syn, xbr, ring, scr)     # 4. integrate, threshold, reset
        else:
            nspk = phase_step_idle(t, nspk, nrn, scr)                        # 4. + 6. event mode: also idle out
        _sort_spikes(scr.spikes, nspk)                                       # 5. push (+ presynaptic plasticity)
        if event is None and xbr is None and pls is None:  # float weights, no plasticity: phase_push's first
            push_float_dense(slot, scr.spikes, nspk, syn, ring.buf)  # case, here (a phase_push call: ~350 cycles)
        elif event is None and xbr is not None and pls is None:  # crossbars, no plasticity: phase_push without
            push_crossbar_dense(t, slot, dt, nspk, syn, xbr, ring, scr)  # reference counts
        else:
            phase_push(t, slot, event is None, dt, nspk, syn, xbr, pls, ring, scr)
        if pls is not None:  # resolved at compile time (pls is an argument): nothing compiled without plasticity
            phase_plasticity(t, dt, nspk, syn, xbr, pls, scr)                # 5b. postsynaptic plasticity
        phase_record(t, s, nspk, syn, rec, scr)                              # 5c. count and record
    return n_steps


def mode_arg(dense: bool):
    """:func:`run_chunk`'s ``event`` argument for a run in dense (None) or event mode (True)."""
    return None if dense else True


@njit(cache=True, error_model="numpy")
def peek_many(gids, var, t, nrn, out):
    """``out[k]`` = value of ``var`` of neuron ``gids[k]`` at step ``t`` (no writes)."""
    for k in range(gids.shape[0]):
        out[k] = peek_state(gids[k], var, t, nrn)


@njit(cache=True, error_model="numpy")
def activate_many(gids, t, dense, nrn):
    """Bring neurons ``gids`` up to step ``t`` and, in event mode, make them active."""
    for k in range(gids.shape[0]):
        j = gids[k]
        if nrn.active[j] == 0:
            sync_neuron(j, t, nrn)
            if not dense:
                nrn.active[j] = 1
                nrn.act_list[nrn.act_n[0]] = j
                nrn.act_n[0] += 1
