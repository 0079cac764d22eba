"""Poisson inputs drawn as geometric gaps: the same Bernoulli-per-step process, statistically."""

import numpy as np

from memr_snn import Network, PoissonSource, SpikeMonitor
from memr_snn.units import ms


def _run(rates, duration, interval=None, seed=3, split=None):
    net = Network(dt=0.1 * ms, seed=seed)
    src = net.add(PoissonSource(2000, rates=rates, rate_interval=interval))
    mon = net.add(SpikeMonitor(src))
    if split is None:
        net.run(duration)
    else:
        net.run(split)
        net.run(duration - split)
    return net, src, mon


def test_rate_fano_and_isi_of_a_stationary_input():
    net, src, mon = _run(20.0, 2.0)
    counts = mon.count()
    p = 20.0 * 1e-4
    n_steps = 20000
    assert abs(counts.mean() / (p * n_steps) - 1) < 0.02
    assert abs(counts.var() / counts.mean() - (1 - p)) < 0.08  # binomial Fano factor
    isi = np.concatenate([np.diff(t) for t in mon.spike_trains().values() if t.size > 1])
    assert abs(isi.std() / isi.mean() - 1) < 0.03  # (nearly) exponential intervals
    assert isi.min() >= 1e-4 - 1e-12  # at most one spike per step


def test_piecewise_rates_and_set_rates_take_effect_at_once():
    rates = np.array([[5.0], [50.0]]) * np.ones((2, 2000))
    net, src, mon = _run(rates, 1.0, interval=0.5)
    t = mon.t
    r1 = np.sum(t < 0.5) / (2000 * 0.5)
    r2 = np.sum(t >= 0.5) / (2000 * 0.5)
    assert abs(r1 / 5.0 - 1) < 0.06 and abs(r2 / 50.0 - 1) < 0.03
    net.set_rates(src, 0.0)
    n = mon.num_spikes
    net.run(0.2)
    assert mon.num_spikes == n


def test_split_runs_draw_the_same_spikes():
    _, _, a = _run(30.0, 0.4)
    _, _, b = _run(30.0, 0.4, split=0.1234)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.i, b.i)
