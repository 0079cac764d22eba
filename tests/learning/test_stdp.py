"""STDP in the kernel: the pair window, pairing schemes, the triplet rule, reward modulation, twins."""

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
    SpikeMonitor,
    SpikeSource,
)
from memr_snn.kernel.reference import run_reference
from memr_snn.learning import STDP, RewardSTDP, TripletSTDP
from memr_snn.units import ms, nA, pA

DT = 0.1 * ms
W0 = 500 * pA
DRIVE = 6 * nA  # one input spike of this weight makes the default LIF fire exactly once


def _pairs(rule, pre_times, post_times, w0=W0, engine="dense"):
    """One plastic synapse; the postsynaptic neuron is forced to fire at ``post_times`` by a driver."""
    net = Network(dt=DT, seed=0, engine=engine)
    pre = net.add(SpikeSource(1, np.asarray(pre_times), np.zeros(len(pre_times), dtype=np.int64)))
    # the driver spikes 0.5 ms early: the neuron crosses threshold 5 steps later (checked below)
    drv_t = np.asarray(post_times) - 0.5 * ms
    drv = net.add(SpikeSource(1, drv_t, np.zeros(len(post_times), dtype=np.int64)))
    post = net.add(Population(1, LIFParams()))
    pr = net.add(Projection(pre, post, AllToAll(), weights=w0, plasticity=rule))
    net.add(Projection(drv, post, AllToAll(), weights=DRIVE))
    mon = net.add(SpikeMonitor(post))
    net.run(max(np.max(pre_times), np.max(post_times)) + 100 * ms)
    return pr.weights[0] - w0, mon


@pytest.mark.parametrize("pairing", ["all", "nearest"])
def test_pair_window_matches_the_analytic_curve(pairing):
    rule = STDP(a_plus=10 * pA, a_minus=12 * pA, tau_plus=20 * ms, tau_minus=30 * ms, w_max=1 * nA, pairing=pairing)
    lags = np.array([-60, -30, -10, -3, -1, 1, 3, 10, 30, 60]) * ms
    for lag in lags:
        dw, mon = _pairs(rule, [100 * ms], [100 * ms + lag])
        assert mon.num_spikes == 1
        actual = mon.t[0] - 100 * ms  # the post spike's lag behind the pre spike
        assert abs(actual - lag) < 0.6 * ms
        assert dw == pytest.approx(float(rule.window(actual)), rel=1e-9)
    # lag 0 (same step): the pre event comes first, then potentiation with the fresh pre trace
    dw, mon = _pairs(rule, [100 * ms], [100 * ms + 0.4 * ms])
    assert mon.t[0] == pytest.approx(100 * ms, abs=1e-9) or dw != 0


def test_multiplicative_dependence_scales_with_the_distance_to_the_bound():
    add = STDP(a_plus=10 * pA, a_minus=10 * pA, w_max=1 * nA)
    mult = STDP(a_plus=10 * pA, a_minus=10 * pA, w_max=1 * nA, dependence="multiplicative")
    for w0 in (200 * pA, 800 * pA):
        d_add, m = _pairs(add, [100 * ms], [110 * ms], w0=w0)
        d_mul, _ = _pairs(mult, [100 * ms], [110 * ms], w0=w0)
        assert d_mul == pytest.approx(d_add * (1 * nA - w0) / (1 * nA), rel=1e-9)
        d_add, _ = _pairs(add, [110 * ms], [100 * ms], w0=w0)
        d_mul, _ = _pairs(mult, [110 * ms], [100 * ms], w0=w0)
        assert d_mul == pytest.approx(d_add * w0 / (1 * nA), rel=1e-9)


