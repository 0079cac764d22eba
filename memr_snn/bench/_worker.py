"""Fresh-process worker of the benchmark suite (:mod:`memr_snn.bench`).

Run as a *script* by path, ``python _bench_worker.py CONFIG_JSON OUT_JSON``, exactly as
:mod:`memr_snn.bench.peers` runs its own worker, so that every measurement starts in a new
interpreter: import, build, compile (or load compiled code from a cache) and run are all
paid inside the measured process, and peak RSS belongs to that run alone.  The worker
imports only the standard library and numpy at start; each mode then imports the one
simulator it measures (``memr_snn`` or ``brian2``), never both.

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
    the *steady* run, all kernels compiled.  ``repeat_identical`` says whether both runs
    gave the same spikes.
``"brian2"``
    The ALIF network in Brian2 (the CUBA and COBA networks are run by
    :mod:`memr_snn.bench.peers`); same times and meaning as :func:`memr_snn.bench.peers.run_brian2`,
    plus ``first_result_wall``.  All model constants come in through ``params``, so this
    file holds no second copy of them.
``"warmup"``
    Builds and runs tiny networks of the listed ``models`` so that numba's on-disk cache
    is filled before anything is timed.
``"scaling"``
    The event-driven scaling experiment (see :func:`memr_snn.bench.networks.scaling_network`).

``OUT_JSON`` receives a JSON object of scalars: times [s], ``peak_rss`` [bytes], counts,
versions.
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

# Run by path, Python puts this file's folder (the package folder) first on sys.path; its
# module names (io, units, info, ...) must not shadow anything, so take it out.
_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _HERE:
    del sys.path[0]

import numpy as np  # noqa: E402

__all__ = ["main"]

# Runs the standalone binary and writes its own peak RSS (ru_maxrss, KiB on Linux) next to
# it, so the compiler's memory does not hide the simulation's (as memr_snn.bench.peers does).
_RSS_WRAPPER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:])\n"
    "_, status, ru = os.wait4(p.pid, 0)\n"
    "open('peak_rss_main.txt', 'w').write(str(ru.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def _self_peak_rss() -> int:
    """Peak resident set size of this process [bytes] (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _log(msg: str) -> None:
    print(f"[bench worker] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# memr_snn
# --------------------------------------------------------------------------------------
def _memr_network(model: str, n: int, seed: int, dt: float):
    """Build one benchmark network; returns (network, spike monitors)."""
    from memr_snn import SpikeMonitor
    from memr_snn.bench.networks import alif_network
    from memr_snn.networks import coba, cuba

    builders = {"cuba": cuba, "coba": coba, "alif": alif_network}
    va = builders[model](n=n, seed=seed, dt=dt, record=False)
    mons = [va.net.add(SpikeMonitor(va.exc)), va.net.add(SpikeMonitor(va.inh))]
    return va.net, mons


def _spikes(mons, n_exc: int) -> tuple[np.ndarray, np.ndarray]:
    steps = np.concatenate([mons[0].steps, mons[1].steps])
    idx = np.concatenate([mons[0].i, mons[1].i + n_exc])
    order = np.lexsort((idx, steps))
    return steps[order], idx[order]


def _run_memr(cfg: dict) -> dict:
    t0 = time.perf_counter()
    import memr_snn
    import memr_snn.networks  # noqa: F401

    t_import = time.perf_counter() - t0
    model, n, seed, dt = cfg["model"], int(cfg["n_neurons"]), int(cfg["seed"]), float(cfg["dt"])
    duration = float(cfg["duration"])

    t0 = time.perf_counter()
    net, mons = _memr_network(model, n, seed, dt)
    build_time = time.perf_counter() - t0
    n_exc = mons[0].population.n
    t0 = time.perf_counter()
    net.run(duration)
    first_run_time = time.perf_counter() - t0
    first_result_wall = time.time()
    first = _spikes(mons, n_exc)
    meta = {
        "import_time": t_import,
        "build_time": build_time,
        "first_run_time": first_run_time,
        "first_result_wall": first_result_wall,
        "engine": net._sim.mode,
        "n_synapses": int(net.n_synapses),
        "synapse_bytes": int(net.synapse_bytes()),
        "version": str(memr_snn.__version__),
    }
    del net, mons
    import gc

    gc.collect()

    t0 = time.perf_counter()
    net, mons = _memr_network(model, n, seed, dt)
    meta["rebuild_time"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.run_steps(0)  # engine arrays (the Simulator) built outside the timed run
    meta["prepare_time"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.run(duration)
    meta["run_time"] = time.perf_counter() - t0
    second = _spikes(mons, n_exc)
    meta["n_spikes"] = int(second[0].size)
    meta["repeat_identical"] = bool(np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1]))
    meta["peak_rss"] = _self_peak_rss()
    return meta


def _run_warmup(cfg: dict) -> dict:
    t0 = time.perf_counter()
    for model in cfg["models"]:
        net, _ = _memr_network(model, 200, 1, float(cfg["dt"]))
        net.run(20 * float(cfg["dt"]))
    return {"warmup_time": time.perf_counter() - t0, "peak_rss": _self_peak_rss()}


# --------------------------------------------------------------------------------------
# Brian2 (ALIF)
# --------------------------------------------------------------------------------------
def _run_brian2(cfg: dict) -> dict:
    """The CUBA-like ALIF network in Brian2, measured as :mod:`memr_snn.bench.peers` measures CUBA.

    Equations (the CUBA ones of Brian2 ``examples/CUBA.py`` plus the adaptive threshold of
    :class:`memr_snn.ALIFParams`; ``a`` decays exactly, jumps by 1 at each spike and raises
    the threshold by ``beta * a``)::

        dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
        dge/dt = -ge / taue : volt
        dgi/dt = -gi / taui : volt
        da/dt  = -a / taua : 1
        threshold: v > Vt + beta * a          reset: v = Vr; a += 1

    Brian2 integrates the state update (``a`` decay included) and then thresholds with the
    decayed ``a``, as memr_snn's kernel does.
    """
    t0 = time.perf_counter()
    import brian2 as b2

    t_import = time.perf_counter() - t0
    if cfg["model"] != "alif":
        raise ValueError(f"the brian2 mode of this worker runs only 'alif', got {cfg['model']!r}")
    par = cfg["params"]
    n = int(cfg["n_neurons"])
    target = cfg["target"]
    n_exc = int(cfg["n_exc"])
    p = float(cfg["p_connect"])
    second, volt = b2.second, b2.volt

    b2.prefs.logging.file_log = False
    b2.prefs.logging.delete_log_on_exit = True
    build_dir = None
    if target == "cpp_standalone":
        build_dir = tempfile.mkdtemp(prefix="memr_snn_bench_cpp_")
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=True)
        b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-I", "-S", "-c", _RSS_WRAPPER, "./main"]
    else:
        b2.prefs.codegen.target = target
    try:
        t0 = time.perf_counter()
        b2.defaultclock.dt = float(cfg["dt"]) * second
        b2.seed(int(cfg["seed"]))
        ns = {
            "taum": par["tau_mem"] * second,
            "taue": par["tau_exc"] * second,
            "taui": par["tau_inh"] * second,
            "taua": par["tau_adapt"] * second,
            "Vt": par["v_threshold"] * volt,
            "Vr": par["v_reset"] * volt,
            "El": par["v_leak"] * volt,
            "beta": par["beta_adapt"] * volt,
            "we": par["w_exc"] * volt,
            "wi": par["w_inh"] * volt,
            "Ne": n_exc,
        }
        eqs = """
        dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
        dge/dt = -ge/taue : volt
        dgi/dt = -gi/taui : volt
        da/dt  = -a/taua : 1
        """
        group = b2.NeuronGroup(
            n, eqs, threshold="v > Vt + beta*a", reset="v = Vr; a += 1",
            refractory=par["t_refractory"] * second, method="exact", namespace=ns,
        )
        group.v = "Vr + rand() * (Vt - Vr)"
        syn_exc = b2.Synapses(group, group, on_pre="ge += we", namespace=ns)
        syn_inh = b2.Synapses(group, group, on_pre="gi += wi", namespace=ns)
        syn_exc.connect("i<Ne", p=p)
        syn_inh.connect("i>=Ne", p=p)
        monitor = b2.SpikeMonitor(group)
        net = b2.Network(group, syn_exc, syn_inh, monitor)
        build_time = time.perf_counter() - t0

        meta: dict = {"import_time": t_import, "build_time": build_time}
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
            meta["run_time"] = float(dev._last_run_time)
            with open(os.path.join(build_dir, "peak_rss_main.txt")) as fh:
                meta["peak_rss"] = int(fh.read().strip()) * 1024
            meta["peak_rss_python"] = _self_peak_rss()
            meta["n_spikes"] = int(monitor.num_spikes)
        else:
            net.store("initial")
            t0 = time.perf_counter()
            net.run(duration)
            meta["first_run_time"] = time.perf_counter() - t0
            meta["first_result_wall"] = time.time()
            first = (np.array(monitor.i[:]), np.array(monitor.t_[:]))
            net.restore("initial")
            t0 = time.perf_counter()
            net.run(duration)
            meta["run_time"] = time.perf_counter() - t0
            second_run = (np.array(monitor.i[:]), np.array(monitor.t_[:]))
            meta["repeat_identical"] = bool(
                np.array_equal(first[0], second_run[0]) and np.array_equal(first[1], second_run[1])
            )
            meta["n_spikes"] = int(monitor.num_spikes)
            meta["peak_rss"] = _self_peak_rss()
        meta["n_synapses"] = int(len(syn_exc) + len(syn_inh))
        meta["version"] = str(b2.__version__)
        return meta
    finally:
        if build_dir is not None:
            shutil.rmtree(build_dir, ignore_errors=True)


# --------------------------------------------------------------------------------------
# event-driven scaling
# --------------------------------------------------------------------------------------
def _run_scaling(cfg: dict) -> dict:
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
    return {"runs": runs, "version": str(memr_snn.__version__), "peak_rss": _self_peak_rss()}


_MODES = {"memr": _run_memr, "brian2": _run_brian2, "warmup": _run_warmup, "scaling": _run_scaling}


def main(argv: list[str] | None = None) -> int:
    """Run one configuration and write the JSON result.

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
        print("usage: _bench_worker.py CONFIG_JSON OUT.json", file=sys.stderr)
        return 2
    cfg = json.loads(args[0])
    mode = cfg.get("mode")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {sorted(_MODES)}, got {mode!r}")
    meta = _MODES[mode](cfg)
    meta["worker_time"] = time.perf_counter() - _T_START
    with open(args[1], "w") as fh:
        json.dump(meta, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
