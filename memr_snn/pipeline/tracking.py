"""The hybrid tracking example: DVS -> AIMC feature extractor -> spiking controller -> pan-tilt eye, and its
baseline, a PID controller given the ground-truth target offset (``docs/pipeline.md``).

Stages of :func:`hybrid_pipeline` (time base ``dt = 1 ms``; ``T`` = the task's control step, 10 ms):

``eye`` (plant, period T, latency 1 ms)
    :mod:`.envs`' tracking task; output: the step's DVS events ``(2, H, W)``.
``features`` (aimc, period T, latency 1 ms)
    one analog linear layer on crossbar tiles (:func:`memr_snn.aimc.compile`, device ``aimc_device``) computing
    three event moments: the event count :math:`N = \\sum e`, and :math:`S_x = \\sum x\\,e/x_{max}`,
    :math:`S_y = \\sum y\\,e/y_{max}` (ON and OFF alike).
``centroid`` (readout, period T, latency 0)
    the offset estimate :math:`\\hat d = (S_x, S_y)\\,x_{max}/N` when :math:`N \\ge` ``min_events``, else the
    previous estimate (the spot is still where it was last seen); rectified into four drives
    :math:`(\\hat d_x^+, \\hat d_x^-, \\hat d_y^+, \\hat d_y^-)`, each repeated for ``n_per`` neurons.
``snn`` (spiking, period T, latency 1 ms)
    a :class:`memr_snn.Network` (``dt`` 0.25 ms): ``4 n_per`` non-leaky integrate-and-fire input neurons
    driven by the currents (rate proportional to the drive: a sigma-delta code, the membrane keeps the
    remainder), one-to-one onto ``4 n_per`` output neurons through a crossbar of ``snn_device`` synapses
    (differential pairs), read out as spike counts over the window.
``decode`` (readout, period T): :math:`\\hat d_x = (c_{x^+} - c_{x^-})/g`, the same for y.
``motor`` (controller, period T): the PID of :class:`~memr_snn.pipeline.stages.PIDStage` on :math:`\\hat d`,
    whose output is the eye's velocity command.

The baseline :func:`pid_pipeline` has the same plant, period and total sensor-to-motor latency, with the
PID reading the true offset.  :func:`tune_pid` picks the PID gains on a grid (training seeds, ground truth);
both pipelines then use them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from .pipeline import Pipeline
from .stage import StageBase
from .stages import AIMCStage, FunctionStage, PIDStage, SpikingStage

__all__ = ["HybridConfig", "hybrid_pipeline", "pid_pipeline", "tune_pid", "tracking_error", "run_tracking",
           "TruthStage", "CentroidStage"]

MS = 1e-3


@dataclasses.dataclass(frozen=True)
class HybridConfig:
    """Settings of the tracking example (module docstring)."""

    steps: int = 300
    """Control steps per run (the episode length)."""
    kp: float = 30.0
    """Proportional gain of the hybrid pipeline's motor PID [1/s] (tuned on seeds 100, 101)."""
    ki: float = 0.0
    """Its integral gain [1/s^2]."""
    kd: float = 0.1
    """Its derivative gain [1]."""
    pid_kp: float = 80.0
    """Proportional gain of the ground-truth PID baseline [1/s] (:func:`tune_pid` on seeds 100-102)."""
    pid_ki: float = 100.0
    """Its integral gain [1/s^2]."""
    pid_kd: float = 1.0
    """Its derivative gain [1]."""
    n_per: int = 16
    """Spiking neurons per drive channel."""
    max_rate: float = 2000.0
    """Input-neuron rate at an offset of ``full_scale`` pixels [Hz] (<= 1 / network dt)."""
    full_scale: float = 16.0
    """Offset that drives the input neurons at ``max_rate`` [pixels]."""
    min_events: float = 3.0
    """Events needed to update the offset estimate."""
    aimc_device: str | None = "hfox_rram"
    """Device preset of the AIMC tiles (None: ideal)."""
    aimc_io: str = "ideal"
    """DAC/ADC preset of the AIMC tiles."""
    snn_device: str | None = "hfox_rram"
    """Device preset of the spiking controller's synapses (None: float weights)."""


