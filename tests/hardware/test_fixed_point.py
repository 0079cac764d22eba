"""Loihi fixed-point arithmetic: kernel vs its twins, and each subtle point by hand.

The closed forms below are derived from Lava 0.10's ``AbstractPyLifModelFixed``
and ``PyDenseModelBitAcc`` equations (see ``memr_snn.kernel.fixed_point``);
the stored Lava runs in ``test_lava_reference.py`` check the same points
against Lava itself.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from memr_snn.hardware import (
    FixedPointConnection,
    FixedPointNetwork,
    FixedPointPopulation,
    FixedPointRangeError,
    FixedPointSaturationWarning,
    LoihiLIFParams,
    SpikeInput,
    run_fixed_point,
)
from memr_snn.hardware.fixed_point import preprocess_weights
from memr_snn.kernel.fixed_point import lif_fxp_update, wrap32
from memr_snn.kernel.fixed_point_reference import lif_fxp_step_reference


def _random_net(rng, T=50):
    n1, n2, m = int(rng.integers(5, 20)), int(rng.integers(3, 15)), int(rng.integers(2, 10))

    def w(shape, lo, hi, p=0.5):
        return np.where(rng.random(shape) < p, rng.integers(lo, hi + 1, shape), 0)

    p1 = FixedPointPopulation(
        "a",
        n1,
        LoihiLIFParams(
            du=int(rng.integers(0, 4096)),
            dv=int(rng.integers(0, 4096)),
            vth=int(rng.integers(1, 300)),
            bias_mant=rng.integers(-50, 100, n1),
            bias_exp=rng.integers(0, 8, n1),
        ),
        u0=rng.integers(-1000, 1000, n1),
        v0=rng.integers(-1000, 1000, n1),
    )
    p2 = FixedPointPopulation("b", n2, LoihiLIFParams(du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096))))
    conns = [
        FixedPointConnection("in", "a", w((n1, m), -256, 255), weight_exp=int(rng.integers(-3, 4))),
        FixedPointConnection(
            "a", "b", w((n2, n1), 0, 255), weight_exp=-2, num_weight_bits=6, delays=rng.integers(0, 5, (n2, n1))
        ),
        FixedPointConnection("b", "a", w((n1, n2), -255, 0), weight_exp=1, delays=rng.integers(0, 3, (n1, n2))),
        FixedPointConnection("a", "a", w((n1, n1), -256, 255), weight_exp=-1, num_weight_bits=7),
    ]
    return FixedPointNetwork([p1, p2], [SpikeInput("in", rng.random((T, m)) < 0.2)], conns)


@pytest.mark.parametrize("seed", range(4))
def test_kernel_py_func_and_numpy_twin_agree(seed):
    net = _random_net(np.random.default_rng(seed))
    runs = {b: run_fixed_point(net, 50, record_state=True, backend=b) for b in ("numba", "python", "numpy")}
    for b in ("python", "numpy"):
        for name in ("a", "b"):
            np.testing.assert_array_equal(runs[b].spikes[name], runs["numba"].spikes[name])
            np.testing.assert_array_equal(runs[b].u[name], runs["numba"].u[name])
            np.testing.assert_array_equal(runs[b].v[name], runs["numba"].v[name])


def _single(du=0, dv=0, vth=131071, bias_mant=0, bias_exp=0, u0=0, v0=0, n_steps=5, **conn):
    pop = FixedPointPopulation("p", 1, LoihiLIFParams(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp),
                               u0=u0, v0=v0)
    inputs, conns = [], []
    if conn:
        spikes = conn.pop("spikes")
        inputs = [SpikeInput("in", spikes)]
        conns = [FixedPointConnection("in", "p", np.atleast_2d(conn.pop("weights")), **conn)]
    return run_fixed_point(FixedPointNetwork([pop], inputs, conns), n_steps, record_state=True, backend="numba")


def test_asymmetric_decay_offsets():
    """du = 0 still leaks (factor 4095/4096, ds_offset = 1); dv = 0 is a perfect integrator (dm_offset = 0)."""
    r = _single(du=0, dv=0, u0=4096 * 100, v0=0, n_steps=1)
    assert r.u["p"][0, 0] == 4095 * 100  # 409600 * 4095 / 4096 exactly
    assert r.v["p"][0, 0] == 4095 * 100  # v = 0 + u
    r = _single(du=4095, dv=0, u0=0, v0=12345, n_steps=3)
    assert (r.v["p"][:, 0] == 12345).all()
    r = _single(du=4095, dv=4095, u0=7, v0=4096 * 3, n_steps=1)
    assert r.u["p"][0, 0] == 0 and r.v["p"][0, 0] == 3  # du = 4095 -> factor 0; dv = 4095 -> factor 1/4096


def test_decay_rounds_toward_zero():
    """u * (4095 - du) / 4096 with du = 2047 halves; -5 -> -2 (toward zero), not -3 (floor)."""
    r = _single(du=2047, dv=4095, u0=-5, n_steps=1)
    assert r.u["p"][0, 0] == -2
    r = _single(du=2047, dv=4095, u0=5, n_steps=1)
    assert r.u["p"][0, 0] == 2
    r = _single(du=4095, dv=2048, v0=-5, n_steps=1)
    assert r.v["p"][0, 0] == -2


def test_impulse_response_halves_each_step():
    """A single weight-w spike gives u = w << 6 one step later, then halves (du = 2047), like Lava's impulse test."""
    spikes = np.zeros((8, 1), bool)
    spikes[0, 0] = True
    r = _single(du=2047, dv=4095, weights=[[100]], spikes=spikes, n_steps=8)
    u = r.u["p"][:, 0]
    assert u[0] == 0  # one-step Dense latency
    assert list(u[1:]) == [6400 >> k for k in range(7)]


