r"""Accuracy versus time after programming: a float MLP on the 8x8 digits mapped onto analog tiles.

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
from ..progress import ProgressBar
from .calibration import CalibrationConfig
from .mapping import MappingConfig
from .model import compile as compile_model

__all__ = ["DRIFT_TIMES", "AccuracyResult", "accuracy_vs_time", "format_time"]

#: the evaluation times of the issue [s]: 1 s, 1 hour, 1 day, 1 month (30 days), 1 year (Julian)
DRIFT_TIMES: tuple[float, ...] = (1.0, 3600.0, 86400.0, 30 * 86400.0, SECONDS_PER_YEAR)


def format_time(t: float) -> str:
    """``1 s``, ``1 h``, ``1 day``, ``1 month``, ``1 year`` for the standard times, else seconds."""
    names = {1.0: "1 s", 3600.0: "1 h", 86400.0: "1 day", 30 * 86400.0: "1 month", SECONDS_PER_YEAR: "1 year"}
    return names.get(float(t), f"{t:g} s")


@dataclasses.dataclass
class AccuracyResult:
    """Accuracies of :func:`accuracy_vs_time`: ``acc[device][mode][i_time][i_seed]``, ``mode`` in
    ``"compensated"``, ``"uncompensated"``; ``float_acc[i_seed]`` the float MLP's."""

    devices: list[str]
    times: list[float]
    seeds: list[int]
    acc: dict[str, dict[str, list[list[float]]]]
    float_acc: list[float]
    settings: dict[str, Any]

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
                "float_accuracy": self.float_acc, "settings": self.settings}

    def markdown(self) -> str:
        """Table: one row per device and compensation, one column per time, mean +/- std in percent."""
        head = "| device | drift compensation | " + " | ".join(format_time(t) for t in self.times) + " |"
        rows = [head, "|---|---|" + "---|" * len(self.times)]
        for d in self.devices:
            for mode in ("uncompensated", "compensated"):
                if mode not in self.acc[d]:
                    continue
                mean, std = self.stats(d, mode)
                cells = " | ".join(f"{100 * m:.1f} ± {100 * s:.1f}" for m, s in zip(mean, std, strict=True))
                rows.append(f"| {d} | {'yes' if mode == 'compensated' else 'no'} | {cells} |")
        fa = np.asarray(self.float_acc)
        rows.append(f"\nFloat MLP (software): {100 * fa.mean():.1f} ± {100 * fa.std():.1f} % test accuracy; "
                    f"{len(self.seeds)} seeds ({', '.join(map(str, self.seeds))}), mean ± std in %.")
        return "\n".join(rows)

    def plot(self, path: str | Path) -> Path:
        """Accuracy versus time (log axis), one colour per device, solid compensated, dashed not."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        from ..io.atomic import save_figure

        fig, ax = plt.subplots(figsize=(6.0, 4.0))
        for k, d in enumerate(self.devices):
            for mode, style in (("compensated", "-"), ("uncompensated", "--")):
                if mode not in self.acc[d]:
                    continue
                mean, std = self.stats(d, mode)
                ax.errorbar(self.times, 100 * mean, yerr=100 * std, fmt="o" + style, color=f"C{k}", capsize=3,
                            label=f"{d} ({'with' if mode == 'compensated' else 'without'} drift compensation)")
        fa = 100 * float(np.mean(self.float_acc))
        ax.axhline(fa, color="k", lw=0.8, ls=":", label="float MLP")
        ax.set_xscale("log")
        ax.set_xticks(self.times, [format_time(t) for t in self.times])
        ax.set_xlabel("time after programming")
        ax.set_ylabel("test accuracy [%]")
        ax.set_title("8x8 digits MLP on analog tiles")
        ax.legend(fontsize=7)
        fig.tight_layout()
        try:
            return save_figure(fig, path)
        finally:
            plt.close(fig)


def accuracy_vs_time(*, devices: tuple[str, ...] = ("hfox_rram", "pcm_aihwkit"),
                     times: tuple[float, ...] = DRIFT_TIMES, seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
                     hidden: tuple[int, ...] = (64,), epochs: int = 40, io: Any = "aihwkit_inference",
                     mapping: MappingConfig | None = None, split_seed: int = 0, compensation: bool = True,
                     progress: bool | None = False, weights: list[dict] | None = None) -> AccuracyResult:
    """Test accuracy of the digits MLP on analog tiles at each time after programming (module docstring).

    Parameters
    ----------
    devices : tuple of str
        Device presets (:func:`memr_snn.devices.list_presets`) or preset paths.
    times : tuple of float
        Times after programming [s], each finite and >= 0.
    seeds : tuple of int
        One MLP, one programming and one set of noise draws per seed.
    hidden, epochs
        Hidden widths and training epochs of the MLP.
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
        Pre-trained MLPs, one per seed (``fc1.weight``, ...); skips the training.

    Raises
    ------
    memr_snn.MissingExtraError
        scikit-learn (the ``datasets`` extra) is not installed.
    ValueError
        A bad time, seed list or preset.
    """
    from ..learning.datasets import load_digits_spikes
    from ..learning.mlp import mlp_accuracy, train_mlp

    times = [float(t) for t in times]
    if not times or not all(np.isfinite(t) and t >= 0 for t in times):
        raise ValueError(f"times must be a non-empty list of finite times >= 0 [s], got {times}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if weights is not None and len(weights) != len(seeds):
        raise ValueError(f"weights holds {len(weights)} state dicts for {len(seeds)} seeds")
    data = load_digits_spikes(T=1, split_seed=split_seed)
    x_tr, y_tr, x_te, y_te = data.images_train, data.y_train, data.images_test, data.y_test
    modes = ("uncompensated", "compensated") if compensation else ("uncompensated",)
    acc: dict[str, dict[str, list[list[float]]]] = {d: {m: [[] for _ in times] for m in modes} for d in devices}
    float_acc = []
    cal = CalibrationConfig(drift_compensation=bool(compensation))
    with ProgressBar(len(seeds) * len(devices) * len(times), desc="aimc accuracy", enabled=progress) as bar:
        for si, seed in enumerate(seeds):
            state = weights[si] if weights is not None else train_mlp(x_tr, y_tr, hidden=tuple(hidden),
                                                                      epochs=epochs, seed=seed)
            float_acc.append(mlp_accuracy(state, x_te, y_te))
            for d in devices:
                model = compile_model(dict(state), device=d, io=io, mapping=mapping, seed=seed, calibration=cal)
                for ti, t in enumerate(times):
                    model.set_time(t)
                    for mode in modes:
                        model.set_compensation(mode == "compensated")
                        pred = np.argmax(model(x_te), axis=1)
                        acc[d][mode][ti].append(float(np.mean(pred == y_te)))
                    bar.update(1)
    settings = {"hidden": list(hidden), "epochs": int(epochs), "io": io if isinstance(io, str) else repr(io),
                "mapping": repr(mapping or MappingConfig()), "split_seed": int(split_seed),
                "n_train": int(len(y_tr)), "n_test": int(len(y_te))}
    return AccuracyResult(list(devices), times, seeds, acc, float_acc, settings)
