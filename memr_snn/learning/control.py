r"""Learning controllers for closed-loop control tasks: an LQR expert, imitation by ridge regression with
faults in the loop, rollouts and evaluation on gymnasium-style environments.

Nothing here imports gymnasium: the functions take ``make_env``, a callable returning an environment
with the gymnasium API (``reset(seed=) -> (obs, info)``, ``step(a) -> (obs, r, terminated, truncated,
info)``), so any implementation of it works; the spiking controller that these routines train is
:mod:`memr_snn.networks.cartpole_controller`.

* :func:`cartpole_lqr_gain` -- the discrete-time LQR gain of CartPole-v1 linearised about the upright
  state (the equations of Barto, Sutton & Anderson 1983 as gymnasium implements them: Euler steps of
  :math:`\tau = 20` ms); the expert pushes right when :math:`K s > 0`.
* :func:`ridge` / :func:`ridge_with_fixed` -- ridge regression, optionally with some coefficients held
  at given values (devices stuck or off target) and the others refitted to compensate.
* :func:`faults_in_the_loop` -- program, read back, freeze what the devices did not take, refit the
  rest, program again.
* :func:`collect_states`, :func:`evaluate` -- rollouts of a policy (with exploration) and returns over
  episodes with fixed seeds.
* :func:`visited_states` -- DAgger's data step (Ross, Gordon & Bagnell 2011): the states a learned
  policy visits when its own actions drive the plant, labelled by the expert, to be added to the
  training set so that the next fit covers the states the learner reaches (not only the expert's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_int_at_least, check_nonnegative, check_probability

__all__ = ["CARTPOLE", "cartpole_linearisation", "cartpole_lqr_gain", "LinearPolicy", "ridge",
           "ridge_with_fixed", "faults_in_the_loop", "collect_states", "evaluate", "run_episode",
           "visited_states"]

#: CartPole-v1's constants (gymnasium ``CartPoleEnv``): gravity [m/s^2], cart mass [kg], pole mass [kg],
#: half pole length [m], force magnitude [N], time step [s]
CARTPOLE = {"gravity": 9.8, "masscart": 1.0, "masspole": 0.1, "length": 0.5, "force_mag": 10.0, "tau": 0.02}


def cartpole_linearisation(params: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Continuous-time ``A (4, 4)``, ``B (4,)`` of CartPole about the upright state, state
    :math:`(x, \dot x, \theta, \dot\theta)`, input the force [N].

    From gymnasium's equations :math:`\ddot\theta = (g \sin\theta - \cos\theta\, T) / (l (4/3 - m_p
    \cos^2\theta / M))`, :math:`T = (F + m_p l \dot\theta^2 \sin\theta) / M`,
    :math:`\ddot x = T - m_p l \ddot\theta \cos\theta / M` with :math:`M = m_c + m_p`, to first order.
    """
    p = {**CARTPOLE, **(params or {})}
    g, mp, l = p["gravity"], p["masspole"], p["length"]
    m = p["masscart"] + mp
    den = l * (4.0 / 3.0 - mp / m)
    a = np.zeros((4, 4))
    a[0, 1] = a[2, 3] = 1.0
    a[3, 2] = g / den
    a[1, 2] = -mp * l * a[3, 2] / m
    b = np.zeros(4)
    b[3] = -1.0 / (m * den)
    b[1] = 1.0 / m - mp * l * b[3] / m
    return a, b


def cartpole_lqr_gain(q=(1.0, 1.0, 10.0, 1.0), r: float = 1.0, params: dict[str, float] | None = None
                      ) -> np.ndarray:
    r"""Gain ``k (4,)`` of the discrete LQR on the Euler-discretised linearisation: the optimal force is
    :math:`-K s`; the bang-bang expert pushes right (action 1) when ``k @ s > 0`` with ``k = -K``.

    Parameters
    ----------
    q : 4 floats
        Diagonal state cost.
    r : float
        Input cost.
    params : dict, optional
        Overrides of :data:`CARTPOLE`.
    """
    from scipy.linalg import solve_discrete_are

    check_nonnegative("q", np.asarray(q, dtype=np.float64))
    if not r > 0:
        raise ValueError(f"r must be > 0, got {r!r}")
    tau = {**CARTPOLE, **(params or {})}["tau"]
    a, b = cartpole_linearisation(params)
    ad = np.eye(4) + tau * a
    bd = (tau * b)[:, None]
    p = solve_discrete_are(ad, bd, np.diag(np.asarray(q, dtype=np.float64)), np.array([[float(r)]]))
    gain = np.linalg.solve(np.array([[float(r)]]) + bd.T @ p @ bd, bd.T @ p @ ad)[0]
    return -gain


