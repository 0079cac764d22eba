"""Crossbar projections: ideal equivalence, the read kernel vs its twin, mapping, wires, statistics."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from memr_snn.networks import vogels_abbott as va

from memr_snn import FixedProbability, LIFParams, Network, PoissonSource, Population, Projection, SpikeMonitor
from memr_snn.devices import (
    ArraySpec,
    Crossbar,
    Drift,
    LinearStepDevice,
    ReadNoise,
    Retention,
    StuckFaults,
    Variability,
)
from memr_snn.kernel import crossbar as X
from memr_snn.kernel.crossbar import pair_normals, read_row, row_key
from memr_snn.kernel.reference import crossbar_normals_ref, read_row_ref, run_reference
from memr_snn.units import ms, mV, pA

NOISY = dict(read_noise=ReadNoise(0.05), drift=Drift(nu=0.06, nu_std=0.02, t0=1.0), age=100.0)


def _spikes(mon):
    return mon.t.copy(), mon.i.copy()


@pytest.mark.parametrize("engine", ["dense", "event"])
@pytest.mark.parametrize("spec", [dict(encoding="single"), dict(encoding="differential"), dict(preset="ideal")])
def test_ideal_crossbar_gives_float_weight_spikes_bit_for_bit(engine, spec):
    plain = va.cuba(1000, seed=5, engine=engine)
    plain.net.run(0.3)
    xb = va.cuba(1000, seed=5, engine=engine, device=Crossbar(**spec))
    xb.net.run(0.3)
    assert plain.spikes_exc.num_spikes > 100
    for a, b in ((plain.spikes_exc, xb.spikes_exc), (plain.spikes_inh, xb.spikes_inh)):
        np.testing.assert_array_equal(a.t, b.t)
        np.testing.assert_array_equal(a.i, b.i)
    np.testing.assert_array_equal(plain.net.get_state(plain.exc, "v"), xb.net.get_state(xb.exc, "v"))
    for pr in xb.net.projections:
        cb = pr.crossbar
        assert cb.is_ideal
        np.testing.assert_array_equal(cb.read_weights(), pr.weights)  # w -> G -> w is exact


def test_nonideal_crossbar_changes_activity_and_counts_reads():
    plain = va.cuba(1000, seed=5, engine="dense")
    plain.net.run(0.3)
    xb = va.cuba(1000, seed=5, engine="dense", device=Crossbar(**NOISY))
    xb.net.run(0.3)
    assert not np.array_equal(plain.spikes_exc.i, xb.spikes_exc.i)
    # every spike reads each outgoing synapse's pair once
    n_exc = xb.spikes_exc.num_spikes
    pr = xb.net.projections[0]
    rows = np.diff(pr.indptr)
    expected_reads = 2 * rows[xb.spikes_exc.i].sum()
    assert pr.crossbar.reads == expected_reads
    assert n_exc > 0 and pr.crossbar.read_energy > 0


def _row_case(rng, diff, drift, ret, wire, sigma, slow=0, n=40):
    per = 2 if diff else 1
    m = per * n
    xf = np.zeros((2, X.N_XF))
    xi = np.zeros((2, X.N_XI), dtype=np.int64)
    x = 1
    off = 7
    xf[x, :6] = [2.5e3, 1e-6, sigma, 1.0, 0.04 * 1e-8, 1e-6]
    xi[x, :9] = [off, int(diff), int(drift), int(np.uint64(0xDEADBEEF12345).view(np.int64)), int(ret), int(wire), 0,
                 0, 2]
    if slow:  # accumulated 1/f noise and relaxation (1: both, 2: relaxation only, 3: 1/f only)
        xf[x, X.XF_GNORM], xf[x, X.XF_FLICK], xf[x, X.XF_TRF] = 1e-4, 0.0 if slow == 2 else 1.0, 250e-9
        xf[x, X.XF_RELAX], xf[x, X.XF_RT0] = 0.0 if slow == 3 else 2e-6, 1.0
        xi[x, X.XI_EPOCH] = 3
    total = off + m + 3
    g = rng.uniform(1e-6, 1e-4, total)
    nu = rng.uniform(0, 0.2, total)
    tp = rng.choice([-50.0, -3.0, 0.0], total)
    tf = rng.exponential(60.0, total)
    rs = rng.uniform(0, 500.0, total)
    gs = rng.uniform(0, 1e-7, total)
    return x, xf, xi, g, nu, tp, tf, rs, gs


def _row_tp(tp, off, per, lo, hi, shared):
    """A per-row programming-time array for row 0 = synapses lo..hi: shared value, or NaN."""
    d = tp[off + per * lo: off + per * hi]
    return np.array([d[0] if shared and np.all(d == d[0]) else np.nan])


@pytest.mark.parametrize("diff", [False, True])
@pytest.mark.parametrize("flags", [(0, 0, 0, 0.0, 0), (1, 0, 0, 0.0, 0), (0, 1, 0, 0.0, 0), (0, 0, 1, 0.0, 0),
                                   (0, 0, 0, 0.1, 0), (1, 1, 1, 0.3, 0), (0, 0, 0, 0.0, 1), (1, 1, 1, 0.3, 1),
                                   (0, 0, 0, 0.0, 2), (1, 1, 1, 0.3, 2), (0, 1, 0, 0.0, 3)])
def test_read_kernel_matches_numpy_twin(diff, flags):
    drift, ret, wire, sigma, slow = flags
    rng = np.random.default_rng(3)
    x, xf, xi, g, nu, tp, tf, rs, gs = _row_case(rng, diff, drift, ret, wire, sigma, slow)
    per = 2 if diff else 1
    cases = [(0, (5, 35)), (17, (6, 35)), (123456, (5, 34)), (3, (0, 1)), (4, (39, 40))]
    for (t, (lo, hi)), shared in zip(cases * 2, [False] * 5 + [True] * 5, strict=True):
        if shared:  # the whole row programmed at once: the kernel's one-log shortcut
            tp[7 + per * lo: 7 + per * hi] = -50.0
        rtp = _row_tp(tp, 7, per, lo, hi, shared)
        out_k, out_r = np.zeros(40), np.zeros(40)
        acc_k, acc_r = np.zeros((2, X.N_ACC)), np.zeros((2, X.N_ACC))
        rft = np.array([np.min((tp + tf)[7 + per * lo: 7 + per * hi])])
        read_row(x, 0, lo, hi, t, 1e-3, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc_k, out_k, np.zeros(80))
        read_row_ref(x, 0, lo, hi, t, 1e-3, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc_r, out_r)
        np.testing.assert_allclose(out_k, out_r, rtol=1e-12, atol=1e-20)
        np.testing.assert_allclose(acc_k, acc_r, rtol=1e-12)
        assert acc_k[x, X.A_READS] == (hi - lo) * (2 if diff else 1)


@pytest.mark.parametrize("diff", [False, True])
def test_cached_ideal_read_is_the_read_kernel(diff):
    """The cached ideal read gives read_row's weights and counts; it serves the cache until marked stale."""
    rng = np.random.default_rng(5)
    x, xf, xi, g, nu, tp, tf, rs, gs = _row_case(rng, diff, 0, 0, 0, 0.0)
    assert X.ideal_read(x, xf, xi) and not X.ideal_read(x, xf, _row_case(rng, diff, 1, 0, 0, 0.0)[2])
    lo, hi, n = 6, 35, 29
    out, acc = np.zeros(40), np.zeros((2, X.N_ACC))
    read_row(x, 0, lo, hi, 9, 1e-3, xf, xi, g, nu, tp, tp[:1], tf, tf[:1], rs, gs, acc, out, np.zeros(80))
    w, wtot, acc_c = np.zeros(n), np.full(3, np.nan), np.zeros((2, X.N_ACC))
    X.read_row_cached(x, lo, hi, xf, xi, g, acc_c, w, wtot, 1)
    np.testing.assert_array_equal(w, out[:n])
    np.testing.assert_array_equal(acc_c, acc)
    assert np.isnan(wtot[[0, 2]]).all()
    g_old = g.copy()
    g *= 3.0  # a write the cache is not told about: still the old row, counted again
    X.read_row_cached(x, lo, hi, xf, xi, g, acc_c, w, wtot, 1)
    np.testing.assert_array_equal(w, out[:n])
    np.testing.assert_array_equal(acc_c, 2 * acc)
    wtot[1] = np.nan  # marked stale: the devices are read again
    X.read_row_cached(x, lo, hi, xf, xi, g, acc_c, w, wtot, 1)
    old = out[:n].copy()
    read_row(x, 0, lo, hi, 9, 1e-3, xf, xi, g, nu, tp, tp[:1], tf, tf[:1], rs, gs, acc, out, np.zeros(80))
    np.testing.assert_array_equal(w, out[:n])
    assert not np.any(w == old) and np.array_equal(g, 3.0 * g_old)


