"""Threaded against single-thread steady runs: ``python benchmarks/threads.py [--models cuba] [--sizes 64000]``.

The benchmark networks (:mod:`memr_snn.networks`: CUBA, COBA, ALIF, both populations under a
``SpikeMonitor``, as in ``memr-snn bench``; ``mixed``: half COBA and half LIF neurons, :func:`mixed`) are built
from the same seed for every thread count, their kernels loaded by a warm-up run of a small network of the same
kind, their engine arrays prepared (``run_steps(0)``), then one timed ``run(T)``.  Thread counts alternate within
each repeat; the script prints (and with ``--json`` writes) the medians of wall time (``time.perf_counter``) and CPU
time (``time.process_time``, all threads of the process), the speed-up of each thread count over one
thread in wall time, whether every run produced the same spikes as one thread, and the load average
before and after (the machine may be shared: read the speed-ups against it).  Threaded dense runs (the
block loop, :func:`memr_snn.kernel.threads.run_block`) also print each thread's CPU time
(``time.thread_time``), its barriers, waits and sleeps, and the shares of its cycle-counter ticks spent
integrating, waiting, pushing and in serial work, and how far the inner boundaries between the blocks had
moved at the end (the balancing, :func:`memr_snn.kernel.threads._rebalance`; ``--static-blocks`` keeps them where
the blocks have equal numbers of neurons).  ``--region-loop`` runs the threaded runs on the former
parallel-region loop instead; ``MEMR_SNN_SPIN=<ticks>`` sets how long a waiting block thread spins before it
sleeps (0: at once, so that its CPU time holds no spinning).

``--rounds R`` measures instead in one process: one network per thread count (same seed), each first run for
``--piece`` simulated seconds (past the start from rest, not timed), then ``R`` rounds in which every network runs
``--piece`` seconds more in turn; it prints each round's walls and speed-ups and the medians over the rounds.
Pieces of a fraction of a second, alternated, show whether a slow two-thread spell is a state of the machine
(every network slow at once, rounds in a row) or of one network (docs/engine.md, "The slow spells").  Every
round, and each plain run before and after, also measures the round trip of a cache line between two threads
(:func:`core_round_trip`): a few tens of ns where the two CPUs share their last-level cache, several hundred
where they do not, which is what a virtual machine's host changes under a run; and the block loop's
cycle-counter ticks per neuron-step in each block's tail, middle and head zones (:func:`zone_costs`).

``--cold`` measures instead the first-ever run of each thread count: a fresh process with an empty
``NUMBA_CACHE_DIR`` (every kernel compiled) builds the network and runs it once; wall time of the
process and its CPU time (``RUSAGE_CHILDREN``), thread counts alternated, medians.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from memr_snn.networks import BUILTIN


def mixed(n: int = 64000, seed: int = 1) -> SimpleNamespace:
    """``--models mixed``: ``n / 2`` conductance-based LIF neurons (exponential Euler) then ``n / 2`` current-based
    ones, biases spread over 150-400 pA, each neuron projecting to about 40 of the other population and the
    LIF ones to about 40 LIF neurons (inhibitory): blocks of equal numbers of neurons cost unequally (the
    block loop's balancing; ``--static-blocks`` without it).  ``.net``, ``.spikes_exc`` (COBA), ``.spikes_inh``
    (LIF)."""
    from memr_snn import FixedProbability, LIFCondParams, LIFParams, Network, Population, Projection, SpikeMonitor
    from memr_snn.units import ms, nS, pA

    half = n // 2
    net = Network(dt=0.1 * ms, seed=seed, engine="dense")
    cob = net.add(Population(half, LIFCondParams(i_bias=np.linspace(150, 400, half) * pA), name="cob"))
    lif = net.add(Population(n - half, LIFParams(i_bias=np.linspace(150, 400, n - half) * pA), name="lif"))
    net.add(Projection(cob, lif, FixedProbability(40 / (n - half)), weights=20 * pA))
    net.add(Projection(lif, cob, FixedProbability(40 / half), weights=0.5 * nS))
    net.add(Projection(lif, lif, FixedProbability(40 / (n - half)), weights=-20 * pA, receptor="inh"))
    return SimpleNamespace(net=net, spikes_exc=net.add(SpikeMonitor(cob)), spikes_inh=net.add(SpikeMonitor(lif)))


MODELS = {**BUILTIN, "mixed": mixed}


def zone_costs(stats: np.ndarray) -> list:
    """Per thread the cycle-counter ticks per neuron-step of its block's tail, middle and head zones
    (``kernel.thread_layout.ZONE_STATS``; None for an empty zone): a zone dearer than the middle pays for the
    blocks' seam (docs/engine.md)."""
    from memr_snn.kernel.thread_layout import ZONE_STATS

    z = stats[:, ZONE_STATS:ZONE_STATS + 6].astype(float)
    return [[round(float(z[k, i] / z[k, i + 3]), 2) if z[k, i + 3] > 0 else None for i in range(3)]
            for k in range(stats.shape[0])]


def spike_digest(va) -> tuple:
    """What two runs of one network must share to have produced the same spikes: both monitors' spike counts
    and a hash of the excitatory monitor's indices and times."""
    return (int(va.spikes_exc.num_spikes), int(va.spikes_inh.num_spikes),
            hash(va.spikes_exc.i.tobytes()) ^ hash(va.spikes_exc.t.tobytes()))


def timed_run(model: str, n: int, threads: int, duration: float, seed: int = 1):
    """One steady run: (wall [s], CPU [s], spike digest, block-loop statistics or None).

    The statistics (threaded dense runs, :func:`memr_snn.kernel.threads.run_block`): per thread its CPU
    time [s] in the block loop, the barriers it passed and waited at, the times it slept while waiting,
    and the shares of its cycle-counter ticks integrating, waiting, pushing and in serial work."""
    va = MODELS[model](n=n, seed=seed)
    va.net.threads = threads
    va.net.run_steps(0)  # engine arrays built, not timed
    sim = va.net._sim
    thr = sim._threaded() if threads > 1 else None
    if thr is not None:
        thr.record.stats[:] = 0
        thr.record.cpu_ns[:] = 0
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    va.net.run(duration)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    digest = spike_digest(va)
    stats = None
    if thr is not None and thr.record.stats[:, 2].sum() > 0:
        st = thr.record.stats
        ticks = np.maximum(st[:, 3:7].sum(axis=1), 1)
        stats = {"thread_cpu_s": (thr.record.cpu_ns / 1e9).tolist(), "barriers": st[:, 2].tolist(),
                 "waits": st[:, 0].tolist(), "sleeps": st[:, 1].tolist(),
                 "shares_integrate_wait_push_serial": np.round(st[:, 3:7] / ticks[:, None], 3).tolist(),
                 "zone_ticks_per_neuron": zone_costs(st),
                 "moved": (thr.record.bnd[0, 1:threads] - thr.record.blocks[1:threads]).tolist()}
    return wall, cpu, digest, stats


_COLD_CHILD = """
import sys
from memr_snn.networks import BUILTIN
va = BUILTIN[sys.argv[1]](n=int(sys.argv[2]), seed=1)
va.net.threads = int(sys.argv[3])
va.net.run(float(sys.argv[4]))
"""


def cold_run(model: str, n: int, threads: int, duration: float) -> tuple[float, float]:
    """(wall [s], CPU [s]) of a fresh process building and running the network with an empty numba cache."""
    with tempfile.TemporaryDirectory(prefix="memr_snn_cold_") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", _COLD_CHILD, model, str(n), str(threads), str(duration)], env=env,
                       check=True)
        wall = time.perf_counter() - w0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main_cold(args) -> int:
    load_before = os.getloadavg()
    rows = []
    for model in args.models:
        for n in args.sizes:
            runs = {th: [] for th in args.threads}
            for rep in range(args.repeats):
                order = args.threads[rep % len(args.threads):] + args.threads[:rep % len(args.threads)]
                for th in order:
                    runs[th].append(cold_run(model, n, th, args.duration))
                    print(f"  cold {model} N={n} threads={th}: wall {runs[th][-1][0]:.1f} s, "
                          f"CPU {runs[th][-1][1]:.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)
            for th in args.threads:
                wall = statistics.median(r[0] for r in runs[th])
                cpu = statistics.median(r[1] for r in runs[th])
                rows.append({"model": model, "n": n, "threads": th, "cold_wall_s": wall, "cold_cpu_s": cpu,
                             "runs": runs[th]})
                print(f"cold {model:5s} N={n:6d} threads={th}: wall {wall:.1f} s  CPU {cpu:.1f} s  "
                      f"(runs {', '.join(f'{w:.1f}/{c:.1f}' for w, c in runs[th])})", flush=True)
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; CPUs {os.cpu_count()}")
    if args.json is not None:
        args.json.write_text(json.dumps({"cold": rows, "load_before": load_before, "load_after": load_after},
                                        indent=2))
    return 0


_BOUNCE = None


def core_round_trip(n: int = 100_000) -> float:
    """Nanoseconds per round trip of one cache line between two threads (median of three bounces of ``n``):
    each thread waits for its turn on an ``int64`` (:func:`memr_snn.kernel.sync.atomic_load`) and passes it on
    (:func:`memr_snn.kernel.sync.atomic_add`), in compiled code without the GIL.  What every meeting of the
    block loop's threads pays several times: about 50-100 ns between two cores that share their last-level
    cache, several hundred between two that do not (docs/engine.md, "The slow spells").  NaN with one CPU."""
    import threading

    if (os.cpu_count() or 1) < 2:
        return float("nan")

    global _BOUNCE
    if _BOUNCE is None:
        from numba import njit

        from memr_snn.kernel.sync import atomic_add, atomic_load

        @njit(nogil=True)
        def bounce(word, me, n):
            for i in range(n):
                while atomic_load(word, 0) != 2 * i + me:
                    pass
                atomic_add(word, 0, 1)

        _BOUNCE = bounce
        _BOUNCE(np.zeros(8, dtype=np.int64), 0, 1)  # compiled outside the timing
    times = []
    for _ in range(3):
        word = np.zeros(8, dtype=np.int64)
        other = threading.Thread(target=_BOUNCE, args=(word, 1, n))
        other.start()
        w0 = time.perf_counter()
        _BOUNCE(word, 0, n)
        other.join()
        times.append((time.perf_counter() - w0) / n * 1e9)
    return statistics.median(times)


def main_rounds(args) -> int:
    """``--rounds``: the networks of every thread count run in turn, ``--piece`` seconds a round (module docstring)."""
    for model in args.models:
        for th in args.threads:
            timed_run(model, 500, th, 0.01)
        for n in args.sizes:
            nets = {}
            for th in args.threads:
                va = MODELS[model](n=n, seed=1)
                va.net.threads = th
                va.net.run(args.piece)
                nets[th] = va
            walls = {th: [] for th in args.threads}
            trips = []
            th1 = args.threads[0]
            for r in range(args.rounds):
                zones = ""
                for th in args.threads:
                    thr = nets[th].net._sim._threaded() if th > 1 else None
                    if thr is not None:
                        thr.record.stats[:] = 0
                    gc.collect()
                    w0 = time.perf_counter()
                    nets[th].net.run(args.piece)
                    walls[th].append(time.perf_counter() - w0)
                    if thr is not None and thr.record.stats[:, 2].sum() > 0:
                        zones += f"  zones {th} threads {zone_costs(thr.record.stats)}"
                rt = core_round_trip()
                trips.append(rt)
                print(f"{model:5s} N={n:6d} round {r:3d}: " + "  ".join(
                    f"threads={th} {walls[th][-1]:.3f} s ({walls[th1][-1] / walls[th][-1]:.2f}x)"
                    for th in args.threads) + f"  core-to-core round trip {rt:.0f} ns" + zones, flush=True)
            digests = {th: spike_digest(va) for th, va in nets.items()}
            for th in args.threads:
                ratios = [a / b for a, b in zip(walls[th1], walls[th], strict=True)]
                print(f"{model:5s} N={n:6d} threads={th}: median wall {statistics.median(walls[th]):.3f} s per "
                      f"{args.piece:g} s, speed-up median {statistics.median(ratios):.2f}x "
                      f"(range {min(ratios):.2f}-{max(ratios):.2f}x over {args.rounds} rounds), "
                      f"same spikes: {digests[th] == digests[th1]}", flush=True)
            print(f"      core-to-core round trip {statistics.median(trips):.0f} ns (median; "
                  f"{min(trips):.0f}-{max(trips):.0f} ns)", flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["cuba"], choices=sorted(MODELS))
    ap.add_argument("--sizes", nargs="+", type=int, default=[64000])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--duration", type=float, default=1.0, help="simulated time per run [s]")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=0,
                    help="instead of fresh runs: one network per thread count, run in turn for this many rounds "
                         "of --piece seconds each, in one process")
    ap.add_argument("--piece", type=float, default=0.2, help="simulated time per network and round with --rounds [s]")
    ap.add_argument("--cold", action="store_true", help="first-ever runs (empty numba cache) instead of steady runs")
    ap.add_argument("--static-blocks", action="store_true",
                    help="the block loop's boundaries stay where the blocks have equal numbers of neurons instead of "
                         "following the threads' busy times, for comparison")
    ap.add_argument("--region-loop", action="store_true",
                    help="threaded runs on the parallel-region loop (one prange region per step) instead of the "
                         "block loop, for comparison")
    args = ap.parse_args(argv)
    if args.rounds < 0 or args.piece <= 0:
        ap.error(f"--rounds must be >= 0 and --piece > 0, got {args.rounds} and {args.piece}")
    if args.rounds and args.cold:
        ap.error("--rounds measures steady runs in one process; --cold measures first-ever runs: choose one")
    if args.cold:
        if "mixed" in args.models:
            ap.error("--cold runs the built-in networks only (memr_snn.networks), not 'mixed'")
        return main_cold(args)
    if args.region_loop:
        from memr_snn.engine.threads import ThreadedChunks

        ThreadedChunks.block_loop = False
    if args.static_blocks:
        from memr_snn.engine.threads import ThreadedChunks

        ThreadedChunks.balance = 0
    if args.rounds:
        return main_rounds(args)
    load_before = os.getloadavg()
    trip_before = core_round_trip()
    rows = []
    for model in args.models:
        for th in args.threads:  # kernels loaded (or compiled) outside the timing
            timed_run(model, 500, th, 0.01)
        for n in args.sizes:
            runs = {th: [] for th in args.threads}
            for _ in range(args.repeats):
                for th in args.threads:
                    runs[th].append(timed_run(model, n, th, args.duration))
            ref = runs[args.threads[0]][0][2]
            wall1 = statistics.median(r[0] for r in runs[args.threads[0]])
            for th in args.threads:
                wall = statistics.median(r[0] for r in runs[th])
                cpu = statistics.median(r[1] for r in runs[th])
                row = {"model": model, "n": n, "threads": th, "wall_s": wall, "cpu_s": cpu,
                       "speedup_wall": wall1 / wall, "walls": [r[0] for r in runs[th]],
                       "same_spikes": all(r[2] == ref for r in runs[th])}
                stats = [r[3] for r in runs[th] if r[3] is not None]
                if stats:
                    row["stats"] = stats
                    row["thread_cpu_s"] = [statistics.median(x["thread_cpu_s"][k] for x in stats) for k in range(th)]
                rows.append(row)
                print(f"{model:5s} N={n:6d} threads={th}: wall {wall:.3f} s  CPU {cpu:.3f} s  "
                      f"speed-up {row['speedup_wall']:.2f}x  same spikes: {row['same_spikes']}  "
                      f"(walls {', '.join(f'{w:.2f}' for w in row['walls'])})", flush=True)
                if stats:
                    x = stats[len(stats) // 2]
                    print(f"      per thread: CPU {', '.join(f'{c:.3f}' for c in row['thread_cpu_s'])} s (medians); "
                          f"barriers {x['barriers']}, waited at {x['waits']}, slept {x['sleeps']}; ticks integrate/"
                          f"wait/push/serial {x['shares_integrate_wait_push_serial']}; ticks per neuron-step in the "
                          f"tail/middle/head zones {x['zone_ticks_per_neuron']}; inner boundaries moved by "
                          f"{x['moved']} neurons at the end", flush=True)
    load_after = os.getloadavg()
    trip_after = core_round_trip()
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; CPUs {os.cpu_count()}; "
          f"core-to-core round trip before {trip_before:.0f} ns, after {trip_after:.0f} ns")
    if args.json is not None:
        args.json.write_text(json.dumps({"rows": rows, "load_before": load_before, "load_after": load_after,
                                         "round_trip_ns_before": trip_before, "round_trip_ns_after": trip_after,
                                         "duration_s": args.duration, "numpy": np.__version__}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
