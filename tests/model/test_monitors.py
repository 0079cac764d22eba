"""Monitors: what is recorded, when, and in which layout.

The driven neurons fire on exactly known steps (regular firing under constant
bias: first spike ``floor(T/dt)``, period ``max(r,1) + floor(T/dt)``, see
``tests/neurons/test_lif_analytic.py``), so recorded spikes can be checked
exactly rather than statistically.
"""

import math

import numpy as np
import pytest

from memr_snn import (
    LIFParams,
    Network,
    PoissonSource,
    Population,
    RateMonitor,
    SpikeMonitor,
    StateMonitor,
)
from memr_snn.units import ms, nA, pA

DT = 0.1 * ms
#: biases of the 6 test neurons; 0 and 100 pA never fire (rheobase 375 pA)
BIASES = np.array([0.0, 500.0, 100.0, 700.0, 1200.0, 3000.0]) * pA


def _expected_steps(i_bias, n_steps):
    """Spike steps of a default LIF neuron starting at rest under constant bias (module docstring)."""
    p = LIFParams()
    r = p.tau_mem / p.c_mem
    v_inf = p.v_rest + r * i_bias
    if v_inf <= p.v_threshold:
        return np.zeros(0, dtype=np.int64)
    T = p.tau_mem * math.log((v_inf - p.v_reset) / (v_inf - p.v_threshold))
    first = math.floor(T / DT)
    period = max(round(p.t_ref / DT), 1) + first
    return np.arange(first, n_steps, period)


def _network(engine="dense"):
    net = Network(dt=DT, seed=0, engine=engine)
    pop = net.add(Population(BIASES.size, LIFParams(i_bias=BIASES), name="pop"))
    return net, pop


def _all_expected(n_steps):
    """(step, index) of every spike of the 6 neurons, sorted by step then index."""
    steps, idx = [], []
    for i, ib in enumerate(BIASES):
        s = _expected_steps(ib, n_steps)
        steps.append(s)
        idx.append(np.full(s.size, i))
    s, i = np.concatenate(steps), np.concatenate(idx)
    order = np.lexsort((i, s))
    return s[order], i[order]


# ---------------------------------------------------------------- SpikeMonitor


@pytest.mark.parametrize("engine", ["dense", "event"])
def test_spike_monitor_all_and_subset(engine):
    net, pop = _network(engine)
    every = net.add(SpikeMonitor(pop))
    subset = net.add(SpikeMonitor(pop, indices=[5, 1, 1, 2]))
    net.run(100 * ms)
    want_s, want_i = _all_expected(1000)
    np.testing.assert_array_equal(every.steps, want_s)
    np.testing.assert_array_equal(every.i, want_i)
    np.testing.assert_allclose(every.t, want_s * DT, rtol=1e-15)
    assert every.num_spikes == want_s.size
    np.testing.assert_array_equal(every.count(), np.bincount(want_i, minlength=6))
    # subset: duplicates removed, indices sorted, spikes of those neurons only (local indices)
    np.testing.assert_array_equal(subset.indices, [1, 2, 5])
    keep = np.isin(want_i, [1, 2, 5])
    np.testing.assert_array_equal(subset.steps, want_s[keep])
    np.testing.assert_array_equal(subset.i, want_i[keep])
    counts = subset.count()
    assert counts.shape == (6,)
    assert counts[0] == counts[3] == counts[4] == 0 and counts[2] == 0
    assert counts[1] == np.sum(want_i == 1) and counts[5] == np.sum(want_i == 5)


def test_spike_trains():
    net, pop = _network()
    every = net.add(SpikeMonitor(pop))
    subset = net.add(SpikeMonitor(pop, indices=[0, 4]))
    net.run(60 * ms)
    trains = every.spike_trains()
    assert sorted(trains) == list(range(6))
    for i, ib in enumerate(BIASES):
        np.testing.assert_allclose(trains[i], _expected_steps(ib, 600) * DT, rtol=1e-15)
    assert trains[0].size == 0 and trains[2].size == 0
    sub = subset.spike_trains()
    assert sorted(sub) == [0, 4]
    np.testing.assert_array_equal(sub[4], trains[4])


def test_spike_monitor_on_sources_and_clear():
    net = Network(dt=DT, seed=2)
    src = net.add(PoissonSource(5, 300.0))
    mon = net.add(SpikeMonitor(src))
    net.run(50 * ms)
    n_first = mon.num_spikes
    assert n_first > 0 and np.all(np.diff(mon.steps) >= 0)
    mon.clear()
    assert mon.num_spikes == 0 and mon.steps.size == 0
    net.run(50 * ms)
    assert mon.num_spikes > 0 and mon.steps.min() >= 500


def test_monitor_times_need_a_network():
    mon = SpikeMonitor(Population(2, LIFParams()))
    with pytest.raises(RuntimeError, match="not part of a network"):
        _ = mon.t


# ---------------------------------------------------------------- StateMonitor


