"""Safety layer: the fallback takes over within the bound, no bin is lost or duplicated, every switch is logged."""

import logging

import numpy as np
import pytest
from memr_snn.bci import (
    CortexParams,
    Decoder,
    FaultParams,
    KalmanFilter,
    MotorCortex,
    SafeDecoder,
    SteadyStateKalmanFilter,
)


def _velocity(n, seed):
    rng = np.random.default_rng(seed)
    v = np.zeros((n, 2))
    for t in range(1, n):
        v[t] = 0.95 * v[t - 1] + rng.normal(scale=0.03, size=2)
    return v


def _fitted(primary=None, params=None, seed=0):
    cx = MotorCortex(CortexParams(n_units=40, baseline_rate=20.0), seed=seed)
    v = _velocity(1500, seed)
    counts = cx.sample(v, 0.02)
    dec = SafeDecoder(primary if primary is not None else SteadyStateKalmanFilter(), params=params)
    return cx, dec.fit(counts, v)


def _check_accounting(dec, n):
    c = dec.counts
    assert c["n_in"] == c["n_out"] == n == len(dec.sources)
    assert c["primary"] + c["fallback"] + c["stop"] == n


def test_no_false_switch_on_healthy_data():
    cx, dec = _fitted()
    v = _velocity(1500, 1)
    for z in cx.sample(v, 0.02):
        dec.step(z)
    assert dec.switches == [] and dec.counts["primary"] == 1500
    _check_accounting(dec, 1500)


def test_sudden_unit_loss_switches_within_the_bound_without_losing_a_bin(caplog):
    cx, dec = _fitted()
    mu = np.array([dec.silence_bins_[i] for i in dec.monitored_])
    lost = dec.monitored_[np.argsort(mu)[:3]]  # three monitored units
    bound = dec.detection_bound_
    onset = 200
    v = _velocity(onset + bound + 50, 2)
    cx.lose_units(lost, at=cx.time + onset * 0.02)
    counts = cx.sample(v, 0.02)
    with caplog.at_level(logging.WARNING, logger="memr_snn.bci.safety"):
        out = np.array([dec.step(z) for z in counts])
    assert out.shape == (len(counts), 2) and np.all(np.isfinite(out))
    _check_accounting(dec, len(counts))
    assert dec.switches, "no switch"
    first = dec.switches[0]
    assert onset <= first.bin <= onset + bound - 1
    assert first.source == "fallback" and "lost channels" in first.reason
    dropped = sorted(int(c) for ev in dec.switches for c in ev.reason.split("[")[1].rstrip("]").split(","))
    assert dropped == sorted(lost.tolist())  # exactly the lost units, each once
    assert dec.switches[-1].n_channels == 40 - 3
    assert set(dec.sources[:first.bin]) == {"primary"} and set(dec.sources[first.bin:]) == {"fallback"}
    assert len(caplog.records) == len(dec.switches)
    # the fallback now is the exact filter of the remaining channels
    keep = np.setdiff1d(np.arange(40), lost)
    np.testing.assert_allclose(dec._active.H_, dec.fallback_.H_[keep])


def test_nan_input_switches_in_the_same_bin():
    cx, dec = _fitted()
    counts = cx.sample(_velocity(30, 3), 0.02).astype(float)
    counts[10, [4, 9]] = np.nan
    out = [dec.step(z) for z in counts]
    assert np.all(np.isfinite(out))
    assert dec.switches[0].bin == 10 and "NaN input: channels [4, 9]" in dec.switches[0].reason
    _check_accounting(dec, 30)


class _Broken(Decoder):
    """A primary that outputs ``bad`` from bin ``after`` on (a failing analog decoder)."""

    def __init__(self, after=5, bad=np.nan):
        self.after, self.bad = after, bad

    def fit(self, X, y):
        self.n_units_ = X.shape[1]
        self.reset()
        return self

    def partial_fit(self, X, y):
        return self

    def reset(self):
        self.n = 0

    def _get_state(self):
        return self.n

    def _set_state(self, s):
        self.n = s

    def step(self, x):
        self.n += 1
        return np.full(2, self.bad) if self.n > self.after else np.zeros(2)


def test_nan_output_and_saturation_switch_within_their_bounds():
    cx, dec = _fitted(_Broken(after=5))
    counts = cx.sample(_velocity(20, 4), 0.02)
    for z in counts:
        dec.step(z)
    assert dec.switches[0].bin == 5 and "not finite" in dec.switches[0].reason
    _check_accounting(dec, 20)
    cx, dec = _fitted(_Broken(after=5, bad=10.0), FaultParams(saturation_bins=4))
    out = np.array([dec.step(z) for z in counts])
    # bins 5, 6, 7 pass the saturated output (3 in a row are tolerated); bin 8 is the fallback's
    assert dec.switches[0].bin == 5 + 4 - 1 and "saturated" in dec.switches[0].reason
    np.testing.assert_array_equal(out[5:8], 10.0)
    assert np.all(np.abs(out[8:]) < 1.0)


