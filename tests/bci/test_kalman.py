"""Kalman-family and Wiener decoders against hand-computed filters, dense solves and known models."""

import numpy as np
import pytest
import scipy.linalg
from memr_snn.bci import (
    KalmanFilter,
    NotFittedError,
    ReFITKalmanFilter,
    SteadyStateKalmanFilter,
    WienerFilter,
    reestimate_intention,
    rescale_speed,
)


def test_kalman_matches_hand_computed_scalar_filter():
    """Diagonal model: each axis is the scalar filter a=0.5, w=1, h=2, q=4, d=0, started at x=0, P=0.

    Bin 1, z=4:  P- = a^2*0 + w = 1;  K = P- h / (h^2 P- + q) = 2/8 = 0.25;
                 x = 0 + 0.25 * (4 - 2*0) = 1;  P = (1 - K h) P- = 0.5.
    Bin 2, z=2:  P- = 0.25*0.5 + 1 = 1.125;  K = 2.25 / (4.5 + 4) = 9/34;
                 x- = 0.5;  x = 0.5 + 9/34 * (2 - 1) = 26/34;  P = (1 - 18/34) * 1.125 = 9/17.
    """
    kf = KalmanFilter.from_matrices(A=0.5 * np.eye(2), W=np.eye(2), H=2 * np.eye(2), Q=4 * np.eye(2))
    np.testing.assert_allclose(kf.step([4.0, 4.0]), [1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(kf.cov_, 0.5 * np.eye(2), rtol=1e-12)
    np.testing.assert_allclose(kf.gain_, 0.25 * np.eye(2), rtol=1e-12)
    np.testing.assert_allclose(kf.step([2.0, 2.0]), [26 / 34, 26 / 34], rtol=1e-12)
    np.testing.assert_allclose(kf.cov_, 9 / 17 * np.eye(2), rtol=1e-12)
    np.testing.assert_allclose(kf.gain_, 9 / 34 * np.eye(2), rtol=1e-12)


def test_kalman_matches_covariance_form_written_out():
    """A coupled 3-channel case against the textbook predict/update with an explicit (H P H^T + Q)^-1."""
    rng = np.random.default_rng(3)
    A = np.array([[0.9, 0.1], [-0.05, 0.8]])
    W = np.array([[0.2, 0.05], [0.05, 0.1]])
    H = rng.normal(size=(3, 2))
    M = rng.normal(size=(3, 3))
    Q = M @ M.T + np.eye(3)
    d = np.array([1.0, 2.0, 0.5])
    kf = KalmanFilter.from_matrices(A, W, H, Q, d, track_innovation=True)
    x, P = np.zeros(2), np.zeros((2, 2))
    for z in rng.normal(size=(6, 3)) + d:
        xp = A @ x
        Pp = A @ P @ A.T + W
        S = H @ Pp @ H.T + Q
        K = Pp @ H.T @ np.linalg.inv(S)
        r = z - d - H @ xp
        x = xp + K @ r
        P = (np.eye(2) - K @ H) @ Pp
        np.testing.assert_allclose(kf.step(z), x, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(kf.cov_, P, rtol=1e-10, atol=1e-12)
        assert kf.last_nis_ == pytest.approx(r @ np.linalg.solve(S, r), rel=1e-10)


def _linear_gaussian(n_bins, n_units, seed):
    rng = np.random.default_rng(seed)
    A = np.array([[0.95, 0.0], [0.0, 0.9]])
    H = rng.normal(size=(n_units, 2)) * 5
    d = rng.uniform(30, 40, n_units)  # counts stay positive
    v = np.zeros((n_bins, 2))
    for t in range(1, n_bins):
        v[t] = A @ v[t - 1] + rng.normal(scale=0.1, size=2)
    X = v @ H.T + d + rng.normal(scale=0.5, size=(n_bins, n_units))
    return X, v, A, H, d


def test_fit_recovers_the_generating_model():
    """Least squares converges to the model that generated the data (20000 bins: errors ~1/sqrt(n))."""
    X, v, A, H, d = _linear_gaussian(20000, 6, 0)
    kf = KalmanFilter(q_reg=0.0).fit(X, v)
    np.testing.assert_allclose(kf.A_, A, atol=0.01)
    np.testing.assert_allclose(kf.W_, 0.01 * np.eye(2), atol=0.001)
    np.testing.assert_allclose(kf.H_, H, atol=0.05)
    np.testing.assert_allclose(kf.d_, d, atol=0.02)
    np.testing.assert_allclose(kf.Q_, 0.25 * np.eye(6), atol=0.02)


def test_steady_state_gain_is_the_limit_of_the_full_filter():
    X, v, *_ = _linear_gaussian(2000, 20, 1)
    kf = KalmanFilter().fit(X, v)
    ss = SteadyStateKalmanFilter().fit(X, v)
    for z in X[:200]:
        kf.step(z)
    np.testing.assert_allclose(kf.gain_, ss.steady_gain_, rtol=1e-8, atol=1e-12)
    # the prior covariance solves the Riccati equation
    P = ss.prior_cov_
    A, H, W, Q = ss.A_, ss.H_, ss.W_, ss.Q_
    rhs = A @ P @ A.T - A @ P @ H.T @ np.linalg.solve(H @ P @ H.T + Q, H @ P @ A.T) + W
    np.testing.assert_allclose(P, rhs, rtol=1e-9)
    # and decoded velocities agree once the full filter's transient has passed
    np.testing.assert_allclose(kf.predict(X)[100:], ss.predict(X)[100:], rtol=1e-6, atol=1e-9)
    assert scipy.linalg.norm(P) > 0


def test_with_channels_equals_a_fit_on_those_channels():
    X, v, *_ = _linear_gaussian(500, 8, 2)
    keep = [0, 3, 5, 6]
    sub = KalmanFilter(q_reg=0.0).fit(X, v).with_channels(keep)
    ref = KalmanFilter(q_reg=0.0).fit(X[:, keep], v)
    for name in ("A_", "W_", "H_", "d_", "Q_"):
        np.testing.assert_allclose(getattr(sub, name), getattr(ref, name), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sub.predict(X[:50, keep]), ref.predict(X[:50, keep]), rtol=1e-9)


def test_predict_is_stepping_from_reset_and_keeps_the_state():
    X, v, *_ = _linear_gaussian(300, 5, 4)
    kf = KalmanFilter().fit(X, v)
    kf.step(X[0])
    before = kf.state_.copy()
    pred = kf.predict(X[:20])
    np.testing.assert_array_equal(kf.state_, before)
    kf.reset()
    np.testing.assert_allclose(pred, [kf.step(z) for z in X[:20]])


def test_partial_fit_memory():
    X, v, *_ = _linear_gaussian(600, 5, 5)
    whole = KalmanFilter().fit(X, v)
    parts = KalmanFilter().fit(X[:300], v[:300]).partial_fit(X[300:], v[300:])
    # accumulation equals the joint fit except for the one A/W pair across the cut
    np.testing.assert_allclose(parts.H_, whole.H_, rtol=1e-9)
    np.testing.assert_allclose(parts.Q_, whole.Q_, rtol=1e-9, atol=1e-10)  # Q = E[zz] - C E[zy]: cancellation
    fresh = KalmanFilter(memory=0.0).fit(X[:300], v[:300]).partial_fit(X[300:], v[300:])
    np.testing.assert_allclose(fresh.H_, KalmanFilter().fit(X[300:], v[300:]).H_, rtol=1e-9)


def test_refit_intention_hand_case():
    """Decoded (1, 0) at the origin with the target at (0, 2): re-aimed to (0, 1) (same speed);
    decoded (3, 4) at (1, 1) toward (4, 5): already aimed, unchanged; inside the target: zero."""
    out = reestimate_intention(decoded=[[1.0, 0.0], [3.0, 4.0], [0.5, 0.5]],
                               cursor=[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]],
                               target=[[0.0, 2.0], [4.0, 5.0], [2.0, 2.1]],
                               in_target=np.array([False, False, True]))
    np.testing.assert_allclose(out, [[0.0, 1.0], [3.0, 4.0], [0.0, 0.0]], atol=1e-15)


def test_rescale_speed_hand_case():
    """Intentions (3, 4), (0, 1) outside the target and (1, 1) inside: the RMS speed outside is
    sqrt((25 + 1) / 2) = sqrt(13); rescaled to 2 every vector is multiplied by 2 / sqrt(13) (directions and
    speed ratios kept, the hold bin included); all-zero speeds outside the target are left unchanged."""
    v = np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 1.0]])
    hold = np.array([False, False, True])
    out = rescale_speed(v, hold, 2.0)
    np.testing.assert_allclose(out, v * 2.0 / np.sqrt(13.0), rtol=1e-15)
    assert np.sqrt(np.mean(np.sum(out[~hold] ** 2, axis=1))) == pytest.approx(2.0, rel=1e-15)
    still = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(rescale_speed(still, hold, 2.0), still)
    with pytest.raises(ValueError, match="speed"):
        rescale_speed(v, hold, 0.0)
    with pytest.raises(ValueError, match="in_target"):
        rescale_speed(v, hold[:2], 1.0)


