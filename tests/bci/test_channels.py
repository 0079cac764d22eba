"""Recording front end (broadband RMS, channel faults) and the safety layer's channel-signal rule."""

import logging

import numpy as np
import pytest
from memr_snn.bci import CortexParams, FaultParams, MotorCortex, SafeDecoder, SteadyStateKalmanFilter
from memr_snn.bci.channels import FrontEnd, SignalParams, check_signal

N = 40
BW = 0.02


def _velocity(n, seed):
    rng = np.random.default_rng(seed)
    v = np.zeros((n, 2))
    for t in range(1, n):
        v[t] = 0.95 * v[t - 1] + rng.normal(scale=0.03, size=2)
    return v


def _setup(params=None, seed=0, n_fit=1500):
    cx = MotorCortex(CortexParams(n_units=N, baseline_rate=20.0), seed=seed)
    fe = FrontEnd(SignalParams(), N, seed=100 + seed)
    v = _velocity(n_fit, seed)
    counts, rms = fe.record(cx.sample(v, BW), BW)
    dec = SafeDecoder(SteadyStateKalmanFilter(), params=params).fit(counts, v, signal=rms)
    return cx, fe, dec


def _accounting(dec, n):
    c = dec.counts
    assert c["n_in"] == c["n_out"] == n == len(dec.sources)
    assert c["primary"] + c["fallback"] + c["stop"] == n


def test_front_end_statistics_and_determinism():
    fe = FrontEnd(SignalParams(), 192, seed=3)
    counts = np.random.default_rng(0).poisson(0.2, (3000, 192))
    out, rms = fe.record(counts, BW)
    np.testing.assert_array_equal(out, counts)  # no fault: the counts pass unchanged
    # total RMS of a few to tens of uV, never below the amplifier floor by more than the estimation error
    assert 3.0 < np.percentile(rms, 1) and np.percentile(rms, 99) < 40.0
    # per-bin estimation error 1 / sqrt(4 B T) = 4.2 % (log units), seen bin to bin (the slow part cancels)
    d = np.diff(np.log(rms), axis=0)
    assert np.std(d) / np.sqrt(2) == pytest.approx(1 / np.sqrt(4 * 7250 * BW), rel=0.05)
    fe2 = FrontEnd(SignalParams(), 192, seed=3)
    out2, rms2 = fe2.record(counts, BW)
    np.testing.assert_array_equal(rms, rms2)
    before = fe.background.copy()
    fe.new_day(4.0)
    assert np.std(np.log(fe.background / before)) == pytest.approx(0.2, rel=0.2)


def test_faults_flat_rail_and_burst_by_hand():
    p = SignalParams(slow_std=0.0)
    fe = FrontEnd(p, 6, seed=1)
    counts = np.full((4, 6), 10)
    fe.disconnect([0], at=0.0)
    fe.rail([1], at=0.0)
    fe.disconnect([2], at=0.030)  # 10 ms into the second bin
    fe.noise_burst([3], duration=0.04, rms=200.0, at=0.0)
    out, rms = fe.record(counts, BW)
    assert np.all(out[:, 0] == 0) and np.all(out[:, 1] == 0)
    assert out[0, 2] == 10 and np.all(out[2:, 2] == 0) and 0 <= out[1, 2] <= 10
    np.testing.assert_allclose(rms[:, 1], p.full_scale)  # pinned at full scale: exact
    jit = 5 / np.sqrt(4 * p.bandwidth * BW)  # five standard deviations of the estimate
    assert np.all(np.abs(np.log(rms[:, 0] / p.amplifier_noise)) < jit)
    healthy = fe.healthy_rms()
    # half the second bin flat: the bin's power is the mean of the two halves
    mid = np.sqrt(0.5 * healthy[2] ** 2 + 0.5 * p.amplifier_noise ** 2)
    assert abs(np.log(rms[1, 2] / mid)) < jit
    assert np.all(out[:2, 3] > 10) and np.all(out[2:, 3] == 10)  # the burst's threshold crossings, then none
    assert np.all(rms[:2, 3] > 100.0) and np.all(rms[2:, 3] < 40.0)
    fe.repair([0, 1])
    out, _ = fe.record(counts[:1], BW)
    assert out[0, 0] == out[0, 1] == 10


