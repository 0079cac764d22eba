"""Hardware-aware training options: quantization, drift augmentation and weight noise in the forward pass.

Part of :mod:`memr_snn.learning.surrogate` (its docstring, "Hardware-aware training", gives the
definitions); import the names from there.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .._validation import check_nonnegative, check_positive
from .snn import Weights
from .surrogate_loss import _MAPPED


# --------------------------------------------------------------------------- hardware-aware training
@dataclasses.dataclass(frozen=True)
class HardwareAware:
    """Hardware-aware training options (module docstring); all off by default."""

    weight_noise: float = 0.0
    """Std of additive Gaussian weight noise, relative to the layer's ``max|W|`` [1]."""
    levels: int = 0
    """Conductance levels per device (>= 2) for quantization with a straight-through estimator; 0: off."""
    drift_nu: float = 0.0
    """Mean drift exponent for drift augmentation [1]; 0 with ``drift_nu_std = 0``: off."""
    drift_nu_std: float = 0.0
    """Std of the per-weight drift exponent [1]."""
    drift_t0: float = 1.0
    """Drift reference time ``t0`` [s]."""
    drift_t_max: float = 86400.0
    """Largest time after programming drawn for drift augmentation [s] (log-uniform in [t0, t_max])."""

    def __post_init__(self) -> None:
        check_nonnegative("weight_noise", self.weight_noise)
        if isinstance(self.levels, (bool, np.bool_)) or not isinstance(self.levels, (int, np.integer)):
            raise ValueError(f"levels must be an integer (0 or >= 2), got {self.levels!r}")
        if self.levels == 1 or self.levels < 0:
            raise ValueError(f"levels must be 0 (off) or >= 2, got {self.levels!r}")
        check_nonnegative("drift_nu", self.drift_nu)
        if self.drift_nu > 1:
            raise ValueError(f"drift_nu must lie in [0, 1], got {self.drift_nu!r}")
        check_nonnegative("drift_nu_std", self.drift_nu_std)
        check_positive("drift_t0", self.drift_t0, "s")
        check_positive("drift_t_max", self.drift_t_max, "s")
        if self.drift_t_max < self.drift_t0:
            raise ValueError(f"drift_t_max must be >= drift_t0 = {self.drift_t0!r} s, got {self.drift_t_max!r}")

    @property
    def active(self) -> bool:
        """True when any option is on."""
        return bool(self.weight_noise or self.levels or self.drift_nu or self.drift_nu_std)

    @classmethod
    def from_preset(cls, preset: Any, *, weight_noise: float | None = None, drift_t_max: float = 86400.0
                    ) -> HardwareAware:
        """Options matching a device preset: its levels, drift, and (by default) a weight noise of
        ``tolerance + read_noise + dg_c2c/2`` relative to ``max|W|`` (a rough size of the programming error)."""
        from ..devices.presets import load_preset

        p = load_preset(preset) if isinstance(preset, str) else preset
        dev = p.device
        if weight_noise is None:
            weight_noise = 0.01 + float(p.read_noise.read_noise) + 0.5 * float(dev.dg_c2c)
        return cls(weight_noise=float(weight_noise), levels=int(dev.levels), drift_nu=float(p.drift.nu),
                   drift_nu_std=float(p.drift.nu_std), drift_t0=float(p.drift.t0),
                   drift_t_max=max(float(drift_t_max), float(p.drift.t0)))


def quantize(w: np.ndarray, levels: int, w_max: float | None = None) -> np.ndarray:
    """Round ``w`` to the grid ``q * w_max / (levels - 1)``, ``|q| <= levels - 1`` (differential pair)."""
    w_max = float(np.abs(w).max()) if w_max is None else float(w_max)
    if w_max == 0.0:
        return np.zeros_like(w)
    step = w_max / (levels - 1)
    return np.clip(np.round(w / step), -(levels - 1), levels - 1) * step


def apply_hardware(weights: Weights, hw: HardwareAware, rng: np.random.Generator
                   ) -> tuple[Weights, dict[str, np.ndarray | float]]:
    """Effective weights for one minibatch and the backward factor per array (``dW = factor * dW_eff``)."""
    eff = weights.copy()
    factors: dict[str, np.ndarray | float] = {}
    t_draw = None
    if hw.drift_nu or hw.drift_nu_std:
        t_draw = math.exp(rng.uniform(math.log(hw.drift_t0), math.log(hw.drift_t_max)))
    for name in _MAPPED:
        w = getattr(weights, name)
        if w is None:
            continue
        w_max = float(np.abs(w).max())
        out = quantize(w, hw.levels, w_max) if hw.levels else w.copy()
        factor: np.ndarray | float = 1.0
        if t_draw is not None:
            nu = np.clip(hw.drift_nu + hw.drift_nu_std * rng.standard_normal(w.shape), 0.0, 1.0)
            factor = (t_draw / hw.drift_t0) ** (-nu)
            out = out * factor
        if hw.weight_noise:
            out = out + hw.weight_noise * w_max * rng.standard_normal(w.shape)
        if name == "w_rec":
            np.fill_diagonal(out, 0.0)
        setattr(eff, name, out)
        factors[name] = factor
    return eff, factors
