"""No path from the public API to an out-of-bounds kernel access, and no silent nonsense.

The arrays a user is handed that the kernels index (``Projection.indptr/indices/delays``,
``SpikeSource.indices/times``, monitor indices, ``PoissonSource.rates``) are read-only views;
assigning the attribute is refused with a message that says how to make the change; weights
change only through the validating setter.  On ``main`` before this suite, writing negative
delays or out-of-range indices into these views ran "fine" or segfaulted.
"""

from __future__ import annotations

import numpy as np
import pytest

import memr_snn as m
from reliability.harness import assert_no_crash, run_isolated

WRITES = {
    "delays": lambda o: o["pr"].delays.__setitem__(slice(None), -5),
    "delays_big": lambda o: o["pr"].delays.__setitem__(slice(None), 30000),
    "indices": lambda o: o["pr"].indices.__setitem__(slice(None), 10**7),
    "indptr": lambda o: o["pr"].indptr.__setitem__(-1, 10**7),
    "weights": lambda o: o["pr"].weights.__setitem__(slice(None), np.nan),
    "src_indices": lambda o: o["src"].indices.__setitem__(slice(None), 10**6),
    "src_times": lambda o: o["src"].times.__setitem__(slice(None), -1.0),
    "state_indices": lambda o: o["sm"].indices.__setitem__(slice(None), 10**6),
    "spike_indices": lambda o: o["spm"].indices.__setitem__(slice(None), 10**6),
    "rates": lambda o: o["ps"].rates.__setitem__(Ellipsis, -1e9),
}

REBINDS = [("pr", "delays"), ("pr", "indices"), ("pr", "indptr"), ("src", "indices"), ("src", "times"),
           ("sm", "indices"), ("spm", "indices"), ("ps", "rates")]


def build(engine: str = "event", run: bool = True):
    net = m.Network(dt=1e-4, seed=1, engine=engine)
    src = net.add(m.SpikeSource(3, [0.001, 0.002, 0.003], [0, 1, 2]))
    ps = net.add(m.PoissonSource(3, 50.0))
    pop = net.add(m.Population(5, m.LIFParams()))
    pr = net.add(m.Projection(src, pop, m.AllToAll(), weights=1e-9, delays=lambda rng, n: rng.integers(1, 5, n)))
    net.add(m.Projection(ps, pop, m.AllToAll(), weights=1e-9))
    sm = net.add(m.StateMonitor(pop, ["v"], indices=[0, 1]))
    spm = net.add(m.SpikeMonitor(pop, indices=[0, 1]))
    if run:
        net.run(0.001)
    return dict(net=net, src=src, ps=ps, pop=pop, pr=pr, sm=sm, spm=spm)


@pytest.mark.parametrize("run", [False, True], ids=["before-run", "after-run"])
@pytest.mark.parametrize("name", sorted(WRITES))
def test_in_place_writes_are_refused(name, run):
    objs = build(run=run)
    before = {(o, k): np.array(getattr(objs[o], k)) for o, k in REBINDS}
    with pytest.raises(ValueError, match="read-only"):
        WRITES[name](objs)
    for key, value in before.items():
        np.testing.assert_array_equal(getattr(objs[key[0]], key[1]), value)
    objs["net"].run(0.005)  # still runs, and correctly
    assert np.all(np.isfinite(objs["net"].get_state(objs["pop"], "v")))


@pytest.mark.parametrize("owner,attr", REBINDS)
def test_rebinding_is_refused_with_a_hint(owner, attr):
    objs = build(run=False)
    with pytest.raises(AttributeError, match=rf"{attr} is read-only: .*(new|set_rates)"):
        setattr(objs[owner], attr, np.array([-1]))


def test_views_stay_live_and_weights_change_through_the_setter():
    objs = build()
    net, pr, ps = objs["net"], objs["pr"], objs["ps"]
    w = pr.weights
    pr.weights = pr.weights * 2  # the documented way
    assert np.all(w == 2e-9)  # the earlier view follows (live, read-only)
    net.set_rates(ps, 10.0)
    assert np.all(ps.rates == 10.0) and not ps.rates.flags.writeable
    with pytest.raises(ValueError, match="do not fit projection"):
        pr.weights = np.ones(3)
    with pytest.raises(ValueError, match="finite"):
        pr.weights = np.full(pr.n_synapses, np.inf)
    with pytest.raises(TypeError, match="weights must be a number"):
        pr.weights = "big"


