"""Bins to fallback after a sudden silence of units, and false alarms of the safety layer on fault-free data.

Usage::

    python benchmarks/bci_fallback.py [--seeds 0 1 2 3 4] [--hours 0.3]

Part 1: :func:`memr_snn.bci.experiments.fault_fallback` with 5, 10 and 20 units silenced at the first
bin of a closed-loop block, with the per-channel rule and the population scan (``scan_bins=(5, 10, 15)``)
and with the scan off (``scan_bins=()``, the default); bins to fallback = ``first_switch_bin + 1``.  Part 2: fault-free
closed-loop sessions of about ``--hours`` hours per seed under ``FaultParams(scan_tail=--scan-tail)``; every switch is a
false alarm (the monitor is re-armed after each block); the smallest null tail the scan computed is the
margin to ``FaultParams.scan_tail``.  Prints markdown tables.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
from memr_snn.bci.experiments import fault_fallback
from memr_snn.bci.protocol import SessionConfig, run_block, run_session
from memr_snn.bci.safety import FaultParams
from memr_snn.bci.task import target_sequence


def latency(seeds, decoder: str, fp: FaultParams) -> None:
    print("| units silenced | monitor | bins to fallback (per seed) | mean | lost bins | first reason |")
    print("|---|---|---|---|---|---|")
    for n_lost in (5, 10, 20):
        for name, mon in (("per-channel + scan", fp), ("per-channel only", replace(fp, scan_bins=()))):
            bins, lost, reasons = [], 0, []
            for seed in seeds:
                r = fault_fallback(seed, decoder, n_lost, safety=mon)
                b = r["first_switch_bin"]
                bins.append(np.nan if b is None else b + 1)
                lost += r["bins"]["n_in"] - r["bins"]["n_out"]
                reasons.append(r["switches"][0]["reason"].split(" (")[0].split(":")[0] if r["switches"] else "-")
            print(f"| {n_lost} | {name} | {', '.join(str(int(x)) if np.isfinite(x) else 'none' for x in bins)} "
                  f"| {np.nanmean(bins):.1f} | {lost} | {', '.join(sorted(set(reasons)))} |", flush=True)


def false_alarms(seeds, hours: float, fp: FaultParams) -> None:
    print("\n| seed | hours | switches (per-channel / scan / other) | false alarms per hour | smallest scan tail |")
    print("|---|---|---|---|---|")
    tot_h, tot_n = 0.0, 0
    for seed in seeds:
        cfg = replace(SessionConfig(), decoder="kf", safety=fp, closed_loop_blocks=1)
        res = run_session(cfg, seed=seed)
        dec, rng = res.decoder, np.random.default_rng([seed, 0xFA15E])
        bins, tail, kinds = 0, 1.0, {"lost channels": 0, "population silence": 0, "other": 0}
        while bins * cfg.task.bin_width < hours * 3600:
            dec.rearm()
            blk = run_block(res.cortex, res.task, res.user, target_sequence(cfg.task, 32, rng), dec)
            bins += len(blk.counts)
            tail = min(tail, dec.scan_min_tail_)
            assert dec.counts["n_in"] == dec.counts["n_out"] == len(blk.counts)
            for ev in dec.switches:
                key = next((k for k in kinds if ev.reason.startswith(k)), "other")
                kinds[key] += 1
        h = bins * cfg.task.bin_width / 3600
        n = sum(kinds.values())
        tot_h, tot_n = tot_h + h, tot_n + n
        print(f"| {seed} | {h:.2f} | {kinds['lost channels']} / {kinds['population silence']} / {kinds['other']} "
              f"| {n / h:.2f} | {tail:.1e} |", flush=True)
    print(f"| all | {tot_h:.2f} | {tot_n} | {tot_n / tot_h:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--hours", type=float, default=0.3, help="fault-free closed-loop time per seed [h]")
    ap.add_argument("--decoder", default="kf", help="primary decoder of the latency runs (default kf)")
    ap.add_argument("--scan-tail", type=float, default=FaultParams().scan_tail,
                    help="FaultParams.scan_tail (default %(default)s)")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-false-alarms", action="store_true")
    a = ap.parse_args()
    fp = FaultParams(scan_bins=(5, 10, 15), scan_tail=a.scan_tail)
    if not a.skip_latency:
        latency(a.seeds, a.decoder, fp)
    if not a.skip_false_alarms:
        false_alarms(a.seeds, a.hours, fp)


if __name__ == "__main__":
    main()
