"""Connectivity rules: statistics, invariants, round trips, seeding.

Statistical checks use fixed seeds, so they are deterministic; their bounds are
5 sigma (or p > 1e-4 for chi-square tests), i.e. they would fail for a wrong
distribution, not by bad luck.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from memr_snn import (
    AllToAll,
    FixedInDegree,
    FixedProbability,
    FromArrays,
    FromSparse,
    LIFParams,
    Network,
    OneToOne,
    PoissonSource,
    Population,
    Projection,
)
from memr_snn.units import ms, pA

DT = 0.1 * ms


def _project(n_pre, n_post, rule, seed=0, self_projection=False, **kwargs):
    net = Network(dt=DT, seed=seed)
    pre = net.add(Population(n_pre, LIFParams(), name="pre"))
    post = pre if self_projection else net.add(Population(n_post, LIFParams(), name="post"))
    if not isinstance(rule, FromSparse):
        kwargs.setdefault("weights", 1 * pA)
    return net.add(Projection(pre, post, rule, **kwargs))


def _pairs(proj):
    return proj.pre_indices(), proj.indices.astype(np.int64)


def _assert_csr_invariants(proj):
    """indptr is (n_pre + 1,) non-decreasing from 0 to n_synapses; rows sorted by post."""
    ip = proj.indptr
    assert ip.shape == (proj.pre.n + 1,) and ip[0] == 0 and ip[-1] == proj.n_synapses
    assert np.all(np.diff(ip) >= 0)
    pre, post = _pairs(proj)
    assert np.all((post >= 0) & (post < proj.post.n))
    key = pre * proj.post.n + post
    assert np.all(np.diff(key) >= 0)
    assert proj.weights.shape == proj.indices.shape == (proj.n_synapses,)


# -------------------------------------------------------------- FixedProbability


@pytest.mark.parametrize("p", [0.01, 0.1, 0.5, 0.9])
def test_fixed_probability_counts_are_binomial(p):
    n_pre, n_post = 200, 300
    proj = _project(n_pre, n_post, FixedProbability(p), seed=3)
    _assert_csr_invariants(proj)
    n = n_pre * n_post
    assert abs(proj.n_synapses - n * p) <= 5 * math.sqrt(n * p * (1 - p))
    pre, post = _pairs(proj)
    # no duplicate pairs
    assert np.unique(pre * n_post + post).size == proj.n_synapses
    # out-degrees ~ Binomial(n_post, p): mean to 5 sigma, variance to 50 % (sd of a variance estimate
    # from 200 rows is ~10 %)
    out_deg = np.diff(proj.indptr)
    assert abs(out_deg.mean() - n_post * p) <= 5 * math.sqrt(n_post * p * (1 - p) / n_pre)
    assert 0.5 < out_deg.var(ddof=1) / (n_post * p * (1 - p)) < 1.5
    # in-degrees ~ Binomial(n_pre, p): mean, and targets uniform over post (chi-square)
    in_deg = np.bincount(post, minlength=n_post)
    assert abs(in_deg.mean() - n_pre * p) <= 5 * math.sqrt(n_pre * p * (1 - p) / n_post)
    if p <= 0.5:
        assert stats.chisquare(in_deg).pvalue > 1e-4


@pytest.mark.parametrize("allow_autapses", [True, False])
def test_fixed_probability_autapses(allow_autapses):
    n, p = 400, 0.2
    proj = _project(n, n, FixedProbability(p, allow_autapses=allow_autapses), seed=5, self_projection=True)
    _assert_csr_invariants(proj)
    pre, post = _pairs(proj)
    n_auto = int(np.sum(pre == post))
    if allow_autapses:
        assert abs(n_auto - n * p) <= 5 * math.sqrt(n * p * (1 - p))
        n_pairs = n * n
    else:
        assert n_auto == 0
        n_pairs = n * (n - 1)
    assert abs(proj.n_synapses - n_pairs * p) <= 5 * math.sqrt(n_pairs * p * (1 - p))
    assert np.unique(pre * n + post).size == proj.n_synapses
    # excluding self must not favour any offset (e.g. the neighbour right after self):
    # (post - pre) mod n is uniform over the allowed offsets
    offset = (post - pre) % n
    counts = np.bincount(offset, minlength=n)
    allowed = counts if allow_autapses else counts[1:]
    assert stats.chisquare(allowed).pvalue > 1e-4


def test_autapse_flag_only_matters_within_a_population():
    """Two distinct populations of equal size: i -> i pairs are ordinary synapses."""
    proj = _project(300, 300, FixedProbability(0.3, allow_autapses=False), seed=2)
    pre, post = _pairs(proj)
    assert abs(int(np.sum(pre == post)) - 90) <= 5 * math.sqrt(300 * 0.3 * 0.7)


@pytest.mark.parametrize("self_projection", [False, True])
def test_fixed_probability_extremes(self_projection):
    assert _project(50, 50, FixedProbability(0.0), self_projection=self_projection).n_synapses == 0
    full = _project(50, 50, FixedProbability(1.0), self_projection=self_projection)
    assert full.n_synapses == 2500
    no_self = _project(50, 50, FixedProbability(1.0, allow_autapses=False), self_projection=self_projection)
    pre, post = _pairs(no_self)
    if self_projection:
        assert no_self.n_synapses == 50 * 49 and not np.any(pre == post)
    else:
        assert no_self.n_synapses == 2500


def test_fixed_probability_one_on_medium_populations():
    proj = _project(200, 200, FixedProbability(1.0), seed=0)
    assert proj.n_synapses == 200 * 200


def test_fixed_in_degree_all_candidates_on_medium_populations():
    proj = _project(1000, 10, FixedInDegree(1000), seed=1)
    assert proj.n_synapses == 10 * 1000


# ------------------------------------------------------------------ FixedInDegree


@settings(max_examples=30)
@given(
    n_pre=st.integers(1, 60),
    n_post=st.integers(1, 40),
    frac=st.floats(0, 1),
    allow_autapses=st.booleans(),
    self_projection=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_fixed_in_degree_exact_and_distinct(n_pre, n_post, frac, allow_autapses, self_projection, seed):
    if self_projection:
        n_post = n_pre
    n_cand = n_pre - 1 if (self_projection and not allow_autapses) else n_pre
    k = int(round(frac * n_cand))
    proj = _project(n_pre, n_post, FixedInDegree(k, allow_autapses=allow_autapses), seed=seed,
                    self_projection=self_projection)
    _assert_csr_invariants(proj)
    pre, post = _pairs(proj)
    np.testing.assert_array_equal(np.bincount(post, minlength=n_post), np.full(n_post, k))
    assert np.unique(pre * n_post + post).size == proj.n_synapses
    if self_projection and not allow_autapses:
        assert not np.any(pre == post)


def test_fixed_in_degree_sources_uniform():
    proj = _project(100, 500, FixedInDegree(20), seed=4)
    pre, _ = _pairs(proj)
    counts = np.bincount(pre, minlength=100)
    assert counts.sum() == 500 * 20
    assert stats.chisquare(counts).pvalue > 1e-4


# ------------------------------------------------------ OneToOne / AllToAll


def test_one_to_one():
    proj = _project(7, 7, OneToOne(), weights=np.arange(7) * pA)
    _assert_csr_invariants(proj)
    pre, post = _pairs(proj)
    np.testing.assert_array_equal(pre, np.arange(7))
    np.testing.assert_array_equal(post, np.arange(7))
    np.testing.assert_array_equal(proj.to_sparse().toarray(), np.diag(np.arange(7) * pA))


@pytest.mark.parametrize("allow_autapses", [True, False])
@pytest.mark.parametrize("self_projection", [True, False])
def test_all_to_all(allow_autapses, self_projection):
    n_pre, n_post = (6, 6) if self_projection else (6, 4)
    proj = _project(n_pre, n_post, AllToAll(allow_autapses=allow_autapses), self_projection=self_projection)
    _assert_csr_invariants(proj)
    dense = proj.to_sparse().toarray()
    want = np.ones((n_post, n_pre)) * pA
    if self_projection and not allow_autapses:
        np.fill_diagonal(want, 0.0)
    np.testing.assert_array_equal(dense, want)
    assert proj.n_synapses == int(np.count_nonzero(want))


def test_spike_sources_as_presynaptic_population():
    net = Network(dt=DT, seed=0)
    src = net.add(PoissonSource(4, 10.0))
    pop = net.add(Population(3, LIFParams()))
    proj = net.add(Projection(src, pop, AllToAll(), weights=2 * pA))
    assert proj.to_sparse().shape == (3, 4)


# ----------------------------------------------------- FromArrays / FromSparse


@settings(max_examples=30)
@given(n_pre=st.integers(1, 30), n_post=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_from_arrays_round_trip(n_pre, n_post, seed):
    """Explicit (pre, post, weight) triples come back through ``to_sparse()`` (n_post, n_pre)."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_post, n_pre)) < 0.3
    post, pre = np.nonzero(mask)
    order = rng.permutation(pre.size)  # any input order
    pre, post = pre[order], post[order]
    w = rng.normal(0, 100, pre.size) * pA
    proj = _project(n_pre, n_post, FromArrays(pre, post), weights=w, seed=seed)
    _assert_csr_invariants(proj)
    m = proj.to_sparse()
    assert m.shape == (n_post, n_pre)
    want = np.zeros((n_post, n_pre))
    want[post, pre] = w
    np.testing.assert_array_equal(m.toarray(), want)
    # the per-synapse arrays are in CSR order: (pre, post) of synapse s carries its own weight
    p_csr, q_csr = _pairs(proj)
    np.testing.assert_array_equal(proj.weights, want[q_csr, p_csr])