@pytest.mark.parametrize("diff", [False, True])
def test_cached_flicker_factors_give_the_same_reads(diff):
    """read_row_qs with its cache of the 1/f factors: fills them on the first read of a row, then reads the
    same numbers as read_row (and its twin) from them; a stale row is recomputed."""
    rng = np.random.default_rng(7)
    x, xf, xi, g, nu, tp, tf, rs, gs = _row_case(rng, diff, 1, 0, 0, 0.1, slow=1)
    per = 2 if diff else 1
    lo, hi = 5, 34
    tp[:] = -50.0
    rtp, rft = np.array([-50.0]), np.array([np.inf])
    qs, qrow = np.zeros(g.size), np.full(2, np.nan)
    for t in (3, 17, 17, 400):
        out, out_q = np.zeros(40), np.zeros(40)
        acc, acc_q = np.zeros((2, X.N_ACC)), np.zeros((2, X.N_ACC))
        read_row(x, 0, lo, hi, t, 1e-3, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc, out, np.zeros(80))
        X.read_row_qs(x, 0, lo, hi, t, 1e-3, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc_q, out_q, np.zeros(80),
                      qs, qrow, 1)
        np.testing.assert_array_equal(out_q, out)
        np.testing.assert_array_equal(acc_q, acc)
        assert qrow[1] == 0.0 and np.isnan(qrow[0])
    d = slice(7 + per * lo, 7 + per * hi)
    np.testing.assert_array_equal(qs[d], [X.flicker_factor(v, xf[x, X.XF_GNORM]) for v in g[d]])
    assert not qs[:7].any() and not qs[7 + per * hi:].any()  # only the row's devices
    g[d] *= 0.5  # a rewrite: the cached factors are stale until the row is marked so
    qrow[1] = np.nan
    X.read_row_qs(x, 0, lo, hi, 9, 1e-3, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc_q, out_q, np.zeros(80),
                  qs, qrow, 1)
    read_row(x, 0, lo, hi, 9, 1e-3, xf, xi, g, nu, tp, rtp, tf, rft, rs, gs, acc, out, np.zeros(80))
    np.testing.assert_array_equal(out_q, out)


