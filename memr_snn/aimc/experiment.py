r"""Accuracy versus time after programming: a float MLP on the 8x8 digits mapped onto analog tiles.

``model="cnn"`` runs the small CNN of :mod:`memr_snn.learning.cnn` on DVS-digit frames
(:func:`memr_snn.learning.cnn.load_dvs_frames`) instead; ``training="hwa"`` trains one network per seed
and device hardware-aware (:mod:`memr_snn.learning.hwa`, settings from
:func:`memr_snn.aimc.training.hwa_for_device` at age ``hwa_time``); ``column_calibration`` adds a third
mode, ``"column"``: a second programming (same seed, same devices) with per-column calibration re-run at
every evaluation time on top of the drift compensation.

:func:`accuracy_vs_time` trains, for every seed, a float MLP on scikit-learn's bundled 8x8 digits
(:func:`memr_snn.learning.datasets.load_digits_spikes` for the images, :func:`memr_snn.learning.mlp.
train_mlp`: Adam on the shared cross-entropy; the ``datasets`` extra), compiles it onto tiles of each
device preset with global drift compensation calibrated at programming
(:class:`~memr_snn.aimc.CalibrationConfig`), and measures the test accuracy at every time after
programming (default 1 s, 1 h, 1 day, 1 month, 1 year), with and without the compensation, on the
same read snapshot (one noise epoch per time).  The seed sets the training, the programming and every
noise draw; the train/test split is fixed (``split_seed``).

:class:`AccuracyResult` holds accuracies per device, compensation, time and seed, and writes them as
JSON, a markdown table of mean +/- standard deviation over the seeds (:meth:`AccuracyResult.markdown`)
and a plot (:meth:`AccuracyResult.plot`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from ..devices.nonideal import SECONDS_PER_YEAR
from ..learning.hwa import HWATraining
from ..progress import ProgressBar
from .calibration import CalibrationConfig
from .mapping import MappingConfig
from .model import compile as compile_model

__all__ = ["DRIFT_TIMES", "MODELS", "TRAININGS", "AccuracyResult", "accuracy_vs_time", "format_time"]

#: networks of :func:`accuracy_vs_time`: the 8x8-digits MLP, the DVS-digits CNN
MODELS = ("mlp", "cnn")
#: training of :func:`accuracy_vs_time`: float, hardware-aware
TRAININGS = ("plain", "hwa")

#: the evaluation times of the issue [s]: 1 s, 1 hour, 1 day, 1 month (30 days), 1 year (Julian)
DRIFT_TIMES: tuple[float, ...] = (1.0, 3600.0, 86400.0, 30 * 86400.0, SECONDS_PER_YEAR)


def format_time(t: float) -> str:
    """``1 s``, ``1 h``, ``1 day``, ``1 month``, ``1 year`` for the standard times, else seconds."""
    names = {1.0: "1 s", 3600.0: "1 h", 86400.0: "1 day", 30 * 86400.0: "1 month", SECONDS_PER_YEAR: "1 year"}
    return names.get(float(t), f"{t:g} s")


@dataclasses.dataclass
class AccuracyResult:
    """Accuracies of :func:`accuracy_vs_time`: ``acc[device][mode][i_time][i_seed]``, ``mode`` in
    ``"compensated"``, ``"uncompensated"`` (and ``"column"``); ``float_acc[i_seed]`` the float (plainly
    trained) network's; ``software_acc[device][i_seed]`` the trained network's own accuracy in software
    (for hardware-aware training, the network of that device)."""

    devices: list[str]
    times: list[float]
    seeds: list[int]
    acc: dict[str, dict[str, list[list[float]]]]
    float_acc: list[float]
    settings: dict[str, Any]
    software_acc: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def stats(self, device: str, mode: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation (ddof 0) over the seeds, per time."""
        a = np.asarray(self.acc[device][mode])
        return a.mean(axis=1), a.std(axis=1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result with means and standard deviations."""
        summary = {d: {m: {"mean": self.stats(d, m)[0].tolist(), "std": self.stats(d, m)[1].tolist()}
                       for m in self.acc[d]} for d in self.devices}
        return {"format": "memr_snn.aimc_accuracy_vs_time", "version": 1, "devices": self.devices,
                "times_s": self.times, "seeds": self.seeds, "accuracy": self.acc, "summary": summary,
                "float_accuracy": self.float_acc, "software_accuracy": self.software_acc, "settings": self.settings}

    def markdown(self) -> str:
        """Table: one row per device and compensation, one column per time, mean +/- std in percent."""
        head = "| device | drift compensation | " + " | ".join(format_time(t) for t in self.times) + " |"
        rows = [head, "|---|---|" + "---|" * len(self.times)]
        label = {"uncompensated": "no", "compensated": "yes", "column": "yes + column calibration"}
        for d in self.devices:
            for mode in ("uncompensated", "compensated", "column"):
                if mode not in self.acc[d]:
                    continue
                mean, std = self.stats(d, mode)
                cells = " | ".join(f"{100 * m:.1f} ± {100 * s:.1f}" for m, s in zip(mean, std, strict=True))
                rows.append(f"| {d} | {label[mode]} | {cells} |")
        fa = np.asarray(self.float_acc)
        net = self.settings.get("model", "mlp").upper()
        rows.append(f"\nFloat {net} (software): {100 * fa.mean():.1f} ± {100 * fa.std():.1f} % test accuracy; "
                    f"{len(self.seeds)} seeds ({', '.join(map(str, self.seeds))}), mean ± std in %.")
        if self.settings.get("training") == "hwa":
            sw = "; ".join(f"{d} {100 * np.mean(v):.1f} ± {100 * np.std(v):.1f} %"
                           for d, v in self.software_acc.items())
            rows.append(f"Hardware-aware {net}s in software: {sw}.")
        return "\n".join(rows)

    def plot(self, path: str | Path) -> Path:
        """Accuracy versus time (log axis), one colour per device, solid compensated, dashed not."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        from ..io.atomic import save_figure

        how = {"compensated": "with", "uncompensated": "without", "column": "column calibration +"}
        fig, ax = plt.subplots(figsize=(6.0, 4.0))
        for k, d in enumerate(self.devices):
            for mode, style in (("compensated", "-"), ("uncompensated", "--"), ("column", ":")):
                if mode not in self.acc[d]:
                    continue
                mean, std = self.stats(d, mode)
                ax.errorbar(self.times, 100 * mean, yerr=100 * std, fmt="o" + style, color=f"C{k}", capsize=3,
                            label=f"{d} ({how[mode]} drift compensation)")
        fa = 100 * float(np.mean(self.float_acc))
        net = self.settings.get("model", "mlp").upper()
        ax.axhline(fa, color="k", lw=0.8, ls=":", label=f"float {net}")
        ax.set_xscale("log")
        ax.set_xticks(self.times, [format_time(t) for t in self.times])
        ax.set_xlabel("time after programming")
        ax.set_ylabel("test accuracy [%]")
        ax.set_title(f"{'DVS digits' if net == 'CNN' else '8x8 digits'} {net} on analog tiles"
                     + (" (hardware-aware training)" if self.settings.get("training") == "hwa" else ""))
        ax.legend(fontsize=7)
        fig.tight_layout()
        try:
            return save_figure(fig, path)
        finally:
            plt.close(fig)


def _data(model: str, split_seed: int):
    if model == "mlp":
        from ..learning.datasets import load_digits_spikes

        data = load_digits_spikes(T=1, split_seed=split_seed)
        return data.images_train, data.y_train, data.images_test, data.y_test
    from ..learning.cnn import load_dvs_frames

    return load_dvs_frames(split_seed=split_seed)


def _train(model: str, x, y, hidden, epochs, seed, hardware):
    if model == "mlp":
        from ..learning.mlp import train_mlp

        return train_mlp(x, y, hidden=tuple(hidden), epochs=epochs, seed=seed, hardware=hardware)
    from ..learning.cnn import train_cnn

    return train_cnn(x, y, channels=int(hidden[0]), epochs=epochs, seed=seed, hardware=hardware)


def _software_accuracy(model: str, state, x, y) -> float:
    if model == "mlp":
        from ..learning.mlp import mlp_accuracy

        return mlp_accuracy(state, x, y)
    from ..learning.cnn import cnn_accuracy

    return cnn_accuracy(state, x, y)


def accuracy_vs_time(*, devices: tuple[str, ...] = ("hfox_rram", "pcm_aihwkit"),
                     times: tuple[float, ...] = DRIFT_TIMES, seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
                     hidden: tuple[int, ...] = (64,), epochs: int = 40, io: Any = "aihwkit_inference",
                     mapping: MappingConfig | None = None, split_seed: int = 0, compensation: bool = True,
                     progress: bool | None = False, weights: list[dict] | None = None, model: str = "mlp",
                     training: str = "plain", hardware: HWATraining | None = None, hwa_time: float = 86400.0,
                     column_calibration: bool = False) -> AccuracyResult:
    """Test accuracy of the digits MLP (or the DVS-digits CNN) on analog tiles at each time after programming
    (module docstring).

    Parameters
    ----------
    devices : tuple of str
        Device presets (:func:`memr_snn.devices.list_presets`) or preset paths.
    times : tuple of float
        Times after programming [s], each finite and >= 0.
    seeds : tuple of int
        One network, one programming and one set of noise draws per seed.
    hidden, epochs
        Hidden widths of the MLP (``model="cnn"``: ``hidden[0]`` is the number of convolution channels) and
        training epochs.
    io : str or IOConfig
        Periphery of every tile (default AIHWKit's inference forward).
    mapping : MappingConfig, optional
        Tile layout (default ``MappingConfig()``).
    split_seed : int
        Seed of the fixed train/test split.
    compensation : bool
        Also evaluate with global drift compensation (default True).
    progress : bool or None
        Progress reporting (:class:`memr_snn.progress.ProgressBar`).
    weights : list of state dicts, optional
        Pre-trained networks, one per seed (``fc1.weight``, ...); skips the training (``training="plain"`` only).
    model : {"mlp", "cnn"}
        The 8x8-digits MLP or the DVS-digits CNN (:mod:`memr_snn.learning.cnn`).
    training : {"plain", "hwa"}
        Float training, or hardware-aware training per device (:mod:`memr_snn.learning.hwa`).
    hardware : HWATraining, optional
        Hardware-aware settings for every device (default: :func:`~memr_snn.aimc.training.hwa_for_device` of
        each device and ``io`` at age ``hwa_time``).
    hwa_time : float
        Age [s] at which the device's weight noise is measured for hardware-aware training (default 1 day).
    column_calibration : bool
        Also evaluate mode ``"column"`` (per-column calibration at every time, plus drift compensation).

    Raises
    ------
    memr_snn.MissingExtraError
        scikit-learn (the ``datasets`` extra) is not installed.
    ValueError
        A bad time, seed list, preset, model or training.
    """
    from .training import cnn_spec, hwa_for_device

    times = [float(t) for t in times]
    if not times or not all(np.isfinite(t) and t >= 0 for t in times):
        raise ValueError(f"times must be a non-empty list of finite times >= 0 [s], got {times}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if model not in MODELS:
        raise ValueError(f"model = {model!r} is not one of {list(MODELS)}")
    if training not in TRAININGS:
        raise ValueError(f"training = {training!r} is not one of {list(TRAININGS)}")
    if weights is not None and len(weights) != len(seeds):
        raise ValueError(f"weights holds {len(weights)} state dicts for {len(seeds)} seeds")
    if weights is not None and training != "plain":
        raise ValueError("weights (pre-trained networks) can only be evaluated with training='plain'")
    x_tr, y_tr, x_te, y_te = _data(model, split_seed)
    modes = ("uncompensated", "compensated") if compensation else ("uncompensated",)
    if column_calibration:
        modes = (*modes, "column")
    acc: dict[str, dict[str, list[list[float]]]] = {d: {m: [[] for _ in times] for m in modes} for d in devices}
    float_acc: list[float] = []
    software_acc: dict[str, list[float]] = {d: [] for d in devices}
    cal = CalibrationConfig(drift_compensation=bool(compensation))
    cal_col = CalibrationConfig(drift_compensation=True, column=True, interval=1e-9)
    hw_used = {}
    if training == "hwa":
        hw_used = {d: hardware if hardware is not None else hwa_for_device(d, io=io, t=hwa_time, mapping=mapping)
                   for d in devices}

    def build(state, d, seed, calib):
        spec = dict(state) if model == "mlp" else cnn_spec(state)
        return compile_model(spec, device=d, io=io, mapping=mapping, seed=seed, calibration=calib)

    def evaluate(m, x):
        return np.concatenate([np.argmax(m(x[s:s + 512]), axis=1) for s in range(0, len(x), 512)])

    with ProgressBar(len(seeds) * len(devices) * len(times), desc="aimc accuracy", enabled=progress) as bar:
        for si, seed in enumerate(seeds):
            plain = weights[si] if weights is not None else _train(model, x_tr, y_tr, hidden, epochs, seed, None)
            float_acc.append(_software_accuracy(model, plain, x_te, y_te))
            for d in devices:
                state = plain if training == "plain" else _train(model, x_tr, y_tr, hidden, epochs, seed, hw_used[d])
                software_acc[d].append(_software_accuracy(model, state, x_te, y_te))
                analog = build(state, d, seed, cal)
                column = build(state, d, seed, cal_col) if column_calibration else None
                for ti, t in enumerate(times):
                    analog.set_time(t)
                    for mode in modes:
                        if mode == "column":
                            column.set_time(t)
                            pred = evaluate(column, x_te)
                        else:
                            analog.set_compensation(mode == "compensated")
                            pred = evaluate(analog, x_te)
                        acc[d][mode][ti].append(float(np.mean(pred == y_te)))
                    bar.update(1)
    settings = {"model": model, "training": training, "hidden": list(hidden), "epochs": int(epochs),
                "io": io if isinstance(io, str) else repr(io), "mapping": repr(mapping or MappingConfig()),
                "split_seed": int(split_seed), "n_train": int(len(y_tr)), "n_test": int(len(y_te)),
                "data": "8x8 digits (scikit-learn)" if model == "mlp" else "DVS digits frames (2 x 17 x 17)",
                "hardware": {d: h.to_dict() for d, h in hw_used.items()}, "hwa_time_s": float(hwa_time),
                "column_calibration": bool(column_calibration)}
    return AccuracyResult(list(devices), times, seeds, acc, float_acc, settings, software_acc)
