"""The one fresh-process worker of the benchmark tooling: memr_snn, Brian2 and NEST runs.

Run as a *script* by path, ``python _worker.py CONFIG_JSON OUT.npz``, by
:func:`memr_snn.bench.launch.run_worker` (the benchmark suite, :mod:`memr_snn.bench.peers`), so
that every measurement starts in a new interpreter: import, build, compile (or load compiled code
from a cache) and run are all paid inside the measured process, and peak RSS belongs to that run
alone.  The worker imports only the standard library and numpy at start; each mode then imports
the one simulator it runs (``memr_snn``, ``brian2`` or ``nest``), never two, so a peer run never
pays for memr_snn's numba kernels.  Running by path is also why this is one file: it cannot import
sibling modules without importing the ``memr_snn`` package.

``CONFIG_JSON`` is a JSON object whose ``mode`` selects what to run:

``"memr"``
    One Vogels–Abbott network (``model`` = ``"cuba"``, ``"coba"`` or ``"alif"``) in
    memr_snn.  Times: ``import_time``; ``build_time`` (the network object, synapses
    drawn); ``first_run_time`` (the first ``Network.run(duration)``: engine arrays built
    and kernels compiled, or loaded from numba's cache, inside it); ``first_result_wall``
    (``time.time()`` when that first run returned; the parent subtracts its launch time);
    then the network is dropped, an identical one is built from the same seed
    (``rebuild_time``), its engine arrays are prepared with ``run_steps(0)``
    (``prepare_time``) and ``run_time`` is the second, identical ``run(duration)``:
    the *steady* run, all kernels compiled (``run_cpu``: its CPU time, ``time.process_time``).
    ``repeat_identical`` says whether both runs
    gave the same spikes.
``"warmup"``
    Builds and runs tiny networks of the listed ``models`` so that numba's on-disk cache
    is filled before anything is timed.
``"scaling"``
    The event-driven scaling experiment (see :func:`memr_snn.bench.networks.scaling_network`).
``"brian2"``
    A Vogels–Abbott network (``"cuba"``, ``"coba"``, or the CUBA network with an adaptive
    threshold, ``"alif"``) in Brian2, code-generation ``target`` ``"numpy"``, ``"cython"`` or
    ``"cpp_standalone"``; times as documented in :func:`memr_snn.bench.peers.run_brian2`.
``"nest"``
    The CUBA or COBA network in NEST (:func:`memr_snn.bench.peers.run_nest`).
``"sma"``
    Brian2's STDP example, Song, Miller & Abbott (2000)
    (:func:`memr_snn.bench.peers.brian2_sma.run_brian2_sma`).

The network modes get every model constant through the configuration (``params``, ``n_exc``,
``p_connect``; see :func:`memr_snn.bench.peers.models.network_config`), so this file holds no
second copy of them.

Every network mode reports its steady run's wall time (``run_time``) and CPU time (``run_cpu``);
for ``cpp_standalone`` both are measured inside the binary around the network run (code inserted
with ``device.insert_code``), next to Brian2's own ``std::clock()`` figure (``run_clock``).

``OUT.npz`` receives the arrays of the run (``spike_indices`` int64 and ``spike_times`` [s]
float64, sorted by (time, index), for the Brian2 CUBA/COBA and NEST runs; ``weights`` for
``"sma"``) and ``meta``, a 0-d string array holding a JSON object: times [s], ``peak_rss``
[bytes], counts, versions, and ``worker_time`` (process start to the end of the run).
"""

# Size: run by path in a fresh interpreter, it cannot import sibling modules without the package (see above), so
# every simulator mode and the helpers they share live in this one file.
from __future__ import annotations

import time

_T_START = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

# Run by path, Python puts this file's folder (memr_snn/bench) first on sys.path; its module
# names must not shadow anything, so take it out.
_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _HERE:
    del sys.path[0]

import numpy as np  # noqa: E402

__all__ = ["main"]

# Runs the standalone binary and writes its own peak RSS (ru_maxrss, KiB on Linux) next to
# it, so the compiler's memory does not hide the simulation's.  Stdlib only (-I -S).
_RSS_WRAPPER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:])\n"
    "_, status, ru = os.wait4(p.pid, 0)\n"
    "open('peak_rss_main.txt', 'w').write(str(ru.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)

