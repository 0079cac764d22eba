"""Where a steady dense step's time goes, phase by phase: ``python benchmarks/phase_profile.py [--models cuba alif
coba coba-euler] [--sizes 16000] [--repeats 3]``.

``coba`` is the COBA network with memr_snn's default method (exponential Euler), ``coba-euler`` with forward
Euler (``LIFCondParams(integration="euler")``, the method of Brian2's COBA example).

A copy of :func:`memr_snn.kernel.loop.run_chunk` that calls the same phase functions and reads the CPU's
cycle counter (``llvm.readcyclecounter``) between them, accumulating the cycles of each phase; the engine
runs it in place of ``run_chunk`` (``memr_snn.engine.simulator.run_chunk`` is patched in this process only).
Per model and size: the benchmark network (:mod:`memr_snn.networks`, recorded by a ``SpikeMonitor`` as in
``memr-snn bench``) is rebuilt from its seed, its engine arrays prepared, then ``run(1 s)`` is timed with
``time.process_time``; the phases' shares of the counted cycles split that CPU time.  The middle run of
``--repeats`` (by CPU time) is shown.  The counter also runs while the process waits for a core on a
loaded machine, so a share is exact only on a quiet one (a wait lands in a phase in proportion to its
length, so the shares stay about right).  The plasticity phase is left out: these networks have none.
"""

from __future__ import annotations

import argparse
import functools
import gc
import time

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

import memr_snn.engine.simulator as simulator
from memr_snn import networks
from memr_snn.kernel import loop as L

PHASES = ("inputs, deliver, sample", "integrate, threshold, reset", "sort spikes", "push (delivery to the ring buffer)",
          "count and record")


@intrinsic
def cycles(typingctx):
    """The CPU's cycle counter (``llvm.readcyclecounter``)."""
    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.readcyclecounter", fnty=ir.FunctionType(ir.IntType(64), []))
        return builder.call(fn, [])
    return types.uint64(), codegen


@njit
def run_chunk_profiled(acc, t0, n_steps, event, dt, nrn, inp, syn, xbr, pls, ring, rec, scr):
    """:func:`memr_snn.kernel.loop.run_chunk` (no plasticity) with the cycles of each phase added to ``acc``."""
    n_slots = ring.buf.shape[0]
    spk_cap = rec.spk_step.shape[0]
    if event is None:
        L.flag_bias(nrn.dense_ranges, nrn.gi, nrn.ib, scr.range_bias)
    for s in range(n_steps):
        t = t0 + s
        if rec.spk_n[0] + rec.n_rec_max > spk_cap:
            return s
        slot = t % n_slots
        c0 = cycles()
        nspk = np.int64(0)
        if inp is not None:
            nspk = L.phase_inputs(t, dt, inp, scr)
        L.phase_deliver(t, slot, event is None, nrn, ring, rec)
        L.phase_sample(t, nrn, rec.mon)
        c1 = cycles()
        if event is None:
            nspk = L.phase_integrate(slot, nspk, nrn, syn, xbr, ring, scr)
        else:
            nspk = L.phase_step_idle(t, nspk, nrn, scr)
        c2 = cycles()
        L._sort_spikes(scr.spikes, nspk)
        c3 = cycles()
        L.phase_push(t, slot, event is None, dt, nspk, syn, xbr, pls, ring, scr)
        c4 = cycles()
        L.phase_record(t, s, nspk, syn, rec, scr)
        c5 = cycles()
        acc[0] += c1 - c0
        acc[1] += c2 - c1
        acc[2] += c3 - c2
        acc[3] += c4 - c3
        acc[4] += c5 - c4
        acc[5] += nspk
    return n_steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["cuba", "alif"], choices=["cuba", "alif", "coba", "coba-euler"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[16000])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    acc = np.zeros(6, dtype=np.uint64)
    simulator.run_chunk = lambda *a: run_chunk_profiled(acc, *a)
    build = {"cuba": networks.cuba, "alif": networks.cuba_alif, "coba": networks.coba,
             "coba-euler": functools.partial(networks.coba, integration="euler")}
    print("| model | N | steady CPU [s] | " + " | ".join(PHASES) + " | integration per neuron-step [ns] | "
          "push per spike [µs] | spikes |")
    print("|---|---|---|" + "---|" * len(PHASES) + "---|---|---|")
    for model in args.models:
        build[model](n=1000, seed=1, record=True).net.run(0.01)  # compile
        for n in args.sizes:
            runs = []
            for _ in range(args.repeats):
                net = build[model](n=n, seed=1, record=True).net
                net.threads = 1  # the single-thread loop (the default runs N >= 20 000 on every core)
                net.run_steps(0)
                gc.collect()
                acc[:] = 0
                c0 = time.process_time()
                net.run(1.0)
                runs.append((time.process_time() - c0, acc.copy()))
            cpu, a = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
            total = float(a[:5].sum())
            part = [cpu * float(x) / total for x in a[:5]]
            steps = round(1.0 / net.dt)
            cells = " | ".join(f"{p:.3f} ({p / cpu:.0%})" for p in part)
            print(f"| {model} | {n} | {cpu:.3f} | {cells} | {part[1] / (n * steps) * 1e9:.2f} | "
                  f"{part[3] / max(int(a[5]), 1) * 1e6:.2f} | {int(a[5])} |")


if __name__ == "__main__":
    main()
