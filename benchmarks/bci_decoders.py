"""Closed-loop BCI decoders over seeds: ``python benchmarks/bci_decoders.py [--seeds N] [--quick]``.

For each seed one session (192-unit synthetic cortex at the default SNR, 8-target centre-out task,
simulated user with a 200 ms visual delay): a 24-trial observation block, a fit, then two
closed-loop blocks of 16 trials.  The Kalman filter (``kf``) and the steady-state Kalman filter
(``sskf``) run both blocks with their open-loop fit; ReFIT (``refit``) runs block 0 with the same
Kalman fit, refits on it, and runs block 1 with the ReFIT decoder.  The same seed gives every decoder
the same cortex, targets and user.

Printed: success rate, time to target, dial-in time, path efficiency and Fitts throughput (mean over
seeds, +- standard deviation across seeds), the ratio of ReFIT's time to target to the Kalman
filter's on the same block, the steady-state filter's difference to the full filter (closed loop,
and offline on the same counts once the full filter's gain has settled), and the median / 99th
percentile decode time per bin for 192 channels.  Goals (issue): KF success >= 90 %; ReFIT time to
target <= 0.67x KF; steady-state KF within 5 % of the KF; decode step <= 1 ms.
"""

from __future__ import annotations

import argparse

import numpy as np
from memr_snn.bci import CortexParams, SessionConfig
from memr_snn.bci.experiments import compare_decoders, decode_step_time


def _mean_sd(values) -> str:
    a = np.asarray(values, dtype=float)
    return f"{np.nanmean(a):.3f} +- {np.nanstd(a):.3f}"


def main(seeds: int = 5, quick: bool = False, snr: float = 1.0, timing: bool = True) -> dict:
    cfg = SessionConfig(cortex=CortexParams(snr=snr), trials_per_block=8 if quick else 16,
                        observation_trials=16 if quick else 24)
    rows = compare_decoders(range(seeds), cfg)

    def pick(dec, block, key):
        return [r[key] for r in rows if r["decoder"] == dec and r["block"] == block]

    print(f"{seeds} seeds, {cfg.trials_per_block} trials per closed-loop block, {cfg.cortex.n_units} units, "
          f"snr {snr:g}, bin {cfg.task.bin_width * 1e3:g} ms")
    keys = ("success_rate", "time_to_target", "dial_in_time", "path_efficiency", "fitts_throughput")
    print(f"{'decoder':>8} {'block':>5} " + " ".join(f"{k:>22}" for k in keys))
    for dec in ("kf", "sskf", "refit"):
        for block in (0, 1):
            print(f"{dec:>8} {block:>5} " + " ".join(f"{_mean_sd(pick(dec, block, k)):>22}" for k in keys))
    kf_tt = np.array(pick("kf", 1, "time_to_target"))
    refit_tt = np.array(pick("refit", 1, "time_to_target"))
    ratio = refit_tt / kf_tt
    kf_success = np.array(pick("kf", 0, "success_rate") + pick("kf", 1, "success_rate"))
    ss_tt = np.array(pick("sskf", 0, "time_to_target") + pick("sskf", 1, "time_to_target"))
    kf_tt_all = np.array(pick("kf", 0, "time_to_target") + pick("kf", 1, "time_to_target"))
    ss_success = np.array(pick("sskf", 0, "success_rate") + pick("sskf", 1, "success_rate"))
    offline = np.array(pick("sskf", 0, "offline_rms") + pick("sskf", 1, "offline_rms"))
    settle = np.array(pick("sskf", 0, "settle_bins") + pick("sskf", 1, "settle_bins"))
    speed = np.array(pick("sskf", 0, "speed_rms") + pick("sskf", 1, "speed_rms"))
    out = {
        "kf_success": float(kf_success.mean()),
        "refit_over_kf_time_to_target": float(ratio.mean()),
        "sskf_time_to_target_rel_diff": float(np.mean(ss_tt) / np.mean(kf_tt_all) - 1.0),
        "sskf_success_diff": float(ss_success.mean() - kf_success.mean()),
        "sskf_offline_rel_rms": float(np.mean(offline / speed)),
        "kf_settle_bins": float(settle.mean()),
    }
    print(f"KF success rate (both blocks): {out['kf_success']:.3f} (goal >= 0.90)")
    print(f"ReFIT / KF time to target, block 1, per seed: {np.round(ratio, 3).tolist()} "
          f"mean {out['refit_over_kf_time_to_target']:.3f} (goal <= 0.67)")
    print(f"steady-state KF vs KF: time to target {out['sskf_time_to_target_rel_diff']:+.1%}, success "
          f"{out['sskf_success_diff']:+.3f}; offline, after the KF gain settles ({out['kf_settle_bins']:.0f} bins "
          f"from rest), RMS velocity difference {out['sskf_offline_rel_rms']:.2%} of the RMS speed (goal within 5 %)")
    for dec, safety in (("kf", False), ("sskf", False), ("refit", False), ("wiener", False), ("kf", True))[
            :5 if timing else 0]:
        t = decode_step_time(dec, n_bins=1000 if quick else 5000, safety=safety)
        label = dec + (" + safety" if safety else "")
        out[f"step_{label}"] = t
        print(f"decode step, 192 channels, {label:>14}: median {t['median'] * 1e6:7.1f} us, "
              f"p99 {t['p99'] * 1e6:7.1f} us (goal <= 1000 us); CPU time median {t['cpu_median'] * 1e6:7.1f} us, "
              f"p99 {t['cpu_p99'] * 1e6:7.1f} us")
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer trials per block")
    ap.add_argument("--snr", type=float, default=1.0, help="signal-to-noise knob of the cortex (CortexParams.snr)")
    ap.add_argument("--no-timing", dest="timing", action="store_false", help="skip the decode-time measurements")
    args = ap.parse_args()
    main(args.seeds, args.quick, args.snr, args.timing)
