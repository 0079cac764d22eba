"""Safety layer: a fault monitor that hands the cursor to a digital Kalman-filter fallback.

:class:`SafeDecoder` wraps a primary decoder (any :class:`~memr_snn.bci.decoders.Decoder`, e.g. a
spiking decoder on a memristive crossbar) and a digital :class:`~memr_snn.bci.kalman.KalmanFilter`
that runs every bin as a hot standby, so a switch costs no bin and needs no warm-up.  Each bin the
monitor checks the input, the population, the primary's output and confidence and, for a primary on
memristive devices, the devices' health (stuck devices, drift), in this order:

1. **NaN input** -- channels whose count is NaN are lost at once (same bin); then the **channel signal** rule
   (only when :meth:`SafeDecoder.fit` was given a signal stream, the broadband RMS per bin and
   channel of :class:`~memr_snn.bci.channels.FrontEnd`, and :meth:`SafeDecoder.step` gets the bin's) -- a channel
   whose RMS falls below ``signal_low`` times its reference (flat: disconnected, a broken wire, a failed
   amplifier) or rises above ``signal_high`` times it (railed, or an artefact) for ``signal_bins`` bins in a row is
   lost (``signal_detection_bound_`` = ``signal_bins`` bins from the first bin wholly in the fault, one more for a
   fault that starts inside a bin).  The references are the calibration's median RMS, then follow each channel's
   RMS in unflagged bins with time constant ``signal_tau`` bins; channels whose reference times ``signal_low`` is
   not clear of ``signal_floor`` (the amplifier's noise) by five calibration spreads are not judged flat
   (``signal_flat_monitored_``).  A unit that dies leaves the electrode's RMS intact: that is rule 2's;
2. **lost channels** -- a channel that stays silent for :math:`k_i` bins is declared lost, with
   :math:`k_i = \\max(\\lceil \\ln p / \\ln p_{0,i} \\rceil, \\lceil m\\, r_i \\rceil)`, :math:`p_{0,i}` its fraction of
   empty training bins (the run's probability is below ``silence_probability`` for independent
   bins) and :math:`r_i` its longest empty run in the training data times ``silence_margin``
   :math:`m` (for slow modulation: a unit driven silent through a whole movement).  A false alarm
   only moves control to the fallback without that channel.  Channels with :math:`k_i >` ``max_silence_bins``
   are too quiet to judge within the bound and are not monitored.  With ``silence_model="rate"`` (the default)
   the run must also be improbable given the movement, :math:`e^{-\\sum_t \\hat\\lambda_i(t)}` at most
   ``silence_probability`` (:math:`\\hat\\lambda_i` the count predicted from the standby filter's prior velocity
   by a model of item 3's form fitted on that prior over the training data, ``silence_coef_``), or reach
   ``silence_cap`` times :math:`k_i` bins (``silence_limit_``, in ``detection_bound_``).  Closed-loop intentions,
   faster than the calibration's, drive units to zero for longer than any calibration run: the counts-only rule
   (``silence_model="counts"``) raised 31 false alarms per hour with the spiking primary (docs/bci.md);
3. **population silence** (opt-in: ``scan_bins`` empty by default) -- many channels falling silent at
   once (a connector, a headstage, a bank of the array): for each window :math:`w` of ``scan_bins``,
   the number :math:`S_w` of good
   channels whose current empty run is at least :math:`w` bins is compared with its null law given the
   decoded movement: units are independent Poisson given the intention, so channel :math:`i` is in
   such a run with probability :math:`\\pi_i = \\prod_{t'} e^{-\\lambda_i(t')}` over the last :math:`w`
   bins, with :math:`\\lambda_i(t')` the count predicted from the decoded velocity
   before bin :math:`t'` is seen; :math:`S_w` is Poisson-binomial
   (:func:`poisson_binomial_tail`).  An alarm is raised when :math:`P(S_w \\ge s)` is at most
   ``scan_tail``; the channels in a run of at least :math:`w` are dropped.  The rates come from a
   least-squares model ``counts ~ b0 + B v + b_s |v|`` fitted with the primary, evaluated at the
   standby filter's prior :math:`\\hat{\\mathbf v}^-`, which lags the user's intention: the nominal
   tail is therefore not a false-alarm probability, and ``scan_tail`` is calibrated on fault-free
   closed-loop sessions (``benchmarks/bci_fallback.py``).  The tail is computed only where
   :math:`s > \\mu + 3\\sigma` of the null law; below, it is far above any threshold of interest.
4. **primary output** -- NaN/inf, or a speed above ``saturation_speed`` for ``saturation_bins``
   bins in a row (saturation);
5. **decoder confidence** -- the normalized innovation squared of the standby filter, averaged over
   ``confidence_window`` bins and divided by the number of channels, above ``nis_threshold``
   (the spike counts no longer fit the calibrated model);
6. **device health** (primaries that run on devices and expose ``device_health()``, e.g.
   :class:`~memr_snn.bci.spiking.SpikingCrossbarDecoder`; digital primaries have none and are not
   polled) -- every ``health_period`` bins, before the primary decodes the bin, the primary read-verifies
   the next rows of its crossbars against their last programming (:mod:`memr_snn.bci.health`; the reads and
   their energy are counted in the primary's energy) and returns a
   :class:`~memr_snn.bci.health.HealthReport`.  A **stuck-device alarm** is raised when on any crossbar
   the fraction of the verified devices newly stuck since the last programming exceeds
   ``max_stuck_fraction``, or the weight change of the synapses they belong to exceeds
   ``max_stuck_weight`` of their share of the crossbar's weight; a **drift alarm** when the relative RMS weight
   error of the other verified synapses (drift, relaxation) exceeds ``drift_budget``.  The routine poll is a
   sample; it only decides to read more: when on some crossbar it sees any newly stuck device or a weight error
   above ``confirm_drift`` times the budget (and did not read every device already; newly stuck devices that an
   earlier full read found do not count: the verifier keeps their map), the primary reads all its
   devices in the same bin (``device_health(full=True)``, a **confirmation read**, counted in
   :attr:`SafeDecoder.health_confirms_` and in the primary's verify energy) and the alarms are judged on that
   full read, which is exact: no alarm unless the whole crossbar is beyond a threshold, and an alarm whenever it
   is.  The one poll in bins ``b .. b + health_period - 1`` therefore catches a device fault present from bin
   ``b`` (:attr:`SafeDecoder.device_detection_bound_` = ``health_period`` bins, default 5) unless its sample
   misses the fault entirely: with a fraction :math:`f` of a crossbar's devices newly stuck (beyond the stuck
   tolerance) and :math:`n` of its devices in the sample, at most :math:`(1 - f)^n` (0 for a crossbar read
   whole at every poll, such as the spiking decoder's readout; :math:`(1 - 0.005)^{1024}` = 0.6 % at the
   0.5 % threshold, below :math:`10^{-6}` from :math:`f` = 1.35 %); for drift, the probability that the
   sampled weight error falls ``1 - confirm_drift`` of the budget below the whole crossbar's (0.1 at the
   defaults, over five standard deviations of the spiking decoder's input-crossbar sample).  A fault confined
   to a few rows is seen when the rotating sweep reaches them, within ``health_period`` times the primary's
   ``health_sweep_polls`` bins.  Primaries whose ``device_health`` takes no ``full`` argument are judged on
   their routine polls.

On any fault the bin's output comes from the fallback (the switch happens in the bin the fault is
detected), so a fault present from bin ``b`` is handled by bin ``b + detection_bound - 1`` at the
latest (:attr:`SafeDecoder.detection_bound_`; for device faults, with the miss probability of item 6).
Lost channels are dropped from the fallback, which becomes the exact Kalman filter of the remaining
channels (:meth:`KalmanFilter.with_channels`); with no channel left it outputs zero velocity (``"stop"``).
The switch is latched until :meth:`rearm`.
Every bin is counted in (``n_in``) and out (``n_out``) with its source, and every switch is logged
(:attr:`SafeDecoder.switches` and the module logger at WARNING).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from memr_snn._validation import check_int_at_least, check_nonnegative, check_positive, check_probability

from ._checks import as_counts, check_pair
from .channels import check_signal
from .decoders import Decoder
from .health import HealthReport
from .kalman import KalmanFilter

__all__ = ["FaultParams", "SwitchEvent", "SafeDecoder", "poisson_binomial_tail", "scan_threshold"]

logger = logging.getLogger(__name__)

_SOURCES = ("primary", "fallback", "stop")


@dataclass(frozen=True)
class FaultParams:
    """Thresholds of the fault monitor."""

    silence_probability: float = 1e-6
    """A channel is lost when its run of empty bins has at most this probability under its training rate."""
    silence_margin: float = 3.0
    """Factor on the longest empty run of each channel in the training data (slow modulation margin)."""
    max_silence_bins: int = 100
    """Longest silence run the monitor waits for; quieter channels are not monitored."""
    silence_model: str = "rate"
    """``"rate"``: a silent run must also be improbable given the predicted rates, or reach ``silence_cap`` times
    :math:`k_i` (module docstring, item 2); ``"counts"``: the run of :math:`k_i` bins alone (the rule before)."""
    silence_cap: float = 2.0
    """``silence_model="rate"``: ``ceil(silence_cap * k_i)`` empty bins make a channel lost whatever the rates."""
    signal_low: float = 0.7
    """Channel-signal rule: a channel whose broadband RMS falls below this fraction of its reference is flat
    (disconnected, a broken wire, a failed amplifier); only with a signal stream (``fit(..., signal=...)``)."""
    signal_high: float = 3.0
    """Channel-signal rule: a broadband RMS above this multiple of the reference is railed or noisy."""
    signal_bins: int = 1
    """Bins in a row beyond a signal threshold that make a channel lost (one more for a fault inside a bin)."""
    signal_floor: float = 2.4
    """What a flat channel reads [uV] (the amplifier's own noise): channels whose reference times
    ``signal_low`` is not clear of it by five of their calibration spreads are not judged flat."""
    signal_tau: float = 3000.0
    """Time constant [bins] with which each channel's reference follows its RMS in unflagged bins (slow
    variation within and across days); 0: fixed at the calibration's median."""
    saturation_speed: float = 1.0
    """Decoded speed counted as saturated [m/s]."""
    saturation_bins: int = 5
    """Consecutive saturated bins that make a fault."""
    nis_threshold: float = 3.0
    """Mean normalized innovation squared per channel above which the model no longer fits."""
    confidence_window: int = 10
    """Bins averaged by the confidence check."""
    scan_bins: tuple[int, ...] = ()
    """Windows of the population silence scan [bins]; empty (the default): no scan.  ``(5, 10, 15)`` is the measured
    setting (docs/bci.md); it drops every channel in a long empty run, healthy quiet ones too: opt-in."""
    scan_tail: float = 1e-20
    """Null tail probability at or below which the population scan alarms (calibrated on fault-free
    closed-loop sessions, docs/bci.md: the null is conditional on the decoded velocity, which lags
    the intention, so the nominal tail is far from the false-alarm probability per bin)."""
    health_period: int = 5
    """Bins between two polls of the primary's device health (primaries with ``device_health()`` only); the
    detection bound of device faults spread over the array [bins].  Each routine poll of the spiking decoder
    reads 1280 devices, about 10 nJ with a conversion per device, three times its decode energy per bin: every
    5 bins it adds about 60 % (docs/bci.md)."""
    confirm_drift: float = 0.8
    """Fraction of ``drift_budget`` above which a routine poll's weight error makes the primary read all its
    devices before the alarms are judged (a confirmation read; any newly stuck device in the sample does too).
    1 or more: drift is judged on the routine sample alone."""
    max_stuck_fraction: float = 0.005
    """Fraction of a crossbar's verified devices newly stuck since its last programming above which the
    stuck-device alarm is raised."""
    max_stuck_weight: float = 0.05
    """Weight change of the verified synapses with a newly stuck device, as a fraction of the verified
    synapses' share of the crossbar's programmed weight (their number times its mean programmed weight
    magnitude; sums of absolute values), above which the stuck-device alarm is raised."""
    drift_budget: float = 0.5
    """Relative RMS weight error from drift and relaxation (verified synapses without a stuck device) above
    which the drift alarm is raised.  The spiking decoder's ``hfox_rram`` weights (192 units, 64 hidden) reach
    it about a year after programming, relaxation dominating; devices with a faster drift much sooner
    (docs/bci.md, "Fault fallback latency")."""

    def __post_init__(self) -> None:
        check_probability("silence_probability", self.silence_probability)
        if self.silence_probability in (0.0, 1.0):
            raise ValueError(f"silence_probability must lie in (0, 1), got {self.silence_probability!r}")
        check_int_at_least("max_silence_bins", self.max_silence_bins, 1)
        check_positive("silence_margin", self.silence_margin)
        if self.silence_model not in ("rate", "counts"):
            raise ValueError(f"silence_model must be 'rate' or 'counts', got {self.silence_model!r}")
        if not (isinstance(self.silence_cap, (int, float)) and self.silence_cap >= 1.0):
            raise ValueError(f"silence_cap must be a number >= 1, got {self.silence_cap!r}")
        if not (isinstance(self.signal_low, (int, float)) and 0.0 < self.signal_low < 1.0):
            raise ValueError(f"signal_low must lie in (0, 1), got {self.signal_low!r}")
        if not (isinstance(self.signal_high, (int, float)) and self.signal_high > 1.0):
            raise ValueError(f"signal_high must be a number > 1, got {self.signal_high!r}")
        check_int_at_least("signal_bins", self.signal_bins, 1)
        check_positive("signal_floor", self.signal_floor, "uV")
        check_nonnegative("signal_tau", self.signal_tau, "bins")
        check_positive("saturation_speed", self.saturation_speed, "m/s")
        check_int_at_least("saturation_bins", self.saturation_bins, 1)
        check_positive("nis_threshold", self.nis_threshold)
        check_int_at_least("confidence_window", self.confidence_window, 1)
        if not isinstance(self.scan_bins, tuple):
            raise TypeError(f"scan_bins must be a tuple of ints, got {type(self.scan_bins).__name__}")
        for w in self.scan_bins:
            check_int_at_least("scan_bins (each window)", w, 1)
        check_probability("scan_tail", self.scan_tail)
        check_int_at_least("health_period", self.health_period, 1)
        check_probability("max_stuck_fraction", self.max_stuck_fraction)
        if self.max_stuck_fraction >= 1.0:
            raise ValueError(f"max_stuck_fraction must lie in [0, 1), got {self.max_stuck_fraction!r}")
        check_positive("max_stuck_weight", self.max_stuck_weight)
        check_positive("drift_budget", self.drift_budget)
        check_positive("confirm_drift", self.confirm_drift)


