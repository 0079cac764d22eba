"""Decoder comparisons over seeds: closed-loop performance and per-bin decode time.

:func:`compare_decoders` runs the same seeded session (same cortex, targets and user) once per
decoder and reports the closed-loop metrics of each block; :func:`decode_step_time` times one
decoder's ``step`` on a fitted 192-channel population.  ``benchmarks/bci_decoders.py`` prints them
as the table of ``docs/bci.md``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from memr_snn._validation import check_int_at_least, check_nonnegative, check_probability

from .cortex import CortexParams, MotorCortex
from .protocol import DECODERS, SessionConfig, make_decoder, run_session
from .safety import FaultParams
from .task import TaskParams

__all__ = ["compare_decoders", "decode_step_time", "unit_loss_recovery", "drift_over_days", "fault_fallback",
           "device_fault_fallback", "DEVICE_FAULTS", "channel_fault_fallback", "hard_config", "HARD_CORTEX",
           "HARD_TASK"]


def compare_decoders(seeds: Sequence[int], config: SessionConfig | None = None,
                     decoders: Sequence[str] = ("kf", "sskf", "refit")) -> list[dict]:
    """One row per (seed, decoder, closed-loop block) with the block's metrics.

    Every decoder sees the same session for a given seed: the random streams of cortex, task, user
    and targets do not depend on the decoder until the closed loop starts.  For the steady-state
    filter, ``offline_rms`` is the RMS velocity difference [m/s] to a full Kalman filter fitted on the
    same observation block, both decoding the block's counts from rest, counted after the full
    filter's gain settles (``settle_bins``, relative gain difference below 1 %); NaN otherwise.
    For the spiking crossbar decoders, ``energy`` is the energy per decoded bin over the session's
    closed-loop blocks (:meth:`~memr_snn.bci.spiking.SpikingCrossbarDecoder.energy`, by term, [J]) and
    ``devices`` its :meth:`~memr_snn.bci.spiking.SpikingCrossbarDecoder.device_stats` (writes, lifetime).
    """
    config = config if config is not None else SessionConfig()
    rows = []
    for seed in seeds:
        for name in decoders:
            res = run_session(replace(config, decoder=name), seed=seed)
            hw = _hardware(res.decoder)
            obs = res.blocks[0]
            ref = make_decoder("kf").fit(obs.counts, obs.velocity)
            for k, blk in enumerate(res.closed_loop()):
                extra = {"offline_rms": float("nan"), "settle_bins": float("nan")}
                if name == "sskf":
                    extra = _steady_vs_full(make_decoder(name).fit(obs.counts, obs.velocity), ref, blk.counts)
                rows.append({"seed": seed, "decoder": name, "block": k, "day": blk.day, **blk.metrics, **extra,
                             "speed_rms": float(np.sqrt(np.mean(blk.velocity ** 2))), **hw})
    return rows


def _hardware(decoder) -> dict:
    """Energy per decoded bin and device accounting of a spiking crossbar decoder (empty for the others)."""
    from .spiking import SpikingCrossbarDecoder

    inner = getattr(decoder, "primary", decoder)
    if not isinstance(inner, SpikingCrossbarDecoder):
        return {}
    e = inner.energy()
    bins = max(e["count_bins"], 1)
    per_bin = {k: (v / bins if k in ("reads", "rows", "sense", "neurons", "digital", "verify", "total") else v)
               for k, v in e.items() if k != "per_bin"}
    return {"energy": per_bin, "devices": inner.device_stats()}


def _steady_vs_full(ss, kf, counts: np.ndarray) -> dict[str, float]:
    """RMS velocity difference [m/s] of the steady-state and the full filter on the same counts, after
    the full filter's gain has settled (relative difference to the steady gain below 1 %)."""
    kf.reset()
    settle = len(counts)
    for i, z in enumerate(counts):
        kf.step(z)
        if np.linalg.norm(kf.gain_ - ss.steady_gain_) <= 0.01 * np.linalg.norm(ss.steady_gain_):
            settle = i + 1
            break
    diff = ss.predict(counts)[settle:] - kf.predict(counts)[settle:]
    return {"offline_rms": float(np.sqrt(np.mean(diff ** 2))) if diff.size else float("nan"),
            "settle_bins": float(settle)}