def test_nearest_pairing_counts_only_the_last_pre_spike():
    kw = dict(a_plus=10 * pA, a_minus=0.0, tau_plus=20 * ms, w_max=1 * nA)
    pre = [90 * ms, 100 * ms]
    d_all, m = _pairs(STDP(**kw), pre, [110 * ms])
    d_near, _ = _pairs(STDP(pairing="nearest", **kw), pre, [110 * ms])
    lag = m.t[0] - 100 * ms
    assert d_all == pytest.approx(10 * pA * (np.exp(-lag / (20 * ms)) + np.exp(-(lag + 10 * ms) / (20 * ms))),
                                  rel=1e-9)
    assert d_near == pytest.approx(10 * pA * np.exp(-lag / (20 * ms)), rel=1e-9)


def test_bounds_clip_the_weight():
    rule = STDP(a_plus=400 * pA, a_minus=0.0, w_max=600 * pA)
    dw, _ = _pairs(rule, [100 * ms], [101 * ms])
    assert dw == pytest.approx(100 * pA, rel=1e-12)  # 500 pA + 400 pA*exp(..) clipped to 600 pA


def _triplet_direct(rule, pre, post):
    """Pfister & Gerstner's all-to-all triplet rule summed directly over the spike lists (no traces)."""
    pre, post = np.asarray(pre), np.asarray(post)
    dw = 0.0
    for t in post:  # potentiation: pre before (or at) t, and earlier posts (strictly before t)
        r1 = np.sum(np.exp(-(t - pre[pre <= t]) / rule.tau_plus))
        o2 = np.sum(np.exp(-(t - post[post < t]) / rule.tau_y))
        dw += r1 * (rule.a2_plus + rule.a3_plus * o2)
    for t in pre:  # depression: posts strictly before t, earlier pres strictly before t
        o1 = np.sum(np.exp(-(t - post[post < t]) / rule.tau_minus))
        r2 = np.sum(np.exp(-(t - pre[pre < t]) / rule.tau_x))
        dw -= o1 * (rule.a2_minus + rule.a3_minus * r2)
    return dw


@pytest.mark.parametrize("rho", [1.0, 20.0, 50.0])
@pytest.mark.parametrize("lag", [10 * ms, -10 * ms])
def test_triplet_rule_matches_its_definition_in_the_pairing_protocol(rho, lag):
    scale = 0.1 * nA  # the published amplitudes are relative to a weight scale
    base = TripletSTDP.visual_cortex()
    rule = TripletSTDP.visual_cortex(a2_plus=base.a2_plus * scale, a3_plus=base.a3_plus * scale,
                                     a2_minus=base.a2_minus * scale, a3_minus=base.a3_minus * scale,
                                     w_max=1 * nA)
    n = 15
    t0 = 100 * ms
    pre = t0 + np.arange(n) / rho
    post_wanted = pre + lag
    dw, mon = _pairs(rule, pre, post_wanted)
    assert mon.num_spikes == n
    want = _triplet_direct(rule, np.round(pre / DT) * DT, mon.t)
    assert dw == pytest.approx(want, rel=1e-9)


def test_triplet_frequency_dependence_as_published():
    """Pfister & Gerstner 2006, Fig. 5 (visual cortex, all-to-all): pre-post pairing potentiates more at higher
    frequencies; post-pre pairing depresses at low frequencies and potentiates at 50 Hz (Sjostrom et al. 2001)."""
    rule = TripletSTDP.visual_cortex()
    pp = [rule.pairing_rate(r, 10e-3) / r for r in (0.1, 10, 20, 40, 50)]
    pm = [rule.pairing_rate(r, -10e-3) / r for r in (0.1, 10, 20, 40, 50)]
    assert np.all(np.diff(pp) > 0)
    assert pm[0] < 0 and pm[-1] > 0
    # the closed form agrees with the simulated rule at 20 Hz (steady state reached after a few pairs)
    scale = 0.1 * nA
    r = TripletSTDP.visual_cortex(a2_plus=rule.a2_plus * scale, a3_plus=rule.a3_plus * scale,
                                  a2_minus=rule.a2_minus * scale, a3_minus=rule.a3_minus * scale, w_max=1 * nA)
    pre = 100 * ms + np.arange(40) / 20.0
    d_long, _ = _pairs(r, pre, pre + 10 * ms)
    d_short, _ = _pairs(r, pre[:20], pre[:20] + 10 * ms)
    per_pair = (d_long - d_short) / 20
    assert per_pair == pytest.approx(r.pairing_rate(20.0, 10.4e-3) / 20.0, rel=0.03)


