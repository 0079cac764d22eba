"""Partitioner: limits always hold (property test vs a brute-force count), hand-computed energy, refusals."""

from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memr_snn import (
    ALIFParams,
    AllToAll,
    FixedProbability,
    LIFCondParams,
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSource,
    TSMNeuronParams,
)
from memr_snn.hardware import MappingError, UnsupportedFeature, load_profile, map_network, rates_from_monitors
from memr_snn.learning.stdp import STDP
from memr_snn.units import ms

matplotlib.use("Agg")

#: a LIF neuron with one synaptic time constant (one compartment on every profile)
ONE_TAU = LIFParams(tau_syn_e=5 * ms, tau_syn_i=5 * ms)


def _small_profile(**changes):
    base = dict(neurons_per_core=8, fan_in_axons_per_core=120, fan_out_axons_per_core=40,
                synaptic_memory_bits_per_core=6000, delay_units_per_core=80, cores_per_chip=16, cores_per_tile=2,
                tiles_x=4, tiles_y=2, max_chips=64)
    base.update(changes)
    return load_profile("loihi1").replace(**base)


# ---------------------------------------------------------------------------- brute force
def _brute_force(net, mapping, profile, rates, dt):
    """Recount every per-core resource and the traffic from the projections' synapses, in plain loops."""
    core = {}  # (pop name, local index) -> core
    for name, arr in mapping.core_of.items():
        for i, c in enumerate(arr):
            core[(name, i)] = int(c)
    n_cores = mapping.n_cores
    lists = [dict() for _ in range(n_cores)]  # source -> synapse count
    plastic = [set() for _ in range(n_cores)]
    dests = {}  # on-chip source -> set of cores
    maxdelay = [-1] * n_cores
    receptors = {}
    for pr in net.projections:
        pre_idx = pr.pre_indices()
        delays = pr.delay_array()
        for s in range(pr.n_synapses):
            src = (pr.pre.name, int(pre_idx[s]))
            c = core[(pr.post.name, int(pr.indices[s]))]
            lists[c][src] = lists[c].get(src, 0) + 1
            if pr.plasticity is not None:
                plastic[c].add(src)
            if isinstance(pr.pre, Population):
                dests.setdefault(src, set()).add(c)
            maxdelay[c] = max(maxdelay[c], int(delays[s]) - 1)
        receptors.setdefault(pr.post.name, set()).add(pr.receptor)
    comps = [0] * n_cores
    neurons = [0] * n_cores
    for (name, _i), c in core.items():
        pop = net.population(name)
        k = 1
        if len(receptors.get(name, ())) == 2 and pop.neuron.tau_syn_e != pop.neuron.tau_syn_i:
            k = 2
        if isinstance(pop.neuron, ALIFParams):
            k += 1
        comps[c] += k
        neurons[c] += 1
    out = [0] * n_cores
    for src, ds in dests.items():
        out[core[src]] += len(ds)
    bits = []
    for c in range(n_cores):
        idx = max(profile.index_bits_min, min(profile.index_bits_max, math.ceil(math.log2(max(comps[c], 2)))))
        dly = 0 if maxdelay[c] <= 0 else math.ceil(math.log2(maxdelay[c] + 1))
        b = mapping.weight_bits + dly + idx
        total = 0
        for n in lists[c].values():
            while n > 0:
                k = min(n, profile.list_block_synapses)
                total += math.ceil((k * b + profile.list_block_header_bits) / profile.synapse_word_bits) \
                    * profile.synapse_word_bits
                n -= k
        bits.append(total)
    delay_units = [comps[c] * max(profile.min_delay_units, maxdelay[c] + 2) for c in range(n_cores)]
    in_axons = [len(lists[c]) + (profile.plastic_in_axon_slots - 1) * len(plastic[c]) for c in range(n_cores)]
    p = {}
    for pop in net.populations:
        r = np.broadcast_to(rates[pop.name], (pop.n,))
        for i in range(pop.n):
            p[(pop.name, i)] = min(1.0, float(r[i]) * dt)
    inter_core = sum(p[src] * len(ds - {core[src]}) for src, ds in dests.items())
    messages = sum(p[src] * len(ds) for src, ds in dests.items())
    return dict(comps=comps, neurons=neurons, in_axons=in_axons, out=out, bits=bits, delay_units=delay_units,
                inter_core=inter_core, messages=messages)