def test_current_wraps_once_with_asymmetric_edges():
    """u > 2**23 subtracts 2**24, u <= -2**23 adds 2**24: +2**23 is kept, -2**23 becomes +2**23."""
    d = 4096 - (4095 + 1)  # du = 4095: nothing of u survives
    assert lif_fxp_update(0, 0, 2**17, d, 4096, 0, 2**40)[0] == 2**23
    assert lif_fxp_update(0, 0, -(2**17), d, 4096, 0, 2**40)[0] == 2**23
    assert lif_fxp_update(0, 0, 2**17 + 1, d, 4096, 0, 2**40)[0] == 2**23 + 64 - 2**24
    assert lif_fxp_update(0, 0, -(2**17) - 1, d, 4096, 0, 2**40)[0] == -(2**23) - 64 + 2**24


def test_activation_shift_wraps_in_int32():
    """a << 6 is computed in int32 (Lava's channel dtype): 2**25 << 6 = 2**31 wraps to -2**31."""
    assert wrap32(2**31) == -(2**31) and wrap32(-(2**31) - 1) == 2**31 - 1
    d = 0
    u, _, _ = lif_fxp_update(0, 0, 2**25, d, 4096, 0, 2**40)
    assert u == -(2**31) + 2**24  # wrapped in int32, then one 24-bit wrap


def test_voltage_clips_symmetrically():
    r = _single(du=4095, dv=0, v0=2**23 - 10, bias_mant=4095, bias_exp=7, vth=131071, n_steps=1)
    assert r.spikes["p"][0, 0]  # clipped at 2**23 - 1 > vth << 6 = 8388544: spikes, v -> 0
    r = _single(du=4095, dv=0, v0=-(2**23) + 10, bias_mant=-4096, bias_exp=7, n_steps=3)
    assert (r.v["p"][:, 0] == -(2**23) + 1).all()