def _plastic_net(rule, engine="dense", seed=3):
    net = Network(dt=DT, seed=seed, engine=engine)
    src = net.add(PoissonSource(80, rates=30.0, name="src"))
    post = net.add(Population(40, LIFParams(), name="post"))
    w = lambda rng, n: rng.uniform(100, 700, n) * pA  # noqa: E731
    pr = net.add(Projection(src, post, FixedProbability(0.5), weights=w, plasticity=rule, name="plastic"))
    net.add(Projection(post, post, FixedProbability(0.1), weights=-200 * pA, receptor="inh", delays=3))
    mon = net.add(SpikeMonitor(post))
    return net, pr, mon


RULES = [
    STDP(a_plus=20 * pA, a_minus=22 * pA, w_max=1 * nA),
    STDP(a_plus=20 * pA, a_minus=22 * pA, w_max=1 * nA, dependence="multiplicative", pairing="nearest"),
    TripletSTDP.visual_cortex(a2_plus=1e-12, a3_plus=10 * pA, a2_minus=10 * pA, a3_minus=1 * pA, w_max=1 * nA),
]


@pytest.mark.parametrize("rule", RULES, ids=["pair", "mult-nearest", "triplet"])
@pytest.mark.parametrize("engine", ["dense", "event"])
def test_plastic_network_matches_the_per_synapse_reference(rule, engine):
    net, pr, mon = _plastic_net(rule, engine)
    sim = net._ensure_built()
    w_init = pr.weights.copy()
    steps, gids, state = run_reference(sim, 3000)
    net.run(300 * ms)
    lo = int(sim.pop_lo[1])
    sel = gids >= lo
    assert mon.num_spikes > 100
    np.testing.assert_array_equal(mon.steps, steps[sel])
    np.testing.assert_array_equal(mon.i, gids[sel] - lo)
    w_ref = state["weights"][0]
    assert np.max(np.abs(w_ref - w_init)) > 1 * pA  # it learned something
    np.testing.assert_allclose(pr.weights, w_ref, rtol=1e-9, atol=1e-22)


def test_plastic_runs_split_and_resume_from_checkpoints(tmp_path):
    rule = RULES[0]
    a, pa, ma = _plastic_net(rule)
    a.run(200 * ms)
    b, _, _ = _plastic_net(rule)
    b.run(70 * ms)
    b.save(tmp_path / "b.msnn")
    c = Network.load(tmp_path / "b.msnn")
    c.run(130 * ms)
    np.testing.assert_array_equal(pa.weights, c.projections[0].weights)
    assert isinstance(c.projections[0].plasticity, STDP)


