"""Unsupervised digit learning after Diehl & Cook (2015) on scikit-learn's 8x8 digits.

64 Poisson inputs -> 100 excitatory neurons with STDP, lateral inhibition through 100
inhibitory partners, adaptive thresholds and weight normalization; no label is used
while learning.  Afterwards each neuron is labelled by the class it answers most, and a
test digit is classified by the class whose neurons fire most
(:mod:`memr_snn.networks.diehl_cook` has the model and the parameters).

Run ``python examples/diehl_cook_digits.py`` (one seed, two epochs: about a minute on one
idle core); ``--seeds 0 1 2`` for mean +- std; ``--out DIR`` writes
``diehl_cook_fields.png`` (the learned receptive fields: each neuron's 64 input
weights as an 8x8 image, titled with its class) and ``diehl_cook_confusion.png``.
Needs scikit-learn (``pip install 'memr_snn[datasets]'``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from memr_snn.networks.diehl_cook import N_CLASSES, train_diehl_cook


def plot_fields(weights: np.ndarray, assignments: np.ndarray, path: Path) -> None:
    """The learned receptive fields: one 8x8 image per excitatory neuron."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = weights.shape[0]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.0))
    for k, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.set_axis_off()
        if k < n:
            ax.imshow(weights[k].reshape(8, 8), cmap="hot_r", interpolation="nearest")
            ax.set_title(str(assignments[k]), fontsize=7, pad=1)
    fig.suptitle("learned receptive fields (title: assigned class)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_confusion(confusion: np.ndarray, path: Path) -> None:
    """Confusion matrix of the test set (rows: true class)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5))
    im = ax.imshow(confusion, cmap="Blues")
    for i in range(N_CLASSES):
        for j in range(N_CLASSES):
            if confusion[i, j]:
                ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if confusion[i, j] > confusion.max() / 2 else "black")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_xticks(range(N_CLASSES))
    ax.set_yticks(range(N_CLASSES))
    acc = np.trace(confusion) / confusion.sum()
    ax.set_title(f"test accuracy {acc:.3f}")
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(seeds=(0,), n_exc: int = 100, epochs: int = 2, n_train: int | None = None, n_test: int | None = None,
         out: Path | None = None, progress: bool = False) -> list[dict]:
    """Train, label and test once per seed; plot the first seed's fields and confusion matrix into ``out``."""
    results = []
    for seed in seeds:
        r = train_diehl_cook(seed=seed, n_exc=n_exc, epochs=epochs, n_train=n_train, n_test=n_test,
                             progress=progress)
        print(f"seed {seed}: test accuracy {r['accuracy']:.3f} (labelling set {r['train_accuracy']:.3f}), "
              f"{r['spikes_per_sample']:.1f} spikes per test sample, {r['runtime']:.0f} s")
        results.append(r)
    acc = np.array([r["accuracy"] for r in results])
    print(f"accuracy {acc.mean():.3f} +- {acc.std(ddof=1) if acc.size > 1 else 0.0:.3f} over {acc.size} seed(s)")
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        plot_fields(results[0]["weights"], results[0]["assignments"], out / "diehl_cook_fields.png")
        plot_confusion(results[0]["confusion"], out / "diehl_cook_confusion.png")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--n-exc", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--n-train", type=int, default=None)
    ap.add_argument("--n-test", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args()
    main(args.seeds, args.n_exc, args.epochs, args.n_train, args.n_test, args.out, args.progress)