def test_spike_source_copies_the_callers_arrays():
    times, idx = np.array([0.001, 0.002]), np.array([0, 1])
    src = m.SpikeSource(2, times, idx)
    times[:] = -1.0
    idx[:] = 10**6
    assert np.all(src.times == [0.001, 0.002]) and np.all(src.indices == [0, 1])


def test_private_edits_are_caught_before_the_kernel():
    """The build-time check refuses arrays changed behind the API (second line of defence)."""
    objs = build(run=False)
    objs["src"]._indices = np.array([0, 1, 10**6])
    with pytest.raises(ValueError, match=r"SpikeSource .*indices must lie in \[0, 2\]"):
        objs["net"].run(0.001)
    objs = build(run=False)
    objs["pr"]._delays = np.full(objs["pr"].n_synapses, -3, dtype=np.int16)
    with pytest.raises(ValueError, match="delays must be"):
        objs["net"].run(0.001)


_CHILD = """
import numpy as np, memr_snn as m
net = m.Network(dt=1e-4, seed=1, engine={engine!r})
src = net.add(m.SpikeSource(3, [0.001, 0.002, 0.003], [0, 1, 2]))
ps = net.add(m.PoissonSource(3, 50.0))
pop = net.add(m.Population(5, m.LIFParams()))
pr = net.add(m.Projection(src, pop, m.AllToAll(), weights=1e-9, delays=lambda rng, n: rng.integers(1, 5, n)))
sm = net.add(m.StateMonitor(pop, ["v"], indices=[0, 1]))
net.run(0.001)
refused = 0
for write in (lambda: pr.delays.__setitem__(slice(None), -5), lambda: pr.indices.__setitem__(slice(None), 10**7),
              lambda: src.indices.__setitem__(slice(None), 10**6), lambda: sm.indices.__setitem__(slice(None), 10**6),
              lambda: ps.rates.__setitem__(Ellipsis, -1e9), lambda: setattr(pr, "delays", np.array([-5]))):
    try:
        write()
    except (ValueError, AttributeError):
        refused += 1
net.run(0.05)
assert refused == 6, refused
assert np.all(np.isfinite(net.get_state(pop, "v")))
"""


@pytest.mark.parametrize("engine", ["event", "dense"])
def test_no_crash_in_a_child_process(engine):
    """The reported writes, in a fresh interpreter: refused, and the run that follows ends cleanly."""
    assert_no_crash(run_isolated(_CHILD.format(engine=engine), timeout=300))


# ------------------------------------------------------------------ silent nonsense and unclear messages


def test_boolean_mask_is_not_taken_as_indices():
    net = m.Network(dt=1e-4, seed=1)
    src = net.add(m.SpikeSource(2, [0.001], [0]))
    pop = net.add(m.Population(2, m.LIFParams()))
    mask = np.array([True, False])
    with pytest.raises(TypeError, match=r"boolean array.*np.flatnonzero"):
        net.add(m.Projection(src, pop, m.FromArrays(mask, np.array([0, 1])), weights=1.0))
    with pytest.raises(TypeError, match="boolean array"):
        m.SpikeMonitor(pop, indices=mask)
    with pytest.raises(TypeError, match="boolean array"):
        net.get_state(pop, "v", indices=mask)


def test_unsigned_delays_are_reported_as_themselves():
    net = m.Network(dt=1e-4, seed=1)
    src = net.add(m.SpikeSource(1, [0.001], [0]))
    pop = net.add(m.Population(1, m.LIFParams()))
    huge = np.array([2**64 - 1], dtype=np.uint64)
    with pytest.raises(ValueError, match="got 18446744073709551615"):
        net.add(m.Projection(src, pop, m.AllToAll(), weights=1.0, delays=huge))
    with pytest.raises(ValueError, match="got 18446744073709551615"):
        m.SpikeMonitor(pop, indices=huge)


