"""Compiling a first-ever run's kernels on two cores (memr_snn.engine.compile_ahead).

The background process only fills numba's cache: whatever it does (fails, hangs, is killed), the run's
results are the same and no process outlives the run.  The slow test runs a cold process end to end and
checks that the signatures the plan writes down are the ones run_chunk's typing asks for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from memr_snn import FixedProbability, LIFParams, Network, PoissonSource, Population, Projection, SpikeMonitor
from memr_snn.engine import compile_ahead as ca
from memr_snn.kernel import loop
from memr_snn.learning import STDP
from memr_snn.units import ms, pA


def _network(plastic: bool = False):
    """The network of the cold test's process (``_COLD``), with or without STDP."""
    net = Network(dt=0.1 * ms, seed=3)
    src = net.add(PoissonSource(20, rates=200.0, name="src"))
    exc = net.add(Population(30, LIFParams(), name="exc"))
    net.add(Projection(src, exc, FixedProbability(0.5), weights=900 * pA, plasticity=STDP() if plastic else None))
    mon = net.add(SpikeMonitor(exc))
    return net, mon


def _first_chunk_args(monkeypatch, plastic: bool = False, engine: str | None = None):
    """Run a small network and return the arguments of its first run_chunk call (as ``ahead`` saw them)."""
    seen = []
    real = ca.ahead

    def spy(run_chunk, args, first=True, owner=None):
        if first:
            seen.append(args)
        return real(run_chunk, args, first, owner)

    monkeypatch.setattr(ca, "ahead", spy)
    net, mon = _network(plastic)
    net.run(0.02, engine=engine)
    monkeypatch.setattr(ca, "ahead", real)
    assert seen, "the simulator did not pass its first run_chunk call through compile_ahead.ahead"
    return seen[0], mon


def test_plan_names_loop_functions_with_signatures(monkeypatch):
    args, _ = _first_chunk_args(monkeypatch)
    assert args[2] is True  # the network runs in event mode (no autonomous neuron)
    jobs = ca.plan(args)
    assert [n for n, _ in jobs["background"]] == ["phase_step_idle", "phase_integrate"]
    assert args[10].mon is None  # no state monitor: no peek_state
    assert {n for n, _ in jobs["here"]} == {"phase_push", "phase_deliver", "heap_sort", "phase_inputs"}
    dense = ca.plan((args[0], args[1], None) + tuple(args[3:]))
    assert [n for n, _ in dense["here"]] == ["phase_integrate"]
    assert {n for n, _ in dense["background"]} == {"push_float_dense", "flag_bias", "phase_sample", "phase_record",
                                                   "heap_sort", "phase_inputs"}
    no_inputs = ca.plan(tuple(args[:5]) + (None,) + tuple(args[6:]))
    assert "phase_inputs" not in {n for n, _ in no_inputs["here"] + no_inputs["background"]}
    for name, sig in jobs["background"] + jobs["here"]:
        assert hasattr(getattr(loop, name), "compile"), name
        assert isinstance(sig, tuple) and sig, name
    with pytest.raises(ValueError, match="12 arguments"):
        ca.plan(args[:5])


def test_plan_sends_plasticity_to_the_background(monkeypatch):
    args, _ = _first_chunk_args(monkeypatch, plastic=True)
    assert args[8] is not None  # the plasticity record
    assert [n for n, _ in ca.plan(args)["background"]] == ["phase_step_idle", "phase_integrate", "phase_plasticity"]


def test_switched_by_the_environment(monkeypatch):
    two = len(os.sched_getaffinity(0)) >= 2
    monkeypatch.setenv(ca.ENV, "0")
    assert not ca.enabled() and ca._setting() == "off"
    monkeypatch.setenv(ca.ENV, "1")
    assert ca.enabled() == two and ca._setting() == "on"
    for value in ("auto", ""):
        monkeypatch.setenv(ca.ENV, value)
        assert ca.enabled() == two and ca._setting() == "auto"
    monkeypatch.delenv(ca.ENV)
    assert ca._setting() == "auto"


def test_idle_cores_from_proc_stat(monkeypatch, tmp_path):
    """Two CPUs: both idle over the sample -> yes; one busy -> no."""
    samples = []

    def fake_open(path, *a, **k):
        assert path == "/proc/stat"
        return open(samples.pop(0), *a, **k)

    for idle_delta in (200, 100):  # idle jiffies of the 200 that passed on the two CPUs together
        first, second = tmp_path / f"a{idle_delta}", tmp_path / f"b{idle_delta}"
        first.write_text("cpu  100 0 100 1000 0 0 0 0 0 0\n")
        busy = 200 - idle_delta
        second.write_text(f"cpu  {100 + busy} 0 100 {1000 + idle_delta} 0 0 0 0 0 0\n")
        samples[:] = [str(first), str(second)]
        with monkeypatch.context() as m:
            m.setattr(ca, "open", fake_open, raising=False)  # the module's name lookup finds it before the builtin
            m.setattr(ca.os, "cpu_count", lambda: 2)
            assert ca._cores_idle(0.0) == (idle_delta == 200)