def _angle_error(a, b):
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1))).mean()


def test_refit_repairs_a_decoder_trained_on_misaligned_labels():
    """A filter fitted on labels 10 bins ahead of the activity (an open-loop calibration whose user
    lags the cursor) decodes directions poorly; refitting on its own decoded speeds re-aimed along
    the true intention (targets lie straight ahead of it) brings the direction error down."""
    X, v, *_ = _linear_gaussian(3000, 10, 6)
    kf = ReFITKalmanFilter().fit(X[:-10], v[10:])
    decoded = kf.predict(X)
    moving = np.linalg.norm(v, axis=1) > 0.2
    before = _angle_error(decoded[moving], v[moving])
    cursor = np.zeros_like(v)
    target = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    kf.refit(X, decoded, cursor, target, np.zeros(len(v), dtype=bool))
    after = _angle_error(kf.predict(X)[moving], v[moving])
    assert before > 15 and after < 0.5 * before, (before, after)  # measured: 19 deg -> 6 deg


def test_wiener_recovers_a_lagged_linear_map():
    rng = np.random.default_rng(7)
    X = rng.poisson(3.0, size=(400, 6)).astype(float)
    W0, W1 = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    y = X @ W0 + np.vstack([X.mean(0)[None], X[:-1]]) @ W1 + 0.3
    wf = WienerFilter(n_lags=2, alpha=0.0).fit(X, y)
    np.testing.assert_allclose(wf.predict(X), y, atol=1e-8)


@pytest.mark.parametrize("cls", [KalmanFilter, SteadyStateKalmanFilter, ReFITKalmanFilter, WienerFilter])
def test_decoders_refuse_bad_input_before_work(cls):
    X, v, *_ = _linear_gaussian(50, 4, 8)
    with pytest.raises(NotFittedError, match="call fit"):
        cls().step(X[0])
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"X \(spike counts\) must hold finite.*index \(3, 2\)"):
        cls().fit(bad, v)
    with pytest.raises(ValueError, match=r"y \(velocity\) must have one row per bin \(50 bins\), got 49"):
        cls().fit(X, v[:-1])
    with pytest.raises(ValueError, match=r"y \(velocity\) must be a \(n_bins, 2\) array"):
        cls().fit(X, v[:, :1])
    vb = v.copy()
    vb[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"y \(velocity\) must be finite"):
        cls().fit(X, vb)
    with pytest.raises(ValueError, match=r"counts >= 0"):
        cls().fit(-X, v)
    dec = cls().fit(X, v)
    with pytest.raises(ValueError, match=r"shape \(4,\), got shape \(3,\)"):
        dec.step(X[0, :3])
    with pytest.raises(ValueError, match="must have 4 columns"):
        dec.predict(X[:, :3])