@pytest.mark.parametrize("fault", ["disconnect", "rail"])
def test_signal_rule_falls_back_within_the_bound_at_every_phase_of_a_bin(fault, caplog):
    cx, fe, dec = _setup()
    lost = np.array([3, 17, 29])
    assert dec.signal_detection_bound_ == 1 and set(lost) <= set(dec.signal_flat_monitored_)
    for phase in range(20):  # the fault starts at every 1 ms step of bin 10
        dec.rearm()
        f2 = FrontEnd(SignalParams(), N, seed=200 + phase)
        f2.background = fe.background.copy()
        getattr(f2, fault)(lost, at=(10 * 20 + phase) * 1e-3)
        counts, rms = f2.record(cx.sample(_velocity(30, phase), BW), BW)
        with caplog.at_level(logging.WARNING, logger="memr_snn.bci.safety"):
            out = np.array([dec.step(z, signal=q) for z, q in zip(counts, rms, strict=True)])
        assert np.all(np.isfinite(out))
        _accounting(dec, 30)
        first = dec.switches[0]
        # phase 0: the fault's first bin; later phases: that bin or the next (a partial bin may stay in range)
        assert 10 <= first.bin <= (10 if phase == 0 else 11), (phase, first)
        assert first.reason.startswith("channel signal " + ("flat" if fault == "disconnect" else "high"))
        dropped = sorted(int(c) for ev in dec.switches for c in ev.reason.rsplit("[", 1)[1].rstrip("]").split(","))
        assert dropped == lost.tolist()  # exactly the faulted channels, each once
        assert dec.switches[-1].n_channels == N - 3
        keep = np.setdiff1d(np.arange(N), lost)
        np.testing.assert_allclose(dec._active.H_, dec.fallback_.H_[keep])
        assert set(dec.sources[:first.bin]) == {"primary"} and set(dec.sources[first.bin:]) == {"fallback"}


def test_no_false_alarm_on_a_long_fault_free_stream():
    cx, fe, dec = _setup()
    n = 12000  # 240 s, 2.7 channel-hours of 40 channels (the benchmark measures hours of 192)
    counts, rms = fe.record(cx.sample(_velocity(n, 7), BW), BW)
    for z, q in zip(counts, rms, strict=True):
        dec.step(z, signal=q)
    assert not [s for s in dec.switches if s.reason.startswith("channel signal")]
    _accounting(dec, n)


def test_noise_burst_is_flagged_and_neuron_loss_is_not_a_channel_fault():
    cx, fe, dec = _setup()
    fe.noise_burst([5, 6], duration=0.2, rms=150.0, at=fe.time + 0.1)
    counts, rms = fe.record(cx.sample(_velocity(20, 9), BW), BW)
    for z, q in zip(counts, rms, strict=True):
        dec.step(z, signal=q)
    assert dec.switches[0].bin == 5 and "high" in dec.switches[0].reason and "[5, 6]" in dec.switches[0].reason
    cx, fe, dec = _setup()
    cx.lose_units([2, 4])  # the neurons are gone, the electrodes are fine: the broadband RMS stays
    counts, rms = fe.record(cx.sample(_velocity(60, 10), BW), BW)
    for z, q in zip(counts, rms, strict=True):
        dec.step(z, signal=q)
    assert not [s for s in dec.switches if s.reason.startswith("channel signal")]


def test_without_a_signal_the_monitor_is_unchanged():
    cx = MotorCortex(CortexParams(n_units=N, baseline_rate=20.0), seed=0)
    fe = FrontEnd(SignalParams(), N, seed=100)
    v = _velocity(1500, 0)
    counts, rms = fe.record(cx.sample(v, BW), BW)
    a = SafeDecoder(SteadyStateKalmanFilter()).fit(counts, v, signal=rms)
    b = SafeDecoder(SteadyStateKalmanFilter()).fit(counts, v)
    assert b.signal_ref_ is None and b.signal_detection_bound_ is None
    assert a.detection_bound_ == b.detection_bound_
    test = cx.sample(_velocity(300, 1), BW).astype(float)
    test[100:, [3, 8]] = 0.0
    test[150, 11] = np.nan
    oa = np.array([a.step(z) for z in test])
    ob = np.array([b.step(z) for z in test])
    np.testing.assert_array_equal(oa, ob)
    assert [(s.bin, s.reason) for s in a.switches] == [(s.bin, s.reason) for s in b.switches]


