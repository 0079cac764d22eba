"""Closed-loop performance metrics: pure functions of the trial records (:class:`~memr_snn.bci.task.TrialRecord`).

Times are in seconds from trial start, distances in metres.  Every per-trial metric returns one value
per *successful* trial (failed trials have no acquisition), except :func:`success_rate`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .task import TrialRecord

__all__ = ["success_rate", "time_to_target", "path_efficiency", "dial_in_time", "fitts_throughput",
           "latency_summary", "summarize"]


def _successes(records: Sequence[TrialRecord]) -> list[TrialRecord]:
    return [r for r in records if r.success]


def success_rate(records: Sequence[TrialRecord]) -> float:
    """Fraction of trials acquired (target held for the hold time before the timeout); NaN for no trials."""
    return float(np.mean([r.success for r in records])) if records else float("nan")


def time_to_target(records: Sequence[TrialRecord]) -> np.ndarray:
    """Time from trial start to the target entry that led to acquisition (hold time excluded) [s]."""
    return np.array([r.acquire for r in _successes(records)])


def dial_in_time(records: Sequence[TrialRecord]) -> np.ndarray:
    """Time from the first target entry to the entry that led to acquisition [s] (0 if held at once)."""
    return np.array([r.acquire - r.first_entry for r in _successes(records)])


def path_efficiency(records: Sequence[TrialRecord], target_radius: float) -> np.ndarray:
    """Straight distance from the start to the target's edge over the cursor path to acquisition.

    1 is a straight path; the value can exceed 1 by up to one bin's travel because the edge is
    crossed inside a bin.
    """
    out = []
    for r in _successes(records):
        ideal = max(float(np.linalg.norm(r.target - r.start)) - target_radius, 0.0)
        out.append(ideal / r.path_length if r.path_length > 0 else 1.0)
    return np.array(out)


def fitts_throughput(records: Sequence[TrialRecord], target_radius: float) -> float:
    """Mean Fitts throughput [bit/s]: index of difficulty ``log2(D / W + 1)`` over the time to target.

    ``D`` is the start-target distance and ``W = 2 * target_radius`` the target width (Shannon
    formulation, MacKenzie 1992; the hold time is excluded from the movement time).

    Caveat: BCI cursor movement times do not follow Fitts's law well (the time to target is
    dominated by dial-in and hold, and grows with decoder noise rather than with the index of
    difficulty; Gilja et al. 2012 and Willett et al. 2019 discuss it), so the throughput compares
    decoders on one task and is not a task-independent bit rate.
    """
    s = _successes(records)
    if not s:
        return float("nan")
    ids = np.array([np.log2(np.linalg.norm(r.target - r.start) / (2.0 * target_radius) + 1.0) for r in s])
    mt = np.array([r.acquire for r in s])
    return float(np.mean(ids / mt))


def latency_summary(latency: np.ndarray) -> dict[str, float]:
    """Median, 99th percentile and maximum of per-bin decode latencies [s]."""
    lat = np.asarray(latency, dtype=np.float64)
    if lat.size == 0:
        return {"median": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {"median": float(np.median(lat)), "p99": float(np.percentile(lat, 99)), "max": float(lat.max())}


def summarize(records: Sequence[TrialRecord], target_radius: float) -> dict[str, float]:
    """All trial metrics of a block: success rate and the means over successful trials."""
    def mean(a: np.ndarray) -> float:
        return float(np.mean(a)) if a.size else float("nan")

    return {
        "n_trials": len(records),
        "success_rate": success_rate(records),
        "time_to_target": mean(time_to_target(records)),
        "dial_in_time": mean(dial_in_time(records)),
        "path_efficiency": mean(path_efficiency(records, target_radius)),
        "fitts_throughput": fitts_throughput(records, target_radius),
    }
