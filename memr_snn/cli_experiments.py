"""Reference learning experiments, runnable as ``memr-snn experiment NAME [options]``: the command-line
layer (argument parsers, printing, files) over the library functions of :mod:`memr_snn.learning` and
:mod:`memr_snn.networks`.

* ``sma`` -- Song, Miller & Abbott (2000): 1000 Poisson inputs at 15 Hz, additive STDP, 100 s;
  the final weight distribution is bimodal.  ``--brian2`` runs Brian2's own STDP example (the
  same model) in a fresh process and compares the fractions near 0 and near ``g_max``.
  ``--device PRESET`` puts the synapses in crossbars of that preset (STDP sends device pulses).
* ``digits-bptt`` -- the surrogate-gradient classifier on the bundled 8x8 digits
  (:func:`digits_main` over :func:`memr_snn.learning.digits.train_digits`; ``--preset hfox_rram`` adds
  the mapped-to-device accuracy).
* ``eprop`` -- e-prop on the evidence-accumulation task (:func:`memr_snn.learning.eprop.train_eprop_task`).
* ``diehl-cook`` -- unsupervised digit learning after Diehl & Cook (2015) with STDP, adaptive
  thresholds, lateral inhibition and weight normalization; ``--device PRESET`` learns on crossbars.
* ``eprop-vs-bptt`` -- e-prop and BPTT on the same network, initial weights, task and loss
  (:func:`memr_snn.learning.compare.eprop_vs_bptt`).

Results of the latest runs, with the commands, are in ``docs/learning.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .io.atomic import save_figure, write_text

__all__ = ["EXPERIMENTS", "run_experiment", "sma", "digits_main"]


def sma(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Song, Miller & Abbott (2000); see the module docstring.  Prints and returns the results."""
    from .networks.song_miller_abbott import song_miller_abbott, weight_fractions

    p = argparse.ArgumentParser(prog="memr-snn experiment sma", description=sma.__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=100.0, help="simulated seconds (default 100)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--n-inputs", type=int, default=1000)
    p.add_argument("--rate", type=float, default=15.0, help="input rate [Hz] (default 15)")
    p.add_argument("--device", default=None, metavar="PRESET", help="store the synapses in crossbars of this preset")
    p.add_argument("--brian2", action="store_true", help="also run Brian2's STDP example and compare")
    p.add_argument("--out", type=Path, default=Path("sma_output"), help="folder for results.json and weights.png")
    a = p.parse_args(argv)
    if not (np.isfinite(a.duration) and a.duration > 0):
        p.error(f"--duration must be > 0 seconds, got {a.duration}")
    device = None
    if a.device is not None:
        from .devices import Crossbar

        device = Crossbar(preset=a.device, encoding="single")
    model = song_miller_abbott(n_inputs=a.n_inputs, rate=a.rate, seed=a.seed, device=device)
    w0 = model.synapses.weights.copy() if device is None else model.synapses.crossbar.read_weights()
    t0 = time.perf_counter()
    model.net.run(a.duration, progress=None)
    wall = time.perf_counter() - t0
    w = model.synapses.weights if device is None else model.synapses.crossbar.read_weights()
    low, high = weight_fractions(w, model.g_max)
    res: dict[str, Any] = {
        "duration_s": a.duration, "seed": a.seed, "inputs": a.n_inputs, "rate_hz": a.rate,
        "device": a.device, "fraction_near_0": low, "fraction_near_gmax": high,
        "initial_fractions": weight_fractions(w0, model.g_max),
        "output_rate_hz": model.spikes.num_spikes / a.duration, "wall_s": wall,
        "histogram": np.histogram(w / model.g_max, bins=10, range=(0, 1))[0].tolist(),
    }
    if device is not None:
        from .devices import device_report

        res["device_report"] = device_report(model.net).to_dict()["totals"]
    print(f"Song-Miller-Abbott: {a.n_inputs} inputs at {a.rate:g} Hz, {a.duration:g} s"
          f"{' on ' + a.device if a.device else ''}: near 0 {low:.3f}, near g_max {high:.3f}, "
          f"output {res['output_rate_hz']:.2f} Hz (wall {wall:.1f} s)")
    if a.brian2:
        from .bench.peers.brian2_sma import run_brian2_sma

        ref = run_brian2_sma(duration=a.duration, seed=a.seed, n_inputs=a.n_inputs, rate=a.rate)
        bl, bh = weight_fractions(ref["weights"], 1.0)
        res["brian2"] = {"fraction_near_0": bl, "fraction_near_gmax": bh, "output_rate_hz": ref["rate_hz"],
                         "wall_s": ref["wall_s"],
                         "histogram": np.histogram(ref["weights"], bins=10, range=(0, 1))[0].tolist()}
        print(f"Brian2 (cpp_standalone):          near 0 {bl:.3f}, near g_max {bh:.3f}, "
              f"output {ref['rate_hz']:.2f} Hz (run {ref['wall_s']:.1f} s)")
    a.out.mkdir(parents=True, exist_ok=True)
    write_text(a.out / "results.json", json.dumps(res, indent=2))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(w / model.g_max, bins=40, range=(0, 1), histtype="step", lw=1.5, label="memr_snn")
    if a.brian2:
        ax.hist(ref["weights"], bins=40, range=(0, 1), histtype="step", lw=1.5, label="Brian2")
    ax.set_xlabel("w / g_max")
    ax.set_ylabel("synapses")
    ax.set_title(f"STDP after {a.duration:g} s (Song, Miller & Abbott 2000)")
    ax.legend(frameon=False)
    fig.tight_layout()
    save_figure(fig, a.out / "weights.png", dpi=120)
    plt.close(fig)
    print(f"wrote {a.out}/results.json, weights.png")
    return res