_NO_SPIKES = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def _self_peak_rss() -> int:
    """Peak resident set size of this process [bytes] (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _log(msg: str) -> None:
    print(f"[bench worker] {msg}", file=sys.stderr, flush=True)


def _sorted_spikes(indices: np.ndarray, times: np.ndarray) -> dict:
    order = np.lexsort((indices, times))
    return {"spike_indices": indices[order], "spike_times": times[order]}


# --------------------------------------------------------------------------------------
# memr_snn
# --------------------------------------------------------------------------------------
def _memr_network(model: str, n: int, seed: int, dt: float, threads: int = 1, integration: str | None = None):
    """Build one benchmark network on ``threads`` threads (set explicitly, whatever the default); returns
    (network, spike monitors).  ``integration``: the COBA neurons' method (None: the default)."""
    from memr_snn import SpikeMonitor
    from memr_snn.bench.networks import alif_network
    from memr_snn.networks import coba, cuba

    builders = {"cuba": cuba, "coba": coba, "alif": alif_network}
    extra = {} if integration is None else {"integration": integration}
    va = builders[model](n=n, seed=seed, dt=dt, record=False, **extra)
    va.net.threads = threads
    mons = [va.net.add(SpikeMonitor(va.exc)), va.net.add(SpikeMonitor(va.inh))]
    return va.net, mons


def _memr_spikes(mons, n_exc: int) -> tuple[np.ndarray, np.ndarray]:
    steps = np.concatenate([mons[0].steps, mons[1].steps])
    idx = np.concatenate([mons[0].i, mons[1].i + n_exc])
    order = np.lexsort((idx, steps))
    return steps[order], idx[order]


def _run_memr(cfg: dict) -> tuple[dict, dict]:
    t0 = time.perf_counter()
    import memr_snn
    import memr_snn.networks  # noqa: F401

    t_import = time.perf_counter() - t0
    model, n, seed, dt = cfg["model"], int(cfg["n_neurons"]), int(cfg["seed"]), float(cfg["dt"])
    duration = float(cfg["duration"])
    threads = int(cfg.get("threads", 1))
    integration = cfg.get("integration")

    t0 = time.perf_counter()
    net, mons = _memr_network(model, n, seed, dt, threads, integration)
    build_time = time.perf_counter() - t0
    n_exc = mons[0].population.n
    t0 = time.perf_counter()
    net.run(duration)
    first_run_time = time.perf_counter() - t0
    first_result_wall = time.time()
    first = _memr_spikes(mons, n_exc)
    meta = {
        "import_time": t_import,
        "build_time": build_time,
        "first_run_time": first_run_time,
        "first_result_wall": first_result_wall,
        "engine": net._sim.mode,
        "threads": threads,
        "integration": integration,
        "n_synapses": int(net.n_synapses),
        "synapse_bytes": int(net.synapse_bytes()),
        "version": str(memr_snn.__version__),
    }
    del net, mons
    import gc

    gc.collect()

    t0 = time.perf_counter()
    net, mons = _memr_network(model, n, seed, dt, threads, integration)
    meta["rebuild_time"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.run_steps(0)  # engine arrays (the Simulator) built outside the timed run
    meta["prepare_time"] = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    net.run(duration)
    meta["run_time"], meta["run_cpu"] = time.perf_counter() - t0, time.process_time() - c0
    second = _memr_spikes(mons, n_exc)
    meta["n_spikes"] = int(second[0].size)
    meta["repeat_identical"] = bool(np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1]))
    meta["peak_rss"] = _self_peak_rss()
    return {}, meta


def _run_warmup(cfg: dict) -> tuple[dict, dict]:
    t0 = time.perf_counter()
    for model in cfg["models"]:
        net, _ = _memr_network(model, 200, 1, float(cfg["dt"]))
        net.run(20 * float(cfg["dt"]))
    return {}, {"warmup_time": time.perf_counter() - t0, "peak_rss": _self_peak_rss()}


