"""CartPole-v1 balanced by a spiking controller whose synapses are HfOx RRAM devices.

Per seed: the controller (networks/cartpole_controller.py: 40 population-coded encoder neurons, two
action neurons, readout on a differential crossbar of the ``hfox_rram`` preset, program-and-verify) is
trained offline by imitation of an LQR expert with faults in the loop and DAgger rounds (the programmed
controller's own states, labelled by the expert, join the training set), evaluated on 100 episodes,
then trained online with reward-modulated STDP on the devices for ``--online`` episodes and evaluated
again (learning frozen: reward 0).  Energy per control step: SynOps x 23.6 pJ and neuron updates x
81 pJ (Loihi, Davies et al. 2018: ``memr_snn.hardware.load_profile("loihi1")``) plus the devices' read
energy (V_read^2 G t_read, preset values); device writes and the projected lifetime from the device
report.

Every evaluation runs through ``memr_snn.pipeline`` (``memr_snn.pipeline.cartpole``): the controller as a
stage (period 20 ms, latency 19 ms) and the CartPole-v1 plant (acts at the window's last millisecond, its
observation visible 1 ms later), with the pipeline's per-stage CPU accounting; the same run without the
training modes: ``memr-snn pipeline run cartpole --seeds 0 1 2``.

Run:  python examples/cartpole_snn.py --seeds 0 1 2 [--episodes 100] [--online 20] [--dagger-rounds 3]
      [--json out.json]
Needs gymnasium:  pip install 'gymnasium>=1.0'
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
from memr_snn.networks.cartpole_controller import ControllerEnergy, SpikingCartPoleController
from memr_snn.networks.cartpole_training import rstdp_rule, train_offline, train_online_imitation, train_rstdp

from memr_snn.devices import Crossbar, device_report, load_preset
from memr_snn.hardware import load_profile
from memr_snn.pipeline.cartpole import cartpole_pipeline, run_episodes
from memr_snn.pipeline.report import pipeline_report


def make_env_factory():
    try:
        import gymnasium
    except ImportError:
        raise SystemExit("examples/cartpole_snn.py needs gymnasium, which is not installed: "
                         "pip install 'gymnasium>=1.0'") from None
    return lambda: gymnasium.make("CartPole-v1")


def per_step(ctrl, before: dict, steps: int) -> dict:
    parts = ctrl.energy_parts()
    out = {k: (parts[k] - before[k]) / steps for k in parts}
    out["inference"] = out["synops"] + out["neuron_updates"] + out["device_reads"]
    return out


def _evaluate(make_env, ctrl, episodes: int, seed: int) -> dict:
    before, s0, syn0 = ctrl.energy_parts(), ctrl.steps, ctrl.synops
    pipe = cartpole_pipeline(ctrl, seed=seed, episode_seed=10_000 + 1000 * seed)
    returns = run_episodes(pipe, episodes)
    rep = pipeline_report(pipe)
    out = {"mean_return": float(returns.mean()), "std_return": float(returns.std()),
           "min_return": float(returns.min()), "energy_per_step": per_step(ctrl, before, ctrl.steps - s0),
           "synops_per_step": (ctrl.synops - syn0) / (ctrl.steps - s0),
           "pipeline_overhead_fraction": rep["overhead_fraction"],
           "cpu_s_per_control_step": rep["cpu_s"] / (ctrl.steps - s0)}
    rep = device_report(ctrl.net).rows[0] if ctrl.crossbar is not None else None
    out["device_writes"] = ctrl.device_writes
    out["learning_writes"] = ctrl.learning_writes
    out["max_pulses_per_device"] = None if rep is None else rep.pulses_max
    out["faulty_devices"] = None if rep is None else rep.faulty_devices
    return out


def _crossbar(preset: str, **kw):
    return None if preset == "float" else Crossbar(preset=preset, encoding="differential", program="verify", **kw)


def run_seed(make_env, seed: int, episodes: int, online: int, preset: str, learning_rate: float,
             train_episodes: int = 30, modes=("offline", "rstdp", "online"), dagger_rounds: int = 3,
             dagger_episodes: int = 10) -> dict:
    """One seed: ``offline`` (imitation with faults in the loop and DAgger rounds), ``rstdp`` (the offline
    controller, then R-STDP online), ``online`` (online imitation from small random weights, the e-prop
    readout rule)."""
    energy = ControllerEnergy.from_profile(load_profile("loihi1"))
    row = {"seed": seed, "preset": preset}
    if "offline" in modes or "rstdp" in modes:
        t0 = time.process_time()
        rule = (lambda wb: rstdp_rule(wb, learning_rate=learning_rate)) if "rstdp" in modes else None
        res = train_offline(make_env, device=_crossbar(preset), seed=seed, energy=energy, episodes=train_episodes,
                            plasticity=rule, dagger_rounds=dagger_rounds, dagger_episodes=dagger_episodes)
        ctrl = res.controller
        row.update(train_states=res.n_states, train_agreement=res.train_agreement,
                   programming_writes=res.programming_writes, faults_in_the_loop=res.history, dagger=res.dagger)
        row["offline"] = _evaluate(make_env, ctrl, episodes, seed)
        row["offline"]["cpu_s"] = time.process_time() - t0
        if "rstdp" in modes and online:
            t0 = time.process_time()
            w0 = ctrl.weights()
            row["rstdp_training_returns"] = train_rstdp(ctrl, make_env, online, seed=20_000 + 1000 * seed).tolist()
            ctrl.reward(0.0)  # learning frozen for the evaluation
            row["rstdp"] = _evaluate(make_env, ctrl, episodes, seed)
            row["rstdp"]["relative_weight_change"] = float(np.abs(ctrl.weights() - w0).mean() / np.abs(w0).mean())
            row["rstdp"]["lifetime_s"] = _lifetime(ctrl)
            row["rstdp"]["cpu_s"] = time.process_time() - t0
    if "online" in modes and online:
        t0 = time.process_time()
        w_max = 2e-9  # [A]: the scale of the offline fits' largest weights (1-2 nA), fixed before learning
        device = None
        if preset != "float":  # differential pairs move only up: refresh a pair at 90 % of its range
            device = _crossbar(preset, w_max=w_max,
                               device=dataclasses.replace(load_preset(preset).device, refresh=0.9))
        rng = np.random.default_rng([seed, 0x0E])
        ctrl = SpikingCartPoleController(rng.normal(0.0, 0.05 * w_max, (2, 40)), np.zeros(2), device=device,
                                         energy=energy, seed=seed)
        writes0 = ctrl.device_writes
        row["online_training_returns"] = train_online_imitation(
            ctrl, make_env, online, seed=20_000 + 1000 * seed, explore=0.2).tolist()
        row["online"] = _evaluate(make_env, ctrl, episodes, seed)
        row["online"]["initial_programming_writes"] = writes0
        row["online"]["lifetime_s"] = _lifetime(ctrl)
        row["online"]["cpu_s"] = time.process_time() - t0
    return row


def _lifetime(ctrl):
    """Projected lifetime [s] of the worst device under the learning run's wear rate (None: unbounded)."""
    if ctrl.crossbar is None:
        return None
    life = device_report(ctrl.net).rows[0].lifetime
    return None if not np.isfinite(life) else life


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--online", type=int, default=20, help="episodes of online learning (0: none)")
    ap.add_argument("--modes", nargs="+", default=["offline", "rstdp", "online"],
                    choices=["offline", "rstdp", "online"])
    ap.add_argument("--learning-rate", type=float, default=0.02)
    ap.add_argument("--train-episodes", type=int, default=30, help="expert rollouts for the imitation")
    ap.add_argument("--dagger-rounds", type=int, default=3,
                    help="DAgger rounds after the first fit (the programmed controller's visited states, labelled by "
                         "the expert, join the training set; 0: none)")
    ap.add_argument("--dagger-episodes", type=int, default=10, help="controller episodes per DAgger round")
    ap.add_argument("--preset", default="hfox_rram", help="device preset, or 'float' for float weights")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    make_env = make_env_factory()
    rows = [run_seed(make_env, s, args.episodes, args.online, args.preset, args.learning_rate, args.train_episodes,
                     args.modes, args.dagger_rounds, args.dagger_episodes) for s in args.seeds]
    for r in rows:
        for mode in ("offline", "rstdp", "online"):
            if mode not in r:
                continue
            m = r[mode]
            e = m["energy_per_step"]
            print(f"seed {r['seed']} {r['preset']} {mode:8s}: return {m['mean_return']:.1f} ± {m['std_return']:.1f} "
                  f"(min {m['min_return']:.0f}), energy/step {e['inference'] * 1e9:.2f} nJ (synops "
                  f"{e['synops'] * 1e9:.2f} nJ, neurons {e['neuron_updates'] * 1e9:.2f} nJ, device reads "
                  f"{e['device_reads'] * 1e12:.2f} pJ), device writes {m['device_writes']} "
                  f"(learning {m['learning_writes']}), lifetime {m.get('lifetime_s')}")
    for mode in ("offline", "rstdp", "online"):
        means = [r[mode]["mean_return"] for r in rows if mode in r]
        if means:
            print(f"{mode}: mean return over {len(means)} seeds {np.mean(means):.1f} ± {np.std(means):.1f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return rows


if __name__ == "__main__":
    main()
