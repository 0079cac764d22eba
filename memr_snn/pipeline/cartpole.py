"""The CartPole example: the spiking controller on HfOx RRAM crossbars (``networks/cartpole_controller.py``)
balancing CartPole-v1 (gymnasium) in a :class:`~memr_snn.pipeline.Pipeline` (``docs/pipeline.md``).

Stages of :func:`cartpole_pipeline` (time base ``dt`` = the controller network's step, 1 ms; ``T`` = one
control step = ``window_steps * dt`` = 20 ms, CartPole-v1's plant step):

``controller`` (controller, period T, phase 0, latency T - dt)
    :class:`ControllerStage`: :meth:`SpikingCartPoleController.act` on the latest observation: encode, run the
    network for its ``window_steps`` kernel steps, decide from the action neurons' spike counts; output the
    action ``(1,)`` (0 left, 1 right).  The decision exists at the end of the window's last step, so it is
    visible from step ``T/dt - 1`` on.
``cartpole`` (plant, period T, phase T - dt, latency dt)
    :class:`~memr_snn.pipeline.plant.PlantStage` of ``CartPole-v1``: applies the action at the window's last
    step; the new observation is visible one step later, at the start of the next window.

So sense -> decide -> act takes exactly one control step, and the run equals the plain loop
``obs -> controller.act(obs) -> env.step(action)`` of :func:`memr_snn.learning.control.run_episode` (tested).
With ``episode_seed`` the plant resets episode ``i`` with ``episode_seed + i``, the episodes of
:func:`memr_snn.learning.control.evaluate`.

Accounting (:meth:`ControllerStage.counters`, since the stage's reset): ``energy_J`` is the controller's
:attr:`~SpikingCartPoleController.energy_j` (synops x ``e_synop``, neuron updates x ``e_neuron_update``, device
reads V_read^2 G t_read), split into ``energy_synops_J``, ``energy_neuron_updates_J``, ``energy_device_reads_J``;
``writes`` are the device write pulses (programming and learning) during the run, priced in
``energy_device_writes_J``.  Training is not part of the run: :func:`trained_controller` trains offline by
imitation of the LQR expert with faults in the loop and DAgger rounds (``networks.cartpole_training.train_offline``)
and keeps the trained state per training setting for the rest of the process.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from .pipeline import Pipeline
from .report import format_mean_std as ms_
from .report import mean_std
from .stage import StageBase

__all__ = ["CartPoleConfig", "ControllerStage", "cartpole_pipeline", "trained_controller", "run_episodes",
           "evaluate_cartpole", "cartpole_markdown", "ENERGY_PARTS"]

#: the controller's energy parts (:meth:`SpikingCartPoleController.energy_parts`) in the counters
ENERGY_PARTS = ("synops", "neuron_updates", "device_reads", "device_writes")


@dataclasses.dataclass(frozen=True)
class CartPoleConfig:
    """Settings of the CartPole example (module docstring)."""

    episodes: int = 100
    """Evaluation episodes per seed."""
    preset: str = "hfox_rram"
    """Device preset of the readout crossbar (``"float"``: float weights)."""
    train_episodes: int = 30
    """Expert rollouts of the offline imitation."""
    dagger_rounds: int = 3
    """DAgger rounds after the first fit (``networks.cartpole_training.train_offline``; 0: none)."""
    dagger_episodes: int = 10
    """Controller episodes per DAgger round."""

    def __post_init__(self) -> None:
        for k in ("episodes", "train_episodes", "dagger_rounds", "dagger_episodes"):
            v = getattr(self, k)
            low = 0 if k == "dagger_rounds" else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{k} must be an integer >= {low}, got {v!r} (--{k.replace('_', '-')})")


class ControllerStage(StageBase):
    """A :class:`~memr_snn.networks.cartpole_controller.SpikingCartPoleController` as a pipeline stage.

    Parameters
    ----------
    name : str
    controller : SpikingCartPoleController
        The controller (trained or not); the stage keeps its state at construction and restores it at every
        :meth:`reset`, so a pipeline reset runs the same controller again.
    source : str
        The plant stage whose output is the observation ``(4,)``.
    period, latency, phase : float, optional
        Default: period = one control step (``window_steps * dt``), latency = period - ``dt``, phase 0.
    """

    def __init__(self, name: str, controller, source: str, *, period: float | None = None,
                 latency: float | None = None, phase: float = 0.0) -> None:
        cfg = controller.config
        T = cfg.window_steps * cfg.dt
        super().__init__(name, "controller", period=T if period is None else period,
                         latency=T - cfg.dt if latency is None else latency, phase=phase,
                         inputs={source: (4,)}, out_shape=(1,))
        self.controller = controller
        self.source = source
        self._initial = controller.state()

    def reset(self, seed):
        """Restore the controller's state at construction (the controller draws nothing from ``seed``: its
        read noise comes from its own network seed); clear the action log and the counters' baseline."""
        self.controller.load_state(self._initial)
        self.controller.reset(int(seed))
        self.actions: list[int] = []
        self._base = self._totals()
        return np.zeros(1)

    def _totals(self) -> dict[str, float]:
        c = self.controller
        out = {f"energy_{k}_J": v for k, v in c.energy_parts().items()}
        out.update(energy_J=float(c.energy_j), writes=float(c.device_writes), synops=float(c.synops),
                   spikes=float(c.spikes), control_steps=float(c.steps))
        return out

    def step(self, inputs):
        a = self.controller.act(inputs[self.source])
        self.actions.append(a)
        return np.array([float(a)])

    def state(self):
        return {"controller": self.controller.state(), "actions": np.asarray(self.actions, dtype=np.int64),
                "base": dict(self._base)}

    def load_state(self, state):
        self.controller.load_state(state["controller"])
        self.actions = [int(a) for a in np.asarray(state["actions"])]
        self._base = {k: float(v) for k, v in state["base"].items()}

    def counters(self):
        now = self._totals()
        return {k: now[k] - self._base[k] for k in now}


