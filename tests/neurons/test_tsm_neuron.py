"""The bio-amplitude threshold-switching-memristor (TSM) neuron (Fu et al. 2025, seed §11.1).

Operating point (switching voltage, device current, OFF resistance, spike
energy, time scales), excitability (rheobase, f-I curve, chemical
modulation), its life inside networks (engines, checkpoints, driving other
neurons), the kernel against its numpy twin, and parameter validation.
"""

import numpy as np
import pytest

from memr_snn import (
    AllToAll,
    FixedProbability,
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    RateMonitor,
    SpikeMonitor,
    StateMonitor,
    TSMNeuronParams,
    load_params,
    save_params,
    simulate_tsm,
    tsm_energy,
)
from memr_snn.engine.coefficients import group_tables
from memr_snn.kernel import layout as L
from memr_snn.kernel.neuron import threshold_of, tsm_step_one, tsm_step_range
from memr_snn.kernel.reference import tsm_step_ref
from memr_snn.neurons import NEURON_MODELS
from memr_snn.units import MOhm, ms, mV, nA, pA, pF, pJ, us

P = TSMNeuronParams()
FINE = 1 * us


def _drive(i_in, duration=0.3, params=P, **kw):
    return simulate_tsm(params, i_in, FINE, n_steps=int(round(duration / FINE)), **kw)


# --------------------------------------------------------------- operating point


def test_defaults_match_the_bio_operating_point():
    assert P.r_off == pytest.approx(200 * MOhm)
    assert P.spike_amplitude == pytest.approx(60 * mV)
    assert 1 * nA <= P.peak_current <= 3 * nA
    assert P.peak_current == pytest.approx(1.7 * nA, rel=0.02)
    assert 0.3 * pJ <= P.energy_per_spike() <= 100 * pJ
    # closed form without input: what the capacitor loses between v_th and v_hold
    assert P.energy_per_spike() == pytest.approx(0.5 * P.c_mem * (P.v_th**2 - P.v_hold**2), rel=1e-12)
    assert P.rheobase == pytest.approx(0.3 * nA)
    assert P.rheobase < P.latch_current


def test_transient_switches_near_60_mV_with_nA_currents():
    tr = _drive(0.5 * nA)
    assert tr.spike_steps.size >= 4
    v_switch = tr.v[tr.spike_steps + 1]  # v at the end of the switching step
    np.testing.assert_allclose(v_switch, P.v_th, rtol=0.05)
    assert 1 * nA <= tr.i_device.max() <= 3 * nA
    # the device current jumps from its OFF level to the peak within one step (rise << 1 ms)
    k = tr.spike_steps[0]
    assert tr.i_device[k] < 0.2 * tr.i_device.max()
    assert tr.i_device[k + 1] > 0.95 * tr.i_device.max()
    assert tr.on[k + 1] and not tr.on[k]


def test_energy_per_spike_transient_agrees_with_analytic():
    i_in = 0.5 * nA
    tr = _drive(i_in)
    assert tr.spike_energies.size >= 3
    assert np.all((tr.spike_energies >= 0.3 * pJ) & (tr.spike_energies <= 100 * pJ))
    np.testing.assert_allclose(tr.spike_energies, P.energy_per_spike(i_in), rtol=0.02)
    # input switched off once the device is ON: the capacitor's energy 1/2 C (v_sw^2 - v_hold^2)
    first = _drive(0.4 * nA, 0.1).spike_steps[0]
    i_arr = np.where(np.arange(int(0.2 / FINE)) <= first, 0.4 * nA, 0.0)
    tr0 = simulate_tsm(P, i_arr, FINE)
    assert tr0.spike_energies.size == 1
    assert tr0.spike_energies[0] == pytest.approx(P.energy_per_spike(), rel=0.01)
    # the device energy of the whole run includes the OFF leak, so exceeds the spikes'
    assert tr.device_energy > tr.spike_energies.sum()


