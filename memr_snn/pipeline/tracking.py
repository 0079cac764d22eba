r"""The hybrid tracking example: DVS -> AIMC -> spiking stage -> PID -> pan-tilt eye, and its baselines, PID
controllers given the ground-truth target offset (``docs/pipeline.md``).

Stages of :func:`hybrid_pipeline` (time base ``dt = 1 ms``; ``T`` = the task's control step, 10 ms), with the
default ``estimator="template_fit"`` (:mod:`.fitstages`):

``eye`` (plant, period T, latency 1 ms)
    :mod:`.envs`' tracking task; output: the step's DVS events ``(2, H, W)``.
``reference`` (readout, period T, phase 1 ms)
    :class:`~memr_snn.pipeline.fitstages.EventReferenceStage`: the predictor advanced under the command that
    drove the eye's step (the motor's output, visible since the previous step's 9 ms), the events added to the
    reference image :math:`R`; output: the residual :math:`R - L(d^-)` at the prediction :math:`d^-`.
``features`` (aimc, period T, phase 1 ms, latency 1 ms)
    one analog linear layer on crossbar tiles (:func:`~memr_snn.pipeline.fitstages.chord_model`, device
    ``aimc_device``): the chord product :math:`M\,(R - L(d^-))`, the template fit's linear part.
``estimate`` (readout, period T, phase 2 ms)
    :class:`~memr_snn.pipeline.fitstages.TemplateFitStage`: the interval fit started at :math:`d^-` plus the
    chord product, the posterior mean, the predictor's update and the lead; rectified into four drives
    :math:`(\hat d_x^+, \hat d_x^-, \hat d_y^+, \hat d_y^-)/` ``full_scale`` in [0, 1], each repeated for
    ``n_per`` neurons.
``snn`` (spiking, period 1 ms, latency 1 ms)
    a :class:`memr_snn.Network` (``dt`` = ``snn_dt``): ``4 n_per`` integrate-and-fire input neurons (1 s
    membrane time constant, thresholds spread over 0.75 .. 1.25 within a channel, membranes spread over the
    thresholds) driven by the currents, rate about ``max_rate`` times the drive; one-to-one onto ``4 n_per``
    output neurons through a crossbar of ``snn_device`` synapses (differential pairs); read out as spike counts
    per 1 ms.
``counts`` (readout, period 1 ms): :class:`~memr_snn.pipeline.stages.WindowSumStage`, the counts of the
    windows since the estimate changed.
``decode`` (readout, period T, phase ``decode_phase``): :class:`DecodeStage`, each channel's count mapped back
    to its drive through the spiking stage's response measured after programming (:func:`relay_curve`).
``motor`` (controller, period T, phase ``decode_phase``, latency 1 ms): the PID of
    :class:`~memr_snn.pipeline.stages.PIDStage` on :math:`\hat d`, whose output is the eye's velocity command
    at the plant's next step.

With ``estimator="centroid"`` (the example before the model-based estimate), ``features`` computes six event
moments from the events and ``estimate`` is a :class:`CentroidStage`; there is no ``reference`` stage.

The baseline :func:`pid_pipeline` has the same plant, period and motor timing, with the PID reading the true
offset one step after the plant fired; ``pid_pipeline(lead=True)`` passes the true offset through the template
fit's predictor and lead first.  Each pipeline has its own PID gains, tuned on a grid on seeds 100-102
(:func:`tune_pid`; the hybrid pipeline's re-tuned with the absolute anchor on seeds 100-119); the reported runs
use other seeds.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from .pipeline import Pipeline
from .report import format_mean_std as ms_
from .report import mean_std
from .stage import StageBase
from .stages import AIMCStage, FunctionStage, PIDStage, SpikingStage, WindowSumStage

__all__ = ["HybridConfig", "hybrid_pipeline", "pid_pipeline", "tune_pid", "tracking_error", "run_tracking",
           "compare_tracking", "comparison_markdown", "relay_curve", "RELAY_DRIVES", "ESTIMATORS", "TUNABLE",
           "TruthStage", "CentroidStage", "DecodeStage"]

MS = 1e-3


@dataclasses.dataclass(frozen=True)
class HybridConfig:
    """Settings of the tracking example (module docstring)."""

    steps: int = 300
    """Control steps per run (the episode length)."""
    estimator: str = "template_fit"
    """The perception between the DVS and the spiking stage: ``"template_fit"`` (:mod:`.fitstages`: the
    model-based estimate, the chord product on the AIMC tiles) or ``"centroid"`` (:class:`CentroidStage` on six
    event moments computed by the AIMC tiles; the example before the model-based estimate, which was tuned with
    kp 80, ki 1000, kd 1, ``full_scale`` 16 and ``max_rate`` 2000)."""
    kp: float = 300.0
    """Proportional gain of the hybrid pipeline's motor PID [1/s]: chosen with the absolute anchor on the tuning
    seeds 100-119 (ratio to the ground-truth PID 1.068 ± 0.058, worst seed 1.17; kp 250, ki 3000, the gains of
    :func:`tune_pid` on seeds 100-102 before the anchor, gave 1.105 ± 0.057, worst 1.19; kp 300 / ki 6000 1.071,
    kp 350 / ki 6000 1.083, kp 400 / ki 6000 1.099; docs/pipeline.md, "The gains, re-tuned")."""
    ki: float = 10000.0
    """Its integral gain [1/s^2]."""
    kd: float = 5.0
    """Its derivative gain [1]."""
    pid_kp: float = 200.0
    """Proportional gain of the ground-truth PID baseline [1/s] (:func:`tune_pid` on seeds 100-102, its default
    grid, which contains the optimum: 0.342 pixels there)."""
    pid_ki: float = 10000.0
    """Its integral gain [1/s^2]."""
    pid_kd: float = 7.0
    """Its derivative gain [1]."""
    lead_kp: float = 600.0
    """Proportional gain of the second baseline, the true offset through the same predictor and lead as the
    template fit (:func:`pid_pipeline` with ``lead=True``; :func:`tune_pid` on seeds 100-102, kp 150 .. 800,
    ki 1000 .. 40000, kd 2 .. 10: 0.228 pixels there) [1/s]."""
    lead_ki: float = 10000.0
    """Its integral gain [1/s^2]."""
    lead_kd: float = 5.0
    """Its derivative gain [1]."""
    fit_lead: float = 0.5
    """Lead :math:`\\gamma` of the template fit's output, :math:`\\hat d + \\gamma T \\dot{\\hat d}` (latency
    compensation; 0: none) (:class:`~memr_snn.pipeline.fitstages.FitTracker`)."""
    fit_beta: float = 0.8
    """Gain of the predictor's filter on the target's world velocity (:class:`~memr_snn.pipeline.estimators.
    OffsetPredictor`)."""
    n_per: int = 128
    """Spiking neurons per drive channel."""
    max_rate: float = 2000.0
    """Input-neuron rate at an offset of ``full_scale`` pixels [Hz] (<= 1 / network dt)."""
    full_scale: float = 4.0
    """Offset that drives the input neurons at ``max_rate`` [pixels]: with 6 windows of 1 ms (``decode_phase``) a
    channel counts ``n_per max_rate 6 ms / full_scale`` = 384 spikes per pixel.  The counts' noise, not that
    step, limits the resolution: a neuron's count over the windows is off by up to one spike depending on its
    phase, about ``sqrt(n_per) / 2`` spikes over a channel whatever the count's length (measured against the
    estimate: 0.05 pixel rms with 3 windows, 0.03 with 6).  An input neuron gains ``max_rate snn_dt offset /
    full_scale`` thresholds per kernel step and resets to zero, so its rate is below proportional (by up to that
    gain); :func:`relay_curve` measures the response and the decoder inverts it.  Larger offsets saturate the
    drive; the PID's command saturates before (``kp`` x 4 px > ``u_max``)."""
    min_events: float = 30.0
    """``"centroid"``: events needed to update the offset estimate."""
    lead: float = 0.25
    """``"centroid"``: weight of the ON-minus-OFF centroid in the estimate (:class:`CentroidStage`)."""
    snn_dt: float = 0.25 * MS
    """Time step of the spiking stage [s]."""
    decode_phase: float = 8 * MS
    """When, within the control period, the motor command is computed (both pipelines) [s]; the hybrid
    pipeline's decoder counts the spikes of the ``decode_phase - 2 ms`` windows since the estimate changed (2 ms).
    Any phase from 3 ms to ``T - 1 ms`` gives the plant the command at its next firing, so the baselines do not
    depend on it; a later phase gives the relay a longer count (a neuron's count is off by up to one spike
    whatever the window, so the relay's error falls as 1 / window: about 0.05 pixel rms with 3 windows, 0.03
    with 6).  8 ms, chosen on the tuning seeds 100-104 (5 ms before: 0.390 against 0.381 pixels)."""
    aimc_device: str | None = "hfox_rram"
    """Device preset of the AIMC tiles (None: ideal)."""
    aimc_io: str = "ideal"
    """DAC/ADC preset of the AIMC tiles."""
    snn_device: str | None = "hfox_rram"
    """Device preset of the spiking stage's synapses (None: float weights)."""
    anchor: bool = True
    """With the ``"template_fit"`` estimator: add the absolute anchor (:mod:`.fitstages`: the ``window``,
    ``anchor`` and ``fuse`` stages)."""
    anchor_window: int = 10
    """Control steps per anchor (the ``anchor`` stage's period in control steps)."""
    anchor_q: float = 0.06
    """Drift rate of the fit's bias assumed by the anchor's Kalman gain [pixels / sqrt(s)]."""
    anchor_sigma: float = 2.5
    """Spread of one event's position about the spot's centre per axis [pixels] (the anchor's noise)."""
    anchor_mode: str = "state"
    """How the anchor corrects the fit: ``"offset"`` (a bias added to its output) or ``"state"`` (its state
    shifted); :class:`~memr_snn.pipeline.fitstages.FitTracker`."""
    anchor_radius: float = 6.0
    """Radius of the disk around the sensor's centre whose events the anchor's moments count [pixels]."""

    def __post_init__(self):
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"HybridConfig.estimator = {self.estimator!r} must be one of {ESTIMATORS}")
        if not 0 < self.max_rate * self.snn_dt <= 1:
            raise ValueError(f"HybridConfig.max_rate = {self.max_rate!r} must be in (0, 1 / snn_dt = "
                             f"{1 / self.snn_dt:g}] Hz")


