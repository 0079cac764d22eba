"""Statistical device models against their closed forms: programming noise, conductance-dependent drift,
accumulated 1/f read noise, relaxation, retention failure states, global drift compensation.

The closed forms are the published equations (AIHWKit PCMLikeNoiseModel: Nandakumar et al. ICECS 2019,
Joshi et al. Nat. Commun. 2020), evaluated here by hand from their constants, and the moments of the
normal and folded-normal distributions.
"""

import dataclasses
import math

import numpy as np
import pytest

from memr_snn.devices import (
    Crossbar,
    CrossbarState,
    Drift,
    DriftCompensation,
    LinearStepDevice,
    ReadNoise,
    Retention,
    load_preset,
    preset_from_dict,
    preset_to_dict,
)
from memr_snn.devices.programming import Programming

N = 100_000
G25 = 25e-6  # AIHWKit's reference g_max [S]
DEV25 = LinearStepDevice(g_min=0.0, g_max=G25, dg_up=G25 / 100, dg_down=G25 / 100)
YEAR = 365.25 * 86400.0


def _state(weights, seed=1, **kw) -> CrossbarState:
    """A single-device crossbar with one row per synapse (one column)."""
    n = np.asarray(weights).size
    kw.setdefault("device", DEV25)
    return CrossbarState(Crossbar(encoding="single", w_max=1.0, scale="fit", **kw), np.arange(n),
                         np.zeros(n, int), np.asarray(weights, dtype=float), seed=seed)


def _folded_normal(mu, sd):
    """Mean and standard deviation of |mu + sd Z|."""
    phi = 0.5 * (1.0 + math.erf(-mu / (sd * math.sqrt(2.0))))
    m = sd * math.sqrt(2.0 / math.pi) * math.exp(-mu * mu / (2 * sd * sd)) + mu * (1.0 - 2.0 * phi)
    return m, math.sqrt(mu * mu + sd * sd - m * m)


# --------------------------------------------------------------------------------------- programming noise
# sigma_prog / g_max = (0.26348 + 1.9650 x - 1.1731 x^2) / 25, worked by hand for three targets
PCM_PROG = {0.1: (0.26348 + 0.19650 - 0.011731) / 25, 0.5: (0.26348 + 0.98250 - 0.293275) / 25,
            0.9: (0.26348 + 1.76850 - 0.950211) / 25}


@pytest.mark.parametrize("model,size,x", [("aihwkit_pcm", 1.0, 0.1), ("aihwkit_pcm", 1.0, 0.5),
                                          ("aihwkit_pcm", 2.0, 0.9), ("relative", 0.05, 0.5), ("range", 0.02, 0.5)])
def test_programming_noise_reproduces_its_mean_and_spread(model, size, x):
    prog = Programming(noise_model=model, noise_sigma=size)
    target = np.full(N, x * G25)
    want = {"aihwkit_pcm": size * PCM_PROG.get(x, 0.0) * G25, "relative": size * x * G25,
            "range": size * G25}[model]
    g = prog.write_noise(target, 0.0, G25, rng=7)
    assert abs(np.mean(g - target)) < 0.02 * want
    assert abs(np.std(g) / want - 1.0) < 0.02
    np.testing.assert_array_equal(g, prog.write_noise(target, 0.0, G25, rng=7))  # seeded
    assert not np.array_equal(g, prog.write_noise(target, 0.0, G25, rng=8))
    # the crossbar's direct write lands with the same spread; it clips to the device range, so compare the
    # unclipped normal where both bounds are > 4 sigma away
    cb = _state(np.full(N, x), programming=prog)
    assert np.all((cb.g >= 0.0) & (cb.g <= G25))
    if min(x, 1.0 - x) * G25 > 4.0 * want:
        assert abs(np.std(cb.g - cb.g_target) / want - 1.0) < 0.02
        assert abs(np.mean(cb.g - cb.g_target)) < 0.02 * want


def test_programming_noise_off_keeps_direct_writes_exact_and_applies_after_verify():
    exact = _state(np.linspace(0, 1, 1000))
    np.testing.assert_array_equal(exact.g, exact.g_target)
    prog = Programming(noise_model="aihwkit_pcm", noise_sigma=1.0)
    w = np.full(N, 0.5)
    plain = _state(w, program="verify", programming=Programming())
    noisy = _state(w, program="verify", programming=prog)
    # the verify loop draws the same pulses (its own noise stream); the write noise comes on top of its final state
    assert abs(np.std(noisy.g - plain.g) / (PCM_PROG[0.5] * G25) - 1.0) < 0.02
    again = _state(w, program="verify", programming=prog)
    np.testing.assert_array_equal(noisy.g, again.g)


