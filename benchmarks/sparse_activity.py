"""Where event-driven wins: ``python benchmarks/sparse_activity.py [--sizes N ...] [--duration T] [--repeats R]``.

A million current-based LIF neurons at about 0.5 Hz, driven by sparse Poisson input, the same network
(the same synapse and input-spike arrays) in memr_snn (event and dense engines), Brian2
``cpp_standalone`` and NEST (one thread; only up to 200k neurons by default: memory); every run a
fresh process, contenders alternated, medians, ratios from the same run.  The network and how each
simulator maps it: :mod:`memr_snn.bench.sparse`.
Prints a markdown table; ``--json FILE`` keeps every measurement.

``--breakdown`` instead splits memr_snn's event-engine run at the first size in one process (kernels
loaded first; medians of CPU time over ``--repeats`` alternated rounds): ``full``, ``no-recurrent``
(the recurrent synapses left out) and ``no-input`` (the input synapses left out: nothing happens), so
that (``full - no-recurrent``) / recurrent deliveries and (``no-recurrent - no-input``) / spikes are
the costs per recurrent event and per input-driven spike.
"""

import argparse
import json
import statistics
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


def breakdown(n: int, duration: float, repeats: int, input_rate: float) -> list[str]:
    """memr_snn's event engine on variants of the network (see the module docstring); markdown lines."""
    net_cfg = {**DEFAULTS, "input_rate": input_rate}
    arrays = sparse_arrays(n, duration, **net_cfg)
    empty = np.zeros(0, dtype=np.int64)
    variants = {"full": arrays, "no-recurrent": {**arrays, "rec_pre": empty, "rec_post": empty},
                "no-input": {**arrays, "input_pre": empty, "input_post": empty}}
    cfg = {"params": dict(SPARSE), "engine": "event", **net_cfg}
    small = {**arrays, "input_post": arrays["input_post"] % 100, "rec_pre": arrays["rec_pre"][:1000] % 100,
             "rec_post": arrays["rec_post"][:1000] % 100}
    for a in (small, {**small, "rec_pre": empty, "rec_post": empty}):  # load the kernels
        net, _ = _sparse_worker._memr_build(cfg, a, 100)
        net.run(0.01)
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    spikes = {}
    names = list(variants)
    for rep in range(repeats):
        for v in names[rep % 3:] + names[:rep % 3]:
            net, mon = _sparse_worker._memr_build(cfg, variants[v], n)
            net.run_steps(0)
            c0 = time.process_time()
            net.run(duration)
            cpu[v].append(time.process_time() - c0)
            spikes[v] = int(mon.num_spikes)
            del net, mon
    med = {v: statistics.median(c) for v, c in cpu.items()}
    rec_events = spikes["full"] * int(net_cfg["fan_out"])
    per_event = (med["full"] - med["no-recurrent"]) / max(rec_events, 1)
    per_spike = (med["no-recurrent"] - med["no-input"]) / max(spikes["no-recurrent"], 1)
    lines = [(f"memr_snn event engine, N = {n:,}, T = {duration:g} s, inputs at {input_rate:g} Hz; medians of "
             f"{repeats} round(s), CPU time."), "", "| variant | CPU [s] median (min–max) | spikes |", "|---|---|---|"]
    for v in names:
        lines.append(f"| {v} | {med[v]:.3f} ({min(cpu[v]):.3f}–{max(cpu[v]):.3f}) | {spikes[v]} |")
    lines += ["", (f"Per recurrent delivery (waking an idle neuron): {per_event * 1e9:.0f} ns "
                  f"({rec_events} deliveries); per input-driven spike (its input deliveries, the neuron's "
                  f"active steps, threshold, reset, push): {per_spike * 1e6:.2f} µs.")]
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
    args = parser.parse_args()
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
