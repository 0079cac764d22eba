r"""Model-based offset estimate for the DVS tracking task: fit the known spot template to the log-intensity
image that the events imply (``docs/pipeline.md``, "Model-based estimates").

The estimator knows the sensor model of :mod:`.envs` -- the spot's rendering
:math:`L_i(d) = \ln(b + c\,e^{-|x_i - d|^2/2\sigma^2} + \epsilon)` at pixel :math:`x_i` (sensor coordinates
from the centre) for the offset :math:`d`, and the *nominal* contrast threshold :math:`\theta` -- but not the
pixels' mismatched thresholds nor which events are noise.  It keeps a reference image :math:`R` (one log
level per pixel), its copy of the pixels' own reference levels:

* at reset, :math:`R = L(0)` (the task starts with the target centred, and the pixels' references start at
  the first frame);
* each step, :math:`R \mathrel{+}= \theta^{on}\,\mathrm{ON} - \theta^{off}\,\mathrm{OFF}` with the step's
  event counts (the nominal threshold, or per-pixel ones learnt online with ``calibration``);
* the offset :math:`\hat d` is fitted (``mode``):

  ``"gauss_newton"``
      ``iterations`` Gauss-Newton steps from the previous estimate (or a prediction), the Jacobian
      :math:`J(d)` recomputed at each, minimising :math:`\sum_i \rho(r_i(d)) + \lambda |d - d_0|^2`;
  ``"chord"``
      the same iteration on the levels with the Jacobian fixed at :math:`d = 0`:
      :math:`d \leftarrow d + M\,(R - L(d))`, :math:`M = (J_0^\top J_0)^{-1} J_0^\top` a constant
      ``2 x n_pixels`` matrix (what an analog tile can hold; its input :math:`R - L(d)` stays small);
  ``"linear"``
      one product with the same matrix around :math:`d = 0`: :math:`\hat d = M\,(R - L(0))`;

* with ``clip``, :math:`R` is then kept consistent with the fitted model: every :math:`R_i` is clipped into
  the band its pixel's events allow around :math:`L_i(\hat d)` -- a pixel without an event says its log
  intensity is within a threshold of its reference, so an :math:`R_i` outside that band is drift (threshold
  mismatch accumulated over many events, shot-noise events), and the clip bounds it.

The residual :math:`r_i`:

* levels (``interval=False``): :math:`r_i = R_i - L_i(d)`, least squares, or Huber's loss with
  ``robust_scale`` :math:`c` (:math:`\rho(r) = r^2/2` for :math:`|r| \le c`, :math:`c|r| - c^2/2` beyond);
* intervals (``interval=True``): the events only bound the log intensity -- :math:`L_i \in [R_i, R_i +
  \theta]` after a step with net ON events (the pixel just crossed the level :math:`R_i`),
  :math:`[R_i - \theta, R_i]` after net OFF events, :math:`(R_i - \theta, R_i + \theta)` without events --
  so :math:`r_i` is the distance of :math:`L_i(d)` to its interval (zero inside), and the Gauss-Newton
  matrix sums the pixels outside their interval only.  Among the offsets that satisfy every pixel the prior
  :math:`\lambda |d - d_0|^2` picks the one closest to :math:`d_0`; with ``posterior``, the estimate is
  instead the posterior mean on a grid around the fit: likelihood :math:`\exp(-\sum_i \min(r_i^2/2s^2,
  c_o))` (soft edges :math:`s`, a noise event costs at most :math:`c_o`), Gaussian prior of width
  ``prior_sigma`` around :math:`d_0`.

A pixel without events keeps :math:`R_i`, so a step without events leaves the level fit where it was: the
absence of events is the information that the spot did not move on the sensor.  :class:`OffsetPredictor`
gives :math:`d_0` from the eye's known motor and an alpha-beta filter on the target's world position.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["SpotTemplate", "TemplateFitParams", "TemplateFitEstimator", "OffsetPredictor", "MODES"]

#: the fit modes of :class:`TemplateFitEstimator` (module docstring)
MODES = ("gauss_newton", "chord", "linear")


def _positive(owner: str, name: str, v) -> None:
    if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
        raise ValueError(f"{owner}.{name} = {v!r} must be a finite number > 0")


def _flag(owner: str, name: str, v) -> None:
    if not isinstance(v, (bool, np.bool_)):
        raise ValueError(f"{owner}.{name} = {v!r} must be a bool")


@dataclasses.dataclass(frozen=True)
class SpotTemplate:
    """The sensor model the estimator knows: the spot's rendering and the nominal DVS threshold.

    Positions in pixels from the sensor's centre; intensities in the scene's units (only their ratios
    matter after the logarithm)."""

    width: int = 32
    """Sensor width [pixels] (4 .. 512)."""
    height: int = 32
    """Sensor height [pixels] (4 .. 512)."""
    sigma: float = 2.0
    """Width of the spot [pixels] (> 0)."""
    contrast: float = 1.0
    """Peak intensity of the spot above the background (> 0)."""
    background: float = 0.1
    """Background intensity (> 0)."""
    log_eps: float = 1e-3
    """Offset added before the logarithm (> 0; :mod:`.envs` renders with 1e-3)."""
    threshold: float = 0.2
    """Nominal DVS contrast threshold, ON and OFF [ln units] (> 0)."""

    def __post_init__(self):
        for k in ("width", "height"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 4 <= v <= 512:
                raise ValueError(f"SpotTemplate.{k} = {v!r} must be an integer in [4, 512]")
        for k in ("sigma", "contrast", "background", "log_eps", "threshold"):
            _positive("SpotTemplate", k, getattr(self, k))

    @classmethod
    def from_tracking(cls, params) -> SpotTemplate:
        """The template of a :class:`~memr_snn.pipeline.envs.TrackingParams` task (its nominal threshold)."""
        return cls(width=params.width, height=params.height, sigma=params.sigma, contrast=params.contrast,
                   background=params.background, threshold=params.threshold)

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates from the sensor's centre, flat row-major ``(x, y)``, each ``(height * width,)``."""
        ys, xs = np.mgrid[0:self.height, 0:self.width]
        return ((xs - (self.width - 1) / 2.0).ravel().astype(np.float64),
                (ys - (self.height - 1) / 2.0).ravel().astype(np.float64))

    def render(self, d, xs: np.ndarray | None = None, ys: np.ndarray | None = None) -> np.ndarray:
        r"""Log intensity :math:`L(d)` of every pixel, flat ``(height * width,)``, for the offset ``d`` ``(2,)``."""
        return self.render_jacobian(d, xs, ys)[0]

    def render_jacobian(self, d, xs: np.ndarray | None = None,
                        ys: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`L(d)` and its Jacobian :math:`\partial L_i/\partial d` ``(n_pixels, 2)``:
        :math:`c\,g_i\,(x_i - d)/\sigma^2 / (b + c\,g_i + \epsilon)`, :math:`g_i = e^{-|x_i - d|^2/2\sigma^2}`."""
        if xs is None or ys is None:
            xs, ys = self.coordinates()
        d = np.asarray(d, dtype=np.float64).reshape(2)
        dx, dy = xs - d[0], ys - d[1]
        cg = self.contrast * np.exp(-(dx * dx + dy * dy) / (2.0 * self.sigma**2))
        den = self.background + cg + self.log_eps
        k = cg / (den * self.sigma**2)
        return np.log(den), np.stack([k * dx, k * dy], axis=1)

    def chord_matrix(self) -> np.ndarray:
        r""":math:`M = (J_0^\top J_0)^{-1} J_0^\top`, ``(2, n_pixels)``: the least-squares offset of a small
        log-intensity change :math:`\Delta L` around :math:`d = 0` is :math:`M\,\Delta L`."""
        _, j0 = self.render_jacobian(np.zeros(2))
        return np.linalg.solve(j0.T @ j0, j0.T)


@dataclasses.dataclass(frozen=True)
class TemplateFitParams:
    """Settings of :class:`TemplateFitEstimator` (module docstring)."""

    mode: str = "gauss_newton"
    """How the template is fitted: one of :data:`MODES`."""
    iterations: int = 3
    """Fit iterations per step (1 .. 100; ``"linear"`` uses none)."""
    clip: bool = True
    """Clip the reference image into the band the events allow around the fitted model after each step."""
    robust_scale: float | None = None
    """Huber scale of the level residuals [ln units] (> 0), or None for least squares."""
    interval: bool = False
    """Fit intervals instead of levels (``"gauss_newton"`` only; module docstring)."""
    prior: float = 0.0
    r"""Weight :math:`\lambda` of :math:`\lambda\,|d - d_0|^2` in the Gauss-Newton fit [ln units^2 / pixel^2]
    (>= 0), :math:`d_0` the prediction (default: the previous estimate)."""
    calibration: float | None = None
    r"""Learn each pixel's ON and OFF thresholds online (None: the nominal one for all), with this ridge
    weight :math:`\lambda_c` [counts^2] (> 0) towards the nominal threshold: after each fit, every pixel with
    events in the step adds the sample :math:`L_i(\hat d) - L_i(0) \approx \theta^{on}_i N^{on}_i -
    \theta^{off}_i N^{off}_i` (its cumulative counts; its reference sits at the level it just crossed) to a
    least-squares fit of its two thresholds (clipped to 0.5 .. 2 x nominal), and the reference image is
    recomputed with the new ones."""
    posterior: float | None = None
    """With ``interval``: report the posterior mean on a grid around the fit (module docstring) with this edge
    softness :math:`s` [ln units] (> 0); None: the fit itself."""
    prior_sigma: float = 0.2
    """Width of the ``posterior``'s Gaussian prior around the prediction [pixels] (> 0)."""
    outlier_cap: float = 4.0
    """Largest negative log likelihood of one pixel in the ``posterior`` (> 0)."""
    grid_radius: float = 0.6
    """Half width of the ``posterior`` grid around the fit [pixels] (> 0)."""
    grid_step: float = 0.05
    """Spacing of the ``posterior`` grid [pixels] (> 0, <= ``grid_radius``)."""
    max_step: float = 2.0
    """Largest change of the estimate per iteration [pixels] (> 0): Gauss-Newton far from the optimum can
    overshoot."""

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"TemplateFitParams.mode = {self.mode!r} must be one of {MODES}")
        v = self.iterations
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= 100:
            raise ValueError(f"TemplateFitParams.iterations = {v!r} must be an integer in [1, 100]")
        _flag("TemplateFitParams", "clip", self.clip)
        _flag("TemplateFitParams", "interval", self.interval)
        if self.interval and self.mode != "gauss_newton":
            raise ValueError(f"TemplateFitParams.interval = True needs mode 'gauss_newton', got {self.mode!r}")
        for k in ("robust_scale", "calibration", "posterior"):
            if getattr(self, k) is not None:
                _positive("TemplateFitParams", k, getattr(self, k))
        if self.posterior is not None and not self.interval:
            raise ValueError("TemplateFitParams.posterior needs interval = True")
        v = self.prior
        if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"TemplateFitParams.prior = {v!r} must be a finite number >= 0")
        for k in ("prior_sigma", "outlier_cap", "grid_radius", "grid_step", "max_step"):
            _positive("TemplateFitParams", k, getattr(self, k))
        if self.grid_step > self.grid_radius:
            raise ValueError(f"TemplateFitParams.grid_step = {self.grid_step!r} must be <= grid_radius "
                             f"({self.grid_radius!r})")