@pytest.mark.parametrize("engine", ["dense", "event"])
def test_state_monitor_interval_sampling(engine):
    """interval = 0.5 ms samples steps 0, 5, 10, ... (absolute steps, also across split runs).

    The values are those of a full-resolution monitor at the same steps, bit for
    bit; index order is the order given.
    """
    net, pop = _network(engine)
    full = net.add(StateMonitor(pop, ["v", "i_e"]))
    coarse = net.add(StateMonitor(pop, ["v", "i_e"], indices=[4, 0, 2], interval=0.5 * ms))
    for duration in (0.7 * ms, 2.4 * ms, 0.1 * ms, 36.8 * ms):
        net.run(duration)
    assert net.step == 400
    np.testing.assert_array_equal(full.steps, np.arange(400))
    np.testing.assert_array_equal(coarse.steps, np.arange(0, 400, 5))
    np.testing.assert_allclose(coarse.t, np.arange(0, 400, 5) * DT, rtol=1e-15)
    assert coarse.v.shape == (80, 3) and coarse.values["i_e"].shape == (80, 3)
    np.testing.assert_array_equal(coarse.v, full.v[::5][:, [4, 0, 2]])
    np.testing.assert_array_equal(coarse.i_e, full.i_e[::5][:, [4, 0, 2]])
    # the first sample of each neuron is the initial state
    np.testing.assert_array_equal(full.v[0], np.full(6, -70e-3))


def test_state_monitor_records_state_at_step_start():
    """Sample n is v(n dt): for the never-firing neuron 2 (100 pA) the exact relaxation."""
    net, pop = _network()
    sm = net.add(StateMonitor(pop, "v", indices=[2]))
    net.run(20 * ms)
    p = pop.neuron
    v_inf = p.v_rest + p.tau_mem / p.c_mem * 100 * pA
    want = v_inf + (p.v_rest - v_inf) * np.exp(-sm.t / p.tau_mem)
    np.testing.assert_allclose(sm.v[:, 0] - p.v_rest, want - p.v_rest, rtol=1e-9, atol=1e-18)


def test_state_monitor_i_bias_and_set_state():
    net, pop = _network()
    sm = net.add(StateMonitor(pop, "i_bias", indices=[1]))
    net.run(1 * ms)
    net.set_state(pop, "i_bias", 2 * nA, indices=[1])
    net.run(1 * ms)
    np.testing.assert_array_equal(sm.i_bias[:10, 0], np.full(10, 500 * pA))
    np.testing.assert_array_equal(sm.i_bias[10:, 0], np.full(10, 2 * nA))


# ----------------------------------------------------------------- RateMonitor


@pytest.mark.parametrize("engine", ["dense", "event"])
def test_rate_monitor_equals_spikes_over_n_dt(engine):
    net, pop = _network(engine)
    rate = net.add(RateMonitor(pop))
    spk = net.add(SpikeMonitor(pop))
    net.run(30 * ms)
    net.run(20 * ms)
    per_step = np.bincount(spk.steps, minlength=500)
    np.testing.assert_array_equal(rate.counts, per_step)
    np.testing.assert_allclose(rate.rate, per_step / (6 * DT), rtol=1e-15)
    np.testing.assert_allclose(rate.t, np.arange(500) * DT, rtol=1e-15)
    # mean population rate over the run = total spikes / (n T)
    assert rate.rate.mean() == pytest.approx(spk.num_spikes / (6 * 50 * ms), rel=1e-12)
    smooth = rate.smooth_rate(2 * ms)
    assert smooth.shape == rate.rate.shape
    assert smooth[50:-50].mean() == pytest.approx(rate.rate[50:-50].mean(), rel=0.05)


def test_rate_monitor_on_poisson_source():
    net = Network(dt=DT, seed=3)
    src = net.add(PoissonSource(100, 50.0))
    rate = net.add(RateMonitor(src))
    net.run(1.0)
    # 10 000 steps x 100 trains x p = 0.005: mean rate 50 Hz within 5 sigma
    n = 100 * 10_000
    assert abs(rate.rate.mean() - 50.0) <= 5 * math.sqrt(n * 0.005) / (100 * 1.0)


# ------------------------------------------------- monitors added after a run


@pytest.mark.parametrize("engine", ["dense", "event"])
def test_monitors_added_after_a_run_record_from_then(engine):
    ref, ref_pop = _network(engine)
    ref_spk = ref.add(SpikeMonitor(ref_pop))
    ref_sm = ref.add(StateMonitor(ref_pop, "v"))
    ref_rate = ref.add(RateMonitor(ref_pop))
    ref.run(30 * ms)

    net, pop = _network(engine)
    early = net.add(SpikeMonitor(pop, indices=[1]))
    net.run(10.3 * ms)
    spk = net.add(SpikeMonitor(pop))
    sm = net.add(StateMonitor(pop, "v"))
    sm_coarse = net.add(StateMonitor(pop, "v", indices=[3], interval=1 * ms))
    rate = net.add(RateMonitor(pop))
    net.run(19.7 * ms)
    start = 103
    keep = ref_spk.steps >= start
    np.testing.assert_array_equal(spk.steps, ref_spk.steps[keep])
    np.testing.assert_array_equal(spk.i, ref_spk.i[keep])
    np.testing.assert_array_equal(sm.steps, np.arange(start, 300))
    np.testing.assert_array_equal(sm.v, ref_sm.v[start:])
    np.testing.assert_array_equal(sm_coarse.steps, np.arange(110, 300, 10))
    np.testing.assert_array_equal(sm_coarse.v[:, 0], ref_sm.v[110::10, 3])
    np.testing.assert_array_equal(rate.counts, ref_rate.counts[start:])
    np.testing.assert_allclose(rate.t, np.arange(start, 300) * DT, rtol=1e-15)
    # the monitor that was there from the start kept recording through the rebuild
    ref_1 = ref_spk.i == 1
    np.testing.assert_array_equal(early.steps, ref_spk.steps[ref_1])
