"""The hybrid tracking example: DVS -> AIMC feature extractor -> spiking controller -> pan-tilt eye, and its
baseline, a PID controller given the ground-truth target offset (``docs/pipeline.md``).

Stages of :func:`hybrid_pipeline` (time base ``dt = 1 ms``; ``T`` = the task's control step, 10 ms):

``eye`` (plant, period T, latency 1 ms)
    :mod:`.envs`' tracking task; output: the step's DVS events ``(2, H, W)``.
``features`` (aimc, period T, phase 1 ms, latency 1 ms)
    one analog linear layer on crossbar tiles (:func:`memr_snn.aimc.compile`, device ``aimc_device``) computing
    six event moments, for ON and for OFF events: the count :math:`N = \\sum e`, and
    :math:`S_x = \\sum x\\,e/x_{max}`, :math:`S_y = \\sum y\\,e/y_{max}` (pixel coordinates from the centre).
``centroid`` (readout, period T, phase 2 ms)
    the offset estimate of :class:`CentroidStage` (centroid of the events, plus ``lead`` times the ON-OFF
    centroid difference) when at least ``min_events`` arrived, else the previous estimate (the spot is still
    where it was last seen); rectified into four drives :math:`(\\hat d_x^+, \\hat d_x^-, \\hat d_y^+,
    \\hat d_y^-)/` ``full_scale`` in [0, 1], each repeated for ``n_per`` neurons.
``snn`` (spiking, period 1 ms, latency 1 ms)
    a :class:`memr_snn.Network` (``dt`` = ``snn_dt``): ``4 n_per`` integrate-and-fire input neurons (1 s
    membrane time constant) driven by the currents, rate ``max_rate`` times the drive, with random initial
    membranes so that a channel's neurons fire out of phase; one-to-one onto ``4 n_per`` output neurons
    through a crossbar of ``snn_device`` synapses (differential pairs); read out as spike counts per 1 ms.
``counts`` (readout, period 1 ms): :class:`~memr_snn.pipeline.stages.WindowSumStage`, the counts of the
    windows since the centroid changed.
``decode`` (readout, period T, phase ``decode_phase``): :math:`\\hat d_x = (c_{x^+} - c_{x^-})/g`, the same
    for y, with :math:`g` the counts per pixel of a channel.
``motor`` (controller, period T, phase ``decode_phase``, latency 1 ms): the PID of
    :class:`~memr_snn.pipeline.stages.PIDStage` on :math:`\\hat d`, whose output is the eye's velocity command
    at the plant's next step.

The baseline :func:`pid_pipeline` has the same plant, period and motor timing, with the PID reading the true
offset one step after the plant fired.  Each pipeline has its own PID gains, tuned on a grid on seeds 100-102
(:func:`tune_pid` for the baseline; the same search with :func:`hybrid_pipeline` for the hybrid one); the
reported runs use other seeds.
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
           "compare_tracking", "comparison_markdown",
           "TruthStage", "CentroidStage"]

MS = 1e-3


@dataclasses.dataclass(frozen=True)
class HybridConfig:
    """Settings of the tracking example (module docstring)."""

    steps: int = 300
    """Control steps per run (the episode length)."""
    kp: float = 80.0
    """Proportional gain of the hybrid pipeline's motor PID [1/s] (grid search on seeds 100-102: kp 60 .. 160,
    ki 100 .. 3000, kd 0.5 .. 2; 1.05 pixels there)."""
    ki: float = 1000.0
    """Its integral gain [1/s^2]."""
    kd: float = 1.0
    """Its derivative gain [1]."""
    pid_kp: float = 250.0
    """Proportional gain of the ground-truth PID baseline [1/s] (:func:`tune_pid` on seeds 100-102)."""
    pid_ki: float = 3000.0
    """Its integral gain [1/s^2]."""
    pid_kd: float = 5.0
    """Its derivative gain [1]."""
    n_per: int = 32
    """Spiking neurons per drive channel."""
    max_rate: float = 2000.0
    """Input-neuron rate at an offset of ``full_scale`` pixels [Hz] (<= 1 / network dt)."""
    full_scale: float = 16.0
    """Offset that drives the input neurons at ``max_rate`` [pixels]."""
    min_events: float = 30.0
    """Events needed to update the offset estimate."""
    lead: float = 0.25
    """Weight of the ON-minus-OFF centroid in the estimate (:class:`CentroidStage`)."""
    snn_dt: float = 0.25 * MS
    """Time step of the spiking controller [s]."""
    decode_phase: float = 5 * MS
    """When, within the control period, the motor command is computed (both pipelines) [s]."""
    aimc_device: str | None = "hfox_rram"
    """Device preset of the AIMC tiles (None: ideal)."""
    aimc_io: str = "ideal"
    """DAC/ADC preset of the AIMC tiles."""
    snn_device: str | None = "hfox_rram"
    """Device preset of the spiking controller's synapses (None: float weights)."""


