"""``memr-snn bci``: the standard closed-loop BCI experiments over seeds (results.json, results.md, plots)."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..io.atomic import save_figure, write_text
from ._common import HelpFormatter, add_progress_options, check_output_path, examples

EXPERIMENTS = {
    "decoders": "KF, steady-state KF on AIMC tiles, ReFIT-KF and the spiking crossbar decoder (fault-aware "
                "'snn' and plain 'snn_plain') on centre-out, with the spiking decoder's energy per bin",
    "unit-loss": "60 % of the units lost, then ReFIT-style adaptation of the primary (the harder condition; "
                 "'snn_input' also retrains the spiking decoder's input crossbar)",
    "drift": "success per day of a day-0 KF and a ReFIT-KF while the tuning drifts",
    "faults": "spiking decoder under the safety layer: 20 units lost, fallback bins and switches",
}
#: decoders of the ``decoders`` experiment and the adapting ones of ``unit-loss`` (names of memr_snn.bci.DECODERS)
_DECODERS = ("kf", "aimc_kf", "refit", "snn", "snn_plain")
_ADAPTING = ("refit", "snn", "snn_input")
_FILES = ("results.json", "results.md", "trajectories.png", "success_per_block.png", "recovery.png")


def _add_bci_parser(sub) -> None:
    p = sub.add_parser(
        "bci", help="closed-loop BCI experiments (decoders, unit loss and recovery, drift, faults)",
        description="Run the standard closed-loop BCI experiments of memr_snn.bci over seeds and write "
                    "results.json, results.md and plots (trajectories.png, success_per_block.png, recovery.png) "
                    "to --out; prints the markdown table (--json: the JSON document).  Experiments:\n"
                    + "\n".join(f"  {k:<10}{v}" for k, v in EXPERIMENTS.items()),
        epilog=examples("memr-snn bci --seeds 0 1 2 3 4 --out bci_output/",
                        "memr-snn bci unit-loss --seeds 0 1 2 3 4 --out bci_output/",
                        "memr-snn bci --quick --out bci_quick_output/"),
        formatter_class=HelpFormatter,
    )
    p.add_argument("experiments", nargs="*", default=[], metavar="EXPERIMENT",
                   help=f"experiments to run ({', '.join(EXPERIMENTS)}; default: all)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="session seeds (default 0 1 2 3 4)")
    p.add_argument("--out", type=Path, default=Path("bci_output"), help="output folder (default ./bci_output)")
    p.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    p.add_argument("--quick", action="store_true",
                   help="small blocks (8 observation trials, 8 trials per block, 2 adaptation blocks): a smoke test")
    p.add_argument("--days", type=int, default=4, help="days of the drift experiment (default 4)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    add_progress_options(p)


def _configs(quick: bool):
    from ..bci import SessionConfig
    from ..bci.experiments import hard_config

    if quick:
        return (SessionConfig(observation_trials=8, trials_per_block=8, closed_loop_blocks=2),
                hard_config(observation_trials=16, trials_per_block=8), 2)
    return SessionConfig(), hard_config(), 3


def _mean_std(values) -> str:
    v = np.asarray([x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))], float)
    if v.size == 0:
        return "n/a"
    return f"{v.mean():.3f} +- {v.std(ddof=1) if v.size > 1 else 0.0:.3f}"


def _pulses(rows) -> str:
    """Mean device pulses per input retraining and per readout reprogramming of the unit-loss rows ("-" for the
    decoders without crossbars)."""
    if not all("pulses" in r for r in rows):
        return "-"

    def per(key, n):
        v = [r["pulses"][key] / r["pulses"][n] for r in rows if r["pulses"][n]]
        return f"{np.mean(v):.3g}" if v else "0"

    return f"{per('input', 'input_retrainings')} / {per('readout', 'readout_reprogrammings')}"


def _run(args, bar) -> dict:
    from ..bci.experiments import compare_decoders, drift_over_days, fault_fallback, unit_loss_recovery

    base, hard, adapt_blocks = _configs(args.quick)
    todo = args.experiments or list(EXPERIMENTS)
    out: dict = {"seeds": list(args.seeds), "quick": bool(args.quick), "experiments": todo}
    trajectories = {}
    if "decoders" in todo:
        rows = []
        for seed in args.seeds:
            for name in _DECODERS:
                rows += compare_decoders([seed], base, decoders=(name,))
                bar.update(1)
        out["decoders"] = [{k: v for k, v in r.items()} for r in rows]
        from ..bci import run_session

        for name in ("kf", "refit", "snn"):  # the cursor paths of seed 0's last block, for the figure
            blk = run_session(replace(base, decoder=name), seed=args.seeds[0]).closed_loop()[-1]
            trajectories[name] = {"cursor": blk.cursor.tolist(), "trial": blk.trial.tolist(),
                                  "target": blk.target.tolist()}
    if "unit-loss" in todo:
        res = []
        for seed in args.seeds:
            for name in _ADAPTING:
                res.append(unit_loss_recovery(seed, name, adapt_blocks=adapt_blocks, config=hard))
                bar.update(1)
            res.append(unit_loss_recovery(seed, "refit", adapt_blocks=adapt_blocks, config=hard, adapt=False))
            bar.update(1)
        out["unit_loss"] = res
    if "drift" in todo:
        res = []
        for seed in args.seeds:
            for name in ("kf", "refit"):
                res.append(drift_over_days(seed, name, args.days, replace(base, closed_loop_blocks=1)))
                bar.update(1)
        out["drift"] = res
    if "faults" in todo:
        res = []
        for seed in args.seeds:
            res.append(fault_fallback(seed, "snn", config=replace(base, closed_loop_blocks=1)))
            bar.update(1)
        out["faults"] = res
    out["_trajectories"] = trajectories
    return out


def _markdown(res: dict) -> str:
    quick = "--quick: a smoke test, not a measurement; " if res["quick"] else ""
    lines = [f"# memr-snn bci ({quick}seeds {' '.join(map(str, res['seeds']))})", ""]
    if "decoders" in res:
        lines += ["## Decoders (centre-out, default SNR)", "",
                  "| decoder | block | success | time to target [s] | step median [us] | energy per bin [nJ] |",
                  "|---|---|---|---|---|---|"]
        keys = sorted({(r["decoder"], r["block"]) for r in res["decoders"]})
        for dec, blk in keys:
            rs = [r for r in res["decoders"] if r["decoder"] == dec and r["block"] == blk]
            energy = _mean_std(r["energy"]["total"] * 1e9 for r in rs) if "energy" in rs[0] else "-"
            lines.append(f"| {dec} | {blk} | {_mean_std(r['success_rate'] for r in rs)} | "
                         f"{_mean_std(r['time_to_target'] for r in rs)} | "
                         f"{np.median([r['latency_median'] for r in rs]) * 1e6:.0f} | {energy} |")
        lines.append("")
        lines += _energy_table(res["decoders"])
    if "unit_loss" in res:
        lines += ["## Unit loss (60 %) and recovery (harder condition)", "",
                  "| decoder | adapt | intact | lost | adapted | recovery | pulses per adaptation (input / readout) |",
                  "|---|---|---|---|---|---|---|"]
        for dec, adapt in sorted({(r["decoder"], r["adapt"]) for r in res["unit_loss"]}):
            rs = [r for r in res["unit_loss"] if r["decoder"] == dec and r["adapt"] == adapt]
            lines.append(f"| {dec} | {'yes' if adapt else 'no'} | {_mean_std(r['intact'] for r in rs)} | "
                         f"{_mean_std(r['lost'] for r in rs)} | {_mean_std(r['adapted'] for r in rs)} | "
                         f"{_mean_std(r['recovery'] for r in rs)} | {_pulses(rs)} |")
        lines.append("")
    if "drift" in res:
        lines += ["## Drift over days (calibrated on day 0)", "", "| decoder | day | success | time to target [s] |",
                  "|---|---|---|---|"]
        for dec in sorted({r["decoder"] for r in res["drift"]}):
            rs = [r for r in res["drift"] if r["decoder"] == dec]
            for d in range(len(rs[0]["days"])):
                lines.append(f"| {dec} | {d} | {_mean_std(r['days'][d]['success_rate'] for r in rs)} | "
                             f"{_mean_std(r['days'][d]['time_to_target'] for r in rs)} |")
        lines.append("")
    if "faults" in res:
        rs = res["faults"]
        lines += ["## Device/unit faults and fallback (spiking decoder, 20 units lost)", "",
                  "| intact success | faulty success | bins on fallback | first switch [bin] | detection bound |",
                  "|---|---|---|---|---|",
                  (f"| {_mean_std(r['intact']['success_rate'] for r in rs)} | "
                   f"{_mean_std(r['faulty']['success_rate'] for r in rs)} | "
                   f"{_mean_std(r['bins']['fallback'] for r in rs)} | "
                   f"{_mean_std(r['first_switch_bin'] for r in rs)} | {rs[0]['detection_bound']} |"), ""]
    return "\n".join(lines)


def _energy_table(rows: list[dict]) -> list[str]:
    """Energy per decoded bin by term and the device writes of the spiking decoders (block 0 rows: one per session)."""
    rows = [r for r in rows if "energy" in r and r["block"] == 0]
    if not rows:
        return []
    terms = ("reads", "rows", "sense", "neurons", "digital", "total")
    title = ("Spiking crossbar decoders: energy per decoded bin [pJ] by term (memr_snn.bci.spiking_energy) and "
             "device writes [pulses]")
    header = "| decoder | " + " | ".join(terms) + " | fault-aware programming | readout adaptation | input adaptation |"
    lines = [title, "", header, "|---" * (len(terms) + 4) + "|"]
    for dec in sorted({r["decoder"] for r in rows}):
        rs = [r for r in rows if r["decoder"] == dec]
        cells = [_mean_std(r["energy"][t] * 1e12 for r in rs) for t in terms]
        cells += [_mean_std(float(r["devices"][k]) for r in rs) for k in
                  ("fault_aware_pulses", "readout_adaptation_pulses", "input_adaptation_pulses")]
        lines.append(f"| {dec} | " + " | ".join(cells) + " |")
    return lines + [""]


def _plots(res: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    if res.get("_trajectories"):
        tr = res["_trajectories"]
        fig, axes = plt.subplots(1, len(tr), figsize=(4 * len(tr), 4), squeeze=False)
        for ax, (name, d) in zip(axes[0], tr.items(), strict=True):
            cur, trial, tgt = np.array(d["cursor"]), np.array(d["trial"]), np.array(d["target"])
            for k in np.unique(trial):
                ax.plot(cur[trial == k, 0] * 100, cur[trial == k, 1] * 100, lw=0.8)
            ax.scatter(tgt[:, 0] * 100, tgt[:, 1] * 100, c="k", marker="x", s=20)
            ax.set_title(name)
            ax.set_xlabel("x [cm]")
            ax.set_ylabel("y [cm]")
            ax.set_aspect("equal")
        fig.tight_layout()
        written.append(save_figure(fig, out / "trajectories.png", dpi=110))
        plt.close(fig)
    if "decoders" in res or "drift" in res:
        fig, ax = plt.subplots(figsize=(6, 4))
        for dec in sorted({r["decoder"] for r in res.get("decoders", [])}):
            rs = [r for r in res["decoders"] if r["decoder"] == dec]
            blocks = sorted({r["block"] for r in rs})
            ax.plot(blocks, [np.mean([r["success_rate"] for r in rs if r["block"] == b]) for b in blocks], "o-",
                    label=dec)
        for dec in sorted({r["decoder"] for r in res.get("drift", [])}):
            rs = [r for r in res["drift"] if r["decoder"] == dec]
            ax.plot(range(len(rs[0]["days"])), [np.mean([r["days"][d]["success_rate"] for r in rs])
                                                for d in range(len(rs[0]["days"]))], "s--", label=f"{dec} (days)")
        ax.set_xlabel("closed-loop block / day")
        ax.set_ylabel("success rate")
        ax.set_ylim(0, 1.05)
        ax.legend(frameon=False)
        fig.tight_layout()
        written.append(save_figure(fig, out / "success_per_block.png", dpi=110))
        plt.close(fig)
    if "unit_loss" in res:
        fig, ax = plt.subplots(figsize=(6, 4))
        for dec, adapt in sorted({(r["decoder"], r["adapt"]) for r in res["unit_loss"]}):
            rs = [r for r in res["unit_loss"] if r["decoder"] == dec and r["adapt"] == adapt]
            m = np.mean([[b["success_rate"] for b in r["blocks"]] for r in rs], axis=0)
            ax.plot(range(len(m)), m, "o-", label=f"{dec}{'' if adapt else ' (no adaptation)'}")
        ax.axvline(0.5, color="grey", lw=0.8)
        ax.set_xlabel("block (0 intact, 1 after the loss, then adapted)")
        ax.set_ylabel("success rate")
        ax.set_ylim(0, 1.05)
        ax.legend(frameon=False)
        fig.tight_layout()
        written.append(save_figure(fig, out / "recovery.png", dpi=110))
        plt.close(fig)
    return written


def _cmd_bci(args: argparse.Namespace) -> int:
    from ..progress import ProgressBar

    bad = [e for e in args.experiments if e not in EXPERIMENTS]
    if bad:
        raise ValueError(f"unknown experiment {bad[0]!r}; choose from {', '.join(EXPERIMENTS)}")
    for s in args.seeds:
        if s < 0:
            raise ValueError(f"--seeds must be integers >= 0, got {s}")
    if args.days < 1:
        raise ValueError(f"--days must be >= 1, got {args.days}")
    out = check_output_path(args.out, "dir", files=_FILES)
    todo = args.experiments or list(EXPERIMENTS)
    per_seed = {"decoders": len(_DECODERS), "unit-loss": len(_ADAPTING) + 1, "drift": 2, "faults": 1}
    logging.getLogger("memr_snn.bci.safety").setLevel(logging.ERROR)  # switches are in the results instead
    with ProgressBar(len(args.seeds) * sum(per_seed[t] for t in todo), "bci", enabled=args.progress) as bar:
        res = _run(args, bar)
    out.mkdir(parents=True, exist_ok=True)
    md = _markdown(res)
    doc = {k: v for k, v in res.items() if k != "_trajectories"}
    text = json.dumps(doc, indent=1, default=float, allow_nan=True)
    write_text(out / "results.json", text)
    write_text(out / "results.md", md + "\n")
    figs = [] if args.no_plots else _plots(res, out)
    print(text if args.json else md)
    print(f"wrote {out / 'results.json'}, {out / 'results.md'}" + (f" and {len(figs)} figures" if figs else ""),
          file=sys.stderr)
    return 0
