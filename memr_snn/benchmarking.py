r"""Benchmark suite: memr_snn against Brian2 and NEST on the same machine, in one run.

``memr-snn bench`` (or ``python benchmarks/run_all.py``) calls :func:`main`.  It measures

* the Vogels–Abbott **CUBA** and **COBA** networks (:mod:`memr_snn.networks`,
  :mod:`memr_snn.peers`) at N = 4000 (1 s and 10 s of biological time), 16000 and
  64000 neurons, and a CUBA-like **ALIF** network (:func:`alif_network`), in memr_snn,
  Brian2 (``cython`` and ``cpp_standalone``) and NEST (one thread; CUBA and COBA only);
* synapse storage of memr_snn (``Network.synapse_bytes() / Network.n_synapses``);
* **event-driven scaling**: a fixed input (the same spikes onto the same 1000 neurons) into
  an idle LIF population of 10k, 100k and 1M neurons (:func:`scaling_network`), with the
  dense engine for contrast at the smaller sizes;
* **cold start**: time to a first result with empty compiler caches (memr_snn's numba
  cache, Brian2's Cython cache) next to the warm-cache numbers.

Methodology
-----------
Every run of every contender happens in a **fresh Python subprocess** (memr_snn in
:mod:`memr_snn._bench_worker`, the peers through :mod:`memr_snn.peers`), so each one pays
its own import, build and compilation, and its peak RSS is its own.  Within one case
(model, N, T) the contenders are **alternated** (repeat ``r`` starts with contender
``r mod k``), each repeat runs every contender once, and the table reports the **median**
with the min–max range.  Ratios are memr_snn's median over the peer's median from the same
run.  Before a case is timed, caches are warmed: numba's cache once for the suite, and
Brian2's Cython cache for the case by one short unmeasured run at the same N (Brian2
freezes constants such as ``p = 80/N`` into the generated code, so each N has its own
cache entries).  Brian2 ``cpp_standalone`` compiles every run (fresh build folder).

What each time means, per contender:

build
    memr_snn: the network object with its synapses drawn.  Brian2: groups and
    ``connect``; cpp_standalone adds code generation and ``make``.  NEST: Create and
    Connect.
first run
    The first call that runs the simulation in the fresh process.  memr_snn: the first
    ``run(T)`` (engine arrays built, kernels loaded from numba's cache or compiled).
    Brian2 runtime targets: the first ``Network.run(T)``.  cpp_standalone: the binary
    (which also creates the synapses and writes its results).  NEST:
    Prepare + Run + Cleanup.
steady run
    The simulation with everything compiled.  memr_snn: ``run(T)`` of an identical,
    freshly rebuilt network in the same process, engine arrays prepared beforehand
    (``run_steps(0)``).  Brian2 runtime targets: the identical second ``run(T)`` after
    ``Network.restore``.  cpp_standalone: Brian2's ``_last_run_time`` (the loop inside
    the binary).  NEST: ``Run(T)`` after ``Prepare``.
first result
    Launch of the process to the end of its first run.  Exact for memr_snn and for the
    ALIF worker; for Brian2 runtime targets on CUBA/COBA the process time less its
    second (steady) run, marked ``≈``; for cpp_standalone and NEST the process time.
peak RSS
    The peak resident set size of the process; for cpp_standalone that of the compiled
    binary alone (the Python process's is in the JSON as ``peak_rss_python``).

For the ALIF network Brian2 runs in this module's own worker (equations in
:func:`memr_snn._bench_worker._run_brian2`), where the first result is measured exactly.
NEST has no model with this adaptive threshold on ``iaf_psc_exp`` dynamics (its
``amat2_psc_exp`` does not reset ``V_m``), so ALIF has no NEST column.

Examples
--------
>>> from memr_snn.benchmarking import summarize
>>> s = summarize([3.0, 1.0, 2.0])
>>> s["median"], s["min"], s["max"]
(2.0, 1.0, 3.0)
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib.util
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .io.atomic import write_text

__all__ = [
    "MODELS",
    "PEERS",
    "CONTENDERS",
    "Case",
    "BenchConfig",
    "alif_network",
    "scaling_network",
    "summarize",
    "ratio",
    "plan_cases",
    "config_from_args",
    "peer_availability",
    "run_suite",
    "run_scaling",
    "format_markdown",
    "command_line",
    "main",
]

MODELS = ("cuba", "coba", "alif")
"""Networks the suite knows."""

PEERS = ("brian2-cython", "brian2-cpp", "nest")
"""Default contenders besides memr_snn."""

CONTENDERS = ("memr_snn", "brian2-cython", "brian2-cpp", "nest", "brian2-numpy")
"""Every contender name :func:`config_from_args` accepts (``brian2-numpy`` on request only)."""

_BRIAN2_TARGET = {"brian2-cython": "cython", "brian2-cpp": "cpp_standalone", "brian2-numpy": "numpy"}

DEFAULT_SIZES = (4000, 16000, 64000)
DURATION = 1.0  # [s] biological time of every case
LONG_DURATION = 10.0  # [s] the extra long case at the smallest size
QUICK_SIZES = (1000,)
QUICK_DURATION = 0.2  # [s]
BIG_NEURONS = 64000
"""Cases with at least this many neurons, or with ``LONG_DURATION``, are "big": they run
``max(1, repeats // 3)`` repeats so that a full run stays near 25 minutes on a 2-core
machine (NEST's COBA alone takes minutes there)."""

SCALING_SIZES = (10_000, 100_000, 1_000_000)
SCALING_DENSE_SIZES = (10_000, 100_000)
QUICK_SCALING_SIZES = (10_000, 100_000)
QUICK_SCALING_DENSE_SIZES = (10_000,)
SCALING_GROWTH_TARGET = 1.5

TARGETS = {
    "steady_vs_fastest_peer": 0.5,
    "steady_vs_nest": 0.1,
    "first_result_vs_brian2_cpp": 0.2,
    "bytes_per_synapse": 12.0,
    "event_growth": SCALING_GROWTH_TARGET,
}
"""Goals from the benchmark issue; the tables mark each measured value against them."""

ALIF_TAU_ADAPT = 0.2  # [s]  (memr_snn.networks.ALIF_PARAMS; a test pins the equality)
ALIF_BETA_ADAPT = 1.8e-3  # [V]
DT = 1e-4  # [s]
SEED = 1
RUN_TIMEOUT = 3600.0  # [s] per subprocess

_WORKER = Path(__file__).with_name("_bench_worker.py")


# --------------------------------------------------------------------------------------
# networks
# --------------------------------------------------------------------------------------
def alif_network(n: int = 4000, seed: int = 1, dt: float = DT, engine: str = "auto", record: bool = True):
    """The benchmark's ALIF network: :func:`memr_snn.networks.cuba_alif`."""
    from .networks import cuba_alif

    return cuba_alif(n=n, seed=seed, dt=dt, engine=engine, record=record)


def _alif_brian2_params() -> dict:
    """Constants for the Brian2 ALIF worker: :data:`memr_snn.peers.CUBA` plus adaptation."""
    from .peers import CUBA

    return {**dict(CUBA), "tau_adapt": ALIF_TAU_ADAPT, "beta_adapt": ALIF_BETA_ADAPT}


def scaling_network(
    n_neurons: int,
    engine: str,
    dt: float = DT,
    duration: float = 1.0,
    warmup: float = 0.01,
    seed: int = SEED,
    n_sources: int = 100,
    n_targets: int = 1000,
    n_input_spikes: int = 2000,
    fan_out: int = 50,
    weight: float = 50e-12,
):
    """An idle LIF population of ``n_neurons`` driven by a fixed set of input spikes.

    ``n_sources`` spike sources emit ``n_input_spikes`` spikes at distinct (step, source)
    pairs drawn uniformly in ``[warmup, warmup + duration)``; each source projects to ``fan_out`` neurons among the
    first ``min(n_targets, n_neurons)`` of the population.  The input, and so the number of
    synaptic events, is the same at every size; with default :class:`memr_snn.LIFParams`
    (rest -70 mV, threshold -55 mV, 250 pF) and 50 pA synapses every neuron stays
    below threshold (the returned monitor counts any spike), so an event-driven engine
    should cost the same at 10k and at 1M neurons.

    Returns
    -------
    net : memr_snn.Network
    monitor : memr_snn.SpikeMonitor
        Spikes of the idle population (expected: none).
    info : dict
        ``input_spikes``, ``synaptic_events`` and ``targets``.
    """
    from . import FromArrays, LIFParams, Network, Population, Projection, SpikeMonitor, SpikeSource

    rng = np.random.default_rng([seed, 99])
    warm_steps = int(round(warmup / dt))
    n_steps = int(round(duration / dt))
    if n_input_spikes > n_steps * n_sources:
        raise ValueError(f"n_input_spikes must be <= {n_steps * n_sources} (one spike per source and step), "
                         f"got {n_input_spikes}")
    # distinct (step, source) pairs: a source spikes at most once per step
    slots = np.sort(rng.choice(n_steps * n_sources, size=n_input_spikes, replace=False))
    steps, idx = slots // n_sources, slots % n_sources
    targets = min(n_targets, n_neurons)
    pre = np.repeat(np.arange(n_sources), fan_out)
    post = rng.integers(0, targets, pre.size)
    net = Network(dt=dt, seed=seed, engine=engine)
    src = net.add(SpikeSource(n_sources, (warm_steps + steps) * dt, idx, name="input"))
    pop = net.add(Population(n_neurons, LIFParams(), name="idle"))
    net.add(Projection(src, pop, FromArrays(pre, post), weight=weight, receptor="exc"))
    mon = net.add(SpikeMonitor(pop))
    info = {"input_spikes": int(n_input_spikes), "synaptic_events": int(n_input_spikes * fan_out),
            "targets": int(targets)}
    return net, mon, info


# --------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Case:
    """One network configuration, run ``repeats`` times by every contender."""

    model: str
    n_neurons: int
    duration: float
    """Biological time [s]."""
    repeats: int

    @property
    def key(self) -> str:
        return f"{self.model}-{self.n_neurons}-{self.duration:g}s"


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    """Everything one suite run does (built from the CLI by :func:`config_from_args`)."""

    cases: tuple[Case, ...]
    contenders: tuple[str, ...]
    """memr_snn first, then the peers that will run."""
    skipped: dict
    """Peer name -> why it does not run."""
    scaling_sizes: tuple[int, ...] = SCALING_SIZES
    scaling_dense_sizes: tuple[int, ...] = SCALING_DENSE_SIZES
    scaling_duration: float = 1.0
    scaling_repeats: int = 3
    cold_repeats: int = 3
    """Repeats of the cold-cache measurement (0: skip it)."""
    quick: bool = False
    seed: int = SEED
    dt: float = DT
    timeout: float = RUN_TIMEOUT
    notes: tuple[str, ...] = ()


def plan_cases(models, sizes, duration: float, long_duration: float | None, repeats: int) -> tuple[Case, ...]:
    """Cases model by model: every size at ``duration``, plus ``long_duration`` at the smallest.

    Big cases (``n >= BIG_NEURONS`` or the long one) get ``max(1, repeats // 3)`` repeats.
    """
    big_repeats = max(1, repeats // 3)
    cases = []
    for model in models:
        for n in sizes:
            big = n >= BIG_NEURONS
            cases.append(Case(model, int(n), float(duration), big_repeats if big else repeats))
            if long_duration is not None and n == min(sizes):
                cases.append(Case(model, int(n), float(long_duration), big_repeats))
    return tuple(cases)


def _has_compiler() -> str | None:
    for name in ("c++", "g++", "clang++"):
        path = shutil.which(name)
        if path:
            return name
    return None


def peer_availability(peers) -> tuple[list[str], dict[str, str]]:
    """Which of ``peers`` can run here, and why the others cannot (never imports them)."""
    ok, skipped = [], {}
    have_brian2 = importlib.util.find_spec("brian2") is not None
    for peer in peers:
        if peer.startswith("brian2"):
            if not have_brian2:
                skipped[peer] = "brian2 is not installed (pip install 'memr_snn[peers]')"
            elif peer == "brian2-cpp" and (_has_compiler() is None or shutil.which("make") is None):
                skipped[peer] = "cpp_standalone needs a C++ compiler and make on PATH"
            elif peer == "brian2-cython" and (importlib.util.find_spec("Cython") is None or _has_compiler() is None):
                skipped[peer] = "the cython target needs Cython and a C compiler"
            else:
                ok.append(peer)
        elif peer == "nest":
            if importlib.util.find_spec("nest") is None:
                skipped[peer] = "NEST is not installed (pip install 'memr_snn[peers]')"
            else:
                ok.append(peer)
        else:  # validated before
            raise ValueError(f"unknown peer {peer!r}")
    return ok, skipped


def config_from_args(args) -> BenchConfig:
    """Turn the parsed ``memr-snn bench`` arguments into a :class:`BenchConfig`."""
    quick = bool(getattr(args, "quick", False))
    repeats = getattr(args, "repeats", None)
    repeats = 3 if repeats is None else int(repeats)
    if repeats < 1:
        raise ValueError(f"--repeats must be >= 1, got {repeats}")
    models = tuple(args.models) if getattr(args, "models", None) else MODELS
    for m in models:
        if m not in MODELS:
            raise ValueError(f"--models: unknown model {m!r}; known: {', '.join(MODELS)}")
    sizes = tuple(args.sizes) if getattr(args, "sizes", None) else (QUICK_SIZES if quick else DEFAULT_SIZES)
    for n in sizes:
        if n < 80:
            raise ValueError(f"--sizes: every size must be >= 80 (connection probability 80/N), got {n}")
    notes = []
    peers_arg = getattr(args, "peers", None)
    if peers_arg is None:
        peers = list(PEERS)
        if quick:
            peers.remove("brian2-cpp")
            notes.append("--quick: brian2-cpp (cpp_standalone, ~20 s of compilation per run) is left out; "
                         "name it with --peers to include it")
    elif [p.lower() for p in peers_arg] == ["none"]:
        peers = []
        notes.append("--peers none: memr_snn only")
    else:
        peers = []
        for p in peers_arg:
            if p not in CONTENDERS or p == "memr_snn":
                raise ValueError(f"--peers: unknown peer {p!r}; known: {', '.join(CONTENDERS[1:])} or 'none'")
            if p not in peers:
                peers.append(p)
    available, skipped = peer_availability(peers)
    if quick:
        repeats = 1
        notes.append(f"--quick: sizes {', '.join(map(str, sizes))}, {QUICK_DURATION:g} s of biological time, "
                     "1 repeat, no Cython cache warm-up and no cold-cache measurement: a smoke test, not a measurement")
        cases = plan_cases(models, sizes, QUICK_DURATION, None, 1)
    else:
        cases = plan_cases(models, sizes, DURATION, LONG_DURATION, repeats)
        if any(c.repeats < repeats for c in cases):
            notes.append(f"big cases (N >= {BIG_NEURONS} or {LONG_DURATION:g} s) run max(1, repeats // 3) = "
                         f"{max(1, repeats // 3)} repeat(s) instead of {repeats}, to keep the full run near "
                         "25 minutes on a 2-core machine")
        notes.append(f"cold start (empty caches; Brian2 cython then compiles for ~40 s): "
                     f"{max(1, repeats // 3)} run(s) per contender")
    for peer, why in skipped.items():
        notes.append(f"{peer} skipped: {why}")
    return BenchConfig(
        cases=cases,
        contenders=("memr_snn", *available),
        skipped=skipped,
        scaling_sizes=QUICK_SCALING_SIZES if quick else SCALING_SIZES,
        scaling_dense_sizes=QUICK_SCALING_DENSE_SIZES if quick else SCALING_DENSE_SIZES,
        scaling_duration=QUICK_DURATION if quick else 1.0,
        scaling_repeats=1 if quick else repeats,
        cold_repeats=0 if quick else max(1, repeats // 3),
        quick=quick,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------
class _Clock:
    """Progress lines on stderr with the suite's elapsed time."""

    def __init__(self, stream=None):
        self.t0 = time.perf_counter()
        self.stream = stream

    def __call__(self, msg: str) -> None:
        el = time.perf_counter() - self.t0
        stream = self.stream if self.stream is not None else sys.stderr
        print(f"[bench {int(el // 60):02d}:{int(el % 60):02d}] {msg}", file=stream, flush=True)


def _launch(cfg: dict, timeout: float, env_extra: dict | None = None) -> tuple[dict, float, float]:
    """Run the bench worker in a fresh interpreter; returns (meta, process time, launch wall time)."""
    env = dict(os.environ)
    env.update(env_extra or {})
    with tempfile.TemporaryDirectory(prefix="memr_snn_bench_") as tmp:
        out = os.path.join(tmp, "result.json")
        launch_wall = time.time()
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(_WORKER), json.dumps(cfg), out], capture_output=True, text=True,
                              env=env, cwd=tmp, timeout=timeout, check=False)
        total = time.perf_counter() - t0
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stdout[-2000:] + "\n" + proc.stderr[-4000:]).strip()
            raise RuntimeError(f"bench worker ({cfg.get('mode')}) failed with exit status {proc.returncode}:\n{tail}")
        with open(out) as fh:
            meta = json.load(fh)
    return meta, total, launch_wall


def _sample(contender: str, case: Case, rep: int, **fields) -> dict:
    n_spikes = fields.get("n_spikes")
    rate = None if n_spikes is None else n_spikes / (case.n_neurons * case.duration)
    return {"contender": contender, "case": case.key, "repeat": rep, "rate_hz": rate, **fields}


def _run_memr(case: Case, rep: int, cfg: BenchConfig, cold: bool = False) -> dict:
    wcfg = {"mode": "memr", "model": case.model, "n_neurons": case.n_neurons, "duration": case.duration,
            "dt": cfg.dt, "seed": cfg.seed}
    with tempfile.TemporaryDirectory(prefix="memr_snn_numba_cold_") as cache:
        env = {"NUMBA_CACHE_DIR": cache} if cold else None
        meta, total, launch = _launch(wcfg, cfg.timeout, env)
    extra = {k: meta[k] for k in ("import_time", "rebuild_time", "prepare_time", "engine", "synapse_bytes",
                                  "repeat_identical", "worker_time")}
    extra["bytes_per_synapse"] = meta["synapse_bytes"] / max(meta["n_synapses"], 1)
    extra["cold_cache"] = cold
    return _sample("memr_snn", case, rep, version=meta["version"], build_time=meta["build_time"],
                   first_run_time=meta["first_run_time"], run_time=meta["run_time"],
                   first_result_time=meta["first_result_wall"] - launch, first_result_exact=True,
                   total_time=total, peak_rss=meta["peak_rss"], n_spikes=meta["n_spikes"],
                   n_synapses=meta["n_synapses"], extra=extra)


def _run_peer(peer: str, case: Case, rep: int, cfg: BenchConfig, cache_dir: str | None = None) -> dict:
    if case.model == "alif":
        return _run_brian2_alif(peer, case, rep, cfg)
    from .peers import run_brian2, run_nest

    if peer == "nest":
        r = run_nest(case.model, case.n_neurons, case.duration, seed=cfg.seed, dt=cfg.dt, threads=1,
                     record_spikes=True, timeout=cfg.timeout)
    else:
        r = run_brian2(case.model, case.n_neurons, case.duration, seed=cfg.seed, dt=cfg.dt,
                       target=_BRIAN2_TARGET[peer], record_spikes=True, cache_dir=cache_dir, timeout=cfg.timeout)
    runtime_target = r.target in ("cython", "numpy")
    # The runtime-target worker runs twice (first run, restore, steady run): its first
    # result came about one steady run before the process ended.
    first_result = r.total_time - r.run_time if runtime_target else r.total_time
    extra = {"import_time": r.import_time, "compile_time": r.compile_time, "threads": r.threads, **r.extra}
    extra["cold_cache"] = cache_dir is not None
    return _sample(peer, case, rep, version=r.version, build_time=r.build_time, first_run_time=r.first_run_time,
                   run_time=r.run_time, first_result_time=first_result, first_result_exact=not runtime_target,
                   total_time=r.total_time, peak_rss=r.peak_rss, n_spikes=r.n_spikes, n_synapses=r.n_synapses,
                   extra=extra)


def _run_brian2_alif(peer: str, case: Case, rep: int, cfg: BenchConfig) -> dict:
    if peer not in _BRIAN2_TARGET:
        raise ValueError(f"{peer} has no ALIF network in this suite")
    n = case.n_neurons
    wcfg = {"mode": "brian2", "model": "alif", "target": _BRIAN2_TARGET[peer], "n_neurons": n,
            "n_exc": (4 * n) // 5, "p_connect": 80.0 / n, "duration": case.duration, "dt": cfg.dt,
            "seed": cfg.seed, "params": _alif_brian2_params()}
    meta, total, launch = _launch(wcfg, cfg.timeout)
    known = {"version", "build_time", "first_run_time", "run_time", "first_result_wall", "peak_rss", "n_spikes",
             "n_synapses"}
    return _sample(peer, case, rep, version=meta["version"], build_time=meta["build_time"],
                   first_run_time=meta["first_run_time"], run_time=meta["run_time"],
                   first_result_time=meta["first_result_wall"] - launch, first_result_exact=True,
                   total_time=total, peak_rss=meta["peak_rss"], n_spikes=meta["n_spikes"],
                   n_synapses=meta["n_synapses"], extra={k: v for k, v in meta.items() if k not in known})


def _contenders_for(model: str, contenders) -> tuple[list[str], dict[str, str]]:
    out, skipped = [], {}
    for c in contenders:
        if model == "alif" and c == "nest":
            skipped[c] = ("no NEST model has this adaptive threshold on iaf_psc_exp dynamics "
                          "(amat2_psc_exp does not reset V_m)")
        else:
            out.append(c)
    return out, skipped


def _run_one(contender: str, case: Case, rep: int, cfg: BenchConfig) -> dict:
    if contender == "memr_snn":
        return _run_memr(case, rep, cfg)
    return _run_peer(contender, case, rep, cfg)


def _summaries(samples: list[dict]) -> dict:
    out = {}
    for c in dict.fromkeys(s["contender"] for s in samples):
        mine = [s for s in samples if s["contender"] == c]
        summ = {k: summarize([s.get(k) for s in mine])
                for k in ("build_time", "first_run_time", "run_time", "first_result_time", "total_time",
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
    out: dict = {"steady_vs": {}, "first_result_vs": {}}
    for c, s in peers.items():
        out["steady_vs"][c] = ratio(memr["run_time"], s["run_time"])
        out["first_result_vs"][c] = ratio(memr["first_result_time"], s["first_result_time"])
    if peers:
        fastest = min(peers, key=lambda c: peers[c]["run_time"]["median"])
        out["fastest_peer"] = fastest
        out["steady_vs_fastest_peer"] = out["steady_vs"][fastest]
    out["steady_vs_nest"] = out["steady_vs"].get("nest")
    out["first_result_vs_brian2_cpp"] = out["first_result_vs"].get("brian2-cpp")
    out["bytes_per_synapse"] = memr.get("bytes_per_synapse")
    return out


def _warm_cython(case: Case, cfg: BenchConfig, log) -> None:
    """One short unmeasured Brian2 run at this N, so the Cython cache holds this case's code."""
    warm = Case(case.model, case.n_neurons, 20 * cfg.dt, 1)
    log(f"{case.key}: warming Brian2's Cython cache (unmeasured run of {warm.duration * 1e3:g} ms)")
    _run_peer("brian2-cython", warm, -1, cfg)


def run_case(case: Case, cfg: BenchConfig, log, disabled: dict, ran: set) -> dict:
    """Run every contender ``case.repeats`` times, alternating; returns the case record.

    ``disabled`` (contender -> reason) and ``ran`` (contenders that succeeded at least
    once) carry across cases: a peer that fails before it ever succeeded is disabled.
    """
    contenders, skipped = _contenders_for(case.model, cfg.contenders)
    contenders = [c for c in contenders if c not in disabled]
    failures = []
    if "brian2-cython" in contenders and not cfg.quick:
        try:
            _warm_cython(case, cfg, log)
        except Exception as exc:  # noqa: BLE001 - a failing peer must not stop the suite
            failures.append({"contender": "brian2-cython", "repeat": -1, "error": _short(exc)})
            log(f"{case.key}: brian2-cython warm-up FAILED, skipping it for this case: {_short(exc)}")
            contenders.remove("brian2-cython")
            _disable_if_never_ran(disabled, ran, "brian2-cython", exc)
    samples = []
    dropped: set[str] = set()
    k = len(contenders)
    for rep in range(case.repeats):
        order = contenders[rep % k:] + contenders[: rep % k] if k else []
        for c in order:
            if c in dropped:
                continue
            log(f"{case.key} repeat {rep + 1}/{case.repeats}: {c} ...")
            t0 = time.perf_counter()
            try:
                s = _run_one(c, case, rep, cfg)
            except Exception as exc:  # noqa: BLE001 - a failing peer must not stop the suite
                failures.append({"contender": c, "repeat": rep, "error": _short(exc)})
                log(f"{case.key} repeat {rep + 1}/{case.repeats}: {c} FAILED ({_short(exc)}); skipped for this case")
                dropped.add(c)
                _disable_if_never_ran(disabled, ran, c, exc)
                continue
            samples.append(s)
            ran.add(c)
            log(f"{case.key} repeat {rep + 1}/{case.repeats}: {c} steady {s['run_time']:.3f} s, first result "
                f"{s['first_result_time']:.2f} s, {s['n_spikes']} spikes ({time.perf_counter() - t0:.1f} s)")
    summ = _summaries(samples)
    return {"model": case.model, "n_neurons": case.n_neurons, "duration": case.duration, "repeats": case.repeats,
            "key": case.key, "contenders": contenders, "skipped": skipped, "failures": failures,
            "samples": samples, "summary": summ, "ratios": _ratios(summ)}


def _disable_if_never_ran(disabled: dict, ran: set, contender: str, exc: Exception) -> None:
    """A contender that fails before ever succeeding is broken here: stop trying it."""
    if contender not in ran and contender != "memr_snn":
        disabled[contender] = f"failed on its first run: {_short(exc)}"


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) <= 2:
        return " | ".join(lines)
    return lines[0] + " | ... | " + lines[-1]


def run_cold(cfg: BenchConfig, cases: list[dict], log) -> dict | None:
    """First result with empty caches: memr_snn (fresh ``NUMBA_CACHE_DIR``) and Brian2 cython."""
    if cfg.cold_repeats < 1:
        return None
    small = [c for c in cfg.cases if c.model == "cuba" and c.duration == DURATION]
    if not small:
        small = [c for c in cfg.cases if c.duration == DURATION] or list(cfg.cases)
    if not small:
        return None
    base = min(small, key=lambda c: c.n_neurons)
    case = Case(base.model, base.n_neurons, base.duration, cfg.cold_repeats)
    contenders = ["memr_snn"] + [c for c in ("brian2-cython",) if c in cfg.contenders]
    samples, failures = [], []
    for rep in range(case.repeats):
        order = contenders[rep % len(contenders):] + contenders[: rep % len(contenders)]
        for c in order:
            log(f"cold start {case.key} repeat {rep + 1}/{case.repeats}: {c} with an empty cache ...")
            try:
                if c == "memr_snn":
                    s = _run_memr(case, rep, cfg, cold=True)
                else:
                    with tempfile.TemporaryDirectory(prefix="memr_snn_cython_cold_") as cache:
                        s = _run_peer(c, case, rep, cfg, cache_dir=cache)
            except Exception as exc:  # noqa: BLE001
                failures.append({"contender": c, "repeat": rep, "error": _short(exc)})
                log(f"cold start: {c} FAILED ({_short(exc)})")
                continue
            samples.append(s)
            log(f"cold start {case.key}: {c} first run {s['first_run_time']:.2f} s, first result "
                f"{s['first_result_time']:.2f} s")
    summ = _summaries(samples)
    warm = next((c for c in cases if c["key"] == case.key), None)
    warm_summ = warm["summary"] if warm else {}
    cpp = warm_summ.get("brian2-cpp")
    return {"key": case.key, "model": case.model, "n_neurons": case.n_neurons, "duration": case.duration,
            "repeats": case.repeats, "samples": samples, "failures": failures, "summary": summ,
            "warm_summary": {c: warm_summ[c] for c in contenders if c in warm_summ},
            "brian2_cpp_first_result": None if cpp is None else cpp["first_result_time"],
            "ratios_vs_brian2_cpp": {c: ratio(s["first_result_time"], None if cpp is None else cpp["first_result_time"])
                                     for c, s in summ.items()}}


def run_scaling(sizes=SCALING_SIZES, dense_sizes=SCALING_DENSE_SIZES, duration: float = 1.0, repeats: int = 3,
                dt: float = DT, seed: int = SEED, warmup: float = 0.01, timeout: float = RUN_TIMEOUT,
                log=None) -> dict:
    """The event-driven scaling experiment (:func:`scaling_network`) in one fresh process.

    Sizes and engines are interleaved and their order rotated between repeats; each run is
    timed after a short warm-up run (``warmup`` seconds, before the first input spike)
    that builds the engine arrays and lets every neuron go idle.

    Returns
    -------
    dict
        ``runs`` (every measurement), ``event`` / ``dense`` (size -> summary of run time),
        ``event_growth`` (median at the largest over the smallest event size) and the input.
    """
    log = log or _Clock()
    wcfg = {"mode": "scaling", "sizes": [int(n) for n in sizes], "dense_sizes": [int(n) for n in dense_sizes],
            "duration": float(duration), "warmup": float(warmup), "repeats": int(repeats), "dt": float(dt),
            "seed": int(seed)}
    log(f"event-driven scaling: {', '.join(map(str, sizes))} neurons (event), "
        f"{', '.join(map(str, dense_sizes))} (dense), {repeats} repeat(s), one fresh process")
    meta, total, _ = _launch(wcfg, timeout)
    runs = meta["runs"]
    res: dict = {"sizes": list(sizes), "dense_sizes": list(dense_sizes), "duration": duration, "repeats": repeats,
                 "warmup": warmup, "runs": runs, "process_time": total, "peak_rss": meta["peak_rss"]}
    for engine, ns in (("event", sizes), ("dense", dense_sizes)):
        res[engine] = {str(n): summarize([r["run_time"] for r in runs if r["engine"] == engine
                                          and r["n_neurons"] == n]) for n in ns}
    res["idle_spikes"] = int(sum(r["idle_spikes"] for r in runs))
    if runs:
        res["input_spikes"] = runs[0]["input_spikes"]
        res["synaptic_events"] = runs[0]["synaptic_events"]
        res["targets"] = runs[0]["targets"]
    res["event_growth"] = ratio(res["event"].get(str(max(sizes))), res["event"].get(str(min(sizes)))) if sizes else None
    res["dense_growth"] = (ratio(res["dense"].get(str(max(dense_sizes))), res["dense"].get(str(min(dense_sizes))))
                           if dense_sizes else None)
    log(f"event-driven scaling done: growth {min(sizes)} -> {max(sizes)} neurons = "
        f"{_fmt_ratio(res['event_growth'])}x ({total:.1f} s)")
    return res


def _versions(cases: list[dict]) -> dict:
    import platform

    from . import __version__

    out = {"memr_snn": __version__, "python": platform.python_version()}
    for mod in ("numpy", "numba", "scipy"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:  # pragma: no cover
            out[mod] = None
    for case in cases:
        for c, s in case["summary"].items():
            if c != "memr_snn":
                out.setdefault("brian2" if c.startswith("brian2") else c, s["version"])
    return out


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or None


def run_suite(cfg: BenchConfig, out: Path | None = None, command: str = "", log=None) -> dict:
    """Run every case, the cold-start and the scaling measurements; returns the JSON document.

    When ``out`` is given, ``bench.json`` is rewritten after every case (``complete`` is
    false until the end), so a long run that is interrupted keeps what it measured.
    """
    from .info import collect_info

    log = log or _Clock()
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()
    doc: dict = {
        "command": command, "argv": list(sys.argv), "started": started.isoformat(timespec="seconds"),
        "complete": False, "quick": cfg.quick, "machine": collect_info(), "cpu_model": _cpu_model(),
        "config": _jsonable(dataclasses.asdict(cfg)), "targets": TARGETS, "notes": list(cfg.notes),
        "skipped": dict(cfg.skipped), "disabled": {}, "cases": [], "cold": None, "scaling": None,
    }
    for note in cfg.notes:
        log(f"note: {note}")

    def save():
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            write_text(out / "bench.json", json.dumps(_jsonable(doc), indent=1))

    models = list(dict.fromkeys(c.model for c in cfg.cases))
    log(f"{len(cfg.cases)} cases, contenders: {', '.join(cfg.contenders)}; warming numba's cache for "
        f"{', '.join(models)}")
    try:
        _launch({"mode": "warmup", "models": models, "dt": cfg.dt}, cfg.timeout)
    except Exception as exc:  # noqa: BLE001 - the runs below report the real error
        log(f"numba warm-up failed: {_short(exc)}")
    disabled, ran = doc["disabled"], set()
    for case in cfg.cases:
        log(f"case {case.key}: {case.repeats} repeat(s)")
        doc["cases"].append(run_case(case, cfg, log, disabled, ran))
        save()
    try:
        doc["cold"] = run_cold(cfg, doc["cases"], log)
    except Exception as exc:  # noqa: BLE001
        doc["cold"] = {"error": _short(exc)}
    save()
    if cfg.scaling_sizes:
        try:
            doc["scaling"] = run_scaling(cfg.scaling_sizes, cfg.scaling_dense_sizes, cfg.scaling_duration,
                                         cfg.scaling_repeats, cfg.dt, cfg.seed, timeout=cfg.timeout, log=log)
        except Exception as exc:  # noqa: BLE001
            log(f"event-driven scaling FAILED: {_short(exc)}")
            doc["scaling"] = {"error": _short(exc)}
    for c, why in disabled.items():
        doc["notes"].append(f"{c} disabled after failing: {why}")
    doc["versions"] = _versions(doc["cases"])
    doc["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    doc["wall_time"] = time.perf_counter() - t0
    doc["complete"] = True
    save()
    return doc


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


# --------------------------------------------------------------------------------------
# markdown
# --------------------------------------------------------------------------------------
def _fmt_s(x: float | None) -> str:
    """Seconds with three significant digits, never in exponent form."""
    if x is None or not math.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{digits}f}"


def _fmt_ratio(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 0.1:
        return f"{x:.2f}"
    return f"{x:.{1 - int(math.floor(math.log10(abs(x))))}f}"  # two significant digits


def _fmt_stat(s: dict, fmt=_fmt_s, spread: bool = True) -> str:
    if not s or not s.get("n"):
        return "–"
    text = fmt(s["median"])
    if spread and s["n"] > 1:
        text += f" ({fmt(s['min'])}–{fmt(s['max'])})"
    return text


def _mark(value: float | None, target: float) -> str:
    if value is None:
        return "–"
    return f"{_fmt_ratio(value)} {'✓' if value <= target else '✗'}"


_TITLES = {"cuba": "CUBA (current-based LIF)", "coba": "COBA (conductance-based LIF)",
           "alif": "ALIF (CUBA network, adaptive threshold)"}


def _case_table(cases: list[dict]) -> list[str]:
    head = ("| N | T [s] | contender | runs | build [s] | first run [s] | steady run [s] | first result [s] | "
            "peak RSS [MiB] | spikes | rate [Hz] | memr_snn ÷ this, steady | memr_snn ÷ this, first result |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for case in cases:
        for c in case["contenders"]:
            s = case["summary"].get(c)
            label = c
            if s is None:
                lines.append(f"| {case['n_neurons']} | {case['duration']:g} | {label} | 0 | failed: see notes "
                             "| | | | | | | | |")
                continue
            if c == "memr_snn":
                label = f"memr_snn ({s['engine']})"
            rss = s["peak_rss"]
            rss_text = "–" if not rss.get("n") else f"{rss['median'] / 2**20:.0f}"
            if c == "brian2-cpp":
                rss_text += " (binary)"
            fr = _fmt_stat(s["first_result_time"])
            if not s["first_result_exact"]:
                fr = "≈" + fr
            r_steady = "" if c == "memr_snn" else _fmt_ratio(case["ratios"]["steady_vs"].get(c))
            r_first = "" if c == "memr_snn" else _fmt_ratio(case["ratios"]["first_result_vs"].get(c))
            spikes = s["n_spikes"]
            lines.append(
                f"| {case['n_neurons']} | {case['duration']:g} | {label} | {s['run_time']['n']} | "
                f"{_fmt_s(s['build_time'].get('median'))} | {_fmt_s(s['first_run_time'].get('median'))} | "
                f"{_fmt_stat(s['run_time'])} | {fr} | {rss_text} | "
                f"{'–' if not spikes.get('n') else int(round(spikes['median']))} | "
                f"{_fmt_s(s['rate_hz'].get('median'))} | {r_steady} | {r_first} |"
            )
        for c, why in case["skipped"].items():
            lines.append(f"| {case['n_neurons']} | {case['duration']:g} | {c} | 0 | skipped: {why} | | | | | | | | |")
    return lines


def _targets_table(cases: list[dict]) -> list[str]:
    t = TARGETS
    lines = [
        (f"| model | N | T [s] | steady ÷ fastest peer (≤ {t['steady_vs_fastest_peer']:g}) | fastest peer | "
         f"steady ÷ NEST (≤ {t['steady_vs_nest']:g}) | first result ÷ brian2-cpp (≤ "
         f"{t['first_result_vs_brian2_cpp']:g}) | bytes/synapse (≤ {t['bytes_per_synapse']:g}) |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        r = case["ratios"]
        if not r:
            continue
        bps = r.get("bytes_per_synapse")
        bps_text = "–" if bps is None else f"{bps:.2f} {'✓' if bps <= t['bytes_per_synapse'] else '✗'}"
        lines.append(
            f"| {case['model']} | {case['n_neurons']} | {case['duration']:g} | "
            f"{_mark(r.get('steady_vs_fastest_peer'), t['steady_vs_fastest_peer'])} | {r.get('fastest_peer', '–')} | "
            f"{_mark(r.get('steady_vs_nest'), t['steady_vs_nest'])} | "
            f"{_mark(r.get('first_result_vs_brian2_cpp'), t['first_result_vs_brian2_cpp'])} | {bps_text} |"
        )
    return lines


def _cold_table(cold: dict) -> list[str]:
    if cold is None:
        return []
    if "error" in cold:
        return [f"Cold-start measurement failed: {cold['error']}"]
    cpp = cold.get("brian2_cpp_first_result")
    lines = [
        (f"Time to first result from an empty compiler cache, {cold['model'].upper()} N = {cold['n_neurons']}, "
         f"T = {cold['duration']:g} s ({cold['repeats']} run(s) each, alternated). memr_snn: a fresh, empty "
         "`NUMBA_CACHE_DIR` (every kernel compiled); Brian2 cython: a fresh, empty Cython cache folder; "
         "brian2-cpp compiles on every run anyway (its first result in the CUBA table: "
         f"{_fmt_stat(cpp) if cpp else '–'} s)."),
        "",
        ("| contender | first run, cold [s] | first result, cold [s] | first result, warm [s] | "
         "cold ÷ brian2-cpp first result |"),
        "|---|---|---|---|---|",
    ]
    for c, s in cold["summary"].items():
        warm = cold["warm_summary"].get(c, {}).get("first_result_time")
        warm_text = _fmt_stat(warm) if warm else "–"
        if warm and not cold["warm_summary"][c]["first_result_exact"]:
            warm_text = "≈" + warm_text
        fr = _fmt_stat(s["first_result_time"])
        if not s["first_result_exact"]:
            fr = "≈" + fr
        lines.append(f"| {c} | {_fmt_stat(s['first_run_time'])} | {fr} | {warm_text} | "
                     f"{_fmt_ratio(cold['ratios_vs_brian2_cpp'].get(c))} |")
    for f in cold.get("failures", []):
        lines.append(f"| {f['contender']} | failed: {f['error']} | | | |")
    return lines


def _scaling_table(sc: dict) -> list[str]:
    if sc is None:
        return []
    if "error" in sc:
        return [f"Event-driven scaling failed: {sc['error']}"]
    lines = [
        (f"An idle LIF population (default `LIFParams`, subthreshold) receives the same "
         f"{sc.get('input_spikes', '?')} input spikes from 100 `SpikeSource` neurons, "
         f"{sc.get('synaptic_events', '?')} synaptic events onto {sc.get('targets', '?')} target neurons, over "
         f"T = {sc['duration']:g} s (dt = 0.1 ms); run time after a {sc['warmup'] * 1e3:g} ms warm-up run, median "
         f"(min–max) of {sc['repeats']} run(s), sizes and engines interleaved in one fresh process. "
         f"Spikes of the idle population: {sc['idle_spikes']} (expected 0)."),
        "",
        "| neurons | event engine [s] | dense engine [s] | event ÷ event at the smallest size |",
        "|---|---|---|---|",
    ]
    sizes = sorted(set(sc["sizes"]) | set(sc["dense_sizes"]))
    smallest = sc["event"].get(str(min(sc["sizes"]))) if sc["sizes"] else None
    for n in sizes:
        ev = sc["event"].get(str(n))
        de = sc["dense"].get(str(n))
        lines.append(f"| {n:,} | {_fmt_stat(ev) if ev else '–'} | {_fmt_stat(de) if de else 'not run'} | "
                     f"{_fmt_ratio(ratio(ev, smallest)) if ev else '–'} |")
    g = sc.get("event_growth")
    met = "met" if g is not None and g <= SCALING_GROWTH_TARGET else "missed"
    lines += ["", (f"Event-engine growth {min(sc['sizes']):,} → {max(sc['sizes']):,} neurons: "
                   f"**{_fmt_ratio(g)}x** (target ≤ {SCALING_GROWTH_TARGET:g}x: {met}).")]
    if sc.get("dense_growth") is not None and len(set(sc["dense_sizes"])) > 1:
        lines[-1] += (f" Dense engine {min(sc['dense_sizes']):,} → {max(sc['dense_sizes']):,}: "
                      f"{_fmt_ratio(sc['dense_growth'])}x.")
    return lines


def format_markdown(doc: dict) -> str:
    """The human-readable report of a :func:`run_suite` document."""
    info = doc.get("machine", {})
    v = doc.get("versions", {})
    mem = info.get("memory_total_bytes")
    lines = [
        "# memr_snn benchmark" + (" (--quick: smoke test, not a measurement)" if doc.get("quick") else ""),
        "",
        f"- command: `{doc.get('command', '')}`",
        f"- started {doc.get('started', '?')}, wall time {_fmt_s(doc.get('wall_time'))} s",
        (f"- machine: {doc.get('cpu_model') or '?'}, {info.get('cpu_count', '?')} CPUs, "
         f"{'?' if mem is None else f'{mem / 2**30:.1f} GiB'} memory, {info.get('platform', '?')}"),
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
        ("- every run in a fresh process, contenders alternated, median (min–max) of the runs; ratios are "
         "memr_snn's median over the peer's median from this run; NEST uses 1 thread, Brian2 and memr_snn 1 core"),
    ]
    if doc.get("notes"):
        lines += ["", "Notes:", ""] + [f"- {n}" for n in doc["notes"]]
    failures = [(c["key"], f) for c in doc.get("cases", []) for f in c["failures"]]
    if failures:
        lines += ["", "Failures:", ""] + [f"- {k}: {f['contender']} (repeat {f['repeat'] + 1}): {f['error']}"
                                          for k, f in failures]
    models = list(dict.fromkeys(c["model"] for c in doc.get("cases", [])))
    for m in models:
        lines += ["", f"## {_TITLES.get(m, m)}", ""] + _case_table([c for c in doc["cases"] if c["model"] == m])
    if doc.get("cases"):
        lines += ["", "## Targets (memr_snn ÷ peer, medians of this run)", ""] + _targets_table(doc["cases"])
    if doc.get("cold"):
        lines += ["", "## Cold start (empty compiler caches)", ""] + _cold_table(doc["cold"])
    if doc.get("scaling"):
        lines += ["", "## Event-driven scaling", ""] + _scaling_table(doc["scaling"])
    lines += ["", ("Columns: build = constructing the network (cpp_standalone: plus code generation and make); "
                   "first run = the first run call in the fresh process (JIT/codegen included, caches warm); steady "
                   "run = simulation with everything compiled (see docs/benchmarks.md per contender); first result = "
                   "process launch to the end of the first run (≈: the process time less its second run); peak RSS "
                   "= the process's peak resident memory (brian2-cpp: the compiled binary's).")]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------
def command_line(argv: list[str] | None = None) -> str:
    """The command as a user would type it (``memr-snn bench ...``), without this machine's paths."""
    argv = list(sys.argv if argv is None else argv)
    prog = os.path.basename(argv[0]) if argv else "memr-snn"
    if prog == "__main__.py":
        prog = "python -m memr_snn"
    elif prog == "run_all.py":
        prog = "python benchmarks/run_all.py"
    elif prog in ("memr-snn", "cli.py"):
        prog = "memr-snn"
    return " ".join([prog] + [shlex.quote(a) for a in argv[1:]])


def main(args) -> int:
    """Run the suite for parsed ``memr-snn bench`` arguments; print and write the report.

    Writes ``<out>/bench.md`` (the printed markdown) and ``<out>/bench.json`` (every
    measurement, the machine info, versions and the command line).  Returns 0.
    """
    cfg = config_from_args(args)
    out = Path(getattr(args, "out", None) or "bench_output")
    doc = run_suite(cfg, out=out, command=command_line())
    md = format_markdown(doc)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "bench.md", md)
    print(md)
    print(f"wrote {out / 'bench.md'} and {out / 'bench.json'}", file=sys.stderr)
    return 0
