"""NIR adapter: round trips over every supported node type, behaviour, analytic spike times, refusals, files.

The analytic references are derived in each test's docstring; the behavioural
tests compare spikes of a network and of its exported-and-reimported twin.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import event, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

nir = pytest.importorskip("nir", reason="the NIR adapter tests need the 'nir' extra (pip install 'memr_snn[nir]')")

from memr_snn import (  # noqa: E402
    ALIFParams,
    AllToAll,
    FixedProbability,
    LIFCondParams,
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSource,
)
from memr_snn.adapters.nir import (  # noqa: E402
    NIR_DOC_UNITS,
    SI_UNITS,
    NIRExportError,
    NIRImportError,
    NIRUnits,
    from_nir,
    read_nir,
    run_nir,
    to_nir,
    write_nir,
)
from memr_snn.units import ms, mV, pA, pF  # noqa: E402

DT = 0.1 * ms


def _spike_input(rng, n, duration, rate_per_step=0.05):
    """Random spikes on the dt grid, at most one per neuron and step."""
    steps = int(round(duration / DT))
    hit = rng.random((steps, n)) < rate_per_step
    st_, idx = np.nonzero(hit)
    return st_ * DT, idx


def _random_network(rng, times, idx, i_bias=0.0):
    """Sources -> two LIF populations (one with different exc/inh taus) with mixed delays and recurrence."""
    net = Network(dt=DT, seed=3)
    src = net.add(SpikeSource(12, times, idx, name="in"))
    a = net.add(Population(25, LIFParams(t_ref=0.0, tau_syn_e=3 * ms, tau_syn_i=8 * ms, i_bias=i_bias,
                                         tau_mem=rng.uniform(8, 15, 25) * ms), name="a"))
    b = net.add(Population(8, LIFParams(t_ref=0.0, c_mem=200 * pF, v_reset=-65 * mV), name="b"))
    net.add(Projection(src, a, FixedProbability(0.5), weights=lambda r, n: r.uniform(0, 2500, n) * pA,
                       delays=lambda r, n: r.integers(1, 4, n), name="in->a"))
    net.add(Projection(a, a, FixedProbability(0.3), weights=-400 * pA, receptor="inh", delays=2, name="a->a"))
    net.add(Projection(a, b, FixedProbability(0.6), weights=lambda r, n: r.uniform(500, 1500, n) * pA,
                       delays=5, name="a->b"))
    net.add(Projection(src, b, AllToAll(), weights=300 * pA, receptor="inh", name="in->b"))
    return net


def _run_monitors(net, duration):
    mons = {p.name: net.add(SpikeMonitor(p)) for p in net.populations if isinstance(p, Population)}
    net.run(duration)
    return {k: (m.t.copy(), m.i.copy()) for k, m in mons.items()}


def _same_spikes(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k][0], b[k][0], err_msg=k)
        np.testing.assert_array_equal(a[k][1], b[k][1], err_msg=k)


# --------------------------------------------------------------------------- behaviour
@pytest.mark.parametrize("units", [SI_UNITS, NIR_DOC_UNITS, NIRUnits(time=1e-3, voltage=1e-3, current=1e-9)],
                         ids=["si", "nir-docs", "ms-mV-nA"])
@pytest.mark.parametrize("spike_model", ["dirac", "step"])
def test_export_reimport_gives_identical_spikes(units, spike_model):
    """A random network and its NIR twin (any units, either spike model) spike identically.

    Both sides start from v = v_rest; the twin's populations are named after the
    graph nodes, which the exporter names after the populations.
    """
    rng = np.random.default_rng(11)
    times, idx = _spike_input(rng, 12, 80 * ms)
    net = _random_network(rng, times, idx)
    graph = to_nir(net, units=units, spike_model=spike_model)
    twin = from_nir(graph, DT, units=units, spike_model=spike_model, inputs={"in": (times, idx)}, record=False)
    want = _run_monitors(net, 80 * ms)
    got = _run_monitors(twin, 80 * ms)
    assert sum(t.size for t, _ in want.values()) > 50  # the check has spikes to compare
    _same_spikes(want, got)


def test_bias_current_is_folded_into_v_leak():
    """``i_bias`` becomes ``v_leak = v_rest + r i_bias``; with equal initial v the spikes are identical.

    NIR has no initial state: the twin starts at its v_rest (= the folded v_leak),
    so both networks are given the same explicit initial v.
    """
    rng = np.random.default_rng(5)
    times, idx = _spike_input(rng, 12, 60 * ms)
    net = _random_network(rng, times, idx, i_bias=300 * pA)
    graph = to_nir(net)
    p = net.population("a").neuron
    np.testing.assert_allclose(graph.nodes["a"].v_leak, p.v_rest + p.tau_mem / p.c_mem * p.i_bias, rtol=1e-12)
    twin = from_nir(graph, inputs={"in": (times, idx)}, record=False)
    for name in ("a", "b"):
        v0 = np.linspace(-70, -60, net.population(name).n) * mV
        net.set_state(net.population(name), "v", v0)
        twin.set_state(twin.population(name), "v", v0)
    _same_spikes(_run_monitors(net, 60 * ms), _run_monitors(twin, 60 * ms))


def test_exported_bias_is_the_one_in_force():
    """``i_bias`` is state: an initial value set on the population, or the value after a run, is exported."""
    net = Network(dt=DT, seed=0)
    pop = net.add(Population(2, LIFParams(t_ref=0.0, i_bias=100 * pA), name="p", initial={"i_bias": [0.0, 50e-12]}))
    r = 10 * ms / (250 * pF)
    np.testing.assert_allclose(to_nir(net).nodes["p"].v_leak, -70 * mV + r * np.array([0.0, 50e-12]), rtol=1e-12)
    net.run(1 * ms)
    net.set_state(pop, "i_bias", [20e-12, 30e-12])
    np.testing.assert_allclose(to_nir(net).nodes["p"].v_leak, -70 * mV + r * np.array([20e-12, 30e-12]),
                               rtol=1e-12)


def test_file_round_trip_and_run_nir(tmp_path):
    """write_nir -> nir.read (the reference reader) -> run_nir reproduces the network's spikes."""
    rng = np.random.default_rng(2)
    times, idx = _spike_input(rng, 12, 50 * ms)
    net = _random_network(rng, times, idx)
    path = write_nir(net, tmp_path / "net.nir", units=NIR_DOC_UNITS)
    graph = nir.read(path, type_check=True)  # the reference reader with its own type inference
    assert graph.metadata["memr_snn_dt_s"] == pytest.approx(DT)
    assert graph.metadata["dt"] == pytest.approx(DT / 1e-3)  # in the graph's (ms) units
    for key, node in to_nir(net, units=NIR_DOC_UNITS).nodes.items():
        for field in ("weight", "tau_syn", "tau_mem", "tau", "r", "v_leak", "v_threshold", "v_reset", "w_in",
                      "delay"):
            if hasattr(node, field):
                np.testing.assert_array_equal(getattr(graph.nodes[key], field), getattr(node, field))
    want = _run_monitors(net, 50 * ms)
    # the graph as nir.read's type inference left it; dt, units and spike model come from the metadata
    out = run_nir(graph, 50 * ms, inputs={"in": (times, idx)})
    assert set(out) == {"a.out", "b.out"}
    _same_spikes(want, {"a": out["a.out"], "b": out["b.out"]})


