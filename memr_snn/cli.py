"""The ``memr-snn`` command line: run networks, benchmark, report the installation.

Examples
--------
::

    memr-snn run cuba --duration 1 --seed 1 --out results/
    memr-snn run coba --n 16000 --engine dense --out results/
    memr-snn run my_network.msnn --duration 0.5 --out results/ --save-state after.msnn
    memr-snn run cuba --device hfox_rram --program verify --age 3600 --out results/
    memr-snn map --profile loihi1 --network cuba --n-neurons 4000 --out mapping/
    memr-snn map --profile loihi2 --network cuba --rates-from-run 0.5
    memr-snn devices list
    memr-snn devices show pcm_gst
    memr-snn devices iv vteam --out iv.png
    memr-snn experiment sma --brian2
    memr-snn experiment digits-bptt --seeds 0 1 2 --preset hfox_rram
    memr-snn export --to nir --network cuba --n 400 --lossy --out cuba.nir
    memr-snn bench --quick
    memr-snn bench dvs-digits --seeds 0 1 2 --preset hfox_rram --out results/
    memr-snn info
    memr-snn export --to lava --network my_network.msnn --out net_lava.npz --lava-steps 1000 --lava-run

Errors
------
Every failure ends with one line ``memr-snn: error: ...`` on stderr and a non-zero
exit status (:data:`EXIT_CODES`): 2 for a refused command line or input (argparse's
usage errors, invalid values, unusable output paths), 1 for a failure while working
(file system, memory, numerical divergence, anything unexpected) and 130 when
interrupted (Ctrl-C).  Output paths (``--out``, ``--save-state``) and the memory of
built-in networks are checked before anything is built or simulated.  ``memr-snn
--debug COMMAND ...`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from ._extras import MissingExtraError
from .io.atomic import save_figure, save_npz, write_text

__all__ = ["main", "build_parser", "check_output_path", "OutputPathError", "EXIT_CODES"]

#: exit status of ``memr-snn`` by outcome
EXIT_CODES = {"ok": 0, "failure": 1, "usage": 2, "interrupted": 130}

_EPILOG = (
    "Run 'memr-snn COMMAND --help' for the options of a command.  "
    "Errors are one line 'memr-snn: error: ...' on stderr; exit status 0 success, 2 refused command line or "
    "input (bad value, unusable --out), 1 failure while working (files, memory, numerical divergence), "
    "130 interrupted.  Add --debug before the command (memr-snn --debug run ...) for the full traceback."
)


class OutputPathError(ValueError):
    """An output path (``--out``, ``--save-state``) that cannot be written; raised before any work."""


def _probe_writable(folder: Path, option: str, path: Path) -> None:
    """Refuse ``folder`` unless a file can be created in it (a real write: works as root and on read-only mounts)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{option} {path}: cannot write in folder {folder} (permission denied)")
    try:
        fd, probe = tempfile.mkstemp(prefix=".memr-snn-write-test-", dir=folder)
    except OSError as exc:
        raise OutputPathError(f"{option} {path}: cannot write in folder {folder} ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def check_output_path(path: str | os.PathLike, kind: Literal["dir", "file"], option: str = "--out",
                      files: Sequence[str] = ()) -> Path:
    """Refuse an output path that cannot be written, before any building or simulating.

    Parameters
    ----------
    path : str or os.PathLike
        The output folder (``kind="dir"``) or file (``kind="file"``).
    kind : {"dir", "file"}
        ``"dir"``: ``path`` is a writable folder, or can be created (its nearest existing
        ancestor is a writable folder).  ``"file"``: ``path`` is a regular file or does
        not exist yet, and its parent folder exists and is writable.
    option : str
        The command-line option named in the error message.
    files : sequence of str
        Names the command writes inside the folder (``kind="dir"``): any that exists must
        be a regular file (a folder or FIFO there would fail only after the work).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OutputPathError
        With the option, the path and the reason.  Writability is probed by creating and
        removing a temporary file, so a read-only mount is refused also for root.
    """
    if isinstance(path, str) and not path.strip():
        raise OutputPathError(f"{option}: the path is empty")
    path = Path(path)
    if kind == "file":
        if path.exists():
            mode = path.stat().st_mode
            if not stat.S_ISREG(mode):
                raise OutputPathError(f"{option} {path}: is {_kind(mode)}; expected a regular file or a new path")
        parent = path.parent
        if not parent.exists():
            raise OutputPathError(f"{option} {path}: its folder {parent} does not exist (create it first)")
        if not parent.is_dir():
            raise OutputPathError(f"{option} {path}: {parent} is {_kind(parent.stat().st_mode)}, not a folder")
        _probe_writable(parent, option, path)
        return path
    if kind != "dir":
        raise ValueError(f"kind must be 'dir' or 'file', got {kind!r}")
    if path.exists():
        mode = path.stat().st_mode
        if not stat.S_ISDIR(mode):
            raise OutputPathError(f"{option} {path}: is {_kind(mode)}; expected a folder (or a new path to create)")
        for name in files:
            inner = path / name
            if inner.exists() and not stat.S_ISREG(inner.stat().st_mode):
                raise OutputPathError(f"{option} {path}: {inner} is {_kind(inner.stat().st_mode)}; "
                                      f"the command writes a regular file there")
        _probe_writable(path, option, path)
        return path
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputPathError(f"{option} {path}: cannot create the folder: {ancestor} is "
                              f"{_kind(ancestor.stat().st_mode)}, not a folder")
    _probe_writable(ancestor, option, path)
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memr-snn",
        description="memr_snn: event-driven spiking neuromorphic simulator.",
        epilog=_EPILOG,
    )
    parser.add_argument("--debug", action="store_true",
                        help="on an error, show the full traceback instead of the one-line message")
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

    mp = sub.add_parser(
        "map",
        help="map a network onto Loihi-style cores: utilisation, traffic, energy and time per step",
        description=(
            "Place a built-in network (cuba, coba, alif) or a saved network file on the cores of a core "
            "profile (loihi1, loihi2 or a core_profile.json), splitting populations to fit every per-core limit "
            "and reducing inter-core spike traffic; print the mapping report and write mapping.json (and "
            "utilisation.png). Networks the target cannot express are refused with the element and the reason."
        ),
    )
    mp.add_argument("--profile", required=True, metavar="PROFILE",
                    help="core profile: loihi1, loihi2 or a path to a core_profile.json")
    mp.add_argument("--network", default="cuba", help="built-in name (cuba, coba, alif) or a saved network (.msnn)")
    mp.add_argument("--n-neurons", type=int, default=4000, help="neurons of a built-in network (default 4000)")
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

    from .cli_experiments import EXPERIMENTS

    exp = sub.add_parser(
        "experiment", help="reference learning experiments (STDP, e-prop, surrogate gradients)",
        description="Run a reference learning experiment; its own options follow the name "
                    "(memr-snn experiment NAME --help). Experiments: "
                    + "; ".join(f"{k}: {v[1]}" for k, v in EXPERIMENTS.items()),
    )
    exp.add_argument("name", choices=sorted(EXPERIMENTS), help="experiment")
    exp.add_argument("options", nargs=argparse.REMAINDER, help="the experiment's own options")

    _add_export_parser(sub)

    sub.add_parser("info", help="versions, threading, optional extras", description="Print versions, numba "
                   "threading, memory and which optional extras (brian2, nest, lava, nir) are present.")
    return parser


