"""memr_snn.learning.control: CartPole linearisation and LQR expert, ridge with fixed coefficients,
faults in the loop, rollouts."""

import numpy as np
import pytest

from memr_snn.learning.control import (
    CARTPOLE,
    LinearPolicy,
    cartpole_linearisation,
    cartpole_lqr_gain,
    collect_states,
    evaluate,
    faults_in_the_loop,
    ridge,
    ridge_with_fixed,
    visited_states,
)


def _gym():
    return pytest.importorskip("gymnasium")


def test_linearisation_matches_gymnasium_dynamics():
    """gymnasium's own step (Euler, tau = 20 ms), from a small state: (s' - s) / tau = A s + B F to first
    order; the residual shrinks quadratically with the state's size."""
    gym = _gym()
    a, b = cartpole_linearisation()
    env = gym.make("CartPole-v1").unwrapped
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    direction = rng.normal(size=4)
    errors = []
    for eps in (1e-2, 1e-3):
        for action, force in ((1, CARTPOLE["force_mag"]), (0, -CARTPOLE["force_mag"])):
            s = eps * direction
            env.state = s.copy()
            nxt, *_ = env.step(action)
            deriv = (np.asarray(nxt, dtype=np.float64) - s) / CARTPOLE["tau"]
            # gymnasium updates x with the old x_dot, x_dot with the new x_acc: the discrete update's
            # first-order terms are those of A s + B F (evaluated at s)
            lin = a @ s + b * force
            errors.append(np.abs(deriv[[1, 3]] - lin[[1, 3]]).max())
    # the force term is exact at s = 0; the state terms are first order: errors scale with eps^2
    # (theta_dot^2 and cos/sin terms), here well below the linear terms' size
    assert max(errors) < 1e-3


def test_lqr_closed_loop_is_stable_and_balances():
    a, b = cartpole_linearisation()
    k = cartpole_lqr_gain()
    tau = CARTPOLE["tau"]
    ad = np.eye(4) + tau * a
    closed = ad + np.outer(tau * b, k)  # force = k @ s
    assert np.max(np.abs(np.linalg.eigvals(closed))) < 1.0
    assert np.max(np.abs(np.linalg.eigvals(ad))) > 1.0  # the open loop falls
    gym = _gym()
    returns = evaluate(lambda: gym.make("CartPole-v1"), LinearPolicy(k), episodes=3, seed=0)
    assert np.all(returns == 500.0)


def test_ridge_equals_least_squares_of_the_augmented_system():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 5)), rng.normal(size=30)
    alpha = 0.7
    aug = np.vstack([x, np.sqrt(alpha) * np.eye(5)])
    ref = np.linalg.lstsq(aug, np.concatenate([y, np.zeros(5)]), rcond=None)[0]
    np.testing.assert_allclose(ridge(x, y, alpha), ref, rtol=1e-10)


def test_ridge_with_fixed_holds_and_refits():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 6)), rng.normal(size=40)
    fixed = np.array([False, True, False, False, True, False])
    values = np.array([9.0, 0.3, 9.0, 9.0, -1.2, 9.0])
    w = ridge_with_fixed(x, y, 0.5, fixed, values)
    assert w[1] == 0.3 and w[4] == -1.2
    free = ~fixed
    # the free part is the ridge solution of the residual, by a dense solve of its normal equations
    resid = y - x[:, fixed] @ values[fixed]
    xf = x[:, free]
    np.testing.assert_allclose(w[free], np.linalg.solve(xf.T @ xf + 0.5 * np.eye(4), xf.T @ resid), rtol=1e-10)
    # two columns at once = one by one
    y2 = np.stack([y, -2 * y], axis=1)
    w2 = ridge_with_fixed(x, y2, 0.5, np.stack([fixed, fixed], 1), np.stack([values, values], 1))
    np.testing.assert_allclose(w2[:, 0], w)
    np.testing.assert_allclose(w2[:, 1], ridge_with_fixed(x, -2 * y, 0.5, fixed, values))


def test_faults_in_the_loop_compensates_stuck_coefficients():
    """A 'device' that holds coefficients 0 and 3 at 0: refitting the others recovers most of the loss."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 6))
    x[:, 1] = x[:, 0] + 0.1 * rng.normal(size=200)  # correlated features: a stuck one can be compensated
    w_true = np.array([1.0, 0.5, -0.3, 0.8, 0.2, 0.1])
    y = x @ w_true
    stuck = np.array([True, False, False, True, False, False])
    pulses = []

    def program(w):
        pulses.append(w.copy())
        return np.where(stuck, 0.0, w)

    real, history = faults_in_the_loop(x, y, 1e-3, program, tolerance=0.05, iterations=2)
    naive = np.where(stuck, 0.0, ridge(x, y, 1e-3))
    assert history[0]["missed"] == 2 and history[1]["frozen"] == 2
    assert np.mean((x @ real - y) ** 2) < 0.5 * np.mean((x @ naive - y) ** 2)
    assert len(pulses) == 3 and np.all(real[stuck] == 0.0)
    with pytest.raises(ValueError, match="iterations"):
        faults_in_the_loop(x, y, 1e-3, program, tolerance=0.05, iterations=-1)


def test_collect_states_is_seeded():
    gym = _gym()
    expert = LinearPolicy(cartpole_lqr_gain())
    a = collect_states(lambda: gym.make("CartPole-v1"), expert, 2, seed=5, explore=0.3)
    b = collect_states(lambda: gym.make("CartPole-v1"), expert, 2, seed=5, explore=0.3)
    c = collect_states(lambda: gym.make("CartPole-v1"), expert, 2, seed=6, explore=0.3)
    assert a.shape[1] == 4 and np.array_equal(a, b) and not (a.shape == c.shape and np.array_equal(a, c))


def test_visited_states_are_the_learners_states_labelled_by_the_expert():
    """DAgger's data step equals a hand-written gymnasium loop: the learner's actions drive the plant, every
    observation it acted on is recorded in order and labelled by the expert's score."""
    gym = _gym()
    learner = LinearPolicy([0.0, 0.0, 1.0, 0.0])  # pushes towards the pole's lean only: fails within ~100 steps
    expert = LinearPolicy(cartpole_lqr_gain())
    states, labels, returns = visited_states(lambda: gym.make("CartPole-v1"), learner, expert.score, 3, seed=40)
    env = gym.make("CartPole-v1")
    ref, ref_returns = [], []
    for i in range(3):
        obs, _ = env.reset(seed=40 + i)
        steps = 0
        while True:
            ref.append(np.array(obs, dtype=np.float64))
            obs, _, terminated, truncated, _ = env.step(int(learner.k @ obs > 0))
            steps += 1
            if terminated or truncated:
                break
        ref_returns.append(steps)
    ref = np.array(ref)
    assert np.array_equal(states, ref) and np.array_equal(returns, ref_returns)
    assert 3 * 5 < len(states) < 3 * 500  # the learner fails: not the expert's trajectories
    np.testing.assert_allclose(labels, ref @ expert.k, rtol=1e-12)
