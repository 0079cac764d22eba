r"""Training the spiking CartPole controller (:mod:`networks.cartpole_controller`).

**Offline: imitation with faults in the loop** (:func:`train_offline`).  The expert is the bang-bang
LQR policy (:func:`memr_snn.learning.control.cartpole_lqr_gain`), which balances CartPole-v1 for the
full 500 steps.  Its states, visited with 20 % random actions, are encoded by the controller's own
encoder neurons (spike counts ``c`` of one window, simulated by the kernel).  The readout is fitted by
ridge regression on ``[c, 1]`` to the clipped expert score :math:`y = \mathrm{clip}(k s / s_0, -1, 1)`:
the "push right" neuron receives the charge :math:`q_0 (\beta c + \beta_0)` per window, the "push left"
neuron its opposite (weight :math:`w = q_0 \beta / \tau_{syn}` per spike, bias :math:`q_0 \beta_0 / T`),
so it fires when the score is positive.  On devices the weights are written with the crossbar's
programming method, read back, every weight the devices missed by more than ``tolerance`` (stuck
devices, clipped targets) is frozen at its realised value, the others are refitted to compensate, and
the result is programmed again (:func:`memr_snn.learning.control.faults_in_the_loop`).  All writes are
device writes of the controller.

**DAgger rounds** (``dagger_rounds``; Ross, Gordon & Bagnell 2011).  The expert's states cover what the
expert visits (the cart within about 0.5 m of the centre); the programmed controller, whose devices hold
a slightly different readout, drifts further (to 1 m and beyond) and meets states the fit never saw,
where the readout's response to the angle can fall off or reverse.  So the programmed controller runs
episodes with its own actions, the expert labels every state it visited
(:func:`memr_snn.learning.control.visited_states`), the states join the training set, and the readout is
fitted and programmed again with faults in the loop; each round uses the previous round's controller.

**Online: reward-modulated STDP on the devices** (:func:`train_rstdp`).  A controller built with a
:class:`memr_snn.learning.RewardSTDP` rule on its readout keeps learning while it acts: the STDP pairs
of encoder and output spikes fill per-synapse eligibility traces, and the reward of each control step
(:func:`angle_reward`: the decrease of :math:`|\theta| + 0.1 |\dot\theta|`, -1 when the episode fails)
turns them into weight changes, sent to the devices as pulses inside the kernel (counted, with their
wear; the lifetime is projected by :func:`memr_snn.devices.device_report`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from memr_snn._validation import check_int_at_least, check_positive, check_probability
from memr_snn.learning import STDP, RewardSTDP
from memr_snn.learning.control import (
    LinearPolicy,
    cartpole_lqr_gain,
    collect_states,
    faults_in_the_loop,
    run_episode,
    visited_states,
)

from .cartpole_controller import ControllerConfig, ControllerEnergy, SpikingCartPoleController

__all__ = ["EXPERT_Q", "OfflineResult", "train_offline", "encoder_features", "angle_reward", "rstdp_rule",
           "train_rstdp",
           "train_online_imitation"]


#: state cost of the LQR expert: position weighted like the angle, so the cart stays near the centre (with
#: the default (1, 1, 10, 1) the cart drifts towards the track's end, and imitations of it left the track)
EXPERT_Q = (10.0, 1.0, 10.0, 1.0)


@dataclasses.dataclass
class OfflineResult:
    """What :func:`train_offline` returns."""

    controller: SpikingCartPoleController
    coefficients: np.ndarray
    """Realised readout coefficients ``(n_in + 1,)`` of the "push right" neuron (last: bias)."""
    history: list[dict]
    """Faults-in-the-loop rounds (:func:`memr_snn.learning.control.faults_in_the_loop`) of the last fit."""
    n_states: int
    """Training states."""
    train_agreement: float
    """Fraction of training states where the realised readout's sign agrees with the expert."""
    programming_writes: int
    """Device write pulses of the initial programming and the refits."""
    states: np.ndarray
    """Training states ``(n_states, 4)``: the expert's rollouts, then the states of each DAgger round."""
    labels: np.ndarray
    """Their targets, the clipped expert scores ``(n_states,)``."""
    dagger: list[dict]
    """DAgger rounds: ``round``, ``first_episode`` (seed of its first rollout), ``states_added``,
    ``rollout_returns`` (the controller's returns in those rollouts), ``fit_mse``, ``missed`` (after the
    round's faults-in-the-loop refits) and ``writes_so_far``."""


