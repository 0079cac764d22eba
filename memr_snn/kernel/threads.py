"""The run loop on several threads: integration and delivery split over blocks of neurons.

Two loops.  The **block loop** (:func:`run_chunk_blocks`, :func:`run_block`) runs dense chunks with float
weights and no plasticity (the benchmark networks): each thread runs one compiled call for the whole chunk,
on its own block, and the threads meet once per step at a barrier (:mod:`memr_snn.kernel.sync`), after
integration: a spike of step ``t`` reaches its targets at ``t + 1`` at the earliest, so each thread can
push the step's spikes onto its own block and integrate its block again without waiting for the others.
The **parallel-region loop** (:func:`run_chunk_threads`, below) runs every other chunk (event mode,
crossbars, plasticity) with a ``prange`` region per step.  Both give the single thread's results.

:func:`run_chunk_threads` runs the same schedule as :func:`memr_snn.kernel.loop.run_chunk` with the
same results, spike for spike and bit for bit, on ``T`` threads.  The neurons are cut into ``T``
contiguous **blocks** of global indices (``Threads.blocks``, boundaries on 64-neuron lines so that
no two threads write one cache line of the state or of the ring buffer); thread ``k`` owns block ``k``:

* **integration** (dense mode): thread ``k`` integrates its block, range by range, with the due
  ring-buffer slot delivered (fused) exactly as the single thread does, and lists its spikes in its
  own part of ``Threads.pspk``; the blocks' spikes are then appended to the step's spike list in
  block order.  A neuron's arithmetic does not depend on which thread runs it, and the step's spikes
  are sorted by index afterwards as before, so the list is the single thread's.  Event mode splits
  the active list into ``T`` contiguous parts the same way (when it is long enough to pay);
* **delivery** (dense mode, float weights, no plasticity): every thread walks all the step's spikes
  and all their synapses in the single thread's order, and adds only the weights whose target lies in
  its own block.  Each ring-buffer entry therefore receives the same additions in the same order as
  on one thread (floating-point sums are not associative: this is what keeps them identical), and no
  two threads write the same entry, so no locks or atomics are needed.

Everything else runs on the calling thread between the two parallel regions, unchanged: the spike
sources, the state monitors, sorting, event-mode delivery and idling (their lists are ordered), the
crossbar reads and writes (read noise, caches and device state are order-dependent), plasticity
(weights change while the step's spikes are pushed) and recording.  A network with crossbars or
plasticity therefore gets threaded integration only.

The functions with a ``prange`` are compiled with ``parallel=True``, which compiles slowly: this
module is imported and compiled only when a network runs with more than one thread, so single-thread
users never pay for it (``memr_snn.engine.simulator``).  Each ``prange`` loop has exactly ``T``
iterations and runs with ``numba.set_num_threads(T)``, so numba's static schedule gives one block per
thread.  :func:`deliver_reference` is the numpy twin of the partitioned delivery (used by the tests).
"""

import threading
import time

import numpy as np
from numba import njit, prange

from .crossbar import prefetch
from .loop import (
    _integrate_range,
    _integrate_ranges,
    _prefetch_spike,
    _sort_spikes,
    flag_bias,
    phase_deliver,
    phase_idle,
    phase_inputs,
    phase_plasticity,
    phase_push,
    phase_record,
    phase_sample,
    phase_step_idle,
    sampling_due,
)
from .models import step_fire_one
from .push import prefetch_span, push_row, push_row_delays, row_span
from .sync import SPIN_TICKS, SYNC_STRIDE, barrier, cycles
from .thread_layout import (
    BLOCK_ALIGN,
    EVENT_MIN_PER_THREAD,
    STATS,
    ZONE_STATS,
    Threads,
    block_bounds,
    block_ranges,
    deliver_reference,
    make_threads,
    proj_spans,
    row_splits,
    rows_sorted,
)

__all__ = ["Threads", "BLOCK_ALIGN", "EVENT_MIN_PER_THREAD", "STATS", "SPIN_TICKS", "ZONE", "BALANCE_WINDOW",
           "BALANCE_STEP", "BALANCE_REACH", "block_bounds", "block_ranges", "block_zones", "rows_sorted", "row_splits",
           "proj_spans", "make_threads", "run_chunk_threads", "run_block", "run_chunk_blocks", "blocks_apply",
           "deliver_reference"]


