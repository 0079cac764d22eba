"""Faults in the loop of the spiking crossbar decoder, online input adaptation with counted writes, and the
energy per decode step."""

import dataclasses
import itertools
import math

import numpy as np
import pytest
from memr_snn.bci import CortexParams, MotorCortex
from memr_snn.bci.spiking import SpikingCrossbarDecoder, SpikingDecoderParams, reference_decode
from memr_snn.bci.spiking_energy import SpikingEnergyProfile, spiking_energy
from memr_snn.bci.spiking_faults import bounded_ridge, remap_columns, request_for, synapse_bounds

from memr_snn.devices import Crossbar, LinearStepDevice, StuckFaults, Variability
from memr_snn.devices.presets import load_preset


def _data(n_units, n_bins, seed):
    rng = np.random.default_rng(seed)
    cortex = MotorCortex(CortexParams(n_units=n_units), rng)
    v = np.zeros((n_bins, 2))
    for t in range(1, n_bins):
        v[t] = 0.95 * v[t - 1] + rng.normal(scale=0.03, size=2)
    return cortex.sample(v, 0.02).astype(float), v


def _faulty_ideal(p_off=0.15, p_on=0.05):
    return dataclasses.replace(load_preset("ideal"), faults=StuckFaults(p_stuck_on=p_on, p_stuck_off=p_off))


_SMALL = dict(n_hidden=5, copies=3, epochs=2, seq_bins=20, tau_mem=0.03, fault_epochs=3)


def test_fault_aware_training_sees_exactly_the_injected_faults():
    """Ideal devices with injected stuck faults: the ranges the retraining keeps each input weight in are, by
    hand from the fault table, [-F, F] for a healthy pair, one-signed for one stuck device, a point for two;
    exactly the synapses with an injected fault are constrained, and the retrained weights obey it."""
    X, y = _data(6, 200, 1)
    dec = SpikingCrossbarDecoder(SpikingDecoderParams(preset=_faulty_ideal(), **_SMALL)).fit(X, y)
    cb = dec.proj_in_.crossbar
    assert dec.fault_retrained_
    np.testing.assert_array_equal(dec.fault_map_, cb.fault)
    f = np.asarray(cb.fault).reshape(-1, 2)
    assert np.any(f != 0)
    g_max = float(cb.device.g_max)
    full = cb.scale * (g_max - float(cb.device.g_min)) / dec._in_scale
    # by hand: a stuck-OFF device holds g_min (0 here), a stuck-ON one g_max
    g_plus_lo = np.where(f[:, 0] == 1, g_max, 0.0)
    g_plus_hi = np.where(f[:, 0] == -1, 0.0, g_max)
    g_minus_lo = np.where(f[:, 1] == 1, g_max, 0.0)
    g_minus_hi = np.where(f[:, 1] == -1, 0.0, g_max)
    k = cb.scale / dec._in_scale
    lo_hand = (k * (g_plus_lo - g_minus_hi)).reshape(-1, 5).T
    hi_hand = (k * (g_plus_hi - g_minus_lo)).reshape(-1, 5).T
    lo, hi = dec.input_bounds()
    np.testing.assert_allclose(lo, lo_hand, rtol=1e-12, atol=1e-12 * full)
    np.testing.assert_allclose(hi, hi_hand, rtol=1e-12, atol=1e-12 * full)
    constrained = (lo > -full * (1 - 1e-12)) | (hi < full * (1 - 1e-12))
    np.testing.assert_array_equal(constrained, np.any(f != 0, axis=1).reshape(-1, 5).T)
    W = dec.surrogate_.w_in
    assert np.all(W >= lo - 1e-12) and np.all(W <= hi + 1e-12)
    # the devices deliver what the retraining saw, within program-and-verify's 1 % tolerance plus one 1 % step;
    # the doubly stuck pairs exactly
    r = dec.read_input_weights()
    np.testing.assert_allclose(r, W, rtol=0, atol=0.021 * full)
    both = (lo == hi)
    np.testing.assert_array_equal(r[both], W[both])


def test_ideal_devices_fault_aware_equals_plain_path():
    X, y = _data(6, 200, 2)
    kw = dict(_SMALL, preset="ideal")
    a = SpikingCrossbarDecoder(SpikingDecoderParams(fault_aware=True, **kw)).fit(X, y)
    b = SpikingCrossbarDecoder(SpikingDecoderParams(fault_aware=False, **kw)).fit(X, y)
    assert not a.fault_retrained_ and a.fault_aware_pulses_ == 0
    np.testing.assert_array_equal(a.read_input_weights(), b.read_input_weights())
    np.testing.assert_array_equal(a.read_output_weights(), b.read_output_weights())
    np.testing.assert_array_equal(a.bias_, b.bias_)
    np.testing.assert_array_equal(a.predict(X[:40]), b.predict(X[:40]))


