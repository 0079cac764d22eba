r"""Single-neuron closed forms for LIF, ALIF and conductance-based LIF.

Every test runs one neuron (plus at most one spike source) and compares the
recorded trace or spike steps with a formula derived in its docstring.

Conventions pinned here (from the ``Network`` schedule and ``kernel/loop.py``):

* a StateMonitor sample at step ``n`` is the state at time ``n*dt``, with the
  events due at ``n`` already added to the synaptic state;
* step ``n`` integrates from ``n*dt`` to ``(n+1)*dt``, then tests ``v > v_threshold``
  (strict); a spike found there is recorded with time ``n*dt``;
* after a spike in step ``n``, ``v = v_reset`` at ``(n+1)*dt`` and is held there
  for the next ``r - 1`` steps, ``r = round(t_ref/dt)``: the first free step is
  ``n + max(r, 1)``, so the minimal inter-spike interval is ``max(r, 1)`` steps.

Default parameters: ``tau_mem = 10 ms``, ``c_mem = 250 pF`` (``R = 40 MOhm``),
``v_rest = v_reset = -70 mV``, ``v_threshold = -55 mV`` (rheobase 375 pA).
"""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from memr_snn import (
    ALIFParams,
    LIFCondParams,
    LIFParams,
    Network,
    OneToOne,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSource,
    StateMonitor,
)
from memr_snn.units import ms, mV, nA, nS, pA

DT = 0.1 * ms
ENGINES = ["dense", "event"]
#: Relative accuracy of the exact (propagator) integration.  The update is exact
#: in real arithmetic; what is left is rounding, ~1e-16 per step, damped by the
#: membrane decay (error <= eps |v| / (1 - exp(-dt/tau_m)) ~ 1e-15 V), far below
#: 1e-9 of any excursion compared here (>= 1e-6 V).
RTOL_EXACT = 1e-9


def _one_neuron(params, engine, duration, initial=None, variables=("v",), source=None):
    """Run one neuron; ``source = (time, weight, delay_steps, receptor)`` adds one input spike."""
    net = Network(dt=DT, seed=0, engine=engine)
    pop = net.add(Population(1, params, name="n", initial=initial))
    if source is not None:
        t_in, w, delay, receptor = source
        src = net.add(SpikeSource(1, [t_in], [0], name="src"))
        net.add(Projection(src, pop, OneToOne(), weights=w, delays=delay, receptor=receptor))
    sm = net.add(StateMonitor(pop, list(variables)))
    spk = net.add(SpikeMonitor(pop))
    net.run(duration)
    return net, sm, spk


def _rel_err(got, want):
    return np.abs(got - want) / np.abs(want)


def _r(p):
    return float(p.tau_mem) / float(p.c_mem)


# ----------------------------------------------------------------- subthreshold


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "v0, i_bias",
    [(-70 * mV, 300 * pA), (-60 * mV, 100 * pA)],
    ids=["from-rest", "from-above"],
)
def test_subthreshold_relaxation_to_v_inf(engine, v0, i_bias):
    r"""Constant bias, below rheobase: exponential relaxation to :math:`v_\infty`.

    :math:`\tau \dot v = -(v - v_{rest}) + R i_{bias}` has the solution

    .. math:: v(t) = v_\infty + (v_0 - v_\infty)\, e^{-t/\tau},\qquad v_\infty = v_{rest} + R i_{bias}.

    Checked over 1 s = 100 tau as a relative error on ``v - v_rest`` (which is
    >= 4 mV in the second case and grows from 0 in the first, where t = 0 is
    checked exactly), so the 1e-9 tolerance is not hidden by the -70 mV offset.
    In event mode the neuron goes idle at once and the samples come from the
    k-step closed form.
    """
    p = LIFParams(i_bias=i_bias)
    net, sm, spk = _one_neuron(p, engine, 1.0, initial={"v": v0})
    assert spk.num_spikes == 0
    t = sm.t
    assert t.size == 10_000 and np.array_equal(sm.steps, np.arange(10_000))
    v_inf = p.v_rest + _r(p) * i_bias
    want = v_inf + (v0 - v_inf) * np.exp(-t / p.tau_mem) - p.v_rest
    got = sm.v[:, 0] - p.v_rest
    nz = want != 0
    assert np.all(got[~nz] == 0.0)
    assert np.max(_rel_err(got[nz], want[nz])) <= RTOL_EXACT
    # the state read after the run is the value at t = 1 s
    v_end = net.get_state(net.population("n"), "v")[0]
    assert abs((v_end - p.v_rest) - (v_inf + (v0 - v_inf) * math.exp(-1.0 / p.tau_mem) - p.v_rest)) <= (
        RTOL_EXACT * abs(v_inf - p.v_rest)
    )


