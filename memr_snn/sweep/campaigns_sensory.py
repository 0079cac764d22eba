"""Built-in fault-injection experiments on the sensory benchmarks (DVS digits, spoken digits, 8x8 digits).

Both train, for the point's seed, the spiking classifier of ``memr-snn bench TASK``
(:func:`memr_snn.learning.sensory.train_network` with the task's default settings of
:data:`memr_snn.learning.sensory.TASK_DEFAULTS`, ``hidden`` and ``epochs`` overridden), then measure its test
accuracy with faults:

* :func:`sensory_faults` -- the weights written into memristive crossbars of a device preset
  (:func:`memr_snn.learning.surrogate.map_to_crossbar`, program-and-verify, differential pairs) with the
  device faults of the point: stuck-at devices, time after programming (drift) with or without global drift
  compensation, devices worn out by prior cycling (endurance exhaustion), a read-noise scale;
* :func:`sensory_bit_flips` -- the weights stored digitally as ``bits``-bit two's-complement integers (a
  digital neuromorphic core's weight memory, e.g. Loihi's 8-bit synapses), each stored bit flipped with
  probability ``bit_flip_rate`` (soft errors).

The seed is split with ``numpy.random.SeedSequence(seed).generate_state(3)`` into the network seed
(initial weights, minibatch order), the device seed (variability, faults, programming and read noise) and
the bit-flip seed.  With ``common_seeds`` (every campaign in ``examples/sweeps/``) replicate ``r`` is the same
trained network and the same devices at every fault level, and a higher stuck rate or bit-flip rate adds
faults to a lower one's (the faulty devices or bits are those whose uniform draw falls below the rate).

A trained network is kept in memory per worker process (:func:`trained_network`, a small LRU cache keyed by
task and training settings), so the points of one seed train it once per process; the result of a point does
not depend on it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

from .._validation import check_int_at_least, check_nonnegative, check_probability

__all__ = ["sensory_faults", "sensory_bit_flips", "trained_network", "flip_bits", "quantize_codes", "worn_probability",
           "SENSORY_TASKS"]

#: the tasks of these experiments (``memr-snn bench TASK``)
SENSORY_TASKS = ("dvs-digits", "spoken-digits", "digits")
_READ_MODES = ("static", "per_step", "off")


def _seeds(seed: int) -> tuple[int, int, int]:
    """Network, device and bit-flip seeds of a point's ``seed``."""
    net, dev, flip = (int(s) for s in np.random.SeedSequence(int(seed)).generate_state(3, np.uint32))
    return net, dev, flip


@functools.lru_cache(maxsize=4)
def _task_data(task: str, quick: bool):
    from ..learning.sensory import get_task

    data = get_task(task)(quick=bool(quick))
    return data, np.asarray(data.x_test, dtype=np.float64)


@functools.lru_cache(maxsize=16)
def trained_network(task: str, quick: bool, hidden: int, epochs: int, net_seed: int):
    """The network of ``memr-snn bench TASK`` trained with seed ``net_seed`` (cached per process).

    Parameters
    ----------
    task : str
        One of :data:`SENSORY_TASKS`.
    quick : bool
        The task's small subset (``memr-snn bench TASK --quick``).
    hidden, epochs : int
        Hidden neurons and training epochs (the task's other defaults are kept).
    net_seed : int
        Training seed.

    Returns
    -------
    tuple
        ``(TrainedNetwork, ClassificationData, x_test as float64, loss name)``.
    """
    from ..learning.sensory import TASK_DEFAULTS, train_network

    data, x_test = _task_data(task, quick)
    kw = {k: v for k, v in TASK_DEFAULTS[task].items() if k not in ("baseline_bins", "preset")}
    kw.update(hidden=hidden, epochs=epochs)
    net = train_network(data, net_seed, **kw)
    return net, data, x_test, kw.get("loss", "mean_membrane")


def _check_task(task: str, hidden: int, epochs: int) -> None:
    if task not in SENSORY_TASKS:
        raise ValueError(f"task must be one of {list(SENSORY_TASKS)}, got {task!r}")
    check_int_at_least("hidden", hidden, 1)
    check_int_at_least("epochs", epochs, 1)


