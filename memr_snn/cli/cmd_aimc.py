"""``memr-snn aimc``: compile weights onto analog tiles, evaluate accuracy over drift time, report energy."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

from ..io.atomic import write_text
from ._common import HelpFormatter, add_progress_options, check_output_path, examples

_EVAL_FILES = ("results.json", "results.md", "accuracy_vs_time.png")
_REPORT_FILES = ("report.json", "report.md")


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _mapping(args):
    from ..aimc import MappingConfig
    from ..devices import ArraySpec

    array = ArraySpec(cell=args.cell, r_wire=args.r_wire, ir_drop=args.ir_drop) if args.r_wire > 0 else None
    return MappingConfig(max_rows=args.max_rows, max_cols=args.max_cols, encoding=args.encoding,
                         program=args.program, array=array, fault_test=args.fault_test, compensate=args.compensate,
                         remap=args.remap, spare_columns=args.spare_columns, spare_rows=args.spare_rows)


def _load_weights(path: Path) -> dict[str, np.ndarray]:
    if path.suffix != ".npz" or not path.is_file():
        raise ValueError(f"--weights {path}: must be an existing .npz file of arrays (fc1.weight, fc1.bias, ...)")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"--weights {path}: cannot read the .npz file ({exc})") from None


def _cmd_compile(args) -> int:
    from ..aimc import CalibrationConfig, compile

    out = check_output_path(args.out, "dir", files=("mapping_table.json", "weights.npz", "devices.npz",
                                                     "tile_health_report.csv"))
    state = _load_weights(args.weights)
    cal = CalibrationConfig(drift_compensation=args.drift_compensation, column=args.column_calibration)
    model = compile(state, device=args.device, io=args.io, mapping=_mapping(args), seed=args.seed, calibration=cal)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out)
    ps = model.program_stats
    doc = {"command": "memr-snn aimc " + shlex.join(sys.argv[2:]) if sys.argv[1:2] == ["aimc"] else "",
           "layers": [lay.name for lay in model.layers], "tiles": model.n_tiles, "device": model.device.name,
           "program": ps, "out": str(out)}
    if args.json:
        print(json.dumps(doc, indent=2, default=float))
    else:
        print(f"{model!r}")
        print(f"programmed {ps['devices']} devices on {model.n_tiles} tiles: {ps['pulses']} pulses, "
              f"{ps['energy'] * 1e9:.4g} nJ, {ps['stuck']} stuck")
        _note(f"wrote {out}/mapping_table.json, weights.npz, devices.npz, calibration/, tile_health_report.csv")
    return 0


def _cmd_evaluate(args) -> int:
    from ..aimc.experiment import accuracy_vs_time

    out = check_output_path(args.out, "dir", files=_EVAL_FILES)
    weights = None
    if args.weights is not None:
        state = _load_weights(args.weights)
        weights = [state] * len(args.seeds)
    if weights is not None and args.training != "plain":
        raise ValueError("--weights evaluates given weights; it cannot be combined with --training hwa")
    cnn = args.model == "cnn"
    hidden = args.hidden if args.hidden is not None else ([8] if cnn else [64])
    epochs = args.epochs if args.epochs is not None else (30 if cnn else 40)
    res = accuracy_vs_time(devices=tuple(args.devices), times=tuple(args.times), seeds=tuple(args.seeds),
                           hidden=tuple(hidden), epochs=epochs, io=args.io, mapping=_mapping(args),
                           compensation=not args.no_compensation, progress=args.progress, weights=weights,
                           model=args.model, training=args.training, hwa_time=args.hwa_time,
                           column_calibration=args.column_calibration)
    command = "memr-snn aimc evaluate " + shlex.join(sys.argv[3:] if sys.argv[1:3] == ["aimc", "evaluate"] else [])
    doc = {"command": command, **res.to_dict()}
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "results.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")
    md = f"# Accuracy versus time after programming\n\n`{command}`\n\n{res.markdown()}\n"
    write_text(out / "results.md", md)
    files = ["results.json", "results.md"]
    if not args.no_plots:
        res.plot(out / "accuracy_vs_time.png")
        files.append("accuracy_vs_time.png")
    print(json.dumps(doc, indent=2) if args.json else md, end="" if not args.json else "\n")
    _note(f"wrote {out}/{', '.join(files)}")
    return 0


def _utilisation(model) -> list[dict]:
    rows = []
    for name, t in model.tiles:
        m = t.cfg
        cols = 2 * t.n_ch if m.encoding == "differential" else t.n_ch + 1
        # spare columns and rows are tile area that holds no weight (remapped lines count once, where they are)
        rows.append({"layer": name, "tile": t.index, "rows_used": t.n_in, "rows": m.max_rows, "cols_used": cols,
                     "cols": m.max_cols, "spare_rows": m.spare_rows, "spare_cols": m.spare_columns,
                     "utilisation": t.n_in * cols / (m.max_rows * m.max_cols)})
    return rows


def _cmd_report(args) -> int:
    from ..aimc import AnalogModel

    if args.out is not None:
        check_output_path(args.out, "dir", files=_REPORT_FILES)
    if args.vectors < 1:
        raise ValueError(f"--vectors must be >= 1, got {args.vectors}")
    model = AnalogModel.load(args.model)
    first = model.layers[0]
    if args.input_shape is not None:
        shape = tuple(args.input_shape)
    elif first.analog and first.weight.ndim == 2:
        shape = (first.n_in,)
    else:
        raise ValueError("--input-shape C H W is needed for a model whose first layer is a convolution")
    if args.time is not None:
        model.set_time(args.time)
    x = np.random.default_rng(args.seed).uniform(0.0, 1.0, (args.vectors, *shape))
    model.reset_counters()
    model(x)
    rep = model.energy(args.profile)
    util = _utilisation(model)
    doc = {"model": str(args.model), "profile": rep.profile, "vectors": args.vectors, "age_s": model.time,
           "fj_per_mac": rep.fj_per_mac, "tops_per_w": rep.tops_per_w,
           "layers": [{"name": lay.name, "energy_j": lay.energy, "latency_s": lay.latency, "macs": lay.macs}
                      for lay in rep.layers],
           "tiles": util, "health": model.health()}
    md = (f"# AIMC report: {args.model}\n\n{args.vectors} input vectors uniform in [0, 1] (seed {args.seed}), "
          f"age {model.time:g} s, profile {rep.profile}\n\n```\n{rep.table()}\n```\n\n"
          "| layer | tile | rows used | cols used | spare rows / cols | utilisation |\n|---|---|---|---|---|---|\n"
          + "\n".join(f"| {u['layer']} | {u['tile']} | {u['rows_used']}/{u['rows']} | {u['cols_used']}/{u['cols']} "
                      f"| {u['spare_rows']} / {u['spare_cols']} | {100 * u['utilisation']:.1f} % |" for u in util)
          + "\n")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "report.json", json.dumps(doc, indent=2, allow_nan=False, default=float) + "\n")
        write_text(args.out / "report.md", md)
        _note(f"wrote {args.out}/report.json, report.md")
    print(json.dumps(doc, indent=2, default=float) if args.json else md, end="" if not args.json else "\n")
    return 0


def _cmd_aimc(args) -> int:
    return {"compile": _cmd_compile, "evaluate": _cmd_evaluate, "report": _cmd_report}[args.aimc_command](args)


def _add_tile_options(p: argparse.ArgumentParser) -> None:
    from ..aimc import IO_PRESETS

    g = p.add_argument_group("tiles")
    g.add_argument("--io", default="aihwkit_inference", choices=sorted(IO_PRESETS), help="DAC/ADC periphery preset")
    g.add_argument("--max-rows", type=int, default=512, help="word lines per tile")
    g.add_argument("--max-cols", type=int, default=512, help="device columns per tile")
    g.add_argument("--encoding", choices=("differential", "reference"), default="differential",
                   help="weight encoding")
    g.add_argument("--program", choices=("direct", "verify"), default="direct", help="programming method")
    g.add_argument("--r-wire", type=float, default=0.0, metavar="OHM",
                   help="wire resistance per line segment; > 0 adds the tiles' IR drop")
    g.add_argument("--cell", choices=("1T1R", "1R", "1S1R"), default="1T1R", help="cell type (with --r-wire)")
    g.add_argument("--ir-drop", choices=("auto", "nodal", "series"), default="auto", help="IR-drop model")
    f = p.add_argument_group("mapping around stuck devices (docs/aimc.md)")
    f.add_argument("--fault-test", action="store_true",
                   help="range-test every device before writing; flag stuck/unreachable ones (health report)")
    f.add_argument("--compensate", action="store_true",
                   help="program each pair from its measured ranges (needs --fault-test)")
    f.add_argument("--remap", choices=("none", "columns", "rows_columns"), default="none",
                   help="fault-aware placement of channels (and rows) (needs --fault-test)")
    f.add_argument("--spare-columns", type=int, default=0, metavar="N", help="spare device columns per tile")
    f.add_argument("--spare-rows", type=int, default=0, metavar="N", help="spare word lines per tile")


def add_aimc_parser(sub) -> None:
    """The ``aimc`` subcommand and its actions (registered by :func:`memr_snn.cli.parser.build_parser`)."""
    aimc = sub.add_parser(
        "aimc", help="dense analog in-memory computing: compile, evaluate over drift time, energy report",
        description="Map dense/convolutional weights onto crossbar tiles with DAC/ADC periphery (memr_snn.aimc): "
                    "compile a weights .npz into artifacts, evaluate accuracy versus time after programming, or "
                    "report the energy and tile utilisation of compiled artifacts.",
        epilog=examples("memr-snn aimc compile --weights mlp.npz --device pcm_aihwkit --out compiled/",
                        "memr-snn aimc evaluate --seeds 0 1 2 --out accuracy/",
                        "memr-snn aimc report --model compiled/"),
        formatter_class=HelpFormatter,
    )
    asub = aimc.add_subparsers(dest="aimc_command", metavar="ACTION", required=True)
    c = asub.add_parser("compile", help="map a weights .npz onto tiles and write the artifacts",
                        description="Compile a state dict of arrays (PyTorch naming: fc1.weight, fc1.bias, ...; "
                                    "2-D linear, 4-D convolution, ReLU between) onto analog tiles, program the "
                                    "devices and write mapping_table.json, weights.npz, devices.npz, per-tile "
                                    "calibration JSON and tile_health_report.csv into --out.",
                        epilog=examples("memr-snn aimc compile --weights mlp.npz --device hfox_rram "
                                        "--drift-compensation --out compiled/"),
                        formatter_class=HelpFormatter)
    c.add_argument("--weights", type=Path, required=True, help="state dict .npz (required)")
    c.add_argument("--device", default="pcm_aihwkit", help="device preset name or device_preset.json path")
    c.add_argument("--seed", type=int, default=0, help="seed of programming and noise")
    c.add_argument("--drift-compensation", action="store_true", help="global drift compensation per tile")
    c.add_argument("--column-calibration", action="store_true", help="per-column gain/offset calibration")
    _add_tile_options(c)
    c.add_argument("--out", type=Path, default=Path("aimc_model"), help="artifact folder")
    c.add_argument("--json", action="store_true", help="print a JSON summary instead of text")

    e = asub.add_parser("evaluate", help="accuracy of the digits MLP or DVS-digits CNN versus time after programming",
                        description="Train a float MLP on the bundled 8x8 digits (--model cnn: a small CNN on "
                                    "DVS-digit frames) per seed (or take --weights), plainly or hardware-aware "
                                    "(--training hwa: weight noise measured on each device, clipping, DAC/ADC "
                                    "quantization), map it onto each device preset, and measure the test accuracy "
                                    "at each time after programming with and without global drift compensation.  "
                                    "Writes results.json, results.md (mean ± std over the seeds) and "
                                    "accuracy_vs_time.png.  Needs the datasets extra (scikit-learn).",
                        epilog=examples("memr-snn aimc evaluate --devices hfox_rram pcm_aihwkit --seeds 0 1 2 3 4 "
                                        "--out accuracy/",
                                        "memr-snn aimc evaluate --model cnn --training hwa --column-calibration "
                                        "--out accuracy_cnn/"),
                        formatter_class=HelpFormatter)
    e.add_argument("--devices", nargs="+", default=["hfox_rram", "pcm_aihwkit"], help="device presets")
    e.add_argument("--times", nargs="+", type=float, default=[1.0, 3600.0, 86400.0, 2592000.0, 31557600.0],
                   metavar="SECONDS", help="times after programming [s]")
    e.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="seeds (training, programming, noise)")
    e.add_argument("--model", choices=("mlp", "cnn"), default="mlp",
                   help="mlp: 8x8 digits, 64-64-10; cnn: DVS-digit frames, conv 3x3 -> ReLU -> max-pool 2 -> linear")
    e.add_argument("--training", choices=("plain", "hwa"), default="plain",
                   help="float training, or hardware-aware training per device")
    e.add_argument("--hwa-time", type=float, default=86400.0, metavar="SECONDS",
                   help="age at which the device's weight noise is measured for --training hwa")
    e.add_argument("--column-calibration", action="store_true",
                   help="also evaluate with per-column calibration re-run at every time (plus drift compensation)")
    e.add_argument("--hidden", nargs="+", type=int, default=None,
                   help="hidden layer widths of the MLP, or convolution channels of the CNN (default: 64 for the "
                        "MLP, 8 for the CNN)")
    e.add_argument("--epochs", type=int, default=None, help="training epochs (default: 40 for the MLP, 30 for the CNN)")
    e.add_argument("--weights", type=Path, default=None,
                   help="use this state dict .npz for every seed, no training (default: train the MLP per seed)")
    e.add_argument("--no-compensation", action="store_true", help="skip the drift-compensated evaluation")
    _add_tile_options(e)
    e.add_argument("--out", type=Path, default=Path("aimc_accuracy"), help="folder for the results")
    e.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    e.add_argument("--no-plots", action="store_true", help="skip accuracy_vs_time.png")
    add_progress_options(e)

    r = asub.add_parser("report", help="energy breakdown and tile utilisation of compiled artifacts",
                        description="Reopen compiled artifacts, run --vectors random inputs (uniform in [0, 1]) "
                                    "and print the energy breakdown per layer and component (priced with "
                                    "--profile), latency, fJ/MAC, TOPS/W, and the utilisation of every tile.",
                        epilog=examples("memr-snn aimc report --model compiled/ --profile hermes_pcm --out report/"),
                        formatter_class=HelpFormatter)
    r.add_argument("--model", type=Path, required=True, help="artifact folder written by 'aimc compile' (required)")
    r.add_argument("--profile", default="hermes_pcm", help="energy profile name or JSON path")
    r.add_argument("--vectors", type=int, default=256, help="input vectors to run")
    r.add_argument("--input-shape", type=int, nargs="+", default=None, metavar="N",
                   help="shape of one input (default: the first linear layer's inputs)")
    r.add_argument("--time", type=float, default=None, metavar="SECONDS",
                   help="read the devices this long after programming first (default: the stored age)")
    r.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    r.add_argument("--out", type=Path, default=None,
                   help="also write report.json and report.md here (default: print only)")
    r.add_argument("--json", action="store_true", help="print the JSON document instead of the tables")
