"""DVS emulator: moving edges against the threshold-crossing definition, noise statistics, saccades."""

from __future__ import annotations

import math

import numpy as np
import pytest
from memr_snn.encoders._events_reference import dvs_reference
from memr_snn.encoders.dvs import DVSParams, dvs_kernel, emulate_dvs, saccade_path, saccades, translate_image

BRIGHT, DARK, EPS = 1.0, 0.05, 1e-3


def moving_edges(n_frames=12, width=14, height=4):
    """Rows 0-1: a bright region growing to the right (pixels go dark -> bright once, ON);
    rows 2-3: a dark region growing to the right (bright -> dark once, OFF).  One pixel per frame."""
    frames = np.empty((n_frames, height, width))
    for f in range(n_frames):
        frames[f, :2] = np.where(np.arange(width) < f + 1, BRIGHT, DARK)
        frames[f, 2:] = np.where(np.arange(width) < f + 1, DARK, BRIGHT)
    times = 1e-3 * np.arange(n_frames)
    return frames, times


def test_moving_edge_events_count_polarity_and_timing():
    """Noiseless ideal pixel: pixel x flips between frames x-1 and x, so it must fire floor(|dL|/theta)
    events of the right polarity, the j-th at t_{x-1} + j theta / |dL| * dt (linear interpolation of ln I),
    and pixels whose intensity never changes must stay silent."""
    frames, times = moving_edges()
    theta_on, theta_off = 0.23, 0.31
    s = emulate_dvs(frames, times, threshold_on=theta_on, threshold_off=theta_off, log_eps=EPS)
    ev = s.events
    assert s.sensor_size == (14, 4)
    dl = math.log(BRIGHT + EPS) - math.log(DARK + EPS)
    n_on, n_off = math.floor(dl / theta_on), math.floor(dl / theta_off)
    for y in range(4):
        for x in range(14):
            e = ev[(ev["x"] == x) & (ev["y"] == y)]
            if x == 0 or x >= 12:  # bright from the start / never reached by the edge
                assert e.size == 0
                continue
            on = y < 2
            assert e.size == (n_on if on else n_off)
            assert np.all(e["p"] == (1 if on else 0))
            theta = theta_on if on else theta_off
            expected = 1e6 * (times[x - 1] + np.arange(1, e.size + 1) * theta / dl * 1e-3)
            np.testing.assert_array_equal(e["t"], np.rint(expected).astype(np.int64))
    assert np.all(np.diff(ev["t"]) >= 0)


def test_events_only_where_log_intensity_changes_by_threshold():
    """Random static pixels plus a few that change by less / more than the threshold."""
    rng = np.random.default_rng(3)
    base = rng.uniform(0.2, 1.0, (6, 6))
    frames = np.stack([base, base, base])
    frames[2, 1, 1] = (base[1, 1] + EPS) * math.exp(0.19) - EPS  # below threshold: no event
    frames[2, 2, 3] = (base[2, 3] + EPS) * math.exp(0.41) - EPS  # two ON events
    frames[2, 4, 4] = (base[4, 4] + EPS) * math.exp(-0.61) - EPS  # three OFF events
    ev = emulate_dvs(frames, [0.0, 0.01, 0.02], threshold_on=0.2, threshold_off=0.2, log_eps=EPS).events
    assert sorted(set(zip(ev["x"].tolist(), ev["y"].tolist(), strict=True))) == [(3, 2), (4, 4)]
    assert ev[(ev["x"] == 3)]["p"].tolist() == [1, 1]
    assert ev[(ev["x"] == 4)]["p"].tolist() == [0, 0, 0]


def test_remainder_carries_over_frames():
    """Five steps of +0.14 with theta 0.2: events when the accumulated change passes 0.2, 0.4, 0.6 (not per step)."""
    L = np.log(0.5) + 0.14 * np.arange(6)
    frames = (np.exp(L) - EPS).reshape(6, 1, 1)
    ev = emulate_dvs(frames, np.arange(6) * 1e-3, log_eps=EPS).events
    # crossing of +0.2 at 1 + 0.06/0.14 ms, of +0.4 at 2 + 0.12/0.14 ms, of +0.6 at 4 + 0.04/0.14 ms
    np.testing.assert_array_equal(ev["t"], [1429, 2857, 4286])


