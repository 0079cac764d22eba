"""Fast checks of the benchmark suite (``memr-snn bench``): helpers, planning, report format.

The measurements themselves are out of CI (``make bench``); here one end-to-end ``--quick``
run with a tiny network and no peers checks that the command runs and writes its files.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np
import pytest

import memr_snn.bench as bench
from memr_snn.bench import networks, plan, report, stats, suite
from memr_snn.cli import main as cli_main


def _args(**kw) -> argparse.Namespace:
    base = {"quick": False, "sizes": None, "repeats": 3, "models": None, "peers": None, "out": None}
    base.update(kw)
    return argparse.Namespace(**base)


# ----------------------------------------------------------------------------- statistics
def test_summarize_median_range_quartiles():
    s = bench.summarize([4.0, 1.0, None, 2.0, 3.0])
    assert s == {"n": 4, "median": 2.5, "min": 1.0, "max": 4.0, "q1": 1.75, "q3": 3.25}
    assert bench.summarize([]) == {"n": 0}
    assert bench.summarize([None, float("nan")]) == {"n": 0}


def test_ratio_of_medians():
    assert bench.ratio({"median": 1.0}, {"median": 4.0}) == 0.25
    assert bench.ratio(3.0, 1.5) == 2.0
    assert bench.ratio({"n": 0}, {"median": 1.0}) is None
    assert bench.ratio(1.0, 0.0) is None
    assert bench.ratio(1.0, None) is None


def test_number_formats_have_no_exponent():
    assert report._fmt_s(12.345) == "12.3"
    assert report._fmt_s(0.000123) == "0.000123"
    assert report._fmt_s(1234.5) == "1234"
    assert report._fmt_s(None) == "–"
    assert report._fmt_ratio(0.0123) == "0.012"
    assert report._fmt_ratio(1.0) == "1.00"
    assert report._fmt_stat({"n": 3, "median": 2.0, "min": 1.0, "max": 3.0}) == "2.00 (1.00–3.00)"
    assert report._fmt_stat({"n": 1, "median": 2.0, "min": 2.0, "max": 2.0}) == "2.00"


# ------------------------------------------------------------------------------ planning
def test_default_plan_has_the_issue_sizes_and_fewer_repeats_for_big_cases():
    cases = bench.plan_cases(bench.MODELS, plan.DEFAULT_SIZES, 1.0, 10.0, 3)
    keys = [c.key for c in cases if c.model == "cuba"]
    assert keys == ["cuba-4000-1s", "cuba-4000-10s", "cuba-16000-1s", "cuba-64000-1s"]
    reps = {c.key: c.repeats for c in cases}
    assert reps["coba-4000-1s"] == reps["coba-16000-1s"] == 3
    assert reps["coba-4000-10s"] == reps["coba-64000-1s"] == 1
    assert {c.model for c in cases} == set(bench.MODELS)


def test_quick_config_is_small_and_says_so():
    cfg = bench.config_from_args(_args(quick=True, peers=["none"]))
    assert cfg.contenders == ("memr_snn",)
    assert all(c.repeats == 1 and c.duration == plan.QUICK_DURATION for c in cfg.cases)
    assert max(c.n_neurons for c in cfg.cases) <= 1000
    assert cfg.cold_repeats == 0 and cfg.scaling_repeats == 1
    assert any("--quick" in n for n in cfg.notes)


def test_quick_leaves_out_cpp_standalone_unless_asked(monkeypatch):
    monkeypatch.setattr(plan, "peer_availability", lambda peers: (list(peers), {}))
    assert "brian2-cpp" not in bench.config_from_args(_args(quick=True)).contenders
    assert "brian2-cpp" in bench.config_from_args(_args(quick=True, peers=["brian2-cpp"])).contenders
    assert bench.config_from_args(_args()).contenders == ("memr_snn", *bench.PEERS)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"models": ["hh"]}, "unknown model"),
        ({"peers": ["genn"]}, "unknown peer"),
        ({"repeats": 0}, "--repeats"),
        ({"sizes": [50]}, ">= 80"),
    ],
)
def test_bad_arguments_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        bench.config_from_args(_args(**kw))


def test_missing_peers_are_skipped_with_a_reason(monkeypatch):
    monkeypatch.setattr(plan.importlib.util, "find_spec", lambda name: None)
    ok, skipped = bench.peer_availability(["brian2-cython", "brian2-cpp", "nest"])
    assert ok == []
    assert set(skipped) == {"brian2-cython", "brian2-cpp", "nest"}
    assert all("not installed" in why for why in skipped.values())
    cfg = bench.config_from_args(_args(quick=True))
    assert cfg.contenders == ("memr_snn",)
    assert any("nest skipped" in n for n in cfg.notes)


def test_command_line_has_no_machine_paths():
    assert bench.command_line(["/x/y/memr_snn/__main__.py", "bench", "--out", "o"]) == \
        "python -m memr_snn bench --out o"
    assert bench.command_line(["/x/bin/memr-snn", "bench", "--quick"]) == "memr-snn bench --quick"
    assert bench.command_line(["/x/benchmarks/run_all.py"]) == "python benchmarks/run_all.py"


# ------------------------------------------------------------------------------ networks
def test_alif_network_is_cuba_with_adaptation():
    from memr_snn.networks import cuba

    from memr_snn import ALIFParams
    from memr_snn.bench.peers import CUBA

    a = bench.alif_network(n=300, seed=3, record=False)
    c = cuba(n=300, seed=3, record=False)
    assert a.net.n_synapses == c.net.n_synapses  # same seed streams -> same connectivity
    assert isinstance(a.exc.neuron, ALIFParams)
    for f in dataclasses.fields(c.exc.neuron):
        assert getattr(a.exc.neuron, f.name) == getattr(c.exc.neuron, f.name)
    np.testing.assert_array_equal(a.exc.initial["v"], c.exc.initial["v"])
    # the Brian2 ALIF worker gets the same constants
    p = networks._alif_brian2_params()
    assert {k: p[k] for k in CUBA} == dict(CUBA)
    assert p["tau_adapt"] == a.exc.neuron.tau_adapt and p["beta_adapt"] == a.exc.neuron.beta_adapt
    assert p["v_leak"] == a.exc.neuron.v_rest and p["v_threshold"] == a.exc.neuron.v_threshold


def test_scaling_network_input_does_not_grow_with_size():
    small = bench.scaling_network(2000, "event", duration=0.05)
    big = bench.scaling_network(20000, "event", duration=0.05)
    assert small[2] == big[2]
    assert small[0].n_synapses == big[0].n_synapses
    np.testing.assert_array_equal(small[0].populations[0].times, big[0].populations[0].times)


# ----------------------------------------------------------------------------- the report
def _fake_doc() -> dict:
    case = bench.Case("cuba", 4000, 1.0, 3)
    samples = []
    for rep in range(3):
        for c, run, first in (("memr_snn", 0.05, 0.8), ("brian2-cpp", 0.08, 20.0), ("nest", 0.8, 2.0)):
            samples.append(suite._sample(
                c, case, rep, version="1", build_time=0.3, first_run_time=run * 2, run_time=run + 0.01 * rep,
                first_result_time=first, first_result_exact=True, total_time=first + 0.1, peak_rss=2**27,
                n_spikes=22000, n_synapses=320000,
                extra={"bytes_per_synapse": 12.2, "engine": "dense", "repeat_identical": True}))
    summ = stats._summaries(samples)
    rec = {"model": "cuba", "n_neurons": 4000, "duration": 1.0, "repeats": 3, "key": case.key,
           "contenders": ["memr_snn", "brian2-cpp", "nest"], "skipped": {}, "failures": [],
           "samples": samples, "summary": summ, "ratios": stats._ratios(summ)}
    return {"command": "memr-snn bench", "cases": [rec], "notes": ["a note"], "machine": {}, "versions": {},
            "cold": None, "scaling": None}


def test_targets_name_the_peers_that_did_not_run():
    """A --quick run leaves brian2-cpp out: the 'fastest peer' is then only the fastest of those that ran."""
    doc = _fake_doc()
    case = doc["cases"][0]
    case["samples"] = [s for s in case["samples"] if s["contender"] != "brian2-cpp"]
    case["skipped"] = {"brian2-cpp": "--quick"}
    case["summary"] = stats._summaries(case["samples"])
    case["ratios"] = stats._ratios(case["summary"])
    md = bench.format_markdown(doc)
    assert "| nest (of nest; not run: brian2-cpp) |" in md


def test_ratios_and_targets_from_medians():
    doc = _fake_doc()
    r = doc["cases"][0]["ratios"]
    assert r["fastest_peer"] == "brian2-cpp"
    assert r["steady_vs_fastest_peer"] == pytest.approx(0.06 / 0.09)
    assert r["steady_vs_nest"] == pytest.approx(0.06 / 0.81)
    assert r["first_result_vs_brian2_cpp"] == pytest.approx(0.8 / 20.0)
    md = bench.format_markdown(doc)
    assert "## CUBA" in md and "## Targets" in md and "- a note" in md
    assert "| 4000 | 1 | memr_snn (dense) | 3 |" in md
    assert "0.0600 (0.0500–0.0700)" in md  # median (min–max) of the steady runs
    assert "0.67 ✗" in md and "0.074 ✓" in md and "12.20 ✗" in md
    assert "| brian2-cpp (of brian2-cpp, nest) |" in md
    header = next(line for line in md.splitlines() if line.startswith("| N |"))
    rows = [line for line in md.splitlines() if line.startswith("| 4000 |")]
    assert len(rows) == 3 and all(row.count("|") == header.count("|") for row in rows)


def test_quick_run_end_to_end(tmp_path, capsys, monkeypatch):
    """``memr-snn bench --quick`` with a tiny network and no peers writes both files."""
    out = tmp_path / "b"
    argv = ["bench", "--quick", "--sizes", "200", "--models", "cuba", "--peers", "none", "--out", str(out)]
    monkeypatch.setattr("sys.argv", ["/some/bin/memr-snn", *argv])
    rc = cli_main(argv)
    assert rc == 0
    md = (out / "bench.md").read_text()
    assert md in capsys.readouterr().out
    doc = json.loads((out / "bench.json").read_text())
    assert doc["complete"] and doc["quick"]
    assert doc["command"] == "memr-snn " + " ".join(argv)
    assert "machine" in doc and doc["versions"]["memr_snn"]
    (case,) = doc["cases"]
    assert case["key"] == "cuba-200-0.2s" and case["failures"] == []
    s = case["summary"]["memr_snn"]
    assert s["repeat_identical"] and s["n_spikes"]["median"] > 0 and s["bytes_per_synapse"] > 0
    assert 0 < s["run_time"]["median"] < s["first_result_time"]["median"]
    sc = doc["scaling"]
    assert sc["idle_spikes"] == 0 and set(sc["event"]) == {str(n) for n in plan.QUICK_SCALING_SIZES}
    assert "Event-engine growth" in md


def test_alif_constants_match_the_network():
    from memr_snn.networks.vogels_abbott import ALIF_PARAMS

    from memr_snn.bench.networks import ALIF_BETA_ADAPT, ALIF_TAU_ADAPT

    assert ALIF_PARAMS.tau_adapt == ALIF_TAU_ADAPT
    assert ALIF_PARAMS.beta_adapt == ALIF_BETA_ADAPT


def test_steady_ratios_compare_cpu_with_cpu_and_wall_with_wall():
    """Where both sides measured CPU time, the steady ratio (and the fastest peer) use it; the wall ratio is
    reported beside it; a peer without CPU time falls back to wall over wall."""
    case = bench.Case("cuba", 4000, 1.0, 3)
    samples = []
    for rep in range(3):
        # memr_snn: wall 0.10 s, CPU 0.05 s (a loaded machine); brian2-cpp: wall 0.08, CPU 0.07; nest: wall only
        for c, wall, cpu in (("memr_snn", 0.10, 0.05), ("brian2-cpp", 0.08, 0.07), ("nest", 0.5, None)):
            samples.append(suite._sample(
                c, case, rep, version="1", build_time=0.3, first_run_time=0.2, run_time=wall, run_cpu=cpu,
                first_result_time=1.0, first_result_exact=True, total_time=1.1, peak_rss=2**27, n_spikes=22000,
                n_synapses=320000, extra={"bytes_per_synapse": 12.2, "engine": "dense", "repeat_identical": True}))
    summ = stats._summaries(samples)
    r = stats._ratios(summ)
    assert r["steady_vs"]["brian2-cpp"] == pytest.approx(0.05 / 0.07)
    assert r["steady_clock"] == {"brian2-cpp": "cpu", "nest": "wall"}
    assert r["steady_wall_vs"]["brian2-cpp"] == pytest.approx(0.10 / 0.08)
    assert r["steady_vs"]["nest"] == pytest.approx(0.10 / 0.5)
    assert r["fastest_peer"] == "brian2-cpp" and r["steady_vs_fastest_peer"] == pytest.approx(0.05 / 0.07)
    rec = {"model": "cuba", "n_neurons": 4000, "duration": 1.0, "repeats": 3, "key": case.key,
           "contenders": ["memr_snn", "brian2-cpp", "nest"], "skipped": {}, "failures": [], "samples": samples,
           "summary": summ, "ratios": r}
    md = bench.format_markdown({"command": "memr-snn bench", "cases": [rec], "notes": [], "machine": {},
                                "versions": {}, "cold": None, "scaling": None})
    row = next(line for line in md.splitlines() if line.startswith("| 4000 | 1 | brian2-cpp |"))
    cells = [x.strip() for x in row.split("|")]
    assert "0.0700 (0.0700–0.0700)" in cells  # the CPU column
    assert "0.71" in cells and "1.25" in cells  # CPU ratio, wall ratio
    nest_row = next(line for line in md.splitlines() if line.startswith("| 4000 | 1 | nest |"))
    assert [x.strip() for x in nest_row.split("|")][8] == "–"  # no CPU time measured


def test_loop_clocks_are_read_from_the_binarys_file(tmp_path):
    """The cpp_standalone binary appends one 'wall cpu' line per network run; the last one is the run."""
    from memr_snn.bench import _worker

    assert _worker._brian2_loop_clocks(str(tmp_path)) is None
    (tmp_path / _worker._LOOP_CLOCKS).write_text("0.5 0.25\n1.5 1.25\n")
    assert _worker._brian2_loop_clocks(str(tmp_path)) == (1.5, 1.25)
    assert "CLOCK_PROCESS_CPUTIME_ID" in _worker._LOOP_CLOCK_BEFORE and "CLOCK_MONOTONIC" in _worker._LOOP_CLOCK_BEFORE
    assert _worker._LOOP_CLOCK_BEFORE.count("{") == _worker._LOOP_CLOCK_AFTER.count("}") == 1