class TruthStage(StageBase):
    """Reads the true target offset from the tracking plant ``plant`` after it fires (the PID baseline's sensor)."""

    def __init__(self, name: str, plant, *, period: float, latency: float) -> None:
        super().__init__(name, "readout", period=period, latency=latency, inputs={plant.name: None}, out_shape=(2,))
        self.plant = plant

    def step(self, inputs):
        scene = self.plant.env.unwrapped.scene
        return scene.target - scene.eye


class CentroidStage(StageBase):
    """Offset estimate from the event moments ``(N, S_x, S_y)``, held while fewer than ``min_events`` arrive,
    rectified into ``4 n_per`` drives in [0, 1] (module docstring)."""

    def __init__(self, name: str, source: str, *, half_width: tuple[float, float], n_per: int, full_scale: float,
                 min_events: float, period: float, latency: float = 0.0) -> None:
        super().__init__(name, "readout", period=period, latency=latency, inputs={source: (3,)},
                         out_shape=(4 * n_per,))
        self.source, self.half_width, self.n_per = source, np.asarray(half_width, dtype=np.float64), int(n_per)
        self.full_scale, self.min_events = float(full_scale), float(min_events)
        self.reset(0)

    def reset(self, seed):
        self.estimate = np.zeros(2)
        return None

    def step(self, inputs):
        n, sx, sy = np.asarray(inputs[self.source], dtype=np.float64)
        if n >= self.min_events:
            self.estimate = np.array([sx, sy]) / n * self.half_width
        d = np.clip(self.estimate / self.full_scale, -1.0, 1.0)
        drive = np.array([max(d[0], 0.0), max(-d[0], 0.0), max(d[1], 0.0), max(-d[1], 0.0)])
        return np.repeat(drive, self.n_per)

    def state(self):
        return {"estimate": self.estimate.copy()}

    def load_state(self, state):
        self.estimate = np.asarray(state["estimate"], dtype=np.float64).copy()


def _plant(seed_params: dict | None, period: float):
    from .envs import make_tracking_env
    from .plant import PlantStage

    env = make_tracking_env(**(seed_params or {}))
    return PlantStage("eye", env, "motor", period=period, latency=1 * MS, record_info=("error",))


def pid_pipeline(cfg: HybridConfig = HybridConfig(), seed: int = 0, env_params: dict | None = None) -> Pipeline:
    """The baseline: plant -> true offset (sensor latency 2 ms, as the DVS path's) -> PID -> plant."""
    T = _period(env_params)
    plant = _plant(env_params, T)
    truth = TruthStage("truth", plant, period=T, latency=2 * MS)
    motor = PIDStage("motor", "truth", 2, kp=cfg.pid_kp, ki=cfg.pid_ki, kd=cfg.pid_kd, period=T,
                     u_max=_u_max(env_params), source_shape=(2,))
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
    w = np.stack([np.ones(2 * xs.size), np.tile(xn, 2), np.tile(yn, 2)])  # ON and OFF alike
    return aimc.compile([{"type": "linear", "weight": w}], device=cfg.aimc_device, io=cfg.aimc_io, seed=seed), (hx, hy)


