"""One loss, one initialisation and one pseudo-derivative for e-prop and BPTT (memr_snn.learning.snn, snn_loss).

References: the masked cross-entropy by hand (logits whose softmax is a simple fraction, so the value is a
sum of logarithms of known numbers) and by central finite differences; the initialisation by its
documented formula (draw order, unit, gains); the deprecated names against the new ones.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from memr_snn.learning import compare as C
from memr_snn.learning import eprop as E
from memr_snn.learning import snn
from memr_snn.learning import surrogate as S


# --------------------------------------------------------------------------- the loss
def test_masked_cross_entropy_by_hand():
    """Softmax of (0, ln 3) is (1/4, 3/4), of (ln 2, 0) is (2/3, 1/3), of (0, 0) is (1/2, 1/2)."""
    a, b, c = [0.0, math.log(3.0)], [math.log(2.0), 0.0], [0.0, 0.0]
    y = np.array([[a, b, c], [b, c, a]])  # (B=2, T=3, n_out=2), batch-major
    labels = np.array([[1, 0, 1], [1, 1, 0]])
    mask = np.array([[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]])
    p = {"a": (0.25, 0.75), "b": (2 / 3, 1 / 3), "c": (0.5, 0.5)}
    # -(1/B) sum m log p[label]: sample 0: 1*log(3/4) + 2*log(1/2); sample 1: 0.5*log(1/3) + 1*log(1/2)
    want = -(math.log(0.75) + 2 * math.log(0.5) + 0.5 * math.log(1 / 3) + math.log(0.5)) / 2
    value, grad = snn.masked_cross_entropy(y, labels, mask)
    assert value == pytest.approx(want, rel=1e-14)
    keys = [["a", "b", "c"], ["b", "c", "a"]]
    for bb in range(2):
        for t in range(3):
            onehot = np.eye(2)[labels[bb, t]]
            np.testing.assert_allclose(grad[bb, t], mask[bb, t] / 2 * (np.array(p[keys[bb][t]]) - onehot),
                                       rtol=1e-14, atol=1e-16)
    # one label per sequence is the same as that label at every step; no mask = weight 1 everywhere
    v1, g1 = snn.masked_cross_entropy(y, np.array([1, 0]))
    v2, g2 = snn.masked_cross_entropy(y, np.array([[1, 1, 1], [0, 0, 0]]), np.ones(3))
    assert v1 == v2
    np.testing.assert_array_equal(g1, g2)
    assert v1 == pytest.approx(-(math.log(0.75) + math.log(1 / 3) + math.log(0.5)
                                 + math.log(2 / 3) + math.log(0.5) + math.log(0.25)) / 2, rel=1e-14)


@pytest.mark.parametrize("mask_kind", ["none", "steps", "weights"])
@pytest.mark.parametrize("per_step_labels", [False, True])
def test_masked_cross_entropy_gradient_is_the_finite_difference(mask_kind, per_step_labels):
    rng = np.random.default_rng(4)
    B, T, K = 3, 6, 4
    y = 3.0 * rng.standard_normal((B, T, K))
    labels = rng.integers(0, K, (B, T) if per_step_labels else B)
    mask = {"none": None, "steps": np.arange(T) % 2 == 1,
            "weights": rng.random((B, T)) * (rng.random((B, T)) > 0.3)}[mask_kind]
    value, grad = snn.masked_cross_entropy(y, labels, mask)
    h = 1e-6
    fd = np.zeros_like(y)
    for idx in np.ndindex(y.shape):
        yp, ym = y.copy(), y.copy()
        yp[idx] += h
        ym[idx] -= h
        fd[idx] = (snn.masked_cross_entropy(yp, labels, mask)[0]
                   - snn.masked_cross_entropy(ym, labels, mask)[0]) / (2 * h)
    assert np.abs(fd).max() > 1e-2
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)  # central differences of a value ~10: ~1e-9
    if mask is not None:
        w = np.broadcast_to(np.asarray(mask, dtype=float), (B, T))
        assert np.all(grad[w == 0] == 0)


def test_masked_cross_entropy_is_stable_and_an_empty_mask_gives_zero():
    y = np.array([[[1000.0, 0.0], [-1000.0, 0.0]]])
    value, grad = snn.masked_cross_entropy(y, np.array([[1, 0]]))
    assert value == pytest.approx(2000.0, rel=1e-15)  # -log softmax = 1000 at both steps
    assert np.all(np.isfinite(grad))
    value, grad = snn.masked_cross_entropy(y, np.array([1]), np.zeros(2, dtype=bool))
    assert value == 0.0 and not grad.any()


@pytest.mark.parametrize("args, match", [
    ((np.zeros((2, 3)), [0, 1]), "y must have shape"),
    ((np.zeros((2, 3, 2)), [0, 2]), "labels must lie in"),
    ((np.zeros((2, 3, 2)), [0.5, 1.0]), "labels must be integer"),
    ((np.zeros((2, 3, 2)), [0, 1, 1]), "labels must have shape"),
    ((np.zeros((2, 3, 2)), [0, 1], np.ones(4)), "mask must have shape"),
    ((np.zeros((2, 3, 2)), [0, 1], -np.ones(3)), "mask"),
    ((np.full((2, 3, 2), np.nan), [0, 1]), "y"),
])
def test_masked_cross_entropy_names_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        snn.masked_cross_entropy(*args)


def test_decide_is_the_argmax_of_the_masked_sum():
    rng = np.random.default_rng(1)
    y = rng.standard_normal((5, 7, 3))
    mask = np.zeros(7, dtype=bool)
    mask[2:5] = True
    ref = np.array([np.argmax(sum(y[b, t] for t in range(2, 5))) for b in range(5)])
    np.testing.assert_array_equal(snn.decide(y, mask), ref)
    np.testing.assert_array_equal(snn.decide(y), y.sum(axis=1).argmax(axis=1))
    assert C.decide is snn.decide
    with pytest.raises(ValueError, match="mask must select"):
        snn.decide(y, np.zeros((5, 7)))


# --------------------------------------------------------------------------- e-prop and BPTT share it
def _task():
    cfg = snn.RSNNConfig(n_in=4, n_rec=6, n_out=3, beta=(0.0, 0.0, 0.0, 0.5, 0.5, 0.5), tau_adapt=0.1,
                         surrogate="triangle", slope=10.0)
    w = snn.init_weights(cfg, 2, scheme="bellec2020", in_gain=3.0, rec_gain=1.0)
    w.b_out[:] = [0.2, -0.1, 0.0]
    rng = np.random.default_rng(7)
    x = (rng.random((5, 30, 4)) < 0.2).astype(float)
    labels = rng.integers(0, 3, 5)
    mask = np.zeros(30, dtype=bool)
    mask[20:] = True
    return cfg, w, x, labels, mask


def test_eprop_and_bptt_give_the_same_loss_and_decision():
    cfg, w, x, labels, mask = _task()
    y = snn.simulate(cfg, w, x)["y"]
    assert y.std() > 0
    ref = snn.masked_cross_entropy(y, labels, mask)[0]
    learner = E.EProp(cfg, w, task="classification")
    bptt, _, _ = S.loss_and_grad(cfg, w, x, labels, "masked_ce", mask=mask)
    assert learner.loss(x, labels, mask) == ref
    assert bptt == ref
    pred = snn.decide(y, mask)
    np.testing.assert_array_equal(learner.predict(x, mask), pred)
    np.testing.assert_array_equal(S.predict(cfg, w, x, "masked_ce", mask=mask), pred)
    assert C.evaluate(cfg, w, x, labels, mask)["loss"] == ref


def test_eprop_learning_signal_is_the_loss_gradient():
    """The readout gradient e-prop accumulates (delta_k * zbar, exact) is the chain rule through dL/dy."""
    cfg, w, x, labels, mask = _task()
    cfg = dataclasses.replace(cfg, tau_out=0.0)  # y[t+1] = W_out z[t] + b: dL/dW_out = sum dL/dy z^T
    rec = snn.simulate(cfg, w, x)
    _, dy = snn.masked_cross_entropy(rec["y"], labels, mask)
    g = E.EProp(cfg, w, task="classification").gradients(x, labels, mask)
    np.testing.assert_allclose(g["w_out"], np.einsum("btk,btj->kj", dy, rec["z"]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g["b_out"], dy.sum(axis=(0, 1)), rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- one initialisation
@pytest.mark.parametrize("scheme, unit_is_vth, key, gains", [
    ("fan_in", False, 0x5EED, (1.0, 0.5, 1.0)), ("bellec2020", True, 0xE9, (1.0, 1.0, 1.0))])
@pytest.mark.parametrize("recurrent", [True, False])
def test_init_weights_follows_its_documented_formula(scheme, unit_is_vth, key, gains, recurrent):
    cfg = snn.RSNNConfig(n_in=5, n_rec=7, n_out=3, v_th=1.5, recurrent=recurrent)
    u = 1.5 if unit_is_vth else 1.0
    for kw, (gi, gr, go) in (({}, gains), ({"in_gain": 2.0, "rec_gain": 0.3, "out_gain": 0.7}, (2.0, 0.3, 0.7))):
        w = snn.init_weights(cfg, 11, scheme=scheme, **kw)
        rng = np.random.default_rng([11, key])
        np.testing.assert_allclose(w.w_in, rng.standard_normal((7, 5)) * gi * u / math.sqrt(5), rtol=1e-15)
        if recurrent:
            ref = rng.standard_normal((7, 7)) * gr * u / math.sqrt(7)
            np.fill_diagonal(ref, 0.0)
            np.testing.assert_allclose(w.w_rec, ref, rtol=1e-15)
        else:
            assert w.w_rec is None
        np.testing.assert_allclose(w.w_out, rng.standard_normal((3, 7)) * go / math.sqrt(7), rtol=1e-15)
        assert not w.b_out.any()
        w.validate(cfg)


def test_init_weights_has_the_stated_spread_and_checks_its_arguments():
    cfg = snn.RSNNConfig(n_in=100, n_rec=300, n_out=50, v_th=2.0)
    w = snn.init_weights(cfg, 0, scheme="bellec2020", in_gain=0.5)
    assert w.w_in.std() == pytest.approx(0.5 * 2.0 / 10.0, rel=0.02)
    assert w.w_out.std() == pytest.approx(1.0 / math.sqrt(300), rel=0.02)
    with pytest.raises(ValueError, match="scheme"):
        snn.init_weights(cfg, 0, scheme="glorot")
    with pytest.raises(ValueError, match="rec_gain"):
        snn.init_weights(cfg, 0, rec_gain=-1.0)
    with pytest.raises(ValueError, match="seed"):
        snn.init_weights(cfg, -1)


# --------------------------------------------------------------------------- deprecated names
def test_old_init_weights_warn_and_give_the_same_weights():
    cfg = snn.RSNNConfig(n_in=4, n_rec=5, n_out=2, v_th=1.3)
    with pytest.warns(DeprecationWarning, match="snn.init_weights"):
        old = E.init_weights(cfg, 3, w_in_scale=2.0, w_rec_scale=0.7, w_out_scale=1.2)
    new = snn.init_weights(cfg, 3, scheme="bellec2020", in_gain=2.0, rec_gain=0.7, out_gain=1.2)
    with pytest.warns(DeprecationWarning, match="snn.init_weights"):
        old_s = S.init_weights(cfg, 3, in_gain=2.0, rec_gain=0.1)
    new_s = snn.init_weights(cfg, 3, in_gain=2.0, rec_gain=0.1)
    for a, b in ((old, new), (old_s, new_s)):
        for name in ("w_in", "w_rec", "w_out", "b_out"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    # e-prop's old function drew w_rec also for a feed-forward config, and named its own arguments
    ff = dataclasses.replace(cfg, recurrent=False)
    with pytest.warns(DeprecationWarning):
        old_ff = E.init_weights(ff, 3)
    np.testing.assert_array_equal(old_ff.w_out, snn.init_weights(cfg, 3, scheme="bellec2020").w_out)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="w_rec_scale"):
        E.init_weights(cfg, 0, w_rec_scale=-1.0)


def test_old_pseudo_derivative_warns_and_gives_the_same_values():
    cfg = snn.RSNNConfig(n_in=1, n_rec=3, n_out=1, surrogate="triangle", v_th=0.8)
    v = np.array([[0.1, 0.7, 1.2]])
    thr = np.array([[0.8, 0.9, 0.8]])
    with pytest.warns(DeprecationWarning, match="snn.pseudo_derivative"):
        old = E.pseudo_derivative(cfg, v, thr)
    np.testing.assert_array_equal(old, snn.pseudo_derivative(cfg, v - thr))


def test_converters_say_there_is_nothing_to_convert():
    cfg = snn.RSNNConfig(n_in=2, n_rec=3, n_out=2)
    with pytest.warns(DeprecationWarning, match="nothing to convert"):
        assert C.eprop_config_to_surrogate(cfg) is cfg
    with pytest.warns(DeprecationWarning, match="nothing to convert"):
        assert C.surrogate_config_to_eprop(cfg=cfg, reset_grad=True).reset_grad
    with pytest.raises(AttributeError):
        C.no_such_converter  # noqa: B018


def test_the_current_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        setup = C.build_comparison(0, n_train=4, n_test=4, task_kwargs={"delay_steps": 5})
        learner = E.EProp(setup.cfg, task="classification")
        learner.train(setup.x_tr, setup.y_tr, setup.mask, batch_size=4)
        learner.predict(setup.x_te, setup.mask)
        S.train(setup.cfg, setup.w0.copy(), setup.x_tr, setup.y_tr, "masked_ce", epochs=1, mask=setup.mask)
