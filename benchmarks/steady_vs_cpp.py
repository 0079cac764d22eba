"""Steady run of CUBA and ALIF, memr_snn (one thread) against Brian2 ``cpp_standalone``, CPU time.

``python benchmarks/steady_vs_cpp.py [--models cuba alif] [--sizes 4000 16000 64000] [--repeats 3] [--tree DIR]``

The contenders and the steady-run definition are those of ``memr-snn bench`` (:mod:`memr_snn.bench.suite`):
every run is a fresh process through the suite's workers; memr_snn's steady run is ``run(1 s)`` of the
network rebuilt from the same seed after a first run, engine arrays prepared; ``cpp_standalone``'s is its
network run inside the binary (``clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`` around it), built in a fresh
folder, one thread. Both as CPU time (``run_cpu``), so that other load on a shared machine inflates
neither side's number by the time it waits. Within each repeat the contenders take turns, starting with
a different one each repeat; the table shows medians and memr_snn ÷ ``cpp_standalone`` from the medians.

``--tree DIR`` (repeatable) adds a memr_snn contender imported from ``DIR`` (``DIR/memr_snn`` in its
installed layout, ``networks``, ``encoders`` and ``bci`` inside it, as for ``kernel_timing.py``), with
its own numba cache: to compare kernels of two versions in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

from memr_snn.bench.launch import run_worker
from memr_snn.bench.plan import DT, SEED, BenchConfig, Case
from memr_snn.bench.suite import _run_peer


def run_memr(model: str, n: int, tree: str | None, cache: str) -> float:
    """CPU time [s] of one memr_snn steady run (fresh process; ``tree`` first on its path)."""
    cfg = {"mode": "memr", "model": model, "n_neurons": n, "duration": 1.0, "dt": DT, "seed": SEED, "threads": 1}
    env = {"NUMBA_CACHE_DIR": cache, "OPENBLAS_NUM_THREADS": "1"}
    if tree is not None:
        env["PYTHONPATH"] = os.path.abspath(tree)
    _, meta, _, _ = run_worker(cfg, 1800.0, env)
    if not meta.get("repeat_identical", True):
        raise RuntimeError(f"memr_snn {model} {n}: the two runs of the worker gave different spikes")
    return float(meta["run_cpu"])


def run_cpp(model: str, n: int) -> float:
    """CPU time [s] of Brian2 ``cpp_standalone``'s network run (one thread, fresh build)."""
    cfg = BenchConfig(cases=(), contenders=(), skipped={})
    r = _run_peer("brian2-cpp", Case(model, n, 1.0, 1), 0, cfg)
    return float(r["run_cpu"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["cuba", "alif"], choices=["cuba", "alif", "coba"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000, 64000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tree", action="append", default=[], help="another memr_snn tree to time (repeatable)")
    ap.add_argument("--json", help="write every measurement to this file")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="steady_vs_cpp_") as tmp:
        trees = {"memr_snn": None} | {f"memr_snn@{t}": t for t in args.tree}
        caches = {name: os.path.join(tmp, f"cache{k}") for k, name in enumerate(trees)}
        for name, tree in trees.items():  # fill each tree's numba cache (unmeasured)
            for model in args.models:
                run_memr(model, 1000, tree, caches[name])
        contenders = [*trees, "brian2-cpp"]
        runs: dict = {}
        for model in args.models:
            for n in args.sizes:
                for rep in range(args.repeats):
                    k = rep % len(contenders)
                    for c in contenders[k:] + contenders[:k]:
                        cpu = run_cpp(model, n) if c == "brian2-cpp" else run_memr(model, n, trees[c], caches[c])
                        runs.setdefault((model, n, c), []).append(cpu)
                        print(f"[steady_vs_cpp] {model} {n} {rep + 1}/{args.repeats} {c}: {cpu:.4f} s CPU",
                              file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"model": m, "n": n, "contender": c, "run_cpu": v} for (m, n, c), v in runs.items()], f,
                      indent=1)
    print("| model | N | contender | steady CPU [s], median (min–max) | ÷ brian2-cpp |")
    print("|---|---|---|---|---|")
    for model in args.models:
        for n in args.sizes:
            peer = statistics.median(runs[(model, n, "brian2-cpp")])
            for c in contenders:
                v = runs[(model, n, c)]
                med = statistics.median(v)
                ratio = "" if c == "brian2-cpp" else f"{med / peer:.2f}"
                print(f"| {model} | {n} | {c} | {med:.4f} ({min(v):.4f}–{max(v):.4f}) | {ratio} |")


if __name__ == "__main__":
    main()