def encoder_features(config: ControllerConfig, observations) -> np.ndarray:
    """Encoder spike counts ``(n, 4 * n_fields)`` of one control window per observation, simulated by the
    kernel on a controller with zero readout weights (the encoder does not depend on them)."""
    obs = np.asarray(observations, dtype=np.float64)
    probe = SpikingCartPoleController(np.zeros((2, config.encoding.n_channels)), np.zeros(2), config, seed=0)
    return np.array([probe.encoder_counts(o) for o in obs], dtype=np.float64)


def _scales(config: ControllerConfig, charge: float) -> tuple[float, float]:
    """Amperes per readout coefficient: weight (per spike count) and bias (per window)."""
    return charge / config.out_tau_syn, charge / (config.window_steps * config.dt)


def train_offline(make_env: Callable[[], Any], *, config: ControllerConfig | None = None, device=None,
                  plasticity: RewardSTDP | Callable[[float], RewardSTDP] | None = None,
                  energy: ControllerEnergy | None = None, seed: int = 0,
                  episodes: int = 30, explore: float = 0.2, score_scale: float = 1.0, alpha: float = 1.0,
                  charge: float = 15e-12, tolerance: float = 0.05, rounds: int = 2,
                  dagger_rounds: int = 0, dagger_episodes: int = 10) -> OfflineResult:
    """Imitation of the LQR expert, programmed with faults in the loop (module docstring), optionally
    followed by DAgger rounds.

    Parameters
    ----------
    make_env : callable
        Returns a CartPole environment with the gymnasium API (e.g. ``lambda: gymnasium.make("CartPole-v1")``).
    config : ControllerConfig, optional
        Controller network.
    device : memr_snn.devices.Crossbar, optional
        Crossbar of the readout (``None``: float weights).
    plasticity : RewardSTDP or callable, optional
        Rule of the returned controller (for online learning afterwards), or ``f(w_bound) -> RewardSTDP``
        called with twice the largest fitted weight (e.g. :func:`rstdp_rule`).
    energy : ControllerEnergy, optional
        Per-operation energies of the returned controller.
    seed : int
        Seed of the training rollouts (episodes ``1000 * seed + i``) and of the controller.
    episodes, explore : int, float
        Rollouts of the expert and their probability of a random action per step.
    score_scale : float
        :math:`s_0`: expert scores are divided by it and clipped to [-1, 1].
    alpha : float
        Ridge penalty.
    charge : float
        :math:`q_0`, charge per unit of the readout coefficient [C] (default 4 thresholds of the output
        neuron: 4 x 250 pF x 15 mV).
    tolerance : float
        Faults-in-the-loop: a realised coefficient off by more than this fraction of the largest
        coefficient is frozen.
    rounds : int
        Faults-in-the-loop refits after the first programming (0: program once).
    dagger_rounds : int
        DAgger rounds after the first fit (Ross, Gordon & Bagnell 2011): the programmed controller (on its
        devices, read noise included) runs ``dagger_episodes`` episodes with its own actions
        (``env.reset(seed=1000 * seed + episodes + r * dagger_episodes + i)`` in round ``r``), the expert
        labels every state it visited (:func:`memr_snn.learning.control.visited_states`), the states join
        the training set, and the readout is fitted and programmed again with faults in the loop.
        ``episodes + dagger_rounds * dagger_episodes`` must not exceed 1000 (the seed's block of training
        episodes).
    dagger_episodes : int
        Controller episodes per DAgger round.
    """
    cfg = config if config is not None else ControllerConfig()
    check_int_at_least("seed", seed, 0)
    check_positive("score_scale", score_scale)
    check_positive("charge", charge, "C")
    check_int_at_least("dagger_rounds", dagger_rounds, 0)
    check_int_at_least("dagger_episodes", dagger_episodes, 1)
    if episodes + dagger_rounds * dagger_episodes > 1000:
        raise ValueError(f"episodes + dagger_rounds * dagger_episodes must be <= 1000 (the seed's training "
                         f"episodes), got {episodes} + {dagger_rounds} * {dagger_episodes}")
    expert = LinearPolicy(cartpole_lqr_gain(q=EXPERT_Q))

    def label(s):
        return float(np.clip(expert.score(s) / score_scale, -1.0, 1.0))

    states = collect_states(make_env, expert, episodes, seed=1000 * seed, explore=explore)
    x = np.hstack([encoder_features(cfg, states), np.ones((len(states), 1))])
    y = np.array([label(s) for s in states])
    w_scale, b_scale = _scales(cfg, charge)
    beta0 = np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ y)

    def amps(beta):
        return np.stack([-beta[:-1], beta[:-1]]) * w_scale, np.array([-beta[-1], beta[-1]]) * b_scale

    w0, b0 = amps(beta0)
    if plasticity is not None and not isinstance(plasticity, RewardSTDP):
        plasticity = plasticity(2.0 * float(np.abs(w0).max()))  # a rule factory: bounds twice the largest weight
    ctrl = SpikingCartPoleController(w0, b0, cfg, device=device, plasticity=plasticity, energy=energy, seed=seed)

    def fit(x, y):
        """Fit the readout to (x, y), program it (faults in the loop); the realised coefficients, history."""
        beta = np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ y)
        if device is None:
            ctrl.program(*amps(beta))
            return beta, [{"round": 0, "frozen": 0, "missed": 0, "fit_mse": float(np.mean((x @ beta - y) ** 2))}]

        def program(beta2):  # beta2 (d, 2): columns "left", "right" in coefficient units
            w = beta2[:-1].T * w_scale
            ctrl.program(w, beta2[-1] * b_scale)
            got = ctrl.weights() / w_scale
            return np.vstack([got.T, beta2[-1:]])

        tol = tolerance * float(np.abs(beta[:-1]).max())
        real2, hist = faults_in_the_loop(x, np.stack([-y, y], axis=1), alpha, program, tolerance=tol,
                                         iterations=rounds, free_last=1)
        return (real2[:, 1] - real2[:, 0]) / 2.0, hist

    if device is None:
        real, history = beta0, [{"round": 0, "frozen": 0, "missed": 0,
                                 "fit_mse": float(np.mean((x @ beta0 - y) ** 2))}]
    else:
        real, history = fit(x, y)
    dagger = []
    for r in range(dagger_rounds):
        first = 1000 * seed + episodes + r * dagger_episodes
        new, new_y, returns = visited_states(make_env, ctrl, label, dagger_episodes, seed=first)
        states = np.vstack([states, new])
        x = np.vstack([x, np.hstack([encoder_features(cfg, new), np.ones((len(new), 1))])])
        y = np.concatenate([y, new_y])
        real, history = fit(x, y)
        dagger.append({"round": r + 1, "first_episode": first, "states_added": len(new),
                       "rollout_returns": returns.tolist(), "fit_mse": history[-1]["fit_mse"],
                       "missed": history[-1]["missed"], "writes_so_far": ctrl.device_writes})
    agree = float(np.mean(np.sign(x @ real) == np.sign(y)))
    return OfflineResult(ctrl, real, history, len(states), agree, ctrl.device_writes, states, y, dagger)