class TruthStage(StageBase):
    """Reads the true target offset from the tracking plant ``plant`` after it fires (the PID baseline's sensor)."""

    def __init__(self, name: str, plant, *, period: float, latency: float, phase: float = 0.0) -> None:
        super().__init__(name, "readout", period=period, latency=latency, phase=phase, inputs={plant.name: None},
                         out_shape=(2,))
        self.plant = plant

    def step(self, inputs):
        scene = self.plant.env.unwrapped.scene
        return scene.target - scene.eye


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


def _plant(seed_params: dict | None, period: float):
    from .envs import make_tracking_env
    from .plant import PlantStage

    env = make_tracking_env(**(seed_params or {}))
    return PlantStage("eye", env, "motor", period=period, latency=1 * MS, record_info=("error",))


def pid_pipeline(cfg: HybridConfig = HybridConfig(), seed: int = 0, env_params: dict | None = None) -> Pipeline:
    """The baseline: plant -> true offset (sensor latency 2 ms, as the DVS path's) -> PID -> plant."""
    T = _period(env_params)
    plant = _plant(env_params, T)
    truth = TruthStage("truth", plant, period=T, latency=1 * MS, phase=1 * MS)
    motor = PIDStage("motor", "truth", 2, kp=cfg.pid_kp, ki=cfg.pid_ki, kd=cfg.pid_kd, period=T,
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
    pin = net.add(ms.Population(n, ms.LIFParams(**nif), name="in"))
    pout = net.add(ms.Population(n, ms.LIFParams(**nif, tau_syn_e=0.1 * dt, tau_syn_i=0.1 * dt), name="out"))
    # one input spike moves the output membrane by 1.5 thresholds within its step: a relay through the devices
    q = 1.5 * c_mem * v_th / (0.1 * dt * (1.0 - math.exp(-10.0)))
    dev = None
    if cfg.snn_device is not None:
        from ..devices import Crossbar

        dev = Crossbar(preset=cfg.snn_device, encoding="differential", w_max=1.2 * q, seed=seed)
    net.add(ms.Projection(pin, pout, ms.OneToOne(), weights=q, device=dev, name="in->out"))
    # random initial membranes: the neurons of a channel fire out of phase, so their summed count over a window
    # is the rate times the window to within about one spike (not to within n_per spikes)
    net.set_state(pin, "v", np.random.default_rng(seed).uniform(0.0, v_th, n))
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
    features = AIMCStage("features", model, "eye", (2, p.height, p.width), period=T, latency=1 * MS, phase=1 * MS,
                         transform=lambda x: x.reshape(-1))
    centroid = CentroidStage("centroid", "features", half_width=half, n_per=cfg.n_per, full_scale=cfg.full_scale,
                             min_events=cfg.min_events, lead=cfg.lead, period=T, phase=2 * MS)
    net, gain = _controller_network(cfg, seed, cfg.snn_dt)
    snn = SpikingStage("snn", net, "centroid", input_population="in", input_mode="current", output_population="out",
                       readout="counts", period=1 * MS, latency=1 * MS, input_gain=gain)
    k, rate = cfg.n_per, cfg.max_rate
    n_win = round((cfg.decode_phase - 2 * MS) / MS)  # the 1 ms windows since the centroid was updated
    window = WindowSumStage("counts", "snn", (4 * k,), n_win, period=1 * MS)

    def decode(ins):
        c = ins["counts"]
        s = np.array([c[:k].sum() - c[k:2 * k].sum(), c[2 * k:3 * k].sum() - c[3 * k:].sum()])
        return s / (k * rate * n_win * MS) * cfg.full_scale

    dec = FunctionStage("decode", decode, inputs={"counts": (4 * k,)}, out_shape=(2,), period=T,
                        phase=cfg.decode_phase, kind="readout")
    motor = PIDStage("motor", "decode", 2, kp=cfg.kp, ki=cfg.ki, kd=cfg.kd, period=T, u_max=p.u_max,
                     latency=1 * MS, phase=cfg.decode_phase, source_shape=(2,))
    return Pipeline([plant, features, centroid, snn, window, dec, motor], dt=1 * MS, seed=seed)


def tracking_error(pipe: Pipeline) -> float:
    """Mean true tracking error [pixels] over the steps run."""
    err = pipe.stage("eye").records["error"]
    return float(np.mean(err)) if err else float("nan")


def run_tracking(pipe: Pipeline, steps: int) -> float:
    """Run ``steps`` control steps and return :func:`tracking_error`."""
    T = pipe.schedule.period["eye"]
    pipe.run(steps * T)
    return tracking_error(pipe)


def tune_pid(seeds=(100, 101, 102), steps: int = 300, kp=(100.0, 150.0, 200.0, 250.0, 300.0),
             ki=(300.0, 1000.0, 3000.0, 6000.0), kd=(2.0, 3.0, 5.0, 7.0), env_params: dict | None = None
             ) -> tuple[dict, float]:
    """Grid search of the baseline's PID gains (ground truth, tuning seeds); returns ``(gains, mean error)``.

    The defaults of :class:`HybridConfig` came from successive grids (kp 20 .. 300, ki 0 .. 6000, kd 0 .. 7);
    the error is flat near the optimum (0.34 - 0.35 pixels on the tuning seeds for kp 200 - 250, ki 3000 - 6000,
    kd 5 - 7)."""
    best, best_err = None, math.inf
    for p_, i_, d_ in itertools.product(kp, ki, kd):
        cfg = HybridConfig(pid_kp=p_, pid_ki=i_, pid_kd=d_)
        err = float(np.mean([run_tracking(pid_pipeline(cfg, s, env_params), steps) for s in seeds]))
        if err < best_err:
            best, best_err = {"kp": p_, "ki": i_, "kd": d_}, err
    return best, best_err


def compare_tracking(seeds=(0, 1, 2), cfg: HybridConfig = HybridConfig(), env_params: dict | None = None,
                     progress: bool | None = None) -> dict:
    """Run the hybrid pipeline and the ground-truth PID baseline on each seed (the same target motion per seed).

    Returns
    -------
    dict
        ``per_seed``: tracking errors [pixels] of both, their ratio, the hybrid pipeline's energy per control
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
            pid = pid_pipeline(cfg, s, env_params)
            e_pid = run_tracking(pid, cfg.steps)
            hyb = hybrid_pipeline(cfg, s, env_params)
            e_hyb = run_tracking(hyb, cfg.steps)
            rep = pipeline_report(hyb)
            n_ctrl = max(int(hyb.firings[hyb._index["eye"]]), 1)
            per_seed.append({
                "seed": s, "error_hybrid_px": e_hyb, "error_pid_px": e_pid, "ratio": e_hyb / e_pid,
                "energy_per_control_step_J": {r["name"]: r["energy_J"] / n_ctrl for r in rep["stages"]},
                "writes": rep["writes"], "overhead_fraction": rep["overhead_fraction"],
                "cpu_s_per_control_step": rep["cpu_s"] / n_ctrl, "report": rep, "pipeline": hyb})
            bar.update(1)
    finally:
        bar.close()
    names = list(per_seed[0]["energy_per_control_step_J"])
    summary = {k: mean_std([r[k] for r in per_seed]) for k in ("error_hybrid_px", "error_pid_px", "ratio",
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

    rows = ["| seed | hybrid error [px] | PID (ground truth) error [px] | ratio | overhead | writes |",
            "|---|---|---|---|---|---|"]
    rows += [f"| {r['seed']} | {r['error_hybrid_px']:.3f} | {r['error_pid_px']:.3f} | {r['ratio']:.2f} | "
             f"{100 * r['overhead_fraction']:.1f} % | {r['writes']:g} |" for r in res["per_seed"]]
    rows.append(f"| mean ± std | {ms_(s['error_hybrid_px'])} | {ms_(s['error_pid_px'])} | {ms_(s['ratio'])} | "
                f"{ms_(s['overhead_fraction'], 100, '.2g')} % | {ms_(s['writes'])} |")
    e = ["", "| stage | energy per control step [nJ] (mean ± std) |", "|---|---|"]
    e += [f"| {n} | {ms_(d, 1e9)} |" for n, d in s["energy_per_control_step_J"].items()]
    e += ["", f"CPU per control step: {ms_(s['cpu_s_per_control_step'], 1e3)} ms."]
    return "\n".join(rows + e)