def test_no_background_without_idle_cores(monkeypatch):
    args, _ = _first_chunk_args(monkeypatch)
    _forced(monkeypatch, "import sys; sys.exit(0)")
    monkeypatch.setenv(ca.ENV, "auto")
    monkeypatch.setattr(ca, "_cores_idle", lambda: False)
    monkeypatch.setattr(ca, "_start", lambda jobs: pytest.fail("started a background process"))
    with ca.ahead(loop.run_chunk, args):
        assert "compile" not in loop.phase_integrate.__dict__


def test_nothing_happens_when_run_chunk_is_compiled(monkeypatch):
    args, _ = _first_chunk_args(monkeypatch)
    ca._SEEN.clear()
    monkeypatch.setattr(ca, "_start", lambda jobs: pytest.fail("started a background process"))
    with ca.ahead(loop.run_chunk, args):
        pass
    assert "compile" not in loop.phase_integrate.__dict__


def test_only_the_first_chunk_of_a_run(monkeypatch):
    args, _ = _first_chunk_args(monkeypatch)
    _forced(monkeypatch, "import sys; sys.exit(0)")
    monkeypatch.setattr(ca, "_start", lambda jobs: pytest.fail("started a background process"))
    with ca.ahead(loop.run_chunk, args, first=False):
        assert "compile" not in loop.phase_integrate.__dict__


def test_a_simulator_types_its_arguments_once(monkeypatch):
    """A closed loop calls run_steps once per bin: only the simulator's first run may type the arguments."""
    calls = []
    real = ca._prepare
    monkeypatch.setattr(ca, "_prepare", lambda run_chunk, args: calls.append(1) or real(run_chunk, args))
    net, _ = _network()
    for _ in range(5):
        net.run_steps(10)
    assert len(calls) == 1
    other, _ = _network()
    other.run_steps(10)
    assert len(calls) == 2  # a new simulator is looked at once


def test_read_only_cache_directory_is_not_used(monkeypatch):
    monkeypatch.setattr(ca.os, "access", lambda path, mode: False)
    assert not ca._writable(loop.run_chunk)


def _forced(monkeypatch, child_code: str):
    """Make ``ahead`` believe run_chunk needs compiling, with ``child_code`` as the background process."""
    monkeypatch.setenv(ca.ENV, "1")
    monkeypatch.setattr(ca, "enabled", lambda: True)
    monkeypatch.setattr(ca, "_needs_compile", lambda run_chunk, sig: True)
    monkeypatch.setattr(ca, "_CHILD", child_code)
    ca._SEEN.clear()


@pytest.mark.parametrize("child_code", ["import sys; sys.exit(3)", "print('not a number')",
                                        "raise RuntimeError('no')"])
def test_a_failing_background_process_changes_nothing(monkeypatch, child_code):
    args, mon_ref = _first_chunk_args(monkeypatch)
    _forced(monkeypatch, child_code)
    net, mon = _network()
    net.run(0.02)  # goes through ahead(): the background "fails"; numba has everything in memory already
    np.testing.assert_array_equal(mon.i, mon_ref.i)
    np.testing.assert_array_equal(mon.steps, mon_ref.steps)
    assert all("compile" not in getattr(loop, n).__dict__ for n, _ in ca.plan(args)["background"])
    assert ca.LAST["child_rc"] is not None  # reaped
    assert ca.LAST["child_cpu"] is None


def test_the_held_callee_waits_for_the_background_process(monkeypatch):
    args, _ = _first_chunk_args(monkeypatch)
    _forced(monkeypatch, "import time; time.sleep(0.3); print(time.process_time())")
    name, sig = ca.plan(args)["background"][0]
    held = getattr(loop, name)
    with ca.ahead(loop.run_chunk, args):
        assert "compile" in held.__dict__
        t0 = time.perf_counter()
        held.compile(sig)
        assert time.perf_counter() - t0 >= 0.2  # waited for the background process
    assert "compile" not in held.__dict__
    assert ca.LAST["child_rc"] == 0 and ca.LAST["child_cpu"] >= 0.0 and ca.LAST["wait_wall"] >= 0.2


