"""e-prop: eligibility traces, exactness where e-prop is exact, learning, device pulses, closed loop, bad input.

Reference computations used here:

* eligibility traces: Bellec 2020's definitions written as explicit sums over a recorded
  forward run (:func:`_explicit_traces`), not as the learner's recursion;
* gradients: central finite differences of the loss of the whole forward pass with a
  smooth spike (``forward="sigmoid"``, ``surrogate="sigmoid"``: the pseudo-derivative is
  then the true derivative).  Without recurrent weights the neuron's own dynamics carry
  every dependence, so e-prop (with ``reset_grad=True``: the reset's derivative kept) is
  the exact gradient, i.e. equals BPTT.
"""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn.devices import Crossbar, LinearStepDevice
from memr_snn.learning.eprop import (
    DeviceTarget,
    EProp,
    RSNNConfig,
    RSNNWeights,
    _loss,
    evidence_accumulation,
    init_weights,
    simulate,
    train_eprop_task,
)


def _fd_gradients(cfg, w, x, targets, mask, task, h=1e-6):
    def f(ww):
        return _loss(task, simulate(cfg, ww, x)["y"], targets, mask)

    out = {}
    for name in ("w_in", "w_rec", "w_out", "b_out"):
        arr = getattr(w, name)
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            if name == "w_rec" and idx[0] == idx[1]:
                continue
            wp, wm = w.copy(), w.copy()
            getattr(wp, name)[idx] += h
            getattr(wm, name)[idx] -= h
            g[idx] = (f(wp) - f(wm)) / (2 * h)
        out[name] = g
    return out


@pytest.mark.parametrize("beta", [0.0, 0.4])
@pytest.mark.parametrize("tau_out", [0.0, 20e-3])
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_eprop_equals_exact_gradient_without_recurrence(beta, tau_out, task):
    cfg = RSNNConfig(n_in=3, n_rec=4, n_out=2, beta=beta, tau_out=tau_out, surrogate="sigmoid", forward="sigmoid",
                     slope=3.0, reset_grad=True)
    w = init_weights(cfg, 1, w_in_scale=2.0)
    w.w_rec[...] = 0.0
    rng = np.random.default_rng(0)
    nb, nt = 2, 12
    x = rng.random((nb, nt, cfg.n_in))
    tg = rng.standard_normal((nb, nt, cfg.n_out)) if task == "regression" else np.array([0, 1])
    mask = np.zeros(nt, dtype=bool)
    mask[-1] = True  # only the last step's loss
    g = EProp(cfg, w, task=task).gradients(x, tg, mask)
    fd = _fd_gradients(cfg, w, x, tg, mask, task)
    for name in fd:
        rel = np.abs(g[name] - fd[name]).max() / np.abs(fd[name]).max()
        assert rel <= 1e-4, (name, rel)


def test_eprop_is_an_approximation_with_recurrence():
    """With recurrent weights e-prop drops the paths through other neurons: close to, not equal to, the gradient."""
    cfg = RSNNConfig(n_in=3, n_rec=4, n_out=2, surrogate="sigmoid", forward="sigmoid", slope=3.0, reset_grad=True)
    w = init_weights(cfg, 1, w_in_scale=2.0, w_rec_scale=1.0)
    rng = np.random.default_rng(0)
    x = rng.random((2, 12, 3))
    tg = rng.standard_normal((2, 12, 2))
    g = EProp(cfg, w).gradients(x, tg)
    fd = _fd_gradients(cfg, w, x, tg, None, "regression")
    np.testing.assert_allclose(g["w_out"], fd["w_out"], rtol=1e-5, atol=1e-8)  # the readout rule is exact
    a, b = g["w_in"].ravel(), fd["w_in"].ravel()
    cos = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    assert 0.5 < cos < 1.0 - 1e-6


def _explicit_traces(cfg, x, rec):
    """e[t], ebar[t+1] per (batch, j, i) from the paper's definitions as explicit sums."""
    z, psi = rec["z"], rec["psi"]
    nb, nt, _ = x.shape
    p = np.concatenate([x, z], axis=2)  # presynaptic vector [x, z]
    alpha, rho, kappa, beta = cfg.alpha, cfg.rho, cfg.kappa, cfg.beta_vec
    # xbar_i[t] = sum_{t' < t} alpha^(t-1-t') p_i[t']
    xbar = np.zeros_like(p)
    for t in range(nt):
        for tp in range(t):
            xbar[:, t] += alpha ** (t - 1 - tp) * p[:, tp]
    e = np.zeros((nt, nb, cfg.n_rec, p.shape[2]))
    for t in range(nt):
        # eps_a[t] = sum_{t' < t} psi[t'] xbar[t'] prod_{t' < s < t} (rho - psi[s] beta)
        eps_a = np.zeros((nb, cfg.n_rec, p.shape[2]))
        for tp in range(t):
            prod = np.ones((nb, cfg.n_rec))
            for s in range(tp + 1, t):
                prod *= rho - psi[:, s] * beta
            eps_a += (psi[:, tp] * prod)[:, :, None] * xbar[:, tp][:, None, :]
        e[t] = psi[:, t][:, :, None] * (xbar[:, t][:, None, :] - beta[None, :, None] * eps_a)
    ebar = np.zeros_like(e)
    for t in range(nt):
        for tp in range(t + 1):
            ebar[t] += kappa ** (t - tp) * e[tp]
    return e, ebar