def _random_net(draw_sizes, seed, probs, delays, receptors, alif, plastic, two_tau):
    net = Network(dt=0.1 * ms, seed=seed)
    pops = []
    for k, n in enumerate(draw_sizes):
        tau_i = (10 if two_tau[k] else 2) * ms  # tau_syn_e is 2 ms: a second time constant or not
        params = ALIFParams(tau_syn_i=tau_i) if alif[k] else LIFParams(tau_syn_i=tau_i)
        pops.append(net.add(Population(n, params, name=f"p{k}")))
    src = net.add(PoissonSource(5, rates=50.0, name="input"))
    for k, post in enumerate(pops):
        pre = pops[(k + 1) % len(pops)]
        net.add(Projection(pre, post, FixedProbability(probs[k]), weights=1e-12, delays=delays[k],
                           receptor=receptors[k], plasticity=STDP(w_max=1e-9) if plastic[k] else None))
        net.add(Projection(src, post, FixedProbability(0.5), weights=1e-12, receptor="exc"))
    return net


@settings(max_examples=40)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
    probs=st.lists(st.floats(0.05, 0.6), min_size=3, max_size=3),
    delays=st.lists(st.integers(1, 6), min_size=3, max_size=3),
    receptors=st.lists(st.sampled_from(["exc", "inh"]), min_size=3, max_size=3),
    alif=st.lists(st.booleans(), min_size=3, max_size=3),
    plastic=st.lists(st.booleans(), min_size=3, max_size=3),
    two_tau=st.lists(st.booleans(), min_size=3, max_size=3),
    refine=st.booleans(),
)
def test_every_core_within_every_limit_and_traffic_matches_brute_force(sizes, seed, probs, delays, receptors, alif,
                                                                       plastic, two_tau, refine):
    net = _random_net(sizes, seed, probs, delays, receptors, alif, plastic, two_tau)
    prof = _small_profile()
    rates = {f"p{k}": np.linspace(1.0, 80.0, n) for k, n in enumerate(sizes)}
    rates["input"] = 50.0
    m = map_network(net, prof, rates=rates, refine=refine)
    bf = _brute_force(net, m, prof, rates, net.dt)
    # every neuron exactly once: per-population core arrays have the population's size, counts add up
    assert sorted(m.core_of) == [f"p{k}" for k in range(len(sizes))]
    assert all(m.core_of[f"p{k}"].shape == (n,) for k, n in enumerate(sizes))
    assert sum(c.neurons for c in m.cores) == sum(sizes)
    assert [c.neurons for c in m.cores] == bf["neurons"]
    assert all(c.neurons > 0 for c in m.cores)
    for c in m.cores:
        k = c.index
        assert (c.compartments, c.in_axons, c.out_axons, c.synapse_bits, c.delay_units) == (
            bf["comps"][k], bf["in_axons"][k], bf["out"][k], bf["bits"][k], bf["delay_units"][k])
        assert c.compartments <= prof.neurons_per_core
        assert c.in_axons <= prof.fan_in_axons_per_core
        assert c.out_axons <= prof.fan_out_axons_per_core
        assert c.synapse_bits <= prof.synaptic_memory_bits_per_core
        assert c.delay_units <= prof.delay_units_per_core
    assert m.traffic["inter_core"] == pytest.approx(bf["inter_core"], rel=1e-9, abs=1e-12)
    assert m.traffic["messages"] == pytest.approx(bf["messages"], rel=1e-9, abs=1e-12)