#: the perceptions of :class:`HybridConfig` ``estimator``
ESTIMATORS = ("template_fit", "centroid")


class TruthStage(StageBase):
    """Reads the true target offset from the tracking plant ``plant`` after it fires (the PID baseline's sensor).

    With ``command`` (the stage whose output drove the plant's step) and ``lead`` :math:`\\gamma > 0`, the true
    offset goes through the template fit's :class:`~memr_snn.pipeline.estimators.OffsetPredictor` and lead
    (:class:`~memr_snn.pipeline.fitstages.FitTracker`): the output is :math:`d + \\gamma T \\dot{\\hat d}`, what
    the lead gives a perfect sensor (the second baseline)."""

    def __init__(self, name: str, plant, *, period: float, latency: float, phase: float = 0.0,
                 command: str | None = None, lead: float = 0.0, beta: float = 0.8) -> None:
        inputs = {plant.name: None} if command is None else {plant.name: None, command: (2,)}
        super().__init__(name, "readout", period=period, latency=latency, phase=phase, inputs=inputs,
                         out_shape=(2,))
        self.plant, self.command, self.lead = plant, command, float(lead)
        self.predictor = None
        if command is not None:
            from .estimators import OffsetPredictor

            self.predictor = OffsetPredictor.from_tracking(plant.env.unwrapped.scene.params, beta=beta)

    def reset(self, seed):
        if self.predictor is not None:
            self.predictor.reset()
        return None

    def step(self, inputs):
        scene = self.plant.env.unwrapped.scene
        d = scene.target - scene.eye
        if self.predictor is None:
            return d
        self.predictor.predict(inputs[self.command])
        self.predictor.correct(d)
        return d + self.lead * self.period * self.predictor.relative_velocity()

    def state(self):
        return {} if self.predictor is None else {"predictor": self.predictor.get_state()}

    def load_state(self, state):
        if self.predictor is not None:
            self.predictor.set_state(state["predictor"])


