r"""Sensory classification benchmarks: train, evaluate, map to devices, count spikes and energy.

One harness serves every spike-coded classification task (``memr-snn bench dvs-digits``,
``memr-snn bench spoken-digits``, ``memr-snn bench digits``).  A task is a
:class:`ClassificationData` (input trains ``(N, T, n_in)`` with labels, a fixed train/test
split); :func:`run_classification_benchmark` then, **for every network seed**:

1. trains a LIF network (``n_in -> hidden -> n_classes`` leaky readout, feed-forward by default)
   with the surrogate-gradient BPTT trainer :func:`memr_snn.learning.surrogate.train`
   (:func:`train_network`; the same pipeline as the 8x8 digits experiment, which uses it);
2. reports the float test accuracy (:func:`memr_snn.learning.surrogate.accuracy`);
3. maps the trained weights onto memristive crossbars of a device preset (``hfox_rram`` by
   default, program-and-verify) and reports the test accuracy with the devices' read weights
   (:func:`memr_snn.learning.surrogate.evaluate_mapped`, one or more device seeds per network);
4. counts, per test sample, input spikes, hidden spikes, synaptic operations and neuron updates
   (:func:`spike_statistics`) and turns them into an energy estimate (:class:`EnergyModel`).

Beside the spiking network it fits a non-spiking baseline on the same split
(:func:`logistic_baseline`).  Accuracies are reported as mean ± population standard deviation
over the network seeds (mapped: over all network × device seeds).

Counting conventions
--------------------
* **Input spikes**: the sum of the input array over steps and channels (inputs are spike
  counts per step; a value of 2 is two spikes).
* **Hidden spikes**: spikes ``z[t]`` of the hidden layer of the float network on the test set.
* **Synaptic operations (SynOps)**: every spike times the number of synapses it actually drives,
  i.e. the non-zero weights in its column: input ``i`` drives ``nnz(w_in[:, i])`` synapses,
  hidden neuron ``j`` drives ``nnz(w_out[:, j]) + nnz(w_rec[:, j])``.
* **Neuron updates**: a clocked (time-stepped) implementation updates every hidden and readout
  unit every step: ``(n_rec + n_out) * T`` per sample.

Energy estimate (:class:`EnergyModel`)
--------------------------------------
Two figures per sample, both *estimates* of the core operations only:

* ``energy_digital_J`` -- a digital neuromorphic core:
  ``SynOps * e_synop + neuron_updates * e_neuron_update``.  Defaults are Intel Loihi's (14 nm)
  per-operation energies from Davies et al., "Loihi: a neuromorphic manycore processor with
  on-chip learning", IEEE Micro 38(1):82-99, 2018, as tabulated by KerasSpiking's energy estimator
  (``keras_spiking.ModelEnergy``, device ``"loihi"``): 27.1 pJ per synaptic operation (23.6 pJ
  synaptic spike operation + 3.5 pJ) and 81 pJ per neuron update.
* ``energy_device_J`` -- the mapped network: every spike reads the devices of the synapses it
  drives, each read costing :math:`V_{read}^2\,G\,t_{read}` with the preset's read pulse
  (``programming.v_read``, ``programming.t_read``) and the programmed conductance ``G`` of every
  device (both devices of a differential pair), measured on the mapped crossbar of the first
  device seed; plus ``neuron_updates * e_neuron_update`` for the (digital) neurons.  Peripheral
  circuits (drivers, sense amplifiers, ADCs) are *not* included; they usually dominate a real
  array's read energy.

Non-spiking baseline
--------------------
:func:`logistic_baseline` fits scikit-learn's ``LogisticRegression`` (lbfgs, ``C = 1``,
``max_iter = 2000``) after per-feature standardisation (fit on the training set) to the
per-channel spike counts summed in ``baseline_bins`` equal time bins (``numpy.array_split`` of
the ``T`` steps; 1 bin: total counts per channel), and reports its test accuracy.

Tasks
-----
The built-in tasks (``digits``: scikit-learn's 8x8 digits, rate coded; ``dvs-digits`` and
``spoken-digits`` from :mod:`memr_snn.encoders.datasets`) are declared in one table,
:data:`memr_snn.learning.tasks.BUILTIN_TASKS` (loader and default settings); :func:`get_task` imports a
built-in loader on first use.  :func:`register_task` adds a task of your own (with optional default
training settings) to :data:`SENSORY_TASKS`.  :class:`ClassificationData` is defined in
:mod:`memr_snn.encoders.datasets.classification` and re-exported here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_int_at_least, check_positive
from ..encoders.datasets.classification import ClassificationData
from ..encoders.datasets.classification import jsonable as _jsonable
from ..io.atomic import write_text
from .sensory_metrics import EnergyModel, _binned_counts, device_read_energy, logistic_baseline, spike_statistics  # noqa: F401
from .snn import RSNNConfig, init_weights
from .surrogate import (
    LOSSES,
    READ_MODES,
    HardwareAware,
    Weights,
    accuracy,
    evaluate_mapped,
    map_to_crossbar,
    train,
)
from .tasks import BUILTIN_TASKS

__all__ = [
    "ClassificationData",
    "EnergyModel",
    "TrainedNetwork",
    "SeedResult",
    "SensoryBenchmarkResult",
    "SENSORY_TASKS",
    "TASK_DEFAULTS",
    "register_task",
    "get_task",
    "list_tasks",
    "train_network",
    "spike_statistics",
    "device_read_energy",
    "logistic_baseline",
    "run_classification_benchmark",
    "run_task",
    "write_results",
]

_RESAMPLE_SEED = 0xE90C  # stream of the per-epoch training draws (the digits experiment's, kept for its results)


# --------------------------------------------------------------------------- training
@dataclasses.dataclass
class TrainedNetwork:
    """A trained network and how it was trained."""

    config: RSNNConfig
    weights: Weights
    loss: list[float]
    """Mean training loss per epoch."""
    train_seconds: float
    """Wall time of the training [s]."""
    seed: int


def train_network(data: ClassificationData, seed: int = 0, *, hidden: int = 128, epochs: int = 20,
                  lr: float = 5e-3, lr_decay: float = 0.95, batch_size: int = 32, loss: str = "mean_membrane",
                  recurrent: bool = False, beta: float = 0.0, tau_mem: float = 20e-3, tau_out: float = 20e-3,
                  in_gain: float = 2.0, hardware: HardwareAware | None = None,
                  callback: Callable[[int, dict], None] | None = None,
                  x_train: np.ndarray | None = None) -> TrainedNetwork:
    """Train a LIF network on ``data`` with surrogate-gradient BPTT (:func:`~memr_snn.learning.surrogate.train`).

    Parameters
    ----------
    data : ClassificationData
    seed : int
        Seed of the initial weights, the minibatch order and the per-epoch draws of ``data.resample``.
    hidden : int
        Hidden LIF neurons.
    epochs, lr, lr_decay, batch_size
        Training epochs, Adam learning rate, its per-epoch factor, minibatch size.
    loss : str
        ``"mean_membrane"`` or ``"max_over_time"``.
    recurrent : bool
        Recurrent hidden layer (default feed-forward).
    beta : float
        Threshold adaptation (0: LIF, > 0: ALIF).
    tau_mem, tau_out : float
        Membrane and readout time constants [s].
    in_gain : float
        Input-weight initialisation gain.
    hardware : HardwareAware, optional
        Hardware-aware training options.
    callback : callable, optional
        ``callback(epoch, record)`` after every epoch.
    x_train : ndarray, optional
        ``data.x_train`` already converted to float64 (saves the conversion when training several seeds).

    Returns
    -------
    TrainedNetwork
    """
    seed = check_int_at_least("seed", seed, 0)
    hidden = check_int_at_least("hidden", hidden, 1)
    epochs = check_int_at_least("epochs", epochs, 1)
    if loss not in ("mean_membrane", "max_over_time"):
        raise ValueError(f"loss must be 'mean_membrane' or 'max_over_time' for classification, got {loss!r}")
    config = RSNNConfig(n_in=data.n_in, n_rec=hidden, n_out=data.n_classes, dt=data.dt, recurrent=bool(recurrent),
                        beta=beta, tau_mem=tau_mem, tau_out=tau_out)
    weights = init_weights(config, seed, in_gain=in_gain)
    if data.resample is not None:
        rng = np.random.default_rng([seed, _RESAMPLE_SEED])

        def xs(epoch: int) -> np.ndarray:
            return data.resample(rng)
    else:
        xs = x_train if x_train is not None else np.asarray(data.x_train, dtype=np.float64)
    t0 = time.perf_counter()
    hist = train(config, weights, xs, data.y_train, loss, epochs=epochs, batch_size=batch_size, lr=lr,
                 lr_decay=lr_decay, seed=seed, hardware=hardware, callback=callback)
    return TrainedNetwork(config=config, weights=weights, loss=[float(v) for v in hist["loss"]],
                          train_seconds=time.perf_counter() - t0, seed=seed)


# --------------------------------------------------------------------------- results
@dataclasses.dataclass
class SeedResult:
    """One network seed."""

    seed: int
    test_accuracy: float
    train_accuracy: float
    mapped_accuracy: list[float]
    """Mapped test accuracy per device seed."""
    loss: list[float]
    train_seconds: float
    seconds_per_epoch: float
    stats: dict[str, float]
    """Per-sample counts (:func:`spike_statistics`, scalars only)."""
    energy_digital_J: float
    energy_device_J: float
    weight_rmse: list[dict[str, float]]


@dataclasses.dataclass
class SensoryBenchmarkResult:
    """Everything a sensory benchmark measured; :meth:`to_dict` is JSON-able, :meth:`format` is markdown."""

    task: dict[str, Any]
    settings: dict[str, Any]
    seeds: list[SeedResult]
    baseline: dict[str, Any] | None
    energy_model: EnergyModel
    smoke_test: bool = False
    """True for ``--quick`` runs (a small subset, 1 epoch): they check that the pipeline runs, not accuracy."""

    def _mean_std(self, values: Sequence[float]) -> tuple[float, float]:
        a = np.asarray(values, dtype=np.float64)
        return (float(a.mean()), float(a.std())) if a.size else (math.nan, math.nan)

    def summary(self) -> dict[str, Any]:
        """Means ± population standard deviations over the seeds."""
        acc = self._mean_std([s.test_accuracy for s in self.seeds])
        mapped = self._mean_std([a for s in self.seeds for a in s.mapped_accuracy])
        out = {"float_accuracy_mean": acc[0], "float_accuracy_std": acc[1],
               "mapped_accuracy_mean": mapped[0], "mapped_accuracy_std": mapped[1],
               "mapped_n": sum(len(s.mapped_accuracy) for s in self.seeds),
               "mapped_drop": acc[0] - mapped[0],
               "baseline_accuracy": None if self.baseline is None else self.baseline["accuracy"]}
        for key in ("input_spikes", "hidden_spikes", "synops", "neuron_updates"):
            out[f"{key}_per_sample"] = self._mean_std([s.stats[key] for s in self.seeds])[0]
        out["energy_digital_J_per_sample"] = self._mean_std([s.energy_digital_J for s in self.seeds])[0]
        out["energy_device_J_per_sample"] = self._mean_std([s.energy_device_J for s in self.seeds])[0]
        out["seconds_per_epoch"] = self._mean_std([s.seconds_per_epoch for s in self.seeds])[0]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dictionary (task, settings, per-seed results, summary, baseline, energy model)."""
        return _jsonable({"task": self.task, "settings": self.settings,
                          "seeds": [dataclasses.asdict(s) for s in self.seeds], "summary": self.summary(),
                          "baseline": self.baseline, "energy_model": dataclasses.asdict(self.energy_model),
                          "smoke_test": self.smoke_test})

    def format(self) -> str:
        """A markdown report: one table of the headline numbers plus the per-seed accuracies."""
        s = self.summary()
        t = self.task
        st = self.settings
        pct = "{:.1f} ± {:.1f} %".format
        lines = [f"## Sensory benchmark: {t['name']}", ""]
        if self.smoke_test:
            lines += [("**--quick smoke test: a small subset and 1 epoch. These numbers check that the pipeline "
                       "runs; they are not a measurement of accuracy or energy.**"), ""]
        lines += [
                 (f"{t['n_train']} train / {t['n_test']} test samples, {t['n_in']} inputs, T = {t['T']} steps of "
                 f"{t['dt'] * 1e3:g} ms, {t['n_classes']} classes; network {t['n_in']}-{st['hidden']}-"
                 f"{t['n_classes']} ({'recurrent' if st['recurrent'] else 'feed-forward'} LIF), {st['epochs']} "
                 f"epochs, seeds {st['seeds']}; device preset {st['preset']} (read noise {st['read_noise']}, "
                 f"device seeds {st['device_seeds']})."), "",
                 "| metric | value |", "|---|---|",
                 (f"| test accuracy, float (mean ± std over {len(self.seeds)} seeds) | "
                 f"{pct(100 * s['float_accuracy_mean'], 100 * s['float_accuracy_std'])} |"),
                 (f"| test accuracy, mapped to {st['preset']} ({s['mapped_n']} network × device seeds) | "
                 f"{pct(100 * s['mapped_accuracy_mean'], 100 * s['mapped_accuracy_std'])} |"),
                 f"| mapped minus float | {-100 * s['mapped_drop']:+.1f} points |"]
        if self.baseline is not None:
            b = self.baseline
            lines.append(f"| non-spiking baseline (logistic regression, {b['bins']} time bin(s), {b['features']} "
                         f"features) | {100 * b['accuracy']:.1f} % |")
        e = self.energy_model
        lines += [f"| input spikes / sample | {s['input_spikes_per_sample']:.1f} |",
                  f"| hidden spikes / sample | {s['hidden_spikes_per_sample']:.1f} |",
                  f"| synaptic operations / sample | {s['synops_per_sample']:.4g} |",
                  f"| neuron updates / sample | {s['neuron_updates_per_sample']:.4g} |",
                  (f"| energy / sample, digital core ({e.e_synop * 1e12:g} pJ/SynOp, "
                  f"{e.e_neuron_update * 1e12:g} pJ/update) | {_fmt_energy(s['energy_digital_J_per_sample'])} |"),
                  (f"| energy / sample, {st['preset']} reads + digital neuron updates | "
                  f"{_fmt_energy(s['energy_device_J_per_sample'])} |"),
                  f"| training time / epoch | {s['seconds_per_epoch']:.2f} s |", "",
                  "| seed | float | mapped (per device seed) | train | loss first → last |", "|---|---|---|---|---|"]
        for r in self.seeds:
            mapped = ", ".join(f"{100 * a:.1f}" for a in r.mapped_accuracy)
            lines.append(f"| {r.seed} | {100 * r.test_accuracy:.1f} % | {mapped} | {100 * r.train_accuracy:.1f} % | "
                         f"{r.loss[0]:.3f} → {r.loss[-1]:.3f} |")
        lines += ["", (f"Energy figures: {e.source}; device reads V_read² G t_read of the programmed "
                      "conductances, periphery excluded.")]
        return "\n".join(lines) + "\n"


