"""Program-and-verify (ISPP): convergence under preset noise, exact bookkeeping, kernel == twin, bad input."""

import math

import numpy as np
import pytest

from memr_snn.devices import LinearStepDevice, Programming, load_preset
from memr_snn.devices.programming import program_and_verify
from memr_snn.kernel.reference import program_verify_ref

DEV = LinearStepDevice(g_min=0.0, g_max=100e-6, dg_up=1e-6, dg_down=1e-6)
PROG = Programming(v_read=0.2, t_read=10e-9, e_set=2e-12, e_reset=3e-12, t_pulse=50e-9, t_verify=100e-9,
                   ispp_step=0)


@pytest.mark.parametrize("name, start", [("hfox_rram", "g_min"), ("cbram", "random"), ("pcm_gst", "random")])
def test_converges_for_99_percent_under_preset_noise(name, start):
    """1e4 devices, targets in the central 80 % of the range, the preset's c2c and read noise and
    nonlinearity (hfox: exponential + 64 levels; cbram: soft bounds; pcm: strongly saturating)."""
    p = load_preset(name)
    d = p.device
    span = d.g_max - d.g_min
    rng = np.random.default_rng(7)
    target = rng.uniform(d.g_min + 0.1 * span, d.g_max - 0.1 * span, 10_000)
    g0 = d.g_min if start == "g_min" else rng.uniform(d.g_min, d.g_max, 10_000)
    r = program_and_verify(d, target, g0, read_noise=p.read_noise.read_noise, programming=p.programming, seed=3)
    assert r.converged_fraction >= 0.99
    err = np.abs(r.g - target) / span  # the true error also includes the read noise the verify let through
    assert np.quantile(err[r.converged], 0.99) < 0.01 + 3 * p.read_noise.read_noise * d.g_max / span
    assert np.all(r.pulses <= 100) and r.n_clipped == 0


def test_ideal_device_pulse_counts_are_exact():
    """ispp_step = 0: ceil((D - tau) / dg) pulses (0 when D <= tau) and one read more."""
    tau_rel = 0.005  # tau = 0.5 dg
    deltas = np.array([0.3, 2.7, 10.2, 55.55, -4.6, -0.45]) * 1e-6
    g0 = np.full(deltas.size, 30e-6)
    r = program_and_verify(DEV, g0 + deltas, g0, tolerance=tau_rel, programming=PROG, seed=0)
    want = np.maximum(np.ceil((np.abs(deltas) - 0.5e-6) / 1e-6 - 1e-9), 0).astype(int)
    np.testing.assert_array_equal(r.pulses, want)
    np.testing.assert_array_equal(r.verify_reads, want + 1)
    np.testing.assert_array_equal(r.pulses_up, np.where(deltas > 0, want, 0))
    assert r.converged.all()
    # ispp_step = 1: 1, 2, 3, 4 pulses -> 10 pulses after 4 iterations, 5 reads
    r = program_and_verify(DEV, 40e-6, 30e-6, tolerance=tau_rel, programming=PROG.__class__(ispp_step=1),
                           seed=0)
    assert r.pulses[0] == 10 and r.verify_reads[0] == 5 and r.converged[0]
    np.testing.assert_allclose(r.g, 40e-6, rtol=1e-12)


@pytest.mark.parametrize("ispp_step, ispp_max", [(0, 1), (1, 8), (3, 20)])
def test_ideal_device_takes_the_fewest_pulses_over_the_full_range(ispp_step, ispp_max):
    """The batch is capped at the read distance in nominal steps: for the ideal device (step dg <= 2 tau)
    any ISPP schedule sends exactly ceil((D - tau) / dg) pulses, so every target of the FULL range is
    reached within 100 pulses (99 steps from g_min to g_max)."""
    target = np.random.default_rng(5).uniform(0.0, 100e-6, 2000)  # no target on a rounding edge
    r = program_and_verify(DEV, target, 0.0, tolerance=0.006, max_pulses=100, seed=0,
                           programming=PROG.__class__(ispp_step=ispp_step, ispp_max=ispp_max))
    want = np.maximum(np.ceil((target - 0.6e-6) / 1e-6), 0)
    np.testing.assert_array_equal(r.pulses, want)
    assert r.converged.all() and r.pulses_down.sum() == 0  # never overshoots, never comes back


def test_one_sided_device_resets_once_when_above_target():
    from memr_snn.devices import ExpStepDevice

    pcm = ExpStepDevice(g_min=0.0, g_max=100e-6, dg_up=1e-6, dg_down=1e-6, beta_up=0.0, reset="abrupt")
    r = program_and_verify(pcm, [20e-6], [60e-6], tolerance=0.005, programming=PROG, seed=0)
    # one RESET to g_min, then 20 SET pulses up (minus the half-step tolerance: ceil(19.5) = 20)
    assert r.pulses_down[0] == 1 and r.pulses_up[0] == 20 and r.converged[0]
    np.testing.assert_allclose(r.g, 20e-6, rtol=1e-12)