def test_refinement_lowers_traffic_of_a_structured_network():
    """Populations a, c, b, d (3 neurons each) with a -> b and c -> d, cores of 8: the greedy fill puts
    a, c and two of b on core 0, the rest on core 1, so every spike of a and of c leaves its core.
    Moving c next to d, then b's last neuron next to a, removes all inter-core traffic."""
    net = Network(dt=0.1 * ms, seed=3)
    pops = {n: net.add(Population(3, ONE_TAU, name=n)) for n in "acbd"}
    for pre, post in (("a", "b"), ("c", "d")):
        net.add(Projection(pops[pre], pops[post], AllToAll(), weights=1e-12))
    prof = _small_profile(fan_out_axons_per_core=1000, fan_in_axons_per_core=1000,
                          synaptic_memory_bits_per_core=10**6, delay_units_per_core=0)
    greedy = map_network(net, prof, refine=False)
    assert greedy.traffic["inter_core"] == pytest.approx(6 * 10.0 * 1e-4, rel=1e-12)
    refined = map_network(net, prof, refine=True)
    assert refined.traffic["inter_core"] == 0.0
    assert refined.n_cores == 2
    assert {tuple(sorted(c.pieces)) for c in refined.cores} == {(("a", 3), ("b", 3)), (("c", 3), ("d", 3))}


# ---------------------------------------------------------------------------- energy arithmetic
def _tiny(dt=1e-4):
    net = Network(dt=dt, seed=1)
    a = net.add(Population(2, ONE_TAU, name="a"))
    b = net.add(Population(1, ONE_TAU, name="b"))
    net.add(Projection(a, b, AllToAll(), weights=1e-12))
    return net


def test_energy_and_time_of_a_tiny_network_by_hand():
    """a (2 neurons, 1000 Hz) -> b (1 neuron, silent), all on one Loihi 1 core, dt = 0.1 ms.

    p_a = 1000 * 1e-4 = 0.1 per step: synaptic ops 2 * 0.1 = 0.2; b expects 0.2 input
    events, active with probability 1 - exp(-0.2); a's two neurons never receive input.
    Messages: 2 * 0.1 within one tile."""
    prof = load_profile("loihi1")
    m = map_network(_tiny(), prof, rates={"a": 1000.0, "b": 0.0})
    act = 1 - math.exp(-0.2)
    assert m.n_cores == 1 and m.cores[0].compartments == 3
    assert m.counts["synops"] == pytest.approx(0.2, rel=1e-12)
    assert m.counts["active_updates"] == pytest.approx(act, rel=1e-12)
    assert m.counts["inactive_updates"] == pytest.approx(3 - act, rel=1e-12)
    e = 0.2 * 23.6e-12 + act * 81e-12 + (3 - act) * 52e-12 + 0.2 * 1.7e-12
    assert m.energy["total"] == pytest.approx(e, rel=1e-12)
    assert m.energy["routing"] == pytest.approx(0.2 * 1.7e-12, rel=1e-12)
    t = 0.2 * 3.5e-9 + act * 8.4e-9 + (3 - act) * 5.3e-9 + 2.1e-9 + 113e-9
    assert m.time["total"] == pytest.approx(t, rel=1e-12)
    assert m.power == pytest.approx(e / 1e-4, rel=1e-12)
    assert m.traffic["inter_core"] == 0.0


def test_hops_and_barrier_of_a_spread_network_by_hand():
    """One neuron per core, one core per tile in a row of 128 tiles: a0 -> b is 2 east-west hops,
    a1 -> b is 1; 3 tiles in use set the barrier to 113 + (465 - 113) * 2 / 127 ns."""
    prof = load_profile("loihi1").replace(neurons_per_core=1, cores_per_tile=1, tiles_x=128, tiles_y=1)
    m = map_network(_tiny(), prof, rates={"a": 1000.0, "b": 0.0})
    assert [c.pieces for c in m.cores] == [(("a", 1),), (("a", 1),), (("b", 1),)]
    assert [c.tile for c in m.cores] == [(0, 0), (1, 0), (2, 0)]
    e_route = 0.1 * (1.7e-12 + 2 * 3.0e-12) + 0.1 * (1.7e-12 + 1 * 3.0e-12)
    assert m.energy["routing"] == pytest.approx(e_route, rel=1e-12)
    assert m.time["routing"] == pytest.approx(2.1e-9 + 2 * 4.1e-9, rel=1e-12)
    assert m.time["barrier"] == pytest.approx(113e-9 + (465e-9 - 113e-9) * 2 / 127, rel=1e-12)
    assert m.traffic["inter_core"] == pytest.approx(0.2, rel=1e-12)
    # b's core does the synaptic ops and the active update: it is the slowest
    act = 1 - math.exp(-0.2)
    assert m.time["compute"] == pytest.approx(0.2 * 3.5e-9 + act * 8.4e-9 + (1 - act) * 5.3e-9, rel=1e-12)


