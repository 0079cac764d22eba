"""Compact I-V memristor models: kernel vs numpy twin, pinched loops, windows, closed forms, bad input."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memr_snn.devices import StrukovDevice, VTEAMDevice, hysteresis_area, simulate, sine_wave
from memr_snn.devices.iv import WINDOWS
from memr_snn.kernel.iv import iv_transient, iv_window
from memr_snn.kernel.reference import iv_transient_ref, iv_window_ref

WINDOW_KW = {
    "none": {},
    "joglekar": {"window": "joglekar", "p": 2},
    "biolek": {"window": "biolek", "p": 1},
    "prodromakis": {"window": "prodromakis", "p": 2.5, "j": 1.3},
}

#: drives that move each model well inside its bounds: (device, amplitude [V], frequency [Hz])
STRUKOV = {w: StrukovDevice(x0=0.3, **kw) for w, kw in WINDOW_KW.items()}
VTEAM = {w: VTEAMDevice(x0=1e-9, **kw) for w, kw in WINDOW_KW.items()}
CASES = [(d, 1.0, 1.0) for d in STRUKOV.values()] + [(d, 1.0, 2000.0) for d in VTEAM.values()]
IDS = [f"strukov-{w}" for w in STRUKOV] + [f"vteam-{w}" for w in VTEAM]


def run_kernel(dev, v, t, x0, substeps, impl=iv_transient):
    x, i, r = (np.empty(len(t)) for _ in range(3))
    impl(dev.kernel_params(), np.asarray(t, float), np.asarray(v, float), float(x0), substeps, x, i, r)
    return x, i, r


@pytest.mark.parametrize("dev, amp, freq", CASES, ids=IDS)
def test_kernel_matches_numpy_twin(dev, amp, freq):
    """Every model and window: jit kernel, its .py_func and the numpy twin (batched over x0) agree."""
    t, v = sine_wave(amp, freq, n_periods=2, samples_per_period=40)
    lo, hi = dev.x_bounds
    x0s = lo + (hi - lo) * np.array([0.0, 0.3, 0.8, 1.0])
    x_ref, i_ref, r_ref = iv_transient_ref(dev.kernel_params(), t, v, x0s, 6)
    assert np.ptp(x_ref[:, 1]) > 0.05 * (hi - lo)  # the drive really moves the state
    for m, x0 in enumerate(x0s):
        x, i, r = run_kernel(dev, v, t, x0, 6)
        np.testing.assert_allclose(x, x_ref[:, m], rtol=1e-12, atol=1e-13 * (hi - lo))
        np.testing.assert_allclose(r, r_ref[:, m], rtol=1e-12)
        np.testing.assert_allclose(i, i_ref[:, m], rtol=1e-12, atol=1e-18)
    x_jit = run_kernel(dev, v, t, x0s[1], 6)[0]
    np.testing.assert_array_equal(run_kernel(dev, v, t, x0s[1], 6, impl=iv_transient.py_func)[0], x_jit)
    np.testing.assert_array_equal(simulate(dev, v, t, x0=x0s[1], substeps=6).x, x_jit)


@pytest.mark.parametrize("dev, amp, freq", CASES, ids=IDS)
def test_loop_is_pinched_at_the_origin(dev, amp, freq):
    """I = 0 exactly at every zero crossing of the sine, yet the loop has a real area."""
    t, v = sine_wave(amp, freq, n_periods=2, samples_per_period=100)
    trace = simulate(dev, v, t)
    zeros = trace.v == 0.0
    assert zeros.sum() == 5  # t = 0, T/2, T, 3T/2, 2T
    np.testing.assert_array_equal(trace.i[zeros], 0.0)
    assert np.all(trace.i[~zeros] != 0.0)
    assert np.all(np.sign(trace.i) == np.sign(trace.v))  # a passive device
    # hysteresis: the two branches through the same voltage carry different currents
    up, down = trace.i[10], trace.i[40]  # v(10) == v(40) on the first positive half-period
    assert trace.v[10] == pytest.approx(trace.v[40], rel=1e-12)
    assert abs(up - down) > 1e-3 * abs(up)
    assert hysteresis_area(trace, period=1.0 / freq) > 0.0


@pytest.mark.parametrize("window", list(WINDOWS))
def test_loop_area_shrinks_with_frequency_strukov(window):
    dev = STRUKOV[window]
    areas = []
    for f in (5.0, 10.0, 20.0, 40.0):
        t, v = sine_wave(1.0, f, n_periods=2, samples_per_period=100)
        areas.append(hysteresis_area(simulate(dev, v, t, substeps=4), period=1.0 / f))
    assert np.all(np.diff(areas) < 0), areas
    assert areas[-1] < 0.6 * areas[0]


@pytest.mark.parametrize("window", list(WINDOWS))
def test_loop_area_shrinks_with_frequency_vteam(window):
    dev = VTEAM[window]
    areas = []
    for f in (1500.0, 3000.0, 6000.0, 12000.0):
        t, v = sine_wave(1.0, f, n_periods=2, samples_per_period=100)
        areas.append(hysteresis_area(simulate(dev, v, t, substeps=4), period=1.0 / f))
    assert np.all(np.diff(areas) < 0), areas
    assert areas[-1] < 0.6 * areas[0]


def test_strukov_without_window_meets_the_flux_closed_form():
    r"""No window, voltage drive: R(t)^2 = R(x0)^2 - 2 k (R_off - R_on) phi(t) (Strukov et al. 2008).

    phi is the flux of the piecewise-linear drive (trapezoid rule over its samples is exact),
    so the only difference left is the RK4 error.
    """
    dev = StrukovDevice(x0=0.3)
    assert dev.is_ideal and not StrukovDevice(window="biolek").is_ideal
    t, v = sine_wave(1.0, 1.0, n_periods=2, samples_per_period=120)
    trace = simulate(dev, v, t)
    assert 0.0 < trace.x.min() and trace.x.max() < 1.0  # no bound reached: the closed form holds
    assert np.ptp(trace.x) > 0.3
    phi = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(t))])
    r0 = dev.resistance(dev.x0)
    r_exact = np.sqrt(r0 ** 2 - 2.0 * dev.k * (dev.r_off - dev.r_on) * phi)
    np.testing.assert_allclose(trace.r, r_exact, rtol=1e-10)
    np.testing.assert_allclose(trace.x, (dev.r_off - r_exact) / (dev.r_off - dev.r_on), rtol=1e-9)


def test_vteam_constant_overdrive_is_linear_until_the_bound():
    """No window, constant v > v_off: x(t) = x0 + k_off (v/v_off - 1)^alpha_off t, then x_off."""
    dev = VTEAMDevice(alpha_off=2.0)
    assert not dev.is_ideal and VTEAMDevice(alpha_on=1.0, alpha_off=1.0).is_ideal
    t = np.linspace(0.0, 2e-2, 101)
    v = np.full_like(t, 0.5)
    trace = simulate(dev, v, t, substeps=1)
    rate = dev.k_off * (0.5 / dev.v_off - 1.0) ** 2
    np.testing.assert_allclose(trace.x, np.minimum(dev.x0 + rate * t, dev.x_off), rtol=1e-12, atol=1e-24)
    assert trace.x[-1] == dev.x_off
    # and the mirror image under v < v_on
    trace = simulate(dev, -v, t, x0=dev.x_off, substeps=1)
    rate = dev.k_on * (-0.5 / dev.v_on - 1.0) ** dev.alpha_on
    np.testing.assert_allclose(trace.x, np.maximum(dev.x_off + rate * t, dev.x_on), rtol=1e-12, atol=1e-24)


@settings(max_examples=25)
@given(
    window=st.sampled_from(list(WINDOWS)),
    x0=st.floats(0.0, 1.0),
    v=st.lists(st.floats(-0.199, 0.199), min_size=2, max_size=30),
)
def test_vteam_state_frozen_below_thresholds(window, x0, v):
    """|v| below both thresholds: the state is exactly unchanged, the I-V a straight line."""
    dev = VTEAM[window]
    x0 = x0 * dev.x_off
    t = np.arange(len(v)) * 1e-4
    trace = simulate(dev, v, t, x0=x0)
    np.testing.assert_array_equal(trace.x, x0)
    np.testing.assert_array_equal(trace.r, dev.resistance(x0))


def test_window_shapes():
    s = np.linspace(0.0, 1.0, 101)
    for p in (1, 2, 3, 6):
        f = StrukovDevice(window="joglekar", p=p).window_value([0.0, 0.5, 1.0])
        np.testing.assert_array_equal(f, [0.0, 1.0, 0.0])
    for p, j in ((1.0, 1.0), (0.5, 2.0), (2.5, 1.3), (60.0, 1.0)):
        f = StrukovDevice(window="prodromakis", p=p, j=j).window_value(s)
        assert np.argmax(f) == 50 and f[0] == pytest.approx(0.0, abs=1e-15) and f[-1] == pytest.approx(0.0, abs=1e-15)
        assert f[50] == pytest.approx(j * (1.0 - 0.75 ** p), rel=1e-14) and f.max() <= j
    assert StrukovDevice(window="prodromakis", p=60.0, j=1.7).window_value(0.5) == pytest.approx(1.7, rel=1e-7)
    bio = StrukovDevice(window="biolek", p=2)
    up, down = bio.window_value(s, 1.0), bio.window_value(s, -1.0)
    np.testing.assert_array_equal([up[0], up[-1], down[0], down[-1]], [1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(up, down[::-1], rtol=1e-14)
    assert np.all(up[1:] < up[:-1]) and np.all(down[1:] > down[:-1])
    # the jit window, the twin and the device method agree on every window
    for name, code in WINDOWS.items():
        dev = StrukovDevice(window=name, p=2 if name != "prodromakis" else 1.5, j=1.2)
        for d in (1.0, -1.0):
            jit = np.array([iv_window(code, x, d, float(dev.p), dev.j) for x in s])
            np.testing.assert_allclose(jit, dev.window_value(s, d), rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(jit, iv_window_ref(code, s, d, float(dev.p), dev.j), rtol=1e-14, atol=1e-15)


def test_biolek_leaves_a_bound_joglekar_locks():
    """At x = 1 a reverse current moves a Biolek device off the bound; Joglekar's f(1) = 0 holds it there."""
    t, v = np.linspace(0.0, 0.2, 21), np.full(21, -1.0)
    bio = simulate(StrukovDevice(window="biolek", x0=1.0), v, t)
    jog = simulate(StrukovDevice(window="joglekar", x0=1.0), v, t)
    assert bio.x[-1] < 0.9
    np.testing.assert_array_equal(jog.x, 1.0)
    # forward current at the bound: Biolek's window is 0 there too
    np.testing.assert_array_equal(simulate(StrukovDevice(window="biolek", x0=1.0), -v, t).x, 1.0)


