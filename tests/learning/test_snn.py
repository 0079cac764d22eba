"""The shared network of BPTT and e-prop: one config, deprecated per-module names, one optimiser."""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn.learning import eprop as E
from memr_snn.learning import snn
from memr_snn.learning import surrogate as S


def test_one_config_class_and_both_trainers_take_it():
    cfg = snn.RSNNConfig(n_in=3, n_rec=4, n_out=2, beta=0.2)
    w = E.init_weights(cfg, 0, w_in_scale=3.0)
    assert isinstance(w, snn.Weights) and isinstance(S.init_weights(cfg, 0), snn.Weights)
    x = np.random.default_rng(0).random((2, 12, 3))
    S.loss_and_grad(cfg, w, x, np.array([0, 1]), "masked_ce")
    E.EProp(cfg, w, task="classification").gradients(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="recurrent"):
        E.EProp(snn.RSNNConfig(n_in=3, n_rec=4, n_out=2, recurrent=False))


def test_eprop_config_name_is_a_deprecated_constructor_with_the_old_defaults():
    with pytest.warns(DeprecationWarning, match="snn.RSNNConfig"):
        cfg = E.RSNNConfig(n_in=2, n_rec=3, n_out=1)
    assert type(cfg) is snn.RSNNConfig
    assert (cfg.surrogate, cfg.slope, cfg.spike) == ("triangle", 10.0, "heaviside")
    assert isinstance(cfg, E.RSNNConfig) and isinstance(cfg, S.RSNNConfig)
    with pytest.warns(DeprecationWarning):
        smooth = E.RSNNConfig(2, 3, 1, forward="sigmoid", surrogate="sigmoid", slope=3.0)
    assert (smooth.spike, smooth.sigmoid_k, smooth.slope) == ("sigmoid", 3.0, 3.0)
    with pytest.warns(DeprecationWarning, match="spike"):
        assert smooth.forward == "sigmoid"
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="forward"):
        E.RSNNConfig(n_in=2, n_rec=3, n_out=1, forward="step")


def test_surrogate_config_name_is_a_deprecated_constructor_with_the_same_defaults():
    with pytest.warns(DeprecationWarning, match="snn.RSNNConfig"):
        cfg = S.RSNNConfig(n_in=2, n_rec=3, n_out=1)
    assert cfg == snn.RSNNConfig(n_in=2, n_rec=3, n_out=1)


def test_eprop_weights_name_is_a_deprecated_alias():
    with pytest.warns(DeprecationWarning, match="snn.Weights"):
        assert E.RSNNWeights is snn.Weights
    with pytest.raises(AttributeError):
        E.no_such_name  # noqa: B018


def test_pseudo_derivative_matches_its_formulas():
    u = np.array([-2.0, -0.5, 0.0, 0.3, 1.0])
    cfg = snn.RSNNConfig(n_in=1, n_rec=1, n_out=1, v_th=2.0, surrogate="sigmoid", slope=4.0)
    s = 1 / (1 + np.exp(-4.0 * u / 2.0))
    z, psi = snn.spike_and_psi(cfg, u)
    np.testing.assert_array_equal(z, [0, 0, 1, 1, 1])
    np.testing.assert_allclose(psi, 2.0 * s * (1 - s))
    np.testing.assert_array_equal(snn.pseudo_derivative(cfg, u), psi)
    np.testing.assert_array_equal(E.pseudo_derivative(cfg, u + 1.0, 1.0), psi)


@pytest.mark.parametrize("make", [lambda: snn.Adam(1e-2), lambda: snn.SGD(1e-2)])
def test_optimiser_step_is_tick_plus_delta(make):
    rng = np.random.default_rng(1)
    cfg = snn.RSNNConfig(n_in=2, n_rec=3, n_out=2)
    w1 = S.init_weights(cfg, 0)
    w2 = w1.copy()
    a, b = make(), make()
    for _ in range(3):
        g = {k: rng.standard_normal(v.shape) for k, v in w1.as_dict().items()}
        g["w_rec"][np.diag_indices(3)] = 0.0
        a.step(w1, g)
        b.tick()
        for k, v in g.items():
            getattr(w2, k)[...] += b.delta(k, v)
        for k in w1.names():
            np.testing.assert_array_equal(getattr(w1, k), getattr(w2, k))