class CentroidStage(StageBase):
    r"""Offset estimate from the event moments ``(N, S_x, S_y)`` of ON and of OFF events, held while fewer than
    ``min_events`` arrive, rectified into ``4 n_per`` drives in [0, 1] (module docstring).

    With :math:`c` the centroid of all events and :math:`c_{on}, c_{off}` those of the ON and of the OFF
    events, the estimate is :math:`c + \beta\,(c_{on} - c_{off})` (pixels from the sensor's centre): a bright
    spot moving across the sensor makes ON events on its leading side and OFF events on its trailing side, so
    ``lead`` :math:`\beta > 0` moves the estimate from the step's mean position towards its end."""

    def __init__(self, name: str, source: str, *, half_width: tuple[float, float], n_per: int, full_scale: float,
                 min_events: float, period: float, latency: float = 0.0, phase: float = 0.0,
                 lead: float = 0.0) -> None:
        super().__init__(name, "readout", period=period, latency=latency, phase=phase, inputs={source: (6,)},
                         out_shape=(4 * n_per,))
        self.lead = float(lead)
        self.source, self.half_width, self.n_per = source, np.asarray(half_width, dtype=np.float64), int(n_per)
        self.full_scale, self.min_events = float(full_scale), float(min_events)
        self.reset(0)

    def reset(self, seed):
        self.estimate = np.zeros(2)
        return None

    def step(self, inputs):
        n1, x1, y1, n0, x0, y0 = np.asarray(inputs[self.source], dtype=np.float64)
        if n1 + n0 >= self.min_events:
            c_all = np.array([x1 + x0, y1 + y0]) / (n1 + n0)
            if n1 > 0 and n0 > 0 and self.lead:
                c_all = c_all + self.lead * (np.array([x1, y1]) / n1 - np.array([x0, y0]) / n0)
            self.estimate = c_all * self.half_width
        d = np.clip(self.estimate / self.full_scale, -1.0, 1.0)
        drive = np.array([max(d[0], 0.0), max(-d[0], 0.0), max(d[1], 0.0), max(-d[1], 0.0)])
        return np.repeat(drive, self.n_per)

    def state(self):
        return {"estimate": self.estimate.copy()}

    def load_state(self, state):
        self.estimate = np.asarray(state["estimate"], dtype=np.float64).copy()