def _export_nir(net, args) -> str:
    """``--to nir``: write a NIR (HDF5) graph with :func:`memr_snn.adapters.nir.write_nir`."""
    from .adapters.nir import NIR_DOC_UNITS, SI_UNITS, write_nir

    units = {"si": SI_UNITS, "nir-docs": NIR_DOC_UNITS}[args.nir_units]
    write_nir(net, args.out, units=units, spike_model=args.nir_spike_model, lossy=args.lossy)
    return f"NIR graph ({args.nir_units} units, {args.nir_spike_model} spikes)"


def _export_lava(net, args) -> str:
    """``--to lava``: quantize to Loihi fixed point and write the Lava runner's ``.npz`` artifact
    (:mod:`memr_snn.adapters.lava`); with ``--lava-run`` also run it in Lava and compare spikes."""
    from .adapters.lava import LavaUnavailableError, run_in_lava, write_lava_artifact
    from .hardware import run_fixed_point, to_fixed_point

    if args.lossy:
        raise ValueError("--lossy does not apply to --to lava: Lava's fixed-point LIF cannot drop elements silently")
    conv = to_fixed_point(net, vth=args.lava_vth, n_steps=args.lava_steps)
    n_steps = conv.report.n_steps_compared
    write_lava_artifact(conv.network, n_steps, args.out)
    print(conv.report.summary())
    what = f"Lava 0.10 fixed-point artifact ({n_steps} steps; run: python memr_snn/adapters/_lava_runner.py IN OUT)"
    if not args.lava_run:
        return what
    try:
        lava = run_in_lava(conv.network, n_steps)
    except LavaUnavailableError as exc:
        raise SystemExit(f"memr-snn: error: {exc}") from None
    mine = run_fixed_point(conv.network, n_steps)
    same = True
    for p in conv.network.populations:
        eq = bool(np.array_equal(mine.spikes[p.name], lava.spikes[p.name]))
        same &= eq
        print(f"{p.name}: lava {int(lava.spikes[p.name].sum())} spikes, memr_snn fixed point "
              f"{int(mine.spikes[p.name].sum())} spikes, identical: {eq}")
    if not same:
        raise SystemExit("memr-snn: error: Lava's spikes differ from memr_snn's fixed-point run")
    return what + ", run in Lava: spikes identical"