# --------------------------------------------------------------------------- round trips per node type
def _cubalif(n, **kw):
    p = dict(tau_syn=np.full(n, 4e-3), tau_mem=np.linspace(10e-3, 20e-3, n), r=np.full(n, 4e7),
             v_leak=np.full(n, -0.07), v_threshold=np.full(n, -0.05), v_reset=np.full(n, -0.068),
             w_in=np.linspace(0.5, 2.0, n))
    p.update(kw)
    return nir.CubaLIF(**p)


def _graph(nodes, edges):
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={}, type_check=False)


def _reexport(graph, **kw):
    net = from_nir(graph, DT, record=False, **kw)
    return net, to_nir(net)


def _effective(graph, src, tgt):
    """Current jump per unit weight path src -> tgt: (W * w_in / tau_syn) as a dense matrix (dirac spikes)."""
    lin = next(k for (a, k) in graph.edges if a == src and (k, tgt) in graph.edges)
    t = graph.nodes[tgt]
    return graph.nodes[lin].weight * (t.w_in / t.tau_syn)[:, None]


def test_round_trip_input_linear_cubalif_output():
    """Input, Linear, CubaLIF and Output come back with equal parameters (w_in normalised to tau_syn)."""
    w = np.random.default_rng(0).uniform(-1e-9, 3e-9, (4, 3))
    g = _graph({"in": nir.Input(input_type={"input": np.array([3])}), "lin": nir.Linear(weight=w),
                "pop": _cubalif(4), "out": nir.Output(output_type={"output": np.array([4])})},
               [("in", "lin"), ("lin", "pop"), ("pop", "out")])
    net, back = _reexport(g)
    assert {type(n).__name__ for n in back.nodes.values()} == {"Input", "Linear", "CubaLIF", "Output"}
    assert back.nodes["in"].input_type["input"].tolist() == [3]
    assert ("pop", "pop.out") in back.edges
    for f in ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset"):
        np.testing.assert_allclose(getattr(back.nodes["pop"], f), getattr(g.nodes["pop"], f), rtol=1e-12, err_msg=f)
    np.testing.assert_allclose(back.nodes["pop"].w_in, back.nodes["pop"].tau_syn, rtol=1e-15)  # w_in = tau_syn / 1
    np.testing.assert_allclose(_effective(back, "in", "pop"), _effective(g, "in", "pop"), rtol=1e-12)


def test_round_trip_affine_scale_and_delay():
    """Affine (zero bias), Scale and Delay fold into projections: same effective weights, delays in steps + 1."""
    rng = np.random.default_rng(1)
    w1, w2 = rng.uniform(0, 2e-9, (5, 2)), rng.uniform(-2e-9, 0, (5, 2))
    delay = np.array([0.0, 0.3, 0.3, 1.2, 0.0]) * 1e-3  # per post element [s]: 0, 3, 3, 12, 0 steps
    g = _graph({"in": nir.Input(input_type={"input": np.array([2])}),
                "aff": nir.Affine(weight=w1, bias=np.zeros(5)), "dly": nir.Delay(delay=delay),
                "lin": nir.Linear(weight=w2), "scale": nir.Scale(scale=np.array([1.0, 2.0, 0.5, 3.0, 1.0])),
                "pop": _cubalif(5, w_in=np.full(5, 4e-3))},
               [("in", "aff"), ("aff", "dly"), ("dly", "pop"), ("in", "lin"), ("lin", "scale"), ("scale", "pop")])
    net = from_nir(g, DT, record=False)
    pop, src = net.population("pop"), net.population("in")
    total = {}
    for pr in net.projections:
        assert pr.pre is src and pr.post is pop and pr.receptor == "exc"
        for d in np.unique(pr.delay_array()):
            m = sp.coo_matrix((pr.weights[pr.delay_array() == d],
                               (pr.indices[pr.delay_array() == d], pr.pre_indices()[pr.delay_array() == d])),
                              shape=(5, 2)).toarray()
            total[int(d)] = total.get(int(d), 0) + m
    steps = np.round(delay / DT).astype(int)
    want = {}
    for k in range(5):
        want.setdefault(steps[k] + 1, np.zeros((5, 2)))[k] += w1[k]
    want[1] = want.get(1, np.zeros((5, 2))) + np.diag([1.0, 2.0, 0.5, 3.0, 1.0]) @ w2
    assert sorted(total) == sorted(want) == [1, 4, 13]
    for d in want:
        np.testing.assert_allclose(total[d], want[d], rtol=1e-12, atol=0, err_msg=f"delay {d}")
    back = to_nir(net)  # and out again: Linear + Delay per delay group
    delays = sorted(float(n.delay[0]) for n in back.nodes.values() if isinstance(n, nir.Delay))
    np.testing.assert_allclose(delays, [0.3e-3, 1.2e-3], rtol=1e-12)