def test_low_confidence_switch():
    cx, dec = _fitted(params=FaultParams(confidence_window=5))
    counts = cx.sample(_velocity(40, 5), 0.02).astype(float)
    counts[20:] *= 4  # every channel fires 4x: the counts no longer fit the model
    for z in counts:
        dec.step(z)
    assert dec.switches and 20 <= dec.switches[0].bin <= 24 and "low confidence" in dec.switches[0].reason


def test_all_channels_lost_stops_the_cursor_and_rearm():
    cx, dec = _fitted()
    z = np.full(40, np.nan)
    assert np.array_equal(dec.step(z), [0.0, 0.0]) and dec.source == "stop"
    _check_accounting(dec, 1)
    dec.rearm()
    assert dec.source == "primary" and dec.counts["n_in"] == 0 and dec.switches == []


def test_fault_params_validated_and_fallback_checked():
    with pytest.raises(ValueError, match=r"silence_probability must lie in \(0, 1\)"):
        FaultParams(silence_probability=0.0)
    with pytest.raises(ValueError, match="saturation_bins must be an integer >= 1"):
        FaultParams(saturation_bins=0)
    v = _velocity(100, 0)
    X = np.random.default_rng(0).poisson(2.0, (100, 5))
    with pytest.raises(ValueError, match="track_innovation=True"):
        SafeDecoder(KalmanFilter(), fallback=KalmanFilter()).fit(X, v)


def test_poisson_binomial_tail_against_binomial_and_monte_carlo():
    from memr_snn.bci import poisson_binomial_tail
    from scipy.stats import binom

    # equal probabilities: the binomial survival function
    tail = poisson_binomial_tail(np.full(30, 0.2))
    np.testing.assert_allclose(tail[1:], binom.sf(np.arange(30), 30, 0.2), rtol=1e-10)
    assert tail[0] == 1.0
    # independent Poisson channels: number of channels empty for the last w bins
    rng = np.random.default_rng(7)
    lam, w, reps = rng.uniform(0.1, 1.5, size=50), 3, 40000
    empty = rng.poisson(lam, size=(reps, w, 50)) == 0
    S = np.sum(np.all(empty, axis=1), axis=1)
    tail = poisson_binomial_tail(np.exp(-w * lam))
    for s in range(1, 9):
        p_mc = np.mean(S >= s)
        assert abs(p_mc - tail[s]) < 4 * np.sqrt(tail[s] * (1 - tail[s]) / reps) + 1e-4, s
    with pytest.raises(ValueError, match="probs"):
        poisson_binomial_tail([0.5, 1.2])


def test_scan_threshold_is_the_smallest_rare_count():
    from memr_snn.bci import poisson_binomial_tail, scan_threshold

    p0 = np.linspace(0.3, 0.8, 40)
    s = scan_threshold(p0, 4, 1e-6)
    tail = poisson_binomial_tail(p0 ** 4)
    assert tail[s] <= 1e-6 < tail[s - 1]
    assert scan_threshold([0.5], 1, 1e-6) == 2  # never rare enough


def test_population_silence_is_detected_within_the_scan_window_without_losing_a_bin():
    assert FaultParams().scan_bins == ()  # opt-in
    cx, dec = _fitted(params=FaultParams(scan_bins=(5, 10, 15)))
    assert max(dec.silence_bins_[dec.monitored_]) > 15  # the per-channel rule alone is slower
    lost = np.arange(0, 40, 3)  # 14 of 40 units
    onset = 300
    v = _velocity(onset + 60, 8)
    cx.lose_units(lost, at=cx.time + onset * 0.02)
    for z in cx.sample(v, 0.02):
        dec.step(z)
    _check_accounting(dec, onset + 60)
    first = dec.switches[0]
    assert "population silence" in first.reason
    assert onset <= first.bin <= onset + max(dec.params_.scan_bins) - 1
    dropped = {int(c) for c in first.reason.split("[")[1].rstrip("]").split(",")}
    assert set(lost.tolist()) <= dropped
    assert set(dec.sources[:first.bin]) == {"primary"}


def test_scan_off_and_bad_scan_parameters():
    with pytest.raises(ValueError, match="scan_tail"):
        FaultParams(scan_tail=1.5)
    with pytest.raises(TypeError, match="scan_bins"):
        FaultParams(scan_bins=[5])
    cx, dec = _fitted(params=FaultParams(scan_bins=()))
    lost = np.arange(0, 40, 3)
    v = _velocity(80, 8)
    cx.lose_units(lost, at=cx.time + 20 * 0.02)
    for z in cx.sample(v, 0.02):
        dec.step(z)
    assert all("population" not in ev.reason for ev in dec.switches)