def _controller_network(cfg: HybridConfig, seed: int, dt: float):
    import memr_snn as ms

    n = 4 * cfg.n_per
    net = ms.Network(dt=dt, seed=seed, engine="dense")
    c_mem, v_th = 1e-12, 1e-3  # (almost) non-leaky IF: 1 pF, 1 mV above reset, tau 1 s
    nif = dict(tau_mem=1.0, c_mem=c_mem, v_rest=0.0, v_reset=0.0, v_threshold=v_th, t_ref=0.0)
    pin = net.add(ms.Population(n, ms.LIFParams(**nif), name="in"))
    pout = net.add(ms.Population(n, ms.LIFParams(**nif, tau_syn_e=0.1 * dt, tau_syn_i=0.1 * dt), name="out"))
    # one input spike moves the output membrane by 1.5 thresholds within its step: a relay through the devices
    q = 1.5 * c_mem * v_th / (0.1 * dt * (1.0 - math.exp(-10.0)))
    dev = None
    if cfg.snn_device is not None:
        from ..devices import Crossbar

        dev = Crossbar(preset=cfg.snn_device, encoding="differential", w_max=1.2 * q, seed=seed)
    net.add(ms.Projection(pin, pout, ms.OneToOne(), weights=q, device=dev, name="in->out"))
    # input current of a full drive: max_rate spikes per second through C v_th
    gain = cfg.max_rate * c_mem * v_th
    return net, gain


def hybrid_pipeline(cfg: HybridConfig = HybridConfig(), seed: int = 0, env_params: dict | None = None) -> Pipeline:
    """DVS -> AIMC feature extractor -> spiking controller -> eye (module docstring)."""
    from .envs import TrackingParams

    p = TrackingParams(**(env_params or {}))
    T = p.dt
    plant = _plant(env_params, T)
    model, half = _feature_model(p.width, p.height, cfg, seed)
    features = AIMCStage("features", model, "eye", (2, p.height, p.width), period=T, latency=1 * MS,
                         transform=lambda x: x.reshape(-1))
    centroid = CentroidStage("centroid", "features", half_width=half, n_per=cfg.n_per, full_scale=cfg.full_scale,
                             min_events=cfg.min_events, period=T)
    net_dt = 0.25 * MS
    net, gain = _controller_network(cfg, seed, net_dt)
    snn = SpikingStage("snn", net, "centroid", input_population="in", input_mode="current", output_population="out",
                       readout="counts", period=T, latency=0.0, input_gain=gain)
    per_count = cfg.max_rate * T / cfg.full_scale  # spikes per window per pixel of offset, per neuron
    k = cfg.n_per

    def decode(ins):
        c = ins["snn"]
        s = np.array([c[:k].sum() - c[k:2 * k].sum(), c[2 * k:3 * k].sum() - c[3 * k:].sum()])
        return s / (k * per_count)

    dec = FunctionStage("decode", decode, inputs={"snn": (4 * k,)}, out_shape=(2,), period=T, kind="readout")
    motor = PIDStage("motor", "decode", 2, kp=cfg.kp, ki=cfg.ki, kd=cfg.kd, period=T, u_max=p.u_max,
                     latency=1 * MS, source_shape=(2,))
    return Pipeline([plant, features, centroid, snn, dec, motor], dt=1 * MS, seed=seed)


def tracking_error(pipe: Pipeline) -> float:
    """Mean true tracking error [pixels] over the steps run."""
    err = pipe.stage("eye").records["error"]
    return float(np.mean(err)) if err else float("nan")


def run_tracking(pipe: Pipeline, steps: int) -> float:
    """Run ``steps`` control steps and return :func:`tracking_error`."""
    T = pipe.schedule.period["eye"]
    pipe.run(steps * T)
    return tracking_error(pipe)


def tune_pid(seeds=(100, 101, 102), steps: int = 300, kp=(20.0, 40.0, 60.0, 80.0), ki=(0.0, 100.0, 300.0),
             kd=(0.0, 0.25, 0.5, 1.0), env_params: dict | None = None) -> tuple[dict, float]:
    """Grid search of the baseline's PID gains (ground truth, tuning seeds); returns ``(gains, mean error)``."""
    best, best_err = None, math.inf
    for p_, i_, d_ in itertools.product(kp, ki, kd):
        cfg = HybridConfig(pid_kp=p_, pid_ki=i_, pid_kd=d_)
        err = float(np.mean([run_tracking(pid_pipeline(cfg, s, env_params), steps) for s in seeds]))
        if err < best_err:
            best, best_err = {"kp": p_, "ki": i_, "kd": d_}, err
    return best, best_err
