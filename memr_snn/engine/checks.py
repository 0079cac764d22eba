"""Checks of the model arrays the kernels will index, run when the engine is built (and when a monitor is added).

Split from :mod:`memr_snn.engine.simulator`: :func:`check_model_arrays` (populations and projections,
once per build) and :func:`check_monitor_arrays` (monitors, whenever the recording tables are rebuilt).
"""

from __future__ import annotations

import numpy as np

from ..model.monitors import StateMonitor
from ..model.population import PoissonSource, Population, SpikeSource

__all__ = ["check_model_arrays", "check_monitor_arrays"]


def _refuse(what: str, detail: str) -> None:
    raise ValueError(f"{what}: {detail}; the model was changed behind the public API (or restored from a bad file)")


def check_model_arrays(net) -> None:
    """Check every population and projection array the kernels will index, before the engine copies it.

    The public API hands these out read-only and validates them on construction, so this
    is a second line of defence (numba does not check bounds): private attributes changed
    by hand, or a model restored from a file, cannot send a kernel out of bounds.  Costs one
    pass over the synapses, once per build.  Monitors are checked by :func:`check_monitor_arrays`.
    """
    from ..model.projection import MAX_DELAY_STEPS

    for pop in net.populations:
        if isinstance(pop, SpikeSource):
            idx, times = np.asarray(pop.indices), np.asarray(pop.times)
            if idx.shape != times.shape or idx.ndim != 1:
                _refuse(f"SpikeSource {pop.name!r}", f"indices {idx.shape} and times {times.shape} differ")
            if idx.size and (idx.min() < 0 or idx.max() >= pop.n):
                _refuse(f"SpikeSource {pop.name!r}", f"indices must lie in [0, {pop.n - 1}]")
            if times.size and not (np.all(np.isfinite(times)) and times.min() >= 0):
                _refuse(f"SpikeSource {pop.name!r}", "times must be finite and >= 0 [s]")
        elif isinstance(pop, Population):
            for var, values in pop.initial.items():
                values = np.asarray(values)
                if values.shape != (pop.n,) or not np.all(np.isfinite(values)):
                    _refuse(f"Population {pop.name!r}", f"initial {var} must be {pop.n} finite values")
        elif isinstance(pop, PoissonSource):
            rates = np.asarray(pop.rates)
            if rates.ndim != 2 or rates.shape[1] != pop.n or not (np.all(np.isfinite(rates)) and rates.min() >= 0):
                _refuse(f"PoissonSource {pop.name!r}", f"rates must be a finite, >= 0 (rows, {pop.n}) table")
    for pr in net.projections:
        what = f"projection {pr.name!r}"
        indptr, indices = np.asarray(pr.indptr), np.asarray(pr.indices)
        if indptr.shape != (pr.pre.n + 1,) or (indptr.size and indptr[0] != 0) or np.any(np.diff(indptr) < 0):
            _refuse(what, f"indptr must be a ({pr.pre.n + 1},) non-decreasing row pointer starting at 0")
        m = int(indptr[-1])
        weights = pr._initial_weights() if getattr(net, "_sim", None) is None else None
        if indices.shape != (m,) or (weights is not None and np.asarray(weights).shape != (m,)):
            _refuse(what, f"{m} synapses but {indices.size} indices and {np.size(weights)} weights")
        if m and (indices.min() < 0 or indices.max() >= pr.post.n):
            _refuse(what, f"postsynaptic indices must lie in [0, {pr.post.n - 1}]")
        if pr.delays is not None:
            d = np.asarray(pr.delays)
            if d.shape != (m,) or (m and (d.min() < 1 or d.max() > MAX_DELAY_STEPS)):
                _refuse(what, f"delays must be ({m},) whole steps in [1, {MAX_DELAY_STEPS}]")
        elif not (isinstance(pr.delay_uniform, (int, np.integer)) and 1 <= pr.delay_uniform <= MAX_DELAY_STEPS):
            _refuse(what, f"delay_uniform must be an integer in [1, {MAX_DELAY_STEPS}], got {pr.delay_uniform!r}")
        if not (isinstance(pr.receptor_index, int) and 0 <= pr.receptor_index < min(2, len(pr.post.neuron.receptors))):
            _refuse(what, f"receptor_index must be 0 or 1 for {type(pr.post.neuron).__name__}")


def check_monitor_arrays(net) -> None:
    """Check the monitors' indices, variables and sampling periods before the recording tables are built."""
    from .simulator import VAR_CODES  # the state variables a StateMonitor may record

    for mon in net.monitors:
        if isinstance(mon, StateMonitor):
            if not (isinstance(mon.every, (int, np.integer)) and mon.every >= 1):
                _refuse(f"StateMonitor {mon.name!r}", f"every must be an integer >= 1 step, got {mon.every!r}")
            if not mon.variables or any(v not in VAR_CODES or v not in mon.population.state_variables
                                        for v in mon.variables):
                _refuse(f"StateMonitor {mon.name!r}", f"variables {mon.variables!r} are not state variables")
        idx = getattr(mon, "indices", None)
        if idx is not None:
            idx = np.asarray(idx)
            if idx.ndim != 1 or (idx.size and (idx.min() < 0 or idx.max() >= mon.population.n)):
                _refuse(f"{type(mon).__name__} {mon.name!r}", f"indices must lie in [0, {mon.population.n - 1}]")
