r"""Compact state / I-V memristor models with transient simulation (SI units).

**Strukov linear ion drift** (HP TiO2 model; Strukov, Snider, Stewart & Williams, "The missing
memristor found", Nature 453, 80-83, 2008).  The doped region has width :math:`w \in [0, D]`;
with :math:`x = w / D \in [0, 1]`

.. math::

    R(x) = R_{on}\,x + R_{off}\,(1 - x), \qquad i = v / R(x), \qquad
    \frac{dx}{dt} = \frac{\mu_v R_{on}}{D^2}\, i(t)\, f(x, i),

so a positive current increases ``x`` (towards :math:`R_{on}`).  Window functions
:math:`f` (``window=``):

* ``"none"``: :math:`f = 1`, the ideal linear ion drift (the state is only clipped to
  [0, 1]).  It has a closed form under any voltage: with flux :math:`\varphi(t) = \int_0^t v`,
  :math:`R(t)^2 = R(x_0)^2 - 2 k (R_{off} - R_{on})\,\varphi(t)`, :math:`k = \mu_v R_{on}/D^2`
  (until a bound is reached);
* ``"joglekar"`` (Joglekar & Wolf, "The elusive memristor", Eur. J. Phys. 30, 661, 2009):
  :math:`f(x) = 1 - (2x - 1)^{2p}`, integer :math:`p \ge 1`.  :math:`f(0) = f(1) = 0`, so a state
  that lands exactly on a bound stays there whatever the current ("boundary lock");
* ``"biolek"`` (Biolek, Biolek & Biolkova, "SPICE model of memristor with nonlinear dopant
  drift", Radioengineering 18, 210, 2009): :math:`f(x, i) = 1 - (x - \mathrm{stp}(-i))^{2p}`,
  :math:`\mathrm{stp}(u) = 1` for :math:`u \ge 0`, else 0: the window vanishes only at the bound
  the state is moving towards (``x = 1`` for :math:`i > 0`, ``x = 0`` for :math:`i < 0`), so no lock;
* ``"prodromakis"`` (Prodromakis, Peh, Papavassiliou & Toumazou, "A versatile memristor model
  with nonlinear dopant kinetics", IEEE Trans. Electron Devices 58, 3099, 2011):
  :math:`f(x) = j\,(1 - [(x - 0.5)^2 + 0.75]^p)`, real :math:`p > 0`; zero at both bounds, largest at
  :math:`x = 0.5` where it equals :math:`j (1 - 0.75^p)` (tending to ``j`` as ``p`` grows).

**VTEAM** (Kvatinsky, Ramadan, Friedman & Kolodny, "VTEAM: a general model for
voltage-controlled memristors", IEEE Trans. Circuits Syst. II 62, 786-790, 2015).  State
:math:`x \in [x_{on}, x_{off}]` [m], thresholds :math:`v_{on} < 0 < v_{off}`, :math:`k_{on} < 0 < k_{off}`:

.. math::

    \frac{dx}{dt} = \begin{cases}
      k_{off} \left(\frac{v}{v_{off}} - 1\right)^{\alpha_{off}} f_{off}(x), & v > v_{off} \\
      0, & v_{on} \le v \le v_{off} \\
      k_{on} \left(\frac{v}{v_{on}} - 1\right)^{\alpha_{on}} f_{on}(x), & v < v_{on}
    \end{cases}
    \qquad R(x) = R_{on} + (R_{off} - R_{on}) \frac{x - x_{on}}{x_{off} - x_{on}}, \quad i = v / R(x)

(the paper's linear I-V option).  The windows are the ones above applied to the normalised
state :math:`(x - x_{on}) / (x_{off} - x_{on})`, with the direction of motion in place of the sign
of the current (:math:`f_{off}` for :math:`v > v_{off}`, :math:`f_{on}` for :math:`v < v_{on}`).
``window="none"`` with :math:`\alpha_{on} = \alpha_{off} = 1` is the linear (ideal) threshold device:
the rate grows linearly with the overdrive voltage.

**Transient** (:func:`simulate`): the voltage is given by samples ``v[k]`` at times ``t[k]`` and
is linear between samples; each interval is integrated with ``substeps`` classical RK4 steps,
the state clipped to its bounds after every step (kernel: :func:`memr_snn.kernel.iv.iv_transient`).
Because :math:`i = v / R(x)` with :math:`R > 0`, the current is exactly 0 wherever a sample of
``v`` is exactly 0: the I-V loop is pinched at the origin.

The default parameters of :class:`StrukovDevice` are the HP values used by Biolek et al. (2009)
(:math:`R_{on} = 100\,\Omega`, :math:`R_{off} = 16\,k\Omega`, :math:`D = 10` nm,
:math:`\mu_v = 10^{-14}` m²/(V·s)); those of :class:`VTEAMDevice` are illustrative (a device that
switches in about a millisecond at 1 V), not a fit to a measured device.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from .._validation import check_finite, check_int_at_least, check_positive, check_probability
from ..kernel import iv as _k

__all__ = [
    "WINDOWS", "StrukovDevice", "VTEAMDevice", "IVTrace", "simulate", "sine_wave", "hysteresis_area",
]

#: window names and their kernel codes
WINDOWS = {"none": 0, "joglekar": 1, "biolek": 2, "prodromakis": 3}


def _check_negative(name: str, value, unit: str) -> None:
    v = float(value)
    if not (math.isfinite(v) and v < 0):
        raise ValueError(f"{name} must be finite and < 0 [{unit}], got {value!r}")


def _check_number(name: str, value) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")


def _check_window(window, p, j) -> None:
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(map(repr, WINDOWS))}, got {window!r}")
    _check_number("p", p)
    _check_number("j", j)
    if window in ("joglekar", "biolek"):
        if not (math.isfinite(p) and p == int(p) and p >= 1):
            raise ValueError(f"p must be an integer >= 1 for the {window} window, got {p!r}")
    else:
        check_positive("p", p)
    check_positive("j", j)


def _window_values(window: str, s, direction, p: float, j: float) -> np.ndarray:
    s = np.asarray(s, dtype=np.float64)
    if window == "joglekar":
        return 1.0 - np.square(2.0 * s - 1.0) ** p
    if window == "biolek":
        return 1.0 - np.square(np.where(np.asarray(direction) > 0, s, s - 1.0)) ** p
    if window == "prodromakis":
        return j * (1.0 - (np.square(s - 0.5) + 0.75) ** p)
    return np.ones(np.broadcast(s, np.asarray(direction)).shape)


class _IVDevice:
    """Methods shared by the compact models (fields live on the dataclasses)."""

    model: ClassVar[str] = ""
    x_unit: ClassVar[str] = ""

    @property
    def x_bounds(self) -> tuple[float, float]:
        """``(lowest, highest)`` state."""
        raise NotImplementedError

    def kernel_params(self) -> np.ndarray:
        """The float64 parameter vector the transient kernel reads (see ``kernel/iv.py``)."""
        raise NotImplementedError

    def check_state(self, x, name: str = "x0") -> float:
        """Return ``x`` as float, or raise ``ValueError`` unless it lies within :attr:`x_bounds`."""
        lo, hi = self.x_bounds
        _check_number(name, x)
        if not (math.isfinite(x) and lo <= x <= hi):
            raise ValueError(f"{name} must lie in [{lo!r}, {hi!r}]{' [' + self.x_unit + ']' if self.x_unit else ''}, "
                             f"got {x!r}")
        return float(x)

    def resistance(self, x) -> np.ndarray | float:
        """Resistance [Ohm] at state(s) ``x`` (clipped to the bounds)."""
        p = self.kernel_params()
        lo, hi = self.x_bounds
        s = (np.clip(np.asarray(x, dtype=np.float64), lo, hi) - lo) / (hi - lo)
        out = p[_k.P_RA] + (p[_k.P_RB] - p[_k.P_RA]) * s
        return float(out) if out.ndim == 0 else out

    def window_value(self, x, direction=1.0) -> np.ndarray:
        """The window ``f`` at state(s) ``x``; ``direction > 0`` when the state increases.

        For the Strukov model the state increases with positive current, for VTEAM with
        ``v > v_off``.  Only the Biolek window depends on ``direction``.
        """
        lo, hi = self.x_bounds
        s = (np.asarray(x, dtype=np.float64) - lo) / (hi - lo)
        return _window_values(self.window, s, direction, float(self.p), float(self.j))


@dataclasses.dataclass(frozen=True)
class StrukovDevice(_IVDevice):
    """HP linear-ion-drift memristor (Strukov et al. 2008) with an optional window function.

    ``window="none"`` is the ideal linear ion drift model.  See the module docstring for the
    equations and the window definitions.
    """

    model: ClassVar[str] = "strukov"
    x_unit: ClassVar[str] = ""

    r_on: float = 100.0
    """Resistance of the fully doped device, ``x = 1`` [Ohm]."""
    r_off: float = 16e3
    """Resistance of the undoped device, ``x = 0`` [Ohm]; must exceed ``r_on``."""
    d: float = 10e-9
    """Film thickness D [m]."""
    mu_v: float = 1e-14
    """Average dopant mobility [m^2/(V s)]."""
    x0: float = 0.5
    """Initial state w/D [1], in [0, 1]."""
    window: str = "none"
    """Window function: ``"none"``, ``"joglekar"``, ``"biolek"`` or ``"prodromakis"``."""
    p: float = 1
    """Window exponent [1]: an integer >= 1 for Joglekar and Biolek, a real > 0 for Prodromakis."""
    j: float = 1.0
    """Prodromakis window scale [1], > 0 (ignored by the other windows)."""

    def __post_init__(self) -> None:
        for name, unit in (("r_on", "Ohm"), ("r_off", "Ohm"), ("d", "m"), ("mu_v", "m^2/(V s)")):
            _check_number(name, getattr(self, name))
            check_positive(name, getattr(self, name), unit)
        if not self.r_off > self.r_on:
            raise ValueError(f"r_off must be > r_on, got r_off={self.r_off!r} <= r_on={self.r_on!r} [Ohm]")
        _check_number("x0", self.x0)
        check_probability("x0", self.x0)
        _check_window(self.window, self.p, self.j)

    @property
    def is_ideal(self) -> bool:
        """True for the plain linear ion drift (no window): the flux closed form then holds until a bound."""
        return self.window == "none"

    @property
    def k(self) -> float:
        """Drift coefficient ``mu_v * r_on / d**2`` [1/(A s)]: ``dx/dt = k i f``."""
        return self.mu_v * self.r_on / self.d ** 2

    @property
    def x_bounds(self) -> tuple[float, float]:
        return 0.0, 1.0

    def kernel_params(self) -> np.ndarray:
        p = np.zeros(_k.N_PARAMS)
        p[_k.P_MODEL], p[_k.P_WINDOW], p[_k.P_P], p[_k.P_J] = 0, WINDOWS[self.window], self.p, self.j
        p[_k.P_RA], p[_k.P_RB], p[_k.P_LO], p[_k.P_HI] = self.r_off, self.r_on, 0.0, 1.0
        p[_k.P_K] = self.k
        return p


@dataclasses.dataclass(frozen=True)
class VTEAMDevice(_IVDevice):
    """Voltage-threshold adaptive memristor (Kvatinsky et al. 2015) with the linear I-V option.

    Positive voltages above ``v_off`` move the state towards ``x_off`` (high resistance),
    negative voltages below ``v_on`` towards ``x_on``; between the thresholds the state does
    not move at all.  See the module docstring for the equations.
    """

    model: ClassVar[str] = "vteam"
    x_unit: ClassVar[str] = "m"

    r_on: float = 1e3
    """Resistance at ``x = x_on`` [Ohm]."""
    r_off: float = 1e4
    """Resistance at ``x = x_off`` [Ohm]; must exceed ``r_on``."""
    x_on: float = 0.0
    """Lower state bound (ON) [m]."""
    x_off: float = 3e-9
    """Upper state bound (OFF) [m]; must exceed ``x_on``."""
    k_on: float = -1e-7
    """ON-switching rate constant [m/s], < 0."""
    k_off: float = 1e-7
    """OFF-switching rate constant [m/s], > 0."""
    v_on: float = -0.2
    """ON threshold voltage [V], < 0."""
    v_off: float = 0.2
    """OFF threshold voltage [V], > 0."""
    alpha_on: float = 3.0
    """ON nonlinearity exponent [1], > 0."""
    alpha_off: float = 3.0
    """OFF nonlinearity exponent [1], > 0."""
    x0: float = 0.0
    """Initial state [m], in ``[x_on, x_off]``."""
    window: str = "none"
    """Window function on the normalised state: ``"none"``, ``"joglekar"``, ``"biolek"`` or ``"prodromakis"``."""
    p: float = 1
    """Window exponent [1]: an integer >= 1 for Joglekar and Biolek, a real > 0 for Prodromakis."""
    j: float = 1.0
    """Prodromakis window scale [1], > 0 (ignored by the other windows)."""

    def __post_init__(self) -> None:
        for name in ("r_on", "r_off", "x_on", "x_off", "k_on", "k_off", "v_on", "v_off", "alpha_on", "alpha_off",
                     "x0"):
            _check_number(name, getattr(self, name))
        check_positive("r_on", self.r_on, "Ohm")
        check_positive("r_off", self.r_off, "Ohm")
        if not self.r_off > self.r_on:
            raise ValueError(f"r_off must be > r_on, got r_off={self.r_off!r} <= r_on={self.r_on!r} [Ohm]")
        check_finite("x_on", self.x_on, "m")
        check_finite("x_off", self.x_off, "m")
        if not self.x_off > self.x_on:
            raise ValueError(f"x_off must be > x_on, got x_off={self.x_off!r} <= x_on={self.x_on!r} [m]")
        _check_negative("k_on", self.k_on, "m/s")
        check_positive("k_off", self.k_off, "m/s")
        _check_negative("v_on", self.v_on, "V")
        check_positive("v_off", self.v_off, "V")
        check_positive("alpha_on", self.alpha_on)
        check_positive("alpha_off", self.alpha_off)
        self.check_state(self.x0, "x0")
        _check_window(self.window, self.p, self.j)

    @property
    def is_ideal(self) -> bool:
        """True for the linear threshold device: no window and ``alpha_on == alpha_off == 1``."""
        return self.window == "none" and self.alpha_on == 1 and self.alpha_off == 1

    @property
    def x_bounds(self) -> tuple[float, float]:
        return float(self.x_on), float(self.x_off)

    def kernel_params(self) -> np.ndarray:
        p = np.zeros(_k.N_PARAMS)
        p[_k.P_MODEL], p[_k.P_WINDOW], p[_k.P_P], p[_k.P_J] = 1, WINDOWS[self.window], self.p, self.j
        p[_k.P_RA], p[_k.P_RB], p[_k.P_LO], p[_k.P_HI] = self.r_on, self.r_off, self.x_on, self.x_off
        p[_k.P_KON], p[_k.P_KOFF], p[_k.P_VON], p[_k.P_VOFF] = self.k_on, self.k_off, self.v_on, self.v_off
        p[_k.P_AON], p[_k.P_AOFF] = self.alpha_on, self.alpha_off
        return p


@dataclasses.dataclass(frozen=True)
class IVTrace:
    """Result of :func:`simulate`: read-only arrays, one entry per voltage sample."""

    t: np.ndarray
    """Sample times [s]."""
    v: np.ndarray
    """Applied voltage [V]."""
    i: np.ndarray
    """Current [A], ``v / r``."""
    x: np.ndarray
    """State (Strukov: w/D [1]; VTEAM: [m])."""
    r: np.ndarray
    """Resistance [Ohm]."""


def _as_samples(name: str, values) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of samples, got shape {arr.shape}")
    check_finite(name, arr)
    return arr


def simulate(device: StrukovDevice | VTEAMDevice, v, t, x0: float | None = None, substeps: int = 16) -> IVTrace:
    """Transient response of ``device`` to the voltage samples ``v`` [V] at times ``t`` [s].

    Parameters
    ----------
    device
        A :class:`StrukovDevice` or :class:`VTEAMDevice`.
    v, t
        Voltage samples and their times: 1-D, finite, the same length >= 2, ``t`` strictly
        increasing.  The voltage is linear between samples.
    x0
        Initial state (default ``device.x0``), within the device's state bounds.
    substeps
        RK4 steps per sample interval (integer >= 1).

    Returns
    -------
    IVTrace
        ``t``, ``v``, ``i``, ``x``, ``r`` at the samples.
    """
    if not isinstance(device, (StrukovDevice, VTEAMDevice)):
        raise TypeError(f"device must be a StrukovDevice or a VTEAMDevice, got {type(device).__name__}")
    v = _as_samples("v", v)
    t = _as_samples("t", t)
    if v.size != t.size:
        raise ValueError(f"v and t must have the same length, got {v.size} and {t.size}")
    if t.size < 2:
        raise ValueError(f"t must hold at least 2 samples, got {t.size}")
    dt = np.diff(t)
    if not np.all(dt > 0):
        k = int(np.flatnonzero(~(dt > 0))[0])
        raise ValueError(f"t must be strictly increasing, got t[{k}]={float(t[k])!r} >= t[{k + 1}]={float(t[k + 1])!r}")
    substeps = check_int_at_least("substeps", substeps, 1)
    x_start = device.check_state(device.x0 if x0 is None else x0, "x0")
    x = np.empty_like(t)
    i = np.empty_like(t)
    r = np.empty_like(t)
    _k.iv_transient(device.kernel_params(), t, v, x_start, substeps, x, i, r)
    for arr in (t, v, i, x, r):
        arr.setflags(write=False)
    return IVTrace(t=t, v=v, i=i, x=x, r=r)


def sine_wave(amplitude: float, frequency: float, n_periods: int = 1,
              samples_per_period: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Samples ``(t, v)`` of ``amplitude * sin(2 pi frequency t)`` over ``n_periods`` whole periods.

    Samples at the zero crossings (every period, and every half period when
    ``samples_per_period`` is even) are exactly 0, so a pinched loop is pinched exactly.

    Parameters
    ----------
    amplitude
        Peak voltage [V], finite.
    frequency
        [Hz], > 0.
    n_periods
        Whole periods, integer >= 1.
    samples_per_period
        Integer >= 4; the trace has ``n_periods * samples_per_period + 1`` samples.
    """
    check_finite("amplitude", amplitude, "V")
    check_positive("frequency", frequency, "Hz")
    n_periods = check_int_at_least("n_periods", n_periods, 1)
    spp = check_int_at_least("samples_per_period", samples_per_period, 4)
    k = np.arange(n_periods * spp + 1)
    phase = k % spp
    v = amplitude * np.sin(2.0 * np.pi * phase / spp)
    v[(2 * phase) % spp == 0] = 0.0
    return k / (spp * frequency), v


