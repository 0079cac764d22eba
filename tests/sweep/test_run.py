"""Running sweeps in one process: rows, resume, failures, refused folders, the built-in campaign."""

import math

import numpy as np
import pytest

from memr_snn._extras import MissingExtraError
from memr_snn.sweep import (
    SerialExecutor,
    SweepFolderError,
    SweepSpec,
    comparable,
    degradation_curves,
    plot_curves,
    read_results,
    run_sweep,
    summary_markdown,
    sweep_status,
)
from memr_snn.sweep.results import POINTS_DIR

Q = "sweep.experiments_for_tests:quadratic"
SPEC = SweepSpec(Q, grid=(("x", (0.0, 1.0, 2.0)),), fixed=(("offset", 1),), seeds=3, root_seed=11)


class Stop(Exception):
    pass


def _stop_after(n):
    seen = []

    def on_row(row):
        seen.append(row["key"])
        if len(seen) == n:
            raise Stop

    return on_row


def test_rows_hold_parameters_metrics_and_run_information(tmp_path):
    summary = run_sweep(SPEC, tmp_path / "r", progress=False)
    assert (summary.n_points, summary.ok, summary.failed, summary.skipped) == (9, 9, 0, 0)
    table = read_results(tmp_path / "r")
    rows = table.to_pylist()
    assert [(r["point_index"], r["replicate"]) for r in rows] == [(i, k) for i in range(3) for k in range(3)]
    for r in rows:
        noise = np.random.default_rng(r["seed"]).normal(0.0, 0.1)  # what the experiment computes
        assert r["metric.y"] == pytest.approx(r["param.x"] ** 2 + 1 + noise, abs=0) and r["status"] == "ok"
        assert r["param.offset"] == 1 and r["worker"] == "serial" and r["seconds"] >= 0 and r["host"]
        assert r["code_version"].startswith("memr_snn=") and r["error_type"] is None
    assert len(list((tmp_path / "r" / POINTS_DIR).glob("*.parquet"))) == 9
    assert set(read_results(tmp_path / "r", run_columns=False).column_names).isdisjoint({"seconds", "host", "pid"})


def test_an_interrupted_sweep_resumes_with_only_the_missing_points(tmp_path):
    with pytest.raises(Stop):
        run_sweep(SPEC, tmp_path / "r", progress=False, on_row=_stop_after(4))
    assert len(read_results(tmp_path / "r")) == 4
    assert sweep_status(tmp_path / "r")["missing"] == 5
    second = []
    summary = run_sweep(SPEC, tmp_path / "r", progress=False, on_row=lambda row: second.append(row["key"]))
    assert (summary.skipped, summary.ok, len(second)) == (4, 5, 5)
    run_sweep(SPEC, tmp_path / "whole", progress=False)
    assert comparable(read_results(tmp_path / "r")) == comparable(read_results(tmp_path / "whole"))
    again = run_sweep(SPEC, tmp_path / "r", progress=False)
    assert (again.skipped, again.ok) == (9, 0)


def test_a_failing_point_is_recorded_and_the_rest_completes(tmp_path):
    spec = SweepSpec(Q, grid=(("x", (0.0, 1.0, 2.0)),), fixed=(("fail_at", 1.0),), seeds=2)
    summary = run_sweep(spec, tmp_path / "r", progress=False)
    assert (summary.ok, summary.failed) == (4, 2)
    rows = read_results(tmp_path / "r").to_pylist()
    bad = [r for r in rows if r["status"] == "failed"]
    assert [r["param.x"] for r in bad] == [1.0, 1.0]
    assert bad[0]["error_type"] == "ValueError" and bad[0]["error_message"] == "x = 1.0 is where this experiment fails"
    assert "Traceback" in bad[0]["traceback"] and "quadratic" in bad[0]["traceback"]
    assert bad[0]["metric.y"] is None
    status = sweep_status(tmp_path / "r")
    assert (status["ok"], status["failed"], status["errors"]) == (4, 2, {"ValueError": 2})
    kept = run_sweep(spec, tmp_path / "r", progress=False, retry_failed=False)
    assert (kept.skipped, kept.failed) == (6, 0)
    retried = run_sweep(spec, tmp_path / "r", progress=False)  # failed points run again by default
    assert (retried.skipped, retried.failed) == (4, 2)
    curves = degradation_curves(read_results(tmp_path / "r"), "x", "y")
    assert [(p.x, p.n, p.failed) for p in curves[()]] == [(0.0, 2, 0), (1.0, 0, 2), (2.0, 2, 0)]


