"""Forward Euler for conductance-based LIF neurons (``LIFCondParams(integration="euler")``).

Brian2's COBA example integrates with ``method="euler"``; memr_snn offers the same method as an
option of the neuron model.  Checked here:

* one step is Brian2's forward-Euler update of the peer's equations (``memr_snn/bench/_worker.py``),
  written out by hand in Brian2's variables (conductances in units of the leak conductance), including
  ``(unless refractory)`` and the forward-Euler decay of the conductances;
* the vectorised range step equals the scalar step bit for bit, delivery fused (the numpy twin is
  checked against the scalar step in ``test_step_scalar.py``);
* the option is data: validated, written to and read from parameter files and checkpoints;
* the event and dense engines give the same run bit for bit (the neurons never idle).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from memr_snn.networks import coba
from memr_snn.networks.vogels_abbott import COBA_PARAMS

from memr_snn import LIFCondParams, Network, Population
from memr_snn.engine.coefficients import group_tables
from memr_snn.kernel import layout as L
from memr_snn.kernel.models import cond, cond_euler
from memr_snn.neurons import load_params, save_params

DT = 1e-4
N = 2000


def _states(gc, rng, n=N):
    g_l = gc[0, L.C_GL]
    return {
        "v": gc[0, L.C_VTH] + rng.normal(0.0, 6e-3, n),
        "ge": np.abs(rng.normal(4.0, 1.5, n)) * g_l,  # the benchmark's initial conductances, in g_L
        "gi": np.abs(rng.normal(20.0, 12.0, n)) * g_l,
        "ib": np.where(rng.random(n) < 0.5, rng.normal(0.0, 2e-10, n), 0.0),
        "ref": rng.integers(0, 4, n).astype(np.int32),
    }


def _brian2_euler(p: LIFCondParams, dt, v, ge, gi, ib, refractory):
    """Brian2's ``euler`` state update of the COBA peer's equations (its abstract code, with memr_snn's
    bias current added to the membrane equation), in Brian2's variables: ``ge``, ``gi`` in units of g_L::

        _ge = -dt*ge/taue + ge
        _gi = -dt*gi/taui + gi
        _v = dt*(El + ge*(Ee - v) + gi*(Ei - v) - v)*int(not_refractory)/taum + v
    """
    g_l = p.c_mem / p.tau_mem
    ge_b, gi_b = ge / g_l, gi / g_l
    new_ge = -dt * ge_b / p.tau_syn_e + ge_b
    new_gi = -dt * gi_b / p.tau_syn_i + gi_b
    drive = p.v_rest + ge_b * (p.e_rev_e - v) + gi_b * (p.e_rev_i - v) - v + ib / g_l
    new_v = dt * drive * (~refractory).astype(float) / p.tau_mem + v
    return new_v, new_ge * g_l, new_gi * g_l


@pytest.mark.parametrize("params", [dataclasses.replace(COBA_PARAMS, integration="euler"),
                                    LIFCondParams(integration="euler", t_ref=0.0)])
def test_one_step_is_brian2_forward_euler(params):
    gc, gi, _ = group_tables(params, 1, DT)
    s = _states(gc, np.random.default_rng(1))
    assert gi[0, L.I_TYPE] == L.T_COND_EULER  # its own plug-in: a network compiles only the method it uses
    got = [cond.euler_step_scalar(gc, 0, s["v"][j], s["ge"][j], s["gi"][j], 0.0, s["ib"][j], s["ref"][j])
           for j in range(N)]
    v, ge, gi_ = (np.array([g[k] for g in got]) for k in range(3))
    want_v, want_ge, want_gi = _brian2_euler(params, DT, s["v"], s["ge"], s["gi"], s["ib"], s["ref"] > 0)
    np.testing.assert_allclose(v, want_v, rtol=0, atol=1e-15)  # V: a few ulps of 60 mV
    np.testing.assert_allclose(ge, want_ge, rtol=1e-14)
    np.testing.assert_allclose(gi_, want_gi, rtol=1e-14)
    refractory = s["ref"] > 0
    np.testing.assert_array_equal(v[refractory], s["v"][refractory])  # held, bit for bit
    assert np.all(v[~refractory] != s["v"][~refractory])
    # the method is really another one: exponential Euler differs by about x^2/2 of the relaxation
    gc_x, _, _ = group_tables(dataclasses.replace(params, integration="exp_euler"), 1, DT)
    v_x = np.array([cond.cond_step_scalar(gc_x, 0, s["v"][j], s["ge"][j], s["gi"][j], 0.0, s["ib"][j], 0)[0]
                    for j in range(N)])
    assert np.max(np.abs(v_x - want_v)[~refractory]) > 1e-7


def test_range_step_is_the_scalar_step_bit_for_bit():
    """Dense mode's vectorised range step (delivery of ``be``/``bi`` fused, threshold, reset) against the
    event loop's scalar step."""
    params = dataclasses.replace(COBA_PARAMS, integration="euler")
    gc, gi, _ = group_tables(params, 1, DT)
    rng = np.random.default_rng(2)
    s = _states(gc, rng)
    be = np.where(rng.random(N) < 0.3, rng.uniform(0, 60e-9, N), 0.0)
    bi = np.where(rng.random(N) < 0.3, rng.uniform(0, 600e-9, N), 0.0)
    want = [cond_euler.step_fire_scalar(gc, gi, 0, s["v"][j], s["ge"][j] + be[j], s["gi"][j] + bi[j], 0.0, s["ib"][j],
                                  s["ref"][j]) for j in range(N)]
    st = {"v": s["v"].copy(), "se": s["ge"].copy(), "si": s["gi"].copy(), "ref": s["ref"].copy(),
          "fired": np.zeros(N, np.uint8)}
    count = cond_euler.step_fire_range(gc, gi, 0, 0, N, st["v"], st["se"], st["si"], np.zeros(N), s["ib"], st["ref"],
                                 st["fired"], np.zeros(N), be, bi)
    for k, label in ((0, "v"), (1, "se"), (2, "si"), (4, "ref"), (5, "fired")):
        np.testing.assert_array_equal(st[label], np.array([w[k] for w in want]).astype(st[label].dtype),
                                      err_msg=label)
    assert 0 < count < N and count == st["fired"].sum()
    assert not be.any() and not bi.any()  # delivered and cleared


