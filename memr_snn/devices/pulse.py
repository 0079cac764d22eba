r"""Pulse-response conductance update models (for learning on memristive synapses).

A learning rule emits signed pulse counts per device (``+n``: n potentiating
pulses, ``-n``: n depressing pulses); the device model turns every pulse into a
conductance step.  With :math:`x = (G - G_{min}) / (G_{max} - G_{min})`:

.. math::

    \text{linear:}\quad \Delta G_\uparrow = \delta_\uparrow, \qquad
    \Delta G_\downarrow = -\delta_\downarrow

    \text{soft bounds:}\quad \Delta G_\uparrow = \delta_\uparrow (1 - x), \qquad
    \Delta G_\downarrow = -\delta_\downarrow\, x

    \text{exponential:}\quad \Delta G_\uparrow = \delta_\uparrow e^{-\beta_\uparrow x}, \qquad
    \Delta G_\downarrow = -\delta_\downarrow e^{-\beta_\downarrow (1 - x)}

Each step is multiplied by :math:`(1 + \sigma_{c2c}\,\xi)` with :math:`\xi` standard
normal (cycle-to-cycle noise, *relative* to the step), the result is clipped to
:math:`[G_{min}, G_{max}]` and, with ``levels >= 2``, rounded to the nearest of
``levels`` equally spaced conductances.  Every pulse is counted (endurance).
``LinearStepDevice()`` with no noise and no levels is the ideal device: ``n``
pulses change G by exactly ``n * dg_up`` (or ``n * dg_down``) until a bound.

Soft bounds follow Fusi & Abbott (2007); the exponential model is the usual
nonlinear-asymmetric RRAM/PCM fit (e.g. Chen et al., NeuroSim, IEDM 2015),
with separate up/down nonlinearities.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from .._validation import check_finite, check_nonnegative
from ._bounds import G_MAX, check_int_range, check_range

__all__ = ["PulseDevice", "LinearStepDevice", "SoftBoundsDevice", "ExpStepDevice", "KIND_CODES"]

#: kernel codes of the update laws
KIND_CODES = {"linear": 0, "soft_bounds": 1, "exponential": 2}


@dataclasses.dataclass(frozen=True)
class PulseDevice:
    """Fields shared by the pulse-response models (SI units)."""

    kind: ClassVar[str] = ""

    g_min: float = 1e-6
    """Lowest conductance [S]."""
    g_max: float = 100e-6
    """Highest conductance [S]; must exceed ``g_min``."""
    dg_up: float = 1e-6
    """Potentiation step scale [S]."""
    dg_down: float = 1e-6
    """Depression step scale (a magnitude) [S]."""
    dg_c2c: float = 0.0
    """Cycle-to-cycle noise: standard deviation of every step, relative to the step [1]."""
    levels: int = 0
    """Number of distinct conductances (>= 2), or 0 for a continuous state."""

    def __post_init__(self) -> None:
        for name in ("g_min", "g_max", "dg_up", "dg_down", "dg_c2c"):
            check_finite(name, getattr(self, name))
        check_nonnegative("g_min", self.g_min, "S")
        if not self.g_max > self.g_min:
            raise ValueError(f"g_max must be > g_min, got g_max={self.g_max!r} <= g_min={self.g_min!r} [S]")
        check_nonnegative("dg_up", self.dg_up, "S")
        check_nonnegative("dg_down", self.dg_down, "S")
        check_nonnegative("dg_c2c", self.dg_c2c)
        if isinstance(self.levels, bool) or not isinstance(self.levels, (int, np.integer)):
            raise TypeError(f"levels must be an integer (0 or >= 2), got {self.levels!r}")
        if self.levels == 1 or self.levels < 0:
            raise ValueError(f"levels must be 0 (continuous) or >= 2, got {self.levels!r}")
        # plausibility (module _bounds): conductances and steps up to 1 S (a 1-ohm device; real ones are uS-mS)
        for name in ("g_min", "g_max", "dg_up", "dg_down"):
            check_range(name, getattr(self, name), 0.0, G_MAX, "S", why="1 S is a 1-ohm device; memristors are uS-mS")
        # a relative step noise of 5 flips the sign of most steps; measured cycle-to-cycle noise is 1-50 %
        check_range("dg_c2c", self.dg_c2c, 0.0, 5.0, why="measured cycle-to-cycle noise is 0.01-0.5")
        # the best analogue devices resolve ~2048 levels (Rao et al., Nature 2023); 2**16 is far beyond any
        check_int_range("levels", int(self.levels), 0, 2**16, why="the best devices resolve ~2048 levels")

    def _extra(self) -> tuple[float, float]:
        return 0.0, 0.0

    def kernel_params(self) -> np.ndarray:
        """The float64 parameter vector the update kernel reads (see ``kernel/device.py``)."""
        beta_up, beta_down = self._extra()
        return np.array([
            KIND_CODES[self.kind], self.g_min, self.g_max, self.dg_up, self.dg_down,
            self.dg_c2c, float(self.levels), beta_up, beta_down,
        ])

    @property
    def is_ideal(self) -> bool:
        """True when updates reduce exactly to adding ``n * dg`` (then clipping)."""
        return self.kind == "linear" and self.dg_c2c == 0.0 and self.levels == 0


@dataclasses.dataclass(frozen=True)
class LinearStepDevice(PulseDevice):
    """Constant steps: the ideal device when noise and levels are off."""

    kind: ClassVar[str] = "linear"


@dataclasses.dataclass(frozen=True)
class SoftBoundsDevice(PulseDevice):
    """Steps shrink linearly towards the bound they approach."""

    kind: ClassVar[str] = "soft_bounds"


@dataclasses.dataclass(frozen=True)
class ExpStepDevice(PulseDevice):
    """Exponentially saturating, asymmetric steps (``beta = 0`` gives the linear model)."""

    kind: ClassVar[str] = "exponential"

    beta_up: float = 3.0
    """Nonlinearity of potentiation [1], >= 0."""
    beta_down: float = 3.0
    """Nonlinearity of depression [1], >= 0."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_nonnegative("beta_up", self.beta_up)
        check_nonnegative("beta_down", self.beta_down)
        # e^-50 ~ 2e-22: the step has vanished long before; fitted nonlinearities are 0-10
        for name in ("beta_up", "beta_down"):
            check_range(name, getattr(self, name), 0.0, 50.0, why="fitted nonlinearities are 0-10; e^-50 ~ 2e-22")

    def _extra(self) -> tuple[float, float]:
        return float(self.beta_up), float(self.beta_down)
