"""Where event-driven wins: ``python benchmarks/sparse_activity.py [--sizes N ...] [--duration T] [--repeats R]``.

A million current-based LIF neurons at about 0.5 Hz, driven by sparse Poisson input, the same network
(the same synapse and input-spike arrays) in memr_snn (event and dense engines), Brian2
``cpp_standalone`` and NEST (one thread; only up to 200k neurons by default: memory); every run a
fresh process, contenders alternated, medians, ratios from the same run.  The network and how each
simulator maps it: :mod:`memr_snn.bench.sparse`.
Prints a markdown table; ``--json FILE`` keeps every measurement.

``--breakdown`` instead splits memr_snn's event-engine run at the first size in one process (kernels
loaded first; medians of CPU time over ``--repeats`` alternated rounds) into phases, from variants of
the network: ``full``, ``no-monitor`` (no SpikeMonitor: recording), ``no-recurrent`` (the recurrent
synapses left out), ``weak-input`` (also without them, and the input weight lowered to the recurrent
one: every input delivery wakes its target, none fires) and ``no-input`` (the input synapses left
out: nothing happens after the first step).  The integrated neuron-steps of three variants are
counted in an untimed step-by-step run.

``--against CHECKOUT`` instead runs memr_snn's event engine of this checkout and of another one (a
folder holding its ``memr_snn`` package, e.g. ``git worktree add ../main main``) on the same network
at the first size, in alternated fresh processes, and prints medians of the steady run's CPU time.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from memr_snn.bench import _sparse_worker
from memr_snn.bench.sparse import (
    DEFAULTS,
    NEST_MAX_NEURONS,
    SPARSE,
    SPARSE_CONTENDERS,
    run_sparse,
    sparse_arrays,
    sparse_table,
)

VARIANTS = ("full", "no-monitor", "no-recurrent", "weak-input", "no-input")


def _variant(name: str, arrays: dict, par: dict) -> tuple[dict, dict, bool]:
    """(arrays, parameters, monitored) of one breakdown variant (module docstring)."""
    empty = np.zeros(0, dtype=np.int64)
    if name == "no-recurrent":
        return {**arrays, "rec_pre": empty, "rec_post": empty}, par, True
    if name == "weak-input":  # every input delivery wakes its target, none makes it fire
        return {**arrays, "rec_pre": empty, "rec_post": empty}, {**par, "w_input": par["w_recurrent"]}, True
    if name == "no-input":
        return {**arrays, "input_pre": empty, "input_post": empty}, par, True
    return arrays, par, name != "no-monitor"


def _active_steps(cfg: dict, arrays: dict, n: int, steps: int) -> int:
    """Neuron-steps kept active past the idle test (the active set after each step's idle test, summed, plus
    the first step's N); counted step by step, not timed.  A neuron woken by a delivery and idle again after
    its one step is not counted."""
    net, _ = _sparse_worker._memr_build(cfg, arrays, n, monitor=False)
    net.run_steps(0)
    total = n
    for _ in range(steps - 1):
        net.run_steps(1)
        total += int(net._sim.act_n[0])
    return total


def breakdown(n: int, duration: float, repeats: int, input_rate: float) -> list[str]:
    """memr_snn's event engine on variants of the network (see the module docstring); markdown lines."""
    net_cfg = {**DEFAULTS, "input_rate": input_rate}
    arrays = sparse_arrays(n, duration, **net_cfg)
    par = dict(SPARSE)
    small = {**arrays, "input_post": arrays["input_post"] % 100, "rec_pre": arrays["rec_pre"][:1000] % 100,
             "rec_post": arrays["rec_post"][:1000] % 100}
    for a in (small, {**small, "rec_pre": small["rec_pre"][:0], "rec_post": small["rec_post"][:0]}):
        net, _ = _sparse_worker._memr_build({"params": par, "engine": "event", **net_cfg}, a, 100)
        net.run(0.01)  # load the kernels
    cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
    spikes = {}
    names = list(VARIANTS)
    for rep in range(repeats):
        k = rep % len(names)
        for v in names[k:] + names[:k]:
            a, p, monitored = _variant(v, arrays, par)
            net, mon = _sparse_worker._memr_build({"params": p, "engine": "event", **net_cfg}, a, n, monitor=monitored)
            net.run_steps(0)
            c0 = time.process_time()
            net.run(duration)
            cpu[v].append(time.process_time() - c0)
            spikes[v] = -1 if mon is None else int(mon.num_spikes)
            del net, mon
    steps = int(round(duration / net_cfg["dt"]))
    act = {v: _active_steps({"params": _variant(v, arrays, par)[1], "engine": "event", **net_cfg},
                            _variant(v, arrays, par)[0], n, steps) for v in ("no-recurrent", "weak-input", "no-input")}
    med = {v: statistics.median(c) for v, c in cpu.items()}
    n_in = int(arrays["input_steps"].size) * int(net_cfg["input_fan_out"])
    rec_events = spikes["full"] * int(net_cfg["fan_out"])
    lines = [(f"memr_snn event engine, N = {n:,}, T = {duration:g} s, inputs at {input_rate:g} Hz; medians of "
              f"{repeats} round(s), CPU time."), "",
             "| variant | CPU [s] median (min–max) | spikes | neuron-steps kept active past the idle test |",
             "|---|---|---|---|"]
    for v in names:
        sp = "–" if spikes[v] < 0 else str(spikes[v])
        lines.append(f"| {v} | {med[v]:.3f} ({min(cpu[v]):.3f}–{max(cpu[v]):.3f}) | {sp} | "
                     f"{act[v] if v in act else '–'} |")
    wake = (med["weak-input"] - med["no-input"]) / max(n_in, 1)
    extra_steps = act["no-recurrent"] - act["weak-input"]
    fire = (med["no-recurrent"] - med["weak-input"]) / max(spikes["no-recurrent"], 1)
    per_step = (med["no-recurrent"] - med["weak-input"]) / max(extra_steps, 1)
    rec = (med["full"] - med["no-recurrent"]) / max(rec_events, 1)
    record = med["full"] - med["no-monitor"]
    lines += ["", "| phase | CPU [s] | share of full | per unit |", "|---|---|---|---|",
              (f"| entry and idle steps (`no-input`: the first step integrates all {n:,} neurons, then "
              f"{steps - 1} steps with nothing to do) | {med['no-input']:.3f} | {med['no-input'] / med['full']:.0%} | "
              f"{med['no-input'] / n * 1e9:.0f} ns per neuron |"),
              (f"| input deliveries that wake an idle neuron (`weak-input` − `no-input`: push, delivery, closed-form "
              f"catch-up, one step, idle test) | {med['weak-input'] - med['no-input']:.3f} | "
              f"{(med['weak-input'] - med['no-input']) / med['full']:.0%} | {wake * 1e9:.0f} ns per delivery "
              f"({n_in} deliveries) |"),
              (f"| input-driven firing (`no-recurrent` − `weak-input`: the active steps until threshold and after "
              f"the reset, spikes, pushes into empty projections) | {med['no-recurrent'] - med['weak-input']:.3f} | "
              f"{(med['no-recurrent'] - med['weak-input']) / med['full']:.0%} | {fire * 1e6:.2f} µs per spike, "
              f"{per_step * 1e9:.0f} ns per extra neuron-step kept active ({extra_steps}) |"),
              (f"| recurrent deliveries (`full` − `no-recurrent`: push, delivery, catch-up, one step, idle test) | "
              f"{med['full'] - med['no-recurrent']:.3f} | {(med['full'] - med['no-recurrent']) / med['full']:.0%} | "
              f"{rec * 1e9:.0f} ns per delivery ({rec_events}) |"),
              (f"| spike recording (`full` − `no-monitor`) | {record:.3f} | {record / med['full']:.0%} | "
              f"{record / max(spikes['full'], 1) * 1e9:.0f} ns per spike |")]
    return lines


def against(tree: str, n: int, duration: float, repeats: int, input_rate: float) -> list[str]:
    """memr_snn's event engine of this checkout against that of another checkout ``tree`` on the same network:
    fresh processes (the sparse worker of each checkout, that checkout first on ``PYTHONPATH``), alternated,
    medians of the steady run's CPU time; markdown lines."""
    import os
    import tempfile

    from memr_snn.bench.launch import run_worker

    net_cfg = {**DEFAULTS, "input_rate": input_rate}
    here = Path(__file__).resolve().parents[1]
    trees = {"this": here, "other": Path(tree).resolve()}
    cpu: dict[str, list[float]] = {k: [] for k in trees}
    wall: dict[str, list[float]] = {k: [] for k in trees}
    spikes: dict[str, set] = {k: set() for k in trees}
    with tempfile.TemporaryDirectory(prefix="memr_snn_sparse_ab_") as tmp:
        path = os.path.join(tmp, "net.npz")
        np.savez(path, **sparse_arrays(n, duration, **net_cfg))
        cfg = {"mode": "memr", "engine": "event", "n_neurons": n, "duration": duration, "arrays": path,
               "params": dict(SPARSE), **net_cfg}
        names = list(trees)
        for rep in range(repeats):
            for k in names[rep % 2:] + names[:rep % 2]:
                root = trees[k]
                _, meta, _, _ = run_worker(cfg, 3600.0, {"PYTHONPATH": str(root)},
                                           worker=root / "memr_snn" / "bench" / "_sparse_worker.py")
                cpu[k].append(meta["run_cpu"])
                wall[k].append(meta["run_time"])
                spikes[k].add(meta["n_spikes"])
                print(f"[sparse A/B] round {rep + 1}/{repeats} {k}: {meta['run_cpu']:.3f} s CPU, "
                      f"{meta['n_spikes']} spikes", file=sys.stderr, flush=True)
    med = {k: statistics.median(v) for k, v in cpu.items()}
    lines = [(f"memr_snn event engine, N = {n:,}, T = {duration:g} s, inputs at {input_rate:g} Hz: this checkout "
              f"against `{tree}`, {repeats} alternated fresh processes each."), "",
             "| checkout | steady run, CPU [s] median (min–max) | wall [s] median | spikes |", "|---|---|---|---|"]
    for k in names:
        lines.append(f"| {k} | {med[k]:.3f} ({min(cpu[k]):.3f}–{max(cpu[k]):.3f}) | "
                     f"{statistics.median(wall[k]):.3f} | {', '.join(map(str, sorted(spikes[k])))} |")
    lines += ["", f"this ÷ other, CPU medians: {med['this'] / med['other']:.2f}"]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="population sizes")
    parser.add_argument("--duration", type=float, default=0.2, help="simulated time [s] (default 0.2)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per contender and size")
    parser.add_argument("--contenders", nargs="+", default=list(SPARSE_CONTENDERS), choices=SPARSE_CONTENDERS)
    parser.add_argument("--input-rate", type=float, default=5.0, help="Poisson rate of the inputs [Hz]")
    parser.add_argument("--nest-max-neurons", type=int, default=NEST_MAX_NEURONS,
                        help="run NEST only up to this size (default %(default)s: it needs > 22 GB at 10^6)")
    parser.add_argument("--json", help="write every measurement to this JSON file")
    parser.add_argument("--breakdown", action="store_true",
                        help="split memr_snn's event-engine run at the first size instead (one process)")
    parser.add_argument("--against", metavar="CHECKOUT",
                        help="instead compare this checkout's event engine with that of another checkout (a folder "
                             "holding its memr_snn package) at the first size, alternated fresh processes")
    args = parser.parse_args()
    if args.against:
        print("\n".join(against(args.against, args.sizes[0], args.duration, args.repeats, args.input_rate)))
        return
    if args.breakdown:
        print("\n".join(breakdown(args.sizes[0], args.duration, args.repeats, args.input_rate)))
        return
    res = run_sparse(args.sizes, duration=args.duration, repeats=args.repeats, contenders=args.contenders,
                     input_rate=args.input_rate, nest_max_neurons=args.nest_max_neurons)
    print("\n".join(sparse_table(res)))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
