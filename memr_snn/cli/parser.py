"""The argument parser of ``memr-snn`` (every subcommand's options and help)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import HelpFormatter, add_alias, add_json_option, add_progress_options, builtin_names, examples
from .cmd_aimc import add_aimc_parser
from .cmd_bci import _add_bci_parser
from .cmd_export import _add_export_parser
from .cmd_pipeline import add_pipeline_parser
from .cmd_sweep import _add_sweep_parser

_EPILOG = (
    "Run 'memr-snn COMMAND --help' for the options of a command.  "
    "Errors are one line 'memr-snn: error: ...' on stderr; exit status 0 success, 2 refused command line or "
    "input (bad value, unusable --out), 1 failure while working (files, memory, numerical divergence), "
    "130 interrupted.  Add --debug before the command (memr-snn --debug run ...) for the full traceback."
)


def _threads_arg(text: str) -> int | str:
    """``--threads``: ``auto`` or an integer (its range is checked by ``Network.threads``)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or an integer >= 1, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memr-snn",
        description="memr_snn: event-driven spiking neuromorphic simulator.",
        epilog=_EPILOG + "\n\n" + examples("memr-snn run cuba --duration 1 --out results/", "memr-snn run --help"),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--debug", action="store_true",
                        help="on an error, show the full traceback instead of the one-line message")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    nets = builtin_names()  # cuba, coba, alif: from memr_snn.networks.BUILTIN

    run = sub.add_parser(
        "run",
        help="simulate a built-in network or a saved network file",
        description=(
            f"Simulate a built-in network ({nets}: the Vogels-Abbott benchmarks, alif with adaptive "
            "thresholds) or a network file written by Network.save / --save-state, then write spikes.npz, "
            "summary.json, raster.png and rate.png to the output folder and print a summary table."
        ),
        epilog=examples("memr-snn run cuba --duration 1 --seed 1 --out results/",
                        "memr-snn run cuba --n 400 --duration 0.1 --json --out results/ > summary.json",
                        "memr-snn run coba --n 16000 --engine dense --out results/",
                        "memr-snn run cuba --n 64000 --threads 2 --out results/",
                        "memr-snn run cuba --device hfox_rram --program verify --age 3600 --out results/"),
        formatter_class=HelpFormatter,
    )
    run.add_argument("network", help=f"built-in name ({nets}) or path to a saved network (.msnn)")
    run.add_argument("--duration", type=float, default=1.0, help="simulated time in seconds (default 1.0)")
    run.add_argument("--seed", type=int, default=1, help="random seed for built-in networks (default 1)")
    run.add_argument("--n", type=int, default=4000, help="number of neurons of a built-in network (default 4000)")
    run.add_argument("--dt", type=float, default=1e-4, help="time step in seconds for built-in networks (default 1e-4)")
    run.add_argument("--engine", choices=("auto", "event", "dense"), default=None,
                     help="event-driven or clock-driven update (default: the network's, auto)")
    run.add_argument("--threads", type=_threads_arg, default=None, metavar="T",
                     help="threads of the simulation loop, from 1 to the CPUs numba may use, or 'auto'; results "
                          "are the same for every count (default: the network's; built-in networks and networks "
                          "saved without a count: auto, i.e. two threads or more only for large dense networks on "
                          "idle cores; --threads 1 or MEMR_SNN_THREADS=1 forces one)")
    run.add_argument("--weight-dtype", choices=("float64", "float32"), default="float64",
                     help="synaptic weight storage of built-in networks: 12 or 8 bytes per synapse (default float64)")
    run.add_argument("--out", type=Path, default=Path("output"), help="output folder (default ./output)")
    run.add_argument("--no-plots", action="store_true", help="skip raster.png and rate.png")
    dev = run.add_argument_group("memristive synapses (built-in networks)")
    dev.add_argument("--device", default=None, metavar="PRESET",
                     help="store every projection's weights in crossbars of this device preset (see "
                          "'memr-snn devices list') or preset file; prints and writes the device report "
                          "(default: plain float weights)")
    dev.add_argument("--encoding", choices=("differential", "single"), default="differential",
                     help="one device per synapse (single) or a G+/G- pair (default differential)")
    dev.add_argument("--program", choices=("direct", "verify"), default="direct",
                     help="write conductances directly or by program-and-verify (default direct)")
    dev.add_argument("--age", type=float, default=0.0,
                     help="seconds between programming and the start of the run (drift; default 0)")
    dev.add_argument("--array", type=int, nargs=2, default=(256, 256), metavar=("ROWS", "COLS"),
                     help="physical array size (default 256 256)")
    dev.add_argument("--cell", choices=("1T1R", "1S1R", "1R"), default="1T1R", help="cross-point cell (default 1T1R)")
    dev.add_argument("--r-wire", type=float, default=0.0, help="wire resistance per cell segment [Ohm] (default 0)")
    run.add_argument("--save-state", type=Path, default=None, metavar="FILE",
                     help="save the network with its state and name after the run (resume with 'run FILE'; "
                          "default: not saved)")
    add_json_option(run, "summary.json (with the device report under 'device_report' when --device is given)")
    add_progress_options(run, "simulation progress", default="for runs of more than 100000 steps: a bar when "
                                                          "stderr is a terminal, a few plain lines otherwise")

    bench = sub.add_parser(
        "bench",
        help="simulator speed vs Brian2 and NEST (no TASK), or a sensory classification benchmark (TASK)",
        description=(
            "Without TASK: run memr_snn, Brian2 (cython and cpp_standalone) and NEST on the Vogels-Abbott "
            "networks in one run and print a table of build time, first run, steady run, peak "
            "memory, spikes, rate and ratios; plus synapse memory and event-driven scaling (needs the "
            "'peers' extra). With TASK (e.g. dvs-digits, spoken-digits, digits): train a spiking classifier "
            "with surrogate gradients over seeds, map it to a device preset and report accuracy mean +- std, "
            "spikes, synaptic operations and energy per sample and a logistic-regression baseline "
            "(results.json and results.md in --out)."
        ),
        epilog=examples("memr-snn bench --quick --out bench_output/",
                        "memr-snn bench --quick --sizes 400 --models cuba --peers none --json > bench.json",
                        "memr-snn bench dvs-digits --seeds 0 1 2 --device hfox_rram --out results/"),
        formatter_class=HelpFormatter,
    )
    bench.add_argument("task", nargs="?", default=None,
                       help="sensory benchmark task (dvs-digits, spoken-digits, digits); omit for the simulator "
                            "speed benchmark")
    bench.add_argument("--quick", action="store_true",
                       help="small sizes only (a smoke test of the benchmark); with TASK: a small subset, 1 epoch, "
                            "32 hidden neurons unless given")
    bench.add_argument("--sizes", type=int, nargs="+", default=None, metavar="N",
                       help="network sizes (--n of each run; default 4000 16000 64000)")
    bench.add_argument("--repeats", type=int, default=3, help="repetitions per contender (median is reported)")
    bench.add_argument("--models", nargs="+", default=None, help="models to run (default cuba coba alif)")
    bench.add_argument("--peers", nargs="+", default=None,
                       help="contenders besides memr_snn, or none (default brian2-cython brian2-cpp nest; with --quick "
                            "without brian2-cpp)")
    bench.add_argument("--out", type=Path, default=Path("bench_output"),
                       help="folder for bench.json and bench.md (with TASK: results.json and results.md; "
                            "default ./bench_output)")
    add_json_option(bench, "bench.json (with TASK: results.json)")
    add_progress_options(bench, "progress (speed benchmark: one line per run of a contender and a bar over the "
                                "runs; with TASK: a bar over seeds x epochs)")
    sens = bench.add_argument_group("sensory benchmark (with TASK; defaults: the task's own settings)")
    sens.add_argument("--seeds", type=int, nargs="+", default=None, help="network seeds (default 0 1 2)")
    sens.add_argument("--epochs", type=int, default=None, help="training epochs (default: the task's)")
    sens.add_argument("--hidden", type=int, default=None, help="hidden LIF neurons (default: the task's)")
    sens.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: the task's)")
    sens.add_argument("--batch-size", type=int, default=None, help="minibatch size (default: the task's)")
    sens.add_argument("--recurrent", action="store_true", default=None,
                      help="recurrent hidden layer (default: the task's)")
    sens.add_argument("--device", dest="preset", default=None, metavar="PRESET",
                      help="device preset of the mapped evaluation (default hfox_rram)")
    add_alias(bench, "--preset", "preset")  # the old name, still accepted
    sens.add_argument("--device-seeds", type=int, nargs="+", default=None,
                      help="device seeds per trained network (default 0)")
    sens.add_argument("--read-noise", choices=("per_step", "static", "off"), default=None,
                      help="read noise of the mapped evaluation (default per_step)")
    sens.add_argument("--baseline-bins", type=int, default=None,
                      help="time bins of the logistic-regression baseline's count features (default 1)")

    mp = sub.add_parser(
        "map",
        help="map a network onto Loihi-style cores: utilisation, traffic, energy and time per step",
        description=(
            f"Place a built-in network ({nets}) or a saved network file on the cores of a core "
            "profile (loihi1, loihi2 or a core_profile.json), splitting populations to fit every per-core limit "
            "and reducing inter-core spike traffic; print the mapping report and write mapping.json (and "
            "utilisation.png). Networks the target cannot express are refused with the element and the reason."
        ),
        epilog=examples("memr-snn map --profile loihi1 --network cuba --n 4000 --out mapping/",
                        "memr-snn map --profile loihi2 --network cuba --rates-from-run 0.5",
                        "memr-snn map --profile loihi1 --network cuba --n 400 --json --out mapping/"),
        formatter_class=HelpFormatter,
    )
    mp.add_argument("--profile", required=True, metavar="PROFILE",
                    help="core profile: loihi1, loihi2 or a path to a core_profile.json")
    mp.add_argument("--network", default="cuba", help=f"built-in name ({nets}) or a saved network (.msnn)")
    mp.add_argument("--n", type=int, default=4000, help="neurons of a built-in network (default 4000)")
    add_alias(mp, "--n-neurons", "n", type=int)  # the old name, still accepted
    mp.add_argument("--seed", type=int, default=1, help="random seed of a built-in network (default 1)")
    mp.add_argument("--dt", type=float, default=1e-4, help="time step of a built-in network [s] (default 1e-4)")
    mp.add_argument("--rates-from-run", type=float, default=None, metavar="SECONDS",
                    help="simulate SECONDS first and use the measured firing rates (default: 10 Hz assumed)")
    mp.add_argument("--weight-bits", type=int, default=None, help="synaptic weight precision (default: profile's)")
    mp.add_argument("--no-refine", action="store_true", help="skip the traffic-reducing refinement")
    mp.add_argument("--allow-unsupported", action="store_true",
                    help="report unsupported features as warnings and map anyway (default: refuse)")
    mp.add_argument("--out", type=Path, default=Path("mapping_output"),
                    help="folder for mapping.json and utilisation.png (default ./mapping_output)")
    mp.add_argument("--no-plots", action="store_true", help="skip utilisation.png")
    add_json_option(mp, "mapping.json")
    add_progress_options(mp, "the progress of --rates-from-run",
                         default="for runs of more than 100000 steps: a bar when stderr is a terminal, a few "
                                 "plain lines otherwise")

    devices = sub.add_parser(
        "devices", help="device presets and compact-model I-V loops",
        description="List, show or copy device presets (device_preset.json), or plot the pinched I-V "
                    "loop of a compact model.",
        epilog=examples("memr-snn devices list", "memr-snn devices show pcm_gst > my_pcm.json",
                        "memr-snn devices iv vteam --out iv.png"),
        formatter_class=HelpFormatter,
    )
    dsub = devices.add_subparsers(dest="devices_command", metavar="ACTION")
    dlist = dsub.add_parser("list", help="built-in presets with their technology and source",
                            description="List the built-in device presets with their technology and source.",
                            epilog=examples("memr-snn devices list", "memr-snn devices list --json"),
                            formatter_class=HelpFormatter)
    add_json_option(dlist, "the presets (name, technology, source)")
    show = dsub.add_parser("show", help="print a preset as device_preset.json (redirect to a file to edit it)",
                           description="Print a device preset as device_preset.json; redirect it to a file, edit "
                                       "it and pass the file to --device.",
                           epilog=examples("memr-snn devices show pcm_gst > my_pcm.json"),
                           formatter_class=HelpFormatter)
    show.add_argument("preset", help="built-in name or path to a preset file")
    show.add_argument("--json", action="store_true",
                      help="accepted for uniformity: the output is always the preset's JSON document")
    iv = dsub.add_parser("iv", help="simulate a sine drive of a compact model and plot its I-V loop",
                         description="Simulate a sine voltage drive of a compact memristor model and plot its "
                                     "pinched I-V loop, one per frequency; prints the loop areas.",
                         epilog=examples("memr-snn devices iv vteam --freq 1000 10000 --out iv.png"),
                         formatter_class=HelpFormatter)
    iv.add_argument("model", choices=("strukov", "vteam"), help="compact model")
    iv.add_argument("--window", default=None,
                    help="window function (strukov: none, joglekar, biolek, prodromakis; default: joglekar for "
                         "strukov, the model's own for vteam)")
    iv.add_argument("--amplitude", type=float, default=None, help="sine amplitude [V] (default: model's)")
    iv.add_argument("--freq", type=float, nargs="+", default=None, help="sine frequencies [Hz] (default: model's)")
    iv.add_argument("--out", type=Path, default=Path("iv.png"), help="figure file (default iv.png)")
    add_json_option(iv, "the model, amplitude and loop area per frequency")

    from .experiments import EXPERIMENTS

    exp = sub.add_parser(
        "experiment", help="reference learning experiments (STDP, e-prop, surrogate gradients)",
        description="Run a reference learning experiment; its own options follow the name "
                    "(memr-snn experiment NAME --help).  Each writes results.json and results.md (and its "
                    "plot) in --out and prints a table (--json: the JSON document instead).  Experiments:\n"
                    + "\n".join(f"  {k:<15}{v[1]}" for k, v in EXPERIMENTS.items()),
        epilog=examples("memr-snn experiment sma --duration 10 --out sma_output/",
                        "memr-snn experiment eprop --seeds 0 1 2 --out eprop_output/",
                        "memr-snn experiment digits-bptt --help"),
        formatter_class=HelpFormatter,
    )
    exp.add_argument("name", choices=sorted(EXPERIMENTS), help="experiment")
    exp.add_argument("options", nargs=argparse.REMAINDER, help="the experiment's own options")

    _add_export_parser(sub)
    _add_sweep_parser(sub)
    add_aimc_parser(sub)
    _add_bci_parser(sub)
    add_pipeline_parser(sub)

    info = sub.add_parser("info", help="versions, threading, optional extras", description="Print versions, "
                          "numba threading, memory and which optional extras (brian2, nest, lava, nir) are present.",
                          epilog=examples("memr-snn info", "memr-snn info --json"), formatter_class=HelpFormatter)
    add_json_option(info, "the report")
    return parser