def test_from_arrays_duplicates_are_kept_and_summed_in_to_sparse():
    proj = _project(3, 2, FromArrays([0, 0, 2], [1, 1, 0]), weights=np.array([1.0, 2.0, 5.0]) * pA)
    assert proj.n_synapses == 3
    np.testing.assert_array_equal(proj.to_sparse().toarray(), np.array([[0, 0, 5], [3, 0, 0]]) * pA)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_from_sparse_round_trip(fmt):
    """Stored entries (explicit zeros included) become synapses; values are the weights."""
    rng = np.random.default_rng(9)
    n_pre, n_post = 13, 8
    dense = np.where(rng.random((n_post, n_pre)) < 0.4, rng.normal(0, 50, (n_post, n_pre)), 0.0) * pA
    dense[0, 12] = 0.0
    m = sp.coo_matrix(dense)
    # plus one explicitly stored zero at [0, 12]: still a synapse (weight 0)
    m = sp.coo_matrix((np.append(m.data, 0.0), (np.append(m.row, 0), np.append(m.col, 12))), shape=m.shape)
    n_stored = m.nnz
    proj = _project(n_pre, n_post, FromSparse(m.asformat(fmt)))
    _assert_csr_invariants(proj)
    assert proj.n_synapses == n_stored == np.count_nonzero(dense) + 1
    pre, post = _pairs(proj)
    assert np.any((pre == 12) & (post == 0))
    out = proj.to_sparse()
    assert out.shape == (n_post, n_pre)
    np.testing.assert_array_equal(out.toarray(), dense)
    # a dense (n_post, n_pre) weight matrix with a generated rule picks the matching entries
    w = rng.normal(0, 1, (n_post, n_pre)) * pA
    proj2 = _project(n_pre, n_post, FixedProbability(0.5), weights=w, seed=2)
    got = proj2.to_sparse().toarray()
    pre, post = _pairs(proj2)
    np.testing.assert_array_equal(got[post, pre], w[post, pre])
    assert np.count_nonzero(got) == proj2.n_synapses


