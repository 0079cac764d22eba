"""``memr-snn sweep``: run a parameter sweep from a TOML config, report its status, plot its degradation curve."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ._common import HelpFormatter, add_progress_options, check_output_path, examples

_RUN_HELP = (
    "Run the sweep of a TOML config (experiment, [grid], [random], [fixed], seeds, root_seed, out, [executor]; "
    "docs/sweeps.md) and write one Parquet row per point to the results folder as each point finishes.  A rerun "
    "skips the points already done (and retries failed ones), so an interrupted sweep resumes; a folder of "
    "another sweep is refused before any work.  The points run on an embedded Dask cluster (one worker process "
    "per core), on an existing scheduler (--scheduler tcp://host:port) or one after the other (--executor "
    "serial)."
)


def _add_sweep_parser(sub) -> None:
    sweep = sub.add_parser(
        "sweep", help="parameter sweeps, Monte-Carlo and fault-injection campaigns (serial or on Dask)",
        description="Parameter sweeps, Monte-Carlo and fault-injection campaigns: run a config, show the status "
                    "of a results folder, plot its degradation curve, list the built-in experiments.  Needs the "
                    "'dask' extra (pip install 'memr_snn[dask]').",
        epilog=examples("memr-snn sweep run examples/sweeps/cuba_stuck_faults.toml",
                        "memr-snn sweep status sweep_output/cuba_stuck_faults",
                        "memr-snn sweep plot sweep_output/cuba_stuck_faults"),
        formatter_class=HelpFormatter,
    )
    ssub = sweep.add_subparsers(dest="sweep_command", metavar="ACTION")
    run = ssub.add_parser(
        "run", help="run (or resume) the sweep of a TOML config", description=_RUN_HELP,
        epilog=examples("memr-snn sweep run examples/sweeps/cuba_stuck_faults.toml --workers 2",
                        "memr-snn sweep run my_sweep.toml --scheduler tcp://10.0.0.5:8786 --out results/",
                        "memr-snn sweep run my_sweep.toml --executor serial --json"),
        formatter_class=HelpFormatter,
    )
    run.add_argument("config", type=Path, help="sweep config file (TOML)")
    run.add_argument("--out", type=Path, default=None,
                     help="results folder (default: the config's 'out', else ./sweep_output/<config name>)")
    run.add_argument("--executor", choices=("dask", "serial"), default=None,
                     help="where the points run (default: the config's [executor] kind, else dask)")
    run.add_argument("--workers", type=int, default=None,
                     help="worker processes of the embedded Dask cluster (default: one per core)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="an existing Dask scheduler, tcp://host:port "
                          "(default: an embedded LocalCluster, one worker per core)")
    run.add_argument("--retries", type=int, default=None,
                     help="extra attempts of a point whose run failed outside the experiment (default 2)")
    run.add_argument("--connect-timeout", type=float, default=None,
                     help="seconds to wait for --scheduler before giving up (default 10)")
    run.add_argument("--keep-failed", action="store_true",
                     help="on a rerun, keep the rows of failed points instead of running them again")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    add_progress_options(run, "points done and failed with the time left")

    status = ssub.add_parser(
        "status", help="points done, failed and missing in a results folder",
        description="Count the points of a results folder: ok, failed (by error type) and missing, and say "
                    "whether this installation can resume it (same code version).",
        epilog=examples("memr-snn sweep status sweep_output/cuba_stuck_faults --json"),
        formatter_class=HelpFormatter,
    )
    status.add_argument("folder", type=Path, help="results folder")
    status.add_argument("--json", action="store_true", help="print the status as one JSON document")

    plot = ssub.add_parser(
        "plot", help="degradation curve (metric vs a parameter, mean +- std over seeds) and a markdown summary",
        description="Plot a metric against a parameter, mean with a +- 1 std band over the seeds (one curve per "
                    "combination of the other varying parameters), and write a markdown summary with the table.",
        epilog=examples("memr-snn sweep plot sweep_output/cuba_stuck_faults",
                        "memr-snn sweep plot results/ --x fault_rate --metric rate_hz --out rate.png"),
        formatter_class=HelpFormatter,
    )
    plot.add_argument("folder", type=Path, help="results folder")
    plot.add_argument("--x", default=None, help="parameter on the x axis (default: the experiment's, else the "
                                                "first grid axis)")
    plot.add_argument("--metric", default=None, help="metric on the y axis (default: the experiment's, else the "
                                                     "first metric)")
    plot.add_argument("--out", type=Path, default=None,
                      help="figure file (default FOLDER/<metric>_vs_<x>.png)")
    plot.add_argument("--summary", type=Path, default=None, help="markdown summary (default FOLDER/summary.md)")
    plot.add_argument("--json", action="store_true", help="print the curve as one JSON document")

    ssub.add_parser("list", help="the built-in experiments",
                    description="List the built-in experiments (any importable 'module:function' works too).",
                    epilog=examples("memr-snn sweep list"), formatter_class=HelpFormatter)


def _cmd_sweep_run(args) -> int:
    from ..sweep import DaskExecutor, SerialExecutor, load_config, run_sweep

    config = load_config(args.config)
    settings = config.executor
    kind = args.executor or settings.get("kind") or "dask"
    out = args.out or config.out or Path("sweep_output") / args.config.stem
    check_output_path(out, "dir")
    if kind == "serial":
        if args.scheduler or args.workers:
            raise ValueError("--scheduler and --workers apply to --executor dask")
        executor = SerialExecutor()
    else:
        address = args.scheduler or settings.get("scheduler")
        executor = DaskExecutor(
            address, workers=(args.workers or settings.get("workers")) if not address else None,
            retries=args.retries if args.retries is not None else settings.get("retries", 2),
            connect_timeout=args.connect_timeout or settings.get("connect_timeout", 10.0))
    progress = sys.stderr.isatty() if args.progress is None else args.progress  # as the help says
    summary = run_sweep(config.spec, out, executor, retry_failed=not args.keep_failed, progress=progress)
    doc = summary.to_dict()
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"sweep {config.spec.experiment}: {summary.n_points} points, {summary.skipped} done before, "
              f"{summary.ok} ok and {summary.failed} failed in this run ({summary.seconds:.1f} s, {summary.executor})")
        print(f"results: {summary.folder} (memr-snn sweep status / plot {summary.folder})")
    return 0


def _cmd_sweep_status(args) -> int:
    from ..sweep import sweep_status

    st = sweep_status(args.folder)
    if args.json:
        print(json.dumps(st, indent=2))
        return 0
    print(f"{st['folder']}: {st['experiment']}, {st['points']} points: {st['ok']} ok, {st['failed']} failed, "
          f"{st['missing']} missing")
    if st["errors"]:
        print("failures: " + ", ".join(f"{k} x{v}" for k, v in st["errors"].items()))
    if st["point_seconds_mean"] is not None:
        print(f"point time: {st['point_seconds_mean']:.2f} s mean, {st['point_seconds_total']:.1f} s in all")
    print(f"code version: {st['code_version']}" + ("" if st["same_code"] else f" ({st['code_note']}: a rerun "
                                                                                "here is refused)"))
    return 0


def _cmd_sweep_plot(args) -> int:
    from ..sweep import degradation_curves, plot_curves, read_results, summary_markdown
    from ..sweep.report import default_axes

    x_default, metric_default = default_axes(args.folder) if not (args.x and args.metric) else (None, None)
    x, metric = args.x or x_default, args.metric or metric_default
    fig = args.out or args.folder / f"{metric}_vs_{x}.png"
    summary = args.summary or args.folder / "summary.md"
    check_output_path(fig, "file")
    check_output_path(summary, "file", option="--summary")
    curves = degradation_curves(read_results(args.folder), x, metric)
    plot_curves(curves, x, metric, fig, title=f"{metric} vs {x}")
    from ..io.atomic import write_text

    rel = os.path.relpath(fig, summary.parent)
    write_text(summary, summary_markdown(args.folder, x, metric, figure=rel))
    if args.json:
        doc = {"x": x, "metric": metric, "figure": str(fig), "summary": str(summary),
               "curves": [{"group": dict(g), "points": [p.__dict__ for p in pts]} for g, pts in curves.items()]}
        print(json.dumps(doc, indent=2))
    else:
        sys.stdout.write(summary_markdown(args.folder, x, metric))
        print(f"\nwrote {fig} and {summary}")
    return 0


def _cmd_sweep_list(args) -> int:
    from ..sweep import BUILTIN_EXPERIMENTS

    for name, entry in BUILTIN_EXPERIMENTS.items():
        print(f"{name:<20}{entry.description}  ({entry.target}, curve: {entry.metric} vs {entry.x})")
    return 0


def _cmd_sweep(args) -> int:
    actions = {"run": _cmd_sweep_run, "status": _cmd_sweep_status, "plot": _cmd_sweep_plot, "list": _cmd_sweep_list}
    if args.sweep_command is None:
        raise ValueError("memr-snn sweep needs an action: run, status, plot or list (memr-snn sweep --help)")
    return actions[args.sweep_command](args)
