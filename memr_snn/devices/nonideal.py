r"""Device non-idealities as frozen parameter sets with seeded samplers (SI units).

* :class:`Variability` -- device-to-device spread: every device's ``g_min``,
  ``g_max`` and step scale are the nominal values times a log-normal factor
  :math:`e^{\sigma Z}` (median 1; ``sigma`` is the standard deviation of the
  *log*, the ``_d2d`` suffix convention), and its up/down steps differ by a
  per-device asymmetry :math:`a \sim \mathcal{N}(0, \sigma_{ud})`:
  :math:`\delta_\uparrow (1 + a)`, :math:`\delta_\downarrow (1 - a)`;
* :class:`ReadNoise` -- every read returns :math:`G (1 + \sigma_{read} Z)`
  (relative, a new draw per read);
* :class:`StuckFaults` -- each device is stuck at ``g_max`` (ON) with probability
  ``p_stuck_on`` or at ``g_min`` (OFF) with ``p_stuck_off``;
* :class:`Drift` -- :math:`G(t) = G(t_0) (t / t_0)^{-\nu}` for :math:`t > t_0`,
  with a per-device :math:`\nu \sim \mathcal{N}(\nu, \sigma_\nu)` clipped to [0, 1]
  (PCM: :math:`\nu \approx 0.01 - 0.2`);
* :class:`Retention` -- loss of the programmed state with an Arrhenius time
  constant :math:`\tau(T) = \tau_0 e^{E_a / k_B T}`; a device has kept its state
  at time t with probability :math:`e^{-t/\tau(T)}`.

Every model has an ideal setting (all spreads and rates 0) that leaves
conductances exactly unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_finite, check_nonnegative, check_positive, check_probability
from ._bounds import SIGMA_LOG_MAX, check_range
from .pulse import PulseDevice

__all__ = ["Variability", "ReadNoise", "StuckFaults", "Drift", "Retention", "BOLTZMANN_EV"]

#: Boltzmann constant [eV/K]
BOLTZMANN_EV = 8.617333262e-5


def _rng(rng) -> np.random.Generator:
    return np.random.default_rng(rng)


@dataclasses.dataclass(frozen=True)
class Variability:
    """Device-to-device spread (log-normal, ``sigma`` of the log)."""

    g_min_d2d: float = 0.0
    """Spread of ``g_min`` [1]."""
    g_max_d2d: float = 0.0
    """Spread of ``g_max`` [1]."""
    dg_d2d: float = 0.0
    """Spread of the step scale, one log-normal factor per device on both ``dg_up`` and ``dg_down`` [1]."""
    up_down_d2d: float = 0.0
    """Spread of the up/down asymmetry: standard deviation of ``a`` in ``dg_up (1 + a)``,
    ``dg_down (1 - a)`` [1] (AIHWKit's ``up_down_dtod``)."""

    def __post_init__(self) -> None:
        for name in ("g_min_d2d", "g_max_d2d", "dg_d2d"):
            check_nonnegative(name, getattr(self, name))
            check_range(name, getattr(self, name), 0.0, SIGMA_LOG_MAX,
                        why="sigma of the log: 3 is a factor 20 per standard deviation; measured 0.05-0.8")
        check_nonnegative("up_down_d2d", self.up_down_d2d)
        # a is clipped to [-0.95, 0.95] (both steps stay positive); fitted spreads are 0.01-0.06
        check_range("up_down_d2d", self.up_down_d2d, 0.0, 1.0, why="fitted asymmetry spreads are 0.01-0.06")

    @property
    def is_ideal(self) -> bool:
        """True when every device equals the nominal one."""
        return self.g_min_d2d == 0.0 and self.g_max_d2d == 0.0 and self.dg_d2d == 0.0 and self.up_down_d2d == 0.0

    def sample(self, device: PulseDevice, n: int, rng=None) -> dict[str, np.ndarray]:
        """Per-device ``g_min``, ``g_max``, ``dg_up``, ``dg_down`` arrays of length ``n``.

        ``dg_up = device.dg_up * f * (1 + a)`` and ``dg_down = device.dg_down * f * (1 - a)``
        with ``f = exp(dg_d2d Z)`` and ``a = up_down_d2d Z'`` clipped to [-0.95, 0.95].
        Where a drawn ``g_max`` falls to or below its ``g_min``, ``g_max`` is set just
        above it (1e-3 of the nominal range), so every device keeps a valid range.
        """
        r = _rng(rng)
        g_min = device.g_min * np.exp(self.g_min_d2d * r.standard_normal(n))
        g_max = device.g_max * np.exp(self.g_max_d2d * r.standard_normal(n))
        f = np.exp(self.dg_d2d * r.standard_normal(n))
        a = np.clip(self.up_down_d2d * r.standard_normal(n), -0.95, 0.95)
        out = {"g_min": g_min, "g_max": g_max, "dg_up": device.dg_up * f * (1.0 + a),
               "dg_down": device.dg_down * f * (1.0 - a)}
        floor = out["g_min"] + 1e-3 * (device.g_max - device.g_min)
        out["g_max"] = np.maximum(out["g_max"], floor)
        return out


@dataclasses.dataclass(frozen=True)
class ReadNoise:
    """Relative Gaussian noise on every read."""

    read_noise: float = 0.0
    """Standard deviation of a read, relative to G [1]."""

    def __post_init__(self) -> None:
        check_nonnegative("read_noise", self.read_noise)
        # relative sigma 1 reads a negative conductance 16 % of the time; measured read noise is 0.1-10 %
        check_range("read_noise", self.read_noise, 0.0, 1.0, why="measured read noise is 0.001-0.1 of G")

    def read(self, g: np.ndarray, rng=None) -> np.ndarray:
        """One noisy read of every conductance in ``g`` [S] (exactly ``g`` when ideal)."""
        g = np.asarray(g, dtype=np.float64)
        if self.read_noise == 0.0:
            return g.copy()
        return g * (1.0 + self.read_noise * _rng(rng).standard_normal(g.shape))


@dataclasses.dataclass(frozen=True)
class StuckFaults:
    """Stuck-at-ON / stuck-at-OFF faults at given rates."""

    p_stuck_on: float = 0.0
    """Probability that a device is stuck at ``g_max`` [1]."""
    p_stuck_off: float = 0.0
    """Probability that a device is stuck at ``g_min`` [1]."""

    def __post_init__(self) -> None:
        check_probability("p_stuck_on", self.p_stuck_on)
        check_probability("p_stuck_off", self.p_stuck_off)
        if self.p_stuck_on + self.p_stuck_off > 1.0:
            raise ValueError(
                f"p_stuck_on + p_stuck_off must be <= 1, got {self.p_stuck_on!r} + {self.p_stuck_off!r}"
            )

    def sample(self, n: int, rng=None) -> np.ndarray:
        """Fault state per device: 0 healthy, +1 stuck ON, -1 stuck OFF, (n,) int8."""
        u = _rng(rng).random(n)
        state = np.zeros(n, dtype=np.int8)
        state[u < self.p_stuck_on] = 1
        state[(u >= self.p_stuck_on) & (u < self.p_stuck_on + self.p_stuck_off)] = -1
        return state

    @staticmethod
    def apply(g: np.ndarray, state: np.ndarray, g_min, g_max) -> np.ndarray:
        """Conductances with the stuck devices forced to their bound."""
        g = np.asarray(g, dtype=np.float64)
        out = np.where(state > 0, g_max, g)
        return np.where(state < 0, g_min, out)


@dataclasses.dataclass(frozen=True)
class Drift:
    """Power-law conductance drift with a per-device exponent."""

    nu: float = 0.0
    """Mean drift exponent, in [0, 1] [1]."""
    nu_std: float = 0.0
    """Device-to-device standard deviation of the exponent [1]."""
    t0: float = 1.0
    """Reference time after programming at which G(t0) is the programmed value [s]."""

    def __post_init__(self) -> None:
        check_probability("nu", self.nu)
        check_nonnegative("nu_std", self.nu_std)
        check_positive("t0", self.t0, "s")
        # the exponent is clipped to [0, 1], so a wider spread only piles devices onto the clip limits
        check_range("nu_std", self.nu_std, 0.0, 1.0, why="the drawn exponent is clipped to [0, 1]")
        # from a picosecond to ~100 years after programming
        check_range("t0", self.t0, 1e-12, 3.2e9, "s", why="a picosecond to ~100 years after programming")

    def sample_nu(self, n: int, rng=None) -> np.ndarray:
        """Per-device exponents, normal around ``nu``, clipped to [0, 1]."""
        if self.nu_std == 0.0:
            return np.full(n, float(self.nu))
        return np.clip(self.nu + self.nu_std * _rng(rng).standard_normal(n), 0.0, 1.0)

    def apply(self, g0: np.ndarray, t, nu: np.ndarray | float | None = None) -> np.ndarray:
        """G at time ``t`` [s] after programming (``t <= t0``: no drift yet)."""
        nu = self.nu if nu is None else nu
        t = np.asarray(t, dtype=np.float64)
        check_finite("t", t)
        ratio = np.maximum(t / self.t0, 1.0)
        return np.asarray(g0, dtype=np.float64) * ratio ** (-np.asarray(nu, dtype=np.float64))


@dataclasses.dataclass(frozen=True)
class Retention:
    """Arrhenius-accelerated loss of the programmed state."""

    tau0: float = 1e-12
    """Attempt time constant [s]."""
    e_a: float = 1.5
    """Activation energy [eV]."""
    temperature: float = 300.0
    """Temperature [K]."""

    def __post_init__(self) -> None:
        check_positive("tau0", self.tau0, "s")
        check_positive("e_a", self.e_a, "eV")
        check_positive("temperature", self.temperature, "K")
        # fitted Arrhenius prefactors span 1e-24 s (PCM, Meyer-Neldel compensation) to ~1e-9 s
        check_range("tau0", self.tau0, 1e-30, 1e6, "s", why="fitted attempt times are 1e-24-1e-9 s")
        # ionic migration / crystallisation barriers are 0.5-3 eV; 10 eV exceeds any chemical bond
        check_range("e_a", self.e_a, 1e-3, 10.0, "eV", why="migration and crystallisation barriers are 0.5-3 eV")
        # cryogenic operation (4 K) to above the melting point of the switching layers (GST melts near 900 K)
        check_range("temperature", self.temperature, 1.0, 1000.0, "K",
                    why="no device holds state above ~900 K, where GST melts")

    @property
    def tau(self) -> float:
        """Retention time constant at ``temperature`` [s]: ``tau0 * exp(e_a / (k_B T))``."""
        return float(self.tau0 * np.exp(self.e_a / (BOLTZMANN_EV * self.temperature)))

    def survival(self, t) -> np.ndarray:
        """Probability that a device still holds its state after ``t`` seconds."""
        return np.exp(-np.asarray(t, dtype=np.float64) / self.tau)

    def sample_failed(self, n: int, t: float, rng=None) -> np.ndarray:
        """Which of ``n`` devices lost their state by time ``t``, (n,) bool."""
        return _rng(rng).random(n) >= self.survival(t)
