"""Fresh-process worker of the sparse-activity benchmark (:mod:`memr_snn.bench.sparse`).

Run by path, ``python _sparse_worker.py CONFIG_JSON OUT.npz``, by :func:`memr_snn.bench.sparse.run_sparse`
through :func:`memr_snn.bench.launch.run_worker`.  ``mode`` is ``"memr"``, ``"brian2"``
(``cpp_standalone``) or ``"nest"``; every mode reads the same network arrays from the ``.npz`` file
named by ``arrays`` (:func:`memr_snn.bench.sparse.sparse_arrays`) and the constants from ``params``
(:data:`memr_snn.bench.sparse.SPARSE`), and imports only the simulator it runs.  Brian2 runs
``cpp_standalone`` unless the configuration names another ``target`` (the tests use ``numpy``).  The helpers shared
with the suite's worker (Brian2 target selection, peak RSS) are loaded from :mod:`memr_snn.bench._worker`
by path, which imports only the standard library and numpy.

``meta`` (written to ``OUT.npz``): ``build_time`` (network construction; Brian2: with code generation
and ``make``), ``run_time`` (the simulation with everything compiled: memr_snn's ``run(T)`` after the
kernels were loaded on a small network and the engine arrays prepared, the Brian2 binary's network
run, NEST's ``Run`` after ``Prepare``; wall time), ``run_cpu`` (CPU time of that run: memr_snn and NEST
measure it with ``time.process_time``; the Brian2 binary reads a monotonic wall clock and the process
CPU-time clock around its network run, code inserted by the suite's worker, and Brian2's own
``_last_run_time``, ``std::clock()``, is kept as ``run_clock``), ``end_wall`` (``time.time()`` at the end of the
run: the parent's first result), ``n_spikes``, ``peak_rss`` [bytes] (Brian2: the binary's), ``version``.
"""

from __future__ import annotations

import time

_T_START = time.perf_counter()

import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _HERE:
    del sys.path[0]

import numpy as np  # noqa: E402

_spec = importlib.util.spec_from_file_location("_memr_snn_bench_worker", os.path.join(_HERE, "_worker.py"))
_W = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_W)

__all__ = ["main"]


def _load(cfg: dict) -> dict:
    with np.load(cfg["arrays"]) as data:
        return {k: data[k] for k in data.files}


def _memr_build(cfg: dict, a: dict, n: int, monitor: bool = True):
    """The sparse-activity network in memr_snn; returns (network, its SpikeMonitor or None)."""
    from memr_snn import FromArrays, LIFParams, Network, Population, Projection, SpikeMonitor, SpikeSource

    par, dt = cfg["params"], float(cfg["dt"])
    lif = LIFParams(tau_mem=par["tau_mem"], c_mem=par["c_mem"], v_rest=par["v_rest"], v_reset=par["v_reset"],
                    v_threshold=par["v_threshold"], t_ref=par["t_ref"], tau_syn_e=par["tau_syn_e"],
                    tau_syn_i=par["tau_syn_i"])
    net = Network(dt=dt, seed=int(cfg["seed"]), engine=cfg["engine"], threads=1)  # one thread, as the peers
    src = net.add(SpikeSource(int(cfg["n_sources"]), a["input_steps"] * dt, a["input_sources"], name="input"))
    pop = net.add(Population(n, lif, name="neurons"))
    net.add(Projection(src, pop, FromArrays(a["input_pre"], a["input_post"]), weights=par["w_input"],
                       receptor="exc"))
    net.add(Projection(pop, pop, FromArrays(a["rec_pre"], a["rec_post"]), weights=par["w_recurrent"],
                       receptor="exc"))
    return net, (net.add(SpikeMonitor(pop)) if monitor else None)


