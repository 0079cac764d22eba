"""The float MLP: gradients against central finite differences, and it learns the 8x8 digits."""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn.learning.mlp import init_mlp, mlp_accuracy, mlp_loss_and_grads, train_mlp


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    state = init_mlp([5, 7, 6, 3], seed=1)
    for k in state:
        state[k] = state[k] + 0.1 * rng.standard_normal(state[k].shape)  # nonzero biases too
    x = rng.standard_normal((9, 5))
    y = rng.integers(0, 3, 9)
    _, grads = mlp_loss_and_grads(state, x, y)
    h = 1e-6
    for name, arr in state.items():
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + h
            lp, _ = mlp_loss_and_grads(state, x, y)
            arr[i] = old - h
            lm, _ = mlp_loss_and_grads(state, x, y)
            arr[i] = old
            num[i] = (lp - lm) / (2 * h)
        np.testing.assert_allclose(grads[name], num, rtol=1e-5, atol=1e-8)


def test_mlp_learns_the_digits():
    pytest.importorskip("sklearn")
    from memr_snn.learning.datasets import load_digits_spikes

    d = load_digits_spikes(T=1)
    state = train_mlp(d.images_train, d.y_train, hidden=(32,), epochs=15, seed=0)
    assert mlp_accuracy(state, d.images_test, d.y_test) > 0.93
