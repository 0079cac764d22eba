"""The flagship demo: the Vogels-Abbott CUBA network (Brian2's CUBA.py), raster and rate plots.

Run:  python examples/vogels_abbott_cuba.py [--n 4000] [--duration 1.0] [--out demo_output]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from memr_snn.networks import cuba  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("demo_output"))
    args = parser.parse_args()

    va = cuba(n=args.n, seed=args.seed)
    va.net.run(args.duration)
    print(f"{va.net}: mean rate {va.mean_rate():.2f} Hz")
    args.out.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    va.spikes_exc.plot(ax=ax1, markersize=0.5, title="CUBA: excitatory neurons")
    va.rate.plot(ax=ax2)
    fig.tight_layout()
    fig.savefig(args.out / "cuba_example.png", dpi=120)
    print(f"wrote {args.out / 'cuba_example.png'}")


if __name__ == "__main__":
    main()
