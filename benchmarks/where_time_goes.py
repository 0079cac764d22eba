"""Where a steady step's time goes: ``python benchmarks/where_time_goes.py [--sizes N ...] [--repeats R]``.

The benchmark networks (CUBA, COBA, ALIF; :mod:`memr_snn.networks`) are run in variants that take
one part of the work away at a time, in one process (kernels compiled by a warm-up run), every
variant rebuilt from the same seed, its engine arrays prepared (``run_steps(0)``) before the timed
``run(T)``; variants alternate within each repeat; medians of CPU time (``time.process_time``):

``full``
    As in ``memr-snn bench``: both populations recorded by a ``SpikeMonitor``.
``no-monitor``
    The same network with ``RateMonitor`` objects instead (they only keep the per-step spike counts the
    kernel computes anyway; used to count spikes in every variant): ``full - no-monitor`` is the
    recording of the spikes.
``zero-weights``
    The synapses present but every weight 0, no monitors: every spike is still delivered to its
    row, but the network's dynamics are those of ``no-synapses``, so both have the same spikes.
``no-synapses``
    No projections: integration, threshold, reset and the spikes' bookkeeping.  CUBA and ALIF
    neurons fire on their own (``v_rest = -49 mV`` above the threshold); COBA neurons get
    ``i_bias = 110 pA`` in this variant, ``zero-weights`` and ``silent`` (``v_inf = -49 mV`` too).
``silent``
    ``no-synapses`` with the threshold at +1 V: integration alone, no spike.
``silent-synapses``
    ``silent`` with the synapses of ``full``: no spike is delivered, but the ring buffer is drained
    into the synaptic state at every step, as in every network with synapses.

Estimates (per network, from the medians): integration = ``silent``; ring-buffer drain =
``silent-synapses - silent``; threshold/reset/push per spike = (``no-synapses - silent``) / its
spikes; delivery per spike = (``zero-weights - no-synapses`` - drain) / the same spikes; recording =
``full - no-monitor``; then the full run's time is split as integration + drain + its spikes x
(per-spike costs) + recording, and the remainder is printed.  ``--variants`` runs a subset.
``--engines dense event`` runs the ``full`` and ``no-monitor`` variants with ``engine="event"``
too (CUBA and COBA neurons never go idle, so this is the event engine's bookkeeping on a dense load).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from memr_snn.networks import vogels_abbott as va

from memr_snn import FixedProbability, Network, Population, Projection, RateMonitor, SpikeMonitor

VARIANTS = ("full", "no-monitor", "zero-weights", "no-synapses", "silent", "silent-synapses")
_COBA_BIAS = 110e-12  # [A]: v_inf = -60 mV + 110 pA / 10 nS = -49 mV


def build(model: str, n: int, variant: str, engine: str = "dense", seed: int = 1, dt: float = 1e-4):
    """One variant of a benchmark network (same seed, sizes, connectivity and initial state as
    :func:`memr_snn.networks.cuba` and its siblings); returns ``(network, monitors)``."""
    params, we, wi, init = {
        "cuba": (va.CUBA_PARAMS, va.CUBA_WE_VOLT / va._R, va.CUBA_WI_VOLT / va._R, va._cuba_initial),
        "alif": (va.ALIF_PARAMS, va.CUBA_WE_VOLT / va._R, va.CUBA_WI_VOLT / va._R, va._cuba_initial),
        "coba": (va.COBA_PARAMS, va.COBA_WE, va.COBA_WI, va._coba_initial),
    }[model]
    if model == "coba" and variant in ("zero-weights", "no-synapses", "silent", "silent-synapses"):
        params = dataclasses.replace(params, i_bias=_COBA_BIAS)
    if variant in ("silent", "silent-synapses"):
        params = dataclasses.replace(params, v_threshold=1.0)
    if variant == "zero-weights":
        we = wi = 0.0
    n_exc = (4 * n) // 5
    net = Network(dt=dt, seed=seed, engine=engine)
    initial = init(np.random.default_rng([seed, 7]), n)
    exc = net.add(Population(n_exc, params, name="exc", initial={k: x[:n_exc] for k, x in initial.items()}))
    inh = net.add(Population(n - n_exc, params, name="inh", initial={k: x[n_exc:] for k, x in initial.items()}))
    if variant not in ("no-synapses", "silent"):
        p = min(1.0, va.SYNAPSES_PER_NEURON / n)
        for pre, w, rec in ((exc, we, "exc"), (inh, wi, "inh")):
            for post in (exc, inh):
                net.add(Projection(pre, post, FixedProbability(p), weights=w, delays=1, receptor=rec))
    # the kernel counts every step's spikes per population anyway (RateMonitor's drain): counting
    # them costs no per-spike work, recording them (SpikeMonitor) does
    monitor = SpikeMonitor if variant == "full" else RateMonitor
    return net, [net.add(monitor(exc)), net.add(monitor(inh))]


def measure(model: str, n: int, variant: str, engine: str, duration: float) -> dict:
    """One timed ``run(duration)`` of a freshly built variant (engine arrays prepared beforehand)."""
    net, mons = build(model, n, variant, engine)
    net.run_steps(0)
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    net.run(duration)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    spikes = sum(int(m.num_spikes) if isinstance(m, SpikeMonitor) else int(m.counts.sum()) for m in mons)
    if net._sim.mode != engine:
        raise RuntimeError(f"asked for the {engine} engine, the network ran {net._sim.mode}")
    return {"model": model, "n": n, "variant": variant, "engine": engine, "cpu": cpu, "wall": wall,
            "spikes": spikes}


def decompose(med: dict) -> dict:
    """Split the ``full`` run of one (model, size) from the variants' medians (``variant -> (cpu, spikes)``)."""
    cpu = {v: c for v, (c, _) in med.items()}
    spk_free = med["no-synapses"][1]
    spk_full = med["full"][1]
    per_push = (cpu["no-synapses"] - cpu["silent"]) / max(spk_free, 1)
    drain = cpu["silent-synapses"] - cpu["silent"]
    per_delivery = (cpu["zero-weights"] - cpu["no-synapses"] - drain) / max(spk_free, 1)
    parts = {"integration": cpu["silent"], "buffer drain": drain, "threshold/reset/push": per_push * spk_full,
             "delivery": per_delivery * spk_full, "recording": cpu["full"] - cpu["no-monitor"]}
    parts["remainder"] = cpu["full"] - sum(parts.values())
    return {"parts": parts, "per_spike_push": per_push, "per_spike_delivery": per_delivery, "spikes": spk_full,
            "full": cpu["full"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["cuba", "coba", "alif"], choices=["cuba", "coba", "alif"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000])
    parser.add_argument("--duration", type=float, default=1.0, help="simulated time [s]")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", nargs="+", default=["dense", "event"], choices=["dense", "event"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--json", help="write every measurement to this JSON file")
    args = parser.parse_args()
    variants = tuple(args.variants)
    for model in args.models:  # compile / load the kernels of every variant and engine
        for engine in args.engines:
            for variant in variants:
                net, _ = build(model, 200, variant, engine)
                net.run(0.002)
    runs = []
    jobs = [(m, n, v, "dense") for m in args.models for n in args.sizes for v in variants]
    if "event" in args.engines:
        jobs += [(m, n, v, "event") for m in args.models for n in args.sizes for v in ("full", "no-monitor")
                 if v in variants]
    if "dense" not in args.engines:
        jobs = [j for j in jobs if j[3] != "dense"]
    for rep in range(args.repeats):
        k = rep % len(variants)
        order = variants[k:] + variants[:k]
        for job in sorted(jobs, key=lambda j: (j[0], j[1], j[3], order.index(j[2]))):
            runs.append({**measure(*job, args.duration), "repeat": rep})
            r = runs[-1]
            print(f"[where] {rep + 1}/{args.repeats} {r['model']} {r['n']} {job[3]}/{r['engine']} {r['variant']}: "
                  f"{r['cpu']:.3f} s CPU, {r['spikes']} spikes", flush=True, file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))
    print("| model | N | engine | variant | CPU [s] median (min–max) | spikes |")
    print("|---|---|---|---|---|---|")
    med: dict = {}
    for m in args.models:
        for n in args.sizes:
            for e in ("dense", "event"):
                for v in variants:
                    rs = [r for r in runs if (r["model"], r["n"], r["variant"], r["engine"]) == (m, n, v, e)]
                    if not rs:
                        continue
                    c = [r["cpu"] for r in rs]
                    med[(m, n, e, v)] = (statistics.median(c), rs[0]["spikes"])
                    print(f"| {m} | {n} | {e} | {v} | {statistics.median(c):.3f} ({min(c):.3f}–{max(c):.3f}) | "
                          f"{rs[0]['spikes']} |")
    print()
    print("| model | N | full [s] | integration | buffer drain | threshold/reset/push | delivery | recording | "
          "remainder | delivery per spike [µs] | push per spike [µs] | event engine full [s] (÷ dense) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in args.models:
        for n in args.sizes:
            if not all((m, n, "dense", v) in med for v in VARIANTS):
                continue
            d = decompose({v: med[(m, n, "dense", v)] for v in VARIANTS})
            p = d["parts"]
            share = {k: f"{x:.3f} ({x / d['full']:.0%})" for k, x in p.items()}
            ev = med.get((m, n, "event", "full"))
            ev_text = f"{ev[0]:.3f} ({ev[0] / d['full']:.2f}×)" if ev else "–"
            print(f"| {m} | {n} | {d['full']:.3f} | {share['integration']} | {share['buffer drain']} | "
                  f"{share['threshold/reset/push']} | "
                  f"{share['delivery']} | {share['recording']} | {share['remainder']} | "
                  f"{d['per_spike_delivery'] * 1e6:.3f} | {d['per_spike_push'] * 1e6:.3f} | {ev_text} |")


if __name__ == "__main__":
    main()
