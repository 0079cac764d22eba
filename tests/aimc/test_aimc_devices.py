"""The AIMC adapter against the device layer's closed forms (1e5 devices, 2 %), IR drop against a dense
Kirchhoff solve, column calibration against the injected gain/offset, drift compensation against uniform drift."""

from __future__ import annotations

import math

import numpy as np
import pytest

from memr_snn import aimc
from memr_snn.aimc import ADC, DAC, CalibrationConfig, IOConfig, MappingConfig
from memr_snn.devices import ArraySpec, Drift, ReadNoise, Retention, StuckFaults, Variability, load_preset

IDEAL = aimc.io_preset("ideal")
N_OUT, N_IN = 200, 500  # 1e5 weights: 1e5 G+ devices on one differential tile


def _flat_tile(preset, w0=0.5, seed=0):
    """One tile of 1e5 equal weights ``w0`` (G+ targets at ``w0`` of the range, G- at g_min)."""
    w = np.full((N_OUT, N_IN), w0)
    w[0, 0] = 1.0  # the tile's scale is 1: targets are exactly w0 * range
    m = aimc.compile([{"type": "linear", "weight": w}], io=IDEAL, device=preset, seed=seed,
                     mapping=MappingConfig(max_rows=N_IN, max_cols=2 * N_OUT))
    assert m.n_tiles == 1
    tile = m.analog_layers[0].matrix.tiles[0]
    return m, tile, tile.prog.g[1: N_OUT * N_IN]  # G+ of every weight but the first


def _folded_normal(mu, sd):
    """Mean and standard deviation of |mu + sd Z| (Leone, Nelson & Nottingham, Technometrics 3, 1961)."""
    mean = sd * math.sqrt(2 / math.pi) * math.exp(-mu**2 / (2 * sd**2)) + mu * math.erf(mu / (sd * math.sqrt(2)))
    return mean, math.sqrt(mu**2 + sd**2 - mean**2)


def test_pcm_programming_noise_and_drift_exponents_closed_form():
    pre = load_preset("pcm_aihwkit")
    _, tile, g = _flat_tile(pre)
    gmax = pre.device.g_max
    x = 0.5
    sigma = (0.26348 + 1.9650 * x - 1.1731 * x**2) / 25.0 * gmax  # AIHWKit PCMLikeNoiseModel, uS at 25 uS
    assert g.size == N_OUT * N_IN - 1
    assert abs(g.mean() - x * gmax) < 0.02 * sigma
    assert g.std() == pytest.approx(sigma, rel=0.02)
    mu = min(max(-0.0155 * math.log(x) + 0.0244, 0.049), 0.1)
    sd = min(max(-0.0125 * math.log(x) - 0.0059, 0.008), 0.045)
    m_nu, s_nu = _folded_normal(mu, sd)
    nu = tile.prog.nu[1: N_OUT * N_IN]
    assert nu.mean() == pytest.approx(m_nu, rel=0.02)
    assert nu.std() == pytest.approx(s_nu, rel=0.02)


def test_accumulated_flicker_noise_closed_form():
    """A read at age t: (G_read - G_drift) / (|G_drift| Q_s(x) sqrt(ln((t + t_r) / 2 t_r))) is standard normal."""
    pre = load_preset("pcm_aihwkit")
    m, tile, _ = _flat_tile(pre, seed=3)
    t = 3600.0
    p = tile.prog
    g_d = p.g * (t / pre.drift.t0) ** -p.nu
    g_r = tile.device.read(p, t, np.random.default_rng(5))
    q = np.minimum(0.0088 / np.maximum((p.g / pre.device.g_max) ** 0.65, 1e-3), 0.2)
    sel = p.g > 0.3 * pre.device.g_max  # the G+ devices (far from the floor at 0)
    z = (g_r - g_d)[sel] / (g_d[sel] * q[sel] * math.sqrt(math.log((t + 250e-9) / 500e-9)))
    assert sel.sum() >= N_OUT * N_IN - 1
    assert abs(z.mean()) < 0.02 and z.std() == pytest.approx(1.0, rel=0.02)
    # fixed per evaluation time: the same epoch reads the same, the next one differs
    w1 = tile.w_ch.copy()
    tile.snapshot(0.0, 0)
    m.set_time(t)
    a = tile.w_ch.copy()
    tile.snapshot(t, m.analog_layers[0].matrix.epoch)
    np.testing.assert_array_equal(a, tile.w_ch)
    m.set_time(t)
    assert not np.array_equal(a, tile.w_ch) and not np.array_equal(a, w1)


