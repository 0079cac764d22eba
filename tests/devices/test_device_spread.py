"""Device-to-device spread acts on pulses; PCM one-sided operation with abrupt RESET and pair refresh."""

import numpy as np
import pytest

from memr_snn.devices import Crossbar, ExpStepDevice, LinearStepDevice, SoftBoundsDevice, Variability
from memr_snn.kernel import crossbar as X
from memr_snn.kernel.crossbar import device_update
from memr_snn.kernel.device import apply_pulses, refresh_pairs
from memr_snn.kernel.reference import apply_pulses_ref, refresh_pairs_ref

SEED = np.uint64(2024)


def test_per_device_steps_and_bounds_act_exactly():
    """Ideal linear law with per-device steps and bounds: G = clip(G0 + n dg_k, g_min_k, g_max_k), by hand."""
    dev = LinearStepDevice(g_min=0.0, g_max=1.0, dg_up=0.125, dg_down=0.125)
    dv = dev.table(4, g_min=[0.0, 0.0, 0.25, 0.0], g_max=[1.0, 0.5, 1.0, 1.0], dg_up=[0.125, 0.125, 0.125, 0.25],
                   dg_down=[0.125, 0.125, 0.0625, 0.125])
    g = np.array([0.25, 0.25, 0.5, 0.25])
    apply_pulses(dev.kernel_params(), dv, g, np.array([2, 4, -8, 2]), np.zeros(4, np.int64), SEED, 0,
                 np.zeros(4, np.int8), 2)
    # device 1 stops at its own g_max 0.5, device 2 at its own g_min 0.25, device 3 moves twice as far
    np.testing.assert_array_equal(g, [0.5, 0.5, 0.25, 0.75])


def test_soft_bounds_saturate_at_each_devices_own_bounds():
    r"""Soft bounds per device: G_n = G_max,k - (G_max,k - G_0)(1 - a_k)^n, a_k = dg_k / (G_max,k - G_min,k)."""
    dev = SoftBoundsDevice(g_min=1e-6, g_max=101e-6, dg_up=5e-6, dg_down=5e-6)
    gmin = np.array([1e-6, 2e-6, 0.5e-6])
    gmax = np.array([101e-6, 80e-6, 120e-6])
    dup = np.array([5e-6, 3e-6, 8e-6])
    dv = dev.table(3, g_min=gmin, g_max=gmax, dg_up=dup, dg_down=dup)
    g0 = np.array([10e-6, 10e-6, 10e-6])
    g = g0.copy()
    for n in range(1, 30):
        apply_pulses(dev.kernel_params(), dv, g, np.ones(3, np.int64), np.zeros(3, np.int64), SEED, n,
                     np.zeros(3, np.int8), 2)
        want = gmax - (gmax - g0) * (1 - dup / (gmax - gmin)) ** n
        np.testing.assert_allclose(g, want, rtol=1e-12)


def test_variability_sampling_statistics():
    dev = LinearStepDevice(g_min=1e-6, g_max=1e-4, dg_up=2e-6, dg_down=1e-6)
    v = Variability(g_min_d2d=0.3, g_max_d2d=0.2, dg_d2d=0.4, up_down_d2d=0.05)
    s = v.sample(dev, 200_000, rng=1)
    a_up = s["dg_up"] / 2e-6
    a_down = s["dg_down"] / 1e-6
    f = np.sqrt(a_up * a_down / (1 - ((a_up - a_down) / (a_up + a_down)) ** 2))  # common factor
    asym = (a_up - a_down) / (a_up + a_down)  # = a
    assert abs(np.log(f).std() / 0.4 - 1) < 0.01 and abs(np.median(f) - 1) < 0.01
    assert abs(asym.std() / 0.05 - 1) < 0.01 and abs(asym.mean()) < 1e-3
    assert abs(np.log(s["g_max"] / 1e-4).std() / 0.2 - 1) < 0.01
    same = Variability(dg_d2d=0.4).sample(dev, 1000, rng=2)
    np.testing.assert_allclose(same["dg_up"] / same["dg_down"], 2.0, rtol=1e-15)  # no asymmetry spread
    ideal = Variability().sample(dev, 5, rng=3)
    assert np.all(ideal["dg_up"] == 2e-6) and np.all(ideal["g_max"] == 1e-4) and Variability().is_ideal
    with pytest.raises(ValueError, match=r"up_down_d2d = 1.5 \[1\] is outside the allowed range \[0, 1\]"):
        Variability(up_down_d2d=1.5)


