"""Subprocess worker that builds and runs one Vogels–Abbott network in Brian2 or NEST.

This file is run as a *script* by :mod:`memr_snn.bench.peers` (``python _worker.py CONFIG OUT``),
never imported by the simulators' parent process for a run.  Running it by path keeps the
worker clean: it imports only the standard library, numpy and the one simulator it needs,
never ``memr_snn`` itself (whose numba kernels would pollute import time and peak memory).
It can also be run as ``python -m memr_snn.bench.peers._worker CONFIG OUT``.

``CONFIG`` is a JSON object with the keys ``simulator`` ("brian2" | "nest"), ``model``
("cuba" | "coba"), ``n_neurons``, ``duration`` [s], ``dt`` [s], ``seed``,
``record_spikes`` and, per simulator, ``target`` / ``cache_dir`` (Brian2) or ``threads``
(NEST).  ``OUT`` is the ``.npz`` file the worker writes: ``spike_indices`` (int64),
``spike_times`` [s] (float64) and ``meta``, a 0-d string array holding a JSON object of
scalars (timings [s], peak RSS [bytes], versions, counts).

The network definitions are the module constants :data:`CUBA` and :data:`COBA` (SI floats);
their provenance is documented in :mod:`memr_snn.bench.peers`.
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
from types import MappingProxyType  # noqa: E402

import numpy as np  # noqa: E402

__all__ = ["CUBA", "COBA", "SYNAPSES_PER_NEURON", "EXCITATORY_FRACTION", "main"]

SYNAPSES_PER_NEURON = 80.0
"""Mean number of synapses per neuron: the connection probability is ``80 / n_neurons``."""

EXCITATORY_FRACTION = 0.8
"""The first ``4 * n_neurons // 5`` neurons are excitatory, the rest inhibitory."""

CUBA = MappingProxyType(
    {
        "tau_mem": 20e-3,  # [s]
        "tau_exc": 5e-3,  # [s]
        "tau_inh": 10e-3,  # [s]
        "v_threshold": -50e-3,  # [V]
        "v_reset": -60e-3,  # [V]
        "v_leak": -49e-3,  # [V]
        "t_refractory": 5e-3,  # [s]
        "w_exc": 60 * 0.27 / 10 * 1e-3,  # [V] = 1.62 mV
        "w_inh": -20 * 4.5 / 10 * 1e-3,  # [V] = -9 mV
    }
)
"""CUBA (Brette et al. 2007 benchmark 2) parameters, SI units, as in Brian2 ``examples/CUBA.py``."""

COBA = MappingProxyType(
    {
        "tau_mem": 20e-3,  # [s]
        "tau_exc": 5e-3,  # [s]
        "tau_inh": 10e-3,  # [s]
        "v_threshold": -50e-3,  # [V]
        "v_reset": -60e-3,  # [V]
        "v_leak": -60e-3,  # [V]
        "e_exc": 0.0,  # [V]
        "e_inh": -80e-3,  # [V]
        "t_refractory": 5e-3,  # [s]
        "w_exc": 6.0 / 10.0,  # [1] in units of the leak conductance (6 nS / 10 nS)
        "w_inh": 67.0 / 10.0,  # [1] in units of the leak conductance (67 nS / 10 nS)
        "v_init_mean": -65e-3,  # [V] v = El + (randn()*5 - 5) mV
        "v_init_std": 5e-3,  # [V]
        "ge_init_mean": 4.0,  # [1] ge = randn()*1.5 + 4
        "ge_init_std": 1.5,  # [1]
        "gi_init_mean": 20.0,  # [1] gi = randn()*12 + 20
        "gi_init_std": 12.0,  # [1]
    }
)
"""COBA (Brette et al. 2007 benchmark 1) parameters, SI units; conductances relative to leak."""

# Runs the standalone binary and writes its own peak RSS (ru_maxrss, KiB on Linux) next to
# it, so the compiler's memory does not hide the simulation's.  Stdlib only (-I -S).
_RSS_WRAPPER = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:])\n"
    "_, status, ru = os.wait4(p.pid, 0)\n"
    "open('peak_rss_main.txt', 'w').write(str(ru.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def _n_excitatory(n_neurons: int) -> int:
    return (n_neurons * 4) // 5


def _connection_probability(n_neurons: int) -> float:
    return SYNAPSES_PER_NEURON / n_neurons


