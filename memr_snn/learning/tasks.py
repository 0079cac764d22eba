"""The table of built-in benchmark tasks (``memr-snn bench NAME``): the only place a built-in task is declared.

:data:`BUILTIN_TASKS` maps a task name to a :class:`TaskSpec`: where its loader lives and the default
settings of :func:`memr_snn.learning.sensory.run_classification_benchmark` for it.  Loaders are named
as ``"module:function"`` and imported only when the task is used (:meth:`TaskSpec.load`), so importing
the learning package does not import the datasets (scipy, espeak-ng ...).  Nothing registers itself
at import time: to add a built-in task, write its loader ``loader(*, quick: bool = False) ->
ClassificationData`` (usually in :mod:`memr_snn.encoders.datasets`) and add one entry here
(``docs/architecture.md``, "Adding a benchmark task").  User tasks are registered explicitly with
:func:`memr_snn.learning.sensory.register_task`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ..encoders.datasets.classification import ClassificationData

__all__ = ["TaskSpec", "BUILTIN_TASKS", "load_digits_task"]


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """One built-in task: its loader and its default benchmark settings."""

    loader: str
    """``"module:function"``; the function is ``loader(*, quick: bool = False) -> ClassificationData``."""
    defaults: Callable[[], dict[str, Any]]
    """Returns (a fresh copy of) the default keyword arguments of ``run_classification_benchmark``."""

    @property
    def module(self) -> str:
        """The module holding the loader."""
        return self.loader.partition(":")[0]

    def load(self) -> Callable[..., ClassificationData]:
        """Import the loader's module and return the loader (``ModuleNotFoundError`` if the module is missing)."""
        module, _, attr = self.loader.partition(":")
        return getattr(importlib.import_module(module), attr)


# --------------------------------------------------------------------------- built-in task: 8x8 digits
def load_digits_task(*, quick: bool = False) -> ClassificationData:
    """scikit-learn's 8x8 digits, rate coded (20 steps of 1 ms, 500 Hz for a full pixel), fresh draws each epoch.

    ``quick``: the first 200 training and 100 test samples of the fixed split.
    """
    from .datasets import load_digits_spikes, rate_encode

    T, dt, max_rate = 20, 1e-3, 500.0
    ds = load_digits_spikes(T, dt=dt, max_rate=max_rate, seed=0)
    n_tr, n_te = (200, 100) if quick else (len(ds.y_train), len(ds.y_test))
    images = ds.images_train[:n_tr]
    return ClassificationData(
        name="digits", x_train=ds.x_train[:n_tr], y_train=ds.y_train[:n_tr], x_test=ds.x_test[:n_te],
        y_test=ds.y_test[:n_te], dt=dt, n_classes=10,
        meta={"source": "scikit-learn load_digits (UCI optical recognition of handwritten digits, 8x8)",
              "encoding": "rate (Bernoulli per step)", "T": T, "max_rate_hz": max_rate, "spike_seed": 0,
              "split": "stratified, test_fraction 0.25, split_seed 0", "quick": bool(quick)},
        resample=lambda rng: rate_encode(images, T, dt, max_rate, rng))


def _digits_defaults() -> dict[str, Any]:
    return {"epochs": 40, "hidden": 128, "lr": 5e-3, "lr_decay": 0.95, "batch_size": 32, "in_gain": 2.0}


def _dvs_digits_defaults() -> dict[str, Any]:
    return {"epochs": 20, "hidden": 128, "lr": 5e-3, "lr_decay": 0.95, "batch_size": 32, "tau_mem": 50e-3,
            "tau_out": 100e-3, "in_gain": 1.0, "baseline_bins": 3}


def _spoken_digits_defaults() -> dict[str, Any]:
    """A recurrent LIF layer, trained hardware-aware for the default mapping preset (its levels, drift and a
    programming-error-sized weight noise, see :meth:`~memr_snn.learning.surrogate.HardwareAware.from_preset`);
    without it, one network seed in three lost 11 points when mapped to hfox_rram (``docs/audio.md``)."""
    from .surrogate import HardwareAware

    return {"epochs": 20, "hidden": 128, "recurrent": True, "lr": 5e-3, "lr_decay": 0.95, "batch_size": 32,
            "tau_mem": 20e-3, "tau_out": 20e-3, "in_gain": 2.0, "baseline_bins": 4, "preset": "hfox_rram",
            "hardware": HardwareAware.from_preset("hfox_rram")}


BUILTIN_TASKS: Mapping[str, TaskSpec] = MappingProxyType({
    "digits": TaskSpec("memr_snn.learning.tasks:load_digits_task", _digits_defaults),
    "dvs-digits": TaskSpec("memr_snn.encoders.datasets.dvs_digits:load_task", _dvs_digits_defaults),
    "spoken-digits": TaskSpec("memr_snn.encoders.datasets.spoken_digits:load_task", _spoken_digits_defaults),
})
"""Task name -> :class:`TaskSpec` of every built-in task (read-only)."""
