"""``memr-snn map``: place a network on the cores of a neuromorphic-chip profile."""

from __future__ import annotations

import json
import time

import numpy as np

from ..io.atomic import save_figure, write_text
from ._common import _network_from_arg, check_output_path, note


def _cmd_map(args) -> int:
    from ..hardware import load_profile, map_network
    from ..model.monitors import SpikeMonitor

    check_output_path(args.out, "dir", files=("mapping.json", "utilisation.png"))
    profile = load_profile(args.profile)  # refuse a bad profile before building anything
    if args.rates_from_run is not None and not (np.isfinite(args.rates_from_run) and args.rates_from_run > 0):
        raise SystemExit(f"memr-snn: error: --rates-from-run must be > 0 seconds, got {args.rates_from_run}")
    net, label = _network_from_arg(args.network, n=args.n, seed=args.seed, dt=args.dt,
                                   record=args.rates_from_run is not None,
                                   option=getattr(args, "n_option", None) or "--n")
    rates = None
    if args.rates_from_run is not None:
        monitors = {m.population.name: m for m in net.monitors if isinstance(m, SpikeMonitor) and m.indices is None}
        for pop in net.populations:
            if pop.name not in monitors:
                monitors[pop.name] = net.add(SpikeMonitor(pop))
        counts = {k: m.count() for k, m in monitors.items()}
        net.run(args.rates_from_run, progress=getattr(args, "progress", None))
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
    as_json = getattr(args, "json", False)
    if not as_json:
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
    if as_json:
        print(json.dumps(data, indent=2, allow_nan=False))  # the document of mapping.json
    (note if as_json else print)(f"mapped in {t_map:.2f} s; wrote {args.out}/{files}")
    return 0