def test_bad_return_values_are_failures(tmp_path):
    summary = run_sweep(SweepSpec("sweep.experiments_for_tests:not_a_mapping", seeds=2), tmp_path / "r",
                        progress=False)
    assert summary.failed == 2
    assert read_results(tmp_path / "r").column("error_type").to_pylist() == ["TypeError"] * 2


def _explode(*args, **kwargs):
    raise AssertionError("work started")


@pytest.mark.parametrize(("spec", "match"), [
    (SweepSpec("no-such-experiment"), "unknown experiment"),
    (SweepSpec(Q, grid=(("z", (1.0,)),)), "has no parameter"),
    (SweepSpec("sweep.experiments_for_tests:needs_a"), "needs parameter"),
])
def test_bad_input_is_refused_before_work(tmp_path, monkeypatch, spec, match):
    import memr_snn.sweep.runner as runner

    monkeypatch.setattr(runner, "execute_point", _explode)
    with pytest.raises(ValueError, match=match):
        run_sweep(spec, tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_a_folder_of_another_sweep_is_refused_before_work(tmp_path, monkeypatch):
    import memr_snn.sweep.runner as runner

    run_sweep(SPEC, tmp_path / "r", progress=False, on_row=None)
    monkeypatch.setattr(runner, "execute_point", _explode)
    other = SweepSpec(Q, grid=(("x", (0.0, 1.0, 5.0)),), fixed=(("offset", 1),), seeds=3, root_seed=11)
    with pytest.raises(SweepFolderError, match=r"another sweep \(grid: .*5\.0"):
        run_sweep(other, tmp_path / "r", progress=False)
    with pytest.raises(SweepFolderError, match="root_seed: 11 there, 12 here"):
        run_sweep(SweepSpec(Q, grid=SPEC.grid, fixed=SPEC.fixed, seeds=3, root_seed=12), tmp_path / "r",
                  progress=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SweepFolderError, match="not an empty folder or a sweep results folder"):
        run_sweep(SPEC, tmp_path / "other", progress=False)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_missing_pyarrow_names_the_extra(tmp_path, monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtraError, match=r"needs pyarrow, which is not installed: pip install 'memr_snn\[dask"):
        run_sweep(SPEC, tmp_path / "r", executor=SerialExecutor(), progress=False)


def test_missing_distributed_names_the_extra(tmp_path, monkeypatch):
    import sys

    from memr_snn.sweep import DaskExecutor

    for name in [m for m in sys.modules if m == "distributed" or m.startswith("distributed.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingExtraError, match=r"^sweeps on Dask needs dask \(module distributed\), which is not"):
        run_sweep(SPEC, tmp_path / "r", executor=DaskExecutor(), progress=False)
    assert not list((tmp_path / "r" / POINTS_DIR).glob("*.parquet"))  # nothing ran


def test_progress_lines_count_points_and_failures(tmp_path, capsys):
    spec = SweepSpec(Q, grid=(("x", (0.0, 1.0)),), fixed=(("fail_at", 1.0),))
    run_sweep(spec, tmp_path / "r", progress=True)
    err = capsys.readouterr().err
    assert "sweep: 0/2" in err and "sweep: 2/2 (100%) done in" in err and "1 failed" in err


def test_stuck_fault_campaign_degrades_and_reports(tmp_path):
    """The built-in campaign at a small size: no deviation without faults, the measured stuck fraction equals the
    injected rate within binomial error, and the curve, plot and summary come out of the folder."""
    spec = SweepSpec("cuba-stuck-faults", grid=(("fault_rate", (0.0, 0.2)),),
                     fixed=(("n", 200), ("duration", 0.2)), seeds=2, common_seeds=True)
    run_sweep(spec, tmp_path / "r", progress=False)
    table = read_results(tmp_path / "r")
    rows = table.to_pylist()
    assert all(r["status"] == "ok" for r in rows)
    for r in rows:
        devices, p = r["metric.devices"], r["param.fault_rate"]
        assert abs(r["metric.stuck_fraction"] - p) <= 4 * math.sqrt(p * (1 - p) / devices) + 1e-12
        if p == 0:
            assert r["metric.rate_deviation"] == 0.0 and r["metric.rate_hz"] == r["metric.rate_ref_hz"]
    curves = degradation_curves(table, "fault_rate", "abs_rate_deviation")
    assert [p.x for p in curves[()]] == [0.0, 0.2] and curves[()][0].mean == 0.0 and curves[()][1].mean > 0
    png = plot_curves(curves, "fault_rate", "abs_rate_deviation", tmp_path / "curve.png")
    assert png.stat().st_size > 1000
    md = summary_markdown(tmp_path / "r", "fault_rate", "abs_rate_deviation")
    assert "| 0.2 |" in md and "4 ok, 0 failed" in md