def test_threshold_is_strict_and_resets_only_v():
    vth = 100
    r = _single(du=4095, dv=0, v0=(vth << 6) - 5, bias_mant=5, n_steps=1, vth=vth)
    assert not r.spikes["p"][0, 0] and r.v["p"][0, 0] == vth << 6
    r = _single(du=0, dv=0, u0=4096, v0=(vth << 6) - 5, bias_mant=5, n_steps=1, vth=vth)
    assert r.spikes["p"][0, 0] and r.v["p"][0, 0] == 0 and r.u["p"][0, 0] == 4095


def test_bias_mantissa_and_exponent():
    r = _single(du=4095, dv=0, bias_mant=np.array([-3]), bias_exp=np.array([5]), n_steps=4)
    assert list(r.v["p"][:, 0]) == [-96, -192, -288, -384]


def test_weight_preprocessing_like_lava():
    # mixed: LSB dropped even at 8 bits, floor for negatives
    np.testing.assert_array_equal(preprocess_weights([3, -3, 255, -256], "mixed", 8), [2, -4, 254, -256])
    # excitatory: no loss at 8 bits, truncation below
    np.testing.assert_array_equal(preprocess_weights([3, 255], "excitatory", 8), [3, 255])
    np.testing.assert_array_equal(preprocess_weights([7, 255], "excitatory", 6), [4, 252])
    # inhibitory: negated, truncated, negated -> toward zero
    np.testing.assert_array_equal(preprocess_weights([-7, -255], "inhibitory", 6), [-4, -252])
    # clipping to the sign mode's range (what Lava does silently)
    np.testing.assert_array_equal(preprocess_weights([300, -300], "mixed", 8), [254, -256])
    np.testing.assert_array_equal(preprocess_weights([-5, 10], "excitatory", 8), [0, 10])


def test_negative_weight_exponent_floors_the_sum():
    """weight_exp = -1 shifts the per-step sum: 1 + 1 -> 1 (shifting each weight would give 0); -1 -> -1 (floor)."""
    spikes = np.zeros((3, 2), bool)
    spikes[0] = True
    r = _single(du=4095, dv=4095, weights=[[1, 1]], spikes=spikes, weight_exp=-1, n_steps=3)
    assert r.u["p"][1, 0] == 1 << 6
    spikes = np.zeros((3, 1), bool)
    spikes[0] = True
    r = _single(du=4095, dv=4095, weights=[[-1]], spikes=spikes, weight_exp=-1, n_steps=3, sign_mode="inhibitory")
    assert r.u["p"][1, 0] == -(1 << 6)


@pytest.mark.parametrize("delay", [0, 1, 5, 63])
def test_latency_is_one_step_plus_delay(delay):
    T = 70
    spikes = np.zeros((T, 1), bool)
    spikes[2] = True
    r = _single(du=4095, dv=4095, weights=[[10]], spikes=spikes, delays=delay, n_steps=T)
    (nz,) = np.nonzero(r.u["p"][:, 0])
    assert list(nz) == [2 + 1 + delay]


def test_sparse_weights_equal_dense():
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(3)
    w = np.where(rng.random((6, 8)) < 0.4, rng.integers(-100, 100, (6, 8)), 0)
    spikes = rng.random((30, 8)) < 0.3
    pop = FixedPointPopulation("p", 6, LoihiLIFParams(du=100, dv=200, vth=5))
    res = [
        run_fixed_point(
            FixedPointNetwork([pop], [SpikeInput("in", spikes)], [FixedPointConnection("in", "p", ww)]), 30,
            record_state=True,
        )
        for ww in (w, sp.csr_matrix(w))
    ]
    np.testing.assert_array_equal(res[0].v["p"], res[1].v["p"])
    assert res[0].spikes["p"].any()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [(dict(du=4096), "du"), (dict(dv=-1), "dv"), (dict(vth=131072), "vth"), (dict(bias_mant=5000), "bias_mant"),
     (dict(bias_exp=8), "bias_exp")],
)
def test_out_of_range_parameters_raise_or_saturate(kwargs, name):
    with pytest.raises(FixedPointRangeError, match=name):
        LoihiLIFParams(**kwargs)
    with pytest.warns(FixedPointSaturationWarning, match=name):
        p = LoihiLIFParams(saturate=True, **kwargs)
    assert 0 <= np.max(np.abs(getattr(p, name))) <= 131071


