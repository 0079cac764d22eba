"""Endurance: budgets, failure exactly at the budget, faulty devices ignore pulses, kernel == twin."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memr_snn.devices import Endurance, ExpStepDevice, LinearStepDevice, SoftBoundsDevice
from memr_snn.kernel.device import apply_pulses
from memr_snn.kernel.reference import apply_pulses_ref

SEED = np.uint64(99)
DEV = LinearStepDevice(g_min=1e-6, g_max=100e-6, dg_up=1e-6, dg_down=1e-6)


def step(dev, g, pulses, counts, budget, fault, fail_code=2, counter=0, impl=apply_pulses):
    impl(dev.kernel_params(), g, np.asarray(pulses, dtype=np.int64), counts, SEED, counter, budget, fault, fail_code)


def test_endurance_parameters_and_sampling():
    e = Endurance(cycles=1e6, cycles_d2d=0.5, fail_state="on")
    assert e.fail_code == 1 and Endurance(fail_state="off").fail_code == -1 and Endurance().fail_code == 2
    b = e.sample(200_000, rng=3)
    assert abs(np.median(b) / 1e6 - 1) < 0.01
    assert abs(np.log(b).std() / 0.5 - 1) < 0.02
    assert np.all(np.isinf(Endurance().sample(5, rng=0)))
    with pytest.raises(ValueError, match=r"cycles must be > 0 \[pulses\].*got -1"):
        Endurance(cycles=-1)
    with pytest.raises(ValueError, match=r"fail_state must be one of \['last', 'off', 'on'\], got 'x'"):
        Endurance(fail_state="x")
    with pytest.raises(ValueError, match="cycles_d2d must be finite and >= 0"):
        Endurance(cycles_d2d=-0.1)


@pytest.mark.parametrize("fail_code, want", [(-1, 1e-6), (1, 100e-6), (2, None)])
def test_device_fails_exactly_when_count_reaches_budget(fail_code, want):
    g = np.full(1, 50e-6)
    counts = np.array([3], dtype=np.int64)
    budget = np.array([10.0])
    fault = np.zeros(1, np.int8)
    step(DEV, g, [6], counts, budget, fault, fail_code)  # count 9 < 10: still healthy
    assert fault[0] == 0 and counts[0] == 9
    np.testing.assert_allclose(g, 56e-6, rtol=1e-12)
    step(DEV, g, [5], counts, budget, fault, fail_code)  # the first of these 5 reaches 10
    assert fault[0] == fail_code and counts[0] == 14
    np.testing.assert_allclose(g, 57e-6 if want is None else want, rtol=1e-12)
    g_failed = g.copy()
    step(DEV, g, [-20], counts, budget, fault, fail_code)  # a worn-out device ignores pulses ...
    np.testing.assert_array_equal(g, g_failed)
    assert counts[0] == 34  # ... but counts them


def test_fractional_budget_fails_on_the_pulse_that_crosses_it():
    g = np.full(2, 50e-6)
    counts = np.zeros(2, np.int64)
    fault = np.zeros(2, np.int8)
    step(ExpStepDevice(dg_c2c=0.2), g, [4, 4], counts, np.array([2.5, 0.3]), fault)
    assert list(fault) == [2, 2]
    g1 = np.full(2, 50e-6)
    ref, _, _ = apply_pulses_ref(ExpStepDevice(dg_c2c=0.2).kernel_params(), g1, [3, 1], np.zeros(2, np.int64),
                                 SEED, 0)
    np.testing.assert_array_equal(g, ref)  # 3 pulses then stuck; 1 pulse then stuck


def test_stuck_faults_ignore_pulses():
    g = np.array([100e-6, 1e-6, 40e-6, 40e-6])
    fault = np.array([1, -1, 2, 0], np.int8)
    counts = np.zeros(4, np.int64)
    step(SoftBoundsDevice(dg_c2c=0.3), g, [-5, 5, 7, 7], counts, np.full(4, np.inf), fault)
    np.testing.assert_array_equal(g[:3], [100e-6, 1e-6, 40e-6])
    assert g[3] != 40e-6
    np.testing.assert_array_equal(counts, [5, 5, 7, 7])


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
def test_counts_grow_and_kernel_matches_twin_with_failures(dev_index, n, fail_code, data):
    """Several update calls: counts never decrease, faults never heal; kernel == .py_func == twin."""
    dev = DEVICES[dev_index]
    budget = np.array(data.draw(st.lists(st.sampled_from([1.0, 2.5, 7.0, 20.0, 55.0, math.inf]),
                                         min_size=n, max_size=n)))
    g0 = np.array(data.draw(st.lists(st.floats(1e-6, 100e-6), min_size=n, max_size=n)))
    fault0 = np.array(data.draw(st.lists(st.sampled_from([0, 0, 0, 1, -1, 2]), min_size=n, max_size=n)), np.int8)
    g, c, f = g0.copy(), np.zeros(n, np.int64), fault0.copy()
    g_py, c_py, f_py = g0.copy(), c.copy(), f.copy()
    g_ref, c_ref, f_ref = g0.copy(), c.copy(), f.copy()
    for call in range(4):
        pulses = np.array(data.draw(st.lists(st.integers(-15, 15), min_size=n, max_size=n)), np.int64)
        c_before, f_before = c.copy(), f.copy()
        step(dev, g, pulses, c, budget, f, fail_code, counter=call)
        step(dev, g_py, pulses, c_py, budget, f_py, fail_code, counter=call, impl=apply_pulses.py_func)
        g_ref, c_ref, f_ref = apply_pulses_ref(dev.kernel_params(), g_ref, pulses, c_ref, SEED, call, budget,
                                               f_ref, fail_code)
        assert np.all(c >= c_before)
        np.testing.assert_array_equal(c - c_before, np.abs(pulses))
        assert np.all(f[f_before != 0] == f_before[f_before != 0])  # faults never heal
        newly = (f_before == 0) & (f != 0)
        assert np.all(c[newly] >= budget[newly]) and np.all(f[newly] == fail_code)
        assert np.all((f != 0) | (c < budget))  # healthy devices are under budget
        assert np.all(g >= dev.g_min) and np.all(g <= dev.g_max)
        np.testing.assert_array_equal(c, c_ref)
        np.testing.assert_array_equal(f, f_ref)
        np.testing.assert_array_equal(f, f_py)
        np.testing.assert_array_equal(g, g_py)
        np.testing.assert_array_equal(g, g_ref)
