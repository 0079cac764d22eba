"""Float LIF network <-> Loihi fixed point: mapping, round trip, report, refusals."""

import numpy as np
import pytest

import memr_snn as ms
from memr_snn.hardware import FixedPointRangeError, run_fixed_point
from memr_snn.hardware.conversion import UnsupportedElementError, spike_agreement, to_fixed_point, to_float
from memr_snn.units import ms as MS
from memr_snn.units import mV, pA

DT = 0.1 * MS
T = 2000


def _net(neuron=None, *, delay=None, weight=None, source="spikes", device=None, seed=0):
    rng = np.random.default_rng(seed)
    net = ms.Network(dt=DT, seed=1)
    n_in = 40
    if source == "spikes":
        key = np.unique(rng.integers(0, T - 100, 2000) * n_in + rng.integers(0, n_in, 2000))
        src = net.add(ms.SpikeSource(n_in, (key // n_in) * DT, key % n_in, name="in"))
    else:
        src = net.add(ms.PoissonSource(n_in, 20.0, name="in"))
    pop = net.add(ms.Population(60, neuron or ms.LIFParams(t_ref=0.0, i_bias=100 * pA), name="exc"))
    net.add(
        ms.Projection(
            src,
            pop,
            ms.FixedProbability(0.25),
            weights=weight or (lambda r, n: r.uniform(-100, 300, n) * pA),
            delays=delay or (lambda r, n: r.integers(1, 10, n)),
            device=device,
        )
    )
    return net


def test_float_twin_of_a_fixed_point_network_spikes_alike():
    """to_float(fx) integrated exactly in float matches fx's integer run (|dt| <= 1 step) on >= 95% of spikes.

    The only differences left are Loihi's per-step rounding of u and v (1 part in 2**23 of
    the threshold) and the 24-bit limits, so the two must agree closely; a wrong mapping of
    decays, weights, bias or delays breaks this at once.
    """
    fx = to_fixed_point(_net(), n_steps=T, compare=False).network
    back = to_float(fx, DT)
    conv = to_fixed_point(back, n_steps=T, vth=fx.populations[0].params.vth)
    rep = conv.report
    assert rep.fixed_spike_counts["exc"] > 500
    assert rep.agreement["exc"] >= 0.95


def test_round_trip_recovers_the_integer_network():
    fx = to_fixed_point(_net(), n_steps=T, compare=False).network
    fx2 = to_fixed_point(to_float(fx, DT), n_steps=T, vth=fx.populations[0].params.vth, compare=False).network
    p, q = fx.populations[0].params, fx2.populations[0].params
    assert (p.du, p.dv, p.vth) == (q.du, q.dv, q.vth)
    np.testing.assert_array_equal(p.bias_mant, q.bias_mant)
    np.testing.assert_array_equal(p.bias_exp, q.bias_exp)
    a, b = fx.connections[0], fx2.connections[0]
    assert a.weight_exp == b.weight_exp
    np.testing.assert_array_equal(a.dense_weights(), b.dense_weights())
    np.testing.assert_array_equal(a.dense_delays(), b.dense_delays())
    np.testing.assert_array_equal(run_fixed_point(fx, T).spikes["exc"], run_fixed_point(fx2, T).spikes["exc"])


def test_report_values_are_consistent():
    conv = to_fixed_point(_net(), n_steps=T)
    rep = conv.report
    (pq,) = rep.populations
    p = conv.network.populations[0].params
    # 12-bit decays of exp(-0.1/2) and exp(-0.1/10): du = round(4095 - 4096 * 0.951229) = 199, dv = 41
    assert (pq.du, pq.dv) == (199, 41) == (p.du, p.dv)
    assert pq.decay_v_error == pytest.approx(abs(4055 / 4096 - np.exp(-0.01)) / np.exp(-0.01))
    (q,) = rep.projections
    assert q.sign_mode == "mixed" and -8 <= q.weight_exp <= 7
    assert 0 < q.rms_error <= q.max_error < 0.01  # 8-bit mixed weights: error < 1/128 of the largest
    assert 0.2 < rep.agreement["exc"] <= 1.0
    assert "agreement" in rep.summary()


def test_spike_agreement_counts_coincidences():
    a = np.zeros((10, 1), bool)
    b = np.zeros((10, 1), bool)
    a[[1, 5], 0] = True
    b[[2, 8], 0] = True
    assert spike_agreement(a, b, 1) == pytest.approx(0.5)  # 1 of 2 + 2 spikes matched
    assert spike_agreement(a, b, 0) == 0.0
    assert spike_agreement(a, a, 0) == 1.0
    assert spike_agreement(np.zeros((3, 2)), np.zeros((3, 2))) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(neuron=ms.LIFCondParams(t_ref=0.0)), "conductance"),
        (dict(neuron=ms.ALIFParams(t_ref=0.0)), "ALIF"),
        (dict(neuron=ms.LIFParams()), "refractory"),
        (dict(neuron=ms.LIFParams(t_ref=0.0, v_reset=-65 * mV)), "v_reset"),
        (dict(delay=65), "beyond Loihi's range"),
        (dict(source="poisson"), "PoissonSource"),
    ],
)
def test_inexpressible_elements_are_refused_by_name(kwargs, match):
    with pytest.raises(UnsupportedElementError, match=match) as err:
        to_fixed_point(_net(**kwargs), n_steps=T, compare=False)
    assert "'exc'" in str(err.value) or "'in'" in str(err.value) or "->" in str(err.value)