def test_round_trip_li_li_lif():
    """LI synaptic filters feeding a LIF map to the exc/inh receptors and come back as LI, LI -> LIF."""
    n = 3
    lif = nir.LIF(tau=np.full(n, 12e-3), r=np.full(n, 5e7), v_leak=np.full(n, -0.065),
                  v_threshold=np.full(n, -0.05), v_reset=np.full(n, -0.07))
    li_e = nir.LI(tau=np.full(n, 2e-3), r=np.full(n, 2e-3), v_leak=np.zeros(n))
    li_i = nir.LI(tau=np.full(n, 9e-3), r=np.full(n, 9e-3), v_leak=np.zeros(n))
    w_e, w_i = np.full((n, 2), 1e-9), np.full((n, 2), -2e-9)
    g = _graph({"in": nir.Input(input_type={"input": np.array([2])}), "we": nir.Linear(weight=w_e),
                "wi": nir.Linear(weight=w_i), "syn_e": li_e, "syn_i": li_i, "cell": lif,
                "out": nir.Output(output_type={"output": np.array([n])})},
               [("in", "we"), ("we", "syn_e"), ("in", "wi"), ("wi", "syn_i"), ("syn_e", "cell"), ("syn_i", "cell"),
                ("cell", "out")])
    net = from_nir(g, DT, record=False)
    p = net.population("cell").neuron
    assert (float(p.tau_syn_e), float(p.tau_syn_i), float(p.tau_mem)) == pytest.approx((2e-3, 9e-3, 12e-3))
    assert float(p.c_mem) == pytest.approx(12e-3 / 5e7)
    assert sorted(pr.receptor for pr in net.projections) == ["exc", "inh"]
    back = to_nir(net)
    assert type(back.nodes["cell"]).__name__ == "LIF"
    assert {("cell.syn_exc", "cell"), ("cell.syn_inh", "cell")} <= set(back.edges)
    np.testing.assert_allclose(back.nodes["cell.syn_exc"].tau, 2e-3, rtol=1e-12)
    np.testing.assert_allclose(back.nodes["cell.syn_inh"].tau, 9e-3, rtol=1e-12)
    for f in ("r", "v_leak", "v_threshold", "v_reset", "tau"):
        np.testing.assert_allclose(getattr(back.nodes["cell"], f), getattr(lif, f), rtol=1e-12, err_msg=f)


def test_nested_graph_runs_as_its_flat_twin():
    """A recurrent CubaLIF layer wrapped in a subgraph (snnTorch's RSynaptic form) spikes as the flat graph.

    Edges address the subgraph by its name (its single Input/Output ports) or an inner node as
    ``<subgraph>.<key>``; the inner nodes are named ``<subgraph>.<key>`` after expansion.
    """
    rng = np.random.default_rng(7)
    w_in, w_rec, w_out = rng.uniform(0, 3e-9, (4, 3)), rng.normal(0, 1e-9, (4, 4)), rng.uniform(0, 4e-9, (2, 4))
    inner = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([4])}), "lif": _cubalif(4),
               "rec": nir.Linear(weight=w_rec), "output": nir.Output(output_type={"output": np.array([4])})},
        edges=[("input", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "output")], type_check=False)
    io = {"in": nir.Input(input_type={"input": np.array([3])}), "w_in": nir.Linear(weight=w_in),
          "w_out": nir.Linear(weight=w_out), "top": _cubalif(2),
          "out": nir.Output(output_type={"output": np.array([2])}),
          "out_rnn": nir.Output(output_type={"output": np.array([4])})}
    nested = _graph({**io, "rnn": inner}, [("in", "w_in"), ("w_in", "rnn"), ("rnn", "w_out"), ("w_out", "top"),
                                           ("top", "out"), ("rnn.lif", "out_rnn")])
    flat = _graph({**io, "rnn.lif": _cubalif(4), "rnn.rec": nir.Linear(weight=w_rec)},
                  [("in", "w_in"), ("w_in", "rnn.lif"), ("rnn.lif", "rnn.rec"), ("rnn.rec", "rnn.lif"),
                   ("rnn.lif", "w_out"), ("w_out", "top"), ("top", "out"), ("rnn.lif", "out_rnn")])
    times, idx = _spike_input(rng, 3, 60 * ms, rate_per_step=0.2)
    want = run_nir(flat, 60 * ms, DT, inputs={"in": (times, idx)})
    got = run_nir(nested, 60 * ms, DT, inputs={"in": (times, idx)})
    assert want["out_rnn"][0].size > 10 and want["out"][0].size > 0
    _same_spikes(want, got)


def test_snntorch_convention_graph_imports_with_unit_current_gain():
    """A graph in snnTorch's export form (RSynaptic as a recurrent CubaLIF subgraph) with ``spike_model="step"``.

    snnTorch writes ``tau_syn = dt / (1 - alpha)``, ``tau_mem = dt / (1 - beta)``, ``r = tau_mem / dt`` and
    ``w_in = tau_syn / dt`` so that a spike through ``W`` adds ``W`` to the synaptic current
    (``syn = alpha * syn + W x``).  Read with step spikes (area dt), the imported weights are ``W`` itself.
    """
    dt, alpha, beta, n = 1e-4, 0.9, 0.8, 4
    tau_syn, tau_mem = dt / (1 - alpha), dt / (1 - beta)
    rng = np.random.default_rng(88)
    w_ff, w_rec = rng.uniform(0, 1, (n, 3)), np.abs(rng.normal(size=(n, n))) * 0.05
    cell = nir.CubaLIF(tau_syn=np.full(n, tau_syn), tau_mem=np.full(n, tau_mem), r=np.full(n, tau_mem / dt),
                       v_leak=np.zeros(n), v_threshold=np.ones(n), w_in=np.full(n, tau_syn / dt), v_reset=np.zeros(n))
    sub = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([n])}), "cubalif": cell,
                              "w_rec": nir.Linear(weight=w_rec),
                              "output": nir.Output(output_type={"output": np.array([n])})},
                       edges=[("input", "cubalif"), ("cubalif", "w_rec"), ("w_rec", "cubalif"), ("cubalif", "output")],
                       type_check=False)
    g = _graph({"in": nir.Input(input_type={"input": np.array([3])}),
                "fc": nir.Affine(weight=w_ff, bias=np.zeros(n)), "rsyn": sub,
                "out": nir.Output(output_type={"output": np.array([n])})},
               [("in", "fc"), ("fc", "rsyn"), ("rsyn", "out")])
    net = from_nir(g, dt, spike_model="step")
    pop = net.population("rsyn.cubalif")
    assert float(pop.neuron.c_mem) == pytest.approx(dt) and float(pop.neuron.tau_syn_e) == pytest.approx(tau_syn)
    dense = {pr.pre.name: pr.to_sparse().toarray() for pr in net.projections}
    np.testing.assert_allclose(dense["in"], w_ff, rtol=1e-12)
    np.testing.assert_allclose(dense["rsyn.cubalif"], w_rec, rtol=1e-12)
    assert [m.name for m in net.monitors] == ["out"] and net.monitors[0].population is pop