# --------------------------------------------------------------------------------- online
def angle_reward(obs, next_obs, terminated: bool, *, w_rate: float = 0.1, scale: float = 0.01) -> float:
    r"""Reward of one control step: the decrease of :math:`|\theta| + w |\dot\theta|` in units of ``scale``,
    clipped to [-1, 1]; -1 when the step ended the episode."""
    if terminated:
        return -1.0
    before = abs(obs[2]) + w_rate * abs(obs[3])
    after = abs(next_obs[2]) + w_rate * abs(next_obs[3])
    return float(np.clip((before - after) / scale, -1.0, 1.0))


def rstdp_rule(w_bound: float, *, a: float = 0.02, tau: float = 20e-3, tau_e: float = 40e-3,
               learning_rate: float = 5.0) -> RewardSTDP:
    """The R-STDP rule of the online experiments: pair STDP (``a_plus = a w_bound``, ``a_minus = a w_bound``,
    windows ``tau``) gated by the reward with eligibility ``tau_e``, weights bounded to ``[-w_bound, w_bound]``."""
    check_positive("w_bound", w_bound)
    stdp = STDP(a_plus=a * w_bound, a_minus=a * w_bound, tau_plus=tau, tau_minus=tau, w_min=-w_bound,
                w_max=w_bound)
    return RewardSTDP(stdp=stdp, tau_e=tau_e, learning_rate=learning_rate)