@dataclass(frozen=True)
class SwitchEvent:
    """One change of the decoder in charge (or of the fallback's channels)."""

    bin: int
    """Index of the bin (counted from fit/rearm) whose output came from the new source."""
    source: str
    """``"primary"``, ``"fallback"`` or ``"stop"`` after the event."""
    reason: str
    """What the monitor saw."""
    n_channels: int
    """Channels the fallback uses after the event."""


def poisson_binomial_tail(probs) -> np.ndarray:
    """``P(S >= s)`` for ``s = 0..n`` of a sum of independent Bernoulli variables with ``probs``, ``(n + 1,)``.

    Exact convolution of the two-point laws (O(n^2)); the tail is summed from the top so that small
    probabilities keep their relative precision.
    """
    q = np.asarray(probs, dtype=np.float64).ravel()
    if np.any(~np.isfinite(q)) or np.any((q < 0) | (q > 1)):
        raise ValueError("probs must lie in [0, 1]")
    pmf = np.zeros(q.size + 1)
    pmf[0] = 1.0
    for k, pk in enumerate(q, start=1):
        pmf[1:k + 1] = pmf[1:k + 1] * (1 - pk) + pmf[:k] * pk
        pmf[0] *= 1 - pk
    return np.minimum(np.cumsum(pmf[::-1])[::-1], 1.0)