def test_network_graph_network_round_trip():
    """memr_snn -> NIR -> memr_snn: equal neuron parameters, weights and delays."""
    rng = np.random.default_rng(4)
    net = _random_network(rng, [], [])
    twin = from_nir(to_nir(net), record=False)
    for pop in net.populations:
        other = twin.population(pop.name)
        assert other.n == pop.n
        if isinstance(pop, Population):
            a, b = pop.neuron.broadcast(pop.n), other.neuron.broadcast(pop.n)
            for f in ("tau_mem", "c_mem", "v_rest", "v_reset", "v_threshold", "tau_syn_e", "tau_syn_i"):
                np.testing.assert_allclose(b[f], a[f], rtol=1e-12, err_msg=f"{pop.name}.{f}")

    def table(n):
        """(pre, post, synaptic tau, i, j, delay) -> summed weight; a population whose two taus are equal
        comes back with one receptor, so the receptor is identified by its time constant."""
        rows = {}
        for pr in n.projections:
            tau = pr.post.neuron.broadcast(pr.post.n)["tau_syn_e" if pr.receptor == "exc" else "tau_syn_i"]
            for w, post, pre, d in zip(pr.weights, pr.indices, pr.pre_indices(), pr.delay_array(), strict=True):
                k = (pr.pre.name, pr.post.name, round(float(tau[post]), 15), int(pre), int(post), int(d))
                rows[k] = rows.get(k, 0.0) + w
        return rows

    want, got = table(net), table(twin)
    assert want.keys() == got.keys()
    np.testing.assert_allclose([got[k] for k in want], [want[k] for k in want], rtol=1e-12)


# --------------------------------------------------------------------------- analytic references
def test_constant_drive_fires_at_the_analytic_period():
    r"""A CubaLIF with v_leak above threshold fires with the closed-form period.

    With no input, :math:`\tau\,dv/dt = v_{leak} - v`; from :math:`v_{reset}` the
    potential reaches :math:`v_{th}` after
    :math:`T = \tau \ln\frac{v_{leak} - v_{reset}}{v_{leak} - v_{th}}`.  memr_snn
    integrates exactly and tests the threshold at the end of each step, and a
    reset at the end of step n restarts the trajectory, so consecutive spikes are
    ``ceil(T / dt)`` steps apart.  The graph is in NIR's table units (ms, mV).
    """
    tau_ms = np.array([10.0, 20.0, 7.3])
    v_leak, v_th, v_reset = np.array([-40.0, -48.0, -30.0]), -50.0, -65.0
    g = _graph({"pop": nir.CubaLIF(tau_syn=np.full(3, 2.0), tau_mem=tau_ms, r=np.full(3, 1.0), v_leak=v_leak,
                                   v_threshold=np.full(3, v_th), v_reset=np.full(3, v_reset)),
                "out": nir.Output(output_type={"output": np.array([3])})}, [("pop", "out")])
    t, i = run_nir(g, 400 * ms, DT, units=NIR_DOC_UNITS)["out"]
    for k in range(3):
        period = tau_ms[k] * 1e-3 * math.log((v_leak[k] - v_reset) / (v_leak[k] - v_th))
        isi_steps = np.diff(np.round(t[i == k] / DT).astype(int))
        assert isi_steps.size >= 7
        assert np.all(isi_steps == math.ceil(period / DT)), (k, period / DT, isi_steps)