def test_crossbar_learning_pulses_follow_each_devices_step():
    """Same pulses, spread on: conductance changes are the sampled per-device steps (ideal law, by hand)."""
    dev = LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-6, dg_down=1e-6)
    pre = np.repeat(np.arange(4), 5)
    post = np.tile(np.arange(5), 4)
    w = np.full(20, 0.5)
    cb = Crossbar(device=dev, encoding="single", variability=Variability(dg_d2d=0.3, up_down_d2d=0.05),
                  seed=3).make_state(pre, post, w, 3, "p", 4)
    g0 = cb.g.copy()
    cb.apply_pulses(np.full(20, 3))
    np.testing.assert_allclose(cb.g - g0, 3 * cb.dg_up_dev, rtol=1e-9)
    assert np.ptp(cb.dg_up_dev) > 0 and not np.array_equal(cb.dg_up_dev, cb.dg_down_dev)
    g1 = cb.g.copy()
    cb.apply_pulses(np.full(20, -2))
    np.testing.assert_allclose(g1 - cb.g, 2 * cb.dg_down_dev, rtol=1e-9)
    _, xi = cb.kernel_rows()
    assert xi[X.XI_ANALOG] == 0  # step spread: plastic updates go through pulses


@pytest.mark.parametrize("dev", [
    ExpStepDevice(g_min=1e-6, g_max=25e-6, dg_up=5e-7, dg_down=5e-7, beta_up=1.5, dg_c2c=0.3, reset="abrupt"),
    LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=2e-6, dg_down=2e-6, reset="abrupt"),
])
def test_abrupt_reset_drops_to_g_min_in_one_pulse(dev):
    rng = np.random.default_rng(0)
    d2d = Variability(g_min_d2d=0.2, g_max_d2d=0.1, dg_d2d=0.2).sample(dev, 50, rng)
    dv = dev.table(50, **d2d)
    g0 = rng.uniform(dv[:, 0], dv[:, 1])
    pulses = rng.integers(-3, 4, 50)
    g = g0.copy()
    apply_pulses(dev.kernel_params(), dv, g, pulses, np.zeros(50, np.int64), SEED, 1, np.zeros(50, np.int8), 2)
    down = pulses < 0
    np.testing.assert_array_equal(g[down], dv[down, 0])  # every RESET lands on the device's own g_min
    assert np.all(g[pulses > 0] > g0[pulses > 0])
    g_ref, _, _, dv_ref = apply_pulses_ref(dev.kernel_params(), dev.table(50, **d2d), g0, pulses,
                                           np.zeros(50, np.int64), SEED, 1)
    np.testing.assert_array_equal(g, g_ref)
    np.testing.assert_array_equal(dv, dv_ref)


def test_refresh_pairs_kernel_matches_twin():
    dev = ExpStepDevice(g_min=1e-6, g_max=25e-6, dg_up=5e-7, dg_down=5e-7, beta_up=1.5, dg_c2c=0.3,
                        reset="abrupt", refresh=0.75)
    rng = np.random.default_rng(4)
    n = 40
    d2d = Variability(g_min_d2d=0.2, g_max_d2d=0.1, dg_d2d=0.2, up_down_d2d=0.05).sample(dev, n, rng)
    dv = dev.table(n, np.where(rng.random(n) < 0.2, 0.6, np.inf), **d2d)
    g = rng.uniform(dv[:, 0], dv[:, 1])
    counts = rng.integers(0, 100, n).astype(np.int64)
    fault = np.where(rng.random(n) < 0.1, 2, 0).astype(np.int8)
    want = refresh_pairs_ref(dev.kernel_params(), dv, g, counts, fault, -1, SEED, 5, 0.75, 200)
    out = np.zeros(3, np.int64)
    refresh_pairs(dev.kernel_params(), dv, g, counts, fault, -1, SEED, 5, 0.75, 200, out)
    for a, b in zip((g, counts, fault, dv, out), want, strict=True):
        np.testing.assert_array_equal(a, b)
    assert out[0] > 0 and out[2] == 2 * out[0]


