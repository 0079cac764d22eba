"""The dense step's spike scan and push: ``loop._collect`` and ``kernel.push.push_float_dense``.

The scan must list exactly the flagged neurons of a range, ascending, for any range bounds (whole 64-bit
words of flags, bytes before and after them).  The push must add, to every ring-buffer entry, the same
weights in the same order as a plain sequential loop (the numpy definition below), bit for bit, with
uniform-weight projections (a constant added, ``proj_wu``), weights read per synapse, and a delay per
synapse; the engine must keep the uniform flags right when weights are assigned.
"""

import numpy as np
import pytest
from memr_snn.networks import cuba

from memr_snn import FixedProbability, LIFParams, Network, Population, Projection
from memr_snn.engine import records
from memr_snn.kernel.loop import _collect
from memr_snn.kernel.push import push_float_dense
from memr_snn.units import pA


@pytest.mark.parametrize("seed", range(4))
def test_collect_lists_the_flagged_neurons_of_any_range(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    fired = (rng.random(-(-n // 8) * 8 + int(rng.integers(0, 2)) * 3) < rng.choice([0.002, 0.05, 0.5])).astype(np.uint8)
    spikes = np.full(fired.size + 5, -7, dtype=np.int64)
    for _ in range(50):
        lo, hi = sorted(int(x) for x in rng.integers(0, fired.size + 1, 2))
        want = lo + np.flatnonzero(fired[lo:hi])
        count = _collect(fired, lo, hi, spikes, 2)
        assert count == 2 + want.size
        np.testing.assert_array_equal(spikes[2:count], want)


def _network(weights_a, delays_b):
    net = Network(dt=1e-4, seed=3, engine="dense")
    a = net.add(Population(300, LIFParams(), name="a"))
    b = net.add(Population(200, LIFParams(), name="b"))
    net.add(Projection(a, b, FixedProbability(0.1), weights=weights_a, name="ab"))
    net.add(Projection(a, a, FixedProbability(0.05), weights=-30 * pA, receptor="inh", name="aa"))
    net.add(Projection(b, a, FixedProbability(0.2), weights=12 * pA, delays=delays_b, name="ba"))
    net.run_steps(0)
    return net


def _push_definition(slot, spikes, syn, buf):
    """Every spike (ascending), every outgoing projection in order, every synapse of its row in order."""
    n_slots = buf.shape[0]
    for g in spikes:
        pop = syn.pop_of[g]
        for e in range(syn.pop_out_ptr[pop], syn.pop_out_ptr[pop + 1]):
            pr = syn.pop_out_proj[e]
            row = syn.proj_ipo[pr] + g - syn.proj_pre_lo[pr]
            so = syn.proj_so[pr]
            for k in range(so + syn.syn_indptr[row], so + syn.syn_indptr[row + 1]):
                d = syn.proj_delay[pr] if syn.proj_doff[pr] < 0 else syn.syn_delay[syn.proj_doff[pr] + k - so]
                buf[(slot + d) % n_slots, syn.proj_rec[pr], syn.syn_post[k]] += syn.syn_w[k]


@pytest.mark.parametrize("uniform_a", [True, False])
def test_push_adds_what_the_sequential_loop_adds(uniform_a):
    rng = np.random.default_rng(5)
    net = _network(20 * pA if uniform_a else lambda r, k: r.uniform(5, 30, k) * pA,
                   lambda r, k: r.integers(1, 6, k))
    sim = net._sim
    syn = records.run_records(sim, None, None, None, None)[2]
    np.testing.assert_array_equal(syn.proj_wu, [1 if uniform_a else 0, 1, 1])
    buf = rng.normal(0, 1e-10, sim.buf.shape)
    want = buf.copy()
    for slot in range(buf.shape[0]):
        spikes = np.sort(rng.choice(500, 60, replace=False)).astype(np.int64)
        push_float_dense(slot, spikes, spikes.size, syn, buf)
        _push_definition(slot, spikes, syn, want)
        assert buf.tobytes() == want.tobytes()


def test_set_weights_keeps_the_uniform_flags():
    net = _network(20 * pA, 2)
    sim = net._sim
    ab = net.projection("ab")
    assert sim.proj_wu[0] == 1 and sim.proj_wc[0] == 20 * pA
    w = np.linspace(1, 2, ab.n_synapses) * pA
    ab.weights = w
    assert sim.proj_wu[0] == 0 and sim.proj_wc[0] == 0.0
    ab.weights = 7 * pA
    assert sim.proj_wu[0] == 1 and sim.proj_wc[0] == 7 * pA
    assert sim.proj_wu[1] == 1 and sim.proj_wu[2] == 1  # the others untouched


def test_a_run_with_uniform_weights_equals_the_run_reading_them():
    runs = []
    for read in (False, True):
        va = cuba(n=400, seed=4, engine="dense", record=True)
        va.net.run_steps(0)
        assert va.net._sim.proj_wu.all()
        if read:
            va.net._sim.proj_wu[:] = 0  # every weight read from syn_w
        va.net.run(0.05)
        runs.append(va)
    (ta, ia), (tb, ib) = runs[0].spikes(), runs[1].spikes()
    assert ia.size > 0
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_array_equal(ta, tb)
    for var in ("v", "se", "si", "ref", "buf"):
        assert getattr(runs[0].net._sim, var).tobytes() == getattr(runs[1].net._sim, var).tobytes(), var
