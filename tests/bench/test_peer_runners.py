"""Smoke tests for the Brian2 / NEST reference runners in ``memr_snn.bench.peers``.

The fast tests run a small network (400 neurons, 0.1 s) on Brian2's numpy target (no
compiler needed, no Cython cache to warm) and on NEST.  Tests that need Brian2 or NEST
skip with a visible reason when the ``peers`` extra is missing.  The ``slow`` tests
(full 4000-neuron networks, the ``cpp_standalone`` build) run with ``pytest -m ""``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import memr_snn.bench.peers as peers
from memr_snn.bench.peers import PeerResult, run_brian2, run_nest

N_SMALL = 400
DURATION_SMALL = 0.1  # [s]


def _require(module: str) -> None:
    pytest.importorskip(module, reason=f"{module} is not installed (pip install '.[peers]')")


def _check_result(r: PeerResult, model: str, n_neurons: int, duration: float) -> None:
    """Invariants every run must satisfy, whatever the simulator."""
    assert r.model == model
    assert r.n_neurons == n_neurons
    assert isinstance(r.version, str) and r.version
    # 80 synapses per neuron on average: N * 80 expected, binomial sd = N * sqrt(80 (1-p)),
    # i.e. about 160 at N = 400; allow 6 sd.
    expected = 80 * n_neurons
    sd = n_neurons * np.sqrt(80 * (1 - 80 / n_neurons))
    assert abs(r.n_synapses - expected) < 6 * sd
    assert r.spike_indices.dtype == np.int64
    assert r.spike_times.dtype == np.float64
    assert r.spike_indices.shape == r.spike_times.shape == (r.n_spikes,)
    assert r.n_spikes > 0
    assert r.spike_indices.min() >= 0 and r.spike_indices.max() < n_neurons
    # Brian2 stamps spikes at the step start (>= 0); NEST at the step end (<= duration).
    assert r.spike_times.min() >= 0.0
    assert r.spike_times.max() <= duration + 1e-12
    assert np.all(np.diff(r.spike_times) >= 0)
    # Loose sanity range for a balanced network (both models fire at ~1-30 Hz).
    assert 0.5 < r.mean_rate < 60.0
    for name in ("import_time", "build_time", "first_run_time", "run_time", "total_time"):
        assert getattr(r, name) > 0, name
    assert r.total_time >= r.first_run_time
    assert r.peak_rss > 10 * 2**20  # more than 10 MiB, in bytes


def test_import_does_not_import_simulators():
    """``import memr_snn.bench.peers`` must not pull in brian2 or nest (checked in a clean process)."""
    root = Path(peers.__file__).resolve().parents[3]
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    code = (
        "import sys, memr_snn.bench.peers\n"
        "bad = [m for m in ('brian2', 'nest') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "hh"}, "model"),
        ({"n_neurons": 50}, "n_neurons"),
        ({"duration": 0.0}, "duration"),
        ({"dt": -1e-4}, "dt"),
        ({"seed": -1}, "seed"),
        ({"target": "genn"}, "target"),
    ],
)
def test_brian2_argument_validation(kwargs, message):
    args = {"model": "cuba", "n_neurons": 400, "duration": 0.1, "seed": 1} | kwargs
    with pytest.raises(ValueError, match=message):
        run_brian2(**args)


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"seed": 0}, "seed"), ({"threads": 0}, "threads")]
)
def test_nest_argument_validation(kwargs, message):
    args = {"model": "cuba", "n_neurons": 400, "duration": 0.1, "seed": 1} | kwargs
    with pytest.raises(ValueError, match=message):
        run_nest(**args)


@pytest.mark.brian2
@pytest.mark.parametrize("model", ["cuba", "coba"])
def test_brian2_numpy_smoke(model):
    _require("brian2")
    r = run_brian2(model, N_SMALL, DURATION_SMALL, seed=1, target="numpy")
    _check_result(r, model, N_SMALL, DURATION_SMALL)
    assert r.simulator == "brian2" and r.target == "numpy"
    assert r.compile_time is None
    # run_time is a restored, identical second run: same spikes, no code generation.
    assert r.extra["repeat_identical"] is True


@pytest.mark.brian2
def test_brian2_same_seed_same_spikes_and_count_only():
    _require("brian2")
    a = run_brian2("cuba", N_SMALL, DURATION_SMALL, seed=3, target="numpy")
    b = run_brian2("cuba", N_SMALL, DURATION_SMALL, seed=3, target="numpy", record_spikes=False)
    assert b.n_spikes == a.n_spikes
    assert b.spike_indices.size == 0 and b.spike_times.size == 0


@pytest.mark.nest
@pytest.mark.parametrize("model", ["cuba", "coba"])
def test_nest_smoke(model):
    _require("nest")
    r = run_nest(model, N_SMALL, DURATION_SMALL, seed=1)
    _check_result(r, model, N_SMALL, DURATION_SMALL)
    assert r.simulator == "nest" and r.target == "nest" and r.threads == 1
    assert r.compile_time is None
    # NEST stamps spikes at the end of a step: multiples of dt, none at t = 0.
    steps = r.spike_times / r.dt
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)
    assert r.spike_times.min() > 0.0
    again = run_nest(model, N_SMALL, DURATION_SMALL, seed=1)
    np.testing.assert_array_equal(again.spike_indices, r.spike_indices)
    np.testing.assert_array_equal(again.spike_times, r.spike_times)


@pytest.mark.slow
@pytest.mark.brian2
def test_brian2_cpp_standalone_smoke():
    """cpp_standalone (compiles a project, ~10 s) on the small network."""
    _require("brian2")
    r = run_brian2("cuba", N_SMALL, DURATION_SMALL, seed=1, target="cpp_standalone")
    _check_result(r, "cuba", N_SMALL, DURATION_SMALL)
    assert r.compile_time is not None and r.compile_time > 0
    assert r.build_time >= r.compile_time
    assert r.run_time <= r.first_run_time


@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.nest
@pytest.mark.parametrize("model", ["cuba", "coba"])
def test_brian2_and_nest_agree_on_rate(model):
    """Full benchmark size: Brian2 and NEST mean rates within 15 %.

    The networks differ in connectivity draws, the one-step delay, the ``>=`` threshold
    and (COBA) the integrator, so only the population rate is compared.  Measured at
    N = 4000, 1 s, seed 1: CUBA 5.62 vs 5.64 Hz, COBA 19.4 vs 19.1 Hz; 15 % leaves room
    for seed-to-seed variation.
    """
    _require("brian2")
    _require("nest")
    b = run_brian2(model, 4000, 1.0, seed=1, target="cython")
    n = run_nest(model, 4000, 1.0, seed=1)
    assert n.mean_rate == pytest.approx(b.mean_rate, rel=0.15)
