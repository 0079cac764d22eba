"""Built-in degradation experiments of the AIMC models and the BCI decoders.

* :func:`aimc_drift` -- one point of :func:`memr_snn.aimc.experiment.accuracy_vs_time`: the 8x8-digits MLP (or
  the DVS-digits CNN) trained for the seed, compiled onto analog tiles of a device preset and tested
  ``drift_time`` after programming, with and without global drift compensation (both on the same read
  snapshot, so their difference is the compensation's alone).
* :func:`bci_unit_loss` -- one seeded closed-loop BCI session (:func:`memr_snn.bci.experiments.unit_loss_recovery`
  without adaptation): a decoder fitted on the intact population runs one closed-loop block, then a fraction
  ``loss_fraction`` of the recorded units goes silent (a channel fault) and the unchanged decoder runs
  another block.  The metric is the success rate of that block; at ``loss_fraction = 0`` the two blocks
  differ only by their targets.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_int_at_least, check_nonnegative, check_probability

__all__ = ["aimc_drift", "bci_unit_loss"]


def aimc_drift(*, seed: int, drift_time: float = 1.0, preset: str = "pcm_aihwkit", model: str = "mlp",
               hidden: int = 64, epochs: int = 40, io: str = "aihwkit_inference") -> dict[str, float]:
    """Test accuracy of an AIMC model ``drift_time`` after programming, with and without drift compensation.

    Parameters
    ----------
    seed : int
        Training, programming and every noise draw (:func:`~memr_snn.aimc.experiment.accuracy_vs_time`).
    drift_time : float
        Time after programming [s], finite and ``>= 0``.
    preset : str
        Device preset of the tiles (``memr-snn devices list``).
    model : str
        ``"mlp"`` (8x8 digits) or ``"cnn"`` (DVS-digit frames).
    hidden : int
        Hidden width of the MLP (``cnn``: convolution channels), ``>= 1``.
    epochs : int
        Training epochs, ``>= 1``.
    io : str
        Periphery preset of every tile (DAC, ADC, output noise).

    Returns
    -------
    dict
        ``accuracy`` (with global drift compensation), ``accuracy_uncompensated``, ``software_accuracy``
        (the trained network in floating point), ``compensation_gain`` (``accuracy - accuracy_uncompensated``).
    """
    from ..aimc.experiment import MODELS, accuracy_vs_time

    if model not in MODELS:
        raise ValueError(f"model must be one of {list(MODELS)}, got {model!r}")
    check_nonnegative("drift_time", drift_time, "s")
    if not math.isfinite(drift_time):
        raise ValueError(f"drift_time must be finite [s], got {drift_time!r}")
    check_int_at_least("hidden", hidden, 1)
    check_int_at_least("epochs", epochs, 1)
    net_seed = int(np.random.SeedSequence(int(seed)).generate_state(1, np.uint32)[0]) >> 1  # aimc takes [0, 2**31)
    res = accuracy_vs_time(devices=(preset,), times=(float(drift_time),), seeds=(net_seed,), hidden=(int(hidden),),
                           epochs=int(epochs), io=io, model=model, compensation=True, progress=False)
    comp = float(res.acc[preset]["compensated"][0][0])
    unc = float(res.acc[preset]["uncompensated"][0][0])
    return {"accuracy": comp, "accuracy_uncompensated": unc, "software_accuracy": float(res.float_acc[0]),
            "compensation_gain": comp - unc}


def bci_unit_loss(*, seed: int, decoder: str = "kf", loss_fraction: float = 0.0, hard: bool = True
                  ) -> dict[str, float | int]:
    """Closed-loop success of a BCI decoder before and after losing a fraction of the recorded units.

    Parameters
    ----------
    seed : int
        The session's seed (cortex, targets, user, which units are lost).
    decoder : str
        A decoder of :data:`memr_snn.bci.protocol.DECODERS` (``"kf"``, ``"sskf"``, ``"refit"``, ``"wiener"``,
        ``"aimc_kf"``, ``"snn"`` ...).
    loss_fraction : float
        Fraction of the units silenced after the intact block, in ``[0, 1]``.
    hard : bool
        The harder standard condition of the adaptation experiments (:func:`~memr_snn.bci.experiments.hard_config`:
        lower SNR, smaller targets); False: the default session.

    Returns
    -------
    dict
        ``success_rate`` (the block after the loss), ``success_intact`` (the block before it),
        ``success_drop`` (intact minus after), ``time_to_target`` and ``fitts_throughput`` of the block after
        the loss, ``units_lost``.
    """
    from ..bci.experiments import hard_config, unit_loss_recovery
    from ..bci.protocol import DECODERS, SessionConfig

    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {sorted(DECODERS)}, got {decoder!r}")
    check_probability("loss_fraction", loss_fraction)
    if not isinstance(hard, bool):
        raise ValueError(f"hard must be true or false, got {hard!r}")
    config = hard_config() if hard else SessionConfig(closed_loop_blocks=1)
    res = unit_loss_recovery(int(seed), decoder=decoder, loss_fraction=float(loss_fraction), adapt_blocks=0,
                             config=config, adapt=False)
    lost = res["blocks"][1]
    return {"success_rate": float(res["lost"]), "success_intact": float(res["intact"]),
            "success_drop": float(res["intact"]) - float(res["lost"]),
            "time_to_target": float(lost["time_to_target"]), "fitts_throughput": float(lost["fitts_throughput"]),
            "units_lost": int(res["n_lost"])}