def test_prefetch_is_only_a_hint():
    """Prefetching rows (first, last, empty, with drift exponents) changes nothing and reads nothing out of range."""
    rng = np.random.default_rng(6)
    x, xf, xi, g, nu, tp, tf, rs, gs = _row_case(rng, True, 1, 0, 0, 0.0)
    g0, nu0 = g.copy(), nu.copy()
    for lo, hi in ((0, 40), (39, 40), (5, 5), (0, 1)):
        X.prefetch_row(x, lo, hi, xi, g, nu)
    np.testing.assert_array_equal(g, g0)
    np.testing.assert_array_equal(nu, nu0)


@pytest.mark.parametrize(("device", "code"), [(Crossbar(), 1), (Crossbar(preset="pcm_aihwkit", age=3600.0), 2)])
def test_reprogramming_between_runs_reaches_the_cached_reads(device, code):
    """Weights assigned between runs are what the next run reads (the per-run caches are reset), as in the twin."""
    net, post, mon = _small_net(device)
    sim = net._ensure_built()
    net.run(30 * ms)
    assert sim.proj_xc[0] == code and sim.proj_xc[1] == 0  # ideal: weights cached; 1/f: factors; the rest: none
    pr = net.projections[0]
    pr.weights = pr.weights * 0.5
    n0 = mon.i.size
    steps, gids, _ = run_reference(sim, 600)
    net.run(60 * ms)
    lo = int(sim.pop_lo[1])
    post_spk = gids >= lo
    assert post_spk.sum() > 5
    np.testing.assert_array_equal(mon.i[n0:], gids[post_spk] - lo)
    np.testing.assert_array_equal(np.round(mon.t[n0:] / (0.1 * ms)).astype(np.int64), steps[post_spk])


