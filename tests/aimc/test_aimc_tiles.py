"""Tiles against closed forms: the ideal tile is the float product, quantisation is its formula,
encodings reconstruct the weights, splitting is invisible, bound management recovers saturation."""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn import aimc
from memr_snn.aimc import ADC, DAC, IOConfig, MappingConfig
from memr_snn.aimc.mapping import slice_factors, slice_weights

EPS = np.finfo(np.float64).eps
IDEAL = aimc.io_preset("ideal")


def _lin(w, **kw):
    return aimc.compile([{"type": "linear", "weight": w}], **kw)


def _summation_bound(x, w):
    """Error bound of a float dot product of length n in any summation order: n * eps * (|x| @ |W|.T)
    (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5: gamma_n <= n u / (1 - n u),
    u = eps / 2), plus 4 more roundings per product for the weight's trip w -> G+, G- -> (G+ - G-) / R
    and the scale; the tile split adds one rounding per partial sum, covered by n."""
    n = x.shape[1]
    return (n + 8) * EPS * (np.abs(x) @ np.abs(w).T)


@pytest.mark.parametrize("encoding", ["differential", "reference"])
def test_ideal_tile_is_the_float_product(encoding):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((40, 300))
    x = rng.standard_normal((7, 300))
    m = _lin(w, io=IDEAL, mapping=MappingConfig(max_rows=128, max_cols=32, encoding=encoding))
    assert m.n_tiles > 4
    y = m(x)
    assert np.all(np.abs(y - x @ w.T) <= _summation_bound(x, w))


def test_tile_splitting_is_invisible_when_ideal():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((23, 57))
    x = rng.standard_normal((5, 57))
    one = _lin(w, io=IDEAL, mapping=MappingConfig(max_rows=512, max_cols=512, weight_scaling="layer"))
    many = _lin(w, io=IDEAL, mapping=MappingConfig(max_rows=7, max_cols=6, weight_scaling="layer"))
    assert one.n_tiles == 1 and many.n_tiles == 9 * 8
    w1 = one.analog_layers[0].matrix.effective_weights()
    w2 = many.analog_layers[0].matrix.effective_weights()
    np.testing.assert_array_equal(w1, w2)  # same scale, same devices per weight: bit-identical weights
    assert np.all(np.abs(one(x) - many(x)) <= _summation_bound(x, w))


def test_dac_quantisation_closed_form():
    """4-bit DAC on [-1, 1]: step 2 / (2**4 - 2) = 1/7, q(x) = clip(round(7 x) / 7, -1, 1); the rest ideal."""
    rng = np.random.default_rng(3)
    w = rng.uniform(-1, 1, (6, 20))
    w[0, 0] = 1.0  # abs max 1: the tile's weight scale is 1
    x = rng.uniform(-1.3, 1.3, (9, 20))
    io = IOConfig(dac=DAC(bits=4), adc=ADC(bits=None, bound=None), out_noise=0.0, noise_management="none",
                  bound_management="none")
    y = _lin(w, io=io)(x)
    q = np.clip(np.round(x * 7) / 7, -1, 1)
    np.testing.assert_allclose(y, q @ w.T, rtol=0, atol=1e-13)


def test_noise_management_scales_each_vector_to_the_dac_range():
    rng = np.random.default_rng(4)
    w = rng.uniform(-1, 1, (5, 16))
    w[0, 0] = -1.0
    x = rng.uniform(-40, 40, (6, 16))
    io = IOConfig(dac=DAC(bits=5), adc=ADC(bits=None, bound=None), out_noise=0.0, bound_management="none")
    y = _lin(w, io=io)(x)
    a = np.abs(x).max(axis=1, keepdims=True)
    q = np.clip(np.round(x / a * 15) / 15, -1, 1)  # 5 bits: step 2 / 30
    np.testing.assert_allclose(y, a * (q @ w.T), rtol=1e-13, atol=1e-12)


def test_adc_quantisation_closed_form():
    """6-bit ADC on [-4, 4]: step 8 / 62, output clip(round(y / step) step, -4, 4)."""
    rng = np.random.default_rng(5)
    w = rng.uniform(-1, 1, (8, 30))
    w[0, 0] = 1.0
    x = rng.uniform(-1, 1, (10, 30))
    io = IOConfig(dac=DAC(bits=None), adc=ADC(bits=6, bound=4.0), out_noise=0.0, noise_management="none",
                  bound_management="none")
    y = _lin(w, io=io)(x)
    step = 8.0 / 62
    ref = np.clip(np.round(x @ w.T / step) * step, -4, 4)
    assert np.any(np.abs(x @ w.T) > 4)  # the case covers the clip
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12)