# -------------------------------------------------------------- first spike


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "i_bias, v0",
    [(400 * pA, -70 * mV), (500 * pA, -70 * mV), (700 * pA, -70 * mV), (2 * nA, -70 * mV), (500 * pA, -59 * mV)],
)
def test_first_spike_time(engine, i_bias, v0):
    r"""First spike step from the exact threshold-crossing time.

    With :math:`v(t)` of the previous test rising monotonically through threshold,

    .. math:: t^* = \tau \ln\frac{v_\infty - v_0}{v_\infty - v_{th}}.

    Step ``n`` integrates to ``(n+1)*dt`` and fires if ``v((n+1) dt) > v_th``;
    no earlier step fired, so ``v(n dt) <= v_th``.  Hence
    ``n*dt <= t* < (n+1)*dt``, i.e. ``n = floor(t*/dt)``, recorded as ``t = n*dt``
    (the spike time is rounded *down* to the grid).  Cases are chosen with
    ``t*/dt`` at least 1e-3 away from an integer, so the rounding of the
    discrete trace cannot move the crossing.
    """
    p = LIFParams(i_bias=i_bias)
    v_inf = p.v_rest + _r(p) * i_bias
    t_star = p.tau_mem * math.log((v_inf - v0) / (v_inf - p.v_threshold))
    x = t_star / DT
    assert abs(x - round(x)) > 1e-3, "test case too close to a step boundary"
    n = math.floor(x)
    _, sm, spk = _one_neuron(p, engine, (n + 3) * DT, initial={"v": v0})
    assert spk.steps[0] == n
    assert spk.t[0] == pytest.approx(n * DT, rel=1e-12)
    # the last sample before the spike is the exact trace, just below threshold
    v_n = sm.v[n, 0]
    assert v_n <= p.v_threshold
    assert v_n - p.v_rest == pytest.approx(v_inf + (v0 - v_inf) * math.exp(-n * DT / p.tau_mem) - p.v_rest,
                                           rel=RTOL_EXACT)
    # and the sample right after it is the reset value
    assert sm.v[n + 1, 0] == p.v_reset


# -------------------------------------------------------------------- f-I curve


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("t_ref", [0.0, 0.1 * ms, 2 * ms, 5 * ms])
@pytest.mark.parametrize("i_bias", [400 * pA, 600 * pA, 1.2 * nA, 3 * nA])
def test_f_i_curve_exact_steps(engine, t_ref, i_bias):
    r"""Regular firing under constant drive, with step quantisation made exact.

    Continuous model: :math:`T = \tau \ln\frac{v_\infty - v_{reset}}{v_\infty - v_{th}}`
    from reset to threshold, rate :math:`1/(t_{ref} + T)`.

    Discrete model: a spike in step ``n`` leaves ``v = v_reset`` at ``(n+1) dt``,
    held until step ``n + max(r,1)`` (``r = round(t_ref/dt)``) starts integrating
    from ``v_reset``; from there the crossing takes ``floor(T/dt)`` more steps
    (previous test).  So the period is exactly

    .. math:: P = \max(r, 1) + \lfloor T/dt \rfloor \ \text{steps},

    and since ``v_0 = v_rest = v_reset`` the first spike is at ``floor(T/dt)``:
    spike steps are ``floor(T/dt) + k P``.  ``|P dt - (t_ref + T)| <= dt``, so the
    measured rate matches the continuous f-I curve to within one step of period.
    """
    p = LIFParams(i_bias=i_bias, t_ref=t_ref)
    v_inf = p.v_rest + _r(p) * i_bias
    T = p.tau_mem * math.log((v_inf - p.v_reset) / (v_inf - p.v_threshold))
    assert abs(T / DT - round(T / DT)) > 1e-3
    r = round(t_ref / DT)
    period = max(r, 1) + math.floor(T / DT)
    duration = 0.5
    n_steps = round(duration / DT)
    _, _, spk = _one_neuron(p, engine, duration, variables=("v",))
    want = np.arange(math.floor(T / DT), n_steps, period)
    np.testing.assert_array_equal(spk.steps, want)
    rate_sim = spk.num_spikes / duration
    rate_disc = 1.0 / (period * DT)
    assert abs(rate_sim - rate_disc) <= 1.0 / duration  # one spike more or less in the window
    assert abs(period * DT - (t_ref + T)) <= DT + 1e-15


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("i_bias", [0.0, 200 * pA, 370 * pA, 374.9 * pA, -100 * pA])
def test_no_spikes_below_rheobase(engine, i_bias):
    """Below rheobase ``(v_th - v_rest)/R = 375 pA`` v_inf < v_th: no spike, ever."""
    p = LIFParams(i_bias=i_bias)
    net, _, spk = _one_neuron(p, engine, 1.0)
    assert spk.num_spikes == 0
    if engine == "event":
        # a neuron that provably cannot fire is not being integrated
        assert int(net._sim.act_n[0]) == 0


