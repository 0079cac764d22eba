"""The threaded kernels' pieces (:mod:`memr_snn.kernel.threads`): block boundaries, the row-order test, and
the partitioned delivery against one sequential pass (``np.add.at`` adds in index order, as one thread does)."""

import numpy as np
import pytest

from memr_snn.kernel import thread_layout
from memr_snn.kernel import threads as KT
from memr_snn.kernel.models import selector


def test_block_bounds_balance_integrated_neurons():
    # 100 spike sources (not integrated) first, then 10 000 neurons in two ranges
    ranges = np.array([[100, 6100, 0], [6100, 10100, 1]], dtype=np.int64)
    b = KT.block_bounds(ranges, 10100, 2)
    assert b[0] == 0 and b[-1] == 10100 and b[1] % KT.BLOCK_ALIGN == 0
    assert abs((b[1] - 100) - (10100 - b[1])) <= KT.BLOCK_ALIGN
    cut, ptr = KT.block_ranges(ranges, b)
    assert ptr.tolist() == [0, 1, 3]
    assert cut[:, :2].tolist() == [[100, b[1]], [b[1], 6100], [6100, 10100]]
    # fewer neurons than threads: empty blocks, still a partition
    b = KT.block_bounds(np.array([[0, 5, 0]]), 5, 4)
    assert b[0] == 0 and b[-1] == 5 and np.all(np.diff(b) >= 0)


def test_block_zones():
    """Head (not for block 0), middle and tail (not for the last block) of each block, ZONE neurons at most."""
    z = KT.ZONE
    blocks = np.array([0, 3 * z, 3 * z + 100, 7 * z], dtype=np.int64)
    assert KT.block_zones(0, blocks) == (0, 0, 2 * z, 3 * z)
    assert KT.block_zones(1, blocks) == (3 * z, 3 * z + 100, 3 * z + 100, 3 * z + 100)  # shorter than a zone: head
    assert KT.block_zones(2, blocks) == (3 * z + 100, 4 * z + 100, 7 * z, 7 * z)
    for k in range(3):
        b0, h, m, b1 = KT.block_zones(k, blocks)
        assert blocks[k] == b0 <= h <= m <= b1 == blocks[k + 1] and h - b0 <= z and b1 - m <= z


def _balance(sb, cost, windows, mode=1):
    """The boundaries after each of ``windows`` windows of :func:`KT._rebalance`, a block's busy ticks per step
    being its neurons times ``cost[block]``."""
    from memr_snn.kernel.sync import SYNC_STRIDE

    sb = np.asarray(sb, dtype=np.int64)
    n_thr = sb.size - 1
    bk, acc = sb.copy(), np.zeros(n_thr + 2, dtype=np.int64)
    counts = np.zeros((2, (n_thr + 1) * SYNC_STRIDE), dtype=np.int64)
    out = []
    for _ in range(windows):
        for s in range(KT.BALANCE_WINDOW):
            for j in range(n_thr):
                counts[s & 1, j * SYNC_STRIDE + 1] = int((bk[j + 1] - bk[j]) * cost[j])
            KT._rebalance(counts, s & 1, sb, bk, acc, mode)
        out.append(bk.copy())
    assert acc[n_thr + 1] == windows and acc[:n_thr + 1].tolist() == [0] * (n_thr + 1)
    return np.array(out)


@pytest.mark.parametrize("sb, cost, equal", [
    ([0, 8192, 16384], (10, 12), [8937]),  # 16384 * (1/10) / (1/10 + 1/12)
    ([0, 4096, 8192, 12288], (1, 2, 1), [4915, 7373]),  # sizes 2 : 1 : 2
])
def test_rebalance_equalises_busy_times(sb, cost, equal):
    """Boundaries move half-way to where the blocks' busy times are equal, at most BALANCE_STEP neurons a window,
    on multiples of BLOCK_ALIGN, and settle there (within one or two lines of 64 neurons)."""
    hist = _balance(sb, cost, 40)
    steps = np.abs(np.diff(np.vstack([np.asarray(sb)[None], hist]), axis=0))
    assert steps.max() <= KT.BALANCE_STEP and (hist % KT.BLOCK_ALIGN == 0)[:, 1:-1].all()
    assert np.abs(hist[-1, 1:-1] - equal).max() <= 2 * KT.BLOCK_ALIGN
    assert (hist[-1] == hist[-5]).all()  # settled
    assert hist[0, 1] != sb[1]


