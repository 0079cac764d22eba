"""The kernels stay valid Python: with NUMBA_DISABLE_JIT=1 a network gives the same spikes."""

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json
    import os
    import numpy as np
    from memr_snn import (ALIFParams, FixedProbability, LIFCondParams, LIFParams, Network, PoissonSource,
                          Population, Projection, SpikeMonitor, SpikeSource, StateMonitor)
    from memr_snn.units import ms, nS, pA
    out = {}
    runs = [("dense", 1), ("event", 1)]
    if os.environ["NUMBA_DISABLE_JIT"] == "1":  # the threads' block loop and barrier as plain Python too
        runs.append(("dense", 2))
    for engine, threads in runs:
        net = Network(dt=0.1 * ms, seed=5, engine=engine, threads=threads)
        inp = net.add(PoissonSource(20, rates=np.linspace(20, 80, 20)))
        src = net.add(SpikeSource(2, [0.001, 0.003], [0, 1]))
        a = net.add(Population(12, LIFParams(i_bias=np.linspace(0, 400, 12) * pA)))
        b = net.add(Population(6, ALIFParams()))
        c = net.add(Population(5, LIFCondParams()))
        net.add(Projection(inp, a, FixedProbability(0.5), weights=300 * pA,
                           delays=lambda r, n: r.integers(1, 4, n)))
        net.add(Projection(src, b, FixedProbability(1.0), weights=900 * pA))
        net.add(Projection(a, b, FixedProbability(0.5), weights=400 * pA, receptor="exc"))
        net.add(Projection(inp, c, FixedProbability(0.5), weights=4 * nS))
        mons = [net.add(SpikeMonitor(p)) for p in (inp, src, a, b, c)]
        sm = net.add(StateMonitor(a, "v", indices=[0, 11], interval=1 * ms))
        net.run(0.05)
        key = engine + ("" if threads == 1 else str(threads))
        out[key] = {"spikes": [[m.steps.tolist(), m.i.tolist()] for m in mons], "v": sm.v.tolist()}
    print(json.dumps(out))
""")


def _run(disable_jit: bool) -> dict:
    env = dict(os.environ, NUMBA_DISABLE_JIT="1" if disable_jit else "0")
    res = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", SCRIPT], env=env,
                         capture_output=True, text=True, check=True, timeout=600)
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_pure_python_kernels_match_compiled():
    jit, nojit = _run(False), _run(True)
    assert jit["dense"]["spikes"] == nojit["dense"]["spikes"]
    assert jit["event"]["spikes"] == nojit["event"]["spikes"]
    assert jit["dense"]["spikes"] == jit["event"]["spikes"]
    assert sum(len(s[0]) for s in jit["dense"]["spikes"]) > 50
    assert jit["dense"]["v"] == nojit["dense"]["v"]
    assert nojit["dense2"] == jit["dense"]  # two threads (block loop, Python threads), state monitor sampling