def test_learning_updates_by_hand():
    """STDP on a -> b: each of the 2 synapses is updated when its pre (p = 0.1) or post (p = 0.05) spikes."""
    net = Network(dt=1e-4, seed=1)
    a = net.add(Population(2, ONE_TAU, name="a"))
    b = net.add(Population(1, ONE_TAU, name="b"))
    net.add(Projection(a, b, AllToAll(), weights=1e-12, plasticity=STDP(w_max=1e-9)))
    m = map_network(net, "loihi1", rates={"a": 1000.0, "b": 500.0})
    assert m.counts["learning_updates"] == pytest.approx(2 * (0.1 + 0.05), rel=1e-12)
    assert m.energy["learning"] == pytest.approx(0.3 * 120e-12, rel=1e-12)
    assert m.cores[0].in_axons == 2 * 2  # two plastic sources, two slots each


def test_compartments_per_neuron():
    """Loihi 1: a second synaptic time constant and threshold adaptation each cost a compartment."""
    net = Network(dt=1e-4, seed=1)
    two = net.add(Population(3, LIFParams(tau_syn_e=5 * ms, tau_syn_i=10 * ms), name="two_tau"))
    adapt = net.add(Population(3, ALIFParams(tau_syn_e=5 * ms, tau_syn_i=10 * ms), name="alif"))
    for post in (two, adapt):
        for rec in ("exc", "inh"):
            net.add(Projection(two, post, AllToAll(), weights=1e-12, receptor=rec))
    m1 = map_network(net, "loihi1")
    assert m1.cores[0].compartments == 3 * 2 + 3 * 3
    m2 = map_network(net, "loihi2")
    assert m2.cores[0].compartments == 6


# ---------------------------------------------------------------------------- refusals
def test_unsupported_features_are_refused_by_name():
    net = Network(dt=1e-4, seed=1)
    net.add(Population(3, LIFCondParams(), name="coba"))
    with pytest.raises(UnsupportedFeature, match=r"population 'coba': conductance-based synapses") as e:
        map_network(net, "loihi1")
    assert e.value.element == "population 'coba'"
    m = map_network(net, "loihi1", strict=False)
    assert any("conductance-based" in w and "strict=False" in w for w in m.warnings)

    net = Network(dt=1e-4, seed=1)
    net.add(Population(3, TSMNeuronParams(), name="tsm"))
    with pytest.raises(UnsupportedFeature, match=r"population 'tsm': neuron model TSMNeuronParams"):
        map_network(net, "loihi2")

    net = Network(dt=1e-4, seed=1)
    p = net.add(Population(3, ALIFParams(), name="adaptive"))
    net.add(Projection(p, p, AllToAll(), weights=1e-12))
    no_adapt = load_profile("loihi1").replace(adaptation="none", name="no_alif")
    with pytest.raises(UnsupportedFeature, match=r"population 'adaptive': adaptive threshold .* 'no_alif'"):
        map_network(net, no_adapt)
    assert map_network(net, "loihi1").n_cores == 1

    net = Network(dt=1e-4, seed=1)
    p = net.add(Population(3, ONE_TAU, name="x"))
    net.add(Projection(p, p, AllToAll(), weights=1e-12, delays=64, name="slow"))
    with pytest.raises(UnsupportedFeature, match=r"projection 'slow': delay of 64 steps .* \[1, 63\]"):
        map_network(net, "loihi1")
    assert map_network(net, "loihi2").n_cores == 1  # Loihi 2 delays reach 63 (delay_steps 64)


