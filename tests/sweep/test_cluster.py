"""A hand-started scheduler and two worker processes on 127.0.0.1: one worker is SIGKILLed mid-point and the
sweep still ends with exactly the serial table (no lost, no duplicated row)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="needs the dask extra")

from memr_snn.sweep import DaskExecutor, SweepSpec, comparable, read_results, run_sweep  # noqa: E402
from memr_snn.sweep.results import POINTS_DIR  # noqa: E402

TESTS = Path(__file__).resolve().parents[1]
SPEC = SweepSpec("sweep.experiments_for_tests:quadratic", grid=(("x", (0.0, 1.0, 2.0, 3.0, 4.0)),),
                 fixed=(("sleep", 0.3),), seeds=2, root_seed=9)


def _wait(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _log_lines(log: Path) -> list[list[str]]:
    return [ln.split() for ln in log.read_text().splitlines()] if log.exists() else []


def _in_flight(log: Path, pid: int) -> str | None:
    started = {tag for kind, tag, p in _log_lines(log) if kind == "start" and int(p) == pid}
    ended = {tag for kind, tag, p in _log_lines(log) if kind == "end" and int(p) == pid}
    return next(iter(started - ended), None)


def test_a_killed_worker_loses_nothing(tmp_path):
    log = tmp_path / "points.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           "SWEEP_TEST_LOG": str(log), "OPENBLAS_NUM_THREADS": "1"}
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        address = _wait(lambda: sched_file.exists() and json.loads(sched_file.read_text() or "{}").get("address"),
                        30, "the scheduler")
        workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                     "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{k}"],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for k in range(2)]
        procs += workers
        with distributed.Client(address, timeout=20) as client:
            client.wait_for_workers(2, timeout=30)
        victim = workers[0]
        killed = {}

        def on_row(row):
            if killed:
                return
            killed["tag"] = _wait(lambda: _in_flight(log, victim.pid), 10, "a point running on the victim")
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)

        summary = run_sweep(SPEC, tmp_path / "dask", DaskExecutor(address, retries=1), progress=False, on_row=on_row)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    bad = [(r["error_type"], r["error_message"]) for r in read_results(tmp_path / "dask").to_pylist()
           if r["status"] != "ok"]
    assert killed and (summary.ok, summary.failed) == (10, 0), bad
    # the point that was running on the killed worker never finished there, and was finished by the other one
    lines = _log_lines(log)
    assert ["end", killed["tag"], str(victim.pid)] not in lines
    assert any(k == "end" and t == killed["tag"] and int(p) == workers[1].pid for k, t, p in lines)
    assert len(list((tmp_path / "dask" / POINTS_DIR).glob("*.parquet"))) == 10
    assert not [f for f in (tmp_path / "dask" / POINTS_DIR).iterdir() if f.suffix != ".parquet"]
    os.environ.pop("SWEEP_TEST_LOG", None)
    run_sweep(SPEC, tmp_path / "serial", progress=False)
    assert comparable(read_results(tmp_path / "dask")) == comparable(read_results(tmp_path / "serial"))
