r"""Model-based offset estimate for the DVS tracking task: fit the known spot template to the log-intensity
image that the events imply (``docs/pipeline.md``, "A model-based estimate").

The estimator knows the sensor model of :mod:`.envs` -- the spot's rendering
:math:`L_i(d) = \ln(b + c\,e^{-|x_i - d|^2/2\sigma^2} + \epsilon)` at pixel :math:`x_i` (sensor coordinates
from the centre) for the offset :math:`d`, and the *nominal* contrast threshold :math:`\theta` -- but not the
pixels' mismatched thresholds nor which events are noise.  It keeps a reference image :math:`R` (one log
level per pixel), the estimator's copy of the pixels' own reference levels:

* at reset, :math:`R = L(0)` (the task starts with the target centred; the pixels' references start at the
  first frame);
* each step, :math:`R \mathrel{+}= \theta\,(\mathrm{ON} - \mathrm{OFF})` with the step's event counts;
* the offset :math:`\hat d` minimises :math:`\sum_i \rho(L_i(d) - R_i)` (``mode``):

  ``"gauss_newton"``
      ``iterations`` Gauss-Newton steps from the previous estimate, Jacobian :math:`J(d)` recomputed at
      each (iteratively reweighted for a robust :math:`\rho`);
  ``"chord"``
      the same iteration with the Jacobian fixed at :math:`d = 0`:
      :math:`d \leftarrow d + M\,(R - L(d))`, :math:`M = (J_0^\top J_0)^{-1} J_0^\top` a constant
      ``2 x n_pixels`` matrix (what an analog tile can hold; its input :math:`R - L(d)` stays small);
  ``"linear"``
      one product with the same matrix around :math:`d = 0`: :math:`\hat d = M\,(R - L(0))` (no iteration,
      no memory of the previous estimate beyond :math:`R`);

* with ``clip``, :math:`R` is then kept consistent with the fitted model: every :math:`R_i` is clipped into
  :math:`[L_i(\hat d) - \theta, L_i(\hat d) + \theta]` -- a pixel without an event says its log intensity is
  within a threshold of its reference, so an :math:`R_i` outside that band is drift (threshold mismatch
  accumulated over many events, shot-noise events), and the clip bounds it.

A pixel without events keeps :math:`R_i`, so a step without events leaves :math:`\hat d` where it was: the
absence of events is the information that the spot did not move on the sensor.

With ``robust_scale`` :math:`c` the loss is Huber's, :math:`\rho(r) = r^2/2` for :math:`|r| \le c` and
:math:`c|r| - c^2/2` beyond (weights :math:`\min(1, c/|r|)`), which discounts single noise events
(:math:`|r| \approx \theta`) less than a plain least-squares fit would.
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
    """Fit iterations per step from the previous estimate (1 .. 100; ``"linear"`` uses none)."""
    clip: bool = True
    """Clip the reference image into a threshold of the fitted model after each fit."""
    robust_scale: float | None = None
    """Huber scale of the residuals [ln units] (> 0), or None for a plain least-squares fit."""
    hysteresis: float = 0.0
    r"""Fraction :math:`\kappa` of the threshold (0 .. 1) by which a pixel's log intensity is expected above
    its reference after an ON event (below after OFF): the fit's target is :math:`R_i + \kappa\,\theta\,s_i`
    with :math:`s_i` the sign of the pixel's last step with events (0 before any)."""
    interval: bool = False
    r"""Fit intervals instead of levels (``"gauss_newton"`` only): a pixel's log intensity is only known to lie
    in :math:`[R_i, R_i + \theta]` after a step with net ON events, :math:`[R_i - \theta, R_i]` after net OFF
    events, :math:`[R_i - \theta, R_i + \theta]` otherwise; the residual is the distance to the interval."""
    prior: float = 0.0
    r"""Weight :math:`\lambda` of :math:`\lambda\,|d - \hat d_{prev}|^2` added to the fit [ln units^2 / pixel^2]
    (>= 0): among offsets that explain the events equally, the one closest to the previous estimate."""
    leak: float = 0.0
    r"""Fraction :math:`\eta` (0 .. 1) by which the reference image moves towards the fitted model after each
    step, :math:`R \leftarrow R + \eta\,(L(\hat d) - R)`: forgets the drift that threshold mismatch
    accumulates, with time constant :math:`1/\eta` steps."""
    calibration: float | None = None
    r"""Learn each pixel's ON and OFF thresholds online (None: use the nominal one), with this ridge weight
    :math:`\lambda_c` [counts^2] (> 0) towards the nominal threshold: after each fit, every pixel with events
    in the step adds the sample :math:`L_i(\hat d) - L_i(0) \approx \theta^{on}_i N^{on}_i - \theta^{off}_i
    N^{off}_i` (its cumulative counts: the pixel's reference sits at the level it just crossed) to a
    least-squares fit of its two thresholds, and the reference image is recomputed with the new ones."""
    inner: float = 0.0
    """With ``interval``: weight (>= 0) of the level residual :math:`R_i + \kappa\theta s_i - L_i(d)` added to the
    interval residual (a pull towards the levels inside the intervals)."""
    active_only: bool = False
    """With ``interval``: the Gauss-Newton matrix sums only the pixels outside their interval (else all)."""
    tight: bool = False
    """With ``interval``: a pixel with net ON events in the step is at most its change over the step above its
    new level, :math:`L_i(d) \le R_i + |L_i(d) - L_i(\hat d_{prev})|` (the same below for OFF)."""
    posterior: float | None = None
    r"""With ``interval``: report the posterior mean on a grid around the fit instead of the fit itself
    (None: the fit), with this edge softness :math:`s` of the intervals [ln units] (> 0): each pixel's log
    likelihood is :math:`-\min(\mathrm{dist}(L_i(d), [lo_i, hi_i])^2 / 2 s^2, c)` (``outlier_cap`` :math:`c`),
    the prior a Gaussian of width ``prior_sigma`` around the prediction."""
    prior_sigma: float = 0.15
    """Width of the prior around the prediction for ``posterior`` [pixels] (> 0)."""
    process_sigma: float | None = None
    """With ``posterior``: carry the posterior's covariance :math:`\Sigma` from step to step, the prior's
    covariance being :math:`\Sigma + \sigma_q^2 I` with this :math:`\sigma_q` [pixels] (> 0) in place of
    ``prior_sigma`` (None: the fixed ``prior_sigma``)."""
    outlier_cap: float = 4.0
    """Largest negative log likelihood of one pixel for ``posterior`` (> 0): a noise event costs at most this."""
    grid_radius: float = 0.6
    """Half width of the ``posterior`` grid around the fit [pixels] (> 0)."""
    grid_step: float = 0.05
    """Spacing of the ``posterior`` grid [pixels] (> 0)."""
    max_step: float = 2.0
    """Largest change of the estimate per iteration [pixels] (> 0): Gauss-Newton far from the optimum can
    overshoot."""

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"TemplateFitParams.mode = {self.mode!r} must be one of {MODES}")
        v = self.iterations
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= 100:
            raise ValueError(f"TemplateFitParams.iterations = {v!r} must be an integer in [1, 100]")
        if not isinstance(self.clip, (bool, np.bool_)):
            raise ValueError(f"TemplateFitParams.clip = {self.clip!r} must be a bool")
        if self.robust_scale is not None:
            _positive("TemplateFitParams", "robust_scale", self.robust_scale)
        _positive("TemplateFitParams", "max_step", self.max_step)
        if not isinstance(self.interval, (bool, np.bool_)):
            raise ValueError(f"TemplateFitParams.interval = {self.interval!r} must be a bool")
        if isinstance(self.prior, bool) or not (isinstance(self.prior, (int, float)) and math.isfinite(self.prior)
                                                 and self.prior >= 0):
            raise ValueError(f"TemplateFitParams.prior = {self.prior!r} must be a finite number >= 0")
        if isinstance(self.leak, bool) or not (isinstance(self.leak, (int, float)) and 0.0 <= self.leak <= 1.0):
            raise ValueError(f"TemplateFitParams.leak = {self.leak!r} must be a number in [0, 1]")
        if self.calibration is not None:
            _positive("TemplateFitParams", "calibration", self.calibration)
        if self.posterior is not None:
            _positive("TemplateFitParams", "posterior", self.posterior)
        if self.process_sigma is not None:
            _positive("TemplateFitParams", "process_sigma", self.process_sigma)
        for k in ("prior_sigma", "outlier_cap", "grid_radius", "grid_step"):
            _positive("TemplateFitParams", k, getattr(self, k))
        h = self.hysteresis
        if isinstance(h, bool) or not (isinstance(h, (int, float)) and 0.0 <= h <= 1.0):
            raise ValueError(f"TemplateFitParams.hysteresis = {h!r} must be a number in [0, 1]")


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
    >>> est.reset()
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
        """Start an episode: the target centred, :math:`R = L(0)`, :math:`\\hat d = 0`."""
        self.reference = self._l0.copy()
        th = self.template.threshold
        self.theta = np.full((2, self.n_pixels), th)
        """Thresholds in use per pixel, ON then OFF ``(2, n_pixels)`` (learnt with ``calibration``)."""
        self.counts = np.zeros((2, self.n_pixels))
        self._stats = np.zeros((5, self.n_pixels))  # sum n1^2, n1 n0, n0^2, n1 y, n0 y
        self.polarity = np.zeros(self.n_pixels)
        self.covariance = np.zeros((2, 2))
        self.step_sign = np.zeros(self.n_pixels)
        self.estimate = np.zeros(2)

    def residual(self, d=None) -> np.ndarray:
        """:math:`R - L(d)` (default: at the current estimate), flat ``(n_pixels,)``: the input of the
        chord step."""
        d = self.estimate if d is None else d
        return self.target() - self.template.render(d, self._xs, self._ys)

    def target(self) -> np.ndarray:
        r"""What the fit matches: :math:`R + \kappa\,\theta\,s` (``hysteresis`` :math:`\kappa`)."""
        k = self.params.hysteresis
        return self.reference if k == 0 else self.reference + (k * self.template.threshold) * self.polarity

    def integrate(self, on, off) -> None:
        r""":math:`R \mathrel{+}= \theta\,(\mathrm{ON} - \mathrm{OFF})` for one step's counts (flat or 2-D)."""
        on = np.asarray(on, dtype=np.float64).ravel()
        off = np.asarray(off, dtype=np.float64).ravel()
        if on.shape != (self.n_pixels,) or off.shape != (self.n_pixels,):
            raise ValueError(f"event counts must have {self.n_pixels} pixels, got {on.size} and {off.size}")
        net = on - off
        self.reference = self.reference + self.theta[0] * on - self.theta[1] * off
        self.counts += np.stack([on, off])
        self.step_sign = np.sign(net)
        self.polarity = np.where(on + off > 0, self.step_sign, self.polarity)

    def fit(self, d0=None, *, chord_step=None) -> np.ndarray:
        """Fit the template to the reference image from ``d0`` (default: the current estimate); returns the
        offset (does not change the state).  ``chord_step``, if given, replaces the product
        :math:`M\\,(R - L(d))` of the chord iterations (a function of the residual, e.g. an analog tile)."""
        p = self.params
        if p.mode == "linear":
            r = self.target() - self._l0
            return np.asarray(chord_step(r) if chord_step is not None else self.matrix @ r, dtype=np.float64)
        d = np.array(self.estimate if d0 is None else d0, dtype=np.float64).reshape(2)
        d_prev = d.copy()
        if p.interval:
            th = self.template.threshold
            lo = self.reference - th * (self.step_sign <= 0)
            hi = self.reference + th * (self.step_sign >= 0)
            start = self.template.render(self.estimate, self._xs, self._ys)
        for _ in range(p.iterations):
            if p.mode == "chord":
                r = self.residual(d)
                step = chord_step(r) if chord_step is not None else self.matrix @ r
            else:
                model, jac = self.template.render_jacobian(d, self._xs, self._ys)
                if p.interval and p.tight:  # an event pixel overshoots its new level by at most its change
                    ch = np.abs(model - start)
                    r = np.clip(model, lo, np.where(self.step_sign > 0, np.minimum(hi, self.reference + ch), hi))
                    r = np.where(self.step_sign < 0, np.maximum(r, self.reference - ch), r) - model
                else:
                    r = (np.clip(model, lo, hi) if p.interval else self.target()) - model
                w = np.ones_like(r)
                if p.robust_scale is not None:
                    a = np.abs(r)
                    w = np.where(a > p.robust_scale, p.robust_scale / np.maximum(a, 1e-300), 1.0)
                if p.interval and p.active_only:
                    w = w * (r != 0)
                jw = jac * w[:, None]
                h = jw.T @ jac + (p.prior + 1e-12) * np.eye(2)
                g = jw.T @ r - p.prior * (d - d_prev)
                if p.interval and p.inner > 0:
                    h = h + p.inner * (jac.T @ jac)
                    g = g + p.inner * (jac.T @ (self.target() - model))
                step = np.linalg.solve(h, g)
            step = np.asarray(step, dtype=np.float64)
            n = float(np.hypot(step[0], step[1]))
            if n > p.max_step:
                step = step * (p.max_step / n)
            d = d + step
        if p.interval and p.posterior is not None:
            d = self._posterior_mean(d, d_prev, lo, hi)
        return d

    def _posterior_mean(self, center, prediction, lo, hi) -> np.ndarray:
        p = self.params
        tpl = self.template
        g = np.arange(-p.grid_radius, p.grid_radius + 0.5 * p.grid_step, p.grid_step)
        gx, gy = np.meshgrid(center[0] + g, center[1] + g)
        cx, cy = gx.ravel(), gy.ravel()
        near = (self._xs - center[0]) ** 2 + (self._ys - center[1]) ** 2 < (4 * tpl.sigma + p.grid_radius) ** 2
        xs, ys, lo, hi = self._xs[near], self._ys[near], lo[near], hi[near]
        r2 = (xs[None, :] - cx[:, None]) ** 2 + (ys[None, :] - cy[:, None]) ** 2
        model = np.log(tpl.background + tpl.contrast * np.exp(-r2 / (2 * tpl.sigma**2)) + tpl.log_eps)
        if p.tight:
            start = self.template.render(self.estimate, xs, ys)
            ref, sgn, ch = self.reference[near], self.step_sign[near], np.abs(model - start)
            hi = np.where(sgn > 0, np.minimum(hi, ref + ch), hi)
            lo = np.where(sgn < 0, np.maximum(lo, ref - ch), lo)
        dist = model - np.clip(model, lo, hi)
        nll = np.minimum(dist * dist / (2 * p.posterior**2), p.outlier_cap).sum(axis=1)
        ex, ey = cx - prediction[0], cy - prediction[1]
        if p.process_sigma is None:
            nll += (ex * ex + ey * ey) / (2 * p.prior_sigma**2)
        else:
            pinv = np.linalg.inv(self.covariance + p.process_sigma**2 * np.eye(2))
            nll += 0.5 * (pinv[0, 0] * ex * ex + 2 * pinv[0, 1] * ex * ey + pinv[1, 1] * ey * ey)
        w = np.exp(-(nll - nll.min()))
        w /= w.sum()
        mean = np.array([w @ cx, w @ cy])
        ux, uy = cx - mean[0], cy - mean[1]
        self.covariance = np.array([[w @ (ux * ux), w @ (ux * uy)], [w @ (ux * uy), w @ (uy * uy)]])
        self.covariance += (p.grid_step**2 / 12) * np.eye(2)
        return mean

    def calibrate(self) -> None:
        """Add the step's samples to the per-pixel threshold fit and recompute the reference image
        (``calibration``)."""
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
        new = np.stack([(a22 * r1 - a12 * r2) / det, (a11 * r2 - a12 * r1) / det])
        new = np.clip(new, 0.5 * th, 2.0 * th)
        delta = new - self.theta
        self.reference = self.reference + delta[0] * self.counts[0] - delta[1] * self.counts[1]
        self.theta = new

    def clip_reference(self) -> None:
        """Clip :math:`R` into a threshold of the model at the current estimate (module docstring)."""
        model = self.template.render(self.estimate, self._xs, self._ys)
        th = self.template.threshold
        if self.params.interval:  # L in [R - th (s <= 0), R + th (s >= 0)] <=> R in [L - th (s >= 0), L + th (s <= 0)]
            self.reference = np.clip(self.reference, model - th * (self.step_sign >= 0),
                                     model + th * (self.step_sign <= 0))
        else:
            self.reference = np.clip(self.reference, model - th, model + th)

    def update(self, on, off, *, prediction=None, chord_step=None) -> np.ndarray:
        """One step: integrate the counts, fit, clip (if set); returns the new estimate ``(2,)`` (a copy).

        ``prediction`` ``(2,)``: the predicted offset at the end of the step (e.g. :class:`OffsetPredictor`);
        the fit starts from, and its ``prior`` pulls towards, it (default: the previous estimate)."""
        self.integrate(on, off)
        d0 = None if prediction is None else np.asarray(prediction, dtype=np.float64).reshape(2)
        self.estimate = self.fit(d0, chord_step=chord_step)
        if self.params.calibration is not None:
            self.calibrate()
        if self.params.clip:
            self.clip_reference()
        if self.params.leak > 0:
            model = self.template.render(self.estimate, self._xs, self._ys)
            self.reference = self.reference + self.params.leak * (model - self.reference)
        return self.estimate.copy()

    def get_state(self) -> dict:
        """Everything :meth:`set_state` needs to continue bit for bit."""
        return {"reference": self.reference.copy(), "polarity": self.polarity.copy(),
                "step_sign": self.step_sign.copy(), "theta": self.theta.copy(), "counts": self.counts.copy(),
                "stats": self._stats.copy(),
                "estimate": self.estimate.copy()}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`."""
        self.reference = np.asarray(state["reference"], dtype=np.float64).reshape(self.n_pixels).copy()
        self.polarity = np.asarray(state["polarity"], dtype=np.float64).reshape(self.n_pixels).copy()
        self.step_sign = np.asarray(state["step_sign"], dtype=np.float64).reshape(self.n_pixels).copy()
        self.theta = np.asarray(state["theta"], dtype=np.float64).reshape(2, self.n_pixels).copy()
        self.counts = np.asarray(state["counts"], dtype=np.float64).reshape(2, self.n_pixels).copy()
        self._stats = np.asarray(state["stats"], dtype=np.float64).reshape(5, self.n_pixels).copy()
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

    def get_state(self) -> dict:
        """Everything :meth:`set_state` needs to continue bit for bit."""
        return {k: getattr(self, k).copy() for k in ("eye", "eye_vel", "position", "velocity")}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`."""
        for k in ("eye", "eye_vel", "position", "velocity"):
            setattr(self, k, np.asarray(state[k], dtype=np.float64).reshape(2).copy())
