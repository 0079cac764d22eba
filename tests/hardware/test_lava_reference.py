"""memr_snn's fixed-point mode against integer sequences recorded from Lava 0.10.

The files in ``tests/reference/lava/`` were produced by
``tests/reference/make_lava_vectors.py`` running Lava's own ``fixed_pt``
process models (``PyLifModelBitAcc``, ``PyDenseModelBitAcc``,
``PyDelayDenseModelBitAcc``) in a Python 3.10 environment; see
``tests/reference/README.md``.  Each holds a network (artifact layout of the
Lava adapter) and Lava's spikes, ``u`` and ``v`` after every step.  Equality is
exact: no tolerance.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest

from memr_snn.adapters.lava import read_lava_artifact
from memr_snn.hardware import FixedPointSaturationWarning, run_fixed_point

FILES = sorted((Path(__file__).parents[1] / "reference" / "lava").glob("*.npz"))


def test_reference_files_present():
    names = {f.stem.split("_")[0] for f in FILES}
    assert {"random", "wrap", "clip", "weights", "delays", "overflow"} <= names


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_bit_exact_with_stored_lava_run(path, backend):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FixedPointSaturationWarning)  # the 'weights' cases hold out-of-range weights
        net, n_steps, _ = read_lava_artifact(path)
    with np.load(path) as z:
        ref = {k: z[k] for k in z.files if k.startswith("out_")}
    res = run_fixed_point(net, n_steps, record_state=True, backend=backend)
    n_spikes = 0
    for i, pop in enumerate(net.populations):
        np.testing.assert_array_equal(res.spikes[pop.name], ref[f"out_pop{i}_spikes"].astype(bool))
        np.testing.assert_array_equal(res.u[pop.name], ref[f"out_pop{i}_u"])
        np.testing.assert_array_equal(res.v[pop.name], ref[f"out_pop{i}_v"])
        n_spikes += int(ref[f"out_pop{i}_spikes"].sum())
    assert n_spikes > 0  # every stored case exercises spiking


def test_wrap_case_reaches_the_24_bit_boundaries():
    """The 'wrap' vectors really contain wrapped currents, including Lava's +2**23 edge."""
    path = [f for f in FILES if f.stem.startswith("wrap")][0]
    with np.load(path) as z:
        u = z["out_pop0_u"]
    assert (u == 2**23).any()  # +2**23 is kept, and -2**23 turns into +2**23
    assert (u < 0).any() and (np.abs(u) <= 2**23).all()


def test_clip_case_reaches_the_voltage_floor():
    path = [f for f in FILES if f.stem.startswith("clip")][0]
    with np.load(path) as z:
        assert (z["out_pop0_v"] == -(2**23) + 1).any()


def test_overflow_case_leaves_the_24_bit_range():
    """Lava's int32 arithmetic wraps the aligned activation; u then lies outside 24 bits."""
    path = [f for f in FILES if f.stem.startswith("overflow")][0]
    with np.load(path) as z:
        assert (np.abs(z["out_pop0_u"]) > 2**24).any()
