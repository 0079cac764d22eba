"""STDP on float weights and on crossbar devices: steady speed and cold start, in CPU seconds.

``python benchmarks/plasticity_storage.py [--pythons PY ...] [--repeat R] [--cold R]``

The network is Song, Miller & Abbott's (2000): ``--n-in`` Poisson inputs at 15 Hz onto ``--n-out``
conductance-free LIF neurons (``SMA_NEURON``), all to all, pair STDP, in the event engine. Storages
(``--storages``):

``float``
    float weights;
``ideal``
    one ideal linear device per synapse from ``G_min = 0``: the crossbar's exact (analog) update;
``pulsed``
    a differential pair of nonlinear devices with cycle-to-cycle noise per synapse: every change
    becomes a stochastically rounded pulse count and runs through the device law;
``reward``
    reward-modulated STDP (multiplicative dependence) on the ``pulsed`` crossbar, reward 1 (not
    in the default set: every step sends every synapse's eligibility to its devices, about 20 CPU
    seconds per simulated second at the default size).

Each measurement is a fresh process (``OPENBLAS_NUM_THREADS=1``) that reports CPU time
(``time.process_time``):

* steady: the kernels compiled or loaded from the cache by a 0.1 s warm-up run, then the median of
  ``--steady`` runs of ``--duration`` s of the same network;
* cold (``--cold R``, crossbar ``pulsed`` network only): interpreter start to the end of a first
  0.1 s run with an empty numba cache (a new ``NUMBA_CACHE_DIR``): import, build, compile, run.

``--pythons`` names the interpreters to compare (each with its own memr_snn installed, e.g. the
virtual environments of two checkouts; default: this one); they alternate within each repeat, and
the report gives medians over repeats and each interpreter's ratio to the first.  ``--repeat 0`` measures
cold start only; each measurement is also printed to stderr as it is taken.

    python benchmarks/plasticity_storage.py --pythons .venv/bin/python ../other/.venv/bin/python --cold 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, statistics, sys, time
storage, n_in, n_out, duration, steady = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), \
    int(sys.argv[5])
from memr_snn.networks.song_miller_abbott import SMA_NEURON, G_LEAK
from memr_snn import AllToAll, Network, PoissonSource, Population, Projection
from memr_snn.devices import Crossbar, ExpStepDevice, LinearStepDevice
from memr_snn.learning import STDP, RewardSTDP
g_max = 0.01 * G_LEAK
rule = STDP(a_plus=0.01 * g_max, a_minus=0.0105 * g_max, tau_plus=0.02, tau_minus=0.02, w_max=g_max)
device = None
if storage == "ideal":
    device = Crossbar(device=LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-7, dg_down=1e-7), encoding="single")
elif storage in ("pulsed", "reward"):
    device = Crossbar(device=ExpStepDevice(g_min=1e-6, g_max=1e-4, dg_up=1e-7, dg_down=1.2e-7, dg_c2c=0.1,
                                           beta_up=1.0, beta_down=1.0), encoding="differential")
if storage == "reward":
    import dataclasses
    rule = RewardSTDP(stdp=dataclasses.replace(rule, dependence="multiplicative"), tau_e=0.2, learning_rate=50.0)
net = Network(dt=1e-4, seed=1, engine="event")
inp = net.add(PoissonSource(n_in, rates=15.0))
out = net.add(Population(n_out, SMA_NEURON))
pr = net.add(Projection(inp, out, AllToAll(), weights=lambda rng, n: rng.random(n) * g_max, plasticity=rule,
                        device=device))
if storage == "reward":
    net.set_reward(pr, 1.0)
runs = []
t0 = time.process_time()
net.run(0.1)
first = time.process_time()
first_run = first - t0
for _ in range(steady):
    t0 = time.process_time()
    net.run(duration)
    runs.append(time.process_time() - t0)
print(json.dumps({"cold_total": first, "cold_run": first_run, "steady": statistics.median(runs) if runs else None}))
"""


def measure(python: str, storage: str, n_in: int, n_out: int, duration: float, steady: int,
            cache: str | None) -> dict:
    """One process of interpreter ``python``; ``cache`` is the numba cache folder (None: a fresh empty one)."""
    with tempfile.TemporaryDirectory() as fresh:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache or fresh, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        out = subprocess.run([python, "-c", _CHILD, storage, str(n_in), str(n_out), str(duration), str(steady)],
                             env=env, capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pythons", nargs="+", default=[sys.executable], help="interpreters to compare (alternated)")
    ap.add_argument("--storages", nargs="+", default=["float", "ideal", "pulsed"])
    ap.add_argument("--n-in", type=int, default=1000)
    ap.add_argument("--n-out", type=int, default=20)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--steady", type=int, default=3, help="timed runs per process")
    ap.add_argument("--repeat", type=int, default=3, help="steady processes per interpreter and storage")
    ap.add_argument("--cold", type=int, default=0, help="cold-start processes per interpreter (pulsed crossbar)")
    args = ap.parse_args()
    pys = [os.path.abspath(py) if os.sep in py else py for py in args.pythons]  # the children run elsewhere
    caches = {py: tempfile.mkdtemp(prefix="numba-cache-") for py in pys}  # one warm cache per interpreter
    steady: dict = {(py, s): [] for py in pys for s in args.storages}
    cold: dict = {py: [] for py in pys}
    try:
        for r in range(max(args.repeat, args.cold)):
            for s in args.storages if r < args.repeat else []:
                for py in pys:
                    steady[py, s].append(measure(py, s, args.n_in, args.n_out, args.duration, args.steady,
                                                 caches[py])["steady"])
                    print(f"repeat {r} {s} {py}: steady {steady[py, s][-1]:.4f} s", file=sys.stderr, flush=True)
            for py in pys if r < args.cold else []:
                cold[py].append(measure(py, "pulsed", args.n_in, args.n_out, 0.0, 0, None)["cold_total"])
                print(f"repeat {r} cold {py}: {cold[py][-1]:.1f} s", file=sys.stderr, flush=True)
    finally:
        for c in caches.values():
            shutil.rmtree(c, ignore_errors=True)
    med = statistics.median
    report: dict = {"args": vars(args), "steady_s": {}, "steady_ratio": {}, "cold_total_s": {}, "cold_ratio": {}}
    for s in args.storages if args.repeat else []:
        for py in pys:
            report["steady_s"][f"{py} {s}"] = med(steady[py, s])
            report["steady_ratio"][f"{py} {s}"] = med(steady[py, s]) / med(steady[pys[0], s])
    for py in pys if args.cold else []:
        report["cold_total_s"][py] = med(cold[py])
        report["cold_ratio"][py] = med(cold[py]) / med(cold[pys[0]])
    report["runs"] = {f"{py} {s}": v for (py, s), v in steady.items()} | {f"{py} cold": v for py, v in cold.items()}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