def test_device_projection_is_refused():
    from memr_snn.devices import Crossbar

    net = Network(dt=1e-4, seed=1)
    p = net.add(Population(4, ONE_TAU, name="x"))
    net.add(Projection(p, p, AllToAll(), weights=1e-12, device=Crossbar(preset="hfox_rram"), name="rram"))
    with pytest.raises(UnsupportedFeature, match=r"projection 'rram': memristive device non-idealities"):
        map_network(net, "loihi1")


def test_fan_in_beyond_the_axon_limit_is_refused():
    net = Network(dt=1e-4, seed=1)
    src = net.add(PoissonSource(5000, rates=1.0, name="wide"))
    post = net.add(Population(1, ONE_TAU, name="post"))
    net.add(Projection(src, post, AllToAll(), weights=1e-12))
    with pytest.raises(MappingError) as e:
        map_network(net, "loihi1")
    msg = str(e.value)
    assert "neuron post[0]" in msg and "fan_in_axons_per_core = 5000" in msg and "allows 4096" in msg
    assert (e.value.limit, e.value.value, e.value.required) == ("fan_in_axons_per_core", 4096, 5000)


def test_too_many_chips_is_refused():
    prof = load_profile("loihi1").replace(neurons_per_core=4, cores_per_chip=4, cores_per_tile=4, tiles_x=1,
                                          tiles_y=1, max_chips=2)
    net = Network(dt=1e-4, seed=1)
    net.add(Population(40, ONE_TAU, name="big"))
    with pytest.raises(MappingError, match=r"the network cannot be mapped: it needs cores .* = 10 but the profile "
                                           r"allows 8 \(3 chips needed"):
        map_network(net, prof)


def test_bad_arguments():
    net = _tiny()
    with pytest.raises(ValueError, match=r"weight_bits must be an integer in \[1, 9\]"):
        map_network(net, "loihi1", weight_bits=12)
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        map_network(net, "loihi1", dt=0.0)
    with pytest.raises(ValueError, match="unknown population 'zzz'"):
        map_network(net, "loihi1", rates={"zzz": 1.0})
    with pytest.raises(TypeError, match="profile must be a CoreProfile"):
        map_network(net, 3)


# ---------------------------------------------------------------------------- reports
def test_rates_from_a_previous_run_and_the_report(tmp_path):
    net = Network(dt=1e-4, seed=2)
    src = net.add(SpikeSource(2, times=[0.001, 0.002, 0.003], indices=[0, 1, 0], name="stim"))
    a = net.add(Population(4, LIFParams(i_bias=400e-12), name="a"))
    net.add(Projection(src, a, AllToAll(), weights=1e-11))
    mon = net.add(SpikeMonitor(a))
    net.run(0.05)
    rates = rates_from_monitors([mon])
    assert rates["a"].shape == (4,) and np.all(rates["a"] == mon.count() / 0.05)
    m = map_network(net, "loihi1", rates=rates)
    assert m.traffic["spikes"] == pytest.approx(float(np.sum(np.minimum(rates["a"] * 1e-4, 1))), rel=1e-12)
    assert m.traffic["input_messages"] > 0
    text = m.format()
    assert "cores used 1 on 1 chip(s)" in text and "energy per step" in text
    data = json.loads(m.to_json(tmp_path / "mapping.json").read_text())
    assert data["n_cores"] == 1 and data["cores"][0]["pieces"] == [["a", 4]]
    assert data["energy_per_step_J"]["total"] == pytest.approx(m.energy["total"])
    ax = m.plot()
    assert len(ax.patches) == 5  # one core, five limits
    with pytest.raises(ValueError, match="duration must be > 0"):
        rates_from_monitors([mon], duration=0.0)
