"""Sweep speedup on Dask and scheduling overhead: ``python benchmarks/sweep_speedup.py [--workers 2] [--repeats 3]``.

1. **Speedup.**  The built-in ``cuba-stuck-faults`` campaign (CUBA, ``--n`` neurons in HfOx crossbars, two
   runs of ``--duration`` s per point: with faults and the fault-free reference), ``--points`` points, run by
   the serial executor and by an embedded LocalCluster of ``--workers`` single-threaded worker processes.
   The cluster is started once and warmed up (every worker loads the numba cache); the serial process is
   warmed up the same way.  Serial and Dask runs alternate, ``--repeats`` rounds, each into a fresh results
   folder, so that the load of other processes on the machine hits both alike; printed are the median wall
   times, the speedup (serial / Dask), the mean time of a point, and the cluster's start-up time (paid once
   per ``memr-snn sweep run``).
2. **Overhead per point.**  ``--noop-points`` points of an experiment that does nothing
   (:func:`noop`), serial and on the warm cluster: wall time per point, i.e. what planning, submitting,
   scheduling, transferring and writing one Parquet row cost.

The results tables of the serial and Dask runs are checked to be equal (without the run columns).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def noop(*, seed: int, i: int = 0) -> dict:
    """An experiment that does nothing (the scheduling overhead)."""
    return {"seed_mod_7": seed % 7}


def _timed(spec, folder, executor) -> float:
    from memr_snn.sweep import run_sweep

    t0 = time.perf_counter()
    run_sweep(spec, folder, executor, progress=False)
    return time.perf_counter() - t0


def main() -> dict:
    from memr_snn.sweep import DaskExecutor, SerialExecutor, SweepSpec, comparable, read_results

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--points", type=int, default=8, help="campaign points (fault rates x 2 seeds)")
    ap.add_argument("--n", type=int, default=4000, help="neurons (4000: about 1.3 s of CPU per point)")
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--noop-points", type=int, default=200)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args()

    rates = tuple(round(0.2 * k / max(args.points // 2 - 1, 1), 6) for k in range(args.points // 2))
    spec = SweepSpec("cuba-stuck-faults", grid=(("fault_rate", rates),),
                     fixed=(("n", args.n), ("duration", args.duration)), seeds=2, common_seeds=True)
    warm = SweepSpec("cuba-stuck-faults", grid=(("fault_rate", (0.01,)),), fixed=(("n", 200), ("duration", 0.05)),
                     seeds=2 * args.workers)
    noop_spec = SweepSpec("sweep_speedup:noop", grid=(("i", tuple(range(args.noop_points))),))
    tmp = Path(tempfile.mkdtemp(prefix="sweep_bench_"))
    serial = SerialExecutor()
    _timed(warm, tmp / "warm_serial", serial)
    t0 = time.perf_counter()
    dask = DaskExecutor(workers=args.workers)
    times: dict[str, list[float]] = {"serial": [], "dask": []}
    with dask:
        startup = time.perf_counter() - t0
        _timed(warm, tmp / "warm_dask", dask)
        for r in range(args.repeats):
            times["serial"].append(_timed(spec, tmp / f"serial{r}", serial))
            times["dask"].append(_timed(spec, tmp / f"dask{r}", dask))
            print(f"round {r}: serial {times['serial'][-1]:.2f} s, dask {times['dask'][-1]:.2f} s", flush=True)
        noop_dask = _timed(noop_spec, tmp / "noop_dask", dask)
    noop_serial = _timed(noop_spec, tmp / "noop_serial", serial)
    same = comparable(read_results(tmp / "serial0")) == comparable(read_results(tmp / f"dask{args.repeats - 1}"))
    point_s = statistics.mean(read_results(tmp / "serial0").column("seconds").to_pylist())
    # CPU time vs wall time per point: equal CPU and longer wall time on the cluster = other processes' load
    cpu = {k: statistics.median(statistics.mean(read_results(tmp / f"{k}{r}").column("cpu_seconds").to_pylist())
                                for r in range(args.repeats)) for k in ("serial", "dask")}
    wall = {k: statistics.median(statistics.mean(read_results(tmp / f"{k}{r}").column("seconds").to_pylist())
                                 for r in range(args.repeats)) for k in ("serial", "dask")}
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"workers": args.workers, "points": spec.n_points, "n": args.n, "duration": args.duration,
           "repeats": args.repeats, "serial_s": times["serial"], "dask_s": times["dask"],
           "serial_median_s": med["serial"], "dask_median_s": med["dask"], "speedup": med["serial"] / med["dask"],
           "point_mean_s": point_s, "point_cpu_s": cpu, "point_wall_s": wall, "cluster_startup_s": startup,
           "noop_points": args.noop_points, "noop_serial_ms_per_point": 1e3 * noop_serial / args.noop_points,
           "noop_dask_ms_per_point": 1e3 * noop_dask / args.noop_points, "tables_equal": same}
    print(f"{spec.n_points} points of {point_s:.2f} s (serial mean): serial {med['serial']:.2f} s, "
          f"dask x{args.workers} {med['dask']:.2f} s (medians of {args.repeats}) -> speedup {out['speedup']:.2f}; "
          f"cluster start-up {startup:.1f} s (once per sweep run)")
    print(f"per point, CPU / wall [s]: serial {cpu['serial']:.2f} / {wall['serial']:.2f}, "
          f"dask {cpu['dask']:.2f} / {wall['dask']:.2f}")
    print(f"overhead per point ({args.noop_points} no-op points): serial {out['noop_serial_ms_per_point']:.1f} ms, "
          f"dask {out['noop_dask_ms_per_point']:.1f} ms; serial and dask tables equal: {same}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return out


if __name__ == "__main__":
    main()
