"""Digits classifier: a LIF network trained with surrogate gradients on rate-coded 8x8 digits.

:func:`train_digits` (run by ``memr-snn experiment digits-bptt`` and ``examples/surrogate_digits.py``,
whose command line is :func:`memr_snn.cli_experiments.digits_main`) loads
:func:`~memr_snn.learning.datasets.load_digits_spikes`
(fixed stratified split, 1347 train / 450 test), trains with the sensory benchmark harness's
:func:`~memr_snn.learning.sensory.train_network` (surrogate-gradient BPTT, fresh Bernoulli spikes every
epoch, fixed seeded test spikes), and optionally maps the trained
weights onto a device preset and reports the mapped accuracy over device seeds
(:func:`~memr_snn.learning.surrogate.evaluate_mapped`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .._validation import check_int_at_least
from .datasets import load_digits_spikes, rate_encode
from .sensory import ClassificationData, train_network
from .surrogate import HardwareAware, accuracy, evaluate_mapped

__all__ = ["train_digits"]


def train_digits(seed: int = 0, epochs: int = 40, hidden: int = 128, *, T: int = 20, dt: float = 1e-3,
                 max_rate: float = 500.0, loss: str = "mean_membrane", recurrent: bool = False, beta: float = 0.0,
                 lr: float = 5e-3, lr_decay: float = 0.95, batch_size: int = 32, in_gain: float = 2.0,
                 hardware: HardwareAware | None = None, map_preset: str | None = None,
                 device_seeds: Sequence[int] = (0, 1, 2, 3, 4), read_noise: str = "per_step",
                 age: float = 0.0, callback: Callable[[int, dict], None] | None = None) -> dict[str, Any]:
    """Train the digits classifier; return accuracies, weights and timing.

    Parameters
    ----------
    seed : int
        Seed of the weights, the training spikes and the shuffling (the test spikes use ``seed`` too;
        the train/test split is fixed).
    epochs, hidden, T : int
        Training epochs, hidden LIF neurons, steps per sample.
    dt : float
        Time step [s].
    max_rate : float
        Spike rate of a full-intensity pixel [Hz].
    loss : str
        ``"mean_membrane"`` or ``"max_over_time"``.
    recurrent : bool
        Recurrent hidden layer (default feed-forward).
    beta : float
        Threshold adaptation (0: LIF, > 0: ALIF).
    lr, lr_decay, batch_size, in_gain
        Adam learning rate, its per-epoch factor, minibatch size, input-weight init gain.
    hardware : HardwareAware, optional
        Hardware-aware training options.
    map_preset : str, optional
        Device preset to map the trained weights to (e.g. ``"hfox_rram"``); None: float only.
    device_seeds : sequence of int
        Device seeds for the mapped evaluation.
    read_noise : str
        Read-noise mode of :func:`~memr_snn.learning.surrogate.evaluate_mapped`.
    age : float
        Time between programming and the test reads [s].
    callback : callable, optional
        ``callback(epoch, record)`` after every training epoch (e.g. to advance a progress bar;
        :func:`~memr_snn.learning.sensory.train_network`).

    Returns
    -------
    dict
        ``test_accuracy``, ``train_accuracy``, ``loss`` (per epoch), ``train_seconds``, ``config``,
        ``weights`` and, with ``map_preset``, ``mapped`` (the :func:`evaluate_mapped` result).
    """
    seed = check_int_at_least("seed", seed, 0)
    epochs = check_int_at_least("epochs", epochs, 1)
    hidden = check_int_at_least("hidden", hidden, 1)
    ds = load_digits_spikes(T, dt=dt, max_rate=max_rate, seed=seed)
    data = ClassificationData(name="digits", x_train=ds.x_train, y_train=ds.y_train, x_test=ds.x_test,
                              y_test=ds.y_test, dt=dt, n_classes=10,
                              resample=lambda rng: rate_encode(ds.images_train, T, dt, max_rate, rng))
    net = train_network(data, seed, hidden=hidden, epochs=epochs, lr=lr, lr_decay=lr_decay, batch_size=batch_size,
                        loss=loss, recurrent=recurrent, beta=beta, in_gain=in_gain, hardware=hardware,
                        callback=callback)
    config, weights, t_train = net.config, net.weights, net.train_seconds
    out: dict[str, Any] = {
        "seed": seed,
        "test_accuracy": accuracy(config, weights, ds.x_test, ds.y_test, loss),
        "train_accuracy": accuracy(config, weights, ds.x_train, ds.y_train, loss),
        "loss": net.loss,
        "train_seconds": t_train,
        "config": config,
        "weights": weights,
    }
    if map_preset is not None:
        t1 = time.perf_counter()
        out["mapped"] = evaluate_mapped(config, weights, ds.x_test, ds.y_test, map_preset, device_seeds=device_seeds,
                                        loss=loss, read_noise=read_noise, age=age)
        out["mapped_seconds"] = time.perf_counter() - t1
    return out
