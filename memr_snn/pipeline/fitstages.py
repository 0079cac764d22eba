r"""The model-based offset estimate of :mod:`.estimators` as pipeline stages, split around an analog product.

:class:`~memr_snn.pipeline.estimators.TemplateFitEstimator` (interval fit, learnt thresholds, posterior mean)
with an :class:`~memr_snn.pipeline.estimators.OffsetPredictor` (``docs/pipeline.md``, "Model-based
estimates") runs in two stages that share one :class:`FitTracker`, with an AIMC stage between them:

``reference`` (:class:`EventReferenceStage`, a readout)
    reads the plant's events ``(2, H, W)`` and the command :math:`u` that drove the plant's step (the motor
    stage's output, which the plant read at its firing); advances the predictor,
    :math:`d^- = ` ``predict(u)``, adds the events to the reference image :math:`R`, and outputs the residual
    :math:`R - L(d^-)` ``(H W,)``;
an AIMC stage (:func:`chord_model`)
    computes the chord product :math:`c = M\,(R - L(d^-))` ``(2,)`` on crossbar tiles, :math:`M` the
    least-squares matrix of the template at the centre (:meth:`~memr_snn.pipeline.estimators.SpotTemplate.
    chord_matrix`): the linear part of the fit, one Gauss-Newton step with the Jacobian frozen at the centre;
``fit`` (:class:`TemplateFitStage`, a readout)
    starts the interval fit at :math:`d^- + c` (:math:`c` limited to ``max_step`` pixels), its prior and
    the posterior's prior centred on :math:`d^-`; calibrates the thresholds and clips :math:`R`; updates the
    predictor with the estimate :math:`\hat d`; outputs :math:`\hat d + \gamma\,T\,\dot{\hat d}` (``lead``
    :math:`\gamma`, :math:`\dot{\hat d}` the predicted relative velocity), rectified into ``4 n_per`` drives
    in [0, 1] as :class:`~memr_snn.pipeline.tracking.CentroidStage` does.

``anchor`` (an AIMC stage, :func:`anchor_model`, on its own slower period ``K T``) and ``fuse`` (:class:`AnchorStage`)
    the absolute anchor: the fit integrates event-based changes, so nothing ties its absolute position to the
    target after the first frame and its error drifts slowly (a random walk of about 0.1 pixel per square-root
    second).  The anchor stage reads the events of the last ``K`` control steps summed
    (:class:`~memr_snn.pipeline.stages.WindowSumStage`) and computes on crossbar tiles their moments within a
    disk around the sensor's centre, :math:`(N, S_x, S_y)`; the events of a moving spot lie on a ring
    symmetric about it, so :math:`c = (S_x, S_y) / N` measures the spot's mean position over the window on the
    sensor, without memory (its error does not accumulate), but noisy (about 2.5 pixels per event and axis).
    The ``fuse`` stage compares it with the tracker's mean estimate over the same steps (the mid-step
    estimates :math:`(\hat d_{k-1} + \hat d_k)/2`) and corrects the tracker by
    :math:`\delta = g\,(c - \bar d)` with the gain of a Kalman filter on a random-walk bias,
    :math:`g = P / (P + \sigma_e^2 / N)`, :math:`P \leftarrow P + q^2 K T` before and :math:`(1 - g) P` after
    (:meth:`FitTracker.anchor`): with ``anchor_mode="state"`` (the default) the estimate, the predictor's
    target position and the reference image (moved as the template moves, :math:`R \mathrel{+}= L(\hat d +
    \delta) - L(\hat d)`) all shift by :math:`\delta`; with ``"offset"`` the fit runs on unchanged and the
    corrections add up to a bias :math:`\hat b` added to its output (:math:`\delta = g\,(c - \bar d -
    \hat b)`).  :math:`P = 0` at reset: the task starts centred.

The tracker's state lives in the ``reference`` stage (its :meth:`~EventReferenceStage.state` is the whole
tracker; the ``fit`` stage's holds only what it adds), so a checkpoint of the pipeline holds it once.  When the
plant starts a new episode (its ``episodes`` counter moved), the tracker starts again from the centred target.
"""