def test_spread_faults_and_relaxation_closed_form():
    pre = load_preset("ideal").replace(
        variability=Variability(g_max_d2d=0.1), faults=StuckFaults(p_stuck_on=0.1, p_stuck_off=0.1),
        retention=Retention(relax_sigma=0.01, relax_t0=1.0))
    _, tile, _ = _flat_tile(pre, seed=1)
    p = tile.prog
    n = p.g.size
    assert n == 2 * N_OUT * N_IN
    assert np.mean(p.fault == 1) == pytest.approx(0.1, rel=0.02)
    assert np.mean(p.fault == -1) == pytest.approx(0.1, rel=0.02)
    on = np.log(p.g[p.fault == 1] / pre.device.g_max)  # stuck ON reads the device's own g_max: log-normal
    assert on.std() == pytest.approx(0.1, rel=0.02)
    assert np.exp(on).mean() == pytest.approx(math.exp(0.1**2 / 2), rel=0.02)
    t = 1e5
    g_r = tile.device.read(p, t, np.random.default_rng(2))
    sig = 0.01 * pre.device.g_max * math.log10(1 + t)  # relaxation: rho (g_max - g_min) log10(1 + t / t_r)
    healthy = (p.fault == 0) & (p.g > 5 * sig)
    z = (g_r - p.g)[healthy] / sig
    assert healthy.sum() > 5e4
    assert abs(z.mean()) < 0.02 and z.std() == pytest.approx(1.0, rel=0.02)


def _dense_transfer(g, r):
    """Row-parallel read of a 1R tile by Kirchhoff's current law, dense: word line r driven at its left end
    through one segment r, neighbouring nodes joined by r, bit lines sensed at the bottom through r.
    Returns T (rows x cols): current into each column's virtual ground per volt on one row."""
    nr, nc = g.shape
    wn = lambda i, j: i * nc + j  # noqa: E731
    bn = lambda i, j: nr * nc + i * nc + j  # noqa: E731
    n = 2 * nr * nc
    lap = np.zeros((n, n))

    def branch(a, b, y):
        lap[a, a] += y
        lap[b, b] += y
        lap[a, b] -= y
        lap[b, a] -= y

    for i in range(nr):
        for j in range(nc):
            branch(wn(i, j), bn(i, j), g[i, j])
            if j + 1 < nc:
                branch(wn(i, j), wn(i, j + 1), 1 / r)
            if i + 1 < nr:
                branch(bn(i, j), bn(i + 1, j), 1 / r)
    for j in range(nc):
        lap[bn(nr - 1, j), bn(nr - 1, j)] += 1 / r  # to the grounded sense terminal
    for i in range(nr):
        lap[wn(i, 0), wn(i, 0)] += 1 / r  # to the row's source (0 V when idle)
    t = np.zeros((nr, nc))
    for row in range(nr):
        rhs = np.zeros(n)
        rhs[wn(row, 0)] = 1 / r  # the driven row's source at 1 V
        v = np.linalg.solve(lap, rhs)
        t[row] = v[[bn(nr - 1, j) for j in range(nc)]] / r
    return t


@pytest.mark.parametrize("ir_drop", ["nodal", "auto"])
def test_ir_drop_matches_a_dense_kirchhoff_solve(ir_drop):
    rng = np.random.default_rng(4)
    w = rng.uniform(-1, 1, (3, 4))
    w[0, 0] = 1.0
    arr = ArraySpec(cell="1R", r_wire=200.0, ir_drop=ir_drop)
    m = aimc.compile([{"type": "linear", "weight": w}], io=IDEAL, device="ideal",
                     mapping=MappingConfig(max_rows=4, max_cols=6, array=arr))
    tile = m.analog_layers[0].matrix.tiles[0]
    t_dense = _dense_transfer(tile.physical(tile.prog.g), 200.0)
    w_dense = (t_dense[:, 0::2] - t_dense[:, 1::2]).T / 1e-4
    eff = m.analog_layers[0].matrix.effective_weights()
    np.testing.assert_allclose(eff, w_dense, rtol=1e-9, atol=1e-12)
    assert np.max(np.abs(eff - w)) > 1e-3  # the wires matter at 200 Ohm per segment and 100 uS
    x = rng.standard_normal((5, 4))
    np.testing.assert_allclose(m(x), x @ w_dense.T, rtol=1e-9, atol=1e-12)


def test_ir_drop_is_solved_once_per_programming_state(monkeypatch):
    from memr_snn.aimc import devices as adapter

    calls = []
    real = adapter.effective_conductance
    monkeypatch.setattr(adapter, "effective_conductance", lambda *a, **k: calls.append(1) or real(*a, **k))
    pre = load_preset("ideal").replace(drift=Drift(nu=0.05, t0=1.0))
    w = np.random.default_rng(0).uniform(-1, 1, (6, 10))
    m = aimc.compile([{"type": "linear", "weight": w}], device=pre, io=IDEAL,
                     mapping=MappingConfig(max_rows=5, max_cols=8, array=ArraySpec(cell="1R", r_wire=10.0)))
    assert len(calls) == m.n_tiles == 4
    for t in (10.0, 1e3, 1e5):
        m.set_time(t)
    assert len(calls) == 4
    off = aimc.compile([{"type": "linear", "weight": w}], device=pre, io=IDEAL)  # default: ideal wires
    assert off.analog_layers[0].matrix.tiles[0].r_eq is None and len(calls) == 4


