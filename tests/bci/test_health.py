"""Device health of the spiking crossbar decoder (read-verify of rotating rows) and the safety layer's stuck-device
and drift alarms; mid-session fault injection and ageing in the device layer."""

import copy
import dataclasses
import logging
import math

import numpy as np
import pytest
from memr_snn.bci import CortexParams, FaultParams, KalmanFilter, MotorCortex, SafeDecoder
from memr_snn.bci.health import CrossbarVerifier, VerifyParams
from memr_snn.bci.spiking import SUBSTEPS, SpikingCrossbarDecoder, SpikingDecoderParams, reference_decode
from memr_snn.bci.spiking_energy import SpikingEnergyProfile

from memr_snn.devices import Drift
from memr_snn.devices.presets import load_preset

_SMALL = dict(n_hidden=5, copies=3, epochs=2, seq_bins=20, tau_mem=0.03, fault_epochs=2)


def _data(n_units, n_bins, seed):
    rng = np.random.default_rng(seed)
    cortex = MotorCortex(CortexParams(n_units=n_units, baseline_rate=20.0), rng)
    v = np.zeros((n_bins, 2))
    for t in range(1, n_bins):
        v[t] = 0.95 * v[t - 1] + rng.normal(scale=0.03, size=2)
    return cortex, cortex.sample(v, 0.02).astype(float), v


def _drifting_ideal(nu):
    return dataclasses.replace(load_preset("ideal"), drift=Drift(nu=nu, nu_std=0.0, t0=1.0))


def _check_accounting(dec, n):
    c = dec.counts
    assert c["n_in"] == c["n_out"] == n == len(dec.sources)
    assert c["primary"] + c["fallback"] + c["stop"] == n


def _hand(cb, t, g0, fault0, tol):
    """The report of a full read-verify of an ideal crossbar with uniform power-law drift, by hand."""
    nu = np.asarray(cb.nu, dtype=np.float64)
    age = t - np.asarray(cb.tp)
    G = np.where(age > 1.0, g0 * (age / 1.0) ** -nu, g0)
    G = np.where(np.asarray(cb.fault) == 1, cb.g_max_dev, G)  # stuck ON after programming
    rng_ = float(cb.device.g_max - cb.device.g_min)
    ref = (fault0 == 0) & (g0 >= cb.device.g_min + 0.25 * rng_)
    alpha = float(np.median(G[ref] / g0[ref]))
    newly = (fault0 == 0) & (np.abs(G - alpha * g0) > tol * rng_)
    k = cb.scale * cb.polarity
    w, w0 = k * (G[0::2] - G[1::2]), k * (g0[0::2] - g0[1::2])
    hit = newly[0::2] | newly[1::2]
    return {"checked": G.size, "stuck": int(newly.sum()), "stuck_fraction": newly.sum() / G.size,
            "stuck_weight_fraction": np.abs(w - w0)[hit].sum() / np.abs(w0).sum(),
            "weight_error": math.sqrt(np.mean((w - w0)[~hit] ** 2) / np.mean(w0 ** 2)),
            "drift_factor": alpha, "read_energy": cb.v_read ** 2 * cb.t_read * G.sum()}, newly


def test_health_report_equals_a_hand_computation_on_a_tiny_crossbar():
    """Ideal devices with a uniform drift exponent (nu = 0.05): after a day the drift factor is day**-nu and
    the healthy synapses' relative weight error exactly 1 - day**-nu; two devices stuck ON after programming
    are the newly stuck ones, with their weight change; the read energy is V^2 t_read sum(G)."""
    _, X, y = _data(4, 120, 1)
    p = SpikingDecoderParams(preset=_drifting_ideal(0.05), verify=VerifyParams(devices_per_poll=10 ** 6), **_SMALL)
    dec = SpikingCrossbarDecoder(p).fit(X, y)
    for z in X[:5]:
        dec.step(z)
    cb = dec.proj_in_.crossbar
    g0, fault0 = np.array(cb.g), np.array(cb.fault)
    rep0 = dec.device_health()
    assert rep0.stuck == 0 and rep0.crossbars[0].rows == 4 * 3 and rep0.crossbars[0].swept == 1.0
    day = 86400.0
    for c in (cb, dec.proj_out_.crossbar):
        c.age_devices(day)
    low = np.flatnonzero((g0 < 0.3 * cb.device.g_max) & (fault0 == 0))[:2]
    cb.inject_stuck(low, 1)
    rep = dec.device_health()
    r = rep.crossbars[0]
    hand, newly = _hand(cb, dec.network_.t, g0, fault0, 0.25)
    np.testing.assert_array_equal(np.flatnonzero(newly), low)
    assert r.checked == hand["checked"] == cb.n_devices and r.stuck == hand["stuck"] == 2
    for key in ("stuck_fraction", "stuck_weight_fraction", "weight_error", "drift_factor", "read_energy"):
        assert getattr(r, key) == pytest.approx(hand[key], rel=1e-9), key
    # every device of the readout shares one age; the exponents are stored as float32
    f = (dec.network_.t + day) ** -float(np.float32(0.05))
    assert rep.crossbars[1].drift_factor == pytest.approx(f, rel=1e-9)
    assert rep.crossbars[1].weight_error == pytest.approx(1 - f, rel=1e-9)
    assert rep.stuck_fraction == r.stuck_fraction and rep.weight_error == max(r.weight_error, 1 - f)
    # the verify reads go into the energy: device reads, a row drive per row, a conversion per device
    prof = SpikingEnergyProfile.from_profiles()
    e = dec.energy(prof)
    reads = rep0.checked + rep.checked
    assert e["count_verify_reads"] == reads and e["count_verify_rows"] == rep0.rows + rep.rows
    assert e["verify"] == pytest.approx(rep0.read_energy + rep.read_energy + prof.e_row * (rep0.rows + rep.rows)
                                        + prof.e_conv * reads, rel=1e-12)