def test_out_of_range_weights_and_delays():
    with pytest.raises(FixedPointRangeError, match="weights=300"):
        FixedPointConnection("a", "b", np.array([[300]]))
    with pytest.warns(FixedPointSaturationWarning):
        FixedPointConnection("a", "b", np.array([[300]]), saturate=True)
    with pytest.raises(FixedPointRangeError, match="delays=64"):
        FixedPointConnection("a", "b", np.array([[3]]), delays=64)
    with pytest.raises(FixedPointRangeError, match="weight_exp"):
        FixedPointConnection("a", "b", np.array([[3]]), weight_exp=9)
    with pytest.raises(TypeError, match="integers"):
        FixedPointConnection("a", "b", np.array([[0.5]]))


def test_network_validation_names_the_problem():
    pop = FixedPointPopulation("p", 2)
    with pytest.raises(ValueError, match="expected \\(n_post, n_pre\\) = \\(2, 2\\)"):
        FixedPointNetwork([pop], [], [FixedPointConnection("p", "p", np.ones((3, 2), int))])
    with pytest.raises(ValueError, match="'q' is not a population"):
        FixedPointNetwork([pop], [], [FixedPointConnection("q", "p", np.ones((2, 2), int))])
    with pytest.raises(ValueError, match="duplicate"):
        FixedPointNetwork([pop, FixedPointPopulation("p", 1)])


@pytest.mark.parametrize("weight_exp", [0, 3, -2])
def test_dense_recurrent_rows_match_the_twin(weight_exp):
    """Mostly dense connections without delays take the kernel's contiguous-row path (weight_exp >= 0)."""
    rng = np.random.default_rng(weight_exp + 10)
    n = 40
    pop = FixedPointPopulation(
        "r", n, LoihiLIFParams(du=300, dv=200, vth=50, bias_mant=rng.integers(50, 100, n), bias_exp=5),
        v0=rng.integers(0, 50 << 6, n),
    )
    w = rng.integers(-30, 20, (n, n))
    net = FixedPointNetwork([pop], [], [FixedPointConnection("r", "r", w, weight_exp=weight_exp)])
    a = run_fixed_point(net, 200, record_state=True)
    b = run_fixed_point(net, 200, record_state=True, backend="numpy")
    np.testing.assert_array_equal(a.v["r"], b.v["r"])
    assert 0 < a.spikes["r"].sum() < 200 * n


@given(
    u=st.integers(-(2**23), 2**23),
    v=st.integers(-(2**23) + 1, 2**23 - 1),
    a=st.integers(-(2**31), 2**31 - 1),
    du=st.integers(0, 4095),
    dv=st.integers(0, 4095),
    bias_mant=st.integers(-4096, 4095),
    bias_exp=st.integers(0, 7),
    vth=st.integers(0, 131071),
)
def test_scalar_update_equals_the_lava_shaped_numpy_step(u, v, a, du, dv, bias_mant, bias_exp, vth):
    """Property: one neuron update agrees with the int32-array twin over the whole input range,
    including activations that overflow int32 after the << 6 alignment."""
    uu = np.array([u], np.int32)
    vv = np.array([v], np.int32)
    spk = lif_fxp_step_reference(uu, vv, np.array([a], np.int32), du, dv, np.array([bias_mant]), np.array([bias_exp]),
                                 vth)
    cu, cv, s = lif_fxp_update(u, v, a, 4096 - (du + 1), 4096 - dv, bias_mant << bias_exp, vth << 6)
    assert (cu, cv, bool(s)) == (int(uu[0]), int(vv[0]), bool(spk[0]))
