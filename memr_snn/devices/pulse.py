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

Cycle-to-cycle (write) noise.  Every pulse of direction :math:`d = \pm 1` draws one standard
normal :math:`\xi` and adds

.. math::

    \Delta G \leftarrow \Delta G\,(1 + \sigma_{c2c}\,\xi)
    + d\,\bigl(\sigma_{add}\,\delta_d + \sigma_{slope}\,(G - G_{min})\bigr)\,\xi

so the step's spread is :math:`\sigma_{c2c}|\Delta G| + \sigma_{add}\,\delta_d + \sigma_{slope}(G - G_{min})`:
a part *relative* to the (state-dependent) step (``dg_c2c``), an *additive* part in units of the
device's nominal step :math:`\delta_d` (``dg_up``/``dg_down``, independent of where the update law
puts the step: ``dg_c2c_add``) and a *state-dependent* part that grows with the conductance
(``dg_c2c_slope``).  This is AIHWKit's cycle-to-cycle model: ``dw_min_std`` multiplicative,
``mult_noise=False`` additive (``PulsedDevice``, ``SoftBoundsDevice``), and ExpStepDevice's
"complex noise" ``dw_std = dw_min_std (|dw| + dw_min_std_add + dw_min_std_slope |w|)``
(``src/rpucuda/rpu_expstep_device.cpp``, ``update_once_complex_noise``).  The result is clipped to
:math:`[G_{min}, G_{max}]` and, with ``levels >= 2``, rounded to the nearest of ``levels`` equally
spaced conductances.

