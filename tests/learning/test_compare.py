"""e-prop vs BPTT: one network for both, where the two gradients must agree, the comparison runs.

The key correctness check is the forward equivalence: e-prop's online step-by-step pass and the
shared batch forward give the same readout (up to rounding) on the task's input.  Where
e-prop is exact (no recurrent weights, smooth spike, reset derivative kept; the readout rule
always) its gradient must equal the BPTT gradient of the same masked cross-entropy.
"""

from __future__ import annotations

import dataclasses
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from memr_snn.learning import compare as C
from memr_snn.learning import eprop as E
from memr_snn.learning import snn
from memr_snn.learning import surrogate as S


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300))


@pytest.mark.parametrize("surrogate", ["triangle", "fast_sigmoid"])
def test_one_network_for_both_trainers(surrogate):
    """One config and one weight set: e-prop's online pass and the shared batch forward agree on the task."""
    setup = C.build_comparison(3, n_train=24, n_test=8, surrogate=surrogate, w_in_scale=3.0, w_rec_scale=1.0)
    cfg = setup.cfg
    assert isinstance(cfg, snn.RSNNConfig) and cfg.surrogate == surrogate and cfg.slope == 10.0
    w = setup.w0.copy()
    w.b_out[:] = [0.3, -0.2]
    st = S.forward(cfg, w, setup.x_tr)
    rec = E.simulate(cfg, w, setup.x_tr)
    z = st.z.transpose(1, 0, 2)
    assert 0.001 < z.mean() < 0.2 and z[:, :, cfg.n_rec // 2:].sum() > 0  # spikes, ALIF neurons among them
    np.testing.assert_array_equal(z, rec["z"])
    learner = E.EProp(cfg, w, task="classification")
    y_online = learner.run(setup.x_tr, learn=False)  # e-prop's own step-by-step forward
    np.testing.assert_allclose(y_online, rec["y"], rtol=1e-12, atol=1e-12)
    # the same decision rule: e-prop's predict, surrogate.predict("masked_ce"), compare.decide
    pred = C.decide(rec["y"], setup.mask)
    np.testing.assert_array_equal(pred, learner.predict(setup.x_tr, setup.mask))
    np.testing.assert_array_equal(pred, S.predict(cfg, w, setup.x_tr, "masked_ce", mask=setup.mask))
    # and the same loss
    value, _ = S.compute_loss(cfg, st.y, setup.y_tr, "masked_ce", setup.mask)
    assert value == pytest.approx(learner.loss(setup.x_tr, setup.y_tr, setup.mask), rel=1e-12)


def test_online_pass_equals_batch_forward_in_smooth_mode():
    cfg = snn.RSNNConfig(n_in=3, n_rec=5, n_out=2, beta=(0.0, 0.4, 0.0, 1.0, 0.2), spike="sigmoid",
                         surrogate="sigmoid", slope=3.0, sigmoid_k=3.0, reset_grad=True)
    w = E.init_weights(cfg, 0, w_in_scale=2.0)
    x = np.random.default_rng(0).random((2, 15, 3))
    rec = E.simulate(cfg, w, x)
    y_online = E.EProp(cfg, w).run(x, learn=False)
    np.testing.assert_allclose(y_online, rec["y"], rtol=1e-10, atol=1e-13)


def test_deprecated_converters_warn_and_return_the_shared_objects():
    """The former converters (the two trainers now share RSNNConfig and Weights) are deprecated shims."""
    cfg = snn.RSNNConfig(n_in=4, n_rec=3, n_out=2, beta=(0.0, 0.5, 0.1), tau_out=0.0, surrogate="fast_sigmoid",
                         slope=7.0, gamma=0.5, v_th=1.5, dt=2e-3)
    with pytest.warns(DeprecationWarning, match="snn.RSNNConfig"):
        assert C.eprop_config_to_surrogate(cfg) is cfg
    with pytest.warns(DeprecationWarning, match="snn.RSNNConfig"):
        assert C.surrogate_config_to_eprop(cfg, reset_grad=True) == dataclasses.replace(cfg, reset_grad=True)
    w = E.init_weights(cfg, 1)
    for conv in (C.eprop_weights_to_surrogate, C.surrogate_weights_to_eprop):
        with pytest.warns(DeprecationWarning, match="Weights"):
            back = conv(w)
        for name, arr in w.as_dict().items():
            np.testing.assert_array_equal(getattr(back, name), arr)
            assert getattr(back, name) is not arr  # copies
    ff = snn.RSNNConfig(n_in=4, n_rec=3, n_out=2, recurrent=False)
    with pytest.warns(DeprecationWarning):
        w_ff = C.surrogate_weights_to_eprop(S.init_weights(ff, 0))
        w_ff.validate(C.surrogate_config_to_eprop(ff))
    assert np.all(w_ff.w_rec == 0)
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="cfg"):
        C.eprop_config_to_surrogate(object())
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="w"):
        C.eprop_weights_to_surrogate(object())
    setup = C.build_comparison(0, n_train=4, n_test=4, task_kwargs={"delay_steps": 5})
    with pytest.warns(DeprecationWarning, match="scfg"):
        assert setup.scfg is setup.cfg


