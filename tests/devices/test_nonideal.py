"""Device non-idealities: statistics recovered from samples, ideal settings, bad input."""

import numpy as np
import pytest

from memr_snn.devices import Drift, LinearStepDevice, ReadNoise, Retention, StuckFaults, Variability


def test_d2d_sigma_recovered_within_5_percent():
    dev = LinearStepDevice(g_min=1e-6, g_max=100e-6, dg_up=1e-6, dg_down=2e-6)
    var = Variability(g_min_d2d=0.1, g_max_d2d=0.2, dg_d2d=0.3)
    s = var.sample(dev, 100_000, rng=1)
    for name, sigma, nominal in (("g_min", 0.1, 1e-6), ("g_max", 0.2, 100e-6), ("dg_up", 0.3, 1e-6),
                                 ("dg_down", 0.3, 2e-6)):
        logs = np.log(s[name] / nominal)
        assert abs(logs.std() / sigma - 1) < 0.05, name
        assert abs(np.median(s[name]) / nominal - 1) < 0.01, name
    assert np.all(s["g_max"] > s["g_min"])


def test_ideal_settings_change_nothing():
    dev = LinearStepDevice()
    s = Variability().sample(dev, 10, rng=0)
    np.testing.assert_array_equal(s["g_max"], np.full(10, dev.g_max))
    g = np.linspace(1e-6, 1e-4, 7)
    np.testing.assert_array_equal(ReadNoise().read(g, rng=0), g)
    np.testing.assert_array_equal(Drift().apply(g, 1e6), g)
    assert not StuckFaults().sample(1000, rng=0).any()


def test_read_noise_is_relative_and_fresh_per_read():
    rn = ReadNoise(read_noise=0.05)
    g = np.full(200_000, 2e-5)
    r1, r2 = rn.read(g, rng=1), rn.read(g, rng=2)
    assert abs((r1 / g - 1).std() / 0.05 - 1) < 0.02
    assert not np.array_equal(r1, r2)


def test_stuck_fraction_matches_rates():
    f = StuckFaults(p_stuck_on=0.02, p_stuck_off=0.05)
    state = f.sample(200_000, rng=3)
    assert abs((state == 1).mean() - 0.02) < 0.002
    assert abs((state == -1).mean() - 0.05) < 0.003
    g = StuckFaults.apply(np.full(state.size, 5e-5), state, 1e-6, 1e-4)
    assert np.all(g[state == 1] == 1e-4) and np.all(g[state == -1] == 1e-6)
    assert np.all(g[state == 0] == 5e-5)


def test_drift_exponent_recovered_by_log_log_fit():
    """Fitting log G against log t recovers nu within 2 %."""
    drift = Drift(nu=0.05, t0=1.0)
    t = np.logspace(0.5, 6, 40)
    g = drift.apply(np.full(t.size, 3e-5), t)
    slope = np.polyfit(np.log(t), np.log(g), 1)[0]
    assert abs(-slope / 0.05 - 1) < 0.02
    # per-device spread: the mean exponent of many devices is recovered too
    nus = Drift(nu=0.1, nu_std=0.02).sample_nu(100_000, rng=4)
    g_dev = Drift(nu=0.1, nu_std=0.02).apply(np.full(nus.size, 1e-5), 1e4, nus)
    fitted = -np.log(g_dev / 1e-5) / np.log(1e4)
    assert abs(fitted.mean() / 0.1 - 1) < 0.02
    assert np.all(g_dev <= 1e-5)


def test_retention_follows_arrhenius():
    cold, hot = Retention(tau0=1e-13, e_a=1.2, temperature=300.0), Retention(tau0=1e-13, e_a=1.2, temperature=400.0)
    assert cold.tau == pytest.approx(1e-13 * np.exp(1.2 / (8.617333262e-5 * 300.0)), rel=1e-12)
    assert hot.tau < cold.tau  # acceleration at high temperature
    t = hot.tau
    failed = hot.sample_failed(200_000, t, rng=5)
    assert abs(failed.mean() - (1 - np.exp(-1.0))) < 0.005


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: Variability(g_max_d2d=-0.1), r"g_max_d2d must be finite and >= 0"),
        (lambda: ReadNoise(read_noise=float("inf")), r"read_noise must be finite and >= 0"),
        (lambda: StuckFaults(p_stuck_on=1.5), r"p_stuck_on must lie in \[0, 1\], got 1.5"),
        (lambda: StuckFaults(p_stuck_on=0.6, p_stuck_off=0.6), r"p_stuck_on \+ p_stuck_off must be <= 1"),
        (lambda: Drift(nu=1.2), r"nu must lie in \[0, 1\], got 1.2"),
        (lambda: Drift(t0=0.0), r"t0 must be finite and > 0 \[s\], got 0.0"),
        (lambda: Retention(temperature=-5.0), r"temperature must be finite and > 0 \[K\], got -5.0"),
    ],
)
def test_bad_parameters(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()
