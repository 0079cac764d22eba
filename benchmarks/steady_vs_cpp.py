"""Steady run of CUBA, ALIF and COBA, memr_snn (one thread) against Brian2 ``cpp_standalone``, CPU time.

``python benchmarks/steady_vs_cpp.py [--models cuba alif coba] [--sizes 4000 16000 64000] [--repeats 3]
[--coba-methods euler:euler exp_euler:euler] [--tree DIR]``

COBA rows name the integration method of each side, ``coba[MEMR:BRIAN2]``: memr_snn's
``LIFCondParams.integration`` (``euler`` or ``exp_euler``) and Brian2's ``method`` (``euler``, the
method of its COBA example, or ``exponential_euler``); ``--coba-methods`` lists the pairs (default:
the same method on both sides, ``euler:euler``, and memr_snn's default against Brian2's example,
``exp_euler:euler``).  Within one pair both contenders run the same network; the Brian2 run of a
method is shared by the pairs that use it.  A ``--tree`` contender runs COBA with its default method only
(it may predate the option).

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
from memr_snn.bench.peers.models import network_config
from memr_snn.bench.plan import DT, SEED, BenchConfig, Case
from memr_snn.bench.suite import _run_peer


def run_memr(model: str, n: int, tree: str | None, cache: str, integration: str | None = None) -> float:
    """CPU time [s] of one memr_snn steady run (fresh process; ``tree`` first on its path); ``integration``:
    the COBA neurons' method (None: the default; a tree without the option refuses any other)."""
    cfg = {"mode": "memr", "model": model, "n_neurons": n, "duration": 1.0, "dt": DT, "seed": SEED, "threads": 1}
    if integration is not None and integration != "exp_euler":
        cfg["integration"] = integration
    env = {"NUMBA_CACHE_DIR": cache, "OPENBLAS_NUM_THREADS": "1"}
    if tree is not None:
        env["PYTHONPATH"] = os.path.abspath(tree)
    _, meta, _, _ = run_worker(cfg, 1800.0, env)
    if not meta.get("repeat_identical", True):
        raise RuntimeError(f"memr_snn {model} {n}: the two runs of the worker gave different spikes")
    return float(meta["run_cpu"])


def run_cpp(model: str, n: int, method: str | None = None) -> float:
    """CPU time [s] of Brian2 ``cpp_standalone``'s network run (one thread, fresh build); ``method``: COBA's
    integration method (None: the suite's, forward Euler)."""
    if model == "coba" and method is not None:
        wcfg = {"mode": "brian2", "target": "cpp_standalone", **network_config("coba", n), "duration": 1.0,
                "dt": DT, "seed": SEED, "return_spikes": False, "record_spikes": True, "threads": 1,
                "method": method}
        _, meta, _, _ = run_worker(wcfg, 1800.0)
        return float(meta["run_cpu"])
    cfg = BenchConfig(cases=(), contenders=(), skipped={})
    r = _run_peer("brian2-cpp", Case(model, n, 1.0, 1), 0, cfg)
    return float(r["run_cpu"])


#: memr_snn's and Brian2's names of the integration methods of COBA
MEMR_METHODS = ("exp_euler", "euler")
BRIAN2_METHODS = ("euler", "exponential_euler")


def _method_pair(text: str) -> tuple[str, str]:
    memr, _, brian2 = text.partition(":")
    if memr not in MEMR_METHODS or brian2 not in BRIAN2_METHODS:
        raise argparse.ArgumentTypeError(f"a COBA method pair is MEMR:BRIAN2 with MEMR in {MEMR_METHODS} and "
                                         f"BRIAN2 in {BRIAN2_METHODS}, got {text!r}")
    return memr, brian2


def _rows(models: list[str], pairs: list[tuple[str, str]]) -> list[tuple[str, str | None, str | None]]:
    """(model, memr_snn method, Brian2 method) of every table row; COBA once per method pair."""
    out = []
    for model in models:
        if model == "coba":
            out += [("coba", m, b) for m, b in pairs]
        else:
            out.append((model, None, None))
    return out


def _label(model: str, memr: str | None, brian2: str | None) -> str:
    return model if memr is None else f"{model}[{memr}:{brian2}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["cuba", "alif"], choices=["cuba", "alif", "coba"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000, 64000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--coba-methods", nargs="+", type=_method_pair,
                    default=[("euler", "euler"), ("exp_euler", "euler")],
                    help="COBA integration methods as MEMR:BRIAN2 pairs (memr_snn: exp_euler, euler; Brian2: euler, "
                         "exponential_euler)")
    ap.add_argument("--tree", action="append", default=[], help="another memr_snn tree to time (repeatable)")
    ap.add_argument("--json", help="write every measurement to this file")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="steady_vs_cpp_") as tmp:
        trees = {"memr_snn": None} | {f"memr_snn@{t}": t for t in args.tree}
        caches = {name: os.path.join(tmp, f"cache{k}") for k, name in enumerate(trees)}
        rows = _rows(args.models, args.coba_methods)
        for name, tree in trees.items():  # fill each tree's numba cache (unmeasured)
            for model, memr, _ in rows:
                if name == "memr_snn" or memr in (None, "exp_euler"):
                    run_memr(model, 1000, tree, caches[name], memr)
        runs: dict = {}  # (model, n, contender, method) -> CPU times; the method is memr_snn's or Brian2's
        for n in args.sizes:
            for rep in range(args.repeats):
                for model in dict.fromkeys(m for m, _, _ in rows):
                    # this model's runs at this size: every memr_snn method per tree, every Brian2 method once
                    # another tree (--tree) runs COBA with its default method only: it may predate the option
                    mine = [(c, memr) for m, memr, _ in rows if m == model for c in trees
                            if c == "memr_snn" or memr in (None, "exp_euler")]
                    peers = [("brian2-cpp", b) for b in dict.fromkeys(b for m, _, b in rows if m == model)]
                    plan = list(dict.fromkeys(mine)) + peers
                    k = rep % len(plan)
                    for c, method in plan[k:] + plan[:k]:  # the contenders take turns, rotated per repeat
                        cpu = (run_cpp(model, n, method) if c == "brian2-cpp"
                               else run_memr(model, n, trees[c], caches[c], method))
                        runs.setdefault((model, n, c, method), []).append(cpu)
                        what = c if method is None else f"{c} ({method})"
                        print(f"[steady_vs_cpp] {model} {n} {rep + 1}/{args.repeats} {what}: {cpu:.4f} s CPU",
                              file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"model": m, "n": n, "contender": c, "method": meth, "run_cpu": v}
                       for (m, n, c, meth), v in runs.items()], f, indent=1)
    print("| model [memr_snn:Brian2 method] | N | contender | steady CPU [s], median (min–max) | ÷ brian2-cpp |")
    print("|---|---|---|---|---|")
    for model, memr, brian2 in rows:
        for n in args.sizes:
            peer = statistics.median(runs[(model, n, "brian2-cpp", brian2)])
            for c in [*trees, "brian2-cpp"]:
                v = runs.get((model, n, c, brian2 if c == "brian2-cpp" else memr))
                if v is None:  # another tree, a method it does not run
                    continue
                med = statistics.median(v)
                ratio = "" if c == "brian2-cpp" else f"{med / peer:.2f}"
                print(f"| {_label(model, memr, brian2)} | {n} | {c} | {med:.4f} ({min(v):.4f}–{max(v):.4f}) | "
                      f"{ratio} |")


if __name__ == "__main__":
    main()