# ---------------------------------------------------------------- synapses


def _psp(t, r, w, tau_s, tau_m):
    r"""Exact PSP of a current jump ``w`` decaying with ``tau_s`` (stable form).

    :math:`R w \frac{\tau_s}{\tau_s-\tau_m}(e^{-t/\tau_s}-e^{-t/\tau_m})
    = R w \frac{\tau_s}{\tau_s-\tau_m} e^{-t/\tau_m}\,
    \mathrm{expm1}\!\big(t\,\frac{\tau_s-\tau_m}{\tau_s\tau_m}\big)`,
    and :math:`R w (t/\tau) e^{-t/\tau}` when the time constants are equal.
    The expm1 form has no cancellation, so it is accurate for any ratio.
    """
    if tau_s == tau_m:
        return r * w * (t / tau_m) * np.exp(-t / tau_m)
    return r * w * tau_s / (tau_s - tau_m) * np.exp(-t / tau_m) * np.expm1(t * (tau_s - tau_m) / (tau_s * tau_m))


PSP_CASES = {
    "exc-2ms": ("exc", dict(tau_syn_e=2 * ms), 100 * pA),
    "inh-5ms": ("inh", dict(tau_syn_i=5 * ms), -80 * pA),
    "exc-20ms": ("exc", dict(tau_syn_e=20 * ms), 50 * pA),
    "exc-equal": ("exc", dict(tau_syn_e=10 * ms), 100 * pA),
    "inh-equal": ("inh", dict(tau_syn_i=10 * ms), -50 * pA),
    "inh-positive-weight": ("inh", dict(tau_syn_i=3 * ms), 60 * pA),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(PSP_CASES))
def test_exponential_synapse_psp(engine, case):
    r"""One input spike through weight ``w``: exact difference-of-exponentials PSP.

    The source spikes at step 10 and the delay is 3 steps, so the event is
    added at the start of step ``n_d = 13``: the sample at ``n_d`` shows
    ``i_syn = w`` and still ``v = v_rest``.  For ``k = n - n_d >= 0``, with
    ``t = k dt`` (see :func:`_psp` for the formula):

    .. math:: i_{syn}(t) = w e^{-t/\tau_s}, \qquad v(t) - v_{rest} = \mathrm{PSP}(t).

    Checked for 60 ms after delivery (the PSP is still > 1e-6 V there) with the
    relative error on ``v - v_rest`` <= 1e-9; before delivery the neuron is exactly
    at rest.  The receptor's weight sign is free ("inh" with w > 0 depolarises).
    """
    receptor, taus, w = PSP_CASES[case]
    p = LIFParams(**taus)
    tau_s = float(p.tau_syn_e if receptor == "exc" else p.tau_syn_i)
    var = "i_e" if receptor == "exc" else "i_i"
    other = "i_i" if receptor == "exc" else "i_e"
    _, sm, spk = _one_neuron(p, engine, 75 * ms, variables=("v", "i_e", "i_i"), source=(1 * ms, w, 3, receptor))
    assert spk.num_spikes == 0
    n_d = 13
    v = sm.v[:, 0] - p.v_rest
    syn = getattr(sm, var)[:, 0]
    assert np.all(v[:n_d + 1] == 0.0)
    assert np.all(syn[:n_d] == 0.0)
    assert np.all(getattr(sm, other)[:, 0] == 0.0)
    k = np.arange(sm.t.size) - n_d
    sel = (k >= 1) & (k <= 600)
    t = k[sel] * DT
    np.testing.assert_allclose(syn[n_d:], w * np.exp(-k[n_d:] * DT / tau_s), rtol=1e-12, atol=0)
    want = _psp(t, _r(p), w, tau_s, p.tau_mem)
    assert np.all(np.sign(v[sel]) == np.sign(w))
    assert np.max(_rel_err(v[sel], want)) <= RTOL_EXACT


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "rel_diff",
    [
        1e-10,
        2e-9,
        1e-7,
        1e-3,
    ],
)
def test_psp_nearly_equal_time_constants(engine, rel_diff):
    r"""PSP accuracy when ``tau_syn`` is within ``rel_diff`` of ``tau_mem``.

    The exact PSP is continuous in ``tau_s`` through ``tau_s = tau_m``, and the
    expm1 form of :func:`_psp` evaluates it without cancellation, so the
    simulator should meet the same 1e-9 relative tolerance for any ratio.
    """
    p = LIFParams(tau_syn_e=10 * ms * (1 + rel_diff))
    w = 100 * pA
    _, sm, _ = _one_neuron(p, engine, 50 * ms, source=(0.0, w, 1, "exc"))
    k = np.arange(1, sm.t.size - 1)
    want = _psp(k * DT, _r(p), w, float(p.tau_syn_e), p.tau_mem)
    got = sm.v[1 + k, 0] - p.v_rest
    assert np.max(_rel_err(got, want)) <= RTOL_EXACT