def scan_threshold(p0, window: int, alpha: float) -> int:
    """Smallest count ``s`` of channels in an empty run of ``>= window`` bins with ``P(S >= s) <= alpha``.

    ``p0`` are the channels' probabilities of an empty bin; for independent bins a channel is in
    such a run with probability ``p0 ** window``.  Returns ``len(p0) + 1`` when no count is rare enough.
    """
    tail = poisson_binomial_tail(np.asarray(p0, dtype=np.float64) ** window)
    ok = np.flatnonzero(tail <= alpha)
    return int(ok[0]) if ok.size else int(tail.size)


def _takes_full(hook) -> bool:
    """Whether a ``device_health`` hook accepts ``full`` (a confirmation read of every device)."""
    import inspect

    try:
        return "full" in inspect.signature(hook).parameters
    except (TypeError, ValueError):
        return False


def _longest_zero_run(X: np.ndarray) -> np.ndarray:
    """Longest run of empty bins of each channel, ``(n_units,)``."""
    run = np.zeros(X.shape[1])
    best = np.zeros(X.shape[1])
    for z in X:
        run = np.where(z == 0, run + 1, 0)
        best = np.maximum(best, run)
    return best


def _silence_bins(X: np.ndarray, probability: float, margin: float) -> np.ndarray:
    """Empty bins in a row after which each channel counts as lost (inf: never).

    ``max(ceil(ln p / ln p0), margin * longest training run)`` with ``p0`` the channel's fraction of empty
    training bins: the run has probability at most ``p`` for independent bins, and the margin over
    the longest run seen covers the slow modulation (a unit driven to silence for a whole movement).
    """
    p0 = np.mean(X == 0, axis=0)
    with np.errstate(divide="ignore"):
        k = np.where((p0 > 0) & (p0 < 1), np.ceil(math.log(probability) / np.log(np.clip(p0, 1e-300, 1 - 1e-16))),
                     np.where(p0 == 0, 1.0, np.inf))
    return np.maximum(k, np.ceil(margin * _longest_zero_run(X)))