def decode_step_time(decoder: str, n_units: int = 192, n_bins: int = 5000, seed: int = 0,
                     safety: bool = False) -> dict[str, float]:
    """Time of one ``step`` [s] of a decoder fitted on ``n_units`` channels: wall time (``median``, ``p99``) and
    the thread's CPU time (``cpu_median``, ``cpu_p99``; ``time.thread_time``).  On a shared machine the wall
    p99 is set by preemption (a step that the scheduler interrupts takes the other processes' time slice);
    the CPU p99 is the decoder's own worst-case compute."""
    n_units = check_int_at_least("n_units", n_units, 1)
    n_bins = check_int_at_least("n_bins", n_bins, 10)
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {sorted(DECODERS)}, got {decoder!r}")
    rng = np.random.default_rng(seed)
    cx = MotorCortex(CortexParams(n_units=n_units), rng)
    v = np.zeros((2000, 2))
    for t in range(1, len(v)):
        v[t] = 0.95 * v[t - 1] + rng.normal(scale=0.03, size=2)
    dec = make_decoder(decoder, FaultParams() if safety else None).fit(cx.sample(v, 0.02), v)
    counts = cx.sample(np.resize(v, (n_bins, 2)), 0.02).astype(np.float64)
    times, cpu = np.empty(n_bins), np.empty(n_bins)
    for i, z in enumerate(counts):
        t0, c0 = time.perf_counter(), time.thread_time()
        dec.step(z)
        times[i], cpu[i] = time.perf_counter() - t0, time.thread_time() - c0
    return {"median": float(np.median(times)), "p99": float(np.percentile(times, 99)),
            "cpu_median": float(np.median(cpu)), "cpu_p99": float(np.percentile(cpu, 99))}


#: The harder standard condition of the unit-loss experiment: lower SNR, smaller targets, shorter timeout
#: (the default task is acquired by every decoder; see docs/bci.md).
HARD_CORTEX = CortexParams(snr=0.5)
HARD_TASK = TaskParams(target_radius=0.015, timeout=3.0, hold_time=0.3)


def hard_config(**changes) -> SessionConfig:
    """The standard condition of the adaptation experiments (:data:`HARD_CORTEX`, :data:`HARD_TASK`)."""
    base = SessionConfig(cortex=HARD_CORTEX, task=HARD_TASK, closed_loop_blocks=1, trials_per_block=24,
                         observation_trials=32)
    return replace(base, **changes)


def _score(block) -> dict[str, float]:
    return {"success_rate": block.metrics["success_rate"], "time_to_target": block.metrics["time_to_target"],
            "fitts_throughput": block.metrics["fitts_throughput"]}


