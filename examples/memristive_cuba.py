"""CUBA on memristive crossbars: how device presets change activity, energy and wear.

``python examples/memristive_cuba.py [--n 4000] [--duration 1.0] [--age 3600] [--out device_example]``

The Vogels-Abbott CUBA network runs with float weights and with every projection stored in
crossbars of each built-in device preset (differential pairs, program-and-verify, read ``age``
seconds after programming). Printed: firing rate, weight error of the programmed arrays, and the
device report (reads, program pulses, energy, lifetime). Figures: conductance histograms and drift
of the PCM array, and the pinched I-V loops of the compact models.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(n: int = 4000, duration: float = 1.0, age: float = 3600.0, out: Path = Path("device_example"),
         presets=("ideal", "hfox_rram", "taox_rram", "pcm_gst", "cbram", "fefet")) -> dict[str, dict]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from memr_snn.networks import vogels_abbott as va

    from memr_snn.devices import Crossbar, StrukovDevice, VTEAMDevice, device_report, simulate, sine_wave
    from memr_snn.plotting import plot_conductances, plot_drift, plot_iv

    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    base = va.cuba(n, seed=1)
    base.net.run(duration)
    results["float"] = {"rate_hz": base.mean_rate()}
    print(f"{'synapses':<12}{'rate [Hz]':>10}{'|dw|/|w|':>10}{'E_read [J]':>12}{'E_prog [J]':>12}{'pulses':>12}")
    print(f"{'float':<12}{base.mean_rate():>10.3f}{0.0:>10.3f}{'-':>12}{'-':>12}{'-':>12}")
    pcm = None
    for name in presets:
        model = va.cuba(n, seed=1, device=Crossbar(preset=name, program="verify", age=age))
        model.net.run(duration)
        rep = device_report(model.net)
        tot = rep.totals()
        pr = model.net.projections[0]
        err = float(np.linalg.norm(pr.crossbar.read_weights() - pr.weights) / np.linalg.norm(pr.weights))
        results[name] = {"rate_hz": model.mean_rate(), "weight_error": err, **tot}
        print(f"{name:<12}{model.mean_rate():>10.3f}{err:>10.3f}{tot['read_energy']:>12.3g}"
              f"{tot['program_energy']:>12.3g}{tot['program_pulses']:>12}")
        if name == "pcm_gst":
            pcm = pr.crossbar
            print(rep.format())
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    if pcm is not None:
        plot_conductances(pcm, ax=axes[0], t=1e6, title="PCM: programmed vs read 11.6 days later")
        plot_drift(pcm, np.logspace(0, 7, 30), ax=axes[1], title="PCM drift")
    t, v = sine_wave(1.0, 2.0, n_periods=2, samples_per_period=2000)
    plot_iv(simulate(StrukovDevice(window="biolek"), v=v, t=t), ax=axes[2], color="C0")
    t, v = sine_wave(1.5, 3e3, n_periods=2, samples_per_period=2000)
    ax2 = axes[2].twinx()
    plot_iv(simulate(VTEAMDevice(), v=v, t=t), ax=ax2, color="C3")
    axes[2].set_title("I-V: Strukov/Biolek 2 Hz (blue), VTEAM 3 kHz (red)")
    fig.tight_layout()
    fig.savefig(out / "devices_example.png", dpi=110)
    plt.close(fig)
    print(f"wrote {out / 'devices_example.png'}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--age", type=float, default=3600.0, help="seconds from programming to the run")
    parser.add_argument("--out", type=Path, default=Path("device_example"))
    a = parser.parse_args()
    main(a.n, a.duration, a.age, a.out)
