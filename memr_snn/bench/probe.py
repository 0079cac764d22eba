"""How close this machine's CPUs are: a cache line's round trip between two threads.

Two-thread speed-ups depend on it more than on anything in the kernels: the block loop's threads meet every
step (:mod:`memr_snn.kernel.threads`), and the lines they share (the meeting's words, the spike lists, the
blocks' seams) move between the two cores at this cost.  On the reference virtual machine it is 50-100 ns
while its host keeps the two virtual CPUs on cores that share a last-level cache and 300-370 ns while the host
puts them apart, which then costs two threads 20-30 % of their speed (docs/engine.md, "The slow spells").
``benchmarks/threads.py`` prints it around every run, ``memr-snn bench`` next to its two-thread results.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import numpy as np

__all__ = ["core_round_trip"]

_BOUNCE = None


def core_round_trip(n: int = 100_000) -> float:
    """Nanoseconds per round trip of one cache line between two threads (median of three bounces of ``n``):
    each thread waits for its turn on an ``int64`` (:func:`memr_snn.kernel.sync.atomic_load`) and passes it on
    (:func:`memr_snn.kernel.sync.atomic_add`), in compiled code without the GIL.  NaN on a machine with one CPU.
    """
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"core_round_trip: n must be an integer >= 1, got {n!r}")
    if (os.cpu_count() or 1) < 2:
        return float("nan")
    global _BOUNCE
    if _BOUNCE is None:
        from numba import njit

        from ..kernel.sync import atomic_add, atomic_load

        @njit(nogil=True)
        def bounce(word, me, n):
            for i in range(n):
                while atomic_load(word, 0) != 2 * i + me:
                    pass
                atomic_add(word, 0, 1)

        _BOUNCE = bounce
        _BOUNCE(np.zeros(8, dtype=np.int64), 0, 1)  # compiled outside the timing
    times = []
    for _ in range(3):
        word = np.zeros(8, dtype=np.int64)
        other = threading.Thread(target=_BOUNCE, args=(word, 1, n))
        other.start()
        w0 = time.perf_counter()
        _BOUNCE(word, 0, n)
        other.join()
        times.append((time.perf_counter() - w0) / n * 1e9)
    return statistics.median(times)