class TemplateFitEstimator:
    """The model-based offset estimate (module docstring).

    Parameters
    ----------
    template : SpotTemplate
        The sensor model.
    params : TemplateFitParams, optional
    **overrides
        Fields of :class:`TemplateFitParams` to replace.

    Examples
    --------
    >>> est = TemplateFitEstimator(SpotTemplate())
    >>> n = 32 * 32
    >>> est.update(np.zeros(n), np.zeros(n))  # no events: the estimate holds
    array([0., 0.])
    """

    def __init__(self, template: SpotTemplate, params: TemplateFitParams | None = None, **overrides) -> None:
        if not isinstance(template, SpotTemplate):
            raise TypeError(f"template must be a SpotTemplate, got {type(template).__name__}")
        self.template = template
        self.params = dataclasses.replace(params or TemplateFitParams(), **overrides)
        self.n_pixels = template.width * template.height
        self._xs, self._ys = template.coordinates()
        self._l0 = template.render(np.zeros(2), self._xs, self._ys)
        self.matrix = template.chord_matrix()
        """The chord matrix :math:`M` ``(2, n_pixels)`` (:meth:`SpotTemplate.chord_matrix`)."""
        self.reset()

    def reset(self) -> None:
        r"""Start an episode: the target centred, :math:`R = L(0)`, :math:`\hat d = 0`, nominal thresholds."""
        self.reference = self._l0.copy()
        self.theta = np.full((2, self.n_pixels), self.template.threshold)
        """Thresholds in use per pixel, ON then OFF ``(2, n_pixels)`` (learnt with ``calibration``)."""
        self.counts = np.zeros((2, self.n_pixels))
        """Events so far per pixel, ON then OFF."""
        self.step_sign = np.zeros(self.n_pixels)
        """Sign of each pixel's net events in the last step."""
        self._stats = np.zeros((5, self.n_pixels))  # calibration sums: n1^2, n1 n0, n0^2, n1 y, n0 y
        self.estimate = np.zeros(2)

    def residual(self, d=None) -> np.ndarray:
        """:math:`R - L(d)` (default: at the current estimate), flat ``(n_pixels,)``: the input of the
        chord step."""
        d = self.estimate if d is None else d
        return self.reference - self.template.render(d, self._xs, self._ys)

    def integrate(self, on, off) -> None:
        r""":math:`R \mathrel{+}= \theta^{on}\,\mathrm{ON} - \theta^{off}\,\mathrm{OFF}` for one step's counts
        (flat or 2-D, finite, >= 0)."""
        on = np.asarray(on, dtype=np.float64).ravel()
        off = np.asarray(off, dtype=np.float64).ravel()
        if on.shape != (self.n_pixels,) or off.shape != (self.n_pixels,):
            raise ValueError(f"event counts must have {self.n_pixels} pixels, got {on.size} and {off.size}")
        if not (np.all(np.isfinite(on)) and np.all(np.isfinite(off))) or (on < 0).any() or (off < 0).any():
            raise ValueError("event counts must be finite and >= 0")
        self.reference = self.reference + self.theta[0] * on - self.theta[1] * off
        self.counts += np.stack([on, off])
        self.step_sign = np.sign(on - off)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The interval ``(lo, hi)`` each pixel's log intensity lies in after the last step (module docstring)."""
        th = self.template.threshold
        return self.reference - th * (self.step_sign <= 0), self.reference + th * (self.step_sign >= 0)

    def fit(self, d0=None, *, chord_step=None, start=None) -> np.ndarray:
        """Fit the template from ``d0`` (default: the current estimate), which the ``prior`` also pulls towards;
        returns the offset (the state is not changed).  ``chord_step``, if given, replaces the product
        :math:`M\\,(R - L(d))` of the chord and linear modes (a function of the residual, e.g. an analog tile).
        ``start`` ``(2,)``, if given, is where the iteration starts instead of ``d0`` (the prior and the
        posterior's prior stay centred on ``d0``), e.g. ``d0`` plus a chord step computed elsewhere."""
        p = self.params
        if p.mode == "linear":
            r = self.reference - self._l0
            return np.asarray(chord_step(r) if chord_step is not None else self.matrix @ r, dtype=np.float64)
        d_prior = np.array(self.estimate if d0 is None else d0, dtype=np.float64).reshape(2)
        d = d_prior.copy() if start is None else np.array(start, dtype=np.float64).reshape(2)
        if not np.all(np.isfinite(d)):
            raise ValueError(f"start = {start!r} must be finite")
        if p.interval:
            lo, hi = self.bounds()
        for _ in range(p.iterations):
            if p.mode == "chord":
                r = self.residual(d)
                step = chord_step(r) if chord_step is not None else self.matrix @ r
            else:
                model, jac = self.template.render_jacobian(d, self._xs, self._ys)
                if p.interval:
                    r = np.clip(model, lo, hi) - model
                    w = (r != 0).astype(np.float64)  # only the pixels outside their interval
                else:
                    r = self.reference - model
                    w = np.ones_like(r)
                    if p.robust_scale is not None:
                        a = np.abs(r)
                        w = np.where(a > p.robust_scale, p.robust_scale / np.maximum(a, 1e-300), 1.0)
                jw = jac * w[:, None]
                step = np.linalg.solve(jw.T @ jac + (p.prior + 1e-12) * np.eye(2),
                                       jw.T @ r - p.prior * (d - d_prior))
            step = np.asarray(step, dtype=np.float64)
            n = float(np.hypot(step[0], step[1]))
            if n > p.max_step:
                step = step * (p.max_step / n)
            d = d + step
        if p.posterior is not None:
            d = self.posterior_mean(d, d_prior, lo, hi)
        return d

    def posterior_mean(self, center, prediction, lo, hi) -> np.ndarray:
        """The posterior mean of the offset on a grid of ``grid_step`` within ``grid_radius`` of ``center``,
        for the intervals ``lo``, ``hi`` and the prior around ``prediction`` (module docstring); only the
        pixels within 4 sigma + ``grid_radius`` of ``center`` are evaluated (the others' log intensity does not
        change over the grid)."""
        p, tpl = self.params, self.template
        g = np.arange(-p.grid_radius, p.grid_radius + 0.5 * p.grid_step, p.grid_step)
        gx, gy = np.meshgrid(center[0] + g, center[1] + g)
        cx, cy = gx.ravel(), gy.ravel()
        near = (self._xs - center[0]) ** 2 + (self._ys - center[1]) ** 2 < (4 * tpl.sigma + p.grid_radius) ** 2
        xs, ys, lo, hi = self._xs[near], self._ys[near], lo[near], hi[near]
        r2 = (xs[None, :] - cx[:, None]) ** 2 + (ys[None, :] - cy[:, None]) ** 2
        model = np.log(tpl.background + tpl.contrast * np.exp(-r2 / (2 * tpl.sigma**2)) + tpl.log_eps)
        dist = model - np.clip(model, lo, hi)
        nll = np.minimum(dist * dist / (2 * p.posterior**2), p.outlier_cap).sum(axis=1)
        nll += ((cx - prediction[0]) ** 2 + (cy - prediction[1]) ** 2) / (2 * p.prior_sigma**2)
        w = np.exp(-(nll - nll.min()))
        return np.array([w @ cx, w @ cy]) / w.sum()

    def calibrate(self) -> None:
        """Add the step's samples to the per-pixel threshold fit and recompute the reference image with the
        new thresholds (``calibration``)."""
        lam, th = self.params.calibration, self.template.threshold
        hit = self.step_sign != 0
        if hit.any():
            y = self.template.render(self.estimate, self._xs, self._ys) - self._l0
            n1, n0 = self.counts
            self._stats[:, hit] += np.stack([n1 * n1, n1 * n0, n0 * n0, n1 * y, n0 * y])[:, hit]
        s11, s10, s00, s1y, s0y = self._stats
        # minimise lam ((a - th)^2 + (b - th)^2) + sum (y - a n1 + b n0)^2 over a = theta_on, b = theta_off
        a11, a12, a22 = lam + s11, -s10, lam + s00
        r1, r2 = lam * th + s1y, lam * th - s0y
        det = a11 * a22 - a12 * a12
        new = np.clip(np.stack([(a22 * r1 - a12 * r2) / det, (a11 * r2 - a12 * r1) / det]), 0.5 * th, 2.0 * th)
        delta = new - self.theta
        self.reference = self.reference + delta[0] * self.counts[0] - delta[1] * self.counts[1]
        self.theta = new

    def clip_reference(self) -> None:
        """Clip :math:`R` into the band the events allow around the model at the current estimate: with
        ``interval``, :math:`L \\in [lo, hi]` read as a bound on :math:`R`; else :math:`|R - L| \\le \\theta`."""
        model = self.template.render(self.estimate, self._xs, self._ys)
        th = self.template.threshold
        if self.params.interval:  # L in [R - th (s <= 0), R + th (s >= 0)] <=> R in [L - th (s >= 0), L + th (s <= 0)]
            self.reference = np.clip(self.reference, model - th * (self.step_sign >= 0),
                                     model + th * (self.step_sign <= 0))
        else:
            self.reference = np.clip(self.reference, model - th, model + th)

    def update(self, on, off, *, prediction=None, chord_step=None) -> np.ndarray:
        """One step: integrate the counts, fit, calibrate and clip (if set); returns the new estimate ``(2,)``.

        ``prediction`` ``(2,)``: the predicted offset at the end of the step (e.g. :class:`OffsetPredictor`);
        the fit starts from it and its prior is centred on it (default: the previous estimate)."""
        self.integrate(on, off)
        return self.finish(prediction=prediction, chord_step=chord_step)

    def finish(self, *, prediction=None, chord_step=None, start=None) -> np.ndarray:
        """The rest of :meth:`update` after :meth:`integrate`: fit (from ``start`` if given, see :meth:`fit`),
        calibrate and clip; returns the new estimate ``(2,)``.  ``update(on, off, ...)`` is
        ``integrate(on, off)`` then ``finish(...)``, so a pipeline can compute a part of the fit (the chord
        product of :meth:`residual`) elsewhere in between."""
        d0 = None if prediction is None else np.asarray(prediction, dtype=np.float64).reshape(2)
        self.estimate = self.fit(d0, chord_step=chord_step, start=start)
        if self.params.calibration is not None:
            self.calibrate()
        if self.params.clip:
            self.clip_reference()
        return self.estimate.copy()

    def get_state(self) -> dict:
        """Everything :meth:`set_state` needs to continue bit for bit."""
        return {"reference": self.reference.copy(), "theta": self.theta.copy(), "counts": self.counts.copy(),
                "step_sign": self.step_sign.copy(), "stats": self._stats.copy(), "estimate": self.estimate.copy()}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`."""
        n = self.n_pixels
        self.reference = np.asarray(state["reference"], dtype=np.float64).reshape(n).copy()
        self.theta = np.asarray(state["theta"], dtype=np.float64).reshape(2, n).copy()
        self.counts = np.asarray(state["counts"], dtype=np.float64).reshape(2, n).copy()
        self.step_sign = np.asarray(state["step_sign"], dtype=np.float64).reshape(n).copy()
        self._stats = np.asarray(state["stats"], dtype=np.float64).reshape(5, n).copy()
        self.estimate = np.asarray(state["estimate"], dtype=np.float64).reshape(2).copy()


class OffsetPredictor:
    r"""Predicts the offset :math:`d = p - e` one step ahead from the eye's known motor and an alpha-beta
    filter on the target's world position.

    The eye (:mod:`.envs`): first-order motor :math:`\dot w = (u - w)/\tau_m` with the command held over the
    step, so its displacement over a step is known from the commands alone:
    :math:`\Delta e = u T + (w - u)\,\tau_m\,(1 - e^{-T/\tau_m})`.  The target: its world position is
    measured as :math:`z = \hat d + e` and filtered: predict :math:`x^- = x + v T`, then with
    :math:`r = z - x^-`, :math:`x = x^- + \alpha r`, :math:`v = v + \beta r / T`.  The predicted offset is
    :math:`x + v T - (e + \Delta e)`.

    Parameters
    ----------
    dt : float
        Control step :math:`T` [s] (> 0).
    tau_motor : float
        Motor time constant :math:`\tau_m` [s] (> 0).
    u_max : float
        Command limit [pixels/s] (> 0): the plant clips the command.
    alpha, beta : float
        Gains of the filter (alpha in (0, 1], beta in [0, 1]; beta 0: the target is assumed still).
    """

    def __init__(self, dt: float, tau_motor: float, u_max: float, alpha: float = 1.0, beta: float = 0.5) -> None:
        for k, v in (("dt", dt), ("tau_motor", tau_motor), ("u_max", u_max)):
            _positive("OffsetPredictor", k, v)
        if isinstance(alpha, bool) or not (isinstance(alpha, (int, float)) and 0.0 < alpha <= 1.0):
            raise ValueError(f"OffsetPredictor.alpha = {alpha!r} must be a number in (0, 1]")
        if isinstance(beta, bool) or not (isinstance(beta, (int, float)) and 0.0 <= beta <= 1.0):
            raise ValueError(f"OffsetPredictor.beta = {beta!r} must be a number in [0, 1]")
        self.dt, self.tau_motor, self.u_max = float(dt), float(tau_motor), float(u_max)
        self.alpha, self.beta = float(alpha), float(beta)
        self.reset()

    @classmethod
    def from_tracking(cls, params, alpha: float = 1.0, beta: float = 0.5) -> OffsetPredictor:
        """The predictor of a :class:`~memr_snn.pipeline.envs.TrackingParams` task."""
        return cls(params.dt, params.tau_motor, params.u_max, alpha, beta)

    def reset(self) -> None:
        """Eye at rest at the origin, target at the origin (the task starts centred) and still."""
        self.eye, self.eye_vel, self.position, self.velocity = np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2)

    def predict(self, u) -> np.ndarray:
        """Advance the modelled eye by one step under the command ``u`` ``(2,)`` that drove it; returns the
        predicted offset at the end of the step ``(2,)``."""
        u = np.clip(np.asarray(u, dtype=np.float64).reshape(2), -self.u_max, self.u_max)
        a = math.exp(-self.dt / self.tau_motor)
        self.eye = self.eye + u * self.dt + (self.eye_vel - u) * self.tau_motor * (1.0 - a)
        self.eye_vel = u + (self.eye_vel - u) * a
        return self.position + self.velocity * self.dt - self.eye

    def correct(self, estimate) -> np.ndarray:
        """Update the filter with the step's offset estimate ``(2,)`` (after :meth:`predict`); returns the
        filtered offset ``(2,)``."""
        z = np.asarray(estimate, dtype=np.float64).reshape(2) + self.eye
        x = self.position + self.velocity * self.dt
        r = z - x
        self.position = x + self.alpha * r
        self.velocity = self.velocity + self.beta * r / self.dt
        return self.position - self.eye

    def relative_velocity(self) -> np.ndarray:
        r"""The filtered target velocity minus the modelled eye velocity ``(2,)`` [pixels/s]: the offset's rate
        of change now (for a latency-compensating lead, :math:`\hat d + \gamma\,T\,\dot{\hat d}`)."""
        return self.velocity - self.eye_vel

    def get_state(self) -> dict:
        """Everything :meth:`set_state` needs to continue bit for bit."""
        return {k: getattr(self, k).copy() for k in ("eye", "eye_vel", "position", "velocity")}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`."""
        for k in ("eye", "eye_vel", "position", "velocity"):
            setattr(self, k, np.asarray(state[k], dtype=np.float64).reshape(2).copy())