def test_bad_signal_refused_before_any_work():
    cx, fe, dec = _setup()
    z = np.ones(N)
    q = dec.signal_ref_.copy()
    for bad, match in ((np.full(N - 1, 8.0), "shape"), (np.where(np.arange(N) == 3, np.nan, q), "finite"),
                       (np.where(np.arange(N) == 3, -1.0, q), ">= 0"), (np.full((2, N), 8.0), "shape")):
        with pytest.raises(ValueError, match=match):
            dec.step(z, signal=bad)
    assert dec.n_in == 0
    # NaN RMS where the count is NaN (a channel the hardware flags) is accepted
    dec.step(np.where(np.arange(N) == 3, np.nan, z), signal=np.where(np.arange(N) == 3, np.nan, q))
    assert dec.n_in == 1 and "NaN input" in dec.switches[0].reason
    v = _velocity(300, 1)
    b = SafeDecoder(SteadyStateKalmanFilter()).fit(cx.sample(v, BW), v)
    with pytest.raises(ValueError, match="fitted without a signal stream"):
        b.step(z, signal=q)
    with pytest.raises(ValueError, match="shape"):
        SafeDecoder(SteadyStateKalmanFilter()).fit(cx.sample(v, BW), v, signal=np.ones((300, N + 1)))
    with pytest.raises(ValueError, match="signal must be finite"):
        check_signal("signal", np.full((2, N), -1.0), N)
    for kw, match in (({"signal_low": 1.0}, "signal_low"), ({"signal_high": 0.5}, "signal_high"),
                      ({"signal_bins": 0}, "signal_bins"), ({"signal_floor": 0.0}, "signal_floor"),
                      ({"signal_tau": -1.0}, "signal_tau"), ({"silence_model": "x"}, "silence_model"),
                      ({"silence_cap": 0.5}, "silence_cap")):
        with pytest.raises(ValueError, match=match):
            FaultParams(**kw)
    with pytest.raises(ValueError, match="full_scale"):
        SignalParams(full_scale=1.0)
    with pytest.raises(ValueError, match="channels"):
        FrontEnd(SignalParams(), 4, 0).disconnect([4])
    with pytest.raises(ValueError, match="columns"):
        FrontEnd(SignalParams(), 4, 0).record(np.ones((2, 5)), BW)


def test_rate_silence_rule_waits_for_an_improbable_run_or_the_cap():
    """A channel the rate model expects silent is dropped only at the cap; with the counts rule at k_i."""
    for model in ("rate", "counts"):
        cx = MotorCortex(CortexParams(n_units=N, baseline_rate=20.0), seed=0)
        v = _velocity(1500, 0)
        dec = SafeDecoder(SteadyStateKalmanFilter(), params=FaultParams(silence_model=model)).fit(cx.sample(v, BW), v)
        ch = int(dec.monitored_[0])
        k, cap = int(dec.silence_bins_[ch]), int(dec.silence_limit_[ch])
        assert cap == (k if model == "counts" else int(np.ceil(2.0 * k)))
        dec.silence_coef_[:, ch] = 0.0  # the movement is expected to silence this channel
        z = np.maximum(1.0, np.round(dec.silence_coef_[0]))
        z[ch] = 0.0
        for _ in range(cap):
            dec.step(z)
        lost = [s for s in dec.switches if s.reason.startswith("lost channels")]
        assert lost and lost[0].bin == (k - 1 if model == "counts" else cap - 1)
        assert lost[0].reason.endswith(f"channels [{ch}]")
    # a constant expected rate: the run must reach k_i and carry -ln p expected spikes (k_i + 3 bins here)
    dec = SafeDecoder(SteadyStateKalmanFilter()).fit(cx.sample(v, BW), v)
    k = int(dec.silence_bins_[ch])
    dec.silence_coef_[:, ch] = [-np.log(1e-6) / (k + 2.5), 0.0, 0.0, 0.0]
    z = np.maximum(1.0, np.round(dec.silence_coef_[0]))
    z[ch] = 0.0
    for _ in range(k + 5):
        dec.step(z)
    lost = [s for s in dec.switches if s.reason.startswith("lost channels")]
    assert lost[0].bin == k + 2 and lost[0].reason.endswith(f"channels [{ch}]")


def test_session_with_a_front_end_draws_the_same_spikes_and_is_deterministic():
    from memr_snn.bci import SessionConfig, run_session
    from memr_snn.bci.experiments import channel_fault_fallback

    cfg = SessionConfig(observation_trials=8, closed_loop_blocks=1, trials_per_block=4)
    a = run_session(cfg, seed=0)
    b = run_session(SessionConfig(**{**cfg.__dict__, "signal": SignalParams()}), seed=0)
    assert a.front_end is None and all(blk.signal is None for blk in a.blocks)
    for x, y in zip(a.blocks, b.blocks, strict=True):  # no fault: the same counts, cursor and decoding
        np.testing.assert_array_equal(x.counts, y.counts)
        np.testing.assert_array_equal(x.velocity, y.velocity)
        assert y.signal.shape == y.counts.shape
    small = SessionConfig(observation_trials=8, trials_per_block=4)
    r1 = channel_fault_fallback(3, "rail", 4, config=small)
    r2 = channel_fault_fallback(3, "rail", 4, config=small)
    assert r1 == r2 and r1["exact"] and 1 <= r1["bins_to_fallback"] <= 2
    assert r1["bins"]["n_in"] == r1["bins"]["n_out"]
    with pytest.raises(ValueError, match="fault must be one of"):
        channel_fault_fallback(0, "unplugged", config=small)
    with pytest.raises(ValueError, match="n_channels"):
        channel_fault_fallback(0, "rail", 500, config=small)