Write noise (``write_noise``, AIHWKit's ``write_noise_std``): the device holds a hidden state
:math:`G` that the steps act on; what is read is :math:`G_{app} = \mathrm{clip}(G + \sigma_w \xi',
G_{min}, G_{max})`, drawn anew every time the device is written (each update call or refresh that
pulses it) and not accumulated: AIHWKit's ``w_apparent = w + write_noise_std dw_min xi`` on a
persistent weight (``PulsedDevice`` docs, ``rpu_pulsed_device.h``).  The hidden state lives in the
per-device table; when something else sets a device's conductance (a direct program write), that
value becomes the hidden state.  Every pulse is counted and its conductance
swing wears the device (:mod:`memr_snn.devices.endurance`).
``LinearStepDevice()`` with no noise and no levels is the ideal device: ``n``
pulses change G by exactly ``n * dg_up`` (or ``n * dg_down``) until a bound.

The fields here are the *nominal* device of a technology.  Every device of an array
has its own bounds and step scales (device-to-device spread,
:meth:`memr_snn.devices.Variability.sample`); the pulse kernels read them per device
from the table built by :meth:`PulseDevice.table`.

**One-sided devices (PCM).**  ``reset="abrupt"`` makes every depressing pulse a full
RESET: the melt-quench drops G to the device's ``g_min`` in one pulse, as in
phase-change cells, whose only gradual direction is SET (crystallisation).  Such
devices are driven one-sided in differential pairs (both devices only potentiate) and
need a refresh when a device saturates: ``refresh`` is the fraction of its range at
which a pair is refreshed -- read ``G+ - G-``, RESET both, rewrite the difference onto
one side (:func:`memr_snn.kernel.device.refresh_pair`; Nandakumar et al., Front.
Neurosci. 2020; AIHWKit's ``OneSidedUnitCell`` with refresh).  ``refresh = 0``: never.
A RESET lands at :math:`\mathrm{clip}(G_{min} + (\rho + \sigma_r \xi)(G_{max} - G_{min}),
G_{min}, G_{max})` with a level ``reset_level`` (:math:`\rho`) and a spread ``reset_spread``
(:math:`\sigma_r`) redrawn at every RESET, as AIHWKit's reset (``reset`` bias plus ``reset_std``
noise, clipped to the bounds, ``PulsedRPUDevice::resetCols``); both 0: exactly :math:`G_{min}`.

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

__all__ = ["PulseDevice", "LinearStepDevice", "SoftBoundsDevice", "ExpStepDevice", "KIND_CODES", "RESET_MODES",
           "direct_write"]

#: kernel codes of the update laws
KIND_CODES = {"linear": 0, "soft_bounds": 1, "exponential": 2}
#: the write-noise and RESET-level fields added after the first release (all 0: the earlier behaviour)
_NOISE_FIELDS = ("dg_c2c_add", "dg_c2c_slope", "write_noise", "reset_level", "reset_spread")
#: depression modes: ``"gradual"`` (the update law) or ``"abrupt"`` (full RESET to g_min in one pulse)
RESET_MODES = ("gradual", "abrupt")


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
    reset: str = "gradual"
    """Depression: ``"gradual"`` (the update law) or ``"abrupt"`` (one pulse RESETs G to g_min: PCM)."""
    refresh: float = 0.0
    """Differential pairs are refreshed when a device reaches this fraction of its range [1]; 0 = never."""
    dg_c2c_add: float = 0.0
    """Additive cycle-to-cycle noise: standard deviation of every step in units of the device's nominal
    step (``dg_up`` / ``dg_down``), whatever the update law makes of the step [1]."""
    dg_c2c_slope: float = 0.0
    """State-dependent cycle-to-cycle noise: standard deviation of every step per unit of conductance
    above the device's ``g_min`` [S/S = 1]."""
    write_noise: float = 0.0
    """Write noise: standard deviation of the conductance read after a write around the hidden state,
    redrawn at every write, not accumulated [S]."""
    reset_level: float = 0.0
    """Mean level an abrupt RESET lands at, above ``g_min``, as a fraction of the device's range [1]."""
    reset_spread: float = 0.0
    """Spread (standard deviation) of the level an abrupt RESET lands at, redrawn at every RESET, as a
    fraction of the device's range [1]."""

    def __post_init__(self) -> None:
        for name in ("g_min", "g_max", "dg_up", "dg_down", "dg_c2c") + _NOISE_FIELDS:
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
        if self.reset not in RESET_MODES:
            raise ValueError(f"reset must be one of {list(RESET_MODES)}, got {self.reset!r}")
        check_finite("refresh", self.refresh)
        # a fraction of the device range; at 0 a pair would never be refreshed, so 0 means off
        check_range("refresh", self.refresh, 0.0, 1.0, why="a fraction of the device's conductance range")
        # AIHWKit's ReRAM fits reach 5 nominal steps of additive noise (ReRamESPresetDevice dw_min_std)
        check_range("dg_c2c_add", self.dg_c2c_add, 0.0, 100.0,
                    why="published additive noise is 0.2-5 nominal steps; 100 steps is a write that lands anywhere")
        # a spread equal to the conductance itself on every pulse; AIHWKit's PCM fit has 0.065
        check_range("dg_c2c_slope", self.dg_c2c_slope, 0.0, 1.0,
                    why="a per-pulse spread as large as the conductance itself; the PCM fit has 0.065")
        check_range("write_noise", self.write_noise, 0.0, G_MAX, "S", why="1 S is a 1-ohm device; memristors are uS-mS")
        for name in ("reset_level", "reset_spread"):
            check_range(name, getattr(self, name), 0.0, 1.0, why="a fraction of the device's conductance range")

    def _extra(self) -> tuple[float, float]:
        return 0.0, 0.0

    def kernel_params(self) -> np.ndarray:
        """The float64 parameter vector the update kernel reads (see ``kernel/device.py``)."""
        beta_up, beta_down = self._extra()
        return np.array([
            KIND_CODES[self.kind], self.g_min, self.g_max, self.dg_up, self.dg_down,
            self.dg_c2c, float(self.levels), beta_up, beta_down, float(self.reset == "abrupt"),
            float(self.refresh), self.dg_c2c_add, self.dg_c2c_slope, self.write_noise, self.reset_level,
            self.reset_spread,
        ])

    def table(self, n: int, budget=None, *, g_min=None, g_max=None, dg_up=None, dg_down=None) -> np.ndarray:
        """Per-device table the pulse kernels read: ``(n, N_DV)`` float64 (``kernel/device.py``).

        Parameters
        ----------
        n : int
            Number of devices.
        budget : float, array_like or None
            Endurance budget per device [full cycles] (``None``: unlimited).
        g_min, g_max, dg_up, dg_down : array_like or None
            Per-device bounds [S] and step scales [S] (from :meth:`Variability.sample`);
            ``None``: the nominal value for every device.  Wear starts at 0.
        """
        from ..kernel import device as K

        t = np.zeros((int(n), K.N_DV))
        for col, value, nominal in ((K.DV_GMIN, g_min, self.g_min), (K.DV_GMAX, g_max, self.g_max),
                                    (K.DV_UP, dg_up, self.dg_up), (K.DV_DOWN, dg_down, self.dg_down)):
            t[:, col] = nominal if value is None else value
        t[:, K.DV_LIFE] = np.inf if budget is None else budget
        return t

    @property
    def is_ideal(self) -> bool:
        """True when updates reduce exactly to adding ``n * dg`` (then clipping)."""
        return (self.kind == "linear" and self.dg_c2c == 0.0 and self.levels == 0 and self.reset == "gradual"
                and all(getattr(self, name) == 0.0 for name in _NOISE_FIELDS))

    @property
    def one_sided(self) -> bool:
        """True for abrupt-RESET devices (PCM): only SET is gradual."""
        return self.reset == "abrupt"


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


def direct_write(device: PulseDevice, g_init, target, g_min, dg_up, dg_down):
    """Open-loop write of ``target`` from ``g_init``, per device: ``(set_pulses, reset_pulses, swing)``.

    Pulses are ``ceil(|target - g_init| / dg)`` in the needed direction (each device's own step);
    an abrupt-RESET device going down takes one RESET to its ``g_min`` (plus the mean RESET level,
    ``reset_level`` of the nominal range) and then ``ceil((target - that level) / dg_up)`` SET pulses.
    ``swing`` [S] is the total conductance travelled (the wear,
    :func:`memr_snn.devices.endurance.full_cycles`).  All arrays broadcast.
    """
    g_init, target, g_min = (np.asarray(a, dtype=np.float64) for a in (g_init, target, g_min))
    delta = target - g_init
    reset_down = device.one_sided & (delta < 0)
    if device.reset_level:
        g_reset = g_min + device.reset_level * (device.g_max - device.g_min)
        rise = np.where(reset_down, np.maximum(target - g_reset, 0.0), np.maximum(delta, 0.0))
    else:
        g_reset = g_min
        rise = np.where(reset_down, target - g_min, np.maximum(delta, 0.0))
    fall = np.where(reset_down, 0.0, np.maximum(-delta, 0.0))

    def count(dist, dg):
        dg = np.asarray(dg, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((dg > 0) & (dist > 0), np.ceil(dist / np.where(dg > 0, dg, 1.0) - 1e-9), 0.0)

    n_set = count(rise, dg_up).astype(np.int64)
    n_reset = (count(fall, dg_down) + reset_down).astype(np.int64)
    fall_reset = np.abs(g_init - g_reset) if device.reset_level else g_init - g_min
    swing = np.where(reset_down, fall_reset + rise, np.abs(delta))
    return n_set, n_reset, swing