class DecodeStage(StageBase):
    r"""The offset from the spiking stage's counts over ``window`` seconds, through each channel's measured
    response (:func:`relay_curve`): a channel's count :math:`c` is the rate :math:`c / (n_{per}\,\mathrm{window})`
    per neuron, mapped back to its drive by linear interpolation of the channel's curve (``drives`` against
    ``rates`` ``(4, m)``, both increasing; the curve starts at (0, 0)); then
    :math:`\hat d_x = (u_{x^+} - u_{x^-})` ``full_scale``, the same for y."""

    def __init__(self, name: str, source: str, *, n_per: int, window: float, drives, rates, full_scale: float,
                 period: float, latency: float = 0.0, phase: float = 0.0) -> None:
        super().__init__(name, "readout", period=period, latency=latency, phase=phase,
                         inputs={source: (4 * int(n_per),)}, out_shape=(2,))
        drives = np.concatenate([[0.0], np.asarray(drives, dtype=np.float64).reshape(-1)])
        rates = np.asarray(rates, dtype=np.float64)
        if rates.shape != (4, drives.size - 1):
            raise ValueError(f"stage {name!r}: rates must have shape (4, {drives.size - 1}), got {rates.shape}")
        if not (np.all(np.diff(drives) > 0) and np.all(rates[:, -1] > 0)):
            raise ValueError(f"stage {name!r}: drives must increase from > 0 and every channel's last rate be > 0")
        # a curve must increase for the inverse: equal neighbours (a flat step of the counts) are nudged apart
        rates = np.maximum.accumulate(np.concatenate([np.zeros((4, 1)), rates], axis=1), axis=1)
        self.rates = rates + np.arange(drives.size) * 1e-9 * rates[:, -1:]
        self.drives, self.window = drives, float(window)
        self.source, self.n_per, self.full_scale = source, int(n_per), float(full_scale)

    def step(self, inputs):
        c = np.asarray(inputs[self.source], dtype=np.float64).reshape(4, self.n_per).sum(axis=1)
        r = c / (self.n_per * self.window)
        u = np.array([np.interp(r[i], self.rates[i], self.drives) for i in range(4)])
        return np.array([u[0] - u[1], u[2] - u[3]]) * self.full_scale


def _plant(seed_params: dict | None, period: float):
    from .envs import make_tracking_env
    from .plant import PlantStage

    env = make_tracking_env(**(seed_params or {}))
    return PlantStage("eye", env, "motor", period=period, latency=1 * MS, record_info=("error",))


def pid_pipeline(cfg: HybridConfig = HybridConfig(), seed: int = 0, env_params: dict | None = None,
                 lead: bool = False) -> Pipeline:
    """The baseline: plant -> true offset (sensor latency 2 ms, as the DVS path's) -> PID -> plant.

    ``lead``: the second baseline, the true offset through the template fit's predictor and lead
    (:class:`TruthStage`; ``cfg.fit_lead``, ``cfg.fit_beta``) into a PID with the gains ``lead_kp``, ``lead_ki``,
    ``lead_kd``."""
    T = _period(env_params)
    plant = _plant(env_params, T)
    truth = TruthStage("truth", plant, period=T, latency=1 * MS, phase=1 * MS, command="motor" if lead else None,
                       lead=cfg.fit_lead, beta=cfg.fit_beta)
    kp, ki, kd = (cfg.lead_kp, cfg.lead_ki, cfg.lead_kd) if lead else (cfg.pid_kp, cfg.pid_ki, cfg.pid_kd)
    motor = PIDStage("motor", "truth", 2, kp=kp, ki=ki, kd=kd, period=T,
                     u_max=_u_max(env_params), latency=1 * MS, phase=cfg.decode_phase, source_shape=(2,))
    return Pipeline([plant, truth, motor], dt=1 * MS, seed=seed)


