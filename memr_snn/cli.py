"""The ``memr-snn`` command line: run networks, benchmark, report the installation.

Examples
--------
::

    memr-snn run cuba --duration 1 --seed 1 --out results/
    memr-snn run coba --n 16000 --engine dense --out results/
    memr-snn run my_network.msnn --duration 0.5 --out results/ --save-state after.msnn
    memr-snn run cuba --device hfox_rram --program verify --age 3600 --out results/
    memr-snn devices list
    memr-snn devices show pcm_gst
    memr-snn devices iv vteam --out iv.png
    memr-snn experiment sma --brian2
    memr-snn experiment digits-bptt --seeds 0 1 2 --preset hfox_rram
    memr-snn bench --quick
    memr-snn bench dvs-digits --seeds 0 1 2 --preset hfox_rram --out results/
    memr-snn info
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memr-snn",
        description="memr_snn: event-driven spiking neuromorphic simulator.",
        epilog="Run 'memr-snn COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="simulate a built-in network or a saved network file",
        description=(
            "Simulate a built-in network (cuba, coba: the Vogels-Abbott benchmarks) or a network "
            "file written by Network.save / --save-state, then write spikes.npz, summary.json, "
            "raster.png and rate.png to the output folder and print a summary table."
        ),
    )
    run.add_argument("network", help="built-in name (cuba, coba) or path to a saved network (.msnn)")
    run.add_argument("--duration", type=float, default=1.0, help="simulated time in seconds (default 1.0)")
    run.add_argument("--seed", type=int, default=1, help="random seed for built-in networks (default 1)")
    run.add_argument("--n", type=int, default=4000, help="number of neurons of a built-in network (default 4000)")
    run.add_argument("--dt", type=float, default=1e-4, help="time step in seconds for built-in networks (default 1e-4)")
    run.add_argument("--engine", choices=("auto", "event", "dense"), default=None,
                     help="event-driven or clock-driven update (default: the network's, auto)")
    run.add_argument("--weight-dtype", choices=("float64", "float32"), default="float64",
                     help="synaptic weight storage of built-in networks: 12 or 8 bytes per synapse (default float64)")
    run.add_argument("--out", type=Path, default=Path("output"), help="output folder (default ./output)")
    run.add_argument("--no-plots", action="store_true", help="skip raster.png and rate.png")
    dev = run.add_argument_group("memristive synapses (built-in networks)")
    dev.add_argument("--device", default=None, metavar="PRESET",
                     help="store every projection's weights in crossbars of this device preset (see "
                          "'memr-snn devices list') or preset file; prints and writes the device report")
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
                     help="save the network with its state after the run (resume with 'run FILE')")
    prog = run.add_mutually_exclusive_group()
    prog.add_argument("--progress", dest="progress", action="store_true", default=None,
                      help="always show a progress bar")
    prog.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")

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
    )
    bench.add_argument("task", nargs="?", default=None,
                       help="sensory benchmark task (dvs-digits, spoken-digits, digits); omit for the simulator "
                            "speed benchmark")
    bench.add_argument("--quick", action="store_true",
                       help="small sizes only (a smoke test of the benchmark); with TASK: a small subset, 1 epoch, "
                            "32 hidden neurons unless given")
    bench.add_argument("--sizes", type=int, nargs="+", default=None, help="network sizes (default 4000 16000 64000)")
    bench.add_argument("--repeats", type=int, default=3, help="repetitions per contender (median is reported)")
    bench.add_argument("--models", nargs="+", default=None, help="models to run (default cuba coba alif)")
    bench.add_argument("--peers", nargs="+", default=None,
                       help="contenders besides memr_snn (default brian2-cython brian2-cpp nest)")
    bench.add_argument("--out", type=Path, default=Path("bench_output"),
                       help="folder for bench.json and bench.md (with TASK: results.json and results.md)")
    sens = bench.add_argument_group("sensory benchmark (with TASK; defaults: the task's own settings)")
    sens.add_argument("--seeds", type=int, nargs="+", default=None, help="network seeds (default 0 1 2)")
    sens.add_argument("--epochs", type=int, default=None, help="training epochs")
    sens.add_argument("--hidden", type=int, default=None, help="hidden LIF neurons")
    sens.add_argument("--lr", type=float, default=None, help="Adam learning rate")
    sens.add_argument("--batch-size", type=int, default=None, help="minibatch size")
    sens.add_argument("--recurrent", action="store_true", default=None, help="recurrent hidden layer")
    sens.add_argument("--preset", default=None, help="device preset of the mapped evaluation (default hfox_rram)")
    sens.add_argument("--device-seeds", type=int, nargs="+", default=None,
                      help="device seeds per trained network (default 0)")
    sens.add_argument("--read-noise", choices=("per_step", "static", "off"), default=None,
                      help="read noise of the mapped evaluation (default per_step)")
    sens.add_argument("--baseline-bins", type=int, default=None,
                      help="time bins of the logistic-regression baseline's count features (default 1)")

    devices = sub.add_parser(
        "devices", help="device presets and compact-model I-V loops",
        description="List, show or copy device presets (device_preset.json), or plot the pinched I-V "
                    "loop of a compact model.",
    )
    dsub = devices.add_subparsers(dest="devices_command", metavar="ACTION")
    dsub.add_parser("list", help="built-in presets with their technology and source")
    show = dsub.add_parser("show", help="print a preset as device_preset.json (redirect to a file to edit it)")
    show.add_argument("preset", help="built-in name or path to a preset file")
    iv = dsub.add_parser("iv", help="simulate a sine drive of a compact model and plot its I-V loop")
    iv.add_argument("model", choices=("strukov", "vteam"))
    iv.add_argument("--window", default=None, help="window function (strukov: none, joglekar, biolek, prodromakis)")
    iv.add_argument("--amplitude", type=float, default=None, help="sine amplitude [V] (default: model's)")
    iv.add_argument("--freq", type=float, nargs="+", default=None, help="sine frequencies [Hz]")
    iv.add_argument("--out", type=Path, default=Path("iv.png"), help="figure file (default iv.png)")

    from .learning.experiments import EXPERIMENTS

    exp = sub.add_parser(
        "experiment", help="reference learning experiments (STDP, e-prop, surrogate gradients)",
        description="Run a reference learning experiment; its own options follow the name "
                    "(memr-snn experiment NAME --help). Experiments: "
                    + "; ".join(f"{k}: {v[1]}" for k, v in EXPERIMENTS.items()),
    )
    exp.add_argument("name", choices=sorted(EXPERIMENTS), help="experiment")
    exp.add_argument("options", nargs=argparse.REMAINDER, help="the experiment's own options")

    sub.add_parser("info", help="versions, threading, optional extras", description="Print versions, numba "
                   "threading, memory and which optional extras (brian2, nest, lava, nir) are present.")
    return parser


def _load_network(args):
    from .networks import BUILTIN

    name = args.network
    if name in BUILTIN:
        device = None
        if args.device is not None:
            from .devices import ArraySpec, Crossbar

            device = Crossbar(
                preset=args.device, encoding=args.encoding, program=args.program, age=args.age,
                array=ArraySpec(rows=args.array[0], cols=args.array[1], cell=args.cell, r_wire=args.r_wire),
            )
        va = BUILTIN[name](n=args.n, seed=args.seed, dt=args.dt, weight_dtype=args.weight_dtype, device=device)
        monitors = {"exc": va.spikes_exc, "inh": va.spikes_inh}
        rates = [va.rate, va.rate_inh]
        return va.net, monitors, rates, name
    if getattr(args, "device", None) is not None:
        raise SystemExit("memr-snn: error: --device applies to built-in networks; a saved network keeps its own")
    path = Path(name)
    if not path.exists():
        raise SystemExit(f"memr-snn: error: network {name!r} is neither a built-in ({', '.join(BUILTIN)}) nor a file")
    from . import Network, RateMonitor, SpikeMonitor

    net = Network.load(path)
    monitors = {m.population.name: m for m in net.monitors if isinstance(m, SpikeMonitor)}
    rates = [m for m in net.monitors if isinstance(m, RateMonitor)]
    if not monitors:
        for pop in net.populations:
            monitors[pop.name] = net.add(SpikeMonitor(pop))
    if not rates:
        rates = [net.add(RateMonitor(pop)) for pop in net.populations]
    return net, monitors, rates, path.stem


def _cmd_run(args) -> int:
    from .analysis import isi_cv, mean_rate

    if not (np.isfinite(args.duration) and args.duration > 0):
        raise SystemExit(f"memr-snn: error: --duration must be > 0 seconds, got {args.duration}")
    t0 = time.perf_counter()
    net, monitors, rates, label = _load_network(args)
    t_build = time.perf_counter() - t0
    start_t = net.t
    counts_before = {k: m.num_spikes for k, m in monitors.items()}
    from .kernel.loop import run_chunk

    misses_before = sum(run_chunk.stats.cache_misses.values())
    t1 = time.perf_counter()
    net.run(args.duration, progress=args.progress, engine=args.engine)
    t_run = time.perf_counter() - t1
    compiled = sum(run_chunk.stats.cache_misses.values()) > misses_before
    args.out.mkdir(parents=True, exist_ok=True)
    arrays, rows = {}, []
    for name, mon in monitors.items():
        arrays[f"{name}_t"] = mon.t
        arrays[f"{name}_i"] = mon.i
        n_new = mon.num_spikes - counts_before[name]
        cv = isi_cv(mon.t[mon.t >= start_t], mon.i[mon.t >= start_t])
        rows.append({
            "population": name, "neurons": mon.population.n, "spikes": n_new,
            "rate_hz": mean_rate(n_new, mon.population.n, args.duration),
            "isi_cv_mean": float(np.mean(cv)) if cv.size else None,
        })
    np.savez_compressed(args.out / "spikes.npz", **arrays)
    summary = {
        "network": label, "neurons": net.n_neurons, "synapses": net.n_synapses, "dt_s": net.dt,
        "seed": net.seed, "t_start_s": start_t, "duration_s": args.duration, "engine": net._sim.mode,
        "build_s": t_build, "run_s": t_run, "compiled_kernels": compiled,
        "synapse_bytes_per_synapse": net.synapse_bytes() / max(net.n_synapses, 1),
        "populations": rows,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    if not args.no_plots:
        _plots(monitors, rates, args.out, label)
    if args.save_state is not None:
        net.save(args.save_state)
    _print_summary(summary, args.out)
    if any(pr.crossbar is not None for pr in net.projections):
        _device_outputs(net, args.out, plots=not args.no_plots)
    return 0


def _device_outputs(net, out: Path, plots: bool) -> None:
    from .devices import device_report

    report = device_report(net)
    (out / "device_report.json").write_text(json.dumps(report.to_dict(), indent=2))
    mapping = out / "mapping"
    mapping.mkdir(exist_ok=True)
    for k, pr in enumerate(net.projections):
        if pr.crossbar is not None:
            pr.crossbar.save_mapping_table(mapping / f"mapping_table_{k}.json")
    print("\ndevice report")
    print(report.format())
    files = "device_report.json, mapping/mapping_table_*.json"
    if plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .plotting import plot_conductances, plot_pulse_counts

        cb = next(pr.crossbar for pr in net.projections if pr.crossbar is not None)
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
        plot_conductances(cb, ax=axes[0], t=float(cb._now), title=f"{cb.name}: conductances")
        plot_pulse_counts(cb, ax=axes[1], title=f"{cb.name}: program pulses per device")
        fig.tight_layout()
        fig.savefig(out / "devices.png", dpi=120)
        plt.close(fig)
        files += ", devices.png"
    print(f"wrote {out}/{files}")


def _cmd_experiment(args) -> int:
    from .learning.experiments import run_experiment

    run_experiment(args.name, args.options)
    return 0


def _cmd_devices(args) -> int:
    from .devices import list_presets, load_preset, preset_to_dict

    action = args.devices_command
    if action == "list":
        print(f"{'name':<12}{'technology':<44}source")
        for name in list_presets():
            p = load_preset(name)
            src = p.source.split(";")[0][:70] if p.source else "-"
            print(f"{name:<12}{p.technology[:42]:<44}{src}")
        return 0
    if action == "show":
        print(json.dumps(preset_to_dict(load_preset(args.preset)), indent=2))
        return 0
    if action == "iv":
        return _cmd_iv(args)
    print("usage: memr-snn devices {list,show,iv} ... (see memr-snn devices --help)", file=sys.stderr)
    return 2


def _cmd_iv(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .devices import StrukovDevice, VTEAMDevice, hysteresis_area, simulate, sine_wave
    from .plotting import plot_iv

    if args.model == "strukov":
        dev = StrukovDevice(window=args.window or "joglekar")
        amp, freqs = args.amplitude or 1.0, args.freq or [1.0, 2.0, 5.0]
    else:
        if args.window is not None:
            dev = VTEAMDevice(window=args.window)
        else:
            dev = VTEAMDevice()
        amp, freqs = args.amplitude or 1.5, args.freq or [1e3, 3e3, 1e4]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    print(f"{'frequency [Hz]':>15}{'loop area [W]':>16}")
    for k, f in enumerate(freqs):
        t, v = sine_wave(amp, f, n_periods=2, samples_per_period=2000)
        tr = simulate(dev, v=v, t=t)
        print(f"{f:>15g}{hysteresis_area(tr, period=1.0 / f):>16.4g}")
        plot_iv(tr, ax=ax, color=f"C{k}")
    ax.legend([f"{f:g} Hz" for f in freqs], frameon=False)
    ax.set_title(f"{args.model}: pinched hysteresis, {amp:g} V sine")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


def _plots(monitors, rates, out: Path, label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import raster_plot, rate_plot

    fig, axes = plt.subplots(len(monitors), 1, figsize=(9, 2.2 * len(monitors) + 1), sharex=True, squeeze=False)
    for ax, (name, mon) in zip(axes[:, 0], monitors.items(), strict=True):
        raster_plot(mon, ax=ax, markersize=0.8, title=f"{label}: {name}")
    fig.tight_layout()
    fig.savefig(out / "raster.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(9, 3))
    for k, mon in enumerate(rates):
        rate_plot(mon, ax=ax, color=f"C{k}")
    ax.legend([m.population.name for m in rates])
    ax.set_ylabel("rate [Hz]")
    ax.set_title(f"{label}: population rate (5 ms window)")
    fig.tight_layout()
    fig.savefig(out / "rate.png", dpi=120)
    plt.close(fig)


def _print_summary(s: dict, out: Path) -> None:
    print(f"network {s['network']}: {s['neurons']} neurons, {s['synapses']} synapses "
          f"({s['synapse_bytes_per_synapse']:.2f} bytes/synapse), dt = {s['dt_s'] * 1e3:g} ms, seed {s['seed']}")
    note = " (includes compiling the kernels: first use in this environment, cached from now on)"
    print(f"simulated {s['duration_s']:g} s from t = {s['t_start_s']:g} s with the {s['engine']} engine: "
          f"build {s['build_s']:.3f} s, run {s['run_s']:.3f} s (wall clock){note if s['compiled_kernels'] else ''}")
    print(f"{'population':<12}{'neurons':>10}{'spikes':>10}{'rate [Hz]':>12}{'ISI CV':>10}")
    for r in s["populations"]:
        cv = "-" if r["isi_cv_mean"] is None else f"{r['isi_cv_mean']:.3f}"
        print(f"{r['population']:<12}{r['neurons']:>10}{r['spikes']:>10}{r['rate_hz']:>12.3f}{cv:>10}")
    plots = ", raster.png, rate.png" if (out / "raster.png").exists() else ""
    print(f"wrote {out}/spikes.npz, summary.json{plots}")


def _cmd_info(args) -> int:
    from .info import collect_info, format_info

    print(format_info(collect_info()))
    return 0


_SENSORY_FLAGS = ("seeds", "epochs", "hidden", "lr", "batch_size", "recurrent", "preset", "device_seeds",
                  "read_noise", "baseline_bins")
_SPEED_FLAGS = ("sizes", "models", "peers")


def _cmd_bench(args) -> int:
    if args.task is None:
        given = [f"--{n.replace('_', '-')}" for n in _SENSORY_FLAGS if getattr(args, n, None) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} need a sensory TASK (e.g. 'memr-snn bench dvs-digits'); "
                             "the simulator speed benchmark does not use them")
        from .benchmarking import main as bench_main

        return bench_main(args)
    return _cmd_bench_task(args)


def _cmd_bench_task(args) -> int:
    from .benchmarking import command_line
    from .learning.sensory import get_task, run_task, write_results

    given = [f"--{n}" for n in _SPEED_FLAGS if getattr(args, n, None) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} apply to the simulator speed benchmark only (no TASK)")
    get_task(args.task)  # unknown task: a clear error before anything runs
    settings = {n: getattr(args, n) for n in _SENSORY_FLAGS}
    result = run_task(args.task, quick=args.quick, **settings)
    md = result.format()
    print(md)
    j, m = write_results(result, args.out, command=command_line())
    print(f"wrote {j} and {m}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        commands = {"run": _cmd_run, "info": _cmd_info, "bench": _cmd_bench, "devices": _cmd_devices,
                    "experiment": _cmd_experiment}
        return commands[args.command](args)
    except (ValueError, TypeError, MemoryError) as exc:
        print(f"memr-snn: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
