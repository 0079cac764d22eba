r"""Cochlear front end: ERB-spaced gammatone filter bank, inner hair cells and spike generation.

A sound ``x`` (mono, float, sample rate ``fs``) becomes spikes in four stages:

1. **Basilar membrane** -- a bank of ``n_channels`` 4th-order gammatone band-pass filters
   (Patterson et al. 1992) whose centre frequencies are equally spaced on the ERB-rate scale of
   Glasberg & Moore (1990) between ``f_min`` and ``f_max``, each with bandwidth parameter
   :math:`b = 1.019\,\mathrm{ERB}(f_c)`, where

   .. math::

       \mathrm{ERB}(f) = 24.7\,(4.37 f / 1000 + 1)\ \mathrm{Hz},\qquad
       \mathrm{ERB\text{-}rate}(f) = 21.4 \log_{10}(4.37 f / 1000 + 1).

   The gammatone impulse response is :math:`g(t) = t^{n-1} e^{-2\pi b t}\cos(2\pi f_c t)`; its
   magnitude response near :math:`f_c` is :math:`|G(f)| \propto [1 + ((f - f_c)/b)^2]^{-n/2}`, so the
   -3 dB bandwidth is :math:`2 b \sqrt{2^{1/n} - 1}` (0.887 b for n = 4) and the equivalent
   rectangular bandwidth is :math:`b / 1.019 = \mathrm{ERB}(f_c)` for n = 4 -- which is why 1.019.

   *Implementation* (:func:`gammatone_filter_bank`): each channel is the *all-pole* digital
   gammatone, a cascade of ``n`` identical complex one-pole filters with pole
   :math:`p = a\,e^{i 2\pi f_c/f_s}`, whose impulse response is
   :math:`\binom{k+n-1}{n-1} a^k e^{i 2\pi f_c k/f_s}` -- the sampled gammatone envelope
   :math:`k^{n-1} a^k` up to lower-order terms in ``k``.  Near :math:`f_c` its magnitude is
   :math:`[1 - 2a\cos\Delta + a^2]^{-n/2}` with :math:`\Delta = 2\pi(f - f_c)/f_s`, the digital
   form of the gammatone's :math:`[1 + ((f-f_c)/b)^2]^{-n/2}`.  The pole radius ``a`` is solved
   so that the digital -3 dB bandwidth equals the analog gammatone's :math:`2b\sqrt{2^{1/n}-1}`
   *exactly* (no small-:math:`b/f_s` approximation).  The basilar-membrane output is the real part
   of the complex output, with a real gain making the response exactly 1 (0 dB) at :math:`f_c`.
   This is Slaney's (1993, Apple TR #35) cascade-of-resonators idea without his four zeros (the
   "all-pole gammatone", Lyon 1997); the zeros change the response only far from :math:`f_c`.

2. **Inner hair cells** -- half-wave rectification (the hair cell responds to deflection in
   one direction), an optional 2nd-order Butterworth low-pass at ``ihc_cutoff`` (the loss of
   phase locking above ~1 kHz), clipped at zero, and a compressive non-linearity: the power law
   :math:`y^{0.3}` (Stevens' loudness exponent; default) or :math:`\log(1 + y/y_{ref})`.
   :func:`cochleagram` bins this drive into frames of ``dt`` (mean per frame).

3. **Spikes**, two models:

   * :func:`hair_cell_spikes` (default) -- per channel a small bank of leaky integrate-and-fire
     units driven by the compressed hair-cell signal at the audio rate, with graded thresholds
     (like auditory-nerve fibres of different thresholds, widening the dynamic range),
     reset to 0 and an absolute refractory period.  This follows the artificial cochlea of
     Cramer et al. (2020, "The Heidelberg spiking data sets", IEEE TNNLS), which used the Lauscher
     model (hair cells -> LIF -> bushy cells).  *Simplified here:* no basilar-membrane
     hydrodynamics (a gammatone bank instead of Lauscher's transmission line), deterministic
     hair cells (no transmitter-release stochasticity), and no bushy-cell layer: the counts of a
     channel's hair cells are summed.
   * send-on-delta coding (:func:`memr_snn.encoders.delta`) of the binned, compressed envelope
     (:func:`cochleagram`): an ON (OFF) spike each time a channel's envelope rises (falls) by
     ``delta_threshold`` from its last reference level (starting at 0).

Every spike output is a ``(T, n_out)`` ``uint8`` array of spike **counts** per time bin of
``dt`` seconds (the encoders' common convention); ``n_out = n_channels`` for hair cells and
``2 * n_channels`` (ON channels first, then OFF) for delta coding.  Channel 0 has the lowest
centre frequency.

:func:`load_wav` reads PCM/float WAV files with :mod:`scipy.io.wavfile`, mixes stereo to mono,
scales to [-1, 1] and resamples with :func:`scipy.signal.resample_poly`; malformed files raise
:class:`WavFormatError` (a ``ValueError``) and never crash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from .delta_code import delta
from .wav import FLOAT_PEAK_LIMIT, WavFormatError, load_wav  # WAV input, split off

__all__ = [
    "WavFormatError",
    "FLOAT_PEAK_LIMIT",
    "CochleaParams",
    "erb",
    "erb_rate",
    "erb_rate_to_hz",
    "erb_space",
    "gammatone_poles",
    "gammatone_filter_bank",
    "gammatone_kernel",
    "gammatone_reference",
    "hair_cell_drive",
    "cochleagram",
    "hair_cell_spikes",
    "cochlea_encode",
    "load_wav",
    "hair_cell_lif_kernel",
    "hair_cell_lif_reference",
]

#: Glasberg & Moore (1990) constants: ERB(f) = _ERB_WIDTH * (_ERB_SLOPE * f + 1) [Hz, f in Hz].
_ERB_WIDTH = 24.7
_ERB_SLOPE = 4.37e-3
_ERB_RATE_SCALE = 21.4


# ----------------------------------------------------------------------------------------------------------------
# ERB scale
# ----------------------------------------------------------------------------------------------------------------

def erb(frequency):
    """Equivalent rectangular bandwidth of the auditory filter at ``frequency`` (Glasberg & Moore 1990).

    Parameters
    ----------
    frequency : float or ndarray
        Frequency [Hz].

    Returns
    -------
    float or ndarray
        :math:`24.7 (4.37 f/1000 + 1)` [Hz].

    Examples
    --------
    >>> round(float(erb(1000.0)), 2)
    132.64
    """
    return _ERB_WIDTH * (_ERB_SLOPE * np.asarray(frequency, dtype=np.float64) + 1.0)


def erb_rate(frequency):
    """ERB-rate (ERB number, "Cams") of ``frequency`` [Hz]: :math:`21.4\\log_{10}(4.37 f/1000 + 1)`."""
    return _ERB_RATE_SCALE * np.log10(_ERB_SLOPE * np.asarray(frequency, dtype=np.float64) + 1.0)


def erb_rate_to_hz(rate):
    """Inverse of :func:`erb_rate`: the frequency [Hz] at ERB-rate ``rate``."""
    return (10.0 ** (np.asarray(rate, dtype=np.float64) / _ERB_RATE_SCALE) - 1.0) / _ERB_SLOPE


def erb_space(f_min: float, f_max: float, n_channels: int) -> np.ndarray:
    """``n_channels`` centre frequencies equally spaced on the ERB-rate scale, ascending.

    Parameters
    ----------
    f_min, f_max : float
        Lowest and highest centre frequency [Hz], ``0 < f_min < f_max`` (``f_min == f_max`` allowed
        only for one channel).
    n_channels : int
        Number of channels, >= 1.

    Returns
    -------
    (n_channels,) ndarray of float64
        Centre frequencies [Hz]; the first is ``f_min``, the last ``f_max``.
    """
    if isinstance(n_channels, bool) or not isinstance(n_channels, (int, np.integer)) or n_channels < 1:
        raise ValueError(f"n_channels must be an integer >= 1, got {n_channels!r}")
    if not (np.isfinite(f_min) and f_min > 0):
        raise ValueError(f"f_min must be a finite frequency > 0 Hz, got {f_min!r}")
    if not (np.isfinite(f_max) and f_max >= f_min and (f_max > f_min or n_channels == 1)):
        raise ValueError(f"f_max must be a finite frequency > f_min = {f_min} Hz, got {f_max!r}")
    rates = np.linspace(float(erb_rate(f_min)), float(erb_rate(f_max)), int(n_channels))
    freqs = erb_rate_to_hz(rates)
    freqs[0], freqs[-1] = f_min, f_max  # exact end points (no round-off)
    return freqs


# ----------------------------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CochleaParams:
    """Parameters of the cochlear front end (see the module docstring for the model).

    Defaults suit speech at 16 kHz: 32 channels 100 Hz - 7 kHz, 10 ms bins.
    """

    n_channels: int = 32
    """Number of gammatone channels, >= 1."""
    f_min: float = 100.0
    """Lowest centre frequency [Hz], > 0."""
    f_max: float = 7000.0
    """Highest centre frequency [Hz], >= f_min and below the Nyquist frequency of the input."""
    order: int = 4
    """Gammatone order n (4 is Patterson's; 1..8 allowed)."""
    bandwidth_factor: float = 1.019
    """b / ERB(f_c): 1.019 makes the 4th-order filter's equivalent rectangular bandwidth equal ERB(f_c) [-]."""
    ihc_cutoff: float = 1000.0
    """Inner-hair-cell low-pass cut-off [Hz]; 0 disables the low-pass."""
    compression: str = "power"
    """``"power"`` (:math:`y^{exponent}`) or ``"log"`` (:math:`\\log(1 + y/log_reference)`)."""
    exponent: float = 0.3
    """Power-law compression exponent, in (0, 1] [-]."""
    log_reference: float = 1e-3
    """Reference level of the log compression, > 0 [full-scale units]."""
    dt: float = 0.01
    """Output time bin [s], > 0."""
    spike_model: str = "hair_cell"
    """``"hair_cell"`` (LIF hair cells, ``n_channels`` outputs) or ``"delta"`` (``2 n_channels`` ON/OFF)."""
    n_hair_cells: int = 3
    """LIF hair cells per channel (graded thresholds), >= 1."""
    tau_mem: float = 2e-3
    """Hair-cell membrane time constant [s], > 0."""
    v_threshold: float = 0.15
    """Threshold of the most sensitive hair cell, in compressed-drive units [-], > 0."""
    threshold_ratio: float = 1.6
    """Ratio between the thresholds of successive hair cells of a channel (>= 1) [-]."""
    refractory: float = 2e-3
    """Absolute refractory period of a hair cell [s], >= 0."""
    delta_threshold: float = 0.05
    """Envelope change per ON/OFF spike of the delta coder, > 0 [compressed units]."""

    def __post_init__(self) -> None:
        for name in ("n_channels", "order", "n_hair_cells"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.order > 8:
            raise ValueError(f"order must be in 1..8, got {self.order}")
        for name in ("f_min", "f_max", "bandwidth_factor", "log_reference", "dt", "tau_mem", "v_threshold",
                     "delta_threshold"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float, np.floating, np.integer)) and np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if self.f_max < self.f_min or (self.f_max == self.f_min and self.n_channels > 1):
            raise ValueError(f"f_max must be > f_min = {self.f_min} Hz, got {self.f_max!r}")
        for name in ("ihc_cutoff", "refractory"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not (0 < self.exponent <= 1):
            raise ValueError(f"exponent must be in (0, 1], got {self.exponent!r}")
        if not (np.isfinite(self.threshold_ratio) and self.threshold_ratio >= 1):
            raise ValueError(f"threshold_ratio must be a finite number >= 1, got {self.threshold_ratio!r}")
        if self.compression not in ("power", "log"):
            raise ValueError(f"compression must be 'power' or 'log', got {self.compression!r}")
        if self.spike_model not in ("hair_cell", "delta"):
            raise ValueError(f"spike_model must be 'hair_cell' or 'delta', got {self.spike_model!r}")

    @property
    def n_outputs(self) -> int:
        """Spike channels of :func:`cochlea_encode`: ``n_channels`` (hair cells) or ``2 n_channels`` (delta)."""
        return self.n_channels if self.spike_model == "hair_cell" else 2 * self.n_channels

    def centre_frequencies(self) -> np.ndarray:
        """The channels' centre frequencies [Hz] (:func:`erb_space`)."""
        return erb_space(self.f_min, self.f_max, self.n_channels)

    def thresholds(self) -> np.ndarray:
        """``(n_hair_cells,)`` hair-cell thresholds ``v_threshold * threshold_ratio**k``."""
        return self.v_threshold * self.threshold_ratio ** np.arange(self.n_hair_cells, dtype=np.float64)


def _check_rate(sample_rate: float, params: CochleaParams) -> float:
    if not (isinstance(sample_rate, (int, float, np.integer, np.floating)) and np.isfinite(sample_rate)
            and sample_rate > 0):
        raise ValueError(f"sample_rate must be a finite number > 0 Hz, got {sample_rate!r}")
    nyquist = 0.5 * float(sample_rate)
    if params.f_max >= nyquist:
        raise ValueError(f"f_max = {params.f_max} Hz must be below the Nyquist frequency {nyquist} Hz "
                         f"of sample_rate = {sample_rate} Hz; lower f_max or resample (load_wav(target_rate=...))")
    if params.ihc_cutoff >= nyquist:
        raise ValueError(f"ihc_cutoff = {params.ihc_cutoff} Hz must be below the Nyquist frequency {nyquist} Hz")
    if params.dt * sample_rate < 1:
        raise ValueError(f"dt = {params.dt} s is shorter than one sample at {sample_rate} Hz")
    return float(sample_rate)


def _check_wave(wave) -> np.ndarray:
    x = np.asarray(wave)
    if x.ndim != 1:
        raise ValueError(f"wave must be a 1-D (mono) signal, got shape {x.shape}; mix channels down first")
    if x.dtype.kind not in "fiu" or x.size == 0:
        raise ValueError(f"wave must be a non-empty real numeric array, got dtype {x.dtype} and size {x.size}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("wave contains NaN or infinite samples")
    return x


# ----------------------------------------------------------------------------------------------------------------
# Gammatone filter bank
# ----------------------------------------------------------------------------------------------------------------

def gammatone_poles(centre_frequencies, sample_rate: float, order: int = 4,
                    bandwidth_factor: float = 1.019) -> tuple[np.ndarray, np.ndarray]:
    """Poles and gains of the all-pole digital gammatone channels.

    Parameters
    ----------
    centre_frequencies : (n_channels,) array_like
        Centre frequencies [Hz], each in (0, sample_rate / 2).
    sample_rate : float
        Sample rate [Hz].
    order : int
        Filter order n (number of cascaded complex one-pole sections).
    bandwidth_factor : float
        :math:`b / \\mathrm{ERB}(f_c)`.

    Returns
    -------
    poles : (n_channels,) ndarray of complex128
        :math:`p = a e^{i 2\\pi f_c / f_s}`, ``a`` chosen so the -3 dB bandwidth is
        :math:`2 b \\sqrt{2^{1/n}-1}`.
    gains : (n_channels,) ndarray of float64
        Real gain ``g`` such that the real part of ``g / (1 - p z^-1)^n`` has gain exactly 1 at f_c.
    """
    fc = np.atleast_1d(np.asarray(centre_frequencies, dtype=np.float64))
    fs = float(sample_rate)
    if np.any(~np.isfinite(fc)) or np.any(fc <= 0) or np.any(fc >= fs / 2):
        raise ValueError(f"centre frequencies must lie in (0, {fs / 2}) Hz, got range [{fc.min()}, {fc.max()}]")
    n = int(order)
    b = bandwidth_factor * erb(fc)
    half_3db = b * np.sqrt(2.0 ** (1.0 / n) - 1.0)                   # analog half -3 dB bandwidth [Hz]
    delta = 2.0 * np.pi * half_3db / fs                              # [rad/sample]
    if np.any(delta >= np.pi):
        raise ValueError("a channel's bandwidth exceeds the Nyquist frequency; raise sample_rate or lower f_max")
    # |1 - a e^{i delta}|^2 = 2^{1/n} (1 - a)^2  <=>  a^2 - 2 B a + 1 = 0, B = (k - cos delta)/(k - 1)
    k = 2.0 ** (1.0 / n)
    big_b = (k - np.cos(delta)) / (k - 1.0)
    a = big_b - np.sqrt(big_b * big_b - 1.0)
    omega = 2.0 * np.pi * fc / fs
    poles = a * np.exp(1j * omega)
    # Real-part response at f_c: 0.5 * [H(w) + conj(H(-w))], H(w) = 1 / (1 - p e^{-iw})^n.
    h_pos = 1.0 / (1.0 - poles * np.exp(-1j * omega)) ** n
    h_neg = 1.0 / (1.0 - poles * np.exp(1j * omega)) ** n
    gains = 1.0 / np.abs(0.5 * (h_pos + np.conj(h_neg)))
    return poles, gains


@numba.njit(cache=True)
def gammatone_kernel(x, poles, gains, order, out):
    """Run the all-pole gammatone cascade of every channel over ``x``; write the real outputs.

    Per channel ``c`` with ``order`` complex states ``z_k`` (initially 0), per sample ``s``::

        u = gains[c] * x[s]
        for k in range(order):  z_k = u + poles[c] * z_k;  u = z_k
        out[s, c] = Re(u)

    Parameters
    ----------
    x : (S,) float64
    poles : (C,) complex128
    gains : (C,) float64
    order : int
    out : (S, C) float64, written
    """
    n_samples = x.shape[0]
    n_channels = poles.shape[0]
    state = np.zeros(order, dtype=np.complex128)
    for c in range(n_channels):
        p = poles[c]
        g = gains[c]
        for k in range(order):
            state[k] = 0.0
        for s in range(n_samples):
            u = g * x[s] + 0.0j
            for k in range(order):
                u = u + p * state[k]
                state[k] = u
            out[s, c] = u.real


def gammatone_reference(x, poles, gains, order) -> np.ndarray:
    """Plain-numpy/scipy twin of :func:`gammatone_kernel`: ``order`` passes of :func:`scipy.signal.lfilter`
    with the one-pole filter ``1 / (1 - p z^-1)`` per channel.

    Returns
    -------
    (S, C) ndarray of float64
    """
    from scipy import signal

    x = np.asarray(x, dtype=np.float64)
    out = np.empty((x.size, len(poles)))
    for c, (p, g) in enumerate(zip(poles, gains, strict=True)):
        y = x.astype(np.complex128) * g
        for _ in range(int(order)):
            y = signal.lfilter([1.0], [1.0, -p], y)
        out[:, c] = y.real
    return out


def gammatone_filter_bank(wave, sample_rate: float, centre_frequencies, order: int = 4,
                          bandwidth_factor: float = 1.019) -> np.ndarray:
    """Filter ``wave`` through the all-pole gammatone bank (basilar-membrane motion).

    Parameters
    ----------
    wave : (n_samples,) array_like
        Mono signal.
    sample_rate : float
        Sample rate [Hz].
    centre_frequencies : (n_channels,) array_like
        Centre frequencies [Hz].
    order, bandwidth_factor
        See :func:`gammatone_poles`.

    Returns
    -------
    (n_samples, n_channels) ndarray of float64
        Real output of each channel (gain 1 at its centre frequency), computed by :func:`gammatone_kernel`.
    """
    x = _check_wave(wave)
    poles, gains = gammatone_poles(centre_frequencies, sample_rate, order, bandwidth_factor)
    out = np.empty((x.size, poles.size), dtype=np.float64)
    gammatone_kernel(x, poles, gains, int(order), out)
    return out


def hair_cell_drive(wave, sample_rate: float, params: CochleaParams = CochleaParams()) -> np.ndarray:
    """Inner-hair-cell drive at the audio rate: filter bank -> half-wave rectify -> low-pass -> compress.

    Returns
    -------
    (n_samples, n_channels) ndarray of float64
        Non-negative compressed drive; a monotone non-decreasing function of the sound's amplitude
        scale, sample by sample.
    """
    from scipy import signal

    fs = _check_rate(sample_rate, params)
    bm = gammatone_filter_bank(wave, fs, params.centre_frequencies(), params.order, params.bandwidth_factor)
    y = np.maximum(bm, 0.0)
    if params.ihc_cutoff > 0:
        sos = signal.butter(2, params.ihc_cutoff, btype="low", fs=fs, output="sos")
        y = np.maximum(signal.sosfilt(sos, y, axis=0), 0.0)
    if params.compression == "power":
        return y ** params.exponent
    return np.log1p(y / params.log_reference)


def _bin_samples(sample_rate: float, dt: float) -> int:
    return max(1, int(round(dt * sample_rate)))


def cochleagram(wave, sample_rate: float, params: CochleaParams = CochleaParams()) -> np.ndarray:
    """Compressed hair-cell drive averaged in bins of ``params.dt``.

    Returns
    -------
    (T, n_channels) ndarray of float64
        ``T = ceil(n_samples / bin)`` with ``bin = round(dt * sample_rate)`` samples; the last bin
        averages the samples it has.
    """
    drive = hair_cell_drive(wave, sample_rate, params)
    bin_n = _bin_samples(sample_rate, params.dt)
    n_bins = -(-drive.shape[0] // bin_n)
    padded = np.zeros((n_bins * bin_n, drive.shape[1]))
    padded[: drive.shape[0]] = drive
    counts = np.full(n_bins, bin_n, dtype=np.float64)
    counts[-1] = drive.shape[0] - (n_bins - 1) * bin_n
    return padded.reshape(n_bins, bin_n, -1).sum(axis=1) / counts[:, None]


# ----------------------------------------------------------------------------------------------------------------
# Hair-cell LIF units (numba kernel + numpy twin)
# ----------------------------------------------------------------------------------------------------------------

@numba.njit(cache=True)
def hair_cell_lif_kernel(drive, alpha, thresholds, refractory_samples, bin_samples, v, refractory_left, counts):
    """Run the hair-cell LIF units over ``drive``; add spike counts into ``counts``.

    Per sample ``s`` and unit ``(c, k)`` (channel ``c``, threshold ``thresholds[k]``)::

        if refractory_left > 0:  refractory_left -= 1          # clamped at v = 0
        else:
            v = alpha * v + (1 - alpha) * drive[s, c]
            if v >= thresholds[k]:  counts[s // bin_samples, c] += 1; v = 0; refractory_left = refractory_samples

    Parameters
    ----------
    drive : (S, C) float64
    alpha : float  -- exp(-1 / (tau_mem * sample_rate))
    thresholds : (K,) float64
    refractory_samples, bin_samples : int
    v, refractory_left : (C, K) float64 / int64 state, updated in place
    counts : (T, C) integer output, T >= ceil(S / bin_samples); caller guarantees no overflow
    """
    n_samples, n_channels = drive.shape
    n_units = thresholds.shape[0]
    for s in range(n_samples):
        t = s // bin_samples
        for c in range(n_channels):
            x = drive[s, c]
            for k in range(n_units):
                if refractory_left[c, k] > 0:
                    refractory_left[c, k] -= 1
                    continue
                vk = alpha * v[c, k] + (1.0 - alpha) * x
                if vk >= thresholds[k]:
                    counts[t, c] += 1
                    vk = 0.0
                    refractory_left[c, k] = refractory_samples
                v[c, k] = vk


def hair_cell_lif_reference(drive, alpha, thresholds, refractory_samples, bin_samples):
    """Plain-numpy twin of :func:`hair_cell_lif_kernel` (vectorised over units), for tests.

    Returns
    -------
    (T, C) ndarray of int64
        Spike counts per bin, ``T = ceil(S / bin_samples)``.
    """
    drive = np.asarray(drive, dtype=np.float64)
    n_samples, n_channels = drive.shape
    thr = np.asarray(thresholds, dtype=np.float64)[None, :]
    v = np.zeros((n_channels, thr.size))
    ref = np.zeros((n_channels, thr.size), dtype=np.int64)
    counts = np.zeros((-(-n_samples // bin_samples), n_channels), dtype=np.int64)
    for s in range(n_samples):
        active = ref == 0
        ref = np.where(active, ref, ref - 1)
        v_new = alpha * v + (1.0 - alpha) * drive[s][:, None]
        fire = active & (v_new >= thr)
        counts[s // bin_samples] += fire.sum(axis=1)
        v = np.where(active, np.where(fire, 0.0, v_new), v)
        ref = np.where(fire, refractory_samples, ref)
    return counts


def hair_cell_spikes(drive, sample_rate: float, params: CochleaParams = CochleaParams()) -> np.ndarray:
    """Spike counts of the hair-cell LIF units driven by ``drive`` (from :func:`hair_cell_drive`).

    Each channel has ``n_hair_cells`` units with thresholds :meth:`CochleaParams.thresholds`,
    membrane time constant ``tau_mem``, reset to 0 and refractory period ``refractory``; their
    counts are summed per channel and per bin of ``dt``.

    Returns
    -------
    (T, n_channels) ndarray of uint8
        Spike counts per bin; ``T = ceil(n_samples / round(dt * sample_rate))``.
    """
    fs = float(sample_rate)
    d = np.ascontiguousarray(drive, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] != params.n_channels:
        raise ValueError(f"drive must have shape (n_samples, {params.n_channels}), got {d.shape}")
    bin_n = _bin_samples(fs, params.dt)
    ref_n = int(round(params.refractory * fs))
    max_count = params.n_hair_cells * (-(-bin_n // (ref_n + 1)))
    if max_count > 255:
        raise ValueError(f"up to {max_count} spikes per bin would overflow uint8: raise refractory "
                         f"(= {params.refractory} s) or lower dt (= {params.dt} s) or n_hair_cells")
    alpha = math.exp(-1.0 / (params.tau_mem * fs))
    n_bins = -(-d.shape[0] // bin_n)
    counts = np.zeros((n_bins, params.n_channels), dtype=np.int32)
    v = np.zeros((params.n_channels, params.n_hair_cells))
    ref = np.zeros((params.n_channels, params.n_hair_cells), dtype=np.int64)
    hair_cell_lif_kernel(d, alpha, params.thresholds(), ref_n, bin_n, v, ref, counts)
    return counts.astype(np.uint8)


def cochlea_encode(wave, sample_rate: float, params: CochleaParams = CochleaParams()) -> np.ndarray:
    """Encode a sound into spike counts with the full cochlear front end.

    Parameters
    ----------
    wave : (n_samples,) array_like
        Mono sound, full scale +-1.
    sample_rate : float
        Sample rate [Hz]; ``params.f_max`` must be below its Nyquist frequency.
    params : CochleaParams
        Front-end parameters; ``params.spike_model`` selects hair cells or delta coding.

    Returns
    -------
    (T, params.n_outputs) ndarray of uint8
        Spike counts per bin of ``params.dt``; ``T = ceil(n_samples / round(dt * sample_rate))``.

    Examples
    --------
    >>> fs = 16000
    >>> t = np.arange(fs // 2) / fs
    >>> spikes = cochlea_encode(0.3 * np.sin(2 * np.pi * 1000 * t), fs)
    >>> spikes.shape, spikes.dtype
    ((50, 32), dtype('uint8'))
    """
    _check_rate(sample_rate, params)
    if params.spike_model == "hair_cell":
        return hair_cell_spikes(hair_cell_drive(wave, sample_rate, params), sample_rate, params)
    return delta(cochleagram(wave, sample_rate, params), params.delta_threshold)