def _cond_reference(p, receptor, w, t):
    """High-accuracy ODE solution of one conductance PSP (DOP853, rtol 1e-12)."""
    e_rev = float(p.e_rev_e if receptor == "exc" else p.e_rev_i)
    tau_s = float(p.tau_syn_e if receptor == "exc" else p.tau_syn_i)
    g_l = float(p.c_mem) / float(p.tau_mem)

    def rhs(tt, y):
        return [(g_l * (p.v_rest - y[0]) + w * math.exp(-tt / tau_s) * (e_rev - y[0])) / p.c_mem]

    sol = solve_ivp(rhs, (0.0, t[-1]), [float(p.v_rest)], t_eval=t, rtol=1e-12, atol=1e-15, method="DOP853")
    return sol.y[0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("receptor, w", [("exc", 2 * nS), ("inh", 2 * nS), ("exc", 20 * nS)])
@pytest.mark.parametrize("tau_s", [2 * ms, 5 * ms])
def test_conductance_psp_shape(engine, receptor, w, tau_s):
    r"""Conductance-based PSP: right sign and shape, first-order accurate.

    :math:`C \dot v = g_L (v_{rest} - v) + g(t)(E - v)`, ``g(t) = w e^{-t/tau_s}``
    from delivery.  Exponential Euler holds ``g`` at its step-start value, which
    over-estimates the conductance integral of each step by ``~dt/(2 tau_s)``
    (2.5 % for 2 ms, 1 % for 5 ms), so the trace is compared with an accurate
    ODE solution with a tolerance of ``1.5 dt/(2 tau_s)`` of the peak excursion,
    and halving ``dt`` must roughly halve the error (first order).  The sign
    follows the reversal potential (E_e = 0 mV above rest: depolarising;
    E_i = -85 mV below rest: hyperpolarising), and the peak falls on the same
    step as the reference's.
    """
    p = LIFCondParams(tau_syn_e=tau_s, tau_syn_i=tau_s)

    def run(dt):
        net = Network(dt=dt, seed=0, engine=engine)
        src = net.add(SpikeSource(1, [0.0], [0]))
        pop = net.add(Population(1, p))
        net.add(Projection(src, pop, OneToOne(), weights=w, delays=1, receptor=receptor))
        sm = net.add(StateMonitor(pop, "v"))
        net.run(60 * ms)
        v = sm.v[1:, 0]  # sample 1 = delivery step, t = 0 of the PSP
        t = np.arange(v.size) * dt
        return v, _cond_reference(p, receptor, w, t)

    v, ref = run(DT)
    dev, dev_ref = v - p.v_rest, ref - p.v_rest
    sign = 1.0 if receptor == "exc" else -1.0
    assert np.all(sign * dev[1:] > 0)
    peak = np.max(np.abs(dev_ref))
    err = np.max(np.abs(v - ref)) / peak
    assert err <= 1.5 * DT / (2 * tau_s)
    assert np.argmax(np.abs(dev)) == np.argmax(np.abs(dev_ref))
    i_peak = np.argmax(np.abs(dev))
    assert np.all(np.diff(sign * dev[: i_peak + 1]) > 0) and np.all(np.diff(sign * dev[i_peak:]) < 0)
    v2, ref2 = run(DT / 2)
    err2 = np.max(np.abs(v2 - ref2)) / peak
    assert 0.4 <= err2 / err <= 0.6


# ---------------------------------------------------------------------- ALIF


@pytest.mark.parametrize("engine", ENGINES)
def test_alif_adaptation_trace_and_isi(engine):
    r"""Threshold adaptation: ``a`` jumps by 1 per spike and decays with ``tau_adapt``.

    In discrete time :math:`a_{n+1} = \rho a_n + z_n`, :math:`\rho = e^{-dt/\tau_a}`
    (ALIFParams docstring), so the sample at step ``n`` is

    .. math:: a(n\,dt) = \sum_{m < n,\ z_m = 1} \rho^{\,n-1-m}.

    The threshold ``v_th + beta a`` rises with every spike, so under constant
    drive the inter-spike intervals never shrink and the last is longer than
    the first.
    """
    p = ALIFParams(i_bias=1 * nA, tau_adapt=50 * ms, beta_adapt=3 * mV, t_ref=2 * ms)
    _, sm, spk = _one_neuron(p, engine, 300 * ms, variables=("v", "a"))
    steps = spk.steps
    assert steps.size >= 10
    rho = math.exp(-DT / p.tau_adapt)
    n = np.arange(sm.t.size)
    want = np.zeros(n.size)
    for m in steps:
        after = n > m
        want[after] += rho ** (n[after] - 1 - m)
    a = sm.a[:, 0]
    assert np.all(a[: steps[0] + 1] == 0.0)
    pos = want > 0
    assert np.max(_rel_err(a[pos], want[pos])) <= 1e-9
    # jumps of exactly one (to rounding) at spike steps, pure decay elsewhere
    jump = a[1:] - rho * a[:-1]
    is_spike = np.isin(n[:-1], steps)
    np.testing.assert_allclose(jump[is_spike], 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(jump[~is_spike], 0.0, rtol=0, atol=1e-12)
    isi = np.diff(steps)
    assert np.all(np.diff(isi) >= 0)
    assert isi[-1] > isi[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_alif_without_adaptation_strength_is_lif(engine):
    """``beta_adapt = 0``: the adaptation variable has no effect, spikes equal the LIF's."""
    lif = LIFParams(i_bias=600 * pA)
    alif = ALIFParams(i_bias=600 * pA, beta_adapt=0.0)
    _, sm_l, spk_l = _one_neuron(lif, engine, 200 * ms)
    _, sm_a, spk_a = _one_neuron(alif, engine, 200 * ms)
    assert spk_l.num_spikes > 5
    np.testing.assert_array_equal(spk_l.steps, spk_a.steps)
    np.testing.assert_array_equal(sm_l.v, sm_a.v)


# ----------------------------------------------------------------- refractory


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("t_ref", [0.0, 0.1 * ms, 0.3 * ms, 2 * ms, 5 * ms])
def test_minimal_isi_under_huge_drive(engine, t_ref):
    """With v_inf ~ 4 V every free step fires: ISI = max(round(t_ref/dt), 1) steps.

    The first step already crosses (v(dt) ~ -30 mV > -55 mV), so spikes fall
    on steps 0, P, 2P, ... with P = max(r, 1).
    """
    p = LIFParams(i_bias=100 * nA, t_ref=t_ref)
    _, _, spk = _one_neuron(p, engine, 50 * ms)
    r = round(t_ref / DT)
    period = max(r, 1)
    np.testing.assert_array_equal(spk.steps, np.arange(0, 500, period))


@pytest.mark.parametrize("engine", ENGINES)
def test_v_clamped_at_reset_during_refractoriness(engine):
    """v holds v_reset for ``r`` samples after a spike; synaptic input keeps decaying.

    500 pA: first spike at step 138 (see the first-spike test); t_ref = 2 ms,
    r = 20.  Samples 139..158 (``n+1 .. n+r``) are exactly ``v_reset``; step 158
    is the first free step, so sample 159 is above ``v_reset``.  An input spike
    delivered at step 141, inside the refractory period, shows up in ``i_e``
    (``w`` then exact decay) but does not move ``v`` until the period ends.
    """
    p = LIFParams(i_bias=500 * pA, t_ref=2 * ms, v_reset=-65 * mV)
    w = 200 * pA
    _, sm, spk = _one_neuron(p, engine, 30 * ms, variables=("v", "i_e"), source=(140 * DT, w, 1, "exc"))
    n = int(spk.steps[0])
    v_inf = p.v_rest + _r(p) * p.i_bias
    assert n == math.floor(p.tau_mem * math.log((v_inf - p.v_rest) / (v_inf - p.v_threshold)) / DT) == 138
    v = sm.v[:, 0]
    assert np.all(v[n + 1: n + 21] == p.v_reset)
    assert v[n + 21] > p.v_reset
    i_e = sm.i_e[:, 0]
    assert np.all(i_e[:141] == 0.0)
    np.testing.assert_allclose(i_e[141:160], w * np.exp(-np.arange(19) * DT / p.tau_syn_e), rtol=1e-12)
