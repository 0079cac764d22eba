"""The tables of the threaded loops (:mod:`memr_snn.kernel.threads`), built in numpy when a network first runs
on several threads: the neuron blocks, the dense ranges cut at their boundaries, whether each projection's
rows are sorted, and where each sorted row crosses each block boundary (:func:`row_splits`), so that a
thread pushing a spike jumps straight to its own block's part of the row.  :func:`deliver_reference` is the
numpy twin of the partitioned delivery (the tests)."""

from collections import namedtuple

import numpy as np

from .sync import SPIN_TICKS, SYNC_STRIDE, new_sync

__all__ = ["Threads", "STATS", "ZONE_STATS", "BLOCK_ALIGN", "EVENT_MIN_PER_THREAD", "ROW_CHUNK", "block_bounds",
           "block_ranges", "rows_sorted", "row_splits", "proj_spans", "make_threads", "deliver_reference"]

#: the per-thread tables: ``blocks`` (T + 1 boundaries of the neuron blocks), ``ranges`` / ``ranges_ptr`` (the
#: network's dense ranges cut at the block boundaries, per block), ``pspk`` (each block's spikes, at its own
#: offset), ``pcnt`` (their number per block), ``prev`` (a step's spikes pushed in the next step's region),
#: ``proj_sorted`` (1 for a projection whose rows list their targets in ascending order), ``event_min``
#: (event mode: the least active neurons per thread for the active list to be integrated on the threads;
#: fewer run on the calling thread).  The block loop (:func:`run_block`) uses the rest: ``bspk`` (2, N: each
#: block's spikes at its own offset, one row per step parity), ``counts`` (2, (T + 1) * SYNC_STRIDE: per
#: parity, block ``k``'s spike count at ``k * SYNC_STRIDE``, the spike sources' at ``T * SYNC_STRIDE``), ``src``
#: (2, N: the sources' spikes per parity), ``lists`` (T, N: each thread's merged spike list of the step),
#: ``range_bias`` (per cut range, :func:`memr_snn.kernel.loop.flag_bias`), ``sync`` (the barrier,
#: :mod:`memr_snn.kernel.sync`), ``stats`` (T, STATS: per thread, see :data:`STATS`), ``spin`` (the barrier's
#: ``pause`` count before it yields), ``cpu_ns`` (T: each thread's CPU time in :func:`run_chunk_blocks`, ns),
#: ``split`` (int32, one row per CSR row, ``T - 1`` columns: :func:`row_splits`, both loops).  The block loop's
#: balancing (:func:`memr_snn.kernel.threads.run_block`): ``bnd`` (T, stride: row ``k`` is thread ``k``'s copy
#: of the ``T + 1`` boundaries in force; row 0 is where the next call starts), ``bacc`` (T, stride: each
#: thread's copy of the window's busy ticks per block, the steps in the window at ``T`` and the windows done at
#: ``T + 1``), ``balance`` (1: the boundaries follow the threads' busy times, 0: they stay at ``blocks``, -1:
#: they jump to pseudo-random places every window, the tests' check that results do not depend on them).
#: ``proj_span`` (P, 2): per projection its targets' least and one past the greatest (0, 0 without synapses;
#: :func:`proj_spans`): a thread skips a projection with no target in its block without reading the row
Threads = namedtuple("Threads", ["blocks", "ranges", "ranges_ptr", "pspk", "pcnt", "prev", "proj_sorted",
                                 "event_min", "bspk", "counts", "src", "lists", "range_bias", "sync", "stats",
                                 "spin", "cpu_ns", "split", "bnd", "bacc", "balance", "proj_span"])

#: the columns of ``Threads.stats``, per thread, accumulated over every :func:`run_block` call: barriers at
#: which the thread waited, times it slept (or yielded its core) while waiting, barriers passed, then
#: cycle-counter ticks spent integrating its block, waiting at barriers, merging, sorting and pushing the
#: step's spikes onto its block, and (thread 0) in serial work (inputs, delivery and sampling at monitor
#: steps, recording); entry ``sync.SPIN_NOW`` (8) is the barrier's adaptive spin
STATS = ("waits", "sleeps", "barriers", "integrate", "wait", "push", "serial")
#: ``Threads.stats`` columns from this one on (after the barrier's spin, ``sync.SPIN_NOW``): per thread the
#: cycle-counter ticks spent integrating its block's tail, middle and head zones
#: (:func:`memr_snn.kernel.threads.block_zones`), then the neuron-steps integrated in each (their ratio is the
#: cost of a neuron-step per zone; a head or tail dearer than the middle is the blocks' seam, docs/engine.md)
ZONE_STATS = 9