def test_a_hanging_background_process_is_killed(monkeypatch):
    args, _ = _first_chunk_args(monkeypatch)
    _forced(monkeypatch, "import time; time.sleep(60)")
    monkeypatch.setattr(ca, "WAIT_S", 0.3)
    name, sig = ca.plan(args)["background"][0]
    t0 = time.perf_counter()
    with ca.ahead(loop.run_chunk, args):
        getattr(loop, name).compile(sig)
    assert time.perf_counter() - t0 < 20.0
    assert ca.LAST["child_rc"] is not None and ca.LAST["child_rc"] < 0  # killed, and reaped


def test_the_background_process_is_reaped_when_the_run_fails(monkeypatch):
    args, _ = _first_chunk_args(monkeypatch)
    _forced(monkeypatch, "import time; time.sleep(60)")
    with pytest.raises(KeyError), ca.ahead(loop.run_chunk, args):
        raise KeyError("the run failed")
    assert ca.LAST["child_rc"] is not None and ca.LAST["child_rc"] < 0
    assert all("compile" not in getattr(loop, n).__dict__ for n, _ in ca.plan(args)["background"])


_COLD = r"""
import json
import sys
from memr_snn import FixedProbability, LIFParams, Network, PoissonSource, Population, Projection, SpikeMonitor
from memr_snn.engine import compile_ahead as ca
from memr_snn.kernel import loop
from memr_snn.units import ms, pA
net = Network(dt=0.1 * ms, seed=3)
src = net.add(PoissonSource(20, rates=200.0, name="src"))
exc = net.add(Population(30, LIFParams(), name="exc"))
net.add(Projection(src, exc, FixedProbability(0.5), weights=900 * pA))
mon = net.add(SpikeMonitor(exc))
seen = []
real = ca.ahead
def spy(run_chunk, args, first=True, owner=None):
    if first:
        seen.append(args)
    return real(run_chunk, args, first, owner)
ca.ahead = spy
net.run(0.02, engine=sys.argv[1])
jobs = ca.plan(seen[0])
names = [n for n, _ in jobs["background"] + jobs["here"]]
print(json.dumps({"i": mon.i.tolist(), "steps": mon.steps.tolist(), "last": {k: v for k, v in ca.LAST.items()},
                  "signatures": {n: len(getattr(loop, n).signatures) for n in names},
                  "planned": {n: [str(t) for t in s] for n, s in jobs["background"] + jobs["here"]},
                  "compiled": {n: [[str(t) for t in s] for s in getattr(loop, n).signatures] for n in names},
                  "hits": {n: sum(getattr(loop, n)._cache_hits.values()) for n, _ in jobs["background"]},
                  "others": {n: len(getattr(loop, n).signatures) for n in ("phase_push", "phase_step_idle",
                                                                          "phase_deliver", "peek_state")}}))
"""


_DENSE_HELD = {"push_float_dense": 1, "flag_bias": 1, "phase_sample": 1, "phase_record": 1, "heap_sort": 1,
               "phase_inputs": 1}


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="compiling ahead needs two CPUs")
@pytest.mark.parametrize("engine, held, pruned", [
    ("auto", {"phase_step_idle": 1, "phase_integrate": 1}, ["peek_state"]),
    ("dense", _DENSE_HELD, ["phase_push", "phase_step_idle", "phase_deliver", "peek_state"]),
])
def test_cold_run_compiles_each_callee_once_and_gives_the_same_spikes(tmp_path, monkeypatch, engine, held, pruned):
    """A fresh process with an empty numba cache: the background compiles its share (event mode, which this
    network runs in by default: the step-and-idle and integrate phases; dense: all but the integrate phase),
    run_chunk's typing loads them (cache hits) and asks every planned callee for exactly the planned
    signature; what neither the mode nor the network uses (no state monitor here) is not compiled at all."""
    _, mon_ref = _first_chunk_args(monkeypatch, engine=engine)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), OPENBLAS_NUM_THREADS="1")
    env[ca.ENV] = "1"
    out = subprocess.run([sys.executable, "-c", _COLD, engine], env=env, capture_output=True, text=True,
                         timeout=900, check=True)
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    assert doc["last"]["child_rc"] == 0, doc["last"]
    assert doc["hits"] == held, doc
    assert all(doc["others"][n] == 0 for n in pruned), doc["others"]  # not compiled: another mode's, no monitors
    assert all(n == 1 for n in doc["signatures"].values()), (doc["planned"], doc["compiled"])
    np.testing.assert_array_equal(doc["i"], mon_ref.i)
    np.testing.assert_array_equal(doc["steps"], mon_ref.steps)
