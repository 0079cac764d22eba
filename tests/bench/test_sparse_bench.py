"""The sparse-activity benchmark's network (``memr_snn.bench.sparse``): its arrays have the statistics
the docstring promises, memr_snn builds exactly those synapses, and (slow) the simulators agree."""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn.bench import _sparse_worker
from memr_snn.bench.sparse import SPARSE, run_sparse, sparse_arrays, sparse_table


def test_input_spikes_are_a_bernoulli_process_on_the_grid():
    n_sources, rate, dt, duration = 400, 20.0, 1e-4, 0.5
    a = sparse_arrays(1000, duration, n_sources=n_sources, input_rate=rate, dt=dt, seed=3)
    n_steps = int(round(duration / dt))
    steps, src = a["input_steps"], a["input_sources"]
    assert steps.min() >= 1 and steps.max() <= n_steps - 1 and np.all(np.diff(steps) >= 0)
    assert src.min() >= 0 and src.max() < n_sources
    # at most one spike per source and step
    assert np.unique(steps * n_sources + src).size == steps.size
    # binomial count: n_sources (n_steps - 1) trials of probability rate dt; 5 sd
    trials, p = n_sources * (n_steps - 1), rate * dt
    assert abs(steps.size - trials * p) < 5 * np.sqrt(trials * p * (1 - p))
    # every source fires at the same rate: the per-source counts are binomial(n_steps - 1, p), whose
    # variance over 400 sources must match within the chi-square spread (5 sd of the sample variance)
    counts = np.bincount(src, minlength=n_sources)
    var_expected = (n_steps - 1) * p * (1 - p)
    assert abs(counts.var(ddof=1) - var_expected) < 5 * var_expected * np.sqrt(2 / (n_sources - 1))


def test_fixed_fan_out_and_uniform_targets():
    n, fan_out, input_fan_out = 5000, 10, 100
    a = sparse_arrays(n, 0.01, n_sources=200, input_fan_out=input_fan_out, fan_out=fan_out, seed=1)
    assert np.array_equal(np.bincount(a["rec_pre"], minlength=n), np.full(n, fan_out))
    assert np.array_equal(np.bincount(a["input_pre"], minlength=200), np.full(200, input_fan_out))
    # targets uniform with replacement: in-degrees binomial(n fan_out, 1/n), mean fan_out, variance
    # fan_out (1 - 1/n); the sample variance of 5000 in-degrees is within 5 sd of it
    indeg = np.bincount(a["rec_post"], minlength=n)
    assert indeg.mean() == fan_out
    var_expected = fan_out * (1 - 1 / n)
    assert abs(indeg.var(ddof=1) - var_expected) < 5 * var_expected * np.sqrt(2 / (n - 1))
    assert a["input_post"].min() >= 0 and a["input_post"].max() < n


def test_same_seed_same_arrays_and_validation():
    a, b = sparse_arrays(300, 0.05, seed=7), sparse_arrays(300, 0.05, seed=7)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = sparse_arrays(300, 0.05, seed=8)
    assert not np.array_equal(a["rec_post"], c["rec_post"])
    with pytest.raises(ValueError, match="input_rate \\* dt"):
        sparse_arrays(10, 0.1, input_rate=2e4)
    with pytest.raises(ValueError, match="n_neurons"):
        sparse_arrays(0, 0.1)
    with pytest.raises(ValueError, match="contenders"):
        run_sparse((100,), contenders=("brian3",))


def test_memr_network_holds_exactly_the_arrays():
    n = 300
    a = sparse_arrays(n, 0.05, n_sources=20, input_fan_out=30, fan_out=5, seed=2)
    cfg = {"params": dict(SPARSE), "dt": 1e-4, "seed": 1, "engine": "event", "n_sources": 20}
    net, _ = _sparse_worker._memr_build(cfg, a, n)
    src, pop = net.populations[0], net.populations[1]
    for proj, pre, post, w in ((net.projections[0], a["input_pre"], a["input_post"], SPARSE["w_input"]),
                               (net.projections[1], a["rec_pre"], a["rec_post"], SPARSE["w_recurrent"])):
        m = proj.to_sparse().toarray()  # (n_post, n_pre), duplicate synapses summed
        expected = np.zeros_like(m)
        np.add.at(expected, (post, pre), w)
        assert np.allclose(m, expected, rtol=0, atol=1e-21)
    assert np.array_equal(np.round(src.times / 1e-4).astype(np.int64), a["input_steps"])
    assert pop.n == n


@pytest.mark.slow
def test_simulators_agree_on_the_same_network():
    """memr_snn's two engines give the same spikes; Brian2 (numpy target, same arrays, exact
    integration, same one-step effective delay) the same count within 1 %; NEST (one step more
    delay, ``>=`` threshold) within 5 %."""
    pytest.importorskip("brian2")
    pytest.importorskip("nest")
    res = run_sparse((3000,), duration=0.05, repeats=1,
                     contenders=("memr_snn", "memr_snn-dense", "brian2-numpy", "nest"), input_rate=20.0)
    assert not res["failures"], res["failures"]
    spikes = {c: s["n_spikes"]["median"] for c, s in res["summary"]["3000"].items()}
    assert spikes["memr_snn"] > 100
    assert spikes["memr_snn"] == spikes["memr_snn-dense"]
    assert abs(spikes["brian2-numpy"] - spikes["memr_snn"]) <= 0.01 * spikes["memr_snn"]
    assert abs(spikes["nest"] - spikes["memr_snn"]) <= 0.05 * spikes["memr_snn"]
    assert any("memr_snn" in line for line in sparse_table(res))
