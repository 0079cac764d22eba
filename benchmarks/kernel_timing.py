"""Kernel timing: cold compile and steady run of the CUBA network, in CPU seconds.

Each measurement runs in a fresh process.  ``cold``: an empty numba cache (a new
``NUMBA_CACHE_DIR``), CPU time from interpreter start to the end of the first
``run`` of CUBA ``--n`` neurons for ``--duration`` s (import, build, compile, run), and
the CPU time of that first run alone.  ``steady``: a warm cache, CPU time of a second
``run`` of the same length after a short warm-up run.  CPU time
(``time.process_time``) rather than wall time, since the machine is shared; the
report is the median over ``--repeat`` runs.

    python benchmarks/kernel_timing.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

_CHILD = r"""
import json, sys, time
n, duration, engine, mode = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
from memr_snn.networks import cuba
net = cuba(n=n, seed=1, engine=engine, record=True).net
if mode == "steady":
    net.run(0.05)
t0 = time.process_time()
net.run(duration)
run = time.process_time() - t0
print(json.dumps({"total": time.process_time(), "run": run}))
"""


def measure(mode: str, n: int, duration: float, engine: str, cache_dir: str) -> dict:
    """One measurement in a fresh process; returns ``{"total": cpu_s, "run": cpu_s}``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(duration), engine, mode],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", default="cold,steady")
    args = ap.parse_args()
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as warm:
        for _ in range(args.repeat):
            for mode in args.modes.split(","):
                if mode == "cold":
                    with tempfile.TemporaryDirectory() as fresh:
                        r = measure("cold", args.n, args.duration, args.engine, fresh)
                else:
                    r = measure("steady", args.n, args.duration, args.engine, warm)
                results.setdefault(mode, []).append(r)
    for mode, rs in results.items():
        print(json.dumps({"mode": mode, "median_total_cpu_s": statistics.median(r["total"] for r in rs),
                          "median_run_cpu_s": statistics.median(r["run"] for r in rs),
                          "runs": [round(r["run"], 3) for r in rs], "time": time.strftime("%H:%M:%S")}))


if __name__ == "__main__":
    main()
