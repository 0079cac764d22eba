"""Channel-level faults (disconnect, rail, noise burst) under the channel-signal rule, false alarms on fault-free
sessions with a signal stream, and the latency of the silence rule for silenced units.

Usage::

    python benchmarks/bci_channel_faults.py faults [--seeds 0 1 2 3 4 5 6 7 8 9]
    python benchmarks/bci_channel_faults.py false-alarms --primary kf --hours 0.3 [--seeds 0 1 2 3 4]
    python benchmarks/bci_channel_faults.py false-alarms --primary snn --hours 0.1 [--seeds 0 1 2 3 4]
    python benchmarks/bci_channel_faults.py silence [--seeds 0 1 2 3 4]
    python benchmarks/bci_channel_faults.py diagnose --seeds 1 --hours 0.1
    python benchmarks/bci_channel_faults.py step-time

``faults``: :func:`memr_snn.bci.experiments.channel_fault_fallback` (KF primary, default task, 192 channels,
``SignalParams()``, ``FaultParams()``) with 1, 5 and 20 channels disconnected or railed and 20 channels in a noise
burst (100 uV, 0.5 s), the onset at a random 1 ms step of bins 20-59; one fitted session per seed shared by the rows.
``false-alarms``: fault-free closed-loop blocks of 32 trials (re-armed after each) of about ``--hours`` hours per
seed with the signal stream, under ``FaultParams(silence_model=...)`` for each ``--models``; every switch is a false
alarm.  ``silence``: :func:`memr_snn.bci.experiments.fault_fallback` (5, 10, 20 units silenced at the first bin of a
block, neuron-level: the broadband signal intact, no signal stream) under each silence model.  ``diagnose``: why the
counts-only silence rule raises false alarms in closed loop: fault-free blocks under ``silence_model="counts"`` for
the KF and the spiking primary; the intended speeds of the observation and closed-loop blocks, the fraction of bins
in which a monitored unit's true rate is below 0.5 Hz, the longest empty run of each monitored channel over its
``k_i``, and for every false alarm the spikes the true rates expected over the run.  ``step-time``: thread CPU time
of ``SafeDecoder(KalmanFilter()).step`` on 192 channels with the counts rule, the rate rule, and the rate rule with
the signal stream (1500 bins each, 3 alternated repeats).  Prints markdown tables.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import replace

import numpy as np
from memr_snn.bci.channels import SignalParams
from memr_snn.bci.experiments import channel_fault_fallback, fault_fallback
from memr_snn.bci.protocol import SessionConfig, run_block, run_session
from memr_snn.bci.safety import FaultParams
from memr_snn.bci.task import target_sequence

ROWS = (("disconnect", 1), ("disconnect", 5), ("disconnect", 20), ("rail", 1), ("rail", 5), ("rail", 20),
        ("burst", 20))


def faults(seeds) -> None:
    print("| channel fault | bins to fallback (per seed) | max | onset phases [ms in the bin] | exactly the faulted "
          "channels dropped | lost bins | channels judged flat (of 192) | success of the block |")
    print("|---|---|---|---|---|---|---|---|")
    sessions = {s: run_session(replace(SessionConfig(), decoder="kf", safety=FaultParams(), signal=SignalParams(),
                                       closed_loop_blocks=1), seed=s) for s in seeds}
    for fault, n in ROWS:
        rs = [channel_fault_fallback(s, fault, n, burst_rms=100.0, session=sessions[s]) for s in seeds]
        b = [r["bins_to_fallback"] for r in rs]
        lost = sum(r["bins"]["n_in"] - r["bins"]["n_out"] for r in rs)
        top = "missed" if None in b else str(max(b))
        print(f"| {fault} of {n} | {', '.join(str(x) for x in b)} | {top} | "
              f"{', '.join(str(r['onset_phase_ms']) for r in rs)} | {sum(r['exact'] for r in rs)} of {len(rs)} | "
              f"{lost} | {min(r['flat_monitored'] for r in rs)}-{max(r['flat_monitored'] for r in rs)} | "
              f"{np.mean([r['faulty']['success_rate'] for r in rs]):.2f} |", flush=True)


def false_alarms(seeds, primary: str, hours: float, models) -> None:
    print("\n| primary | silence model | seed | hours | channel-hours | switches (signal / silent / other) "
          "| false alarms per hour |")
    print("|---|---|---|---|---|---|---|")
    for model in models:
        tot_h, tot = 0.0, np.zeros(3, dtype=int)
        for seed in seeds:
            cfg = replace(SessionConfig(), decoder=primary, safety=FaultParams(silence_model=model),
                          signal=SignalParams(), closed_loop_blocks=1)
            res = run_session(cfg, seed=seed)
            dec, rng = res.decoder, np.random.default_rng([seed, 0xFA15E])
            bins, kinds = 0, np.zeros(3, dtype=int)
            while bins * cfg.task.bin_width < hours * 3600:
                dec.rearm()
                blk = run_block(res.cortex, res.task, res.user, target_sequence(cfg.task, 32, rng), dec,
                                front_end=res.front_end)
                bins += len(blk.counts)
                assert dec.counts["n_in"] == dec.counts["n_out"] == len(blk.counts)
                for ev in dec.switches:
                    kinds[0 if ev.reason.startswith("channel signal") else
                          1 if ev.reason.startswith("lost channels") else 2] += 1
            h = bins * cfg.task.bin_width / 3600
            tot_h, tot = tot_h + h, tot + kinds
            print(f"| {primary} | {model} | {seed} | {h:.2f} | {h * dec.n_units_:.0f} | {kinds[0]} / {kinds[1]} / "
                  f"{kinds[2]} | {kinds.sum() / h:.1f} |", flush=True)
        print(f"| {primary} | {model} | all | {tot_h:.2f} | {tot_h * 192:.0f} | {tot[0]} / {tot[1]} / {tot[2]} "
              f"| {tot.sum() / tot_h:.1f} |", flush=True)


def silence(seeds, models) -> None:
    print("\n| units silenced | silence model | bins to fallback (per seed) | mean | lost bins | detection bound |")
    print("|---|---|---|---|---|---|")
    for n_lost in (5, 10, 20):
        for model in models:
            rs = [fault_fallback(s, "kf", n_lost, safety=FaultParams(silence_model=model)) for s in seeds]
            b = [np.nan if r["first_switch_bin"] is None else r["first_switch_bin"] + 1 for r in rs]
            lost = sum(r["bins"]["n_in"] - r["bins"]["n_out"] for r in rs)
            print(f"| {n_lost} | {model} | {', '.join('none' if np.isnan(x) else str(int(x)) for x in b)} "
                  f"| {np.nanmean(b):.1f} | {lost} | {rs[0]['detection_bound']} |", flush=True)


def diagnose(seeds, hours: float) -> None:
    print("\n| primary | seed | hours | intended speed mean / p95 [m/s], observation | closed loop | bins with a "
          "monitored unit's rate < 0.5 Hz, observation / closed loop | longest run / k_i, median / max | false "
          "alarms: run [bins], k_i, spikes expected over the run |")
    print("|---|---|---|---|---|---|---|---|")
    for primary in ("kf", "snn"):
        for seed in seeds:
            cfg = replace(SessionConfig(), decoder=primary, safety=FaultParams(silence_model="counts"),
                          closed_loop_blocks=1)
            res = run_session(cfg, seed=seed)
            dec, rng, cx = res.decoder, np.random.default_rng([seed, 0xDEF0]), res.cortex
            obs, mon = res.blocks[0], dec.monitored_
            bins, alarms, intended, low, best = 0, [], [], [], np.zeros(mon.size)
            while bins * cfg.task.bin_width < hours * 3600:
                dec.rearm()
                blk = run_block(cx, res.task, res.user, target_sequence(cfg.task, 32, rng), dec)
                bins += len(blk.counts)
                rates = cx.rates(blk.intended)
                intended.append(np.hypot(*blk.intended.T))
                low.append((rates[:, mon] < 0.5).mean())
                run = np.zeros(mon.size)
                for z in blk.counts[:, mon]:
                    run = np.where(z == 0, run + 1, 0)
                    best = np.maximum(best, run)
                for ev in dec.switches:
                    if ev.reason.startswith("lost channels"):
                        ch = int(ev.reason.rsplit("[", 1)[1].split(",")[0].rstrip("]"))
                        r0 = ev.bin
                        while r0 > 0 and blk.counts[r0 - 1, ch] == 0:
                            r0 -= 1
                        alarms.append(f"{ev.bin - r0 + 1}, {int(dec.silence_bins_[ch])}, "
                                      f"{rates[r0:ev.bin + 1, ch].sum() * cfg.task.bin_width:.1f}")
            so, sc = np.hypot(*obs.intended.T), np.concatenate(intended)
            lo = (cx.rates(obs.intended)[:, mon] < 0.5).mean()
            ratio = best / dec.silence_bins_[mon]
            print(f"| {primary} | {seed} | {bins * cfg.task.bin_width / 3600:.2f} | {so.mean():.3f} / "
                  f"{np.percentile(so, 95):.3f} | {sc.mean():.3f} / {np.percentile(sc, 95):.3f} | {100 * lo:.2f} % / "
                  f"{100 * np.mean(low):.2f} % | {np.median(ratio):.2f} / {ratio.max():.2f} | "
                  f"{'; '.join(alarms) or '-'} |", flush=True)


def step_time() -> None:
    from memr_snn.bci import CortexParams, KalmanFilter, MotorCortex, SafeDecoder
    from memr_snn.bci.channels import FrontEnd

    rng = np.random.default_rng(0)
    v = np.zeros((3000, 2))
    for t in range(1, 3000):
        v[t] = 0.95 * v[t - 1] + rng.normal(scale=0.03, size=2)
    fe = FrontEnd(SignalParams(), 192, seed=1)
    X, R = fe.record(MotorCortex(CortexParams(), seed=0).sample(v, 0.02), 0.02)
    decs = {"counts rule, no signal": (FaultParams(silence_model="counts"), None),
            "rate rule, no signal": (FaultParams(), None), "rate rule + signal stream": (FaultParams(), R[:1500])}
    decs = {k: (SafeDecoder(KalmanFilter(), params=p).fit(X[:1500], v[:1500], signal=r), r is not None)
            for k, (p, r) in decs.items()}
    times: dict[str, list[float]] = {k: [] for k in decs}
    for _ in range(3):
        for k, (d, sig) in decs.items():
            d.rearm()
            for z, q in zip(X[1500:], R[1500:], strict=True):
                t0 = time.thread_time()
                d.step(z, signal=q) if sig else d.step(z)
                times[k].append(time.thread_time() - t0)
    print("\n| SafeDecoder(KalmanFilter()), 192 channels | median [us] | p99 [us] (thread CPU time) |\n|---|---|---|")
    for k, t in times.items():
        print(f"| {k} | {np.median(t) * 1e6:.0f} | {np.percentile(t, 99) * 1e6:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("part", choices=("faults", "false-alarms", "silence", "diagnose", "step-time"))
    ap.add_argument("--seeds", type=int, nargs="+", default=None)
    ap.add_argument("--primary", default="kf")
    ap.add_argument("--hours", type=float, default=0.3)
    ap.add_argument("--models", nargs="+", default=["rate", "counts"], choices=("rate", "counts"))
    a = ap.parse_args()
    logging.getLogger("memr_snn.bci.safety").setLevel(logging.ERROR)
    t0 = time.process_time()
    if a.part == "faults":
        faults(a.seeds if a.seeds is not None else list(range(10)))
    elif a.part == "false-alarms":
        false_alarms(a.seeds if a.seeds is not None else list(range(5)), a.primary, a.hours, a.models)
    elif a.part == "step-time":
        step_time()
    elif a.part == "diagnose":
        diagnose(a.seeds if a.seeds is not None else [1], a.hours)
    else:
        silence(a.seeds if a.seeds is not None else list(range(5)), a.models)
    print(f"\n(CPU time {time.process_time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
