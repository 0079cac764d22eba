"""Bad input is refused early, with a ValueError / TypeError / MemoryError that names
the parameter and the offending value (and, where there is one, what to do).
"""

import math
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from memr_snn import (
    ALIFParams,
    AllToAll,
    FixedInDegree,
    FixedProbability,
    FromArrays,
    FromSparse,
    LIFCondParams,
    LIFParams,
    Network,
    OneToOne,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSource,
    StateMonitor,
)
from memr_snn.units import ms, mV, pA

DT = 0.1 * ms


@pytest.fixture
def net():
    """A network with two added populations ``a`` (5 neurons) and ``b`` (3 neurons)."""
    n = Network(dt=DT, seed=1)
    n.add(Population(5, LIFParams(), name="a"), Population(3, LIFParams(), name="b"))
    return n


# ------------------------------------------------------------------- dt, seed


@pytest.mark.parametrize(
    "dt, exc, match",
    [
        (0, ValueError, r"dt must be finite and > 0 \[s\], got 0"),
        (-1e-4, ValueError, r"dt must be finite and > 0 \[s\], got -0\.0001"),
        (float("nan"), ValueError, r"dt must be finite and > 0 \[s\], got nan"),
        (float("inf"), ValueError, r"dt must be finite and > 0 \[s\], got inf"),
        ("0.1", TypeError, r"dt must be a number of seconds, got '0\.1'"),
        (None, TypeError, r"dt must be a number of seconds, got None"),
        (True, TypeError, r"dt must be a number of seconds, got True"),
    ],
)
def test_bad_dt(dt, exc, match):
    with pytest.raises(exc, match=match):
        Network(dt=dt)


@given(dt=st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf), st.just(-math.inf)))
def test_nonpositive_or_nonfinite_dt_property(dt):
    with pytest.raises(ValueError, match="dt must be finite and > 0"):
        Network(dt=dt)


@pytest.mark.parametrize("seed", [-1, 1.5, "1"])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match=rf"seed must be a non-negative integer, got {seed!r}"):
        Network(dt=DT, seed=seed)


def test_bad_engine(net):
    with pytest.raises(ValueError, match=r"engine must be one of \('auto', 'event', 'dense'\), got 'gpu'"):
        Network(dt=DT, engine="gpu")
    with pytest.raises(ValueError, match="engine must be one of .* got 'gpu'"):
        net.run(1 * ms, engine="gpu")


# ------------------------------------------------------------------ durations


@pytest.mark.parametrize(
    "duration, match",
    [
        (0.15 * ms, (r"duration = 0\.00015 s is not a whole number of steps of dt = 0\.0001 s \(1\.5 steps\); "
                     r"use 0\.0001 s \(1 steps\) or 0\.0002 s")),
        (1.04 * ms, r"\(10\.4 steps\); use 0\.001 s \(10 steps\) or 0\.0011 s"),
    ],
)
def test_duration_off_the_grid_suggests_rounding(net, duration, match):
    with pytest.raises(ValueError, match=match):
        net.run(duration)
    assert net.step == 0


@settings(max_examples=50)
@given(steps=st.floats(0.0, 1e5).filter(lambda x: abs(x - round(x)) > 1e-3))
def test_any_off_grid_duration_is_refused(steps):
    n = Network(dt=DT, seed=0)
    n.add(Population(1, LIFParams()))
    with pytest.raises(ValueError, match=rf"use .* \({round(steps)} steps\)"):
        n.steps_of(steps * DT)


@pytest.mark.parametrize(
    "duration, exc, match",
    [
        (float("nan"), ValueError, r"duration must be finite and >= 0 \[s\], got nan"),
        (float("inf"), ValueError, r"duration must be finite and >= 0 \[s\], got inf"),
        (-1.0, ValueError, r"duration must be finite and >= 0 \[s\], got -1\.0"),
        ("1", TypeError, r"duration must be a number of seconds, got '1'"),
    ],
)
def test_bad_duration(net, duration, exc, match):
    with pytest.raises(exc, match=match):
        net.run(duration)


@pytest.mark.parametrize("n_steps", [-1, 1.5, "3", True])
def test_bad_n_steps(net, n_steps):
    with pytest.raises(ValueError, match=rf"n_steps must be an integer >= 0, got {n_steps!r}"):
        net.run_steps(n_steps)


def test_running_an_empty_network():
    with pytest.raises(ValueError, match="the network is empty: add at least one population"):
        Network(dt=DT).run(1 * ms)


