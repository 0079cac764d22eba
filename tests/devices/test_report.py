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


def test_lifetime_is_remaining_budget_over_run_wear_rate():
    """Wear in full cycles: |dG| / (2 (G_max - G_min)) per pulse, range 1e-4 S (hand-computed)."""
    net, pr = _net(Endurance(cycles=1e4, cycles_d2d=0.0))
    cb = pr.crossbar
    net.run(10 * ms)
    rep = device_report(net).rows[0]
    assert math.isinf(rep.lifetime)  # no pulses during the run
    # programming from the reset state G = 0 wears each device by G / (2e-4) full cycles
    np.testing.assert_allclose(cb.wear0, cb.g / 2e-4, rtol=1e-12)
    worst = np.argmax(cb.wear0)
    assert rep.reprogrammings_left == pytest.approx((1e4 - cb.wear0[worst]) / cb.wear0[worst])
    assert rep.wear_max == pytest.approx(cb.g.max() / 2e-4)
    g_before = cb.g.copy()
    assert g_before[3] + 5e-6 <= 1e-4 and g_before[7] >= 2e-6  # neither step reaches a bound
    pulses = np.zeros(cb.n_synapses, dtype=np.int64)
    pulses[3] = 5  # synapse 3: 5 up pulses of 1e-6 S = 5e-6 / 2e-4 = 0.025 cycles during the run
    pulses[7] = -2  # synapse 7: 2 down pulses = 0.01 cycles
    cb.apply_pulses(pulses)
    net.run(10 * ms)
    rep = device_report(net).rows[0]
    rate3 = 0.025 / 20e-3
    rate7 = 0.01 / 20e-3
    want = min((1e4 - cb.wear[3]) / rate3, (1e4 - cb.wear[7]) / rate7)
    assert rep.lifetime == pytest.approx(want, rel=1e-9)
    assert cb.wear[3] - cb.wear0[3] == pytest.approx(0.025, rel=1e-12)
    assert rep.run_pulses == 7
    assert "lifetime" in device_report(net).format()


def test_counts_only_grow_and_worn_devices_stick():
    net, pr = _net(Endurance(cycles=1.0, cycles_d2d=0.0, fail_state="off"))
    cb = pr.crossbar
    before = cb.counts.copy()
    rng = np.random.default_rng(1)
    for _ in range(40):
        cb.apply_pulses(rng.integers(-10, 11, cb.n_synapses))
        assert np.all(cb.counts >= before)
        before = cb.counts.copy()
        assert np.all((cb.g >= 0) & (cb.g <= 1e-4))
    worn = cb.wear >= 1.0
    assert np.any(worn) and not np.all(worn)
    assert np.all(cb.fault[worn] == -1) and np.all(cb.g[worn] == 0.0)
    assert np.all(cb.fault[~worn] == 0)
    g = cb.g.copy()
    cb.apply_pulses(np.full(cb.n_synapses, 3))
    np.testing.assert_array_equal(cb.g[worn], g[worn])  # stuck devices ignore pulses
    assert device_report(net).rows[0].faulty_devices == int(worn.sum())
