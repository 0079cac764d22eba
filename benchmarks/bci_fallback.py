"""Bins to fallback after a sudden silence of units or a device fault, and false alarms of the safety layer on
fault-free data.

Usage::

    python benchmarks/bci_fallback.py [--seeds 0 1 2 3 4] [--hours 0.3]
    python benchmarks/bci_fallback.py --devices-only [--seeds 0 1 2 3 4] [--device-hours 0.1]

Part 1: :func:`memr_snn.bci.experiments.fault_fallback` with 5, 10 and 20 units silenced at the first
bin of a closed-loop block, with the per-channel rule and the population scan (``scan_bins=(5, 10, 15)``)
and with the scan off (``scan_bins=()``, the default); bins to fallback = ``first_switch_bin + 1``.  Part 2: fault-free
closed-loop sessions of about ``--hours`` hours per seed under ``FaultParams(scan_tail=--scan-tail)``; every switch is a
false alarm (the monitor is re-armed after each block); the smallest null tail the scan computed is the
margin to ``FaultParams.scan_tail``.  Part 3 (``--devices``, or alone with ``--devices-only``): the spiking
crossbar decoder (``snn``, ``hfox_rram``) under ``FaultParams()`` (device health polled every
``health_period`` = 5 bins); per seed one fitted session, then one block per device fault of
:func:`memr_snn.bci.experiments.device_fault_fallback` (devices newly stuck in both crossbars at a random bin
20-59 of the block, or every device aged by a pause), and fault-free closed-loop blocks of about
``--device-hours`` hours per seed, re-armed after each block: every switch there is a false alarm.  Each fault's
run also reads every device right after the fault, outside the decoder and its energy (the whole crossbars'
health: whether the fault is beyond a threshold of the monitor); ``--runs`` prints every run.  Prints markdown
tables.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
from memr_snn.bci.experiments import device_fault_fallback, fault_fallback
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


DEVICE_ROWS = (("stuck_on", 0.01), ("stuck_on", 0.05), ("stuck_mixed", 0.01), ("stuck_mixed", 0.05),
               ("stuck_off", 0.05), ("pause", 86400.0), ("pause", 365 * 86400.0), ("pause", 10 * 365 * 86400.0))


def _label(fault: str, amount: float) -> str:
    if fault == "pause":
        days = amount / 86400
        return f"pause of {days:g} days" if days < 365 else f"pause of {days / 365:g} years"
    return f"{100 * amount:g} % {fault.replace('_', ' ')}"


def device_faults(seeds, hours: float, rows: bool = True, runs: bool = False) -> None:
    fp = FaultParams()
    sessions = {s: run_session(replace(SessionConfig(), decoder="snn", safety=fp, closed_loop_blocks=1), seed=s)
                for s in seeds}
    if rows:
        device_rows(seeds, sessions, runs)
    device_false_alarms(seeds, sessions, hours)


def device_rows(seeds, sessions, runs: bool = False) -> None:
    print("| device fault | devices stuck | beyond a threshold (whole crossbars, runs) | bins to fallback (per seed) "
          "| max where beyond | alarms where not beyond | lost bins | first reason | confirmation reads | "
          "weight error, whole crossbars | success of the block |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    energy, detail = [], []
    for fault, amount in DEVICE_ROWS:
        bins, lost, reasons, werr, succ, stuck, beyond, conf = [], 0, [], [], [], [], [], []
        for s in seeds:
            r = device_fault_fallback(s, fault, amount, session=sessions[s])
            bins.append(r["bins_to_fallback"])
            beyond.append(r["beyond"])
            conf.append(r["health_confirms"])
            lost += r["bins"]["n_in"] - r["bins"]["n_out"]
            reasons.append(r["switches"][0]["reason"].split(" (")[0] if r["switches"] else "-")
            werr.append(r["whole"].get("weight_error", float("nan")))
            succ.append(r["faulty"]["success_rate"])
            stuck.append(r["stuck_devices"])
            energy.append((r["verify_energy_per_poll"], r["decode_energy_per_bin"], r["health_confirms"]))
            w = r["whole"]["crossbars"]
            detail.append(f"| {_label(fault, amount)} | {s} | {r['onset']} | {r['onset'] % 5} | "
                          + " / ".join(f"{100 * c['stuck_fraction']:.3f} %, {100 * c['stuck_weight_fraction']:.1f} %, "
                                       f"{c['weight_error']:.3f}" for c in w.values())
                          + f" | {'yes' if r['beyond'] else 'no'} | {r['bins_to_fallback']} | {r['health_confirms']} "
                          f"| {reasons[-1]} |")
        shown = ", ".join("none" if b is None else str(b) for b in bins)
        hit = [b for b, z in zip(bins, beyond, strict=True) if z]
        missed = sum(1 for b in hit if b is None)
        top = "-" if not hit else (f"{missed} missed" if missed else str(max(hit)))
        dev = sum(1 for b, z, rs in zip(bins, beyond, reasons, strict=True) if not z and rs.startswith("device"))
        print(f"| {_label(fault, amount)} | {int(np.mean(stuck))} | {sum(beyond)} of {len(seeds)} | {shown} | {top} "
              f"| {dev} | {lost} | {', '.join(sorted(set(reasons)))} | {sum(conf)} "
              f"| {np.nanmin(werr):.2f}-{np.nanmax(werr):.2f} | {np.mean(succ):.2f} |", flush=True)
    ev = np.array([e for e in energy if np.isfinite(e[1]) and e[1] > 0 and e[2] == 0])
    print(f"\nverify energy per routine poll {np.median(ev[:, 0]) * 1e9:.2f} nJ (median of the blocks without a "
          f"confirmation read); decode energy per bin {np.median(ev[:, 1]) * 1e9:.2f} nJ (median of the blocks that "
          f"decoded on the primary)")
    if runs:
        print("\n| device fault | seed | onset bin | onset phase (bin mod 5) | whole in / out: stuck, stuck weight, "
              "weight error | beyond | bins to fallback | confirmation reads | first reason |")
        print("|---|---|---|---|---|---|---|---|---|")
        print("\n".join(detail))


def device_false_alarms(seeds, sessions, hours: float) -> None:
    print("\n| seed | hours | hours polled | switches (device fault / device drift / lost channels / other) | "
          "false alarms per hour | device alarms per polled hour | confirmation reads | verify energy per polled bin "
          "| largest weight error at a block's last poll |")
    print("|---|---|---|---|---|---|---|---|---|")
    tot_h, tot_p, tot_n, tot_d, tot_c, ver = 0.0, 0.0, 0, 0, 0, []
    for s in seeds:
        res = sessions[s]
        dec, rng = res.decoder, np.random.default_rng([s, 0xDEF0])
        bins, polled, conf, kinds = 0, 0, 0, {"device fault": 0, "device drift": 0, "lost channels": 0, "other": 0}
        werr = 0.0
        dec.primary.reset_counters()
        while bins * res.config.task.bin_width < hours * 3600:
            dec.rearm()
            blk = run_block(res.cortex, res.task, res.user, target_sequence(res.config.task, 32, rng), dec)
            bins += len(blk.counts)
            polled += min(dec.health_polls_ * dec.params_.health_period, dec.counts["primary"])
            conf += dec.health_confirms_
            assert dec.counts["n_in"] == dec.counts["n_out"] == len(blk.counts)
            werr = max(werr, dec.health_.weight_error if dec.health_ is not None else 0.0)
            for ev_ in dec.switches:
                kinds[next((k for k in kinds if ev_.reason.startswith(k)), "other")] += 1
        e = dec.primary.energy()
        ver.append(e["verify"] / max(polled, 1))
        h, hp = (x * res.config.task.bin_width / 3600 for x in (bins, polled))
        n, d = sum(kinds.values()), kinds["device fault"] + kinds["device drift"]
        tot_h, tot_p, tot_n, tot_d, tot_c = tot_h + h, tot_p + hp, tot_n + n, tot_d + d, tot_c + conf
        print(f"| {s} | {h:.2f} | {hp:.2f} | {kinds['device fault']} / {kinds['device drift']} / "
              f"{kinds['lost channels']} / {kinds['other']} | {n / h:.2f} | {d / hp:.2f} | {conf} "
              f"| {ver[-1] * 1e9:.2f} nJ | {werr:.2f} |", flush=True)
    print(f"| all | {tot_h:.2f} | {tot_p:.2f} | {tot_n} | {tot_n / tot_h:.2f} | {tot_d / tot_p:.2f} | {tot_c} "
          f"| {np.median(ver) * 1e9:.2f} nJ (median) | |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--hours", type=float, default=0.3, help="fault-free closed-loop time per seed [h]")
    ap.add_argument("--decoder", default="kf", help="primary decoder of the latency runs (default kf)")
    ap.add_argument("--scan-tail", type=float, default=FaultParams().scan_tail,
                    help="FaultParams.scan_tail (default %(default)s)")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-false-alarms", action="store_true")
    ap.add_argument("--devices", action="store_true", help="also part 3: device faults of the spiking decoder")
    ap.add_argument("--devices-only", action="store_true", help="only part 3")
    ap.add_argument("--device-hours", type=float, default=0.1,
                    help="fault-free closed-loop time per seed of part 3 [h]")
    ap.add_argument("--skip-device-faults", action="store_true", help="part 3 without the device-fault rows")
    ap.add_argument("--runs", action="store_true", help="part 3: also a table of every device-fault run (onset, "
                    "whole-crossbar health, bins to fallback)")
    a = ap.parse_args()
    fp = FaultParams(scan_bins=(5, 10, 15), scan_tail=a.scan_tail)
    if not a.skip_latency and not a.devices_only:
        latency(a.seeds, a.decoder, fp)
    if not a.skip_false_alarms and not a.devices_only:
        false_alarms(a.seeds, a.hours, fp)
    if a.devices or a.devices_only:
        device_faults(a.seeds, a.device_hours, rows=not a.skip_device_faults, runs=a.runs)


if __name__ == "__main__":
    main()