# ------------------------------------------------------------- neuron params


@pytest.mark.parametrize(
    "model, kwargs, exc, match",
    [
        (LIFParams, dict(tau_mem=math.nan), ValueError, r"tau_mem must be finite and > 0 \[s\], got .*nan"),
        (LIFParams, dict(tau_mem=-1 * ms), ValueError, r"tau_mem must be finite and > 0 \[s\], got .*-0\.001"),
        (LIFParams, dict(tau_mem=0.0), ValueError, r"tau_mem must be finite and > 0 \[s\], got .*0\.0"),
        (LIFParams, dict(tau_mem=np.array([1 * ms, -2 * ms])), ValueError, r"tau_mem .* got .*-0\.002"),
        (LIFParams, dict(tau_syn_e=math.inf), ValueError, r"tau_syn_e must be finite and > 0 \[s\], got .*inf"),
        (LIFParams, dict(tau_syn_i=-1 * ms), ValueError, r"tau_syn_i must be finite and > 0 \[s\]"),
        (LIFParams, dict(c_mem=0.0), ValueError, r"c_mem must be finite and > 0 \[F\], got .*0\.0"),
        (LIFParams, dict(t_ref=-1 * ms), ValueError, r"t_ref must be finite and >= 0 \[s\], got .*-0\.001"),
        (LIFParams, dict(t_ref=math.nan), ValueError, r"t_ref must be finite and >= 0 \[s\], got .*nan"),
        (LIFParams, dict(v_threshold=-70 * mV, v_reset=-60 * mV), ValueError,
         r"v_threshold must be > v_reset, got v_threshold=-0\.07 <= v_reset=-0\.06 \[V\]"),
        (LIFParams, dict(v_threshold=-60 * mV, v_reset=-60 * mV), ValueError,
         r"v_threshold=-0\.06 <= v_reset=-0\.06"),
        (LIFParams, dict(v_threshold=np.array([-50 * mV, -75 * mV])), ValueError,
         r"v_threshold=-0\.075 <= v_reset=-0\.07"),
        (LIFParams, dict(v_rest=math.inf), ValueError, r"v_rest must be finite, got .*inf"),
        (LIFParams, dict(v_reset=math.nan), ValueError, r"v_reset must be finite, got .*nan"),
        (LIFParams, dict(i_bias=math.nan), ValueError, r"i_bias must be finite, got .*nan"),
        (LIFParams, dict(tau_mem="10ms"), TypeError, r"tau_mem must be a number or an array of numbers, got '10ms'"),
        (LIFParams, dict(tau_mem=True), TypeError, r"tau_mem must be a number .* got True"),
        (LIFParams, dict(tau_mem=np.ones((2, 2))), ValueError, r"tau_mem must be a scalar or a 1-D .* \(2, 2\)"),
        (ALIFParams, dict(tau_adapt=-1.0), ValueError, r"tau_adapt must be finite and > 0 \[s\], got .*-1\.0"),
        (ALIFParams, dict(tau_adapt=math.nan), ValueError, r"tau_adapt must be finite and > 0"),
        (ALIFParams, dict(beta_adapt=-1 * mV), ValueError, r"beta_adapt must be finite and >= 0 \[V\], got .*-0\.001"),
        (LIFCondParams, dict(e_rev_e=math.nan), ValueError, r"e_rev_e must be finite, got .*nan"),
        (LIFCondParams, dict(tau_syn_e=-1.0), ValueError, r"tau_syn_e must be finite and > 0"),
    ],
)
def test_bad_neuron_parameters(model, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        model(**kwargs)


@given(tau=st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf)),
       field=st.sampled_from(["tau_mem", "tau_syn_e", "tau_syn_i", "c_mem"]))
def test_nonpositive_time_constants_property(tau, field):
    with pytest.raises(ValueError, match=rf"{field} must be finite and > 0"):
        LIFParams(**{field: tau})


@given(v_reset=st.floats(-100, 0), gap=st.floats(0, 50))
def test_threshold_not_above_reset_property(v_reset, gap):
    with pytest.raises(ValueError, match="v_threshold must be > v_reset"):
        LIFParams(v_reset=v_reset * mV, v_threshold=(v_reset - gap) * mV)


def test_per_neuron_array_lengths():
    with pytest.raises(ValueError, match="neuron parameter arrays have length 4 but n=3"):
        Population(3, LIFParams(tau_mem=np.full(4, 10 * ms)))
    with pytest.raises(ValueError, match=r"per-neuron parameter arrays of LIFParams differ in length: \[3, 4\]"):
        Population(3, LIFParams(tau_mem=np.full(4, 10 * ms), v_rest=np.full(3, -70 * mV)))


