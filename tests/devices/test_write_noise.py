"""Cycle-to-cycle noise terms (relative, additive, state-dependent), write noise and the PCM RESET level.

References: AIHWKit's pulsed-device models (IBM/aihwkit: ``PulsedDevice`` ``dw_min_std`` with
``mult_noise``, ``ExpStepDevice`` complex noise ``dw_std = dw_min_std (|dw| + dw_min_std_add +
dw_min_std_slope |w|)``, ``write_noise_std`` on a persistent weight, ``resetCols``: bias plus
``reset_std`` noise clipped to the bounds) and the closed forms of a normal and a clipped normal.
"""

import math

import numpy as np
import pytest

from memr_snn.devices import (
    Crossbar,
    ExpStepDevice,
    LinearStepDevice,
    Programming,
    SoftBoundsDevice,
    Variability,
    load_preset,
    preset_from_dict,
    preset_to_dict,
    program_and_verify,
)
from memr_snn.kernel import device as K
from memr_snn.kernel.device import apply_pulses, refresh_pairs
from memr_snn.kernel.reference import apply_pulses_ref, refresh_pairs_ref

SEED = np.uint64(777)
N = 100_000


def _pulse(dev, g0, pulses, dv=None, counter=0, fail_code=2):
    g = np.array(g0, dtype=np.float64)
    dv = dev.table(g.size) if dv is None else dv
    counts = np.zeros(g.size, np.int64)
    fault = np.zeros(g.size, np.int8)
    apply_pulses(dev.kernel_params(), dv, g, np.asarray(pulses, np.int64), counts, SEED, counter, fault, fail_code)
    return g, dv, fault


def _close(got, want, rel=0.02):
    assert abs(got / want - 1.0) < rel, (got, want)


# ------------------------------------------------------------------------- closed forms, 1e5 samples
@pytest.mark.parametrize("up", [True, False])
@pytest.mark.parametrize("c2c, add, slope", [(0.0, 0.4, 0.0), (0.0, 0.0, 0.001), (0.2, 0.2, 0.0005)])
def test_one_pulse_has_the_closed_form_mean_and_spread(up, c2c, add, slope):
    """Soft bounds at x = 0.5 (range 1, steps 1e-3 up, 2e-3 down): mean step dg (1 - x) up, -dg x down;
    spread c2c |step| + add dg + slope (G - g_min); no clipping (the spread is a step, G sits mid-range).
    The spreads stay below 1.4 mean steps, so 4 standard errors of the mean are under 2 % of it."""
    dev = SoftBoundsDevice(g_min=0.0, g_max=1.0, dg_up=1e-3, dg_down=2e-3, dg_c2c=c2c, dg_c2c_add=add,
                           dg_c2c_slope=slope)
    x = 0.5
    g, _, _ = _pulse(dev, np.full(N, x), np.full(N, 1 if up else -1))
    step = g - x
    dg = 1e-3 if up else 2e-3
    mean = dg * (1 - x) if up else -dg * x
    sd = c2c * abs(mean) + add * dg + slope * x
    assert 4 * sd / math.sqrt(N) < 0.02 * abs(mean)  # the check below can tell 2 % apart
    assert abs(step.mean() - mean) < 0.02 * abs(mean)
    _close(step.std(), sd)


def test_additive_noise_stays_where_soft_bounds_stop_the_step():
    """At the upper bound the soft-bounds step is 0: relative noise vanishes, additive noise does not
    (AIHWKit's mult_noise=False); the upward draws are clipped, the downward ones are half-normal."""
    rel = SoftBoundsDevice(g_min=0.0, g_max=1.0, dg_up=1e-3, dg_c2c=0.5)
    add = SoftBoundsDevice(g_min=0.0, g_max=1.0, dg_up=1e-3, dg_c2c_add=0.5)
    g_rel, _, _ = _pulse(rel, np.full(N, 1.0), np.ones(N))
    g_add, _, _ = _pulse(add, np.full(N, 1.0), np.ones(N))
    assert np.all(g_rel == 1.0)
    fall = 1.0 - g_add
    assert 0.48 < np.mean(fall > 0) < 0.52  # half the draws point down
    _close(fall.mean(), 0.5e-3 / math.sqrt(2 * math.pi))  # E[max(sigma xi, 0)] = sigma / sqrt(2 pi)


