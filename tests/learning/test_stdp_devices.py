"""STDP on memristive synapses: the rule decides the pulses, the device decides the conductance change."""

import dataclasses

import numpy as np
import pytest
from memr_snn.networks.song_miller_abbott import G_LEAK, SMA_NEURON

from memr_snn import AllToAll, Network, PoissonSource, Population, Projection, SpikeMonitor
from memr_snn.devices import Crossbar, ExpStepDevice, LinearStepDevice, Variability, device_report
from memr_snn.kernel import crossbar as X
from memr_snn.kernel.crossbar import device_update
from memr_snn.kernel.reference import device_update_ref
from memr_snn.learning import STDP, RewardSTDP
from memr_snn.units import ms

G_MAX = 0.01 * G_LEAK
RULE = STDP(a_plus=0.01 * G_MAX, a_minus=0.0105 * G_MAX, tau_plus=20 * ms, tau_minus=20 * ms, w_max=G_MAX)


def _sma(device, engine="dense", n_in=1000, n_out=2, seed=2, rule=None):
    net = Network(dt=0.1 * ms, seed=seed, engine=engine)
    inp = net.add(PoissonSource(n_in, rates=15.0))
    out = net.add(Population(n_out, SMA_NEURON))
    pr = net.add(Projection(inp, out, AllToAll(), weights=lambda rng, n: rng.random(n) * G_MAX, plasticity=rule or RULE,
                            device=device))
    mon = net.add(SpikeMonitor(out))
    return net, pr, mon


@pytest.mark.parametrize("engine", ["dense", "event"])
def test_learning_on_an_ideal_device_is_float_learning_bit_for_bit(engine):
    # ideal linear devices from G_min = 0, one per synapse: k is a power of two and w -> G -> w is exact
    dev = LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-7, dg_down=1e-7)
    rule_w = RULE
    a, pa, ma = _sma(None, engine)
    b, pb, mb = _sma(Crossbar(device=dev, encoding="single"), engine)
    for net in (a, b):
        net.run(3.0)
    assert ma.num_spikes > 50
    np.testing.assert_array_equal(ma.steps, mb.steps)
    np.testing.assert_array_equal(ma.i, mb.i)
    cb = pb.crossbar
    np.testing.assert_array_equal(cb.read_weights(), pa.weights)
    assert np.max(np.abs(pa.weights - pb.weights)) > 0.1 * rule_w.w_max  # the float copy did not move...
    assert sum(cb.learning_pulses) > 0  # ... the devices did (pulses counted as dG / dG_step)


def _random_case(rng, diff, analog, n_syn=30, one_sided=False, noisy=False):
    per = 2 if diff else 1
    n_dev = per * n_syn
    xf = np.zeros((1, X.N_XF))
    xi = np.zeros((1, X.N_XI), dtype=np.int64)
    xf[0, X.XF_SCALE] = 2.0 ** 14 * (1 if diff or analog or rng.random() < 0.5 else -1)
    xi[0, X.XI_DIFF], xi[0, X.XI_ANALOG] = int(diff), int(analog)
    xi[0, X.XI_SEED] = 12345
    xi[0, X.XI_DRIFT], xi[0, X.XI_FAIL] = 1, -1
    dev = ExpStepDevice(g_min=1e-6, g_max=1e-4, dg_up=2e-6, dg_down=3e-6, dg_c2c=0.2, beta_up=2.0, beta_down=1.0)
    if one_sided:  # PCM pair: abrupt RESET, refresh at 80 % of the range
        dev = ExpStepDevice(g_min=1e-6, g_max=1e-4, dg_up=2e-6, dg_down=3e-6, dg_c2c=0.2, beta_up=2.0,
                            beta_down=1.0, reset="abrupt", refresh=0.8)
    if analog:
        dev = LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-6, dg_down=1e-6)
    if noisy:  # every write-noise term on, and a RESET level with spread for the one-sided pair
        dev = dataclasses.replace(dev, dg_c2c_add=0.3, dg_c2c_slope=0.02, write_noise=1e-6,
                                  reset_level=0.02 if one_sided else 0.0, reset_spread=0.03 if one_sided else 0.0)
    xp = dev.kernel_params()[None, :]
    # per-device spread of bounds and steps, budgets of 0.1 full cycles on 30 % of the devices
    d2d = Variability(g_min_d2d=0.0 if analog else 0.2, g_max_d2d=0.1, dg_d2d=0.3, up_down_d2d=0.05).sample(
        dev, n_dev, rng)
    budget = np.where(rng.random(n_dev) < 0.3, 0.1, np.inf)
    dv = dev.table(n_dev, budget, **d2d)
    g = rng.uniform(dv[:, 0], dv[:, 1])
    counts = rng.integers(0, 50, n_dev)
    fault = np.where(rng.random(n_dev) < 0.1, 1, 0).astype(np.int8)
    tp = np.zeros(n_dev)
    rtp = np.zeros(4)
    tf = np.full(n_dev, np.inf)
    rft = np.full(4, np.inf)
    acc = np.zeros((1, X.N_ACC))
    return xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft, acc