def test_fall_and_refractory_times_are_in_the_ms_range():
    i_in = 0.5 * nA
    tr = _drive(i_in, 0.5)
    width = P.spike_width(i_in)
    assert 1 * ms <= width <= 20 * ms
    np.testing.assert_allclose(tr.on_durations, width, rtol=0.01)
    assert 1 * ms <= P.spike_width() <= 20 * ms  # input-free discharge v_th -> v_hold
    # after turning OFF the device stays OFF for t_ref even under a strong drive (just below latching)
    strong = _drive(0.8 * nA, 0.5, params=TSMNeuronParams(t_ref=3 * ms))
    k = strong.spike_steps
    off_step = k[:-1] + 1 + np.round(strong.on_durations[: k.size - 1] / FINE).astype(int)
    gap = (k[1:] - off_step) * FINE
    assert np.all(gap >= 3 * ms - 2 * FINE)
    assert np.all(gap <= 30 * ms)


def test_constant_input_above_latch_current_holds_the_device_on():
    tr = _drive(1.2 * P.latch_current, 0.5)
    assert tr.spike_steps.size == 1
    assert tr.on[-1]
    assert np.isinf(P.energy_per_spike(1.2 * P.latch_current))


# ------------------------------------------------------------------ excitability


def _rates(i_bias, c_mod=None, engine="dense", t=2.0):
    net = Network(dt=0.1 * ms, seed=0, engine=engine)
    n = np.size(i_bias)
    init = None if c_mod is None else {"c_mod": np.broadcast_to(c_mod, (n,)).astype(float)}
    pop = net.add(Population(n, TSMNeuronParams(i_bias=np.asarray(i_bias, float)), initial=init))
    mon = net.add(SpikeMonitor(pop))
    net.run(t)
    return mon.count() / t


def test_rheobase_and_rate_increasing_with_input():
    rb = P.rheobase
    below = _rates(np.array([0.0, 0.5, 0.9, 0.99]) * rb)
    assert np.all(below == 0)
    above = _rates(np.array([1.02, 1.2, 1.5, 2.0]) * rb)
    assert np.all(above > 0)
    assert np.all(np.diff(above) > 0)
    assert above[-1] > 10  # tens of Hz: biological rates


def test_chemical_modulation_shifts_threshold_and_rate():
    rates = _rates(np.full(3, 0.5 * nA), c_mod=np.array([-2.0, 0.0, 2.0]))
    assert rates[0] > rates[1] > rates[2] > 0
    assert P.threshold(2.0) == pytest.approx(P.v_th + 2 * P.k_mod)
    gc, _, _ = group_tables(P, 1, 0.1 * ms)
    assert threshold_of(gc, 0, 2.0) == pytest.approx(P.v_th + 2 * P.k_mod)
    # set during a run; spikes leave the concentration alone; "a" names the same state
    net = Network(dt=0.1 * ms, seed=0)
    pop = net.add(Population(2, TSMNeuronParams(i_bias=0.5 * nA)))
    mon = net.add(SpikeMonitor(pop))
    net.run(1.0)
    net.set_state(pop, "c_mod", [0.0, 3.0])
    net.run(2.0)
    late = np.bincount(mon.i[mon.t >= 1.0], minlength=2)
    assert late[0] > late[1]
    np.testing.assert_array_equal(net.get_state(pop, "c_mod"), [0.0, 3.0])
    np.testing.assert_array_equal(net.get_state(pop, "a"), [0.0, 3.0])


# ---------------------------------------------------------------------- networks


def _network(engine):
    net = Network(dt=0.1 * ms, seed=7, engine=engine)
    inp = net.add(PoissonSource(40, rates=300.0, name="inp"))
    tsm = net.add(Population(30, TSMNeuronParams(i_bias=np.linspace(0, 0.4, 30) * nA), name="tsm"))
    hetero = net.add(Population(10, TSMNeuronParams(v_th=np.linspace(55, 65, 10) * mV), name="tsm_h"))
    lif = net.add(Population(20, LIFParams(), name="lif"))
    net.add(Projection(inp, tsm, FixedProbability(0.3), weights=150 * pA, delays=lambda r, n: r.integers(1, 6, n)))
    net.add(Projection(inp, hetero, FixedProbability(0.3), weights=200 * pA))
    net.add(Projection(tsm, lif, FixedProbability(0.5), weights=700 * pA, delays=2))
    net.add(Projection(hetero, tsm, AllToAll(), weights=-50 * pA, receptor="inh"))
    for pop in (tsm, hetero, lif):
        net.add(SpikeMonitor(pop, name=f"spk_{pop.name}"))
    net.add(StateMonitor(tsm, ("v", "i_e"), indices=[0, 29], interval=1 * ms))
    net.add(RateMonitor(tsm))
    return net