def test_exponential_ramp_fires_at_closed_form_times_independent_of_frame_times():
    """I(t) = I0 exp(a t) (minus the log offset) makes ln(I + eps) linear in time, which the emulator's
    interpolation represents exactly: ON events at t_j = j theta / a whatever the (irregular) frame times,
    and OFF events at the same times for the decaying ramp."""
    a, theta = 37.0, 0.25  # ln units per second, threshold
    times = np.sort(np.concatenate([[0.0, 0.1], np.random.default_rng(1).uniform(0, 0.1, 13)]))
    up = (0.2 * np.exp(a * times) - EPS).reshape(-1, 1, 1)
    down = (0.2 * np.exp(-a * times) - EPS).reshape(-1, 1, 1)
    frames = np.concatenate([up, down], axis=2)  # pixel (0, 0) brightens, (1, 0) darkens
    ev = emulate_dvs(frames, times, threshold_on=theta, threshold_off=theta, log_eps=EPS).events
    expected = np.rint(1e6 * np.arange(1, math.floor(a * 0.1 / theta) + 1) * theta / a).astype(np.int64)
    np.testing.assert_array_equal(ev["t"][ev["x"] == 0], expected)
    np.testing.assert_array_equal(ev["t"][ev["x"] == 1], expected)
    assert np.all(ev["p"][ev["x"] == 0] == 1) and np.all(ev["p"][ev["x"] == 1] == 0)


@pytest.mark.parametrize("impl", ["jit", "py_func"])
def test_kernel_matches_numpy_reference_with_all_nonidealities(impl):
    rng = np.random.default_rng(7)
    n_frames, n_pix = 25, 30
    logf = np.log(rng.uniform(0.05, 1.0, (n_frames, n_pix)))
    times = np.cumsum(rng.uniform(200, 900, n_frames))
    ref0 = logf[0] + rng.uniform(0, 0.1, n_pix)
    th_on = rng.uniform(0.1, 0.3, n_pix)
    th_off = rng.uniform(0.1, 0.3, n_pix)
    drift = rng.uniform(0, 2e-4, n_pix)
    kern = dvs_kernel if impl == "jit" else getattr(dvs_kernel, "py_func", dvs_kernel)
    args = (logf, times, ref0.copy(), np.full(n_pix, -np.inf), th_on, th_off, drift, 700.0)
    n = kern(*args, np.empty(0), np.empty(0, np.int64), np.empty(0, np.int8), False)
    out_t, out_k, out_p = np.empty(n), np.empty(n, np.int64), np.empty(n, np.int8)
    ref_state = ref0.copy()
    args = (logf, times, ref_state, np.full(n_pix, -np.inf), th_on, th_off, drift, 700.0)
    assert kern(*args, out_t, out_k, out_p, True) == n
    t2, k2, p2, ref2 = dvs_reference(logf, times, ref0, th_on, th_off, drift, 700.0)
    o1 = np.lexsort((out_t, out_k))
    o2 = np.lexsort((t2, k2))
    np.testing.assert_array_equal(out_k[o1], k2[o2])
    np.testing.assert_array_equal(out_p[o1], p2[o2])
    np.testing.assert_allclose(out_t[o1], t2[o2], rtol=0, atol=1e-6)
    np.testing.assert_allclose(ref_state, ref2, atol=1e-9)
    assert n > 50


def test_refractory_period_is_respected_and_suppresses_events():
    frames, times = moving_edges()
    full = emulate_dvs(frames, times, log_eps=EPS).events
    ev = emulate_dvs(frames, times, log_eps=EPS, refractory=2e-4).events
    assert 0 < ev.size < full.size
    for px in set(zip(ev["x"].tolist(), ev["y"].tolist(), strict=True)):
        t = ev["t"][(ev["x"] == px[0]) & (ev["y"] == px[1])]
        assert np.all(np.diff(t) >= 200)


def test_threshold_mismatch_statistics():
    """A uniform step of dL = 2 gives pixel k floor(2 / theta_k) events.  The mean count must match the
    expectation of floor(2 / max(theta + sigma n, theta_min)) for n ~ N(0, 1) (Monte Carlo, 1e6 draws)."""
    dl, theta, sigma = 2.0, 0.2, 0.03
    n_side = 60
    f0 = np.full((n_side, n_side), 0.3)
    frames = np.stack([f0, (f0 + EPS) * math.exp(dl) - EPS])
    ev = emulate_dvs(frames, [0.0, 1e-3], threshold_on=theta, threshold_mismatch_sigma=sigma, log_eps=EPS, rng=5).events
    counts = np.bincount(ev["y"].astype(int) * n_side + ev["x"], minlength=n_side**2)
    mc = np.floor(dl / np.maximum(theta + sigma * np.random.default_rng(0).standard_normal(10**6), 0.01))
    # standard error of the mean over 3600 pixels is std/60; allow 5 standard errors
    assert abs(counts.mean() - mc.mean()) < 5 * mc.std() / n_side
    assert counts.std() == pytest.approx(mc.std(), rel=0.15)
    assert np.all(ev["p"] == 1)
    ideal = emulate_dvs(frames, [0.0, 1e-3], threshold_on=theta, log_eps=EPS).events
    assert np.all(np.bincount(ideal["y"].astype(int) * n_side + ideal["x"]) == math.floor(dl / theta))


