"""The spiking CartPole controller: encoder, determinism, ideal devices = float weights, write counts,
checkpoints, energy accounting, and a short balancing smoke test."""

import numpy as np
import pytest
from memr_snn.encoders.population_code import gaussian_activations, receptive_fields
from memr_snn.networks.cartpole_controller import (
    CartPoleEncoding,
    ControllerConfig,
    ControllerEnergy,
    SpikingCartPoleController,
)
from memr_snn.networks.cartpole_training import angle_reward, rstdp_rule

from memr_snn.devices import Crossbar

N_IN = 40


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.6e-9, size=(2, N_IN))
    return w, np.array([20e-12, -20e-12])


def _observations(n=25, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, 4)) * np.array([1.5, 1.0, 0.15, 1.5])


def _act_all(ctrl, obs):
    actions, counts, v = [], [], []
    for o in obs:
        actions.append(ctrl.act(o))
        counts.append(ctrl.last_counts.copy())
        v.append(ctrl.net.get_state(ctrl.out, "v"))
    return np.array(actions), np.array(counts), np.array(v)


# ----------------------------------------------------------------------------- encoder
def test_encoder_hand_cases():
    enc = CartPoleEncoding(n_fields=5, low=(-1, -2, -0.2, -4), high=(1, 2, 0.2, 4), beta=1.5)
    # Bohte's centres: c_i = lo + (2i - 3)/2 (hi - lo)/(m - 2); spacing 2/3 for x in [-1, 1], m = 5
    centres = -1 + (2 * np.arange(1, 6) - 3) / 2 * (2 / 3)
    sigma = (2 / 3) / 1.5
    obs = np.array([centres[2], 0.0, 0.2, -4.0])
    a = enc.activations(obs).reshape(4, 5)
    assert a[0, 2] == 1.0  # on a centre
    np.testing.assert_allclose(a[0], np.exp(-((centres[2] - centres) ** 2) / (2 * sigma ** 2)), rtol=1e-15)
    # out of range: clipped to the bound
    np.testing.assert_array_equal(enc.activations([0, 0, 5.0, -9.0]), enc.activations([0, 0, 0.2, -4.0]))
    with pytest.raises(ValueError, match="4 values"):
        enc.activations([1.0, 2.0])
    with pytest.raises(ValueError, match="low < high"):
        CartPoleEncoding(low=(1, -1, -1, -1), high=(0, 1, 1, 1))


def test_encoder_equals_the_population_code_of_encoders():
    enc = CartPoleEncoding()
    obs = _observations(10)
    got = enc.activations(obs)
    for c in range(4):
        lo, hi = enc.low[c], enc.high[c]
        ref = gaussian_activations(np.clip(obs[:, c:c + 1], lo, hi), enc.n_fields, x_min=lo, x_max=hi, beta=enc.beta)
        np.testing.assert_allclose(got[:, c * enc.n_fields:(c + 1) * enc.n_fields], ref[:, 0], rtol=1e-14)
        assert np.allclose(receptive_fields(enc.n_fields, lo, hi)[0], enc._centres[c])


def test_encoder_counts_follow_the_rheobase_and_the_drive():
    """From rest, an encoder neuron's depolarisation is I R (1 - exp(-t / tau)): it fires within the window T
    iff I R (1 - exp(-T / tau)) exceeds threshold - rest (15 mV); and it fires more the stronger its field
    is activated."""
    cfg = ControllerConfig()
    ctrl = SpikingCartPoleController(np.zeros((2, N_IN)), np.zeros(2), cfg)
    n = cfg.encoder_neuron
    r = n.tau_mem / n.c_mem
    for obs in ([0.0, 0.0, 0.0, 0.0], [1.1, -0.7, 0.05, 2.0]):
        counts = ctrl.encoder_counts(obs)
        drive = cfg.i_enc * cfg.encoding.activations(obs) * r
        t_win = cfg.window_steps * cfg.dt
        reach = drive * (1 - np.exp(-t_win / n.tau_mem))
        reach_early = drive * (1 - np.exp(-(t_win - cfg.dt) / n.tau_mem))
        margin = (reach_early > 15e-3) | (reach < 15e-3)  # leave out the band the last step decides
        assert margin.sum() > 30
        np.testing.assert_array_equal((counts > 0)[margin], (reach > 15e-3)[margin])
        order = np.argsort(drive)
        assert np.all(np.diff(counts[order]) >= 0)  # monotone in the drive
        assert counts.max() <= cfg.window_steps


