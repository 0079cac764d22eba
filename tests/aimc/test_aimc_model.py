"""compile(): layer specs, state dicts and .npz files; convolution, pooling, batch-norm folding; the
device adapter; refused input (every error names the field, its value and the allowed range)."""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn import aimc
from memr_snn.aimc import ADC, DAC, IOConfig, MappingConfig
from memr_snn.devices import Drift, load_preset

IDEAL = aimc.io_preset("ideal")


def _conv_loops(x, k, b, stride, pad):
    """Direct cross-correlation with explicit loops (the definition), independent of im2col."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    bsz, _, h, w = xp.shape
    co, _, kh, kw = k.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((bsz, co, ho, wo))
    for n in range(bsz):
        for o in range(co):
            for i in range(ho):
                for j in range(wo):
                    patch = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, o, i, j] = np.sum(patch * k[o]) + b[o]
    return out


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1)])
def test_conv2d_ideal_equals_direct_convolution(stride, pad):
    rng = np.random.default_rng(0)
    k = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    x = rng.standard_normal((2, 3, 7, 6))
    m = aimc.compile([{"type": "conv2d", "weight": k, "bias": b, "stride": stride, "padding": pad}], io=IDEAL,
                     mapping=MappingConfig(max_rows=10, max_cols=4))
    np.testing.assert_allclose(m(x), _conv_loops(x, k, b, stride, pad), rtol=1e-12, atol=1e-12)
    assert m.analog_layers[0].vectors == 2 * np.prod(m(x).shape[2:])  # one read per output position


def test_pooling_and_argmax_closed_form():
    x = np.arange(32, dtype=float).reshape(1, 2, 4, 4)
    assert np.array_equal(aimc.MaxPool2d(2).forward(x)[0, 0], [[5, 7], [13, 15]])
    assert np.array_equal(aimc.AvgPool2d(2).forward(x)[0, 1], [[18.5, 20.5], [26.5, 28.5]])
    assert np.array_equal(aimc.Argmax().forward(np.array([[0.1, 3.0, -1.0], [5.0, 0.0, 4.0]])), [1, 0])


def test_batchnorm_folding_equals_digital_batchnorm():
    rng = np.random.default_rng(1)
    k = rng.standard_normal((3, 2, 2, 2))
    bn = {"type": "batchnorm", "gamma": rng.uniform(0.5, 2, 3), "beta": rng.standard_normal(3),
          "mean": rng.standard_normal(3), "var": rng.uniform(0.1, 1, 3), "eps": 1e-3}
    spec = [{"type": "conv2d", "weight": k, "bias": np.ones(3)}, bn, {"type": "relu"},
            {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}]
    x = rng.standard_normal((2, 2, 5, 5))
    folded = aimc.compile(spec, io=IDEAL)
    digital = aimc.compile(spec, io=IDEAL, fold_batchnorm=False)
    assert len(folded.layers) == len(digital.layers) - 1
    np.testing.assert_allclose(folded(x), digital(x), rtol=1e-12, atol=1e-12)


def test_state_dict_npz_and_specs_agree(tmp_path):
    rng = np.random.default_rng(2)
    state = {"fc1.weight": rng.standard_normal((16, 10)), "fc1.bias": rng.standard_normal(16),
             "fc2.weight": rng.standard_normal((4, 16)), "fc2.bias": rng.standard_normal(4)}
    np.savez(tmp_path / "w.npz", **state)
    x = rng.standard_normal((3, 10))
    ref = np.maximum(x @ state["fc1.weight"].T + state["fc1.bias"], 0) @ state["fc2.weight"].T + state["fc2.bias"]
    for spec in (state, tmp_path / "w.npz", str(tmp_path / "w.npz")):
        np.testing.assert_allclose(aimc.compile(spec, io=IDEAL)(x), ref, rtol=1e-12, atol=1e-12)


def test_noisy_model_is_seeded_and_drift_lowers_the_weights():
    rng = np.random.default_rng(3)
    w = rng.uniform(0.1, 1, (8, 32))  # positive weights: drift shrinks |W x| for positive x
    x = rng.uniform(0, 1, (4, 32))
    a = aimc.compile([{"type": "linear", "weight": w}], device="pcm_gst", seed=5)
    b = aimc.compile([{"type": "linear", "weight": w}], device="pcm_gst", seed=5)
    np.testing.assert_array_equal(a(x), b(x))
    eff0 = a.analog_layers[0].matrix.effective_weights()
    a.set_time(1e6)
    eff1 = a.analog_layers[0].matrix.effective_weights()
    assert eff1.sum() < eff0.sum()


def test_device_adapter_uses_the_device_layer_models():
    dev = aimc.DeviceAdapter("ideal")
    tgt = np.array([0.0, 3e-6, 50e-6, 100e-6])
    p = dev.program(tgt, seed=0)
    np.testing.assert_array_equal(p.g, tgt)
    assert p.pulses == 0 + 3 + 50 + 100 and p.energy == pytest.approx(153e-12)
    v = dev.program(tgt, method="verify", seed=0, tolerance=0.01)
    assert v.unconverged == 0 and np.all(np.abs(v.g - tgt) <= 0.01 * 1e-4 + 1e-18)
    assert v.verify_reads > 0
    # drift: G(t) = G0 (t / t0)^-nu, the device layer's Drift
    pre = load_preset("ideal").replace(drift=Drift(nu=0.1, nu_std=0.0, t0=1.0))
    d = aimc.DeviceAdapter(pre)
    q = d.program(tgt, seed=0)
    np.testing.assert_allclose(d.read(q, 100.0, None), tgt * 100.0**-0.1, rtol=1e-14)


@pytest.mark.parametrize("call,match", [
    (lambda: aimc.compile([{"type": "linear", "weight": np.array([[1.0, np.nan]])}]),
     r"linear0.weight must be finite, got nan at index \(0, 1\)"),
    (lambda: aimc.compile([{"type": "linear", "weight": np.ones((2, 2)), "bias": np.array([np.inf, 0])}]),
     r"bias must be finite, got inf"),
    (lambda: MappingConfig(max_rows=1), r"max_rows = 1 is outside the allowed range \[2, 8192\]"),
    (lambda: MappingConfig(max_cols=10000), r"max_cols = 10000 is outside the allowed range \[2, 8192\]"),
    (lambda: MappingConfig(max_cols=3, n_slices=2, slice_bits=2), r"max_cols = 3 device columns hold no output"),
    (lambda: MappingConfig(n_slices=2), r"slice_bits must be set"),
    (lambda: DAC(bits=20), r"dac.bits = 20 \[bit\] is outside the allowed range \[2, 16\]"),
    (lambda: ADC(bits=0), r"adc.bits = 0 \[bit\] is outside the allowed range \[1, 16\]"),
    (lambda: DAC(mode="pwm"), r"dac.mode = 'pwm' is not one of"),
    (lambda: ADC(kind="flash"), r"adc.kind = 'flash' is not one of \['sar', 'ramp'\]"),
    (lambda: IOConfig(out_noise=-0.1), r"out_noise = -0.1 is outside the allowed range"),
    (lambda: aimc.io_preset("nope"), r"unknown io preset 'nope'; known: \['aihwkit_inference', 'hermes', 'ideal'\]"),
    (lambda: aimc.compile([{"type": "linear", "weight": np.ones((2, 2))}], device="nope"),
     r"device = 'nope': unknown device preset 'nope'; known presets"),
    (lambda: aimc.compile([{"type": "dense", "weight": np.ones((2, 2))}]), r"type = 'dense' is not one of"),
    (lambda: aimc.compile([{"type": "linear", "weight": np.ones((3, 2))},
                           {"type": "linear", "weight": np.ones((2, 4))}]),
     r"expects 4 inputs but the previous linear layer gives 3"),
    (lambda: aimc.compile([{"type": "linear", "weight": np.ones((2, 2)), "stride": 2}]), r"unknown key 'stride'"),
    (lambda: aimc.compile([{"type": "linear", "weight": np.ones((2, 2))}], seed=-1), r"seed = -1 is outside"),
])
def test_bad_input_is_refused_with_the_field_value_and_range(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_bad_forward_input_is_refused():
    m = aimc.compile([{"type": "linear", "weight": np.ones((2, 3))}], io=IDEAL)
    with pytest.raises(ValueError, match=r"input must have shape \(batch, 3\), got \(1, 4\)"):
        m(np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"input must be finite, got nan at index \(0, 1\)"):
        m(np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValueError, match="t = -1.0"):
        m.set_time(-1.0)