def test_drift_factor_is_exp_to_1e12():
    from memr_snn.kernel.crossbar import drift_factor
    from memr_snn.kernel.reference import drift_factor_ref

    x = -np.concatenate([np.linspace(0, 28, 20001), np.geomspace(1e-12, 28, 2001)])
    want = np.exp(x)
    np.testing.assert_allclose(drift_factor_ref(x), want, rtol=1e-12, atol=0)
    xs = x[::97]
    np.testing.assert_array_equal(np.array([drift_factor(v) for v in xs]), drift_factor_ref(xs))
    assert np.all(np.abs(drift_factor_ref(-np.linspace(28, 40, 101)) / np.exp(-np.linspace(28, 40, 101)) - 1)
                  < 1e-10)


def test_read_noise_draws_are_standard_normal_and_match_twin():
    j = np.arange(200_000, dtype=np.uint64)
    z = crossbar_normals_ref(np.uint64(99), np.uint64(5), j)
    key = np.uint64(row_key(np.uint64(99), np.uint64(5)))  # numba returns a Python int: keep it uint64
    for jj in range(0, 200_000, 997):
        hi, lo = pair_normals(key, np.uint64(jj >> 1))
        assert (hi if jj % 2 == 0 else lo) == z[jj]
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    from scipy import stats

    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 0.01  # the two halves of a hash are independent


def _small_net(device, engine="dense", seed=2, with_mon=True):
    net = Network(dt=0.1 * ms, seed=seed, engine=engine)
    src = net.add(PoissonSource(60, rates=40.0, name="src"))
    lif = LIFParams(tau_mem=10 * ms, v_rest=-70 * mV, v_reset=-70 * mV, v_threshold=-55 * mV,
                    tau_syn_e=3 * ms, tau_syn_i=6 * ms)
    post = net.add(Population(50, lif, name="post"))
    w = lambda rng, n: rng.uniform(-60, 300, n) * pA  # noqa: E731
    net.add(Projection(src, post, FixedProbability(0.5), weights=w, device=device, name="in"))
    net.add(Projection(post, post, FixedProbability(0.2), weights=40 * pA, delays=lambda r, n: r.integers(1, 5, n),
                       device=None if device is None else Crossbar(encoding="single", **NOISY), name="rec"))
    mon = net.add(SpikeMonitor(post)) if with_mon else None
    return net, post, mon


@pytest.mark.parametrize("engine", ["dense", "event"])
def test_network_with_noisy_crossbars_matches_reference(engine):
    dev = Crossbar(array=ArraySpec(rows=32, cols=16, cell="1R", r_wire=2.0),
                   retention=Retention(tau0=1e-12, e_a=0.9, temperature=300.0), **NOISY)
    net, post, mon = _small_net(dev, engine)
    sim = net._ensure_built()
    steps, gids, state = run_reference(sim, 1500)
    net.run(150 * ms)
    lo = int(sim.pop_lo[1])
    ref_t = steps[gids >= lo]
    ref_i = gids[gids >= lo] - lo
    assert ref_t.size > 50
    np.testing.assert_array_equal(mon.steps, ref_t)
    np.testing.assert_array_equal(mon.i, ref_i)
    np.testing.assert_allclose(sim.xacc, state["xacc"], rtol=1e-9)


def test_run_is_split_invariant_with_read_noise():
    dev = Crossbar(**NOISY)
    a, _, ma = _small_net(dev)
    a.run(100 * ms)
    b, _, mb = _small_net(dev)
    b.run(37 * ms)
    b.run(63 * ms)
    np.testing.assert_array_equal(ma.steps, mb.steps)
    np.testing.assert_array_equal(ma.i, mb.i)


@settings(max_examples=25, deadline=None)
@given(w=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=50),
       levels=st.sampled_from([0, 2, 5, 64]), d2d=st.floats(0, 0.5))
