"""Energy and latency: totals equal hand-computed components; profiles carry a source for every number."""

from __future__ import annotations

import json

import numpy as np
import pytest

from memr_snn import aimc
from memr_snn.aimc import ADC, DAC, AIMCProfile, IOConfig, MappingConfig, ProfileError

# round numbers, so the hand computation below is readable
PROFILE = AIMCProfile(
    name="round", tile_rows=512, tile_cols=512, n_tiles=1, v_read=0.5, t_amp=2e-9, t_pwm=1e-9, t_bit=3e-9,
    e_dac=1e-15, adc_fom=2e-15, t_adc=1e-10, adc_overlaps_read=False, e_digital_op=1e-14, t_digital_op=1e-9,
    digital_lanes=4, e_interconnect_bit=1e-16,
)


def test_energy_totals_equal_hand_computed_components():
    """W (2 x 3), max |W| = 0.5 (tile scale), ideal device g in [0, 1e-4] S, differential; x quantised by a
    4-bit pulse-width DAC (L = 7 steps, step 1/7); 6-bit SAR ADC, one ADC per channel."""
    w = np.array([[0.5, -0.25, 0.0], [0.1, 0.2, -0.5]])
    b = np.array([1.0, -1.0])
    x = np.array([[1.0, 0.5, -1.0], [0.0, 0.3, 0.6]])
    io = IOConfig(dac=DAC(bits=4, mode="pulse_width"), adc=ADC(bits=6, bound=12.0, kind="sar"), out_noise=0.0,
                  noise_management="none", bound_management="none")
    m = aimc.compile([{"type": "linear", "weight": w, "bias": b}, {"type": "relu"}], io=io)
    m(x)
    rep = m.energy(PROFILE)
    lin, relu = rep.layers
    # --- by hand
    g_range = 1e-4
    rowsum = (np.abs(w) / 0.5 * g_range).sum(axis=0)  # G+ + G- of every row: |w| / s * R (g_min = 0)
    xq = np.clip(np.round(x * 7) / 7, -1, 1)
    reads, n_in, n_ch, n_out = 2, 3, 2, 2
    e_array = 0.5**2 * 7 * 1e-9 * (np.abs(xq) @ rowsum).sum()
    e_dac = reads * n_in * 1e-15
    e_adc = reads * n_ch * 2e-15 * 2**6
    ops_lin = reads * (n_in + 2 * n_ch) + reads * n_out + reads * n_out  # scaling/combination, accumulation, bias
    e_inter = reads * (n_in * 4 + n_ch * 6) * 1e-16
    e_prog = m.program_stats["energy"]
    # ideal preset: pulses of 1e-6 S from g_min = 0, 1 pJ each; |w|/s * R / 1e-6 pulses per device
    assert e_prog == pytest.approx((np.abs(w) / 0.5 * g_range / 1e-6).sum() * 1e-12)
    assert lin.energy["array"] == pytest.approx(e_array, rel=1e-12)
    assert lin.energy["dac"] == pytest.approx(e_dac, rel=1e-12)
    assert lin.energy["adc"] == pytest.approx(e_adc, rel=1e-12)
    assert lin.energy["digital"] == pytest.approx(ops_lin * 1e-14, rel=1e-12)
    assert lin.energy["interconnect"] == pytest.approx(e_inter, rel=1e-12)
    assert lin.energy["program"] == pytest.approx(e_prog, rel=1e-12)
    assert relu.energy["digital"] == pytest.approx(4 * 1e-14, rel=1e-12)
    total = e_array + e_dac + e_adc + ops_lin * 1e-14 + e_inter + e_prog + 4e-14
    assert rep.total.total_energy == pytest.approx(total, rel=1e-12)
    # latency: 2 reads of (7 PWM steps + 6 SAR cycles); digital ops over 4 lanes
    lat = reads * (7 * 1e-9 + 6 * 1e-10) + ops_lin * 1e-9 / 4 + 4 * 1e-9 / 4
    assert rep.total.latency == pytest.approx(lat, rel=1e-12)
    macs = 2 * 3 * 2
    assert rep.fj_per_mac == pytest.approx((total - e_prog) / macs * 1e15, rel=1e-12)
    assert rep.tops_per_w == pytest.approx(2 * macs / (total - e_prog) / 1e12, rel=1e-12)
    assert "round" in rep.table()


def test_adc_sharing_and_overlap_set_the_read_time():
    w = np.ones((4, 3))
    x = np.ones((1, 3))
    io = IOConfig(dac=DAC(bits=4), adc=ADC(bits=5, bound=12.0, kind="ramp", columns_per_adc=2), out_noise=0.0,
                  noise_management="none", bound_management="none")
    m = aimc.compile([{"type": "linear", "weight": w}], io=io)
    m(x)
    t_in, t_conv = 7 * 1e-9, 2**5 * 1e-10 * 2  # ramp: 32 cycles, 2 channels per ADC in turn
    digital = 1e-9 / 4 * (3 + 2 * 4 + 4)
    assert m.energy(PROFILE).total.latency == pytest.approx(t_in + t_conv + digital, rel=1e-12)
    over = PROFILE.replace(adc_overlaps_read=True)
    assert m.energy(over).total.latency == pytest.approx(max(t_in, t_conv) + digital, rel=1e-12)


