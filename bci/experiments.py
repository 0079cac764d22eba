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

from memr_snn._validation import check_int_at_least

from .cortex import CortexParams, MotorCortex
from .protocol import DECODERS, SessionConfig, make_decoder, run_session
from .safety import FaultParams

__all__ = ["compare_decoders", "decode_step_time"]


def compare_decoders(seeds: Sequence[int], config: SessionConfig | None = None,
                     decoders: Sequence[str] = ("kf", "sskf", "refit")) -> list[dict]:
    """One row per (seed, decoder, closed-loop block) with the block's metrics.

    Every decoder sees the same session for a given seed: the random streams of cortex, task, user
    and targets do not depend on the decoder until the closed loop starts.  For the steady-state
    filter, ``offline_rms`` is the RMS velocity difference [m/s] to a full Kalman filter fitted on the
    same observation block, both decoding the block's counts from rest, counted after the full
    filter's gain settles (``settle_bins``, relative gain difference below 1 %); NaN otherwise.
    """
    config = config if config is not None else SessionConfig()
    rows = []
    for seed in seeds:
        for name in decoders:
            res = run_session(replace(config, decoder=name), seed=seed)
            obs = res.blocks[0]
            ref = make_decoder("kf").fit(obs.counts, obs.velocity)
            for k, blk in enumerate(res.closed_loop()):
                extra = {"offline_rms": float("nan"), "settle_bins": float("nan")}
                if name == "sskf":
                    extra = _steady_vs_full(make_decoder(name).fit(obs.counts, obs.velocity), ref, blk.counts)
                rows.append({"seed": seed, "decoder": name, "block": k, "day": blk.day, **blk.metrics, **extra,
                             "speed_rms": float(np.sqrt(np.mean(blk.velocity ** 2)))})
    return rows


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
    """Wall time of one ``step`` [s] (median, 99th percentile) of a decoder fitted on ``n_units`` channels."""
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
    times = np.empty(n_bins)
    for i, z in enumerate(counts):
        t0 = time.perf_counter()
        dec.step(z)
        times[i] = time.perf_counter() - t0
    return {"median": float(np.median(times)), "p99": float(np.percentile(times, 99))}