def _rms(a):
    return float(np.sqrt(np.mean(np.square(a))))


def test_column_calibration_removes_injected_gain_and_offset():
    rng = np.random.default_rng(6)
    w = rng.uniform(-1, 1, (24, 64))
    x = rng.uniform(-1, 1, (400, 64))
    ref = x @ w.T
    base = IOConfig(dac=DAC(bits=8), adc=ADC(bits=10, bound=24.0), out_noise=0.0)
    bad = base.replace(col_gain_std=0.2, col_offset_std=0.5)
    err_clean = _rms(aimc.compile([{"type": "linear", "weight": w}], io=base)(x) - ref)
    raw = aimc.compile([{"type": "linear", "weight": w}], io=bad)
    err_raw = _rms(raw(x) - ref)
    cal = aimc.compile([{"type": "linear", "weight": w}], io=bad, calibration=CalibrationConfig(column=True))
    err_cal = _rms(cal(x) - ref)
    assert err_raw > 20 * err_clean
    assert err_cal < 2.0 * err_clean
    tile = cal.analog_layers[0].matrix.tiles[0]
    # y_meas = g y + o  =>  the fitted inverse is a = 1 / g, b = -o / g (up to the ADC's rounding)
    np.testing.assert_allclose(tile.cal_gain, 1 / tile.col_gain, rtol=5e-3)
    np.testing.assert_allclose(tile.cal_offset, -tile.col_offset / tile.col_gain, atol=0.01)


def test_column_calibration_reruns_on_its_schedule():
    pre = load_preset("ideal").replace(drift=Drift(nu=0.1, nu_std=0.03, t0=1.0))
    w = np.random.default_rng(7).uniform(-1, 1, (8, 16))
    m = aimc.compile([{"type": "linear", "weight": w}], device=pre, io=IDEAL,
                     calibration=CalibrationConfig(column=True, interval=1000.0))
    mat = m.analog_layers[0].matrix
    assert mat.cal_time == 0.0
    m.set_time(500.0)
    assert mat.cal_time == 0.0
    m.set_time(1e4)
    assert mat.cal_time == 1e4
    x = np.random.default_rng(8).uniform(-1, 1, (50, 16))
    stale = aimc.compile([{"type": "linear", "weight": w}], device=pre, io=IDEAL,
                         calibration=CalibrationConfig(column=True))
    stale.set_time(1e4)
    assert _rms(m(x) - x @ w.T) < 0.5 * _rms(stale(x) - x @ w.T)


def test_drift_compensation_restores_uniform_drift():
    pre = load_preset("ideal").replace(drift=Drift(nu=0.05, nu_std=0.0, t0=1.0))
    rng = np.random.default_rng(9)
    w = rng.uniform(-1, 1, (16, 128))
    x = np.maximum(rng.standard_normal((300, 128)), 0)
    ref = x @ w.T
    m = aimc.compile([{"type": "linear", "weight": w}], device=pre, io="aihwkit_inference",
                     calibration=CalibrationConfig(drift_compensation=True))
    err0 = _rms(m(x) - ref)
    m.set_time(1e6)  # (1e6)**-0.05 = 0.50: every output halves
    m.set_compensation(False)
    err_raw = _rms(m(x) - ref)
    m.set_compensation(True)
    err_comp = _rms(m(x) - ref)
    assert err_raw > 10 * err0
    # the output noise and ADC steps do not drift, so compensation amplifies them by 1 / 0.50 = 2
    assert err_comp < 0.2 * err_raw and err_comp < 2.5 * err0
    alpha = m.analog_layers[0].matrix.tiles[0].alpha
    assert alpha == pytest.approx(1e6**0.05, rel=0.02)


def test_read_noise_preset_white_noise_is_redrawn_per_epoch():
    pre = load_preset("ideal").replace(read_noise=ReadNoise(read_noise=0.05))
    w = np.random.default_rng(1).uniform(-1, 1, (4, 8))
    m = aimc.compile([{"type": "linear", "weight": w}], device=pre, io=IDEAL)
    a = m.analog_layers[0].matrix.effective_weights()
    m.set_time(0.0)
    assert not np.array_equal(a, m.analog_layers[0].matrix.effective_weights())
