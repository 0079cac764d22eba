"""Reference learning experiments, runnable as ``memr-snn experiment NAME [options]`` (also importable as
:mod:`memr_snn.cli_experiments`): the command-line
layer (argument parsers, printing, files) over the library functions of :mod:`memr_snn.learning` and
:mod:`memr_snn.networks`.

* ``sma`` -- Song, Miller & Abbott (2000): 1000 Poisson inputs at 15 Hz, additive STDP, 100 s;
  the final weight distribution is bimodal.  ``--brian2`` runs Brian2's own STDP example (the
  same model) in a fresh process and compares the fractions near 0 and near ``g_max``.
  ``--device PRESET`` puts the synapses in crossbars of that preset (STDP sends device pulses).
* ``digits-bptt`` -- the surrogate-gradient classifier on the bundled 8x8 digits
  (:func:`digits_main` over :func:`memr_snn.learning.digits.train_digits`; ``--device hfox_rram`` adds
  the mapped-to-device accuracy).
* ``eprop`` -- e-prop on the evidence-accumulation task (:func:`memr_snn.learning.eprop.train_eprop_task`).
* ``diehl-cook`` -- unsupervised digit learning after Diehl & Cook (2015) with STDP, adaptive
  thresholds, lateral inhibition and weight normalization; ``--device PRESET`` learns on crossbars.
* ``eprop-vs-bptt`` -- e-prop and BPTT on the same network, initial weights, task and loss
  (:func:`memr_snn.learning.compare.eprop_vs_bptt`).

Every experiment takes ``--out DIR`` (checked before any work) and writes ``results.json`` (settings,
per-seed rows, summary) and ``results.md`` (the same as a markdown table) there, with its plot
(``weights.png`` for ``sma``, ``accuracy.png`` for the classifiers; ``--no-plots`` skips it).  stdout
shows the table; ``--json`` prints the JSON document instead; per-seed lines go to stderr.

Results of the latest runs, with the commands, are in ``docs/learning.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import save_figure, write_text
from ..progress import ProgressBar
from ._common import HelpFormatter, add_alias, add_json_option, add_progress_options, check_output_path, examples

__all__ = ["EXPERIMENTS", "run_experiment", "sma", "digits_main"]


#: files an experiment may write in ``--out``
_FILES = ("results.json", "results.md", "weights.png", "accuracy.png")


def _parser(name: str, description: str, *example_lines: str) -> argparse.ArgumentParser:
    """The argument parser of ``memr-snn experiment NAME``: its usage names the command, ``--help`` shows
    the defaults and examples."""
    return argparse.ArgumentParser(prog=f"memr-snn experiment {name}", description=description,
                                   epilog=examples(*example_lines), formatter_class=HelpFormatter)


def _output_options(p: argparse.ArgumentParser, name: str, *, progress: str | None = None) -> None:
    """``--out``, ``--json``, ``--no-plots`` and, where a loop reports ``progress`` (what it counts),
    ``--progress/--no-progress``."""
    p.add_argument("--out", type=Path, default=Path(f"{name.replace('-', '_')}_output"), metavar="DIR",
                   help="folder for results.json, results.md and the plot")
    add_json_option(p, "the results (the document of results.json)")
    p.add_argument("--no-plots", action="store_true", help="skip the plot")
    if progress is not None:
        add_progress_options(p, progress)


def _bar(a: argparse.Namespace, total: int, desc: str) -> ProgressBar:
    """The progress bar of an experiment's training loop, as ``--progress/--no-progress`` ask (stderr)."""
    return ProgressBar(max(total, 0), desc=desc, enabled=a.progress is not False)


def _say(bar: ProgressBar, text: str) -> None:
    """A per-seed line on stderr, written through ``bar`` while it is shown so that the bar stays intact."""
    if bar.enabled:
        bar.write(text)
    else:
        _note(text)


