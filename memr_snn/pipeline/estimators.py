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
        self.polarity = np.zeros(self.n_pixels)
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
        self.reference = self.reference + self.template.threshold * net
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
        for _ in range(p.iterations):
            if p.mode == "chord":
                r = self.residual(d)
                step = chord_step(r) if chord_step is not None else self.matrix @ r
            else:
                model, jac = self.template.render_jacobian(d, self._xs, self._ys)
                r = (np.clip(model, lo, hi) if p.interval else self.target()) - model
                w = np.ones_like(r)
                if p.robust_scale is not None:
                    a = np.abs(r)
                    w = np.where(a > p.robust_scale, p.robust_scale / np.maximum(a, 1e-300), 1.0)
                jw = jac * w[:, None]
                step = np.linalg.solve(jw.T @ jac + (p.prior + 1e-12) * np.eye(2),
                                       jw.T @ r - p.prior * (d - d_prev))
            step = np.asarray(step, dtype=np.float64)
            n = float(np.hypot(step[0], step[1]))
            if n > p.max_step:
                step = step * (p.max_step / n)
            d = d + step
        return d

    def clip_reference(self) -> None:
        """Clip :math:`R` into a threshold of the model at the current estimate (module docstring)."""
        model = self.template.render(self.estimate, self._xs, self._ys)
        th = self.template.threshold
        if self.params.interval:  # L in [R - th (s <= 0), R + th (s >= 0)] <=> R in [L - th (s >= 0), L + th (s <= 0)]
            self.reference = np.clip(self.reference, model - th * (self.step_sign >= 0),
                                     model + th * (self.step_sign <= 0))
        else:
            self.reference = np.clip(self.reference, model - th, model + th)

    def update(self, on, off, *, shift=None, chord_step=None) -> np.ndarray:
        """One step: integrate the counts, fit, clip (if set); returns the new estimate ``(2,)`` (a copy).

        ``shift`` ``(2,)``: the predicted change of the offset over the step (e.g. :class:`OffsetPredictor`);
        the fit starts from, and its ``prior`` pulls towards, the previous estimate plus ``shift``."""
        self.integrate(on, off)
        d0 = None if shift is None else self.estimate + np.asarray(shift, dtype=np.float64).reshape(2)
        self.estimate = self.fit(d0, chord_step=chord_step)
        if self.params.clip:
            self.clip_reference()
        if self.params.leak > 0:
            model = self.template.render(self.estimate, self._xs, self._ys)
            self.reference = self.reference + self.params.leak * (model - self.reference)
        return self.estimate.copy()

    def get_state(self) -> dict:
        """Everything :meth:`set_state` needs to continue bit for bit."""
        return {"reference": self.reference.copy(), "polarity": self.polarity.copy(),
                "estimate": self.estimate.copy()}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`."""
        self.reference = np.asarray(state["reference"], dtype=np.float64).reshape(self.n_pixels).copy()
        self.polarity = np.asarray(state["polarity"], dtype=np.float64).reshape(self.n_pixels).copy()
        self.estimate = np.asarray(state["estimate"], dtype=np.float64).reshape(2).copy()


class OffsetPredictor:
    r"""Predicts the change of the offset :math:`d = p - e` over one step from the eye's known motor and a
    filtered target velocity.

    The eye (:mod:`.envs`): first-order motor :math:`\dot w = (u - w)/\tau_m` with the command held over the
    step, so its displacement over a step is known from the commands alone:
    :math:`\Delta e = u T + (w - u)\,\tau_m\,(1 - e^{-T/\tau_m})`.  The target: its world position is
    measured as :math:`\hat p = \hat d + e`, and its velocity filtered as
    :math:`\hat v \leftarrow \hat v + \beta\,(\hat p_k - \hat p_{k-1} - \hat v T)/T`.  The predicted shift
    is :math:`\hat v T - \Delta e`.

    Parameters
    ----------
    dt : float
        Control step :math:`T` [s] (> 0).
    tau_motor : float
        Motor time constant :math:`\tau_m` [s] (> 0).
    u_max : float
        Command limit [pixels/s] (> 0): the plant clips the command.
    beta : float
        Gain of the velocity filter (0 .. 1; 0: the target is assumed still).
    """

    def __init__(self, dt: float, tau_motor: float, u_max: float, beta: float = 0.2) -> None:
        for k, v in (("dt", dt), ("tau_motor", tau_motor), ("u_max", u_max)):
            _positive("OffsetPredictor", k, v)
        if isinstance(beta, bool) or not (isinstance(beta, (int, float)) and 0.0 <= beta <= 1.0):
            raise ValueError(f"OffsetPredictor.beta = {beta!r} must be a number in [0, 1]")
        self.dt, self.tau_motor, self.u_max, self.beta = float(dt), float(tau_motor), float(u_max), float(beta)
        self.reset()

    @classmethod
    def from_tracking(cls, params, beta: float = 0.2) -> OffsetPredictor:
        """The predictor of a :class:`~memr_snn.pipeline.envs.TrackingParams` task."""
        return cls(params.dt, params.tau_motor, params.u_max, beta)

    def reset(self) -> None:
        """Eye at rest at the origin, target velocity 0."""
        self.eye, self.eye_vel, self.velocity = np.zeros(2), np.zeros(2), np.zeros(2)
        self.world = None

    def predict(self, u) -> np.ndarray:
        """Advance the modelled eye by one step under the command ``u`` ``(2,)`` that drove it; returns the
        predicted shift of the offset ``(2,)``."""
        u = np.clip(np.asarray(u, dtype=np.float64).reshape(2), -self.u_max, self.u_max)
        a = math.exp(-self.dt / self.tau_motor)
        de = u * self.dt + (self.eye_vel - u) * self.tau_motor * (1.0 - a)
        self.eye = self.eye + de
        self.eye_vel = u + (self.eye_vel - u) * a
        return self.velocity * self.dt - de

    def correct(self, estimate) -> None:
        """Update the target velocity from the step's offset estimate ``(2,)`` (after :meth:`predict`)."""
        world = np.asarray(estimate, dtype=np.float64).reshape(2) + self.eye
        if self.world is not None:
            self.velocity = self.velocity + self.beta * (world - self.world - self.velocity * self.dt) / self.dt
        self.world = world

    def get_state(self) -> dict:
        """Everything :meth:`set_state` needs to continue bit for bit."""
        return {"eye": self.eye.copy(), "eye_vel": self.eye_vel.copy(), "velocity": self.velocity.copy(),
                "world": None if self.world is None else self.world.copy()}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`."""
        for k in ("eye", "eye_vel", "velocity"):
            setattr(self, k, np.asarray(state[k], dtype=np.float64).reshape(2).copy())
        self.world = None if state["world"] is None else np.asarray(state["world"], dtype=np.float64).copy()
