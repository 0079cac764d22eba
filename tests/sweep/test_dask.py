"""Sweeps on dask.distributed: the embedded LocalCluster, an existing scheduler, and refusals."""

import os
import socket

import pytest

pytest.importorskip("distributed", reason="needs the dask extra")

from memr_snn.sweep import (  # noqa: E402
    DaskExecutor,
    SchedulerUnreachableError,
    SweepSpec,
    comparable,
    read_results,
    run_sweep,
)

Q = "sweep.experiments_for_tests:quadratic"
SPEC = SweepSpec(Q, grid=(("x", (0.0, 0.5, 1.0, 1.5)),), fixed=(("fail_at", 1.5),), seeds=3, root_seed=5)


def test_local_cluster_gives_the_serial_table_and_pins_blas(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")  # the workers must not inherit it
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    run_sweep(SPEC, tmp_path / "serial", progress=False)
    with DaskExecutor(workers=2) as ex:
        summary = run_sweep(SPEC, tmp_path / "dask", ex, progress=False)
        env = run_sweep(SweepSpec("sweep.experiments_for_tests:environment", seeds=2), tmp_path / "env", ex,
                        progress=False)
        assert len(ex.client.scheduler_info(n_workers=-1)["workers"]) == 2
        assert {w["nthreads"] for w in ex.client.scheduler_info(n_workers=-1)["workers"].values()} == {1}
        # the client keeps its own environment (numba rereads it at each compilation: a leaked
        # NUMBA_NUM_THREADS=1 made a later threaded run of the same process fail)
        assert os.environ.get("OPENBLAS_NUM_THREADS") == "4" and "NUMBA_NUM_THREADS" not in os.environ
    assert os.environ.get("OPENBLAS_NUM_THREADS") == "4" and "NUMBA_NUM_THREADS" not in os.environ
    assert (summary.executor, summary.ok, summary.failed, env.ok) == ("dask", 9, 3, 2)
    serial, dask = read_results(tmp_path / "serial"), read_results(tmp_path / "dask")
    assert comparable(dask) == comparable(serial)
    assert {r["worker"] for r in dask.to_pylist()} != {"serial"}
    for row in read_results(tmp_path / "env").to_pylist():
        assert (row["metric.OPENBLAS_NUM_THREADS"], row["metric.OMP_NUM_THREADS"]) == ("1", "1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_refused_quickly(tmp_path, monkeypatch):
    import memr_snn.sweep.runner as runner

    monkeypatch.setattr(runner, "execute_point", lambda *a, **k: pytest.fail("work started"))
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(SchedulerUnreachableError, match=f"no Dask scheduler answered at {address} within 1 s"):
        run_sweep(SPEC, tmp_path / "r", DaskExecutor(address, connect_timeout=1.0), progress=False)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"address": "127.0.0.1:8786"}, "must look like tcp://host:port"),
    ({"address": "tcp://host:port"}, "must look like tcp://host:port"),
    ({"address": "tcp://h:1", "workers": 2}, "workers applies to the embedded cluster"),
    ({"workers": 0}, "workers must be an integer >= 1"),
    ({"retries": -1}, "retries must be"),
    ({"connect_timeout": 0}, "connect_timeout must be"),
])
def test_executor_refusals(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DaskExecutor(**kwargs)
