"""The run loop's spike sort (``kernel.loop.heap_sort``) against ``numpy.sort``.

The loop sorts each step's spikes by global index before pushing them; it uses its own heap sort
instead of ``ndarray.sort`` (whose numba implementation compiles a family of quicksort functions).
"""

import numpy as np
import pytest

from memr_snn.kernel.loop import _sort_spikes, heap_sort


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 64, 1000, 4097])
@pytest.mark.parametrize("order", ["random", "sorted", "reversed", "two-runs", "duplicates"])
def test_heap_sort_equals_numpy_sort(n, order):
    rng = np.random.default_rng(n)
    if order == "duplicates":
        x = rng.integers(0, max(n // 4, 1), size=n)
    else:
        x = rng.permutation(10 * n + 1)[:n]
        if order == "sorted":
            x = np.sort(x)
        elif order == "reversed":
            x = np.sort(x)[::-1].copy()
        elif order == "two-runs":  # e.g. input spikes with large indices pushed before the neurons' spikes
            x = np.concatenate([np.sort(x[n // 3:]), np.sort(x[:n // 3])])
    x = x.astype(np.int64)
    tail = rng.integers(-5, 5, size=3).astype(np.int64)  # entries past n are left alone
    buf = np.concatenate([x, tail])
    heap_sort(buf, n)
    np.testing.assert_array_equal(buf[:n], np.sort(x))
    np.testing.assert_array_equal(buf[n:], tail)
    again = np.concatenate([x, tail])
    _sort_spikes(again, n)
    np.testing.assert_array_equal(again, buf)
