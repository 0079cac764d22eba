"""The exponentials of the conductance-based LIF step against ``math.exp``.

The kernel evaluates the relaxation factor ``exp(x)`` of its exponential-Euler step with plain
arithmetic (``memr_snn.kernel.models.cond``): the [6/6] Padé approximant inside ``relax`` for
``|x| <= PADE_MAX`` and the scaled Taylor polynomial ``exp_neg`` on ``[-8, 0]``.  Their documented
accuracies are checked here against the C library's ``exp``.
"""

import math

import numpy as np

from memr_snn.kernel.models.cond import PADE_MAX, exp_neg, relax
from memr_snn.kernel.reference import relax_ref

XS = np.concatenate([np.linspace(-PADE_MAX, PADE_MAX, 4001), [-1e-12, 0.0, 1e-12]])


def _rel_err(got, x):
    return abs(got / math.exp(x) - 1.0)


def test_pade_relaxation_factor_is_exp_to_2e_13():
    # v = 1 and num = 0: relax returns the relaxation factor R(x) itself
    worst = max(_rel_err(relax(1.0, 0.0, x, -2.0), x) for x in XS)
    assert worst < 2e-13


def test_pade_relaxation_is_the_exponential_euler_update():
    """v_inf + (v - v_inf) exp(x) with v_inf = num / g_tot and x = g_tot k (dt = 0.1 ms, C = 200 pF)."""
    rng = np.random.default_rng(4)
    k = -1e-4 / 200e-12
    for _ in range(200):
        gtot = rng.uniform(1e-9, -PADE_MAX / k)
        num = rng.uniform(-5e-9, 5e-9) * 0.06
        v = rng.uniform(-0.08, 0.0)
        vinf = num / gtot
        want = vinf + (v - vinf) * math.exp(gtot * k)
        assert abs(relax(v, num, gtot * k, 2.0 * k) - want) <= 1e-13 * max(abs(v), abs(vinf))


def test_pade_twin_is_bit_identical():
    rng = np.random.default_rng(5)
    x, v, num = rng.uniform(-1, 0, 500), rng.uniform(-0.08, 0, 500), rng.uniform(-1e-10, 1e-10, 500)
    got = np.array([relax(v[j], num[j], x[j], -1e6) for j in range(500)])
    np.testing.assert_array_equal(got, relax_ref(v, num, x, -1e6))


def test_exp_neg_is_exp_to_1e_14_on_its_range():
    xs = np.concatenate([np.linspace(-8.0, 0.0, 4001), [-1e-12]])
    assert max(_rel_err(exp_neg(x), x) for x in xs) < 1e-14


def test_range_step_is_the_scalar_step_with_huge_conductances():
    """The vectorised range step (Padé lanes, and lanes with ``|x| > PADE_MAX`` left to its scalar pass)
    equals the per-neuron scalar step bit for bit; delivery of ``be``/``bi`` fused."""
    from memr_snn.engine.coefficients import group_tables
    from memr_snn.kernel import layout as L
    from memr_snn.kernel.models import cond
    from memr_snn.neurons import LIFCondParams

    n = 400
    gc, gi, _ = group_tables(LIFCondParams(), 1, 1e-4)
    rng = np.random.default_rng(9)
    g_far = gc[0, L.C_CM] / gc[0, L.C_DT]  # total conductance of |x| = 1
    ge = np.where(rng.random(n) < 0.3, rng.uniform(0, 30 * g_far, n), rng.uniform(0, 0.3 * g_far, n))
    si = rng.uniform(0, 0.3 * g_far, n)
    v = gc[0, L.C_VTH] + rng.normal(0, 0.005, n)
    ib = rng.normal(0.0, 2e-10, n)
    ref = rng.integers(0, 3, n).astype(np.int32)
    ref[::50], ge[::50] = 2**31 - 3, 10 * g_far  # the longest refractory count, on neurons with huge conductances
    be, bi = rng.uniform(0, 0.1 * g_far, n), np.where(rng.random(n) < 0.5, rng.uniform(0, 3 * g_far, n), 0.0)
    x = (gc[0, L.C_GL] + ge + be + si + bi) * -gc[0, L.C_DT] / gc[0, L.C_CM]
    assert 0.1 < np.mean(np.abs(x) > PADE_MAX) < 0.9
    want = [cond.step_fire_scalar(gc, gi, 0, v[j], ge[j] + be[j], si[j] + bi[j], 0.0, ib[j], ref[j]) for j in range(n)]
    st = {"v": v.copy(), "se": ge.copy(), "si": si.copy(), "ref": ref.copy(), "fired": np.zeros(n, np.uint8)}
    count = cond.step_fire_range(gc, gi, 0, 0, n, st["v"], st["se"], st["si"], np.zeros(n), ib, st["ref"],
                                 st["fired"], np.zeros(n), be, bi)
    for k, label in ((0, "v"), (1, "se"), (2, "si"), (4, "ref"), (5, "fired")):
        np.testing.assert_array_equal(st[label], np.array([w[k] for w in want]).astype(st[label].dtype), err_msg=label)
    assert count == sum(w[5] for w in want) > 0
    assert not be.any() and not bi.any()
