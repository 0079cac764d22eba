"""Recording front end: per-channel broadband signal quality and channel-level faults.

A real intracortical recording system measures each electrode's broadband signal, not only the threshold
crossings a decoder counts: it estimates each channel's noise RMS to set the spike thresholds (-4.5 x RMS in
BrainGate, Gilja et al. 2012) and checks impedances.  A disconnected electrode, a broken wire or a failed
amplifier shows at once in that signal -- flat (only the amplifier's own noise left) or railed (the input pinned
at the converter's full scale) -- while a unit that dies or drifts away leaves the electrode's noise intact.
:class:`FrontEnd` models that stream: per bin and channel, the RMS [uV] of the band-passed signal,

.. math::

    \\mathrm{rms}_{i}(t) = \\sqrt{a^2 + \\big(n_i(d)\\, e^{s_i(t)}\\big)^2}\\; e^{\\epsilon_{i}(t)}

with the amplifier's input-referred noise :math:`a`, each channel's background :math:`n_i` (electrode thermal
noise and distant neural activity; log-normal across channels, a log-normal random walk across days
:math:`d`), a slow within-session variation :math:`s_i` (a stationary AR(1) process in log units) and the
estimation error :math:`\\epsilon_i` of an RMS measured over one bin (standard deviation
:math:`1/\\sqrt{4 B T}` for band-limited Gaussian noise of bandwidth :math:`B` over a bin :math:`T`: 4.2 % for
7.25 kHz and 20 ms).  **The values are assumptions, not fitted to a data set**: the amplifier floor is the
input-referred noise of the Intan RHD2000 amplifiers' datasheet (2.4 uV rms); the backgrounds (median 8 uV,
log-normal sigma 0.35) put the channels' total RMS at about 4-20 uV, the range usually quoted for Utah-array
recordings; full scale +-8.192 mV is a 16-bit converter at 0.25 uV per bit.

Channel faults (:meth:`FrontEnd.disconnect`, :meth:`FrontEnd.rail`, :meth:`FrontEnd.noise_burst`) act on the
recording, not on the neurons: from the fault's time on (to the 1 ms step, so a fault can start inside a bin) a
disconnected channel reads the amplifier floor and a railed one its full scale, both with no threshold
crossing; a noise burst (EMG or a movement artefact) adds broadband noise of a given RMS for a while and the
threshold crossings that noise makes (Rice's rate of crossings of the -4.5 x RMS threshold, at most one per
1 ms dead time).  Neuron-level unit loss stays :meth:`~memr_snn.bci.cortex.MotorCortex.lose_units`: the counts
fall silent and the broadband signal does not change.  The front end has its own seeded generator, so a
session with it draws the same spikes as one without.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from memr_snn._validation import check_index_array, check_nonnegative, check_positive

from ._checks import BASE_DT, as_counts, steps_per_bin

__all__ = ["SignalParams", "FrontEnd", "CHANNEL_FAULTS", "check_signal"]

#: channel faults of :class:`FrontEnd` and what the broadband RMS does
CHANNEL_FAULTS = {"disconnect": "RMS drops to the amplifier's floor, no threshold crossings (flat)",
                  "rail": "the input pinned at full scale, no threshold crossings (railed)",
                  "burst": "extra broadband noise of a given RMS and its threshold crossings, for a while"}

_OK, _FLAT, _RAIL = 0, 1, 2


@dataclass(frozen=True)
class SignalParams:
    """Broadband signal quality of the recording (module docstring; assumed values)."""

    background_rms: float = 8.0
    """Median background RMS across channels (electrode noise and distant activity) [uV]."""
    background_spread: float = 0.35
    """Log-normal sigma of the backgrounds across channels."""
    amplifier_noise: float = 2.4
    """Input-referred amplifier noise RMS [uV]: what a disconnected (flat) channel reads."""
    full_scale: float = 8192.0
    """Converter full scale [uV]: what a railed channel reads."""
    bandwidth: float = 7250.0
    """Bandwidth of the broadband signal [Hz] (250-7500 Hz); sets the per-bin estimation error."""
    slow_std: float = 0.05
    """Stationary standard deviation of the slow within-session variation (log units)."""
    slow_tau: float = 600.0
    """Correlation time of the slow variation [s]."""
    day_std: float = 0.1
    """Log-normal sigma of each channel's background change per sqrt(day)."""
    threshold_rms: float = 4.5
    """Spike threshold in units of the channel's RMS (for the crossings a noise burst adds)."""
    dead_time: float = 1e-3
    """Dead time after a threshold crossing [s] (at most one crossing per dead time)."""

    def __post_init__(self) -> None:
        for name, unit in (("background_rms", "uV"), ("amplifier_noise", "uV"), ("full_scale", "uV"),
                           ("bandwidth", "Hz"), ("slow_tau", "s"), ("threshold_rms", ""), ("dead_time", "s")):
            check_positive(name, getattr(self, name), unit)
        for name in ("background_spread", "slow_std", "day_std"):
            check_nonnegative(name, getattr(self, name))
        if self.full_scale <= self.amplifier_noise:
            raise ValueError(f"full_scale ({self.full_scale} uV) must exceed amplifier_noise "
                             f"({self.amplifier_noise} uV)")


