"""The engine's placement of the arrays a dense step streams (memr_snn.engine.placement)."""

import numpy as np
import pytest

from memr_snn import networks
from memr_snn.engine.placement import PAGE_BYTES, STAGGER_BYTES, staggered_zeros


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.uint8])
@pytest.mark.parametrize("slot", [0, 1, 5, 9, 12])
def test_staggered_zeros_is_zeros_at_its_offset(dtype, slot):
    a = staggered_zeros(1000, dtype, slot)
    assert a.shape == (1000,) and a.dtype == np.dtype(dtype)
    assert a.flags["C_CONTIGUOUS"] and a.flags["WRITEABLE"]
    assert not a.any()
    assert a.ctypes.data % PAGE_BYTES == (slot * STAGGER_BYTES) % PAGE_BYTES
    a[:] = 7  # the whole view is writeable memory of its own
    assert (a == 7).all()


def test_staggered_zeros_shapes():
    b = staggered_zeros((3, 2, 50), np.float64, 7)
    assert b.shape == (3, 2, 50) and b.flags["C_CONTIGUOUS"] and not b.any()
    assert staggered_zeros(0, np.float64, 2).shape == (0,)
    with pytest.raises(ValueError, match="slot must be >= 0, got -1"):
        staggered_zeros(4, np.float64, -1)


def test_engine_state_arrays_start_apart():
    """The streamed arrays of a built network start at distinct offsets within a page (no cache-set pile-up)."""
    net = networks.cuba(n=4000, seed=1).net
    net.run_steps(0)
    sim = net._sim
    offsets = [x.ctypes.data % PAGE_BYTES for x in (sim.v, sim.se, sim.si, sim.a, sim.ib, sim.ref, sim.fired, sim.buf)]
    assert len(set(offsets)) == len(offsets)