def _period(env_params: dict | None) -> float:
    from .envs import TrackingParams

    return TrackingParams(**(env_params or {})).dt


def _u_max(env_params: dict | None) -> float:
    from .envs import TrackingParams

    return TrackingParams(**(env_params or {})).u_max


def _feature_model(width: int, height: int, cfg: HybridConfig, seed: int):
    from .. import aimc

    ys, xs = np.mgrid[0:height, 0:width]
    hx, hy = (width - 1) / 2.0, (height - 1) / 2.0
    xn, yn = ((xs - hx) / hx).ravel(), ((ys - hy) / hy).ravel()
    on, zero = np.ones(xs.size), np.zeros(xs.size)
    w = np.stack([np.concatenate([on, zero]), np.concatenate([xn, zero]), np.concatenate([yn, zero]),
                  np.concatenate([zero, on]), np.concatenate([zero, xn]), np.concatenate([zero, yn])])
    return aimc.compile([{"type": "linear", "weight": w}], device=cfg.aimc_device, io=cfg.aimc_io, seed=seed), (hx, hy)


def _controller_network(cfg: HybridConfig, seed: int, dt: float):
    import memr_snn as ms

    n = 4 * cfg.n_per
    net = ms.Network(dt=dt, seed=seed, engine="dense")
    c_mem, v_th = 1e-12, 1e-3  # (almost) non-leaky IF: 1 pF, 1 mV above reset, tau 1 s
    nif = dict(tau_mem=1.0, c_mem=c_mem, v_rest=0.0, v_reset=0.0, v_threshold=v_th, t_ref=0.0)
    # the input neurons of a channel get thresholds spread evenly over 0.75 .. 1.25 v_th (in a random order per
    # seed): identical neurons reset to zero lock onto a common grid of phases, and after a change of drive they
    # fire in bursts (counts that swing by n_per / period spikes); spread thresholds keep the phases apart.
    # relay_gain measures the mean rate they give.
    rng = np.random.default_rng(seed)
    spread = np.concatenate([rng.permutation((np.arange(cfg.n_per) + 0.5) / cfg.n_per) for _ in range(4)])
    pin = net.add(ms.Population(n, ms.LIFParams(**{**nif, "v_threshold": v_th * (0.75 + 0.5 * spread)}),
                                name="in"))
    pout = net.add(ms.Population(n, ms.LIFParams(**nif, tau_syn_e=0.1 * dt, tau_syn_i=0.1 * dt), name="out"))
    # one input spike moves the output membrane by 4 thresholds within its step: a relay through the devices (with
    # 1.5 thresholds, the HfOx synapses programmed below 2/3 of their target dropped spikes: a quarter of them)
    q = 4.0 * c_mem * v_th / (0.1 * dt * (1.0 - math.exp(-10.0)))
    dev = None
    if cfg.snn_device is not None:
        from ..devices import Crossbar

        dev = Crossbar(preset=cfg.snn_device, encoding="differential", w_max=1.2 * q, seed=seed)
    net.add(ms.Projection(pin, pout, ms.OneToOne(), weights=q, device=dev, name="in->out"))
    # initial membranes spread evenly over (0, v_th) within each channel (in a random order per seed): the
    # neurons of a channel fire out of phase, so their summed count over a window is the rate times the window to
    # within about one spike; independent uniform draws leave clusters of phases, and the count then swings by
    # several spikes from window to window
    frac = np.concatenate([rng.permutation((np.arange(cfg.n_per) + 0.5) / cfg.n_per) for _ in range(4)])
    net.set_state(pin, "v", frac * v_th * (0.75 + 0.5 * spread))
    # input current of a full drive: max_rate spikes per second through C v_th
    gain = cfg.max_rate * c_mem * v_th
    return net, gain