def test_conductances_stay_inside_each_devices_range(w, levels, d2d):
    w = np.asarray(w)
    n = w.size
    dev = LinearStepDevice(g_min=2e-6, g_max=80e-6, dg_up=1e-6, dg_down=1e-6, levels=levels)
    from memr_snn.devices.crossbar import CrossbarState

    spec = Crossbar(device=dev, variability=Variability(d2d, d2d, d2d),
                    faults=StuckFaults(0.05, 0.05), w_max=500.0)
    cb = CrossbarState(spec, np.arange(n), np.zeros(n, dtype=np.int64), w, seed=1)
    assert np.all(cb.g >= cb.g_min_dev) and np.all(cb.g <= cb.g_max_dev)
    assert np.all(cb.g >= 0)
    t = cb.targets(w)
    assert cb.clipped == int(np.sum((t < cb.g_min_dev) | (t > cb.g_max_dev)))  # clipped, and counted
    fit = CrossbarState(Crossbar(device=dev, w_max=500.0, scale="fit"), np.arange(n), np.zeros(n, int), w, seed=1)
    assert fit.clipped == int(np.sum(np.abs(w) > 500.0))


def test_levels_quantize_and_scale_choices():
    from memr_snn.devices.crossbar import CrossbarState

    w = np.linspace(0, 1.0, 101)
    dev = LinearStepDevice(g_min=0.0, g_max=1e-4, levels=5)
    cb = CrossbarState(Crossbar(device=dev, encoding="single"), np.arange(101), np.zeros(101, int), w, seed=0)
    assert set(np.round(cb.g / 2.5e-5, 9)) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    assert cb.scale == pytest.approx(1.0 / 1e-4)  # "auto" with levels: fit the whole range
    cont = CrossbarState(Crossbar(encoding="single"), np.arange(101), np.zeros(101, int), w * 3, seed=0)
    assert np.log2(cont.scale) == int(np.log2(cont.scale))  # power of two
    assert cont.g.max() <= 1e-4 and cont.g.max() > 0.5e-4


def test_bad_weights_are_refused_before_programming():
    from memr_snn.devices.crossbar import CrossbarState

    cb = CrossbarState(Crossbar(), np.arange(3), np.zeros(3, int), np.array([1.0, -2.0, 0.5]), seed=0)
    g0 = cb.g.copy()
    with pytest.raises(ValueError, match="weights"):
        cb.program([1.0, np.nan, 0.0])
    with pytest.raises(ValueError, match="weights"):
        cb.program([1.0, np.inf, 0.0])
    np.testing.assert_array_equal(cb.g, g0)
    with pytest.raises(ValueError, match="one sign"):
        CrossbarState(Crossbar(encoding="single"), np.arange(3), np.zeros(3, int), np.array([1.0, -2.0, 0.5]), 0)
    with pytest.raises(ValueError, match="encoding"):
        Crossbar(encoding="triple")
    with pytest.raises(ValueError, match="cell"):
        ArraySpec(cell="2T2R")
    with pytest.raises(ValueError, match="rows"):
        ArraySpec(rows=0)
    with pytest.raises(TypeError, match="device"):
        Crossbar(device="hfox")


def test_projection_weight_assignment_reprograms():
    net, post, _ = _small_net(Crossbar(), with_mon=False)
    pr = net.projections[0]
    w = pr.weights.copy()
    pr.weights = w * 0.5
    np.testing.assert_allclose(pr.crossbar.read_weights(), w * 0.5, rtol=0, atol=1e-25)
    with pytest.raises(ValueError, match="weights"):
        pr.weights = np.full(w.size, np.nan)
    np.testing.assert_allclose(pr.crossbar.read_weights(), w * 0.5, rtol=0, atol=1e-25)


def test_read_noise_has_the_preset_spread():
    from memr_snn.devices.crossbar import CrossbarState

    n = 20000
    cb = CrossbarState(Crossbar(encoding="single", read_noise=ReadNoise(0.03)), np.arange(n), np.zeros(n, int),
                       np.ones(n), seed=4)
    r = cb.read_weights(step=11, dt=1e-4, noise=True)
    rel = r / cb.read_weights() - 1.0
    assert abs(rel.std() - 0.03) < 0.03 * 0.03
    assert abs(rel.mean()) < 0.001