def _self_peak_rss() -> int:
    """Peak resident set size of this process [bytes] (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


# --------------------------------------------------------------------------------------
# Brian2
# --------------------------------------------------------------------------------------
def _run_brian2(cfg: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    t0 = time.perf_counter()
    import brian2 as b2

    t_import = time.perf_counter() - t0

    model = cfg["model"]
    n = int(cfg["n_neurons"])
    target = cfg["target"]
    n_exc = _n_excitatory(n)
    p = _connection_probability(n)
    mV, second = b2.mV, b2.second
    record = bool(cfg["record_spikes"])

    def spikes() -> tuple[np.ndarray, np.ndarray]:
        if not record:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return (
            np.array(monitor.i[:], dtype=np.int64),
            np.array(monitor.t_[:], dtype=np.float64),
        )

    b2.prefs.logging.file_log = False
    b2.prefs.logging.delete_log_on_exit = True
    build_dir = None
    if target == "cpp_standalone":
        build_dir = tempfile.mkdtemp(prefix="memr_snn_brian2_cpp_")
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=True)
        b2.prefs.devices.cpp_standalone.run_cmd_unix = [
            sys.executable, "-I", "-S", "-c", _RSS_WRAPPER, "./main",
        ]
    else:
        b2.prefs.codegen.target = target
        if cfg.get("cache_dir"):
            b2.prefs.codegen.runtime.cython.cache_dir = cfg["cache_dir"]

    try:
        t0 = time.perf_counter()
        b2.defaultclock.dt = cfg["dt"] * second
        b2.seed(int(cfg["seed"]))
        if model == "cuba":
            par = CUBA
            ns = {
                "taum": par["tau_mem"] * second,
                "taue": par["tau_exc"] * second,
                "taui": par["tau_inh"] * second,
                "Vt": par["v_threshold"] * b2.volt,
                "Vr": par["v_reset"] * b2.volt,
                "El": par["v_leak"] * b2.volt,
                "we": par["w_exc"] * b2.volt,
                "wi": par["w_inh"] * b2.volt,
                "Ne": n_exc,
            }
            eqs = """
            dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
            dge/dt = -ge/taue : volt
            dgi/dt = -gi/taui : volt
            """
            group = b2.NeuronGroup(
                n, eqs, threshold="v>Vt", reset="v = Vr",
                refractory=par["t_refractory"] * second, method="exact", namespace=ns,
            )
            group.v = "Vr + rand() * (Vt - Vr)"
            group.ge = 0 * mV
            group.gi = 0 * mV
        elif model == "coba":
            par = COBA
            ns = {
                "taum": par["tau_mem"] * second,
                "taue": par["tau_exc"] * second,
                "taui": par["tau_inh"] * second,
                "Vt": par["v_threshold"] * b2.volt,
                "Vr": par["v_reset"] * b2.volt,
                "El": par["v_leak"] * b2.volt,
                "Ee": par["e_exc"] * b2.volt,
                "Ei": par["e_inh"] * b2.volt,
                "we": par["w_exc"],
                "wi": par["w_inh"],
                "Ne": n_exc,
            }
            # Brette's script writes v relative to rest (El = 0, Vt = 10 mV, Ee = 60 mV,
            # Ei = -20 mV); the same equations in absolute potentials:
            eqs = """
            dv/dt  = (-(v-El) + ge*(Ee-v) + gi*(Ei-v))/taum : volt (unless refractory)
            dge/dt = -ge/taue : 1
            dgi/dt = -gi/taui : 1
            """
            group = b2.NeuronGroup(
                n, eqs, threshold="v>Vt", reset="v = Vr",
                refractory=par["t_refractory"] * second, method="euler", namespace=ns,
            )
            group.v = "El + (randn()*5 - 5)*mV"
            group.ge = "randn()*1.5 + 4"
            group.gi = "randn()*12 + 20"
        else:  # validated by the parent
            raise ValueError(f"model must be 'cuba' or 'coba', got {model!r}")
        syn_exc = b2.Synapses(group, group, on_pre="ge += we", namespace=ns)
        syn_inh = b2.Synapses(group, group, on_pre="gi += wi", namespace=ns)
        syn_exc.connect("i<Ne", p=p)
        syn_inh.connect("i>=Ne", p=p)
        monitor = b2.SpikeMonitor(group, record=record)
        net = b2.Network(group, syn_exc, syn_inh, monitor)
        build_time = time.perf_counter() - t0

        meta: dict = {"import_time": t_import, "build_time": build_time}
        duration = cfg["duration"] * second
        if target == "cpp_standalone":
            t0 = time.perf_counter()
            net.run(duration)  # code generation + make + running ./main
            t_call = time.perf_counter() - t0
            dev = b2.get_device()
            make = dev.timers["compile"]["make"] or 0.0
            clean = dev.timers["compile"]["clean"] or 0.0
            binary = dev.timers["run_binary"] or 0.0
            meta["codegen_time"] = t_call - make - clean - binary
            meta["compile_time"] = make + clean
            meta["build_time"] = build_time + meta["codegen_time"] + meta["compile_time"]
            meta["first_run_time"] = binary
            meta["run_time"] = float(dev._last_run_time)
            rss_file = os.path.join(build_dir, "peak_rss_main.txt")
            with open(rss_file) as fh:
                meta["peak_rss"] = int(fh.read().strip()) * 1024
            meta["peak_rss_python"] = _self_peak_rss()
        else:
            net.store("initial")
            t0 = time.perf_counter()
            net.run(duration)
            meta["first_run_time"] = time.perf_counter() - t0
            first = spikes()
            first_count = int(monitor.num_spikes)
            net.restore("initial")
            t0 = time.perf_counter()
            net.run(duration)
            meta["run_time"] = time.perf_counter() - t0
            second = spikes()
            meta["repeat_identical"] = bool(
                first_count == int(monitor.num_spikes)
                and np.array_equal(first[0], second[0])
                and np.array_equal(first[1], second[1])
            )
            meta["peak_rss"] = _self_peak_rss()

        indices, times = spikes()
        meta["n_spikes"] = int(monitor.num_spikes)
        meta["n_synapses"] = int(len(syn_exc) + len(syn_inh))
        meta["version"] = str(b2.__version__)
        if target == "cython":
            from brian2.codegen.runtime.cython_rt.extension_manager import (
                get_cython_cache_dir,
            )

            meta["cython_cache_dir"] = str(
                b2.prefs.codegen.runtime.cython.cache_dir or get_cython_cache_dir()
            )
        return indices, times, meta
    finally:
        if build_dir is not None:
            shutil.rmtree(build_dir, ignore_errors=True)


# --------------------------------------------------------------------------------------
# NEST
# --------------------------------------------------------------------------------------
def _run_nest(cfg: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    t0 = time.perf_counter()
    import nest

    t_import = time.perf_counter() - t0

    model = cfg["model"]
    n = int(cfg["n_neurons"])
    n_exc = _n_excitatory(n)
    p = _connection_probability(n)
    dt_ms = cfg["dt"] * 1e3

    t0 = time.perf_counter()
    nest.ResetKernel()
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.WARNING
    else:  # NEST < 3.9
        nest.set_verbosity("M_WARNING")
    nest.SetKernelStatus(
        {
            "resolution": dt_ms,
            "local_num_threads": int(cfg["threads"]),
            "rng_seed": int(cfg["seed"]),
        }
    )
    if model == "cuba":
        par = CUBA
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
        par = COBA
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
            "V_m": nest.random.normal(
                mean=par["v_init_mean"] * 1e3, std=par["v_init_std"] * 1e3
            ),
            "g_ex": nest.random.normal(
                mean=par["ge_init_mean"] * g_l, std=par["ge_init_std"] * g_l
            ),
            "g_in": nest.random.normal(
                mean=par["gi_init_mean"] * g_l, std=par["gi_init_std"] * g_l
            ),
        }
        neurons = nest.Create("iaf_cond_exp", n, params=params)
        w_exc = par["w_exc"] * g_l  # [nS]
        w_inh = -par["w_inh"] * g_l  # [nS]; negative weights go to the inhibitory port
    else:  # validated by the parent
        raise ValueError(f"model must be 'cuba' or 'coba', got {model!r}")

    conn = {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": True}
    nest.Connect(
        neurons[:n_exc], neurons, conn,
        {"synapse_model": "static_synapse", "weight": w_exc, "delay": dt_ms},
    )
    nest.Connect(
        neurons[n_exc:], neurons, conn,
        {"synapse_model": "static_synapse", "weight": w_inh, "delay": dt_ms},
    )
    n_synapses = int(nest.GetKernelStatus("num_connections"))
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    build_time = time.perf_counter() - t0

    duration_ms = cfg["duration"] * 1e3
    t0 = time.perf_counter()
    nest.Prepare()
    t1 = time.perf_counter()
    nest.Run(duration_ms)
    t2 = time.perf_counter()
    nest.Cleanup()
    t3 = time.perf_counter()

    n_spikes = int(recorder.get("n_events"))
    if cfg["record_spikes"]:
        events = recorder.get("events")
        first_id = int(neurons[0].get("global_id"))
        indices = np.asarray(events["senders"], dtype=np.int64) - first_id
        times = np.asarray(events["times"], dtype=np.float64) * 1e-3
    else:
        indices = np.zeros(0, dtype=np.int64)
        times = np.zeros(0, dtype=np.float64)
    meta = {
        "import_time": t_import,
        "build_time": build_time,
        "prepare_time": t1 - t0,
        "first_run_time": t3 - t0,
        "run_time": t2 - t1,
        "peak_rss": _self_peak_rss(),
        "n_spikes": n_spikes,
        "n_synapses": n_synapses,
        "version": str(nest.__version__),
    }
    return indices, times, meta


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
    if cfg["simulator"] == "brian2":
        indices, times, meta = _run_brian2(cfg)
    elif cfg["simulator"] == "nest":
        indices, times, meta = _run_nest(cfg)
    else:
        raise ValueError(f"simulator must be 'brian2' or 'nest', got {cfg['simulator']!r}")
    order = np.lexsort((indices, times))
    meta["worker_time"] = time.perf_counter() - _T_START
    np.savez(
        args[1],
        spike_indices=indices[order],
        spike_times=times[order],
        meta=np.array(json.dumps(meta)),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