@pytest.mark.parametrize("units", [SI_UNITS, NIR_DOC_UNITS], ids=["si", "nir-docs"])
@pytest.mark.parametrize("spike_model", ["dirac", "step"])
def test_single_input_spike_crosses_threshold_at_the_analytic_time(spike_model, units):
    r"""One input spike through ``Linear`` into a CubaLIF: the output spike time solves the PSP equation.

    The spike makes :math:`I` jump by :math:`J = w_{in} W A / \tau_s` (area
    :math:`A = 1` for Dirac spikes, :math:`dt` for step spikes, in graph time units); then
    :math:`v(t) = v_{leak} + \frac{R J \tau_s}{\tau_s - \tau_m}(e^{-t/\tau_s} - e^{-t/\tau_m})`.
    The spike emitted at step :math:`n_0` acts from step :math:`n_0 + 1` (delay 1);
    the neuron fires at the end of the step in which :math:`v` first exceeds
    :math:`v_{th}`: step :math:`\lceil (n_0 + 1) + t^*/dt \rceil - 1` (later spikes, after the reset,
    are not part of this check).  The graph is written in ``units``; the reference is in SI.
    """
    tau_s, tau_m, r, w_in = 3e-3, 15e-3, 2e7, 0.7
    v_leak, v_th = -0.07, -0.06
    area = 1.0 if spike_model == "dirac" else DT / units.time  # graph time units
    jumps = np.array([4.0e-9, 6.0e-9, 1.0e-8])  # current jumps [A], all above the firing level
    w = (jumps / units.current * (tau_s / units.time) / (w_in * area))[:, None]
    g = _graph({"in": nir.Input(input_type={"input": np.array([1])}), "lin": nir.Linear(weight=w),
                "pop": _cubalif(3, tau_syn=np.full(3, tau_s / units.time), tau_mem=np.full(3, tau_m / units.time),
                                r=np.full(3, r / units.resistance), v_leak=np.full(3, v_leak / units.voltage),
                                v_threshold=np.full(3, v_th / units.voltage),
                                v_reset=np.full(3, -0.068 / units.voltage), w_in=np.full(3, w_in)),
                "out": nir.Output(output_type={"output": np.array([3])})},
               [("in", "lin"), ("lin", "pop"), ("pop", "out")])
    n0 = 10
    t, i = run_nir(g, 40 * ms, DT, units=units, spike_model=spike_model, inputs={"in": ([n0 * DT], [0])})["out"]
    for k, jump in enumerate(jumps):
        amp = r * jump * tau_s / (tau_s - tau_m)

        def excess(x, amp=amp):
            return v_leak + amp * (math.exp(-x / tau_s) - math.exp(-x / tau_m)) - v_th

        t_peak = tau_s * tau_m / (tau_m - tau_s) * math.log(tau_m / tau_s)
        t_star = brentq(excess, 0.0, t_peak, xtol=1e-15)
        frac = t_star / DT
        assert abs(frac - round(frac)) > 1e-3  # not on a step boundary: the expected step is unambiguous
        expected = math.ceil(n0 + 1 + frac) - 1
        assert np.round(t[i == k][0] / DT).astype(int) == expected, (k, t_star)  # the first spike


def _brian2_run_nir(nodes, edges, inputs, duration):
    r"""Simulate a graph of Input, Linear, Delay (after a Linear), CubaLIF and Output nodes with Brian2.

    NIR's CubaLIF equations written in Brian2's language, integrated by Brian2 (``method="exact"``):
    :math:`\tau_{mem}\,dv/dt = v_{leak} - v + R I`, :math:`\tau_{syn}\,dI/dt = -I + w_{in} W S`;
    a Dirac spike of area 1 makes :math:`I` jump by :math:`w_{in} W / \tau_{syn}`.  A ``Delay`` of τ is
    Brian2's synaptic delay τ; a zero delay acts on the next step's integration, as memr_snn's one step.
    Neurons start at :math:`v_{leak}` (memr_snn's rest).  SI numbers throughout.
    """
    import brian2 as b2

    b2.prefs.codegen.target = "numpy"
    dt = DT * b2.second
    eqs = """
    dv/dt = (v_leak - v + r * I) / tau_mem : 1
    dI/dt = -I / tau_syn : 1
    v_leak : 1 (constant)
    r : 1 (constant)
    tau_mem : second (constant)
    tau_syn : second (constant)
    v_threshold : 1 (constant)
    v_reset : 1 (constant)
    w_in : 1 (constant)
    """
    groups, objects, monitors = {}, [], {}
    for key, node in nodes.items():
        if isinstance(node, nir.Input):
            times, idx = inputs[key]
            groups[key] = b2.SpikeGeneratorGroup(int(node.input_type["input"][0]), idx, np.asarray(times) * b2.second,
                                                 dt=dt)
        elif isinstance(node, nir.CubaLIF):
            g = b2.NeuronGroup(node.v_threshold.size, eqs, threshold="v > v_threshold", reset="v = v_reset",
                               method="exact", dt=dt)
            for f in ("v_leak", "r", "v_threshold", "v_reset", "w_in"):
                setattr(g, f, getattr(node, f))
            g.tau_mem, g.tau_syn = node.tau_mem * b2.second, node.tau_syn * b2.second
            g.v = node.v_leak
            groups[key] = g
        objects.append(groups.get(key))
    for src, lin in edges:
        if not isinstance(nodes[lin], nir.Linear):
            continue
        (nxt,) = [b for a, b in edges if a == lin]
        delay = 0.0
        if isinstance(nodes[nxt], nir.Delay):
            delay = nodes[nxt].delay
            (nxt,) = [b for a, b in edges if a == nxt]
        post, w = nodes[nxt], nodes[lin].weight
        syn = b2.Synapses(groups[src], groups[nxt], "w : 1", on_pre="I_post += w", dt=dt)
        j, i = np.nonzero(w)
        syn.connect(i=i, j=j)
        syn.w = w[j, i] * post.w_in[j] / post.tau_syn[j]
        syn.delay = np.broadcast_to(delay, w.shape[0])[j] * b2.second
        objects.append(syn)
    for src, out in edges:
        if isinstance(nodes[out], nir.Output):
            monitors[out] = b2.SpikeMonitor(groups[src])
            objects.append(monitors[out])
    net = b2.Network([o for o in objects if o is not None])
    net.run(duration * b2.second)
    return {k: (np.asarray(m.t / b2.second), np.asarray(m.i)) for k, m in monitors.items()}


@pytest.mark.brian2
def test_imported_graph_spikes_as_brian2_integrates_the_nir_equations():
    """An input, recurrent and delayed-feedforward CubaLIF graph: memr_snn's import equals Brian2's run."""
    pytest.importorskip("brian2", reason="brian2 is not installed (pip install '.[peers]')")
    rng = np.random.default_rng(21)
    a = _cubalif(8, tau_syn=rng.uniform(2e-3, 6e-3, 8), tau_mem=rng.uniform(8e-3, 20e-3, 8),
                 w_in=rng.uniform(0.5, 1.5, 8))
    b = _cubalif(4, tau_syn=np.full(4, 5e-3), tau_mem=np.full(4, 12e-3))
    nodes = {"in": nir.Input(input_type={"input": np.array([6])}),
             "w1": nir.Linear(weight=rng.uniform(0, 3e-12, (8, 6)) * (rng.random((8, 6)) < 0.7)),
             "rec": nir.Linear(weight=rng.normal(0, 2e-12, (8, 8))),
             "w2": nir.Linear(weight=rng.uniform(0, 2e-12, (4, 8))), "d2": nir.Delay(delay=np.full(4, 3 * DT)),
             "a": a, "b": b, "out_a": nir.Output(output_type={"output": np.array([8])}),
             "out_b": nir.Output(output_type={"output": np.array([4])})}
    edges = [("in", "w1"), ("w1", "a"), ("a", "rec"), ("rec", "a"), ("a", "w2"), ("w2", "d2"), ("d2", "b"),
             ("a", "out_a"), ("b", "out_b")]
    inputs = {"in": _spike_input(rng, 6, 100 * ms, rate_per_step=0.05)}
    ours = run_nir(_graph(nodes, edges), 100 * ms, DT, inputs=inputs)
    ref = _brian2_run_nir(nodes, edges, inputs, 100 * ms)
    assert ours["out_a"][0].size > 20 and ours["out_b"][0].size > 5
    for key in ("out_a", "out_b"):
        np.testing.assert_allclose(ours[key][0], ref[key][0], rtol=0, atol=1e-9 * DT, err_msg=key)
        np.testing.assert_array_equal(ours[key][1], ref[key][1], err_msg=key)