@pytest.mark.parametrize("surrogate", ["triangle", "fast_sigmoid"])
def test_eligibility_traces_match_explicit_sums(surrogate):
    cfg = RSNNConfig(n_in=3, n_rec=5, n_out=2, beta=(0.0, 0.0, 0.3, 0.3, 0.6), tau_adapt=50e-3, surrogate=surrogate,
                     gamma=0.5, slope=2.0)
    w = init_weights(cfg, 3, w_in_scale=4.0, w_rec_scale=1.0)
    rng = np.random.default_rng(1)
    nb, nt = 2, 25
    x = (rng.random((nb, nt, cfg.n_in)) < 0.3).astype(float)
    rec = simulate(cfg, w, x)
    assert rec["z"].sum() > 5 and np.count_nonzero(rec["psi"]) >= 20  # the check is not vacuous
    e_ref, ebar_ref = _explicit_traces(cfg, x, rec)
    learner = EProp(cfg, w)
    learner.reset_state(nb)
    tg = rng.standard_normal((nb, nt, cfg.n_out))
    grad = {k: np.zeros_like(v) for k, v in learner.grads.items()}
    for t in range(nt):
        y = learner.step(x[:, t], tg[:, t])
        np.testing.assert_allclose(y, rec["y"][:, t], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(learner.last_e, e_ref[t], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(learner.ebar, ebar_ref[t], rtol=1e-10, atol=1e-12)
        sig = (rec["y"][:, t] - tg[:, t]) / nb @ w.w_out  # L_j = sum_k B_jk err_k, B = w_out^T
        gw = np.einsum("bj,bji->ji", sig, ebar_ref[t])
        grad["w_in"] += gw[:, :cfg.n_in]
        grad["w_rec"] += gw[:, cfg.n_in:]
    np.testing.assert_allclose(learner.grads["w_in"], grad["w_in"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(learner.grads["w_rec"], grad["w_rec"], rtol=1e-10, atol=1e-12)


def _easy_task(n, seed):
    return evidence_accumulation(n, seed, n_cues=1, n_per_group=5, cue_steps=10, gap_steps=0, delay_steps=5,
                                 recall_steps=10, f_cue=200.0)


@pytest.mark.parametrize("feedback", ["symmetric", "random"])
def test_symmetric_and_random_feedback_learn(feedback):
    x, lab, mask = _easy_task(192, 0)
    xt, lt, _ = _easy_task(128, 1)
    cfg = RSNNConfig(n_in=x.shape[2], n_rec=16, n_out=2)
    learner = EProp(cfg, init_weights(cfg, 0, w_in_scale=3.0), task="classification", feedback=feedback, lr=1e-2)
    before = np.mean(learner.predict(xt, mask) == lt)
    hist = learner.train(x, lab, mask, batch_size=16, n_epochs=2)
    after = np.mean(learner.predict(xt, mask) == lt)
    assert after >= 0.9 and after > before
    assert np.mean(hist["loss"][-4:]) < np.mean(hist["loss"][:4])


def _device_setup(rounding):
    x, lab, mask = _easy_task(64, 2)
    cfg = RSNNConfig(n_in=x.shape[2], n_rec=8, n_out=2)
    dev = LinearStepDevice(g_min=0.0, g_max=1e-3, dg_up=1e-7, dg_down=1e-7)
    target = DeviceTarget(Crossbar(device=dev, encoding="differential", scale="fit", w_max=4.0), rounding=rounding)
    learner = EProp(cfg, init_weights(cfg, 0, w_in_scale=3.0), task="classification", lr=1e-2, device=target)
    return x, lab, mask, cfg, learner


def test_device_path_equals_float_path_with_step_multiples():
    x, lab, mask, cfg, dev_learner = _device_setup("nearest")
    q = dev_learner.crossbars["w_in"].q_up
    assert all(cb.q_up == q for cb in dev_learner.crossbars.values())
    float_learner = EProp(cfg, dev_learner.w, task="classification", lr=1e-2, dw_quantum=q, rounding="nearest")
    h_dev = dev_learner.train(x, lab, mask, batch_size=16, n_epochs=2)
    h_flt = float_learner.train(x, lab, mask, batch_size=16, n_epochs=2)
    assert dev_learner.pulses > 1000
    np.testing.assert_allclose(h_dev["loss"], h_flt["loss"], rtol=1e-8)
    for name in ("w_in", "w_rec", "w_out", "b_out"):
        np.testing.assert_allclose(getattr(dev_learner.w, name), getattr(float_learner.w, name), rtol=0, atol=1e-9)
    moved = np.abs(dev_learner.w.w_in - init_weights(cfg, 0, w_in_scale=3.0).w_in).max()
    assert moved > 10 * q
    state = dev_learner.crossbars["w_rec"].state
    assert state.n_synapses == cfg.n_rec * (cfg.n_rec - 1)  # no device on the diagonal


def test_device_path_stochastic_rounding_learns():
    x, lab, mask, cfg, learner = _device_setup("stochastic")
    hist = learner.train(x, lab, mask, batch_size=16, n_epochs=3)
    assert np.mean(hist["loss"][-3:]) < 0.7 * np.mean(hist["loss"][:3])


def test_closed_loop_step_learns_online():
    """A stepwise learner tracks a target that follows its input, learning while it runs (update every 10 steps)."""
    cfg = RSNNConfig(n_in=4, n_rec=20, n_out=1, tau_out=10e-3)
    learner = EProp(cfg, init_weights(cfg, 0, w_in_scale=3.0), lr=2e-3, update_every=10)
    rng = np.random.default_rng(5)
    n = 3000
    level = np.repeat(rng.random(n // 100), 100)  # piecewise-constant drive
    errs = np.zeros(n)
    for t in range(n):
        x_t = (rng.random(4) < 0.05 + 0.3 * level[t] * np.array([1, 1, 0, 0])).astype(float)
        target = np.array([level[t - 10] if t >= 10 else 0.0])
        y = learner.step(x_t, target)
        assert y.shape == (1,)
        errs[t] = (y[0] - target[0]) ** 2
    assert learner.n_updates == n // 10
    assert errs[-500:].mean() < 0.5 * errs[:500].mean()


def test_update_every_applies_during_a_sequence():
    x, lab, mask = _easy_task(4, 0)
    cfg = RSNNConfig(n_in=x.shape[2], n_rec=6, n_out=2)
    a = EProp(cfg, init_weights(cfg, 0, w_in_scale=3.0), task="classification", optimizer="sgd", lr=1e-2,
              update_every=5)
    w0 = a.w.copy()
    a.run(x, lab, mask)
    assert a.n_updates == x.shape[1] // 5
    assert not np.array_equal(a.w.w_out, w0.w_out)
    np.testing.assert_array_equal(np.diag(a.w.w_rec), 0.0)


def test_rate_regularisation_lowers_rates():
    x, lab, mask = _easy_task(64, 0)
    cfg = RSNNConfig(n_in=x.shape[2], n_rec=10, n_out=2)
    w0 = init_weights(cfg, 0, w_in_scale=5.0)
    rate0 = simulate(cfg, w0, x)["z"].mean() / cfg.dt
    learner = EProp(cfg, w0, task="classification", lr=1e-2, c_reg=1e-3, f_target=5.0, learn=("w_in", "w_rec"))
    learner.train(x, lab, np.zeros(x.shape[1], dtype=bool), batch_size=16, n_epochs=2)
    rate1 = simulate(cfg, learner.w, x)["z"].mean() / cfg.dt
    assert rate1 < 0.7 * rate0


def test_evidence_accumulation_task_learns():
    """Small config (50 ms delay): 0.906 test accuracy at seed 0 (chance 0.5), about 4 s."""
    res = train_eprop_task(0, n_rec=32, n_train=384, n_test=128, n_epochs=3, lr=1e-2, task_kwargs={"delay_steps": 50})
    assert res["test_accuracy"] >= 0.8
    assert set(res) >= {"test_accuracy", "train_accuracy", "loss", "rate"}


@pytest.mark.slow
def test_evidence_accumulation_needs_adaptation():
    """Long delay (200 ms, 10 membrane time constants): ALIF learns, LIF stays at chance."""
    alif = train_eprop_task(0, n_train=512, n_epochs=4)
    lif = train_eprop_task(0, n_train=512, n_epochs=4, n_adaptive=0)
    assert alif["test_accuracy"] >= 0.85
    assert lif["test_accuracy"] <= 0.65


def test_evidence_accumulation_generator():
    x, lab, mask = evidence_accumulation(50, 3, n_cues=3)
    x2, lab2, _ = evidence_accumulation(50, 3, n_cues=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(lab, lab2)
    assert x.shape == (50, 3 * 30 + 200 + 30, 40) and mask.sum() == 30
    assert set(np.unique(x)) <= {0.0, 1.0} and 0 < lab.mean() < 1
    left = x[:, :90, :10].sum(axis=(1, 2))
    right = x[:, :90, 10:20].sum(axis=(1, 2))
    assert np.mean((right > left) == (lab == 1)) > 0.9


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, name", [
    ({"n_rec": 0}, "n_rec"), ({"dt": -1e-3}, "dt"), ({"tau_mem": float("nan")}, "tau_mem"),
    ({"tau_out": -1.0}, "tau_out"), ({"v_th": 0.0}, "v_th"), ({"surrogate": "relu"}, "surrogate"),
    ({"forward": "step"}, "forward"), ({"beta": (0.1, 0.2)}, "beta"), ({"beta": -0.1}, "beta"),
    ({"gamma": 0.0}, "gamma"),
])
def test_bad_config(kwargs, name):
    base = {"n_in": 2, "n_rec": 3, "n_out": 1}
    with pytest.raises((ValueError, TypeError), match=name):
        RSNNConfig(**{**base, **kwargs})


def test_bad_weights_and_inputs():
    cfg = RSNNConfig(n_in=2, n_rec=3, n_out=2)
    w = init_weights(cfg, 0)
    bad = w.copy()
    bad.w_in = np.zeros((3, 5))
    with pytest.raises(ValueError, match="w_in"):
        EProp(cfg, bad)
    bad = w.copy()
    bad.w_out[0, 0] = np.nan
    with pytest.raises(ValueError, match="w_out"):
        EProp(cfg, bad)
    bad = w.copy()
    bad.w_rec[1, 1] = 0.5
    with pytest.raises(ValueError, match="w_rec"):
        EProp(cfg, bad)
    learner = EProp(cfg, w, task="classification")
    learner.reset_state(2)
    with pytest.raises(ValueError, match="x_t"):
        learner.step(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="x_t"):
        learner.step(np.array([[0.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="target_t"):
        learner.step(np.zeros((2, 2)), np.array([0, 2]))
    x = np.zeros((2, 5, 2))
    with pytest.raises(ValueError, match="x"):
        learner.run(np.zeros((2, 5, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match="targets"):
        learner.run(x, np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="mask"):
        learner.run(x, np.array([0, 1]), np.ones(4, dtype=bool))
    reg = EProp(cfg, w)
    with pytest.raises(ValueError, match="targets"):
        reg.run(x, np.full((2, 5, 2), np.inf))
    for kwargs, name in [({"feedback": "transpose"}, "feedback"), ({"optimizer": "rmsprop"}, "optimizer"),
                         ({"lr": -1.0}, "lr"), ({"update_every": 0}, "update_every"), ({"learn": ("w_x",)}, "learn"),
                         ({"task": "ranking"}, "task"), ({"dw_quantum": 0.0}, "dw_quantum"),
                         ({"c_reg": -1.0}, "c_reg")]:
        with pytest.raises((ValueError, TypeError), match=name):
            EProp(cfg, w, **kwargs)
    with pytest.raises(ValueError, match="rounding"):
        DeviceTarget(Crossbar(), rounding="floor")
    with pytest.raises(ValueError, match="n_cues"):
        evidence_accumulation(4, n_cues=2)


def test_weights_are_copied():
    cfg = RSNNConfig(n_in=2, n_rec=3, n_out=1)
    w = init_weights(cfg, 0)
    learner = EProp(cfg, w)
    learner.w.w_in[0, 0] += 1.0
    assert w.w_in[0, 0] != learner.w.w_in[0, 0]
    assert isinstance(learner.w, RSNNWeights)


def test_example_runs(tmp_path):
    import runpy
    from pathlib import Path

    mod = runpy.run_path(str(Path(__file__).resolve().parents[2] / "examples" / "eprop_temporal.py"))
    res = mod["main"](seeds=(0,), n_train=32, n_epochs=1, delay_steps=10, out=tmp_path)
    assert set(res) == {"alif", "lif", "alif_device"} and res["alif_device"]["pulses"][0] > 0
    assert (tmp_path / "eprop_temporal.png").stat().st_size > 1000


def test_single_device_encoding_pulse_signs():
    from memr_snn.learning.eprop import _DeviceMatrix

    dev = LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-6, dg_down=2e-6)
    rng = np.random.default_rng(0)
    for sign in (1.0, -1.0):
        w = sign * np.array([[0.5, 1.0], [0.25, 0.75]])
        cb = _DeviceMatrix(Crossbar(device=dev, encoding="single", scale="fit", w_max=2.0), w,
                           np.ones((2, 2), dtype=bool), 0, "w")
        np.testing.assert_allclose(cb.read(), w, atol=1e-12)
        dw = np.array([[4 * cb.q_up, -3 * cb.q_down], [0.0, cb.q_up]])
        cb.apply(dw, "nearest", rng)
        np.testing.assert_allclose(cb.read(), w + dw, atol=1e-12)