def unit_loss_recovery(seed: int, decoder: str = "refit", loss_fraction: float = 0.6, adapt_blocks: int = 3,
                       config: SessionConfig | None = None, adapt: bool = True) -> dict:
    """Performance before and after losing ``loss_fraction`` of the units, then during adaptation.

    Protocol (one seed): observation block and fit; one closed-loop block with every unit (*intact*);
    a random ``loss_fraction`` of the units is silenced; one block with the decoder unchanged
    (*lost*); then ``adapt_blocks`` blocks, the decoder adapted after the lost block and after each
    adapted block on its own closed-loop data with ReFIT-style re-aimed intentions (``refit``;
    ``adapt=False`` keeps it unchanged, the control).  Performance is the block's success rate;
    recovery is :math:`(P_{adapted} - P_{lost}) / (P_{intact} - P_{lost})` with :math:`P_{adapted}`
    the mean over the adapted blocks after the first (NaN when the loss costs nothing).

    Returns
    -------
    dict
        ``blocks``: list of ``{"phase", **metrics}`` in order; ``intact``, ``lost``, ``adapted``
        (success rates) and ``recovery``; for the spiking crossbar decoders ``pulses``: the program
        pulses the adaptations sent to the input and the readout crossbar (counted by the devices,
        :meth:`~memr_snn.bci.spiking.SpikingCrossbarDecoder.device_stats`) and how many retrainings
        and reprogrammings they were.
    """
    from .protocol import run_block
    from .task import target_sequence

    config = config if config is not None else hard_config()
    config = replace(config, decoder=decoder, closed_loop_blocks=1, days=1)
    res = run_session(config, seed=seed)
    dec, cortex, task, user = res.decoder, res.cortex, res.task, res.user
    rng = np.random.default_rng([seed, 0x1055])
    n_lost = int(round(loss_fraction * cortex.n_units))
    lost = np.sort(rng.choice(cortex.n_units, size=n_lost, replace=False))
    blocks = [{"phase": "intact", **_score(res.closed_loop()[0])}]
    cortex.lose_units(lost)
    inner = getattr(dec, "primary", dec)
    if adapt and not hasattr(inner, "refit"):
        raise ValueError(f"decoder {decoder!r} cannot adapt (no refit method); use adapt=False for a control")
    prev = None
    for k in range(adapt_blocks + 1):
        if k and adapt:
            inner.refit(prev.counts, prev.velocity, prev.cursor, prev.target, prev.in_target.astype(bool))
        prev = run_block(cortex, task, user, target_sequence(config.task, config.trials_per_block, rng), dec)
        blocks.append({"phase": "lost" if k == 0 else "adapted", **_score(prev)})
    p_int, p_lost = blocks[0]["success_rate"], blocks[1]["success_rate"]
    later = [b["success_rate"] for b in blocks[3:]] or [blocks[-1]["success_rate"]]
    p_ad = float(np.mean(later))
    rec = (p_ad - p_lost) / (p_int - p_lost) if p_int > p_lost else float("nan")
    out = {"seed": seed, "decoder": decoder, "adapt": adapt, "n_lost": n_lost, "blocks": blocks, "intact": p_int,
           "lost": p_lost, "adapted": p_ad, "recovery": float(rec)}
    hw = _hardware(dec)
    if hw:  # the spiking decoders: device pulses of the adaptations (input crossbar, readout crossbar)
        d = hw["devices"]
        out["pulses"] = {"input": d["input_adaptation_pulses"], "readout": d["readout_adaptation_pulses"],
                         "input_retrainings": d["input_adaptations"],
                         "readout_reprogrammings": adapt_blocks if adapt else 0}
    return out


def drift_over_days(seed: int, decoder: str = "kf", days: int = 4, config: SessionConfig | None = None) -> dict:
    """Closed-loop success per day of a decoder calibrated on day 0 only, while the tuning drifts.

    One closed-loop block per day; between days the cortex drifts (:class:`~memr_snn.bci.cortex.DriftParams`).
    ReFIT-style decoders adapt after every block (:func:`~memr_snn.bci.protocol.run_session`).
    """
    config = config if config is not None else SessionConfig()
    res = run_session(replace(config, decoder=decoder, days=days, closed_loop_blocks=1), seed=seed)
    return {"seed": seed, "decoder": decoder,
            "days": [{"day": b.day, **_score(b)} for b in res.closed_loop()]}


def fault_fallback(seed: int, decoder: str = "snn", n_lost: int = 20, config: SessionConfig | None = None,
                   safety: FaultParams | None = None) -> dict:
    """A decoder under the safety layer before and after a sudden loss of ``n_lost`` units.

    ``safety`` are the monitor's thresholds (default ``FaultParams()``); the units are lost at the
    first bin of the faulty block, so ``first_switch_bin + 1`` is the number of bins to fallback.

    Returns the success of the intact and the faulty block, the safety layer's bin counts per source,
    its switches and its detection bound (bins).
    """
    from .protocol import run_block
    from .task import target_sequence

    config = config if config is not None else SessionConfig()
    res = run_session(replace(config, decoder=decoder, safety=safety if safety is not None else FaultParams(),
                                   closed_loop_blocks=1), seed=seed)
    dec, cortex = res.decoder, res.cortex
    rng = np.random.default_rng([seed, 0xFA17])
    cortex.lose_units(np.sort(rng.choice(cortex.n_units, size=n_lost, replace=False)))
    dec.rearm()
    blk = run_block(cortex, res.task, res.user, target_sequence(config.task, config.trials_per_block, rng), dec)
    return {"seed": seed, "decoder": decoder, "n_lost": n_lost, "intact": _score(res.closed_loop()[0]),
            "faulty": _score(blk), "bins": dec.counts, "detection_bound": dec.detection_bound_,
            "switches": [{"bin": s.bin, "source": s.source, "reason": s.reason} for s in dec.switches],
            "first_switch_bin": dec.switches[0].bin if dec.switches else None}


