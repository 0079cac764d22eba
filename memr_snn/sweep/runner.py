"""Running a sweep: one point (:func:`execute_point`), the executors, and :func:`run_sweep`.

Two executors run the points:

* :class:`SerialExecutor` -- one after the other in this process (debugging, profiling, tiny sweeps);
* :class:`DaskExecutor` -- on a dask.distributed cluster: an embedded ``LocalCluster`` (one single-threaded
  worker process per core, BLAS pinned to one thread) or an existing scheduler (``tcp://host:port``).

Both call the same :func:`execute_point`, which never raises for the experiment's own errors: it returns a
*failed* row (error type, message, traceback) and the sweep goes on.  The client writes each row as its
point finishes (:func:`memr_snn.sweep.results.write_row`), so the workers need no access to the results
folder.  A worker that dies mid-point (killed, out of memory, its machine lost) loses nothing: the scheduler
reruns the point elsewhere (and ``retries`` more times on errors of the infrastructure), and a point that
still cannot be run is recorded as failed with the scheduler's error (e.g. ``KilledWorker``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import os
import platform
import re
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._extras import require
from ..progress import ProgressBar
from .experiments import check_metrics, code_version, resolve_experiment
from .results import finished_keys, open_results_folder, write_row
from .spec import Point, SweepSpec, plan

__all__ = ["execute_point", "SerialExecutor", "DaskExecutor", "SchedulerUnreachableError", "SweepSummary",
           "run_sweep", "make_tasks", "WORKER_ENV"]

#: environment of the embedded cluster's worker processes: one BLAS/OpenMP thread each (the cores are
#: the workers)
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def make_tasks(spec: SweepSpec, points: Iterable[Point], version: str) -> list[dict[str, Any]]:
    """The picklable task of each point (what a worker needs to run it)."""
    return [{"experiment": spec.experiment, "spec_version": spec.version, "code_version": version, "key": p.key,
             "point_index": p.index, "replicate": p.replicate, "seed": p.seed, "params": dict(p.params)}
            for p in points]


def _base_row(task: Mapping[str, Any]) -> dict[str, Any]:
    row = {"key": task["key"], "experiment": task["experiment"], "point_index": task["point_index"],
           "replicate": task["replicate"], "seed": task["seed"]}
    row.update({f"param.{k}": v for k, v in task["params"].items()})
    row.update({"code_version": task["code_version"], "python_version": platform.python_version(),
                "numpy_version": np.__version__})
    return row


def _versions() -> dict[str, str]:
    from .. import __version__

    return {"memr_snn_version": __version__}


def failure_row(task: Mapping[str, Any], exc: BaseException, tb: str | None = None, *, worker: str = "",
                seconds: float = float("nan"), started_at: str = "") -> dict[str, Any]:
    """The row of a point that failed with ``exc`` (``tb``: its formatted traceback)."""
    row = _base_row(task)
    row.update(_versions())
    row.update({"status": "failed", "error_type": type(exc).__name__, "error_message": " ".join(str(exc).split()),
                "traceback": tb if tb is not None else "".join(traceback.format_exception(exc)),
                "started_at": started_at, "seconds": seconds, "host": socket.gethostname() if worker else "",
                "pid": os.getpid() if worker else -1, "worker": worker, "cpu_seconds": float("nan")})
    return row


def execute_point(task: Mapping[str, Any], worker: str | None = None) -> dict[str, Any]:
    """Run one point and return its row; the experiment's exceptions become a failed row, never an exception.

    Parameters
    ----------
    task : mapping
        One of :func:`make_tasks`.
    worker : str, optional
        Name of the worker for the row (default: the dask worker's address, else ``"serial"``).

    Returns
    -------
    dict
        The row (:mod:`memr_snn.sweep.results` lists the columns).
    """
    if worker is None:
        try:
            from distributed import get_worker

            worker = get_worker().address
        except (ImportError, ValueError):
            worker = "serial"
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    t0 = time.perf_counter()
    c0 = time.thread_time()
    try:
        exp = resolve_experiment(task["experiment"], task["spec_version"])
        mine = code_version(exp)
        if mine != task["code_version"]:
            raise RuntimeError(f"this worker runs {mine}, the sweep was planned with {task['code_version']}; "
                               "install the same memr_snn on every worker")
        metrics = check_metrics(exp.function(seed=task["seed"], **task["params"]))
    except Exception as exc:  # noqa: BLE001 - recorded in the row, the sweep goes on
        row = failure_row(task, exc, worker=worker, seconds=time.perf_counter() - t0, started_at=started)
        row["cpu_seconds"] = time.thread_time() - c0
        return row
    row = _base_row(task)
    row.update(_versions())
    row.update({"status": "ok", "error_type": None, "error_message": None, "traceback": None})
    row.update({f"metric.{k}": v for k, v in metrics.items()})
    row.update({"started_at": started, "seconds": time.perf_counter() - t0, "cpu_seconds": time.thread_time() - c0,
                "host": socket.gethostname(), "pid": os.getpid(), "worker": worker})
    return row


class SerialExecutor:
    """Runs the points one after the other in this process (for debugging: breakpoints and profilers work)."""

    name = "serial"

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def describe(self) -> str:
        return "serial (this process)"

    def map(self, tasks: list[dict[str, Any]], on_row: Callable[[dict[str, Any]], None]) -> None:
        """Run ``tasks`` in order, calling ``on_row`` with each row."""
        for task in tasks:
            on_row(execute_point(task, worker="serial"))


class SchedulerUnreachableError(ConnectionError):
    """The Dask scheduler at the given address did not answer within the connection timeout."""


_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx)://[^\s:/]+(:\d{1,5})?/?$|^(tcp|tls|ws|wss|ucx)://\[[0-9a-fA-F:]+\]"
                      r"(:\d{1,5})?/?$")


def check_address(address: str) -> str:
    """``address`` if it looks like a scheduler address (``tcp://host:port``); else ValueError."""
    if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
        raise ValueError(f"scheduler address must look like tcp://host:port (e.g. tcp://10.0.0.5:8786), "
                         f"got {address!r}")
    return address.strip()


class DaskExecutor:
    """Runs the points on a dask.distributed cluster.

    Parameters
    ----------
    address : str, optional
        An existing scheduler (``tcp://host:port``).  Default: start an embedded ``LocalCluster`` for the
        duration of the sweep.
    workers : int, optional
        Worker processes of the embedded cluster (default: one per core, :func:`os.cpu_count`).
    retries : int
        Extra attempts of a task whose run failed for reasons outside the experiment (Dask's ``retries``),
        ``>= 0``.  (A worker lost mid-task does not count: its task is rescheduled, up to the scheduler's
        ``distributed.scheduler.allowed-failures`` times.)
    connect_timeout : float
        Seconds to wait for the scheduler at ``address`` before :class:`SchedulerUnreachableError`.
    env : mapping, optional
        Extra environment of the embedded cluster's workers (added to :data:`WORKER_ENV`; the client's
        ``NUMBA_CACHE_DIR``, if set, is passed on so that all processes share one numba cache).

    Notes
    -----
    Used as a context manager it starts the cluster (or connects) on entry and stops it on exit;
    :func:`run_sweep` enters it itself, and several sweeps inside one ``with DaskExecutor() as ex:`` share
    one cluster.  The workers import the experiment by name, so its module must be importable there (same
    ``sys.path`` for the embedded cluster; an installed package or ``PYTHONPATH`` on a real cluster).
    """

    name = "dask"

    def __init__(self, address: str | None = None, *, workers: int | None = None, retries: int = 2,
                 connect_timeout: float = 10.0, env: Mapping[str, str] | None = None) -> None:
        if address is not None:
            address = check_address(address)
            if workers is not None:
                raise ValueError("workers applies to the embedded cluster; a scheduler address brings its own")
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {retries!r}")
        if not (isinstance(connect_timeout, (int, float)) and 0 < connect_timeout < float("inf")):
            raise ValueError(f"connect_timeout must be a positive number of seconds, got {connect_timeout!r}")
        self.address = address
        self.workers = workers
        self.retries = retries
        self.connect_timeout = float(connect_timeout)
        self.env = dict(WORKER_ENV)
        if os.environ.get("NUMBA_CACHE_DIR"):
            self.env["NUMBA_CACHE_DIR"] = os.environ["NUMBA_CACHE_DIR"]
        self.env.update(env or {})
        self.client = None
        self.cluster = None
        self._depth = 0
        self._environ: dict[str, str | None] = {}  # the client's variables the nanny overwrites (_start)

    def __enter__(self) -> DaskExecutor:
        self._depth += 1
        if self._depth > 1:  # already started by an outer 'with': several sweeps share the cluster
            return self
        try:
            self._start()
        except BaseException:
            self._depth -= 1
            raise
        return self

    def _start(self) -> None:
        distributed = require("dask", "distributed", "sweeps on Dask")
        if self.address is not None:
            try:
                self.client = distributed.Client(self.address, timeout=self.connect_timeout,
                                                 set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise SchedulerUnreachableError(
                    f"no Dask scheduler answered at {self.address} within {self.connect_timeout:g} s "
                    f"({' '.join(str(exc).split())[:200]}); start one with 'dask scheduler' or check the "
                    "address and the firewall") from None
            return
        import logging

        import dask

        n = self.workers or os.cpu_count() or 1
        pre = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
        # Dask sets MALLOC_TRIM_THRESHOLD_=65536 to return memory sooner; numpy-heavy points then pay a page
        # fault per large allocation: measured 0.63 s instead of 0.39 s of CPU per cuba-stuck-faults point
        if "MALLOC_TRIM_THRESHOLD_" not in self.env:
            pre.pop("MALLOC_TRIM_THRESHOLD_", None)
        pre.update(self.env)
        # The nanny writes pre-spawn-environ into this process's os.environ (and leaves it there): without
        # the restore the client would keep NUMBA_NUM_THREADS=1 etc., and numba, which rereads its
        # environment at every compilation, refuses a threaded run after the sweep.
        self._environ = {k: os.environ.get(k) for k in pre}
        try:
            with dask.config.set({"distributed.nanny.pre-spawn-environ": pre}):
                self.cluster = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR, env=self.env)
        finally:
            self._restore_environ()
        self.client = distributed.Client(self.cluster, set_as_default=False)

    def __exit__(self, *exc) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
            self._restore_environ()  # a nanny that restarted a lost worker wrote it again
        self.client = self.cluster = None

    def _restore_environ(self) -> None:
        """Put back the client's environment variables that the nanny's pre-spawn environment overwrote."""
        for k, v in self._environ.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def describe(self) -> str:
        if self.client is None:
            return "dask (not started)"
        n = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        where = self.address or "embedded LocalCluster"
        return f"dask at {where}, {n} worker(s)"

    def map(self, tasks: list[dict[str, Any]], on_row: Callable[[dict[str, Any]], None]) -> None:
        """Submit ``tasks`` and call ``on_row`` with each row as its point finishes (in completion order)."""
        distributed = require("dask", "distributed", "sweeps on Dask")
        if self.client is None:
            raise RuntimeError("DaskExecutor.map outside 'with DaskExecutor(...)'")
        futures = {}
        for task in tasks:
            fut = self.client.submit(execute_point, task, key=f"memr-snn-point-{task['key']}", pure=False,
                                     retries=self.retries)
            futures[fut.key] = (fut, task)
        for fut in distributed.as_completed([f for f, _ in futures.values()], loop=self.client.loop):
            task = futures[fut.key][1]
            try:
                # blocks if the result was lost with its worker after completion: the scheduler recomputes it
                row = fut.result()
            except (Exception, asyncio.CancelledError) as exc:  # the cluster gave up on it (e.g. KilledWorker)
                row = failure_row(task, exc, worker="")
            fut.release()
            on_row(row)


@dataclasses.dataclass
class SweepSummary:
    """What :func:`run_sweep` did."""

    folder: Path
    n_points: int
    """Points of the spec."""
    skipped: int
    """Points already in the folder (done, or failed with ``retry_failed=False``)."""
    ok: int
    """Points that finished in this run."""
    failed: int
    """Points that failed in this run (their rows say why)."""
    seconds: float
    """Wall-clock time of this run."""
    executor: str

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["folder"] = str(self.folder)
        return d


def run_sweep(spec: SweepSpec, folder: str | os.PathLike, executor=None, *, retry_failed: bool = True,
              progress: bool | None = None, on_row: Callable[[dict[str, Any]], None] | None = None,
              ) -> SweepSummary:
    """Run the points of ``spec`` that ``folder`` does not hold yet, writing one row per point.

    Everything is checked before any point runs: the experiment exists and takes the spec's parameters,
    the plan has no duplicate points, and ``folder`` is new, empty, or made by the same spec and code
    version.

    Parameters
    ----------
    spec : SweepSpec
        The sweep.
    folder : str or os.PathLike
        The results folder (:mod:`memr_snn.sweep.results`).
    executor : SerialExecutor or DaskExecutor, optional
        How to run the points; default :class:`SerialExecutor`.  It is entered (cluster started or
        scheduler connected) after the checks and left at the end.
    retry_failed : bool
        Run again points whose row says failed (default); False keeps their failure rows.
    progress : bool or None
        Progress on stderr: points done and failed, time left (:class:`memr_snn.progress.ProgressBar`: a
        bar on a terminal, a few plain lines otherwise; False: nothing).
    on_row : callable, optional
        Called with each row after it is written (monitoring, tests).

    Returns
    -------
    SweepSummary

    Raises
    ------
    ValueError
        Unknown experiment or parameters, duplicate points, a folder of another sweep
        (:class:`~memr_snn.sweep.results.SweepFolderError`).
    SchedulerUnreachableError
        The scheduler at the executor's address does not answer.
    MissingExtraError
        pyarrow (or dask, for the Dask executor) is not installed.
    """
    t0 = time.perf_counter()
    exp = resolve_experiment(spec.experiment, spec.version)
    exp.check(spec)
    version = code_version(exp)
    points = plan(spec, version)
    folder = open_results_folder(folder, spec, version)
    done = finished_keys(folder)
    todo = [p for p in points if p.key not in done or (retry_failed and done[p.key] != "ok")]
    executor = executor if executor is not None else SerialExecutor()
    counts = {"ok": 0, "failed": 0}
    with ProgressBar(len(todo), desc="sweep", enabled=progress) as bar:
        if len(points) > len(todo):
            bar.set_postfix(f"{len(points) - len(todo)} done before")

        def write(row: dict[str, Any]) -> None:
            write_row(folder, row)
            counts[row["status"]] += 1
            bar.update()
            if counts["failed"]:
                bar.set_postfix(f"{counts['failed']} failed")
            if on_row is not None:
                on_row(row)

        if todo:  # nothing to run: the cluster is not even started
            with executor:
                executor.map(make_tasks(spec, todo, version), write)
    return SweepSummary(folder, len(points), len(points) - len(todo), counts["ok"], counts["failed"],
                        time.perf_counter() - t0, executor.name)
