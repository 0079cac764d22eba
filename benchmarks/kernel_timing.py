"""Kernel timing: cold compile and steady run of the CUBA network, in CPU seconds.

Each repeat runs in a fresh process with an empty numba cache (a new ``NUMBA_CACHE_DIR``) and
reports, in CPU time (``time.process_time``; the machine may be shared):

* ``cold_total``: interpreter start to the end of the first ``run`` of CUBA ``--n`` neurons for
  ``--duration`` s (import, build, compile, run);
* ``cold_run``: that first run alone (compile + run);
* ``steady``: the median of ``--steady`` further runs of the same length in the same process.

The report is the median over ``--repeat`` processes.  Compare versions by running them
alternately: ``--tree DIR`` (repeatable) runs the child with ``DIR`` first on ``PYTHONPATH``, so
``DIR/memr_snn`` is imported instead of the installed package (``DIR`` must hold the package in its
installed layout, ``networks``, ``encoders`` and ``bci`` inside ``memr_snn/``); the trees take turns
within each repeat and each gets its own report.

    python benchmarks/kernel_timing.py --repeat 3
    python benchmarks/kernel_timing.py --repeat 2 --steady 0 --tree old --tree new
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, statistics, sys, time
n, duration, engine, steady = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
from memr_snn.networks import cuba
net = cuba(n=n, seed=1, engine=engine, record=True).net
t0 = time.process_time()
net.run(duration)
cold_run = time.process_time() - t0
cold_total = time.process_time()
runs = []
for _ in range(steady):
    t0 = time.process_time()
    net.run(duration)
    runs.append(time.process_time() - t0)
print(json.dumps({"cold_total": cold_total, "cold_run": cold_run, "steady": statistics.median(runs) if runs else None,
                  "steady_runs": runs}))
"""


def measure(n: int, duration: float, engine: str, steady: int, tree: str | None = None) -> dict:
    """One fresh process with an empty numba cache (with ``tree`` first on its path); returns its
    ``cold_total``, ``cold_run``, ``steady``."""
    with tempfile.TemporaryDirectory() as fresh:
        env = dict(os.environ, NUMBA_CACHE_DIR=fresh, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        cwd = None
        if tree is not None:
            cwd = os.path.abspath(tree)
            env["PYTHONPATH"] = os.pathsep.join([cwd] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        out = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(duration), engine, str(steady)],
                             env=env, capture_output=True, text=True, check=True, cwd=cwd)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(rs: list[dict]) -> dict:
    keys = ("cold_total", "cold_run") + (("steady",) if rs and rs[0]["steady"] is not None else ())
    return {key: statistics.median(r[key] for r in rs) for key in keys} | {"processes": rs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steady", type=int, default=3, help="steady runs per process after the cold one")
    ap.add_argument("--tree", action="append", help="a source tree to import memr_snn from (repeatable: alternated)")
    args = ap.parse_args()
    if not args.tree:
        rs = [measure(args.n, args.duration, args.engine, args.steady) for _ in range(args.repeat)]
        print(json.dumps(_report(rs)))
        return
    runs: dict[str, list[dict]] = {t: [] for t in args.tree}
    for r in range(args.repeat):
        for t in args.tree[r % len(args.tree):] + args.tree[:r % len(args.tree)]:
            runs[t].append(measure(args.n, args.duration, args.engine, args.steady, t))
    print(json.dumps({t: _report(rs) for t, rs in runs.items()}))


if __name__ == "__main__":
    main()