def test_integration_is_validated():
    with pytest.raises(ValueError, match=r"LIFCondParams\.integration must be one of 'exp_euler', 'euler', "
                                         r"got 'rk4'"):
        LIFCondParams(integration="rk4")
    with pytest.raises(ValueError, match="integration must be one of"):
        LIFCondParams(integration=1.0)
    net = Network(dt=1e-3)
    net.add(Population(3, LIFCondParams(integration="euler", tau_syn_e=0.5e-3)))
    with pytest.raises(ValueError, match=r"tau_syn_e = 0\.0005 s must be > dt = 0\.001 s"):
        net.run_steps(1)
    assert LIFCondParams().integration == "exp_euler"


def test_integration_is_data(tmp_path):
    p = LIFCondParams(integration="euler", tau_mem=np.array([0.02, 0.03]))
    d = p.to_dict()
    assert d["params"]["integration"] == "euler"
    assert LIFCondParams.from_dict(d) == p
    assert load_params(save_params(p, tmp_path / "p.json")) == p
    assert p != LIFCondParams(tau_mem=np.array([0.02, 0.03]))
    assert "integration='euler'" in repr(p)
    assert "integration" not in p.broadcast(2)


def _spikes(va):
    return va.spikes()


def test_event_equals_dense_and_checkpoint_continues(tmp_path):
    """The euler COBA network: event and dense engines the same bit for bit; a checkpoint saved halfway
    continues the run bit for bit and keeps the method."""
    runs = {}
    for engine in ("dense", "event"):
        va = coba(n=500, seed=3, engine=engine, integration="euler")
        va.net.run(0.1)
        runs[engine] = (*_spikes(va), va.net.get_state(va.exc, "v"), va.net.get_state(va.inh, "g_i"))
    assert runs["dense"][0].size > 50
    for a, b in zip(runs["dense"], runs["event"], strict=True):
        np.testing.assert_array_equal(a, b)
    # a different method gives another run
    va = coba(n=500, seed=3, engine="dense")
    va.net.run(0.1)
    assert not np.array_equal(va.net.get_state(va.exc, "v"), runs["dense"][2])
    # checkpoint halfway
    va = coba(n=500, seed=3, engine="dense", integration="euler", record=False)
    va.net.run(0.05)
    va.net.save(tmp_path / "c.h5")
    loaded = Network.load(tmp_path / "c.h5")
    assert loaded.populations[0].neuron.integration == "euler"
    loaded.run(0.05)
    np.testing.assert_array_equal(loaded.get_state(loaded.populations[0], "v"), runs["dense"][2])