def _parse(p: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv`` and refuse an unusable ``--out`` before any work."""
    a = p.parse_args(argv)
    check_output_path(a.out, "dir", files=_FILES)
    return a


def _settings(a: argparse.Namespace) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()
            if k not in ("out", "json", "no_plots", "progress")}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return " ".join(_fmt(x) for x in v)
    return "-" if v is None else str(v)


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table (readable as plain text too)."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in r] for r in rows]
    widths = [max(len(c[k]) for c in cells) for k in range(len(headers))]
    line = lambda c: "| " + " | ".join(x.ljust(w) for x, w in zip(c, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(c) for c in cells[1:]])


def _note(text: str) -> None:
    """A progress line (one per seed) on stderr, so stdout holds only the table or the JSON document."""
    print(text, file=sys.stderr, flush=True)


def _finish(name: str, argv: Sequence[str] | None, a: argparse.Namespace, res: dict[str, Any], title: str,
            tables: Sequence[str], plot=None) -> dict[str, Any]:
    """Write ``results.json`` and ``results.md`` (and ``plot(path)``'s figure) in ``a.out``; print the tables
    or, with ``--json``, the JSON document."""
    command = "memr-snn experiment " + shlex.join([name, *(argv or [])])
    doc = {"experiment": name, "command": command, **res}
    a.out.mkdir(parents=True, exist_ok=True)
    write_text(a.out / "results.json", json.dumps(doc, indent=2) + "\n")
    md = f"# {title}\n\n`{command}`\n\n" + "\n\n".join(tables) + "\n"
    write_text(a.out / "results.md", md)
    files = ["results.json", "results.md"]
    if plot is not None and not a.no_plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, file = plot()
        fig.tight_layout()
        save_figure(fig, a.out / file, dpi=120)
        plt.close(fig)
        files.append(file)
    if a.json:
        print(json.dumps(doc, indent=2))
    else:
        print(md, end="")
    _note(f"wrote {a.out}/{', '.join(files)}")
    return res


def _accuracy_plot(seeds: Sequence[int], series: dict[str, Sequence[float]], title: str):
    """``plot`` of :func:`_finish`: test accuracy per seed, one bar group per series."""
    import matplotlib.pyplot as plt

    def plot():
        fig, ax = plt.subplots(figsize=(6, 3.5))
        width = 0.8 / max(len(series), 1)
        for k, (label, values) in enumerate(series.items()):
            ax.bar(np.arange(len(seeds)) + k * width, values, width, label=label)
        ax.set_xticks(np.arange(len(seeds)) + 0.4 - width / 2, [str(s) for s in seeds])
        ax.set_xlabel("seed")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 1)
        ax.set_title(title)
        ax.legend(frameon=False)
        return fig, "accuracy.png"

    return plot


def sma(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Song, Miller & Abbott (2000): STDP makes the weights of 1000 Poisson inputs bimodal.  Writes, prints
    and returns the results."""
    from ..networks.song_miller_abbott import song_miller_abbott, weight_fractions

    p = _parser("sma", "Song, Miller & Abbott (2000): 1000 Poisson inputs at 15 Hz drive one neuron through "
                       "additive STDP; after 100 s the weight distribution is bimodal.  --brian2 runs Brian2's "
                       "own STDP example (the same model) in a fresh process and compares.",
                "memr-snn experiment sma --duration 100 --out sma_output/",
                "memr-snn experiment sma --device hfox_rram --brian2")
    p.add_argument("--duration", type=float, default=100.0, help="simulated seconds")
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument("--n-inputs", type=int, default=1000, help="Poisson inputs (synapses)")
    p.add_argument("--rate", type=float, default=15.0, help="input rate [Hz]")
    p.add_argument("--device", default=None, metavar="PRESET",
                   help="store the synapses in crossbars of this preset (default: float weights)")
    p.add_argument("--brian2", action="store_true", help="also run Brian2's STDP example and compare")
    _output_options(p, "sma", progress="simulation progress")
    a = p.parse_args(argv)
    if not (np.isfinite(a.duration) and a.duration > 0):
        p.error(f"--duration must be > 0 seconds, got {a.duration}")
    check_output_path(a.out, "dir", files=_FILES)
    device = None
    if a.device is not None:
        from ..devices import Crossbar

        device = Crossbar(preset=a.device, encoding="single")
    model = song_miller_abbott(n_inputs=a.n_inputs, rate=a.rate, seed=a.seed, device=device)
    w0 = model.synapses.weights.copy() if device is None else model.synapses.crossbar.read_weights()
    t0 = time.perf_counter()
    model.net.run(a.duration, progress=a.progress)
    wall = time.perf_counter() - t0
    w = model.synapses.weights if device is None else model.synapses.crossbar.read_weights()
    low, high = weight_fractions(w, model.g_max)
    res: dict[str, Any] = {
        "settings": _settings(a),
        "duration_s": a.duration, "seed": a.seed, "inputs": a.n_inputs, "rate_hz": a.rate,
        "device": a.device, "fraction_near_0": low, "fraction_near_gmax": high,
        "initial_fractions": weight_fractions(w0, model.g_max),
        "output_rate_hz": model.spikes.num_spikes / a.duration, "wall_s": wall,
        "histogram": np.histogram(w / model.g_max, bins=10, range=(0, 1))[0].tolist(),
    }
    if device is not None:
        from ..devices import device_report

        res["device_report"] = device_report(model.net).to_dict()["totals"]
    rows = [[f"memr_snn{' on ' + a.device if a.device else ''}", low, high, res["output_rate_hz"], wall]]
    ref = None
    if a.brian2:
        from ..bench.peers.brian2_sma import run_brian2_sma

        ref = run_brian2_sma(duration=a.duration, seed=a.seed, n_inputs=a.n_inputs, rate=a.rate)
        bl, bh = weight_fractions(ref["weights"], 1.0)
        res["brian2"] = {"fraction_near_0": bl, "fraction_near_gmax": bh, "output_rate_hz": ref["rate_hz"],
                         "wall_s": ref["wall_s"],
                         "histogram": np.histogram(ref["weights"], bins=10, range=(0, 1))[0].tolist()}
        rows.append(["Brian2 (cpp_standalone)", bl, bh, ref["rate_hz"], ref["wall_s"]])
    table = _md_table(["simulator", "near 0", "near g_max", "output [Hz]", "wall [s]"], rows)

    def plot():
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.hist(w / model.g_max, bins=40, range=(0, 1), histtype="step", lw=1.5, label="memr_snn")
        if ref is not None:
            ax.hist(ref["weights"], bins=40, range=(0, 1), histtype="step", lw=1.5, label="Brian2")
        ax.set_xlabel("w / g_max")
        ax.set_ylabel("synapses")
        ax.set_title(f"STDP after {a.duration:g} s (Song, Miller & Abbott 2000)")
        ax.legend(frameon=False)
        return fig, "weights.png"

    return _finish("sma", argv, a, res,
                   f"Song-Miller-Abbott STDP: {a.n_inputs} inputs at {a.rate:g} Hz, {a.duration:g} s", [table], plot)


def digits_main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """``memr-snn experiment digits-bptt`` (and ``examples/surrogate_digits.py``): train the digits classifier
    (:func:`memr_snn.learning.digits.train_digits`) over seeds; write, print and return the per-seed and
    mean ± std accuracies (float and, with ``--device``, mapped to devices)."""
    from ..learning.digits import train_digits
    from ..learning.surrogate import HardwareAware

    p = _parser("digits-bptt", "Surrogate-gradient (BPTT) LIF classifier on rate-coded 8x8 digits, one network "
                               "per seed; with --device the trained weights are programmed into crossbars of "
                               "that preset and classified with device reads.",
                "memr-snn experiment digits-bptt --seeds 0 1 2 --device hfox_rram --out digits_output/",
                "memr-snn experiment digits-bptt --seeds 0 --epochs 1 --hidden 16   # a quick check")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="network seeds")
    p.add_argument("--epochs", type=int, default=40, help="training epochs")
    p.add_argument("--hidden", type=int, default=128, help="hidden LIF neurons")
    p.add_argument("--T", type=int, default=20, help="time steps per sample (1 ms each)")
    p.add_argument("--loss", default="mean_membrane", choices=["mean_membrane", "max_over_time"], help="readout loss")
    p.add_argument("--recurrent", action="store_true", help="recurrent hidden layer")
    p.add_argument("--beta", type=float, default=0.0, help="ALIF adaptation strength (0: LIF)")
    p.add_argument("--hw-aware", default=None, metavar="PRESET",
                   help="hardware-aware training matched to this preset (HardwareAware.from_preset; default off)")
    p.add_argument("--device", dest="preset", default=None, metavar="PRESET",
                   help="map to this device preset, e.g. hfox_rram (default: float only)")
    add_alias(p, "--preset", "preset")  # the old name, still accepted
    p.add_argument("--device-seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="device draws per seed")
    p.add_argument("--read-noise", default="per_step", choices=["per_step", "static", "off"],
                   help="read noise of the mapped evaluation")
    p.add_argument("--age", type=float, default=0.0, help="time from programming to the test [s]")
    _output_options(p, "digits", progress="training progress (seeds x epochs)")
    a = _parse(p, argv)
    hw = HardwareAware.from_preset(a.hw_aware) if a.hw_aware else None
    accs, mapped, rows = [], [], []
    with _bar(a, len(a.seeds) * a.epochs, "digits-bptt") as bar:
        for s in a.seeds:
            r = train_digits(s, a.epochs, a.hidden, T=a.T, loss=a.loss, recurrent=a.recurrent, beta=a.beta, hardware=hw,
                             map_preset=a.preset, device_seeds=a.device_seeds, read_noise=a.read_noise, age=a.age,
                             callback=lambda epoch, record: bar.update())
            accs.append(r["test_accuracy"])
            line = {"seed": s, "test_accuracy": r["test_accuracy"], "train_accuracy": r["train_accuracy"],
                    "train_seconds": round(r["train_seconds"], 2)}
            if "mapped" in r:
                m = r["mapped"]
                mapped.extend(m["accuracy"])
                line.update(mapped_accuracy=m["accuracy"], mapped_mean=m["mean"], mapped_std=m["std"],
                            mapped_seconds=round(r["mapped_seconds"], 2), weight_rmse=m["weight_rmse"][0])
            rows.append(line)
            _say(bar, f"seed {s}: test accuracy {r['test_accuracy']:.4f}"
                 + (f", mapped {line['mapped_mean']:.4f}" if "mapped" in r else "")
                 + f" ({line['train_seconds']:g} s)")
    summary: dict[str, Any] = {"float_mean": float(np.mean(accs)), "float_std": float(np.std(accs)),
                               "seeds": list(a.seeds)}
    if mapped:
        summary.update(preset=a.preset, mapped_mean=float(np.mean(mapped)), mapped_std=float(np.std(mapped)),
                       mapped_n=len(mapped), read_noise=a.read_noise, age=a.age)
    headers = ["seed", "test accuracy", "train accuracy", "train [s]"] + (["mapped mean", "mapped std"] if mapped
                                                                          else [])
    body = [[r["seed"], r["test_accuracy"], r["train_accuracy"], r["train_seconds"]]
            + ([r["mapped_mean"], r["mapped_std"]] if mapped else []) for r in rows]
    body.append(["mean ± std", f"{summary['float_mean']:.4f} ± {summary['float_std']:.4f}", "", ""]
                + ([f"{summary['mapped_mean']:.4f} ± {summary['mapped_std']:.4f}", f"n = {len(mapped)}"]
                   if mapped else []))
    series = {"float": accs}
    if mapped:
        series[f"mapped ({a.preset})"] = [r["mapped_mean"] for r in rows]
    res = {**summary, "per_seed": rows, "settings": _settings(a)}
    _finish("digits-bptt", argv, a, res, "Surrogate-gradient LIF classifier on 8x8 digits",
            [_md_table(headers, body)], _accuracy_plot(a.seeds, series, "8x8 digits (BPTT)"))
    return summary


def _eprop(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from ..learning.eprop import train_eprop_task

    p = _parser("eprop", "e-prop on the evidence-accumulation task with ALIF neurons (Bellec et al. 2020), "
                         "one network per seed.",
                "memr-snn experiment eprop --seeds 0 1 2 --out eprop_output/",
                "memr-snn experiment eprop --lif-only   # the control without adaptive neurons")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="network seeds")
    p.add_argument("--n-rec", type=int, default=40, help="recurrent neurons")
    p.add_argument("--n-train", type=int, default=512, help="training trials")
    p.add_argument("--epochs", type=int, default=4, help="training epochs")
    p.add_argument("--delay", type=int, default=200, help="delay before the recall cue [steps of 1 ms]")
    p.add_argument("--lif-only", action="store_true", help="no adaptive neurons (the control that fails)")
    _output_options(p, "eprop", progress="training progress (seeds x epochs x minibatches of 32 trials)")
    a = _parse(p, argv)
    accs, rows = [], []
    batches = -(-a.n_train // 32) if a.n_train > 0 else 0  # train_eprop_task's minibatches of 32 trials
    with _bar(a, len(a.seeds) * a.epochs * batches, "eprop") as bar:
        for s in a.seeds:
            r = train_eprop_task(s, n_rec=a.n_rec, n_train=a.n_train, n_epochs=a.epochs, batch_size=32,
                                 n_adaptive=0 if a.lif_only else None, task_kwargs={"delay_steps": a.delay},
                                 callback=lambda epoch, k, learner: bar.update())
            accs.append(r["test_accuracy"])
            rows.append({"seed": s, "test_accuracy": r["test_accuracy"], "rate_hz": r["rate"]})
            _say(bar, f"seed {s}: test accuracy {r['test_accuracy']:.4f}, rate {r['rate']:.3g} Hz")
    out = {"mean": float(np.mean(accs)), "std": float(np.std(accs)), "seeds": list(a.seeds)}
    body = [[r["seed"], r["test_accuracy"], r["rate_hz"]] for r in rows]
    body.append(["mean ± std", f"{out['mean']:.4f} ± {out['std']:.4f}", ""])
    res = {**out, "per_seed": rows, "settings": _settings(a)}
    _finish("eprop", argv, a, res, "e-prop on evidence accumulation",
            [_md_table(["seed", "test accuracy", "rate [Hz]"], body)],
            _accuracy_plot(a.seeds, {"e-prop": accs}, "evidence accumulation (e-prop)"))
    return out


def _eprop_vs_bptt(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from ..learning.compare import eprop_vs_bptt

    p = _parser("eprop-vs-bptt", "e-prop and BPTT on the same recurrent network, initial weights, temporal task "
                                 "and loss, one pair per seed.",
                "memr-snn experiment eprop-vs-bptt --seeds 0 1 2 --out eprop_vs_bptt_output/")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="network seeds")
    p.add_argument("--n-train", type=int, default=512, help="training trials")
    p.add_argument("--epochs", type=int, default=4, help="training epochs")
    p.add_argument("--delay", type=int, default=200, help="delay before the recall cue [steps of 1 ms]")
    _output_options(p, "eprop-vs-bptt", progress="training progress (seeds x 2 methods x epochs)")
    a = _parse(p, argv)
    rows = []
    with _bar(a, len(a.seeds) * 2 * a.epochs, "eprop-vs-bptt") as bar:
        for s in a.seeds:
            r = eprop_vs_bptt(s, n_train=a.n_train, epochs=a.epochs, task_kwargs={"delay_steps": a.delay},
                              progress=lambda method, epoch: bar.update())
            row = {"seed": s, "eprop": r["eprop"]["test_accuracy"], "bptt": r["bptt"]["test_accuracy"]}
            rows.append(row)
            _say(bar, f"seed {s}: e-prop {row['eprop']:.4f}, BPTT {row['bptt']:.4f}")
    e = np.array([r["eprop"] for r in rows])
    b = np.array([r["bptt"] for r in rows])
    out = {"eprop_mean": float(e.mean()), "eprop_std": float(e.std()), "bptt_mean": float(b.mean()),
           "bptt_std": float(b.std()), "difference": float(e.mean() - b.mean())}
    body = [[r["seed"], r["eprop"], r["bptt"], r["eprop"] - r["bptt"]] for r in rows]
    body.append(["mean ± std", f"{out['eprop_mean']:.4f} ± {out['eprop_std']:.4f}",
                 f"{out['bptt_mean']:.4f} ± {out['bptt_std']:.4f}", out["difference"]])
    res = {**out, "per_seed": rows, "settings": _settings(a)}
    _finish("eprop-vs-bptt", argv, a, res, "e-prop vs BPTT on the same network and task",
            [_md_table(["seed", "e-prop accuracy", "BPTT accuracy", "difference"], body)],
            _accuracy_plot(a.seeds, {"e-prop": e.tolist(), "BPTT": b.tolist()}, "e-prop vs BPTT"))
    return out


def _diehl_cook(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from ..networks.diehl_cook import train_diehl_cook

    p = _parser("diehl-cook", "Unsupervised STDP digit learning after Diehl & Cook (2015): adaptive thresholds, "
                              "lateral inhibition, weight normalization; --device learns on crossbars.",
                "memr-snn experiment diehl-cook --seeds 0 1 2 --device hfox_rram --out diehl_cook_output/")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="network seeds")
    p.add_argument("--epochs", type=int, default=2, help="training epochs")
    p.add_argument("--n-exc", type=int, default=100, help="excitatory neurons")
    p.add_argument("--n-train", type=int, default=None, help="first training samples only (default: all 1200)")
    p.add_argument("--n-test", type=int, default=None, help="first test samples only (default: all 597)")
    p.add_argument("--device", default=None, metavar="PRESET",
                   help="learn on crossbars of this device preset (default: float weights)")
    _output_options(p, "diehl-cook", progress="progress per training and test sample")
    a = _parse(p, argv)
    device = None
    if a.device is not None:
        from ..devices import Crossbar

        device = Crossbar(preset=a.device, encoding="single")
    # train_diehl_cook draws its bars only when asked (a bar on a terminal, plain lines otherwise)
    progress = a.progress is not False
    accs, rows = [], []
    for s in a.seeds:
        r = train_diehl_cook(seed=s, n_exc=a.n_exc, epochs=a.epochs, n_train=a.n_train, n_test=a.n_test,
                             device=device, progress=progress)
        accs.append(r["accuracy"])
        line = {"seed": s, "test_accuracy": r["accuracy"], "runtime_s": round(r["runtime"], 1)}
        if r["device"] is not None:
            line.update(r["device"])
        rows.append(line)
        _note(f"seed {s}: test accuracy {r['accuracy']:.4f} ({line['runtime_s']:g} s)")
    out = {"mean": float(np.mean(accs)), "std": float(np.std(accs)), "seeds": list(a.seeds), "device": a.device}
    body = [[r["seed"], r["test_accuracy"], r["runtime_s"]] for r in rows]
    body.append(["mean ± std", f"{out['mean']:.4f} ± {out['std']:.4f}", ""])
    res = {**out, "per_seed": rows, "settings": _settings(a)}
    _finish("diehl-cook", argv, a, res,
            f"Diehl & Cook (2015) unsupervised STDP digits{' on ' + a.device if a.device else ''}",
            [_md_table(["seed", "test accuracy", "runtime [s]"], body)],
            _accuracy_plot(a.seeds, {a.device or "float": accs}, "Diehl & Cook digits"))
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
