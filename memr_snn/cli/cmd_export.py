"""``memr-snn export``: write a built-in or saved network in another tool's format (NIR, Lava)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ._common import (
    HelpFormatter,
    _network_from_arg,
    add_alias,
    add_json_option,
    builtin_names,
    check_output_path,
    examples,
    jsonable,
    note,
    print_json,
)


def _export_nir(net, args, details: dict) -> str:
    """``--to nir``: write a NIR (HDF5) graph with :func:`memr_snn.adapters.nir.write_nir`."""
    from ..adapters.nir import NIR_DOC_UNITS, SI_UNITS, write_nir

    units = {"si": SI_UNITS, "nir-docs": NIR_DOC_UNITS}[args.nir_units]
    write_nir(net, args.out, units=units, spike_model=args.nir_spike_model, lossy=args.lossy)
    details.update(nir_units=args.nir_units, nir_spike_model=args.nir_spike_model, lossy=bool(args.lossy))
    return f"NIR graph ({args.nir_units} units, {args.nir_spike_model} spikes)"


def _export_lava(net, args, details: dict) -> str:
    """``--to lava``: quantize to Loihi fixed point and write the Lava runner's ``.npz`` artifact
    (:mod:`memr_snn.adapters.lava`); with ``--lava-run`` also run it in Lava and compare spikes.  Prints the
    quantization report (``--json``: stores it, and the Lava comparison, in ``details``)."""
    from ..adapters.lava import LavaUnavailableError, run_in_lava, write_lava_artifact
    from ..hardware import run_fixed_point, to_fixed_point

    if args.lossy:
        raise ValueError("--lossy does not apply to --to lava: Lava's fixed-point LIF cannot drop elements silently")
    conv = to_fixed_point(net, vth=args.lava_vth, n_steps=args.lava_steps)
    n_steps = conv.report.n_steps_compared
    write_lava_artifact(conv.network, n_steps, args.out)
    as_json = getattr(args, "json", False)
    details.update(lava_steps=n_steps, quantization=jsonable(dataclasses.asdict(conv.report)))
    if not as_json:
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
    compared = details.setdefault("lava_run", {})
    for p in conv.network.populations:
        eq = bool(np.array_equal(mine.spikes[p.name], lava.spikes[p.name]))
        same &= eq
        n_lava, n_mine = int(lava.spikes[p.name].sum()), int(mine.spikes[p.name].sum())
        compared[p.name] = {"lava_spikes": n_lava, "fixed_point_spikes": n_mine, "identical": eq}
        if not as_json:
            print(f"{p.name}: lava {n_lava} spikes, memr_snn fixed point {n_mine} spikes, identical: {eq}")
    if not same:
        raise SystemExit("memr-snn: error: Lava's spikes differ from memr_snn's fixed-point run")
    return what + ", run in Lava: spikes identical"


#: export targets of ``memr-snn export --to``: name -> function(network, args, details) -> description of what was
#: written; ``details`` (a dict) collects what ``--json`` prints besides the network's size
EXPORTERS = {"nir": _export_nir, "lava": _export_lava}


def _add_export_parser(sub) -> None:
    export = sub.add_parser(
        "export", help="export a built-in or saved network to another format (" + ", ".join(EXPORTERS) + ")",
        description=f"Build a built-in network ({builtin_names()}) or load a saved network file and write it in "
                    "another tool's format.  Elements the target cannot express are refused with their name "
                    "and the reason (--lossy drops refractory periods, device storage and plasticity instead).",
        epilog=examples("memr-snn export --to nir --network cuba --n 400 --lossy --out cuba.nir",
                        "memr-snn export --to nir --network cuba --n 400 --lossy --out cuba.nir --json",
                        "memr-snn export --to lava --network my_net.msnn --out my_net_lava.npz --lava-run"),
        formatter_class=HelpFormatter,
    )
    export.add_argument("--to", required=True, choices=sorted(EXPORTERS), help="target format")
    export.add_argument("--network", required=True, help=f"built-in name ({builtin_names()}) or saved network (.msnn)")
    export.add_argument("--n", type=int, default=4000, help="number of neurons of a built-in network (default 4000)")
    add_alias(export, "--n-neurons", "n", type=int)  # the old name, still accepted
    export.add_argument("--seed", type=int, default=1, help="random seed for built-in networks (default 1)")
    export.add_argument("--dt", type=float, default=1e-4, help="time step in seconds for built-in networks "
                                                                "(default 1e-4)")
    export.add_argument("--out", type=Path, required=True, help="file to write (required)")
    add_json_option(export, "what was written (file, format, network size; --to lava: the quantization report)")
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


def _cmd_export(args) -> int:
    check_output_path(args.out, "file")
    net, label = _network_from_arg(args.network, n=args.n, seed=args.seed, dt=args.dt, record=False,
                                   option=getattr(args, "n_option", None) or "--n")
    details: dict = {}
    what = EXPORTERS[args.to](net, args, details)
    line = f"wrote {args.out}: {what} of {net.n_neurons} neurons, {net.n_synapses} synapses, dt = {net.dt:g} s"
    if getattr(args, "json", False):
        print_json({"out": str(args.out), "to": args.to, "description": what, "network": label,
                    "neurons": net.n_neurons, "synapses": net.n_synapses, "dt_s": net.dt, **details})
        note(line)
    else:
        print(line)
    return 0