def digits_main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """``memr-snn experiment digits-bptt`` (and ``examples/surrogate_digits.py``): train the digits classifier
    (:func:`memr_snn.learning.digits.train_digits`) over seeds, print per-seed and mean ± std accuracies as
    JSON lines."""
    from .learning.digits import train_digits
    from .learning.surrogate import HardwareAware

    p = argparse.ArgumentParser(description="Surrogate-gradient LIF classifier on rate-coded 8x8 digits")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--T", type=int, default=20)
    p.add_argument("--loss", default="mean_membrane", choices=["mean_membrane", "max_over_time"])
    p.add_argument("--recurrent", action="store_true")
    p.add_argument("--beta", type=float, default=0.0, help="ALIF adaptation strength (0: LIF)")
    p.add_argument("--hw-aware", default=None, metavar="PRESET",
                   help="hardware-aware training matched to this preset (HardwareAware.from_preset)")
    p.add_argument("--preset", default=None, help="map to this device preset, e.g. hfox_rram")
    p.add_argument("--device-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--read-noise", default="per_step", choices=["per_step", "static", "off"])
    p.add_argument("--age", type=float, default=0.0, help="time from programming to the test [s]")
    a = p.parse_args(argv)
    hw = HardwareAware.from_preset(a.hw_aware) if a.hw_aware else None
    accs, mapped = [], []
    for s in a.seeds:
        r = train_digits(s, a.epochs, a.hidden, T=a.T, loss=a.loss, recurrent=a.recurrent, beta=a.beta, hardware=hw,
                         map_preset=a.preset, device_seeds=a.device_seeds, read_noise=a.read_noise, age=a.age)
        accs.append(r["test_accuracy"])
        line = {"seed": s, "test_accuracy": r["test_accuracy"], "train_accuracy": r["train_accuracy"],
                "train_seconds": round(r["train_seconds"], 2)}
        if "mapped" in r:
            m = r["mapped"]
            mapped.extend(m["accuracy"])
            line.update(mapped_accuracy=m["accuracy"], mapped_mean=m["mean"], mapped_std=m["std"],
                        mapped_seconds=round(r["mapped_seconds"], 2), weight_rmse=m["weight_rmse"][0])
        print(json.dumps(line), flush=True)
    summary: dict[str, Any] = {"float_mean": float(np.mean(accs)), "float_std": float(np.std(accs)),
                               "seeds": list(a.seeds)}
    if mapped:
        summary.update(preset=a.preset, mapped_mean=float(np.mean(mapped)), mapped_std=float(np.std(mapped)),
                       mapped_n=len(mapped), read_noise=a.read_noise, age=a.age)
    print(json.dumps(summary), flush=True)
    return summary



