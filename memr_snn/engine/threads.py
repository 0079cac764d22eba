"""How many threads a run uses, and the threaded run of a chunk (:mod:`memr_snn.kernel.threads`).

``Network.threads`` is the user's choice: an integer, or None / ``"auto"`` (the default) for a count
decided at each run from the network and the machine (:func:`threads_for`).  Results are those of one
thread whatever the count, so the default only changes the speed.  An explicit number is used as given.
A one-thread run never compiles the threaded kernels.

**The automatic count** (:func:`auto_threads`): more than one thread only where it paid on the 2-core
reference machine, i.e. when the run's chunks go to the block loop (dense mode, float weights, no
plasticity, no crossbars: the parallel-region loop ran the benchmark networks at 0.73-0.90x one thread's
speed, docs/benchmarks.md "Two threads"), with at least :data:`AUTO_MIN_PER_THREAD` integrated neurons
per thread (below that the per-step meeting of the threads costs more than the split saves), on at most
the CPUs this process may run on (``os.sched_getaffinity``, at most ``NUMBA_NUM_THREADS``) and the CPUs
left idle by other processes (:func:`idle_cpus`, from ``/proc/stat`` since the previous reading or since
memr_snn was imported, less this process's own CPU time; on a machine loaded by other work two threads ran
slower than one).  ``MEMR_SNN_THREADS=<T>`` in the environment replaces the automatic count (``1``: always one
thread; ``auto``: the rule above); ``Network(threads=1)`` and ``memr-snn run --threads 1`` force one thread
for one network.

Dense chunks with float weights and no plasticity run on the block loop, whose barrier spins a few
microseconds and then sleeps (:mod:`memr_snn.kernel.sync`; ``MEMR_SNN_SPIN`` sets the spin in
cycle-counter ticks).  The others run on the parallel-region loop, whose threads meet at least once per
simulated step, so they must not spin while they wait: on a machine shared with other work, a spinning
thread holds its core while the thread it waits for is not scheduled, and each step then costs a
scheduler time slice (measured: CUBA 16 000 neurons at a load average of 7 on 2 cores, 19x slower than
one thread with GNU OpenMP's default spinning, 1.6-1.9x with passive waiting).  The first threaded run
therefore sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it
(``OMP_WAIT_POLICY=ACTIVE`` suits a machine dedicated to the run); the variable is read when numba first
starts its threads, so it has no effect after that.
"""

from __future__ import annotations

import os
import time

import numpy as np

__all__ = ["AUTO_MIN_PER_THREAD", "ENV", "threads_for", "auto_threads", "idle_cpus", "ThreadedChunks"]

#: integrated neurons per thread from which the automatic count uses more than one thread (module docstring;
#: measured on the 2-core reference machine: docs/benchmarks.md, "Two threads", the automatic count)
AUTO_MIN_PER_THREAD = 16000
#: the environment variable that replaces the automatic count (an integer, or ``auto``)
ENV = "MEMR_SNN_THREADS"
#: an idle-CPU reading older than this many seconds is renewed at the next run (:func:`idle_cpus`)
_IDLE_EVERY_S = 0.2
#: the shortest interval :func:`idle_cpus` measures over (10 ms jiffies: a few per CPU)
_IDLE_MIN_S = 0.05