def worn_probability(endurance, cycles_used: float) -> float:
    r"""Probability that a device of ``endurance`` has exhausted its budget after ``cycles_used`` full cycles.

    The budget is log-normal, :math:`B = \text{cycles}\, e^{\sigma Z}` (:class:`~memr_snn.devices.Endurance`),
    so :math:`P(B \le N) = \Phi(\ln(N / \text{cycles}) / \sigma)` (a step at ``cycles`` for ``sigma = 0``).
    """
    if cycles_used <= 0 or endurance is None or math.isinf(endurance.cycles):
        return 0.0
    if endurance.cycles_d2d == 0:
        return 1.0 if cycles_used >= endurance.cycles else 0.0
    z = math.log(cycles_used / endurance.cycles) / endurance.cycles_d2d
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _faulty_preset(preset: str, stuck_rate: float, on_fraction: float, cycles_used: float,
                   read_noise_scale: float) -> tuple[Any, float]:
    """The device preset with a point's faults and read-noise scale in place of its own, and the probability
    that a device is worn out."""
    from ..devices import StuckFaults
    from ..devices.presets import load_preset

    p = load_preset(preset)
    worn = worn_probability(p.endurance, cycles_used)
    p_on, p_off = stuck_rate * on_fraction, stuck_rate * (1.0 - on_fraction)
    if worn > 0:
        if p.endurance.fail_state not in ("on", "off"):
            raise ValueError(f"endurance_cycles_used needs a preset whose worn-out devices stick at g_max or g_min; "
                             f"{preset!r} keeps their last conductance (fail_state {p.endurance.fail_state!r})")
        if p.endurance.fail_state == "on":
            p_on += (1.0 - stuck_rate) * worn
        else:
            p_off += (1.0 - stuck_rate) * worn
    changes: dict[str, Any] = {"faults": StuckFaults(p_stuck_on=p_on, p_stuck_off=p_off)}
    if read_noise_scale != 1.0:
        rn = p.read_noise
        if rn is None:
            raise ValueError(f"read_noise_scale = {read_noise_scale!r}: preset {preset!r} has no read noise to scale")
        flicker = rn.flicker_scale * read_noise_scale if rn.flicker != "none" else rn.flicker_scale
        changes["read_noise"] = dataclasses.replace(rn, read_noise=rn.read_noise * read_noise_scale,
                                                    flicker_scale=flicker)
    return dataclasses.replace(p, **changes), worn


