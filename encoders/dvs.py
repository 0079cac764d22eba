"""Dynamic-vision-sensor (event camera) emulator and N-MNIST-style saccades.

Pixel model (after v2e, Hu, Liu & Delbruck 2021, and ESIM, Rebecq, Gehrig & Scaramuzza 2018)
--------------------------------------------------------------------------------------------
Each pixel ``k`` sees the log intensity :math:`L_k(t) = \\ln(I_k(t) + \\epsilon)` and remembers a
reference level :math:`R_k`, set to :math:`L_k(t_0)` at the first frame.  Between two frames the
log intensity is interpolated linearly in time (ESIM's assumption).  Whenever

.. math::  L_k(t) - R_k \\ge \\theta^{ON}_k \\quad\\text{or}\\quad R_k - L_k(t) \\ge \\theta^{OFF}_k,

the pixel emits an ON (OFF) event at the exact crossing time and moves its reference by
:math:`\\pm\\theta` to the crossed level.  A change of :math:`\\Delta L` therefore produces
:math:`\\lfloor \\Delta L / \\theta \\rfloor` events spread over the frame interval, each at the time
the interpolated signal crosses the next level, and the remainder is carried to the next interval.

Non-idealities (each off by default or settable to an exact ideal):

* **threshold mismatch**: per-pixel thresholds :math:`\\theta_k = \\theta + \\sigma\\,n_k`, with
  :math:`n_k \\sim N(0, 1)`; ``threshold_mismatch_sigma`` σ is *absolute*, in log units (v2e's
  ``sigma_thres``, 0.03 for 0.2 thresholds), and thresholds are clipped to at least
  ``threshold_min`` (v2e: 0.01);
* **refractory period**: a crossing less than ``refractory`` seconds after the pixel's last emitted
  event is not emitted; the reference still moves to the crossed level (as if the event had been made
  and then lost), so the pixel keeps tracking the signal;
* **leak events**: the reference drifts down by :math:`r_{leak}\\,\\theta^{ON}_k` per second, which
  makes a static pixel emit ON events at about ``leak_rate`` [Hz] (v2e's leak model; the drift is
  linear, so crossing times stay exact), with per-pixel phases drawn uniformly;
* **shot noise**: additional events at ``shot_noise_rate`` [Hz] per pixel, a Poisson process with
  uniformly random polarity, independent of the signal (v2e's shot noise, without its intensity
  dependence); they do not move the reference and ignore the refractory period.

Timestamps are rounded to integer microseconds (:data:`memr_snn.encoders.events.EVENT_DTYPE`).

The per-pixel loop is the numba kernel :func:`dvs_kernel`; its plain-Python twin is
``encoders/_events_reference.py::dvs_reference``.

Saccades
--------
:func:`saccades` turns a still image into an event stream the way N-MNIST was recorded (Orchard,
Jayawant, Cohen & Thakor 2015): the sensor makes three micro-saccades of 100 ms each along the sides
of a triangle, here emulated by translating the image (bilinear, sub-pixel) and running
:func:`emulate_dvs` on the rendered frames.

References
----------
Y. Hu, S.-C. Liu, T. Delbruck, "v2e: From video frames to realistic DVS events", CVPRW 2021.
H. Rebecq, D. Gehrig, D. Scaramuzza, "ESIM: an open event camera simulator", CoRL 2018.
G. Orchard, A. Jayawant, G. K. Cohen, N. Thakor, "Converting static image datasets to spiking
neuromorphic datasets using saccades", Frontiers in Neuroscience 9:437, 2015.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numba import njit

from .events import EVENT_DTYPE, EventStream, _check_sensor_size

__all__ = [
    "DVSParams",
    "emulate_dvs",
    "dvs_kernel",
    "saccade_path",
    "translate_image",
    "saccades",
]


@dataclasses.dataclass(frozen=True, slots=True)
class DVSParams:
    """Pixel parameters of the emulator (module docstring gives the model).

    The default is the ideal pixel: 0.2 log-unit thresholds, no mismatch, no refractory period, no noise.
    """

    threshold_on: float = 0.2
    """Nominal ON threshold: increase of ln intensity that makes one ON event [1] (> 0)."""
    threshold_off: float = 0.2
    """Nominal OFF threshold: decrease of ln intensity that makes one OFF event [1] (> 0)."""
    threshold_mismatch_sigma: float = 0.0
    """Pixel-to-pixel standard deviation of both thresholds, absolute, in ln units [1] (>= 0)."""
    threshold_min: float = 0.01
    """Lower clip of the mismatched thresholds [1] (> 0, <= both nominal thresholds)."""
    refractory: float = 0.0
    """Dead time after an emitted event during which crossings are not emitted [s] (>= 0)."""
    leak_rate: float = 0.0
    """Rate of leak (ON) events of a static pixel [Hz] (>= 0)."""
    shot_noise_rate: float = 0.0
    """Rate of shot-noise events per pixel, either polarity [Hz] (>= 0)."""
    log_eps: float = 1e-3
    """Offset inside the logarithm, ``ln(I + log_eps)``, in the units of the intensity frames (> 0)."""

    def __post_init__(self):
        for name in ("threshold_on", "threshold_off", "threshold_min", "log_eps"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"DVSParams.{name} must be a finite number > 0, got {v!r}")
        for name in ("threshold_mismatch_sigma", "refractory", "leak_rate", "shot_noise_rate"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"DVSParams.{name} must be a finite number >= 0, got {v!r}")
        if self.threshold_min > min(self.threshold_on, self.threshold_off):
            raise ValueError(
                f"DVSParams.threshold_min={self.threshold_min!r} must be <= threshold_on and threshold_off "
                f"({self.threshold_on!r}, {self.threshold_off!r})"
            )


@njit(cache=True)
def dvs_kernel(log_frames, times_us, ref, last_us, theta_on, theta_off, drift, refractory_us,
               out_t, out_pix, out_p, write):  # pragma: no cover - jitted; twin tested
    """Emit threshold-crossing events pixel by pixel over all frame intervals.

    Parameters
    ----------
    log_frames : (n_frames, n_pixels) float64
        ln intensity at each frame.
    times_us : (n_frames,) float64
        Frame times [µs], strictly increasing.
    ref : (n_pixels,) float64
        Reference levels; updated in place.
    last_us : (n_pixels,) float64
        Time of the last emitted event per pixel [µs] (``-inf`` if none); updated in place.
    theta_on, theta_off : (n_pixels,) float64
        Per-pixel thresholds [ln units].
    drift : (n_pixels,) float64
        Downward drift of the reference (leak) [ln units / µs].
    refractory_us : float
        Dead time [µs].
    out_t, out_pix, out_p : arrays
        Event times [µs, float64], flat pixel indices and polarities (1 ON / 0 OFF); written only if
        ``write``; must have room for all events (call once with ``write=False`` to count them).
    write : bool
        Write events (True) or only count them (False).

    Returns
    -------
    int
        Number of events (emitted, after the refractory period).
    """
    n_frames, n_pix = log_frames.shape
    n = 0
    for k in range(n_pix):
        r = ref[k]
        last = last_us[k]
        for f in range(n_frames - 1):
            t0 = times_us[f]
            t1 = times_us[f + 1]
            dt = t1 - t0
            # signal relative to a reference that drifts down: linear within the interval
            d0 = log_frames[f, k] - r
            d1 = log_frames[f + 1, k] - r + drift[k] * dt
            while True:
                if d1 - d0 > 0.0 and d1 >= theta_on[k]:
                    level = theta_on[k]
                    pol = 1
                elif d1 - d0 < 0.0 and d1 <= -theta_off[k]:
                    level = -theta_off[k]
                    pol = 0
                else:
                    break
                frac = (level - d0) / (d1 - d0)
                if frac < 0.0:
                    frac = 0.0
                tc = t0 + frac * dt
                # move the reference to the crossed level; express the rest of the interval relative to it
                r += level - drift[k] * (tc - t0)
                d0 = 0.0
                d1 = d1 - level
                t0 = tc
                dt = t1 - tc
                if tc - last >= refractory_us:
                    if write:
                        out_t[n] = tc
                        out_pix[n] = k
                        out_p[n] = pol
                    n += 1
                    last = tc
            r -= drift[k] * dt
        ref[k] = r
        last_us[k] = last
    return n


def _resolve_rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def emulate_dvs(frames, times, params: DVSParams | None = None, *, rng: np.random.Generator | int | None = None,
                **overrides) -> EventStream:
    """Turn intensity frames (video) into ON/OFF events (module docstring).

    Parameters
    ----------
    frames : (n_frames, height, width) array_like
        Linear intensity, finite and >= 0, in any unit (``log_eps`` is in the same unit).
    times : (n_frames,) array_like
        Frame times [s], strictly increasing, >= 0.
    params : DVSParams, optional
        Pixel parameters (default: the ideal pixel).  Keyword ``overrides`` (e.g. ``threshold_on=0.3``,
        ``refractory=1e-3``) replace single fields.
    rng : numpy.random.Generator or int or None
        Seed for the threshold mismatch, leak phases and shot noise (unused by the ideal pixel).

    Returns
    -------
    EventStream
        Events sorted by time (ties keep pixel order: row-major), sensor size ``(width, height)``.

    Raises
    ------
    ValueError
        Bad shapes, non-finite or negative intensities, non-increasing times, bad parameters.
    """
    p = dataclasses.replace(params or DVSParams(), **overrides)
    frames = np.asarray(frames, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if frames.ndim != 3 or frames.shape[0] < 1 or frames.shape[1] < 1 or frames.shape[2] < 1:
        raise ValueError(f"frames must have shape (n_frames, height, width) with n_frames >= 1, got {frames.shape}")
    if times.shape != (frames.shape[0],):
        raise ValueError(f"times must have shape ({frames.shape[0]},) (one per frame), got {times.shape}")
    if not np.all(np.isfinite(frames)) or np.any(frames < 0):
        raise ValueError("frames must hold finite intensities >= 0")
    if not np.all(np.isfinite(times)) or np.any(times < 0) or np.any(np.diff(times) <= 0):
        raise ValueError("times must be finite, >= 0 s and strictly increasing")
    n_frames, h, w = frames.shape
    _check_sensor_size((w, h))
    gen = _resolve_rng(rng)
    n_pix = h * w
    theta_on = np.full(n_pix, p.threshold_on)
    theta_off = np.full(n_pix, p.threshold_off)
    if p.threshold_mismatch_sigma > 0:
        theta_on = np.maximum(theta_on + p.threshold_mismatch_sigma * gen.standard_normal(n_pix), p.threshold_min)
        theta_off = np.maximum(theta_off + p.threshold_mismatch_sigma * gen.standard_normal(n_pix), p.threshold_min)
    logf = np.log(frames.reshape(n_frames, n_pix) + p.log_eps)
    ref = logf[0].copy()
    drift = np.zeros(n_pix)
    if p.leak_rate > 0:
        drift = p.leak_rate * theta_on * 1e-6  # ln units per µs
        # random leak phase: a pixel starts with 0 <= ref - L < min(theta_on, theta_off), so it makes no
        # event at t0 and its first leak event comes at a random time
        ref = ref + gen.uniform(0.0, 1.0, n_pix) * np.minimum(theta_on, theta_off)
    times_us = times * 1e6
    last = np.full(n_pix, -np.inf)
    r_us = p.refractory * 1e6
    n = dvs_kernel(logf, times_us, ref.copy(), last.copy(), theta_on, theta_off, drift, r_us,
                   np.empty(0), np.empty(0, np.int64), np.empty(0, np.int8), False)
    out_t = np.empty(n)
    out_pix = np.empty(n, np.int64)
    out_p = np.empty(n, np.int8)
    dvs_kernel(logf, times_us, ref, last, theta_on, theta_off, drift, r_us, out_t, out_pix, out_p, True)
    if p.shot_noise_rate > 0 and n_frames > 1:
        span = times_us[-1] - times_us[0]
        counts = gen.poisson(p.shot_noise_rate * span * 1e-6, n_pix)
        m = int(counts.sum())
        out_t = np.concatenate([out_t, times_us[0] + gen.uniform(0.0, span, m)])
        out_pix = np.concatenate([out_pix, np.repeat(np.arange(n_pix), counts)])
        out_p = np.concatenate([out_p, gen.integers(0, 2, m).astype(np.int8)])
    t_int = np.rint(out_t).astype(np.int64)
    order = np.lexsort((out_pix, t_int))
    ev = np.empty(order.size, dtype=EVENT_DTYPE)
    ev["t"] = t_int[order]
    ev["x"] = out_pix[order] % w
    ev["y"] = out_pix[order] // w
    ev["p"] = out_p[order]
    return EventStream(ev, (w, h))


def saccade_path(t, amplitude: float = 2.0, saccade_duration: float = 0.1) -> np.ndarray:
    """Image displacement ``(dx, dy)`` [pixels] at times ``t`` [s] along N-MNIST's triangle of three saccades.

    The sensor moves along the sides of a triangle with vertices ``(0, 0)``, ``(A/2, A)``, ``(A, 0)``
    (``A = amplitude``), one side per saccade of ``saccade_duration`` seconds at constant speed, and is
    back at the start after three saccades (Orchard et al. 2015, Fig. 2).  ``y`` grows downwards.
    Times outside ``[0, 3 * saccade_duration]`` are clamped.

    Returns
    -------
    (len(t), 2) ndarray of float64
    """
    if not (math.isfinite(amplitude) and amplitude >= 0):
        raise ValueError(f"amplitude must be a finite number of pixels >= 0, got {amplitude!r}")
    if not (math.isfinite(saccade_duration) and saccade_duration > 0):
        raise ValueError(f"saccade_duration must be > 0 s, got {saccade_duration!r}")
    a = float(amplitude)
    verts = np.array([[0.0, 0.0], [a / 2, a], [a, 0.0], [0.0, 0.0]])
    s = np.clip(np.asarray(t, dtype=np.float64) / saccade_duration, 0.0, 3.0)
    leg = np.minimum(np.floor(s).astype(np.int64), 2)
    frac = (s - leg)[:, None]
    return verts[leg] * (1 - frac) + verts[leg + 1] * frac


def translate_image(image: np.ndarray, dx, dy, background: float = 0.0) -> np.ndarray:
    """Shift an image by ``(dx, dy)`` pixels with bilinear interpolation; uncovered pixels get ``background``.

    ``dx`` and ``dy`` may be equal-length 1-D arrays: the result is then a stack ``(len(dx), height, width)``
    of shifted copies (two batched matrix products instead of a loop over frames).
    """
    img = np.asarray(image, dtype=np.float64)
    h, w = img.shape
    dxa = np.atleast_1d(np.asarray(dx, dtype=np.float64))[:, None, None]
    dya = np.atleast_1d(np.asarray(dy, dtype=np.float64))[:, None, None]
    padded = np.full((h + 2, w + 2), float(background))
    padded[1:-1, 1:-1] = img
    # output (r, c) samples the input at (r - dy, c - dx) (+1 for the padding).  Bilinear interpolation is
    # separable: out = A_y @ padded @ A_x^T with per-frame two-tap interpolation matrices.
    out = _interp_matrix(np.arange(h)[None, :] - dya[:, :, 0] + 1, h + 2) @ padded
    out = out @ _interp_matrix(np.arange(w)[None, :] - dxa[:, :, 0] + 1, w + 2).transpose(0, 2, 1)
    return out if np.ndim(dx) else out[0]


def _interp_matrix(pos: np.ndarray, n: int) -> np.ndarray:
    """``(F, m, n)`` linear-interpolation weights sampling positions ``pos`` (F, m) of a length-``n`` axis
    (clamped to ``[0, n - 1]``)."""
    pos = np.clip(pos, 0, n - 1)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n - 2)
    f = pos - i0
    a = np.zeros(pos.shape + (n,))
    np.put_along_axis(a, i0[..., None], (1 - f)[..., None], axis=-1)
    np.put_along_axis(a, i0[..., None] + 1, f[..., None], axis=-1)
    return a


def saccades(image, sensor_size: tuple[int, int] | None = None, *, amplitude: float = 2.0,
             saccade_duration: float = 0.1, frame_rate: float = 1000.0, params: DVSParams | None = None,
             background: float = 0.0, rng: np.random.Generator | int | None = None, **overrides) -> EventStream:
    """Record a still image with three emulated micro-saccades (N-MNIST style).

    Parameters
    ----------
    image : (height, width) array_like
        Linear intensity >= 0 (e.g. grey levels scaled to [0, 1]).
    sensor_size : (int, int), optional
        ``(width, height)`` of the emulated sensor; the image is centred on it (default: the image size
        plus ``ceil(amplitude)`` pixels on each side, like N-MNIST's 34x34 sensor for 28x28 digits).
    amplitude : float
        Size of the triangle [pixels] (:func:`saccade_path`).
    saccade_duration : float
        Duration of one saccade [s] (N-MNIST: 0.1).
    frame_rate : float
        Rendered frames per second [Hz]; the emulator interpolates between them.
    params, rng, overrides
        Passed to :func:`emulate_dvs`.
    background : float
        Intensity of the area around the image.

    Returns
    -------
    EventStream
        Events over ``3 * saccade_duration`` seconds.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2 or img.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array (height, width), got shape {img.shape}")
    if not (math.isfinite(frame_rate) and frame_rate > 0):
        raise ValueError(f"frame_rate must be > 0 Hz, got {frame_rate!r}")
    h, w = img.shape
    if sensor_size is None:
        m = int(math.ceil(amplitude))
        sensor_size = (w + 2 * m, h + 2 * m)
    sw, sh = _check_sensor_size(sensor_size)
    if sw < w or sh < h:
        raise ValueError(f"sensor_size {sensor_size!r} is smaller than the image ({w}, {h})")
    canvas = np.full((sh, sw), float(background))
    oy, ox = (sh - h) // 2, (sw - w) // 2
    canvas[oy:oy + h, ox:ox + w] = img
    n_frames = int(round(3 * saccade_duration * frame_rate)) + 1
    times = np.linspace(0.0, 3 * saccade_duration, n_frames)
    # centre the triangle's motion on the sensor
    path = saccade_path(times, amplitude, saccade_duration) - np.array([amplitude / 2, amplitude / 2])
    frames = translate_image(canvas, path[:, 0], path[:, 1], background)
    return emulate_dvs(frames, times, params, rng=rng, **overrides)
