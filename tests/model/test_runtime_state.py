"""The model is a description: the engine holds the mutable state and never rebinds model attributes."""

import numpy as np
import pytest

from memr_snn import FixedProbability, LIFParams, Network, PoissonSource, Population, Projection
from memr_snn.units import pA


def _net():
    net = Network(dt=1e-4, seed=1)
    inp = net.add(PoissonSource(10, rates=np.arange(10.0), name="inp"))
    out = net.add(Population(5, LIFParams(), name="out"))
    proj = net.add(Projection(inp, out, FixedProbability(0.5), weights=100 * pA))
    return net, inp, proj


def test_poisson_rates_follow_the_engine_without_rebinding_the_description():
    net, inp, _ = _net()
    described = inp.__dict__["_rates"]
    np.testing.assert_array_equal(inp.rates, [np.arange(10.0)])
    net.run(0.001)
    net.set_rates(inp, 7.0)
    assert np.all(inp.rates == 7.0)  # the live view follows the engine
    assert inp.__dict__["_rates"] is described  # the description was not rebound
    np.testing.assert_array_equal(described, [np.arange(10.0)])
    with pytest.raises(ValueError):
        inp.rates[0, 0] = 1.0  # read-only view
    with pytest.raises(AttributeError, match="set_rates"):
        inp.rates = np.ones(10)


def test_weights_live_in_the_engine_once_built():
    net, _, proj = _net()
    before = proj.weights.copy()
    net.run(0.001)
    assert proj.__dict__["_weights"] is None  # one copy, in the engine
    np.testing.assert_array_equal(proj.weights, before)
    proj.weights = proj.weights * 2
    np.testing.assert_array_equal(net._sim.weights(proj), before * 2)


def test_projection_keywords_are_the_attribute_names_and_old_spellings_warn():
    net = Network(dt=1e-4, seed=1)
    a = net.add(Population(3, LIFParams(), name="a"))
    b = net.add(Population(3, LIFParams(), name="b"))
    new = net.add(Projection(a, b, FixedProbability(1.0), weights=2 * pA, delays=3))
    with pytest.warns(DeprecationWarning, match=r"Projection\(weight=\.\.\.\) is deprecated; use Projection\(weights"):
        old = Projection(a, b, FixedProbability(1.0), weight=2 * pA, delay_steps=3)
    net.add(old)
    np.testing.assert_array_equal(old.weights, new.weights)
    assert old.delay_uniform == new.delay_uniform == 3
    with pytest.raises(TypeError, match="both weights= and its deprecated spelling weight="):
        Projection(a, b, FixedProbability(1.0), weights=1 * pA, weight=2 * pA)


def test_network_name_is_validated_and_survives_a_checkpoint(tmp_path):
    net, _, _ = _net()
    assert net.name is None
    net.name = "cortex"
    net.run(0.001)
    net.save(tmp_path / "n.msnn")
    assert Network.load(tmp_path / "n.msnn").name == "cortex"
    assert Network(dt=1e-4, name="x").name == "x"
    for bad in ("", 3, "y" * 201):
        with pytest.raises(ValueError, match="name must be None or a string"):
            Network(dt=1e-4, name=bad)