class LinearPolicy:
    """``action = 1 if k @ obs + c > 0 else 0``; :meth:`score` is ``k @ obs + c``."""

    def __init__(self, k, c: float = 0.0):
        self.k = np.asarray(k, dtype=np.float64)
        self.c = float(c)

    def score(self, obs) -> float:
        return float(self.k @ np.asarray(obs, dtype=np.float64) + self.c)

    def __call__(self, obs) -> int:
        return int(self.score(obs) > 0.0)

    def reset(self, seed: int | None = None) -> None:
        """Nothing to reset (a stateless policy)."""


# ----------------------------------------------------------------------------- regression
def ridge(x, y, alpha: float) -> np.ndarray:
    r"""Ridge regression :math:`\arg\min_w \|X w - y\|^2 + \alpha \|w\|^2`, ``x (n, d)``, ``y (n,)`` or
    ``(n, m)``; returns ``(d,)`` or ``(d, m)`` (solved with the normal equations)."""
    x = np.asarray(x, dtype=np.float64)
    check_nonnegative("alpha", alpha)
    return np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ np.asarray(y, dtype=np.float64))


def ridge_with_fixed(x, y, alpha: float, fixed: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Ridge regression with the coefficients where ``fixed`` is True held at ``values``: the free ones
    minimise ``|X w - y|^2 + alpha |w_free|^2``.  ``y (n,)`` with ``fixed, values (d,)``, or ``y (n, m)``
    with ``fixed, values (d, m)`` (one fit per column)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    fixed = np.asarray(fixed, dtype=bool)
    w = np.array(values, dtype=np.float64)
    if y.ndim == 2:
        for j in range(y.shape[1]):
            w[:, j] = ridge_with_fixed(x, y[:, j], alpha, fixed[:, j], w[:, j])
        return w
    free = ~fixed
    if np.any(free):
        resid = y - x[:, fixed] @ w[fixed]
        w[free] = ridge(x[:, free], resid, alpha)
    return w


def faults_in_the_loop(x, y, alpha: float, program: Callable[[np.ndarray], np.ndarray], *,
                       tolerance: float, iterations: int = 3, free_last: int = 0) -> tuple[np.ndarray, list[dict]]:
    """Fit ``w`` by ridge, program it, read back what the devices hold, freeze the coefficients the devices
    missed by more than ``tolerance`` at their realised values, refit the others, and repeat.

    Parameters
    ----------
    x : array (n, d)
        Features; the last ``free_last`` rows of ``w`` are digital (never frozen, e.g. a bias).
    y : array (n,) or (n, m)
        Targets (one column per output).
    alpha : float
        Ridge penalty.
    program : callable
        ``program(w) -> realised w`` (same shape; writes the devices and reads them back without read noise).
    tolerance : float
        Largest ``|realised - wanted|`` a coefficient may keep and stay free.
    iterations : int
        Programming rounds after the first (0: program once, no refit).
    free_last : int
        Number of trailing digital coefficients.

    Returns
    -------
    w : ndarray (d,) or (d, m)
        The realised coefficients after the last round.
    history : list of dict
        Per round: ``frozen`` (coefficients held before it), ``missed`` (coefficients off by more than
        ``tolerance`` after it), ``fit_mse`` (training error of the realised coefficients).
    """
    check_int_at_least("iterations", iterations, 0)
    check_nonnegative("tolerance", tolerance)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d = x.shape[1]
    wanted = ridge(x, y, alpha)
    fixed = np.zeros(wanted.shape, dtype=bool)
    history = []
    for it in range(iterations + 1):
        real = np.asarray(program(wanted), dtype=np.float64)
        if real.shape != wanted.shape:
            raise ValueError(f"program returned shape {real.shape}, expected {wanted.shape}")
        miss = np.abs(real - wanted) > tolerance
        if free_last:
            miss[d - free_last:] = False
        history.append({"round": it, "frozen": int(fixed.sum()), "missed": int(miss.sum()),
                        "fit_mse": float(np.mean((x @ real - y) ** 2))})
        if it == iterations:
            return real, history
        fixed |= miss
        wanted = ridge_with_fixed(x, y, alpha, fixed, real)
    raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------------ rollouts
def run_episode(env, policy: Callable[[np.ndarray], int], seed: int, *, on_step: Callable | None = None) -> float:
    """One episode of ``policy`` on ``env`` from ``env.reset(seed=seed)``; returns the return.

    ``policy.reset(seed)`` is called first when the policy has it; ``on_step(obs, action, reward,
    next_obs, terminated)`` after every step (e.g. to deliver a learning signal).
    """
    obs, _ = env.reset(seed=int(seed))
    if hasattr(policy, "reset"):
        policy.reset(int(seed))
    total = 0.0
    while True:
        action = int(policy(obs))
        nxt, r, terminated, truncated, _ = env.step(action)
        total += float(r)
        if on_step is not None:
            on_step(obs, action, float(r), nxt, bool(terminated))
        obs = nxt
        if terminated or truncated:
            return total


def evaluate(make_env: Callable[[], Any], policy: Callable[[np.ndarray], int], episodes: int = 100,
             seed: int = 0) -> np.ndarray:
    """Returns of ``episodes`` episodes, episode ``i`` from ``env.reset(seed=seed + i)``."""
    check_int_at_least("episodes", episodes, 1)
    env = make_env()
    try:
        return np.array([run_episode(env, policy, seed + i) for i in range(episodes)])
    finally:
        if hasattr(env, "close"):
            env.close()


def collect_states(make_env: Callable[[], Any], expert: Callable[[np.ndarray], int], episodes: int, seed: int,
                   *, explore: float = 0.2, max_steps: int = 500) -> np.ndarray:
    """Observations ``(n, obs_dim)`` visited by ``expert`` with exploration: at each step a uniformly random
    action with probability ``explore`` (seeded), so the states around the expert's trajectory are covered."""
    check_int_at_least("episodes", episodes, 1)
    check_probability("explore", explore)
    check_int_at_least("max_steps", max_steps, 1)
    rng = np.random.default_rng([seed, 0xC0])
    env = make_env()
    out = []
    try:
        for ep in range(episodes):
            obs, _ = env.reset(seed=int(seed) + ep)
            for _ in range(max_steps):
                out.append(np.array(obs, dtype=np.float64))
                a = int(expert(obs)) if rng.random() >= explore else int(rng.integers(2))
                obs, _, terminated, truncated, _ = env.step(a)
                if terminated or truncated:
                    break
    finally:
        if hasattr(env, "close"):
            env.close()
    return np.array(out)


def visited_states(make_env: Callable[[], Any], policy: Callable[[np.ndarray], int],
                   label: Callable[[np.ndarray], float], episodes: int, seed: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DAgger's data step (Ross, Gordon & Bagnell, AISTATS 2011, with the mixing weight of the expert 0):
    run ``policy`` for ``episodes`` episodes (episode ``i`` from ``env.reset(seed=seed + i)``, the policy's
    own actions drive the plant, :func:`run_episode`) and label every observation it acted on with the
    expert's ``label(obs)``.

    Returns
    -------
    states : ndarray (n, obs_dim)
        The observations the policy acted on, in order.
    labels : ndarray (n,)
        ``label`` of each.
    returns : ndarray (episodes,)
        The episodes' returns.
    """
    check_int_at_least("episodes", episodes, 1)
    seen: list[np.ndarray] = []

    def record(obs, action, r, nxt, terminated):
        seen.append(np.array(obs, dtype=np.float64))

    env = make_env()
    try:
        returns = np.array([run_episode(env, policy, seed + i, on_step=record) for i in range(episodes)])
    finally:
        if hasattr(env, "close"):
            env.close()
    states = np.array(seen).reshape(len(seen), -1)
    return states, np.array([float(label(s)) for s in states]), returns
