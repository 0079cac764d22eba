"""Mapping around stuck devices (memr_snn.aimc.faults): the range test finds exactly the injected stuck devices,
pair compensation equals its closed form, remapping moves the worst channel to a spare and the outputs equal a hand
computation, the layout saves and reopens bit for bit, and corrupt layout fields are refused by name."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pytest

from memr_snn import aimc
from memr_snn.aimc import ArtifactError, CalibrationConfig, MappingConfig
from memr_snn.aimc.faults import fault_aware_layout, pair_targets, realised
from memr_snn.devices import ReadNoise, StuckFaults, Variability, load_preset

G_MAX = 1e-4  # the ideal preset's range [0, 1e-4] S


def _faulty(p_on=0.05, p_off=0.2, **changes):
    return load_preset("ideal").replace(faults=StuckFaults(p_stuck_on=p_on, p_stuck_off=p_off), **changes)


def _tile(model, layer=0, k=0):
    return model.analog_layers[layer].matrix.tiles[k]


def test_defaults_are_off_and_bad_fields_are_named():
    m = MappingConfig()
    assert (m.fault_test, m.compensate, m.remap, m.spare_columns, m.spare_rows) == (False, False, "none", 0, 0)
    with pytest.raises(ValueError, match="compensate needs .* fault_test=True"):
        MappingConfig(compensate=True)
    with pytest.raises(ValueError, match="remap = 'rows'"):
        MappingConfig(fault_test=True, remap="rows")
    with pytest.raises(ValueError, match="spare_columns = 3 must be a multiple of 2"):
        MappingConfig(fault_test=True, remap="columns", spare_columns=3)
    with pytest.raises(ValueError, match="spares are used only by a remap"):
        MappingConfig(fault_test=True, spare_rows=4)
    with pytest.raises(ValueError, match="spare_rows = 512 is outside"):
        MappingConfig(fault_test=True, remap="columns", spare_rows=512)
    with pytest.raises(ValueError, match="stuck_threshold = 0"):
        MappingConfig(fault_test=True, stuck_threshold=0)
    with pytest.raises(ValueError, match="encoding = 'reference'"):
        MappingConfig(encoding="reference", fault_test=True, compensate=True)
    with pytest.raises(TypeError, match="fault_test must be True or False"):
        MappingConfig(fault_test=1)
    # spares come out of the tile: 16 columns with 4 spare hold 6 differential outputs, 12 rows with 4 spare hold 8
    m = MappingConfig(max_rows=12, max_cols=16, fault_test=True, remap="columns", spare_columns=4, spare_rows=4)
    assert (m.outputs_per_tile, m.rows_per_tile, m.spare_channels) == (6, 8, 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_range_test_finds_exactly_the_injected_stuck_devices(seed):
    # read noise 1 % of a read, no spread: a stuck device's two reads differ by noise only, a healthy one by the range
    pre = _faulty(read_noise=ReadNoise(read_noise=0.01))
    w = np.random.default_rng(seed).standard_normal((6, 10))
    m = aimc.compile([{"type": "linear", "weight": w}], device=pre, io="ideal", seed=seed,
                     mapping=MappingConfig(max_rows=16, max_cols=16, fault_test=True))
    t = _tile(m)
    stuck = t.prog.fault != 0
    assert stuck.sum() > 5
    np.testing.assert_array_equal(t.detected, stuck)
    assert m.health()[0]["detected_faults"] == int(stuck.sum())
    # the test's pulses are counted: a full SET and a full RESET train of the nominal swing per device
    plain = aimc.compile([{"type": "linear", "weight": w}], device=pre, io="ideal", seed=seed,
                         mapping=MappingConfig(max_rows=16, max_cols=16))
    assert m.program_stats["verify_reads"] - plain.program_stats["verify_reads"] == 2 * t.n_devices


def test_range_test_on_hfox_flags_the_stuck_and_the_collapsed_devices():
    # hfox_rram: 9.8 % stuck and a wide spread of the bounds; flagged = stuck or a drawn swing below 10 % of the range
    dev = aimc.DeviceAdapter("hfox_rram")
    n = 4000
    test = dev.range_test(n, seed=4)
    _, lo, hi, fault = dev._draw(n, 4)
    flagged = (test.hi - test.lo) < 0.1 * dev.g_range
    assert np.all(flagged[fault != 0])
    # a healthy device is flagged when its true swing is below the threshold, up to 5 sigma of read noise
    healthy = fault == 0
    swing, margin = (hi - lo)[healthy], 5 * 0.005 * hi[healthy]
    thr = 0.1 * dev.g_range
    assert np.all(flagged[healthy][swing > thr + margin] == False)  # noqa: E712
    assert np.all(flagged[healthy][swing < thr - margin])
    assert abs(flagged.mean() - 0.098) < 0.03


def test_pair_compensation_is_the_closed_form():
    rng = np.random.default_rng(0)
    n = 2000
    lo_p, lo_m = rng.uniform(0, 3, n), rng.uniform(0, 3, n)
    # ranges of up to 6, a fifth of them collapsed to a point (stuck)
    hi_p = lo_p + rng.uniform(0, 6, n) * (rng.random(n) > 0.2)
    hi_m = lo_m + rng.uniform(0, 6, n) * (rng.random(n) > 0.2)
    d = rng.uniform(-8, 8, n)
    gp, gm = pair_targets(d, lo_p, hi_p, lo_m, hi_m)
    assert np.all((gp >= lo_p - 1e-12) & (gp <= hi_p + 1e-12) & (gm >= lo_m - 1e-12) & (gm <= hi_m + 1e-12))
    # the reachable difference closest to d, by brute force over a grid of both conductances
    grid = np.linspace(0, 1, 401)
    for k in range(0, n, 97):
        a = lo_p[k] + grid * (hi_p[k] - lo_p[k])
        b = lo_m[k] + grid * (hi_m[k] - lo_m[k])
        diff = a[:, None] - b[None, :]
        best = np.abs(diff - d[k]).min()
        assert abs(abs(gp[k] - gm[k] - d[k]) - best) < 1e-9 + 0.02 * 6
        # exactly the clipped target, and the lowest conductances: one device at its bottom
        assert gp[k] - gm[k] == pytest.approx(np.clip(d[k], lo_p[k] - hi_m[k], hi_p[k] - lo_m[k]), abs=1e-12)
        assert gm[k] == pytest.approx(lo_m[k]) or gp[k] == pytest.approx(lo_p[k])


def test_compensated_tile_reads_the_closed_form_on_a_spread_device():
    # spread of both bounds, stuck devices, no noise, no levels: every pair reads clip(v R, lo+ - hi-, hi+ - lo-)
    pre = _faulty(p_on=0.05, p_off=0.1, variability=Variability(g_min_d2d=0.5, g_max_d2d=0.3))
    pre = pre.replace(device=dataclasses.replace(pre.device, g_min=5e-6))
    w = np.random.default_rng(2).standard_normal((5, 12))
    m = aimc.compile([{"type": "linear", "weight": w}], device=pre, io="ideal", seed=1,
                     mapping=MappingConfig(max_rows=16, max_cols=16, fault_test=True, compensate=True))
    t = _tile(m)
    dev = m.device
    _, lo, hi, fault = dev._draw(t.n_devices, t.seed)
    lo = np.where(fault == 1, hi, lo)
    hi = np.where(fault == -1, lo, hi)
    lo, hi = lo.reshape(2, t.n_ch, t.n_in), hi.reshape(2, t.n_ch, t.n_in)
    r = dev.g_range
    expect = np.clip(t.v_target * r, lo[0] - hi[1], hi[0] - lo[1]) / r
    np.testing.assert_allclose(t.w_ch, expect, atol=1e-12)
    # and it is closer to the targets than the plain pair on the same devices
    plain = aimc.compile([{"type": "linear", "weight": w}], device=pre, io="ideal", seed=1,
                         mapping=MappingConfig(max_rows=16, max_cols=16, fault_test=True))
    assert np.abs(t.w_ch - t.v_target).sum() < np.abs(_tile(plain).w_ch - t.v_target).sum()


def _hand_remap_case():
    """A 2 x 3 layer on one tile with one spare pair, ideal device with stuck faults; a seed whose best placement
    is unique and moves a channel to the spare."""
    pre = _faulty(p_on=0.05, p_off=0.3)
    w = np.array([[0.9, -0.4, 0.7], [-0.8, 0.6, 0.3]])
    cfg = MappingConfig(max_rows=8, max_cols=8, fault_test=True, compensate=True, remap="columns", spare_columns=2)
    v = w / np.abs(w).max()
    for seed in range(200):
        m = aimc.compile([{"type": "linear", "weight": w}], device=pre, io="ideal", seed=seed, mapping=cfg)
        t = _tile(m)
        fault = t.prog.fault.reshape(2, t.n_ch_p, t.n_in_p)
        lo = np.where(fault == 1, G_MAX, 0.0)  # stuck ON: G_max; stuck OFF and healthy bottom: 0
        hi = np.where(fault == -1, 0.0, G_MAX)
        costs = {}
        for perm in itertools.permutations(range(t.n_ch_p), t.n_ch):
            real = realised(v, lo[0][list(perm)], hi[0][list(perm)], lo[1][list(perm)], hi[1][list(perm)], 0.0,
                            G_MAX, True)
            costs[perm] = (((v - real) ** 2).sum(), real)
        ranked = sorted(costs.items(), key=lambda kv: kv[1][0])
        unique = ranked[1][1][0] - ranked[0][1][0] > 1e-9
        best = ranked[0][0]
        if unique and best[0] > best[1] and 2 in best and costs[(0, 1)][0] > ranked[0][1][0] + 1e-3:
            return m, w, ranked[0][0], ranked[0][1][1]
    raise AssertionError("no seed with a unique best placement on the spare")


def test_remap_moves_the_worst_channel_to_the_spare_and_outputs_equal_the_hand_computation():
    m, w, best, real = _hand_remap_case()
    t = _tile(m)
    assert tuple(t.layout.col_map) == best
    assert m.health()[0]["channels_on_spares"] == 1
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(m(x), x @ (real * np.abs(w).max()).T, rtol=1e-12, atol=1e-15)


def test_rows_and_columns_layout_reads_what_the_devices_hold():
    # whatever layout rows_columns picks, the layer reads the pair values at (row_map, col_map), computed here from
    # the devices' fault states alone (ideal device: healthy range [0, G_max], stuck at a bound)
    pre = _faulty(p_on=0.05, p_off=0.3)
    w = np.random.default_rng(1).standard_normal((3, 4))
    cfg = MappingConfig(max_rows=6, max_cols=10, fault_test=True, compensate=True, remap="rows_columns",
                        spare_columns=2, spare_rows=2)
    v = w / np.abs(w).max()
    for seed in range(100):
        m = aimc.compile([{"type": "linear", "weight": w}], device=pre, io="ideal", seed=seed, mapping=cfg)
        t = _tile(m)
        if not (np.any(np.diff(t.layout.row_map) < 0) and np.any(np.diff(t.layout.col_map) < 0)):
            continue
        fault = t.prog.fault.reshape(2, t.n_ch_p, t.n_in_p)[:, t.layout.col_map][:, :, t.layout.row_map]
        lo = np.where(fault == 1, G_MAX, 0.0)
        hi = np.where(fault == -1, 0.0, G_MAX)
        real = realised(v, lo[0], hi[0], lo[1], hi[1], 0.0, G_MAX, True)
        x = np.random.default_rng(0).standard_normal((4, 4))
        np.testing.assert_allclose(m(x), x @ (real * np.abs(w).max()).T, rtol=1e-12, atol=1e-15)
        return
    raise AssertionError("no seed permuted both rows and columns")


def test_rows_then_columns_never_costs_more_and_is_exact_when_ideal():
    rng = np.random.default_rng(3)
    v = np.clip(rng.standard_normal((12, 20)) / 2.5, -1, 1)
    shape = (2, 16, 24)
    fault = rng.choice([-1, 0, 1], p=[0.1, 0.88, 0.02], size=shape)
    lo = np.where(fault == 1, G_MAX, 0.0)
    hi = np.where(fault == -1, 0.0, G_MAX)
    costs = [fault_aware_layout(v, lo, hi, 0.0, G_MAX, compensate=c, remap=r)[2]
             for c in (False, True) for r in ("none", "columns", "rows_columns")]
    assert costs[0] >= costs[1] >= costs[2] and costs[3] >= costs[4] >= costs[5]
    assert costs[5] < 0.5 * costs[3]
    # an ideal device: any layout reads the weights exactly
    w = rng.standard_normal((7, 9))
    cfg = MappingConfig(max_rows=12, max_cols=20, fault_test=True, compensate=True, remap="rows_columns",
                        spare_columns=4, spare_rows=2)
    m = aimc.compile([{"type": "linear", "weight": w}], device=None, io="ideal", seed=0, mapping=cfg)
    np.testing.assert_allclose(m.analog_layers[0].matrix.effective_weights(), w, atol=1e-12)


@pytest.fixture(scope="module")
def saved_fault_aware(tmp_path_factory):
    rng = np.random.default_rng(0)
    spec = [{"type": "linear", "weight": rng.standard_normal((9, 20))}, {"type": "relu"},
            {"type": "linear", "weight": rng.standard_normal((4, 9))}]
    cfg = MappingConfig(max_rows=12, max_cols=12, fault_test=True, compensate=True, remap="rows_columns",
                        spare_columns=2, spare_rows=2)
    m = aimc.compile(spec, device="hfox_rram", mapping=cfg, seed=2,
                     calibration=CalibrationConfig(drift_compensation=True))
    m.set_time(3600.0)
    folder = tmp_path_factory.mktemp("faulty")
    m.save(folder)
    return m, rng.standard_normal((5, 20)), folder


def test_fault_aware_model_reopens_bit_for_bit(saved_fault_aware):
    m, x, folder = saved_fault_aware
    back = aimc.AnalogModel.load(folder)
    assert np.array_equal(back(x), m(x))
    for (_, a), (_, b) in zip(m.tiles, back.tiles, strict=True):
        for k in ("row_map", "col_map", "test_lo", "test_hi"):
            assert np.array_equal(getattr(a.layout, k), getattr(b.layout, k))
    table = json.loads((folder / "mapping_table.json").read_text())
    assert table["mapping"]["remap"] == "rows_columns" and table["mapping"]["spare_rows"] == 2
    assert back.health() == m.health()


def _corrupt_npz(folder, key, value):
    path = folder / "devices.npz"
    with np.load(path) as f:
        arrs = {k: f[k] for k in f.files}
    if value is None:
        del arrs[key]
    else:
        arrs[key] = value
    np.savez(path, **arrs)


@pytest.mark.parametrize("key, value, message", [
    ("linear0/0/row_map", "dup", "row_map: two logical lines share a physical one"),
    ("linear0/0/col_map", "big", "col_map: holds 99, the tile has"),
    ("linear0/0/test_lo", None, "test_lo: missing"),
    ("linear0/0/test_hi", "nan", "test_hi: holds nan"),
])
def test_corrupt_layout_arrays_are_refused_by_name(saved_fault_aware, tmp_path, key, value, message):
    import shutil

    _, _, folder = saved_fault_aware
    dst = tmp_path / "copy"
    shutil.copytree(folder, dst)
    with np.load(dst / "devices.npz") as f:
        a = f[key].copy()
    if value == "dup":
        a[1] = a[0]
    elif value == "big":
        a[0] = 99
    elif value == "nan":
        a[0] = np.nan
    _corrupt_npz(dst, key, None if value is None else a)
    with pytest.raises(ArtifactError, match=message):
        aimc.AnalogModel.load(dst)


@pytest.mark.parametrize("field, value, message", [
    ("remap", "diagonal", "mapping: remap = 'diagonal' is not one of"),
    ("spare_columns", 3, "mapping: spare_columns = 3 must be a multiple of 2"),
    ("stuck_threshold", 2.0, "mapping: stuck_threshold = 2.0 is outside"),
])
def test_corrupt_mapping_fields_are_refused_by_name(saved_fault_aware, tmp_path, field, value, message):
    import shutil

    _, _, folder = saved_fault_aware
    dst = tmp_path / "copy"
    shutil.copytree(folder, dst)
    table = json.loads((dst / "mapping_table.json").read_text())
    table["mapping"][field] = value
    (dst / "mapping_table.json").write_text(json.dumps(table))
    with pytest.raises(ArtifactError, match=message):
        aimc.AnalogModel.load(dst)
