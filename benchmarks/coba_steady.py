"""COBA steady run, single thread: memr_snn (one or more source trees) against Brian2 ``cpp_standalone``.

Every run is a fresh process of the benchmark worker (``memr_snn/bench/_worker.py``, as ``memr-snn
bench`` runs it): memr_snn builds the Vogels-Abbott COBA network, runs it once (kernels loaded), rebuilds
it from the same seed and times the steady ``run(T)``; Brian2 ``cpp_standalone`` (one thread) times
its network loop inside the binary.  Contenders alternate within each repeat (the first one rotates);
reported: medians of the steady run's CPU time (``time.process_time``; the machine may be shared) and
each memr_snn tree's median over Brian2's.  ``--tree DIR`` (repeatable) runs a memr_snn source tree
in its installed layout (``networks``, ``encoders`` and ``bci`` inside ``DIR/memr_snn``) with its own
numba cache; ``--tree installed`` (the default) is the installed memr_snn.

    python benchmarks/coba_steady.py --sizes 4000 16000 64000 --repeats 3
    python benchmarks/coba_steady.py --sizes 4000 --repeats 5 --tree old --tree installed
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from memr_snn.bench.peers.models import network_config


def _one(cfg: dict, tree: str | None, cache: str | None) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if tree is None:
        import memr_snn.bench._worker as w

        worker = w.__file__
    else:
        root = os.path.abspath(tree)
        worker = os.path.join(root, "memr_snn", "bench", "_worker.py")
        env["PYTHONPATH"] = root
        env["NUMBA_CACHE_DIR"] = cache
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.npz")
        subprocess.run([sys.executable, worker, json.dumps(cfg), out], env=env, check=True,
                       cwd=tree or None, stdout=subprocess.DEVNULL)
        import numpy as np

        with np.load(out) as z:
            return json.loads(str(z["meta"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000, 64000])
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tree", action="append", help="a memr_snn source tree (repeatable; default: the installed one)")
    ap.add_argument("--no-brian2", action="store_true", help="memr_snn trees only")
    args = ap.parse_args()
    trees = [None if t == "installed" else t for t in (args.tree or ["installed"])]
    caches = {t: tempfile.mkdtemp(prefix="coba_steady_numba_") for t in trees}
    names = [f"memr_snn[{t or 'installed'}]" for t in trees] + ([] if args.no_brian2 else ["brian2-cpp"])
    rows = []
    for n in args.sizes:
        base = network_config("coba", n) | {"duration": args.duration, "dt": 1e-4, "seed": args.seed}
        cpu: dict[str, list[float]] = {k: [] for k in names}
        spikes: dict[str, list[int]] = {k: [] for k in names}
        for r in range(args.repeats):
            for k in names[r % len(names):] + names[:r % len(names)]:
                if k == "brian2-cpp":
                    meta = _one(base | {"mode": "brian2", "target": "cpp_standalone"}, None, None)
                else:
                    t = trees[names.index(k)]
                    meta = _one(base | {"mode": "memr", "threads": 1}, t, caches[t])
                cpu[k].append(float(meta["run_cpu"]))
                spikes[k].append(int(meta["n_spikes"]))
                print(f"[coba_steady] N={n} repeat {r + 1}/{args.repeats} {k}: {cpu[k][-1]:.4f} s CPU",
                      file=sys.stderr, flush=True)
        med = {k: statistics.median(v) for k, v in cpu.items()}
        for k in names:
            ratio = med[k] / med["brian2-cpp"] if "brian2-cpp" in med else float("nan")
            rows.append({"n": n, "contender": k, "cpu_median": med[k], "cpu_runs": cpu[k], "spikes": spikes[k][0],
                         "ratio_to_brian2_cpp": ratio})
    print("| N | contender | steady CPU [s], median (min-max) | spikes | ÷ brian2-cpp |")
    print("|---|---|---|---|---|")
    for row in rows:
        runs = row["cpu_runs"]
        print(f"| {row['n']} | {row['contender']} | {row['cpu_median']:.4f} ({min(runs):.4f}-{max(runs):.4f}) "
              f"| {row['spikes']} | {row['ratio_to_brian2_cpp']:.2f} |")
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
