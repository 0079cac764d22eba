"""Spike encoders against their definitions: statistics, closed forms, properties, bad input."""

import doctest
import importlib
import math

import memr_snn.encoders as E
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

ENCODERS = [
    lambda x: E.poisson_rate(x, 7, 1e-3, max_rate=300.0, rng=0),
    lambda x: E.regular_rate(x, 7, 1e-3, max_rate=300.0),
    lambda x: E.latency(x, 7, 1e-3),
    lambda x: E.latency(x, 7, 1e-3, method="log", tau=2e-3),
    lambda x: E.burst(x, 7, 1e-3),
]


@pytest.mark.parametrize("name", ["rate", "latency_code", "delta_code", "population_code", "burst_code", "convert",
                                  ""])
def test_docstring_examples(name):
    """The numpydoc examples are executed (the package folder cannot be collected with --doctest-modules)."""
    module = importlib.import_module("memr_snn.encoders" + (f".{name}" if name else ""))
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 1


def test_functions_and_their_modules():
    """``memr_snn.encoders.latency`` (attribute) is the function; its module is ``latency_code``, and the
    old module name stays importable as an alias of it."""
    import memr_snn.encoders.latency_code as module
    from memr_snn.encoders import latency

    assert callable(latency) and latency is module.latency
    for name in ("latency", "delta", "population", "burst"):
        code = importlib.import_module(f"memr_snn.encoders.{name}_code")
        assert getattr(E, name) is getattr(code, name)
        assert importlib.import_module(f"memr_snn.encoders.{name}") is code
    from memr_snn.encoders.latency import latency_times

    assert latency_times is module.latency_times


@pytest.mark.parametrize("enc", ENCODERS)
def test_fixed_return_type(enc):
    """One representation: uint8 counts, time inserted second to last, for 1-D and batched inputs."""
    for shape in [(4,), (3, 4), (2, 3, 4)]:
        x = np.linspace(0, 1, math.prod(shape)).reshape(shape)
        s = enc(x)
        assert s.dtype == np.uint8 and s.shape == shape[:-1] + (7, 4)
    s = E.population(np.zeros((3, 4)), 7, 1e-3, n_fields=5)
    assert s.dtype == np.uint8 and s.shape == (3, 7, 20)
    d = E.delta(np.zeros((3, 7, 4)), 0.1)
    assert d.dtype == np.uint8 and d.shape == (3, 7, 8)


# ----------------------------------------------------------------- rate
def test_poisson_rate_mean_and_fano():
    """Counts over n steps are Binomial(n, p): mean n p, Fano factor 1 - p (-> 1, Poisson, for small p).

    2000 independent channels, p = 0.3 * 100 Hz * 1 ms = 0.03, n = 1000: mean 30, variance 29.1.
    Standard error of the mean count sqrt(29.1 / 2000) = 0.12; of the sample variance about
    29.1 * sqrt(2 / 1999) = 0.92, i.e. 0.031 on the Fano factor.  Tolerances: 5 standard errors.
    """
    x = np.full(2000, 0.3)
    s = E.poisson_rate(x, 1000, 1e-3, max_rate=100.0, rng=12345)
    counts = s.sum(axis=0).astype(float)
    n, p = 1000, 0.03
    assert abs(counts.mean() - n * p) < 5 * math.sqrt(n * p * (1 - p) / 2000)
    fano = counts.var(ddof=1) / counts.mean()
    assert abs(fano - (1 - p)) < 5 * 0.031
    assert abs(fano - 1.0) < 0.2
    # the spikes of one step are independent of the previous step's (no refractoriness): P(s_t & s_t+1) = p^2
    both = (s[1:] & s[:-1]).mean()
    assert abs(both - p * p) < 5 * math.sqrt(p * p / s[1:].size)


