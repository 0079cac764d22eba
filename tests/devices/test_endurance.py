"""Endurance in full-cycle equivalents: the rule by hand, failure at the budget, faulty devices, kernel == twin."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memr_snn.devices import Endurance, ExpStepDevice, LinearStepDevice, SoftBoundsDevice
from memr_snn.devices.endurance import full_cycles
from memr_snn.kernel.device import apply_pulses
from memr_snn.kernel.reference import apply_pulses_ref

SEED = np.uint64(99)
DEV = LinearStepDevice(g_min=1e-6, g_max=100e-6, dg_up=1e-6, dg_down=1e-6)
W1 = 1e-6 / (2 * 99e-6)  # full-cycle equivalent of one 1e-6 S pulse on a 99e-6 S range


def step(dev, g, pulses, counts, dv, fault, fail_code=2, counter=0, impl=apply_pulses):
    impl(dev.kernel_params(), dv, g, np.asarray(pulses, dtype=np.int64), counts, SEED, counter, fault, fail_code)


def test_endurance_parameters_and_sampling():
    e = Endurance(cycles=1e6, cycles_d2d=0.5, fail_state="on")
    assert e.fail_code == 1 and Endurance(fail_state="off").fail_code == -1 and Endurance().fail_code == 2
    b = e.sample(200_000, rng=3)
    assert abs(np.median(b) / 1e6 - 1) < 0.01
    assert abs(np.log(b).std() / 0.5 - 1) < 0.02
    assert np.all(np.isinf(Endurance().sample(5, rng=0)))
    with pytest.raises(ValueError, match=r"cycles must be > 0 \[cycles\].*got -1"):
        Endurance(cycles=-1)
    with pytest.raises(ValueError, match=r"fail_state must be one of \['last', 'off', 'on'\], got 'x'"):
        Endurance(fail_state="x")
    with pytest.raises(ValueError, match="cycles_d2d must be finite and >= 0"):
        Endurance(cycles_d2d=-0.1)


def test_full_cycle_rule_hand_computed():
    """100 pulses of 1 % of the range up and 100 down are one full cycle; partial pulses are fractions."""
    dev = LinearStepDevice(g_min=0.0, g_max=1.0, dg_up=0.0625, dg_down=0.0625)  # 16 exact steps per range
    dv = dev.table(3)
    g = np.array([0.0, 0.5, 0.25])
    counts = np.zeros(3, np.int64)
    fault = np.zeros(3, np.int8)
    step(dev, g, [16, 4, -2], counts, dv, fault)  # full SET swing; a quarter swing; an eighth swing
    np.testing.assert_array_equal(g, [1.0, 0.75, 0.125])
    np.testing.assert_array_equal(dv[:, 5], [0.5, 0.125, 0.0625])
    step(dev, g, [-16, 40, -40], counts, dv, fault)  # full RESET; clipped at the bounds: only the swing counts
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(dv[:, 5], [1.0, 0.25, 0.125])
    np.testing.assert_array_equal(counts, [32, 44, 42])  # pulse counts are kept apart (energy)
    np.testing.assert_allclose(full_cycles([1.0, -0.25], 0.0, 1.0), [0.5, 0.125])
    # a one-sided (abrupt RESET) device: one RESET pulse from the top is a full half cycle
    pcm = ExpStepDevice(g_min=0.0, g_max=1.0, dg_up=0.1, dg_down=0.1, reset="abrupt")
    dvp, gp = pcm.table(1), np.array([0.8])
    step(pcm, gp, [-1], np.zeros(1, np.int64), dvp, np.zeros(1, np.int8))
    assert gp[0] == 0.0 and dvp[0, 5] == 0.4


@pytest.mark.parametrize("fail_code, want", [(-1, 1e-6), (1, 100e-6), (2, None)])
def test_device_fails_when_wear_reaches_budget(fail_code, want):
    g = np.full(1, 50e-6)
    counts = np.array([3], dtype=np.int64)
    dv = DEV.table(1, 9.5 * W1)
    dv[0, 5] = 3 * W1  # three pulses' wear already
    fault = np.zeros(1, np.int8)
    step(DEV, g, [6], counts, dv, fault, fail_code)  # wear 9 W1 < 9.5 W1: still healthy
    assert fault[0] == 0 and counts[0] == 9
    np.testing.assert_allclose(g, 56e-6, rtol=1e-12)
    np.testing.assert_allclose(dv[0, 5], 9 * W1, rtol=1e-9)
    step(DEV, g, [5], counts, dv, fault, fail_code)  # the first of these 5 crosses 9.5 W1
    assert fault[0] == fail_code and counts[0] == 14
    np.testing.assert_allclose(g, 57e-6 if want is None else want, rtol=1e-12)
    g_failed, wear = g.copy(), dv[0, 5]
    step(DEV, g, [-20], counts, dv, fault, fail_code)  # a worn-out device ignores pulses ...
    np.testing.assert_array_equal(g, g_failed)
    assert counts[0] == 34 and dv[0, 5] == wear  # ... but counts them (no wear: G does not move)


def test_noisy_device_fails_on_the_pulse_that_crosses_its_budget():
    dev = ExpStepDevice(dg_c2c=0.2)
    p = dev.kernel_params()
    wear = []  # wear after each of 4 pulses, unlimited budget, same noise stream (one call: indices 0..3)
    for m in range(1, 5):
        _, _, _, dv = apply_pulses_ref(p, dev.table(1), [50e-6], [m], np.zeros(1, np.int64), SEED, 0)
        wear.append(dv[0, 5])
    budget = np.array([(wear[1] + wear[2]) / 2, wear[0] / 2])  # crossed on pulse 3 and on pulse 1
    g = np.full(2, 50e-6)
    fault = np.zeros(2, np.int8)
    step(dev, g, [4, 4], np.zeros(2, np.int64), dev.table(2, budget), fault)
    assert list(fault) == [2, 2]
    ref, _, _, _ = apply_pulses_ref(p, dev.table(2), np.full(2, 50e-6), [3, 1], np.zeros(2, np.int64), SEED, 0)
    np.testing.assert_array_equal(g, ref)  # 3 pulses then stuck; 1 pulse then stuck


def test_stuck_faults_ignore_pulses():
    g = np.array([100e-6, 1e-6, 40e-6, 40e-6])
    fault = np.array([1, -1, 2, 0], np.int8)
    counts = np.zeros(4, np.int64)
    dev = SoftBoundsDevice(dg_c2c=0.3)
    dv = dev.table(4)
    step(dev, g, [-5, 5, 7, 7], counts, dv, fault)
    np.testing.assert_array_equal(g[:3], [100e-6, 1e-6, 40e-6])
    assert g[3] != 40e-6
    np.testing.assert_array_equal(counts, [5, 5, 7, 7])
    assert np.all(dv[:3, 5] == 0.0) and dv[3, 5] > 0


DEVICES = [
    DEV,
    LinearStepDevice(dg_up=3e-6, dg_down=5e-6, dg_c2c=0.3),
    SoftBoundsDevice(dg_up=8e-6, dg_down=4e-6, dg_c2c=0.5, levels=16),
    ExpStepDevice(dg_up=6e-6, dg_down=9e-6, beta_up=4.0, beta_down=0.5, dg_c2c=0.4),
]


@settings(max_examples=40, deadline=None)
@given(
    dev_index=st.integers(0, len(DEVICES) - 1),
    n=st.integers(1, 12),
    fail_code=st.sampled_from([-1, 1, 2]),
    data=st.data(),
)
def test_wear_grows_and_kernel_matches_twin_with_failures(dev_index, n, fail_code, data):
    """Several update calls: counts and wear never decrease, faults never heal; kernel == .py_func == twin."""
    dev = DEVICES[dev_index]
    budget = np.array(data.draw(st.lists(st.sampled_from([0.01, 0.03, 0.1, 0.3, 1.0, math.inf]),
                                         min_size=n, max_size=n)))
    g0 = np.array(data.draw(st.lists(st.floats(1e-6, 100e-6), min_size=n, max_size=n)))
    fault0 = np.array(data.draw(st.lists(st.sampled_from([0, 0, 0, 1, -1, 2]), min_size=n, max_size=n)), np.int8)
    g, c, f, dv = g0.copy(), np.zeros(n, np.int64), fault0.copy(), dev.table(n, budget)
    g_py, c_py, f_py, dv_py = g0.copy(), c.copy(), f.copy(), dv.copy()
    g_ref, c_ref, f_ref, dv_ref = g0.copy(), c.copy(), f.copy(), dv.copy()
    for call in range(4):
        pulses = np.array(data.draw(st.lists(st.integers(-15, 15), min_size=n, max_size=n)), np.int64)
        c_before, f_before, w_before = c.copy(), f.copy(), dv[:, 5].copy()
        step(dev, g, pulses, c, dv, f, fail_code, counter=call)
        step(dev, g_py, pulses, c_py, dv_py, f_py, fail_code, counter=call, impl=apply_pulses.py_func)
        g_ref, c_ref, f_ref, dv_ref = apply_pulses_ref(dev.kernel_params(), dv_ref, g_ref, pulses, c_ref, SEED, call,
                                                       f_ref, fail_code)
        np.testing.assert_array_equal(c - c_before, np.abs(pulses))
        assert np.all(dv[:, 5] >= w_before)
        assert np.all(f[f_before != 0] == f_before[f_before != 0])  # faults never heal
        newly = (f_before == 0) & (f != 0)
        assert np.all(dv[newly, 5] >= budget[newly]) and np.all(f[newly] == fail_code)
        assert np.all((f != 0) | (dv[:, 5] < budget))  # healthy devices are under budget
        assert np.all(g >= dev.g_min) and np.all(g <= dev.g_max)
        for a, b in ((c, c_ref), (f, f_ref), (f, f_py), (g, g_py), (g, g_ref), (dv, dv_py), (dv, dv_ref)):
            np.testing.assert_array_equal(a, b)
