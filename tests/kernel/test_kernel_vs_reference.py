"""The numba kernels against their plain-numpy twins in ``memr_snn.kernel.reference``.

Brian2's "same test, several targets" (``tests/features/base.py``): one random
network is run by the jitted loop in dense and in event mode, by the loop's
``.py_func`` (pure Python driving the same sub-kernels), with JIT disabled
altogether in a subprocess, and by :func:`run_reference` (vectorised numpy, no
laziness, no ring-buffer bookkeeping).  Spikes must be identical.

States are compared with a tolerance, not bit for bit:

* event mode replaces ``k`` single steps of an idle neuron by the k-step closed
  form ``p**k -> exp(k log p)``, which rounds differently (``~k`` ulps);
* the dense path may reorder or vectorise floating-point operations.

Both effects are rounding, of order ``1e-16 * n_steps`` relative, so states are
required to agree to ``RTOL = 1e-9`` relative, with an absolute floor of
``1e-12 V`` on ``v`` (1e-10 of a 10 mV excursion) and ``1e-9`` of the largest
magnitude of each synaptic variable.
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from scipy import stats

import memr_snn.engine.simulator as simulator_module
from memr_snn import ALIFParams, LIFParams
from memr_snn.engine.coefficients import group_tables
from memr_snn.kernel.loop import run_chunk
from memr_snn.kernel.neuron import lif_advance
from memr_snn.kernel.reference import lif_advance_ref, run_reference, uniform01_ref
from memr_snn.kernel.rng import uniform01
from memr_snn.units import MOhm, ms, mV, nA, nS, pA, pF

RTOL = 1e-9
V_ATOL = 1e-12  # [V]

# ------------------------------------------------------------------ strategies

NEURON_KINDS = ("lif", "alif", "cond", "tsm")


def _tsm_params(rng, n, hetero):
    """Random threshold-switching-memristor neurons around the bio operating point."""
    p = {
        "c_mem": float(rng.uniform(100, 400)) * pF,
        "r_off": float(rng.uniform(100, 300)) * MOhm,
        "r_on": float(rng.uniform(20, 50)) * MOhm,
        "v_th": float(rng.uniform(50, 70)) * mV,
        "v_hold": float(rng.uniform(20, 40)) * mV,
        "t_ref": float(rng.choice([0.0, 0.1, 0.5, 2.0])) * ms,
        "tau_syn_e": float(rng.uniform(0.5, 8)) * ms,
        "tau_syn_i": float(rng.uniform(1, 10)) * ms,
        "k_mod": float(rng.uniform(0, 10)) * mV,
    }
    rheobase = p["v_th"] / p["r_off"]
    # about half driven by their bias: between rheobase and latching, some latched
    p["i_bias"] = (rng.uniform(0.5, 3.0, n) * rheobase * (rng.random(n) < 0.5)).tolist()
    if hetero:
        p["v_th"] = (p["v_th"] + rng.uniform(-5, 5, n) * mV).tolist()
        p["r_on"] = (p["r_on"] * rng.uniform(0.7, 1.3, n)).tolist()
        p["t_ref"] = (rng.choice([0.0, 0.1, 1.0, 2.0], n) * ms).tolist()
    th = np.min(p["v_th"])
    return p, {"v": rng.uniform(0, th - 0.2 * mV, n).tolist(), "c_mod": rng.uniform(-1, 1, n).tolist()}


def _neuron_params(rng, kind, n, hetero):
    """Random but sensible parameters; ``hetero`` makes some of them per-neuron arrays."""
    if kind == "tsm":
        return _tsm_params(rng, n, hetero)
    tau_mem = float(rng.uniform(5, 30)) * ms
    p = {
        "tau_mem": tau_mem,
        "c_mem": float(rng.uniform(150, 400)) * pF,
        "v_rest": -70 * mV,
        "v_reset": float(rng.uniform(-75, -60)) * mV,
        "v_threshold": float(rng.uniform(-56, -50)) * mV,
        "t_ref": float(rng.choice([0.0, 0.1, 0.5, 2.0])) * ms,
        "tau_syn_e": float(rng.uniform(0.5, 8)) * ms,
        "tau_syn_i": float(rng.uniform(1, 10)) * ms,
    }
    if kind != "cond" and rng.random() < 0.3:
        p["tau_syn_e"] = tau_mem  # the equal-time-constant branch
    if kind != "cond" and rng.random() < 0.2:
        p["tau_syn_i"] = tau_mem
    rheobase = (p["v_threshold"] - p["v_rest"]) * p["c_mem"] / tau_mem
    if kind == "alif":
        p["tau_adapt"] = float(rng.uniform(20, 200)) * ms
        p["beta_adapt"] = float(rng.uniform(0, 4)) * mV
    if kind == "cond":
        p["e_rev_e"] = 0.0
        p["e_rev_i"] = -80 * mV
    # about half of the neurons are driven by their bias (most of those above threshold)
    p["i_bias"] = (rng.uniform(0.5, 2.5, n) * rheobase * (rng.random(n) < 0.5)).tolist()
    if hetero:
        p["tau_mem"] = (tau_mem * rng.uniform(0.7, 1.3, n)).tolist()
        p["v_threshold"] = (p["v_threshold"] + rng.uniform(-2, 2, n) * mV).tolist()
        p["t_ref"] = (rng.choice([0.0, 0.1, 1.0, 2.0], n) * ms).tolist()
        if kind == "alif":
            p["beta_adapt"] = (rng.uniform(0, 4, n) * mV).tolist()
    th = np.asarray(p["v_threshold"], dtype=float)
    v0 = rng.uniform(th - 8 * mV, th - 0.2 * mV, n) if np.ndim(th) == 0 else rng.uniform(th - 8 * mV, th - 0.2 * mV)
    if kind == "cond" and rng.random() < 0.5:  # drawn last: the other parameters keep their streams
        p["integration"] = "euler"
    return p, {"v": np.broadcast_to(v0, (n,)).tolist()}


@st.composite
def network_specs(draw, max_steps=400):
    """Small random networks: 1-3 neuron populations, 0-2 inputs, 0-6 projections."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    dt = draw(st.sampled_from([0.1 * ms, 0.25 * ms]))
    n_steps = draw(st.integers(20, max_steps))
    kinds = draw(st.lists(st.sampled_from(NEURON_KINDS), min_size=1, max_size=3))
    inputs = draw(st.lists(st.sampled_from(["poisson", "poisson-rows", "spikes"]), max_size=2))
    inputs_first = draw(st.booleans())
    pops = []
    for kind in kinds:
        n = draw(st.integers(1, 8))
        params, initial = _neuron_params(rng, kind, n, draw(st.booleans()))
        pops.append({"kind": kind, "n": n, "params": params, "initial": initial})
    ins = []
    for kind in inputs:
        n = draw(st.integers(1, 6))
        if kind == "poisson":
            ins.append({"kind": "poisson", "n": n, "rates": rng.uniform(0, 800, n).tolist()})
        elif kind == "poisson-rows":
            ins.append({"kind": "poisson", "n": n, "rates": rng.uniform(0, 1500, (4, n)).tolist(),
                        "rate_interval": 5 * dt})
        else:
            m = int(rng.integers(0, 3 * n_steps // 10 + 2))
            # distinct (step, index) pairs: repeats are the subject of their own test below
            pairs = np.unique(np.stack([rng.integers(0, n_steps + 5, m), rng.integers(0, n, m)], axis=1), axis=0)
            pairs = rng.permutation(pairs)  # unsorted input order
            ins.append({"kind": "spikes", "n": n, "times": (pairs[:, 0] * dt).tolist(),
                        "indices": pairs[:, 1].tolist()})
    all_pops = ins + pops if inputs_first else pops + ins
    neuron_ix = [k for k, p in enumerate(all_pops) if p["kind"] in NEURON_KINDS]
    projs = []
    for _ in range(draw(st.integers(0, 6))):
        pre = draw(st.integers(0, len(all_pops) - 1))
        post = draw(st.sampled_from(neuron_ix))
        n_pre, n_post = all_pops[pre]["n"], all_pops[post]["n"]
        same = pre == post
        conn_kind = draw(st.sampled_from(["prob", "indeg", "arrays", "all", "one"]))
        autapses = draw(st.booleans())
        if conn_kind == "prob":
            conn = ("prob", float(rng.uniform(0.1, 0.9)), autapses)
        elif conn_kind == "indeg":
            n_cand = n_pre - 1 if (same and not autapses) else n_pre
            conn = ("indeg", int(rng.integers(0, n_cand + 1)), autapses)
        elif conn_kind == "arrays":
            m = int(rng.integers(0, 2 * n_pre * n_post + 1))
            conn = ("arrays", rng.integers(0, n_pre, m).tolist(), rng.integers(0, n_post, m).tolist())
        elif conn_kind == "one" and n_pre == n_post:
            conn = ("one",)
        else:
            conn = ("all",)
        receptor = draw(st.sampled_from(["exc", "inh"]))
        if all_pops[post]["kind"] == "cond":
            weight = ("uniform", 0.5 * nS, 8 * nS) if receptor == "exc" else ("uniform", 0.5 * nS, 15 * nS)
        else:
            weight = ("uniform", 50 * pA, 600 * pA) if receptor == "exc" else ("uniform", -600 * pA, -50 * pA)
            if draw(st.booleans()):
                weight = ("uniform", -400 * pA, 400 * pA)  # mixed signs on one receptor
        delay = draw(st.one_of(st.integers(1, 5), st.just(("random", 1, 5))))
        projs.append({"pre": pre, "post": post, "conn": conn, "weight": weight, "delay": delay,
                      "receptor": receptor})
    spec = {"dt": dt, "seed": seed, "pops": all_pops, "projs": projs}
    return spec, n_steps


# ----------------------------------------------------------------- helpers


def _assert_states_close(got, want, neuron_ids, context=""):
    for var in ("v", "se", "si", "a"):
        g, w = got[var][neuron_ids], want[var][neuron_ids]
        scale = float(np.max(np.abs(w))) if w.size else 0.0
        atol = V_ATOL if var == "v" else max(RTOL * scale, 1e-300)
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=atol, err_msg=f"{context} state {var}")


def _assert_same_spikes(got, want, context=""):
    (gs, gg), (ws, wg) = got, want
    if not (np.array_equal(gs, ws) and np.array_equal(gg, wg)):
        a = set(zip(gs.tolist(), gg.tolist(), strict=True))
        b = set(zip(ws.tolist(), wg.tolist(), strict=True))
        raise AssertionError(
            f"{context}: spikes differ; only in kernel (step, gid): {sorted(a - b)[:10]}; "
            f"only in reference: {sorted(b - a)[:10]}"
        )


# ----------------------------------------------------------- whole networks


@settings(max_examples=60)
@given(case=network_specs())
def test_kernel_matches_reference(case, network_builder, spike_reader, state_reader):
    """Dense and event kernels give the reference's spikes exactly and its states to RTOL."""
    spec, n_steps = case
    ref_net, _, _ = network_builder(spec)
    sim = ref_net._ensure_built()
    before = {k: np.copy(v) for k, v in sim.state_arrays().items()}
    r_steps, r_gids, r_state = run_reference(sim, n_steps)
    for k, v in sim.state_arrays().items():  # the reference only reads the simulator
        np.testing.assert_array_equal(v, before[k], err_msg=f"run_reference modified {k}")
    for engine in ("dense", "event"):
        net, _, mons = network_builder(spec, engine=engine)
        net.run_steps(n_steps)
        _assert_same_spikes(spike_reader(net, mons), (r_steps, r_gids), engine)
        _assert_states_close(state_reader(net, spec), r_state, net._sim.neuron_ids, engine)


def test_random_networks_are_not_trivial(network_builder, spike_reader):
    """Guard for the property test above: most drawn networks have neurons that spike."""
    counts = []

    @seed(20240613)  # the same 30 networks in every run, whatever ran before in the session
    @settings(max_examples=30, derandomize=False, database=None)
    @given(case=network_specs())
    def collect(case):
        spec, n_steps = case
        net, _, mons = network_builder(spec, engine="dense")
        net.run_steps(n_steps)
        _, gids = spike_reader(net, mons)
        counts.append(int(np.isin(gids, net._sim.neuron_ids).sum()))

    collect()
    counts = np.array(counts)
    assert np.mean(counts > 0) > 0.5
    assert counts.sum() > 200
    # and the fixed examples used below are busy networks
    spec, n_steps = _fixed_example(3)
    net, _, mons = network_builder(spec, engine="dense")
    net.run_steps(n_steps)
    assert spike_reader(net, mons)[0].size > 50


def _fixed_example(seed):
    """A deterministic spec without hypothesis (for the non-property checks)."""
    rng = np.random.default_rng(seed)
    pops = []
    for k, kind in enumerate(("lif", "alif", "cond")):
        n = 6
        params, initial = _neuron_params(rng, kind, n, hetero=bool(k % 2))
        pops.append({"kind": kind, "n": n, "params": params, "initial": initial})
    dt = 0.1 * ms
    pops.append({"kind": "poisson", "n": 5, "rates": rng.uniform(100, 900, 5).tolist()})
    pops.append({"kind": "spikes", "n": 3, "times": (np.arange(0, 200, 7) * dt).tolist(),
                 "indices": (np.arange(29) % 3).tolist()})
    projs = [
        {"pre": 3, "post": 0, "conn": ("prob", 0.6, True), "weight": ("uniform", 100 * pA, 500 * pA),
         "delay": ("random", 1, 5), "receptor": "exc"},
        {"pre": 4, "post": 1, "conn": ("all",), "weight": ("const", 300 * pA), "delay": 2, "receptor": "exc"},
        {"pre": 3, "post": 2, "conn": ("indeg", 3, True), "weight": ("uniform", 1 * nS, 6 * nS),
         "delay": 1, "receptor": "exc"},
        {"pre": 0, "post": 1, "conn": ("prob", 0.5, False), "weight": ("uniform", -300 * pA, -50 * pA),
         "delay": ("random", 1, 5), "receptor": "inh"},
        {"pre": 1, "post": 0, "conn": ("one",), "weight": ("const", 200 * pA), "delay": 3, "receptor": "exc"},
        {"pre": 2, "post": 2, "conn": ("prob", 0.5, False), "weight": ("uniform", 1 * nS, 5 * nS),
         "delay": ("random", 1, 4), "receptor": "inh"},
    ]
    return {"dt": dt, "seed": seed, "pops": pops, "projs": projs}, 300


def _tsm_example(seed):
    """A fixed network in which TSM neurons receive Poisson input and drive LIF and TSM targets."""
    rng = np.random.default_rng(seed)
    pops = []
    for k, kind in enumerate(("tsm", "tsm", "lif")):
        params, initial = _neuron_params(rng, kind, 6, hetero=bool(k % 2))
        pops.append({"kind": kind, "n": 6, "params": params, "initial": initial})
    pops.append({"kind": "poisson", "n": 8, "rates": rng.uniform(200, 900, 8).tolist()})
    projs = [
        {"pre": 3, "post": 0, "conn": ("prob", 0.7, True), "weight": ("uniform", 200 * pA, 900 * pA),
         "delay": ("random", 1, 5), "receptor": "exc"},
        {"pre": 3, "post": 1, "conn": ("all",), "weight": ("uniform", 100 * pA, 600 * pA), "delay": 2,
         "receptor": "exc"},
        {"pre": 0, "post": 2, "conn": ("all",), "weight": ("const", 600 * pA), "delay": 1, "receptor": "exc"},
        {"pre": 0, "post": 1, "conn": ("prob", 0.5, False), "weight": ("uniform", -300 * pA, -50 * pA),
         "delay": ("random", 1, 4), "receptor": "inh"},
        {"pre": 2, "post": 0, "conn": ("one",), "weight": ("const", 300 * pA), "delay": 3, "receptor": "exc"},
    ]
    return {"dt": 0.1 * ms, "seed": seed, "pops": pops, "projs": projs}, 2000


@pytest.mark.parametrize("seed", [0, 1])
def test_tsm_network_matches_reference(seed, network_builder, spike_reader, state_reader):
    """TSM populations (homogeneous: range kernel; heterogeneous: per-neuron steps) against the twin."""
    spec, n_steps = _tsm_example(seed)
    ref_net, _, _ = network_builder(spec)
    r_steps, r_gids, r_state = run_reference(ref_net._ensure_built(), n_steps)
    assert np.isin(r_gids, np.arange(12)).sum() > 10  # the TSM neurons do spike
    for engine in ("dense", "event"):
        net, _, mons = network_builder(spec, engine=engine)
        net.run_steps(n_steps)
        _assert_same_spikes(spike_reader(net, mons), (r_steps, r_gids), f"tsm {engine}")
        _assert_states_close(state_reader(net, spec), r_state, net._sim.neuron_ids, f"tsm {engine}")
        # phases and refractory counters (the ``ref`` encoding) agree exactly
        np.testing.assert_array_equal(net._sim.ref[:12], r_state["ref"][:12], err_msg=f"tsm {engine} ref")


def test_run_chunk_py_func_matches_jit(monkeypatch, network_builder, spike_reader, state_reader):
    """The loop's pure-Python body, called exactly as the Simulator calls the jitted one.

    ``Simulator.run_steps`` looks ``run_chunk`` up in its module, so patching that
    name makes it pass its real arguments to ``run_chunk.py_func`` (which still
    calls the jitted sub-kernels).  Both modes must give identical spikes and
    states to RTOL (same arithmetic, so in practice bit for bit).
    """
    spec, _ = _fixed_example(3)
    n_steps = 120
    for engine in ("dense", "event"):
        jit_net, _, jit_mons = network_builder(spec, engine=engine)
        jit_net.run_steps(n_steps)
        with monkeypatch.context() as m:
            m.setattr(simulator_module, "run_chunk", run_chunk.py_func)
            py_net, _, py_mons = network_builder(spec, engine=engine)
            py_net.run_steps(n_steps)
        jit_spikes = spike_reader(jit_net, jit_mons)
        assert jit_spikes[0].size > 0
        _assert_same_spikes(spike_reader(py_net, py_mons), jit_spikes, f"py_func {engine}")
        _assert_states_close(state_reader(py_net, spec), state_reader(jit_net, spec), jit_net._sim.neuron_ids,
                             f"py_func {engine}")


_NO_JIT_SCRIPT = r"""
import json, sys
sys.path.insert(0, {tests_dir!r})
import numpy as np
from conftest import build_network, global_spikes, neuron_state
spec = json.loads({spec!r}, object_hook=lambda d: {{k: (tuple(v) if k in ("conn", "weight") or
    (k == "delay" and isinstance(v, list)) else v) for k, v in d.items()}})
out = {{}}
for engine in ("dense", "event"):
    net, _, mons = build_network(spec, engine=engine)
    net.run_steps({n_steps})
    s, g = global_spikes(net, mons)
    st = neuron_state(net, spec)
    out[engine] = {{"steps": s.tolist(), "gids": g.tolist(),
                   "state": {{k: np.nan_to_num(v, nan=0.0).tolist() for k, v in st.items()}}}}
print(json.dumps(out))
"""


def test_numba_disabled_matches_jit(network_builder, spike_reader, state_reader):
    """With ``NUMBA_DISABLE_JIT=1`` every kernel runs as plain Python (the coverage CI leg).

    Runs in a subprocess (the variable is read when numba is imported); the
    results must equal the jitted run's spikes and states.
    """
    spec, _ = _fixed_example(5)
    n_steps = 80
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = _NO_JIT_SCRIPT.format(tests_dir=tests_dir, spec=json.dumps(spec), n_steps=n_steps)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for engine in ("dense", "event"):
        net, _, mons = network_builder(spec, engine=engine)
        net.run_steps(n_steps)
        s, g = spike_reader(net, mons)
        assert s.size > 0
        _assert_same_spikes((np.array(out[engine]["steps"], dtype=np.int64), np.array(out[engine]["gids"])),
                            (s, g), f"NUMBA_DISABLE_JIT {engine}")
        want = state_reader(net, spec)
        got = {k: np.array(v) for k, v in out[engine]["state"].items()}
        _assert_states_close(got, want, net._sim.neuron_ids, f"NUMBA_DISABLE_JIT {engine}")


_DUPLICATE_SCRIPT = r"""
import json
import numpy as np
from memr_snn import LIFParams, Network, OneToOne, Population, Projection, SpikeMonitor, SpikeSource
from memr_snn.kernel.reference import run_reference
from memr_snn.units import ms, pA

def build():
    net = Network(dt=0.1 * ms, seed=1, engine="dense")
    src = net.add(SpikeSource(1, np.zeros(10), np.zeros(10, dtype=np.int64)))
    pop = net.add(Population(1, LIFParams()))
    net.add(Projection(src, pop, OneToOne(), weights=1 * pA))
    return net, net.add(SpikeMonitor(src))

try:
    net, mon = build()
    ref_net, _ = build()
    r_steps, r_gids, r_state = run_reference(ref_net._ensure_built(), 10)
    net.run_steps(10)
except ValueError as exc:
    print(json.dumps({"refused": str(exc)}))
else:
    print(json.dumps({"kernel": mon.steps.tolist(), "reference": r_steps.tolist(),
                      "i_e": float(net.get_state(net.populations[1], "i_e")[0]), "i_e_ref": float(r_state["se"][1])}))
"""


def test_repeated_spike_source_events_are_refused_or_consistent():
    """Ten spikes of one source neuron on one step: refuse them, or match the reference.

    Brian2's SpikeGeneratorGroup refuses a neuron spiking twice in one step;
    either that, or kernel and reference agreeing on the semantics, is fine.
    Runs in a subprocess because the unguarded case crashes the interpreter.
    """
    proc = subprocess.run([sys.executable, "-c", _DUPLICATE_SCRIPT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"crashed with return code {proc.returncode}: {proc.stderr[-2000:]}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if "refused" in out:
        assert "times" in out["refused"] or "duplicate" in out["refused"]
    else:
        assert out["kernel"] == out["reference"]
        assert out["i_e"] == pytest.approx(out["i_e_ref"], rel=1e-12)


# -------------------------------------------------------------- lif_advance


@st.composite
def advance_cases(draw):
    """Random (A)LIF parameters and state; tau_syn sometimes exactly tau_mem."""
    dt = draw(st.sampled_from([0.05 * ms, 0.1 * ms, 0.25 * ms, 1 * ms]))
    tau_mem = draw(st.floats(2, 50)) * ms

    def tau_syn():
        factor = draw(st.one_of(st.just(1.0), st.floats(0.05, 0.999), st.floats(1.001, 5.0)))
        return tau_mem * factor

    params = ALIFParams(
        tau_mem=tau_mem,
        c_mem=draw(st.floats(50, 500)) * pF,
        v_rest=draw(st.floats(-80, -60)) * mV,
        t_ref=2 * ms,
        tau_syn_e=tau_syn(),
        tau_syn_i=tau_syn(),
        tau_adapt=draw(st.floats(10, 500)) * ms,
        beta_adapt=1 * mV,
    )
    def amplitude(lo, hi):
        x = draw(st.floats(lo, hi))
        return 0.0 if abs(x) < 1e-6 else x  # no subnormal currents

    state = dict(
        v=draw(st.floats(-90, -40)) * mV,
        se=amplitude(-1, 1) * nA,
        si=amplitude(-1, 1) * nA,
        a=amplitude(0, 5),
        ib=draw(st.floats(-1, 2)) * nA,
        ref=draw(st.integers(0, 30)),
    )
    k = draw(st.integers(0, 300))
    return params, dt, state, k


@pytest.mark.parametrize("target", ["jit", "py_func"])
@settings(max_examples=150)
@given(case=advance_cases())
def test_lif_advance_closed_form_equals_repeated_steps(target, case):
    r"""``lif_advance`` over ``k`` steps equals ``k`` repeated one-step updates.

    The k-step closed form (``kernel/neuron.py`` docstring) must reproduce
    ``lif_advance_ref`` (the definition: k calls of the one-step update,
    refractory steps included) to 1e-9 relative.  ``v`` is compared as
    ``v - v_inf`` against the size of the excursion it started with
    (``|v0 - v_inf| + R|i_e| + R|i_i|``, floor 1 mV) so that the -70 mV offset
    cannot hide an error; the refractory counter must match exactly.
    """
    params, dt, s, k = case
    gc, _, _ = group_tables(params, 1, dt)
    fn = lif_advance if target == "jit" else lif_advance.py_func
    v, se, si, a, ref = fn(gc, 0, k, s["v"], s["se"], s["si"], s["a"], s["ib"], s["ref"])
    rv, rse, rsi, ra, rref = lif_advance_ref(gc[0], k, s["v"], s["se"], s["si"], s["a"], s["ib"], s["ref"])
    r = params.tau_mem / params.c_mem
    v_inf = params.v_rest + r * s["ib"]
    scale = max(abs(s["v"] - v_inf) + r * (abs(s["se"]) + abs(s["si"])), 1 * mV)
    assert abs(v - rv[0]) <= RTOL * scale
    assert int(ref) == int(rref[0]) == max(s["ref"] - k, 0)
    for got, want in ((se, rse[0]), (si, rsi[0]), (a, ra[0])):
        assert abs(got - want) <= RTOL * abs(want) + 1e-30  # floor: 1e-21 of 1 nA
    if k == 0:
        assert (v, se, si, a, ref) == (s["v"], s["se"], s["si"], s["a"], s["ref"])


def test_lif_advance_refractory_holds_v():
    """While ``ref > 0`` the closed form keeps ``v`` and only decays the currents."""
    p = LIFParams(tau_syn_e=3 * ms)
    gc, _, _ = group_tables(p, 1, 0.1 * ms)
    v, se, si, a, ref = lif_advance(gc, 0, 5, -65 * mV, 1 * nA, 0.0, 0.0, 0.0, 7)
    assert v == -65 * mV and ref == 2
    assert se == pytest.approx(1 * nA * math.exp(-5 * 0.1 / 3), rel=1e-12)


# ------------------------------------------------------------------ the RNG


@settings(max_examples=60)
@given(
    seed=st.integers(0, 2**64 - 1),
    step=st.integers(0, 2**64 - 1),
    index=st.integers(0, 2**64 - 1),
)
def test_uniform01_bit_exact(seed, step, index):
    """The jitted counter-based uniform, its py_func and the numpy twin agree bit for bit."""
    args = (np.uint64(seed), np.uint64(step), np.uint64(index))
    want = float(uniform01_ref(*args))
    assert uniform01(*args) == want
    with np.errstate(over="ignore"):
        assert uniform01.py_func(*args) == want
    assert 0.0 <= want < 1.0


def test_uniform01_vectorised_grid_bit_exact():
    """On a grid of (seed, step, index) including the uint64 extremes."""
    seeds = np.array([0, 1, 12345, 2**63, 2**64 - 1], dtype=np.uint64)
    steps = np.array([0, 1, 2, 999, 2**32, 2**64 - 1], dtype=np.uint64)
    idx = np.array([0, 1, 7, 2**31, 2**64 - 1], dtype=np.uint64)
    ref = uniform01_ref(seeds[:, None, None], steps[None, :, None], idx[None, None, :])
    for a, s in enumerate(seeds):
        for b, t in enumerate(steps):
            for c, i in enumerate(idx):
                assert uniform01(s, t, i) == ref[a, b, c]


def test_uniform01_is_uniform_and_uncorrelated():
    """Sanity of the generator: 200 000 draws pass chi-square and KS uniformity tests.

    Deterministic (fixed seeds), so the p-value thresholds (1e-4) cannot flake;
    also ``P(u < p) = p`` (what Poisson inputs use) within 5 sigma, and
    neighbouring steps / indices are uncorrelated (|r| < 0.01, ~4.5 sigma).
    """
    steps = np.arange(400, dtype=np.uint64)[:, None]
    idx = np.arange(500, dtype=np.uint64)[None, :]
    u = uniform01_ref(np.uint64(0xC0FFEE), steps, idx)
    flat = u.ravel()
    counts = np.histogram(flat, bins=100, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > 1e-4
    assert stats.kstest(flat, "uniform").pvalue > 1e-4
    for p in (0.001, 0.01, 0.1, 0.5):
        hits = np.count_nonzero(flat < p)
        assert abs(hits - p * flat.size) <= 5 * math.sqrt(flat.size * p * (1 - p))
    assert abs(np.corrcoef(u[1:].ravel(), u[:-1].ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(u[:, 1:].ravel(), u[:, :-1].ravel())[0, 1]) < 0.01
    other_seed = uniform01_ref(np.uint64(0xC0FFEF), steps, idx)
    assert abs(np.corrcoef(u.ravel(), other_seed.ravel())[0, 1]) < 0.01
