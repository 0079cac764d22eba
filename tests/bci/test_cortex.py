"""Synthetic motor cortex: tuning formula, Poisson statistics, unit loss, drift, seeds, bad input."""

import math

import numpy as np
import pytest
from memr_snn.bci import CortexParams, DriftParams, MotorCortex, drift_tuning


def test_rates_follow_the_cosine_tuning_formula():
    """rate_i = baseline_i + snr * (w_i . v + s_i |v|), written out per unit with the unit's
    preferred direction and depth."""
    cx = MotorCortex(CortexParams(n_units=5, snr=0.7), seed=1)
    t = cx.tuning
    v = np.array([[0.1, -0.05], [0.0, 0.0], [-0.2, 0.1]])
    depth = np.linalg.norm(t.weights, axis=1) * cx.params.reference_speed
    expected = np.empty((3, 5))
    for b, (vx, vy) in enumerate(v):
        speed, angle = math.hypot(vx, vy), math.atan2(vy, vx)
        for i in range(5):
            cosine = depth[i] * speed / cx.params.reference_speed * math.cos(angle - t.preferred_direction[i])
            expected[b, i] = max(t.baseline[i] + 0.7 * (cosine + t.speed[i] * speed), 0.0)
    np.testing.assert_allclose(cx.rates(v), expected, rtol=1e-12)


def test_counts_are_poisson_with_the_bin_rate():
    """Mean and variance of the binned counts equal rate * bin (a sum of 1 ms Poisson draws is
    Poisson); tolerance 5 standard errors of 4000 bins."""
    cx = MotorCortex(CortexParams(n_units=3), seed=2)
    v = np.tile([[0.1, 0.05]], (4000, 1))
    lam = cx.rates(v[:1])[0] * 0.03
    counts = cx.sample(v, bin_width=0.03)
    assert cx.time == pytest.approx(4000 * 0.03)
    se = np.sqrt(lam / 4000)
    assert np.all(np.abs(counts.mean(0) - lam) < 5 * se)
    np.testing.assert_allclose(counts.var(0), lam, rtol=0.15)


def test_same_seed_same_spikes_and_different_seed_differs():
    v = np.random.default_rng(0).normal(scale=0.1, size=(50, 2))
    p = CortexParams(n_units=20, latent_dim=2, noise_fraction=0.2)
    a, b, c = MotorCortex(p, seed=4), MotorCortex(p, seed=4), MotorCortex(p, seed=5)
    np.testing.assert_array_equal(a.sample(v, 0.02), b.sample(v, 0.02))
    assert not np.array_equal(a.sample(v, 0.02), c.sample(v, 0.02)[:50])


def test_sudden_unit_loss_silences_exactly_the_chosen_units():
    p = CortexParams(n_units=30, baseline_rate=40.0)
    cx = MotorCortex(p, seed=3)
    lost = [2, 7, 19]
    cx.lose_units(lost, at=0.5)
    counts = cx.sample(np.zeros((50, 2)), bin_width=0.02)  # 1 s: loss at bin 25
    assert counts[25:, lost].sum() == 0
    others = np.setdiff1d(np.arange(30), lost)
    assert np.all(counts[25:, others].sum(0) > 0)
    assert counts[:25, lost].sum() > 0
    np.testing.assert_array_equal(cx.lost_units(), lost)
    g = cx.gains(np.array([0.499, 0.5]))
    np.testing.assert_array_equal(g[0], 1.0)
    np.testing.assert_array_equal(np.flatnonzero(g[1] == 0), lost)
    np.testing.assert_array_equal(g[1, others], 1.0)


def test_gradual_unit_loss_ramps_the_gain_linearly():
    cx = MotorCortex(CortexParams(n_units=4), seed=0)
    cx.lose_units([1], at=1.0, ramp=2.0)
    g = cx.gains(np.array([0.5, 1.0, 1.5, 2.0, 3.0, 4.0]))
    np.testing.assert_allclose(g[:, 1], [1.0, 1.0, 0.75, 0.5, 0.0, 0.0])
    np.testing.assert_array_equal(g[:, [0, 2, 3]], 1.0)
    assert cx.lost_units(at=2.9).size == 0 and cx.lost_units(at=3.0).tolist() == [1]