@pytest.mark.parametrize(
    "n, exc, match",
    [(0, ValueError, r"n must be an integer >= 1, got 0"), (2.5, TypeError, r"n must be an integer >= 1, got 2\.5"),
     (-3, ValueError, r"n must be an integer >= 1, got -3")],
)
def test_bad_population_size(n, exc, match):
    with pytest.raises(exc, match=match):
        Population(n, LIFParams())


def test_bad_initial_state():
    with pytest.raises(TypeError, match=r"neuron must be a NeuronParams instance .* got 'lif'"):
        Population(2, "lif")
    with pytest.raises(ValueError, match=r"v must be finite, got .*nan"):
        Population(2, LIFParams(), initial={"v": np.nan})
    with pytest.raises(ValueError, match=r"unknown state variable 'w' for LIFParams; known: \['v', 'i_e'"):
        Population(2, LIFParams(), initial={"w": 1.0})
    with pytest.raises(ValueError, match="initial v has 3 values but n=2"):
        Population(2, LIFParams(), initial={"v": [1.0, 2.0, 3.0]})


# ------------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    "args, match",
    [
        (([-1.0], [0]), r"times must be finite and >= 0 \[s\], got .*-1\.0"),
        (([np.nan], [0]), r"times must be finite and >= 0 \[s\], got .*nan"),
        (([np.inf], [0]), r"times must be finite and >= 0 \[s\], got .*inf"),
        (([0.0], [2]), r"indices must lie in \[0, 1\] \(population of 2\), got 2"),
        (([0.0], [-1]), r"indices must lie in \[0, 1\] \(population of 2\), got -1"),
        (([0.0, 1.0], [0]), r"times and indices must have the same length, got 2 and 1"),
    ],
)
def test_bad_spike_source(args, match):
    with pytest.raises(ValueError, match=match):
        SpikeSource(2, *args)


def test_off_grid_spike_times_refused_when_added():
    net = Network(dt=DT, seed=0)
    with pytest.raises(ValueError, match=r"spike time .*0\.00015\)? s is not on the dt grid"):
        net.add(SpikeSource(1, [0.15 * ms], [0], name="src"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rates=-1.0), r"rates must be finite and >= 0 \[Hz\], got .*-1\.0"),
        (dict(rates=[np.nan, 1.0]), r"rates must be finite and >= 0 \[Hz\], got .*nan"),
        (dict(rates=[1.0, 2.0, 3.0]), r"rates has 3 values but n=2"),
        (dict(rates=np.ones((3, 2))), r"rate_interval \[s\] is required"),
        (dict(rates=np.ones((3, 2)), rate_interval=-1 * ms), r"rate_interval must be finite and >= 0 \[s\]"),
        (dict(rates=np.ones((3, 3))), r"rates must be a scalar, \(n,\) or \(n_intervals, n\) array; got shape"),
    ],
)
def test_bad_poisson_source(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PoissonSource(2, **kwargs)


def test_poisson_rate_interval_off_grid():
    net = Network(dt=DT, seed=0)
    with pytest.raises(ValueError, match=r"rate_interval = 0\.00015 s is not a whole number of steps"):
        net.add(PoissonSource(2, np.ones((3, 2)), rate_interval=0.15 * ms))


# -------------------------------------------------------------- projections


@pytest.mark.parametrize(
    "delay, exc, match",
    [
        (0, ValueError, r"delays must be an integer >= 1, got 0"),
        (-1, ValueError, r"delays must be an integer >= 1, got -1"),
        (1.5, TypeError, r"delays must be an integer >= 1, got 1\.5"),
        (math.nan, TypeError, r"delays must be an integer >= 1, got nan"),
        (np.int8(0), ValueError, r"delays must be an integer >= 1, got .*0"),
        (40_000, ValueError, r"delays must be in \[1, 32767\], got 40000"),
        (True, TypeError, r"delays must be an integer >= 1, got True"),
        (np.float32(2.5), TypeError, r"delays must be an integer >= 1, got .*2\.5"),
        (np.float32(0.0), ValueError, r"delays must be an integer >= 1, got .*0"),
        ("3", TypeError, r"delays must be an integer >= 1, got '3'"),
    ],
)
def test_bad_scalar_delay(net, delay, exc, match):
    a, b = net.populations
    with pytest.raises(exc, match=match):
        proj = Projection(a, b, AllToAll(), weights=1 * pA, delays=delay)
        net.add(proj)


@pytest.mark.parametrize(
    "delays, match",
    [
        (np.array([1, 0, 2, 1, 1]), r"delays must be in \[1, 32767\] steps, got 0"),
        (np.array([1, -3, 2, 1, 1]), r"delays must be in \[1, 32767\] steps, got -3"),
        (np.array([1.0, 1.5, 2.0, 1.0, 1.0]), r"delays must be whole steps >= 1, got .*1\.5"),
        (np.array([1.0, np.nan, 2.0, 1.0, 1.0]), r"delays must be whole steps >= 1, got .*nan"),
        (np.array([1, 2]), r"delays has shape \(2,\) but the projection has 5 synapses"),
        (np.array([1, 40_000, 1, 1, 1]), r"delays must be in \[1, 32767\] steps, got 40000"),
    ],
)
def test_bad_delay_arrays(net, delays, match):
    a, b = net.populations
    with pytest.raises(ValueError, match=match):
        net.add(Projection(a, b, FromArrays([0, 1, 2, 3, 4], [0, 1, 2, 0, 1]), weights=1 * pA, delays=delays))
    assert net.projections == []


def test_bad_delay_callable(net):
    a, b = net.populations
    with pytest.raises(ValueError, match=r"delays must be in \[1, 32767\] steps, got 0"):
        net.add(Projection(a, b, AllToAll(), weights=1 * pA, delays=lambda rng, n: np.zeros(n, dtype=int)))


@given(delay=st.integers(-10**6, 0))
def test_nonpositive_integer_delays_property(delay):
    n = Network(dt=DT, seed=0)
    a = n.add(Population(2, LIFParams()))
    with pytest.raises(ValueError, match=rf"delays must be an integer >= 1, got {delay}"):
        Projection(a, a, AllToAll(), weights=1 * pA, delays=delay)


@pytest.mark.parametrize("p", [1.5, -0.1, math.nan, math.inf])
def test_probability_outside_unit_interval(p):
    with pytest.raises(ValueError, match=rf"p must lie in \[0, 1\], got .*{p!r}"):
        FixedProbability(p)


@given(p=st.one_of(st.floats(min_value=1.0, exclude_min=True), st.floats(max_value=0.0, exclude_max=True)))
def test_probability_outside_unit_interval_property(p):
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\]"):
        FixedProbability(p)


