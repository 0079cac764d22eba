"""Weight normalization (synaptic scaling) of a projection's incoming weights."""

import numpy as np
import pytest

from memr_snn import AllToAll, FixedProbability, LIFParams, Network, PoissonSource, Population, Projection
from memr_snn.learning import STDP
from memr_snn.learning.homeostasis import normalize_incoming
from memr_snn.units import ms, pA


def _net(plasticity=None, connectivity=None):
    net = Network(dt=0.1 * ms, seed=3)
    src = net.add(PoissonSource(20, rates=50.0))
    pop = net.add(Population(5, LIFParams()))
    proj = net.add(Projection(src, pop, connectivity or AllToAll(), weights=lambda rng, n: rng.uniform(0, 40, n) * pA,
                              plasticity=plasticity))
    return net, pop, proj


def _sums(proj):
    return np.bincount(proj.indices, weights=proj.weights, minlength=proj.post.n)


def test_sums_become_total_and_shape_is_kept():
    _, _, proj = _net()
    before = proj.to_sparse().toarray()
    factors = normalize_incoming(proj, 300 * pA)
    after = proj.to_sparse().toarray()
    assert np.allclose(after.sum(axis=1), 300 * pA)
    assert np.allclose(after, before * factors[:, None])  # each neuron's weights scaled by one factor


def test_writes_reach_the_kernel():
    net, _, proj = _net()
    net.run(1 * ms)  # build the simulator: weights become a live view of the kernel's array
    normalize_incoming(proj, 100 * pA)
    assert np.shares_memory(proj.weights, net._sim.syn_w)  # the kernel reads the normalized weights
    assert np.allclose(_sums(proj), 100 * pA)


def test_clipped_to_rule_bounds_and_silent_neurons_left_alone():
    rule = STDP(w_min=0.0, w_max=30 * pA)
    pre, post = np.array([0, 1, 2, 3]), np.array([0, 0, 1, 1])
    from memr_snn import FromArrays

    _, _, proj = _net(plasticity=rule, connectivity=FromArrays(pre, post))
    proj.weights = np.array([10.0, 0.0, 0.0, 0.0]) * pA
    f = normalize_incoming(proj, 50 * pA)
    assert f[1] == 1.0 and np.all(f[2:] == 1.0)  # neuron 1 has only zero weights, 2-4 no synapses
    assert proj.weights[0] == pytest.approx(30 * pA)  # 50 pA, clipped at w_max


@pytest.mark.parametrize("total", [0.0, -1.0, float("nan"), float("inf"), "1", True])
def test_bad_total(total):
    _, _, proj = _net()
    with pytest.raises(ValueError, match="total"):
        normalize_incoming(proj, total)


def test_unbuilt_projection_refused():
    src, pop = PoissonSource(3, rates=1.0), Population(2, LIFParams())
    with pytest.raises(ValueError, match="projection"):
        normalize_incoming(Projection(src, pop, FixedProbability(0.5), weights=1 * pA), 1 * pA)
    with pytest.raises(ValueError, match="projection"):
        normalize_incoming("not a projection", 1 * pA)
