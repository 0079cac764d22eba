r"""The DVS tracking task: a bright target moving in a 2-D scene, seen through an emulated event camera on a
pan-tilt eye that must keep it centred.  Registered with gymnasium as ``memr_snn/DVSTracking-v0``.

Scene and plant (positions in sensor pixels, time in seconds)
-------------------------------------------------------------
* the **target** moves with an Ornstein-Uhlenbeck velocity: :math:`dv = -v\,dt/\tau_v + \sigma_v\sqrt{2/\tau_v}\,dW`
  per axis (stationary speed standard deviation ``speed_std``, correlation time ``tau_v``), position
  :math:`\dot p = v`;
* the **eye** (pan-tilt) has a first-order motor: its velocity :math:`w` follows the command
  :math:`u` (the action, clipped to ``+-u_max``) with time constant ``tau_motor``,
  :math:`\dot w = (u - w)/\tau_m`, :math:`\dot e = w` (integrated exactly over each sub-step);
* the **sensor** (``width x height`` pixels) looks at the scene around the eye; it sees the target as a
  Gaussian spot of contrast ``contrast`` and width ``sigma`` on a uniform background ``background``, at the
  offset :math:`d = p - e` from its centre;
* the **event camera**: every step of ``dt`` is rendered as ``substeps`` frames and turned into ON/OFF events
  by the DVS pixel model of :mod:`memr_snn.encoders.dvs` (its kernel :func:`~memr_snn.encoders.dvs.dvs_kernel`,
  with the pixels' reference levels carried from step to step), with per-pixel threshold mismatch
  ``threshold_mismatch`` (drawn at reset) and shot noise ``noise_rate`` [Hz per pixel].

Observation: the events of the last step, counted per pixel and polarity, ``(2, height, width)`` float32
(ON then OFF).  Action: eye velocity command ``(2,)`` [pixels/s].  Reward: :math:`-|d|\,dt`.  ``info``:
``offset`` (:math:`d`, the ground truth), ``error`` (:math:`|d|`), ``target``, ``eye``.  Episodes are truncated
after ``max_steps`` steps.

The physics and the camera are the plain class :class:`TrackingScene` (no gymnasium needed);
:func:`make_tracking_env` wraps it as a :class:`gymnasium.Env` (the ``control`` extra).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._extras import require
from ..encoders.dvs import dvs_kernel

__all__ = ["TrackingParams", "TrackingScene", "make_tracking_env", "register_envs", "ENV_ID"]

#: gymnasium id of the DVS tracking task
ENV_ID = "memr_snn/DVSTracking-v0"


@dataclasses.dataclass(frozen=True)
class TrackingParams:
    """Parameters of the tracking task (module docstring)."""

    width: int = 32
    """Sensor width [pixels] (4 .. 512)."""
    height: int = 32
    """Sensor height [pixels] (4 .. 512)."""
    dt: float = 0.01
    """Control step [s] (> 0)."""
    substeps: int = 4
    """Frames rendered per step for the event camera (1 .. 100)."""
    sigma: float = 2.0
    """Width of the target spot [pixels] (> 0)."""
    contrast: float = 1.0
    """Peak intensity of the spot above the background (> 0)."""
    background: float = 0.1
    """Background intensity (> 0)."""
    speed_std: float = 60.0
    """Stationary standard deviation of the target speed per axis [pixels/s] (>= 0)."""
    tau_v: float = 0.3
    """Correlation time of the target velocity [s] (> 0)."""
    tau_motor: float = 0.05
    """Time constant of the eye motor [s] (> 0)."""
    u_max: float = 300.0
    """Largest eye velocity command [pixels/s] (> 0)."""
    threshold: float = 0.2
    """DVS contrast threshold, ON and OFF [ln units] (> 0)."""
    threshold_mismatch: float = 0.02
    """Pixel-to-pixel standard deviation of the thresholds [ln units] (>= 0)."""
    noise_rate: float = 0.2
    """DVS shot-noise events per pixel [Hz] (>= 0)."""
    max_steps: int = 500
    """Steps per episode (>= 1)."""

    def __post_init__(self):
        for k, lo, hi in (("width", 4, 512), ("height", 4, 512), ("substeps", 1, 100), ("max_steps", 1, 10**9)):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise ValueError(f"TrackingParams.{k} = {v!r} must be an integer in [{lo}, {hi}]")
        for k in ("dt", "sigma", "contrast", "background", "tau_v", "tau_motor", "u_max", "threshold"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"TrackingParams.{k} = {v!r} must be a finite number > 0")
        for k in ("speed_std", "threshold_mismatch", "noise_rate"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"TrackingParams.{k} = {v!r} must be a finite number >= 0")


class TrackingScene:
    """Physics and event camera of the tracking task, without gymnasium (module docstring).

    Parameters
    ----------
    params : TrackingParams, optional
    **overrides
        Fields of :class:`TrackingParams` to replace.
    """

    def __init__(self, params: TrackingParams | None = None, **overrides) -> None:
        self.params = dataclasses.replace(params or TrackingParams(), **overrides)
        p = self.params
        self.obs_shape = (2, p.height, p.width)
        ys, xs = np.mgrid[0:p.height, 0:p.width]
        self._xs = (xs - (p.width - 1) / 2.0).ravel().astype(np.float64)
        self._ys = (ys - (p.height - 1) / 2.0).ravel().astype(np.float64)
        self.reset(0)

    # -- physics ----------------------------------------------------------------------------------------
    def _render(self, d: np.ndarray) -> np.ndarray:
        p = self.params
        r2 = (self._xs - d[0]) ** 2 + (self._ys - d[1]) ** 2
        return np.log(p.background + p.contrast * np.exp(-r2 / (2 * p.sigma**2)) + 1e-3)

    def reset(self, seed: int | None) -> tuple[np.ndarray, dict]:
        """Start an episode: target at the centre with a random velocity, eye at rest; returns ``(obs, info)``."""
        p = self.params
        self._rng = np.random.default_rng(seed)
        n_pix = p.width * p.height
        self.target = np.zeros(2)
        self.vel = self._rng.normal(0.0, p.speed_std, 2)
        self.eye = np.zeros(2)
        self.eye_vel = np.zeros(2)
        self.theta = np.maximum(p.threshold + p.threshold_mismatch * self._rng.standard_normal((2, n_pix)), 0.01)
        self._log = self._render(self.target - self.eye)
        self._ref = self._log.copy()
        self._last = np.full(n_pix, -np.inf)
        self.t = 0.0
        self.steps = 0
        return np.zeros(self.obs_shape, dtype=np.float32), self._info()

    def _info(self) -> dict:
        d = self.target - self.eye
        return {"offset": d.copy(), "error": float(np.hypot(d[0], d[1])), "target": self.target.copy(),
                "eye": self.eye.copy()}

    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Apply the eye command for one step; returns ``(obs, reward, terminated, truncated, info)``."""
        p = self.params
        u = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -p.u_max, p.u_max)
        h = p.dt / p.substeps
        a_v = math.exp(-h / p.tau_v)
        s_v = p.speed_std * math.sqrt(1.0 - a_v**2)
        a_m = math.exp(-h / p.tau_motor)
        frames = [self._log]
        for _ in range(p.substeps):
            # target: exact OU velocity update, position by the trapezoid of the velocity
            v_new = a_v * self.vel + s_v * self._rng.standard_normal(2)
            self.target = self.target + 0.5 * (self.vel + v_new) * h
            self.vel = v_new
            # eye: exact first-order motor with constant command over the sub-step
            w0 = self.eye_vel
            self.eye = self.eye + u * h + (w0 - u) * p.tau_motor * (1.0 - a_m)
            self.eye_vel = u + (w0 - u) * a_m
            frames.append(self._render(self.target - self.eye))
        logf = np.stack(frames)
        times = self.t * 1e6 + np.arange(p.substeps + 1) * h * 1e6
        n_pix = logf.shape[1]
        drift = np.zeros(n_pix)
        th_on, th_off = self.theta
        n = dvs_kernel(logf, times, self._ref.copy(), self._last.copy(), th_on, th_off, drift, 0.0,
                       np.empty(0), np.empty(0, np.int64), np.empty(0, np.int8), False)  # count, then write
        out_t, out_pix, out_p = np.empty(n), np.empty(n, np.int64), np.empty(n, np.int8)
        dvs_kernel(logf, times, self._ref, self._last, th_on, th_off, drift, 0.0, out_t, out_pix, out_p, True)
        slot = (1 - out_p.astype(np.int64)) * n_pix + out_pix  # ON (p = 1) first, then OFF
        counts = np.bincount(slot, minlength=2 * n_pix).astype(np.float32)
        if p.noise_rate > 0:
            counts += self._rng.poisson(p.noise_rate * p.dt, 2 * n_pix).astype(np.float32)
        self._log = logf[-1]
        self.t += p.dt
        self.steps += 1
        info = self._info()
        return counts.reshape(self.obs_shape), -info["error"] * p.dt, False, self.steps >= p.max_steps, info

    # -- checkpoints ------------------------------------------------------------------------------------
    def get_state(self) -> dict:
        """Everything :meth:`set_state` needs to continue bit for bit."""
        return {"rng": self._rng.bit_generator.state, "target": self.target.copy(), "vel": self.vel.copy(),
                "eye": self.eye.copy(), "eye_vel": self.eye_vel.copy(), "theta": self.theta.copy(),
                "log": self._log.copy(), "ref": self._ref.copy(), "last": self._last.copy(), "t": self.t,
                "steps": self.steps}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`."""
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = state["rng"]
        for k in ("target", "vel", "eye", "eye_vel", "theta"):
            setattr(self, k, np.asarray(state[k], dtype=np.float64).copy())
        self._log = np.asarray(state["log"], dtype=np.float64).copy()
        self._ref = np.asarray(state["ref"], dtype=np.float64).copy()
        self._last = np.asarray(state["last"], dtype=np.float64).copy()
        self.t = float(state["t"])
        self.steps = int(state["steps"])


_ENV_CLASS = None


def _env_class():
    """The gymnasium.Env subclass, built on first use (gymnasium is optional)."""
    global _ENV_CLASS
    if _ENV_CLASS is None:
        gym = require("control", "gymnasium", "the DVS tracking environment")

        class DVSTrackingEnv(gym.Env):
            """Gymnasium face of :class:`TrackingScene` (``memr_snn.pipeline.envs``)."""

            metadata = {"render_modes": []}

            def __init__(self, params: TrackingParams | None = None, **overrides):
                self.scene = TrackingScene(params, **overrides)
                p = self.scene.params
                self.observation_space = gym.spaces.Box(0.0, np.inf, self.scene.obs_shape, dtype=np.float32)
                self.action_space = gym.spaces.Box(-p.u_max, p.u_max, (2,), dtype=np.float64)

            def reset(self, *, seed=None, options=None):
                super().reset(seed=seed)
                if seed is None:
                    seed = int(self.np_random.integers(2**31))
                return self.scene.reset(seed)

            def step(self, action):
                return self.scene.step(action)

            def get_state(self) -> dict:
                return self.scene.get_state()

            def set_state(self, state: dict) -> None:
                self.scene.set_state(state)

        _ENV_CLASS = DVSTrackingEnv
    return _ENV_CLASS


def make_tracking_env(params: TrackingParams | None = None, **overrides):
    """A :class:`gymnasium.Env` of the tracking task (the entry point of ``memr_snn/DVSTracking-v0``)."""
    return _env_class()(params, **overrides)


def register_envs() -> None:
    """Register ``memr_snn/DVSTracking-v0`` with gymnasium (again: no-op)."""
    gym = require("control", "gymnasium", "the DVS tracking environment")
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="memr_snn.pipeline.envs:make_tracking_env")