def test_bad_in_degree(net):
    a, b = net.populations
    with pytest.raises(ValueError, match=r"k must be an integer >= 0, got -1"):
        FixedInDegree(-1)
    with pytest.raises(TypeError, match=r"k must be an integer >= 0, got 1\.5"):
        FixedInDegree(1.5)
    with pytest.raises(ValueError, match=r"k must be <= 5 \(distinct presynaptic candidates\), got k=6"):
        net.add(Projection(a, b, FixedInDegree(6), weights=1 * pA))
    with pytest.raises(ValueError, match=r"k must be <= 4 .* got k=5"):
        net.add(Projection(a, a, FixedInDegree(5, allow_autapses=False), weights=1 * pA))
    assert net.projections == []


def test_one_to_one_size_mismatch(net):
    a, b = net.populations
    with pytest.raises(ValueError, match=r"OneToOne needs equal sizes, got n_pre=5, n_post=3"):
        net.add(Projection(a, b, OneToOne(), weights=1 * pA))


def test_connecting_populations_of_different_networks(net):
    a, _ = net.populations
    other = Network(dt=DT)
    c = other.add(Population(3, LIFParams(), name="c"))
    with pytest.raises(ValueError, match=r"cannot connect populations of different networks: post population 'c'"):
        net.add(Projection(a, c, AllToAll(), weights=1 * pA))
    with pytest.raises(ValueError, match=r"cannot connect populations of different networks: pre population 'a'"):
        other.add(Projection(a, c, AllToAll(), weights=1 * pA))
    with pytest.raises(ValueError, match=r"population 'a' belongs to another network"):
        other.add(a)


def test_projection_onto_unadded_population(net):
    a, _ = net.populations
    d = Population(3, LIFParams(), name="d")
    with pytest.raises(ValueError, match=r"post population 'd' is not part of this network; add it first"):
        net.add(Projection(a, d, AllToAll(), weights=1 * pA))
    with pytest.raises(ValueError, match=r"pre population 'd' is not part of this network; add it first"):
        net.add(Projection(d, a, AllToAll(), weights=1 * pA))