def check_signal(name: str, signal, n_units: int, counts: np.ndarray | None = None) -> np.ndarray:
    """``signal`` as a float64 array of RMS values [uV] of the shape of ``counts`` (or ``(n_bins, n_units)``).

    RMS values must be finite and non-negative, except where the count is NaN (a channel the hardware already
    flags, whose RMS is not read).  Raises ValueError naming the first bad value, before any work.
    """
    try:
        arr = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array of RMS values [uV], got {type(signal).__name__}") from None
    want = counts.shape if counts is not None else None
    if (want is not None and arr.shape != want) or arr.ndim not in (1, 2) or arr.shape[-1] != n_units:
        shape = want if want is not None else "(n_bins, n_units)"
        raise ValueError(f"{name} must have the shape of the counts, {shape} with {n_units} channels, "
                         f"got shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if counts is not None:
        bad &= ~np.isnan(counts)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must be finite and >= 0 [uV] where the count is not NaN, got "
                         f"{arr[idx].item()!r} at index {idx}")
    return arr


class FrontEnd:
    """The recording front end of ``n_channels`` electrodes: broadband RMS per bin, and channel faults.

    Parameters
    ----------
    params : SignalParams
        Signal-quality model.
    n_channels : int
        Number of channels (one per unit of the cortex).
    seed : int or numpy.random.Generator or None
        Seeds the channels' backgrounds and every later draw (independent of the cortex's generator).
    """

    def __init__(self, params: SignalParams, n_channels: int, seed=None) -> None:
        if not isinstance(params, SignalParams):
            raise TypeError(f"params must be a SignalParams, got {type(params).__name__}")
        from memr_snn._validation import check_int_at_least

        self.params = params
        self.n_channels = check_int_at_least("n_channels", n_channels, 1)
        self.rng = np.random.default_rng(seed)
        self.background = params.background_rms * np.exp(params.background_spread *
                                                         self.rng.standard_normal(n_channels))
        self._slow = params.slow_std * self.rng.standard_normal(n_channels)
        self._step = 0
        # per channel: the fault mode and the 1 ms step it starts at; bursts: (channels, start, stop, rms) steps
        self._mode = np.zeros(n_channels, dtype=np.int64)
        self._mode_at = np.zeros(n_channels, dtype=np.int64)
        self._bursts: list[tuple[np.ndarray, int, int, float]] = []

    @property
    def time(self) -> float:
        """Recorded time [s] (advanced by :meth:`record`, 1 ms steps)."""
        return self._step * BASE_DT

    def healthy_rms(self) -> np.ndarray:
        """Each channel's expected RMS now, without faults or estimation error [uV], ``(n_channels,)``."""
        p = self.params
        return np.sqrt(p.amplifier_noise ** 2 + (self.background * np.exp(self._slow)) ** 2)

    def new_day(self, days: float = 1.0) -> None:
        """Advance ``days`` days: every background takes a log-normal step of sigma ``day_std * sqrt(days)``."""
        check_nonnegative("days", days, "day")
        self.background = self.background * np.exp(self.params.day_std * math.sqrt(days) *
                                                    self.rng.standard_normal(self.n_channels))

    # -- faults -------------------------------------------------------------------------------
    def _at(self, at: float | None) -> int:
        start = self.time if at is None else float(at)
        check_nonnegative("at", start, "s")
        return int(round(start / BASE_DT))

    def disconnect(self, channels, at: float | None = None) -> None:
        """Disconnect ``channels`` from time ``at`` [s] (now by default): they read the amplifier floor."""
        idx = check_index_array("channels", channels, self.n_channels)
        self._mode[idx], self._mode_at[idx] = _FLAT, self._at(at)

    def rail(self, channels, at: float | None = None) -> None:
        """Rail ``channels`` from time ``at`` [s] (now by default): they read the converter's full scale."""
        idx = check_index_array("channels", channels, self.n_channels)
        self._mode[idx], self._mode_at[idx] = _RAIL, self._at(at)

    def repair(self, channels) -> None:
        """Undo :meth:`disconnect` and :meth:`rail` on ``channels`` from now on."""
        self._mode[check_index_array("channels", channels, self.n_channels)] = _OK

    def noise_burst(self, channels, duration: float, rms: float, at: float | None = None) -> None:
        """Add broadband noise of ``rms`` [uV] to ``channels`` for ``duration`` [s] from ``at`` (now by default)."""
        idx = check_index_array("channels", channels, self.n_channels)
        check_positive("duration", duration, "s")
        check_positive("rms", rms, "uV")
        start = self._at(at)
        self._bursts.append((np.unique(idx), start, start + max(1, int(round(duration / BASE_DT))), float(rms)))

    # -- recording ----------------------------------------------------------------------------
    def record(self, counts, bin_width: float) -> tuple[np.ndarray, np.ndarray]:
        """The counts as recorded and each bin's broadband RMS, for the next ``len(counts)`` bins.

        Parameters
        ----------
        counts : (n_bins, n_channels) array_like
            The neurons' threshold crossings per bin (e.g. :meth:`MotorCortex.sample`).
        bin_width : float
            Bin [s], a whole number of 1 ms steps.

        Returns
        -------
        counts : (n_bins, n_channels) ndarray of int64
            The counts after the channel faults: the part of a bin after a disconnect or a rail is thinned away
            (binomially, exact for the cortex's rate held within a bin); bursts add their crossings.
        rms : (n_bins, n_channels) ndarray
            Broadband RMS per bin [uV]: the power of the bin's 1 ms steps averaged, times the estimation error.
        """
        k = steps_per_bin(bin_width)
        c = as_counts("counts", counts, self.n_channels).astype(np.int64)
        p = self.params
        n = self.n_channels
        rho = math.exp(-k * BASE_DT / p.slow_tau)
        jitter = 1.0 / math.sqrt(4.0 * p.bandwidth * k * BASE_DT)
        rms = np.empty(c.shape)
        for b in range(c.shape[0]):
            steps = self._step + np.arange(k)
            healthy = self.healthy_rms()
            faulted = (self._mode != _OK)[None, :] & (steps[:, None] >= self._mode_at[None, :])  # (k, n)
            level = np.where(self._mode == _RAIL, p.full_scale, p.amplifier_noise)
            power = np.where(faulted, level ** 2, healthy ** 2)  # per step
            extra = np.zeros(n)
            for chans, start, stop, brms in self._bursts:
                on = (steps >= start) & (steps < stop)
                if on.any():
                    power[np.ix_(on, chans)] += brms ** 2
                    # Rice: crossings of the threshold (set on the healthy RMS) by the noise now present
                    total = np.sqrt(healthy[chans] ** 2 + brms ** 2)
                    rate = min(self._zero_rate(), 1.0 / p.dead_time) * np.exp(
                        -0.5 * (p.threshold_rms * healthy[chans] / total) ** 2)
                    extra[chans] += np.minimum(rate, 1.0 / p.dead_time) * on.sum() * BASE_DT
            live = 1.0 - faulted.mean(axis=0)  # fraction of the bin before a disconnect / rail
            kept = self.rng.binomial(c[b], live)
            rail_flat = faulted.any(axis=0)
            burst_counts = self.rng.poisson(extra)
            # a bin's crossings from a burst fall in its live part only (a flat or railed input has none)
            c[b] = kept + np.where(rail_flat, self.rng.binomial(burst_counts, live), burst_counts)
            railed = (self._mode == _RAIL) & faulted.all(axis=0)  # pinned for the whole bin: no noise to estimate
            rms[b] = np.sqrt(power.mean(axis=0)) * np.where(railed, 1.0, np.exp(jitter * self.rng.standard_normal(n)))
            self._slow = rho * self._slow + p.slow_std * math.sqrt(1.0 - rho ** 2) * self.rng.standard_normal(n)
            self._step += k
        return c, rms

    def _zero_rate(self) -> float:
        """Rice's rate of upward zero crossings of band-limited white noise on ``[f_lo, f_lo + bandwidth]``
        (``f_lo`` = 250 Hz) [1/s]: ``sqrt((f_hi^3 - f_lo^3) / (3 (f_hi - f_lo)))``."""
        lo, hi = 250.0, 250.0 + self.params.bandwidth
        return math.sqrt((hi ** 3 - lo ** 3) / (3.0 * (hi - lo)))
