"""e-prop on a temporal task: evidence accumulation with ALIF neurons, on float weights and on memristive devices.

The task (Bellec et al. 2020, Fig. 3, scaled down): three cues on a left or a right input
group, a 200 ms delay (ten membrane time constants), then a recall cue; the network must
report the side that had more cues.  Adaptive (ALIF) neurons carry the memory across the
delay; a LIF-only network of the same size stays near chance.  The third run learns with
every weight in a differential crossbar of ideal linear devices: weight changes become
stochastically rounded pulse counts.

Run ``python examples/eprop_temporal.py`` (about 40 s per seed for the three runs on one core);
``--seeds 0 1 2`` for mean +- std; ``--out DIR`` writes ``eprop_temporal.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from memr_snn.devices import Crossbar, LinearStepDevice
from memr_snn.learning import DeviceTarget
from memr_snn.learning.eprop import train_eprop_task


def main(seeds=(0,), n_train: int = 512, n_epochs: int = 4, delay_steps: int = 200, out: Path | None = None,
         runs=("alif", "lif", "alif_device")) -> dict[str, dict]:
    """Train each run for each seed; return ``{run: {"acc": [...], "loss": [[...]], "pulses": [...]}}``."""
    dev = LinearStepDevice(g_min=0.0, g_max=1e-3, dg_up=1e-7, dg_down=1e-7)
    settings = {
        "alif": {},
        "lif": {"n_adaptive": 0},
        "alif_device": {"device": DeviceTarget(Crossbar(device=dev, encoding="differential", scale="fit",
                                                        w_max=4.0), rounding="stochastic")},
    }
    results: dict[str, dict] = {}
    for run in runs:
        res = {"acc": [], "loss": [], "pulses": [], "rate": []}
        for seed in seeds:
            t0 = time.perf_counter()
            r = train_eprop_task(seed, n_train=n_train, n_epochs=n_epochs, task_kwargs={"delay_steps": delay_steps},
                                 **settings[run])
            res["acc"].append(r["test_accuracy"])
            res["loss"].append(r["loss"])
            res["pulses"].append(r["pulses"])
            res["rate"].append(r["rate"])
            print(f"{run:12s} seed {seed}: test accuracy {r['test_accuracy']:.3f}, rate {r['rate']:.1f} Hz, "
                  f"pulses {r['pulses']}, {time.perf_counter() - t0:.1f} s", flush=True)
        results[run] = res
    print(f"evidence accumulation, {delay_steps} ms delay, {n_train} training trials x {n_epochs} epochs, "
          f"seeds {list(seeds)} (chance 0.5):")
    for run, res in results.items():
        print(f"  {run:12s} test accuracy {np.mean(res['acc']):.3f} +- {np.std(res['acc']):.3f}")
    if out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        for run, res in results.items():
            loss = np.mean(np.asarray(res["loss"]), axis=0)
            ax.plot(loss, label=f"{run} (test acc {np.mean(res['acc']):.2f})")
        ax.set_xlabel("minibatch (32 trials)")
        ax.set_ylabel("cross-entropy over the recall window")
        ax.set_title(f"e-prop, evidence accumulation, {delay_steps} ms delay, seeds {list(seeds)}", fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        Path(out).mkdir(parents=True, exist_ok=True)
        fig.savefig(Path(out) / "eprop_temporal.png", dpi=120)
        plt.close(fig)
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--n-train", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--delay", type=int, default=200, help="delay before the recall cue [steps of 1 ms]")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    main(tuple(args.seeds), args.n_train, args.epochs, args.delay, args.out)