from __future__ import annotations

import numpy as np

from .estimators import OffsetPredictor, SpotTemplate, TemplateFitEstimator
from .stage import StageBase

__all__ = ["FitTracker", "EventReferenceStage", "TemplateFitStage", "AnchorStage", "chord_model", "anchor_model",
           "anchor_weights", "FIT_SETTINGS"]

#: the estimator's settings (``fit_posterior_lead`` of ``benchmarks/tracking_estimators.py``, chosen on the
#: tuning seeds 100-102): interval fit from the prediction, 5 iterations, prior 0.03, thresholds learnt with
#: ridge 1000, posterior mean with edges 0.03 ln units and a prior of 0.2 pixels
#: how :meth:`FitTracker.anchor` applies its correction
ANCHOR_MODES = ("offset", "state")

FIT_SETTINGS = dict(interval=True, iterations=5, prior=0.03, calibration=1000.0, posterior=0.03, prior_sigma=0.2)


class FitTracker:
    """The estimator and the predictor of one pipeline, shared by its ``reference`` and ``fit`` stages.

    Parameters
    ----------
    params : memr_snn.pipeline.envs.TrackingParams
        The task (template, control step, motor).
    lead : float
        :math:`\\gamma` of the output :math:`\\hat d + \\gamma\\,T\\,\\dot{\\hat d}` (>= 0; 0: no lead).
    beta : float
        The predictor's alpha-beta filter gain on the target's world velocity (:class:`OffsetPredictor`).
    anchor_window : int
        Control steps :math:`K` of one absolute anchor (:meth:`anchor`; the length of the history of mid-step
        estimates kept), >= 1.
    anchor_q : float
        Drift rate :math:`q` of the fit's bias assumed by the anchor's Kalman gain [pixels / sqrt(s)] (>= 0; 0:
        the anchor never corrects).
    anchor_mode : str
        ``"offset"``: the anchor's corrections add up to a bias :math:`\\hat b` added to the output (the fit runs
        on unchanged); ``"state"``: each correction shifts the fit's state (estimate, predictor, reference image).
    anchor_sigma : float
        Spread :math:`\\sigma_e` of one event's position about the spot's centre, per axis [pixels] (> 0).
    **fit
        Settings of :class:`~memr_snn.pipeline.estimators.TemplateFitParams` (default :data:`FIT_SETTINGS`).
    """

    def __init__(self, params, *, lead: float = 0.5, beta: float = 0.8, anchor_window: int = 10,
                 anchor_q: float = 0.06, anchor_sigma: float = 2.5, anchor_mode: str = "state", **fit) -> None:
        if anchor_mode not in ANCHOR_MODES:
            raise ValueError(f"FitTracker.anchor_mode = {anchor_mode!r} must be one of {ANCHOR_MODES}")
        self.anchor_mode = anchor_mode
        if isinstance(lead, bool) or not (isinstance(lead, (int, float)) and np.isfinite(lead) and lead >= 0):
            raise ValueError(f"FitTracker.lead = {lead!r} must be a finite number >= 0")
        k = anchor_window
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 10000:
            raise ValueError(f"FitTracker.anchor_window = {k!r} must be an integer in [1, 10000]")
        for name, v, lo in (("anchor_q", anchor_q, 0.0), ("anchor_sigma", anchor_sigma, None)):
            ok = not isinstance(v, bool) and isinstance(v, (int, float)) and np.isfinite(v)
            if not ok or (v < 0 if lo == 0.0 else v <= 0):
                raise ValueError(f"FitTracker.{name} = {v!r} must be a finite number {'>= 0' if lo == 0.0 else '> 0'}")
        self.anchor_window, self.anchor_q, self.anchor_sigma = int(k), float(anchor_q), float(anchor_sigma)
        self.template = SpotTemplate.from_tracking(params)
        self.estimator = TemplateFitEstimator(self.template, **(fit or FIT_SETTINGS))
        self.predictor = OffsetPredictor.from_tracking(params, beta=beta)
        self.lead, self.dt = float(lead), float(params.dt)
        self.shape = (2, params.height, params.width)
        self.reset()

    def reset(self) -> None:
        """Start an episode (the target centred, the eye at rest)."""
        self.estimator.reset()
        self.predictor.reset()
        self.prediction = np.zeros(2)
        self.output = np.zeros(2)
        self.history = np.zeros((self.anchor_window, 2))
        """Mid-step estimates :math:`(\\hat d_{k-1} + \\hat d_k)/2` of the last ``anchor_window`` steps (a ring)."""
        self.steps = 0
        """Steps fitted since reset."""
        self.bias = np.zeros(2)
        """``anchor_mode="offset"``: the anchor's bias estimate, added to the output [pixels]."""
        self.variance = 0.0
        """The anchor filter's variance :math:`P` of the bias per axis [pixels^2] (0 at reset: the task starts
        centred)."""

    def begin(self, events, u) -> np.ndarray:
        """The ``reference`` half: predict under the command ``u`` ``(2,)``, integrate the step's events
        ``(2, H, W)``; returns the residual :math:`R - L(d^-)` ``(H W,)``."""
        events = np.asarray(events, dtype=np.float64)
        self.prediction = self.predictor.predict(u)
        self.estimator.integrate(events[0], events[1])
        return self.estimator.residual(self.prediction)

    def finish(self, correction) -> np.ndarray:
        """The ``fit`` half: fit from the prediction plus ``correction`` ``(2,)`` (the chord product, limited to
        the estimator's ``max_step``), update the predictor; returns :math:`\\hat d + \\gamma T \\dot{\\hat d}`."""
        c = np.asarray(correction, dtype=np.float64).reshape(2)
        if not np.all(np.isfinite(c)):
            c = np.zeros(2)
        n, cap = float(np.hypot(c[0], c[1])), self.estimator.params.max_step
        if n > cap:
            c = c * (cap / n)
        prev = self.estimator.estimate.copy()
        d = self.estimator.finish(prediction=self.prediction, start=self.prediction + c)
        self.history[self.steps % self.anchor_window] = 0.5 * (prev + d)
        self.steps += 1
        self.predictor.correct(d)
        self.output = d + self.bias + self.lead * self.dt * self.predictor.relative_velocity()
        return self.output.copy()

    def anchor(self, moments, steps: int | None = None) -> np.ndarray:
        """Correct the tracker towards an absolute measurement (module docstring): ``moments`` ``(3,)`` are
        :math:`(N, S_x, S_y)` of the events of the last ``steps`` (default ``anchor_window``, at most that)
        fitted steps; returns the correction :math:`\\delta` ``(2,)`` applied (zeros when fewer steps were fitted
        since reset, with fewer than one event, or with ``anchor_q`` 0)."""
        m = np.asarray(moments, dtype=np.float64).reshape(3)
        k = self.anchor_window if steps is None else int(steps)
        if not 1 <= k <= self.anchor_window:
            raise ValueError(f"steps = {steps!r} must be in [1, anchor_window = {self.anchor_window}]")
        self.variance += self.anchor_q**2 * k * self.dt
        if self.steps < k or not np.all(np.isfinite(m)) or m[0] < 1.0 or self.anchor_q == 0.0:
            return np.zeros(2)
        idx = (self.steps - 1 - np.arange(k)) % self.anchor_window
        gain = self.variance / (self.variance + self.anchor_sigma**2 / m[0])
        self.variance *= 1.0 - gain
        delta = gain * (m[1:] / m[0] - self.history[idx].mean(axis=0) - self.bias)
        if self.anchor_mode == "offset":
            self.bias = self.bias + delta
            return delta
        est, d = self.estimator, self.estimator.estimate
        tpl = est.template
        est.reference = est.reference + tpl.render(d + delta, est._xs, est._ys) - tpl.render(d, est._xs, est._ys)
        est.estimate = d + delta
        self.predictor.position = self.predictor.position + delta
        self.history = self.history + delta
        return delta

    def get_state(self) -> dict:
        """Everything :meth:`set_state` needs to continue bit for bit."""
        return {"estimator": self.estimator.get_state(), "predictor": self.predictor.get_state(),
                "prediction": self.prediction.copy(), "output": self.output.copy(), "history": self.history.copy(),
                "steps": self.steps, "variance": self.variance, "bias": self.bias.copy()}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`."""
        self.estimator.set_state(state["estimator"])
        self.predictor.set_state(state["predictor"])
        self.prediction = np.asarray(state["prediction"], dtype=np.float64).reshape(2).copy()
        self.output = np.asarray(state["output"], dtype=np.float64).reshape(2).copy()
        self.history = np.asarray(state["history"], dtype=np.float64).reshape(self.anchor_window, 2).copy()
        self.steps, self.variance = int(state["steps"]), float(state["variance"])
        self.bias = np.asarray(state["bias"], dtype=np.float64).reshape(2).copy()


def chord_model(template: SpotTemplate, *, device: str | None = "hfox_rram", io: str = "ideal", seed: int = 0):
    """The chord matrix :math:`M` ``(2, H W)`` of ``template`` compiled onto AIMC tiles
    (:func:`memr_snn.aimc.compile`, one linear layer); its output is :math:`M\\,r` for a residual ``r``."""
    from .. import aimc

    return aimc.compile([{"type": "linear", "weight": template.chord_matrix()}], device=device, io=io, seed=seed)


def anchor_weights(template: SpotTemplate, radius: float = 6.0) -> np.ndarray:
    """The anchor's moments as a matrix ``(3, 2 H W)`` over the flat events ``(2, H, W)`` (ON and OFF alike): the
    rows :math:`w_i`, :math:`w_i x_i`, :math:`w_i y_i` with :math:`w_i = 1` within ``radius`` pixels of the
    sensor's centre, else 0 (pixel coordinates from the centre)."""
    if isinstance(radius, bool) or not (isinstance(radius, (int, float)) and np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius = {radius!r} must be a finite number > 0")
    xs, ys = template.coordinates()
    w = (xs * xs + ys * ys < radius * radius).astype(np.float64)
    return np.tile(np.stack([w, w * xs, w * ys]), (1, 2))


def anchor_model(template: SpotTemplate, radius: float = 6.0, *, device: str | None = "hfox_rram",
                 io: str = "ideal", seed: int = 0):
    """:func:`anchor_weights` compiled onto AIMC tiles (one linear layer); its output is the moments
    :math:`(N, S_x, S_y)` of a flat event-count image ``(2 H W,)``."""
    from .. import aimc

    return aimc.compile([{"type": "linear", "weight": anchor_weights(template, radius)}], device=device, io=io,
                        seed=seed)


class AnchorStage(StageBase):
    """The ``fuse`` stage of the absolute anchor (module docstring): reads the anchor's moments ``(3,)`` and
    corrects the shared tracker (:meth:`FitTracker.anchor`); output: the correction ``(2,)`` [pixels].

    Fire it once per anchor output, after the output is visible and after the fit of the window's last step:
    the tracker's last ``anchor_window`` mid-step estimates must be those of the steps the anchor's events
    came from (:func:`~memr_snn.pipeline.tracking.hybrid_pipeline` sets the phases so).

    Parameters
    ----------
    name : str
    reference : EventReferenceStage
        The stage that holds the tracker.
    source : str
        The stage whose output ``(3,)`` is the moments.
    period, latency, phase : float
        As :class:`~memr_snn.pipeline.stage.StageBase`.
    """

    def __init__(self, name: str, reference: EventReferenceStage, source: str, *, period: float,
                 latency: float = 0.0, phase: float = 0.0) -> None:
        if not isinstance(reference, EventReferenceStage):
            raise TypeError(f"stage {name!r}: reference must be an EventReferenceStage, "
                            f"got {type(reference).__name__}")
        super().__init__(name, "readout", period=period, latency=latency, phase=phase, inputs={source: (3,)},
                         out_shape=(2,))
        self.reference, self.source = reference, source

    def step(self, inputs):
        return self.reference.tracker.anchor(inputs[self.source])


class EventReferenceStage(StageBase):
    """The ``reference`` half of the tracker (module docstring): events and command in, residual out.

    Parameters
    ----------
    name : str
    tracker : FitTracker
    plant : PlantStage
        The plant whose events it reads (its ``name`` is the events' source; a new episode resets the tracker).
    command : str
        The stage whose output ``(2,)`` is the command the plant applied at its firing.
    period, latency, phase : float
        As :class:`~memr_snn.pipeline.stage.StageBase`; fire it after the plant's output is visible and before
        the command changes (the motor's next output is visible later).
    """

    def __init__(self, name: str, tracker: FitTracker, plant, command: str, *, period: float,
                 latency: float = 0.0, phase: float = 0.0) -> None:
        if not isinstance(tracker, FitTracker):
            raise TypeError(f"stage {name!r}: tracker must be a FitTracker, got {type(tracker).__name__}")
        n = tracker.estimator.n_pixels
        super().__init__(name, "readout", period=period, latency=latency, phase=phase,
                         inputs={plant.name: tracker.shape, command: (2,)}, out_shape=(n,))
        self.tracker, self.plant, self.command = tracker, plant, command
        self.reset(0)

    def _episodes(self) -> int:
        return len(getattr(self.plant, "returns", ()))

    def reset(self, seed):
        self.tracker.reset()
        self._episode = 0
        return None

    def step(self, inputs):
        ep = self._episodes()
        if ep != self._episode:  # the plant started a new episode: the target is centred again
            self.tracker.reset()
            self._episode = ep
        return self.tracker.begin(inputs[self.plant.name], inputs[self.command])

    def state(self):
        return {"tracker": self.tracker.get_state(), "episode": self._episode}

    def load_state(self, state):
        self.tracker.set_state(state["tracker"])
        self._episode = int(state["episode"])


class TemplateFitStage(StageBase):
    """The ``fit`` half of the tracker (module docstring): chord product in, drives out.

    Parameters
    ----------
    name : str
    reference : EventReferenceStage
        The stage that holds the tracker (and integrated this step's events).
    source : str
        The AIMC stage whose output ``(2,)`` is the chord product of ``reference``'s residual.
    n_per : int
        Neurons per drive channel; output ``(4 n_per,)``.
    full_scale : float
        Offset of a full drive [pixels] (> 0).
    period, latency, phase : float
        As :class:`~memr_snn.pipeline.stage.StageBase`.
    """

    def __init__(self, name: str, reference: EventReferenceStage, source: str, *, n_per: int, full_scale: float,
                 period: float, latency: float = 0.0, phase: float = 0.0) -> None:
        if not isinstance(reference, EventReferenceStage):
            raise TypeError(f"stage {name!r}: reference must be an EventReferenceStage, "
                            f"got {type(reference).__name__}")
        if isinstance(n_per, bool) or not isinstance(n_per, (int, np.integer)) or n_per < 1:
            raise ValueError(f"stage {name!r}: n_per = {n_per!r} must be an integer >= 1")
        if not (np.isfinite(full_scale) and full_scale > 0):
            raise ValueError(f"stage {name!r}: full_scale = {full_scale!r} must be a finite number > 0")
        super().__init__(name, "readout", period=period, latency=latency, phase=phase, inputs={source: (2,)},
                         out_shape=(4 * int(n_per),))
        self.reference, self.source = reference, source
        self.n_per, self.full_scale = int(n_per), float(full_scale)

    @property
    def tracker(self) -> FitTracker:
        """The shared :class:`FitTracker`."""
        return self.reference.tracker

    def drives(self, d) -> np.ndarray:
        """``d`` ``(2,)`` [pixels] as ``4 n_per`` drives :math:`(d_x^+, d_x^-, d_y^+, d_y^-)/` ``full_scale``
        clipped to [0, 1], each repeated ``n_per`` times."""
        d = np.clip(np.asarray(d, dtype=np.float64) / self.full_scale, -1.0, 1.0)
        return np.repeat(np.array([max(d[0], 0.0), max(-d[0], 0.0), max(d[1], 0.0), max(-d[1], 0.0)]), self.n_per)

    def step(self, inputs):
        return self.drives(self.tracker.finish(inputs[self.source]))