def _run_memr(cfg: dict) -> dict:
    import memr_snn

    a = _load(cfg)
    n = int(cfg["n_neurons"])
    # load (or compile) the kernels on a small network with the same structure first
    small = {k: v for k, v in a.items()}
    keep = small["input_steps"] < 100
    small["input_steps"], small["input_sources"] = a["input_steps"][keep], a["input_sources"][keep]
    small["input_post"] = a["input_post"] % 100
    small["rec_pre"], small["rec_post"] = a["rec_pre"][:1000] % 100, a["rec_post"][:1000] % 100
    net, _ = _memr_build(cfg, small, 100)
    net.run(0.01)
    del net, small
    t0 = time.perf_counter()
    net, mon = _memr_build(cfg, a, n)
    del a
    net.run_steps(0)  # engine arrays built outside the timed run
    build = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    net.run(float(cfg["duration"]))
    run_time, run_cpu = time.perf_counter() - t0, time.process_time() - c0
    end = time.time()
    return {"build_time": build, "run_time": run_time, "run_cpu": run_cpu, "end_wall": end,
            "n_spikes": int(mon.num_spikes), "engine": net._sim.mode, "peak_rss": _W._self_peak_rss(),
            "version": str(memr_snn.__version__)}


def _run_brian2(cfg: dict) -> dict:
    import brian2 as b2

    a = _load(cfg)
    par, dt, n = cfg["params"], float(cfg["dt"]), int(cfg["n_neurons"])
    target = cfg.get("target", "cpp_standalone")
    build_dir = _W._brian2_target(b2, target, "memr_snn_sparse_cpp_")
    try:
        t0 = time.perf_counter()
        second, volt, amp = b2.second, b2.volt, b2.amp
        b2.defaultclock.dt = dt * second
        ns = {"taum": par["tau_mem"] * second, "C": par["c_mem"] * b2.farad, "El": par["v_rest"] * volt,
              "Vt": par["v_threshold"] * volt, "Vr": par["v_reset"] * volt, "taue": par["tau_syn_e"] * second,
              "w_input": par["w_input"] * amp,
              "w_recurrent": par["w_recurrent"] * amp}
        eqs = """
        dv/dt = -(v - El)/taum + ie/C : volt (unless refractory)
        die/dt = -ie/taue : amp
        """
        group = b2.NeuronGroup(n, eqs, threshold="v > Vt", reset="v = Vr", refractory=par["t_ref"] * second,
                               method="exact", namespace=ns)
        group.v = par["v_rest"] * volt
        inputs = b2.SpikeGeneratorGroup(int(cfg["n_sources"]), a["input_sources"], a["input_steps"] * dt * second)
        syn_in = b2.Synapses(inputs, group, on_pre="ie += w_input", namespace=ns)
        syn_in.connect(i=a["input_pre"], j=a["input_post"])
        syn_rec = b2.Synapses(group, group, on_pre="ie += w_recurrent", namespace=ns)
        syn_rec.connect(i=a["rec_pre"], j=a["rec_post"])
        del a
        mon = b2.SpikeMonitor(group)
        net = b2.Network(group, inputs, syn_in, syn_rec, mon)
        if target != "cpp_standalone":  # a runtime target (tests): time the run in this process
            build = time.perf_counter() - t0
            t0, c0 = time.perf_counter(), time.process_time()
            net.run(float(cfg["duration"]) * second)
            run_time, run_cpu = time.perf_counter() - t0, time.process_time() - c0
            return {"build_time": build, "run_time": run_time, "run_cpu": run_cpu, "end_wall": time.time(),
                    "n_spikes": int(mon.num_spikes), "peak_rss": _W._self_peak_rss(), "version": str(b2.__version__)}
        net.run(float(cfg["duration"]) * second)  # code generation, make, the binary
        end = time.time()
        total = time.perf_counter() - t0
        dev = b2.get_device()
        binary = dev.timers["run_binary"] or 0.0
        with open(os.path.join(build_dir, "peak_rss_main.txt")) as fh:
            peak = int(fh.read().strip()) * 1024
        # the simulation loop inside the binary, wall and CPU time read there (the worker's inserted clocks);
        # Brian2's own _last_run_time is std::clock(), CPU time, kept as run_clock
        loop = float(dev._last_run_time)
        wall, cpu = _W._brian2_loop_clocks(build_dir) or (None, loop)
        return {"build_time": total - binary, "first_run_time": binary, "run_time": wall, "run_cpu": cpu,
                "run_clock": loop, "end_wall": end, "n_spikes": int(mon.num_spikes), "peak_rss": peak,
                "peak_rss_python": _W._self_peak_rss(), "version": str(b2.__version__)}
    finally:
        if build_dir is not None:
            shutil.rmtree(build_dir, ignore_errors=True)