def test_poisson_rate_extremes_seeds_and_range():
    s = E.poisson_rate(np.array([0.0, 1.0]), 50, 1e-3, max_rate=1000.0, rng=1)
    assert s[:, 0].sum() == 0 and s[:, 1].sum() == 50  # p = 0 and p = 1 exactly
    a = E.poisson_rate(np.full(10, 0.5), 100, 1e-3, max_rate=100.0, rng=7)
    b = E.poisson_rate(np.full(10, 0.5), 100, 1e-3, max_rate=100.0, rng=np.random.default_rng(7))
    c = E.poisson_rate(np.full(10, 0.5), 100, 1e-3, max_rate=100.0, rng=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # the value range maps linearly: x = 5 in [0, 10] is the same rate as 0.5 in [0, 1]
    d = E.poisson_rate(np.full(10, 5.0), 100, 1e-3, max_rate=100.0, x_min=0.0, x_max=10.0, rng=7)
    np.testing.assert_array_equal(a, d)


def test_rate_encode_unchanged_by_the_encoder():
    """memr_snn.learning.datasets.rate_encode now draws through encoders.rate.bernoulli; its output must be
    exactly the former formula ``rng.random((N, T, n)) < min(1, img * max_rate * dt)``."""
    from memr_snn.learning.datasets import rate_encode

    img = np.random.default_rng(3).random((6, 9))
    got = rate_encode(img, 12, 1e-3, 2000.0, np.random.default_rng(42))
    ref_rng = np.random.default_rng(42)
    want = (ref_rng.random((6, 12, 9)) < np.minimum(1.0, img * 2000.0 * 1e-3)[:, None, :]).astype(np.float64)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float64


@pytest.mark.parametrize("p_num,p_den", [(1, 10), (1, 3), (2, 7), (1, 1), (0, 1)])
def test_regular_rate_exact_counts_and_intervals(p_num, p_den):
    """With p = r dt = p_num / p_den, exactly floor(n p) spikes in n steps, every p_den / p_num steps."""
    p = p_num / p_den
    n = 210
    s = E.regular_rate(np.array([p]), n, 1e-3, max_rate=1000.0)[:, 0]
    assert s.sum() == (n * p_num) // p_den
    for k in range(1, n + 1):  # counts up to every step are exact, not only at the end
        assert s[:k].sum() == (k * p_num) // p_den
    if p_num == 1:
        steps = np.flatnonzero(s)
        assert np.all(np.diff(steps) == p_den) and steps[0] == p_den - 1


def test_regular_rate_phase():
    s = E.regular_rate(np.array([0.1]), 30, 1e-3, max_rate=1000.0, phase=0.95)[:, 0]
    assert np.flatnonzero(s).tolist() == [0, 10, 20]  # phase 0.95 + 0.1 crosses 1 in the first step
    assert s.sum() == math.floor(0.95 + 30 * 0.1)


# ----------------------------------------------------------------- latency
@given(hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(0.0, 1.0)),
       st.sampled_from(["linear", "log"]), st.integers(2, 40))
def test_latency_monotone(x, method, n_steps):
    """A larger value never spikes later; at most one spike per channel."""
    s = E.latency(x, n_steps, 1e-3, method=method, tau=5e-3)
    assert s.sum(axis=0).max(initial=0) <= 1
    step = np.where(s.any(axis=0), s.argmax(axis=0), n_steps)  # silent: later than any step
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(step[order]) <= 0)


def test_latency_linear_closed_form():
    x = np.linspace(0, 1, 11)
    s = E.latency(x, 21, 1e-3)
    np.testing.assert_array_equal(s.argmax(axis=0), np.round((1 - x) * 20))
    assert s.sum() == 11
    s = E.latency(x, 21, 1e-3, threshold=0.35)  # u < 0.35 is silent
    assert s.sum(axis=0).tolist() == [0] * 4 + [1] * 7