def test_hermes_profile_every_number_has_a_source():
    p = aimc.load_profile("hermes_pcm")
    assert p.n_tiles == 64 and p.tile_rows == 256
    for name in aimc.profile_to_dict(p)["params"]:
        assert p.sources[name].strip()
        assert p.provenance[name] in ("published", "derived", "assumed")
        if p.provenance[name] == "assumed":
            assert p.sources[name].lower().startswith("assumed")


def test_profile_round_trip_and_errors(tmp_path):
    p = aimc.load_profile("hermes_pcm")
    path = aimc.save_profile(p, tmp_path / "p.json")
    assert aimc.load_profile(path) == p
    d = aimc.profile_to_dict(p)
    d["params"]["v_read"]["value"] = -1.0
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(ProfileError, match=r"v_read = -1.0 \[V\] is outside the allowed range"):
        aimc.load_profile(tmp_path / "bad.json")
    d = aimc.profile_to_dict(p)
    d["params"]["adc_fom"]["source"] = "a guess"
    d["params"]["adc_fom"]["provenance"] = "assumed"
    with pytest.raises(ProfileError, match="adc_fom.source of an assumed value must start with 'assumed'"):
        aimc.profile_from_dict(d)
    with pytest.raises(ProfileError, match="unknown AIMC profile 'nope'"):
        aimc.load_profile("nope")


def test_hermes_shaped_model_throughput_near_the_published_figure():
    """One 256 x 256 core read at 8-bit pulse width: 127 ns (overlapped CCO conversion), i.e.
    64 cores x 2 x 256**2 ops / 127 ns = 66 TOPS; Le Gallo et al. (2023) report 63.1 TOPS (one-phase)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((256, 256))
    m = aimc.compile([{"type": "linear", "weight": w}], io="hermes",
                     mapping=MappingConfig(max_rows=256, max_cols=512))
    m(rng.standard_normal((4, 256)))
    rep = m.energy("hermes_pcm")
    per_read = rep.layers[0].latency / 4
    tops = 64 * 2 * 256**2 / per_read / 1e12
    assert tops == pytest.approx(63.1, rel=0.1)


def test_static_and_adc_power_terms_by_hand():
    """p_adc is paid by every conversion for the read time; p_static by every active tile over the analog latency;
    devices_per_sign multiplies the array energy."""
    w = np.ones((4, 3))
    x = np.ones((2, 3))
    io = IOConfig(dac=DAC(bits=4), adc=ADC(bits=5, bound=12.0, kind="sar"), out_noise=0.0,
                  noise_management="none", bound_management="none")
    m = aimc.compile([{"type": "linear", "weight": w}], io=io, mapping=MappingConfig(max_rows=2, max_cols=8))
    m(x)
    base = m.energy(PROFILE).layers[0]
    p = PROFILE.replace(p_adc=1e-5, p_static_tile=2e-3, devices_per_sign=2)
    lay = m.energy(p).layers[0]
    t_read = 7 * 1e-9 + 5 * 1e-10  # 7 PWM steps + 5 SAR cycles
    n_tiles = m.n_tiles  # 2 row blocks, PROFILE has one tile: 2 rounds
    assert n_tiles == 2
    assert lay.energy["adc"] - base.energy["adc"] == pytest.approx(2 * n_tiles * 4 * 1e-5 * t_read, rel=1e-12)
    assert lay.energy["static"] == pytest.approx(2e-3 * 1 * 2 * (2 * t_read), rel=1e-12)
    assert lay.energy["array"] == pytest.approx(2 * base.energy["array"], rel=1e-12)


def test_hermes_energy_per_operation_within_3x_of_the_published_figure():
    """Le Gallo et al. (2023): 9.76 TOPS/W = 102.5 fJ/op for one-phase 8-bit MVMs; the model with the unit cell's
    4 devices, the CCO ADCs' power over the read and the cores' static power must land within 3x of it."""
    rng = np.random.default_rng(0)
    m = aimc.compile([{"type": "linear", "weight": rng.standard_normal((256, 256))}], io="hermes",
                     device="pcm_gst", mapping=MappingConfig(max_rows=256, max_cols=512))
    m(np.maximum(rng.standard_normal((256, 256)), 0))
    rep = m.energy("hermes_pcm")
    fj_per_op = rep.fj_per_mac / 2
    assert 102.5 / 3 < fj_per_op < 3 * 102.5
