"""The model selector: which neuron models a loop is compiled for (``kernel.models.selector``).

A network's loop is compiled for the models it uses; ``MEMR_SNN_KERNEL_MODELS=all`` compiles every
registered model into one loop (the test suite runs that way: one compilation serves every network).
Either way the run is the same bit for bit: the chain over more models only adds branches that a
network's groups never take.
"""

from __future__ import annotations

import numpy as np
import pytest
from memr_snn.networks import BUILTIN

from memr_snn.kernel import layout as L
from memr_snn.kernel.models import MODELS, MODELS_ENV, selector


def test_selector_enables_the_used_models_or_all(monkeypatch):
    lif, alif, cond, tsm, cond_euler = (m.TYPE for m in MODELS)
    monkeypatch.setenv(MODELS_ENV, "used")
    assert selector([lif, lif, -1]) == (lif, None, None, None, None)  # -1: a spike source's group
    assert selector([cond, tsm]) == (None, None, cond, tsm, None)
    assert selector([cond_euler]) == (None, None, None, None, cond_euler)  # one COBA method, not both
    monkeypatch.setenv(MODELS_ENV, "all")
    assert selector([lif]) == (lif, alif, cond, tsm, cond_euler)
    monkeypatch.delenv(MODELS_ENV)
    assert selector([alif]) == (None, alif, None, None, None)
    monkeypatch.setenv(MODELS_ENV, "every")
    with pytest.raises(ValueError, match="MEMR_SNN_KERNEL_MODELS must be 'used' or 'all', got 'every'"):
        selector([lif])


def _run(model: str, how: str, monkeypatch) -> tuple:
    monkeypatch.setenv(MODELS_ENV, how)
    va = BUILTIN[model](n=400, seed=3)
    va.net.run(0.05)
    sim = va.net._sim
    state = tuple(np.array(getattr(sim, k)) for k in ("v", "se", "si", "a", "ref"))
    spikes = va.spikes()
    return selector(sim.gi[:, L.I_TYPE]), state, spikes


@pytest.mark.parametrize("model", ["cuba", "alif"])
def test_a_loop_for_all_models_runs_a_network_bit_for_bit_as_its_own(model, monkeypatch):
    sel_used, state_used, spikes_used = _run(model, "used", monkeypatch)
    sel_all, state_all, spikes_all = _run(model, "all", monkeypatch)
    assert None in sel_used and None not in sel_all  # two different compiled loops
    assert spikes_used[0].size > 50  # the network spikes
    for a, b in zip(state_used + spikes_used, state_all + spikes_all, strict=True):
        np.testing.assert_array_equal(a, b)