def _run_nest(cfg: dict) -> dict:
    import nest

    a = _load(cfg)
    par, dt_ms, n = cfg["params"], float(cfg["dt"]) * 1e3, int(cfg["n_neurons"])
    t0 = time.perf_counter()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.WARNING
    nest.SetKernelStatus({"resolution": dt_ms, "local_num_threads": 1, "rng_seed": int(cfg["seed"])})
    neurons = nest.Create("iaf_psc_exp", n, params={
        "C_m": par["c_mem"] * 1e12, "tau_m": par["tau_mem"] * 1e3, "E_L": par["v_rest"] * 1e3,
        "V_reset": par["v_reset"] * 1e3, "V_th": par["v_threshold"] * 1e3, "t_ref": par["t_ref"] * 1e3,
        "tau_syn_ex": par["tau_syn_e"] * 1e3, "tau_syn_in": par["tau_syn_i"] * 1e3, "I_e": 0.0,
        "V_m": par["v_rest"] * 1e3})
    n_src = int(cfg["n_sources"])
    gens = nest.Create("spike_generator", n_src, params={"allow_offgrid_times": True})
    order = np.argsort(a["input_sources"], kind="stable")
    bounds = np.searchsorted(a["input_sources"][order], np.arange(n_src + 1))
    times = a["input_steps"][order] * dt_ms
    gens.set([{"spike_times": times[bounds[s]:bounds[s + 1]].tolist()} for s in range(n_src)])
    g0, n0 = int(gens[0].get("global_id")), int(neurons[0].get("global_id"))
    for pre, post, w in ((a["input_pre"] + g0, a["input_post"] + n0, par["w_input"]),
                         (a["rec_pre"] + n0, a["rec_post"] + n0, par["w_recurrent"])):
        nest.Connect(pre, post, "one_to_one", {"synapse_model": "static_synapse",
                                               "weight": np.full(pre.size, w * 1e12),
                                               "delay": np.full(pre.size, dt_ms)})
    del a
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    build = time.perf_counter() - t0
    nest.Prepare()
    t0, c0 = time.perf_counter(), time.process_time()
    nest.Run(float(cfg["duration"]) * 1e3)
    run_time, run_cpu = time.perf_counter() - t0, time.process_time() - c0
    nest.Cleanup()
    end = time.time()
    return {"build_time": build, "run_time": run_time, "run_cpu": run_cpu, "end_wall": end,
            "n_spikes": int(recorder.get("n_events")), "peak_rss": _W._self_peak_rss(),
            "version": str(nest.__version__)}


_MODES = {"memr": _run_memr, "brian2": _run_brian2, "nest": _run_nest}


def main(argv: list[str] | None = None) -> int:
    """Run one configuration (``[CONFIG_JSON, OUT_PATH]``, default ``sys.argv[1:]``) and write its ``.npz``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: _sparse_worker.py CONFIG_JSON OUT.npz", file=sys.stderr)
        return 2
    cfg = json.loads(args[0])
    if cfg.get("mode") not in _MODES:
        raise ValueError(f"mode must be one of {sorted(_MODES)}, got {cfg.get('mode')!r}")
    meta = _MODES[cfg["mode"]](cfg)
    meta["worker_time"] = time.perf_counter() - _T_START
    np.savez(args[1], meta=np.array(json.dumps(meta)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