# --------------------------------------------------------------------------- refusals
def test_export_refuses_unexpressible_neurons_naming_them():
    net = Network(dt=DT, seed=0)
    net.add(Population(3, LIFCondParams(t_ref=0.0), name="cond"))
    net.add(Population(3, ALIFParams(t_ref=0.0), name="adaptive"))
    with pytest.raises(NIRExportError) as err:
        to_nir(net)
    msg = str(err.value)
    assert "population 'cond'" in msg and "conductance" in msg
    assert "population 'adaptive'" in msg and "adaptive threshold" in msg


def test_refractory_period_is_refused_unless_lossy():
    net = Network(dt=DT, seed=0)
    net.add(Population(3, LIFParams(t_ref=2 * ms), name="pop"))
    with pytest.raises(NIRExportError, match=r"population 'pop': refractory period t_ref = 0.002 s.*lossy=True"):
        to_nir(net)
    graph = to_nir(net, lossy=True)
    assert "population 'pop': refractory period" in graph.metadata["memr_snn_dropped"]


def test_device_and_plasticity_projections_are_refused_naming_them():
    from memr_snn.devices import Crossbar
    from memr_snn.learning.stdp import STDP

    net = Network(dt=DT, seed=0)
    src = net.add(PoissonSource(4, 10.0, name="poisson"))
    pop = net.add(Population(3, LIFParams(t_ref=0.0), name="pop"))
    net.add(Projection(src, pop, AllToAll(), weights=100 * pA, name="on_devices", device=Crossbar()))
    net.add(Projection(src, pop, AllToAll(), weights=100 * pA, name="learning", plasticity=STDP(w_max=1e-9)))
    with pytest.raises(NIRExportError) as err:
        to_nir(net)
    assert "projection 'on_devices': memristive device" in str(err.value)
    assert "projection 'learning': plasticity rule STDP" in str(err.value)
    graph = to_nir(net, lossy=True)
    assert type(graph.nodes["poisson"]).__name__ == "Input"


def _single(node_key, node, n_in=2):
    nodes = {"in": nir.Input(input_type={"input": np.array([n_in])}), node_key: node}
    return nodes


@pytest.mark.parametrize(
    "case, match",
    [
        ("if", r"node 'x' \(IF\): integrate-and-fire without leak"),
        ("lif_direct", r"node 'x' \(LIF\): receives input from 'lin' \(Linear\) directly: .*instantaneous"),
        ("affine_bias", r"node 'lin' \(Affine\): a non-zero bias"),
        ("delay_off_grid", r"node 'dly' \(Delay\): delay .* is not a whole number"),
        ("conv", r"node 'x' \(Conv1d\): convolutions are not supported"),
        ("li_readout", r"node 'x' \(LI\): a non-spiking leaky integrator"),
        ("output_of_linear", r"node 'out' \(Output\): fed through 'lin'"),
        ("bad_r", r"node 'x' \(CubaLIF\): r must be > 0"),
        ("threshold_below_reset", r"node 'x' \(CubaLIF\): v_threshold must be > v_reset"),
        ("shape_mismatch", r"node 'lin' \(Linear\): weight of shape \(3, 5\) does not take an input of size 2"),
        ("nested_two_inputs", r"edge \('lin', 'x'\) names a node that is not in the graph"),
        ("target_size", r"node 'x' \(CubaLIF\): receives a signal of size 3 from 'in' via \['lin'\], but has 4"),
    ],
)
def test_import_refuses_with_a_clear_reason(case, match):
    lin = nir.Linear(weight=np.ones((3, 2)))
    x = _cubalif(3)
    edges = [("in", "lin"), ("lin", "x")]
    if case == "if":
        x = nir.IF(r=np.ones(3), v_threshold=np.ones(3))
    elif case == "lif_direct":
        x = nir.LIF(tau=np.ones(3), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3))
    elif case == "affine_bias":
        lin = nir.Affine(weight=np.ones((3, 2)), bias=np.full(3, 0.1))
    elif case == "delay_off_grid":
        edges = [("in", "lin"), ("lin", "dly"), ("dly", "x")]
    elif case == "conv":
        x = nir.Conv1d(input_shape=3, weight=np.ones((1, 1, 2)), stride=1, padding=0, dilation=1, groups=1,
                       bias=np.zeros(1))
    elif case == "li_readout":
        x = nir.LI(tau=np.ones(3), r=np.ones(3), v_leak=np.zeros(3))
    elif case == "output_of_linear":
        edges = [("in", "lin"), ("lin", "out"), ("lin", "x")]
    elif case == "bad_r":
        x = _cubalif(3, r=np.array([1.0, 0.0, 1.0]))
    elif case == "threshold_below_reset":
        x = _cubalif(3, v_threshold=np.full(3, -0.08))
    elif case == "shape_mismatch":
        lin = nir.Linear(weight=np.ones((3, 5)))
    elif case == "target_size":
        x = _cubalif(4)
    elif case == "nested_two_inputs":  # an edge into a subgraph with two Input ports must name one
        x = nir.NIRGraph(nodes={"i1": nir.Input(input_type={"input": np.array([3])}),
                                "i2": nir.Input(input_type={"input": np.array([3])}), "a": _cubalif(3)},
                         edges=[("i1", "a"), ("i2", "a")], type_check=False)
    nodes = _single("x", x)
    nodes["lin"] = lin
    nodes["dly"] = nir.Delay(delay=np.full(3, 0.15 * DT))
    nodes["out"] = nir.Output(output_type={"output": np.array([3])})
    with pytest.raises(NIRImportError, match=match):
        from_nir(_graph(nodes, edges), DT)