#: export targets of ``memr-snn export --to``: name -> function(network, args) -> description of what was written
EXPORTERS = {"nir": _export_nir, "lava": _export_lava}


def _add_export_parser(sub) -> None:
    export = sub.add_parser(
        "export", help="export a built-in or saved network to another format (" + ", ".join(EXPORTERS) + ")",
        description="Build a built-in network (cuba, coba, alif) or load a saved network file and write it in "
                    "another tool's format.  Elements the target cannot express are refused with their name "
                    "and the reason (--lossy drops refractory periods, device storage and plasticity instead).",
    )
    export.add_argument("--to", required=True, choices=sorted(EXPORTERS), help="target format")
    export.add_argument("--network", required=True, help="built-in name (cuba, coba, alif) or saved network (.msnn)")
    export.add_argument("--n", "--n-neurons", dest="n", type=int, default=4000,
                        help="number of neurons of a built-in network (default 4000)")
    export.add_argument("--seed", type=int, default=1, help="random seed for built-in networks (default 1)")
    export.add_argument("--dt", type=float, default=1e-4, help="time step in seconds for built-in networks "
                                                                "(default 1e-4)")
    export.add_argument("--out", type=Path, required=True, help="file to write")
    export.add_argument("--lossy", action="store_true",
                        help="export refractory periods, device storage and plasticity as if absent (recorded "
                             "in the file) instead of refusing")
    nir = export.add_argument_group("--to nir")
    nir.add_argument("--nir-units", choices=("si", "nir-docs"), default="si",
                     help="numbers in s, V, A, Ohm (si, default) or ms, mV, mA, Ohm (nir-docs: NIR's table)")
    nir.add_argument("--nir-spike-model", choices=("dirac", "step"), default="dirac",
                     help="a spike has area 1 (dirac, default) or one step dt (step: snnTorch/Norse reading)")
    lava = export.add_argument_group("--to lava")
    lava.add_argument("--lava-steps", type=int, default=None,
                      help="steps of input spikes to write and compare (default: last input spike + 100)")
    lava.add_argument("--lava-vth", type=int, default=None,
                      help="Loihi threshold mantissa (default: the largest the 8-bit weights allow)")
    lava.add_argument("--lava-run", action="store_true",
                      help="also run the artifact in Lava (a Python 3.10 with lava-nc 0.10, MEMR_SNN_PYTHON310) "
                           "and check its spikes equal memr_snn's fixed-point run")


