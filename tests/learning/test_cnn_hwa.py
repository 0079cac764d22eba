"""The numpy CNN and hardware-aware training: convolution against a loop, gradients against central finite
differences, the analog forward pass against its closed forms, and learning."""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn.learning.cnn import cnn_accuracy, cnn_forward, cnn_loss_and_grads, col2im, im2col, init_cnn, train_cnn
from memr_snn.learning.hwa import HWATraining, analog_matmul, analog_matmul_backward, clip_weights
from memr_snn.learning.mlp import init_mlp, mlp_loss_and_grads


def _conv_loop(x, k, b, pad):
    """Cross-correlation with zero padding, by definition (PyTorch ``conv2d``)."""
    n, c, h, w = x.shape
    co, _, kh, kw = k.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, co, h + 2 * pad - kh + 1, w + 2 * pad - kw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            patch = xp[:, :, i:i + kh, j:j + kw]
            out[:, :, i, j] = np.einsum("ncij,ocij->no", patch, k) + b
    return out


def _reference_forward(state, x, pool):
    a = np.maximum(_conv_loop(x, state["conv1.weight"], state["conv1.bias"], state["conv1.weight"].shape[2] // 2), 0)
    n, c, h, w = a.shape
    hp, wp = h // pool, w // pool
    p = np.zeros((n, c, hp, wp))
    for i in range(hp):
        for j in range(wp):
            p[:, :, i, j] = a[:, :, i * pool:(i + 1) * pool, j * pool:(j + 1) * pool].max(axis=(2, 3))
    return p.reshape(n, -1) @ state["fc1.weight"].T + state["fc1.bias"]


def test_forward_matches_the_loop_definition_and_col2im_is_the_adjoint():
    rng = np.random.default_rng(0)
    state = init_cnn((2, 7, 9), 4, channels=3, kernel=3, pool=2, seed=0)
    state["conv1.bias"] += 0.1 * rng.standard_normal(3)
    x = rng.standard_normal((5, 2, 7, 9))
    np.testing.assert_allclose(cnn_forward(state, x), _reference_forward(state, x, 2), rtol=1e-12, atol=1e-12)
    # <im2col(x), c> == <x, col2im(c)> for every x, c
    cols = rng.standard_normal(im2col(x, 3, 1).shape)
    assert np.isclose(np.sum(im2col(x, 3, 1) * cols), np.sum(x * col2im(cols, x.shape, 3, 1)), rtol=1e-12)


def test_cnn_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    state = init_cnn((2, 5, 5), 3, channels=2, kernel=3, pool=2, seed=2)
    for k in state:
        state[k] = state[k] + 0.1 * rng.standard_normal(state[k].shape)
    x = rng.standard_normal((4, 2, 5, 5))
    y = rng.integers(0, 3, 4)
    _, grads = cnn_loss_and_grads(state, x, y)
    h = 1e-6
    for name, arr in [*state.items(), ("input", x)]:
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + h
            lp, _ = cnn_loss_and_grads(state, x, y)
            arr[i] = old - h
            lm, _ = cnn_loss_and_grads(state, x, y)
            arr[i] = old
            num[i] = (lp - lm) / (2 * h)
        np.testing.assert_allclose(grads[name], num, rtol=1e-5, atol=1e-8, err_msg=name)


def test_hwa_gradient_is_the_float_gradient_at_the_noisy_weights():
    """Straight-through: with weight noise only, the gradient equals the float gradient of the perturbed net."""
    rng = np.random.default_rng(3)
    state = init_mlp([6, 5, 3], seed=0)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    hw = HWATraining(weight_noise=0.1)
    loss, grads = mlp_loss_and_grads(state, x, y, hardware=hw, rng=np.random.default_rng(7))
    noise = np.random.default_rng(7)
    noisy = dict(state)
    for i in (1, 2):
        w = state[f"fc{i}.weight"]
        noisy[f"fc{i}.weight"] = w + 0.1 * np.abs(w).max() * noise.standard_normal(w.shape)
    loss_ref, grads_ref = mlp_loss_and_grads(noisy, x, y)
    assert np.isclose(loss, loss_ref, rtol=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], grads_ref[k], rtol=1e-10, atol=1e-14)


def test_analog_matmul_quantizes_like_the_dac_and_adc():
    w = np.array([[0.5, -1.0, 0.25]])
    x = np.array([[2.0, 0.9, -0.3]])  # abs_max: / 2 -> [1, 0.45, -0.15]
    # 2-bit DAC: step 2 / (4 - 2) = 1 -> [1, 0, 0]; u = 1 * 0.5 = 0.5 (w / max|w| = w)
    y, cache = analog_matmul(x, w, HWATraining(dac_bits=2), None)
    assert np.allclose(y, 0.5 * 1.0 * 2.0)
    # 3-bit ADC with bound 0.3: step 0.6 / 6 = 0.1; u = 0.5 - 0.45 - 0.0375 = 0.0125 -> 0.0
    y, _ = analog_matmul(x, w, HWATraining(adc_bits=3, adc_bound=0.3), None)
    assert np.allclose(y, 0.0)
    y, _ = analog_matmul(np.array([[1.0, -1.0, 0.0]]), w, HWATraining(adc_bits=3, adc_bound=0.3), None)
    assert np.allclose(y, 0.3)  # 1.5 clipped at the bound
    dx, dw = analog_matmul_backward(np.ones((1, 1)), cache)
    assert np.allclose(dx, w) and np.allclose(dw, [[2.0, 0.0, 0.0]])  # straight-through, quantized input


def test_weight_noise_has_the_requested_std():
    rng = np.random.default_rng(4)
    w = rng.uniform(-1, 1, (200, 500))
    eye = np.eye(500)
    for kind, sigma in (("additive", 0.05), ("multiplicative", 0.2)):
        y, _ = analog_matmul(eye, w, HWATraining(weight_noise=sigma, noise_type=kind), rng)
        err = y.T - w
        rel = err / np.abs(w).max() if kind == "additive" else err / w
        assert abs(rel.std() / sigma - 1) < 0.01, kind


def test_clip_and_validation():
    w = np.random.default_rng(5).standard_normal(10000)
    c = 2.5 * w.std()
    clip_weights(w, HWATraining(clip_sigma=2.5))
    assert np.isclose(np.abs(w).max(), c)
    with pytest.raises(ValueError, match=r"hardware.dac_bits = 1 \[bit\] is outside"):
        HWATraining(dac_bits=1)
    with pytest.raises(ValueError, match="hardware.noise_type = 'x' is not one of"):
        HWATraining(noise_type="x")
    with pytest.raises(ValueError, match="hardware.clip_sigma = 0.5"):
        HWATraining(clip_sigma=0.5)


def test_cnn_learns_the_digits_plainly_and_hardware_aware():
    pytest.importorskip("sklearn")
    from memr_snn.learning.datasets import load_digits_spikes

    d = load_digits_spikes(T=1)
    xtr, xte = d.images_train.reshape(-1, 1, 8, 8), d.images_test.reshape(-1, 1, 8, 8)
    plain = train_cnn(xtr, d.y_train, channels=4, epochs=4, seed=0)
    assert cnn_accuracy(plain, xte, d.y_test) > 0.9
    hw = HWATraining(weight_noise=0.05, clip_sigma=2.5, dac_bits=7, adc_bits=9, out_noise=0.06)
    hwa = train_cnn(xtr, d.y_train, channels=4, epochs=4, seed=0, hardware=hw)
    assert cnn_accuracy(hwa, xte, d.y_test) > 0.85