def _run_scaling(cfg: dict) -> tuple[dict, dict]:
    import memr_snn
    from memr_snn.bench.networks import scaling_network

    dt = float(cfg["dt"])
    duration = float(cfg["duration"])
    warmup = float(cfg["warmup"])
    # fill / load the kernels once, so the first size does not pay for them
    for engine in ("event", "dense"):
        net, _, _ = scaling_network(1000, engine, dt=dt, duration=duration, warmup=warmup, seed=int(cfg["seed"]))
        net.run(warmup)
        net.run(duration)
    runs = []
    plan = [(n, "event") for n in cfg["sizes"]] + [(n, "dense") for n in cfg["dense_sizes"]]
    for rep in range(int(cfg["repeats"])):
        shift = rep % len(plan)
        for n, engine in plan[shift:] + plan[:shift]:  # alternate the order between repeats
            _log(f"scaling repeat {rep + 1}/{cfg['repeats']}: {engine} engine, {n} neurons")
            t0 = time.perf_counter()
            net, mon, info = scaling_network(n, engine, dt=dt, duration=duration, warmup=warmup,
                                             seed=int(cfg["seed"]))
            build = time.perf_counter() - t0
            t0 = time.perf_counter()
            net.run(warmup)  # engine arrays built, every neuron settles idle
            t_warm = time.perf_counter() - t0
            t0 = time.perf_counter()
            net.run(duration)
            t_run = time.perf_counter() - t0
            runs.append({
                "repeat": rep, "n_neurons": n, "engine": engine, "build_time": build, "warmup_time": t_warm,
                "run_time": t_run, "idle_spikes": int(mon.num_spikes), **info,
            })
            del net, mon
    return {}, {"runs": runs, "version": str(memr_snn.__version__), "peak_rss": _self_peak_rss()}


# --------------------------------------------------------------------------------------
# Brian2
# --------------------------------------------------------------------------------------
#: the file (in the build folder) where the cpp_standalone binary writes its network runs' wall and CPU times
_LOOP_CLOCKS = "memr_snn_loop_clocks.txt"
# Inserted around every network run of a cpp_standalone binary (Brian2's ``device.insert_code``): the
# braces open before the run and close after it, so each run has its own variables.  Brian2's own
# ``_last_run_time`` is ``std::clock()``, i.e. CPU time (without OpenMP); this measures the same loop with
# a monotonic wall clock and with the process CPU-time clock, so that wall is compared with wall and CPU with CPU.
_LOOP_CLOCK_BEFORE = ("{ struct timespec _memr_w0, _memr_c0, _memr_w1, _memr_c1; "
                      "clock_gettime(CLOCK_MONOTONIC, &_memr_w0); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &_memr_c0);")
_LOOP_CLOCK_AFTER = ("clock_gettime(CLOCK_MONOTONIC, &_memr_w1); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &_memr_c1); "
                     f"std::ofstream _memr_f(\"{_LOOP_CLOCKS}\", std::ios::app); _memr_f.precision(9); "
                     "_memr_f << ((_memr_w1.tv_sec - _memr_w0.tv_sec) + 1e-9 * (_memr_w1.tv_nsec - _memr_w0.tv_nsec)) "
                     "<< \" \" << ((_memr_c1.tv_sec - _memr_c0.tv_sec) + 1e-9 * (_memr_c1.tv_nsec - _memr_c0.tv_nsec)) "
                     "<< std::endl; }")


def _brian2_loop_clocks(build_dir: str) -> tuple[float, float] | None:
    """(wall, CPU) seconds of the last network run of the cpp_standalone binary in ``build_dir``, or None."""
    try:
        with open(os.path.join(build_dir, _LOOP_CLOCKS)) as fh:
            lines = [line.split() for line in fh if line.strip()]
    except OSError:
        return None
    if not lines or len(lines[-1]) != 2:
        return None
    return float(lines[-1][0]), float(lines[-1][1])


