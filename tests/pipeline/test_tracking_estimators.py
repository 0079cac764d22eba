"""The estimators of benchmarks/tracking_estimators.py against their definitions on hand cases."""

import importlib.util
import math
from pathlib import Path

import numpy as np

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "tracking_estimators.py"
_spec = importlib.util.spec_from_file_location("tracking_estimators", _PATH)
te = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(te)


def _grid(w=4, h=4):
    ys, xs = np.mgrid[0:h, 0:w]
    return (xs - (w - 1) / 2.0).ravel(), (ys - (h - 1) / 2.0).ravel()


def test_centroid_measure_hand_case():
    xs, ys = _grid()  # x in {-1.5, -0.5, 0.5, 1.5}
    on, off = np.zeros(16), np.zeros(16)
    on[3] = 1.0    # (x, y) = (1.5, -1.5)
    off[1] = 1.0   # (-0.5, -1.5)
    z = te.centroid_measure(on, off, xs, ys, lead=0.25, min_events=2.0)
    # centroid (0.5, -1.5), ON - OFF = (2, 0)
    np.testing.assert_allclose(z, [0.5 + 0.25 * 2.0, -1.5])
    assert te.centroid_measure(on, off, xs, ys, lead=0.25, min_events=3.0) is None
    # noise taken out of the counts: 2 ON and 2 OFF at (1.5, -1.5), 1 expected noise event per polarity ->
    # N_on = N_off = 1 and c = (sum of x over the 4 events) / (N_on + N_off) = 6 / 2
    on2, off2 = np.zeros(16), np.zeros(16)
    on2[3], off2[3] = 2.0, 2.0
    z = te.centroid_measure(on2, off2, xs, ys, lead=0.0, min_events=1.0, noise=1.0)
    np.testing.assert_allclose(z, [6.0 / 2.0, -1.5 * 4 / 2.0])


def test_alpha_beta_definition_and_constant_velocity():
    x, v = te.alpha_beta(np.array([1.0]), np.array([2.0]), None, 0.5, 0.3, 0.1)
    np.testing.assert_allclose([x[0], v[0]], [2.0, 2.0])            # prediction only
    x, v = te.alpha_beta(np.array([1.0]), np.array([2.0]), np.array([3.0]), 0.5, 0.5, 0.2)
    np.testing.assert_allclose([x[0], v[0]], [2.5, 2.0 + 0.2 * 1.0 / 0.5])
    # a target moving at constant velocity, measured exactly: the filter converges to it
    x, v = np.zeros(1), np.zeros(1)
    for k in range(1, 200):
        x, v = te.alpha_beta(x, v, np.array([3.0 * k * 0.01]), 0.01, 0.5, 0.2)
    assert abs(v[0] - 3.0) < 1e-6 and abs(x[0] - 3.0 * 199 * 0.01) < 1e-8


def test_motor_displacement_matches_fine_integration():
    u, w, T, tau = np.array([100.0, -50.0]), np.array([-20.0, 10.0]), 0.01, 0.05
    de, w1 = te.motor_displacement(u, w, T, tau)
    n = 100000
    h = T / n
    ww, e = w.copy(), np.zeros(2)
    for _ in range(n):  # midpoint rule of e' = w, w' = (u - w) / tau
        wm = ww + 0.5 * h * (u - ww) / tau
        e += h * wm
        ww = ww + h * (u - wm) / tau
    np.testing.assert_allclose(de, e, rtol=1e-8)
    np.testing.assert_allclose(w1, ww, rtol=1e-8)


def test_truth_estimator_pid_tracks_and_centroid_is_worse():
    err_truth = te.run(te.Truth(), 100, 250.0, 3000.0, 5.0, steps=60)
    err_cent = te.run(te.Centroid(), 100, 80.0, 1000.0, 1.0, steps=60)
    assert err_truth < err_cent
    assert math.isfinite(err_cent) and err_cent < 10.0