def test_drift_exponent_recovered_from_log_log_fit():
    from memr_snn.devices.crossbar import CrossbarState

    n = 2000
    cb = CrossbarState(Crossbar(encoding="single", drift=Drift(nu=0.05, nu_std=0.0, t0=1.0),
                                device=LinearStepDevice(g_min=0.0, g_max=1e-4)),
                       np.arange(n), np.zeros(n, int), np.ones(n), seed=4)
    times = np.logspace(1, 6, 12)
    g = np.array([cb.read_weights(t).mean() for t in times])
    slope = np.polyfit(np.log(times), np.log(g), 1)[0]
    assert abs(-slope - 0.05) <= 0.02 * 0.05
    assert np.allclose(cb.read_weights(0.5), cb.read_weights(0.0))  # no drift before t0


def test_stuck_fraction_and_retention_loss_match_their_rates():
    from memr_snn.devices.crossbar import CrossbarState

    n = 100_000
    dev = LinearStepDevice(g_min=1e-6, g_max=1e-4)
    cb = CrossbarState(Crossbar(device=dev, encoding="single", faults=StuckFaults(0.02, 0.03)),
                       np.arange(n), np.zeros(n, int), np.full(n, 0.5), seed=8)
    assert abs(np.mean(cb.g == 1e-4) - 0.02) < 0.003
    assert abs(np.mean(cb.g == 1e-6) - 0.03) < 0.003
    ret = Retention(tau0=1e-12, e_a=0.8, temperature=350.0)
    cr = CrossbarState(Crossbar(device=dev, encoding="single", retention=ret), np.arange(n), np.zeros(n, int),
                       np.full(n, 0.5), seed=8)
    t = 0.7 * ret.tau
    lost = np.mean(cr.read_weights(t) == 0.0)
    assert abs(lost - (1 - np.exp(-0.7))) < 0.01


def test_mapping_table_places_every_synapse_once(tmp_path):
    net, post, _ = _small_net(Crossbar(array=ArraySpec(rows=16, cols=10)), with_mon=False)
    cb = net.projections[0].crossbar
    path = cb.save_mapping_table(tmp_path / "mapping_table.json")
    table = json.loads(path.read_text())
    syn = table["synapses"]
    assert table["encoding"] == "differential" and len(syn["pre"]) == cb.n_synapses
    tile, row = np.array(syn["tile"]), np.array(syn["row"])
    cp, cm = np.array(syn["col_plus"]), np.array(syn["col_minus"])
    assert row.max() < 16 and max(cp.max(), cm.max()) < 10 and np.all(cm == cp + 1)
    keys = set(zip(tile.tolist(), row.tolist(), cp.tolist(), strict=True))
    assert len(keys) == cb.n_synapses  # no two synapses share a cross-point
    assert len(table["tiles"]) == int(np.ceil(60 / 16)) * int(np.ceil(50 / 5))
    pre = np.array(syn["pre"])
    np.testing.assert_array_equal(row, pre % 16)


def test_wire_and_sneak_models():
    from memr_snn.devices.crossbar import CrossbarState

    n_pre, n_post = 64, 64
    pre, post = np.divmod(np.arange(n_pre * n_post), n_post)
    w = np.full(pre.size, 1.0)
    dev = LinearStepDevice(g_min=1e-6, g_max=1e-4)

    def read(**kw):
        cb = CrossbarState(Crossbar(device=dev, encoding="single", scale="fit", array=ArraySpec(64, 64, **kw)),
                           pre, post, w, seed=0)
        return cb.read_weights()

    ideal = read()
    np.testing.assert_allclose(ideal, 1.0)
    ir = read(r_wire=5.0)
    assert np.all(ir < 1.0)
    # farther from the driver (higher column) and from the sense amplifier (lower row) reads less
    ir2 = ir.reshape(64, 64)
    assert np.all(np.diff(ir2, axis=1) < 0) and np.all(np.diff(ir2, axis=0) > 0)
    s1r = read(cell="1R")
    s1s1r = read(cell="1S1R")
    t1r = read(cell="1T1R")
    assert np.all(s1r > s1s1r) and np.all(s1s1r > t1r) and np.allclose(t1r, 1.0)
    assert np.allclose(read(cell="1R", read_scheme="grounded"), 1.0)
    # differential pairs see the same mean-field sneak current in both columns: it cancels (series model;
    # the nodal model's sneak current depends on each column's own cells, tests/devices/test_irdrop.py)
    cbd = CrossbarState(Crossbar(device=dev, scale="fit", array=ArraySpec(64, 128, cell="1R", ir_drop="series")),
                        pre, post, w, 0)
    assert np.all(cbd.gs > 0)
    np.testing.assert_allclose(cbd.read_weights(), 1.0, rtol=1e-12)


