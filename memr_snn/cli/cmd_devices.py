"""``memr-snn devices``: list and show device presets, plot a compact model's I-V loop."""

from __future__ import annotations

import json
import sys

import numpy as np

from ..io.atomic import save_figure
from ._common import check_output_path, note, print_json


def _cmd_devices(args) -> int:
    from ..devices import list_presets, load_preset, preset_to_dict

    action = args.devices_command
    if action == "list":
        presets = [(name, load_preset(name)) for name in list_presets()]
        if getattr(args, "json", False):
            print_json([{"name": name, "technology": p.technology, "source": p.source} for name, p in presets])
            return 0
        width = max([len(name) for name, _ in presets] + [10]) + 2  # names never run into the next column
        print(f"{'name':<{width}}{'technology':<44}source")
        for name, p in presets:
            src = p.source.split(";")[0][:70] if p.source else "-"
            print(f"{name:<{width}}{p.technology[:42]:<44}{src}")
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

    from ..devices import StrukovDevice, VTEAMDevice, hysteresis_area, simulate, sine_wave
    from ..plotting import plot_iv

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
    as_json = getattr(args, "json", False)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    if not as_json:
        print(f"{'frequency [Hz]':>15}{'loop area [W]':>16}")
    for k, ((f, area), tr) in enumerate(zip(rows, traces, strict=True)):
        if not as_json:
            print(f"{f:>15g}{area:>16.4g}")
        plot_iv(tr, ax=ax, color=f"C{k}", label=f"{f:g} Hz")
    ax.legend(frameon=False)
    ax.set_title(f"{args.model}: pinched hysteresis, {amp:g} V sine")
    fig.tight_layout()
    save_figure(fig, args.out, dpi=120)
    plt.close(fig)
    if as_json:
        print_json({"model": args.model, "window": getattr(dev, "window", None), "amplitude_V": amp,
                    "loops": [{"frequency_hz": float(f), "loop_area_W": float(area)} for f, area in rows],
                    "figure": str(args.out)})
    (note if as_json else print)(f"wrote {args.out}")
    return 0