def test_rebalance_reach_and_shuffle():
    """A boundary stays within a third of the smaller neighbouring static block of its static place however
    uneven the costs; mode -1 jumps within that reach every window; no busy ticks: no move."""
    sb = [0, 8192, 16384]
    reach = 8192 // KT.BALANCE_REACH // KT.BLOCK_ALIGN * KT.BLOCK_ALIGN
    hist = _balance(sb, (1, 10), 60)
    assert hist[-1, 1] == 8192 + reach and hist[:, 1].max() == 8192 + reach
    assert _balance(sb, (10, 1), 60)[-1, 1] == 8192 - reach
    assert (_balance(sb, (0, 0), 3) == sb).all()
    shuf = _balance(sb, (0, 0), 30, mode=-1)[:, 1]
    assert np.abs(shuf - 8192).max() <= reach and (shuf % KT.BLOCK_ALIGN == 0).all()
    assert len(set(shuf.tolist())) >= 15 and (np.diff(shuf) != 0).sum() >= 25


def test_proj_spans():
    """Each projection's least target and one past its greatest; (0, 0) without synapses."""
    indptr = np.array([0, 2, 5, 5, 5], dtype=np.int64)  # projection 0: rows 0-1, projection 1: rows 2-3, empty
    post = np.array([7, 3, 9, 12, 4], dtype=np.int32)
    span = KT.proj_spans(np.array([0, 2]), np.zeros(2, np.int64), np.array([2, 2]), indptr, post)
    assert span.tolist() == [[3, 13], [0, 0]]


def test_rows_sorted():
    indptr = np.array([0, 3, 5], dtype=np.int64)
    sorted_post = np.array([1, 4, 9, 0, 2], dtype=np.int32)  # each row ascending, a descent at a row start
    unsorted_post = np.array([1, 9, 4, 0, 2], dtype=np.int32)
    one = np.zeros(1, dtype=np.int64)
    assert KT.rows_sorted(one, one, np.array([2]), indptr, sorted_post).tolist() == [1]
    assert KT.rows_sorted(one, one, np.array([2]), indptr, unsorted_post).tolist() == [0]


def _network(rng, n_pre=300, n_post=2000, per_row=60, delays=False, sort=True):
    indptr = np.arange(n_pre + 1, dtype=np.int64) * per_row
    post = rng.integers(0, n_post, n_pre * per_row).astype(np.int32)  # repeated targets within a row too
    if sort:
        post = np.sort(post.reshape(n_pre, per_row), axis=1).ravel()
    w = rng.standard_normal(post.size) * 10.0 ** rng.uniform(-3, 3, post.size)  # sums that round
    d = rng.integers(1, 5, post.size).astype(np.int16) if delays else np.zeros(1, dtype=np.int16)
    return indptr, post, w, d


@pytest.mark.parametrize("uniform", [False, True])
@pytest.mark.parametrize("delays", [False, True])
@pytest.mark.parametrize("sort", [True, False])
@pytest.mark.parametrize("n_threads", [2, 3])
def test_partitioned_delivery_is_one_sequential_pass(uniform, delays, sort, n_threads):
    rng = np.random.default_rng([5, int(delays), int(sort), n_threads])
    n_post, n_slots, slot = 2000, 5, 3
    indptr, post, w, d = _network(rng, delays=delays, sort=sort)
    if uniform:  # one weight for the projection: the kernel adds proj_wc and must not read syn_w
        w = np.full(w.size, 0.1)  # a sum of 0.1s rounds: the order of the additions shows
    n_pre = indptr.size - 1
    spikes = np.sort(rng.choice(n_pre, 120, replace=False)).astype(np.int64)
    # one population of sources (0..n_pre-1) projecting to the targets (offset n_pre), projection 0, receptor 1
    pop_of = np.zeros(n_pre, dtype=np.int64)
    one = np.ones(1, dtype=np.int64)
    zero = np.zeros(1, dtype=np.int64)
    proj = dict(pop_of=pop_of, pop_out_ptr=np.array([0, 1]), pop_out_proj=zero, proj_pre_lo=zero, proj_ipo=zero,
                proj_so=zero, proj_rec=one, proj_delay=np.array([2]), proj_doff=zero if delays else -one)
    bounds = KT.block_bounds(np.array([[0, n_post, 0]]), n_post, n_threads)
    expected = np.zeros((n_slots, 2, n_post))
    for g in spikes:  # one thread's order: spike by spike, synapse by synapse
        ks = np.arange(indptr[g], indptr[g + 1])
        dl = d[ks] if delays else np.full(ks.size, 2)
        np.add.at(expected, ((slot + dl) % n_slots, 1, post[ks]), w[ks])
    ref = np.zeros_like(expected)
    KT.deliver_reference(spikes, *proj.values(), indptr, post, w, d, ref, slot, bounds)
    np.testing.assert_array_equal(ref, expected)
    sorted_flag = KT.rows_sorted(zero, zero, np.array([n_pre]), indptr, post)
    assert sorted_flag[0] == int(sort)
    split = KT.row_splits(zero, zero, np.array([n_pre]), indptr, post, sorted_flag, bounds)
    assert split.shape == (indptr.size, n_threads - 1) and split.dtype == np.int32
    if sort:  # each sorted row cut where its targets cross each block boundary
        for g in range(n_pre):
            row = post[indptr[g]:indptr[g + 1]]
            assert split[g].tolist() == [int(np.sum(row < b)) for b in bounds[1:-1]]
    else:
        assert not split.any()
    ref = np.zeros_like(expected)
    KT.deliver_reference(spikes, *proj.values(), indptr, post, w, d, ref, slot, bounds, split, sorted_flag)
    np.testing.assert_array_equal(ref, expected)
    buf = np.zeros_like(expected)
    n = n_post
    KT._blocks(False, True, slot, slot, spikes, spikes.size, bounds, np.zeros((0, 3), np.int64),
               np.zeros(n_threads + 1, np.int64), np.zeros(n, np.int64), np.zeros(n_threads, np.int64),
               selector([0]), np.zeros((1, 30)), np.zeros((1, 3), np.int64), np.zeros(n, np.int64), np.zeros(n),
               np.zeros(n),
               np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, np.int32), np.zeros(n, np.uint8), np.zeros(n),
               *proj.values(), np.array([int(uniform)], np.uint8), np.array([w[0] if uniform else 0.0]), sorted_flag,
               KT.proj_spans(zero, zero, np.array([n_pre]), indptr, post), split, indptr, post,
               np.full(w.size, np.nan) if uniform else w, d, buf)
    np.testing.assert_array_equal(buf, expected)