@pytest.mark.parametrize("tau_out", [0.0, 20e-3])
def test_eprop_gradient_equals_bptt_where_eprop_is_exact(tau_out):
    """No recurrent weights, smooth spike, reset derivative kept: e-prop's masked-CE gradient is BPTT's."""
    cfg = snn.RSNNConfig(n_in=3, n_rec=4, n_out=2, beta=(0.0, 0.6, 0.0, 1.2), tau_out=tau_out, spike="sigmoid",
                         sigmoid_k=3.0, surrogate="sigmoid", slope=3.0, reset_grad=True, tau_mem=5e-3)
    w = E.init_weights(cfg, 1, w_in_scale=3.0)
    w.w_rec[...] = 0.0
    rng = np.random.default_rng(0)
    x = rng.random((3, 14, 3))
    lab = np.array([0, 1, 1])
    mask = np.zeros(14, dtype=bool)
    mask[8:12] = True
    g_e = E.EProp(cfg, w, task="classification").gradients(x, lab, mask)
    _, g_b, _ = S.loss_and_grad(cfg, w, x, lab, "masked_ce", mask=mask)
    for name in ("w_in", "w_rec", "w_out", "b_out"):
        assert np.linalg.norm(g_b[name]) > 1e-6, name
        assert _rel(g_e[name], g_b[name]) <= 1e-9, (name, _rel(g_e[name], g_b[name]))


def test_readout_gradient_equal_and_recurrent_gradient_approximate():
    """With recurrence (Heaviside, the task's network) the readout rule is still exact; the rest is an estimate."""
    setup = C.build_comparison(0, n_train=32, n_test=8, w_in_scale=3.0, w_rec_scale=1.0)
    g_e = E.EProp(setup.cfg, setup.w0, task="classification").gradients(setup.x_tr, setup.y_tr, setup.mask)
    _, g_b, _ = S.loss_and_grad(setup.cfg, setup.w0, setup.x_tr, setup.y_tr, "masked_ce", mask=setup.mask)
    for name in ("w_out", "b_out"):
        assert _rel(g_e[name], g_b[name]) <= 1e-10
    a, b = g_e["w_in"].ravel(), g_b["w_in"].ravel()
    assert 0.0 < a @ b / np.linalg.norm(a) / np.linalg.norm(b) < 1.0 - 1e-6