def test_injected_faults_are_what_the_kernel_reads():
    """Devices stuck after programming and devices aged by a day: the fault table shows the stuck ones, the kernel
    reads what the device arrays say (kernel path equals the reference fed with the devices' reads, to 1e-12, and
    differs from the same decoder before ageing), a reprogramming keeps the stuck devices stuck."""
    _, X, y = _data(4, 120, 2)
    dec = SpikingCrossbarDecoder(SpikingDecoderParams(preset="hfox_rram", **_SMALL)).fit(X, y)
    cb = dec.proj_in_.crossbar
    healthy = np.flatnonzero(np.asarray(cb.fault) == 0)
    on, off = healthy[:3], healthy[3:6]
    cb.inject_stuck(np.concatenate([on, off]), np.array([1, 1, 1, -1, -1, -1]))
    np.testing.assert_array_equal(np.asarray(cb.fault)[on], 1)
    np.testing.assert_array_equal(np.asarray(cb.fault)[off], -1)
    np.testing.assert_array_equal(np.asarray(cb.g)[on], np.asarray(cb.g_max_dev)[on])
    np.testing.assert_array_equal(np.asarray(cb.g)[off], np.asarray(cb.g_min_dev)[off])
    assert np.all(np.asarray(cb.nu)[np.concatenate([on, off])] == 0)
    Xt = np.random.default_rng(3).poisson(2.0, size=(10, 4)).astype(float)
    w_young = dec.read_input_weights()
    for c in (cb, dec.proj_out_.crossbar):
        c.age_devices(86400.0)
    assert not np.allclose(dec.read_input_weights(), w_young)
    n0 = dec.network_.step
    dec.reset()
    out = np.array([dec.step(x) for x in Xt])
    win = np.stack([dec.read_input_weights(step=n0 + SUBSTEPS * t, noise=True) for t in range(10)])
    wout = np.stack([dec.read_output_weights(step=n0 + SUBSTEPS * t + 1, noise=True) for t in range(10)])
    ref, _, _ = reference_decode(Xt, win, wout, dec.bias_, dec.params_)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)
    g_on = np.asarray(cb.g)[on].copy()
    dec.proj_in_.weights = np.zeros(cb.n_synapses)
    np.testing.assert_array_equal(np.asarray(cb.g)[on], g_on)


def test_injection_and_ageing_refuse_bad_input():
    _, X, y = _data(4, 120, 2)
    dec = SpikingCrossbarDecoder(SpikingDecoderParams(preset="ideal", **_SMALL)).fit(X, y)
    cb = dec.proj_in_.crossbar
    with pytest.raises(ValueError, match="devices"):
        cb.inject_stuck([cb.n_devices])
    with pytest.raises(ValueError, match="repeat"):
        cb.inject_stuck([1, 1])
    with pytest.raises(ValueError, match="state"):
        cb.inject_stuck([1], 2)
    with pytest.raises(TypeError, match="devices"):
        cb.inject_stuck(np.ones(cb.n_devices, dtype=bool))
    cb.inject_stuck([0], -1)
    with pytest.raises(ValueError, match="already stuck"):
        cb.inject_stuck([0, 2], 1)
    assert np.asarray(cb.fault)[2] == 0  # nothing touched by the refused call
    with pytest.raises(ValueError, match="seconds"):
        cb.age_devices(-1.0)
    with pytest.raises(ValueError, match="devices must be a range"):
        cb.read_conductances(devices=(5, 2))