def test_row_splits_rows_in_chunks_and_checked(monkeypatch):
    # rows counted a few at a time give the same table; an unsorted row flagged as sorted is refused
    rng = np.random.default_rng(11)
    indptr, post, _, _ = _network(rng, n_pre=50, n_post=3000, per_row=40)
    indptr = np.concatenate([[0, 0], indptr]).astype(np.int64)  # two empty rows first
    n_pre = np.array([indptr.size - 1])
    zero = np.zeros(1, dtype=np.int64)
    bounds = KT.block_bounds(np.array([[0, 3000, 0]]), 3000, 3)
    whole = KT.row_splits(zero, zero, n_pre, indptr, post, np.ones(1, np.int64), bounds)
    assert whole[:2].tolist() == [[0, 0], [0, 0]]
    assert whole[n_pre[0] - 1].tolist() == [np.sum(post[-40:] < b) for b in bounds[1:-1]]
    monkeypatch.setattr(thread_layout, "ROW_CHUNK", 100)
    np.testing.assert_array_equal(KT.row_splits(zero, zero, n_pre, indptr, post, np.ones(1, np.int64), bounds), whole)
    assert KT.row_splits(zero, zero, n_pre, indptr, post, np.zeros(1, np.int64), bounds).sum() == 0
    assert KT.row_splits(zero, zero, n_pre, indptr, post, np.ones(1, np.int64), bounds[[0, -1]]).shape == (53, 0)
    bad = post.copy()
    bad[40:80] = bad[40:80][::-1]  # row 1 descending
    with pytest.raises(ValueError, match="row_splits: projection 0, row 3"):
        KT.row_splits(zero, zero, n_pre, indptr, bad, np.ones(1, np.int64), bounds)


@pytest.mark.parametrize("empty", ["first", "last", "all"])
def test_row_splits_with_empty_rows(empty):
    # a projection whose last presynaptic neuron has no synapse: its row starts at the end of the targets
    # (the check indexed one past them: IndexError when a network with such a projection first ran threaded)
    rng = np.random.default_rng(3)
    lens = rng.integers(1, 30, 40)
    if empty in ("first", "all"):
        lens[:3] = 0
    if empty in ("last", "all"):
        lens[-3:] = 0
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    post = np.concatenate([np.sort(rng.integers(0, 1000, k)) for k in lens]).astype(np.int32)
    zero = np.zeros(1, dtype=np.int64)
    for n_threads in (2, 3):
        bounds = KT.block_bounds(np.array([[0, 1000, 0]]), 1000, n_threads)
        split = KT.row_splits(zero, zero, np.array([lens.size]), indptr, post, np.ones(1, np.int64), bounds)
        for g in range(lens.size):
            row = post[indptr[g]:indptr[g + 1]]
            assert split[g].tolist() == [int(np.sum(row < b)) for b in bounds[1:-1]]