#: block boundaries are multiples of this many neurons (64 float64 = 8 cache lines; 64 uint8 flags = 1 line)
BLOCK_ALIGN = 64
#: event mode integrates the active list on several threads only when it has this many neurons per thread
EVENT_MIN_PER_THREAD = 4096


def block_bounds(dense_ranges: np.ndarray, n_total: int, n_threads: int) -> np.ndarray:
    """Boundaries ``b[0] = 0 <= b[1] <= ... <= b[T] = n_total`` of ``T`` blocks with about equal numbers of
    integrated neurons (those in ``dense_ranges``; spike sources are not integrated), on multiples of
    :data:`BLOCK_ALIGN` (numpy, run when the engine is built)."""
    n_total = int(n_total)
    ids = np.concatenate([np.arange(lo, hi, dtype=np.int64) for lo, hi, _ in dense_ranges] or
                         [np.zeros(0, dtype=np.int64)])
    bounds = np.zeros(n_threads + 1, dtype=np.int64)
    bounds[-1] = n_total
    for k in range(1, n_threads):
        cut = int(ids[(k * ids.size) // n_threads]) if ids.size else 0
        cut = min(n_total, (cut + BLOCK_ALIGN // 2) // BLOCK_ALIGN * BLOCK_ALIGN)
        bounds[k] = max(cut, bounds[k - 1])
    return bounds


def block_ranges(dense_ranges: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dense ranges ``(lo, hi, group)`` cut at the block boundaries: ``(ranges, ptr)``, block ``k``'s in
    ``ranges[ptr[k]:ptr[k + 1]]``, in the original order (numpy)."""
    rows, ptr = [], [0]
    for k in range(bounds.size - 1):
        b0, b1 = int(bounds[k]), int(bounds[k + 1])
        for lo, hi, g in dense_ranges:
            lo_, hi_ = max(int(lo), b0), min(int(hi), b1)
            if lo_ < hi_:
                rows.append((lo_, hi_, int(g)))
        ptr.append(len(rows))
    return np.array(rows, dtype=np.int64).reshape(-1, 3), np.array(ptr, dtype=np.int64)


def rows_sorted(proj_ipo, proj_so, n_pre, syn_indptr, syn_post) -> np.ndarray:
    """Per projection: 1 if every row lists its targets in ascending order, else 0 (numpy).  ``n_pre[pr]`` is
    projection ``pr``'s number of rows; its row pointers are ``syn_indptr[proj_ipo[pr]:][:n_pre[pr] + 1]``."""
    out = np.zeros(proj_ipo.size, dtype=np.int64)
    for pr in range(proj_ipo.size):
        ptr = syn_indptr[proj_ipo[pr]:proj_ipo[pr] + n_pre[pr] + 1]
        posts = syn_post[proj_so[pr] + ptr[0]:proj_so[pr] + ptr[-1]].astype(np.int64)
        down = np.flatnonzero(np.diff(posts) < 0) + 1  # positions k where posts[k] < posts[k - 1]
        out[pr] = int(np.all(np.isin(down + ptr[0], ptr)))  # only where a row starts
    return out


#: :func:`row_splits` counts the targets below a boundary over groups of whole rows of about this many synapses
#: (bounds its temporary arrays: 9 bytes per synapse)
ROW_CHUNK = 1 << 22


def row_splits(proj_ipo, proj_so, n_pre, syn_indptr, syn_post, proj_sorted, bounds) -> np.ndarray:
    """Where each sorted row crosses each inner block boundary (numpy, run when the threaded tables are built).

    Returns ``split`` (int32, ``(syn_indptr.size, T - 1)``): for a row ``row = proj_ipo[pr] + i`` of a projection
    whose rows are sorted (``proj_sorted[pr]``, :func:`rows_sorted`) and boundary ``bounds[j + 1]``, the number
    of the row's targets below the boundary, i.e. the offset from the row's start where block ``j``'s part ends
    and block ``j + 1``'s begins.  Thread ``k`` then pushes ``[split[row, k - 1], split[row, k])`` of the row
    (0 for ``k = 0``, the row's length for ``k = T - 1``) without searching it.  Rows of unsorted projections
    are 0 (the kernels test each target there).

    Raises
    ------
    ValueError
        A computed offset is not where the row crosses the boundary (a row that is not sorted, or a row
        longer than int32 counts).
    """
    bounds = np.asarray(bounds, dtype=np.int64)
    inner = bounds[1:-1]
    split = np.zeros((max(int(syn_indptr.size), 1), inner.size), dtype=np.int32)
    if inner.size == 0:
        return split
    for pr in range(proj_ipo.size):
        n_rows = int(n_pre[pr])
        if proj_sorted[pr] == 0 or n_rows == 0:
            continue
        ip0, so = int(proj_ipo[pr]), int(proj_so[pr])
        ptr = syn_indptr[ip0:ip0 + n_rows + 1].astype(np.int64)
        lens = np.diff(ptr)
        if lens.max(initial=0) >= 2 ** 31:
            raise ValueError(f"row_splits: projection {pr} has a row of {int(lens.max())} synapses (at most 2**31 - 1)")
        r = 0
        while r < n_rows:  # whole rows, about ROW_CHUNK synapses at a time
            r1 = int(np.searchsorted(ptr, ptr[r] + ROW_CHUNK, side="right")) - 1
            r1 = min(max(r1, r + 1), n_rows)
            posts = syn_post[so + ptr[r]:so + ptr[r1]]
            ends = ptr[r + 1:r1 + 1] - ptr[r]  # each row's end in posts
            below = np.zeros(posts.size + 1, dtype=np.int64)
            for j, b in enumerate(inner):
                np.cumsum(posts < b, out=below[1:])
                split[ip0 + r:ip0 + r1, j] = below[ends] - below[ends - lens[r:r1]]
            r = r1
        _check_splits(split[ip0:ip0 + n_rows], ptr, syn_post[so + ptr[0]:so + ptr[-1]], inner, pr)
    return split


def _check_splits(split, ptr, posts, inner, pr) -> None:
    """Raise ValueError unless every ``split[i, j]`` of a projection (rows ``ptr``, targets ``posts``) is where row
    ``i`` crosses ``inner[j]``: the target before it is below the boundary, the one at it is not."""
    start = ptr[:-1] - ptr[0]
    lens = np.diff(ptr)
    s = split.astype(np.int64)
    ok = (s >= 0) & (s <= lens[:, None])
    if inner.size > 1:
        ok[:, 1:] &= np.diff(s, axis=1) >= 0
    last = max(posts.size - 1, 0)  # an empty last row starts at posts.size: clip the indices not used there
    for j, b in enumerate(inner):
        at = np.minimum(start + np.minimum(s[:, j], np.maximum(lens - 1, 0)), last)
        has_before, has_at = s[:, j] > 0, s[:, j] < lens
        if posts.size:
            ok[:, j] &= ~has_before | (posts[np.clip(start + s[:, j] - 1, 0, last)] < b)
            ok[:, j] &= ~has_at | (posts[at] >= b)
    if not ok.all():
        i, j = np.argwhere(~ok)[0]
        raise ValueError(f"row_splits: projection {pr}, row {int(i)}: offset {int(s[i, j])} is not where the row "
                         f"crosses block boundary {int(inner[j])} (rows must list their targets in ascending order)")


def make_threads(dense_ranges: np.ndarray, n_total: int, n_threads: int, proj_ipo, proj_so, n_pre, syn_indptr,
                 syn_post, event_min: int = EVENT_MIN_PER_THREAD, spin: int = SPIN_TICKS,
                 balance: int = 1) -> Threads:
    """The :class:`Threads` record of a network with ``n_total`` neurons on ``n_threads`` threads, whose
    synapses are the CSR rows ``syn_indptr`` / ``syn_post`` (projection ``pr``'s ``n_pre[pr]`` rows from
    ``proj_ipo[pr]``, its targets from ``proj_so[pr]``): :func:`rows_sorted` and :func:`row_splits` run here.
    ``balance``: the block loop's boundaries (1 adaptive, 0 static, -1 shuffled; :class:`Threads`)."""
    if balance not in (-1, 0, 1):
        raise ValueError(f"make_threads: balance={balance!r}, allowed -1 (shuffled), 0 (static) or 1 (adaptive)")
    bounds = block_bounds(dense_ranges, n_total, n_threads)
    ranges, ptr = block_ranges(dense_ranges, bounds)
    proj_sorted = rows_sorted(proj_ipo, proj_so, n_pre, syn_indptr, syn_post)
    split = row_splits(proj_ipo, proj_so, n_pre, syn_indptr, syn_post, proj_sorted, bounds)
    span = proj_spans(proj_ipo, proj_so, n_pre, syn_indptr, syn_post)
    n = max(int(n_total), 1)
    stride = -(-(n_threads + 2) // SYNC_STRIDE) * SYNC_STRIDE  # rows of whole cache lines: no sharing
    bnd = np.zeros((n_threads, stride), dtype=np.int64)
    bnd[:, :bounds.size] = bounds
    return Threads(bounds, ranges, ptr, np.zeros(n, dtype=np.int64), np.zeros(n_threads, dtype=np.int64),
                   np.zeros(n, dtype=np.int64), np.ascontiguousarray(proj_sorted, dtype=np.int64), np.int64(event_min),
                   np.zeros((2, n), dtype=np.int64), np.zeros((2, (n_threads + 1) * SYNC_STRIDE), dtype=np.int64),
                   np.zeros((2, n), dtype=np.int64), np.zeros((n_threads, n), dtype=np.int64),
                   np.ones(ranges.shape[0], dtype=np.int64), new_sync(),
                   np.zeros((n_threads, 2 * SYNC_STRIDE), dtype=np.int64), np.int64(spin),
                   np.zeros(n_threads, dtype=np.int64), split, bnd, np.zeros((n_threads, stride), dtype=np.int64),
                   np.int64(balance), span)


def proj_spans(proj_ipo, proj_so, n_pre, syn_indptr, syn_post) -> np.ndarray:
    """Per projection ``(least target, greatest target + 1)``, ``(0, 0)`` for one without synapses (numpy; int64,
    ``(P, 2)``)."""
    span = np.zeros((len(proj_ipo), 2), dtype=np.int64)
    for pr in range(len(proj_ipo)):
        ip0 = int(proj_ipo[pr])
        lo, hi = int(syn_indptr[ip0]), int(syn_indptr[ip0 + int(n_pre[pr])])
        if hi > lo:
            posts = syn_post[int(proj_so[pr]) + lo:int(proj_so[pr]) + hi]
            span[pr] = int(posts.min()), int(posts.max()) + 1
    return span


def deliver_reference(spikes, pop_of, pop_out_ptr, pop_out_proj, proj_pre_lo, proj_ipo, proj_so, proj_rec,
                      proj_delay, proj_doff, syn_indptr, syn_post, syn_w, syn_delay, buf, slot, bounds, split=None,
                      proj_sorted=None):
    """numpy twin of the threaded dense delivery: block by block, each adds the weights onto its own targets
    in spike, projection and synapse order (the result equals one pass over all targets).  With ``split``
    (:func:`row_splits`) and ``proj_sorted``, block ``k`` adds a sorted row's part ``split`` gives it, without
    testing the targets (so a wrong split shows in the result)."""
    n_slots = buf.shape[0]
    n_blocks = bounds.size - 1
    for k in range(n_blocks):
        b0, b1 = bounds[k], bounds[k + 1]
        for g in spikes:
            pop = pop_of[g]
            for e in range(pop_out_ptr[pop], pop_out_ptr[pop + 1]):
                pr = pop_out_proj[e]
                row = proj_ipo[pr] + g - proj_pre_lo[pr]
                so = proj_so[pr]
                lo, hi = syn_indptr[row], syn_indptr[row + 1]
                use_split = split is not None and proj_sorted[pr] != 0
                if use_split:
                    lo, hi = (lo + (split[row, k - 1] if k > 0 else 0),
                              syn_indptr[row] + split[row, k] if k < n_blocks - 1 else hi)
                for kk in range(lo, hi):
                    post = syn_post[so + kk]
                    if use_split or b0 <= post < b1:
                        d = proj_delay[pr] if proj_doff[pr] < 0 else syn_delay[proj_doff[pr] + kk]
                        buf[(slot + d) % n_slots, proj_rec[pr], post] += syn_w[so + kk]