def _check_builtin_size(name: str, n: int, option: str) -> None:
    """Refuse a built-in network size before building: ``n >= 5`` and its memory estimate fits.

    Parameters
    ----------
    name : str
        Built-in network name (``cuba``, ``coba``, ``alif``).
    n : int
        Number of neurons.
    option : str
        The command-line option that gave ``n`` (named in the message).

    Raises
    ------
    ValueError
        ``n < 5``.
    MemoryError
        The estimate (:func:`memr_snn.networks.vogels_abbott.estimate_memory`) exceeds the
        available memory; the message gives both and the largest ``n`` that fits.
    """
    from .info import available_memory_bytes
    from .networks.vogels_abbott import SYNAPSES_PER_NEURON, estimate_memory

    if n < 5:
        raise ValueError(f"{option} must be >= 5 neurons (80 % excitatory, 20 % inhibitory), got {n}")
    n_init = 3 if name == "coba" else 1
    need = estimate_memory(n, n_init)
    avail = available_memory_bytes()
    if avail is not None and need > avail:
        fits = int(avail / (estimate_memory(1000, n_init) / 1000))
        raise MemoryError(
            f"{option} {n}: the {name} network needs about {need / 2**30:.2f} GiB "
            f"({SYNAPSES_PER_NEURON * n:.3g} synapses) but only {avail / 2**30:.2f} GiB are available; "
            f"{option} must be between 5 and about {fits} on this machine; nothing was built"
        )


def _network_from_arg(network: str, *, n: int, seed: int, dt: float, record: bool, option: str = "--n"):
    """``(Network, label)`` for a ``--network`` argument: a built-in name or a saved network file."""
    from .networks import BUILTIN

    if network in BUILTIN:
        _check_builtin_size(network, n, option)
        return BUILTIN[network](n=n, seed=seed, dt=dt, record=record).net, network
    path = Path(network)
    if not path.is_file():
        raise SystemExit(f"memr-snn: error: network {network!r} is neither a built-in "
                         f"({', '.join(BUILTIN)}) nor a file")
    from . import Network

    return Network.load(path), path.stem


def _cmd_export(args) -> int:
    check_output_path(args.out, "file")
    net, _ = _network_from_arg(args.network, n=args.n, seed=args.seed, dt=args.dt, record=False)
    what = EXPORTERS[args.to](net, args)
    print(f"wrote {args.out}: {what} of {net.n_neurons} neurons, {net.n_synapses} synapses, dt = {net.dt:g} s")
    return 0


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


#: files ``memr-snn run`` writes in ``--out``
_RUN_FILES = ("spikes.npz", "summary.json", "raster.png", "rate.png", "device_report.json", "devices.png")


def _cmd_run(args) -> int:
    from .analysis import isi_cv, mean_rate

    if not (np.isfinite(args.duration) and args.duration > 0):
        raise SystemExit(f"memr-snn: error: --duration must be > 0 seconds, got {args.duration}")
    check_output_path(args.out, "dir", files=_RUN_FILES)
    if args.save_state is not None and not (  # 'run --out a/ --save-state a/net.msnn': a/ is made before saving
            not args.out.exists() and os.path.abspath(args.save_state.parent) == os.path.abspath(args.out)):
        check_output_path(args.save_state, "file", option="--save-state")
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
    save_npz(args.out / "spikes.npz", **arrays)
    summary = {
        "network": label, "neurons": net.n_neurons, "synapses": net.n_synapses, "dt_s": net.dt,
        "seed": net.seed, "t_start_s": start_t, "duration_s": args.duration, "engine": net._sim.mode,
        "build_s": t_build, "run_s": t_run, "compiled_kernels": compiled,
        "synapse_bytes_per_synapse": net.synapse_bytes() / max(net.n_synapses, 1),
        "populations": rows,
    }
    write_text(args.out / "summary.json", json.dumps(summary, indent=2))
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
    write_text(out / "device_report.json", json.dumps(report.to_dict(), indent=2))
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
        save_figure(fig, out / "devices.png", dpi=120)
        plt.close(fig)
        files += ", devices.png"
    print(f"wrote {out}/{files}")