def test_energy_and_latency_bookkeeping_by_hand():
    r = program_and_verify(DEV, [15e-6, 27e-6], [10e-6, 30e-6], tolerance=0.004, programming=PROG, seed=0)
    # device 0: 5 SET pulses, reads at 10..15 uS; device 1: 3 RESET pulses, reads at 30..27 uS
    np.testing.assert_array_equal(r.pulses, [5, 3])
    np.testing.assert_array_equal(r.verify_reads, [6, 4])
    read = 0.2**2 * 10e-9
    e0 = 5 * 2e-12 + read * (10 + 11 + 12 + 13 + 14 + 15) * 1e-6
    e1 = 3 * 3e-12 + read * (30 + 29 + 28 + 27) * 1e-6
    np.testing.assert_allclose(r.energy, [e0, e1], rtol=1e-12)
    np.testing.assert_allclose(r.latency, [5 * 50e-9 + 6 * 100e-9, 3 * 50e-9 + 4 * 100e-9], rtol=1e-12)
    assert math.isclose(r.energy_total, e0 + e1, rel_tol=1e-12)
    assert math.isclose(r.latency_total, 850e-9 + 550e-9, rel_tol=1e-12)
    assert math.isclose(PROG.read_energy(10e-6), read * 10e-6)


@pytest.mark.parametrize("name", ["hfox_rram", "taox_rram", "pcm_gst", "fefet", "ideal"])
def test_kernel_matches_twin(name):
    p = load_preset(name)
    d = p.device
    rng = np.random.default_rng(11)
    n = 300
    target = rng.uniform(d.g_min, d.g_max, n)
    g0 = rng.uniform(d.g_min, d.g_max, n)
    budget = np.where(rng.random(n) < 0.3, rng.uniform(0.02, 0.6, n), np.inf)  # full cycles
    fault = rng.choice(np.array([0, 0, 0, 0, 1, -1, 2], np.int8), n)
    counts = rng.integers(0, 5, n).astype(np.int64)
    prog = p.programming.__class__(ispp_step=1, ispp_max=5)
    args = dict(read_noise=0.01, tolerance=0.01, max_pulses=60, programming=prog, seed=5, counter=2,
                fail_state="off")
    r = program_and_verify(d, target, g0, budget=budget, fault=fault.copy(), counts=counts.copy(), **args)
    g, c, f, _dv, up, down, reads, gsum, conv = program_verify_ref(
        d.kernel_params(), d.table(n, budget), g0, target, counts, fault, -1, 0.01, 0.01 * (d.g_max - d.g_min), 60, 1,
        5, np.uint64(5), 2)
    np.testing.assert_array_equal(r.g, g)
    np.testing.assert_array_equal(r.counts, c)
    np.testing.assert_array_equal(r.fault, f)
    np.testing.assert_array_equal(r.pulses_up, up)
    np.testing.assert_array_equal(r.pulses_down, down)
    np.testing.assert_array_equal(r.verify_reads, reads)
    np.testing.assert_array_equal(r.converged, conv)
    assert ((f != 0) & (fault == 0)).any()  # some devices wore out during programming
    np.testing.assert_array_equal(r.counts - counts, r.pulses)


def test_faults_and_endurance_during_programming():
    fault = np.array([1, 0, 0], np.int8)
    counts = np.zeros(3, np.int64)
    r = program_and_verify(DEV, [20e-6, 20e-6, 20e-6], 10e-6, programming=PROG, seed=0, max_pulses=30,
                           budget=[np.inf, 3.5 * 0.005, np.inf], fault=fault, counts=counts, fail_state="off")
    assert r.fault is fault and r.counts is counts  # updated in place
    np.testing.assert_array_equal(fault, [1, -1, 0])
    assert not r.converged[0] and r.pulses[0] == 30 and r.g[0] == 10e-6  # stuck: pays for 30 pulses in vain
    assert not r.converged[1] and r.g[1] == 0.0 and r.pulses[1] == 30  # wore out after 4 pulses
    assert r.converged[2] and r.pulses[2] == 9  # ceil((10 - 1) / 1)
    np.testing.assert_array_equal(counts, [30, 30, 9])
    assert r.energy[0] > 30 * PROG.e_set


def test_reproducible_and_counter_gives_fresh_noise():
    p = load_preset("taox_rram")
    kw = dict(read_noise=0.01, programming=p.programming, seed=9)
    a = program_and_verify(p.device, np.full(50, 100e-6), 2e-6, **kw)
    b = program_and_verify(p.device, np.full(50, 100e-6), 2e-6, **kw)
    c = program_and_verify(p.device, np.full(50, 100e-6), 2e-6, counter=1, **kw)
    np.testing.assert_array_equal(a.g, b.g)
    assert not np.array_equal(a.g, c.g)


def test_bad_input_and_clipping():
    with pytest.raises(ValueError, match=r"g_target must be finite \[S\], got nan"):
        program_and_verify(DEV, [1e-5, np.nan], 0.0, programming=PROG, seed=0)
    with pytest.raises(ValueError, match=r"g_target must be finite \[S\], got inf"):
        program_and_verify(DEV, [np.inf], 0.0, programming=PROG, seed=0)
    with pytest.raises(ValueError, match=r"g_init has 3 values but there are 2 devices"):
        program_and_verify(DEV, [1e-5, 2e-5], [0.0, 0.0, 0.0], programming=PROG, seed=0)
    with pytest.raises(ValueError, match=r"max_pulses must be an integer >= 0, got -1"):
        program_and_verify(DEV, [1e-5], 0.0, programming=PROG, seed=0, max_pulses=-1)
    with pytest.raises(ValueError, match=r"tolerance must be finite and >= 0"):
        program_and_verify(DEV, [1e-5], 0.0, programming=PROG, seed=0, tolerance=-0.1)
    r = program_and_verify(DEV, [-1e-5, 2e-4, 5e-5], 5e-5, programming=PROG, seed=0, max_pulses=200)
    assert r.n_clipped == 2 and r.converged.all()
    np.testing.assert_allclose(r.g, [0.0, 100e-6, 50e-6], atol=0.5e-6)