def channel_fault_fallback(seed: int, fault: str = "disconnect", n_channels: int = 1, decoder: str = "kf",
                           config: SessionConfig | None = None, safety: FaultParams | None = None,
                           burst_rms: float = 100.0, burst_duration: float = 0.5, session=None) -> dict:
    """A decoder under the safety layer with a signal stream, before and after a channel-level fault.

    The session (observation block through a :class:`~memr_snn.bci.channels.FrontEnd` with ``config.signal``,
    default :class:`~memr_snn.bci.channels.SignalParams`, fit with the signal stream, one closed-loop block) is
    run, or ``session`` is copied.  The monitor is re-armed and the next block is run; at a 1 ms step drawn
    uniformly in bins [20, 60) of it (seeded: every bin and every phase inside a bin) ``n_channels`` random
    channels are disconnected (``"disconnect"``), railed (``"rail"``) or get a noise burst of ``burst_rms`` [uV]
    for ``burst_duration`` [s] (``"burst"``).  ``bins_to_fallback`` counts the onset's bin (``first_switch_bin -
    onset_bin + 1``; None without a switch, <= 0 for a switch before the fault: a false alarm); ``dropped`` are the
    channels the signal rule dropped and ``exact`` whether they are exactly the faulted ones; ``not_judged_flat``
    the faulted channels the rule cannot judge flat (their reference too close to the amplifier floor).
    """
    import copy

    from .channels import CHANNEL_FAULTS, SignalParams
    from .protocol import run_block
    from .task import target_sequence

    if fault not in CHANNEL_FAULTS:
        raise ValueError(f"fault must be one of {sorted(CHANNEL_FAULTS)}, got {fault!r}")
    config = config if config is not None else SessionConfig()
    check_int_at_least("n_channels", n_channels, 1)
    if n_channels > config.cortex.n_units:
        raise ValueError(f"n_channels must be at most {config.cortex.n_units}, got {n_channels}")
    if session is None:
        session = run_session(replace(config, decoder=decoder, closed_loop_blocks=1,
                                      safety=safety if safety is not None else FaultParams(),
                                      signal=config.signal if config.signal is not None else SignalParams()),
                              seed=seed)
    res = copy.deepcopy(session)
    dec, fe = res.decoder, res.front_end
    bw = res.config.task.bin_width
    rng = np.random.default_rng([seed, 0xC4A7, n_channels, sorted(CHANNEL_FAULTS).index(fault)])
    chans = np.sort(rng.choice(fe.n_channels, size=n_channels, replace=False))
    steps = int(round(bw / 1e-3))
    onset_step = int(rng.integers(20 * steps, 60 * steps))
    at = fe.time + onset_step * 1e-3
    if fault == "disconnect":
        fe.disconnect(chans, at=at)
    elif fault == "rail":
        fe.rail(chans, at=at)
    else:
        fe.noise_burst(chans, burst_duration, burst_rms, at=at)
    dec.rearm()
    blk = run_block(res.cortex, res.task, res.user, target_sequence(res.config.task, res.config.trials_per_block, rng),
                    dec, front_end=fe)
    onset = onset_step // steps
    first = dec.switches[0].bin if dec.switches else None
    dropped = sorted(int(c) for ev in dec.switches if ev.reason.startswith("channel signal")
                     for c in ev.reason.rsplit("channels [", 1)[1].rstrip("]").split(","))
    return {"seed": seed, "decoder": res.config.decoder, "fault": fault, "n_channels": n_channels,
            "channels": chans.tolist(), "onset": onset, "onset_phase_ms": onset_step % steps,
            "faulty": _score(blk), "bins": dec.counts, "signal_detection_bound": dec.signal_detection_bound_,
            "flat_monitored": int(dec.signal_flat_monitored_.size), "dropped": dropped,
            "not_judged_flat": np.setdiff1d(chans, dec.signal_flat_monitored_).tolist(),
            "exact": dropped == chans.tolist(),
            "switches": [{"bin": s.bin, "source": s.source, "reason": s.reason} for s in dec.switches],
            "first_switch_bin": first, "bins_to_fallback": None if first is None else first - onset + 1}


