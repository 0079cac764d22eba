"""The barrier of the threads' block loop (:mod:`memr_snn.kernel.sync`): no thread passes generation ``g``
before every thread has reached it, whether waiters spin or sleep, and the atomics count exactly."""

import threading

import numpy as np
import pytest
from numba import njit

from memr_snn.kernel.sync import atomic_add, atomic_load, barrier, new_sync


@njit(nogil=True)
def _rounds(k, n_threads, n_rounds, sync, seen, bad, stats, spin):
    """Each round every thread writes its round number, meets the others, checks theirs, and meets again."""
    gen = 0
    for i in range(n_rounds):
        seen[k * 8] = i
        gen = barrier(sync, n_threads, gen, stats[k], spin)
        for j in range(n_threads):
            if seen[j * 8] != i:
                bad[k * 8] += 1
        for _ in range((k * 7919 + i * 104729) % 3000):  # uneven work: the arrival order varies
            atomic_load(seen, k * 8)
        gen = barrier(sync, n_threads, gen, stats[k], spin)
    return gen


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("spin", [0, 20000])
def test_barrier_orders_every_round(n_threads, spin):
    n_rounds = 3000
    sync, seen, bad = new_sync(), np.full(8 * n_threads, -1, np.int64), np.zeros(8 * n_threads, np.int64)
    stats = np.zeros((n_threads, 16), np.int64)
    gens = [0] * n_threads

    def run(k):
        gens[k] = _rounds(k, n_threads, n_rounds, sync, seen, bad, stats, spin)

    workers = [threading.Thread(target=run, args=(k,)) for k in range(1, n_threads)]
    for w in workers:
        w.start()
    run(0)
    for w in workers:
        w.join(timeout=120)
        assert not w.is_alive()
    assert gens == [2 * n_rounds] * n_threads
    assert bad.sum() == 0
    assert sync[0] == 0 and sync[8] == 2 * n_rounds and sync[16] == 0  # arrivals reset, generations, no sleeper
    assert (stats[:, 0] <= 2 * n_rounds).all() and stats[:, 0].sum() == (n_threads - 1) * 2 * n_rounds


@njit(nogil=True)
def _adds(arr, n):
    old = 0
    for _ in range(n):
        old = atomic_add(arr, 0, 1)
    return old


def test_atomic_add_is_atomic():
    arr = np.zeros(8, np.int64)
    _adds(arr, 1)
    workers = [threading.Thread(target=_adds, args=(arr, 200_000)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert arr[0] == 1 + 3 * 200_000 and _adds(arr, 5) == 600_005 and arr[0] == 600_006