def _pair_tracking(refresh: float, beta_up: float, c2c: float, n_updates: int = 3000):
    """A differential PCM pair driven by a random-walk target weight through the crossbar update kernel.

    Returns ``|w - target|`` and the correlation of the weight's and the target's increments, both over
    the second half, and the accumulators.
    """
    dev = ExpStepDevice(g_min=0.0, g_max=25.6e-6, dg_up=0.256e-6, dg_down=0.256e-6, beta_up=beta_up,
                        beta_down=0.5, dg_c2c=c2c, reset="abrupt", refresh=refresh)
    k = 1.0 / (dev.g_max - dev.g_min)  # weight 1 = the full range; one nominal pulse = 0.01
    xf = np.zeros((1, X.N_XF))
    xi = np.zeros((1, X.N_XI), dtype=np.int64)
    xf[0, X.XF_SCALE] = k
    xi[0, X.XI_DIFF], xi[0, X.XI_SEED], xi[0, X.XI_FAIL] = 1, 77, 2
    xp = dev.kernel_params()[None, :]
    dv = dev.table(2)
    g = np.array([dev.g_min, dev.g_min])
    counts = np.zeros(2, np.int64)
    fault = np.zeros(2, np.int8)
    tp, rtp, tf, rft = np.zeros(2), np.zeros(1), np.full(2, np.inf), np.full(1, np.inf)
    acc = np.zeros((1, X.N_ACC))
    rng = np.random.default_rng(8)
    target = 0.0
    w, tg = [], []
    for t in range(n_updates):
        dw = float(rng.choice([-1.0, 1.0]) * 0.02)  # +-2 % of the range per update: 2 nominal pulses
        if abs(target + dw) > 0.4:
            dw = -dw
        target += dw
        device_update(0, 0, 0, dw, -1.0, 1.0, t, 1e-4, xf, xi, xp, g, counts, dv, fault, tp, rtp, tf, rft, acc)
        w.append(k * (g[0] - g[1]))
        tg.append(target)
    w, tg = np.array(w[n_updates // 2:]), np.array(tg[n_updates // 2:])
    dw_read = np.diff(w)
    corr = 0.0 if np.all(dw_read == 0.0) else float(np.corrcoef(dw_read, np.diff(tg))[0, 1])  # 0: weight frozen
    return np.abs(w - tg), corr, acc


def test_pcm_pair_with_refresh_keeps_tracking_its_target():
    """Both devices only ever potentiate.  Without refresh they saturate and the weight stops following
    the target; with refresh (read G+ - G-, RESET both, rewrite the difference) the pair keeps tracking:
    a linear noiseless law to within the rewrite resolution (half a step per refresh), the nonlinear noisy
    PCM law (beta_up 1.5, 30 % noise) with its increments still following the target's."""
    err, corr, acc = _pair_tracking(0.75, 0.0, 0.0)
    assert acc[0, X.A_DOWN] > 10  # refresh RESETs (the rule itself never depresses a device)
    assert err.max() < 0.05  # weight 1 = the full range; target walk spans +-0.4
    assert corr > 0.99
    err_off, corr_off, _ = _pair_tracking(0.0, 0.0, 0.0)
    assert np.median(err_off) > 0.1 and corr_off == 0.0  # both saturated: the weight is frozen
    _, corr_pcm, _ = _pair_tracking(0.75, 1.5, 0.3)
    _, corr_pcm_off, _ = _pair_tracking(0.0, 1.5, 0.3)
    assert corr_pcm > 0.8 and corr_pcm_off == 0.0


def test_crossbar_apply_pulses_refreshes_pcm_pairs():
    pre = np.zeros(10, np.int64)
    post = np.arange(10)
    cb = Crossbar(preset="pcm_gst", seed=1).make_state(pre, post, np.linspace(-1, 1, 10), 1, "p", 1)
    assert cb.device.one_sided and cb.differential
    pulses0 = cb.program_pulses
    sent = 0
    for _ in range(40):  # potentiate G+ and G- alternately: both climb towards saturation
        cb.apply_pulses(np.full(10, 3, np.int64))
        cb.apply_pulses(np.full(10, -3, np.int64))
        sent += 60
    assert cb.refreshes > 0
    healthy = cb.fault == 0
    rel = (cb.g - cb.g_min_dev) / (cb.g_max_dev - cb.g_min_dev)
    assert np.all(rel[healthy] < 0.95)  # refreshed pairs left saturation
    assert cb.program_pulses - pulses0 > sent + 2 * cb.refreshes  # RESETs and rewrite SETs are paid for
