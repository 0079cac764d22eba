"""The model-based estimate as stages of the hybrid tracking pipeline (memr_snn.pipeline.fitstages) and the spiking
stage's measured response (tracking.relay_curve, tracking.DecodeStage)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from memr_snn.pipeline.estimators import OffsetPredictor, SpotTemplate, TemplateFitEstimator

pytest.importorskip("gymnasium", reason="the control extra is not installed (pip install 'memr_snn[control]')")

from memr_snn.pipeline.envs import TrackingParams  # noqa: E402
from memr_snn.pipeline.fitstages import FIT_SETTINGS, FitTracker, anchor_model, anchor_weights  # noqa: E402
from memr_snn.pipeline.tracking import (  # noqa: E402
    RELAY_DRIVES,
    DecodeStage,
    HybridConfig,
    _controller_network,
    hybrid_pipeline,
    relay_curve,
)

SMALL = {"width": 8, "height": 8, "sigma": 1.2, "max_steps": 40}


def _pipe(seed=0, env=SMALL, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hybrid_pipeline(HybridConfig(n_per=4, aimc_device=None, **kw), seed=seed, env_params=env)


def test_the_fit_stage_is_the_estimator_run_by_hand_on_the_same_events():
    """Ideal tiles: the pipeline's estimate equals TemplateFitEstimator + OffsetPredictor run by hand on the events
    the eye emitted and the commands the motor gave, with the chord product M (R - L(d_pred)) as the fit's start."""
    pipe = _pipe(seed=2, anchor=False)
    p = TrackingParams(**SMALL)
    est = TemplateFitEstimator(SpotTemplate.from_tracking(p), **FIT_SETTINGS)
    pred = OffsetPredictor.from_tracking(p, beta=0.8)
    u, n_events = np.zeros(2), 0.0
    for _ in range(30):
        pipe.run(10)  # one control step: eye at 0, reference and chord at 1, fit at 2, motor at 5
        events = pipe.output("eye")
        n_events += events.sum()
        d_pred = pred.predict(u)
        est.integrate(events[0], events[1])
        c = est.matrix @ est.residual(d_pred)
        if np.hypot(*c) > est.params.max_step:
            c = c * est.params.max_step / np.hypot(*c)
        d = est.finish(prediction=d_pred, start=d_pred + c)
        pred.correct(d)
        expect = d + 0.5 * p.dt * pred.relative_velocity()
        tracker = pipe.stage("estimate").tracker
        np.testing.assert_allclose(tracker.output, expect, rtol=0, atol=1e-9)
        np.testing.assert_allclose(pipe.output("features"), c, rtol=0, atol=1e-12)
        drive = np.clip(expect / 4.0, -1, 1)
        np.testing.assert_allclose(pipe.output("estimate"),
                                   np.repeat([max(drive[0], 0), max(-drive[0], 0), max(drive[1], 0),
                                              max(-drive[1], 0)], 4), atol=1e-9)
        u = pipe.output("motor")
    assert n_events > 50 and np.any(tracker.output != 0)


def test_a_pipeline_with_the_fit_stage_resumes_bit_for_bit(tmp_path):
    a = _pipe(seed=5)
    a.run(230)
    a.save(tmp_path / "ckpt.npz")
    b = _pipe(seed=5)
    b.load(tmp_path / "ckpt.npz")
    for p in (a, b):
        p.run(150)
    assert a.stage("eye").records["error"] == b.stage("eye").records["error"]
    for st in a.stages:
        assert np.array_equal(a.output(st.name), b.output(st.name)), st.name
    ta, tb = a.stage("estimate").tracker.get_state(), b.stage("estimate").tracker.get_state()
    for k in ("reference", "theta", "counts", "estimate"):
        assert np.array_equal(ta["estimator"][k], tb["estimator"][k]), k