def _record(net):
    out = []
    for m in net.monitors:
        if isinstance(m, SpikeMonitor):
            out += [m.steps.copy(), m.i.copy()]
        elif isinstance(m, StateMonitor):
            out += [m.values["v"].copy(), m.values["i_e"].copy()]
        else:
            out.append(m.counts.copy())
    return out


def test_in_network_event_and_dense_agree_and_tsm_drives_lif():
    dense, event = _network("dense"), _network("event")
    dense.run(0.5)
    event.run(0.5)
    d, e = _record(dense), _record(event)
    for a, b in zip(d, e, strict=True):
        np.testing.assert_array_equal(a, b)
    spk = {m.name: m for m in dense.monitors if isinstance(m, SpikeMonitor)}
    assert spk["spk_tsm"].num_spikes > 20
    assert spk["spk_tsm_h"].num_spikes > 5
    assert spk["spk_lif"].num_spikes > 0  # TSM spikes reach and drive LIF targets
    # the energy of the counted spikes
    e_tot = tsm_energy(spk["spk_tsm"], TSMNeuronParams())
    assert e_tot == pytest.approx(spk["spk_tsm"].num_spikes * P.energy_per_spike())
    rate_mon = next(m for m in dense.monitors if isinstance(m, RateMonitor))
    assert tsm_energy(rate_mon, P) == pytest.approx(e_tot)


