"""Dense-mode delivery of a step's spikes along float-weight synapses: the push phase of every benchmark network.

:func:`memr_snn.kernel.loop.phase_push` hands a step to :func:`push_float_dense` when the network has no
crossbars and no plasticity and the step is dense; every other case (event mode's touched lists, crossbar
reads, presynaptic plasticity events) stays in ``phase_push``.  Each ring-buffer entry receives the same
additions in the same order as there (spikes ascending, projections in ``pop_out_proj`` order, synapses in
row order), so the results are the same bit for bit.

What makes it cheaper than the general path (measured on CUBA/COBA, docs/engine.md):

* **no reference counting** (``_nrt=False``): it allocates nothing, and numba otherwise takes and drops a
  reference (two atomic operations) for every row view and array argument, several per spike and row;
* **no views, unsigned indices**: rows are walked by index; targets are read as ``uint32`` and synapse
  indices as ``uint64``, so numba emits no wraparound test for negative indices in the scatter loop;
* **uniform weights** (``proj_wu[pr] == 1``): a projection whose weights are all the same float
  (bit for bit; kept up to date by the engine, :func:`memr_snn.engine.records.refresh_uniform`) adds its
  constant ``proj_wc[pr]`` and does not read ``syn_w``: a row then costs 4 bytes per synapse instead of 12,
  which is what the push waits for once the rows no longer fit the caches;
* the rows of the whole step are prefetched before the first is pushed (targets, and the weights of
  non-uniform projections), so their cache misses overlap.
"""

import numpy as np
from numba import njit

from .crossbar import prefetch

__all__ = ["push_float_dense", "prefetch_push_rows", "prefetch_span", "row_span", "push_row", "push_row_delays"]


@njit(cache=True, error_model="numpy", inline="always")
def push_row(brow, syn_post, syn_w, lo, hi, wu, wc):
    """Add synapses ``[lo, hi)`` of a row with one delay to the ring-buffer row ``brow`` (one slot, one receptor):
    ``brow[syn_post[k]] += syn_w[k]`` in synapse order, or ``+= wc`` if ``wu`` (uniform weights: every
    ``syn_w[k] == wc``, bit for bit, so the sums are the same).  Unsigned indices: no wraparound tests.
    The inner loop of :func:`push_float_dense` and of the threads' block push
    (:func:`memr_snn.kernel.threads._deliver_block`)."""
    if wu != 0:
        for k in range(lo, hi):
            brow[np.uint32(syn_post[np.uint64(k)])] += wc
    else:
        for k in range(lo, hi):
            ku = np.uint64(k)
            brow[np.uint32(syn_post[ku])] += syn_w[ku]


@njit(cache=True, error_model="numpy", inline="always")
def push_row_delays(buf, rec, slot, syn_post, syn_w, syn_delay, d0, lo, hi, wu, wc):
    """:func:`push_row` for a row with a delay per synapse: synapse ``k`` adds to ``buf[slot + syn_delay[d0 + k]
    (mod the slot count), rec, syn_post[k]]`` (delays below the slot count: one subtraction wraps)."""
    n_slots = buf.shape[0]
    for k in range(lo, hi):
        ku = np.uint64(k)
        sl = slot + syn_delay[np.uint64(d0 + k)]
        if sl >= n_slots:
            sl -= n_slots
        if wu != 0:
            buf[sl, rec, np.uint32(syn_post[ku])] += wc
        else:
            buf[sl, rec, np.uint32(syn_post[ku])] += syn_w[ku]


@njit(cache=True, error_model="numpy", inline="always")
def row_span(syn, pr, g):
    """Row of presynaptic neuron ``g`` in projection ``pr`` and its synapses ``[lo, hi)`` in the flat CSR arrays
    (``syn_post``, ``syn_w``): ``(row, lo, hi)``."""
    row = syn.proj_ipo[pr] + g - syn.proj_pre_lo[pr]
    so = syn.proj_so[pr]
    return row, so + syn.syn_indptr[row], so + syn.syn_indptr[row + 1]


@njit(cache=True, error_model="numpy", inline="always")
def prefetch_span(syn_post, syn_w, lo, hi, weights):
    """One ``llvm.prefetch`` per 64-byte line of synapses ``[lo, hi)``: targets (16 int32) and, if ``weights``,
    weights (8 float64)."""
    for k in range(lo, hi, 16):
        prefetch(syn_post, k)
    if weights:
        for k in range(lo, hi, 8):
            prefetch(syn_w, k)


@njit(cache=True, error_model="numpy", inline="always")
def prefetch_push_rows(spikes, nspk, syn, all_weights):
    """Prefetch the rows a push will read for the step's spikes, before the first is pushed: targets, and weights
    (of every projection if ``all_weights``, as :func:`memr_snn.kernel.loop.phase_push`'s general loop reads
    them; else only of projections with non-uniform weights, the ones :func:`push_float_dense` reads)."""
    pop_of, pop_out_ptr, pop_out_proj = syn.pop_of, syn.pop_out_ptr, syn.pop_out_proj
    for q in range(nspk):
        g = spikes[q]
        pop = pop_of[g]
        for e in range(pop_out_ptr[pop], pop_out_ptr[pop + 1]):
            pr = pop_out_proj[e]
            _, lo_k, hi_k = row_span(syn, pr, g)
            prefetch_span(syn.syn_post, syn.syn_w, lo_k, hi_k, all_weights or syn.proj_wu[pr] == 0)


@njit(cache=True, error_model="numpy", _nrt=False)
def push_float_dense(slot, spikes, nspk, syn, buf):
    """Push the step's ``nspk`` spikes (``spikes``, ascending) along their float-weight rows into the ring buffer
    ``buf[slot', receptor, neuron]`` at ``slot' = slot + delay`` (mod the slot count); dense mode, no touched lists.

    Same additions, in the same order, as :func:`memr_snn.kernel.loop.phase_push` (module docstring).
    """
    n_slots = buf.shape[0]
    pop_of, pop_out_ptr, pop_out_proj = syn.pop_of, syn.pop_out_ptr, syn.pop_out_proj
    proj_so, proj_rec = syn.proj_so, syn.proj_rec
    proj_delay, proj_doff, proj_wu, proj_wc = syn.proj_delay, syn.proj_doff, syn.proj_wu, syn.proj_wc
    syn_post, syn_w, syn_delay = syn.syn_post, syn.syn_w, syn.syn_delay
    prefetch_push_rows(spikes, nspk, syn, False)
    for q in range(nspk):
        g = spikes[q]
        pop = pop_of[g]
        for e in range(pop_out_ptr[pop], pop_out_ptr[pop + 1]):
            pr = pop_out_proj[e]
            _, lo_k, hi_k = row_span(syn, pr, g)
            so = proj_so[pr]
            rec = proj_rec[pr]
            doff = proj_doff[pr]
            if doff < 0:  # uniform delay: one ring-buffer row for the whole row of synapses
                sl = slot + proj_delay[pr]
                if sl >= n_slots:
                    sl -= n_slots
                push_row(buf[sl, rec], syn_post, syn_w, lo_k, hi_k, proj_wu[pr], proj_wc[pr])
            else:  # a delay per synapse (delays < n_slots: one subtraction wraps)
                push_row_delays(buf, rec, slot, syn_post, syn_w, syn_delay, doff - so, lo_k, hi_k, proj_wu[pr],
                                proj_wc[pr])
