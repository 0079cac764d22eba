"""The CartPole pipeline (memr_snn.pipeline.cartpole): the spiking controller stage in a pipeline equals the plain
gymnasium loop, checkpoints resume bit for bit, the schedule gives one control step per 20 ms window."""

from __future__ import annotations

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

from memr_snn.networks.cartpole_controller import SpikingCartPoleController  # noqa: E402

from memr_snn.devices import Crossbar  # noqa: E402
from memr_snn.learning.control import run_episode  # noqa: E402
from memr_snn.pipeline.cartpole import cartpole_pipeline, run_episodes  # noqa: E402


def _controller(seed=3):
    # a hand policy "push towards the side the pole falls to", on HfOx devices (read noise drawn by the kernel):
    # theta fields (20..29) and omega fields (30..39) drive "right" above the centre, "left" below
    w = np.zeros((2, 40))
    w[1, 25:30] = w[1, 35:40] = 1.5e-9
    w[0, 20:25] = w[0, 30:35] = 1.5e-9
    xb = Crossbar(preset="hfox_rram", encoding="differential", program="verify")
    return SpikingCartPoleController(w, np.zeros(2), device=xb, seed=seed)


class _Logged:
    def __init__(self, ctrl):
        self.ctrl, self.actions = ctrl, []

    def reset(self, seed):
        self.ctrl.reset(seed)

    def __call__(self, obs):
        a = self.ctrl.act(obs)
        self.actions.append(a)
        return a


def test_pipeline_equals_plain_gymnasium_loop():
    n_ep, base = 3, 500
    pipe = cartpole_pipeline(_controller(), seed=7, episode_seed=base)
    returns = run_episodes(pipe, n_ep)
    plain = _Logged(_controller())
    env = gym.make("CartPole-v1")
    ref = [run_episode(env, plain, base + i) for i in range(n_ep)]
    np.testing.assert_array_equal(returns, ref)
    acts = pipe.stage("controller").actions
    assert acts[:len(plain.actions)] == plain.actions
    assert len(set(plain.actions)) == 2  # both actions taken: the comparison is not trivial
    assert 9 < np.mean(ref) < 500
    # one control step per 20 ms: the plant fired once per controller firing
    c = pipe.counters()
    assert c["controller"]["control_steps"] == c["cartpole"]["steps"] == len(acts)
    assert c["controller"]["energy_device_reads_J"] > 0


def test_schedule_one_control_step_per_window():
    pipe = cartpole_pipeline(_controller(), seed=0)
    sch = pipe.schedule
    assert sch.period["controller"] == sch.period["cartpole"] == 20
    pipe.run(40)
    assert list(pipe.firings) == [2, 2]


def test_checkpoint_resume_bit_identical(tmp_path):
    a = cartpole_pipeline(_controller(), seed=1, episode_seed=40)
    a.run(20 * 30)
    a.save(tmp_path / "cp.npz")
    a.run(20 * 50)
    b = cartpole_pipeline(_controller(), seed=1, episode_seed=40)
    b.load(tmp_path / "cp.npz")
    b.run(20 * 50)
    assert a.stage("controller").actions == b.stage("controller").actions
    assert a.stage("cartpole").returns == b.stage("cartpole").returns
    np.testing.assert_array_equal(a.output("cartpole"), b.output("cartpole"))
    ca, cb = a.counters(), b.counters()
    assert ca == cb
