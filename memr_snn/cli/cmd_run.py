"""``memr-snn run``: simulate a built-in or saved network and write spikes, summary and plots."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np

from ..io.atomic import save_figure, save_npz, write_text
from ._common import _check_builtin_size, check_output_path, note, print_json, saved_label


def _load_network(args):
    from ..networks import BUILTIN

    name = args.network
    if name in BUILTIN:
        device = None
        if args.device is not None:
            from ..devices import ArraySpec, Crossbar

            device = Crossbar(
                preset=args.device, encoding=args.encoding, program=args.program, age=args.age,
                array=ArraySpec(rows=args.array[0], cols=args.array[1], cell=args.cell, r_wire=args.r_wire),
            )
        _check_builtin_size(name, args.n, "--n")
        va = BUILTIN[name](n=args.n, seed=args.seed, dt=args.dt, weight_dtype=args.weight_dtype, device=device)
        monitors = {"exc": va.spikes_exc, "inh": va.spikes_inh}
        rates = [va.rate, va.rate_inh]
        return va.net, monitors, rates, name
    if getattr(args, "device", None) is not None:
        raise SystemExit("memr-snn: error: --device applies to built-in networks; a saved network keeps its own")
    path = Path(name)
    if not path.exists():
        raise SystemExit(f"memr-snn: error: network {name!r} is neither a built-in ({', '.join(BUILTIN)}) nor a file")
    from .. import Network, RateMonitor, SpikeMonitor

    net = Network.load(path)
    monitors = {m.population.name: m for m in net.monitors if isinstance(m, SpikeMonitor)}
    rates = [m for m in net.monitors if isinstance(m, RateMonitor)]
    if not monitors:
        for pop in net.populations:
            monitors[pop.name] = net.add(SpikeMonitor(pop))
    if not rates:
        rates = [net.add(RateMonitor(pop)) for pop in net.populations]
    return net, monitors, rates, saved_label(net, path)


def _compiled_loops() -> int:
    """How many run loops this process has compiled (not loaded from numba's cache): the one-thread loop and,
    once a run used several threads, the threaded one."""
    import sys

    from ..kernel.loop import run_chunk

    loops = [run_chunk]
    threaded = sys.modules.get("memr_snn.kernel.threads")
    if threaded is not None:
        loops.append(threaded.run_chunk_threads)
    return sum(sum(f.stats.cache_misses.values()) for f in loops)


#: files ``memr-snn run`` writes in ``--out``
_RUN_FILES = ("spikes.npz", "summary.json", "raster.png", "rate.png", "device_report.json", "devices.png")


def _cmd_run(args) -> int:
    from ..analysis import isi_cv, mean_rate

    if not (np.isfinite(args.duration) and args.duration > 0):
        raise SystemExit(f"memr-snn: error: --duration must be > 0 seconds, got {args.duration}")
    check_output_path(args.out, "dir", files=_RUN_FILES)
    if args.save_state is not None and not (  # 'run --out a/ --save-state a/net.msnn': a/ is made before saving
            not args.out.exists() and os.path.abspath(args.save_state.parent) == os.path.abspath(args.out)):
        check_output_path(args.save_state, "file", option="--save-state")
    t0 = time.perf_counter()
    net, monitors, rates, label = _load_network(args)
    if getattr(args, "threads", None) is not None:
        try:
            net.threads = args.threads
        except ValueError as exc:
            raise SystemExit(f"memr-snn: error: --threads: {exc}") from None
    t_build = time.perf_counter() - t0
    start_t = net.t
    counts_before = {k: m.num_spikes for k, m in monitors.items()}
    misses_before = _compiled_loops()
    t1 = time.perf_counter()
    net.run(args.duration, progress=args.progress, engine=args.engine)
    t_run = time.perf_counter() - t1
    compiled = _compiled_loops() > misses_before
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
    save_npz(args.out / "spikes.npz", **arrays)
    summary = {
        "network": label, "neurons": net.n_neurons, "synapses": net.n_synapses, "dt_s": net.dt,
        "seed": net.seed, "t_start_s": start_t, "duration_s": args.duration, "engine": net._sim.mode,
        "threads": net._sim.threads_used,
        "build_s": t_build, "run_s": t_run, "compiled_kernels": compiled,
        "synapse_bytes_per_synapse": net.synapse_bytes() / max(net.n_synapses, 1),
        "populations": rows,
    }
    write_text(args.out / "summary.json", json.dumps(summary, indent=2))
    if not args.no_plots:
        _plots(monitors, rates, args.out, label)
    if args.save_state is not None:
        net.name = label  # stored in the file: 'run FILE' reports the same network name
        net.save(args.save_state)
    as_json = getattr(args, "json", False)
    if not as_json:
        _print_summary(summary, args.out)
    report = None
    if any(pr.crossbar is not None for pr in net.projections):
        report = _device_outputs(net, args.out, plots=not args.no_plots, quiet=as_json)
    if as_json:  # summary.json, plus the device report when the synapses are memristive
        print_json(summary if report is None else {**summary, "device_report": report})
        files = ["spikes.npz", "summary.json"] + ([] if args.no_plots else ["raster.png", "rate.png"])
        if report is not None:
            files += ["device_report.json", "mapping/"] + ([] if args.no_plots else ["devices.png"])
        note(f"wrote {args.out}/{', '.join(files)}")
    return 0


def _device_outputs(net, out: Path, plots: bool, quiet: bool = False) -> dict:
    """Write the device report and mapping tables (and devices.png); print the report unless ``quiet``;
    return the report as a dict."""
    from ..devices import device_report

    report = device_report(net)
    doc = report.to_dict()
    write_text(out / "device_report.json", json.dumps(doc, indent=2))
    mapping = out / "mapping"
    mapping.mkdir(exist_ok=True)
    for k, pr in enumerate(net.projections):
        if pr.crossbar is not None:  # one file per projection, named after it ("exc->inh" -> exc-inh)
            stem = re.sub(r"[^A-Za-z0-9_.]+", "-", pr.name or f"projection{k}").strip("-") or f"projection{k}"
            pr.crossbar.save_mapping_table(mapping / f"mapping_table_{stem}.json")
    if not quiet:
        print("\ndevice report")
        print(report.format())
    files = "device_report.json, mapping/mapping_table_<projection>.json"
    if plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..plotting import plot_conductances, plot_pulse_counts

        cb = next(pr.crossbar for pr in net.projections if pr.crossbar is not None)
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
        plot_conductances(cb, ax=axes[0], t=float(cb._now), title=f"{cb.name}: conductances")
        plot_pulse_counts(cb, ax=axes[1], title=f"{cb.name}: program pulses per device")
        fig.tight_layout()
        save_figure(fig, out / "devices.png", dpi=120)
        plt.close(fig)
        files += ", devices.png"
    if not quiet:
        print(f"wrote {out}/{files}")
    return doc


def _plots(monitors, rates, out: Path, label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import raster_plot, rate_plot

    fig, axes = plt.subplots(len(monitors), 1, figsize=(9, 2.2 * len(monitors) + 1), sharex=True, squeeze=False)
    for ax, (name, mon) in zip(axes[:, 0], monitors.items(), strict=True):
        raster_plot(mon, ax=ax, markersize=0.8, title=f"{label}: {name}")
    fig.tight_layout()
    save_figure(fig, out / "raster.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(9, 3))
    for k, mon in enumerate(rates):
        rate_plot(mon, ax=ax, color=f"C{k}")
    ax.legend([m.population.name for m in rates])
    ax.set_ylabel("rate [Hz]")
    ax.set_title(f"{label}: population rate (5 ms window)")
    fig.tight_layout()
    save_figure(fig, out / "rate.png", dpi=120)
    plt.close(fig)


def _print_summary(s: dict, out: Path) -> None:
    print(f"network {s['network']}: {s['neurons']} neurons, {s['synapses']} synapses "
          f"({s['synapse_bytes_per_synapse']:.2f} bytes/synapse), dt = {s['dt_s'] * 1e3:g} ms, seed {s['seed']}")
    note = " (includes compiling the kernels: first use in this environment, cached from now on)"
    threads = "" if s["threads"] == 1 else f" on {s['threads']} threads"
    print(f"simulated {s['duration_s']:g} s from t = {s['t_start_s']:g} s with the {s['engine']} engine{threads}: "
          f"build {s['build_s']:.3f} s, run {s['run_s']:.3f} s (wall clock){note if s['compiled_kernels'] else ''}")
    print(f"{'population':<12}{'neurons':>10}{'spikes':>10}{'rate [Hz]':>12}{'ISI CV':>10}")
    for r in s["populations"]:
        cv = "-" if r["isi_cv_mean"] is None else f"{r['isi_cv_mean']:.3f}"
        print(f"{r['population']:<12}{r['neurons']:>10}{r['spikes']:>10}{r['rate_hz']:>12.3f}{cv:>10}")
    plots = ", raster.png, rate.png" if (out / "raster.png").exists() else ""
    print(f"wrote {out}/spikes.npz, summary.json{plots}")
