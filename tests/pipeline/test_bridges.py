"""Spike <-> dense bridges equal their definitions on hand cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from memr_snn.encoders import delta, latency, regular_rate

from memr_snn.pipeline import DeltaBridge, encode, exp_rate, first_spike_latency, spike_counts

SPIKES = np.array([[1, 0, 0],
                   [0, 0, 1],
                   [1, 0, 2],
                   [0, 0, 0]], dtype=np.uint8)


def test_counts_by_hand():
    assert spike_counts(SPIKES).tolist() == [2.0, 0.0, 3.0]


def test_first_spike_latency_by_hand():
    assert first_spike_latency(SPIKES, 1e-3).tolist() == [0.0, math.inf, 1e-3]


def test_exp_rate_equals_the_recursion():
    dt, tau, r0 = 1e-3, 5e-3, np.array([10.0, 20.0, 0.0])
    a = math.exp(-dt / tau)
    r = r0.copy()
    for s in SPIKES:  # the definition, step by step
        r = a * r + s / tau
    assert np.allclose(exp_rate(SPIKES, dt, tau, r0), r, rtol=1e-14, atol=0)
    # hand value of neuron 0: spikes at steps 0 and 2 of 4, from rest
    assert exp_rate(SPIKES, dt, tau)[0] == pytest.approx((a**3 + a**1) / tau, rel=1e-14)


def test_exp_rate_of_a_regular_train_is_the_geometric_series():
    dt, tau = 1e-4, 0.05
    train = regular_rate(np.array([1.0]), 20000, dt, max_rate=100.0)  # a spike every K = 100 steps for 2 s
    t = np.flatnonzero(train[:, 0])
    K, M, j = 100, t.size, train.shape[0] - 1 - t[-1]
    assert np.all(np.diff(t) == K)
    a = math.exp(-dt / tau)
    series = a**j * (1 - a ** (K * M)) / (tau * (1 - a**K))  # sum over the M spikes of a^(j + mK) / tau
    assert exp_rate(train, dt, tau)[0] == pytest.approx(series, rel=1e-12)
    # averaged over the K phases of a period: 1 / (K tau (1 - a)) = 100 Hz (1 + dt / 2 tau + ...)
    mean = np.mean([exp_rate(train[:train.shape[0] - jj], dt, tau)[0] for jj in range(K)])
    assert mean == pytest.approx(1 / (K * tau * (1 - a)), rel=1e-6) and mean == pytest.approx(100.0, rel=2e-3)


def test_bridges_refuse_bad_spikes():
    with pytest.raises(ValueError, match=r"\(n_steps, n\)"):
        spike_counts(np.zeros(3))
    with pytest.raises(ValueError, match="counts >= 0"):
        spike_counts(-np.ones((2, 2)))


def test_encode_is_the_encoders():
    x = np.array([0.0, 0.3, 1.4])  # clipped to [0, 1]
    assert np.array_equal(encode(x, "regular", 50, 1e-3, max_rate=200.0),
                          regular_rate(np.clip(x, 0, 1), 50, 1e-3, max_rate=200.0))
    assert np.array_equal(encode(x, "latency", 10, 1e-3), latency(np.clip(x, 0, 1), 10, 1e-3))
    a = encode(x, "poisson", 100, 1e-3, max_rate=500.0, rng=3)
    b = encode(x, "poisson", 100, 1e-3, max_rate=500.0, rng=3)
    assert np.array_equal(a, b) and a[:, 0].sum() == 0 and a[:, 2].sum() > a[:, 1].sum()
    with pytest.raises(ValueError, match="encoding must be one of"):
        encode(x, "morse", 5, 1e-3)


def test_delta_bridge_over_windows_equals_one_delta_of_the_whole_signal():
    sig = np.cumsum(np.random.default_rng(0).normal(0, 0.2, (40, 3)), axis=0)
    whole = delta(sig, 0.25)
    br = DeltaBridge(3, 0.25)
    parts = np.concatenate([br(sig[k:k + 10]) for k in range(0, 40, 10)])
    assert np.array_equal(parts, whole)
    assert np.all(np.abs(br.reference - sig[-1]) < 0.25)
