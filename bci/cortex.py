"""Synthetic motor cortex: cosine-tuned Poisson units driven by an intended cursor velocity.

Each unit :math:`i` fires as an inhomogeneous Poisson process with rate

.. math::

    \\lambda_i(t) = g_i(t)\\,\\Big[b_i + \\mathrm{snr}\\,\\big(\\mathbf{w}_i\\cdot\\mathbf{v}(t)
        + s_i\\,\\lVert\\mathbf{v}(t)\\rVert\\big) + \\mathbf{l}_i\\cdot\\mathbf{z}(t)\\Big]_0^{\\lambda_{max}}

with baseline :math:`b_i` [Hz], preferred-direction weights :math:`\\mathbf{w}_i = m_i
(\\cos\\theta_i, \\sin\\theta_i)/v_{ref}` [Hz per m/s] (cosine tuning, Georgopoulos et al. 1982), a
speed term :math:`s_i` [Hz per m/s] (Moran & Schwartz 1999), an optional rotational latent state
:math:`\\mathbf{z}` (Churchland et al. 2012) with loadings :math:`\\mathbf{l}_i`, and a gain
:math:`g_i(t)\\in[0, 1]` that unit loss ramps to zero.  ``snr`` scales the velocity modulation
against the fixed Poisson noise of the baseline (the signal-to-noise knob).  Spikes are drawn on a
1 ms base grid and summed into bins; a noise unit has no velocity or speed tuning.

Non-stationarity: :func:`drift_tuning` moves preferred directions (random walk in angle), baselines
and depths (log-normal random walks) between days; :meth:`MotorCortex.shift_baselines` shifts
baselines within a session; :meth:`MotorCortex.lose_units` silences exactly the chosen units,
suddenly or over a ramp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from memr_snn._validation import check_index_array, check_int_at_least, check_nonnegative, check_positive

from ._checks import BASE_DT, as_kinematics, steps_per_bin

__all__ = ["CortexParams", "DriftParams", "Tuning", "make_tuning", "drift_tuning", "MotorCortex"]


def _check_fraction(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")


@dataclass(frozen=True)
class CortexParams:
    """Parameters of the synthetic motor cortex (SI units).

    Defaults follow typical Utah-array recordings of macaque/human M1: 192 channels, baselines of
    a few to ~20 Hz, modulation depths of the order of the baseline.
    """

    n_units: int = 192
    """Number of recorded units (channels)."""
    baseline_rate: float = 10.0
    """Median baseline firing rate [Hz]."""
    baseline_spread: float = 0.5
    """Log-normal sigma of the baselines across units (dimensionless)."""
    modulation_depth: float = 10.0
    """Median cosine-tuning depth at ``reference_speed`` [Hz]."""
    depth_spread: float = 0.5
    """Log-normal sigma of the depths across units (dimensionless)."""
    speed_modulation: float = 2.0
    """Mean speed-tuning modulation at ``reference_speed`` [Hz] (drawn uniformly in [0, 2x])."""
    reference_speed: float = 0.2
    """Speed at which the depths are given [m/s]."""
    snr: float = 1.0
    """Signal-to-noise knob: multiplies the velocity and speed modulation (1 = defaults above)."""
    noise_fraction: float = 0.0
    """Fraction of units with no kinematic tuning (noise units), in [0, 1]."""
    max_rate: float = 200.0
    """Rates are clipped to [0, max_rate] [Hz]."""
    latent_dim: int = 0
    """Dimension of the rotational latent dynamics (even; 0 turns them off)."""
    latent_frequency: float = 1.5
    """Rotation frequency of the latent dynamics [Hz]."""
    latent_tau: float = 0.2
    """Decay time constant of the latent dynamics [s]."""
    latent_gain: float = 5.0
    """Typical latent contribution to a unit's rate [Hz]."""

    def __post_init__(self) -> None:
        check_int_at_least("n_units", self.n_units, 1)
        for name in ("baseline_rate", "modulation_depth", "reference_speed", "max_rate",
                     "latent_frequency", "latent_tau"):
            check_positive(name, getattr(self, name), "Hz" if "rate" in name or "freq" in name else "")
        for name in ("baseline_spread", "depth_spread", "speed_modulation", "snr", "latent_gain"):
            check_nonnegative(name, getattr(self, name))
        _check_fraction("noise_fraction", self.noise_fraction)
        check_int_at_least("latent_dim", self.latent_dim, 0)
        if self.latent_dim % 2:
            raise ValueError(f"latent_dim must be even (pairs of rotating planes), got {self.latent_dim}")


@dataclass(frozen=True)
class DriftParams:
    """Day-to-day non-stationarity of the tuning (random walks, per sqrt(day))."""

    direction_std: float = math.radians(10.0)
    """Standard deviation of the preferred-direction change per sqrt(day) [rad]."""
    baseline_std: float = 0.1
    """Log-normal sigma of the baseline change per sqrt(day) (dimensionless)."""
    depth_std: float = 0.1
    """Log-normal sigma of the tuning-depth change per sqrt(day) (dimensionless)."""

    def __post_init__(self) -> None:
        for name in ("direction_std", "baseline_std", "depth_std"):
            check_nonnegative(name, getattr(self, name))