def test_float32_storage_refuses_weights_it_cannot_hold():
    net = m.Network(dt=1e-4, seed=1, weight_dtype="float32")
    src = net.add(m.SpikeSource(1, [0.001], [0]))
    pop = net.add(m.Population(1, m.LIFParams()))
    pr = net.add(m.Projection(src, pop, m.AllToAll(), weights=1e39))
    with pytest.raises(ValueError, match=r"weights of projection .* float32 storage, got 1e\+39"):
        net.run(0.001)
    pr.weights = 1e-9
    net.run(0.001)
    with pytest.raises(ValueError, match="float32 storage"):
        pr.weights = -1e39
    assert np.all(np.isfinite(pr.weights))


def test_weight_of_the_wrong_type_is_named():
    src, pop = m.SpikeSource(1, [0.001], [0]), m.Population(1, m.LIFParams())
    for bad in ("big", b"x", True, [1, "a"], {"w": 1}):
        with pytest.raises(TypeError, match="weights must be a number, an array of numbers or a callable"):
            m.Projection(src, pop, m.AllToAll(), weights=bad)


@pytest.mark.parametrize("run", [False, True])
def test_set_state_shapes_are_explained(run):
    net = m.Network(dt=1e-4, seed=1)
    pop = net.add(m.Population(5, m.LIFParams()))
    if run:
        net.run(0.001)
    with pytest.raises(ValueError, match=r"values of shape \(3,\) do not fit the population \(5 neurons\)"):
        net.set_state(pop, "v", np.zeros(3))
    with pytest.raises(ValueError, match=r"do not fit indices \(2 neurons\)"):
        net.set_state(pop, "v", np.zeros((2, 2)), indices=[1, 2])
    with pytest.raises(TypeError, match="values must be numbers"):
        net.set_state(pop, "v", "low")
    net.set_state(pop, "v", [-0.06, -0.061], indices=[0, 1])
    assert net.get_state(pop, "v", indices=[0, 1]) == pytest.approx([-0.06, -0.061])


# ------------------------------------------------------------------ structural attributes are fixed

FIXED = [
    ("net", "dt", 0.0),
    ("net", "weight_dtype", "int8"),
    ("pop", "n", 10**6),
    ("src", "n", 1),
    ("pop", "neuron", "x"),
    ("sm", "every", -3),
    ("sm", "variables", ("bogus",)),
    ("sm", "interval", 0.0),
    ("pr", "receptor", "inh"),
    ("pr", "receptor_index", 5),
]


@pytest.mark.parametrize("owner,attr,value", FIXED)
def test_structural_attributes_are_fixed(owner, attr, value):
    """Before: every=-3 corrupted memory (exit 139), dt=0 raised ZeroDivisionError, n=10**6 let
    get_state index past the engine's arrays.  Now each assignment is refused by name."""
    objs = build()
    with pytest.raises(AttributeError, match=rf"{attr} is fixed"):
        setattr(objs[owner], attr, value)
    objs["net"].run(0.002)
    assert np.all(np.isfinite(objs["net"].get_state(objs["pop"], "v")))


def test_initial_state_is_read_only_and_checked():
    pop = m.Population(5, m.LIFParams(), initial={"v": np.full(5, -0.065)})
    with pytest.raises(ValueError, match="read-only"):
        pop.initial["v"][:] = np.nan
    with pytest.raises(TypeError):
        pop.initial["v"] = np.full(5, np.nan)
    with pytest.raises(ValueError, match="finite"):
        pop.set_initial("v", np.full(5, np.nan))
    net = m.Network(dt=1e-4, seed=1)
    net.add(pop)
    pop._initial["v"] = np.full(5, np.nan)  # behind the API: the build-time check refuses it
    with pytest.raises(ValueError, match="initial v must be 5 finite values"):
        net.run(0.001)


def test_engine_stays_assignable_and_validated():
    net = build(run=False)["net"]
    net.engine = "dense"
    assert net.engine == "dense"
    with pytest.raises(ValueError, match="engine must be one of"):
        net.engine = "warp"


def test_step_counter_cannot_overflow():
    net = build(run=False)["net"]
    with pytest.raises(ValueError, match=r"past 2\*\*61 steps"):
        net.run(1e300)
    with pytest.raises(ValueError, match=r"past 2\*\*61 steps"):
        net.run_steps(2**62)
