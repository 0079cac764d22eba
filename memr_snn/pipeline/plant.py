"""A plant stage: a gymnasium environment (``pip install 'memr_snn[control]'``) stepped once per firing.

The stage's output is the observation (as float64); its input is the action.  ``reset(seed)`` draws the
first episode's seed from ``seed`` and returns the first observation (what readers see before the plant's
first firing is visible); with ``episode_seed`` given, episode ``i`` is instead reset with ``episode_seed + i``
(the episodes of :func:`memr_snn.learning.control.evaluate`).
When an episode ends (terminated or truncated) the plant records its return and
starts the next episode with the next seed of its own generator, so a run is a sequence of episodes.

Actions: for a :class:`gymnasium.spaces.Box` the input is clipped to the bounds; for a
:class:`gymnasium.spaces.Discrete` space of ``n`` actions the input is either one value (rounded, clipped
to ``0 .. n-1``) or ``n`` scores (argmax).  ``action_fn`` replaces this mapping.

Checkpoints: an environment whose unwrapped object has ``get_state()``/``set_state(state)`` (the DVS tracking
environment of :mod:`.envs`) is saved by them; any other environment is restored by *replay*: the state holds
the episode's seed and the actions taken since its reset, and ``load_state`` resets with that seed and
steps the actions again (exact for deterministic environments such as the classic-control tasks).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._extras import require
from .stage import StageBase

__all__ = ["PlantStage"]


def _gym():
    return require("control", "gymnasium", "a gymnasium plant")


class PlantStage(StageBase):
    """A gymnasium environment as a pipeline stage (module docstring).

    Parameters
    ----------
    name : str
    env : gymnasium.Env or str
        An environment, or an id for :func:`gymnasium.make` (``"CartPole-v1"``, ``"memr_snn/DVSTracking-v0"``).
    action_source : str
        The stage whose output is the action.
    period, latency : float
        Control period and the latency of the observation [s].
    action_shape : tuple of int, optional
        Shape the action source must have (default: the action space's shape, ``(1,)`` for Discrete).
    action_fn : callable, optional
        ``action_fn(x) -> action`` replacing the default mapping.
    record_info : sequence of str
        Keys of the ``info`` dict recorded every step (:attr:`records`), e.g. ``("error",)``.
    episode_seed : int, optional
        Seed of the first episode; episode ``i`` gets ``episode_seed + i`` (default: drawn from the stage's seed).
    """

    def __init__(self, name: str, env, action_source: str, *, period: float, latency: float = 0.0, phase: float = 0.0,
                 action_shape=None, action_fn: Callable | None = None, record_info=(), episode_seed: int | None = None,
                 **make_kwargs) -> None:
        gym = _gym()
        if isinstance(env, str):
            from .envs import register_envs

            register_envs()
            env = gym.make(env, **make_kwargs)
        self.env = env
        space = env.action_space
        self._discrete = isinstance(space, gym.spaces.Discrete)
        if action_shape is None:
            action_shape = (1,) if self._discrete else tuple(space.shape)
        obs_shape = tuple(env.observation_space.shape)
        super().__init__(name, "plant", period=period, latency=latency, phase=phase,
                         inputs={action_source: action_shape}, out_shape=obs_shape)
        self.action_source = action_source
        self.action_fn = action_fn
        self.record_info = tuple(record_info)
        bad = isinstance(episode_seed, bool) or not isinstance(episode_seed, (int, np.integer)) or episode_seed < 0
        if episode_seed is not None and bad:
            raise ValueError(f"stage {name!r}: episode_seed must be an integer >= 0 or None, got {episode_seed!r}")
        self.episode_seed = None if episode_seed is None else int(episode_seed)
        self._stateful = hasattr(env.unwrapped, "get_state") and hasattr(env.unwrapped, "set_state")

    def _action(self, x: np.ndarray):
        if self.action_fn is not None:
            return self.action_fn(x)
        space = self.env.action_space
        if self._discrete:
            x = np.asarray(x, dtype=np.float64).reshape(-1)
            k = int(np.argmax(x)) if x.size == space.n and space.n > 1 else int(np.rint(x[0]))
            return int(np.clip(k, 0, space.n - 1)) + int(space.start)
        return np.clip(np.asarray(x, dtype=space.dtype).reshape(space.shape), space.low, space.high)

    def _new_episode(self) -> np.ndarray:
        if self.episode_seed is None:
            self._episode_seed = int(self._rng.integers(2**31))
        else:
            self._episode_seed = self.episode_seed + len(self.returns)
        obs, _ = self.env.reset(seed=self._episode_seed)
        self._actions: list = []
        self._episode_return = 0.0
        self._episode_len = 0
        return np.asarray(obs, dtype=np.float64)

    def reset(self, seed):
        self._rng = np.random.default_rng(seed)
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.rewards: list[float] = []
        self.records: dict[str, list] = {k: [] for k in self.record_info}
        return self._new_episode()

    def step(self, inputs):
        a = self._action(inputs[self.action_source])
        obs, r, term, trunc, info = self.env.step(a)
        if not self._stateful:
            self._actions.append(a.tolist() if isinstance(a, np.ndarray) else a)
        self._episode_return += float(r)
        self._episode_len += 1
        self.rewards.append(float(r))
        for k in self.record_info:
            self.records[k].append(np.asarray(info[k], dtype=np.float64).tolist())
        if term or trunc:
            self.returns.append(self._episode_return)
            self.lengths.append(self._episode_len)
            return self._new_episode()
        return np.asarray(obs, dtype=np.float64)

    def state(self):
        out = {"rng": self._rng.bit_generator.state, "episode_seed": self._episode_seed,
               "episode_return": self._episode_return, "episode_len": self._episode_len,
               "returns": list(self.returns), "lengths": list(self.lengths),
               "rewards": np.asarray(self.rewards, dtype=np.float64),
               "records": {k: np.asarray(v, dtype=np.float64) for k, v in self.records.items()}}
        if self._stateful:
            out["env"] = self.env.unwrapped.get_state()
        else:
            out["actions"] = np.asarray(self._actions, dtype=np.float64)
        return out

    def load_state(self, state):
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = state["rng"]
        self._episode_seed = int(state["episode_seed"])
        self.env.reset(seed=self._episode_seed)
        if self._stateful:
            self.env.unwrapped.set_state(state["env"])
            self._actions = []
        else:
            acts = np.asarray(state["actions"])
            self._actions = []
            for a in acts:
                act = int(a) if self._discrete else np.asarray(a, dtype=self.env.action_space.dtype)
                self.env.step(act)
                self._actions.append(act.tolist() if isinstance(act, np.ndarray) else act)
        self._episode_return = float(state["episode_return"])
        self._episode_len = int(state["episode_len"])
        self.returns = [float(v) for v in state["returns"]]
        self.lengths = [int(v) for v in state["lengths"]]
        self.rewards = np.asarray(state["rewards"], dtype=np.float64).tolist()
        self.records = {k: np.asarray(v).tolist() for k, v in state["records"].items()}

    def counters(self):
        return {"episodes": float(len(self.returns)), "steps": float(len(self.rewards))}