def _fmt_energy(joules: float) -> str:
    for unit, scale in (("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12)):
        if abs(joules) >= scale:
            return f"{joules / scale:.3g} {unit}"
    return f"{joules:.3g} J"




# --------------------------------------------------------------------------- the benchmark
def run_classification_benchmark(data: ClassificationData, *, seeds: Sequence[int] = (0, 1, 2), hidden: int = 128,
                                 epochs: int = 20, lr: float = 5e-3, lr_decay: float = 0.95, batch_size: int = 32,
                                 loss: str = "mean_membrane", recurrent: bool = False, beta: float = 0.0,
                                 tau_mem: float = 20e-3, tau_out: float = 20e-3, in_gain: float = 2.0,
                                 hardware: HardwareAware | None = None, preset: str = "hfox_rram",
                                 device_seeds: Sequence[int] = (0,), read_noise: str = "per_step",
                                 baseline: bool = True, baseline_bins: int = 1,
                                 energy: EnergyModel | None = None, progress: bool | None = None
                                 ) -> SensoryBenchmarkResult:
    """Train, evaluate, map and count over network seeds (module docstring).

    Parameters
    ----------
    data : ClassificationData
        The task.
    seeds : sequence of int
        Network seeds (at least one; the reported results use three).
    hidden, epochs, lr, lr_decay, batch_size, loss, recurrent, beta, tau_mem, tau_out, in_gain, hardware
        Network and training settings (:func:`train_network`).
    preset : str
        Device preset of the mapped evaluation (``memr-snn devices list``).
    device_seeds : sequence of int
        Device seeds per trained network (each a fresh programming of the crossbars).
    read_noise : str
        ``"per_step"``, ``"static"`` or ``"off"`` (:func:`~memr_snn.learning.surrogate.evaluate_mapped`).
    baseline : bool
        Fit the logistic-regression baseline.
    baseline_bins : int
        Time bins of the baseline's count features.
    energy : EnergyModel, optional
        Per-operation energies (default :class:`EnergyModel()`).
    progress : bool, optional
        Progress bar over seeds × epochs on stderr (None: only on a terminal).

    Returns
    -------
    SensoryBenchmarkResult
    """
    from ..progress import ProgressBar

    seeds = [check_int_at_least("seeds", s, 0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed, got none")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    device_seeds = [check_int_at_least("device_seeds", s, 0) for s in device_seeds]
    if not device_seeds:
        raise ValueError("device_seeds must hold at least one seed, got none")
    hidden = check_int_at_least("hidden", hidden, 1)
    epochs = check_int_at_least("epochs", epochs, 1)
    batch_size = check_int_at_least("batch_size", batch_size, 1)
    check_positive("lr", lr)
    check_positive("lr_decay", lr_decay)
    if loss not in ("mean_membrane", "max_over_time"):
        raise ValueError(f"loss must be 'mean_membrane' or 'max_over_time', got {loss!r} (see {list(LOSSES)})")
    if read_noise not in READ_MODES:
        raise ValueError(f"read_noise must be one of {list(READ_MODES)}, got {read_noise!r}")
    baseline_bins = check_int_at_least("baseline_bins", baseline_bins, 1)
    from ..devices.presets import load_preset

    load_preset(preset)  # fail on an unknown preset before any training
    energy = energy if energy is not None else EnergyModel()
    x_tr = None if data.resample is not None else np.asarray(data.x_train, dtype=np.float64)
    x_te = np.asarray(data.x_test, dtype=np.float64)
    results: list[SeedResult] = []
    with ProgressBar(len(seeds) * epochs, desc=f"bench {data.name}", enabled=progress) as bar:
        for seed in seeds:
            net = train_network(data, seed, hidden=hidden, epochs=epochs, lr=lr, lr_decay=lr_decay,
                                batch_size=batch_size, loss=loss, recurrent=recurrent, beta=beta, tau_mem=tau_mem,
                                tau_out=tau_out, in_gain=in_gain, hardware=hardware,
                                callback=lambda e, rec: bar.update(), x_train=x_tr)
            test_acc = accuracy(net.config, net.weights, x_te, data.y_test, loss)
            train_acc = accuracy(net.config, net.weights, x_tr if x_tr is not None else data.x_train,
                                 data.y_train, loss)
            mapped = evaluate_mapped(net.config, net.weights, x_te, data.y_test, preset, device_seeds=device_seeds,
                                     loss=loss, read_noise=read_noise)
            stats = spike_statistics(net.config, net.weights, x_te)
            e_dig = stats["synops"] * energy.e_synop + stats["neuron_updates"] * energy.e_neuron_update
            crossbars = map_to_crossbar(net.config, net.weights, preset, seed=device_seeds[0])
            e_dev = device_read_energy(crossbars, stats) + stats["neuron_updates"] * energy.e_neuron_update
            results.append(SeedResult(
                seed=seed, test_accuracy=test_acc, train_accuracy=train_acc,
                mapped_accuracy=[float(a) for a in mapped["accuracy"]], loss=net.loss,
                train_seconds=net.train_seconds, seconds_per_epoch=net.train_seconds / epochs,
                stats={k: v for k, v in stats.items() if not isinstance(v, np.ndarray)},
                energy_digital_J=e_dig, energy_device_J=e_dev, weight_rmse=mapped["weight_rmse"]))
    base = logistic_baseline(data, bins=baseline_bins) if baseline else None
    settings = {"seeds": seeds, "hidden": hidden, "epochs": epochs, "lr": lr, "lr_decay": lr_decay,
                "batch_size": batch_size, "loss": loss, "recurrent": bool(recurrent), "beta": beta,
                "tau_mem": tau_mem, "tau_out": tau_out, "in_gain": in_gain,
                "hardware": None if hardware is None else dataclasses.asdict(hardware), "preset": preset,
                "device_seeds": device_seeds, "read_noise": read_noise, "baseline_bins": baseline_bins,
                "resampled_training_inputs": data.resample is not None}
    return SensoryBenchmarkResult(task=data.summary(), settings=settings, seeds=results, baseline=base,
                                  energy_model=energy)


# --------------------------------------------------------------------------- task registry
SENSORY_TASKS: dict[str, Callable[..., ClassificationData]] = {}
"""Task name -> loader ``loader(*, quick: bool = False) -> ClassificationData``: the tasks registered with
:func:`register_task` and the built-in tasks of :data:`~memr_snn.learning.tasks.BUILTIN_TASKS` once
:func:`get_task` has loaded them."""

TASK_DEFAULTS: dict[str, dict[str, Any]] = {}
"""Task name -> default keyword arguments of :func:`run_classification_benchmark` for that task (filled
with :data:`SENSORY_TASKS`)."""


def register_task(name: str, loader: Callable[..., ClassificationData], *, defaults: dict[str, Any] | None = None,
                  overwrite: bool = False) -> None:
    """Register a task loader under ``name`` (``memr-snn bench NAME``).

    Parameters
    ----------
    name : str
        Task name (lower case, letters, digits and ``-``).
    loader : callable
        ``loader(*, quick: bool = False) -> ClassificationData``; ``quick=True`` returns a small subset
        for smoke tests.
    defaults : dict, optional
        Default keyword arguments of :func:`run_classification_benchmark` for this task
        (``epochs``, ``hidden``, ``lr`` ...); the command line overrides them.
    overwrite : bool
        Replace an existing registration (otherwise a second registration of ``name`` with a
        different loader raises ``ValueError``; the same loader again without ``defaults`` is a no-op).
    """
    if not isinstance(name, str) or not name or any(not (c.isalnum() or c == "-") for c in name) \
            or name != name.lower():
        raise ValueError(f"task name must be lower-case letters, digits and '-', got {name!r}")
    if not callable(loader):
        raise ValueError(f"loader must be callable, got {loader!r}")
    if not overwrite and ((name in SENSORY_TASKS and SENSORY_TASKS[name] is not loader)
                          or (name not in SENSORY_TASKS and name in BUILTIN_TASKS)):
        raise ValueError(f"task {name!r} is already registered; pass overwrite=True to replace it")
    known = set(_keyword_params(run_classification_benchmark))
    unknown = sorted(set(defaults or {}) - known)
    if unknown:
        raise ValueError(f"defaults for task {name!r} name unknown settings {unknown}; allowed: {sorted(known)}")
    if SENSORY_TASKS.get(name) is loader and defaults is None:
        return  # the same registration again (e.g. a module imported twice): keep its defaults
    SENSORY_TASKS[name] = loader
    TASK_DEFAULTS[name] = dict(defaults or {})


def _keyword_params(fn: Callable) -> list[str]:
    """Keyword-only parameter names of ``fn`` (the settings a task may default)."""
    import inspect

    return [p.name for p in inspect.signature(fn).parameters.values() if p.kind == p.KEYWORD_ONLY]


def list_tasks() -> list[str]:
    """Names of the registered and the built-in tasks."""
    return sorted(set(SENSORY_TASKS) | set(BUILTIN_TASKS))


def get_task(name: str) -> Callable[..., ClassificationData]:
    """The loader of task ``name``; imports a built-in task's loader (:mod:`memr_snn.learning.tasks`) on first use.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known tasks), or when a built-in task's
        module is not available in this installation.
    """
    if name not in SENSORY_TASKS and name in BUILTIN_TASKS:
        spec = BUILTIN_TASKS[name]
        try:
            loader = spec.load()
        except ModuleNotFoundError as exc:
            if exc.name is not None and spec.module.startswith(exc.name):
                raise ValueError(f"task {name!r} is not available in this installation (module {spec.module} is "
                                 "missing)") from exc
            raise
        SENSORY_TASKS[name] = loader
        TASK_DEFAULTS[name] = spec.defaults()
    if name not in SENSORY_TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(list_tasks())}")
    return SENSORY_TASKS[name]


def run_task(name: str, *, quick: bool = False, **settings: Any) -> SensoryBenchmarkResult:
    """Load task ``name`` and run :func:`run_classification_benchmark` with its defaults overridden by ``settings``.

    ``quick`` loads the task's small subset and, unless given, trains 1 epoch of 32 hidden neurons.
    """
    loader = get_task(name)
    kw = dict(TASK_DEFAULTS.get(name, {}))
    if quick:
        kw.update(epochs=1, hidden=32)
    kw.update({k: v for k, v in settings.items() if v is not None})
    data = loader(quick=bool(quick))
    if not isinstance(data, ClassificationData):
        raise TypeError(f"the loader of task {name!r} returned {type(data).__name__}, not ClassificationData")
    result = run_classification_benchmark(data, **kw)
    result.smoke_test = bool(quick)
    return result


def write_results(result: SensoryBenchmarkResult, out: str | Path, command: str | None = None) -> tuple[Path, Path]:
    """Write ``results.json`` (:meth:`SensoryBenchmarkResult.to_dict` plus versions) and ``results.md`` to ``out``."""
    from .. import __version__

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    doc = result.to_dict()
    doc["memr_snn_version"] = __version__
    doc["numpy_version"] = np.__version__
    if command is not None:
        doc["command"] = command
    j, m = out / "results.json", out / "results.md"
    write_text(j, json.dumps(doc, indent=2) + "\n")
    write_text(m, result.format())
    return j, m