def test_import_needs_dt_when_the_graph_does_not_record_it():
    g = _graph({"pop": _cubalif(2)}, [])
    with pytest.raises(NIRImportError, match="dt .* is required"):
        from_nir(g)
    with pytest.raises(NIRImportError, match=r"inputs given for \['nope'\]"):
        from_nir(g, DT, inputs={"nope": ([0.0], [0])})
    g = _graph({"in": nir.Input(input_type={"input": np.array([2])}), "pop": _cubalif(2)}, [])
    with pytest.raises(NIRImportError, match="spike input for Input node 'in'"):
        from_nir(g, DT, inputs={"in": [0.0, 1.0, 2.0]})  # not a (times, indices) pair
    with pytest.raises(NIRImportError, match="spike input for Input node 'in'.*not on the dt grid"):
        from_nir(g, DT, inputs={"in": ([0.33 * DT], [0])})


# --------------------------------------------------------------------------- files
def test_absurd_input_shape_is_refused_before_allocating():
    """A (corrupted) Input shape of 10^13 neurons: a clear error, nothing allocated."""
    g = _graph({"in": nir.Input(input_type={"input": np.array([10**13])}), "pop": _cubalif(2)}, [])
    with pytest.raises(NIRImportError, match="Input node 'in'"):
        from_nir(g, DT)


def test_unreadable_files_give_a_clear_error(tmp_path):
    with pytest.raises(NIRImportError, match="no such NIR file"):
        read_nir(tmp_path / "missing.nir")
    bad = tmp_path / "text.nir"
    bad.write_text("not hdf5")
    with pytest.raises(NIRImportError, match="not a readable NIR file"):
        from_nir(bad, DT)
    (tmp_path / "empty.nir").write_bytes(b"")
    with pytest.raises(NIRImportError, match="not a readable NIR file"):
        read_nir(tmp_path / "empty.nir")


@pytest.fixture(scope="module")
def valid_nir_bytes(tmp_path_factory):
    rng = np.random.default_rng(9)
    net = _random_network(rng, [], [])
    path = tmp_path_factory.mktemp("nir") / "valid.nir"
    write_nir(net, path)
    return path.read_bytes()


@settings(max_examples=25)
@given(data=st.data())
def test_corrupted_files_raise_only_the_adapter_error(valid_nir_bytes, data, tmp_path_factory):
    """Flipped, overwritten or truncated bytes: either a valid network or NIRImportError, nothing else."""
    raw = bytearray(valid_nir_bytes)
    kind = data.draw(st.sampled_from(["flip", "truncate", "overwrite"]))
    if kind == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            pos = data.draw(st.integers(0, len(raw) - 1))
            raw[pos] = data.draw(st.integers(0, 255)) if kind == "overwrite" else raw[pos] ^ 0xFF
    path = tmp_path_factory.mktemp("bad") / "corrupt.nir"
    path.write_bytes(bytes(raw))
    try:
        net = from_nir(path, DT, record=False)
    except NIRImportError:
        return
    assert isinstance(net, Network)


# --------------------------------------------------------------------------- other frameworks (optional)
def _small_feedforward_graph():
    """A graph in the form snnTorch and Norse import: step spikes, v_leak = v_reset = 0, r = tau_mem / dt.

    ``c_mem = dt`` (numerically, in F) makes ``r = tau_mem / c_mem = tau_mem / dt``; NIR's equations
    are unchanged when v and r are scaled together, so this is a choice of voltage scale.
    """
    net = Network(dt=DT, seed=0)
    src = net.add(SpikeSource(4, [0.0, DT], [0, 1], name="in"))
    pop = net.add(Population(3, LIFParams(t_ref=0.0, c_mem=DT, v_rest=0.0, v_reset=0.0, v_threshold=1.0),
                             name="pop"))
    net.add(Projection(src, pop, AllToAll(), weights=0.5, name="w"))
    return to_nir(net, spike_model="step")


def test_graph_loads_and_runs_in_norse():
    norse = pytest.importorskip("norse.torch", reason="Norse (optional, needs torch) is not installed")
    import torch

    module = norse.from_nir(_small_feedforward_graph(), dt=DT)
    out, _ = module(torch.ones(4))
    assert tuple(out.shape)[-1] == 3