def _safe_spiking(params=None, preset="hfox_rram", seed=0, n_units=24, n_hidden=5, verify=None):
    cortex, X, y = _data(n_units, 400, seed)
    prim = SpikingCrossbarDecoder(SpikingDecoderParams(preset=preset, verify=verify or VerifyParams(),
                                                       **{**_SMALL, "n_hidden": n_hidden}))
    return cortex, SafeDecoder(prim, params=params).fit(X, y)


def _velocity(n, seed):
    rng = np.random.default_rng(seed)
    v = np.zeros((n, 2))
    for t in range(1, n):
        v[t] = 0.95 * v[t - 1] + rng.normal(scale=0.03, size=2)
    return v


@pytest.mark.parametrize("period", [1, 3])
def test_stuck_devices_mid_session_fall_back_within_the_bound(period, caplog):
    """5 % of the devices of both crossbars stuck ON between two bins: the stuck-device alarm hands the cursor to
    the fallback within health_period bins, no bin lost, the reason names the fault, the switch is logged."""
    cortex, dec = _safe_spiking(FaultParams(health_period=period, max_silence_bins=10 ** 6))
    assert dec.device_detection_bound_ == period <= dec.detection_bound_
    counts = cortex.sample(_velocity(80, 5), 0.02).astype(float)
    onset = 31
    with caplog.at_level(logging.WARNING, logger="memr_snn.bci.safety"):
        for i, z in enumerate(counts):
            if i == onset:
                rng = np.random.default_rng(7)
                for cb in (dec.primary.proj_in_.crossbar, dec.primary.proj_out_.crossbar):
                    healthy = np.flatnonzero(np.asarray(cb.fault) == 0)
                    cb.inject_stuck(rng.choice(healthy, size=math.ceil(0.05 * cb.n_devices), replace=False), 1)
            dec.step(z)
    _check_accounting(dec, len(counts))
    assert dec.switches, "no switch"
    first = dec.switches[0]
    assert onset <= first.bin <= onset + period - 1
    assert first.source == "fallback" and first.reason.startswith("device fault (newly stuck devices")
    assert set(dec.sources[:first.bin]) == {"primary"} and set(dec.sources[first.bin:]) == {"fallback"}
    assert dec.health_polls_ == len(range(0, first.bin + 1, period))
    assert any("device fault" in rec.message for rec in caplog.records)


def test_drift_alarm_only_beyond_the_budget():
    """HfOx RRAM with its drift and relaxation: a fault-free session run in the kernel and then aged by 8 hours
    raises no alarm (weight error 0.34 against the default budget 0.5); the same devices aged by 30 years exceed
    the budget and fall back, naming drift; a faster drift exponent (nu = 0.1) exceeds it within an hour."""
    fp = FaultParams(max_silence_bins=10 ** 6)
    cortex, dec = _safe_spiking(fp, n_hidden=16)
    counts = cortex.sample(_velocity(60, 6), 0.02).astype(float)
    for z in counts[:30]:
        dec.step(z)
    for cb in (dec.primary.proj_in_.crossbar, dec.primary.proj_out_.crossbar):
        cb.age_devices(8 * 3600.0)
    for z in counts[30:]:
        dec.step(z)
    assert dec.switches == [] and dec.health_polls_ == 60 // fp.health_period
    assert 0.0 < dec.health_.weight_error < fp.drift_budget
    for cb in (dec.primary.proj_in_.crossbar, dec.primary.proj_out_.crossbar):
        cb.age_devices(30 * 365 * 86400.0)
    dec.step(counts[0])
    assert dec.switches and dec.switches[0].reason.startswith("device drift (weight error")
    assert dec.health_.weight_error > fp.drift_budget
    _check_accounting(dec, 61)
    fast = dataclasses.replace(load_preset("hfox_rram"), drift=Drift(nu=0.1, nu_std=0.0, t0=1.0))
    cortex, dec = _safe_spiking(fp, preset=fast, n_hidden=16)
    for cb in (dec.primary.proj_in_.crossbar, dec.primary.proj_out_.crossbar):
        cb.age_devices(3600.0)
    dec.step(counts[0])
    assert dec.switches and dec.switches[0].reason.startswith("device drift")