#: the block loop integrates a block's last this many neurons first and its first this many last (:func:`run_block`):
#: a thread streaming to the end of its block has the CPU's prefetchers fetch the lines that follow, up to the end
#: of their 4096-byte page, i.e. the next block's first neurons (at most 512 of a float64 array, 4096 of the uint8
#: spike flags); integrated at the same time by the next block's thread, those lines went back and forth between
#: the two cores every step (about 4600 cycle-counter ticks a step, the next block's first 4096 neurons at
#: 2.7-3.2 ticks each against 1.56 for the others; CUBA, 64 000 neurons, 2 threads; now 2.2-2.3).  A multiple of
#: BLOCK_ALIGN.
ZONE = 4096

#: the block loop's balancing (``Threads.balance = 1``): every this many steps each boundary between two blocks
#: moves half-way to where the window's busy ticks per neuron of the threads (integration, merge and push, serial
#: work; not their waits) would have made their busy times equal ...
BALANCE_WINDOW = 32
#: ... by at most this many neurons per window (a multiple of BLOCK_ALIGN) ...
BALANCE_STEP = 256
#: ... and stays within a third of the smaller neighbouring static block from its static place (so that a row's cut
#: moves over a few targets, :func:`_row_cut`, and every block keeps a third of its neurons)
BALANCE_REACH = 3


# ------------------------------------------------------------------------------ parallel regions
@njit(cache=True, error_model="numpy", inline="always")
def _row_cut(j, split, row, lo_r, hi_r, sb, bk, syn_post):
    """Where the sorted row ``row`` (synapses ``[lo_r, hi_r)``) crosses inner boundary ``j + 1`` in force,
    ``bk[j + 1]``: the table's place for the static boundary ``sb[j + 1]`` (``split``,
    :func:`memr_snn.kernel.thread_layout.row_splits`), moved over the targets between the two (none when the
    boundary is at its static place; a few when the block loop has moved it, :data:`BALANCE_REACH`)."""
    c = lo_r + split[row, j]
    b, b_s = bk[j + 1], sb[j + 1]
    if b < b_s:
        while c > lo_r and syn_post[np.uint64(c - 1)] >= b:
            c -= 1
    elif b > b_s:
        while c < hi_r and syn_post[np.uint64(c)] < b:
            c += 1
    return c


@njit(cache=True, error_model="numpy", inline="always")
def _row_part(k, split, row, lo_k, hi_k, sb, bk, syn_post):
    """Thread ``k``'s part ``[lo, hi)`` of a sorted row ``row`` spanning ``[lo_k, hi_k)`` for the boundaries
    ``bk`` in force (:func:`_row_cut`; ``sb``: the static ones of ``split``, ``T - 1`` columns)."""
    lo, hi = lo_k, hi_k
    if k > 0:
        lo = _row_cut(k - 1, split, row, lo_k, hi_k, sb, bk, syn_post)
    if k < split.shape[1]:
        hi = _row_cut(k, split, row, lo_k, hi_k, sb, bk, syn_post)
    return lo, hi


@njit(cache=True, error_model="numpy", inline="always")
def _prefetch_block_rows(k, sb, bk, split, spikes, nspk, proj_sorted, proj_span, syn):
    """:func:`memr_snn.kernel.push.prefetch_push_rows` for thread ``k``: only its own part of each sorted row (the
    whole row of an unsorted projection) for the static boundaries ``sb`` (a hint: the part for the boundaries in
    force ``bk`` differs by a few targets), one prefetch per 64-byte line of targets and, for projections with
    non-uniform weights, of weights; none for a projection with no target in the block (``proj_span``)."""
    pop_of, pop_out_ptr, pop_out_proj = syn.pop_of, syn.pop_out_ptr, syn.pop_out_proj
    syn_post, syn_w, proj_wu = syn.syn_post, syn.syn_w, syn.proj_wu
    b0, b1 = bk[k], bk[k + 1]
    for q in range(nspk):
        g = spikes[q]
        pop = pop_of[g]
        for e in range(pop_out_ptr[pop], pop_out_ptr[pop + 1]):
            pr = pop_out_proj[e]
            if proj_span[pr, 1] <= b0 or proj_span[pr, 0] >= b1:
                continue
            row, lo_k, hi_k = row_span(syn, pr, g)
            if proj_sorted[pr] != 0:
                lo_k, hi_k = _row_part(k, split, row, lo_k, hi_k, sb, sb, syn_post)
            if lo_k < hi_k:  # every line from the part's first entry to its last (not on a line boundary)
                prefetch_span(syn_post, syn_w, lo_k, hi_k, proj_wu[pr] == 0)
                prefetch(syn_post, hi_k - 1)
                if proj_wu[pr] == 0:
                    prefetch(syn_w, hi_k - 1)