def test_request_for_delivers_the_wanted_weights():
    """Device-to-device bounds and stuck devices, direct (exact) programming of a continuous device: the
    pairs deliver the wanted weights clipped to their ranges."""
    import memr_snn as ms

    dev = LinearStepDevice(g_min=5e-6, g_max=1e-4, dg_up=1e-6, dg_down=1e-6)
    spec = Crossbar(device=dev, variability=Variability(g_min_d2d=0.5, g_max_d2d=0.3),
                    faults=StuckFaults(p_stuck_on=0.05, p_stuck_off=0.1), program="direct", scale="fit")
    net = ms.Network(dt=1e-3, seed=3, engine="dense")
    a = net.add(ms.Population(30, ms.LIFParams()))
    b = net.add(ms.Population(4, ms.LIFParams()))
    rng = np.random.default_rng(0)
    proj = net.add(ms.Projection(a, b, ms.AllToAll(), weights=rng.uniform(-1, 1, 120), device=spec))
    cb = proj.crossbar
    wanted = rng.uniform(-0.8, 0.8, 120)
    lo, hi = synapse_bounds(cb)
    assert np.any(lo > -0.5) and np.any(hi < 0.5)  # the faults and the spread matter
    proj.weights = request_for(cb, wanted)
    np.testing.assert_allclose(cb.read_weights(), np.clip(wanted, lo, hi), rtol=0, atol=1e-12)
    # the plain mapping misses them
    proj.weights = wanted
    assert np.max(np.abs(cb.read_weights() - np.clip(wanted, lo, hi))) > 0.05


def test_remap_columns_is_the_best_permutation():
    rng = np.random.default_rng(4)
    W = rng.normal(size=(4, 7))
    lo = np.where(rng.random((4, 7)) < 0.3, 0.0, -3.0)
    hi = np.where(rng.random((4, 7)) < 0.3, 0.0, 3.0)

    def cost(perm):
        Wp = W[list(perm)]
        d = np.maximum(lo - Wp, 0) + np.maximum(Wp - hi, 0)
        return float(np.sum(d * d))

    best = min(itertools.permutations(range(4)), key=cost)
    assert cost(remap_columns(W, lo, hi)) == pytest.approx(cost(best), abs=1e-12)


def test_bounded_ridge_equals_bounded_least_squares_on_the_data():
    """Against scipy's bounded least squares on the data matrix with the ridge rows appended."""
    from scipy.optimize import lsq_linear

    rng = np.random.default_rng(5)
    D = np.column_stack([rng.normal(size=(80, 6)), np.ones(80)])
    y = rng.normal(size=(80, 2))
    lam = np.diag([0.5] * 6 + [0.0])
    lo = np.full((6, 2), -0.1)
    hi = np.full((6, 2), 0.1)
    lo[2, 0] = hi[2, 0] = 0.03  # a pinned coefficient
    c = bounded_ridge(D.T @ D + lam, D.T @ y, lo, hi)
    A = np.vstack([D, np.sqrt(lam)])
    for j in range(2):
        lb, ub = np.append(lo[:, j], -np.inf), np.append(hi[:, j], np.inf)
        ub[2] += 1e-15 if j == 0 else 0.0  # lsq_linear needs lb < ub
        ref = lsq_linear(A, np.append(y[:, j], np.zeros(7)), bounds=(lb, ub), method="bvls", tol=1e-14).x
        np.testing.assert_allclose(c[:, j], ref, atol=1e-8)
    assert c[2, 0] == 0.03
    free = bounded_ridge(D.T @ D + lam, D.T @ y, np.full((6, 2), -np.inf), np.full((6, 2), np.inf))
    np.testing.assert_allclose(free, np.linalg.solve(D.T @ D + lam, D.T @ y), rtol=1e-9, atol=1e-12)


def test_input_adaptation_counts_the_pulses_it_issues():
    """Online retraining of the input crossbar: the counted writes equal the pulses the devices received (their
    per-device counters); the readout's too; the projected retrainings left follow from the wear."""
    X, y = _data(6, 300, 6)
    dec = SpikingCrossbarDecoder(SpikingDecoderParams(preset="hfox_rram", adapt_input=True, adapt_epochs=2,
                                                      **_SMALL)).fit(X[:200], y[:200])
    cin, cout = dec.proj_in_.crossbar, dec.proj_out_.crossbar
    c_in, c_out = np.array(cin.counts), np.array(cout.counts)
    wear, w_in0 = np.array(cin.wear), dec.surrogate_.w_in.copy()
    dec.partial_fit(X[200:], y[200:])
    assert dec.input_adaptations_ == 1
    assert not np.array_equal(dec.surrogate_.w_in, w_in0)
    assert dec.input_writes_ == int(np.sum(np.asarray(cin.counts) - c_in)) > 0
    assert dec.readout_writes_ == int(np.sum(np.asarray(cout.counts) - c_out))
    stats = dec.device_stats()
    assert stats["input_adaptation_pulses"] == dec.input_writes_
    healthy = np.asarray(cin.fault) == 0
    d = (np.asarray(cin.wear) - wear)[healthy]
    rem = (np.asarray(cin.budget) - np.asarray(cin.wear))[healthy]
    expect = np.min(np.where(d > 0, rem / np.where(d > 0, d, 1.0), np.inf))
    assert stats["input_adaptations_left"] == pytest.approx(expect, rel=1e-12)
    assert math.isfinite(expect)


