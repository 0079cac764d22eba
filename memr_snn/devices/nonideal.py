r"""Device non-idealities as frozen parameter sets with seeded samplers (SI units).

* :class:`Variability` -- device-to-device spread: every device's ``g_min``,
  ``g_max`` and step scale are the nominal values times a log-normal factor
  :math:`e^{\sigma Z}` (median 1; ``sigma`` is the standard deviation of the
  *log*, the ``_d2d`` suffix convention), and its up/down steps differ by a
  per-device asymmetry :math:`a \sim \mathcal{N}(0, \sigma_{ud})`:
  :math:`\delta_\uparrow (1 + a)`, :math:`\delta_\downarrow (1 - a)`;
* :class:`ReadNoise` -- every read returns :math:`G (1 + \sigma_{read} Z)`
  (relative, a new draw per read); optionally plus the accumulated 1/f noise of
  the PCM statistical model (``flicker="aihwkit_pcm"``, below);
* :class:`StuckFaults` -- each device is stuck at ``g_max`` (ON) with probability
  ``p_stuck_on`` or at ``g_min`` (OFF) with ``p_stuck_off``;
* :class:`Drift` -- :math:`G(t) = G(t_0) (t / t_0)^{-\nu}` for :math:`t > t_0`,
  with a per-device exponent: ``model="constant"`` draws
  :math:`\nu \sim \mathcal{N}(\nu, \sigma_\nu)` clipped to [0, 1] (PCM:
  :math:`\nu \approx 0.01 - 0.2`); ``model="aihwkit_pcm"`` draws it from the
  conductance-dependent PCM laws below;
* :class:`Retention` -- loss of the programmed state with an Arrhenius time
  constant :math:`\tau(T) = \tau_0 e^{E_a / k_B T}`; a device has kept its state
  at time t with probability :math:`e^{-t/\tau(T)}`; a device that lost it reads
  its technology's failure conductance (``fail_state``), and every device relaxes
  with a spread that grows with log time (``relax_sigma``).

The PCM statistical model (``"aihwkit_pcm"``) follows IBM's AIHWKit
``PCMLikeNoiseModel`` (fitted on 1e6 PCM devices: Nandakumar et al., ICECS 2019;
Joshi et al., Nat. Commun. 11, 2473, 2020), with :math:`x = G_T / G_{max}` the
programmed conductance relative to the device's ``g_max``:

* programming noise :math:`\sigma_{prog} = (0.26348 + 1.9650 x - 1.1731 x^2)\,G_{max} / 25`
  (the polynomial is in uS for :math:`G_{max}` = 25 uS), :func:`pcm_prog_sigma`;
* drift exponent :math:`\nu = |\mu_\nu + \sigma_\nu Z|` with
  :math:`\mu_\nu = \mathrm{clip}(-0.0155 \ln x + 0.0244,\ 0.049,\ 0.1)` and
  :math:`\sigma_\nu = \mathrm{clip}(-0.0125 \ln x - 0.0059,\ 0.008,\ 0.045)`
  (:math:`x \ge 10^{-7}`), :func:`pcm_nu_stats`;
* accumulated 1/f read noise at age :math:`t` since programming:
  :math:`\sigma_{nG} = |G_{drift}(t)|\,Q_s(x) \sqrt{\ln((t + t_{read}) / (2 t_{read}))}` with
  :math:`Q_s(x) = \min(0.0088 / \max(x^{0.65}, 10^{-3}),\ 0.2)` and :math:`t_{read}` = 250 ns,
  :func:`pcm_flicker_q`.

Every model has an ideal setting (all spreads and rates 0) that leaves
conductances exactly unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import check_finite, check_nonnegative, check_positive, check_probability
from ._bounds import SIGMA_LOG_MAX, check_range
from .pulse import PulseDevice

__all__ = [
    "Variability", "ReadNoise", "StuckFaults", "Drift", "Retention", "BOLTZMANN_EV",
    "DRIFT_MODELS", "FLICKER_MODELS", "RETENTION_FAIL_STATES", "pcm_prog_sigma", "pcm_nu_stats", "pcm_flicker_q",
    "flicker_log_factor", "SECONDS_PER_YEAR",
]

#: Boltzmann constant [eV/K]
BOLTZMANN_EV = 8.617333262e-5
#: Julian year [s]
SECONDS_PER_YEAR = 365.25 * 86400.0

#: drift-exponent models of :class:`Drift`
DRIFT_MODELS = ("constant", "aihwkit_pcm")
#: accumulated-noise models of :class:`ReadNoise`
FLICKER_MODELS = ("none", "aihwkit_pcm")
#: where a device that lost its state goes (:class:`Retention`)
RETENTION_FAIL_STATES = ("off", "on", "mid")

#: AIHWKit ``PCMLikeNoiseModel`` programming-noise polynomial [uS] at its reference ``g_max`` = 25 uS
PCM_PROG_COEFF = (0.26348, 1.9650, -1.1731)
PCM_PROG_G_REF = 25.0
#: smallest relative conductance entering the drift laws (AIHWKit's ``_ZERO_CLIP``)
_X_MIN = 1e-7


def pcm_prog_sigma(x) -> np.ndarray:
    r"""Programming-noise standard deviation of the PCM model, relative to ``g_max`` [1].

    :math:`\sigma_{prog} / G_{max} = (0.26348 + 1.9650 x - 1.1731 x^2) / 25` with
    :math:`x = G_T / G_{max}` (AIHWKit ``PCMLikeNoiseModel.apply_programming_noise_to_conductance``;
    the fit is in uS for a 25 uS device, hence the 25).  Floored at 0 (the polynomial is positive on
    ``0 <= x <= 1.78``).
    """
    x = np.asarray(x, dtype=np.float64)
    c0, c1, c2 = PCM_PROG_COEFF
    return np.maximum(c0 + x * (c1 + x * c2), 0.0) / PCM_PROG_G_REF


def pcm_nu_stats(x) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and spread of the PCM drift exponent before folding, for relative conductance ``x``.

    :math:`\mu_\nu = \mathrm{clip}(-0.0155 \ln x + 0.0244, 0.049, 0.1)`,
    :math:`\sigma_\nu = \mathrm{clip}(-0.0125 \ln x - 0.0059, 0.008, 0.045)`, ``x`` floored at 1e-7
    (AIHWKit ``PCMLikeNoiseModel.generate_drift_coefficients``; Nandakumar et al. 2019).  The drawn
    exponent is :math:`|\mu_\nu + \sigma_\nu Z|`, a folded normal.
    """
    lx = np.log(np.maximum(np.abs(np.asarray(x, dtype=np.float64)), _X_MIN))
    mu = np.clip(-0.0155 * lx + 0.0244, 0.049, 0.1)
    sd = np.clip(-0.0125 * lx - 0.0059, 0.008, 0.045)
    return mu, sd


