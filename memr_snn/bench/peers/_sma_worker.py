"""Brian2 worker for Song, Miller & Abbott (2000): ``python -m memr_snn.bench.peers._sma_worker CONFIG_JSON OUT.npz``.

The model is Brian2's own ``examples/synapses/STDP.py`` (1000 Poisson inputs, additive STDP onto one
conductance-based neuron); only size, rate, duration, seed and code-generation target are parameters.
Run in a fresh process so that Brian2's global state (device, seed) never leaks into the caller.
"""

import json
import sys
import tempfile
import time

import numpy as np


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cfg = json.loads(args[0])
    import brian2 as b2
    from brian2 import Hz, ms, mV, second

    tmp = None
    if cfg["target"] == "cpp_standalone":
        tmp = tempfile.mkdtemp(prefix="memr_snn_sma_")
        b2.set_device("cpp_standalone", directory=tmp)
    else:
        b2.prefs.codegen.target = cfg["target"]
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
    # the simulation alone: cpp_standalone times its compiled main loop (code generation and compilation
    # are in ``wall``); the runtime targets time their own run
    sim = float(getattr(b2.get_device(), "_last_run_time", None) or wall)
    np.savez(args[1], weights=np.asarray(syn.w) / gmax, n_spikes=np.array(int(mon.num_spikes)),
             wall=np.array(wall), sim=np.array(sim))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
