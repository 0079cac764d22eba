"""CartPole-v1 balanced by a spiking controller whose synapses are HfOx RRAM devices.

Per seed: the controller (networks/cartpole_controller.py: 40 population-coded encoder neurons, two
action neurons, readout on a differential crossbar of the ``hfox_rram`` preset, program-and-verify) is
trained offline by imitation of an LQR expert with faults in the loop, evaluated on 100 episodes,
then trained online with reward-modulated STDP on the devices for ``--online`` episodes and evaluated
again (learning frozen: reward 0).  Energy per control step: SynOps x 23.6 pJ and neuron updates x
81 pJ (Loihi, Davies et al. 2018: ``memr_snn.hardware.load_profile("loihi1")``) plus the devices' read
energy (V_read^2 G t_read, preset values); device writes and the projected lifetime from the device
report.

Run:  python examples/cartpole_snn.py --seeds 0 1 2 [--episodes 100] [--online 20] [--json out.json]
Needs gymnasium:  pip install 'gymnasium>=1.0'
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from memr_snn.networks.cartpole_controller import ControllerEnergy
from memr_snn.networks.cartpole_training import rstdp_rule, train_offline, train_rstdp

from memr_snn.devices import Crossbar, device_report
from memr_snn.hardware import load_profile
from memr_snn.learning.control import evaluate


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


def run_seed(make_env, seed: int, episodes: int, online: int, preset: str, learning_rate: float,
             train_episodes: int = 30) -> dict:
    energy = ControllerEnergy.from_profile(load_profile("loihi1"))
    device = None if preset == "float" else Crossbar(preset=preset, encoding="differential", program="verify")
    t0 = time.process_time()
    res = train_offline(make_env, device=device, seed=seed, energy=energy, episodes=train_episodes,
                        plasticity=(lambda wb: rstdp_rule(wb, learning_rate=learning_rate)) if online else None)
    ctrl = res.controller
    row = {"seed": seed, "preset": preset, "train_states": res.n_states, "train_agreement": res.train_agreement,
           "programming_writes": res.programming_writes, "faults_in_the_loop": res.history,
           "faulty_devices": int(np.sum(ctrl.crossbar.fault != 0)) if ctrl.crossbar is not None else 0}
    before, s0, syn0 = ctrl.energy_parts(), ctrl.steps, ctrl.synops
    returns = evaluate(make_env, ctrl, episodes, seed=10_000 + 1000 * seed)
    row["offline"] = {"mean_return": float(returns.mean()), "std_return": float(returns.std()),
                      "min_return": float(returns.min()), "energy_per_step": per_step(ctrl, before, ctrl.steps - s0),
                      "synops_per_step": (ctrl.synops - syn0) / (ctrl.steps - s0)}
    row["cpu_s_offline"] = time.process_time() - t0
    if online:
        w0 = ctrl.weights()
        online_returns = train_rstdp(ctrl, make_env, online, seed=20_000 + 1000 * seed)
        row["online_training_returns"] = online_returns.tolist()
        ctrl.reward(0.0)  # learning frozen for the evaluation
        returns2 = evaluate(make_env, ctrl, episodes, seed=10_000 + 1000 * seed)
        rep = device_report(ctrl.net).rows[0] if ctrl.crossbar is not None else None
        row["online"] = {"mean_return": float(returns2.mean()), "std_return": float(returns2.std()),
                         "min_return": float(returns2.min()), "learning_writes": ctrl.learning_writes,
                         "relative_weight_change": float(np.abs(ctrl.weights() - w0).mean() / np.abs(w0).mean()),
                         "lifetime_s": None if rep is None or not np.isfinite(rep.lifetime) else rep.lifetime,
                         "max_pulses_per_device": None if rep is None else rep.pulses_max}
    row["device_writes"] = ctrl.device_writes
    row["cpu_s"] = time.process_time() - t0
    return row


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--online", type=int, default=20, help="episodes of online R-STDP (0: none)")
    ap.add_argument("--learning-rate", type=float, default=0.02)
    ap.add_argument("--train-episodes", type=int, default=30, help="expert rollouts for the imitation")
    ap.add_argument("--preset", default="hfox_rram", help="device preset, or 'float' for float weights")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    make_env = make_env_factory()
    rows = [run_seed(make_env, s, args.episodes, args.online, args.preset, args.learning_rate, args.train_episodes)
            for s in args.seeds]
    for r in rows:
        e = r["offline"]["energy_per_step"]
        line = (f"seed {r['seed']} ({r['preset']}): offline return {r['offline']['mean_return']:.1f} "
                f"± {r['offline']['std_return']:.1f} (min {r['offline']['min_return']:.0f}), "
                f"energy/step {e['inference'] * 1e9:.2f} nJ (synops {e['synops'] * 1e9:.2f}, neurons "
                f"{e['neuron_updates'] * 1e9:.2f}, device reads {e['device_reads'] * 1e12:.2f} pJ), "
                f"programming writes {r['programming_writes']}, faulty devices {r['faulty_devices']}")
        if "online" in r:
            o = r["online"]
            line += (f"; after {len(r['online_training_returns'])} online R-STDP episodes: return "
                     f"{o['mean_return']:.1f} ± {o['std_return']:.1f}, learning writes {o['learning_writes']}, "
                     f"lifetime {o['lifetime_s']}")
        print(line)
    means = [r["offline"]["mean_return"] for r in rows]
    print(f"offline: mean return over seeds {np.mean(means):.1f} ± {np.std(means):.1f}")
    if rows and "online" in rows[0]:
        m2 = [r["online"]["mean_return"] for r in rows]
        print(f"online R-STDP: mean return over seeds {np.mean(m2):.1f} ± {np.std(m2):.1f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return rows


if __name__ == "__main__":
    main()
