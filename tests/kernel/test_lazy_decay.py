"""The closed-form catch-up of idle neurons is numerically safe for every valid parameter set.

An idle (A)LIF neuron is brought up to date after ``k`` skipped steps by the exact solution
(``memr_snn.kernel.neuron.lif_advance``).  Written naively, the synaptic coupling
``p_m^k expm1(k d) / d`` multiplies ``0`` by ``inf`` (NaN) when the synapse is slower than the
membrane (``tau_syn > tau_mem``) and the gap is long, or when ``tau_mem`` is much shorter than
``dt``.  These tests check, over time constants from 0.1 us to 100 s, steps from 1 us to 10 ms
and gaps up to 1e15 steps:

* the closed form is finite and equals the exact solution evaluated with 50-digit arithmetic
  (mpmath, an independent reference) to 1e-9 of the excursion it started with;
* the event engine (closed form) and the dense engine (one step at a time) give the same
  spikes and states on networks with long silent gaps, ``tau_syn > tau_mem`` included;
* refractory periods beyond the int32 counter are refused instead of wrapping.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memr_snn import ALIFParams, AllToAll, LIFParams, Network, Population, Projection, SpikeMonitor, SpikeSource
from memr_snn.engine.coefficients import MAX_REF_STEPS, group_tables
from memr_snn.kernel.neuron import lif_advance

# time constants from 0.1 us to 100 s on purpose: the closed-form decay must hold far outside the usual range
pytestmark = pytest.mark.filterwarnings("ignore::memr_snn.neurons.ImplausibleUnitWarning")

mpmath = pytest.importorskip("mpmath")

RTOL = 1e-9


def log_uniform(lo: float, hi: float):
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0**e)


@st.composite
def wide_cases(draw):
    alif = draw(st.booleans())
    tau_mem = draw(log_uniform(1e-7, 1e2))
    # a third of the cases with equal synaptic and membrane time constants (the d = 0 branch)
    tau_e = tau_mem if draw(st.integers(0, 2)) == 0 else draw(log_uniform(1e-7, 1e2))
    tau_i = draw(log_uniform(1e-7, 1e2))
    kw = dict(tau_mem=tau_mem, tau_syn_e=tau_e, tau_syn_i=tau_i, c_mem=draw(log_uniform(1e-13, 1e-9)),
              t_ref=0.0, v_rest=-0.07, v_threshold=-0.05, v_reset=-0.07)
    params = ALIFParams(**kw, tau_adapt=draw(log_uniform(1e-4, 1e2)), beta_adapt=1e-3) if alif else LIFParams(**kw)
    dt = draw(log_uniform(1e-6, 1e-2))
    state = dict(v=draw(st.floats(-0.09, -0.04)), se=draw(st.floats(-1e-9, 1e-9)), si=draw(st.floats(-1e-9, 1e-9)),
                 a=draw(st.floats(0, 5)), ib=draw(st.floats(-1e-10, 1e-10)), ref=draw(st.integers(0, 30)))
    k = draw(st.one_of(st.integers(0, 1000), st.integers(0, 15).map(lambda e: 10**e),
                       st.integers(1, 10**15)))
    return params, dt, state, k


def exact_advance(params, dt, s, k):
    """v, i_e, i_i after ``k`` input-free steps, in 50-digit arithmetic from the float inputs."""
    mp = mpmath.mp
    mp.dps = 50
    f = mpmath.mpf
    tm, te, ti, cm, h = (f(x) for x in (params.tau_mem, params.tau_syn_e, params.tau_syn_i, params.c_mem, dt))
    r = tm / cm
    m = min(s["ref"], k)
    se = f(s["se"]) * mpmath.exp(-m * h / te)
    si = f(s["si"]) * mpmath.exp(-m * h / ti)
    kf = k - m
    vinf = f(params.v_rest) + r * f(s["ib"])

    def coupling(ts):
        if ts == tm:
            return r * (kf * h / tm) * mpmath.exp(-kf * h / tm)
        d = h * (1 / tm - 1 / ts)
        return r * (h / tm) * (mpmath.exp(-kf * h / ts) - mpmath.exp(-kf * h / tm)) / d

    v = vinf + (f(s["v"]) - vinf) * mpmath.exp(-kf * h / tm) + se * coupling(te) + si * coupling(ti)
    return float(v), float(se * mpmath.exp(-kf * h / te)), float(si * mpmath.exp(-kf * h / ti))


@settings(max_examples=300)
@given(case=wide_cases())
def test_closed_form_is_finite_and_exact_over_wide_ranges(case):
    params, dt, s, k = case
    gc, _, _ = group_tables(params, 1, dt)
    v, se, si, a, ref = lif_advance(gc, 0, k, s["v"], s["se"], s["si"], s["a"], s["ib"], s["ref"])
    assert all(math.isfinite(x) for x in (v, se, si, a)), (v, se, si, a)
    assert ref == max(s["ref"] - k, 0)
    if k == 0:
        return
    ev, ese, esi = exact_advance(params, dt, s, k)
    r = params.tau_mem / params.c_mem
    v_inf = params.v_rest + r * s["ib"]
    scale = abs(s["v"] - v_inf) + r * (abs(s["se"]) + abs(s["si"])) + 1e-12
    assert abs(v - ev) <= RTOL * scale, (v, ev, scale)
    assert abs(se - ese) <= RTOL * abs(s["se"]) + 1e-300
    assert abs(si - esi) <= RTOL * abs(s["si"]) + 1e-300


@pytest.mark.parametrize("k", [10**4, 2 * 10**5, 10**9, 2**62])
def test_slow_synapse_after_long_gap_decays_to_rest(k):
    """The reported case: tau_syn (50 ms) > tau_mem (10 ms), idle ~20 s at dt = 0.1 ms, was NaN."""
    p = LIFParams(tau_mem=10e-3, tau_syn_e=50e-3, tau_syn_i=80e-3)
    gc, _, _ = group_tables(p, 1, 1e-4)
    v, se, si, _, _ = lif_advance(gc, 0, k, -0.065, 1e-9, -1e-9, 0.0, 0.0, 0)
    assert math.isfinite(v) and math.isfinite(se) and math.isfinite(si)
    if k >= 10**9:
        assert v == p.v_rest and se == 0.0 and si == 0.0


def _gap_network(engine: str, params, dt: float, gap_steps: int):
    net = Network(dt=dt, seed=3, engine=engine)
    times = np.array([2, 3, 2 + gap_steps, 3 + gap_steps], dtype=float) * dt
    src = net.add(SpikeSource(1, times, np.zeros(4, dtype=np.int64)))
    pop = net.add(Population(3, params))
    net.add(Projection(src, pop, AllToAll(), weights=np.array([0.5e-9, 2e-9, 8e-9])))
    mon = net.add(SpikeMonitor(pop))
    return net, pop, mon


@settings(max_examples=25)
@given(
    tau_mem=log_uniform(1e-7, 1.0),
    tau_syn=log_uniform(1e-5, 1.0),
    gap=st.integers(2, 200_000),
    alif=st.booleans(),
)
def test_event_engine_equals_dense_after_long_gaps(tau_mem, tau_syn, gap, alif):
    """Idle for up to 2e5 steps (20 s at 0.1 ms), slow synapses included: same spikes, same state."""
    dt = 1e-4
    kw = dict(tau_mem=tau_mem, tau_syn_e=tau_syn, tau_syn_i=tau_syn, c_mem=1e-12 * max(tau_mem / 1e-3, 1e-3),
              t_ref=2e-4)
    params = ALIFParams(**kw, tau_adapt=0.2, beta_adapt=1e-3) if alif else LIFParams(**kw)
    duration_steps = gap + 50
    out = {}
    for engine in ("event", "dense"):
        net, pop, mon = _gap_network(engine, params, dt, gap)
        net.run_steps(duration_steps)
        out[engine] = (mon.steps.copy(), mon.i.copy(), net.get_state(pop, "v"), net.get_state(pop, "i_e"))
    (es, ei, ev, ee), (ds, di, dv, de) = out["event"], out["dense"]
    assert np.all(np.isfinite(ev)) and np.all(np.isfinite(ee))
    np.testing.assert_array_equal(es, ds)
    np.testing.assert_array_equal(ei, di)
    np.testing.assert_allclose(ev, dv, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ee, de, rtol=1e-7, atol=1e-30)


def test_event_engine_is_chosen_and_finite_for_the_reported_network():
    """engine='auto' picks event mode for an idle network and stays finite over a 25 s gap."""
    net = Network(dt=1e-4, seed=1)
    src = net.add(SpikeSource(1, [0.001], [0]))
    pop = net.add(Population(2, LIFParams(tau_mem=10e-3, tau_syn_e=50e-3)))
    net.add(Projection(src, pop, AllToAll(), weights=1e-10))
    net.run(25.0)
    assert net._sim.mode == "event"
    assert np.all(net.get_state(pop, "v") == pytest.approx(-0.07, abs=1e-12))


@pytest.mark.parametrize("dt,t_ref", [(1e-4, 1e6), (1e-4, 1e300), (1e-6, 3000.0)])
def test_refractory_beyond_the_counter_is_refused(dt, t_ref):
    """t_ref / dt beyond the int32 counter raised nothing and wrapped before: now a clear error."""
    assert t_ref / dt > MAX_REF_STEPS
    net = Network(dt=dt, seed=0)
    net.add(Population(1, LIFParams(t_ref=t_ref)))
    with pytest.raises(ValueError, match=r"t_ref = .* refractory counter holds at most 2147483646 steps"):
        net.run_steps(1)


def test_longest_refractory_period_holds():
    """A refractory period near the counter's limit keeps the neuron silent (no wrap to negative)."""
    dt = 1e-4
    t_ref = (MAX_REF_STEPS - 1) * dt
    net = Network(dt=dt, seed=0, engine="dense")
    pop = net.add(Population(1, LIFParams(t_ref=t_ref, i_bias=1e-9)))  # driven far above threshold
    mon = net.add(SpikeMonitor(pop))
    net.run_steps(3000)
    assert mon.num_spikes == 1  # the first spike, then refractory for ~2.1e9 steps
