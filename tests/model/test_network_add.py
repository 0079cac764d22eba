"""``Network.add`` returns what it was given; ``add_all`` always returns a tuple."""

from __future__ import annotations

import pytest

import memr_snn as m


def test_add_returns_the_object_and_add_all_a_tuple():
    net = m.Network(dt=1e-4, seed=0)
    pop = m.Population(3, m.LIFParams())
    assert net.add(pop) is pop
    a, b = m.SpikeMonitor(pop), m.RateMonitor(pop)
    assert net.add_all(a, b) == (a, b)
    c = m.SpikeMonitor(pop)
    assert net.add_all(c) == (c,)  # a tuple even for one object
    assert net.add_all() == ()
    assert net.monitors == [a, b, c]


def test_several_objects_to_add_are_deprecated_but_work():
    net = m.Network(dt=1e-4, seed=0)
    p, q = m.Population(2, m.LIFParams()), m.Population(2, m.LIFParams())
    with pytest.warns(DeprecationWarning, match="add_all"):
        assert net.add(p, q) == (p, q)
    assert net.populations == [p, q]


def test_add_needs_an_object_of_the_model():
    net = m.Network(dt=1e-4, seed=0)
    with pytest.raises(TypeError):
        net.add()
    with pytest.raises(TypeError, match="expected a population, projection or monitor"):
        net.add("pop")
    with pytest.raises(TypeError, match="expected a population, projection or monitor"):
        net.add_all(m.Population(2, m.LIFParams()), 3)


def test_monitors_and_projections_are_reachable_by_name_also_after_load(tmp_path):
    net = m.Network(dt=1e-4, seed=0)
    src = net.add(m.PoissonSource(5, 50.0, name="in"))
    exc = net.add(m.Population(4, m.LIFParams(), name="exc"))
    pr = net.add(m.Projection(src, exc, m.AllToAll(), weights=1e-10))
    s1, s2 = net.add(m.SpikeMonitor(exc)), net.add(m.SpikeMonitor(exc, indices=[0]))
    v = net.add(m.StateMonitor(exc, "v", name="membrane"))
    r = net.add(m.RateMonitor(exc))
    assert (s1.name, s2.name, v.name, r.name) == ("spikes:exc", "spikes:exc#2", "membrane", "rate:exc")
    assert net.monitor("spikes:exc#2") is s2 and net.projection("in->exc") is pr
    with pytest.raises(KeyError, match="known"):
        net.monitor("nope")
    net.run(0.01)
    net.save(tmp_path / "n.msnn")
    back = m.Network.load(tmp_path / "n.msnn")
    assert [x.name for x in back.monitors] == ["spikes:exc", "spikes:exc#2", "membrane", "rate:exc"]
    assert back.monitor("spikes:exc").num_spikes == s1.num_spikes
    assert back.projection("in->exc").n_synapses == pr.n_synapses