def test_latency_log_matches_rc_charging():
    """tau ln(u / (u - theta)) is the first passage of tau dv/dt = -v + u from v = 0 through theta:
    checked against a fine forward-Euler integration (dt = tau / 1e5)."""
    tau, theta = 5e-3, 0.2
    for u in (0.25, 0.4, 0.7, 1.0):
        t_formula = E.latency_times(np.array([u]), method="log", tau=tau, threshold=theta)[0]
        h, v, t = tau / 1e5, 0.0, 0.0
        while v < theta:
            v += h / tau * (u - v)
            t += h
        assert t_formula == pytest.approx(t, rel=1e-3)
    assert np.isinf(E.latency_times(np.array([0.2, 0.1]), method="log", tau=tau, threshold=theta)).all()


# ----------------------------------------------------------------- delta
signals = hnp.arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 3)),
                     elements=st.floats(-5.0, 5.0, allow_nan=False))


@given(signals, st.floats(0.05, 2.0), st.floats(-1.0, 1.0))
def test_delta_reconstruction_within_threshold(signal, threshold, initial):
    """|decode(encode(s)) - s| <= threshold at every step (< in exact arithmetic; 1e-9 relative for rounding)."""
    spikes = E.delta(signal, threshold, initial=initial)
    rec = E.delta_decode(spikes, threshold, initial=initial)
    assert rec.shape == signal.shape
    assert np.all(np.abs(rec - signal) <= threshold * (1 + 1e-9) + 1e-12)
    n = signal.shape[1]
    assert not np.any((spikes[:, :n] > 0) & (spikes[:, n:] > 0))  # never ON and OFF together


def test_delta_counts_on_a_ramp():
    """A ramp rising by exactly 0.25 per step with threshold 0.1 from 0: the reference follows in whole
    thresholds, so the ON counts are floor(0.25 k / 0.1) - floor(0.25 (k-1) / 0.1) (2, 3, 2, 3, ...)."""
    k = np.arange(1, 21)
    s = (0.25 * k)[:, None]
    sp = E.delta(s, 0.1)
    want = np.diff(np.floor(np.concatenate([[0.0], 0.25 * k]) / 0.1 + 1e-9)).astype(int)
    np.testing.assert_array_equal(sp[:, 0], want)
    assert sp[:, 1].sum() == 0
    down = E.delta(-s, 0.1)
    np.testing.assert_array_equal(down[:, 1], want)


def test_delta_constant_signal_is_silent_and_batched():
    s = np.full((2, 10, 3), 0.7)
    sp = E.delta(s, 0.1, initial=0.7)
    assert sp.sum() == 0 and sp.shape == (2, 10, 6)
    rng = np.random.default_rng(0)
    batch = np.cumsum(rng.normal(size=(4, 50, 2)), axis=1)
    sp = E.delta(batch, 0.3)
    for i in range(4):  # a batch is the same as its samples one by one
        np.testing.assert_array_equal(sp[i], E.delta(batch[i], 0.3))


# ----------------------------------------------------------------- population
def test_receptive_fields_bohte():
    """Bohte et al. 2002 for m = 5 on [0, 1], beta = 1.5: spacing 1/3, centres -1/6 .. 7/6, sigma 2/9."""
    c, sigma = E.receptive_fields(5, 0.0, 1.0, 1.5)
    np.testing.assert_allclose(c, [-1 / 6, 1 / 6, 1 / 2, 5 / 6, 7 / 6])
    assert sigma == pytest.approx(2 / 9)
    c, sigma = E.receptive_fields(12, -2.0, 8.0, 1.0)
    np.testing.assert_allclose(np.diff(c), 1.0) and np.testing.assert_allclose(c[0], -2.5)
    assert sigma == pytest.approx(1.0)
    a = E.gaussian_activations(np.array([1 / 2, 1 / 2 + 2 / 9]), 5)
    assert a[0, 2] == pytest.approx(1.0) and a[1, 2] == pytest.approx(math.exp(-0.5))
    assert a.shape == (2, 5)