# ------------------------------------------------------------------------------------------------- drift
@pytest.mark.parametrize("x,mu,sd", [(0.01, -0.0155 * math.log(0.01) + 0.0244, 0.045),
                                     (0.1, -0.0155 * math.log(0.1) + 0.0244, -0.0125 * math.log(0.1) - 0.0059),
                                     (1.0, 0.049, 0.008)])
def test_pcm_drift_exponent_is_the_folded_normal_of_the_fit(x, mu, sd):
    m, s = _folded_normal(mu, sd)
    nu = Drift(model="aihwkit_pcm", t0=20.0).sample_nu(N, rng=3, g_target=np.full(N, x * G25), g_max=G25)
    assert abs(nu.mean() / m - 1.0) < 0.02 and abs(nu.std() / s - 1.0) < 0.02
    # a crossbar draws them from each device's target at programming
    cb = _state(np.full(N, x), drift=Drift(model="aihwkit_pcm", t0=20.0))
    assert abs(cb.nu.astype(float).mean() / m - 1.0) < 0.02 and abs(cb.nu.astype(float).std() / s - 1.0) < 0.02
    assert cb.drift_on


def test_drift_exponents_are_redrawn_at_each_programming_and_seeded():
    spec = dict(drift=Drift(model="aihwkit_pcm", t0=20.0))
    a, b = _state(np.full(1000, 0.3), seed=5, **spec), _state(np.full(1000, 0.3), seed=5, **spec)
    np.testing.assert_array_equal(a.nu, b.nu)
    nu0 = a.nu.copy()
    a.program(np.full(1000, 0.3))
    assert not np.array_equal(nu0, a.nu)
    assert not np.array_equal(nu0, _state(np.full(1000, 0.3), seed=6, **spec).nu)


# ----------------------------------------------------------------------------------------- 1/f read noise
@pytest.mark.parametrize("x", [0.05, 0.5])
def test_flicker_sigma_grows_with_log_time_as_the_formula(x):
    """sigma_nG / |G_drift| = Q_s(x) sqrt(ln((t + t_r) / (2 t_r))), Q_s = min(0.0088 / x^0.65, 0.2)."""
    qs = min(0.0088 / x ** 0.65, 0.2)
    t_r = 250e-9
    cb = _state(np.full(N, x), read_noise=ReadNoise(flicker="aihwkit_pcm"),
                drift=Drift(nu=0.05, t0=20.0))
    for age in (20.0, 1e3, 1e5, 1e7):
        g_drift = cb.read_conductances(age)
        rel = cb.read_conductances(age, noise=True) / g_drift - 1.0
        want = qs * math.sqrt(math.log((age + t_r) / (2 * t_r)))
        assert abs(rel.std() / want - 1.0) < 0.02, age
        assert abs(rel.mean()) < 0.02 * want
        assert abs(np.mean(g_drift) / (x * G25 * (age / 20.0) ** -0.05) - 1.0) < 1e-6  # nu is float32


def test_flicker_sample_is_fixed_within_an_epoch_and_redrawn_after():
    cb = _state(np.full(2000, 0.3), read_noise=ReadNoise(flicker="aihwkit_pcm"))
    dt = 1e-3
    reads = np.array([cb.read_weights(step=s, dt=dt, noise=True) for s in range(1000, 1100)])
    # no white noise: the 1/f deviation of each device is the same at every spike of the window, so averaging
    # reads over the window does not remove it (its spread relative to the expected read stays ~Q_s sqrt(log))
    dev = reads - cb.read_weights(t=1.05, noise=False)
    assert np.allclose(dev.std(axis=0), 0.0, atol=1e-3 * np.abs(dev).max())
    assert dev.mean(axis=0).std() > 0.5 * dev[0].std()
    cb.new_noise_epoch()
    dev2 = cb.read_weights(step=1000, dt=dt, noise=True) - cb.read_weights(t=1.0, noise=False)
    assert abs(np.corrcoef(dev[0], dev2)[0, 1]) < 0.1


# ---------------------------------------------------------------------------------------------- relaxation
def test_relaxation_spread_grows_linearly_with_log_time():
    rng_ = 0.01  # relax_sigma per decade, relative to the range
    cb = _state(np.full(N, 0.5), retention=Retention(tau0=1e-12, e_a=3.0, relax_sigma=rng_, relax_t0=1.0))
    assert cb.relax_on
    for age in (10.0, 1e3, 1e5):
        d = cb.read_conductances(age) - cb.g
        want = rng_ * G25 * math.log10(1.0 + age)
        assert abs(d.std() / want - 1.0) < 0.02 and abs(d.mean()) < 0.02 * want