def _cmd_map(args) -> int:
    from .hardware import load_profile, map_network
    from .model.monitors import SpikeMonitor

    check_output_path(args.out, "dir", files=("mapping.json", "utilisation.png"))
    profile = load_profile(args.profile)  # refuse a bad profile before building anything
    if args.rates_from_run is not None and not (np.isfinite(args.rates_from_run) and args.rates_from_run > 0):
        raise SystemExit(f"memr-snn: error: --rates-from-run must be > 0 seconds, got {args.rates_from_run}")
    net, label = _network_from_arg(args.network, n=args.n_neurons, seed=args.seed, dt=args.dt,
                                   record=args.rates_from_run is not None, option="--n-neurons")
    rates = None
    if args.rates_from_run is not None:
        monitors = {m.population.name: m for m in net.monitors if isinstance(m, SpikeMonitor) and m.indices is None}
        for pop in net.populations:
            if pop.name not in monitors:
                monitors[pop.name] = net.add(SpikeMonitor(pop))
        counts = {k: m.count() for k, m in monitors.items()}
        net.run(args.rates_from_run, progress=False)
        rates = {k: (m.count() - counts[k]) / args.rates_from_run for k, m in monitors.items()}
    t0 = time.perf_counter()
    mapping = map_network(net, profile, rates=rates, weight_bits=args.weight_bits, refine=not args.no_refine,
                          strict=not args.allow_unsupported)
    t_map = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    data = mapping.to_dict()
    data["network"] = {"name": label, "neurons": net.n_neurons, "synapses": net.n_synapses, "seed": net.seed,
                       "rates_from_run_s": args.rates_from_run, "mapping_s": t_map}
    write_text(args.out / "mapping.json", json.dumps(data, indent=2, allow_nan=False) + "\n")
    print(f"network {label}: {net.n_neurons} neurons, {net.n_synapses} synapses"
          + (f"; rates measured over {args.rates_from_run:g} s" if rates is not None else ""))
    print(mapping.format())
    files = "mapping.json"
    if not args.no_plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ax = mapping.plot(title=f"{label} on {profile.name}: {mapping.n_cores} cores")
        ax.figure.tight_layout()
        save_figure(ax.figure, args.out / "utilisation.png", dpi=120)
        plt.close(ax.figure)
        files += ", utilisation.png"
    print(f"mapped in {t_map:.2f} s; wrote {args.out}/{files}")
    return 0


def _option_value(argv: Sequence[str], option: str) -> str | None:
    """The last value of ``option`` (``--out X`` or ``--out=X``) in ``argv``, else None."""
    value = None
    for k, arg in enumerate(argv):
        if arg == option and k + 1 < len(argv):
            value = argv[k + 1]
        elif arg.startswith(option + "="):
            value = arg[len(option) + 1:]
    return value


def _cmd_experiment(args) -> int:
    from .cli_experiments import run_experiment

    out = _option_value(args.options, "--out")
    if out is not None:  # an experiment's --out is a folder (sma: results.json, weights.png)
        check_output_path(out, "dir", files=("results.json", "weights.png"))
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

    check_output_path(args.out, "file")
    if args.amplitude is not None and not np.isfinite(args.amplitude):
        raise ValueError(f"--amplitude must be a finite voltage [V], got {args.amplitude}")
    for f in args.freq or ():
        if not (np.isfinite(f) and f > 0):
            raise ValueError(f"--freq must be finite and > 0 [Hz], got {f}")
    if args.model == "strukov":
        dev = StrukovDevice(window=args.window or "joglekar")
        amp, freqs = args.amplitude or 1.0, args.freq or [1.0, 2.0, 5.0]
    else:
        if args.window is not None:
            dev = VTEAMDevice(window=args.window)
        else:
            dev = VTEAMDevice()
        amp, freqs = args.amplitude or 1.5, args.freq or [1e3, 3e3, 1e4]
    rows, traces = [], []
    for f in freqs:  # simulate everything first: a diverging drive prints no table of NaNs
        t, v = sine_wave(amp, f, n_periods=2, samples_per_period=2000)
        with np.errstate(all="ignore"):
            tr = simulate(dev, v=v, t=t)
            area = hysteresis_area(tr, period=1.0 / f)
        bad = ~(np.isfinite(tr.i) & np.isfinite(tr.x))
        if bad.any() or not np.isfinite(area):
            k = int(np.argmax(bad)) if bad.any() else tr.t.size - 1
            raise FloatingPointError(
                f"the {args.model} I-V simulation diverged at --freq {f:g} Hz, --amplitude {amp:g} V: current or "
                f"state is not finite from t = {float(tr.t[k]):.3g} s on (loop area {area}); use a smaller "
                f"--amplitude (the model's default is {1.0 if args.model == 'strukov' else 1.5:g} V)"
            )
        rows.append((f, area))
        traces.append(tr)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    print(f"{'frequency [Hz]':>15}{'loop area [W]':>16}")
    for k, ((f, area), tr) in enumerate(zip(rows, traces, strict=True)):
        print(f"{f:>15g}{area:>16.4g}")
        plot_iv(tr, ax=ax, color=f"C{k}")
    ax.legend([f"{f:g} Hz" for f in freqs], frameon=False)
    ax.set_title(f"{args.model}: pinched hysteresis, {amp:g} V sine")
    fig.tight_layout()
    save_figure(fig, args.out, dpi=120)
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
    check_output_path(args.out, "dir", files=("bench.json", "bench.md", "results.json", "results.md"))
    if args.task is None:
        for n in args.sizes or ():
            for model in args.models or ("cuba", "coba", "alif"):
                if model in ("cuba", "coba", "alif") and n >= 5:
                    _check_builtin_size(model, n, "--sizes")
        given = [f"--{n.replace('_', '-')}" for n in _SENSORY_FLAGS if getattr(args, n, None) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} need a sensory TASK (e.g. 'memr-snn bench dvs-digits'); "
                             "the simulator speed benchmark does not use them")
        from .bench import main as bench_main

        return bench_main(args)
    return _cmd_bench_task(args)