@njit(cache=True, error_model="numpy", inline="always")
def _deliver_block(sb, bk, k, split, spikes, nspk, slot, pop_of, pop_out_ptr, pop_out_proj, proj_pre_lo, proj_ipo,
                   proj_so, proj_rec, proj_delay, proj_doff, proj_wu, proj_wc, proj_sorted, proj_span, syn_indptr,
                   syn_post, syn_w, syn_delay, buf):
    """Push ``spikes[:nspk]`` of the step of ring slot ``slot`` (float weights), only the synapses whose
    target is in block ``k`` = ``[bk[k], bk[k + 1])`` (``bk``: the boundaries in force, ``sb``: the static ones
    of ``split``), in the single thread's spike, projection and synapse order.

    A projection whose rows list their targets in ascending order (``proj_sorted``; every projection
    ``Network.add`` generates) takes the block's part of a row from ``split``
    (:func:`memr_snn.kernel.thread_layout.row_splits`) and pushes it with the single thread's row loops
    (:func:`memr_snn.kernel.push.push_row`, :func:`memr_snn.kernel.push.push_row_delays`: a projection with
    uniform weights, ``proj_wu``, adds its constant ``proj_wc`` and reads no weights); the others test every
    target.  A projection with no target in the block (``proj_span``: its targets' least and one past the
    greatest) is skipped without reading its row."""
    n_slots = buf.shape[0]
    b0, b1 = bk[k], bk[k + 1]
    for q in range(nspk):
        g = spikes[q]
        pop = pop_of[g]
        for e in range(pop_out_ptr[pop], pop_out_ptr[pop + 1]):
            pr = pop_out_proj[e]
            if proj_span[pr, 1] <= b0 or proj_span[pr, 0] >= b1:
                continue
            row = proj_ipo[pr] + g - proj_pre_lo[pr]
            so = proj_so[pr]
            lo_k = so + syn_indptr[row]
            hi_k = so + syn_indptr[row + 1]
            doff = proj_doff[pr]
            rc = proj_rec[pr]
            wu, wc = proj_wu[pr], proj_wc[pr]
            if proj_sorted[pr] != 0:  # the block's part of the row, from the table
                lo_k, hi_k = _row_part(k, split, row, lo_k, hi_k, sb, bk, syn_post)
                if doff < 0:  # uniform delay: one slot for the row
                    sl = slot + proj_delay[pr]
                    if sl >= n_slots:
                        sl -= n_slots
                    push_row(buf[sl, rc], syn_post, syn_w, lo_k, hi_k, wu, wc)
                else:
                    push_row_delays(buf, rc, slot, syn_post, syn_w, syn_delay, doff - so, lo_k, hi_k, wu, wc)
            elif doff < 0:
                sl = slot + proj_delay[pr]
                if sl >= n_slots:
                    sl -= n_slots
                brow = buf[sl, rc]
                for kk in range(lo_k, hi_k):
                    ku = np.uint64(kk)
                    post = syn_post[ku]
                    if post >= b0 and post < b1:
                        brow[np.uint32(post)] += wc if wu != 0 else syn_w[ku]
            else:
                d0 = doff - so
                for kk in range(lo_k, hi_k):
                    ku = np.uint64(kk)
                    post = syn_post[ku]
                    if post >= b0 and post < b1:
                        sl = slot + syn_delay[np.uint64(d0 + kk)]
                        if sl >= n_slots:
                            sl -= n_slots
                        buf[sl, rc, np.uint32(post)] += wc if wu != 0 else syn_w[ku]


@njit(cache=True, error_model="numpy", _nrt=False)  # allocates nothing: no reference counts (kernel/__init__.py)
def _push_block(k, sb, bk, split, proj_sorted, proj_span, spikes, nspk, slot, syn, buf):
    """The block loop's push of a step: prefetch block ``k``'s parts of the rows (:func:`_prefetch_block_rows`),
    then push them onto its targets for the boundaries in force ``bk`` (:func:`_deliver_block`)."""
    _prefetch_block_rows(k, sb, bk, split, spikes, nspk, proj_sorted, proj_span, syn)
    _deliver_block(sb, bk, k, split, spikes, nspk, slot, syn.pop_of, syn.pop_out_ptr, syn.pop_out_proj,
                   syn.proj_pre_lo, syn.proj_ipo, syn.proj_so, syn.proj_rec, syn.proj_delay, syn.proj_doff,
                   syn.proj_wu, syn.proj_wc, proj_sorted, proj_span, syn.syn_indptr, syn.syn_post, syn.syn_w,
                   syn.syn_delay, buf)