#: device faults of :func:`device_fault_fallback`: what ``amount`` means for each
DEVICE_FAULTS = {"none": "nothing (a fault-free control block)",
                 "stuck_on": "fraction of each crossbar's healthy devices stuck ON",
                 "stuck_off": "fraction of each crossbar's healthy devices stuck OFF",
                 "stuck_mixed": "fraction of each crossbar's healthy devices stuck, ON or OFF in the preset's "
                                "proportion",
                 "pause": "seconds every device ages (a pause without reprogramming: drift and relaxation)"}


def device_fault_fallback(seed: int, fault: str = "stuck_on", amount: float = 0.01, decoder: str = "snn",
                          config: SessionConfig | None = None, safety: FaultParams | None = None,
                          session=None) -> dict:
    """A decoder on memristive crossbars under the safety layer, before and after a device fault.

    The session (observation block, fit, one closed-loop block) is run, or ``session`` (a
    :class:`~memr_snn.bci.protocol.SessionResult` of this function's kind) is copied, so that several faults
    can share one fit.  The monitor is re-armed and the next block is run; before its bin ``onset`` (drawn
    uniformly in [20, 60), seeded, so the fault lands at any phase of the health polls) the fault of
    :data:`DEVICE_FAULTS` is applied to the primary's crossbars (random healthy devices, seeded;
    :meth:`~memr_snn.devices.CrossbarState.inject_stuck`, :meth:`~memr_snn.devices.CrossbarState.age_devices`);
    ``first_switch_bin - onset + 1`` is the number of bins to fallback (``bins_to_fallback``; None without
    a switch, negative for a switch before the fault: a false alarm).

    Returns the success of the intact and the faulty block, the safety layer's bin counts, switches, detection
    bounds, the number of devices made stuck, the whole crossbars' health right after the fault (``whole``: every
    device read against its programming, outside the decoder and its energy: the truth the monitor's sampled
    polls estimate; ``beyond`` whether it exceeds a threshold of the safety layer), the last health poll of the
    block (the one that raised the alarm, if any: the switch is latched), the polls and confirmation reads, and
    the energy per bin of the block, total and of the verify reads.
    """
    import copy

    from .protocol import run_block
    from .task import target_sequence

    if fault not in DEVICE_FAULTS:
        raise ValueError(f"fault must be one of {sorted(DEVICE_FAULTS)}, got {fault!r}")
    if fault == "pause":
        check_nonnegative("amount", amount, "s")
    else:
        check_probability("amount", amount)
    config = config if config is not None else SessionConfig()
    if session is None:
        session = run_session(replace(config, decoder=decoder, safety=safety if safety is not None else FaultParams(),
                                      closed_loop_blocks=1), seed=seed)
    res = copy.deepcopy(session)
    dec = res.decoder
    prim = getattr(dec, "primary", None)
    if not callable(getattr(prim, "device_health", None)):
        raise ValueError(f"decoder {res.config.decoder!r} under the safety layer has no device health check")
    rng = np.random.default_rng([seed, 0xDE7F, int(round(amount * 1e6)) if fault != "pause" else 0])
    onset = int(rng.integers(20, 60))
    stuck, whole = [], []

    def apply() -> None:
        for cb in (prim.proj_in_.crossbar, prim.proj_out_.crossbar):
            if fault == "pause":
                cb.age_devices(amount)
            elif fault != "none":
                healthy = np.flatnonzero(np.asarray(cb.fault) == 0)
                n = min(int(round(amount * cb.n_devices)), healthy.size)
                idx = rng.choice(healthy, size=n, replace=False)
                if fault == "stuck_mixed":
                    f = cb.components["faults"]
                    tot = f.p_stuck_on + f.p_stuck_off if f is not None else 0.0
                    state = np.where(rng.random(n) < (f.p_stuck_on / tot if tot > 0 else 0.5), 1, -1)
                else:
                    state = 1 if fault == "stuck_on" else -1
                cb.inject_stuck(idx, state)
                stuck.append(n)
        whole.append(_whole_health(prim))

    dec.rearm()
    prim.reset_counters()
    blk = run_block(res.cortex, res.task, res.user, target_sequence(res.config.task, res.config.trials_per_block, rng),
                    _FaultAt(dec, onset, apply))
    e = prim.energy()
    first = dec.switches[0].bin if dec.switches else None
    polls = max(dec.health_polls_, 1)
    fp = dec.params_
    truth = _health_dict(whole[0]) if whole else {}
    beyond = bool(whole) and any(c.stuck_fraction > fp.max_stuck_fraction or c.weight_error > fp.drift_budget
                                 or c.stuck_weight_fraction > fp.max_stuck_weight for c in whole[0].crossbars)
    return {"seed": seed, "decoder": res.config.decoder, "fault": fault, "amount": amount, "onset": onset,
            "stuck_devices": int(sum(stuck)), "intact": _score(session.closed_loop()[0]), "faulty": _score(blk),
            "bins": dec.counts, "detection_bound": dec.detection_bound_,
            "device_detection_bound": dec.device_detection_bound_, "health_polls": dec.health_polls_,
            "whole": truth, "beyond": beyond, "health_confirms": dec.health_confirms_,
            "last_health": _health_dict(dec.health_), "verify_energy_per_poll": e["verify"] / polls,
            "decode_energy_per_bin": (e["total"] - e["verify"]) / max(e["count_bins"], 1),
            "switches": [{"bin": s.bin, "source": s.source, "reason": s.reason} for s in dec.switches],
            "first_switch_bin": first, "bins_to_fallback": None if first is None else first - onset + 1}