def _brian2_target(b2, target: str, prefix: str, cache_dir: str | None = None, threads: int = 1) -> str | None:
    """Select Brian2's code-generation ``target``; returns the cpp_standalone build folder (or None).

    cpp_standalone builds in a fresh folder (the caller deletes it) and runs the binary under
    :data:`_RSS_WRAPPER`, which records the binary's own peak RSS there; every network run of the
    binary also writes its wall and CPU times there (:func:`_brian2_loop_clocks`).
    """
    b2.prefs.logging.file_log = False
    b2.prefs.logging.delete_log_on_exit = True
    if target == "cpp_standalone":
        build_dir = tempfile.mkdtemp(prefix=prefix)
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=True)
        b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-I", "-S", "-c", _RSS_WRAPPER, "./main"]
        if threads > 1:  # OpenMP threads of the generated code (then its run time is wall time)
            b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
        dev = b2.get_device()
        dev.insert_code("before_network_run", _LOOP_CLOCK_BEFORE)
        dev.insert_code("after_network_run", _LOOP_CLOCK_AFTER)
        return build_dir
    b2.prefs.codegen.target = target
    if cache_dir:
        b2.prefs.codegen.runtime.cython.cache_dir = cache_dir
    return None


def _brian2_group(b2, cfg: dict):
    """The Vogels–Abbott neuron group of ``cfg`` and its namespace (Brian2 ``examples/CUBA.py`` and
    Brette's ``COBA.py``; ``"alif"``: CUBA plus an adaptive threshold).

    ALIF equations (the CUBA ones plus the adaptive threshold of :class:`memr_snn.ALIFParams`;
    ``a`` decays exactly, jumps by 1 at each spike and raises the threshold by ``beta * a``)::

        dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
        dge/dt = -ge / taue : volt
        dgi/dt = -gi / taui : volt
        da/dt  = -a / taua : 1
        threshold: v > Vt + beta * a          reset: v = Vr; a += 1

    Brian2 integrates the state update (``a`` decay included) and then thresholds with the
    decayed ``a``, as memr_snn's kernel does.
    """
    model, par, n = cfg["model"], cfg["params"], int(cfg["n_neurons"])
    second, volt = b2.second, b2.volt
    ns = {
        "taum": par["tau_mem"] * second,
        "taue": par["tau_exc"] * second,
        "taui": par["tau_inh"] * second,
        "Vt": par["v_threshold"] * volt,
        "Vr": par["v_reset"] * volt,
        "El": par["v_leak"] * volt,
        "Ne": int(cfg["n_exc"]),
    }
    refractory = par["t_refractory"] * second
    if model in ("cuba", "alif"):
        ns.update(we=par["w_exc"] * volt, wi=par["w_inh"] * volt)
        eqs = """
        dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
        dge/dt = -ge/taue : volt
        dgi/dt = -gi/taui : volt
        """
        threshold, reset = "v>Vt", "v = Vr"
        if model == "alif":
            ns.update(taua=par["tau_adapt"] * second, beta=par["beta_adapt"] * volt)
            eqs += "da/dt  = -a/taua : 1\n"
            threshold, reset = "v > Vt + beta*a", "v = Vr; a += 1"
        group = b2.NeuronGroup(n, eqs, threshold=threshold, reset=reset, refractory=refractory, method="exact",
                               namespace=ns)
        group.v = "Vr + rand() * (Vt - Vr)"
        if model == "cuba":
            group.ge = 0 * b2.mV
            group.gi = 0 * b2.mV
    elif model == "coba":
        ns.update(Ee=par["e_exc"] * volt, Ei=par["e_inh"] * volt, we=par["w_exc"], wi=par["w_inh"])
        # Brette's script writes v relative to rest (El = 0, Vt = 10 mV, Ee = 60 mV,
        # Ei = -20 mV); the same equations in absolute potentials:
        eqs = """
        dv/dt  = (-(v-El) + ge*(Ee-v) + gi*(Ei-v))/taum : volt (unless refractory)
        dge/dt = -ge/taue : 1
        dgi/dt = -gi/taui : 1
        """
        # Brian2's COBA example integrates with forward Euler; ``method`` may ask for another one
        group = b2.NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=refractory,
                               method=cfg.get("method", "euler"), namespace=ns)
        group.v = "El + (randn()*5 - 5)*mV"
        group.ge = "randn()*1.5 + 4"
        group.gi = "randn()*12 + 20"
    else:  # validated by the parent
        raise ValueError(f"model must be 'cuba', 'coba' or 'alif', got {model!r}")
    return group, ns