def test_a_new_episode_of_the_plant_restarts_the_tracker():
    """max_steps 40: the plant's 40th firing ends the episode and outputs the next episode's first observation;
    the tracker starts again there, so its event counts are those of firings 40 .. 45 only."""
    pipe = _pipe(seed=1)
    events = []
    for _ in range(45):
        pipe.run(10)
        events.append(pipe.output("eye").sum())
    ref = pipe.stage("reference")
    assert pipe.stage("eye").counters()["episodes"] == 1 and ref._episode == 1
    assert sum(events[:39]) > 0
    assert ref.tracker.estimator.counts.sum() == sum(events[39:])


def test_the_decoder_inverts_the_measured_response():
    """A channel answering rate = 1000 drive^0.9 [Hz per neuron] (a made-up concave curve): counts made from the
    curve decode to the drives that made them."""
    drives = np.array(RELAY_DRIVES)
    rates = np.tile(1000.0 * drives**0.9, (4, 1))
    dec = DecodeStage("decode", "counts", n_per=5, window=3e-3, drives=drives, rates=rates, full_scale=4.0,
                      period=1e-2)
    for dx, dy in ((0.3, -0.1), (-0.05, 0.8), (0.0, 0.0)):
        n = lambda u: 1000.0 * u**0.9 * 5 * 3e-3  # noqa: E731 - the channel's count at drive u
        c = np.zeros(20)
        c[0 if dx > 0 else 5] = n(abs(dx))
        c[10 if dy > 0 else 15] = n(abs(dy))
        got = dec.step({"counts": c})
        exact = np.array([dx, dy]) * 4.0
        assert np.allclose(got, exact, atol=0.02 * 4.0)  # linear interpolation between the curve's points
    with pytest.raises(ValueError, match="rates must have shape"):
        DecodeStage("d", "counts", n_per=5, window=3e-3, drives=drives, rates=rates[:, 1:], full_scale=4.0,
                    period=1e-2)


def test_the_relay_response_is_the_integrate_and_fire_rate():
    """Float synapses: each channel's measured rate is the mean over its input neurons of the integrate-and-fire
    rate 1 / (k_i dt), k_i = ceil(-tau ln(1 - theta_i / (I R)) / dt) steps to the threshold theta_i from the
    reset at 0 (membrane v -> I R with time constant tau; the charge above the threshold is lost)."""
    cfg = HybridConfig(n_per=16, snn_device=None)
    rates = relay_curve(cfg, 0, drives=(0.05, 0.2, 0.6), duration=0.2)
    net, gain = _controller_network(cfg, 0, cfg.snn_dt)
    theta = np.broadcast_to(np.asarray(net.populations[0].neuron.v_threshold, dtype=np.float64), (4 * cfg.n_per,))
    assert theta.std() > 0  # spread thresholds
    tau, c_mem, dt = 1.0, 1e-12, cfg.snn_dt
    for j, x in enumerate((0.05, 0.2, 0.6)):
        vinf = gain * x * tau / c_mem
        k = np.ceil(-tau * np.log(1.0 - theta / vinf) / dt - 1e-9)
        expect = (1.0 / (k * dt)).reshape(4, cfg.n_per).mean(axis=1)
        np.testing.assert_allclose(rates[:, j], expect, rtol=0.03)
        assert math.isclose(rates[0, j], rates[1, j], rel_tol=0.03)


def test_update_is_integrate_then_finish_and_the_start_defaults_to_the_prediction():
    from memr_snn.pipeline.envs import TrackingScene

    sc = TrackingScene()
    sc.reset(4)
    obs = [sc.step([40.0, -15.0])[0] for _ in range(8)]
    tpl = SpotTemplate.from_tracking(sc.params)
    a, b, c = (TemplateFitEstimator(tpl, **FIT_SETTINGS) for _ in range(3))
    for k, o in enumerate(obs):
        pred = np.array([0.1 * k, -0.05 * k])
        da = a.update(o[0], o[1], prediction=pred)
        b.integrate(o[0], o[1])
        db = b.finish(prediction=pred)
        c.integrate(o[0], o[1])
        dc = c.finish(prediction=pred, start=pred)
        np.testing.assert_array_equal(da, db)
        np.testing.assert_array_equal(da, dc)
    with pytest.raises(ValueError, match="must be finite"):
        a.fit(np.zeros(2), start=[np.nan, 0.0])