@pytest.mark.parametrize(
    "pre, post, exc, match",
    [
        ([0, 5], [0, 1], ValueError, r"pre must lie in \[0, 4\] \(population of 5\), got 5"),
        ([0, -1], [0, 1], ValueError, r"pre must lie in \[0, 4\] \(population of 5\), got -1"),
        ([0, 1], [0, 3], ValueError, r"post must lie in \[0, 2\] \(population of 3\), got 3"),
        ([0, 1.5], [0, 1], TypeError, r"pre must hold integer indices, got dtype float64"),
    ],
)
def test_from_arrays_out_of_range(net, pre, post, exc, match):
    a, b = net.populations
    with pytest.raises(exc, match=match):
        net.add(Projection(a, b, FromArrays(pre, post), weights=1 * pA))
    assert net.projections == []


def test_from_arrays_length_mismatch():
    with pytest.raises(ValueError, match="pre and post must have the same length, got 2 and 1"):
        FromArrays([0, 1], [0])


def test_from_sparse_wrong_shape(net):
    a, b = net.populations
    m = sp.random(5, 3, density=0.5, random_state=1)  # (n_pre, n_post): transposed by mistake
    with pytest.raises(ValueError, match=r"matrix must have shape \(n_post, n_pre\) = \(3, 5\), got \(5, 3\)"):
        net.add(Projection(a, b, FromSparse(m)))
    with pytest.raises(TypeError, match="matrix must be a scipy sparse matrix, got ndarray"):
        FromSparse(np.ones((3, 5)))


def test_bad_weights(net):
    a, b = net.populations
    with pytest.raises(ValueError, match=r"weights must be finite, got .*nan"):
        Projection(a, b, AllToAll(), weights=math.nan)
    with pytest.raises(ValueError, match=r"weights is required"):
        Projection(a, b, AllToAll())
    with pytest.raises(ValueError, match="weights has 7 values but the projection has 15 synapses"):
        net.add(Projection(a, b, AllToAll(), weights=np.ones(7)))
    with pytest.raises(ValueError, match=r"weights must be finite, got .*inf"):
        net.add(Projection(a, b, AllToAll(), weights=np.full(15, np.inf)))
    with pytest.raises(ValueError, match=r"weights must be a scalar, \(15,\) per synapse or \(n_post, n_pre\) = "
                                         r"\(3, 5\); got shape \(5, 3\)"):
        net.add(Projection(a, b, AllToAll(), weights=np.ones((5, 3))))
    assert net.projections == []


def test_unknown_receptor(net):
    a, b = net.populations
    with pytest.raises(ValueError, match=r"receptor must be one of \['exc', 'inh'\] for LIFParams, got 'ampa'"):
        Projection(a, b, AllToAll(), weights=1 * pA, receptor="ampa")


def test_projection_type_errors(net):
    a, _ = net.populations
    with pytest.raises(TypeError, match=r"post must be a neuron Population \(not a spike source\)"):
        Projection(a, SpikeSource(1, [], []), AllToAll(), weights=1 * pA)
    with pytest.raises(TypeError, match="connectivity must be a Connectivity rule, got 0.5"):
        Projection(a, a, 0.5, weights=1 * pA)
    with pytest.raises(TypeError, match="cannot add 42: expected a population, projection or monitor"):
        net.add(42)


def test_duplicates_in_network(net):
    a, _ = net.populations
    with pytest.raises(ValueError, match="population 'a' was already added to this network"):
        net.add(a)
    with pytest.raises(ValueError, match="a population named 'a' already exists in this network"):
        net.add(Population(2, LIFParams(), name="a"))


def test_structure_frozen_after_run(net):
    a, b = net.populations
    net.run(1 * ms)
    with pytest.raises(RuntimeError, match="cannot add a projection after the network has run"):
        net.add(Projection(a, b, AllToAll(), weights=1 * pA))
    with pytest.raises(RuntimeError, match="cannot add a population after the network has run"):
        net.add(Population(1, LIFParams()))


# ----------------------------------------------------------------- monitors