def test_leak_events_rate_and_polarity():
    """A static pixel with leak rate r makes ON events exactly 1/r s apart after a random phase u/r,
    u in [0, 1): over T seconds it makes floor(r T - u) of them, 9 or 10 for r T = 10."""
    frames = np.full((2, 20, 20), 0.5)
    ev = emulate_dvs(frames, [0.0, 2.0], leak_rate=5.0, rng=1).events
    counts = np.bincount(ev["y"].astype(int) * 20 + ev["x"], minlength=400)
    assert set(np.unique(counts).tolist()) <= {9, 10}
    assert np.all(ev["p"] == 1)
    per_pixel = [np.diff(ev["t"][(ev["x"] == 3) & (ev["y"] == 4)])]
    np.testing.assert_allclose(per_pixel[0], 200_000, atol=1)


def test_shot_noise_is_poisson_with_balanced_polarity():
    frames = np.full((2, 20, 20), 0.5)
    ev = emulate_dvs(frames, [0.0, 1.0], shot_noise_rate=20.0, rng=2).events
    mean = 20.0 * 400
    assert abs(ev.size - mean) < 4 * math.sqrt(mean)
    assert abs(ev["p"].mean() - 0.5) < 4 * 0.5 / math.sqrt(ev.size)
    counts = np.bincount(ev["y"].astype(int) * 20 + ev["x"], minlength=400)
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.25)  # Poisson: Fano factor 1


def test_emulator_seeded_and_ideal_ignores_rng():
    frames, times = moving_edges()
    a = emulate_dvs(frames, times, threshold_mismatch_sigma=0.05, shot_noise_rate=30.0, rng=4).events
    b = emulate_dvs(frames, times, threshold_mismatch_sigma=0.05, shot_noise_rate=30.0, rng=4).events
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(emulate_dvs(frames, times, rng=1).events, emulate_dvs(frames, times, rng=2).events)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(threshold_on=0.0), "threshold_on"),
        (dict(threshold_off=float("nan")), "threshold_off"),
        (dict(refractory=-1.0), "refractory"),
        (dict(threshold_min=0.5), "threshold_min"),
        (dict(leak_rate=-2.0), "leak_rate"),
    ],
)
def test_bad_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DVSParams(**kwargs)


def test_bad_frames_are_refused():
    f = np.ones((3, 2, 2))
    with pytest.raises(ValueError, match="frames"):
        emulate_dvs(-f, [0, 1, 2])
    with pytest.raises(ValueError, match="times"):
        emulate_dvs(f, [0, 1, 1])
    with pytest.raises(ValueError, match="times"):
        emulate_dvs(f, [0, 1])
    with pytest.raises(ValueError, match="frames"):
        emulate_dvs(np.ones((2, 2)), [0, 1])
    assert len(emulate_dvs(f[:1], [0.0])) == 0  # one frame: no interval, no events


def test_saccade_path_triangle():
    p = saccade_path(np.array([0.0, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5]), amplitude=4.0)
    np.testing.assert_allclose(p, [[0, 0], [1, 2], [2, 4], [4, 0], [2, 0], [0, 0], [0, 0]], atol=1e-12)


def test_translate_image_subpixel_and_integer():
    img = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(translate_image(img, 1, 0)[:, 1:], img[:, :-1])
    np.testing.assert_allclose(translate_image(img, 0, 0), img)
    half = translate_image(img, 0.5, 0)
    np.testing.assert_allclose(half[:, 1:], (img[:, 1:] + img[:, :-1]) / 2)


def test_saccades_make_events_of_a_digit_and_none_of_a_blank_image():
    img = np.zeros((28, 28))
    img[6:22, 12:16] = 1.0
    s = saccades(img, rng=0)
    assert s.sensor_size == (32, 32)
    ev = s.events
    assert ev.size > 500 and 0 < ev["p"].mean() < 1
    assert ev["t"].min() >= 0 and ev["t"].max() <= 300_000
    # every saccade moves the image, so each third of the recording has events
    assert all(((ev["t"] >= a) & (ev["t"] < a + 100_000)).sum() > 100 for a in (0, 100_000, 200_000))
    assert len(saccades(np.full((10, 10), 0.4), background=0.4)) == 0