def test_state_dependent_noise_grows_with_conductance():
    """Constant steps, slope term only: the spread of one pulse is slope (G - g_min) at every G."""
    dev = LinearStepDevice(g_min=0.1, g_max=1.0, dg_up=1e-3, dg_c2c_slope=0.01)
    for g0 in (0.2, 0.5, 0.9):
        g, _, _ = _pulse(dev, np.full(N, g0), np.ones(N))
        sd = 0.01 * (g0 - 0.1)
        _close((g - g0).std(), sd)
        assert abs((g - g0).mean() - 1e-3) < 4 * sd / math.sqrt(N)  # four standard errors


def test_write_noise_is_fresh_at_every_write_and_does_not_accumulate():
    """Linear law, write noise only: the hidden state walks exactly n dg; what the device shows is the
    hidden state plus N(0, sigma_w), redrawn at every write (its spread stays sigma_w after 20 writes)."""
    sw = 4e-3
    dev = LinearStepDevice(g_min=0.0, g_max=1.0, dg_up=1e-3, dg_down=1e-3, write_noise=sw)
    g = np.full(N, 0.5)
    dv = dev.table(N)
    shown = []
    for call in range(20):
        g, dv, _ = _pulse(dev, g, np.ones(N), dv=dv, counter=call)
        shown.append(g.copy())
    hidden = dv[:, K.DV_HIDDEN]
    np.testing.assert_allclose(hidden, 0.5 + 20e-3, rtol=1e-12)
    np.testing.assert_array_equal(dv[:, K.DV_SHOWN], g)
    noise = g - hidden
    assert abs(noise.mean()) < 0.02 * sw
    _close(noise.std(), sw)
    first = shown[0] - (0.5 + 1e-3)
    assert abs(np.corrcoef(first, noise)[0, 1]) < 0.02  # a new draw, not the old error carried along


def test_a_conductance_set_elsewhere_becomes_the_state():
    """When G no longer equals what the last noisy write left (a direct write), pulses start from G."""
    dev = LinearStepDevice(g_min=0.0, g_max=1.0, dg_up=0.25, write_noise=0.01)
    g, dv, _ = _pulse(dev, [0.25, 0.25], [1, 1])
    assert np.all(dv[:, K.DV_HIDDEN] == 0.5)
    g = np.array([g[0], 0.125])  # device 1 rewritten directly
    g, dv, _ = _pulse(dev, g, [1, 1], dv=dv, counter=1)
    np.testing.assert_array_equal(dv[:, K.DV_HIDDEN], [0.75, 0.375])


@pytest.mark.parametrize("level, spread", [(0.3, 0.05), (0.0, 0.05), (0.2, 0.0)])
def test_reset_lands_with_the_closed_form_level_and_spread(level, spread):
    """Abrupt RESET from the top: G = clip(g_min + (rho + sigma_r xi) span); with rho = 0 the clipped
    normal has E = sigma_r / sqrt(2 pi) and E[X^2] = sigma_r^2 / 2 (in units of the span)."""
    dev = ExpStepDevice(g_min=1e-6, g_max=21e-6, dg_up=1e-6, dg_down=1e-6, reset="abrupt", reset_level=level,
                        reset_spread=spread)
    g, _, _ = _pulse(dev, np.full(N, 20e-6), -np.ones(N))
    x = (g - 1e-6) / 20e-6
    if spread == 0.0:
        np.testing.assert_allclose(x, level, rtol=1e-12)
    elif level == 0.0:
        assert np.all(x >= 0.0)
        _close(x.mean(), spread / math.sqrt(2 * math.pi))
        _close(np.mean(x**2), spread**2 / 2)
    else:
        _close(x.mean(), level)
        _close(x.std(), spread)