def test_bit_serial_equals_one_pass_with_unlimited_adc():
    """Bit planes shift-added: step * sum_j 2**j (p_j @ W) = q(x) @ W exactly in real arithmetic."""
    rng = np.random.default_rng(6)
    w = rng.uniform(-1, 1, (7, 25))
    x = rng.uniform(-1, 1, (8, 25))
    base = IOConfig(dac=DAC(bits=6, mode="amplitude"), adc=ADC(bits=None, bound=None), out_noise=0.0,
                    noise_management="none", bound_management="none")
    y1 = _lin(w, io=base)(x)
    y2 = _lin(w, io=base.replace(dac_mode="bit_serial"))(x)
    np.testing.assert_allclose(y2, y1, rtol=0, atol=1e-12)


def test_weight_grid_encodings_reconstruct_exactly():
    """Weights on the B-bit grid (B = 3 slices x 2 bits = 6) come back from the devices unchanged."""
    rng = np.random.default_rng(7)
    big = 2**6 - 1
    w = rng.integers(-big, big + 1, (9, 14)) / big
    w[0, 0] = 1.0
    cfgs = [MappingConfig(n_slices=3, slice_bits=2), MappingConfig(n_slices=3, slice_bits=2, encoding="reference"),
            MappingConfig(replication=3), MappingConfig(encoding="reference", replication=2),
            MappingConfig(n_slices=1, slice_bits=6)]
    for cfg in cfgs:
        eff = _lin(w, io=IDEAL, mapping=cfg).analog_layers[0].matrix.effective_weights()
        np.testing.assert_allclose(eff, w, rtol=0, atol=8 * EPS, err_msg=str(cfg))


def test_slices_and_factors_closed_form():
    cfg = MappingConfig(n_slices=2, slice_bits=3)  # B = 6, base 8
    m = np.array([0, 1, 7, 8, 9, 63, 40])
    w = np.concatenate([m, -m]) / 63.0
    v = slice_weights(w, cfg)
    d = np.abs(v) * 7
    np.testing.assert_allclose(d[: m.size, 0], m % 8, atol=1e-12)
    np.testing.assert_allclose(d[: m.size, 1], m // 8, atol=1e-12)
    np.testing.assert_allclose(slice_factors(cfg), [7 / 63, 56 / 63])
    np.testing.assert_allclose(v @ slice_factors(cfg), w, atol=4 * EPS)


def test_bound_management_recovers_saturated_outputs():
    """W = ones(1, 64), x = ones: the output 64 exceeds the ADC range 12; halving the input three times
    (64 / 8 = 8 <= 12) reads it in range, so iterative bound management returns 64 exactly."""
    w = np.ones((1, 64))
    x = np.stack([np.ones(64), np.full(64, 0.1)])  # second vector: 6.4 before scaling, no saturation
    io = IOConfig(dac=DAC(bits=None), adc=ADC(bits=None, bound=12.0), out_noise=0.0, noise_management="none",
                  bound_management="iterative")
    m = _lin(w, io=io)
    y = m(x)
    np.testing.assert_allclose(y[:, 0], [64.0, 6.4], rtol=1e-14)
    c = m.analog_layers[0].matrix.tiles[0].counters
    assert c["bm_rereads"] == 3 and c["reads"] == 2 + 3 and c["saturated_after_bm"] == 0
    clipped = _lin(w, io=io.replace(bound_management="none"))(x)
    np.testing.assert_allclose(clipped[:, 0], [12.0, 6.4], rtol=1e-14)


def test_bound_management_stops_at_the_resolution_limit():
    """7-bit DAC: limit = max_bm_res / step = 0.25 * 63 = 15.75, so reductions 1, 2, 4, 8, 16 are tried
    (16 > 15.75 is accepted saturated or not): 4 re-reads, then the output is clipped at 12 * 16."""
    w = np.ones((1, 512))
    x = np.ones((1, 512))
    io = IOConfig(dac=DAC(bits=7), adc=ADC(bits=None, bound=12.0), out_noise=0.0, noise_management="none")
    m = _lin(w, io=io)
    y = m(x)
    c = m.analog_layers[0].matrix.tiles[0].counters
    assert c["bm_rereads"] == 4 and c["saturated_after_bm"] == 1
    assert y[0, 0] == pytest.approx(12.0 * 16)


def test_replication_averages_output_noise():
    """Output noise sigma on each of r copies, averaged: the error of an output is N(0, sigma^2 / r)
    (ideal device, unlimited converters, weight scale 1, no noise management)."""
    w = np.array([[1.0, 0.5, -0.25]])
    x = np.tile([[0.2, -0.4, 0.6]], (4000, 1))
    sigma = 0.1
    io = IOConfig(dac=DAC(bits=None), adc=ADC(bits=None, bound=None), out_noise=sigma, noise_management="none",
                  bound_management="none")
    for r in (1, 4):
        y = _lin(w, io=io, mapping=MappingConfig(replication=r), seed=3)(x)[:, 0]
        err = y - x[0] @ w[0]
        # std of a sample std of n = 4000 normals is sigma / sqrt(2 n) = 1.1 %: 5 % is > 4 standard errors
        assert np.std(err) == pytest.approx(sigma / np.sqrt(r), rel=0.05)
        assert abs(np.mean(err)) < 5 * sigma / np.sqrt(r * x.shape[0])