@dataclass(frozen=True, eq=False)
class Tuning:
    """Tuning of every unit; arrays are read-only.

    Attributes
    ----------
    baseline : (n_units,) ndarray
        Baseline rates [Hz].
    weights : (n_units, 2) ndarray
        Velocity weights, depth times preferred direction over the reference speed [Hz per m/s].
    speed : (n_units,) ndarray
        Speed weights [Hz per m/s].
    latent : (n_units, latent_dim) ndarray
        Loadings of the latent state [Hz].
    noise_units : (n_noise,) ndarray
        Indices of the untuned units.
    """

    baseline: np.ndarray
    weights: np.ndarray
    speed: np.ndarray
    latent: np.ndarray
    noise_units: np.ndarray

    def __post_init__(self) -> None:
        for name in ("baseline", "weights", "speed", "latent", "noise_units"):
            arr = np.array(getattr(self, name))
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def preferred_direction(self) -> np.ndarray:
        """Preferred directions [rad], ``(n_units,)``."""
        return np.arctan2(self.weights[:, 1], self.weights[:, 0])


def make_tuning(params: CortexParams, rng: np.random.Generator | int | None = None) -> Tuning:
    """Draw the tuning of ``params.n_units`` units (seeded)."""
    rng = np.random.default_rng(rng)
    n = params.n_units
    baseline = params.baseline_rate * np.exp(params.baseline_spread * rng.standard_normal(n))
    depth = params.modulation_depth * np.exp(params.depth_spread * rng.standard_normal(n))
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    weights = (depth / params.reference_speed)[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    speed = rng.uniform(0.0, 2.0 * params.speed_modulation, n) / params.reference_speed
    latent = params.latent_gain * rng.standard_normal((n, params.latent_dim)) / max(1, params.latent_dim) ** 0.5
    noise_units = np.sort(rng.choice(n, size=round(params.noise_fraction * n), replace=False))
    weights[noise_units] = 0.0
    speed[noise_units] = 0.0
    return Tuning(baseline, weights, speed, latent, noise_units.astype(np.int64))


def drift_tuning(tuning: Tuning, drift: DriftParams, days: float, rng: np.random.Generator | int | None) -> Tuning:
    """Tuning after ``days`` of drift: preferred directions rotate, baselines and depths scale.

    Each unit's preferred direction turns by an angle drawn from N(0, direction_std^2 * days);
    baselines and depths are multiplied by log-normal factors of sigma ``baseline_std * sqrt(days)``
    and ``depth_std * sqrt(days)``.  Noise units stay untuned.
    """
    check_nonnegative("days", days, "day")
    rng = np.random.default_rng(rng)
    n = tuning.baseline.shape[0]
    root = math.sqrt(days)
    angle = drift.direction_std * root * rng.standard_normal(n)
    c, s = np.cos(angle), np.sin(angle)
    w = tuning.weights
    depth = np.exp(drift.depth_std * root * rng.standard_normal(n))
    weights = depth[:, None] * np.column_stack([c * w[:, 0] - s * w[:, 1], s * w[:, 0] + c * w[:, 1]])
    baseline = tuning.baseline * np.exp(drift.baseline_std * root * rng.standard_normal(n))
    return Tuning(baseline, weights, tuning.speed * depth, tuning.latent, tuning.noise_units)


@dataclass
class _Loss:
    units: np.ndarray
    start: float
    ramp: float

    def gain(self, t: np.ndarray) -> np.ndarray:
        if self.ramp == 0.0:
            return (t < self.start).astype(np.float64)
        return np.clip(1.0 - (t - self.start) / self.ramp, 0.0, 1.0)


@dataclass
class MotorCortex:
    """A recorded population: tuning, unit losses, latent state and its own random generator.

    Parameters
    ----------
    params : CortexParams
        The population parameters.
    seed : int or numpy.random.Generator or None
        Seeds the tuning and every spike drawn afterwards.

    Examples
    --------
    >>> import numpy as np
    >>> cortex = MotorCortex(CortexParams(n_units=4), seed=0)
    >>> counts = cortex.sample(np.zeros((3, 2)), bin_width=0.02)
    >>> counts.shape
    (3, 4)
    """

    params: CortexParams = field(default_factory=CortexParams)
    seed: np.random.Generator | int | None = None
    tuning: Tuning = field(init=False)
    day: float = field(init=False, default=0.0)
    """Days of drift applied so far (:meth:`new_day`)."""

    def __post_init__(self) -> None:
        if not isinstance(self.params, CortexParams):
            raise TypeError(f"params must be a CortexParams, got {type(self.params).__name__}")
        self.rng = np.random.default_rng(self.seed)
        self.tuning = make_tuning(self.params, self.rng)
        self._losses: list[_Loss] = []
        self._baseline_offset = np.zeros(self.params.n_units)
        self._z = np.zeros(self.params.latent_dim)
        self._last_v = np.zeros(2)
        self._step = 0

    @property
    def time(self) -> float:
        """Simulated time since construction [s] (advanced by :meth:`sample`, 1 ms steps)."""
        return self._step * BASE_DT

    @property
    def n_units(self) -> int:
        return self.params.n_units

    # -- non-stationarity -------------------------------------------------------------------
    def new_day(self, drift: DriftParams, days: float = 1.0) -> None:
        """Advance ``days`` days: drift the tuning (lost units stay lost; baseline shifts are kept)."""
        self.tuning = drift_tuning(self.tuning, drift, days, self.rng)
        self.day += days

    def shift_baselines(self, shift, units=None) -> None:
        """Add ``shift`` [Hz] to the baselines of ``units`` (all units by default) from now on."""
        idx = np.arange(self.n_units) if units is None else check_index_array("units", units, self.n_units)
        s = np.broadcast_to(np.asarray(shift, dtype=np.float64), idx.shape)
        if not np.all(np.isfinite(s)):
            raise ValueError(f"shift must be finite [Hz], got {shift!r}")
        self._baseline_offset[idx] += s

    def lose_units(self, units, at: float | None = None, ramp: float = 0.0) -> None:
        """Silence exactly ``units``: from time ``at`` [s] (now by default), linearly over ``ramp`` [s].

        ``ramp = 0`` is a sudden loss; a positive ramp is gradual (the units' gain falls from 1 at
        ``at`` to 0 at ``at + ramp``).
        """
        idx = check_index_array("units", units, self.n_units)
        start = self.time if at is None else float(at)
        check_nonnegative("at", start, "s")
        check_nonnegative("ramp", ramp, "s")
        self._losses.append(_Loss(np.unique(idx), start, float(ramp)))

    def lost_units(self, at: float | None = None) -> np.ndarray:
        """Indices of the units whose gain is 0 at time ``at`` (now by default)."""
        t = self.time if at is None else float(at)
        return np.flatnonzero(self.gains(np.array([t]))[0] == 0.0)

    def gains(self, times: np.ndarray) -> np.ndarray:
        """Unit gains at ``times`` [s], ``(len(times), n_units)``, 1 = intact, 0 = lost."""
        g = np.ones((len(times), self.n_units))
        for loss in self._losses:
            g[:, loss.units] *= loss.gain(times)[:, None]
        return g

    # -- rates and spikes -------------------------------------------------------------------
    def rates(self, velocity) -> np.ndarray:
        """Expected rates [Hz] for intended velocities ``(n, 2)`` [m/s], without latent state or loss."""
        v = as_kinematics("velocity", velocity)
        tun, p = self.tuning, self.params
        drive = v @ tun.weights.T + np.linalg.norm(v, axis=1)[:, None] * tun.speed
        return np.clip(tun.baseline + self._baseline_offset + p.snr * drive, 0.0, p.max_rate)

    def _advance_latent(self, v: np.ndarray, dt: float) -> np.ndarray:
        p = self.params
        if p.latent_dim == 0:
            return self._z
        decay = math.exp(-dt / p.latent_tau)
        phi = 2.0 * math.pi * p.latent_frequency * dt
        c, s = math.cos(phi), math.sin(phi)
        z = self._z.reshape(-1, 2)
        z = decay * np.column_stack([c * z[:, 0] - s * z[:, 1], s * z[:, 0] + c * z[:, 1]])
        # a change of intended velocity kicks every rotating plane (movement-onset transients)
        kick = np.linalg.norm(v - self._last_v) / p.reference_speed
        z[:, 0] += kick
        self._z = z.ravel()
        self._last_v = v.copy()
        return self._z

    def sample(self, velocity, bin_width: float) -> np.ndarray:
        """Spike counts for a sequence of bins, each with a constant intended velocity.

        Parameters
        ----------
        velocity : (n_bins, 2) array_like
            Intended velocity in each bin [m/s].
        bin_width : float
            Bin width [s], a whole number of 1 ms base steps.

        Returns
        -------
        (n_bins, n_units) ndarray of int64
            Spike counts: Poisson draws per 1 ms step (rate held within the bin, loss gains per
            step), summed over the bin.
        """
        k = steps_per_bin(bin_width)
        v = as_kinematics("velocity", velocity)
        out = np.empty((v.shape[0], self.n_units), dtype=np.int64)
        base = self.rates(v)
        for b in range(v.shape[0]):
            rate = base[b]
            if self.params.latent_dim:
                z = self._advance_latent(v[b], k * BASE_DT)
                rate = np.clip(rate + self.tuning.latent @ z, 0.0, self.params.max_rate)
            times = (self._step + np.arange(k)) * BASE_DT
            gain = self.gains(times) if self._losses else np.ones((k, 1))
            lam = rate * gain * BASE_DT
            out[b] = self.rng.poisson(lam).sum(axis=0)
            self._step += k
        return out

    def with_params(self, **changes) -> MotorCortex:
        """A new cortex with changed parameters and the same seed (fresh tuning and state)."""
        return MotorCortex(replace(self.params, **changes), self.seed)
