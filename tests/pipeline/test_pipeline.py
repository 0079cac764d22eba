"""Stages with ideal devices equal the same computation done by hand; determinism under a seed; checkpoint/resume
of a whole pipeline is bit-identical; energy accounting follows its definition."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import memr_snn as ms
from memr_snn import aimc
from memr_snn.pipeline import (
    AIMCStage,
    EncoderStage,
    FunctionStage,
    PIDStage,
    Pipeline,
    PipelineError,
    SpikingStage,
    stage_seed,
)

pytest.importorskip("gymnasium", reason="the control extra is not installed (pip install 'memr_snn[control]')")

from memr_snn.pipeline.tracking import HybridConfig, hybrid_pipeline, pid_pipeline, tracking_error  # noqa: E402

MS = 1e-3
SMALL = {"width": 8, "height": 8, "sigma": 1.2, "max_steps": 40}


def _net(seed=0, n=6):
    net = ms.Network(dt=0.25 * MS, seed=seed, engine="dense")
    a = net.add(ms.Population(n, ms.LIFParams(tau_mem=20 * MS, t_ref=0.0), name="a"))
    b = net.add(ms.Population(3, ms.LIFParams(tau_mem=20 * MS, t_ref=0.0), name="b"))
    net.add(ms.Projection(a, b, ms.AllToAll(), weights=400e-12, name="a->b"))
    return net


def test_aimc_stage_with_ideal_devices_is_the_matrix_product():
    w = np.random.default_rng(1).normal(size=(3, 5))
    model = aimc.compile([{"type": "linear", "weight": w}], io="ideal")
    src = FunctionStage("src", lambda ins: np.arange(5.0) / 5, out_shape=(5,), period=MS, kind="encoder")
    st = AIMCStage("aimc", model, "src", (5,), period=MS)
    pipe = Pipeline([src, st], dt=MS)
    pipe.run(3)
    assert np.allclose(pipe.output("aimc"), w @ (np.arange(5.0) / 5), rtol=1e-12, atol=1e-12)
    c = st.counters()
    assert c["macs"] == 3 * 15 and c["energy_J"] > 0


def test_spiking_stage_equals_the_network_run_by_hand():
    x = np.linspace(0.2, 1.0, 6)
    gain = 5e-9
    src = FunctionStage("src", lambda ins: x, out_shape=(6,), period=2 * MS, kind="encoder")
    st = SpikingStage("snn", _net(), "src", input_population="a", input_mode="current", output_population="b",
                      readout="counts", period=2 * MS, input_gain=gain)
    pipe = Pipeline([src, st], dt=MS)
    pipe.run(6)  # 3 windows of 8 kernel steps
    # by hand: the same network, the same currents, run 3 windows, counted from its monitors
    net = _net()
    ma, mb = net.add(ms.SpikeMonitor(net.population("a"))), net.add(ms.SpikeMonitor(net.population("b")))
    net.set_state(net.population("a"), "i_bias", gain * x)
    net.run_steps(16)
    mb.clear()
    net.run_steps(8)
    assert np.array_equal(pipe.output("snn"), mb.count().astype(float))
    # energy: one synaptic op per spike of a per outgoing synapse (all-to-all: 3), every neuron updated every step
    c = st.counters()
    assert ma.num_spikes > 0 and c["synops"] == 3 * ma.num_spikes
    prof = st.core
    assert c["energy_synops_J"] == pytest.approx(c["synops"] * prof.e_synop, rel=1e-12)
    n_updates = 24 * 9
    assert prof.e_neuron_inactive * n_updates <= c["energy_updates_J"] <= prof.e_neuron_active * n_updates


def test_spiking_stage_leaves_the_networks_own_monitors_recording():
    net = _net()
    mine = net.add(ms.SpikeMonitor(net.population("a"), name="mine"))
    src = FunctionStage("src", lambda ins: np.full(6, 1.0), out_shape=(6,), period=2 * MS, kind="encoder")
    st = SpikingStage("snn", net, "src", input_population="a", input_mode="current", output_population="a",
                      period=2 * MS, input_gain=5e-9)
    pipe = Pipeline([src, st], dt=MS)
    pipe.run(6)
    kept = st.network.monitor("mine")  # the stage runs its own copy, restored from the initial checkpoint
    assert kept.num_spikes == st.counters()["spikes"] > 0 and mine.num_spikes == 0


def test_spiking_stage_spike_input_fires_the_given_neurons():
    spikes = np.zeros((8, 6), dtype=np.uint8)
    spikes[[0, 3, 5], [1, 4, 4]] = 1
    src = FunctionStage("enc", lambda ins: spikes, out_shape=(8, 6), period=2 * MS, kind="encoder")
    st = SpikingStage("snn", _net(), "enc", input_population="a", input_mode="spikes", output_population="a",
                      readout="first_spike", period=2 * MS)
    pipe = Pipeline([src, st], dt=MS)
    pipe.run(1)
    lat = pipe.output("snn")
    assert lat[1] == 0.0 and lat[4] == 3 * 0.25 * MS and np.isinf(lat[[0, 2, 3, 5]]).all()


def test_spiking_stage_refuses_a_period_off_the_network_grid():
    with pytest.raises(PipelineError, match=r"stage 'snn': period \(in steps of the network's dt\)"):
        SpikingStage("snn", _net(), "src", input_population="a", input_mode="current", output_population="b",
                     period=0.3 * MS)


def test_pid_stage_by_hand():
    e = iter([np.array([1.0]), np.array([3.0]), np.array([2.0])])
    src = FunctionStage("err", lambda ins: next(e), period=0.01, kind="readout")
    pid = PIDStage("pid", "err", 1, kp=2.0, ki=10.0, kd=0.1, period=0.01)
    pipe = Pipeline([src, pid], dt=0.01)
    outs = []
    for _ in range(3):
        pipe.run(1)
        outs.append(pipe.output("pid")[0])
    T = 0.01
    want = [2 * 1 + 10 * T * 1 + 0, 2 * 3 + 10 * T * 4 + 0.1 * 2 / T, 2 * 2 + 10 * T * 6 - 0.1 * 1 / T]
    assert np.allclose(outs, want, rtol=1e-13)


def test_seeds_per_stage_depend_on_name_and_pipeline_seed():
    assert stage_seed(1, "a") == stage_seed(1, "a")
    assert len({stage_seed(1, "a"), stage_seed(1, "b"), stage_seed(2, "a")}) == 3


def test_encoder_stage_is_deterministic_under_the_pipeline_seed():
    def run(seed):
        src = FunctionStage("x", lambda ins: np.full(4, 0.5), out_shape=(4,), period=MS, kind="readout")
        enc = EncoderStage("enc", "x", 4, encoding="poisson", n_steps=20, dt=1e-4, max_rate=1000.0, period=MS)
        p = Pipeline([src, enc], dt=MS, seed=seed)
        p.run(3)
        return p.output("enc")

    assert np.array_equal(run(5), run(5)) and not np.array_equal(run(5), run(6))


def _hybrid(seed, estimator="template_fit"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hybrid_pipeline(HybridConfig(n_per=4, estimator=estimator), seed=seed, env_params=SMALL)


@pytest.mark.parametrize("estimator", ["template_fit", "centroid"])
def test_hybrid_pipeline_is_deterministic_and_checkpoints_bit_for_bit(tmp_path, estimator):
    a = _hybrid(3, estimator)
    a.run(300)  # 30 control steps
    b = _hybrid(3, estimator)
    b.run(130)
    b.save(tmp_path / "ckpt.npz")
    c = _hybrid(3, estimator)
    c.load(tmp_path / "ckpt.npz")
    c.run(170)
    b.run(170)
    for other in (b, c):
        assert other.step_count == a.step_count == 300
        assert other.stage("eye").records["error"] == a.stage("eye").records["error"]
        for st in a.stages:
            assert np.array_equal(other.output(st.name), a.output(st.name)), st.name
            ca, co = a.stage(st.name).counters(), other.stage(st.name).counters()
            assert ca == co, st.name
    d = _hybrid(4, estimator)
    d.run(300)
    assert d.stage("eye").records["error"] != a.stage("eye").records["error"]


def test_pid_baseline_tracks():
    p = pid_pipeline(HybridConfig(), seed=0, env_params=SMALL)
    p.run(400)
    err = tracking_error(p)
    assert 0 < err < 3.0 and len(p.stage("eye").records["error"]) == 40
    assert p.stage("eye").counters()["episodes"] == 1  # truncated after max_steps = 40


def test_the_baseline_does_not_depend_on_the_decode_phase():
    # any motor phase in [3 ms, T - 1 ms] hands the plant the command at its next firing: the same run
    errs = []
    for phase in (3e-3, 5e-3, 8e-3, 9e-3):
        p = pid_pipeline(HybridConfig(decode_phase=phase), seed=1, env_params=SMALL)
        p.run(400)
        errs.append(p.stage("eye").records["error"])
    assert all(e == errs[0] for e in errs[1:])


@pytest.mark.parametrize("phase", [2e-3, 9.5e-3, 10e-3])
def test_hybrid_refuses_a_decode_phase_outside_the_control_step(phase):
    with pytest.raises(ValueError, match="decode_phase"):
        hybrid_pipeline(HybridConfig(decode_phase=phase), seed=0, env_params=SMALL)


def test_checkpoint_refuses_another_pipeline(tmp_path):
    a = Pipeline([FunctionStage("a", lambda ins: np.zeros(1), period=MS)], dt=MS)
    a.run(2)
    a.save(tmp_path / "a.npz")
    b = Pipeline([FunctionStage("b", lambda ins: np.zeros(1), period=MS)], dt=MS)
    with pytest.raises(PipelineError, match="does not fit this pipeline"):
        b.load(tmp_path / "a.npz")


def test_window_sum_stage_sums_the_last_n_firings():
    from memr_snn.pipeline import WindowSumStage

    k = iter(range(1, 100))
    src = FunctionStage("src", lambda ins: np.array([float(next(k))]), period=MS, kind="spiking")
    win = WindowSumStage("win", "src", (1,), 3, period=MS)
    pipe = Pipeline([src, win], dt=MS)
    got = []
    for _ in range(5):
        pipe.run(1)
        got.append(pipe.output("win")[0])
    assert got == [1.0, 3.0, 6.0, 9.0, 12.0]  # 1, 1+2, 1+2+3, 2+3+4, 3+4+5
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        WindowSumStage("w", "src", (1,), 0, period=MS)
