"""The two-thread contenders of the benchmark suite (``memr_snn-2t``, ``brian2-cpp-2t``, ``nest-2t``)."""

from __future__ import annotations

import argparse
import os

import pytest

from memr_snn.bench import plan, report, stats, suite


def test_two_thread_contenders_are_accepted_and_need_what_their_one_thread_selves_need(monkeypatch):
    args = argparse.Namespace(quick=False, sizes=None, repeats=3, models=None, out=None,
                              peers=["nest", "memr_snn-2t", "nest-2t", "brian2-cpp-2t"])
    monkeypatch.setattr(plan.importlib.util, "find_spec", lambda name: None)  # neither brian2 nor nest here
    cfg = plan.config_from_args(args)
    assert cfg.contenders == ("memr_snn", "memr_snn-2t")
    assert set(cfg.skipped) == {"nest", "nest-2t", "brian2-cpp-2t"}


def test_two_thread_contenders_run_at_big_sizes_only():
    names = ["memr_snn", "nest", "memr_snn-2t", "nest-2t"]
    small, skipped = suite._contenders_for("cuba", names, 16000)
    assert small == ["memr_snn", "nest"] and set(skipped) == {"memr_snn-2t", "nest-2t"}
    big, skipped = suite._contenders_for("alif", names, plan.BIG_NEURONS)
    assert big == ["memr_snn", "memr_snn-2t"] and set(skipped) == {"nest", "nest-2t"}


def _summ(run):
    return {"run_time": stats.summarize([run]), "first_result_time": stats.summarize([run + 1])}


def test_ratios_keep_one_thread_against_one_and_report_two_threads():
    summ = {"memr_snn": _summ(1.0), "brian2-cpp": _summ(2.0), "memr_snn-2t": _summ(0.5), "brian2-cpp-2t": _summ(0.25)}
    r = stats._ratios(summ)
    assert r["fastest_peer"] == "brian2-cpp" and r["steady_vs_fastest_peer"] == 0.5
    assert r["two_threads_speedup"] == 2.0
    assert r["two_threads_vs"] == {"brian2-cpp-2t": 2.0}
    table = report._threads_table([{"model": "cuba", "n_neurons": 64000, "duration": 1.0, "ratios": r}])
    row = table[2]
    assert "2.00 ✓" in row and "brian2-cpp-2t: 2" in row and "✗" in row and row.endswith("| – |")


def _sample(contender, run, trips=None):
    extra = {"bytes_per_synapse": 12.0, "engine": "dense", "repeat_identical": True}
    if trips is not None:
        extra["round_trip_ns"] = trips
    return {"contender": contender, "run_time": run, "version": "x", "n_synapses": 1, "first_result_exact": True,
            "extra": extra}


def test_the_two_thread_table_shows_the_cpus_round_trips():
    samples = [_sample("memr_snn", 1.0), _sample("memr_snn", 1.1), _sample("memr_snn-2t", 0.6, [80.0, 90.0]),
               _sample("memr_snn-2t", 0.7, [340.0, 75.0])]
    summ = stats._summaries(samples)
    assert "round_trip_ns" not in summ["memr_snn"]
    assert summ["memr_snn-2t"]["round_trip_ns"]["min"] == 75.0 and summ["memr_snn-2t"]["round_trip_ns"]["max"] == 340.0
    case = {"model": "cuba", "n_neurons": 64000, "duration": 1.0, "ratios": stats._ratios(summ), "summary": summ}
    table = report._threads_table([case])
    assert table[2].endswith("| 75–340 |") and "1.62 ✓" in table[2]


def test_core_round_trip_measures_and_validates():
    from memr_snn.bench.probe import core_round_trip

    trip = core_round_trip(2000)
    assert trip > 0 or (os.cpu_count() or 1) < 2
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        core_round_trip(0)