DEVICES = [*STRUKOV.values(), *VTEAM.values(), StrukovDevice(window="joglekar", p=1, x0=0.0),
           VTEAMDevice(window="biolek", p=3, alpha_on=1.0, alpha_off=1.0)]


@settings(max_examples=30)
@given(
    dev_index=st.integers(0, len(DEVICES) - 1),
    v=st.lists(st.floats(-8.0, 8.0), min_size=2, max_size=25),
    data=st.data(),
)
def test_state_stays_in_bounds(dev_index, v, data):
    """Random waveforms and sample spacings: x in bounds, R in [r_on, r_off], kernel == twin."""
    dev = DEVICES[dev_index]
    scale = 1.0 if isinstance(dev, StrukovDevice) else 1e-4
    dts = data.draw(st.lists(st.floats(1e-3, 1.0), min_size=len(v) - 1, max_size=len(v) - 1))
    t = np.concatenate([[0.0], np.cumsum(dts)]) * scale
    trace = simulate(dev, v, t, substeps=3)
    lo, hi = dev.x_bounds
    assert np.all(trace.x >= lo) and np.all(trace.x <= hi)
    assert np.all(trace.r >= dev.r_on * (1 - 1e-15)) and np.all(trace.r <= dev.r_off * (1 + 1e-15))
    x_ref, _, _ = iv_transient_ref(dev.kernel_params(), t, v, dev.x0, 3)
    np.testing.assert_allclose(trace.x, x_ref, rtol=1e-12, atol=1e-13 * (hi - lo))