def _eprop(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from .learning.eprop import train_eprop_task

    p = argparse.ArgumentParser(prog="memr-snn experiment eprop",
                                description="e-prop on evidence accumulation (Bellec et al. 2020)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--n-rec", type=int, default=40)
    p.add_argument("--n-train", type=int, default=512)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--delay", type=int, default=200, help="delay before the recall cue [steps of 1 ms]")
    p.add_argument("--lif-only", action="store_true", help="no adaptive neurons (the control that fails)")
    a = p.parse_args(argv)
    accs = []
    for s in a.seeds:
        r = train_eprop_task(s, n_rec=a.n_rec, n_train=a.n_train, n_epochs=a.epochs,
                             n_adaptive=0 if a.lif_only else None, task_kwargs={"delay_steps": a.delay})
        accs.append(r["test_accuracy"])
        print(json.dumps({"seed": s, "test_accuracy": r["test_accuracy"], "rate_hz": r["rate"]}), flush=True)
    out = {"mean": float(np.mean(accs)), "std": float(np.std(accs)), "seeds": list(a.seeds)}
    print(json.dumps(out), flush=True)
    return out


def _eprop_vs_bptt(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from .learning.compare import eprop_vs_bptt

    p = argparse.ArgumentParser(prog="memr-snn experiment eprop-vs-bptt",
                                description="e-prop and BPTT on the same recurrent network and temporal task")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n-train", type=int, default=512)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--delay", type=int, default=200, help="delay before the recall cue [steps of 1 ms]")
    a = p.parse_args(argv)
    rows = []
    for s in a.seeds:
        r = eprop_vs_bptt(s, n_train=a.n_train, epochs=a.epochs, task_kwargs={"delay_steps": a.delay})
        row = {"seed": s, "eprop": r["eprop"]["test_accuracy"], "bptt": r["bptt"]["test_accuracy"]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    e = np.array([r["eprop"] for r in rows])
    b = np.array([r["bptt"] for r in rows])
    out = {"eprop_mean": float(e.mean()), "eprop_std": float(e.std()), "bptt_mean": float(b.mean()),
           "bptt_std": float(b.std()), "difference": float(e.mean() - b.mean())}
    print(json.dumps(out), flush=True)
    return out


def _diehl_cook(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from .networks.diehl_cook import train_diehl_cook

    p = argparse.ArgumentParser(prog="memr-snn experiment diehl-cook",
                                description="unsupervised STDP digit learning after Diehl & Cook (2015)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--n-exc", type=int, default=100)
    p.add_argument("--device", default=None, metavar="PRESET", help="learn on crossbars of this device preset")
    p.add_argument("--progress", action="store_true")
    a = p.parse_args(argv)
    device = None
    if a.device is not None:
        from .devices import Crossbar

        device = Crossbar(preset=a.device, encoding="single")
    accs = []
    for s in a.seeds:
        r = train_diehl_cook(seed=s, n_exc=a.n_exc, epochs=a.epochs, device=device, progress=a.progress)
        accs.append(r["accuracy"])
        line = {"seed": s, "test_accuracy": r["accuracy"], "runtime_s": round(r["runtime"], 1)}
        if r["device"] is not None:
            line.update(r["device"])
        print(json.dumps(line), flush=True)
    out = {"mean": float(np.mean(accs)), "std": float(np.std(accs)), "seeds": list(a.seeds), "device": a.device}
    print(json.dumps(out), flush=True)
    return out


#: name -> (runner taking argv, one-line description)
EXPERIMENTS = {
    "sma": (sma, "Song, Miller & Abbott (2000): STDP makes 1000 input weights bimodal (optionally vs Brian2)"),
    "digits-bptt": (digits_main, "surrogate-gradient classifier on the 8x8 digits (float and mapped to devices)"),
    "eprop": (_eprop, "e-prop on evidence accumulation with ALIF neurons"),
    "diehl-cook": (_diehl_cook, "unsupervised STDP digits (Diehl & Cook 2015), float or on device presets"),
    "eprop-vs-bptt": (_eprop_vs_bptt, "e-prop against BPTT on the same network, task and loss"),
}


def run_experiment(name: str, argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run experiment ``name`` with its own command-line options ``argv``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name][0](list(argv or []))