def test_the_second_baseline_is_the_true_offset_through_the_predictor_and_lead():
    from memr_snn.pipeline.tracking import pid_pipeline

    pipe = pid_pipeline(HybridConfig(), seed=3, env_params=SMALL, lead=True)
    p = TrackingParams(**SMALL)
    pred = OffsetPredictor.from_tracking(p, beta=0.8)
    u = np.zeros(2)
    for _ in range(20):
        pipe.run(10)
        scene = pipe.stage("eye").env.unwrapped.scene
        d = scene.target - scene.eye
        pred.predict(u)
        pred.correct(d)
        np.testing.assert_allclose(pipe.output("truth"), d + 0.5 * p.dt * pred.relative_velocity(), atol=1e-12)
        u = pipe.output("motor")
    assert np.any(pred.relative_velocity() != 0)


def test_the_anchor_moments_by_hand():
    """anchor_weights: (N, S_x, S_y) of the events within the radius, ON and OFF alike; on ideal tiles the AIMC
    model computes the same product."""
    tpl = SpotTemplate(width=8, height=8, sigma=1.2)
    ev = np.zeros((2, 8, 8))
    ev[0, 3, 4] = 2.0  # x = 0.5, y = -0.5
    ev[1, 4, 1] = 1.0  # x = -2.5, y = 0.5
    ev[0, 0, 0] = 5.0  # x = y = -3.5: 4.95 pixels from the centre, outside a radius of 3
    w = anchor_weights(tpl, 3.0)
    assert w.shape == (3, 128)
    np.testing.assert_allclose(w @ ev.ravel(), [3.0, 2 * 0.5 - 2.5, 2 * -0.5 + 0.5], atol=1e-12)
    np.testing.assert_allclose(anchor_weights(tpl, 6.0) @ ev.ravel(), [8.0, 1 - 2.5 - 17.5, -1 + 0.5 - 17.5])
    model = anchor_model(tpl, 3.0, device=None)
    np.testing.assert_allclose(model.forward(ev.reshape(1, -1))[0], w @ ev.ravel(), atol=1e-9)
    with pytest.raises(ValueError, match="radius"):
        anchor_weights(tpl, -1.0)