def pcm_flicker_q(x) -> np.ndarray:
    r""":math:`Q_s(x) = \min(0.0088 / \max(|x|^{0.65}, 10^{-3}), 0.2)`, the 1/f noise amplitude of the
    PCM model for relative programmed conductance ``x`` (AIHWKit
    ``PCMLikeNoiseModel.apply_drift_noise_to_conductance``): larger at low conductance."""
    xp = np.abs(np.asarray(x, dtype=np.float64)) ** 0.65
    return np.minimum(0.0088 / np.maximum(xp, 1e-3), 0.2)


def flicker_log_factor(age, t_read: float) -> np.ndarray:
    r""":math:`\sqrt{\max(\ln((t + t_{read}) / (2 t_{read})), 0)}`: how the accumulated 1/f noise grows
    with the age ``t`` [s] since programming (0 before ``t = t_read``)."""
    a = np.asarray(age, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = np.log(np.maximum(a + t_read, 0.0) / (2.0 * t_read))
    return np.sqrt(np.where(np.isfinite(lg), np.maximum(lg, 0.0), 0.0))


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
    r"""Read noise: white (a new relative draw on every read) plus, optionally, accumulated 1/f noise.

    With ``flicker="aihwkit_pcm"`` a read at age :math:`t` since programming is
    :math:`G = G_{drift}(t) + |G_{drift}(t)|\,s\,Q_s(G_p / G_{max}) \sqrt{\ln((t + t_r) / (2 t_r))}\,\zeta`
    (:func:`pcm_flicker_q`; ``s = flicker_scale``, ``t_r = flicker_t_read``), and then the white noise.
    :math:`\zeta` is a per-device standard normal *fixed per noise epoch* (it changes when the
    devices are programmed or :meth:`~memr_snn.devices.CrossbarState.new_noise_epoch` is called, not
    at every read), as AIHWKit draws one sample per inference time: the low-frequency noise does not
    average away over the spikes of one inference window.
    """

    read_noise: float = 0.0
    """Standard deviation of a read, relative to G [1] (white: a new draw per read)."""
    flicker: str = "none"
    """Accumulated 1/f noise model: ``"none"`` or ``"aihwkit_pcm"``."""
    flicker_scale: float = 1.0
    """Multiplier of the 1/f noise amplitude (AIHWKit ``read_noise_scale``; 1 = as fitted) [1]."""
    flicker_t_read: float = 250e-9
    """Read time constant of the 1/f fit (AIHWKit ``t_read``) [s]."""

    def __post_init__(self) -> None:
        check_nonnegative("read_noise", self.read_noise)
        # relative sigma 1 reads a negative conductance 16 % of the time; measured read noise is 0.1-10 %
        check_range("read_noise", self.read_noise, 0.0, 1.0, why="measured read noise is 0.001-0.1 of G")
        if self.flicker not in FLICKER_MODELS:
            raise ValueError(f"flicker must be one of {list(FLICKER_MODELS)}, got {self.flicker!r}")
        check_nonnegative("flicker_scale", self.flicker_scale)
        # Q_s is at most 0.2; a scale of 20 already gives 4 G per sqrt(log) unit
        check_range("flicker_scale", self.flicker_scale, 0.0, 20.0, why="1 is the measured PCM amplitude")
        check_positive("flicker_t_read", self.flicker_t_read, "s")
        check_range("flicker_t_read", self.flicker_t_read, 1e-12, 1.0, "s", why="reads last ns-us")

    @property
    def flicker_on(self) -> bool:
        """True when accumulated 1/f noise is simulated."""
        return self.flicker != "none" and self.flicker_scale > 0.0

    def read(self, g: np.ndarray, rng=None) -> np.ndarray:
        """One noisy read of every conductance in ``g`` [S] (exactly ``g`` when ideal; white noise only)."""
        g = np.asarray(g, dtype=np.float64)
        if self.read_noise == 0.0:
            return g.copy()
        return g * (1.0 + self.read_noise * _rng(rng).standard_normal(g.shape))

    def flicker_sigma(self, g_prog, g_max: float, age) -> np.ndarray:
        """Standard deviation of the accumulated 1/f noise relative to the drifted conductance [1].

        ``g_prog``: programmed conductances [S]; ``g_max``: the device's nominal ``g_max`` [S];
        ``age``: time since programming [s].  Zero when ``flicker`` is ``"none"``.
        """
        g_prog = np.asarray(g_prog, dtype=np.float64)
        if not self.flicker_on:
            return np.zeros(np.broadcast(g_prog, np.asarray(age)).shape)
        return self.flicker_scale * pcm_flicker_q(g_prog / g_max) * flicker_log_factor(age, self.flicker_t_read)


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
    r"""Power-law conductance drift with a per-device exponent.

    ``model="constant"``: :math:`\nu \sim \mathcal{N}(\nu, \sigma_\nu)` clipped to [0, 1], the same law
    for every conductance, drawn once per device.  ``model="aihwkit_pcm"``: drawn at every programming
    from the programmed target, :math:`\nu = s\,|\mu_\nu(x) + \sigma_\nu(x) Z|` (:func:`pcm_nu_stats`,
    ``s = scale``; ``nu`` and ``nu_std`` are not used), clipped to 1.  ``t0`` is the time after
    programming at which the programmed value is read (AIHWKit ``t_0`` = 20 s); before it, nothing drifts.
    """

    nu: float = 0.0
    """Mean drift exponent, in [0, 1] [1] (``model="constant"``)."""
    nu_std: float = 0.0
    """Device-to-device standard deviation of the exponent [1] (``model="constant"``)."""
    t0: float = 1.0
    """Reference time after programming at which G(t0) is the programmed value [s]."""
    model: str = "constant"
    """``"constant"`` or ``"aihwkit_pcm"`` (conductance-dependent mean and spread)."""
    scale: float = 1.0
    """Multiplier of the drawn exponent (AIHWKit ``drift_scale``) [1] (``model="aihwkit_pcm"``)."""

    def __post_init__(self) -> None:
        check_probability("nu", self.nu)
        check_nonnegative("nu_std", self.nu_std)
        check_positive("t0", self.t0, "s")
        # the exponent is clipped to [0, 1], so a wider spread only piles devices onto the clip limits
        check_range("nu_std", self.nu_std, 0.0, 1.0, why="the drawn exponent is clipped to [0, 1]")
        # from a picosecond to ~100 years after programming
        check_range("t0", self.t0, 1e-12, 3.2e9, "s", why="a picosecond to ~100 years after programming")
        if self.model not in DRIFT_MODELS:
            raise ValueError(f"model must be one of {list(DRIFT_MODELS)}, got {self.model!r}")
        check_nonnegative("scale", self.scale)
        # the PCM exponents are <= ~0.2; a scale of 10 reaches the clip at 1
        check_range("scale", self.scale, 0.0, 10.0, why="the drawn exponent is clipped to 1")

    @property
    def is_ideal(self) -> bool:
        """True when no device drifts."""
        if self.model == "constant":
            return self.nu == 0.0 and self.nu_std == 0.0
        return self.scale == 0.0

    @property
    def depends_on_g(self) -> bool:
        """True when the exponent is drawn from the programmed conductance (at every programming)."""
        return self.model != "constant"

    def sample_nu(self, n: int, rng=None, g_target=None, g_max: float | None = None) -> np.ndarray:
        """Per-device exponents (``n`` of them).

        ``model="constant"``: normal around ``nu``, clipped to [0, 1].  ``"aihwkit_pcm"``: needs the
        programmed targets ``g_target`` [S] and the device's nominal ``g_max`` [S].
        """
        if self.model == "constant":
            if self.nu_std == 0.0:
                return np.full(n, float(self.nu))
            return np.clip(self.nu + self.nu_std * _rng(rng).standard_normal(n), 0.0, 1.0)
        if g_target is None or g_max is None:
            raise ValueError(f"Drift(model={self.model!r}).sample_nu needs g_target and g_max")
        g_target = np.broadcast_to(np.asarray(g_target, dtype=np.float64), (n,))
        mu, sd = pcm_nu_stats(g_target / g_max)
        return np.minimum(self.scale * np.abs(mu + sd * _rng(rng).standard_normal(n)), 1.0)

    def apply(self, g0: np.ndarray, t, nu: np.ndarray | float | None = None) -> np.ndarray:
        """G at time ``t`` [s] after programming (``t <= t0``: no drift yet)."""
        nu = self.nu if nu is None else nu
        t = np.asarray(t, dtype=np.float64)
        check_finite("t", t)
        ratio = np.maximum(t / self.t0, 1.0)
        return np.asarray(g0, dtype=np.float64) * ratio ** (-np.asarray(nu, dtype=np.float64))


@dataclasses.dataclass(frozen=True)
class Retention:
    r"""Arrhenius-accelerated loss of the programmed state, the failure state, and relaxation.

    A device keeps its state for an exponential time of mean :math:`\tau(T) = \tau_0 e^{E_a / k_B T}`;
    then it reads the failure conductance of its technology (``fail_state``): ``"off"`` (``g_min``:
    filament dissolution in oxide RRAM and CBRAM), ``"on"`` (``g_max``: crystallisation of amorphous
    PCM raises G) or ``"mid"`` (``(g_min + g_max) / 2``: FeFET depolarisation closes the memory window
    towards the unpolarised state).  Independently, every healthy device relaxes: its conductance at
    age :math:`t` is shifted by :math:`\sigma_r(t)\,\zeta` with
    :math:`\sigma_r(t) = \rho\,(G_{max} - G_{min}) \log_{10}(1 + t / t_r)` (``relax_sigma`` =
    :math:`\rho`, ``relax_t0`` = :math:`t_r`), :math:`\zeta` a per-device standard normal fixed per
    noise epoch: the spread of a programmed level grows linearly with log time, as measured on analog
    oxide RRAM (M. Zhao et al., IEDM 2017).
    """

    tau0: float = 1e-12
    """Attempt time constant [s]."""
    e_a: float = 1.5
    """Activation energy [eV]."""
    temperature: float = 300.0
    """Temperature [K]."""
    fail_state: str = "off"
    """Conductance of a device that lost its state: ``"off"`` (g_min), ``"on"`` (g_max) or ``"mid"``."""
    relax_sigma: float = 0.0
    """Relaxation spread per decade of age, relative to ``g_max - g_min`` [1]."""
    relax_t0: float = 1.0
    """Time scale of the relaxation's log-time law [s]."""

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
        if self.fail_state not in RETENTION_FAIL_STATES:
            raise ValueError(f"fail_state must be one of {list(RETENTION_FAIL_STATES)}, got {self.fail_state!r}")
        check_nonnegative("relax_sigma", self.relax_sigma)
        # measured analog RRAM relaxation is a few % of the range per decade; 1 per decade is the whole range
        check_range("relax_sigma", self.relax_sigma, 0.0, 1.0, why="measured relaxation is ~0.1-5 % per decade")
        check_positive("relax_t0", self.relax_t0, "s")
        check_range("relax_t0", self.relax_t0, 1e-12, 3.2e9, "s", why="a picosecond to ~100 years")

    def tau_at(self, temperature: float) -> float:
        """Retention time constant at ``temperature`` [K] [s]: ``tau0 * exp(e_a / (k_B T))``."""
        check_positive("temperature", temperature, "K")
        return float(self.tau0 * np.exp(self.e_a / (BOLTZMANN_EV * float(temperature))))

    @property
    def tau(self) -> float:
        """Retention time constant at ``temperature`` [s]: ``tau0 * exp(e_a / (k_B T))``."""
        return self.tau_at(self.temperature)

    def survival(self, t) -> np.ndarray:
        """Probability that a device still holds its state after ``t`` seconds."""
        return np.exp(-np.asarray(t, dtype=np.float64) / self.tau)

    def sample_failed(self, n: int, t: float, rng=None) -> np.ndarray:
        """Which of ``n`` devices lost their state by time ``t``, (n,) bool."""
        return _rng(rng).random(n) >= self.survival(t)

    def fail_conductance(self, g_min: float, g_max: float) -> float:
        """The conductance a device that lost its state reads [S] (``fail_state``)."""
        if self.fail_state == "on":
            return float(g_max)
        if self.fail_state == "mid":
            return 0.5 * (float(g_min) + float(g_max))
        return float(g_min)

    def relax_std(self, age, g_range: float) -> np.ndarray:
        """Relaxation standard deviation at ``age`` [s] for a device range ``g_range`` [S] [S]."""
        a = np.maximum(np.asarray(age, dtype=np.float64), 0.0)
        return self.relax_sigma * float(g_range) * np.log10(1.0 + a / self.relax_t0)