def _run_brian2(cfg: dict) -> tuple[dict, dict]:
    t0 = time.perf_counter()
    import brian2 as b2

    t_import = time.perf_counter() - t0
    target = cfg["target"]
    record = bool(cfg.get("record_spikes", True))
    second = b2.second

    def spikes() -> tuple[np.ndarray, np.ndarray]:
        if not record:
            return _NO_SPIKES
        return np.array(monitor.i[:], dtype=np.int64), np.array(monitor.t_[:], dtype=np.float64)

    build_dir = _brian2_target(b2, target, "memr_snn_brian2_cpp_", cfg.get("cache_dir"), int(cfg.get("threads", 1)))
    try:
        t0 = time.perf_counter()
        b2.defaultclock.dt = float(cfg["dt"]) * second
        b2.seed(int(cfg["seed"]))
        group, ns = _brian2_group(b2, cfg)
        p = float(cfg["p_connect"])
        syn_exc = b2.Synapses(group, group, on_pre="ge += we", namespace=ns)
        syn_inh = b2.Synapses(group, group, on_pre="gi += wi", namespace=ns)
        syn_exc.connect("i<Ne", p=p)
        syn_inh.connect("i>=Ne", p=p)
        monitor = b2.SpikeMonitor(group, record=record)
        net = b2.Network(group, syn_exc, syn_inh, monitor)
        build_time = time.perf_counter() - t0

        meta: dict = {"import_time": t_import, "build_time": build_time, "threads": int(cfg.get("threads", 1))}
        duration = float(cfg["duration"]) * second
        if target == "cpp_standalone":
            t0 = time.perf_counter()
            net.run(duration)  # code generation + make + running ./main
            t_call = time.perf_counter() - t0
            meta["first_result_wall"] = time.time()
            dev = b2.get_device()
            make = dev.timers["compile"]["make"] or 0.0
            clean = dev.timers["compile"]["clean"] or 0.0
            binary = dev.timers["run_binary"] or 0.0
            meta["codegen_time"] = t_call - make - clean - binary
            meta["compile_time"] = make + clean
            meta["build_time"] = build_time + meta["codegen_time"] + meta["compile_time"]
            meta["first_run_time"] = binary
            # the loop inside the binary: wall and CPU time from the inserted clocks; Brian2's own
            # _last_run_time is std::clock(), CPU time, kept as run_clock
            meta["run_clock"] = float(dev._last_run_time)
            clocks = _brian2_loop_clocks(build_dir)
            if clocks is None:  # not written (should not happen): the CPU time stands in for both
                clocks = (meta["run_clock"], meta["run_clock"])
                meta["loop_clocks_missing"] = True
            meta["run_time"], meta["run_cpu"] = clocks
            with open(os.path.join(build_dir, "peak_rss_main.txt")) as fh:
                meta["peak_rss"] = int(fh.read().strip()) * 1024
            meta["peak_rss_python"] = _self_peak_rss()
        else:
            net.store("initial")
            t0 = time.perf_counter()
            net.run(duration)
            meta["first_run_time"] = time.perf_counter() - t0
            meta["first_result_wall"] = time.time()
            first = spikes()
            first_count = int(monitor.num_spikes)
            net.restore("initial")
            t0, c0 = time.perf_counter(), time.process_time()
            net.run(duration)
            meta["run_time"], meta["run_cpu"] = time.perf_counter() - t0, time.process_time() - c0
            second_run = spikes()
            meta["repeat_identical"] = bool(
                first_count == int(monitor.num_spikes)
                and np.array_equal(first[0], second_run[0])
                and np.array_equal(first[1], second_run[1])
            )
            meta["peak_rss"] = _self_peak_rss()

        arrays = _sorted_spikes(*spikes()) if cfg.get("return_spikes", True) else {}
        meta["n_spikes"] = int(monitor.num_spikes)
        meta["n_synapses"] = int(len(syn_exc) + len(syn_inh))
        meta["version"] = str(b2.__version__)
        if target == "cython":
            from brian2.codegen.runtime.cython_rt.extension_manager import get_cython_cache_dir

            meta["cython_cache_dir"] = str(b2.prefs.codegen.runtime.cython.cache_dir or get_cython_cache_dir())
        return arrays, meta
    finally:
        if build_dir is not None:
            shutil.rmtree(build_dir, ignore_errors=True)


