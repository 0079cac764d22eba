"""Device accounting: read energy, program pulses and energy, projected lifetime."""

import math

import numpy as np
import pytest

from memr_snn import AllToAll, LIFParams, Network, Population, Projection, SpikeSource
from memr_snn.devices import Crossbar, Endurance, LinearStepDevice, Programming, device_report
from memr_snn.units import ms, pA

DEV = LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-6, dg_down=1e-6)
PROG = Programming(v_read=0.2, t_read=10e-9, e_set=2e-12, e_reset=3e-12, t_pulse=50e-9)


def _net(endurance=None):
    net = Network(dt=0.1 * ms, seed=0)
    # 3 inputs, spikes at fixed steps: input 0 twice, input 2 once
    src = net.add(SpikeSource(3, np.array([1, 5, 7]) * 0.1 * ms, np.array([0, 0, 2])))
    post = net.add(Population(4, LIFParams(), name="post"))
    w = np.arange(12, dtype=float).reshape(4, 3) * 10 * pA  # (n_post, n_pre)
    spec = Crossbar(device=DEV, encoding="single", programming=PROG, endurance=endurance, scale="fit")
    pr = net.add(Projection(src, post, AllToAll(), weights=w, device=spec, name="in"))
    return net, pr


def test_read_energy_and_reads_are_exact():
    net, pr = _net()
    net.run(2 * ms)
    cb = pr.crossbar
    g = cb.g.reshape(3, 4)  # CSR by presynaptic neuron: rows of 4 devices
    assert cb.reads == 2 * 4 + 4
    want = 0.2 ** 2 * 10e-9 * (2 * g[0].sum() + g[2].sum())
    assert cb.read_energy == pytest.approx(want, rel=1e-12)
    rep = device_report(net)
    row = rep.rows[0]
    assert row.reads == 12 and row.read_energy == pytest.approx(want, rel=1e-12)
    # direct programming from the reset state (g_min = 0): ceil(G / dG) set pulses each
    pulses = np.ceil(cb.g / 1e-6 - 1e-9).sum()
    assert row.program_pulses == pulses
    assert row.program_energy == pytest.approx(pulses * 2e-12, rel=1e-12)
    assert rep.totals()["total_energy"] == pytest.approx(row.read_energy + row.program_energy)
    assert rep.by_class()["custom"]["devices"] == 12


def test_lifetime_is_remaining_budget_over_run_pulse_rate():
    net, pr = _net(Endurance(cycles=1e4, cycles_d2d=0.0))
    cb = pr.crossbar
    net.run(10 * ms)
    rep = device_report(net).rows[0]
    assert math.isinf(rep.lifetime)  # no pulses during the run
    worst = np.argmax(cb.counts0)
    assert rep.reprogrammings_left == pytest.approx((1e4 - cb.counts0[worst]) / cb.counts0[worst])
    pulses = np.zeros(cb.n_synapses, dtype=np.int64)
    pulses[3] = 5  # synapse 3 gets 5 more pulses during the run
    pulses[7] = -2
    cb.apply_pulses(pulses)
    net.run(10 * ms)
    rep = device_report(net).rows[0]
    rate3 = 5 / 20e-3
    rate7 = 2 / 20e-3
    want = min((1e4 - cb.counts[3]) / rate3, (1e4 - cb.counts[7]) / rate7)
    assert rep.lifetime == pytest.approx(want, rel=1e-12)
    assert rep.run_pulses == 7
    assert "lifetime" in device_report(net).format()


def test_counts_only_grow_and_worn_devices_stick():
    net, pr = _net(Endurance(cycles=60, cycles_d2d=0.0, fail_state="off"))
    cb = pr.crossbar
    before = cb.counts.copy()
    rng = np.random.default_rng(1)
    for _ in range(10):
        cb.apply_pulses(rng.integers(-10, 11, cb.n_synapses))
        assert np.all(cb.counts >= before)
        before = cb.counts.copy()
        assert np.all((cb.g >= 0) & (cb.g <= 1e-4))
    worn = cb.counts >= 60
    assert np.any(worn)
    assert np.all(cb.fault[worn] == -1) and np.all(cb.g[worn] == 0.0)
    g = cb.g.copy()
    cb.apply_pulses(np.full(cb.n_synapses, 3))
    np.testing.assert_array_equal(cb.g[worn], g[worn])  # stuck devices ignore pulses
    assert device_report(net).rows[0].faulty_devices == int(worn.sum())