def test_graph_runs_in_snntorch_like_in_memr_snn():
    """snnTorch imports the exported graph and spikes like memr_snn, to its discretisation accuracy.

    snnTorch's importer fixes dt = 0.1 ms and integrates with forward Euler (decay 1 - dt/tau, not
    exp(-dt/tau)) and feeds input in the same step (memr_snn: one step of synaptic delay): spike
    counts agree within a couple of spikes over 3000 steps, first spikes within a few steps.
    """
    pytest.importorskip("snntorch", reason="snnTorch (optional, needs torch) is not installed")
    pytest.importorskip("nirtorch", reason="snnTorch's NIR import needs nirtorch, which is not installed")
    import torch
    from snntorch.import_nir import import_from_nir

    steps, n_in, n_out = 3000, 8, 5
    rng = np.random.default_rng(0)
    raster = rng.random((steps, n_in)) < 0.02
    s_steps, s_idx = np.nonzero(raster)
    net = Network(dt=DT, seed=0)
    src = net.add(SpikeSource(n_in, s_steps * DT, s_idx, name="in"))
    # snnTorch's importer needs v_leak = 0 and r = tau_mem/dt, i.e. c_mem = dt, and one threshold
    lif = LIFParams(t_ref=0.0, c_mem=DT, v_rest=0.0, v_reset=0.0, v_threshold=1.0, tau_mem=10 * ms,
                    tau_syn_e=5 * ms, tau_syn_i=5 * ms)
    hidden = net.add(Population(n_out, lif, name="hidden"))  # not "pop": torch's ModuleDict has a .pop
    net.add(Projection(src, hidden, AllToAll(), weights=rng.normal(0.006, 0.004, (n_out, n_in)), name="w"))
    mon = net.add(SpikeMonitor(hidden))
    graph = to_nir(net, spike_model="step")
    net.run(steps * DT)
    ours = np.zeros((steps, n_out), dtype=bool)
    ours[mon.steps, mon.i] = True

    module = import_from_nir(graph)
    theirs = np.zeros((steps, n_out), dtype=bool)
    with torch.no_grad():
        for n in range(steps):
            out = module(torch.tensor(raster[n], dtype=torch.float32)[None])
            out = out[0] if isinstance(out, tuple) else out
            theirs[n] = np.asarray(out.detach()).reshape(-1) > 0
    counts_ours, counts_theirs = ours.sum(0), theirs.sum(0)
    assert counts_ours.min() > 50  # the comparison means something
    np.testing.assert_allclose(counts_theirs, counts_ours, atol=2, rtol=0.02)
    first_ours = ours.argmax(0)
    first_theirs = theirs.argmax(0)
    assert np.all(np.abs(first_ours - first_theirs) <= 3)


# --------------------------------------------------------------------------- command line
def test_cli_export_refuses_then_exports_lossy(tmp_path, capsys):
    """``memr-snn export --to nir``: cuba has t_ref = 5 ms (refused by name); --lossy writes a readable graph."""
    from memr_snn.cli import main

    out = tmp_path / "cuba.nir"
    args = ["export", "--to", "nir", "--network", "cuba", "--n", "50", "--dt", "1e-4", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "population 'exc': refractory period t_ref = 0.005 s" in err and "--lossy" in err
    assert not out.exists()
    assert main([*args, "--lossy", "--nir-units", "nir-docs"]) == 0
    assert "wrote" in capsys.readouterr().out
    graph = read_nir(out)
    assert type(graph.nodes["exc"]).__name__ == "LIF"  # tau_syn_e = 5 ms != tau_syn_i = 10 ms: LI filters
    np.testing.assert_allclose(graph.nodes["exc.syn_inh"].tau, 10.0)  # ms
    assert "t_ref" in graph.metadata["memr_snn_dropped"]
    net = from_nir(out)  # dt and units from the metadata
    assert net.dt == pytest.approx(1e-4) and net.n_neurons == 50
    assert main(["export", "--to", "nir", "--network", "coba", "--n", "50", "--out", str(tmp_path / "c.nir")]) == 2
    assert "conductance" in capsys.readouterr().err


def _fuzz_node(kind, n, m, rng):
    """A node of type ``kind`` with ``n`` outputs (``m`` inputs for weight nodes); random but valid NIR."""
    v = rng.uniform(0.5, 2.0, n)
    return {
        "Input": lambda: nir.Input(input_type={"input": np.array([n])}),
        "Output": lambda: nir.Output(output_type={"output": np.array([n])}),
        "Linear": lambda: nir.Linear(weight=rng.normal(size=(n, m))),
        "Affine": lambda: nir.Affine(weight=rng.normal(size=(n, m)), bias=rng.choice([0.0, 1.0]) * np.ones(n)),
        "Scale": lambda: nir.Scale(scale=v),
        "Delay": lambda: nir.Delay(delay=rng.integers(0, 3, n) * DT),
        "CubaLIF": lambda: _cubalif(n, tau_syn=v * 1e-3, tau_mem=v * 1e-2, r=v * 1e7),
        "LIF": lambda: nir.LIF(tau=v * 1e-2, r=v, v_leak=np.zeros(n), v_threshold=v, v_reset=np.zeros(n)),
        "LI": lambda: nir.LI(tau=v * 1e-3, r=v, v_leak=np.zeros(n)),
        "IF": lambda: nir.IF(r=v, v_threshold=v),
    }[kind]()


@settings(max_examples=60)
@given(kinds=st.lists(st.sampled_from(["Input", "Input", "Linear", "Linear", "CubaLIF", "CubaLIF", "Output",
                                       "Affine", "Scale", "Delay", "LIF", "LI", "IF"]), min_size=1, max_size=7),
       sizes=st.lists(st.integers(1, 3), min_size=7, max_size=7),
       chain=st.lists(st.booleans(), min_size=7, max_size=7),
       extra=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=4),
       seed=st.integers(0, 2**16))
def test_arbitrary_small_graphs_import_or_raise_the_adapter_error(kinds, sizes, chain, extra, seed):
    """Random graphs over every node type: a network (that runs) or NIRImportError, never another exception.

    Node k mostly feeds node k + 1 with matching sizes (so that many graphs are importable), plus random
    extra edges (recurrence, mismatches).
    """
    rng = np.random.default_rng(seed)
    nodes, prev = {}, sizes[0]
    for k, kind in enumerate(kinds):
        n = sizes[k] if kind in ("Input", "Linear", "Affine") else prev
        nodes[f"n{k}"] = _fuzz_node(kind, n, prev, rng)
        prev = n
    edges = {(f"n{k}", f"n{k + 1}") for k in range(len(kinds) - 1) if chain[k]}
    edges |= {(f"n{a}", f"n{b}") for a, b in extra if a < len(kinds) and b < len(kinds)}
    g = _graph(nodes, sorted(edges))
    inputs = {k: ([0.0, DT], [0, 0]) for k, node in nodes.items() if isinstance(node, nir.Input)}
    try:
        net = from_nir(g, DT, inputs=inputs)
    except NIRImportError as exc:
        event(f"refused: {str(exc).split(':')[1].strip()[:20]}")
        return
    event(f"imported {len(net.projections)} projections")
    net.run(2 * ms)
