"""``memr-snn pipeline``: run the hybrid perception -> control examples over seeds, print their schedule."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from ..io.atomic import write_text
from ._common import HelpFormatter, add_json_option, add_progress_options, check_output_path, examples, note

#: example name -> one-line description
EXAMPLES = {
    "hybrid-tracking": "DVS -> template-fit estimate (its chord product on AIMC tiles) -> spiking stage -> PID -> "
                       "pan-tilt eye, against PIDs given the true target offset, without and with the estimate's "
                       "lead (memr_snn.pipeline.tracking)",
    "cartpole": "spiking controller on HfOx RRAM crossbars (trained offline by imitation, in the run) -> "
                "CartPole-v1, returns over --episodes episodes per seed (memr_snn.pipeline.cartpole)",
}
_FILES = ("results.json", "results.md", "timeline.png", "schedule.txt")


def _config(args):
    from ..pipeline.tracking import HybridConfig

    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    return HybridConfig(steps=args.steps)


def _run_example(args) -> tuple[dict, str]:
    if args.example == "cartpole":
        from ..pipeline.cartpole import CartPoleConfig, cartpole_markdown, evaluate_cartpole

        cfg = CartPoleConfig(episodes=args.episodes, preset=args.device, train_episodes=args.train_episodes,
                             dagger_rounds=args.dagger_rounds, dagger_episodes=args.dagger_episodes)
        res = evaluate_cartpole(args.seeds, cfg, progress=args.progress)
        return res, cartpole_markdown(res)
    from ..pipeline.tracking import compare_tracking, comparison_markdown

    res = compare_tracking(args.seeds, _config(args), progress=args.progress)
    return res, comparison_markdown(res)


def _cmd_run(args) -> int:
    from ..pipeline.report import plot_timeline, summary_table

    out = check_output_path(args.out, "dir", files=_FILES)
    res, table = _run_example(args)
    command = "memr-snn pipeline " + shlex.join(sys.argv[2:] if sys.argv[1:2] == ["pipeline"] else [])
    first = res["per_seed"][0]
    pipe = first["pipeline"]
    doc = {"example": args.example, "command": command, "seeds": res["seeds"], "config": res["config"],
           "summary": res["summary"],
           "per_seed": [{k: v for k, v in r.items() if k != "pipeline"} for r in res["per_seed"]],
           "schedule": pipe.schedule.to_dict(pipe.schedule.hyperperiod)}
    md = (f"# Pipeline example {args.example}\n\n`{command}`\n\n{table}\n\n"
          f"## Stages of seed {first['seed']}\n\n{summary_table(first['report'])}\n")
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "results.json", json.dumps(doc, indent=2, allow_nan=False, default=float) + "\n")
    write_text(out / "results.md", md)
    write_text(out / "schedule.txt", pipe.schedule.format() + "\n")
    files = ["results.json", "results.md", "schedule.txt"]
    if not args.no_plots:
        plot_timeline(pipe, out / "timeline.png")
        files.append("timeline.png")
    print(json.dumps(doc, indent=2, default=float) if args.json else md, end="\n" if args.json else "")
    note(f"wrote {out}/{', '.join(files)}")
    return 0


def _cmd_schedule(args) -> int:
    if args.example == "cartpole":  # the schedule does not depend on the weights: an untrained float controller
        import numpy as np

        from ..networks.cartpole_controller import ControllerConfig, SpikingCartPoleController
        from ..pipeline.cartpole import cartpole_pipeline

        n_in = ControllerConfig().encoding.n_channels
        pipe = cartpole_pipeline(SpikingCartPoleController(np.zeros((2, n_in)), np.zeros(2)), seed=0)
    else:
        from ..pipeline.tracking import HybridConfig, hybrid_pipeline

        pipe = hybrid_pipeline(HybridConfig(), seed=0)
    sch = pipe.schedule
    n = args.steps if args.steps is not None else sch.hyperperiod
    if n < 1:
        raise ValueError(f"--steps must be >= 1, got {n}")
    print(json.dumps(sch.to_dict(n), indent=2) if args.json else sch.format(n))
    return 0


def _cmd_pipeline(args) -> int:
    return {"run": _cmd_run, "schedule": _cmd_schedule}[args.pipeline_command](args)


def add_pipeline_parser(sub) -> None:
    """The ``pipeline`` subcommand (registered by :func:`memr_snn.cli.parser.build_parser`)."""
    names = ", ".join(EXAMPLES)
    pipe = sub.add_parser(
        "pipeline", help="hybrid perception -> control pipelines: run an example over seeds, print its schedule",
        description="Spiking networks, AIMC models, encoders, readouts, controllers and gymnasium plants on one "
                    "time base (memr_snn.pipeline, docs/pipeline.md).  Examples:\n"
                    + "\n".join(f"  {k}: {v}" for k, v in EXAMPLES.items()),
        epilog=examples("memr-snn pipeline run hybrid-tracking --seeds 0 1 2 --out pipeline_output/",
                        "memr-snn pipeline run cartpole --seeds 0 1 2 --out cartpole_output/",
                        "memr-snn pipeline schedule hybrid-tracking --steps 20"),
        formatter_class=HelpFormatter,
    )
    psub = pipe.add_subparsers(dest="pipeline_command", metavar="ACTION", required=True)
    r = psub.add_parser(
        "run", help="run an example over seeds: tracking error or returns, energy per step by stage, overhead",
        description=f"Run an example pipeline ({names}) once per seed and report its result (hybrid-tracking: the "
                    "tracking error against the ground-truth PID baselines, without and with the estimate's lead; "
                    "cartpole: the returns of --episodes episodes of the controller trained offline for the seed, "
                    "with the controller's energy per control step split into synops, neuron updates, device "
                    "reads and writes), the energy per control step split by stage, device writes, and the "
                    "pipeline overhead (CPU time of the run loop outside the stages), mean ± std over the seeds.  "
                    "Writes results.json, results.md, schedule.txt and timeline.png (first seed) into --out.  "
                    "Needs the control extra (gymnasium).",
        epilog=examples("memr-snn pipeline run hybrid-tracking --seeds 0 1 2 3 4 --out pipeline_output/",
                        "memr-snn pipeline run hybrid-tracking --seeds 0 --steps 50 --json --no-plots",
                        "memr-snn pipeline run cartpole --seeds 0 1 2 --episodes 100 --out cartpole_output/"),
        formatter_class=HelpFormatter)
    r.add_argument("example", choices=sorted(EXAMPLES), help="example pipeline")
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (target motion, devices, noise)")
    r.add_argument("--steps", type=int, default=300, help="hybrid-tracking: control steps per seed (10 ms each)")
    r.add_argument("--episodes", type=int, default=100, help="cartpole: evaluation episodes per seed")
    r.add_argument("--train-episodes", type=int, default=30,
                   help="cartpole: expert rollouts of the offline imitation")
    r.add_argument("--dagger-rounds", type=int, default=3,
                   help="cartpole: DAgger rounds after the first fit (the programmed controller's visited states, "
                        "labelled by the expert, join the training set; 0: none)")
    r.add_argument("--dagger-episodes", type=int, default=10, help="cartpole: controller episodes per DAgger round")
    r.add_argument("--device", default="hfox_rram", help="cartpole: device preset of the readout, or 'float'")
    r.add_argument("--out", type=Path, default=Path("pipeline_output"), help="folder for the results")
    r.add_argument("--no-plots", action="store_true", help="skip timeline.png")
    add_json_option(r, "results.json")
    add_progress_options(r, "progress over the seeds")
    s = psub.add_parser("schedule", help="print which stage fires at which step and which outputs it sees",
                        description="Print the schedule of an example pipeline: per stage its period, latency and "
                                    "phase in steps, then every step's firings with the firing step of each "
                                    "source output they see ('-': the initial output).",
                        epilog=examples("memr-snn pipeline schedule hybrid-tracking --steps 20 --json"),
                        formatter_class=HelpFormatter)
    s.add_argument("example", choices=sorted(EXAMPLES), help="example pipeline")
    s.add_argument("--steps", type=int, default=None, help="steps to list (default: one hyperperiod)")
    add_json_option(s, "the schedule")