def sensory_faults(*, seed: int, task: str = "dvs-digits", quick: bool = False, hidden: int = 64, epochs: int = 5,
                   preset: str = "hfox_rram", stuck_rate: float = 0.0, on_fraction: float = 0.5,
                   drift_time: float = 0.0, drift_compensation: bool = False, endurance_cycles_used: float = 0.0,
                   read_noise_scale: float = 1.0, read_mode: str = "static") -> dict[str, float | int]:
    """Test accuracy of a sensory benchmark's network in device crossbars with injected device faults.

    Parameters
    ----------
    seed : int
        The point's seed (network, devices: module docstring).
    task : str
        ``"dvs-digits"``, ``"spoken-digits"`` or ``"digits"``.
    quick : bool
        The task's small subset (``--quick``), for smoke tests and tiny sweeps.
    hidden, epochs : int
        Hidden LIF neurons and training epochs, ``>= 1`` (the task's other settings are its defaults).
    preset : str
        Device preset (``memr-snn devices list``).  Its stuck-fault rates are replaced by ``stuck_rate``.
    stuck_rate : float
        Fraction of devices stuck, in ``[0, 1]`` (the preset's own rates are replaced: 0 = no stuck device).
    on_fraction : float
        Fraction of the stuck devices stuck ON (``g_max``); the rest are stuck OFF (``g_min``), in ``[0, 1]``.
    drift_time : float
        Time from programming to the test [s], ``>= 0`` (drift, retention of the preset).
    drift_compensation : bool
        Global drift compensation (:class:`~memr_snn.devices.DriftCompensation`): every crossbar is
        calibrated with an all-ones read at programming and its reads are scaled by that reference over the
        same read at ``drift_time``.
    endurance_cycles_used : float
        Full SET/RESET cycles the devices went through before this programming, ``>= 0``: a device whose
        endurance budget (the preset's log-normal :class:`~memr_snn.devices.Endurance`) is below it is worn out
        and sticks at the preset's fail state (``g_max`` for ``hfox_rram``), with probability
        :func:`worn_probability`.  The worn-out devices are drawn as stuck faults with that probability (the
        budgets are independent per device, so the draw has the same law); the survivors' remaining budget
        is not lowered (one programming wears a device by less than one cycle).
    read_noise_scale : float
        Multiplier of the preset's read noise (white and 1/f), ``>= 0``.
    read_mode : str
        ``"static"`` (one noisy read for the test set), ``"per_step"`` (a fresh read every time step) or
        ``"off"`` (no read noise) -- :func:`~memr_snn.learning.surrogate.evaluate_mapped`.

    Returns
    -------
    dict
        ``accuracy`` (mapped, with the faults), ``float_accuracy`` (the trained network in software),
        ``accuracy_drop`` (``float_accuracy - accuracy``), ``faulty_fraction`` (stuck or worn-out devices after
        programming / devices), ``worn_probability`` (:func:`worn_probability`), ``weight_rmse`` (of the
        expected read, relative to ``max|W|``, mean over layers), ``devices``.
    """
    from ..learning.surrogate import accuracy, evaluate_mapped

    _check_task(task, hidden, epochs)
    check_probability("stuck_rate", stuck_rate)
    check_probability("on_fraction", on_fraction)
    check_nonnegative("drift_time", drift_time, "s")
    if not math.isfinite(drift_time):
        raise ValueError(f"drift_time must be finite [s], got {drift_time!r}")
    if not isinstance(drift_compensation, bool):
        raise ValueError(f"drift_compensation must be true or false, got {drift_compensation!r}")
    check_nonnegative("endurance_cycles_used", endurance_cycles_used, "cycles")
    if not math.isfinite(endurance_cycles_used):
        raise ValueError(f"endurance_cycles_used must be finite [cycles], got {endurance_cycles_used!r}")
    check_nonnegative("read_noise_scale", read_noise_scale)
    if read_mode not in _READ_MODES:
        raise ValueError(f"read_mode must be one of {list(_READ_MODES)}, got {read_mode!r}")
    faulty, worn = _faulty_preset(preset, stuck_rate, on_fraction, endurance_cycles_used, read_noise_scale)
    net_seed, dev_seed, _ = _seeds(seed)
    net, data, x_test, loss = trained_network(task, bool(quick), int(hidden), int(epochs), net_seed)
    float_acc = accuracy(net.config, net.weights, x_test, data.y_test, loss)
    res = evaluate_mapped(net.config, net.weights, x_test, data.y_test, faulty, device_seeds=(dev_seed,), loss=loss,
                          read_noise=read_mode, program="verify", age=float(drift_time),
                          drift_compensation=drift_compensation)
    stats = res["stats"][0]
    devices = sum(s["devices"] for s in stats.values())
    faulty = sum(s["stuck"] for s in stats.values())
    acc = float(res["accuracy"][0])
    return {"accuracy": acc, "float_accuracy": float(float_acc), "accuracy_drop": float(float_acc) - acc,
            "faulty_fraction": faulty / devices if devices else math.nan,
            "worn_probability": worn, "weight_rmse": float(np.mean(list(res["weight_rmse"][0].values()))),
            "devices": int(devices)}


def quantize_codes(w: np.ndarray, bits: int) -> tuple[np.ndarray, float]:
    """Symmetric fixed-point codes of ``w``: ``round(w / scale)`` with ``scale = max|w| / (2**(bits-1) - 1)``.

    Returns the int64 codes (in ``[-(2**(bits-1) - 1), 2**(bits-1) - 1]``) and ``scale`` (0 for an all-zero
    ``w``, whose codes are 0).
    """
    qmax = 2 ** (bits - 1) - 1
    w_max = float(np.max(np.abs(w))) if w.size else 0.0
    if w_max == 0.0:
        return np.zeros(w.shape, dtype=np.int64), 0.0
    scale = w_max / qmax
    return np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int64), scale


