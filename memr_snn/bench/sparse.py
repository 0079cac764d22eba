r"""Where event-driven wins: a sparsely active network of a million neurons in memr_snn, Brian2 and NEST.

``python benchmarks/sparse_activity.py`` runs :func:`run_sparse` and prints :func:`sparse_table`.

The network
-----------
``N`` current-based LIF neurons (:data:`SPARSE`: ``tau_m = 10 ms``, ``C = 250 pF``, rest and reset
-70 mV, threshold -55 mV, refractory 2 ms, exponential synaptic currents with ``tau_e = 5 ms``), all
at rest at ``t = 0``, and ``n_sources`` input neurons that fire as independent Poisson processes of
``input_rate`` (drawn once, on the ``dt`` grid, at most one spike per source and step):

* **input**: every source projects to ``input_fan_out`` targets drawn uniformly (with replacement)
  among the ``N`` neurons, weight ``w_input = 2 nA``: one input spike lifts a resting target by
  20 mV at its peak, so it fires about 3 ms later;
* **recurrent**: every neuron projects to ``fan_out`` targets drawn the same way, weight
  ``w_recurrent = 0.15 nA`` (1.5 mV at the peak): subthreshold alone; a neuron needs ten near-coincident
  recurrent inputs to fire, so the recurrent synapses carry load (a delivery per spike and target)
  but do not feed activity back (at the default sizes; a small ``N`` with the same input is denser).

Every synapse and every input spike is drawn here, by numpy from ``seed``
(:func:`sparse_arrays`), and handed to each simulator as the same arrays, so the three run the same
network, not the same statistics, and (with no other randomness) nearly the same spikes.  At the
defaults (1000 sources at 5 Hz, fan-out 100 and 10, ``N = 10^6``) about 5000 input spikes per second
each make ~100 neurons fire once: the mean rate is about 0.5 Hz, a neuron is touched about
once per second, and Brian2 and NEST still update all ``N`` neurons at every step.

How each simulator maps it
--------------------------
* **memr_snn**: ``Population(N, LIFParams(...))`` (exact propagator), a ``SpikeSource`` with the
  input spikes, two ``Projection`` objects with ``FromArrays``; synaptic delay one step (memr_snn's
  minimum); ``engine="event"`` (idle neurons cost nothing) and, for contrast, ``engine="dense"``.
* **Brian2** (``cpp_standalone``): a ``NeuronGroup`` with
  ``dv/dt = -(v - El)/taum + ie/C (unless refractory)``, ``die/dt = -ie/taue`` (no inhibitory current:
  nothing drives it), ``method='exact'``, threshold ``v > Vt``, reset ``v = Vr``; a
  ``SpikeGeneratorGroup`` with the input spikes; ``Synapses(..., on_pre='ie += w')`` connected with
  ``connect(i=pre, j=post)``; zero delay (Brian2's default: the spike of step ``k`` acts from step
  ``k + 1``, like memr_snn's one-step delay).
* **NEST**: ``iaf_psc_exp`` (exact integration) with the same constants (``E_L = V_reset = -70 mV``,
  ``V_th = -55 mV``, weights in pA), ``spike_generator`` nodes with the input spike times, the
  synapses by ``Connect`` on the two id arrays (``one_to_one``), delay ``dt`` (NEST's minimum: one
  step later than Brian2 and memr_snn); one thread.  NEST thresholds with ``V_m >= V_th``.  It runs
  only up to :data:`NEST_MAX_NEURONS` neurons by default: it peaked at 3.8 GB at 10^5 neurons and was
  killed for memory past 22 GB at 10^6.

The worker for each simulator is :mod:`memr_snn.bench._sparse_worker` (a fresh process per run).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .launch import _Clock, _short, run_worker
from .report import _fmt_ratio, _fmt_stat
from .stats import ratio, summarize

__all__ = ["SPARSE", "SPARSE_CONTENDERS", "sparse_arrays", "run_sparse", "sparse_table"]

SPARSE = MappingProxyType({
    "tau_mem": 10e-3,  # [s]
    "c_mem": 250e-12,  # [F]
    "v_rest": -70e-3,  # [V]
    "v_reset": -70e-3,  # [V]
    "v_threshold": -55e-3,  # [V]
    "t_ref": 2e-3,  # [s]
    "tau_syn_e": 5e-3,  # [s]
    "tau_syn_i": 5e-3,  # [s] (no inhibitory synapses: memr_snn and NEST carry the state, Brian2 leaves it out)
    "w_input": 2e-9,  # [A]
    "w_recurrent": 0.15e-9,  # [A]
})
"""Neuron and synapse constants of the sparse-activity network, SI units."""

SPARSE_CONTENDERS = ("memr_snn", "memr_snn-dense", "brian2-cpp", "nest")
"""The default contenders of :func:`run_sparse` (it also accepts ``"brian2-numpy"``, Brian2's numpy target,
which needs no compiler: the tests use it)."""
_ACCEPTED = SPARSE_CONTENDERS + ("brian2-numpy",)

NEST_MAX_NEURONS = 200_000
"""NEST runs only up to this size by default: at 10^6 neurons (10^7 synapses) its process grew past
22 GB and was killed for memory on the 23.5 GiB development machine."""

DEFAULTS = MappingProxyType({"n_sources": 1000, "input_rate": 5.0, "input_fan_out": 100, "fan_out": 10,
                             "dt": 1e-4, "seed": 1})


def sparse_arrays(n_neurons: int, duration: float, n_sources: int = 1000, input_rate: float = 5.0,
                  input_fan_out: int = 100, fan_out: int = 10, dt: float = 1e-4, seed: int = 1) -> dict:
    """Input spikes and synapses of the sparse-activity network (every simulator gets these arrays).

    Parameters
    ----------
    n_neurons : int
        Neurons of the population, >= 1.
    duration : float
        Simulated time [s], > 0; input spikes fall on steps ``1 .. round(duration/dt) - 1``.
    n_sources, input_rate, input_fan_out, fan_out : optional
        Input neurons, their Poisson rate [Hz], targets per input neuron, targets per neuron.
    dt : float, optional
        Time step [s].
    seed : int, optional
        Seed of numpy's generator.

    Returns
    -------
    dict of numpy arrays
        ``input_steps`` (int64, sorted) and ``input_sources`` (int64) of the input spikes;
        ``input_pre`` / ``input_post`` (source -> neuron) and ``rec_pre`` / ``rec_post``
        (neuron -> neuron), int64.
    """
    n_neurons, n_sources = int(n_neurons), int(n_sources)
    if n_neurons < 1 or n_sources < 1:
        raise ValueError(f"n_neurons and n_sources must be >= 1, got {n_neurons} and {n_sources}")
    if not (duration > 0 and dt > 0 and input_rate >= 0):
        raise ValueError(f"duration and dt must be > 0 and input_rate >= 0, got {duration}, {dt}, {input_rate}")
    if input_rate * dt >= 1:
        raise ValueError(f"input_rate * dt must be < 1 (one spike per source and step), got {input_rate * dt}")
    rng = np.random.default_rng([int(seed), 17])
    n_steps = int(round(duration / dt))
    # Bernoulli(rate dt) per source and step, drawn as the steps and sources of the hits: the
    # count of hits is binomial, their positions uniform among the (step, source) slots
    slots = n_sources * max(n_steps - 1, 0)
    k = int(rng.binomial(slots, input_rate * dt)) if slots else 0
    hits = np.sort(rng.choice(slots, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)
    input_steps = (hits // n_sources + 1).astype(np.int64)
    input_sources = (hits % n_sources).astype(np.int64)
    input_pre = np.repeat(np.arange(n_sources, dtype=np.int64), int(input_fan_out))
    input_post = rng.integers(0, n_neurons, input_pre.size, dtype=np.int64)
    rec_pre = np.repeat(np.arange(n_neurons, dtype=np.int64), int(fan_out))
    rec_post = rng.integers(0, n_neurons, rec_pre.size, dtype=np.int64)
    return {"input_steps": input_steps, "input_sources": input_sources, "input_pre": input_pre,
            "input_post": input_post, "rec_pre": rec_pre, "rec_post": rec_post}


def _worker_config(contender: str, n: int, duration: float, arrays_path: str, net: dict) -> dict:
    simulator = {"memr_snn": "memr", "memr_snn-dense": "memr", "brian2-cpp": "brian2", "brian2-numpy": "brian2",
                 "nest": "nest"}[contender]
    cfg = {"mode": simulator, "target": "numpy" if contender == "brian2-numpy" else "cpp_standalone",
           "n_neurons": int(n), "duration": float(duration), "arrays": arrays_path,
           "params": dict(SPARSE), **net}
    if simulator == "memr":
        cfg["engine"] = "dense" if contender == "memr_snn-dense" else "event"
    return cfg


def run_sparse(sizes=(100_000, 1_000_000), duration: float = 0.2, repeats: int = 3, contenders=SPARSE_CONTENDERS,
               timeout: float = 3600.0, log=None, nest_max_neurons: int = NEST_MAX_NEURONS, **network) -> dict:
    """Run the sparse-activity network; every run a fresh process, contenders alternated.

    Parameters
    ----------
    sizes : sequence of int
        Population sizes ``N``.
    duration : float
        Simulated time [s].
    repeats : int
        Runs per contender and size (repeat ``r`` starts with contender ``r mod k``).
    contenders : sequence of str
        Among :data:`SPARSE_CONTENDERS` and ``"brian2-numpy"``; one that fails (e.g. not installed) is
        reported and skipped.
    nest_max_neurons : int
        NEST runs only at sizes up to this (:data:`NEST_MAX_NEURONS`); above it the table says so.
    network
        Overrides of :data:`DEFAULTS` (``n_sources``, ``input_rate``, ``input_fan_out``, ``fan_out``,
        ``dt``, ``seed``).

    Returns
    -------
    dict
        ``runs`` (every measurement), ``summary`` (size -> contender -> summaries of ``run_time``,
        ``first_result``, ``peak_rss``, ``n_spikes``), ``ratios`` (size -> contender -> memr_snn's
        (event engine) median over the contender's: ``steady`` of the steady run's CPU time,
        ``steady_wall`` of its wall time, ``first_result`` of the wall time to the first result), ``failures``,
        ``events`` (size -> input spikes, synapses).
    """
    log = log or _Clock()
    unknown = [c for c in contenders if c not in _ACCEPTED]
    if unknown:
        raise ValueError(f"contenders must be among {_ACCEPTED}, got {unknown}")
    net = {**DEFAULTS, **network}
    contenders = list(contenders)
    runs, failures, events = [], [], {}
    disabled: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="memr_snn_sparse_") as tmp:
        for n in sizes:
            arrays = sparse_arrays(n, duration, **net)
            path = os.path.join(tmp, f"net_{n}.npz")
            np.savez(path, **arrays)
            events[str(n)] = {"input_spikes": int(arrays["input_steps"].size),
                              "synapses": int(arrays["input_pre"].size + arrays["rec_pre"].size)}
            del arrays
            for rep in range(int(repeats)):
                k = rep % len(contenders)
                for c in contenders[k:] + contenders[:k]:
                    if c in disabled:
                        continue
                    if c == "nest" and n > nest_max_neurons:
                        if rep == 0:
                            failures.append({"contender": c, "n_neurons": n, "repeat": rep, "error":
                                             f"not run above {nest_max_neurons:,} neurons (memory)"})
                        continue
                    log(f"sparse N = {n:,} repeat {rep + 1}/{repeats}: {c} ...")
                    try:
                        _, meta, total, launch = run_worker(_worker_config(c, n, duration, path, net), timeout,
                                                            worker=_SPARSE_WORKER)
                    except Exception as exc:  # noqa: BLE001 - a failing peer is reported, the run goes on
                        failures.append({"contender": c, "n_neurons": n, "repeat": rep, "error": _short(exc)})
                        log(f"sparse: {c} FAILED ({_short(exc)}); skipped from now on")
                        disabled.add(c)
                        continue
                    run = {"contender": c, "n_neurons": n, "repeat": rep, "total_time": total,
                           "first_result": meta["end_wall"] - launch, **meta}
                    runs.append(run)
                    log(f"sparse N = {n:,}: {c} run {meta['run_time']:.3f} s, first result "
                        f"{run['first_result']:.1f} s, {meta['n_spikes']} spikes")
    summary: dict = {}
    ratios: dict = {}
    for n in sizes:
        mine = {c: [r for r in runs if r["contender"] == c and r["n_neurons"] == n] for c in contenders}
        summary[str(n)] = {c: {k: summarize([r[k] for r in rs]) for k in
                               ("run_time", "run_cpu", "first_result", "build_time", "peak_rss", "n_spikes")}
                           for c, rs in mine.items() if rs}
        memr = summary[str(n)].get("memr_snn")
        # like with like: CPU time with CPU time (on a shared machine a process's wall time also counts the
        # time others held the cores), and wall time with wall time
        ratios[str(n)] = {c: {"steady": ratio(memr["run_cpu"], s["run_cpu"]) if memr else None,
                              "steady_wall": ratio(memr["run_time"], s["run_time"]) if memr else None,
                              "first_result": ratio(memr["first_result"], s["first_result"]) if memr else None}
                          for c, s in summary[str(n)].items() if c != "memr_snn"}
    return {"sizes": [int(n) for n in sizes], "duration": float(duration), "repeats": int(repeats),
            "network": net, "params": dict(SPARSE), "runs": runs, "summary": summary, "ratios": ratios,
            "failures": failures, "events": events}


_SPARSE_WORKER = Path(__file__).with_name("_sparse_worker.py")


def sparse_table(res: dict) -> list[str]:
    """Markdown lines: one row per size and contender, ratios of memr_snn's event engine to each."""
    net = res["network"]
    lines = [
        (f"{net['n_sources']} Poisson inputs at {net['input_rate']:g} Hz, {net['input_fan_out']} targets each; "
         f"{net['fan_out']} recurrent targets per neuron; T = {res['duration']:g} s, dt = {net['dt'] * 1e3:g} ms; "
         f"median (min–max) of {res['repeats']} fresh process(es) per contender, alternated."),
        "",
        ("| N | contender | runs | steady run, CPU [s] | steady run, wall [s] | first result [s] | peak RSS [MiB] | "
         "spikes | memr_snn ÷ this, steady CPU | memr_snn ÷ this, steady wall | memr_snn ÷ this, first result |"),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in res["sizes"]:
        ev = res["events"][str(n)]
        for c, s in res["summary"][str(n)].items():
            r = res["ratios"][str(n)].get(c, {})
            cpu = _fmt_stat(s["run_cpu"]) if s["run_cpu"].get("n") else "–"
            wall = _fmt_stat(s["run_time"]) if s["run_time"].get("n") else "–"
            lines.append(f"| {n:,} | {c} | {s['n_spikes']['n']} | {cpu} | {wall} | "
                         f"{_fmt_stat(s['first_result'])} | {s['peak_rss']['median'] / 2**20:.0f} | "
                         f"{s['n_spikes']['median']:.0f} | {_fmt_ratio(r.get('steady'))} | "
                         f"{_fmt_ratio(r.get('steady_wall'))} | {_fmt_ratio(r.get('first_result'))} |")
        lines.append(f"| {n:,} | (network) | | {ev['input_spikes']} input spikes | | {ev['synapses']:,} synapses "
                     "| | | | | |")
    for f in res["failures"]:
        lines.append(f"| {f['n_neurons']:,} | {f['contender']} | failed: {f['error'][:120]} | | | | | | | | |")
    return lines