@njit(cache=True, error_model="numpy", inline="always")
def block_zones(k, blocks):
    """Block ``k``'s three zones ``[b0, h) [h, z) [z, b1)`` of :func:`run_block`: its head (the first
    :data:`ZONE` neurons, empty for block 0) and tail (the last ``ZONE``, empty for the last block); returns
    ``(b0, h, z, b1)``."""
    b0, b1 = blocks[k], blocks[k + 1]
    h = min(b0 + ZONE, b1) if k > 0 else b0
    z = max(b1 - ZONE, h) if k + 2 < blocks.shape[0] else b1
    return b0, h, z, b1


@njit(cache=True, error_model="numpy", _nrt=False)  # allocates nothing: no reference counts (kernel/__init__.py)
def _integrate_zone(zlo, zhi, nrn, scr, thr, be, bi, out):
    """The block loop's integration of the neurons ``[zlo, zhi)`` of a block for a step: the parts of the cut
    ranges ``thr.ranges`` inside it (a block in force may reach into a neighbouring static block's ranges; those
    with ``thr.range_bias[r] == 0`` read no bias current), with the due slot ``be``, ``bi`` delivered (fused);
    their spikes to ``out[zlo:]``.  Returns their number."""
    ranges, range_bias, ib = thr.ranges, thr.range_bias, nrn.ib
    c = zlo
    for r in range(ranges.shape[0]):
        lo, hi = max(ranges[r, 0], zlo), min(ranges[r, 1], zhi)
        if lo < hi:
            c = _integrate_range(lo, hi, ranges[r, 2], nrn.models, nrn.gc, nrn.gi, nrn.group, nrn.v, nrn.se, nrn.si,
                                 nrn.a, ib if range_bias[r] != 0 else ib[:0], nrn.ref, scr.fired, scr.scratch, be, bi,
                                 out, c)
    return c - zlo


