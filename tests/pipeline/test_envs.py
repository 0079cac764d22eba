"""The DVS tracking task and gymnasium plants (classic control restored by replay)."""

from __future__ import annotations

import numpy as np
import pytest
from memr_snn.encoders import emulate_dvs

from memr_snn.pipeline import FunctionStage, Pipeline
from memr_snn.pipeline.envs import TrackingParams, TrackingScene

QUIET = {"width": 8, "height": 8, "sigma": 1.2, "threshold_mismatch": 0.0, "noise_rate": 0.0}


def test_a_still_scene_makes_no_events_and_a_moving_spot_does():
    sc = TrackingScene(speed_std=0.0, **QUIET)
    sc.reset(0)
    obs, *_ = sc.step(np.zeros(2))
    assert obs.shape == (2, 8, 8) and obs.sum() == 0
    sc.vel = np.array([200.0, 0.0])  # the spot moves right: ON events on its right, OFF on its left
    obs, _, _, _, info = sc.step(np.zeros(2))
    on, off = obs[0].sum(axis=0), obs[1].sum(axis=0)
    xs = np.arange(8)
    assert on.sum() > 0 and off.sum() > 0
    assert (on * xs).sum() / on.sum() > (off * xs).sum() / off.sum()
    h, K = sc.params.dt / sc.params.substeps, sc.params.substeps  # trapezoid of the decaying (noise-free OU) velocity
    v = 200.0 * np.exp(-h / sc.params.tau_v) ** np.arange(K + 1)
    moved = float(np.sum(0.5 * (v[:-1] + v[1:]) * h))
    assert info["offset"][0] == pytest.approx(moved, rel=1e-12) and info["error"] == pytest.approx(moved, rel=1e-12)


def test_the_camera_is_the_dvs_emulator():
    """Events of one step equal emulate_dvs of the rendered frames (ideal pixels, no noise)."""
    sc = TrackingScene(speed_std=0.0, substeps=3, **QUIET)
    sc.reset(1)
    frames = [np.exp(sc._log) - 1e-3]
    sc.vel = np.array([150.0, -80.0])
    saved = sc.get_state()
    h = sc.params.dt / 3
    a_v = np.exp(-h / sc.params.tau_v)
    for _ in range(3):  # the same sub-steps the scene takes (OU velocity without noise decays), rendered by hand
        v_new = a_v * sc.vel
        sc.target = sc.target + 0.5 * (sc.vel + v_new) * h
        sc.vel = v_new
        frames.append(np.exp(sc._render(sc.target - sc.eye)) - 1e-3)
    sc.set_state(saved)
    obs, *_ = sc.step(np.zeros(2))
    ev = emulate_dvs(np.stack(frames).reshape(4, 8, 8), np.arange(4) * h, threshold_on=0.2, threshold_off=0.2).events
    want = np.zeros((2, 8, 8))
    np.add.at(want, (1 - ev["p"].astype(int), ev["y"], ev["x"]), 1)
    assert np.array_equal(obs, want)


def test_eye_motor_is_first_order():
    sc = TrackingScene(speed_std=0.0, tau_motor=0.05, **QUIET)
    sc.reset(0)
    for _ in range(10):
        sc.step(np.array([100.0, 0.0]))
    t, tau = 0.1, 0.05  # w(t) = u (1 - e^{-t/tau}); e(t) = u (t - tau (1 - e^{-t/tau}))
    assert sc.eye_vel[0] == pytest.approx(100 * (1 - np.exp(-t / tau)), rel=1e-12)
    assert sc.eye[0] == pytest.approx(100 * (t - tau * (1 - np.exp(-t / tau))), rel=1e-12)


def test_scene_state_round_trip():
    sc = TrackingScene(**{**QUIET, "noise_rate": 1.0, "threshold_mismatch": 0.03})
    sc.reset(5)
    for _ in range(3):
        sc.step(np.array([10.0, -5.0]))
    st = sc.get_state()
    a = [sc.step(np.array([20.0, 0.0]))[0] for _ in range(4)]
    sc.set_state(st)
    b = [sc.step(np.array([20.0, 0.0]))[0] for _ in range(4)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_params_are_validated():
    with pytest.raises(ValueError, match=r"TrackingParams.width = 2 must be an integer in \[4, 512\]"):
        TrackingParams(width=2)
    with pytest.raises(ValueError, match="TrackingParams.tau_motor"):
        TrackingParams(tau_motor=0.0)


def test_gymnasium_registration_and_env_checker():
    gym = pytest.importorskip("gymnasium")
    from gymnasium.utils.env_checker import check_env

    from memr_snn.pipeline.envs import ENV_ID, register_envs

    register_envs()
    register_envs()  # again: no-op
    env = gym.make(ENV_ID, width=8, height=8, max_steps=5)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=3)
    assert obs.shape == (2, 8, 8) and "offset" in info


def test_cartpole_plant_resumes_by_replay(tmp_path):
    pytest.importorskip("gymnasium")
    from memr_snn.pipeline import PlantStage

    def build():
        cart = PlantStage("cart", "CartPole-v1", "ctrl", period=0.02, latency=0.02)
        ctrl = FunctionStage("ctrl", lambda ins: np.array([float(ins["cart"][2] + 0.3 * ins["cart"][3] > 0)]),
                             inputs={"cart": (4,)}, out_shape=(1,), period=0.02)
        return Pipeline([cart, ctrl], dt=0.02, seed=11)

    a = build()
    a.run(300)
    b = build()
    b.run(120)
    b.save(tmp_path / "c.npz")
    c = build()
    c.load(tmp_path / "c.npz")
    c.run(180)
    assert np.array_equal(c.output("cart"), a.output("cart"))
    assert c.stage("cart").rewards == a.stage("cart").rewards and c.stage("cart").returns == a.stage("cart").returns
    assert len(a.stage("cart").rewards) == 300