def _one_visible_per_row(cb):
    """In every row of a crossbar, the healthy device programmed lowest (a stuck ON there is beyond the tolerance)."""
    g, f = np.asarray(cb.g), np.asarray(cb.fault)
    rng_ = cb.device.g_max - cb.device.g_min
    pick = []
    for lo, hi in zip(np.r_[0, np.cumsum(np.bincount(cb.tiling.pre, minlength=cb.n_pre))[:-1]] * cb.per,
                      np.cumsum(np.bincount(cb.tiling.pre, minlength=cb.n_pre)) * cb.per, strict=True):
        ok = np.flatnonzero(f[lo:hi] == 0)
        j = lo + ok[np.argmin(g[lo:hi][ok])]
        assert g[j] < cb.device.g_min + 0.5 * rng_
        pick.append(j)
    return np.array(pick)


def test_a_fault_at_every_phase_of_the_poll_cycle_falls_back_within_the_bound():
    """The bound by construction: the routine poll reads 2 of the input crossbar's 72 rows (a sweep every 36 polls),
    the fault (one device stuck ON in every row, about 10 % of the devices; all but at most one row's beyond the
    stuck tolerance) shows in every sample, so the one poll in
    bins onset .. onset + 4 asks for a confirmation read of every device, which sees the whole fault: at each of
    the 5 phases of the poll cycle the switch comes within health_period bins, after exactly one confirmation, no
    bin lost; the same run without the fault polls without an alarm or a confirmation read."""
    fp = FaultParams(max_silence_bins=10 ** 6)
    cortex, base = _safe_spiking(fp, verify=VerifyParams(devices_per_poll=20))
    prim = base.primary
    assert prim._verifiers[0].rows_per_poll == 2 and prim.health_sweep_polls == 36
    counts = cortex.sample(_velocity(40, 8), 0.02).astype(float)
    clean = copy.deepcopy(base)
    for z in counts:
        clean.step(z)
    assert clean.switches == [] and clean.health_confirms_ == 0 and clean.health_polls_ == 8
    for phase in range(fp.health_period):
        dec = copy.deepcopy(base)
        onset = 20 + phase
        for i, z in enumerate(counts):
            if i == onset:
                cb = dec.primary.proj_in_.crossbar
                cb.inject_stuck(_one_visible_per_row(cb), 1)
            dec.step(z)
        _check_accounting(dec, len(counts))
        first = dec.switches[0]
        assert onset <= first.bin <= onset + fp.health_period - 1, phase
        assert first.reason.startswith("device fault (newly stuck devices: ")
        assert " of 720 verified on crossbar 'in'" in first.reason  # judged on the whole input crossbar
        assert dec.health_confirms_ == 1 and dec.health_.full


def test_a_confirmation_read_decides_on_the_whole_crossbar_and_is_priced():
    """One device stuck ON (1 of 720): a routine poll that samples its row sees 1 of 20 (5 %, above the 0.5 %
    threshold), asks for a confirmation read, and the whole crossbar (0.14 %) raises no alarm; the verifier keeps
    the device on its map, so the next sweep does not ask again; every read is priced (routine and full)."""
    fp = FaultParams(max_silence_bins=10 ** 6, health_period=1)
    cortex, dec = _safe_spiking(fp, verify=VerifyParams(devices_per_poll=20))
    prim = dec.primary
    cb = prim.proj_in_.crossbar
    cb.inject_stuck(_one_visible_per_row(cb)[:1], 1)
    prim.reset_counters()
    for z in cortex.sample(_velocity(72, 9), 0.02).astype(float):  # two sweeps
        dec.step(z)
    assert dec.switches == [] and dec.health_polls_ == 72 and dec.health_confirms_ == 1
    n_out = prim.proj_out_.crossbar.n_devices
    e = prim.energy()
    assert e["count_verify_reads"] == 72 * (20 + n_out) + cb.n_devices + n_out


def test_digital_primary_is_not_polled():
    cortex, X, y = _data(12, 400, 3)
    dec = SafeDecoder(KalmanFilter(), params=FaultParams(health_period=2)).fit(X, y)
    assert dec.device_detection_bound_ is None
    for z in X[:20]:
        dec.step(z)
    assert dec.health_polls_ == 0 and dec.health_ is None


@pytest.mark.parametrize("field, value, exc", [
    ("health_period", 0, ValueError), ("health_period", 1.5, TypeError), ("max_stuck_fraction", -0.1, ValueError),
    ("max_stuck_fraction", 1.0, ValueError), ("max_stuck_weight", 0.0, ValueError),
    ("drift_budget", float("nan"), ValueError), ("drift_budget", -1.0, ValueError),
    ("confirm_drift", 0.0, ValueError)])
def test_bad_fault_params_name_the_parameter(field, value, exc):
    with pytest.raises(exc, match=field):
        FaultParams(**{field: value})