def test_energy_per_step_equals_hand_computation():
    """Ideal devices, 2 units x 2 copies, 2 hidden neurons: rows driven, device read energy (V^2 G t per read),
    conversions and neuron updates counted by hand from the spikes of the numpy reference."""
    X, y = _data(2, 120, 7)
    p = SpikingDecoderParams(preset="ideal", n_hidden=2, copies=2, epochs=2, seq_bins=20, tau_mem=0.05)
    dec = SpikingCrossbarDecoder(p).fit(X, y)
    prof = SpikingEnergyProfile(e_row=1.0, e_conv=10.0, e_neuron_active=100.0, e_neuron_inactive=1000.0,
                                e_digital_op=1e4)
    counts = np.array([[0, 0], [3, 1], [2, 2], [0, 1], [5, 0], [1, 3], [0, 0], [4, 4]])
    cb = dec.proj_in_.crossbar  # the largest weights the input crossbar holds, so that the hidden neurons fire
    dec.proj_in_.weights = np.full(8, cb.scale * (cb.device.g_max - cb.device.g_min)) * [1, 1, 1, 1, 1, 1, 0.3, 0.3]
    dec.reset()
    dec.reset_counters()
    for x in counts:
        dec.step(x)
    _, spikes, _ = reference_decode(counts, dec.read_input_weights(), dec.read_output_weights(), dec.bias_, p)
    rows_in = np.minimum(counts, 2).sum(axis=1)
    rows_out = spikes.sum(axis=1)
    cin, cout = dec.proj_in_.crossbar, dec.proj_out_.crossbar
    g_in = np.asarray(cin.g).reshape(4, 2, 2)  # relay row, hidden neuron, pair device
    g_out = np.asarray(cout.g).reshape(2, 2, 2)
    fire = np.arange(2)[None, None, :] < np.minimum(counts, 2)[:, :, None]  # (bins, units, copies)
    e_read = cin.v_read ** 2 * cin.t_read * float(
        sum(g_in[r].sum() for t in range(len(counts)) for r in np.flatnonzero(fire[t].ravel())))
    e_read += cout.v_read ** 2 * cout.t_read * float(sum(g_out[h].sum() for t in range(len(counts))
                                                         for h in np.flatnonzero(spikes[t])))
    a_in, a_out = int(np.sum(rows_in > 0)), int(np.sum(rows_out > 0))
    B = len(counts)
    hand = (e_read + 1.0 * (rows_in.sum() + rows_out.sum()) + 10.0 * (2 * a_in + 2 * a_out)
            + 100.0 * (2 * a_in + 2 * a_out) + 1000.0 * (2 * (B - a_in) + 2 * (B - a_out)) + 1e4 * 2 * B)
    e = dec.energy(prof)
    assert e["count_rows_in"] == rows_in.sum() and e["count_rows_out"] == rows_out.sum() > 0
    assert e["reads"] == pytest.approx(e_read, rel=1e-9)
    assert e["total"] == pytest.approx(hand, rel=1e-12)
    assert e["per_bin"] == pytest.approx(hand / B, rel=1e-12)


def test_energy_profile_constants_come_from_the_chip_profiles():
    from memr_snn.aimc import load_profile as aimc_profile
    from memr_snn.hardware.profiles import load_profile as core_profile

    p = SpikingEnergyProfile.from_profiles()
    a, c = aimc_profile("hermes_pcm"), core_profile("loihi1")
    assert p.e_row == a.e_dac and p.e_digital_op == a.e_digital_op
    assert p.e_conv == pytest.approx(a.p_adc * 256 * a.t_adc, rel=1e-15)
    assert (p.e_neuron_active, p.e_neuron_inactive) == (c.e_neuron_active, c.e_neuron_inactive)
    assert all(p.sources[k] for k in ("e_row", "e_conv", "e_neuron_active", "e_neuron_inactive", "e_digital_op"))
    with pytest.raises(ValueError, match="counters lack"):
        spiking_energy({"bins": 1}, 4, p)
