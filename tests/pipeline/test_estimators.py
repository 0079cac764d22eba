"""The model-based offset estimate of the tracking task (memr_snn.pipeline.estimators)."""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn.pipeline.envs import TrackingScene
from memr_snn.pipeline.estimators import OffsetPredictor, SpotTemplate, TemplateFitEstimator, TemplateFitParams

QUIET = {"speed_std": 0.0, "threshold_mismatch": 0.0, "noise_rate": 0.0}
INTERVAL = {"interval": True, "iterations": 5, "prior": 0.03}


def test_the_template_is_the_scenes_rendering():
    sc = TrackingScene(width=12, height=10, sigma=1.5, contrast=2.0, background=0.3)
    tpl = SpotTemplate.from_tracking(sc.params)
    for d in ([0.0, 0.0], [0.37, -1.2], [-3.0, 2.5]):
        np.testing.assert_allclose(tpl.render(d), sc._render(np.array(d)), rtol=0, atol=1e-13)


def test_the_jacobian_is_the_derivative_of_the_rendering():
    tpl = SpotTemplate(width=9, height=7)
    d, h = np.array([0.3, -0.7]), 1e-6
    _, jac = tpl.render_jacobian(d)
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        np.testing.assert_allclose(jac[:, k], (tpl.render(d + e) - tpl.render(d - e)) / (2 * h), atol=1e-8)


def test_the_chord_matrix_is_the_least_squares_solution_around_the_centre():
    tpl = SpotTemplate(width=10, height=10)
    _, j0 = tpl.render_jacobian(np.zeros(2))
    dl = np.random.default_rng(0).normal(size=100)
    np.testing.assert_allclose(tpl.chord_matrix() @ dl, np.linalg.lstsq(j0, dl, rcond=None)[0], atol=1e-12)


def _move_eye(u, kw, steps=12):
    """A still target; the eye driven by ``u`` for two steps, then at rest; returns (estimator, offset)."""
    sc = TrackingScene(**QUIET)
    sc.reset(0)
    est = TemplateFitEstimator(SpotTemplate.from_tracking(sc.params), **kw)
    for k in range(steps):
        obs, *_, info = sc.step(u if k < 2 else [0.0, 0.0])
        est.update(obs[0], obs[1])
    return est, info["offset"]


@pytest.mark.parametrize("u", [[40.0, -25.0], [-60.0, 30.0]])
def test_a_spot_at_a_known_sub_pixel_offset_is_found_from_the_events(u):
    """Ideal pixels: the interval fit lands within 0.05 px of the true offset (0.8 .. 1.2 px); the level fit is
    biased by the quantisation (the references trail the intensity by up to a threshold) but within 0.3 px."""
    est, offset = _move_eye(u, INTERVAL)
    assert 0.8 < np.hypot(*offset) < 1.2
    assert np.hypot(*(est.estimate - offset)) < 0.05
    est, offset = _move_eye(u, {})
    assert np.hypot(*(est.estimate - offset)) < 0.3
    est, offset = _move_eye(u, {**INTERVAL, "posterior": 0.03})
    assert np.hypot(*(est.estimate - offset)) < 0.05


@pytest.mark.parametrize("kw", [INTERVAL, {}, {"mode": "chord"}])
def test_without_events_the_estimate_holds(kw):
    est, _ = _move_eye([40.0, -25.0], kw)
    before = est.estimate.copy()
    zeros = np.zeros(est.n_pixels)
    for _ in range(5):
        est.update(zeros, zeros)
    np.testing.assert_allclose(est.estimate, before, atol=1e-6)


def test_a_motion_below_the_threshold_makes_no_events_and_the_estimate_stays_centred():
    """The absence of events is information: an offset of 0.2 px changes no pixel by a threshold."""
    est, offset = _move_eye([10.0, 5.0], INTERVAL)
    assert est.counts.sum() == 0 and 0.1 < np.hypot(*offset) < 0.3
    np.testing.assert_array_equal(est.estimate, [0.0, 0.0])