# ------------------------------------------------------------------------- kernel = py_func = numpy twin
NOISY = [
    LinearStepDevice(dg_up=3e-6, dg_down=5e-6, dg_c2c=0.3, dg_c2c_add=0.4, dg_c2c_slope=0.02, write_noise=2e-6),
    SoftBoundsDevice(dg_up=8e-6, dg_down=4e-6, dg_c2c_add=0.7, levels=16, write_noise=1e-6),
    ExpStepDevice(dg_up=6e-6, dg_down=9e-6, beta_up=4.0, beta_down=0.5, dg_c2c_slope=0.05),
    ExpStepDevice(dg_up=2e-6, dg_down=2e-6, beta_up=1.5, dg_c2c=0.3, dg_c2c_add=0.5, dg_c2c_slope=0.03,
                  write_noise=1e-6, reset="abrupt", reset_level=0.01, reset_spread=0.02, refresh=0.7),
    LinearStepDevice(write_noise=3e-6),
]


@pytest.mark.parametrize("dev", NOISY, ids=lambda d: f"{d.kind}-{d.reset}")
def test_kernel_py_func_and_numpy_twin_agree_over_many_calls(dev):
    rng = np.random.default_rng(3)
    n = 60
    d2d = Variability(g_min_d2d=0.2, g_max_d2d=0.1, dg_d2d=0.3, up_down_d2d=0.05).sample(dev, n, rng)
    budget = np.where(rng.random(n) < 0.3, 0.3, np.inf)
    dv = [dev.table(n, budget, **d2d) for _ in range(3)]
    g0 = rng.uniform(dv[0][:, 0], dv[0][:, 1])
    g = [g0.copy() for _ in range(3)]
    c = [np.zeros(n, np.int64) for _ in range(3)]
    f = [np.zeros(n, np.int8) for _ in range(3)]
    p = dev.kernel_params()
    assert p.size == K.N_P
    for call in range(25):
        pulses = rng.integers(-6, 7, n)
        apply_pulses(p, dv[0], g[0], pulses, c[0], SEED, call, f[0], -1)
        apply_pulses.py_func(p, dv[1], g[1], pulses, c[1], SEED, call, f[1], -1)
        g[2], c[2], f[2], dv[2] = apply_pulses_ref(p, dv[2], g[2], pulses, c[2], SEED, call, f[2], -1)
    for i in (1, 2):
        np.testing.assert_array_equal(c[0], c[i])
        np.testing.assert_array_equal(f[0], f[i])
        np.testing.assert_array_equal(g[0], g[i])
        np.testing.assert_array_equal(dv[0], dv[i])
    assert np.all((g[0] >= dv[0][:, 0]) & (g[0] <= dv[0][:, 1]))
    assert (f[0] != 0).any()  # some devices wore out on the way
    if dev.write_noise > 0:
        live = f[0] == 0
        assert np.any(g[0][live] != dv[0][live, K.DV_HIDDEN])  # shown conductance differs from the state


def test_refresh_kernel_matches_its_twin_with_every_term_on():
    dev = NOISY[3]
    rng = np.random.default_rng(5)
    n = 40
    dv = dev.table(n, **Variability(g_max_d2d=0.1, dg_d2d=0.3).sample(dev, n, rng))
    g = rng.uniform(dv[:, 0] + 0.5 * (dv[:, 1] - dv[:, 0]), dv[:, 1])
    counts = rng.integers(0, 40, n).astype(np.int64)
    fault = np.zeros(n, np.int8)
    want = refresh_pairs_ref(dev.kernel_params(), dv, g, counts, fault, -1, SEED, 5, 0.7, 200)
    out = np.zeros(3, np.int64)
    refresh_pairs(dev.kernel_params(), dv, g, counts, fault, -1, SEED, 5, 0.7, 200, out)
    np.testing.assert_array_equal(g, want[0])
    np.testing.assert_array_equal(counts, want[1])
    np.testing.assert_array_equal(dv, want[3])
    np.testing.assert_array_equal(out, want[4])
    assert out[0] > 0


