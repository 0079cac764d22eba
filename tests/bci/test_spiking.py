"""The spiking crossbar decoder: kernel path against its numpy reference, fitting, adaptation, device writes."""

import math

import numpy as np
import pytest
from memr_snn.bci import CortexParams, MotorCortex, reestimate_intention
from memr_snn.bci.spiking import SUBSTEPS, SpikingCrossbarDecoder, SpikingDecoderParams, reference_decode


def _data(n_units, n_bins, seed):
    rng = np.random.default_rng(seed)
    cortex = MotorCortex(CortexParams(n_units=n_units), rng)
    v = np.zeros((n_bins, 2))
    for t in range(1, n_bins):
        v[t] = 0.95 * v[t - 1] + rng.normal(scale=0.03, size=2)
    return cortex.sample(v, 0.02).astype(float), v


@pytest.fixture(scope="module")
def small():
    X, y = _data(6, 200, 1)
    p = SpikingDecoderParams(n_hidden=5, copies=3, epochs=2, seq_bins=20, tau_mem=0.03)
    return SpikingCrossbarDecoder(p).fit(X, y), X


def test_kernel_equals_reference_with_noisy_reads(small):
    """The kernel's closed-loop steps equal the numpy reference fed with the devices' reads of the
    same kernel steps (read noise, drift and faults on: every read is the kernel's own draw)."""
    dec, _ = small
    rng = np.random.default_rng(2)
    Xt = rng.poisson(2.0, size=(30, 6)).astype(float)
    dec.reset()
    n0 = dec.network_.step
    out = np.array([dec.step(x) for x in Xt])
    win = np.stack([dec.read_input_weights(step=n0 + SUBSTEPS * t, noise=True) for t in range(30)])
    wout = np.stack([dec.read_output_weights(step=n0 + SUBSTEPS * t + 1, noise=True) for t in range(30)])
    ref, spikes, _ = reference_decode(Xt, win, wout, dec.bias_, dec.params_)
    assert spikes.sum() > 0 and np.ptp(out) > 0
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)


def test_reference_by_hand():
    """One hidden neuron, fixed weights: the membrane, the spikes and the filtered readout by hand."""
    p = SpikingDecoderParams(n_hidden=1, copies=2, tau_mem=0.04, tau_out=0.1)
    a, k = math.exp(-0.02 / 0.04), math.exp(-0.02 / 0.1)
    w_in = np.array([[0.3, 0.4]])  # channel 0: copy 0 and copy 1
    counts = np.array([[1], [5], [0], [1]])  # bin 1: clipped to 2 copies
    vel, s, (u, R) = reference_decode(counts, w_in, np.array([[2.0], [-1.0]]), [0.1, 0.0], p)
    u1 = 0.3
    u2 = a * u1 + 0.7  # 0.88... < 1: no spike
    assert u2 < 1
    u3 = a * u2
    u4 = a * u3 + 0.3
    assert u4 < 1 and not s.any()
    np.testing.assert_allclose(u, [u4])
    np.testing.assert_allclose(R, [0.0, 0.0])
    np.testing.assert_allclose(vel, np.tile([0.1, 0.0], (4, 1)))
    p2 = SpikingDecoderParams(n_hidden=1, copies=2, tau_mem=0.2, tau_out=0.1)
    a2 = math.exp(-0.02 / 0.2)
    vel, s, _ = reference_decode([[2], [2], [0]], np.array([[0.3, 0.4]]), np.array([[2.0], [-1.0]]), [0.1, 0.0], p2)
    assert a2 * 0.7 + 0.7 > 1  # the second bin fires
    np.testing.assert_array_equal(s[:, 0], [False, True, False])
    np.testing.assert_allclose(vel, [[0.1, 0.0], [2.1, -1.0], [0.1 + 2 * k, -k]])


def test_fit_decodes_held_out_velocity():
    X, y = _data(24, 1200, 3)
    p = SpikingDecoderParams(n_hidden=16, epochs=8, seq_bins=40)
    dec = SpikingCrossbarDecoder(p).fit(X[:900], y[:900])
    pred = dec.predict(X[900:])
    r2 = 1 - np.sum((pred - y[900:]) ** 2) / np.sum((y[900:] - y[900:].mean(0)) ** 2)
    assert r2 > 0.3
    assert dec.train_loss_[-1] < dec.train_loss_[0]


def test_partial_fit_reprograms_only_the_readout(small):
    dec, X = small
    stats0 = dec.device_stats()
    w_in0 = dec.read_input_weights()
    dec.partial_fit(X[:100], np.full((100, 2), 0.05))
    stats1 = dec.device_stats()
    assert dec.readout_writes_ > 0
    assert stats1["out"]["program_pulses"] == stats0["out"]["program_pulses"] + dec.readout_writes_
    assert stats1["in"]["program_pulses"] == stats0["in"]["program_pulses"]
    np.testing.assert_array_equal(dec.read_input_weights(), w_in0)


@pytest.mark.parametrize("speed", ["decoded", "calibration"])
def test_refit_adapts_on_the_reaimed_intentions(speed):
    """``refit`` equals ``partial_fit`` of an identical decoder on the ReFIT re-aimed intentions
    (:func:`reestimate_intention`), rescaled by hand to the calibration's RMS moving speed for
    ``intention_speed="calibration"``; the input crossbar is retrained as well (``adapt_input``)."""
    X, y = _data(6, 300, 4)
    y[:20] = 0.0  # a still start: bins without speed stay out of the calibration speed
    p = SpikingDecoderParams(n_hidden=5, copies=3, epochs=2, seq_bins=20, tau_mem=0.03, fault_epochs=2,
                             adapt_input=True, adapt_epochs=2, intention_speed=speed)
    a, b = SpikingCrossbarDecoder(p).fit(X[:200], y[:200]), SpikingCrossbarDecoder(p).fit(X[:200], y[:200])
    s = np.linalg.norm(y[20:200], axis=1)
    assert a.calibration_speed_ == pytest.approx(np.sqrt(np.mean(s ** 2)), rel=1e-12)
    rng = np.random.default_rng(5)
    decoded, cursor = rng.normal(scale=0.05, size=(100, 2)), rng.normal(scale=0.05, size=(100, 2))
    target = np.tile([0.08, 0.0], (100, 1))
    inside = np.linalg.norm(cursor - target, axis=1) < 0.05
    assert 0 < inside.sum() < 100
    labels = reestimate_intention(decoded, cursor, target, inside)
    if speed == "calibration":
        moving = labels[~inside]
        labels = labels * (a.calibration_speed_ / np.sqrt(np.mean(np.sum(moving ** 2, axis=1))))
    a.refit(X[200:], decoded, cursor, target, inside)
    b.partial_fit(X[200:], labels)
    assert a.input_adaptations_ == b.input_adaptations_ == 1
    np.testing.assert_array_equal(a.read_input_weights(), b.read_input_weights())
    np.testing.assert_array_equal(a.read_output_weights(), b.read_output_weights())
    np.testing.assert_array_equal(a.bias_, b.bias_)


def test_bad_params_named():
    with pytest.raises(ValueError, match="n_hidden"):
        SpikingDecoderParams(n_hidden=0)
    with pytest.raises(ValueError, match="readout_headroom"):
        SpikingDecoderParams(readout_headroom=0.5)
    with pytest.raises(ValueError, match="intention_speed"):
        SpikingDecoderParams(intention_speed="fast")