def train_rstdp(controller: SpikingCartPoleController, make_env: Callable[[], Any], episodes: int, seed: int,
                reward: Callable[..., float] = angle_reward) -> np.ndarray:
    """Run ``episodes`` episodes (``env.reset(seed=seed + i)``) with the R-STDP rule learning online: after
    each step the controller gets ``reward(obs, next_obs, terminated)``.  Returns the episodes' returns."""
    if controller.plasticity is None:
        raise ValueError("train_rstdp needs a controller built with plasticity=RewardSTDP(...)")
    check_int_at_least("episodes", episodes, 1)

    def deliver(obs, action, r, nxt, terminated):
        controller.reward(reward(obs, nxt, terminated))

    env = make_env()
    try:
        returns = []
        for i in range(episodes):
            returns.append(run_episode(env, controller, seed + i, on_step=deliver))
            controller.reward(0.0)
        return np.array(returns)
    finally:
        if hasattr(env, "close"):
            env.close()


def train_online_imitation(controller: SpikingCartPoleController, make_env: Callable[[], Any], episodes: int,
                           seed: int, *, eta: float = 0.02, threshold: float = 0.1, score_scale: float = 1.0,
                           charge: float = 15e-12, explore: float = 0.0) -> np.ndarray:
    r"""Online imitation in the loop: the controller acts (its actions drive the plant, as DAgger), the LQR
    expert labels every visited state, and after each control step the readout learns from its error.

    The rule is e-prop's for a readout layer (Bellec et al. 2020, eq. for the output weights), here the
    least-mean-squares rule: output neuron ``j`` received the charge :math:`u_j` (:meth:`readout_charges`),
    its target is :math:`\pm q_0 y` with :math:`y = \mathrm{clip}(k s / s_0, -1, 1)` (``-`` for "left"),
    the learning signal :math:`L_j = (u_j - t_j) / q_0`, and its eligibility for input ``i`` the charge
    per unit weight that input delivered, :math:`c_i \tau_{syn}`; so
    :math:`\Delta w_{ji} = -\eta\, L_j\, c_i\, q_0 / (\tau_{syn} \sum_i c_i^2)` (normalised LMS).  Updates are
    error-triggered (only when :math:`|L_j| >` ``threshold``), and on devices accumulated digitally and
    sent as pulses (:meth:`SpikingCartPoleController.apply_update`).  With ``explore > 0`` a uniformly
    random action replaces the controller's with that probability (seeded), so that the states a
    drifting policy reaches are labelled too.  Returns the episodes' returns.
    """
    check_int_at_least("episodes", episodes, 1)
    check_positive("eta", eta)
    check_probability("explore", explore)
    rng = np.random.default_rng([seed, 0xE1])

    def policy(obs):
        a = controller.act(obs)
        return int(rng.integers(2)) if explore and rng.random() < explore else a
    expert = LinearPolicy(cartpole_lqr_gain(q=EXPERT_Q))
    tau_syn = controller.config.out_tau_syn

    def learn(obs, action, r, nxt, terminated):
        y = float(np.clip(expert.score(obs) / score_scale, -1.0, 1.0))
        err = (controller.readout_charges() - charge * np.array([-y, y])) / charge
        err[np.abs(err) <= threshold] = 0.0
        c = controller.last_enc_counts.astype(np.float64)
        norm = float(c @ c)
        if norm > 0 and np.any(err):
            controller.apply_update(-eta * np.outer(err, c) * charge / (tau_syn * norm))

    env = make_env()
    try:
        returns = []
        for i in range(episodes):
            controller.reset(seed + i)
            returns.append(run_episode(env, policy, seed + i, on_step=learn))
        return np.array(returns)
    finally:
        if hasattr(env, "close"):
            env.close()