def test_program_and_verify_reads_the_noisy_write():
    """With write noise, verify sees the shown conductance; the loop converges on it (within tolerance)."""
    dev = LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-6, dg_down=1e-6, write_noise=0.3e-6)
    rng = np.random.default_rng(2)
    target = rng.uniform(1e-5, 9e-5, 500)
    r = program_and_verify(dev, target, np.full(500, 5e-5), read_noise=0.0, tolerance=0.01, max_pulses=400,
                           programming=Programming(), seed=1)
    assert r.converged.mean() > 0.99
    assert np.all(np.abs(r.g[r.converged] - target[r.converged]) <= 0.01 * 1e-4 + 1e-18)


# ------------------------------------------------------------------------- parameters and files
@pytest.mark.parametrize("name, value, match", [
    ("dg_c2c_add", -0.1, r"dg_c2c_add must be finite and >= 0|dg_c2c_add = -0.1"),
    ("dg_c2c_add", 500.0, r"dg_c2c_add = 500.0 \[1\] is outside the allowed range \[0, 100\]"),
    ("dg_c2c_slope", 2.0, r"dg_c2c_slope = 2.0 \[1\] is outside the allowed range \[0, 1\]"),
    ("write_noise", float("nan"), r"write_noise must be finite"),
    ("write_noise", 3.0, r"write_noise = 3.0 \[S\] is outside the allowed range \[0, 1\]"),
    ("reset_level", 1.5, r"reset_level = 1.5 \[1\] is outside the allowed range \[0, 1\]"),
    ("reset_spread", -1.0, r"reset_spread = -1.0 \[1\] is outside the allowed range \[0, 1\]"),
])
def test_bad_values_are_refused_with_name_value_and_range(name, value, match):
    with pytest.raises(ValueError, match=match):
        LinearStepDevice(**{name: value})


@pytest.mark.parametrize("name", ["dg_c2c_add", "dg_c2c_slope", "write_noise", "reset_level", "reset_spread"])
def test_any_new_term_makes_the_device_non_ideal(name):
    assert LinearStepDevice().is_ideal
    assert not LinearStepDevice(**{name: 1e-3}).is_ideal


def test_preset_files_without_the_new_fields_load_with_them_off():
    d = preset_to_dict(load_preset("pcm_gst"))
    for key in ("dg_c2c_add", "dg_c2c_slope", "write_noise", "reset_level", "reset_spread"):
        del d["device"][key], d["units"]["device"][key], d["provenance"]["device"][key]
    p = preset_from_dict(d)
    assert p.device == load_preset("pcm_gst").device  # the built-in keeps every new term at 0


def test_crossbar_with_write_noise_keeps_its_hidden_state_through_a_checkpoint():
    dev = LinearStepDevice(g_min=0.0, g_max=1e-4, dg_up=1e-6, dg_down=1e-6, write_noise=0.5e-6)
    spec = Crossbar(device=dev, encoding="single", program="direct")
    pre = np.repeat(np.arange(4), 3)
    post = np.tile(np.arange(3), 4)
    cb = spec.make_state(pre, post, np.linspace(0.1, 1.0, 12), seed=3, name="x", n_pre=4)
    cb.apply_pulses(np.arange(12) % 5 - 2)
    assert np.any(cb.g_hidden != cb.g)
    meta, arrays = cb.to_checkpoint()
    back = type(cb).from_checkpoint(meta, arrays, pre, post, name="x")
    np.testing.assert_array_equal(back.g_hidden, cb.g_hidden)
    np.testing.assert_array_equal(back.g_shown, cb.g_shown)
    old = {k: v for k, v in arrays.items() if k not in ("g_hidden", "g_shown")}  # a file from before
    np.testing.assert_array_equal(type(cb).from_checkpoint(meta, old, pre, post, name="x").g_hidden, 0.0)