# ------------------------------------------------------------------------------------------------ retention
@pytest.mark.parametrize("name,direction", [("pcm_gst", "on"), ("pcm_aihwkit", "on"), ("hfox_rram", "off"),
                                            ("taox_rram", "off"), ("cbram", "off"), ("fefet", "mid")])
def test_retention_failure_goes_to_the_technology_state(name, direction):
    p = load_preset(name)
    ret = dataclasses.replace(p.retention, temperature=600.0, relax_sigma=0.0)
    dev = p.device
    cb = CrossbarState(Crossbar(device=dev, encoding="single", scale="fit", retention=ret, w_max=1.0),
                       np.arange(2000), np.zeros(2000, int), np.full(2000, 0.3), seed=2)
    before = cb.read_conductances(0.0)
    after = cb.read_conductances(50.0 * ret.tau)  # every device has lost its state (exp(-50))
    want = {"on": dev.g_max, "off": dev.g_min, "mid": 0.5 * (dev.g_min + dev.g_max)}[direction]
    np.testing.assert_allclose(after, want, rtol=1e-12)
    assert p.retention.fail_state == direction
    if direction == "on":  # crystallisation raises G
        assert np.all(after > before)


@pytest.mark.parametrize("name", ["hfox_rram", "cbram", "fefet", "pcm_gst"])
def test_retention_time_at_85C_is_the_ten_year_spec(name):
    tau = load_preset(name).retention.tau_at(273.15 + 85.0)
    assert abs(tau / (10 * YEAR) - 1.0) < 0.02


def test_taox_retention_exceeds_ten_years_at_85C():
    assert load_preset("taox_rram").retention.tau_at(358.15) > 10 * YEAR


# ------------------------------------------------------------------------------------------ compensation
def test_drift_compensation_restores_a_uniformly_drifted_tile_to_the_read_noise_level():
    rng = np.random.default_rng(0)
    n_pre, n_post = 64, 32
    pre, post = np.repeat(np.arange(n_pre), n_post), np.tile(np.arange(n_post), n_pre)
    w = rng.uniform(-1, 1, pre.size)
    sigma = 0.01
    spec = Crossbar(device=DEV25, encoding="differential", read_noise=ReadNoise(sigma),
                    drift=Drift(nu=0.06, nu_std=0.0, t0=1.0))
    cb = CrossbarState(spec, pre, post, w, seed=3)
    w0 = cb.read_weights(t=1.0)  # what was programmed, read at t0
    t = 1e6
    drifted = cb.read_weights(step=1, dt=t, noise=True)
    g = cb.g.reshape(-1, 2)
    level = sigma * cb.scale * np.hypot(g[:, 0], g[:, 1])  # read-noise sigma of each weight
    assert np.median(np.abs(drifted - w0) / level) > 20  # uncompensated: far outside the noise
    cb.calibrate_compensation()
    alpha = cb.compensate(t)
    assert abs(alpha / t ** 0.06 - 1.0) < 0.01
    comp = cb.read_weights(step=1, dt=t, noise=True)
    z = (comp - w0) / level  # alpha undoes the drift of the signal and of its (relative) read noise alike
    assert np.max(np.abs(z)) < 5.5 and abs(np.std(z) - 1.0) < 0.1


def test_drift_compensation_class_on_any_outputs():
    comp = DriftCompensation()
    with pytest.raises(ValueError, match="before calibrate"):
        comp.factor([1.0])
    assert comp.calibrate([2.0, -2.0, 4.0]) == pytest.approx(8.0 / 3.0)
    np.testing.assert_allclose(comp.apply([1.0, -3.0], [1.0, -1.0, 2.0]), [2.0, -6.0])
    with pytest.raises(ValueError, match="reference"):
        DriftCompensation(reference=-1.0)


def test_drift_compensation_flag_in_a_network_run():
    from memr_snn.networks import vogels_abbott as va

    from memr_snn.kernel import crossbar as X

    age = 1e5
    spec = Crossbar(device=DEV25, encoding="differential", drift=Drift(nu=0.05, nu_std=0.0, t0=1.0), age=age,
                    drift_compensation=True)
    model = va.cuba(400, seed=2, engine="dense", device=spec)
    model.net.run(0.01)
    pr = model.net.projections[0]
    cb = pr.crossbar
    # calibrated t0 after programming (no drift yet), compensated at the run's start (age 1e5 s): alpha = age^nu
    assert abs(cb.comp_alpha / age ** 0.05 - 1.0) < 1e-6  # nu is stored as float32
    # the running kernel reads with the compensated scale, and the compensated read is the programmed weight
    sim = model.net._sim
    x = int(sim.proj_xb[0])
    assert sim.xf[x, X.XF_SCALE] == cb.kernel_rows()[0][X.XF_SCALE]
    np.testing.assert_allclose(cb.read_weights(t=0.0), pr.weights, rtol=1e-6, atol=1e-12 * np.abs(pr.weights).max())


