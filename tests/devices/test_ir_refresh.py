"""The wire model of a plastic crossbar follows the devices its learning rule writes during a run."""

import numpy as np
import pytest

from memr_snn import AllToAll, Network, PoissonSource, Population, Projection, SpikeMonitor
from memr_snn.devices import ArraySpec, Crossbar, LinearStepDevice
from memr_snn.devices.array import wire_model
from memr_snn.learning import STDP
from memr_snn.neurons import LIFParams
from memr_snn.units import ms

DT = 0.1 * ms
W_MAX = 2e-9


def _net(ir_refresh: float, ir_drop: str = "nodal"):
    """24 Poisson inputs onto 3 LIF neurons through a plastic differential 1R crossbar with 50-Ohm wire segments."""
    net = Network(dt=DT, seed=3)
    inp = net.add(PoissonSource(24, rates=80.0))
    out = net.add(Population(3, LIFParams()))
    dev = Crossbar(device=LinearStepDevice(g_min=1e-6, g_max=1e-4, dg_up=4e-6, dg_down=4e-6), w_max=W_MAX,
                   array=ArraySpec(rows=32, cols=8, cell="1R", r_wire=50.0, read_scheme="grounded", ir_drop=ir_drop,
                                   ir_refresh=ir_refresh))
    rule = STDP(a_plus=0.05 * W_MAX, a_minus=0.05 * W_MAX, tau_plus=20 * ms, tau_minus=20 * ms, w_max=W_MAX)
    pr = net.add(Projection(inp, out, AllToAll(), weights=lambda rng, n: rng.uniform(0.5, 1.0, n) * W_MAX,
                            plasticity=rule, device=dev))
    mon = net.add(SpikeMonitor(out))
    return net, pr.crossbar, mon


@pytest.mark.parametrize("ir_drop", ["nodal", "series"])
def test_refresh_equals_recomputing_from_the_present_conductances(ir_drop):
    """A run refreshing every 5 ms equals one split into 5 ms runs without refresh, the wire model recomputed
    from the present conductances between them (``wire_model`` of the crossbar's tiling, a direct call)."""
    every = 5 * ms
    net, cb, mon = _net(every, ir_drop)
    g0, rs0 = np.array(cb.g), np.array(cb.rs)
    net.run(0.1)
    ref, cb_ref, mon_ref = _net(0.0, ir_drop)
    for _ in range(20):
        ref.run(every)
        rs, gs = wire_model(cb_ref.tiling, np.array(cb_ref.g), cb_ref.device.g_min)
        cb_ref.rs[...], cb_ref.gs[...] = rs, gs
    assert mon.num_spikes > 10
    assert np.any(cb.g != g0)  # the rule wrote devices
    np.testing.assert_array_equal(mon.steps, mon_ref.steps)
    np.testing.assert_array_equal(mon.i, mon_ref.i)
    np.testing.assert_allclose(cb.g, cb_ref.g, rtol=1e-12)
    np.testing.assert_allclose(cb.rs, cb_ref.rs, rtol=1e-9)
    np.testing.assert_allclose(cb.gs, cb_ref.gs, rtol=1e-9, atol=1e-18)
    if ir_drop == "nodal":  # the correction depends on the other cells' conductances: it moved
        assert np.max(np.abs(cb.rs - rs0)) > 1e-3 * np.max(np.abs(rs0))


def test_without_refresh_the_correction_of_the_programming_stays():
    net, cb, _ = _net(0.0)
    rs0 = np.array(cb.rs)
    g0 = np.array(cb.g)
    net.run(0.1)
    assert np.any(cb.g != g0)
    np.testing.assert_array_equal(cb.rs, rs0)
    assert cb.refresh_wire_model()  # on demand: from the present conductances
    assert not cb.refresh_wire_model()  # nothing written since
    assert np.max(np.abs(cb.rs - rs0)) > 0


def test_ir_refresh_is_validated():
    with pytest.raises(ValueError, match="ir_refresh"):
        ArraySpec(ir_refresh=-1e-3)
