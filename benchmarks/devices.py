"""Crossbar synapses vs plain float synapses: ``python benchmarks/devices.py [--n N] [--repeats R] [--quick]
[--uncached]``.

CUBA (Vogels-Abbott, ``n`` neurons, 1 s) with four variants of its synapses:

* ``plain``    -- float weights;
* ``ideal``    -- an ideal crossbar (the ``ideal`` preset, differential pairs): same spikes bit for bit;
* ``noisy``    -- differential pairs with 5 % read noise and PCM-like drift (nu = 0.05 +- 0.02), read
                  one hour after programming;
* ``hfox``     -- the ``hfox_rram`` preset (read noise, drift, relaxation, retention, stuck faults,
                  device-to-device spread, levels), programmed by program-and-verify;
* ``aihwkit``  -- the ``pcm_aihwkit`` preset (programming noise, conductance-dependent drift and
                  accumulated 1/f read noise after AIHWKit's PCM model).

Each variant is built once and warmed up (compiled, 0.1 s run); then the variants are run in
turn, ``repeats`` rounds, 1 s of simulated time each, alternating so machine noise hits all of
them alike.  Printed: median wall time of the run and its ratio to ``plain``, the same for the
process's CPU time (steadier than wall time on a shared machine), firing rate, bytes per
synapse the kernel reads (CSR + device arrays, or the weight cache of ideal reads), and the
device reads per second of simulated time.  Targets: ideal <= 1.3x, noisy <= 2x.  With ``--uncached`` each crossbar
variant runs a second time (``name/uncached``) with every row read from the devices at every
spike, without the read caches and the prefetch: the same spikes, the read path before them.
"""

from __future__ import annotations

import argparse
import statistics
import time

from memr_snn.networks import vogels_abbott as va

from memr_snn.devices import Crossbar, Drift, ReadNoise

VARIANTS = {
    "plain": None,
    "ideal": Crossbar(preset="ideal"),
    "noisy": Crossbar(preset="ideal", read_noise=ReadNoise(0.05), drift=Drift(nu=0.05, nu_std=0.02, t0=1.0),
                      age=3600.0),
    "hfox": Crossbar(preset="hfox_rram", program="verify", age=3600.0),
    "aihwkit": Crossbar(preset="pcm_aihwkit", age=3600.0),
}


def run(n: int, repeats: int, duration: float, uncached: bool = False) -> list[dict]:
    nets = {}
    for name, dev in VARIANTS.items():
        for tag in ("", "/uncached") if uncached and dev is not None else ("",):
            t = time.perf_counter()
            model = va.cuba(n, seed=1, engine="dense", device=dev)
            build = time.perf_counter() - t
            if tag:  # every read from the devices, no read caches, no prefetch (the read path before them)
                model.net._ensure_built().read_caches = False
            model.net.run(0.1)  # compile and warm up
            nets[name + tag] = (model, build)
    times: dict[str, list[float]] = {k: [] for k in nets}
    cpu: dict[str, list[float]] = {k: [] for k in nets}
    for _ in range(repeats):
        for name, (model, _) in nets.items():
            t, c = time.perf_counter(), time.process_time()
            model.net.run(duration)
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    base, base_cpu = statistics.median(times["plain"]), statistics.median(cpu["plain"])
    rows = []
    for name, (model, build) in nets.items():
        net = model.net
        med, med_cpu = statistics.median(times[name]), statistics.median(cpu[name])
        xbs = [pr.crossbar for pr in net.projections if pr.crossbar is not None]
        reads = sum(cb.reads for cb in xbs)
        sim = net._sim
        # device arrays the kernel reads (unused ones are 1 element long); ideal reads come from the weight
        # cache (the devices are read once per row and run), 1/f noise adds its cached factors
        cached = sim.proj_xc[sim.proj_xb >= 0]
        if xbs and (cached == 1).all():
            xb_bytes = sim.xw.nbytes
        elif xbs:
            xb_bytes = sum(a.nbytes for a in (sim.xg, sim.xnu, sim.xtp, sim.xtf, sim.xrs, sim.xgs))
            xb_bytes += sim.xqs.nbytes if (cached == 2).any() else 0
        else:
            xb_bytes = 0
        rows.append({
            "variant": name, "median_s": med, "ratio": med / base, "cpu_s": med_cpu, "cpu_ratio": med_cpu / base_cpu,
            "build_s": build,
            "rate_hz": model.mean_rate(),
            "bytes_per_synapse": (net.synapse_bytes() + xb_bytes) / net.n_synapses,
            "reads_per_s": reads / net.t,
        })
    return rows


def table(rows: list[dict], n: int, repeats: int, duration: float = 1.0) -> str:
    lines = [
        f"CUBA {n} neurons, dense engine, {duration:g} s simulated; median of {repeats} alternating rounds",
        "",
        ("| synapses | run [s] | ratio to plain | CPU [s] | CPU ratio | build [s] | rate [Hz] | bytes/synapse "
         "| device reads/s |"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['median_s']:.3f} | {r['ratio']:.2f}x | {r['cpu_s']:.3f} | {r['cpu_ratio']:.2f}x "
            f"| {r['build_s']:.2f} | {r['rate_hz']:.2f} "
            f"| {r['bytes_per_synapse']:.1f} | {r['reads_per_s']:.3g} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="neurons (default 4000)")
    parser.add_argument("--repeats", type=int, default=7, help="alternating rounds (default 7)")
    parser.add_argument("--quick", action="store_true", help="1000 neurons, 2 rounds of 0.2 s")
    parser.add_argument("--uncached", action="store_true",
                        help="also run each crossbar variant without the read caches and the prefetch (A/B)")
    args = parser.parse_args()
    n, repeats, duration = (1000, 2, 0.2) if args.quick else (args.n, args.repeats, 1.0)
    print(table(run(n, repeats, duration, args.uncached), n, repeats, duration))


if __name__ == "__main__":
    main()