def test_small_comparison_both_learn():
    """50 ms delay, 256 trials x 3 epochs: both well above chance 0.54 (measured e-prop 0.867, BPTT 0.961)."""
    res = C.eprop_vs_bptt(0, n_rec=32, n_train=256, n_test=128, epochs=3, lr=1e-2, task_kwargs={"delay_steps": 50})
    assert res["chance"] < 0.6
    for m in C.METHODS:
        r = res[m]
        assert r["test_accuracy"] >= 0.75, (m, r["test_accuracy"])
        assert len(r["curve"]) == 3 and r["curve"][-1]["test_loss"] < res["init"]["loss"]
        assert r["train_time"] > 0 and 0.0 < r["rate"] < 200.0
    assert res["difference"] == res["eprop"]["test_accuracy"] - res["bptt"]["test_accuracy"]


def test_eprop_run_is_train_eprop_task():
    """The e-prop arm is exactly train_eprop_task's run (same data, weights, learner, minibatch order)."""
    kw = dict(n_rec=16, n_train=64, n_test=32, lr=1e-2, task_kwargs={"delay_steps": 20})
    res = C.eprop_vs_bptt(1, epochs=2, methods=("eprop",), **kw)
    ref = E.train_eprop_task(1, n_epochs=2, **kw)
    assert "bptt" not in res and "difference" not in res
    assert res["eprop"]["test_accuracy"] == ref["test_accuracy"]
    np.testing.assert_array_equal(res["eprop"]["weights"].w_rec, ref["weights"].w_rec)
    np.testing.assert_allclose([c["train_loss"] for c in res["eprop"]["curve"]],
                               np.reshape(ref["loss"], (2, 2)).mean(axis=1))


@pytest.mark.parametrize("kw, name", [
    ({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"), ({"lr": 0.0}, "lr"), ({"c_reg": -1.0}, "c_reg"),
    ({"methods": ("eprop", "sgd")}, "methods"), ({"methods": ()}, "methods"), ({"n_adaptive": 50}, "n_adaptive"),
    ({"beta": -0.1}, "beta"), ({"task_kwargs": {"delay_steps": -1}}, "delay_steps"),
    ({"task_kwargs": 3}, "task_kwargs"),
    ({"surrogate": "sigmoid"}, "surrogate"), ({"feedback": "none"}, "feedback"),
])
def test_bad_arguments_name_the_parameter(kw, name):
    args = dict(n_train=4, n_test=4, epochs=1, task_kwargs={"delay_steps": 5})
    with pytest.raises(ValueError, match=name):
        C.eprop_vs_bptt(0, **{**args, **kw})


def test_decide_rejects_a_bad_mask():
    with pytest.raises(ValueError, match="mask"):
        C.decide(np.zeros((2, 5, 2)), np.zeros(5, dtype=bool))
    with pytest.raises(ValueError, match="mask"):
        C.decide(np.zeros((2, 5, 2)), np.ones(4, dtype=bool))


def test_example_runs(tmp_path, monkeypatch, capsys):
    path = Path(__file__).resolve().parents[2] / "examples" / "eprop_vs_bptt.py"
    monkeypatch.setattr(sys, "argv", ["x", "--seeds", "0", "--n-train", "64", "--n-test", "32", "--epochs", "1",
                                      "--delay", "20", "--out", str(tmp_path)])
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "e-prop" in out and "BPTT" in out and "mean" in out
    assert (tmp_path / "eprop_vs_bptt.png").stat().st_size > 1000


@pytest.mark.slow
def test_eprop_within_five_points_of_bptt():
    """The issue's target, full setting (200 ms delay, ALIF needed), mean over seeds 0, 1, 2."""
    res = [C.eprop_vs_bptt(s) for s in (0, 1, 2)]
    acc_e = [r["eprop"]["test_accuracy"] for r in res]
    acc_b = [r["bptt"]["test_accuracy"] for r in res]
    assert min(acc_e + acc_b) > 0.6, (acc_e, acc_b)
    assert abs(np.mean(acc_e) - np.mean(acc_b)) <= 0.05, (acc_e, acc_b)