def test_hysteresis_area_of_known_polygons():
    """Two triangles on either side of the origin, traversed in opposite senses: areas add."""
    v = np.array([0.0, 1.0, 1.0, 0.0, -1.0, -1.0, 0.0])
    i = np.array([0.0, 0.0, 2.0, 0.0, 0.0, -4.0, 0.0])
    trace = simulate(StrukovDevice(), v, np.arange(7.0))  # any trace; replace its i below
    trace = dataclasses.replace(trace, i=i)
    assert hysteresis_area(trace) == pytest.approx(1.0 + 2.0, rel=1e-15)


def test_sine_wave_and_trace_are_read_only():
    t, v = sine_wave(2.0, 50.0, n_periods=3, samples_per_period=8)
    assert t.size == 25 and t[-1] == pytest.approx(0.06)
    np.testing.assert_array_equal(v[::4], 0.0)
    assert v[2] == 2.0 and v[6] == -2.0
    trace = simulate(StrukovDevice(), v, t)
    with pytest.raises(ValueError):
        trace.x[0] = 0.5


def test_plot_iv_draws_the_loop():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    from memr_snn.plotting import plot_iv

    t, v = sine_wave(1.0, 5.0, samples_per_period=40)
    trace = simulate(StrukovDevice(), v, t)
    ax = plot_iv(trace, title="loop")
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), trace.v)
    np.testing.assert_array_equal(line.get_ydata(), trace.i)
    assert ax.get_xlabel() == "voltage [V]" and ax.get_title() == "loop"
    plt.close(ax.figure)


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (StrukovDevice, dict(r_on=-1.0), r"^r_on must be finite and > 0 \[Ohm\], got -1.0"),
        (StrukovDevice, dict(r_on=2e4), r"^r_off must be > r_on"),
        (StrukovDevice, dict(d=0.0), r"^d must be finite and > 0 \[m\]"),
        (StrukovDevice, dict(mu_v=float("nan")), r"^mu_v must be finite"),
        (StrukovDevice, dict(x0=1.5), r"^x0 must lie in \[0, 1\], got 1.5"),
        (StrukovDevice, dict(window="hann"), r"^window must be one of 'none', 'joglekar', 'biolek', 'prodromakis'"),
        (StrukovDevice, dict(window="joglekar", p=1.5), r"^p must be an integer >= 1 for the joglekar window, got 1.5"),
        (StrukovDevice, dict(window="biolek", p=0), r"^p must be an integer >= 1 for the biolek window"),
        (StrukovDevice, dict(window="prodromakis", p=-1.0), r"^p must be finite and > 0"),
        (StrukovDevice, dict(window="prodromakis", j=0.0), r"^j must be finite and > 0"),
        (VTEAMDevice, dict(r_on=0.0), r"^r_on must be finite and > 0"),
        (VTEAMDevice, dict(r_off=500.0), r"^r_off must be > r_on"),
        (VTEAMDevice, dict(x_off=-1e-9), r"^x_off must be > x_on"),
        (VTEAMDevice, dict(k_on=1e-7), r"^k_on must be finite and < 0 \[m/s\], got 1e-07"),
        (VTEAMDevice, dict(k_off=-1e-7), r"^k_off must be finite and > 0 \[m/s\]"),
        (VTEAMDevice, dict(v_on=0.1), r"^v_on must be finite and < 0 \[V\], got 0.1"),
        (VTEAMDevice, dict(v_off=-0.1), r"^v_off must be finite and > 0 \[V\]"),
        (VTEAMDevice, dict(alpha_on=0.0), r"^alpha_on must be finite and > 0"),
        (VTEAMDevice, dict(alpha_off=float("inf")), r"^alpha_off must be finite and > 0"),
        (VTEAMDevice, dict(x0=4e-9), r"^x0 must lie in \[0.0, 3e-09\] \[m\], got 4e-09"),
        (VTEAMDevice, dict(window="joglekar", p=2.5), r"^p must be an integer >= 1"),
    ],
)
def test_bad_parameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([0.0, 1.0, 0.0], [0.0, 1.0]), {}, r"^v and t must have the same length, got 3 and 2"),
        (([0.0], [0.0]), {}, r"^t must hold at least 2 samples"),
        (([0.0, 1.0, 0.0], [0.0, 1.0, 1.0]), {}, r"^t must be strictly increasing, got t\[1\]=1.0 >= t\[2\]=1.0"),
        (([0.0, float("nan")], [0.0, 1.0]), {}, r"^v must be finite"),
        (([0.0, 1.0], [0.0, float("inf")]), {}, r"^t must be finite"),
        (([0.0, 1.0], [0.0, 1.0]), {"x0": -0.1}, r"^x0 must lie in \[0.0, 1.0\], got -0.1"),
        (([0.0, 1.0], [0.0, 1.0]), {"substeps": 0}, r"^substeps must be an integer >= 1"),
    ],
)
def test_bad_simulate_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate(StrukovDevice(), *args, **kwargs)


@pytest.mark.parametrize(
    "args, match",
    [
        ((1.0, 0.0), r"^frequency must be finite and > 0 \[Hz\]"),
        ((float("nan"), 1.0), r"^amplitude must be finite \[V\]"),
        ((1.0, 1.0, 0), r"^n_periods must be an integer >= 1"),
        ((1.0, 1.0, 1, 3), r"^samples_per_period must be an integer >= 4"),
    ],
)
def test_bad_sine_wave(args, match):
    with pytest.raises(ValueError, match=match):
        sine_wave(*args)


def test_iv_legend_names_the_loops_not_the_zero_axes():
    """The legend entries belong to the loops (before: labels given positionally went to the zero axes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from memr_snn.plotting import plot_iv

    dev = StrukovDevice()
    fig, ax = plt.subplots()
    for k, f in enumerate((1.0, 10.0)):
        t, v = sine_wave(1.0, f, 1, 400)
        plot_iv(simulate(dev, v, t), ax=ax, color=f"C{k}", label=f"{f:g} Hz")
    legend = ax.legend()
    assert [t.get_text() for t in legend.get_texts()] == ["1 Hz", "10 Hz"]
    assert [h.get_color() for h in legend.legend_handles] == ["C0", "C1"]
    plt.close(fig)
