"""How many threads a run uses, and the threaded run of a chunk (:mod:`memr_snn.kernel.threads`).

``Network.threads`` is the user's choice: an integer, or None (the default) for one thread.  Threads
are opt-in: on the 2-core reference machine, quiet, two threads ran the 64 000-neuron benchmark
networks at 0.73-0.90x the speed of one on the parallel-region loop (a ``prange`` region per step,
docs/benchmarks.md, "Two threads"); the block loop that now runs them (one compiled call per thread and
one meeting per step) has not yet been timed on a quiet machine.  A one-thread run never compiles the
threaded kernels.  An explicit number is used as given.  Either way the results are those of one thread.

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

import numpy as np

__all__ = ["threads_for", "ThreadedChunks"]


def threads_for(requested: int | None, n_neurons: int) -> int:
    """The number of threads a run of a network with ``n_neurons`` integrated neurons uses: ``requested``, or
    one thread for None (module docstring; ``n_neurons`` is kept for a size-dependent default)."""
    if requested is not None:
        return int(requested)
    return 1


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

    def __init__(self, sim, n_threads: int):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before numba starts its OpenMP threads (docstring)
        from ..kernel import threads as KT

        self.n_threads = n_threads
        self._kernel = KT.run_chunk_threads
        self._blocks, self._blocks_apply = KT.run_chunk_blocks, KT.blocks_apply
        event_min = KT.EVENT_MIN_PER_THREAD if self.event_min is None else self.event_min
        n_pre = np.array([pr.pre.n for pr in sim.net.projections], dtype=np.int64)
        proj_sorted = KT.rows_sorted(sim.proj_ipo, sim.proj_so, n_pre, sim.syn_indptr, sim.syn_post)
        spin = int(os.environ.get("MEMR_SNN_SPIN", KT.SPIN_TICKS))
        self.record = KT.make_threads(sim.dense_ranges, sim.n_total, n_threads, proj_sorted, event_min, spin)

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