def cartpole_pipeline(controller, seed: int = 0, episode_seed: int | None = None) -> Pipeline:
    """The controller and the CartPole-v1 plant on one time base (module docstring)."""
    cfg = controller.config
    T = cfg.window_steps * cfg.dt
    ctrl = ControllerStage("controller", controller, "cartpole")
    plant = _plant_stage(T, cfg.dt, episode_seed)
    return Pipeline([ctrl, plant], dt=cfg.dt, seed=seed)


def _plant_stage(T: float, dt: float, episode_seed: int | None):
    from .plant import PlantStage

    return PlantStage("cartpole", "CartPole-v1", "controller", period=T, phase=T - dt, latency=dt,
                      episode_seed=episode_seed)


def run_episodes(pipe: Pipeline, episodes: int) -> np.ndarray:
    """Run ``pipe`` control step by control step until its plant finished ``episodes`` more episodes; returns
    the returns of those episodes."""
    plant = pipe.stage("cartpole")
    if not pipe._started:
        pipe.reset()
    n0 = len(plant.returns)
    T = pipe.schedule.period["cartpole"]
    while len(plant.returns) < n0 + episodes:
        pipe.run(T)
    return np.asarray(plant.returns[n0:n0 + episodes], dtype=np.float64)


def _crossbar(preset: str):
    from ..devices import Crossbar

    return None if preset == "float" else Crossbar(preset=preset, encoding="differential", program="verify")


def _energy():
    from ..hardware import load_profile
    from ..networks.cartpole_controller import ControllerEnergy

    return ControllerEnergy.from_profile(load_profile("loihi1"))


@functools.lru_cache(maxsize=16)
def _trained(seed: int, preset: str, train_episodes: int, dagger_rounds: int, dagger_episodes: int):
    from ..networks.cartpole_training import train_offline
    from .plant import _gym

    gym = _gym()
    res = train_offline(lambda: gym.make("CartPole-v1"), device=_crossbar(preset), seed=seed, energy=_energy(),
                        episodes=train_episodes, dagger_rounds=dagger_rounds, dagger_episodes=dagger_episodes)
    info = {"train_states": res.n_states, "train_agreement": res.train_agreement,
            "programming_writes": res.programming_writes, "faults_in_the_loop": res.history,
            "dagger": res.dagger}
    return res.controller.state(), info


def trained_controller(seed: int, preset: str = "hfox_rram", train_episodes: int = 30, dagger_rounds: int = 3,
                       dagger_episodes: int = 10):
    """A controller trained offline for ``seed`` (module docstring) and the training's summary.

    The trained state is kept per ``(seed, preset, train_episodes, dagger_rounds, dagger_episodes)`` for the
    rest of the process, so a second call returns a fresh controller in the same state without training
    again."""
    from ..networks.cartpole_controller import SpikingCartPoleController

    state, info = _trained(int(seed), str(preset), int(train_episodes), int(dagger_rounds), int(dagger_episodes))
    from ..networks.cartpole_controller import ControllerConfig

    n_in = ControllerConfig().encoding.n_channels
    ctrl = SpikingCartPoleController(np.zeros((2, n_in)), np.zeros(2), device=_crossbar(preset), energy=_energy(),
                                     seed=int(seed))
    ctrl.load_state(state)
    return ctrl, dict(info)