def test_from_sparse_weight_override():
    m = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]]))
    proj = _project(2, 3, FromSparse(m), weights=7 * pA)
    np.testing.assert_array_equal(proj.to_sparse().toarray(), (m.toarray() != 0) * 7 * pA)


# -------------------------------------------------------------------- seeding


@pytest.mark.parametrize(
    "rule",
    [FixedProbability(0.2), FixedProbability(0.3, allow_autapses=False), FixedInDegree(7)],
    ids=["prob", "prob-noself", "indeg"],
)
def test_same_seed_same_synapses(rule):
    def make(seed):
        return _project(80, 80, rule, seed=seed, self_projection=True,
                        weights=lambda r, n: r.normal(0, 1, n) * pA, delays=lambda r, n: r.integers(1, 9, n))

    a, b, c = make(11), make(11), make(12)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.delay_array(), b.delay_array())
    assert a.n_synapses != c.n_synapses or not np.array_equal(a.indices, c.indices)


def test_projection_streams_are_independent_of_later_projections():
    """Adding a second projection does not change the first one's synapses."""
    def make(extra):
        net = Network(dt=DT, seed=4)
        a = net.add(Population(50, LIFParams()))
        first = net.add(Projection(a, a, FixedProbability(0.2), weights=1 * pA))
        if extra:
            net.add(Projection(a, a, FixedProbability(0.5), weights=1 * pA))
        return first

    np.testing.assert_array_equal(make(False).indices, make(True).indices)


def test_delays_arrays_and_uniform_storage():
    het = _project(10, 10, FixedProbability(0.5), seed=1, delays=lambda r, n: r.integers(1, 6, n))
    d = het.delay_array()
    assert d.shape == (het.n_synapses,) and d.min() >= 1 and d.max() <= 5 and het.max_delay == d.max()
    uni = _project(10, 10, FixedProbability(0.5), seed=1, delays=lambda r, n: np.full(n, 3))
    assert uni.delay_uniform == 3 and uni.delays is None
    np.testing.assert_array_equal(uni.delay_array(), np.full(uni.n_synapses, 3))
    # explicit per-synapse arrays follow the rule's generation order into CSR order
    pre = np.array([2, 0, 1])
    post = np.array([0, 1, 2])
    proj = _project(3, 3, FromArrays(pre, post), delays=np.array([4, 2, 3]),
                    weights=np.array([40.0, 20.0, 30.0]) * pA)
    np.testing.assert_array_equal(proj.delay_array(), [2, 3, 4])
    np.testing.assert_array_equal(proj.weights, np.array([20.0, 30.0, 40.0]) * pA)