@pytest.mark.parametrize("mode", ["offset", "state"])
def test_the_tracker_anchor_is_a_kalman_step_on_the_bias(mode):
    p = TrackingParams(**SMALL)
    tr = FitTracker(p, anchor_window=4, anchor_q=0.3, anchor_sigma=2.0, anchor_mode=mode)
    assert np.array_equal(tr.anchor([10.0, 1.0, 1.0]), np.zeros(2))  # nothing fitted yet: no correction
    tr.reset()
    tr.steps, tr.history = 6, np.array([[0.1, 0.0], [0.3, -0.2], [0.5, 0.2], [0.3, 0.0]])
    d = np.array([0.4, 0.1])
    tr.estimator.estimate = d.copy()
    tr.predictor.position = np.array([1.0, 2.0])
    tr.bias = np.array([0.05, -0.1]) if mode == "offset" else np.zeros(2)
    bias = tr.bias.copy()
    ref = tr.estimator.reference.copy()
    delta = tr.anchor([20.0, 20.0 * 0.8, 20.0 * -0.5])
    var = 0.3**2 * 4 * p.dt
    g = var / (var + 2.0**2 / 20.0)
    np.testing.assert_allclose(delta, g * (np.array([0.8, -0.5]) - [0.3, 0.0] - bias), atol=1e-15)
    assert tr.variance == pytest.approx(var * (1 - g))
    if mode == "offset":  # the fit's state is left alone; the output carries the bias
        np.testing.assert_allclose(tr.bias, bias + delta, atol=1e-15)
        assert np.array_equal(tr.estimator.estimate, d) and np.array_equal(tr.estimator.reference, ref)
        assert np.array_equal(tr.predictor.position, [1.0, 2.0])
    else:
        np.testing.assert_allclose(tr.estimator.estimate, d + delta, atol=1e-15)
        np.testing.assert_allclose(tr.predictor.position, [1.0, 2.0] + delta, atol=1e-15)
        tpl = tr.template
        np.testing.assert_allclose(tr.estimator.reference, ref + tpl.render(d + delta) - tpl.render(d), atol=1e-12)
    assert np.array_equal(tr.anchor([0.5, 0.0, 0.0]), np.zeros(2))  # under one event: no correction
    with pytest.raises(ValueError, match="anchor_window"):
        FitTracker(p, anchor_window=0)
    with pytest.raises(ValueError, match="anchor_q"):
        FitTracker(p, anchor_q=-0.1)
    with pytest.raises(ValueError, match="anchor_mode"):
        FitTracker(p, anchor_mode="both")


@pytest.mark.parametrize("mode", ["offset", "state"])
def test_the_anchor_stages_see_the_window_of_the_steps_the_tracker_fitted(mode):
    """The schedule: the window sums the eye's last K outputs; the anchor fires once per K control steps after the
    K-th step's events are visible; the fuse fires after that step's fit and corrects by the Kalman step on the
    mean mid-step estimate of the same K steps (ideal tiles, run by hand)."""
    K, q, s = 3, 0.5, 2.5
    pipe = _pipe(seed=2, anchor_window=K, anchor_q=q, anchor_sigma=s, anchor_mode=mode)
    table = pipe.schedule.table(70)
    fired = {n: [r["step"] for r in table if r["stage"] == n] for n in ("anchor", "fuse")}
    assert fired == {"anchor": [21, 51], "fuse": [23, 53]}
    tr = pipe.stage("reference").tracker
    w = anchor_weights(tr.template, 6.0)
    events, mids, prev, var, deltas, bias = [], [], np.zeros(2), 0.0, [], np.zeros(2)
    for i in range(12):
        pipe.run(3)  # the control step's eye (0 ms), reference and tiles (1 ms), fit (2 ms)
        d = tr.estimator.estimate.copy()
        lead = 0.5 * 0.01 * tr.predictor.relative_velocity()
        np.testing.assert_allclose(tr.output, d + bias + lead, atol=1e-12)  # offset: the bias is in the output
        events.append(pipe.output("eye").ravel())
        mids.append(0.5 * (prev + d))
        pipe.run(7)
        if i % K == K - 1:
            m = w @ np.sum(events[-K:], axis=0)
            np.testing.assert_allclose(pipe.output("anchor"), m, rtol=1e-9, atol=1e-9)
            var += q * q * K * 0.01
            g = var / (var + s * s / m[0])
            var *= 1 - g
            delta = g * (m[1:] / m[0] - np.mean(mids[-K:], axis=0) - bias)
            np.testing.assert_allclose(pipe.output("fuse"), delta, atol=1e-9)
            if mode == "offset":
                bias = bias + delta
                np.testing.assert_allclose(tr.bias, bias, atol=1e-12)
                assert np.array_equal(tr.estimator.estimate, d)
            else:
                np.testing.assert_allclose(tr.estimator.estimate, d + delta, atol=1e-12)
                mids = [x + delta for x in mids]
                d = d + delta
            deltas.append(delta)
        else:
            assert np.array_equal(tr.estimator.estimate, d)
        prev = d
    assert len(deltas) == 4 and np.all(np.abs(deltas) > 0)