def flip_bits(codes: np.ndarray, bits: int, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """``codes`` stored as ``bits``-bit two's complement, each bit flipped independently with probability ``rate``.

    One uniform draw per stored bit (``rng.random((codes.size, bits))``, bit 0 the least significant), so a
    higher ``rate`` with the same generator state flips a superset of the bits.

    Returns
    -------
    tuple
        The read-back codes (int64, in ``[-2**(bits-1), 2**(bits-1) - 1]``) and the number of flipped bits.
    """
    codes = np.asarray(codes, dtype=np.int64)
    flips = rng.random((codes.size, bits)) < rate
    mask = (flips.astype(np.int64) << np.arange(bits, dtype=np.int64)).sum(axis=1).reshape(codes.shape)
    raw = (codes & ((1 << bits) - 1)) ^ mask                       # the stored unsigned word
    out = np.where(raw >= 1 << (bits - 1), raw - (1 << bits), raw)  # back to two's complement
    return out, int(flips.sum())


def sensory_bit_flips(*, seed: int, task: str = "dvs-digits", quick: bool = False, hidden: int = 64, epochs: int = 5,
                      bit_flip_rate: float = 0.0, bits: int = 8) -> dict[str, float | int]:
    """Test accuracy of a sensory benchmark's network with fixed-point weights whose stored bits flip.

    ``w_in``, ``w_rec`` (recurrent tasks) and ``w_out`` are each quantised to ``bits``-bit symmetric fixed point
    (:func:`quantize_codes`, one scale per matrix); every stored bit is flipped with probability
    ``bit_flip_rate`` (:func:`flip_bits`); the network runs with the read-back weights (the readout bias stays
    exact).

    Parameters
    ----------
    seed : int
        The point's seed (network, bit flips: module docstring).
    task, quick, hidden, epochs
        As :func:`sensory_faults`.
    bit_flip_rate : float
        Probability of each stored bit being flipped, in ``[0, 1]``.
    bits : int
        Word length of a weight, 2 .. 32.

    Returns
    -------
    dict
        ``accuracy`` (with the bit flips), ``quantized_accuracy`` (the same fixed-point weights without flips),
        ``float_accuracy``, ``accuracy_drop`` (``quantized_accuracy - accuracy``), ``flipped_fraction``
        (flipped bits / stored bits), ``weights``.
    """
    from ..learning.surrogate import accuracy

    _check_task(task, hidden, epochs)
    check_probability("bit_flip_rate", bit_flip_rate)
    check_int_at_least("bits", bits, 2)
    if bits > 32:
        raise ValueError(f"bits must be in [2, 32], got {bits!r}")
    net_seed, _, flip_seed = _seeds(seed)
    net, data, x_test, loss = trained_network(task, bool(quick), int(hidden), int(epochs), net_seed)
    rng = np.random.default_rng(flip_seed)
    quantized, flipped = {}, {}
    n_flips = n_weights = 0
    for name in ("w_in", "w_rec", "w_out"):
        w = getattr(net.weights, name)
        if w is None:
            continue
        codes, scale = quantize_codes(w, bits)
        noisy, k = flip_bits(codes, bits, bit_flip_rate, rng)
        quantized[name], flipped[name] = codes * scale, noisy * scale
        n_flips += k
        n_weights += w.size
    q_acc = accuracy(net.config, dataclasses.replace(net.weights, **quantized), x_test, data.y_test, loss)
    acc = accuracy(net.config, dataclasses.replace(net.weights, **flipped), x_test, data.y_test, loss)
    f_acc = accuracy(net.config, net.weights, x_test, data.y_test, loss)
    return {"accuracy": float(acc), "quantized_accuracy": float(q_acc), "float_accuracy": float(f_acc),
            "accuracy_drop": float(q_acc) - float(acc), "flipped_fraction": n_flips / (n_weights * bits),
            "weights": int(n_weights)}