def _run_sma(cfg: dict) -> tuple[dict, dict]:
    """Brian2's ``examples/synapses/STDP.py`` (1000 Poisson inputs, additive STDP onto one
    conductance-based neuron); only size, rate, duration, seed and target are parameters."""
    import brian2 as b2
    from brian2 import Hz, ms, mV, second

    build_dir = _brian2_target(b2, cfg["target"], "memr_snn_sma_")
    try:
        b2.seed(int(cfg["seed"]))
        n = int(cfg["n_inputs"])
        taum, taupre, taue = 10 * ms, 20 * ms, 5 * ms  # noqa: F841 (used by the equations)
        taupost = taupre
        Ee, vt, vr, El = 0 * mV, -54 * mV, -60 * mV, -74 * mV  # noqa: F841 (used by the equations)
        gmax = float(cfg["g_max_rel"])
        dApre = 0.01
        dApost = -dApre * taupre / taupost * 1.05
        dApost *= gmax
        dApre *= gmax
        eqs = """
        dv/dt = (ge * (Ee-v) + El - v) / taum : volt
        dge/dt = -ge / taue : 1
        """
        inputs = b2.PoissonGroup(n, rates=float(cfg["rate"]) * Hz)
        neuron = b2.NeuronGroup(1, eqs, threshold="v>vt", reset="v = vr", method="euler")
        neuron.v = El
        syn = b2.Synapses(inputs, neuron,
                          """w : 1
                             dApre/dt = -Apre / taupre : 1 (event-driven)
                             dApost/dt = -Apost / taupost : 1 (event-driven)""",
                          on_pre="""ge += w
                                    Apre += dApre
                                    w = clip(w + Apost, 0, gmax)""",
                          on_post="""Apost += dApost
                                     w = clip(w + Apre, 0, gmax)""")
        syn.connect()
        syn.w = "rand() * gmax"
        mon = b2.SpikeMonitor(neuron)
        t0 = time.perf_counter()
        b2.run(float(cfg["duration"]) * second)
        wall = time.perf_counter() - t0
        # the simulation alone: cpp_standalone times its compiled main loop (code generation and
        # compilation are in ``wall``); the runtime targets time their own run
        sim = float(getattr(b2.get_device(), "_last_run_time", None) or wall)
        return ({"weights": np.asarray(syn.w) / gmax},
                {"n_spikes": int(mon.num_spikes), "wall": wall, "sim": sim, "version": str(b2.__version__)})
    finally:
        if build_dir is not None:
            shutil.rmtree(build_dir, ignore_errors=True)


