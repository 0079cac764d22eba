"""The bias-free range step: ``loop.flag_bias`` and ``lif_step_range`` with an empty bias array.

A homogeneous (A)LIF range whose neurons all have ``i_bias = +0.0`` is integrated without reading the
bias (``v_inf`` hoisted); the result must be the bias-reading loop's, bit for bit.  The reference for
the flags is the definition written in numpy; for the step, the same loop reading an explicit zero
bias, and for whole runs, the same network with the bias ``-0.0`` (which the flags send down the
bias-reading loop: ``v_rest + R * -0.0`` equals ``v_rest + R * 0.0`` for ``v_rest != 0``).
"""

import functools

import numpy as np
import pytest
from memr_snn.networks import coba, cuba, cuba_alif

from memr_snn.kernel import layout as L
from memr_snn.kernel.layout import I_TYPE, N_ICOEF, T_ALIF, T_COND, T_LIF
from memr_snn.kernel.loop import flag_bias
from memr_snn.kernel.models.lif import lif_step_range


def _flags_ref(dense_ranges, gi, ib):
    """The definition: 0 for a homogeneous LIF/ALIF range whose biases are all +0.0, else 1."""
    out = []
    for lo, hi, g in dense_ranges:
        linear = g >= 0 and gi[g, I_TYPE] in (T_LIF, T_ALIF)
        plus_zero = bool(np.all((ib[lo:hi] == 0.0) & ~np.signbit(ib[lo:hi])))
        out.append(0 if linear and plus_zero else 1)
    return np.array(out, dtype=np.uint8)


def test_flag_bias_matches_its_definition():
    gi = np.zeros((3, N_ICOEF), dtype=np.int64)
    gi[:, I_TYPE] = (T_LIF, T_ALIF, T_COND)
    ib = np.zeros(60)
    ib[12] = 1e-12  # range 1 has a bias
    ib[25] = -0.0  # range 2: a negative zero counts as a bias
    ranges = np.array([[0, 10, 0], [10, 20, 1], [20, 30, 0], [30, 40, 2], [40, 50, -1], [50, 60, 1]],
                      dtype=np.int64)
    out = np.full(ranges.shape[0], 7, dtype=np.uint8)
    flag_bias(ranges, gi, ib, out)
    np.testing.assert_array_equal(out, _flags_ref(ranges, gi, ib))
    np.testing.assert_array_equal(out, [0, 1, 1, 1, 1, 0])


@pytest.mark.parametrize("a_jump", [0.0, 1.0])
def test_range_step_without_bias_equals_the_bias_reading_step(a_jump):
    rng = np.random.default_rng(3)
    n, lo, hi = 300, 17, 283
    gc = np.zeros((1, L.N_COEF))
    gc[0, L.C_VREST], gc[0, L.C_R], gc[0, L.C_PM] = -0.049, 2e7, np.exp(-0.1 / 20)
    gc[0, L.C_CE1], gc[0, L.C_CI1] = 1.3e5, 1.1e5
    gc[0, L.C_PE], gc[0, L.C_PI] = np.exp(-0.1 / 5), np.exp(-0.1 / 10)
    gc[0, L.C_PA], gc[0, L.C_BETA] = (np.exp(-0.1 / 200), 1.8e-3) if a_jump else (1.0, 0.0)
    gc[0, L.C_VTH], gc[0, L.C_VRESET] = -0.050, -0.060
    state = {
        "v": rng.uniform(-0.060, -0.049, n), "se": rng.normal(0, 1e-11, n), "si": rng.normal(0, 1e-11, n),
        "a": rng.uniform(0, 2, n), "ref": rng.integers(0, 4, n).astype(np.int32),
        "be": rng.normal(0, 1e-11, n) * (rng.random(n) < 0.2), "bi": rng.normal(0, 1e-11, n) * (rng.random(n) < 0.2),
    }
    runs = []
    for ib in (np.zeros(n), np.zeros(0)):
        s = {k: x.copy() for k, x in state.items()}
        fired = np.zeros(n, dtype=np.uint8)
        counts = [lif_step_range(gc, 0, lo, hi, s["v"], s["se"], s["si"], s["a"], ib, s["ref"], fired, 20, a_jump,
                                 s["be"], s["bi"]) for _ in range(50)]
        runs.append((s, fired, counts))
    (s0, f0, c0), (s1, f1, c1) = runs
    assert sum(c0) > 0 and c0 == c1
    np.testing.assert_array_equal(f0, f1)
    for k in s0:
        assert s0[k].tobytes() == s1[k].tobytes(), k


@pytest.mark.parametrize("build", [cuba, cuba_alif, coba, functools.partial(coba, integration="euler")])
def test_network_without_bias_equals_negative_zero_bias(build):
    nets = []
    for bias in (0.0, -0.0):
        va = build(n=400, seed=2, engine="dense", record=True)
        for pop in (va.exc, va.inh):
            va.net.set_state(pop, "i_bias", np.full(pop.n, bias))
        va.net.run(0.05)
        nets.append(va)
    a, b = nets
    ta, ia = a.spikes()
    tb, ib = b.spikes()
    assert ia.size > 0
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_array_equal(ta, tb)
    for var in ("v", "se", "si", "a", "ref"):
        assert getattr(a.net._sim, var).tobytes() == getattr(b.net._sim, var).tobytes(), var
