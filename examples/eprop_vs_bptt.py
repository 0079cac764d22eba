"""e-prop versus BPTT on the same recurrent LIF/ALIF network and the same temporal task.

One network (40 neurons, half LIF and half ALIF) and one set of initial weights are trained on
evidence accumulation (three cues, a 200 ms delay, a recall window; Bellec et al. 2020, Fig. 3,
scaled down) twice: online with e-prop (eligibility traces, symmetric feedback) and with
back-propagation through time through the same pseudo-derivative.  Same data, loss (cross-entropy
summed over the recall window), Adam settings, minibatches and epochs; the test accuracy of both
is read the same way (:mod:`memr_snn.learning.compare`).

Run ``python examples/eprop_vs_bptt.py --seeds 0 1 2`` (about 20 s per seed on one core: e-prop
15 s, BPTT 2.5 s; set ``OPENBLAS_NUM_THREADS=1`` on a busy machine); ``--out DIR`` writes the
learning curves (test loss and accuracy after every epoch, epoch 0 = the initial network) to
``eprop_vs_bptt.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from memr_snn.learning.compare import METHODS, eprop_vs_bptt

NAMES = {"eprop": "e-prop", "bptt": "BPTT"}


def main(seeds=(0,), *, n_train: int = 512, n_test: int = 256, epochs: int = 4, delay_steps: int = 200,
         out: Path | None = None) -> list[dict]:
    """Run the comparison for each seed, print a table, optionally write the learning curves; return the results."""
    results = []
    for seed in seeds:
        r = eprop_vs_bptt(seed, n_train=n_train, n_test=n_test, epochs=epochs,
                          task_kwargs={"delay_steps": delay_steps})
        results.append(r)
        print(f"seed {seed}: e-prop {r['eprop']['test_accuracy']:.3f} ({r['eprop']['train_time']:.1f} s), "
              f"BPTT {r['bptt']['test_accuracy']:.3f} ({r['bptt']['train_time']:.1f} s), "
              f"initial {r['init']['accuracy']:.3f}", flush=True)
    print(f"\nevidence accumulation, {delay_steps} ms delay, {n_train} training / {n_test} test trials, "
          f"{epochs} epochs, seeds {list(seeds)}")
    per_seed = "test accuracy per seed"
    print(f"{'method':8s} {per_seed:>{max(len(per_seed), 6 * len(seeds))}s} {'mean':>6s} {'std':>6s} "
          f"{'train [s]':>9s}")
    for m in METHODS:
        acc = [r[m]["test_accuracy"] for r in results]
        secs = [r[m]["train_time"] for r in results]
        cells = " ".join(f"{a:.3f}" for a in acc)
        print(f"{NAMES[m]:8s} {cells:>{max(len(per_seed), 6 * len(seeds))}s} {np.mean(acc):6.3f} {np.std(acc):6.3f} "
              f"{np.mean(secs):9.1f}")
    diff = [r["difference"] for r in results]
    print(f"difference e-prop - BPTT: mean {np.mean(diff):+.3f} +- {np.std(diff):.3f}")
    if out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
        ep = np.arange(0, epochs + 1)
        for m, color in zip(METHODS, ("C0", "C3"), strict=True):
            for k, key in enumerate(("test_loss", "test_accuracy")):
                init = "loss" if key == "test_loss" else "accuracy"
                curves = np.array([[r["init"][init]] + [c[key] for c in r[m]["curve"]] for r in results])
                for row in curves:
                    axes[k].plot(ep, row, color=color, alpha=0.3, lw=0.8)
                axes[k].plot(ep, curves.mean(axis=0), color=color, lw=2, label=NAMES[m])
        axes[0].set_ylabel("test loss (CE summed over the recall window)")
        axes[1].set_ylabel("test accuracy")
        axes[1].axhline(0.5, color="gray", ls=":", lw=1)
        for ax in axes:
            ax.set_xlabel("epoch")
            ax.legend()
        fig.suptitle(f"evidence accumulation, {delay_steps} ms delay, seeds {list(seeds)}")
        fig.tight_layout()
        fig.savefig(out / "eprop_vs_bptt.png", dpi=120)
        plt.close(fig)
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--n-train", type=int, default=512)
    ap.add_argument("--n-test", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--delay", type=int, default=200, help="delay between the cues and the recall [steps of 1 ms]")
    ap.add_argument("--out", type=Path, default=None, help="folder for eprop_vs_bptt.png")
    a = ap.parse_args()
    main(tuple(a.seeds), n_train=a.n_train, n_test=a.n_test, epochs=a.epochs, delay_steps=a.delay, out=a.out)