def test_population_latency_and_rate():
    x = np.array([1 / 6, 5 / 6])  # exactly on the centres of fields 1 and 3
    s = E.population(x, 20, 1e-3, n_fields=5)
    first = s[0].reshape(2, 5)
    assert first[0, 1] == 1 and first[1, 3] == 1 and first.sum() == 2  # only the centred fields fire at t = 0
    a = E.gaussian_activations(x, 5).ravel()
    fired = s.sum(axis=0).astype(bool)
    np.testing.assert_array_equal(fired, a >= 0.1)  # fields below the latency threshold stay silent
    r = E.population(np.full(500, 0.5), 400, 1e-3, n_fields=5, coding="rate", max_rate=250.0, rng=3)
    rates = r.reshape(400, 500, 5).mean(axis=(0, 1)) / 1e-3
    want = E.gaussian_activations(np.array([0.5]), 5)[0] * 250.0
    # 200000 draws per field: standard error of the rate sqrt(p (1 - p) / 2e5) / dt <= 1.2 Hz
    np.testing.assert_allclose(rates, want, atol=6.0)


# ----------------------------------------------------------------- burst
def test_burst_counts_and_intervals():
    """N_s = ceil(5 u), ISI = ceil(-(T_max - T_min) u + T_max) steps (T_min = 2, T_max = 6), from step 0."""
    u = np.array([0.0, 0.1, 0.2, 0.21, 0.5, 0.8, 1.0])
    s = E.burst(u, 40, 1e-3, isi_min=2e-3, isi_max=6e-3)
    want_n = [0, 1, 1, 2, 3, 4, 5]
    want_isi = [None, None, None, math.ceil(-4 * 0.21 + 6), math.ceil(-4 * 0.5 + 6), math.ceil(-4 * 0.8 + 6), 2]
    for i in range(len(u)):
        steps = np.flatnonzero(s[:, i])
        assert len(steps) == want_n[i]
        if want_n[i]:
            assert steps[0] == 0
        if want_n[i] > 1:
            assert np.all(np.diff(steps) == want_isi[i])
    n_s, isi = E.burst_parameters(u, isi_min=2, isi_max=6)
    assert n_s.tolist() == want_n and isi[0] == 6 and isi[-1] == 2


def test_burst_truncated_at_window_and_monotone():
    s = E.burst(np.array([1.0]), 5, 1e-3, isi_min=2e-3, isi_max=4e-3)[:, 0]
    assert np.flatnonzero(s).tolist() == [0, 2, 4]  # 5 spikes wanted, 3 fit
    counts = E.burst(np.linspace(0, 1, 101), 60, 1e-3).sum(axis=0)
    assert np.all(np.diff(counts.astype(int)) >= 0)
    # default T_max: a whole burst of u = 1 fits into the window
    assert E.burst(np.array([1.0]), 9, 1e-3).sum() == 5


# ----------------------------------------------------------------- events
@given(hnp.arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 6)), elements=st.integers(0, 3)))
def test_events_round_trip(spikes):
    times, idx = E.to_events(spikes, 1e-3)
    assert times.size == spikes.sum()
    assert np.all(np.diff(times) >= 0)
    np.testing.assert_array_equal(E.from_events(times, idx, spikes.shape[0], spikes.shape[1], 1e-3), spikes)


