"""The event loop's per-neuron step (``kernel.models.step_fire_scalar``) against the numpy twins.

The event engine steps its active neurons with each model's ``step_fire_scalar`` on the loaded state
(no arrays passed per neuron).  It must be, bit for bit, the one-step update of the numpy reference
(``kernel.reference``: ``lif_step_ref``, ``cond_step_ref``, ``tsm_step_ref``) followed by the threshold
test and reset the engine documents (``v > v_threshold + beta * a``; reset to ``v_reset``, refractory
for ``I_REF - 1`` steps, ``a`` + 1 for ALIF), and equal to the array form ``step_fire_one``.
"""

from __future__ import annotations

import numpy as np
import pytest

from memr_snn.engine.coefficients import group_tables
from memr_snn.kernel import layout as L
from memr_snn.kernel.models import selector, step_fire_one, step_fire_scalar
from memr_snn.kernel.reference import cond_step_ref, lif_step_ref, tsm_step_ref
from memr_snn.neurons import ALIFParams, LIFCondParams, LIFParams, TSMNeuronParams

N = 3000
mV, nA, nS = 1e-3, 1e-9, 1e-9

MODELS = {
    "lif": LIFParams(),
    "alif": ALIFParams(beta_adapt=1.5 * mV),
    "cond": LIFCondParams(),
    "cond_euler": LIFCondParams(integration="euler"),
    "tsm": TSMNeuronParams(),
}


def _states(name: str, gc: np.ndarray, rng: np.random.Generator) -> dict:
    """Random states around threshold: refractory and free neurons, both current signs (TSM: ON and OFF)."""
    vth = gc[0, L.C_VTH]
    cond = name.startswith("cond")
    scale = nS if cond else nA
    ref = rng.integers(0, 4, N).astype(np.int32)
    if name == "tsm":
        ref[rng.random(N) < 0.3] = -1  # ON phase
    return {
        "v": vth + rng.normal(0.0, 3 * mV, N),
        "se": np.abs(rng.normal(0.0, 2 * scale, N)) if cond else rng.normal(0.0, 2 * scale, N),
        "si": np.abs(rng.normal(0.0, 2 * scale, N)) if cond else rng.normal(0.0, 2 * scale, N),
        "a": np.abs(rng.normal(0.0, 1.0, N)) if name in ("alif", "tsm") else np.zeros(N),
        "ib": rng.normal(0.0, 0.2 * nA, N),
        "ref": ref,
    }


def _reference(name: str, gc: np.ndarray, gi: np.ndarray, s: dict):
    c = np.repeat(gc, N, axis=0)
    ref_steps = int(gi[0, L.I_REF])
    if name == "tsm":
        v, se, si, ref, fired = tsm_step_ref(c, s["v"], s["se"], s["si"], s["a"], s["ib"], s["ref"], ref_steps)
        return v, se, si, s["a"].copy(), ref.astype(np.int64), fired
    step = cond_step_ref if name.startswith("cond") else lif_step_ref
    v, se, si, a, ref = step(c, s["v"], s["se"], s["si"], s["a"], s["ib"], s["ref"].astype(np.int64))
    fired = v > c[:, L.C_VTH] + c[:, L.C_BETA] * a
    v = np.where(fired, c[:, L.C_VRESET], v)
    ref = np.where(fired, max(ref_steps - 1, 0), ref)
    if name == "alif":
        a = np.where(fired, a + 1.0, a)
    return v, se, si, a, ref, fired


@pytest.mark.parametrize("name", sorted(MODELS))
def test_scalar_step_is_the_reference_step_bit_for_bit(name):
    rng = np.random.default_rng(17)
    gc, gi, _ = group_tables(MODELS[name], 1, 1e-4)
    s = _states(name, gc, rng)
    want = _reference(name, gc, gi, s)
    assert 0.01 < want[5].mean() < 0.95  # some fire, some do not
    models = selector(gi[:, L.I_TYPE])  # the dispatchers take the network's model selector first
    got = [step_fire_scalar(models, gc, gi, 0, s["v"][j], s["se"][j], s["si"][j], s["a"][j], s["ib"][j], s["ref"][j])
           for j in range(N)]
    for k, label in enumerate(("v", "se", "si", "a", "ref", "fired")):
        col = np.array([g[k] for g in got])
        np.testing.assert_array_equal(col, want[k], err_msg=f"{name}: {label}")
    # the array form (dense mode's mixed ranges) is the same arithmetic
    arrs = {k: v.copy() for k, v in s.items()}
    spikes = np.zeros(N, dtype=np.int64)
    nspk = 0
    for j in range(N):
        nspk = step_fire_one(models, gc, gi, 0, j, arrs["v"], arrs["se"], arrs["si"], arrs["a"], arrs["ib"],
                             arrs["ref"], spikes, nspk)
    for k, label in enumerate(("v", "se", "si", "a", "ref")):
        np.testing.assert_array_equal(arrs[label], want[k], err_msg=f"{name} (array form): {label}")
    np.testing.assert_array_equal(spikes[:nspk], np.flatnonzero(want[5]))