@pytest.mark.parametrize("diff,analog,one_sided,noisy", [(False, False, False, False), (True, False, False, False),
                                                         (False, True, False, False), (True, False, True, False),
                                                         (False, False, False, True), (True, False, True, True)])
def test_device_update_kernel_matches_its_twin(diff, analog, one_sided, noisy):
    rng = np.random.default_rng(7)
    case_k = _random_case(rng, diff, analog, one_sided=one_sided, noisy=noisy)
    case_r = tuple(np.copy(a) for a in case_k)
    for step in range(300):
        s = int(rng.integers(0, 30))
        dw = float(rng.normal(0, 0.2 if not analog else 1e-3))
        if one_sided:
            dw = abs(dw) * (1 if s % 3 else -1)  # mostly potentiation: pairs saturate and get refreshed
        for case, fn in ((case_k, device_update), (case_r, device_update_ref)):
            xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft, acc = case
            fn(0, s, s % 4, dw, 0.0, 1.5, step, 1e-4, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft, acc)
    for a, b in zip(case_k, case_r, strict=True):
        np.testing.assert_array_equal(a, b)
    xf, xi, xp, g, counts, dv, fault, *_ , acc = case_k
    assert acc[0, X.A_UP] + acc[0, X.A_DOWN] > 0
    assert np.all((g >= dv[:, 0]) & (g <= dv[:, 1]))  # every device inside its own range
    if not analog:
        assert np.any(fault == -1)  # some devices wore out (budget 0.1 cycles) and stuck OFF
    if one_sided:
        assert acc[0, X.A_DOWN] > 0  # refresh RESETs happened although the rule never depresses a device


def test_stdp_on_a_real_preset_learns_and_wears_devices():
    net, pr, mon = _sma(Crossbar(preset="hfox_rram", encoding="differential", program="direct"))
    cb = pr.crossbar
    w0 = cb.read_weights().copy()
    c0 = cb.counts.copy()
    net.run(3.0)
    w1 = cb.read_weights()
    assert np.max(np.abs(w1 - w0)) > 0.05 * np.max(np.abs(w0))
    up, down = cb.learning_pulses
    assert up + down == int((cb.counts - c0).sum()) > 0
    assert np.all(cb.counts >= c0)
    rep = device_report(net).rows[0]
    assert np.isfinite(rep.lifetime) and rep.run_pulses == up + down


@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_reward_stdp_on_an_ideal_device_is_float_learning_bit_for_bit(dependence):
    # the eligibility holds the plain STDP changes on either storage (no weight dependence in it)
    rule = RewardSTDP(stdp=dataclasses.replace(RULE, dependence=dependence), tau_e=0.2, learning_rate=50.0)
    dev = LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-7, dg_down=1e-7)
    nets = []
    for device in (None, Crossbar(device=dev, encoding="single")):
        nets.append(_sma(device, rule=rule))
    for net, pr, _ in nets:
        for r in (0.0, 1.0, -1.0, 2.0):
            net.set_reward(pr, r)
            net.run_steps(2500)
    (a, pa, ma), (b, pb, mb) = nets
    np.testing.assert_array_equal(ma.steps, mb.steps)
    np.testing.assert_array_equal(pb.crossbar.read_weights(), pa.weights)
    assert sum(pb.crossbar.learning_pulses) > 0