def test_events_feed_a_spike_source():
    from memr_snn import SpikeSource

    s = E.poisson_rate(np.full(5, 0.5), 40, 1e-3, max_rate=200.0, rng=2)
    times, idx = E.to_events(s, 1e-3)
    src = SpikeSource(5, times, idx)
    np.testing.assert_array_equal(np.round(src.times / 1e-3).astype(int), np.nonzero(s)[0])
    np.testing.assert_array_equal(src.indices, np.nonzero(s)[1])


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("call,exc,match", [
    (lambda: E.poisson_rate([0.5], 0, 1e-3, max_rate=10.0), ValueError, "n_steps"),
    (lambda: E.poisson_rate([0.5], 10, -1e-3, max_rate=10.0), ValueError, "dt"),
    (lambda: E.poisson_rate([0.5], 10, 1e-3, max_rate=0.0), ValueError, "max_rate"),
    (lambda: E.poisson_rate([0.5], 10, 1e-3, max_rate=2000.0), ValueError, r"max_rate \* dt"),
    (lambda: E.poisson_rate([1.5], 10, 1e-3, max_rate=10.0), ValueError, r"\[x_min, x_max\]"),
    (lambda: E.poisson_rate([np.nan], 10, 1e-3, max_rate=10.0), ValueError, "finite"),
    (lambda: E.poisson_rate(0.5, 10, 1e-3, max_rate=10.0), ValueError, "dimension"),
    (lambda: E.poisson_rate([0.5], 10, 1e-3, max_rate=10.0, x_min=1.0, x_max=1.0), ValueError, "x_min"),
    (lambda: E.poisson_rate([0.5], 10, 1e-3, max_rate=10.0, rng="seed"), TypeError, "rng"),
    (lambda: E.poisson_rate(["a"], 10, 1e-3, max_rate=10.0), TypeError, "array of numbers"),
    (lambda: E.bernoulli([1.2], 10), ValueError, "p must lie"),
    (lambda: E.regular_rate([0.5], 10, 1e-3, max_rate=10.0, phase=1.0), ValueError, "phase"),
    (lambda: E.latency([0.5], 10, 1e-3, method="exp"), ValueError, "method"),
    (lambda: E.latency([0.5], 10, 1e-3, threshold=1.0), ValueError, "threshold"),
    (lambda: E.latency([0.5], 10, 1e-3, method="log", threshold=0.0), ValueError, "threshold"),
    (lambda: E.latency([0.5], 10, 1e-3, method="log", tau=0.0), ValueError, "tau"),
    (lambda: E.latency([0.5], 10, 1e-3, t_max=-1.0), ValueError, "t_max"),
    (lambda: E.delta([[0.0]], 0.0), ValueError, "threshold"),
    (lambda: E.delta([0.0, 1.0], 0.1), ValueError, "n_steps, n_channels"),
    (lambda: E.delta([[0.0], [1e4]], 1e-3), ValueError, "raise the threshold"),
    (lambda: E.delta([[0.0, 1.0]], 0.1, initial=[1.0, 2.0, 3.0]), ValueError, "initial"),
    (lambda: E.delta_decode(np.zeros((3, 3), np.uint8), 0.1), ValueError, "2 \\* n_channels"),
    (lambda: E.population([0.5], 10, 1e-3, n_fields=2), ValueError, "n_fields"),
    (lambda: E.population([0.5], 10, 1e-3, coding="phase"), ValueError, "coding"),
    (lambda: E.population([0.5], 10, 1e-3, beta=-1.0), ValueError, "beta"),
    (lambda: E.burst([0.5], 10, 1e-3, n_max=0), ValueError, "n_max"),
    (lambda: E.burst([0.5], 10, 1e-3, isi_min=1.5e-3), ValueError, "whole number"),
    (lambda: E.burst([0.5], 10, 1e-3, isi_min=4e-3, isi_max=2e-3), ValueError, "isi_min must be <= isi_max"),
    (lambda: E.to_events(np.zeros((2, 2, 2)), 1e-3), ValueError, "n_steps, n_channels"),
    (lambda: E.to_events(np.array([[0.5]]), 1e-3), ValueError, "integer"),
    (lambda: E.from_events([0.5], [0], 10, 2, 1e-3), ValueError, "n_steps"),
    (lambda: E.from_events([0.0], [2], 10, 2, 1e-3), ValueError, "indices"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_docs_example_runs():
    """The first python block of docs/encoders.md runs as written."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "encoders.md").read_text()
    start = text.index("```python\n") + len("```python\n")
    namespace: dict = {}
    exec(compile(text[start:text.index("```", start)], "docs/encoders.md", "exec"), namespace)
    assert namespace["rate"].shape == (100, 4) and namespace["events"].shape == (200, 2)