def evaluate_cartpole(seeds=(0, 1, 2), cfg: CartPoleConfig = CartPoleConfig(), progress: bool | None = None) -> dict:
    """Train (offline, cached) and evaluate the controller through the pipeline on each seed.

    Episode ``i`` of seed ``s`` starts from ``env.reset(seed=10_000 + 1000 s + i)`` (as
    ``examples/cartpole_snn.py``).

    Returns
    -------
    dict
        ``per_seed``: mean, std and min return, the energy per control step by stage and by part of the
        controller [J], device writes during the run, the overhead fraction, the CPU per control step [s],
        the training summary and the :func:`~memr_snn.pipeline.report.pipeline_report`; ``summary``: mean and
        std over the seeds; ``config``.
    """
    from ..progress import ProgressBar
    from .report import pipeline_report

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    per_seed = []
    bar = ProgressBar(len(seeds), desc="cartpole seeds", enabled=progress)
    try:
        for s in seeds:
            ctrl, info = trained_controller(s, cfg.preset, cfg.train_episodes, cfg.dagger_rounds,
                                            cfg.dagger_episodes)
            pipe = cartpole_pipeline(ctrl, seed=s, episode_seed=10_000 + 1000 * s)
            returns = run_episodes(pipe, cfg.episodes)
            rep = pipeline_report(pipe)
            c = pipe.counters()["controller"]
            n_ctrl = max(int(c["control_steps"]), 1)
            per_seed.append({
                "seed": s, "mean_return": float(returns.mean()), "std_return": float(returns.std()),
                "min_return": float(returns.min()), "returns": returns.tolist(),
                "energy_per_control_step_J": {r["name"]: r["energy_J"] / n_ctrl for r in rep["stages"]},
                "controller_energy_per_control_step_J": {k: c[f"energy_{k}_J"] / n_ctrl for k in ENERGY_PARTS},
                "writes": rep["writes"], "overhead_fraction": rep["overhead_fraction"],
                "cpu_s_per_control_step": rep["cpu_s"] / n_ctrl, "control_steps": n_ctrl, "training": info,
                "report": rep, "pipeline": pipe})
            bar.update(1)
    finally:
        bar.close()
    summary = {k: mean_std([r[k] for r in per_seed]) for k in ("mean_return", "min_return", "overhead_fraction",
                                                                 "cpu_s_per_control_step", "writes")}
    summary["energy_per_control_step_J"] = {n: mean_std([r["energy_per_control_step_J"][n] for r in per_seed])
                                            for n in per_seed[0]["energy_per_control_step_J"]}
    summary["energy_per_control_step_J"]["total"] = mean_std(
        [sum(r["energy_per_control_step_J"].values()) for r in per_seed])
    summary["controller_energy_per_control_step_J"] = {
        k: mean_std([r["controller_energy_per_control_step_J"][k] for r in per_seed]) for k in ENERGY_PARTS}
    return {"seeds": seeds, "config": dataclasses.asdict(cfg), "per_seed": per_seed, "summary": summary}


def cartpole_markdown(res: dict) -> str:
    """Tables of :func:`evaluate_cartpole`: returns per seed, energy per control step by stage and by part."""
    s = res["summary"]

    rows = ["| seed | mean return | min return | overhead | writes | programming writes (training) |",
            "|---|---|---|---|---|---|"]
    rows += [f"| {r['seed']} | {r['mean_return']:.1f} ± {r['std_return']:.1f} | {r['min_return']:.0f} | "
             f"{100 * r['overhead_fraction']:.1f} % | {r['writes']:g} | {r['training']['programming_writes']} |"
             for r in res["per_seed"]]
    rows.append(f"| mean ± std | {ms_(s['mean_return'], fmt='.1f')} | {ms_(s['min_return'], fmt='.0f')} | "
                f"{ms_(s['overhead_fraction'], 100, '.2g')} % | {ms_(s['writes'])} | |")
    e = ["", "| stage | energy per control step [nJ] (mean ± std) |", "|---|---|"]
    e += [f"| {n} | {ms_(d, 1e9)} |" for n, d in s["energy_per_control_step_J"].items()]
    e += ["", "| controller part | energy per control step [nJ] (mean ± std) |", "|---|---|"]
    e += [f"| {k} | {ms_(d, 1e9)} |" for k, d in s["controller_energy_per_control_step_J"].items()]
    e += ["", f"CPU per control step: {ms_(s['cpu_s_per_control_step'], 1e3)} ms."]
    return "\n".join(rows + e)
