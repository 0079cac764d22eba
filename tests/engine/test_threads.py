"""Threaded runs (``Network(threads=...)``, :mod:`memr_snn.kernel.threads`) against one thread.

The contract is bit for bit: the same spikes at the same steps, and every engine state array
(membranes, synaptic state, ring buffer, traces, weights, device conductances) equal to the last
bit, for every neuron model, with plasticity and crossbars, monitors, in dense and event mode,
across chunk boundaries and through a checkpoint.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from memr_snn.networks import coba, cuba, cuba_alif

from memr_snn import (
    FixedProbability,
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    info,
)
from memr_snn.devices import Crossbar
from memr_snn.engine import simulator as S
from memr_snn.engine import threads as ET
from memr_snn.engine.threads import ThreadedChunks, threads_for
from memr_snn.info import max_threads
from memr_snn.learning import STDP
from memr_snn.units import ms, pA

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import ckpt_cases  # noqa: E402
from test_determinism import build as build_mixed  # noqa: E402

pytestmark = pytest.mark.skipif(max_threads() < 2, reason="numba allows one thread here (NUMBA_NUM_THREADS)")


def _spikes(net):
    return [(m.i.copy(), m.t.copy()) for m in net.monitors if isinstance(m, SpikeMonitor)]


def assert_same(a: Network, b: Network) -> None:
    """Same spikes and bit-identical engine state (and weights) in both networks."""
    for (ia, ta), (ib, tb) in zip(_spikes(a), _spikes(b), strict=True):
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_array_equal(ta, tb)
    sa, sb = a._sim, b._sim
    assert sa.step == sb.step and sa.mode == sb.mode
    for name, arr in sa.state_arrays().items():
        np.testing.assert_array_equal(arr, sb.state_arrays()[name], err_msg=name)
    np.testing.assert_array_equal(sa.syn_w, sb.syn_w)
    np.testing.assert_array_equal(sa.xg, sb.xg)


def _pair(make, duration, engine=None):
    nets = []
    for threads in (1, 2):
        net = make()
        net.threads = threads
        net.run(duration, engine=engine)
        nets.append(net)
    assert nets[0]._sim.threads_used == 1 and nets[1]._sim.threads_used == 2
    return nets


# COBA and ALIF each compile their own threaded loop (about 30 s each in CI); the mixed network below runs
# both models threaded in CI, these two run with `make test-all`
@pytest.mark.parametrize("builder", [cuba, pytest.param(coba, marks=pytest.mark.slow),
                                     pytest.param(cuba_alif, marks=pytest.mark.slow)], ids=["cuba", "coba", "alif"])
def test_benchmark_networks_dense(builder):
    """CUBA, COBA and ALIF (the benchmark networks, dense): every spike and every state bit as one thread."""
    a, b = _pair(lambda: builder(n=1000, seed=3).net, 0.05)
    assert a._sim.mode == "dense" and a.monitors[0].num_spikes > 100
    assert_same(a, b)


def test_mixed_network_event_and_dense(monkeypatch):
    """LIF + ALIF + COBA populations, Poisson inputs, per-synapse delays, a state monitor: dense, then event mode
    with the active list split over the threads (threshold lowered to this small network), then dense again."""
    monkeypatch.setattr(ThreadedChunks, "event_min", 1)
    nets = []
    for threads in (1, 2):
        net, _, sm = build_mixed(engine="dense")
        net.threads = threads
        net.run(20 * ms)
        net.run(30 * ms, engine="event")
        net.run(10 * ms, engine="dense")
        nets.append((net, sm))
    assert_same(nets[0][0], nets[1][0])
    np.testing.assert_array_equal(nets[0][1].values["v"], nets[1][1].values["v"])
    assert sum(m.num_spikes for m in nets[0][0].monitors if isinstance(m, SpikeMonitor)) > 50


def test_blocks_larger_than_two_zones():
    """Blocks of 10 000 neurons: each thread integrates its last ZONE neurons first and its first ZONE last (three
    zones, two ranges in the second block): the same spikes and state bits as one thread."""
    from memr_snn.kernel.threads import ZONE

    a, b = _pair(lambda: cuba(n=20000, seed=8).net, 0.02)
    thr = b._sim._threaded().record
    assert np.diff(thr.blocks).min() > 2 * ZONE and a.monitors[0].num_spikes > 100
    assert_same(a, b)


def _multapse_network():
    """3000 LIF neurons over two populations, Poisson input; recurrent rows with repeated targets (sorted), weights
    that differ per synapse, a delay per synapse, and an inhibitory projection whose rows are not sorted."""
    from memr_snn.model.connectivity import FromArrays

    net = Network(dt=0.1 * ms, seed=6, engine="dense")
    inp = net.add(PoissonSource(100, 150.0, name="inp"))
    exc = net.add(Population(2400, LIFParams(i_bias=np.linspace(100, 380, 2400) * pA), name="exc"))
    inh = net.add(Population(600, LIFParams(i_bias=200 * pA, tau_syn_i=8 * ms), name="inh"))
    rng = np.random.default_rng(1)
    pre = np.repeat(np.arange(2400), 12)
    post = np.sort(rng.integers(0, 2400, (2400, 12)) // 3 * 3, axis=1).ravel()  # repeated targets in a row
    net.add(Projection(inp, exc, FixedProbability(0.1), weights=lambda r, k: r.uniform(100, 500, k) * pA))
    net.add(Projection(exc, exc, FromArrays(pre, post), weights=lambda r, k: r.uniform(10, 90, k) * pA,
                       delays=lambda r, k: r.integers(1, 5, k)))
    net.add(Projection(exc, inh, FixedProbability(0.02), weights=60 * pA, delays=3))
    pre_i = np.repeat(np.arange(600), 30)
    post_i = rng.integers(0, 2400, pre_i.size)  # rows in random order
    net.add(Projection(inh, exc, FromArrays(pre_i, post_i), weights=lambda r, k: -r.uniform(20, 80, k) * pA,
                       receptor="inh"))
    net.add(SpikeMonitor(exc))
    net.add(SpikeMonitor(inh))
    return net


@pytest.mark.parametrize("make", [lambda: cuba(n=20000, seed=8).net, _multapse_network], ids=["cuba", "multapses"])
def test_moving_block_boundaries(monkeypatch, make):
    """The block loop's boundaries jump to pseudo-random places every window (``ThreadedChunks.balance = -1``),
    in runs of several chunks, the boundaries kept from one run to the next: every spike and state bit as one
    thread (the rows' cuts follow the boundaries over repeated targets; unsorted rows test each target)."""
    from memr_snn.kernel.threads import BALANCE_WINDOW

    monkeypatch.setattr(ThreadedChunks, "balance", -1)
    monkeypatch.setattr(S, "CHUNK_STEPS", 3 * BALANCE_WINDOW + 5)
    nets = []
    for threads in (1, 2):
        net = make()
        net.threads = threads
        seen = set()
        for _ in range(4):
            net.run(10 * ms)
            if threads == 2:
                thr = net._sim._threaded().record
                seen.add(int(thr.bnd[0, 1]))
        nets.append(net)
    assert_same(*nets)
    assert len(seen) >= 3 and thr.bacc[0, 3] >= 10  # the boundary did move; windows done
    assert sum(m.num_spikes for m in nets[0].monitors if isinstance(m, SpikeMonitor)) > 300


@pytest.mark.parametrize("balance", [1, 0], ids=["balanced", "static"])
def test_balancing_keeps_results(monkeypatch, balance):
    """The default balancing (boundaries following the threads' busy times) and static blocks
    (``balance = 0``, the benchmark's ``--static-blocks``: the boundaries never leave their places) on a
    network of two populations whose neurons cost differently (conductance-based and current-based LIF):
    the single thread's results."""
    from memr_snn import LIFCondParams
    from memr_snn.units import nS

    def make():
        net = Network(dt=0.1 * ms, seed=9, engine="dense")
        cob = net.add(Population(6000, LIFCondParams(i_bias=np.linspace(150, 400, 6000) * pA), name="cob"))
        lif = net.add(Population(6000, LIFParams(i_bias=np.linspace(150, 400, 6000) * pA), name="lif"))
        net.add(Projection(cob, lif, FixedProbability(0.005), weights=20 * pA))
        net.add(Projection(lif, cob, FixedProbability(0.005), weights=0.5 * nS))
        net.add(SpikeMonitor(cob))
        net.add(SpikeMonitor(lif))
        return net

    assert ThreadedChunks.balance == 1
    monkeypatch.setattr(ThreadedChunks, "balance", balance)
    a, b = _pair(make, 0.05)
    assert_same(a, b)
    assert sum(m.num_spikes for m in a.monitors) > 1000
    thr = b._sim._threaded().record
    assert int(thr.balance) == balance
    from memr_snn.kernel.thread_layout import ZONE_STATS

    zones = thr.stats[:, ZONE_STATS:ZONE_STATS + 6]  # each neuron-step integrated in one zone of one thread
    assert zones[:, 3:].sum() == 12000 * 500 and (zones[:, :3][zones[:, 3:] > 0] > 0).all()
    if balance == 0:  # no window counted, the boundaries where the blocks have equal numbers of neurons
        assert not thr.bacc.any()
        np.testing.assert_array_equal(thr.bnd[:, :thr.blocks.size], np.tile(thr.blocks, (2, 1)))
    else:
        assert int(thr.bacc[0, 3]) >= 10  # 500 steps: 15 windows of 32


@pytest.mark.parametrize("block_loop", [True, False], ids=["blocks", "regions"])
def test_chunk_boundaries_and_spike_record_overflow(monkeypatch, block_loop):
    """Deferred pushes never cross a chunk or an early return: tiny chunks and a tiny spike record; on the
    block loop and on the parallel-region loop (which dense float networks otherwise no longer take)."""
    monkeypatch.setattr(S, "CHUNK_STEPS", 7)
    monkeypatch.setattr(ThreadedChunks, "block_loop", block_loop)
    a, b = _pair(lambda: cuba(n=600, seed=4).net, 0.03)
    assert_same(a, b)


def test_projection_with_empty_last_row():
    """A projection whose last presynaptic neuron has no synapse (its CSR row starts at the end of the targets):
    the threaded tables are built (an IndexError until 2026-12-04) and the run is the single thread's."""
    from memr_snn.model.connectivity import FromArrays

    def make():
        net = Network(dt=0.1 * ms, seed=2, engine="dense")
        inp = net.add(PoissonSource(50, 80.0, name="inp"))
        pop = net.add(Population(3000, LIFParams(i_bias=300 * pA), name="pop"))
        rng = np.random.default_rng(0)
        pre = np.repeat(np.arange(49), 20)  # source 49 connects to nothing
        net.add(Projection(inp, pop, FromArrays(pre, rng.integers(0, 3000, pre.size)), weights=900 * pA))
        net.add(SpikeMonitor(pop))
        return net

    a, b = _pair(make, 0.02)
    assert a.monitors[0].num_spikes > 0
    assert_same(a, b)


def _busy_network():
    """2000 neurons driven to fire every few steps (biases spread, no refractory period), recurrent inhibition,
    Poisson input: about 10^5 recorded spikes per 2000-step chunk, more than the spike record's 65 536."""
    net = Network(dt=0.1 * ms, seed=5, engine="dense")
    inp = net.add(PoissonSource(100, 200.0, name="inp"))
    pop = net.add(Population(2000, LIFParams(i_bias=np.linspace(2000, 6000, 2000) * pA, t_ref=0.0), name="pop"))
    net.add(Projection(inp, pop, FixedProbability(0.1), weights=50 * pA))
    net.add(Projection(pop, pop, FixedProbability(0.01), weights=-20 * pA, receptor="inh", delays=2))
    net.add(SpikeMonitor(pop))
    return net


def test_spike_record_overflow_stops_every_thread_at_one_step():
    """The spike record fills within a chunk: every block thread stops at the same step and the next call
    goes on from there (the single thread's chunking may differ; the results may not)."""
    a, b = _pair(_busy_network, 0.4)
    assert a.monitors[0].num_spikes > 1 << 17
    assert_same(a, b)


def _plastic_network():
    w_max = 600 * pA
    rule = STDP(a_plus=0.02 * w_max, a_minus=0.021 * w_max, tau_plus=15 * ms, tau_minus=15 * ms, w_max=w_max)
    net = Network(dt=0.1 * ms, seed=11, engine="dense")
    inp = net.add(PoissonSource(200, np.linspace(5, 40, 200), name="inp"))
    pop = net.add(Population(300, LIFParams(i_bias=120 * pA), name="pop"))
    net.add(Projection(inp, pop, FixedProbability(0.2), weights=lambda r, n: r.random(n) * w_max,
                       delays=lambda r, n: r.integers(1, 4, n), plasticity=rule, name="plastic"))
    net.add(Projection(pop, pop, FixedProbability(0.05, allow_autapses=False), weights=-100 * pA, receptor="inh"))
    net.add(SpikeMonitor(pop))
    return net


@pytest.mark.slow  # compiles the threaded loop with plasticity (about 30 s)
def test_plastic_network():
    """STDP on float weights: integration threaded, delivery and learning on one thread; weights bit for bit."""
    a, b = _pair(_plastic_network, 0.1)
    assert a.monitors[0].num_spikes > 100
    assert not np.array_equal(a.projection("plastic").weights, _plastic_network().projection("plastic").weights)
    assert_same(a, b)


@pytest.mark.slow  # compiles the threaded loop with crossbars (about a minute)
def test_crossbar_network():
    """Every projection in memristive crossbars (read noise, wires): device reads and state bit for bit."""
    a, b = _pair(lambda: cuba(n=500, seed=2, device=Crossbar(preset="hfox_rram")).net, 0.03)
    assert_same(a, b)


@pytest.mark.slow  # compiles the threaded loop with crossbars and plasticity (about a minute)
def test_plastic_crossbar_network_event_and_dense(monkeypatch):
    """The checkpoint test network (STDP, reward STDP, a plastic crossbar, all monitors), event then dense."""
    monkeypatch.setattr(ThreadedChunks, "event_min", 1)
    nets = []
    for threads in (1, 2):
        net = ckpt_cases.build()
        net.threads = threads
        net.run(10 * ms)
        net.set_reward(net.projection("a_b"), 0.5)
        net.run(10 * ms, engine="dense")
        nets.append(net)
    assert_same(*nets)


def test_checkpoint_resume_with_threads(tmp_path):
    """Saved mid-run on two threads, loaded and continued on two threads (and on one): the uninterrupted run."""
    whole = cuba(n=800, seed=6).net
    whole.threads = 2
    whole.run(0.04)
    part = cuba(n=800, seed=6).net
    part.threads = 2
    part.run(0.02)
    part.save(tmp_path / "net.msnn")
    for threads in (None, 1):  # None: as saved (2)
        resumed = Network.load(tmp_path / "net.msnn")
        assert resumed.threads == 2
        if threads is not None:
            resumed.threads = threads
        resumed.run(0.02)
        assert_same(whole, resumed)


def test_threads_validated_and_defaulted(monkeypatch):
    assert Network(dt=1e-4).threads is None
    assert Network(dt=1e-4, threads=1).threads == 1
    assert Network(dt=1e-4, threads="auto").threads is None
    for bad in (0, -1, max_threads() + 1, 1.5, True, "2", "Auto"):
        with pytest.raises(ValueError, match=r"threads must be None, 'auto' or an integer in \[1, \d+\].*got"):
            Network(dt=1e-4, threads=bad)
    net = Network(dt=1e-4)
    net.threads = 2
    assert net.threads == 2
    with pytest.raises(ValueError, match="threads"):
        net.threads = 0
    net.threads = "auto"
    assert net.threads is None
    assert threads_for(3, 10) == 3
    monkeypatch.setenv(ET.ENV, "1")
    assert threads_for(None, 10**6) == 1
    monkeypatch.setenv(ET.ENV, "2")
    assert threads_for(None, 10) == 2 and threads_for(1, 10**6) == 1  # an explicit count wins
    for bad in ("0", "x", str(max_threads() + 1)):
        monkeypatch.setenv(ET.ENV, bad)
        with pytest.raises(ValueError, match=r"MEMR_SNN_THREADS must be 'auto' or an integer in \[1, \d+\]"):
            threads_for(None, 10)


def test_auto_threads_rule(monkeypatch):
    """The automatic count: more than one thread only for the block loop, with enough neurons per thread, CPUs
    for this process and idle CPUs."""
    monkeypatch.setenv(ET.ENV, "auto")
    monkeypatch.setattr(ET, "idle_cpus", lambda cpus: float(cpus))
    monkeypatch.setattr(info, "machine_threads", lambda: 2)
    big = 2 * ET.AUTO_MIN_PER_THREAD
    assert threads_for(None, big) == 2 and threads_for(None, 10**7) == 2  # two CPUs
    assert threads_for(None, big - 1) == 1  # too few neurons per thread
    assert threads_for(None, 10**7, block_loop=False) == 1  # the parallel-region loop does not pay
    monkeypatch.setattr(info, "machine_threads", lambda: 8)
    assert threads_for(None, 3 * ET.AUTO_MIN_PER_THREAD) == 3 and threads_for(None, 10**7) == 8
    monkeypatch.setattr(ET, "idle_cpus", lambda cpus: 1.4)  # other work on the cores
    assert threads_for(None, 10**7) == 1
    monkeypatch.setattr(ET, "idle_cpus", lambda cpus: 1.6)
    assert threads_for(None, 10**7) == 2
    monkeypatch.setattr(info, "machine_threads", lambda: 1)
    assert threads_for(None, 10**7) == 1


def test_idle_cpus_reading(monkeypatch):
    """/proc/stat since the last reading (the first: at import), less this process's own CPU time; a reading
    younger than 0.2 s is reused; without /proc/stat the load average."""
    monkeypatch.setattr(ET.os, "cpu_count", lambda: 2)
    wall, cpu, stat = [10.0], [5.0], [(0, 0)]
    monkeypatch.setattr(ET.time, "monotonic", lambda: wall[0])
    monkeypatch.setattr(ET.time, "process_time", lambda: cpu[0])
    monkeypatch.setattr(ET, "_proc_stat", lambda: stat[0])
    monkeypatch.setattr(ET, "_IDLE", {"reading": ET._reading(None)})
    wall[0], stat[0] = 11.0, (150, 200)  # 1 s, 2 CPUs: a quarter busy, none of it this process's
    assert ET.idle_cpus(2) == pytest.approx(1.5)
    wall[0], stat[0] = 11.1, (150, 220)  # 0.1 s later: reused
    assert ET.idle_cpus(2) == pytest.approx(1.5)
    wall[0], cpu[0], stat[0] = 12.0, 6.5, (150, 400)  # all busy, 1.5 CPU-seconds of it this process's
    assert ET.idle_cpus(2) == pytest.approx(1.5)
    wall[0], stat[0] = 13.0, (250, 600)
    assert ET.idle_cpus(1) == pytest.approx(1.0)  # at most this process's CPUs
    wall[0] = 14.0  # no jiffy counted in between: the last estimate
    assert ET.idle_cpus(2) == pytest.approx(1.0)
    slept = []
    monkeypatch.setattr(ET.time, "sleep", slept.append)
    monkeypatch.setattr(ET, "_IDLE", {"reading": (14.0, 6.5, 250, 600, None)})
    wall[0], stat[0] = 14.01, (350, 800)  # 10 ms after the last reading: waits until 50 ms have passed
    ET.idle_cpus(2)
    assert slept == [pytest.approx(0.04)]

    def no_stat():
        raise OSError("no /proc/stat")

    monkeypatch.setattr(ET, "_proc_stat", no_stat)
    monkeypatch.setattr(ET.os, "getloadavg", lambda: (1.5, 1.0, 1.0))
    monkeypatch.setattr(ET, "_IDLE", {"reading": ET._reading(None)})
    wall[0] = 20.0
    assert ET.idle_cpus(2) == pytest.approx(0.5)


def test_small_network_default_stays_on_one_thread():
    """threads=None on a small network runs the one-thread loop and never imports the threaded kernels' runner."""
    va = cuba(n=200, seed=1)
    va.net.run(0.005)
    assert va.net.threads is None and va.net._sim.threads_used == 1
    assert getattr(va.net._sim, "_threads", None) is None