def test_checkpoint_resumes_crossbar_runs_bit_for_bit(tmp_path):
    from memr_snn import Network as Net

    dev = Crossbar(preset="pcm_gst", program="verify", array=ArraySpec(rows=32, cols=16, cell="1R", r_wire=1.0),
                   age=10.0)
    a, _, ma = _small_net(dev)
    a.run(100 * ms)
    b, _, _ = _small_net(dev)
    b.run(40 * ms)
    b.save(tmp_path / "xb.msnn")
    c = Net.load(tmp_path / "xb.msnn")
    c.run(60 * ms)
    mc = [m for m in c.monitors if isinstance(m, SpikeMonitor)][0]
    np.testing.assert_array_equal(ma.steps, mc.steps)
    np.testing.assert_array_equal(ma.i, mc.i)
    for pa, pc in zip(a.projections, c.projections, strict=True):
        xa, xc = pa.crossbar, pc.crossbar
        np.testing.assert_array_equal(xa.g, xc.g)
        assert xa.reads == xc.reads and xa.read_energy == xc.read_energy
        assert xa.program_pulses == xc.program_pulses and xc.spec.encoding == xa.spec.encoding


_PURE_SCRIPT = r"""
import json, warnings
warnings.simplefilter("error")
from memr_snn import Network, PoissonSource, Population, Projection, FixedProbability, LIFParams, SpikeMonitor
from memr_snn.devices import ArraySpec, Crossbar, ReadNoise, Drift
from memr_snn.units import ms, pA
net = Network(dt=0.1 * ms, seed=1)
s = net.add(PoissonSource(20, 80.0))
p = net.add(Population(10, LIFParams()))
dev = Crossbar(read_noise=ReadNoise(0.05), drift=Drift(0.05, 0.01), age=10.0, array=ArraySpec(8, 8, cell="1R"))
net.add(Projection(s, p, FixedProbability(0.5), weights=400 * pA, device=dev))
m = net.add(SpikeMonitor(p))
net.run(30 * ms)
cb = net.projections[0].crossbar
print(json.dumps({"steps": m.steps.tolist(), "i": m.i.tolist(), "reads": cb.reads, "energy": cb.read_energy}))
"""


def test_crossbar_kernels_run_as_plain_python():
    """NUMBA_DISABLE_JIT runs the same kernels as Python (coverage mode): same spikes and reads, no warnings."""
    import os
    import subprocess
    import sys

    out = {}
    for mode in ("0", "1"):
        env = dict(os.environ, NUMBA_DISABLE_JIT=mode)
        res = subprocess.run([sys.executable, "-c", _PURE_SCRIPT], capture_output=True, text=True, env=env,
                             timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        out[mode] = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["0"]["reads"] > 0 and len(out["0"]["steps"]) > 0
    assert out["0"]["steps"] == out["1"]["steps"] and out["0"]["i"] == out["1"]["i"]
    assert out["0"]["reads"] == out["1"]["reads"]
    assert out["0"]["energy"] == pytest.approx(out["1"]["energy"], rel=1e-12)


def test_age_sets_the_programming_time_before_the_run():
    from memr_snn.devices.crossbar import CrossbarState

    n = 50
    spec = Crossbar(encoding="single", drift=Drift(nu=0.1, nu_std=0.0, t0=1.0), age=1e4,
                    device=LinearStepDevice(g_min=0.0, g_max=1e-4))
    cb = CrossbarState(spec, np.arange(n), np.zeros(n, int), np.ones(n), seed=0)
    np.testing.assert_array_equal(cb.tp, -1e4)
    nu = float(np.float32(0.1))  # exponents are stored as float32
    np.testing.assert_allclose(cb.read_weights(0.0), cb.read_weights(-1e4 + 1.0) * (1e4) ** -nu, rtol=1e-12)
