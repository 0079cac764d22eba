"""AIMC accuracy table: ``python benchmarks/aimc_accuracy.py [--seeds 0 1 2 3 4] [--quick] [--out DIR] [mapping]``.

For the 8x8-digits MLP (64-64-10, 40 epochs) and the DVS-digits CNN (8 channels of 3 x 3, 2 x 2 max-pool,
linear readout, 30 epochs; frames of :func:`memr_snn.learning.cnn.load_dvs_frames`), each trained plainly and
hardware-aware (:mod:`memr_snn.learning.hwa`, weight noise measured on the device at one day,
:func:`memr_snn.aimc.training.hwa_for_device`), mapped onto ``hfox_rram`` and ``pcm_aihwkit`` tiles with
AIHWKit's default periphery, the test accuracy at 1 s, 1 h, 1 day, 1 month and 1 year after programming, without
and with global drift compensation and with per-column calibration re-run at every time
(:func:`memr_snn.aimc.experiment.accuracy_vs_time`).  Printed: one markdown table of mean ± std over the seeds,
then the issue's targets (mapped within 1 point of float at programming, within 2 points after one day with
compensation) per network, training and device.  ``--out`` also writes ``aimc_accuracy.json`` and ``.md``.
The mapping options (``--fault-test --compensate --remap rows_columns --spare-columns 32 --spare-rows 16``) map
around stuck devices (:mod:`memr_snn.aimc.faults`); without them the default mapping.
Needs the ``datasets`` extra (scikit-learn, scipy); the DVS digits are generated on first use (about 25 s).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from memr_snn.aimc import MappingConfig
from memr_snn.aimc.experiment import DRIFT_TIMES, accuracy_vs_time, format_time

NETWORKS = {"mlp": {"hidden": (64,), "epochs": 40}, "cnn": {"hidden": (8,), "epochs": 30}}
LABEL = {"uncompensated": "no", "compensated": "global", "column": "global + column"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--devices", nargs="+", default=["hfox_rram", "pcm_aihwkit"])
    ap.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=sorted(NETWORKS))
    ap.add_argument("--quick", action="store_true", help="one seed, 1 s and 1 day only")
    ap.add_argument("--out", type=Path, default=None)
    g = ap.add_argument_group("mapping around stuck devices (MappingConfig; docs/aimc.md)")
    g.add_argument("--fault-test", action="store_true", help="range test and read-verify detection")
    g.add_argument("--compensate", action="store_true", help="pair compensation (needs --fault-test)")
    g.add_argument("--remap", choices=("none", "columns", "rows_columns"), default="none")
    g.add_argument("--spare-columns", type=int, default=0)
    g.add_argument("--spare-rows", type=int, default=0)
    g.add_argument("--replication", type=int, default=1, help="copies of every channel, averaged digitally")
    args = ap.parse_args()
    mapping = MappingConfig(fault_test=args.fault_test, compensate=args.compensate, remap=args.remap,
                            spare_columns=args.spare_columns, spare_rows=args.spare_rows,
                            replication=args.replication)
    seeds = (0,) if args.quick else tuple(args.seeds)
    times = (1.0, 86400.0) if args.quick else DRIFT_TIMES
    rows, targets, doc = [], [], {"seeds": list(seeds), "times_s": list(times), "mapping": repr(mapping), "runs": []}
    t_start = time.perf_counter()
    for model in args.models:
        for training in ("plain", "hwa"):
            r = accuracy_vs_time(model=model, training=training, devices=tuple(args.devices), times=times,
                                 seeds=seeds, column_calibration=True, mapping=mapping, **NETWORKS[model])
            doc["runs"].append({"model": model, "training": training, **r.to_dict()})
            fa = np.asarray(r.float_acc)
            for d in r.devices:
                for mode in ("uncompensated", "compensated", "column"):
                    a = np.asarray(r.acc[d][mode])
                    cells = " | ".join(f"{100 * m:.1f} ± {100 * s:.1f}" for m, s in zip(a.mean(1), a.std(1),
                                                                                        strict=True))
                    rows.append(f"| {model.upper()} | {training} | {d} | {LABEL[mode]} | {cells} |")
                a0 = np.asarray(r.acc[d]["compensated"][0])
                i_day = times.index(86400.0)
                a1 = np.asarray(r.acc[d]["compensated"][i_day])
                d0, d1 = 100 * (fa.mean() - a0.mean()), 100 * (fa.mean() - a1.mean())
                targets.append(f"| {model.upper()} | {training} | {d} | {100 * fa.mean():.1f} ± {100 * fa.std():.1f} "
                               f"| {d0:+.1f} ({'met' if d0 <= 1 else 'missed'}) | {d1:+.1f} "
                               f"({'met' if d1 <= 2 else 'missed'}) |")
    head = ("| network | training | device | drift compensation | "
            + " | ".join(format_time(t) for t in times) + " |\n|---|---|---|---|" + "---|" * len(times))
    md = (f"{head}\n" + "\n".join(rows)
          + f"\n\nTest accuracy [%], mean ± std over seeds {', '.join(map(str, seeds))}.\n\n"
          "| network | training | device | float [%] | float - mapped at 1 s, global compensation (target <= 1) "
          "| float - mapped at 1 day, global compensation (target <= 2) |\n|---|---|---|---|---|---|\n"
          + "\n".join(targets)
          + f"\n\nFloat: the plainly trained network in software, same seeds.  Mapping: {mapping!r}.  "
          f"{time.perf_counter() - t_start:.0f} s.\n")
    print(md)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "aimc_accuracy.json").write_text(json.dumps(doc, indent=2) + "\n")
        (args.out / "aimc_accuracy.md").write_text(md)


if __name__ == "__main__":
    main()
