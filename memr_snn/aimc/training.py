r"""Hardware-aware training settings for a device and periphery, and the CNN's layer list.

:func:`hwa_for_device` sizes the weight noise of :class:`memr_snn.learning.hwa.HWATraining` by
*measuring* the device: a Gaussian weight matrix clipped at ``clip_sigma`` standard deviations (the
shape of a trained, clipped layer) is compiled onto one tile of the device preset with global drift
compensation, read ``t`` seconds after programming (programming noise, spread of the bounds, stuck
devices, level grid, drift, 1/f noise, relaxation, white read noise: everything
:class:`~memr_snn.aimc.DeviceAdapter` draws), and the weight noise is the standard deviation of the
read weights' error relative to the tile's largest weight,

.. math:: \sigma_w = \mathrm{std}(W_{read} - W) / \max|W|,

averaged over ``n_draws`` programmings (AIHWKit sizes its ``ADD_NORMAL`` modifier by hand to the
programming noise; here the number comes from the device layer, so it follows the preset).  The DAC
and ADC resolutions, ADC range and output noise are the periphery's (:class:`~memr_snn.aimc.IOConfig`).

:func:`cnn_spec` is the layer list of :func:`memr_snn.learning.cnn` networks for :func:`~memr_snn.aimc.compile`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..learning.hwa import HWATraining
from .calibration import CalibrationConfig
from .mapping import MappingConfig
from .periphery import IOConfig, io_preset

__all__ = ["hwa_for_device", "measure_weight_noise", "cnn_spec"]


def measure_weight_noise(device: Any, *, t: float = 86400.0, shape: tuple[int, int] = (64, 64),
                         clip_sigma: float = 2.5, mapping: MappingConfig | None = None, n_draws: int = 3,
                         seed: int = 0) -> float:
    """Std of the read weights' error at age ``t`` [s] relative to the tile's largest weight (module docstring)."""
    from .model import compile as compile_model

    rng = np.random.default_rng([int(seed), 0xA1C])
    errs = []
    for k in range(int(n_draws)):
        w = rng.standard_normal(shape)
        if clip_sigma:
            w = np.clip(w, -clip_sigma, clip_sigma)
        model = compile_model([{"type": "linear", "weight": w}], device=device, io="ideal", mapping=mapping,
                              seed=int(seed) * 100 + k, calibration=CalibrationConfig(drift_compensation=True))
        model.set_time(float(t))
        w_read = model.analog_layers[0].matrix.effective_weights()
        errs.append(float(np.std(w_read - w) / np.abs(w).max()))
    return float(np.mean(errs))


def hwa_for_device(device: Any, *, io: IOConfig | str = "aihwkit_inference", t: float = 86400.0,
                   noise_type: str = "additive", clip_sigma: float = 2.5, mapping: MappingConfig | None = None,
                   seed: int = 0) -> HWATraining:
    """:class:`HWATraining` for ``device`` and periphery ``io``: weight noise measured at age ``t`` [s]
    (:func:`measure_weight_noise`), the periphery's DAC/ADC resolution, ADC range and output noise,
    weight clipping at ``clip_sigma`` standard deviations (AIHWKit ``LAYER_GAUSSIAN``, 2.5 by default)."""
    io = io_preset(io) if isinstance(io, str) else io
    sigma = measure_weight_noise(device, t=t, clip_sigma=clip_sigma, mapping=mapping, seed=seed)
    sigma = 0.0 if sigma < 1e-9 else min(sigma, 1.0)  # an exact device reads its weights to round-off
    return HWATraining(weight_noise=sigma, noise_type=noise_type, clip_sigma=float(clip_sigma),
                       dac_bits=int(io.dac.bits or 0), adc_bits=int(io.adc.bits or 0),
                       adc_bound=float(io.adc.bound or 12.0), out_noise=float(io.out_noise))


def cnn_spec(state: dict[str, np.ndarray], pool: int = 2) -> list[dict]:
    """Layer specs of a :mod:`memr_snn.learning.cnn` state dict: conv (same padding) -> ReLU -> max-pool -> flatten
    -> linear -> (logits)."""
    k = state["conv1.weight"].shape[2]
    return [{"type": "conv2d", "weight": state["conv1.weight"], "bias": state["conv1.bias"], "padding": k // 2,
             "name": "conv1"},
            {"type": "relu"}, {"type": "maxpool2d", "kernel": int(pool)}, {"type": "flatten"},
            {"type": "linear", "weight": state["fc1.weight"], "bias": state["fc1.bias"], "name": "fc1"}]
