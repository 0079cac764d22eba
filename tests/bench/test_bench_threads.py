"""The two-thread contenders of the benchmark suite (``memr_snn-2t``, ``brian2-cpp-2t``, ``nest-2t``)."""

from __future__ import annotations

import argparse

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
    assert "2.00 ✓" in table[-1] and "brian2-cpp-2t: 2" in table[-1] and "✗" in table[-1]