@njit(cache=True, error_model="numpy", inline="always")
def _rebalance(counts, par, sb, bk, acc, mode):
    """The block loop's balancing, run by every thread after each step's meeting with the same inputs and so
    with the same result: adds the step's busy ticks of each thread (``counts[par, j * SYNC_STRIDE + 1]``,
    written before the meeting) to the window's ``acc[:T]``; at the end of a window of :data:`BALANCE_WINDOW`
    steps moves the inner boundaries in force ``bk`` (in place; ``sb``: the static ones).

    ``mode`` 1: block ``j`` would have taken ``acc[j] / size_j`` ticks per neuron; each boundary moves half-way
    to where the blocks' busy times would have been equal, by at most :data:`BALANCE_STEP` neurons, on
    multiples of BLOCK_ALIGN, and stays within a third of the smaller neighbouring static block
    (:data:`BALANCE_REACH`) of its static place (so the boundaries stay in order).  ``mode`` -1: each boundary
    jumps to a pseudo-random place in that reach every window (the tests' check that the results do not
    depend on the boundaries).  ``acc[T]`` counts the window's steps, ``acc[T + 1]`` the windows done."""
    n_thr = sb.shape[0] - 1
    for j in range(n_thr):
        acc[j] += counts[par, j * SYNC_STRIDE + 1]
    acc[n_thr] += 1
    if acc[n_thr] < BALANCE_WINDOW:
        return
    acc[n_thr + 1] += 1
    inv = 0.0  # sum over blocks of neurons per busy tick
    ok = True
    for j in range(n_thr):
        if acc[j] <= 0 or bk[j + 1] <= bk[j]:
            ok = False
        else:
            inv += (bk[j + 1] - bk[j]) / acc[j]
    if ok or mode < 0:
        span = float(bk[n_thr] - bk[0])
        cum = float(bk[0])
        old_prev = bk[0]
        for j in range(1, n_thr):
            old = bk[j]
            reach = min(sb[j] - sb[j - 1], sb[j + 1] - sb[j]) // BALANCE_REACH // BLOCK_ALIGN
            if mode > 0:
                cum += span * ((old - old_prev) / acc[j - 1]) / inv  # where boundary j would equalise
                mv = (np.int64(cum) - old) // 2
                mv = (mv + BLOCK_ALIGN // 2) // BLOCK_ALIGN * BLOCK_ALIGN
                new = old + max(-BALANCE_STEP, min(BALANCE_STEP, mv))
            else:
                new = sb[j] + ((acc[n_thr + 1] * 40503 + j * 9973) % (2 * reach + 1) - reach) * BLOCK_ALIGN
            old_prev = old
            bk[j] = max(sb[j] - reach * BLOCK_ALIGN, min(sb[j] + reach * BLOCK_ALIGN, new))
    for j in range(n_thr + 1):
        acc[j] = 0


@njit(cache=True, error_model="numpy", parallel=True)
def _blocks(integrate, push, push_slot, slot, spikes, nspk, blocks, ranges, ranges_ptr, pspk, pcnt, models, gc, gi,
            group, v, se, si, a, ib, ref, fired, scratch, pop_of, pop_out_ptr, pop_out_proj, proj_pre_lo, proj_ipo,
            proj_so, proj_rec, proj_delay, proj_doff, proj_wu, proj_wc, proj_sorted, proj_span, split, syn_indptr,
            syn_post, syn_w, syn_delay, buf):
    """One parallel region, thread ``k`` on block ``k``: first push ``spikes[:nspk]`` (a step's spikes, ring slot
    ``push_slot``) onto the block's targets if ``push``, then, if ``integrate``, integrate the block one step with
    the due slot ``slot`` delivered (fused), its spikes to ``pspk[blocks[k]:]`` and their number to ``pcnt[k]``."""
    for k in prange(blocks.shape[0] - 1):
        b0, b1 = blocks[k], blocks[k + 1]
        if push:
            _deliver_block(blocks, blocks, k, split, spikes, nspk, push_slot, pop_of, pop_out_ptr, pop_out_proj,
                           proj_pre_lo, proj_ipo, proj_so, proj_rec, proj_delay, proj_doff, proj_wu, proj_wc,
                           proj_sorted, proj_span, syn_indptr, syn_post, syn_w, syn_delay, buf)
        if integrate:
            pcnt[k] = _integrate_ranges(ranges[ranges_ptr[k]:ranges_ptr[k + 1]], models, gc, gi, group, v, se, si, a,
                                        ib, ref, fired, scratch, buf[slot, 0], buf[slot, 1], pspk[b0:b1], np.int64(0))


@njit(cache=True, error_model="numpy", parallel=True)
def _integrate_active(n_blocks, act_list, act_n, models, gc, gi, group, v, se, si, a, ib, ref, pspk, pcnt):
    """Event mode: the active list cut into ``n_blocks`` contiguous parts, one per thread; part ``k``'s
    spikes to ``pspk`` at the part's start, their number to ``pcnt[k]``."""
    for k in prange(n_blocks):
        c0 = (act_n * k) // n_blocks
        c1 = (act_n * (k + 1)) // n_blocks
        out = pspk[c0:c1]
        c = np.int64(0)
        for q in range(c0, c1):
            j = act_list[q]
            c = step_fire_one(models, gc, gi, group[j], j, v, se, si, a, ib, ref, out, c)
        pcnt[k] = c


@njit(cache=True, error_model="numpy", inline="always")
def _run_blocks(integrate, push, push_slot, slot, spikes, nspk, nrn, syn, ring, scr, thr):
    """:func:`_blocks` with the records' arrays."""
    _blocks(integrate, push, push_slot, slot, spikes, nspk, thr.blocks, thr.ranges, thr.ranges_ptr, thr.pspk,
            thr.pcnt, nrn.models, nrn.gc, nrn.gi, nrn.group, nrn.v, nrn.se, nrn.si, nrn.a, nrn.ib, nrn.ref, scr.fired,
            scr.scratch,
            syn.pop_of, syn.pop_out_ptr, syn.pop_out_proj, syn.proj_pre_lo, syn.proj_ipo, syn.proj_so, syn.proj_rec,
            syn.proj_delay, syn.proj_doff, syn.proj_wu, syn.proj_wc, thr.proj_sorted, thr.proj_span, thr.split,
            syn.syn_indptr,
            syn.syn_post, syn.syn_w, syn.syn_delay, ring.buf)


# ------------------------------------------------------------------------------ the threaded phases
@njit(cache=True, error_model="numpy")
def _gather(thr, n_parts, starts, spikes, nspk):
    """Append each part's spikes (``thr.pcnt[k]`` of them from ``thr.pspk[starts(k)]``) in part order."""
    for k in range(n_parts):
        s0 = starts[k]
        for q in range(thr.pcnt[k]):
            spikes[nspk] = thr.pspk[s0 + q]
            nspk += 1
    return nspk


@njit(cache=True, error_model="numpy")
def phase_integrate_threads(t, slot, dense, nspk, nrn, syn, xbr, ring, scr, thr, nprev, prev_slot, idle_after):
    """Step 4 on the blocks' threads (dense), or on parts of the active list (event, when ``idle_after``: the
    active list is long enough; step 6 then runs after the step's other phases).  A shorter active list is
    stepped and idle-tested in one pass on the calling thread (:func:`memr_snn.kernel.loop.phase_step_idle`,
    as :func:`memr_snn.kernel.loop.run_chunk` does).

    Dense: the previous step's spikes ``thr.prev[:nprev]`` (pushed late, ring slot ``prev_slot``) are pushed
    in the same parallel region, each thread onto its own block before integrating it."""
    n_blocks = thr.pcnt.shape[0]
    if dense:
        _run_blocks(True, nprev > 0, prev_slot, slot, thr.prev, nprev, nrn, syn, ring, scr, thr)
        n0 = nspk
        nspk = _gather(thr, n_blocks, thr.blocks, scr.spikes, nspk)
        if xbr is not None:  # the device rows these spikes will read (a cache hint: no effect on results)
            for q in range(n0, nspk):
                _prefetch_spike(scr.spikes[q], syn.pop_of, syn.pop_out_ptr, syn.pop_out_proj, syn.proj_pre_lo,
                                syn.proj_ipo, syn.syn_indptr, xbr.proj_xb, xbr.proj_xc, xbr.xi, xbr.xg, xbr.xnu)
        return nspk
    if not idle_after:
        return phase_step_idle(t, nspk, nrn, scr)
    act_n = nrn.act_n[0]
    _integrate_active(n_blocks, nrn.act_list, act_n, nrn.models, nrn.gc, nrn.gi, nrn.group, nrn.v, nrn.se, nrn.si,
                      nrn.a, nrn.ib, nrn.ref, thr.pspk, thr.pcnt)
    starts = np.empty(n_blocks, dtype=np.int64)
    for k in range(n_blocks):
        starts[k] = (act_n * k) // n_blocks
    return _gather(thr, n_blocks, starts, scr.spikes, nspk)


@njit(cache=True, error_model="numpy")
def phase_push_threads(t, slot, dense, dt, nspk, nrn, syn, xbr, pls, ring, scr, thr, later):
    """Step 5.  Dense mode with float weights and no plasticity: the spikes are pushed by the blocks' threads,
    in the next step's parallel region if ``later`` (they are kept in ``thr.prev``; returns their number),
    else now in a region of their own.  Otherwise on the calling thread.  Returns the number of spikes left
    for the next step to push (0 or ``nspk``)."""
    if dense and xbr is None and pls is None:
        if later:
            thr.prev[:nspk] = scr.spikes[:nspk]
            return nspk
        if nspk > 0:
            _run_blocks(False, True, slot, slot, scr.spikes, nspk, nrn, syn, ring, scr, thr)
        return 0
    phase_push(t, slot, dense, dt, nspk, syn, xbr, pls, ring, scr)
    return 0


@njit(cache=True, error_model="numpy")
def run_chunk_threads(t0, n_steps, dense, dt, nrn, inp, syn, xbr, pls, ring, rec, scr, thr):
    """:func:`memr_snn.kernel.loop.run_chunk` with integration and delivery on the threads of ``thr``
    (:class:`Threads`); same arguments plus ``thr``, same results, same return value.

    Dense mode with float weights and no plasticity pushes a step's spikes at the start of the next
    step's parallel region (one region per step instead of two), unless a state monitor samples at
    the next step (it must see them delivered) or the chunk ends: nothing is left pending on return."""
    n_slots = ring.buf.shape[0]
    spk_cap = rec.spk_step.shape[0]
    nprev = np.int64(0)  # spikes of the previous step still to push (in thr.prev), from ring slot prev_slot
    prev_slot = np.int64(0)
    for s in range(n_steps):
        t = t0 + s
        if rec.spk_n[0] + rec.n_rec_max > spk_cap:
            if nprev > 0:
                _run_blocks(False, True, prev_slot, prev_slot, thr.prev, nprev, nrn, syn, ring, scr, thr)
            return s
        slot = t % n_slots
        nspk = np.int64(0)
        if inp is not None:
            nspk = phase_inputs(t, dt, inp, scr)                               # 1. inputs
        phase_deliver(t, slot, dense, nrn, ring, rec)                          # 2. deliver due events
        phase_sample(t, nrn, rec.mon)                                          # 3. state monitors
        idle_after = not dense and nrn.act_n[0] >= thr.event_min * thr.pcnt.shape[0]
        nspk = phase_integrate_threads(t, slot, dense, nspk, nrn, syn, xbr, ring, scr, thr, nprev,
                                       prev_slot, idle_after)                  # 4. (+ last step's push)
        _sort_spikes(scr.spikes, nspk)                                         # 5. push
        later = dense and s + 1 < n_steps and not sampling_due(t + 1, rec.mon)
        nprev = phase_push_threads(t, slot, dense, dt, nspk, nrn, syn, xbr, pls, ring, scr, thr, later)
        prev_slot = slot
        phase_plasticity(t, dt, nspk, syn, xbr, pls, scr)                      # 5b. postsynaptic plasticity
        phase_record(t, s, nspk, syn, rec, scr)                                # 5c. count and record
        if idle_after:
            phase_idle(t, nrn)                                                 # 6. event mode: idle out
    return n_steps


# ------------------------------------------------------------------------------ the block loop
def blocks_apply(dense: bool, xbr, pls) -> bool:
    """Whether :func:`run_chunk_blocks` runs a chunk (dense mode, float weights, no plasticity); otherwise
    :func:`run_chunk_threads` does."""
    return bool(dense) and xbr is None and pls is None


@njit(cache=True, error_model="numpy", nogil=True)
def run_block(k, t0, n_steps, dt, spk_n0, nrn, inp, syn, ring, rec, scr, thr):
    """Thread ``k``'s part of :func:`memr_snn.kernel.loop.run_chunk` in dense mode with float weights and no
    plasticity, for the whole chunk; every thread of ``thr`` runs it at once (:func:`run_chunk_blocks`), and
    together they give the single thread's results, bit for bit.  Returns the number of steps done (the same
    in every thread).  ``spk_n0`` is ``rec.spk_n[0]`` at the call.

    Per step ``t`` the threads meet once, after integration, because every synaptic delay is at least one
    step: thread ``k`` integrates block ``k`` (due slot delivered, fused) in three zones (:func:`block_zones`):
    its last :data:`ZONE` neurons first, then the middle, then its first ``ZONE`` neurons, so that what the
    prefetchers fetch past one block's end is fetched at the start of the step and touched by the next block's
    thread only at its end; each zone's spikes are listed in ``thr.bspk[t % 2]`` at the zone's first neuron,
    then moved down into one ascending list at the block's start (the other threads read one list of a few
    cache lines), their number to ``thr.counts``.  It then waits at the barrier; then each thread merges the
    spike sources' and every block's spikes of ``t`` into its own list, sorts it, and pushes it onto its own
    block's targets
    (:func:`_deliver_block`), which only its own integration of ``t + 1`` reads.  The spike lists of a step
    are written to the row of its parity, so a thread still reading step ``t``'s lists is never overwritten
    by a thread already at ``t + 1`` (no thread passes ``t + 2``'s barrier before every thread is done with
    ``t``).  Thread 0 also runs the spike sources (before integrating), the record of the step (after
    pushing) and, at a step where a state monitor samples, the delivery and the sampling between two more
    barriers (every push of the step before done; no neuron integrated yet).  Each thread counts the recorded
    spikes itself, so every thread stops at the same step when the spike record might overflow.

    The blocks' boundaries in force (``thr.bnd[k]``, each thread's own copy) move while the loop runs
    (``thr.balance``, :func:`_rebalance`): each thread writes its busy ticks of the step (all but its waits)
    next to its spike count before the meeting, and after it every thread runs the same balancing on the same
    numbers, so all move the boundaries at the same step to the same places, after merging the step's lists
    (at the old boundaries) and before pushing (new ones).  A neuron's arithmetic and the order of the
    additions to each ring-buffer entry do not depend on which thread does them, so the results do not
    depend on the boundaries; a neuron's state and ring-buffer entries that change hands are handed over at
    the meeting."""
    n_thr = thr.blocks.shape[0] - 1
    sb, bk, acc = thr.blocks, thr.bnd[k, :n_thr + 1], thr.bacc[k]  # static boundaries, those in force, the window
    buf, counts, bspk, rec_flag = ring.buf, thr.counts, thr.bspk, rec.rec_flag
    n_slots = buf.shape[0]
    spk_cap = rec.spk_step.shape[0]
    st = thr.stats[k]
    sync, spin = thr.sync, thr.spin
    src_at = n_thr * SYNC_STRIDE
    lst = scr.spikes if k == 0 else thr.lists[k]
    nrec = spk_n0
    nin = np.int64(0)
    gen = np.int64(0)
    last_push = np.int64(0)
    for s in range(n_steps):
        t = t0 + s
        if nrec + rec.n_rec_max > spk_cap:
            return s
        par = s & 1
        slot = t % n_slots
        c0 = cycles()
        if k == 0:                                                   # 1. the spike sources
            if inp is not None:
                nin = phase_inputs(t, dt, inp, scr)
            for q in range(nin):
                thr.src[par, q] = scr.spikes[q]
            counts[par, src_at] = nin
        if sampling_due(t, rec.mon):  # every thread tests the same: pushes of t - 1 done, deliver, sample
            c1 = cycles()
            gen = barrier(sync, n_thr, gen, st, spin)
            if k == 0:
                phase_deliver(t, slot, True, nrn, ring, rec)         # 2. the whole due slot
                phase_sample(t, nrn, rec.mon)                        # 3. state monitors
            gen = barrier(sync, n_thr, gen, st, spin)
            st[2] += 2
            c2 = cycles()
            st[4] += c2 - c1
            c0 += c2 - c1
        c1 = cycles()
        st[6] += c1 - c0
        be, bi, out = buf[slot, 0], buf[slot, 1], bspk[par]          # 4. block k: tail, middle, head
        b0, h, z, b1 = block_zones(k, bk)
        ct = _integrate_zone(z, b1, nrn, scr, thr, be, bi, out)
        cz1 = cycles()
        cm = _integrate_zone(h, z, nrn, scr, thr, be, bi, out)
        cz2 = cycles()
        c = _integrate_zone(b0, h, nrn, scr, thr, be, bi, out)
        cz3 = cycles()
        st[ZONE_STATS] += cz1 - c1                                   # the zones' ticks and neuron-steps
        st[ZONE_STATS + 1] += cz2 - cz1
        st[ZONE_STATS + 2] += cz3 - cz2
        st[ZONE_STATS + 3] += b1 - z
        st[ZONE_STATS + 4] += z - h
        st[ZONE_STATS + 5] += h - b0
        for q in range(cm):  # the zones' lists made one ascending list at the block's start (moved down only)
            out[b0 + c + q] = out[h + q]
        c += cm
        for q in range(ct):
            out[b0 + c + q] = out[z + q]
        counts[par, k * SYNC_STRIDE] = c + ct
        c2 = cycles()
        counts[par, k * SYNC_STRIDE + 1] = c2 - c0 + last_push  # busy ticks (the balancing)
        gen = barrier(sync, n_thr, gen, st, spin)                   # every block's spikes of t listed
        st[2] += 1
        c3 = cycles()
        n = np.int64(0)                                              # 5. merge, sort, push onto block k
        if k == 0:
            n = nin  # the sources' spikes are already at the start of scr.spikes
        else:
            for q in range(counts[par, src_at]):
                lst[n] = thr.src[par, q]
                n += 1
        for j in range(n_thr):
            o = bk[j]
            for q in range(counts[par, j * SYNC_STRIDE]):
                lst[n] = out[o + q]
                n += 1
        if thr.balance != 0:  # the boundaries of this push and of the next integration: the same in every thread
            _rebalance(counts, par, sb, bk, acc, thr.balance)
        _sort_spikes(lst, n)
        _push_block(k, sb, bk, thr.split, thr.proj_sorted, thr.proj_span, lst, n, slot, syn, buf)
        c4 = cycles()
        for q in range(n):
            if rec_flag[lst[q]]:
                nrec += 1
        if k == 0:
            phase_record(t, s, n, syn, rec, scr)                     # 5c. count and record
        c5 = cycles()
        last_push = c5 - c3
        st[3] += c2 - c1
        st[4] += c3 - c2
        st[5] += c4 - c3
        st[6] += c5 - c4
    return n_steps


def run_chunk_blocks(t0, n_steps, dt, nrn, inp, syn, ring, rec, scr, thr) -> int:
    """:func:`memr_snn.kernel.loop.run_chunk` in dense mode (float weights, no plasticity: :func:`blocks_apply`)
    on the ``T`` threads of ``thr``: the calling thread runs :func:`run_block` for block 0, ``T - 1`` Python
    threads the other blocks (the compiled loop releases the GIL).  Same results and return value."""
    n_thr = thr.blocks.size - 1
    thr.sync[:] = 0
    thr.bnd[1:] = thr.bnd[0]  # every thread starts from the boundaries the last call ended with, ...
    thr.bacc[1:] = thr.bacc[0]  # ... and the same window
    flag_bias(thr.ranges, nrn.gi, nrn.ib, thr.range_bias)  # every cut range: a block may reach into its neighbour's
    spk_n0 = int(rec.spk_n[0])
    done = [0] * n_thr
    errors = []

    def work(k):
        c0 = time.thread_time()
        try:
            done[k] = run_block(k, t0, n_steps, dt, spk_n0, nrn, inp, syn, ring, rec, scr, thr)
        except BaseException as exc:  # pragma: no cover - the compiled loop raises nothing
            errors.append(exc)
        thr.cpu_ns[k] += int((time.thread_time() - c0) * 1e9)

    workers = [threading.Thread(target=work, args=(k,), name=f"memr_snn-block-{k}", daemon=True)
               for k in range(1, n_thr)]
    for w in workers:
        w.start()
    work(0)
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return done[0]