# --------------------------------------------------------------------------------------
# NEST
# --------------------------------------------------------------------------------------
def _run_nest(cfg: dict) -> tuple[dict, dict]:
    t0 = time.perf_counter()
    import nest

    t_import = time.perf_counter() - t0

    model, par = cfg["model"], cfg["params"]
    n = int(cfg["n_neurons"])
    n_exc = int(cfg["n_exc"])
    p = float(cfg["p_connect"])
    dt_ms = cfg["dt"] * 1e3

    t0 = time.perf_counter()
    nest.ResetKernel()
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.WARNING
    else:  # NEST < 3.9
        nest.set_verbosity("M_WARNING")
    nest.SetKernelStatus({"resolution": dt_ms, "local_num_threads": int(cfg["threads"]),
                          "rng_seed": int(cfg["seed"])})
    if model == "cuba":
        c_m = 250.0  # [pF]; any value gives the same voltage dynamics
        tau_m = par["tau_mem"] * 1e3  # [ms]
        amp_per_volt = c_m / tau_m  # pF/ms = nS: I [pA] = ge [mV] * C_m / tau_m
        params = {
            "C_m": c_m,
            "tau_m": tau_m,
            "E_L": par["v_leak"] * 1e3,
            "V_th": par["v_threshold"] * 1e3,
            "V_reset": par["v_reset"] * 1e3,
            "t_ref": par["t_refractory"] * 1e3,
            "tau_syn_ex": par["tau_exc"] * 1e3,
            "tau_syn_in": par["tau_inh"] * 1e3,
            "I_e": 0.0,
            "V_m": nest.random.uniform(par["v_reset"] * 1e3, par["v_threshold"] * 1e3),
        }
        neurons = nest.Create("iaf_psc_exp", n, params=params)
        w_exc = par["w_exc"] * 1e3 * amp_per_volt  # [pA]
        w_inh = par["w_inh"] * 1e3 * amp_per_volt  # [pA], negative
    elif model == "coba":
        c_m = 200.0  # [pF]
        g_l = c_m / (par["tau_mem"] * 1e3)  # [nS] = 10 nS
        params = {
            "C_m": c_m,
            "g_L": g_l,
            "E_L": par["v_leak"] * 1e3,
            "E_ex": par["e_exc"] * 1e3,
            "E_in": par["e_inh"] * 1e3,
            "V_th": par["v_threshold"] * 1e3,
            "V_reset": par["v_reset"] * 1e3,
            "t_ref": par["t_refractory"] * 1e3,
            "tau_syn_ex": par["tau_exc"] * 1e3,
            "tau_syn_in": par["tau_inh"] * 1e3,
            "I_e": 0.0,
            "V_m": nest.random.normal(mean=par["v_init_mean"] * 1e3, std=par["v_init_std"] * 1e3),
            "g_ex": nest.random.normal(mean=par["ge_init_mean"] * g_l, std=par["ge_init_std"] * g_l),
            "g_in": nest.random.normal(mean=par["gi_init_mean"] * g_l, std=par["gi_init_std"] * g_l),
        }
        neurons = nest.Create("iaf_cond_exp", n, params=params)
        w_exc = par["w_exc"] * g_l  # [nS]
        w_inh = -par["w_inh"] * g_l  # [nS]; negative weights go to the inhibitory port
    else:  # validated by the parent
        raise ValueError(f"model must be 'cuba' or 'coba', got {model!r}")

    conn = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": True}
    nest.Connect(neurons[:n_exc], neurons, conn, {"synapse_model": "static_synapse", "weight": w_exc, "delay": dt_ms})
    nest.Connect(neurons[n_exc:], neurons, conn, {"synapse_model": "static_synapse", "weight": w_inh, "delay": dt_ms})
    n_synapses = int(nest.GetKernelStatus("num_connections"))
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    build_time = time.perf_counter() - t0

    duration_ms = cfg["duration"] * 1e3
    t0 = time.perf_counter()
    nest.Prepare()
    t1, c1 = time.perf_counter(), time.process_time()
    nest.Run(duration_ms)
    t2, c2 = time.perf_counter(), time.process_time()
    nest.Cleanup()
    t3 = time.perf_counter()

    n_spikes = int(recorder.get("n_events"))
    spikes = _NO_SPIKES
    if cfg["record_spikes"]:
        events = recorder.get("events")
        first_id = int(neurons[0].get("global_id"))
        spikes = (np.asarray(events["senders"], dtype=np.int64) - first_id,
                  np.asarray(events["times"], dtype=np.float64) * 1e-3)
    meta = {
        "import_time": t_import,
        "build_time": build_time,
        "prepare_time": t1 - t0,
        "first_run_time": t3 - t0,
        "run_time": t2 - t1,
        "run_cpu": c2 - c1,
        "peak_rss": _self_peak_rss(),
        "n_spikes": n_spikes,
        "n_synapses": n_synapses,
        "version": str(nest.__version__),
    }
    return _sorted_spikes(*spikes), meta


_MODES = {"memr": _run_memr, "warmup": _run_warmup, "scaling": _run_scaling, "brian2": _run_brian2,
          "nest": _run_nest, "sma": _run_sma}


def main(argv: list[str] | None = None) -> int:
    """Run one configuration and write the ``.npz`` result.

    Parameters
    ----------
    argv : list of str, optional
        ``[CONFIG_JSON, OUT_PATH]``; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Process exit status (0 on success).
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: _worker.py CONFIG_JSON OUT.npz", file=sys.stderr)
        return 2
    cfg = json.loads(args[0])
    mode = cfg.get("mode")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {sorted(_MODES)}, got {mode!r}")
    arrays, meta = _MODES[mode](cfg)
    meta["worker_time"] = time.perf_counter() - _T_START
    np.savez(args[1], **arrays, meta=np.array(json.dumps(meta)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