def _proc_stat() -> tuple[int, int]:
    """Idle (idle + I/O wait) and total jiffies of all CPUs since boot (``/proc/stat``)."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields[:8])


def _reading(idle: float | None) -> tuple:
    """``(wall [s], this process's CPU [s], idle jiffies, total jiffies, idle CPUs)`` now (jiffies None without
    ``/proc/stat``)."""
    try:
        jiffies = _proc_stat()
    except (OSError, ValueError, IndexError):
        jiffies = (None, None)
    return (time.monotonic(), time.process_time(), *jiffies, idle)


#: the last reading of :func:`idle_cpus`; the first is taken when this module is imported (with memr_snn)
_IDLE: dict = {"reading": _reading(None)}


def idle_cpus(cpus: int) -> float:
    """About how many CPUs other processes leave idle (at most ``cpus``, this process's).

    On Linux from ``/proc/stat`` since the previous reading (the first: when memr_snn was imported), less this
    process's own CPU time over that interval, so neither building the network nor a previous run on two
    threads counts as load.  A reading younger than 0.2 s is reused; an interval shorter than 50 ms is first
    waited out.  Without ``/proc/stat``: ``cpus`` minus the 1-minute load average."""
    last = _IDLE["reading"]
    age = time.monotonic() - last[0]
    if last[4] is not None and age < _IDLE_EVERY_S:
        return min(last[4], cpus)
    n_cpu = os.cpu_count() or 1
    if last[3] is None:
        try:
            idle = n_cpu - os.getloadavg()[0]
        except (AttributeError, OSError):  # pragma: no cover - no load average on this system
            idle = float(n_cpu)
        now = _reading(None)
    else:
        if age < _IDLE_MIN_S:
            time.sleep(_IDLE_MIN_S - age)
        now = _reading(None)
        if now[3] is None or now[3] <= last[3]:  # no jiffy counted in between: keep the last estimate
            idle = float(cpus) if last[4] is None else last[4]
        else:
            busy_frac = 1.0 - (now[2] - last[2]) / (now[3] - last[3])  # all CPUs, this process included
            others = busy_frac * n_cpu - (now[1] - last[1]) / max(now[0] - last[0], 1e-9)
            idle = n_cpu - max(others, 0.0)
    idle = float(min(max(idle, 0.0), cpus))
    _IDLE["reading"] = (*now[:4], idle)
    return idle


def auto_threads(n_neurons: int, block_loop: bool) -> int:
    """The automatic thread count (module docstring) of a run of ``n_neurons`` integrated neurons whose chunks
    go to the block loop if ``block_loop``: 1 unless the loop is the block loop and there are at least
    :data:`AUTO_MIN_PER_THREAD` neurons per thread, CPUs for this process and idle CPUs (each thread needs
    half an idle CPU or more, rounded)."""
    from ..info import machine_threads

    if not block_loop or n_neurons < 2 * AUTO_MIN_PER_THREAD:
        return 1
    from numba import config

    if config.DISABLE_JIT:  # Python threads under the GIL: slower
        return 1
    cpus = machine_threads()
    n = min(cpus, n_neurons // AUTO_MIN_PER_THREAD)
    if n < 2:
        return 1
    return max(1, min(n, int(idle_cpus(cpus) + 0.5)))


def threads_for(requested: int | None, n_neurons: int, block_loop: bool = True, sim=None) -> int:
    """The number of threads a run of a network with ``n_neurons`` integrated neurons uses: ``requested``, or
    for None the count ``MEMR_SNN_THREADS`` sets, else :func:`auto_threads` (``block_loop``: whether the run's
    chunks go to the block loop; with the simulator ``sim``, taken from its mode, crossbars and plasticity).

    Raises
    ------
    ValueError
        ``MEMR_SNN_THREADS`` is neither ``auto`` nor an integer in ``[1, NUMBA_NUM_THREADS]``.
    """
    if requested is not None:
        return int(requested)
    env = os.environ.get(ENV, "auto").strip().lower()
    if env in ("", "auto"):
        if sim is not None:  # kernel.threads.blocks_apply: dense, float weights, no plasticity
            block_loop = sim.mode == "dense" and not sim._crossbars and sim.pi.shape[0] == 0
        return auto_threads(n_neurons, block_loop)
    from ..info import max_threads

    hi = max_threads()
    try:
        value = int(env)
    except ValueError:
        value = 0
    if not 1 <= value <= hi:
        raise ValueError(f"{ENV} must be 'auto' or an integer in [1, {hi}] (NUMBA_NUM_THREADS of this machine), "
                         f"got {os.environ[ENV]!r}")
    return value


class ThreadedChunks:
    """Runs chunks of a :class:`~memr_snn.engine.simulator.Simulator` ``sim`` on ``n_threads`` threads.

    Imports (and, on first use, compiles) :mod:`memr_snn.kernel.threads`; holds its per-thread
    tables (block boundaries, the dense ranges cut at them, the blocks' spike lists).
    """

    #: event mode: least active neurons per thread to integrate the active list on the threads (None: the
    #: kernel's ``EVENT_MIN_PER_THREAD``); the tests lower it to exercise that path on small networks
    event_min: int | None = None
    #: run dense chunks with float weights and no plasticity on the block loop (``kernel.threads.run_block``:
    #: one compiled call per thread, one meeting per step); False: the parallel-region loop for every chunk
    #: (``run_chunk_threads``; kept for comparison: benchmarks/threads.py ``--region-loop``, the tests)
    block_loop: bool = True
    #: the block loop's boundaries between the threads' blocks (``kernel.threads._rebalance``): 1 they follow the
    #: threads' busy times (a thread whose core is slower gets fewer neurons), 0 they stay where the blocks have
    #: equal numbers of neurons (benchmarks/threads.py ``--static-blocks``), -1 they jump every 32 steps (the tests)
    balance: int = 1

    def __init__(self, sim, n_threads: int):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before numba starts its OpenMP threads (docstring)
        from ..kernel import threads as KT

        self.n_threads = n_threads
        self._kernel = KT.run_chunk_threads
        self._blocks, self._blocks_apply = KT.run_chunk_blocks, KT.blocks_apply
        event_min = KT.EVENT_MIN_PER_THREAD if self.event_min is None else self.event_min
        n_pre = np.array([pr.pre.n for pr in sim.net.projections], dtype=np.int64)
        spin = int(os.environ.get("MEMR_SNN_SPIN", KT.SPIN_TICKS))
        self.record = KT.make_threads(sim.dense_ranges, sim.n_total, n_threads, sim.proj_ipo, sim.proj_so, n_pre,
                                      sim.syn_indptr, sim.syn_post, event_min, spin, self.balance)

    def run(self, t0: int, n_steps: int, dense: bool, dt: float, records: tuple) -> int:
        """The block loop (``run_chunk_blocks``) for dense chunks with float weights and no plasticity, else
        ``run_chunk_threads`` with numba set to ``n_threads`` threads (restored afterwards)."""
        import numba

        nrn, inp, syn, xbr, pls, ring, rec, scr = records
        if self.block_loop and self._blocks_apply(dense, xbr, pls):  # a compiled loop per thread, one meeting a step
            return self._blocks(t0, n_steps, dt, nrn, inp, syn, ring, rec, scr, self.record)
        before = numba.get_num_threads()
        numba.set_num_threads(self.n_threads)
        try:
            return self._kernel(t0, n_steps, dense, dt, *records, self.record)
        finally:
            numba.set_num_threads(before)