class SafeDecoder(Decoder):
    """A primary decoder guarded by a fault monitor with a hot-standby Kalman fallback.

    Parameters
    ----------
    primary : Decoder
        The decoder in charge while no fault is seen.
    fallback : KalmanFilter, optional
        The digital fallback (default ``KalmanFilter(track_innovation=True)``); it is fitted on the
        same data as the primary.
    params : FaultParams, optional
        Monitor thresholds.
    """

    def __init__(self, primary: Decoder, fallback: KalmanFilter | None = None,
                 params: FaultParams | None = None) -> None:
        self.primary = primary
        self.fallback = fallback
        self.params = params

    def fit(self, X, y, signal=None) -> SafeDecoder:
        """Fit primary and fallback on the same data and calibrate the monitor; returns self.

        ``signal`` (optional, the shape of ``X``): each bin's broadband RMS per channel [uV]
        (:class:`~memr_snn.bci.channels.FrontEnd`); it calibrates the channel-signal rule, which then judges
        the RMS given to :meth:`step`.  Without it the rule is off.
        """
        p = self.params if self.params is not None else FaultParams()
        if not isinstance(p, FaultParams):
            raise TypeError(f"params must be a FaultParams, got {type(p).__name__}")
        X, y = check_pair(X, y)
        sig = None if signal is None else check_signal("signal", signal, X.shape[1], X)
        fb = self.fallback if self.fallback is not None else KalmanFilter(track_innovation=True)
        if not isinstance(fb, KalmanFilter) or not fb.track_innovation:
            raise ValueError("fallback must be a KalmanFilter with track_innovation=True "
                             "(its innovations are the confidence check)")
        self.primary.fit(X, y)
        self.fallback_ = fb.fit(X, y)
        self.n_units_ = X.shape[1]
        self.params_ = p
        k = _silence_bins(X, p.silence_probability, p.silence_margin)
        # rate model of the scan's null: counts ~ b0 + B v + b_s |v| per channel (least squares, the
        # speed term the Kalman filter's linear model lacks)
        design = np.column_stack([np.ones(len(y)), y, np.hypot(y[:, 0], y[:, 1])])
        self.rate_coef_ = np.linalg.lstsq(design, X, rcond=None)[0]  # (4, n_units)
        # the silence rule's rate model, on the standby's own prior velocity (what it is evaluated at): fitted on
        # the labels it would under-predict how far a fast movement drives a unit down (decoded speeds are smaller)
        self.fallback_.reset()
        vp = np.empty_like(y)
        for t, x in enumerate(X):
            vp[t] = self.fallback_.A_ @ self.fallback_.state_
            self.fallback_.step(x)
        design = np.column_stack([np.ones(len(y)), vp, np.hypot(vp[:, 0], vp[:, 1])])
        self.silence_coef_ = np.linalg.lstsq(design, X, rcond=None)[0]
        self.monitored_ = np.flatnonzero(k <= p.max_silence_bins)
        self.silence_bins_ = np.where(k <= p.max_silence_bins, k, np.inf)
        self.silence_limit_ = (self.silence_bins_ if p.silence_model == "counts"
                               else np.ceil(p.silence_cap * self.silence_bins_))
        self._calibrate_signal(sig)
        hook = getattr(self.primary, "device_health", None)
        self._health_hook = hook if callable(hook) else None
        self._health_full = self._health_hook is not None and _takes_full(self._health_hook)
        self.device_detection_bound_ = p.health_period if self._health_hook is not None else None
        self.detection_bound_ = int(max(np.max(self.silence_limit_[self.monitored_], initial=1),
                                        p.saturation_bins, p.confidence_window, self.device_detection_bound_ or 1))
        self.rearm()
        return self

    def _calibrate_signal(self, sig: np.ndarray | None) -> None:
        """Per-channel reference RMS (median), its calibration spread (MAD of log RMS) and which channels can be
        judged flat; ``signal_detection_bound_`` is None without a signal stream."""
        p = self.params_
        if sig is None:
            self.signal_ref_ = None
            self.signal_detection_bound_ = None
            return
        logs = np.log(np.maximum(sig, 1e-12))
        logs = np.where(np.isnan(sig), np.nan, logs)
        ref = np.nanmedian(logs, axis=0)
        spread = 1.4826 * np.nanmedian(np.abs(logs - ref), axis=0)
        if not np.all(np.isfinite(ref)):
            raise ValueError("signal must hold at least one RMS value per channel where the count is not NaN")
        self.signal_ref_ = np.exp(ref)
        self.signal_spread_ = spread
        self.signal_flat_monitored_ = np.flatnonzero(math.log(p.signal_low) + ref - math.log(p.signal_floor)
                                                     > 5.0 * spread)
        self.signal_detection_bound_ = p.signal_bins
        self._logref = ref.copy()

    def partial_fit(self, X, y) -> SafeDecoder:
        """Update primary and fallback with new data (the fallback keeps its current channels)."""
        self._check_fitted()
        X, y = check_pair(X, y, self.n_units_)
        self.primary.partial_fit(X, y)
        self.fallback_.partial_fit(X, y)
        self._active = self.fallback_.with_channels(self._good) if self._good.size else None
        return self

    def rearm(self) -> None:
        """Hand control back to the primary with all channels, and zero the counters and the log."""
        self._check_fitted()
        self.source = "primary"
        self.switches: list[SwitchEvent] = []
        self.sources: list[str] = []
        self.n_in = 0
        self.n_out = 0
        self._good = np.arange(self.n_units_)
        self._lost = np.zeros(self.n_units_, dtype=bool)
        self._active: KalmanFilter | None = self.fallback_
        self.health_: HealthReport | None = None
        self.health_polls_ = 0
        self.health_confirms_ = 0
        self._set_scan()
        self.reset()

    def _set_scan(self) -> None:
        """Forget the predicted-rate history of the population scan (after a change of channels)."""
        self._logp0: deque[np.ndarray] = deque(maxlen=max(self.params_.scan_bins, default=1))
        self.scan_min_tail_ = 1.0

    def _scan(self, v_prior: np.ndarray) -> None:
        """Population silence scan of one bin (after the run lengths are updated), see the module docstring."""
        p = self.params_
        if not p.scan_bins or not self._good.size:
            return
        lam = np.maximum(np.array([1.0, v_prior[0], v_prior[1], math.hypot(*v_prior)]) @ self.rate_coef_, 0.0)
        self._logp0.append(-lam)
        for w in p.scan_bins:
            if len(self._logp0) < w:
                continue
            good = self._good
            pi = np.exp(np.sum(list(self._logp0)[-w:], axis=0)[good])
            runs = good[self._silent[good] >= w]
            s, mu = runs.size, float(np.sum(pi))
            if s == 0 or s <= mu + 3.0 * math.sqrt(float(np.sum(pi * (1 - pi)))):
                continue
            tail = float(poisson_binomial_tail(pi)[s])
            self.scan_min_tail_ = min(self.scan_min_tail_, tail)
            if tail <= p.scan_tail:
                self._drop_channels(runs, f"population silence ({s} channels empty for >= {w} bins, "
                                          f"null mean {mu:.1f}, tail {tail:.1e})")
                return

    def reset(self) -> None:
        """Reset the filter states (not the fault latch or the counters)."""
        self._check_fitted()
        self.primary.reset()
        if self._active is not None:
            self._active.reset()
        self._silent = np.zeros(self.n_units_)
        self._mass = np.zeros(self.n_units_)
        self._beyond = np.zeros(self.n_units_)
        self._saturated = 0
        self._nis: deque[float] = deque(maxlen=self.params_.confidence_window)

    def _get_state(self):
        return (self.primary._get_state(), None if self._active is None else self._active._get_state(),
                self._silent.copy(), self._saturated, deque(self._nis), self._mass.copy(), self._beyond.copy())

    def _set_state(self, state) -> None:
        prim, act, self._silent, self._saturated, self._nis, self._mass, self._beyond = state
        self.primary._set_state(prim)
        if self._active is not None and act is not None:
            self._active._set_state(act)

    @property
    def counts(self) -> dict[str, int]:
        """Bins in, bins out, and bins out per source."""
        out = {"n_in": self.n_in, "n_out": self.n_out}
        out.update({s: self.sources.count(s) for s in _SOURCES})
        return out

    def _switch(self, source: str, reason: str) -> None:
        ev = SwitchEvent(self.n_in - 1, source, reason, int(self._good.size))
        self.switches.append(ev)
        logger.warning("bin %d: %s -> %s (%s; fallback on %d channels)", ev.bin, self.source, source, reason,
                       ev.n_channels)
        self.source = source

    def _drop_channels(self, newly: np.ndarray, why: str) -> None:
        self._lost[newly] = True
        self._good = np.flatnonzero(~self._lost)
        old = self._active
        self._active = self.fallback_.with_channels(self._good) if self._good.size else None
        if self._active is not None and old is not None:
            self._active._set_state((old.state_.copy(), old.cov_.copy(), float("nan")))
            self._nis.clear()
        target = "fallback" if self._active is not None else "stop"
        self._switch(target, f"{why}: channels {newly.tolist()}")

    def _suspicious(self, rep: HealthReport) -> bool:
        """Whether a routine poll calls for a confirmation read: a newly stuck device no earlier full read found,
        or a weight error above ``confirm_drift`` of the budget, on a crossbar not read whole."""
        p = self.params_
        return any(not c.full and (c.unconfirmed > 0 or c.weight_error > p.confirm_drift * p.drift_budget)
                   for c in rep.crossbars)

    def _device_alarm(self, rep: HealthReport) -> str | None:
        """The reasons of the drift and stuck-device alarms a health report raises (module docstring), drift
        first (far beyond the budget, relaxation also spreads healthy devices past the stuck tolerance), or None."""
        p = self.params_
        why = []
        # with confirmation reads, a sample only asks for one; the alarms are judged on whole crossbars
        judged = [c for c in rep.crossbars if c.full or not self._health_full]
        for c in judged:
            if c.weight_error > p.drift_budget:
                why.append(f"device drift (weight error {c.weight_error:.3f} on crossbar {c.name!r} > budget "
                           f"{p.drift_budget}; drift factor {c.drift_factor:.3f})")
        for c in judged:
            if c.stuck_fraction > p.max_stuck_fraction:
                why.append(f"device fault (newly stuck devices: {c.stuck} of {c.checked} verified on crossbar "
                           f"{c.name!r}, {100 * c.stuck_fraction:.2f} % > {100 * p.max_stuck_fraction:.2f} %)")
            elif c.stuck_weight_fraction > p.max_stuck_weight:
                why.append(f"device fault (newly stuck devices: {c.stuck} of {c.checked} verified on crossbar "
                           f"{c.name!r} change {100 * c.stuck_weight_fraction:.1f} % of their share of the weight > "
                           f"{100 * p.max_stuck_weight:.1f} %)")
        return "; ".join(why) or None

    def _signal_rule(self, z: np.ndarray, rms: np.ndarray) -> None:
        """Channel-signal rule of one bin: flat or high broadband RMS against each channel's reference."""
        p = self.params_
        ok = ~np.isnan(z) & ~self._lost
        ratio = np.where(ok, rms, 1.0) / self.signal_ref_
        flat = np.zeros(self.n_units_, dtype=bool)
        flat[self.signal_flat_monitored_] = ratio[self.signal_flat_monitored_] < p.signal_low
        high = ratio > p.signal_high
        self._beyond = np.where(ok & (flat | high), self._beyond + 1, 0)
        if p.signal_tau > 0:  # the references follow the slow variation in unflagged bins
            upd = ok & (self._beyond == 0)
            self._logref[upd] += (np.log(np.maximum(rms[upd], 1e-12)) - self._logref[upd]) / p.signal_tau
            self.signal_ref_ = np.exp(self._logref)
        due = self._beyond >= p.signal_bins
        for mask, what in ((due & flat, f"flat: RMS < {p.signal_low:g} x reference"),
                           (due & high, f"high: RMS > {p.signal_high:g} x reference, railed or noisy")):
            newly = np.flatnonzero(mask & ~self._lost)
            if newly.size:
                self._drop_channels(newly, f"channel signal {what}")

    def step(self, x, signal=None) -> np.ndarray:
        """Decode one bin ``(n_units,)`` (NaN allowed); returns the velocity ``(2,)`` [m/s].

        ``signal`` (optional): the bin's broadband RMS per channel [uV], judged by the channel-signal rule when
        :meth:`fit` was given a signal stream (finite and >= 0 where the count is not NaN).
        """
        self._check_fitted()
        z = as_counts("x (one bin of counts)", np.asarray(x, dtype=np.float64)[None], self.n_units_,
                      allow_nan=True)[0]
        rms = None
        if signal is not None:
            if self.signal_ref_ is None:
                raise ValueError("signal given to step, but the monitor was fitted without a signal stream "
                                 "(fit(X, y, signal=...))")
            rms = check_signal("signal (one bin of RMS values)", np.asarray(signal, dtype=np.float64)[None],
                               self.n_units_, z[None])[0]
        self.n_in += 1
        p = self.params_
        nan = np.isnan(z)
        silent = ~nan & (z == 0)
        self._silent = np.where(silent, self._silent + 1, 0)
        newly = np.flatnonzero(nan & ~self._lost)
        if newly.size:
            self._drop_channels(newly, "NaN input")
        if rms is not None:
            self._signal_rule(z, rms)
        v_prior = self._active.A_ @ self._active.state_ if self._active is not None else np.zeros(2)
        if p.silence_model == "counts":
            due = self._silent >= self.silence_bins_
        else:  # the run must also be improbable given the rates the decoded movement predicts (or reach the cap)
            lam = np.maximum(np.array([1.0, v_prior[0], v_prior[1], math.hypot(*v_prior)]) @ self.silence_coef_, 0.0)
            self._mass = np.where(silent, self._mass + lam, 0.0)
            due = (self._silent >= self.silence_bins_) & (self._mass >= -math.log(p.silence_probability))
            due |= self._silent >= self.silence_limit_
        newly = np.flatnonzero(due & ~self._lost)
        if newly.size:
            self._drop_channels(newly, "lost channels (silent)")
        if self._active is not None:
            self._scan(self._active.A_ @ self._active.state_)
        # the standby runs every bin on the good channels
        v_fb = np.zeros(2)
        if self._active is not None:
            v_fb = self._active.step(z[self._good])
            self._nis.append(self._active.last_nis_ / self._good.size)
        out = v_fb
        if self.source == "primary" and self._health_hook is not None and (self.n_in - 1) % p.health_period == 0:
            self.health_ = self._health_hook()
            self.health_polls_ += 1
            if self._health_full and self._suspicious(self.health_):
                self.health_ = self._health_hook(full=True)
                self.health_confirms_ += 1
            why = self._device_alarm(self.health_)
            if why is not None:
                self._switch("fallback", why)
        if self.source == "primary":
            v = self.primary.step(np.nan_to_num(z))
            speed = float(np.hypot(*v)) if np.all(np.isfinite(v)) else math.inf
            self._saturated = self._saturated + 1 if speed > p.saturation_speed else 0
            conf = float(np.mean(self._nis)) if len(self._nis) == p.confidence_window else 0.0
            if not np.all(np.isfinite(v)):
                self._switch("fallback", "primary output not finite")
            elif self._saturated >= p.saturation_bins:
                self._switch("fallback", f"output saturated ({self._saturated} bins above {p.saturation_speed} m/s)")
            elif conf > p.nis_threshold:
                self._switch("fallback", f"low confidence (mean NIS per channel {conf:.2f} > {p.nis_threshold})")
            else:
                out = v
        if self.source != "primary" and self._active is None:
            self.source = "stop"
            out = np.zeros(2)
        self.sources.append(self.source)
        self.n_out += 1
        return np.array(out, dtype=np.float64)