def test_monitors_on_unknown_variables(net):
    a, _ = net.populations
    with pytest.raises(ValueError, match=r"unknown state variable 'w' for LIFParams; known: \['v', 'i_e', 'i_i'"):
        StateMonitor(a, "w")
    with pytest.raises(ValueError, match=r"unknown state variable 'g_e' for LIFParams"):
        StateMonitor(a, ["v", "g_e"])
    with pytest.raises(ValueError, match=r"unknown state variable 'a' for LIFParams"):
        StateMonitor(a, "a")
    with pytest.raises(ValueError, match="variables must name at least one state variable"):
        StateMonitor(a, [])
    with pytest.raises(TypeError, match="StateMonitor needs a neuron Population"):
        StateMonitor(SpikeSource(1, [], []), "v")
    with pytest.raises(ValueError, match=r"unknown state variable 'w'"):
        net.get_state(a, "w")
    with pytest.raises(ValueError, match=r"unknown state variable 'w'"):
        net.set_state(a, "w", 1.0)
    mon = net.add(StateMonitor(a, "v"))
    with pytest.raises(AttributeError):
        _ = mon.i_e


def test_bad_monitor_indices_and_interval(net):
    a, _ = net.populations
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\] \(population of 5\), got 5"):
        StateMonitor(a, "v", indices=[5])
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\] \(population of 5\), got -1"):
        SpikeMonitor(a, indices=[-1])
    with pytest.raises(ValueError, match=r"interval must be finite and > 0 \[s\], got 0"):
        StateMonitor(a, "v", interval=0)
    with pytest.raises(ValueError, match=r"interval = 0\.00015 s is not a whole number of steps .* use 0\.0001 s"):
        net.add(StateMonitor(a, "v", interval=0.15 * ms))


def test_monitor_on_population_of_another_network(net):
    other = Network(dt=DT)
    c = other.add(Population(3, LIFParams(), name="c"))
    with pytest.raises(ValueError, match=r"monitored population 'c' is not part of this network"):
        net.add(SpikeMonitor(c))


def test_bad_closed_loop_access(net):
    a, _ = net.populations
    other = Network(dt=DT)
    c = other.add(Population(3, LIFParams(), name="c"))
    with pytest.raises(ValueError, match="expected a neuron Population of this network"):
        net.get_state(c, "v")
    with pytest.raises(ValueError, match="v values must be finite"):
        net.set_state(a, "v", np.nan)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\]"):
        net.get_state(a, "v", indices=[7])
    with pytest.raises(ValueError, match="set_rates needs a PoissonSource of this network"):
        net.set_rates(a, 1.0)


# --------------------------------------------------------- memory refusal


def _refuse_quickly(build):
    """Run ``build`` expecting a MemoryError; returns (message, seconds, peak traced bytes)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(MemoryError) as info:
            build()
    finally:
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return str(info.value), elapsed, peak


@pytest.mark.parametrize("rule", [FixedProbability(1.0), AllToAll(), FixedInDegree(10**6)],
                         ids=["p1", "all", "indegree"])
def test_too_big_network_refused_before_allocating(rule):
    """10**12 synapses are refused with an estimate, fast and without allocating them."""
    net = Network(dt=DT, seed=0)
    a = net.add(Population(10**6, LIFParams()))
    b = net.add(Population(10**6, LIFParams()))
    msg, elapsed, peak = _refuse_quickly(lambda: net.add(Projection(a, b, rule, weights=1 * pA)))
    assert "the network needs about" in msg and "GiB" in msg
    assert "1e+12 synapses" in msg and "2000000 neurons" in msg
    assert "nothing was allocated" in msg
    assert elapsed < 2.0
    assert peak < 50 * 2**20
    assert net.projections == []


def test_too_many_neurons_refused():
    net = Network(dt=DT)
    msg, elapsed, peak = _refuse_quickly(lambda: net.add(Population(10**12, LIFParams())))
    assert "1000000000000 neurons" in msg and "nothing was allocated" in msg
    assert peak < 50 * 2**20 and net.populations == []


_LONG_DELAY_SCRIPT = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))  # never really allocate tens of GiB
from memr_snn import LIFParams, Network, OneToOne, Population, Projection
net = Network(dt=1e-4, seed=1)
pop = net.add(Population(10**5, LIFParams()))
try:
    net.add(Projection(pop, pop, OneToOne(), weights=1e-12, delays=30_000))
    net.run(1e-4)
except MemoryError as exc:
    print("MemoryError:", exc)
else:
    print("accepted")
"""


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_AS (Linux)")
def test_long_delay_ring_buffer_counted_in_memory_check():
    """10**5 neurons x 30 000-step delay ring buffers (~60 GiB by the network's own estimate)."""
    proc = subprocess.run([sys.executable, "-c", _LONG_DELAY_SCRIPT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.strip()
    assert out.startswith("MemoryError:") and "nothing was allocated" in out, out