class _FaultAt:
    """A decoder that calls ``apply()`` once, before its step number ``at`` (counted from the block's reset)."""

    def __init__(self, decoder, at: int, apply) -> None:
        self.decoder, self.at, self.apply, self.n = decoder, at, apply, 0

    def reset(self) -> None:
        self.decoder.reset()

    def step(self, x) -> np.ndarray:
        if self.n == self.at:
            self.apply()
        self.n += 1
        return self.decoder.step(x)


def _whole_health(prim):
    """Every device of the primary's crossbars read against its last programming, as its verifiers would on a full
    read, without touching them or the energy counters (the truth of :func:`device_fault_fallback`)."""
    from .health import HealthReport, assess

    t = prim.network_.t
    out = []
    for v in prim._verifiers:
        cb = v.crossbar
        G = cb.read_conductances(t)
        out.append(assess(v.name, G, v.g0, v.fault0, float(cb.device.g_min), float(cb.device.g_max),
                          v.params.stuck_tolerance, pairs=cb.differential, k=float(cb.scale) * float(cb.polarity),
                          g_ref=float(cb.g_ref), w0_means=v.w0_means, full=True))
    return HealthReport(tuple(out))


def _health_dict(rep) -> dict:
    if rep is None:
        return {}
    return {"stuck": rep.stuck, "checked": rep.checked, "stuck_fraction": rep.stuck_fraction,
            "stuck_weight_fraction": rep.stuck_weight_fraction, "weight_error": rep.weight_error, "full": rep.full,
            "crossbars": {c.name: {"weight_error": c.weight_error, "stuck_fraction": c.stuck_fraction,
                                   "stuck_weight_fraction": c.stuck_weight_fraction,
                                   "drift_factor": c.drift_factor} for c in rep.crossbars}}