#: drives at which :func:`relay_curve` measures the spiking stage's response
RELAY_DRIVES = (0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def relay_curve(cfg: HybridConfig, seed: int, drives=RELAY_DRIVES, duration: float = 100 * MS) -> np.ndarray:
    """The spiking stage's response per drive channel ``(4, len(drives))`` [spikes/s per neuron]: the output
    spikes of the network :func:`hybrid_pipeline` builds for ``seed`` (same devices), all channels held at each
    drive for ``duration`` -- the calibration after programming.  It takes in what makes the count differ from
    ``n_per max_rate drive``: an input neuron resets to zero and loses the charge above its threshold (its rate
    is below proportional by up to one step's gain), the spread thresholds, and the synapses that pass no spike
    (a device stuck low or programmed well below its target; with the ``hfox_rram`` preset about one in ten)."""
    net, gain = _controller_network(cfg, seed, cfg.snn_dt)
    it = iter(drives)
    src = FunctionStage("drive", lambda ins: np.full(4 * cfg.n_per, next(it)), out_shape=(4 * cfg.n_per,),
                        period=duration, kind="readout")
    snn = SpikingStage("snn", net, "drive", input_population="in", input_mode="current", output_population="out",
                       readout="counts", period=duration, input_gain=gain)
    p = Pipeline([src, snn], dt=duration)
    out = []
    for _ in drives:
        p.run(1)
        out.append(p.output("snn").reshape(4, cfg.n_per).sum(axis=1) / (cfg.n_per * duration))
    return np.stack(out, axis=1)


def hybrid_pipeline(cfg: HybridConfig = HybridConfig(), seed: int = 0, env_params: dict | None = None) -> Pipeline:
    """DVS -> AIMC -> spiking stage -> PID -> eye (module docstring)."""
    from .envs import TrackingParams

    p = TrackingParams(**(env_params or {}))
    T = p.dt
    n_win = round((cfg.decode_phase - 2 * MS) / MS)  # the 1 ms windows since the estimate was updated
    if n_win < 1 or cfg.decode_phase + 1 * MS > T + 1e-12:
        raise ValueError(f"HybridConfig.decode_phase = {cfg.decode_phase!r} must be in [3 ms, T - 1 ms = "
                         f"{(T - 1 * MS) * 1e3:g} ms]: the count starts with the estimate (2 ms) and the command "
                         "must be visible before the plant's next firing")
    plant = _plant(env_params, T)
    if cfg.estimator == "template_fit":
        from .fitstages import EventReferenceStage, FitTracker, TemplateFitStage, chord_model

        tracker = FitTracker(p, lead=cfg.fit_lead, beta=cfg.fit_beta, anchor_window=cfg.anchor_window,
                             anchor_q=cfg.anchor_q, anchor_sigma=cfg.anchor_sigma,
                             anchor_mode=cfg.anchor_mode)
        ref = EventReferenceStage("reference", tracker, plant, "motor", period=T, phase=1 * MS)
        model = chord_model(tracker.template, device=cfg.aimc_device, io=cfg.aimc_io, seed=seed)
        features = AIMCStage("features", model, "reference", ref.out_shape, period=T, latency=1 * MS, phase=1 * MS)
        estimate = TemplateFitStage("estimate", ref, "features", n_per=cfg.n_per, full_scale=cfg.full_scale,
                                    period=T, phase=2 * MS)
        perception = [ref, features, estimate]
        if cfg.anchor:  # the events of the last K steps -> their moments on tiles (after the K-th step's events are
            # visible) -> the tracker corrected after the K-th step's fit (docs/pipeline.md, "The absolute anchor")
            from .fitstages import AnchorStage, anchor_model

            K = cfg.anchor_window
            win = WindowSumStage("window", "eye", tracker.shape, K, period=T, phase=1 * MS)
            a_model = anchor_model(tracker.template, cfg.anchor_radius, device=cfg.aimc_device, io=cfg.aimc_io,
                                   seed=seed + 1)
            anchor = AIMCStage("anchor", a_model, "window", tracker.shape, period=K * T, latency=1 * MS,
                               phase=(K - 1) * T + 1 * MS, transform=lambda x: x.reshape(-1))
            fuse = AnchorStage("fuse", ref, "anchor", period=K * T, phase=(K - 1) * T + 3 * MS)
            perception += [win, anchor, fuse]
    else:
        model, half = _feature_model(p.width, p.height, cfg, seed)
        features = AIMCStage("features", model, "eye", (2, p.height, p.width), period=T, latency=1 * MS,
                             phase=1 * MS, transform=lambda x: x.reshape(-1))
        estimate = CentroidStage("estimate", "features", half_width=half, n_per=cfg.n_per,
                                 full_scale=cfg.full_scale, min_events=cfg.min_events, lead=cfg.lead, period=T,
                                 phase=2 * MS)
        perception = [features, estimate]
    net, gain = _controller_network(cfg, seed, cfg.snn_dt)
    snn = SpikingStage("snn", net, "estimate", input_population="in", input_mode="current", output_population="out",
                       readout="counts", period=1 * MS, latency=1 * MS, input_gain=gain)
    k = cfg.n_per
    window = WindowSumStage("counts", "snn", (4 * k,), n_win, period=1 * MS)
    dec = DecodeStage("decode", "counts", n_per=k, window=n_win * MS, drives=RELAY_DRIVES,
                      rates=relay_curve(cfg, seed), full_scale=cfg.full_scale, period=T, phase=cfg.decode_phase)
    motor = PIDStage("motor", "decode", 2, kp=cfg.kp, ki=cfg.ki, kd=cfg.kd, period=T, u_max=p.u_max,
                     latency=1 * MS, phase=cfg.decode_phase, source_shape=(2,))
    return Pipeline([plant, *perception, snn, window, dec, motor], dt=1 * MS, seed=seed)


def tracking_error(pipe: Pipeline) -> float:
    """Mean true tracking error [pixels] over the steps run."""
    err = pipe.stage("eye").records["error"]
    return float(np.mean(err)) if err else float("nan")


def run_tracking(pipe: Pipeline, steps: int) -> float:
    """Run ``steps`` control steps and return :func:`tracking_error`."""
    T = pipe.schedule.period["eye"]
    pipe.run(steps * T)
    return tracking_error(pipe)


#: the pipelines :func:`tune_pid` tunes: name -> (builder, the :class:`HybridConfig` fields of its gains)
TUNABLE = {"pid": (pid_pipeline, ("pid_kp", "pid_ki", "pid_kd")),
           "pid_lead": (lambda cfg, seed, env: pid_pipeline(cfg, seed, env, lead=True),
                        ("lead_kp", "lead_ki", "lead_kd")),
           "hybrid": (hybrid_pipeline, ("kp", "ki", "kd"))}


def tune_pid(seeds=(100, 101, 102), steps: int = 300, kp=(100.0, 150.0, 200.0, 250.0, 300.0, 400.0),
             ki=(300.0, 1000.0, 3000.0, 6000.0, 10000.0, 20000.0, 40000.0), kd=(2.0, 3.0, 5.0, 7.0, 10.0),
             env_params: dict | None = None, pipeline: str = "pid", cfg: HybridConfig = HybridConfig(),
             ) -> tuple[dict, float, dict]:
    """Grid search of a pipeline's PID gains on the tuning seeds; returns ``(gains, mean error, info)``.

    ``pipeline``: ``"pid"`` (the ground-truth baseline), ``"pid_lead"`` (the true offset with the template fit's
    predictor and lead) or ``"hybrid"`` (:func:`hybrid_pipeline` with ``cfg``'s other settings).  ``info``:
    ``errors`` (every grid point's mean error [pixels], keyed ``"kp,ki,kd"``) and ``on_edge`` (the gains whose
    best value is the grid's smallest or largest: extend the grid there before trusting the optimum).

    The baseline's gains of :class:`HybridConfig` came from this grid, whose edges its optimum does not touch
    (kp 200, ki 10000, kd 7: 0.342 pixels; the error is flat there, 0.342 - 0.347 pixels for kp 150 - 250,
    ki 3000 - 10000, kd 5 - 7); the others' from the grids docs/pipeline.md gives."""
    if pipeline not in TUNABLE:
        raise ValueError(f"pipeline = {pipeline!r} must be one of {tuple(TUNABLE)}")
    build, fields = TUNABLE[pipeline]
    grid = {"kp": tuple(kp), "ki": tuple(ki), "kd": tuple(kd)}
    best, best_err, errors = None, math.inf, {}
    for g in itertools.product(*grid.values()):
        c = dataclasses.replace(cfg, **dict(zip(fields, g, strict=True)))
        err = float(np.mean([run_tracking(build(c, s, env_params), steps) for s in seeds]))
        errors[",".join(f"{v:g}" for v in g)] = err
        if err < best_err:
            best, best_err = dict(zip(grid, g, strict=True)), err
    on_edge = [k for k, v in grid.items() if len(v) > 1 and best[k] in (min(v), max(v))]
    return best, best_err, {"errors": errors, "on_edge": on_edge}


def compare_tracking(seeds=(0, 1, 2), cfg: HybridConfig = HybridConfig(), env_params: dict | None = None,
                     progress: bool | None = None) -> dict:
    """Run the hybrid pipeline and the two ground-truth PID baselines on each seed (the same target motion per
    seed): the true offset (``pid_pipeline``) and the true offset through the template fit's predictor and lead
    (``pid_pipeline(lead=True)``: what the lead gives a perfect sensor).

    Returns
    -------
    dict
        ``per_seed``: tracking errors [pixels] of the three, the ratios ``ratio`` (hybrid / ground truth) and
        ``ratio_lead`` (hybrid / ground truth with the lead), the hybrid pipeline's energy per control
        step by stage [J], its overhead fraction and CPU per control step [s], and its
        :func:`~memr_snn.pipeline.report.pipeline_report`; ``summary``: mean and std over the seeds; ``config``.
    """
    from ..progress import ProgressBar
    from .report import pipeline_report

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if cfg.steps < 1:
        raise ValueError(f"steps must be >= 1, got {cfg.steps}")
    per_seed = []
    bar = ProgressBar(len(seeds), desc="tracking seeds", enabled=progress)
    try:
        for s in seeds:
            e_pid = run_tracking(pid_pipeline(cfg, s, env_params), cfg.steps)
            e_lead = run_tracking(pid_pipeline(cfg, s, env_params, lead=True), cfg.steps)
            hyb = hybrid_pipeline(cfg, s, env_params)
            e_hyb = run_tracking(hyb, cfg.steps)
            rep = pipeline_report(hyb)
            n_ctrl = max(int(hyb.firings[hyb._index["eye"]]), 1)
            per_seed.append({
                "seed": s, "error_hybrid_px": e_hyb, "error_pid_px": e_pid, "ratio": e_hyb / e_pid,
                "error_pid_lead_px": e_lead, "ratio_lead": e_hyb / e_lead,
                "energy_per_control_step_J": {r["name"]: r["energy_J"] / n_ctrl for r in rep["stages"]},
                "writes": rep["writes"], "overhead_fraction": rep["overhead_fraction"],
                "cpu_s_per_control_step": rep["cpu_s"] / n_ctrl, "report": rep, "pipeline": hyb})
            bar.update(1)
    finally:
        bar.close()
    names = list(per_seed[0]["energy_per_control_step_J"])
    summary = {k: mean_std([r[k] for r in per_seed]) for k in ("error_hybrid_px", "error_pid_px", "ratio",
                                                                 "error_pid_lead_px", "ratio_lead",
                                                                 "overhead_fraction", "cpu_s_per_control_step",
                                                                 "writes")}
    summary["energy_per_control_step_J"] = {n: mean_std([r["energy_per_control_step_J"][n] for r in per_seed])
                                            for n in names}
    summary["energy_per_control_step_J"]["total"] = mean_std(
        [sum(r["energy_per_control_step_J"].values()) for r in per_seed])
    return {"seeds": seeds, "config": dataclasses.asdict(cfg), "env_params": dict(env_params or {}),
            "per_seed": per_seed, "summary": summary}


def comparison_markdown(res: dict) -> str:
    """Tables of :func:`compare_tracking`: the errors per seed and the summary with the energy split by stage."""
    s = res["summary"]

    rows = [("| seed | hybrid error [px] | PID (ground truth) error [px] | ratio | PID (ground truth + the same "
             "lead) error [px] | ratio | overhead | writes |"), "|---|---|---|---|---|---|---|---|"]
    rows += [f"| {r['seed']} | {r['error_hybrid_px']:.3f} | {r['error_pid_px']:.3f} | {r['ratio']:.2f} | "
             f"{r['error_pid_lead_px']:.3f} | {r['ratio_lead']:.2f} | "
             f"{100 * r['overhead_fraction']:.1f} % | {r['writes']:g} |" for r in res["per_seed"]]
    rows.append(f"| mean ± std | {ms_(s['error_hybrid_px'])} | {ms_(s['error_pid_px'])} | {ms_(s['ratio'])} | "
                f"{ms_(s['error_pid_lead_px'])} | {ms_(s['ratio_lead'])} | "
                f"{ms_(s['overhead_fraction'], 100, '.2g')} % | {ms_(s['writes'])} |")
    e = ["", "| stage | energy per control step [nJ] (mean ± std) |", "|---|---|"]
    e += [f"| {n} | {ms_(d, 1e9)} |" for n, d in s["energy_per_control_step_J"].items()]
    e += ["", f"CPU per control step: {ms_(s['cpu_s_per_control_step'], 1e3)} ms."]
    return "\n".join(rows + e)