def test_reward_gates_the_eligibility():
    stdp = STDP(a_plus=10 * pA, a_minus=0.0, tau_plus=20 * ms, w_max=1 * nA)
    rule = RewardSTDP(stdp=stdp, tau_e=0.2, learning_rate=5.0)
    net = Network(dt=DT, seed=0)
    pre = net.add(SpikeSource(1, [10 * ms], [0]))
    drv = net.add(SpikeSource(1, [19.5 * ms], [0]))
    post = net.add(Population(1, LIFParams()))
    pr = net.add(Projection(pre, post, AllToAll(), weights=W0, plasticity=rule))
    net.add(Projection(drv, post, AllToAll(), weights=DRIVE))
    mon = net.add(SpikeMonitor(post))
    net.run(50 * ms)
    assert pr.weights[0] == W0  # no reward yet: only the eligibility moved
    e0 = stdp.window(mon.t[0] - 10 * ms)
    t_now = net.t
    net.set_reward(pr, 2.0)
    net.run_steps(1000)
    # w += lr R e dt every step while e decays: e at the first rewarded step is e0 decayed since the post spike
    k0 = round((t_now - mon.t[0]) / DT)
    decay = np.exp(-DT / 0.2)
    want = 5.0 * 2.0 * DT * e0 * decay ** (k0 - 1) * np.sum(decay ** np.arange(1000))
    assert pr.weights[0] - W0 == pytest.approx(want, rel=1e-9)
    net.set_reward(pr, 0.0)
    w = pr.weights[0]
    net.run_steps(100)
    assert pr.weights[0] == w
    with pytest.raises(ValueError, match="RewardSTDP"):
        net.set_reward(net.projections[1], 1.0)


def test_reward_network_matches_reference():
    rule = RewardSTDP(stdp=STDP(a_plus=20 * pA, a_minus=22 * pA, w_max=1 * nA), tau_e=0.1, learning_rate=20.0)
    net, pr, mon = _plastic_net(rule)
    net.set_reward(pr, 1.5)
    sim = net._ensure_built()
    steps, gids, state = run_reference(sim, 2000)
    net.run(200 * ms)
    np.testing.assert_array_equal(mon.steps, steps[gids >= int(sim.pop_lo[1])])
    np.testing.assert_allclose(pr.weights, state["weights"][0], rtol=1e-9, atol=1e-22)


def test_bad_rules_and_weights_are_refused():
    with pytest.raises(ValueError, match="tau_plus"):
        STDP(tau_plus=0.0)
    with pytest.raises(ValueError, match="w_max"):
        STDP(w_min=1.0, w_max=1.0)
    with pytest.raises(ValueError, match="dependence"):
        STDP(dependence="hebbian")
    with pytest.raises(ValueError, match="pairing"):
        TripletSTDP(pairing="some")
    with pytest.raises(ValueError, match="a_minus"):
        STDP(a_minus=-1.0)
    net = Network(dt=DT)
    a = net.add(Population(3, LIFParams()))
    with pytest.raises(ValueError, match="outside"):
        net.add(Projection(a, a, AllToAll(), weights=2.0, plasticity=STDP(w_max=1.0)))
    with pytest.raises(TypeError, match="plasticity"):
        Projection(a, a, AllToAll(), weights=0.5, plasticity="stdp")


def test_reward_schedules_and_callbacks_equal_manual_set_reward():
    from memr_snn.learning import run_with_reward

    rule = RewardSTDP(stdp=STDP(a_plus=20 * pA, a_minus=22 * pA, w_max=1 * nA), tau_e=0.1, learning_rate=20.0)
    schedule = np.array([0.0, 1.0, -0.5, 2.0])
    a, pa, _ = _plastic_net(rule)
    run_with_reward(a, pa, schedule, 40 * ms, every=10 * ms)
    b, pb, _ = _plastic_net(rule)
    for r in schedule:
        b.set_reward(pb, r)
        b.run_steps(100)
    np.testing.assert_array_equal(pa.weights, pb.weights)
    c, pc, mc = _plastic_net(rule)
    run_with_reward(c, pc, lambda t: schedule[int(round(t / (10 * ms)))], 40 * ms, every=10 * ms)
    np.testing.assert_array_equal(pa.weights, pc.weights)
    with pytest.raises(ValueError, match="intervals"):
        run_with_reward(c, pc, schedule, 30 * ms, every=10 * ms)


def test_reward_rule_bad_values():
    with pytest.raises(ValueError, match="learning_rate"):
        RewardSTDP(learning_rate=-1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        RewardSTDP(learning_rate=float("nan"))
    with pytest.raises(ValueError, match="tau_e"):
        RewardSTDP(tau_e=float("inf"))
