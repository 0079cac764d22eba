"""Statistics of the benchmark suite: summaries of repeated runs, ratios of medians, per-case summaries."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["summarize", "ratio", "THREADED_SUFFIX"]

#: contenders whose name ends with this run on two threads (``memr_snn-2t``, ``brian2-cpp-2t``, ``nest-2t``)
THREADED_SUFFIX = "-2t"


def summarize(values) -> dict:
    """Median, min, max, quartiles and count of ``values`` (``None`` entries dropped).

    Returns ``{"n": 0}`` when nothing is left.
    """
    arr = np.array([float(v) for v in values if v is not None and math.isfinite(float(v))], dtype=np.float64)
    if arr.size == 0:
        return {"n": 0}
    q1, med, q3 = np.percentile(arr, [25, 50, 75])
    return {"n": int(arr.size), "median": float(med), "min": float(arr.min()), "max": float(arr.max()),
            "q1": float(q1), "q3": float(q3)}


def ratio(numerator: dict | float | None, denominator: dict | float | None) -> float | None:
    """``numerator / denominator`` of two medians (summaries or plain numbers); None if undefined."""
    def med(x):
        if isinstance(x, dict):
            return x.get("median")
        return x

    a, b = med(numerator), med(denominator)
    if a is None or b is None or not b > 0:
        return None
    return float(a) / float(b)


def _summaries(samples: list[dict]) -> dict:
    out = {}
    for c in dict.fromkeys(s["contender"] for s in samples):
        mine = [s for s in samples if s["contender"] == c]
        summ = {k: summarize([s.get(k) for s in mine])
                for k in ("build_time", "first_run_time", "run_time", "run_cpu", "first_result_time", "total_time",
                          "peak_rss", "n_spikes", "rate_hz")}
        summ["version"] = mine[0]["version"]
        summ["n_synapses"] = mine[0]["n_synapses"]
        summ["first_result_exact"] = all(s["first_result_exact"] for s in mine)
        if c == "memr_snn":
            summ["bytes_per_synapse"] = mine[0]["extra"]["bytes_per_synapse"]
            summ["engine"] = mine[0]["extra"]["engine"]
            summ["repeat_identical"] = all(s["extra"]["repeat_identical"] for s in mine)
        out[c] = summ
    return out


def _ratios(summ: dict) -> dict:
    memr = summ.get("memr_snn")
    if memr is None:
        return {}
    peers = {c: s for c, s in summ.items() if c != "memr_snn" and s["run_time"].get("n")}
    out: dict = {"steady_vs": {}, "steady_wall_vs": {}, "first_result_vs": {}, "steady_clock": {}}
    for c, s in peers.items():
        # like with like: CPU time over CPU time where both measured it, else wall over wall
        cpu = bool(memr.get("run_cpu", {}).get("n") and s.get("run_cpu", {}).get("n"))
        key = "run_cpu" if cpu else "run_time"
        out["steady_vs"][c] = ratio(memr[key], s[key])
        out["steady_clock"][c] = "cpu" if cpu else "wall"
        out["steady_wall_vs"][c] = ratio(memr["run_time"], s["run_time"])
        out["first_result_vs"][c] = ratio(memr["first_result_time"], s["first_result_time"])
    threaded = {c: s for c, s in peers.items() if c.endswith(THREADED_SUFFIX)}
    memr2 = threaded.pop("memr_snn" + THREADED_SUFFIX, None)
    if memr2 is not None:  # two threads: memr_snn's over one thread, and against the peers on two threads
        out["two_threads_speedup"] = ratio(memr["run_time"], memr2["run_time"])
        out["two_threads_vs"] = {c: ratio(memr2["run_time"], s["run_time"]) for c, s in threaded.items()}
    peers = {c: s for c, s in peers.items() if not c.endswith(THREADED_SUFFIX)}  # one thread against one
    if peers:
        def steady(c):
            key = "run_cpu" if out["steady_clock"][c] == "cpu" else "run_time"
            return peers[c][key]["median"]

        fastest = min(peers, key=steady)
        out["fastest_peer"] = fastest
        out["steady_vs_fastest_peer"] = out["steady_vs"][fastest]
    out["steady_vs_nest"] = out["steady_vs"].get("nest")
    out["first_result_vs_brian2_cpp"] = out["first_result_vs"].get("brian2-cpp")
    out["bytes_per_synapse"] = memr.get("bytes_per_synapse")
    return out