def _shoelace(x: np.ndarray, y: np.ndarray) -> float:
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def hysteresis_area(trace: IVTrace, period: float | None = None) -> float:
    """Area of the pinched I-V loop [V A = W], summed over its lobes.

    The trace is cut where ``v`` changes sign; every run of samples of one sign (with the
    exact-zero samples that bound it) is a lobe closed by the chord between its ends, and
    its shoelace area is added with its absolute value (the two lobes of a pinched loop
    turn in opposite senses, so a signed sum would cancel them).

    Parameters
    ----------
    trace
        From :func:`simulate`.
    period
        If given [s], only the samples of the last ``period`` (e.g. one period of the drive,
        once the state has settled into its cycle); by default the whole trace.
    """
    t, v, i = trace.t, trace.v, trace.i
    if period is not None:
        check_positive("period", period, "s")
        keep = t >= t[-1] - period * (1.0 + 1e-9)
        v, i = v[keep], i[keep]
    sign = np.sign(v)
    area = 0.0
    k, n = 0, v.size
    while k < n:
        if sign[k] == 0:
            k += 1
            continue
        end = k
        while end + 1 < n and sign[end + 1] == sign[k]:
            end += 1
        lo = k - 1 if k > 0 and sign[k - 1] == 0 else k
        hi = end + 1 if end + 1 < n and sign[end + 1] == 0 else end
        area += _shoelace(v[lo:hi + 1], i[lo:hi + 1])
        k = end + 1
    return area