# -------------------------------------------------------------------------- controller
def test_deterministic_under_a_seed():
    w, b = _weights()
    obs = _observations()
    runs = []
    for seed in (3, 3, 4):
        ctrl = SpikingCartPoleController(w, b, device=Crossbar(preset="hfox_rram", encoding="differential"), seed=seed)
        ctrl.reset(0)
        runs.append((_act_all(ctrl, obs), ctrl.weights()))
    (a1, w1), (a2, w2), (a3, w3) = runs
    for x, y in zip(a1, a2, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(w1, w2)
    assert not np.array_equal(w1, w3)  # another seed: other devices (faults, variability)


def test_ideal_crossbar_equals_float_weights():
    w, b = _weights(5)
    obs = _observations(30)
    ideal = SpikingCartPoleController(w, b, device=Crossbar(preset="ideal", encoding="differential"), seed=2)
    plain = SpikingCartPoleController(w, b, seed=2)
    np.testing.assert_array_equal(ideal.weights(), w)
    got, ref = _act_all(ideal, obs), _act_all(plain, obs)
    for x, y in zip(got, ref, strict=True):
        np.testing.assert_array_equal(x, y)
    assert len(set(got[0].tolist())) == 2  # both actions occur: the comparison is not vacuous
    assert ideal.synops == plain.synops > 0


def test_decision_is_the_sign_of_the_readout_charge():
    """Output neurons integrate (tau 1 s): with opposite weights and bias the action is the sign of the
    charge that the encoder counts deliver, w . c tau_syn + b T, away from ties."""
    cfg = ControllerConfig()
    w1, b = _weights(7)
    w = np.stack([-w1[1], w1[1]])
    bias = np.array([-b[0], b[0]])
    ctrl = SpikingCartPoleController(w, bias, cfg)
    obs = _observations(40, seed=9)
    charges, actions = [], []
    for o in obs:
        c = ctrl.encoder_counts(o)
        charges.append(w[1] @ c * cfg.out_tau_syn + bias[1] * cfg.window_steps * cfg.dt)
        actions.append(ctrl.act(o))
    charges, actions = np.array(charges), np.array(actions)
    clear = np.abs(charges) > 0.3e-12  # 2 % of a threshold charge (3.75 pC): late-spike effects are smaller
    assert clear.sum() > 30
    np.testing.assert_array_equal(actions[clear], (charges[clear] > 0).astype(int))


def test_device_writes_equal_pulses_issued():
    w, b = _weights(2)
    ctrl = SpikingCartPoleController(w, b, device=Crossbar(preset="hfox_rram", encoding="differential"),
                                     plasticity=rstdp_rule(2 * np.abs(w).max(), learning_rate=50.0), seed=1)
    cb = ctrl.crossbar
    assert ctrl.device_writes == int(cb.counts.sum()) > 0  # the initial programming, pulse by pulse
    ctrl.program(0.5 * w)
    assert ctrl.device_writes == int(cb.counts.sum())
    before = ctrl.device_writes
    for k, o in enumerate(_observations(30)):
        ctrl.reward(1.0 if k % 2 else -1.0)
        ctrl.act(o)
    assert ctrl.learning_writes > 0
    assert ctrl.device_writes == int(cb.counts.sum()) == before + ctrl.learning_writes


def test_state_and_load_state_continue_bit_for_bit():
    w, b = _weights(4)
    obs = _observations(20)
    ctrl = SpikingCartPoleController(w, b, device=Crossbar(preset="hfox_rram", encoding="differential"),
                                     plasticity=rstdp_rule(2 * np.abs(w).max(), learning_rate=20.0), seed=6)
    q = ctrl.crossbar.scale * ctrl.crossbar.device.dg_up
    for k, o in enumerate(obs[:10]):
        ctrl.reward(0.5 - k % 2)
        ctrl.act(o)
        ctrl.apply_update(np.full((2, N_IN), 0.3 * q) * (-1) ** k)  # leaves a remainder in the accumulator
    saved = ctrl.state()
    first = _act_all(ctrl, obs[10:])
    first_w, first_writes = ctrl.weights(), ctrl.device_writes
    ctrl.load_state(saved)
    again = _act_all(ctrl, obs[10:])
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(ctrl.weights(), first_w)
    assert ctrl.device_writes == first_writes and ctrl.steps == 20


def test_energy_accounting():
    w, b = _weights(3)
    energy = ControllerEnergy(e_synop=23.6e-12, e_neuron_update=81e-12, source="test")
    ctrl = SpikingCartPoleController(w, b, device=Crossbar(preset="hfox_rram", encoding="differential"),
                                     energy=energy, seed=0)
    enc_spikes = 0
    for o in _observations(10):
        ctrl.act(o)
        enc_spikes += ctrl.enc_spikes.num_spikes
    parts = ctrl.energy_parts()
    assert ctrl.synops == 2 * enc_spikes  # every encoder spike reaches both outputs
    assert parts["synops"] == pytest.approx(2 * enc_spikes * 23.6e-12)
    assert parts["neuron_updates"] == pytest.approx(10 * 20 * 42 * 81e-12)
    # a differential pair is two device reads per synaptic operation, each V^2 G t_read > 0
    cb = ctrl.crossbar
    assert cb.reads == 2 * ctrl.synops
    g_hi = float(cb.device.g_max) * 3  # d2d spread of the upper bound (log-normal, sigma 0.43)
    assert 0 < parts["device_reads"] < cb.reads * cb.v_read ** 2 * g_hi * cb.t_read
    assert ctrl.energy_j == pytest.approx(parts["synops"] + parts["neuron_updates"] + parts["device_reads"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="shape"):
        SpikingCartPoleController(np.zeros((3, N_IN)), np.zeros(2))
    with pytest.raises(ValueError, match="window_steps"):
        ControllerConfig(window_steps=0)
    ctrl = SpikingCartPoleController(np.zeros((2, N_IN)), np.zeros(2))
    with pytest.raises(ValueError, match="plasticity"):
        ctrl.reward(1.0)


def test_angle_reward_hand_cases():
    assert angle_reward([0, 0, 0.1, 0.0], [0, 0, 0.095, 0.0], False) == pytest.approx(0.5)
    assert angle_reward([0, 0, 0.1, 0.0], [0, 0, 0.2, 0.0], False) == -1.0
    assert angle_reward([0, 0, 0.0, 0.0], [0, 0, 0.0, 0.0], True) == -1.0


# ------------------------------------------------------------------------------ smoke
def test_trained_controller_balances():
    """The example, small: imitation on hfox_rram with faults in the loop, 2 evaluation episodes, 1 online."""
    pytest.importorskip("gymnasium")
    import runpy
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "cartpole_snn.py"
    main = runpy.run_path(str(example))["main"]
    (row,) = main(["--seeds", "0", "--episodes", "2", "--online", "1", "--train-episodes", "4",
                   "--dagger-rounds", "1", "--dagger-episodes", "1", "--modes", "offline", "rstdp"])
    assert len(row["dagger"]) == 1 and row["train_states"] > row["dagger"][0]["states_added"] > 0
    assert row["train_agreement"] > 0.8 and row["faults_in_the_loop"][0]["missed"] > 0  # faulty devices found
    assert row["offline"]["faulty_devices"] > 0 and row["programming_writes"] > 0
    assert row["offline"]["min_return"] >= 300  # balances for many steps (a random policy lasts about 20)
    e = row["offline"]["energy_per_step"]
    assert e["synops"] > 0 and e["device_reads"] > 0 and e["device_writes"] == 0  # no writes while inferring
    assert row["offline"]["device_writes"] == row["programming_writes"]
    assert row["rstdp"]["device_writes"] == row["programming_writes"] + row["rstdp"]["learning_writes"]


def test_apply_update_sends_whole_pulses_and_keeps_the_remainder():
    """On ideal devices (linear steps, no noise) an update moves a weight by trunc(chi / (k dG)) exact steps;
    the remainder waits in the accumulator; the pulses are the device counts' increase."""
    w, b = _weights(8)
    ctrl = SpikingCartPoleController(w, b, device=Crossbar(preset="ideal", encoding="differential"), seed=0)
    cb = ctrl.crossbar
    q = cb.scale * cb.device.dg_up
    before_w, before_counts = ctrl.weights(), int(cb.counts.sum())
    dw = np.zeros((2, N_IN))
    dw[0, 3], dw[1, 7], dw[1, 9] = 2.5 * q, -1.2 * q, 0.4 * q
    sent = ctrl.apply_update(dw)
    assert sent == 3 == ctrl.online_pulses == ctrl.learning_writes
    assert int(cb.counts.sum()) - before_counts == 3 and ctrl.device_writes == int(cb.counts.sum())
    expect = before_w.copy()
    expect[0, 3] += 2 * q
    expect[1, 7] -= q
    np.testing.assert_allclose(ctrl.weights(), expect, rtol=0, atol=1e-9 * q)
    assert ctrl.apply_update(dw * 0 + np.where(dw != 0, 0.6 * q, 0.0)) == 2  # 0.5+0.6, 0.4+0.6 reach a step
    plain = SpikingCartPoleController(w, b, seed=0)
    plain.apply_update(dw)
    np.testing.assert_allclose(plain.weights(), w + dw, rtol=1e-15)
    with pytest.raises(ValueError, match="dw"):
        ctrl.apply_update(np.zeros((2, 3)))


def test_online_imitation_learns_on_float_weights():
    gym = pytest.importorskip("gymnasium")
    from memr_snn.networks.cartpole_training import train_online_imitation

    from memr_snn.learning.control import evaluate

    def make_env():
        return gym.make("CartPole-v1")

    rng = np.random.default_rng(0)
    ctrl = SpikingCartPoleController(rng.normal(0.0, 0.1e-9, (2, N_IN)), np.zeros(2), seed=0)
    before = evaluate(make_env, ctrl, episodes=3, seed=50).mean()
    train_online_imitation(ctrl, make_env, 4, seed=60, eta=0.02, explore=0.2)
    after = evaluate(make_env, ctrl, episodes=3, seed=50).mean()
    assert before < 100 and after > 3 * before


def test_dagger_round_adds_the_controllers_visited_states_labelled_by_the_expert():
    """train_offline with one DAgger round (float weights): the training set is the expert's states, then
    exactly the states the round-0 controller visits on the round's episodes, labelled by the clipped expert
    score; the final readout is the ridge fit of the aggregated set and is what the controller holds."""
    gym = pytest.importorskip("gymnasium")
    from memr_snn.networks.cartpole_training import EXPERT_Q, encoder_features, train_offline

    from memr_snn.learning.control import cartpole_lqr_gain, ridge

    def make_env():
        return gym.make("CartPole-v1")

    kw = dict(seed=3, episodes=1, score_scale=2.0, alpha=1.0)
    base = train_offline(make_env, **kw)
    res = train_offline(make_env, dagger_rounds=1, dagger_episodes=1, **kw)
    n0 = base.n_states
    np.testing.assert_array_equal(res.states[:n0], base.states)
    # the round-0 controller (the same fit) acting on the round's episode, by hand
    ctrl0, env = base.controller, make_env()
    obs, _ = env.reset(seed=1000 * 3 + 1)
    visited = []
    while True:
        visited.append(np.array(obs, dtype=np.float64))
        obs, _, terminated, truncated, _ = env.step(ctrl0.act(obs))
        if terminated or truncated:
            break
    visited = np.array(visited)
    assert res.n_states == n0 + len(visited) == len(res.labels)
    assert res.dagger[0]["states_added"] == len(visited) and res.dagger[0]["first_episode"] == 3001
    np.testing.assert_array_equal(res.states[n0:], visited)
    k = cartpole_lqr_gain(q=EXPERT_Q)
    np.testing.assert_allclose(res.labels[n0:], np.clip(visited @ k / 2.0, -1.0, 1.0), rtol=1e-12)
    x = np.hstack([encoder_features(ControllerConfig(), res.states), np.ones((res.n_states, 1))])
    beta = ridge(x, res.labels, 1.0)
    np.testing.assert_allclose(res.coefficients, beta, rtol=1e-10)
    scale = ControllerConfig().out_tau_syn / 15e-12
    np.testing.assert_allclose(res.controller.weights()[1] * scale, beta[:-1], rtol=1e-10)
    assert not np.allclose(res.coefficients, base.coefficients)  # the new states changed the fit
    with pytest.raises(ValueError, match="dagger_episodes"):
        train_offline(make_env, episodes=500, dagger_rounds=11, dagger_episodes=50)