def test_the_linear_mode_is_the_chord_matrix_times_the_change_of_the_reference_image():
    est = TemplateFitEstimator(SpotTemplate(), mode="linear")
    rng = np.random.default_rng(1)
    on, off = rng.poisson(0.2, est.n_pixels), rng.poisson(0.2, est.n_pixels)
    d = est.update(on, off)
    expect = est.matrix @ (0.2 * (on - off).astype(float))
    np.testing.assert_allclose(d, expect, atol=1e-12)


def test_calibration_learns_the_pixels_thresholds():
    """Mismatched thresholds (0.04 ln units), the eye driven by the true offset: for the pixels that fired
    most, the learnt thresholds are closer to the scene's than the nominal one is."""
    sc = TrackingScene(threshold_mismatch=0.04, noise_rate=0.0)
    sc.reset(3)
    est = TemplateFitEstimator(SpotTemplate.from_tracking(sc.params), **INTERVAL, calibration=1000.0)
    u = np.zeros(2)
    for _ in range(300):
        obs, *_, info = sc.step(u)
        est.update(obs[0], obs[1])
        u = 250.0 * info["offset"]
    busy = est.counts.min(axis=0) >= 20
    assert busy.sum() >= 30
    learnt = np.sqrt(np.mean((est.theta[:, busy] - sc.theta[:, busy]) ** 2))
    nominal = np.sqrt(np.mean((sc.params.threshold - sc.theta[:, busy]) ** 2))
    assert learnt < 0.6 * nominal


def test_the_state_round_trips():
    sc = TrackingScene()
    sc.reset(5)
    kw = {**INTERVAL, "calibration": 1000.0, "posterior": 0.03}
    a = TemplateFitEstimator(SpotTemplate.from_tracking(sc.params), **kw)
    obs_list = [sc.step([30.0, -10.0])[0] for _ in range(20)]
    for obs in obs_list[:10]:
        a.update(obs[0], obs[1])
    b = TemplateFitEstimator(SpotTemplate.from_tracking(sc.params), **kw)
    b.set_state(a.get_state())
    for obs in obs_list[10:]:
        np.testing.assert_array_equal(a.update(obs[0], obs[1]), b.update(obs[0], obs[1]))


def test_the_predictor_follows_the_eye_and_a_steady_target():
    sc = TrackingScene(**QUIET)
    sc.reset(0)
    sc.vel = np.array([30.0, -20.0])
    sc.params = sc.params.__class__(**{**sc.params.__dict__, "tau_v": 1e9})  # a target at constant velocity
    pred = OffsetPredictor.from_tracking(sc.params, alpha=1.0, beta=0.5)
    rng = np.random.default_rng(2)
    for _ in range(60):
        u = rng.uniform(-400, 400, 2)  # beyond u_max: both clip
        predicted = pred.predict(u)
        *_, info = sc.step(u)
        pred.correct(info["offset"])
    np.testing.assert_allclose(pred.eye, sc.eye, atol=1e-9)
    np.testing.assert_allclose(pred.velocity, [30.0, -20.0], atol=1e-3)
    np.testing.assert_allclose(predicted, info["offset"], atol=1e-4)


@pytest.mark.parametrize("field, value", [("mode", "newton"), ("iterations", 0), ("clip", 1), ("prior", -1.0),
                                          ("robust_scale", 0.0), ("calibration", -5.0), ("grid_step", 1.0),
                                          ("max_step", float("nan"))])
def test_bad_settings_are_refused_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        TemplateFitParams(**{field: value})


def test_bad_combinations_and_inputs_are_refused():
    with pytest.raises(ValueError, match="interval"):
        TemplateFitParams(mode="chord", interval=True)
    with pytest.raises(ValueError, match="posterior"):
        TemplateFitParams(posterior=0.03)
    with pytest.raises(ValueError, match="width"):
        SpotTemplate(width=2)
    with pytest.raises(ValueError, match="beta"):
        OffsetPredictor(0.01, 0.05, 300.0, beta=2.0)
    est = TemplateFitEstimator(SpotTemplate())
    with pytest.raises(ValueError, match="1024 pixels"):
        est.update(np.zeros(10), np.zeros(10))
    with pytest.raises(ValueError, match=">= 0"):
        est.update(-np.ones(1024), np.zeros(1024))
