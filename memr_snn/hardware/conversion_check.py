"""Comparing a fixed-point conversion with the float network: the float reference run and spike agreement.

Part of :mod:`memr_snn.hardware.conversion` (:func:`to_fixed_point` reports the agreement); import
:func:`spike_agreement` from there.
"""

from __future__ import annotations

import numpy as np


def spike_agreement(a: np.ndarray, b: np.ndarray, tolerance_steps: int = 1) -> float:
    """Coincidence fraction of two ``(n_steps, n)`` rasters: ``2 * matched / (n_a + n_b)``.

    Spikes of one neuron are matched greedily in time order when at most
    ``tolerance_steps`` apart; each spike matches at most once.  Two empty
    rasters agree fully (1.0).
    """
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"rasters differ in shape: {a.shape} vs {b.shape}")
    na, nb = int(a.sum()), int(b.sum())
    if na + nb == 0:
        return 1.0
    matched = 0
    for j in range(a.shape[1]):
        ta, tb = np.nonzero(a[:, j])[0], np.nonzero(b[:, j])[0]
        i = k = 0
        while i < ta.size and k < tb.size:
            if abs(int(ta[i]) - int(tb[k])) <= tolerance_steps:
                matched += 1
                i += 1
                k += 1
            elif ta[i] < tb[k]:
                i += 1
            else:
                k += 1
    return 2.0 * matched / (na + nb)


def _run_float_copy(net, n_steps: int) -> dict:
    """Run a fresh float copy (same params, synapses, delays, inputs) and return rasters."""
    import scipy.sparse as sp

    from ..model.connectivity import FromSparse
    from ..model.monitors import SpikeMonitor
    from ..model.network import Network
    from ..model.population import Population, SpikeSource
    from ..model.projection import Projection

    copy = Network(dt=net.dt, seed=net.seed)
    mapping, mons = {}, {}
    for p in net.populations:
        if isinstance(p, Population):
            q = Population(p.n, p.neuron, name=p.name, initial=dict(p.initial))
            mons[p.name] = SpikeMonitor(q)
        else:
            q = SpikeSource(p.n, p.times, p.indices, name=p.name)
        mapping[id(p)] = copy.add(q)
    for proj in net.projections:
        pre = np.repeat(np.arange(proj.pre.n), np.diff(proj.indptr))
        post = proj.indices.astype(np.int64)
        m = sp.coo_matrix((np.asarray(proj.weights, np.float64), (post, pre)), shape=(proj.post.n, proj.pre.n))
        d = proj.delays if proj.delays is not None else proj.delay_uniform
        if not np.isscalar(d):
            d = np.asarray(d, np.int64)
        copy.add(Projection(mapping[id(proj.pre)], mapping[id(proj.post)], FromSparse(m), delays=d,
                            receptor=proj.receptor, name=proj.name))
    for mon in mons.values():
        copy.add(mon)
    copy.run_steps(n_steps, progress=False)
    out = {}
    for name, mon in mons.items():
        r = np.zeros((n_steps, copy.populations[[p.name for p in copy.populations].index(name)].n), bool)
        r[np.asarray(mon.steps, np.int64), np.asarray(mon.i, np.int64)] = True
        out[name] = r
    return out