def test_memristive_projection_is_refused():
    from memr_snn.devices import Crossbar

    net = _net(weight=lambda r, n: r.uniform(0, 300, n) * pA, device=Crossbar(preset="hfox_rram", encoding="single"))
    with pytest.raises(UnsupportedElementError, match="memristive"):
        to_fixed_point(net, n_steps=T, compare=False)


def test_weights_too_large_for_the_given_vth():
    """1 uA synapses move v far beyond threshold: at vth = 131071 they need more than 8 bits << 7."""
    net = _net(weight=lambda r, n: r.uniform(0, 1, n) * 1e-6)
    with pytest.raises(FixedPointRangeError, match="too large"):
        to_fixed_point(net, vth=131071, n_steps=T, compare=False)
    conv = to_fixed_point(net, n_steps=T, compare=False)  # the automatic vth fits them
    assert conv.network.populations[0].params.vth < 131071


def test_vth_argument_is_validated():
    with pytest.raises(FixedPointRangeError, match="vth for population 'exc'"):
        to_fixed_point(_net(), vth=0, n_steps=T, compare=False)
    conv = to_fixed_point(_net(), vth={"other": 5}, n_steps=T, compare=False)  # unknown names: automatic choice
    assert conv.network.populations[0].params.vth > 1000


def test_every_reason_is_listed_and_the_documented_recipe_converts():
    """A population breaking three rules gets one error naming all three with the fix for each;
    the recipe of docs/hardware.md ('Making a network exportable') then converts."""
    import dataclasses

    p = ms.LIFParams(tau_syn_e=5 * MS, tau_syn_i=10 * MS, t_ref=2 * MS, v_reset=-75 * mV, i_bias=100 * pA)
    net = _net(neuron=p)
    inh = net.add(ms.SpikeSource(1, [0.001], [0], name="inh_in"))
    net.add(ms.Projection(inh, net.populations[1], ms.AllToAll(), weights=-50 * pA, receptor="inh"))
    with pytest.raises(UnsupportedElementError) as err:
        to_fixed_point(net, n_steps=T, compare=False)
    msg = str(err.value)
    assert "set t_ref=0" in msg and "set v_reset=v_rest" in msg and "set tau_syn_e=tau_syn_i" in msg
    assert "Making a network exportable" in msg
    fixed = dataclasses.replace(p, t_ref=0.0, v_reset=p.v_rest, tau_syn_i=p.tau_syn_e)
    conv = to_fixed_point(_net(neuron=fixed), n_steps=T, compare=False)
    assert conv.network is not None
