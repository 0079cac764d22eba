"""Event-array representation and utilities against loop references and tonic (when installed)."""

from __future__ import annotations

import numpy as np
import pytest
from memr_snn.encoders import _events_reference as ref
from memr_snn.encoders.events import (
    EVENT_DTYPE,
    EventError,
    EventStream,
    as_events,
    crop,
    denoise,
    denoise_kernel,
    make_events,
    refractory_filter,
    refractory_kernel,
    seconds_to_us,
    time_window,
    to_frames_by_count,
    to_frames_by_time,
    to_voxel_grid,
    validate_events,
)


def random_events(rng, n=400, size=(12, 9), t_max=20_000):
    t = np.sort(rng.integers(0, t_max, n))
    return make_events(t, rng.integers(0, size[0], n), rng.integers(0, size[1], n), rng.integers(0, 2, n))


def test_make_events_dtype_and_polarity_conventions():
    ev = make_events([0, 5, 9], [1, 2, 3], [0, 0, 1], [-1, 1, 0])
    assert ev.dtype == EVENT_DTYPE
    assert ev["p"].tolist() == [0, 1, 0]
    assert make_events([0], [0], [0], [True])["p"][0] == 1
    with pytest.raises(EventError, match="polarity"):
        make_events([0], [0], [0], [2])
    with pytest.raises(EventError, match="integers"):
        make_events([0.5], [0], [0], [1])
    with pytest.raises(EventError, match="one length"):
        make_events([0, 1], [0], [0], [1])


def test_validate_rejects_out_of_sensor_and_unsorted_and_sorts_on_request():
    ev = make_events([5, 3, 3, 9], [0, 1, 2, 3], [0, 0, 0, 0], [1, 0, 1, 0])
    with pytest.raises(EventError, match="not sorted"):
        validate_events(ev, (4, 1))
    s = validate_events(ev, (4, 1), sort=True)
    assert s["t"].tolist() == [3, 3, 5, 9]
    assert s["x"].tolist() == [1, 2, 0, 3]  # stable for equal timestamps
    with pytest.raises(EventError, match="outside the sensor"):
        validate_events(np.sort(ev, order="t"), (3, 1))
    with pytest.raises(EventError, match="sensor_size"):
        validate_events(ev, (0, 4))
    with pytest.raises(EventError, match="fields"):
        as_events(np.zeros(3))
    with pytest.raises(EventError, match=">= 0"):
        validate_events(make_events([-3, 1], [0, 0], [0, 0], [1, 1]), (1, 1))
    with pytest.raises(EventError, match="65535"):
        make_events([0], [70_000], [0], [1])


def test_empty_streams_go_through_every_utility():
    ev = np.empty(0, dtype=EVENT_DTYPE)
    size = (5, 4)
    assert len(EventStream(ev, size)) == 0
    assert crop(ev, size, (1, 1), (2, 2)).events.size == 0
    assert time_window(ev, 0.0, 1.0).size == 0
    assert refractory_filter(ev, size, 1e-3).size == 0
    assert denoise(ev, size, 1e-3).size == 0
    assert to_frames_by_time(ev, size, 3).shape == (3, 2, 4, 5)
    assert to_frames_by_count(ev, size, 10).shape == (0, 2, 4, 5)
    assert not to_voxel_grid(ev, size, 4).any()


def test_crop_and_time_window(rng):
    size = (12, 9)
    ev = random_events(rng, size=size)
    c = crop(ev, size, (3, 2), (5, 4))
    inside = (ev["x"] >= 3) & (ev["x"] < 8) & (ev["y"] >= 2) & (ev["y"] < 6)
    assert c.sensor_size == (5, 4)
    np.testing.assert_array_equal(c.events["x"], ev["x"][inside] - 3)
    np.testing.assert_array_equal(c.events["t"], ev["t"][inside])
    with pytest.raises(ValueError, match="does not fit"):
        crop(ev, size, (10, 0), (5, 4))
    w = time_window(ev, 5e-3, 12e-3)
    np.testing.assert_array_equal(w, ev[(ev["t"] >= 5000) & (ev["t"] < 12000)])
    # half-open windows tile the stream
    parts = [time_window(ev, a * 1e-3, (a + 4) * 1e-3).size for a in range(0, 20, 4)]
    assert sum(parts) == ev.size
    with pytest.raises(ValueError, match="t_stop"):
        time_window(ev, 2.0, 1.0)


def test_seconds_to_us_rounds_and_refuses_bad_values():
    assert seconds_to_us("x", 1.5e-6) == 2 and seconds_to_us("x", 0.25) == 250_000
    for bad in (-1.0, float("nan"), "a"):
        with pytest.raises(ValueError, match="x"):
            seconds_to_us("x", bad)


@pytest.mark.parametrize("impl", ["jit", "py_func"])
def test_refractory_kernel_matches_reference(rng, impl):
    size = (6, 5)
    ev = random_events(rng, n=600, size=size, t_max=30_000)
    kern = refractory_kernel if impl == "jit" else getattr(refractory_kernel, "py_func", refractory_kernel)
    keep = np.empty(ev.size, dtype=bool)
    kern(ev["t"].copy(), ev["y"].astype(np.int64) * size[0] + ev["x"], 1500, size[0] * size[1], keep)
    np.testing.assert_array_equal(keep, ref.refractory_ref(ev["t"], ev["x"], ev["y"], 1500))
    out = refractory_filter(ev, size, 1.5e-3)
    np.testing.assert_array_equal(out, ev[keep])
    # invariant: kept events at one pixel are at least the refractory period apart
    for px in set(zip(out["x"].tolist(), out["y"].tolist(), strict=True)):
        t = out["t"][(out["x"] == px[0]) & (out["y"] == px[1])]
        assert np.all(np.diff(t) >= 1500)