def _cmd_bench_task(args) -> int:
    from .bench import command_line
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


def _one_line(exc: BaseException, limit: int = 600) -> str:
    """``exc``'s message on one line (numba's and numpy's can span many), shortened to ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _error(message: str) -> None:
    print(f"memr-snn: error: {message}", file=sys.stderr)


def _dispatch(args) -> int:
    commands = {"run": _cmd_run, "info": _cmd_info, "bench": _cmd_bench, "devices": _cmd_devices,
                "experiment": _cmd_experiment, "export": _cmd_export, "map": _cmd_map}
    return commands[args.command](args)


def main(argv: list[str] | None = None) -> int:
    """Run the ``memr-snn`` command line; returns the exit status (:data:`EXIT_CODES`).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; 2 for a refused command line or input (``ValueError``, ``TypeError``,
        an unusable output path); 1 for a failure while working (a missing optional package, ``OSError``,
        ``MemoryError``, ``RecursionError``, a numerical divergence, any other exception);
        130 when interrupted.  Each failure prints one line ``memr-snn: error: ...`` on
        stderr; with ``--debug`` the exception propagates with its traceback instead.
        argparse's usage errors and some refusals exit through ``SystemExit`` (2 and 1).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_CODES["usage"]
    if args.debug:
        return _dispatch(args)
    hint = " (rerun with 'memr-snn --debug ...' for the traceback)"
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_CODES["interrupted"]
    except np.linalg.LinAlgError as exc:  # a ValueError, but a numerical failure, not a refused input
        _error(f"LinAlgError: {_one_line(exc)}")
        return EXIT_CODES["failure"]
    except MissingExtraError as exc:  # an optional package is missing: its one line names the pip command
        _error(_one_line(exc))
        return EXIT_CODES["failure"]
    except (ValueError, TypeError) as exc:
        _error(_one_line(exc))
        return EXIT_CODES["usage"]
    except MemoryError as exc:
        _error(_one_line(exc) if str(exc) else "out of memory")
        return EXIT_CODES["failure"]
    except FloatingPointError as exc:
        _error(_one_line(exc))
        return EXIT_CODES["failure"]
    except RecursionError as exc:
        _error(f"input nested too deeply to process ({_one_line(exc)}); a JSON or network file with thousands "
               f"of nested levels is refused" + hint)
        return EXIT_CODES["failure"]
    except BrokenPipeError:  # e.g. 'memr-snn devices list | head -1': stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_CODES["failure"]
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename is not None else ""
        reason = exc.strerror or _one_line(exc)
        _error(f"{reason}{where}")
        return EXIT_CODES["failure"]
    except Exception as exc:  # noqa: BLE001 - numba/numpy/h5py errors: one line, not a traceback
        _error(f"{type(exc).__name__}: {_one_line(exc)}{hint}")
        return EXIT_CODES["failure"]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
