"""Where the engine puts the arrays a dense step streams through: apart in the CPU's cache sets.

A dense step walks the neuron state (``v``, ``se``, ``si``, ``a``, ``ib``, ``ref``), the spike flags and the
due ring-buffer rows side by side, element ``j`` of each at once.  Large arrays from ``np.zeros`` start at
about the same offset within a 4096-byte page (the allocator maps whole pages for them), so element ``j`` of
every one of them falls into the same set of the level-1 cache (and the store-to-load checks compare the
same low address bits): seven to nine streams then compete for one cache set of 8 ways.  The integration
loop of CUBA ran 1.3-2x slower per neuron that way than with the arrays' starts 448 or 512 bytes apart
(a LIF range loop on the same data, 4000-64000 neurons, medians of 7; ``docs/engine.md``), and by how much
depended on where the allocator happened to put each array, so that one block of neurons could integrate
slower than another in the threaded loop.

:func:`staggered_zeros` gives each such array its own offset within a page, ``slot * STAGGER_BYTES``: a
zero-filled, C-contiguous view into a slightly larger buffer (at most a page and the offset more).
"""

from __future__ import annotations

import numpy as np

__all__ = ["staggered_zeros", "STAGGER_BYTES", "PAGE_BYTES"]

#: the page whose offsets :func:`staggered_zeros` spreads the arrays over
PAGE_BYTES = 4096
#: the distance between the starts of two arrays with consecutive slots (7 cache lines: 9 distinct slots a page)
STAGGER_BYTES = 448


def staggered_zeros(shape: int | tuple[int, ...], dtype=np.float64, slot: int = 0) -> np.ndarray:
    """``np.zeros(shape, dtype)`` whose first element lies ``slot * STAGGER_BYTES`` bytes (modulo
    :data:`PAGE_BYTES`) past a page boundary.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the array (as for ``np.zeros``).
    dtype : numpy dtype
        Element type.
    slot : int
        Which offset: arrays streamed together should have different slots.

    Returns
    -------
    numpy.ndarray
        A writeable, C-contiguous array of zeros (a view of a private buffer, 64-byte aligned).
    """
    if int(slot) < 0:
        raise ValueError(f"slot must be >= 0, got {slot}")
    dt = np.dtype(dtype)
    shape_t = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    nbytes = int(np.prod(shape_t, dtype=np.int64)) * dt.itemsize
    offset = (int(slot) * STAGGER_BYTES) % PAGE_BYTES
    raw = np.zeros(nbytes + PAGE_BYTES + offset, dtype=np.uint8)
    start = (-raw.ctypes.data) % PAGE_BYTES + offset
    return raw[start:start + nbytes].view(dt).reshape(shape_t)