@pytest.mark.parametrize("field, value, exc", [
    ("devices_per_poll", 0, ValueError), ("stuck_tolerance", 0.0, ValueError), ("stuck_tolerance", 1.0, ValueError),
    ("seed", -1, ValueError)])
def test_bad_verify_params_name_the_parameter(field, value, exc):
    with pytest.raises(exc, match=field):
        VerifyParams(**{field: value})
    with pytest.raises(TypeError, match="verify"):
        SpikingDecoderParams(verify={"devices_per_poll": 8})


def test_rotating_rows_sweep_the_crossbar_and_rebaseline_after_programming():
    _, X, y = _data(4, 120, 4)
    dec = SpikingCrossbarDecoder(SpikingDecoderParams(preset="ideal", **_SMALL)).fit(X, y)
    cb = dec.proj_in_.crossbar
    ver = CrossbarVerifier(cb, VerifyParams(devices_per_poll=25))  # rows of 10 devices: 3 rows per poll
    assert ver.rows_per_poll == 3 and ver.sweep_polls == 4
    swept = [ver.poll(dec.network_.t).swept for _ in range(4)]
    assert swept == [3 / 12, 6 / 12, 9 / 12, 1.0]
    cb.inject_stuck(np.flatnonzero(np.asarray(cb.g) < 0.3 * cb.device.g_max)[:1], 1)
    assert sum(ver.poll(dec.network_.t).stuck for _ in range(4)) == 1  # seen once per sweep
    dec.proj_in_.weights = np.zeros(cb.n_synapses)  # a programming: new baseline, the fault is known now
    reps = [ver.poll(dec.network_.t) for _ in range(4)]
    assert [r.swept for r in reps] == swept and sum(r.stuck for r in reps) == 0


def test_aimc_kalman_health_and_stuck_fallback():
    """The AIMC Kalman filter's tiles: ideal devices verify with no error and no stuck device; on HfOx RRAM,
    5 % of the gain tile's devices stuck ON after programming make the stuck-device alarm hand the cursor to the
    digital fallback at the next poll, every bin counted; the verify reads are priced in its energy."""
    from memr_snn.bci import AIMCKalmanDecoder

    cortex, X, y = _data(24, 400, 8)
    ideal = AIMCKalmanDecoder(device="ideal", io="ideal").fit(X, y)
    rep = ideal.device_health()
    assert rep.checked > 0 and rep.stuck == 0 and rep.weight_error == pytest.approx(0.0, abs=1e-12)
    # stuck ON devices of the ideal tile, by hand on the (G+, G-) planes of the tile's flat device order
    m = ideal.gain_tile_.analog_layers[0].matrix
    tile = m.tiles[0]
    g0 = tile.prog.g.copy()
    chosen = np.array([1, 5, g0.size // 2 + 3, g0.size - 2])
    m.inject_stuck(0, chosen, 1)
    rep = ideal.device_health()
    G = g0.copy()
    G[chosen] = tile.device.g_max
    flagged = chosen[np.abs(tile.device.g_max - g0[chosen]) > 0.25 * tile.device.g_range]
    plus, minus = G.reshape(2, -1), g0.reshape(2, -1)
    w, w0 = plus[0] - plus[1], minus[0] - minus[1]
    hit = np.zeros(w.size, dtype=bool)
    hit[flagged % w.size] = True
    assert rep.checked == g0.size and rep.stuck == flagged.size > 0
    assert rep.stuck_weight_fraction == pytest.approx(np.abs(w - w0)[hit].sum() / np.abs(w0).sum(), rel=1e-12)
    assert rep.weight_error == pytest.approx(0.0, abs=1e-12)
    dec = SafeDecoder(AIMCKalmanDecoder(), params=FaultParams(health_period=2, max_silence_bins=10 ** 6)).fit(X, y)
    assert dec.device_detection_bound_ == 2
    counts = cortex.sample(_velocity(40, 9), 0.02).astype(float)
    onset = 21
    for i, z in enumerate(counts):
        if i == onset:
            m = dec.primary.gain_tile_.analog_layers[0].matrix
            prog = m.tiles[0].prog
            healthy = np.flatnonzero(prog.fault == 0)
            m.inject_stuck(0, np.random.default_rng(1).choice(healthy, math.ceil(0.05 * prog.g.size), replace=False))
        dec.step(z)
    _check_accounting(dec, len(counts))
    assert dec.switches and onset <= dec.switches[0].bin <= onset + 1
    assert dec.switches[0].reason.startswith("device fault (newly stuck devices")
    e = dec.primary.energy()
    assert e["verify_J"] > 0 and e["total_J"] == pytest.approx(sum(v for k, v in e.items()
                                                                     if k.endswith("_J") and k != "total_J"))