@pytest.mark.parametrize("impl", ["jit", "py_func"])
@pytest.mark.parametrize("neighbourhood", [4, 8])
def test_denoise_kernel_matches_reference(rng, impl, neighbourhood):
    size = (10, 8)
    ev = random_events(rng, n=500, size=size, t_max=50_000)
    kern = denoise_kernel if impl == "jit" else getattr(denoise_kernel, "py_func", denoise_kernel)
    keep = np.empty(ev.size, dtype=bool)
    kern(ev["t"].copy(), ev["x"].copy(), ev["y"].copy(), size[0], size[1], 2000, neighbourhood == 8, keep)
    np.testing.assert_array_equal(keep, ref.denoise_ref(ev["t"], ev["x"], ev["y"], 2000, neighbourhood))
    assert 0 < keep.sum() < ev.size


def test_denoise_keeps_a_moving_edge_and_drops_isolated_noise():
    """A bar sweeping right makes neighbouring events 100 µs apart (kept); lone far-apart events are dropped."""
    t, x, y = [], [], []
    for col in range(20):
        for row in range(5, 10):
            t.append(1000 + 100 * col)
            x.append(col)
            y.append(row)
    edge = make_events(t, x, y, np.ones(len(t), int))
    noise = make_events([500, 30_000, 60_000], [3, 15, 7], [18, 1, 25], [0, 1, 0])
    ev = np.sort(np.concatenate([edge, noise]), order="t", kind="stable")
    out = denoise(ev, (20, 30), 1e-3)
    assert not np.isin(out["t"], [500, 30_000, 60_000]).any()
    assert out.size >= edge.size - 5  # only the very first events of the edge lack an earlier neighbour


def test_denoise_matches_tonic_when_installed(rng):
    """tonic's ``denoise_numpy`` (4-neighbourhood) is an independent implementation of the same filter.

    tonic initialises its timestamp memory to ``filter_time``, so events earlier than that pass spuriously;
    all test events are later than that.
    """
    tonic_denoise = pytest.importorskip("tonic.functional.denoise").denoise_numpy
    size = (10, 8)
    ev = random_events(rng, n=500, size=size, t_max=50_000)
    ev["t"] += 10_000
    tev = np.zeros(ev.size, dtype=[("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])
    for f in "xytp":
        tev[f] = ev[f]
    # tonic sizes its memory from the largest coordinates; make them span the sensor
    assert ev["x"].max() == size[0] - 1 and ev["y"].max() == size[1] - 1
    expected = tonic_denoise(tev, filter_time=2000)
    got = denoise(ev, size, 2e-3, neighbourhood=4)
    np.testing.assert_array_equal(got["t"], expected["t"])
    np.testing.assert_array_equal(got["x"], expected["x"])


def test_frames_by_time_matches_loop_reference_and_conserves_events(rng):
    size = (7, 6)
    ev = random_events(rng, n=300, size=size, t_max=9_999)
    fr = to_frames_by_time(ev, size, 7, t_start=0.0, t_stop=0.01)
    np.testing.assert_array_equal(fr, ref.frames_by_time_ref(ev, size, 7, 0, 10_000))
    assert fr.sum() == ev.size and fr.dtype == np.int32
    assert fr[:, 1].sum() == ev["p"].sum()
    default = to_frames_by_time(ev, size, 3)
    assert default.sum() == ev.size


def test_frames_by_time_matches_tonic_when_installed(rng):
    to_frame = pytest.importorskip("tonic.functional.to_frame").to_frame_numpy
    size = (7, 6)
    ev = random_events(rng, n=300, size=size, t_max=10_000)
    tev = np.zeros(ev.size, dtype=[("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])
    for f in "xytp":
        tev[f] = ev[f]
    expected = to_frame(tev, sensor_size=(7, 6, 2), event_count=50)
    np.testing.assert_array_equal(to_frames_by_count(ev, size, 50), expected)


def test_frames_by_count():
    ev = make_events(np.arange(7), [0, 1, 0, 1, 0, 1, 0], np.zeros(7, int), [1, 1, 0, 0, 1, 1, 0])
    fr = to_frames_by_count(ev, (2, 1), 3)
    assert fr.shape == (3, 2, 1, 2)
    assert fr.reshape(3, -1).sum(axis=1).tolist() == [3, 3, 1]
    assert fr[0, 1, 0].tolist() == [1, 1] and fr[0, 0, 0].tolist() == [1, 0]
    with pytest.raises(ValueError, match="event_count"):
        to_frames_by_count(ev, (2, 1), 0)


def test_voxel_grid_matches_formula(rng):
    size = (5, 4)
    ev = random_events(rng, n=200, size=size, t_max=7_000)
    v = to_voxel_grid(ev, size, 5)
    np.testing.assert_allclose(v, ref.voxel_grid_ref(ev, size, 5), atol=1e-12)
    # each event distributes exactly its polarity +-1 over the bins
    assert v.sum() == pytest.approx(float(np.where(ev["p"] > 0, 1, -1).sum()))


def test_voxel_grid_two_events_by_hand():
    """Events at t=0 (ON) and t=400 µs (OFF) over 3 bins: t* = 0 and 2; one at t=100 gives t* = 0.5."""
    ev = make_events([0, 100, 400], [0, 1, 0], [0, 0, 0], [1, 1, 0])
    v = to_voxel_grid(ev, (2, 1), 3)
    np.testing.assert_allclose(v[:, 0, 0], [1.0, 0.0, -1.0])
    np.testing.assert_allclose(v[:, 0, 1], [0.5, 0.5, 0.0])