# ----------------------------------------------------------------------------------------------- presets
def test_pcm_aihwkit_preset_carries_the_statistical_model():
    p = load_preset("pcm_aihwkit")
    assert p.programming.noise_model == "aihwkit_pcm" and p.drift.model == "aihwkit_pcm"
    assert p.read_noise.flicker == "aihwkit_pcm" and p.drift.t0 == 20.0 and p.device.g_max == G25
    assert not p.is_ideal
    cb = CrossbarState(Crossbar(preset="pcm_aihwkit", encoding="single", w_max=1.0, scale="fit"), np.arange(500),
                       np.zeros(500, int), np.full(500, 0.5), seed=0)
    assert cb.flicker_on and cb.drift_on and not np.array_equal(cb.g, cb.g_target)


def test_preset_files_without_the_new_fields_load_with_the_old_behaviour():
    d = preset_to_dict(load_preset("hfox_rram"))
    for comp, names in (("read_noise", ("flicker", "flicker_scale", "flicker_t_read")), ("drift", ("model", "scale")),
                        ("retention", ("fail_state", "relax_sigma", "relax_t0")),
                        ("programming", ("noise_model", "noise_sigma"))):
        for name in names:
            d[comp].pop(name)
            d["units"][comp].pop(name, None)
    p = preset_from_dict(d)
    assert p.read_noise.flicker == "none" and p.drift.model == "constant" and p.retention.fail_state == "off"
    assert p.retention.relax_sigma == 0.0 and p.programming.noise_model == "none"
    assert p.retention.e_a == load_preset("hfox_rram").retention.e_a


@pytest.mark.parametrize("bad,match", [
    (lambda: Programming(noise_model="gauss"), "noise_model must be one of"),
    (lambda: Programming(noise_sigma=-1.0), "noise_sigma"),
    (lambda: Drift(model="pcm"), "model must be one of"),
    (lambda: ReadNoise(flicker="pink"), "flicker must be one of"),
    (lambda: ReadNoise(flicker_t_read=0.0), "flicker_t_read"),
    (lambda: Retention(fail_state="up"), "fail_state must be one of"),
    (lambda: Retention(relax_sigma=2.0), "relax_sigma"),
])
def test_new_parameters_are_validated(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()


def test_checkpoint_keeps_epoch_and_compensation_and_reads_old_ones():
    spec = Crossbar(device=DEV25, encoding="single", read_noise=ReadNoise(flicker="aihwkit_pcm"),
                    drift=Drift(nu=0.05, t0=1.0), drift_compensation=True)
    cb = CrossbarState(spec, np.arange(300), np.zeros(300, int), np.full(300, 0.4), seed=9)
    cb.new_noise_epoch()
    cb.compensate(1e4)
    meta, arrays = cb.to_checkpoint()
    back = CrossbarState.from_checkpoint(meta, arrays, cb.tiling.pre, cb.tiling.post)
    assert back.noise_epoch == cb.noise_epoch and back.comp_alpha == cb.comp_alpha
    np.testing.assert_array_equal(back.read_weights(t=1e4, noise=True), cb.read_weights(t=1e4, noise=True))
    for k in ("noise_epoch", "comp_alpha", "comp_ref"):
        meta["state"].pop(k)
    old = CrossbarState.from_checkpoint(meta, arrays, cb.tiling.pre, cb.tiling.post)
    assert old.noise_epoch == 0 and old.comp_alpha == 1.0


def test_preset_files_of_the_first_release_load_or_say_why_not():
    """Files without the pulse-table fields load with the old behaviour; a pulse-count endurance is refused."""
    from memr_snn.devices.presets import PresetError

    d = preset_to_dict(load_preset("hfox_rram"))
    for comp, name in (("device", "reset"), ("device", "refresh"), ("variability", "up_down_d2d")):
        d[comp].pop(name)
        d["units"][comp].pop(name, None)
    d["units"]["endurance"]["cycles"] = "pulses"  # the unit of the first release
    with pytest.raises(PresetError, match="full SET/RESET cycles"):
        preset_from_dict(d)
    d["endurance"]["cycles"] = None  # unlimited: the unit does not matter
    p = preset_from_dict(d)
    assert p.device.reset == "gradual" and p.device.refresh == 0.0 and p.variability.up_down_d2d == 0.0