@pytest.mark.parametrize("engine", ["dense", "event"])
def test_checkpoint_resumes_bit_identically(tmp_path, engine):
    full = _network(engine)
    full.run(0.3)
    half = _network(engine)
    half.run(0.15)
    # some devices are mid-spike (ON) or refractory at the save point
    ref = half._sim.ref
    assert np.any(ref < 0)
    path = tmp_path / "tsm.msnn"
    half.save(path)
    resumed = Network.load(path)
    resumed.run(0.15)
    for a, b in zip(_record(resumed), _record(full), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(resumed._sim.ref, full._sim.ref)
    np.testing.assert_array_equal(resumed._sim.v, full._sim.v)


def test_tsm_spikes_drive_memristive_synapses():
    """A TSM spike (v_th across a synaptic device of conductance G) injects G * v_th through a
    crossbar projection; its spike counts, sent as potentiating pulses to the devices,
    strengthen the LIF response."""
    from memr_snn.devices import Crossbar, LinearStepDevice

    dev = LinearStepDevice(g_min=1e-9, g_max=40e-9, dg_up=1e-9, dg_down=1e-9)
    net = Network(dt=0.1 * ms, seed=3)
    tsm = net.add(Population(10, TSMNeuronParams(i_bias=np.linspace(0.35, 0.6, 10) * nA)))
    lif = net.add(Population(5, LIFParams()))
    # single device, k = v_th [A/S]: the delivered weight is the current G * v_th
    xb = Crossbar(device=dev, encoding="single", scale="fit", w_max=(dev.g_max - dev.g_min) * P.spike_amplitude)
    proj = net.add(Projection(tsm, lif, AllToAll(), weights=0.0, device=xb))
    cb = proj.crossbar
    np.testing.assert_allclose(cb.read_weights(), 0.0, atol=1e-25)  # G_min is the reference: no current
    pre_mon, post_mon = net.add(SpikeMonitor(tsm)), net.add(SpikeMonitor(lif))
    net.run(1.0)
    before = post_mon.num_spikes
    pulses = pre_mon.count()[proj.pre_indices()]  # one potentiating pulse per presynaptic spike
    assert pulses.sum() > 0
    cb.apply_pulses(pulses)
    assert np.all(cb.g > dev.g_min) and cb.program_pulses >= pulses.sum()
    np.testing.assert_allclose(cb.read_weights(), (cb.g - dev.g_min) * P.spike_amplitude, rtol=1e-12)
    net.run(1.0)
    assert post_mon.num_spikes - before > before
    assert cb.reads == pre_mon.num_spikes * lif.n


def test_network_matches_standalone_transient():
    """Bias-only neuron in a network (dt = 0.1 ms) == simulate_tsm with the same dt, step for step."""
    dt = 0.1 * ms
    p = TSMNeuronParams(i_bias=0.5 * nA)
    net = Network(dt=dt, seed=0)
    pop = net.add(Population(1, p))
    mon = net.add(SpikeMonitor(pop))
    net.run(1.0)
    tr = simulate_tsm(p, 0.0, dt, n_steps=10000)
    np.testing.assert_array_equal(mon.steps, tr.spike_steps)
    assert net.get_state(pop, "v")[0] == pytest.approx(tr.v[-1], rel=1e-12)


# ------------------------------------------------------------ kernel and twin


def test_step_kernels_match_numpy_twin(rng):
    n = 64
    params = TSMNeuronParams(v_th=rng.uniform(50, 70, n) * mV, r_on=rng.uniform(20, 50, n) * MOhm,
                             tau_syn_e=3 * ms)
    gc_h, gi_h, group = group_tables(params, n, 0.1 * ms)
    # one group per neuron: evaluate per neuron with its own row; the range kernel on a homogeneous copy
    c = gc_h[group]
    ref_steps = gi_h[group, L.I_REF]
    for _ in range(3):
        v = rng.uniform(0, 75, n) * mV
        se, si = rng.uniform(0, 1, n) * nA, rng.uniform(-0.5, 0, n) * nA
        a, ib = rng.uniform(-2, 2, n), rng.uniform(0, 1, n) * nA
        ref = rng.choice([-1, 0, 0, 1, 5], n).astype(np.int32)
        want = tsm_step_ref(c, v, se, si, a, ib, ref, ref_steps)
        got = [x.copy() for x in (v, se, si, a, ib, ref)]
        fired = np.array([tsm_step_one(gc_h, group[j], j, *got, gi_h[group[j], L.I_REF]) for j in range(n)])
        for x, y in zip((got[0], got[1], got[2], got[5], fired), want, strict=True):
            np.testing.assert_array_equal(x, y)
    # homogeneous range kernel (delivery fused) against the twin
    gc1, gi1, _ = group_tables(TSMNeuronParams(tau_syn_e=3 * ms), n, 0.1 * ms)
    c1 = np.repeat(gc1, n, axis=0)
    v = rng.uniform(0, 75, n) * mV
    se, si = rng.uniform(0, 1, n) * nA, rng.uniform(-0.5, 0, n) * nA
    be, bi = rng.uniform(0, 0.3, n) * nA, np.zeros(n)
    a, ib = rng.uniform(-2, 2, n), rng.uniform(0, 1, n) * nA
    ref = rng.choice([-1, 0, 0, 1, 5], n).astype(np.int32)
    want = tsm_step_ref(c1, v, se + be, si + bi, a, ib, ref, np.full(n, gi1[0, L.I_REF]))
    got = [x.copy() for x in (v, se, si, a, ib, ref)]
    fired = np.zeros(n, np.uint8)
    count = tsm_step_range(gc1, 0, 0, n, *got, fired, gi1[0, L.I_REF], be.copy(), bi.copy())
    for x, y in zip((got[0], got[1], got[2], got[5], fired.astype(bool)), want, strict=True):
        np.testing.assert_array_equal(x, y)
    assert count == want[4].sum()


# -------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"v_hold": 60 * mV}, "v_hold"),
        ({"v_hold": 70 * mV}, "v_hold"),
        ({"v_hold": -1 * mV}, "v_hold"),
        ({"r_on": 200 * MOhm}, "r_on"),
        ({"r_on": 300 * MOhm}, "r_on"),
        ({"c_mem": -1 * pF}, "c_mem"),
        ({"c_mem": 0.0}, "c_mem"),
        ({"r_off": -1.0}, "r_off"),
        ({"t_ref": -1 * ms}, "t_ref"),
        ({"tau_syn_e": 0.0}, "tau_syn_e"),
        ({"k_mod": np.inf}, "k_mod"),
        ({"v_th": np.array([60, 20]) * mV}, "v_hold"),
    ],
)
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        TSMNeuronParams(**kwargs)


def test_json_round_trip(tmp_path):
    p = TSMNeuronParams(c_mem=np.array([100, 200]) * pF, k_mod=2 * mV)
    assert NEURON_MODELS["tsm"] is TSMNeuronParams
    assert TSMNeuronParams.from_dict(p.to_dict()) == p
    assert load_params(save_params(p, tmp_path / "tsm.json")) == p