def test_noise_units_are_untuned():
    cx = MotorCortex(CortexParams(n_units=40, noise_fraction=0.25), seed=1)
    nu = cx.tuning.noise_units
    assert nu.size == 10
    r = cx.rates(np.array([[0.0, 0.0], [0.2, 0.1], [-0.1, 0.3]]))
    np.testing.assert_allclose(r[:, nu], r[[0], :][:, nu].repeat(3, 0))


def test_drift_statistics_and_zero_drift_identity():
    cx = MotorCortex(CortexParams(n_units=4000), seed=6)
    t0 = cx.tuning
    same = drift_tuning(t0, DriftParams(0.0, 0.0, 0.0), days=3.0, rng=1)
    np.testing.assert_allclose(same.weights, t0.weights, rtol=1e-12)
    np.testing.assert_array_equal(same.baseline, t0.baseline)
    d = DriftParams(direction_std=0.1, baseline_std=0.2, depth_std=0.0)
    t4 = drift_tuning(t0, d, days=4.0, rng=2)
    turn = np.angle(np.exp(1j * (t4.preferred_direction - t0.preferred_direction)))
    # random walk: std 0.1 * sqrt(4) = 0.2 rad; standard error of a std of 4000 samples ~ 1.1 %
    assert np.std(turn) == pytest.approx(0.2, rel=0.05)
    assert np.std(np.log(t4.baseline / t0.baseline)) == pytest.approx(0.4, rel=0.05)
    np.testing.assert_allclose(np.linalg.norm(t4.weights, axis=1), np.linalg.norm(t0.weights, axis=1))
    cx.new_day(d)
    assert cx.day == 1.0 and not np.array_equal(cx.tuning.weights, t0.weights)


def test_latent_dynamics_rotate_and_add_variance():
    v = np.zeros((400, 2))
    v[::40] = 0.2  # movement onsets kick the latent state
    p = CortexParams(n_units=50)
    plain = MotorCortex(p, seed=3).sample(v, 0.02)
    latent = MotorCortex(CortexParams(n_units=50, latent_dim=2, latent_gain=20.0), seed=3).sample(v, 0.02)
    assert latent.var(0).mean() > 1.2 * plain.var(0).mean()


def test_baseline_shift():
    cx = MotorCortex(CortexParams(n_units=3), seed=0)
    r0 = cx.rates([[0.0, 0.0]])
    cx.shift_baselines(5.0, units=[1])
    np.testing.assert_allclose(cx.rates([[0.0, 0.0]]) - r0, [[0.0, 5.0, 0.0]])


@pytest.mark.parametrize("kwargs, match", [
    ({"n_units": 0}, "n_units must be an integer >= 1"),
    ({"baseline_rate": -1.0}, "baseline_rate must be finite and > 0"),
    ({"noise_fraction": 1.5}, r"noise_fraction must lie in \[0, 1\]"),
    ({"latent_dim": 3}, "latent_dim must be even"),
    ({"snr": float("nan")}, "snr must be finite and >= 0"),
])
def test_params_validated_on_construction(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        CortexParams(**kwargs)


def test_bad_sampling_input_is_refused_before_work():
    cx = MotorCortex(CortexParams(n_units=3), seed=0)
    with pytest.raises(ValueError, match="whole number of 1 ms base steps, got 20.5 ms"):
        cx.sample(np.zeros((2, 2)), 0.0205)
    with pytest.raises(ValueError, match=r"velocity must be finite \[m/s\], got nan at index \(1, 0\)"):
        cx.sample([[0.0, 0.0], [np.nan, 0.0]], 0.02)
    with pytest.raises(ValueError, match=r"velocity must be a \(n_bins, 2\) array"):
        cx.sample(np.zeros((2, 3)), 0.02)
    with pytest.raises(ValueError, match=r"units must lie in \[0, 2\]"):
        cx.lose_units([5])
    assert cx.time == 0.0
